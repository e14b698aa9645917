"""A training step that sits whole under a condition of its loop: the loop's own work first (an
agent acting and filling a replay buffer, a stream of samples collected), then `if <warm-up>:` around
the pass (sample a batch, forward, loss, backward, update). The pass is the `if`'s body, its state
taken where that body starts, so the step is replayed once the condition lets it through; a loss
function that returns its loss beside the gradient of its input (`return loss, dq`) has that gradient
measured against the input the call hands in. The right programs are clean, the planted bugs named
at their line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

# style 1: a bandit agent with a replay buffer, a Q-network class, a TD loss function returning (loss, dq)
BANDIT = """\
import random

import numpy as np

random.seed(1)
np.random.seed(1)
N_ARMS, N_FEATURES = 3, 6
TRUE = np.random.randn(N_FEATURES, N_ARMS)


class Net:
    def __init__(self):
        self.W = np.random.randn(N_FEATURES, 16) * 0.3
        self.c = np.zeros(16)
        self.V = np.random.randn(16, N_ARMS) * 0.3
        self.d = np.zeros(N_ARMS)

    def __call__(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W + self.c)
        return self.h @ self.V + self.d

    def backward(self, dout):
        self.gV = self.h.T @ dout
        self.gd = dout.sum(axis=0)
        dh = dout @ self.V.T * (1 - self.h ** 2)
        self.gW = self.x.T @ dh
        self.gc = dh.sum(axis=0)

    def step(self, lr):
        self.W -= lr * self.gW
        self.c -= lr * self.gc
        self.V -= lr * self.gV
        self.d -= lr * self.gd


def squared_error(q, arms, rewards):
    n = len(arms)
    chosen = q[np.arange(n), arms]
    loss = np.mean((chosen - rewards) ** 2)
    dq = np.zeros_like(q)
    dq[np.arange(n), arms] = 2 * (chosen - rewards) / n
    return loss, dq


net = Net()
memory = []
for t in range(400):
    context = np.random.randn(N_FEATURES)
    arm = random.randrange(N_ARMS) if random.random() < 0.3 else int(np.argmax(net(context[None])[0]))
    reward = float(context @ TRUE[:, arm]) + 0.1 * np.random.randn()
    memory.append((context, arm, reward))
    if len(memory) >= 50:
        picked = random.sample(memory, 32)
        X = np.array([m[0] for m in picked])
        arms = np.array([m[1] for m in picked])
        rewards = np.array([m[2] for m in picked])
        loss, dq = squared_error(net(X), arms, rewards)
        net.backward(dq)
        net.step(0.05)
    if t % 100 == 0:
        print(t, len(memory))
"""

# style 2: a warm-up on a stream, plain arrays, the whole pass written inline under the condition
STREAM = """\
import numpy as np

rng = np.random.default_rng(5)
W1 = rng.normal(0, 0.4, (2, 12))
b1 = np.zeros(12)
W2 = rng.normal(0, 0.4, (12, 1))
b2 = np.zeros(1)
seen_x, seen_y = [], []
lr, warmup = 0.1, 64

step = 0
while step < 600:
    x = rng.uniform(-1, 1, 2)
    seen_x.append(x)
    seen_y.append([x[0] * x[1]])
    step += 1
    if step > warmup:
        idx = rng.integers(0, len(seen_x), 32)
        xb = np.array(seen_x)[idx]
        yb = np.array(seen_y)[idx]
        h = np.tanh(xb @ W1 + b1)
        out = h @ W2 + b2
        cost = 0.5 * np.mean((out - yb) ** 2)
        dout = (out - yb) / len(xb)
        dW2 = h.T @ dout
        db2 = dout.sum(axis=0)
        dh = dout @ W2.T * (1 - h ** 2)
        dW1 = xb.T @ dh
        db1 = dh.sum(axis=0)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
        if step % 100 == 0:
            print(step, cost)
"""


def test_a_step_under_a_warm_up_condition_is_replayed_and_clean_when_right(tmp_path):
    for name, text in (("bandit.py", BANDIT), ("stream.py", STREAM)):
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""))
        assert errors(report) == [], (name, errors(report))
        replayed(report)
        verdicts = step_verdicts(report)
        assert len(verdicts) == 4 and set(verdicts.values()) == {"ok"}, (name, verdicts)


def test_the_gradient_a_loss_function_returns_for_its_input_is_named_at_its_line(tmp_path):
    """The chosen arm's mask dropped: every arm's Q value gets a gradient."""
    path = planted(tmp_path, "bandit.py", BANDIT, "    dq[np.arange(n), arms] = 2 * (chosen - rewards) / n\n", "    dq = 2 * (q - rewards[:, None]) / n\n")
    report = check(path)
    found = errors(report)
    assert found and report["root_cause"] is not None, found
    root = report["findings"][report["root_cause"]]
    assert (root["name"], root["line"]) == ("step-gradient-mismatch", line_of(path, "dq = 2 * (q - rewards[:, None]) / n")), root


def test_a_wrong_gradient_inside_the_conditional_pass_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "stream.py", STREAM, "dh = dout @ W2.T * (1 - h ** 2)", "dh = dout @ W2.T * (1 - h)")
    report = check(path)
    assert report["root_cause"] is not None, errors(report)
    root = report["findings"][report["root_cause"]]
    assert (root["name"], root["line"]) == ("step-gradient-mismatch", line_of(path, "dh = dout @ W2.T * (1 - h)")), root


def test_a_loss_functions_argument_is_a_forward_value_unless_it_is_a_parameter():
    """`return loss, dq` of `def td_loss(q, ...)`: `dq` is the gradient of the argument `q`, the value the
    call hands in; `return loss, dW` of `def svm_loss(W, X, y)`: `W` is the parameter the update moves,
    and `dW` its gradient, never an adjoint of a forward value."""
    import ast

    from backprop_doctor.static.step_functions import inner_adjoints

    source = '''
import numpy as np

def td_loss(q, arms, target):
    n = len(arms)
    picked = q[np.arange(n), arms]
    loss = np.mean((picked - target) ** 2)
    dq = np.zeros_like(q)
    dq[np.arange(n), arms] = 2 * (picked - target) / n
    return loss, dq

def svm_loss(W, X, y):
    scores = X @ W
    loss = np.mean(scores)
    dW = X.T @ np.ones_like(scores) / len(X)
    return loss, dW

for i in range(3):
    loss, dq = td_loss(net(S), A, T)
    loss2, dW = svm_loss(W, X, y)
    W -= 0.1 * dW
'''
    tree = ast.parse(source)
    loop = next(n for n in tree.body if isinstance(n, ast.For))
    found = {(a.name, a.forward, a.forward_at.function, a.forward_at.line == a.forward_at.first_line) for a in inner_adjoints(tree, tuple(loop.body[:2]))}
    assert ("dq", "q", "td_loss", True) in found
    assert not any(name == "dW" and forward == "W" for name, forward, _, _ in found)
