"""A training loop that appends each pass's loss to a list (`losses.append(train_step(...))`,
`history.append(net.train(x, t, lr))`, `history.append(np.mean((y - out) ** 2))`) and prints the
mean over the list once an epoch: the pass's loss is the term it appends, never the mean over the list,
which spans many passes at parameters of their own. A list built by a comprehension whose element
makes an update (`losses = [train_step(...) for i in ...]`) holds many passes' losses: its mean is no
loss of one pass (the replay measured a whole epoch's updates against it: a false
`step-gradient-mismatch` on an exact gradient); the step is the called function's body, one element."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

SCRIPT = """\
import numpy as np

np.random.seed(9)
X = np.random.rand(200, 16)
labels = (X[:, :8].sum(axis=1) > X[:, 8:].sum(axis=1)).astype(int)
T = np.eye(2)[labels]


def init(n_in, n_hidden, n_out):
    return {
        "W_ih": np.random.randn(n_in, n_hidden) * 0.1,
        "b_h": np.zeros((1, n_hidden)),
        "W_ho": np.random.randn(n_hidden, n_out) * 0.1,
        "b_o": np.zeros((1, n_out)),
    }


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    ez = np.exp(z)
    return ez / ez.sum(axis=1, keepdims=True)


def train_step(p, x, t, lr):
    h = np.tanh(x @ p["W_ih"] + p["b_h"])
    y = softmax(h @ p["W_ho"] + p["b_o"])
    loss = -np.sum(t * np.log(y + 1e-10)) / len(x)
    e = (y - t) / len(x)
    eh = (e @ p["W_ho"].T) * (1 - h ** 2)
    p["W_ho"] -= lr * h.T @ e
    p["b_o"] -= lr * e.sum(axis=0, keepdims=True)
    p["W_ih"] -= lr * x.T @ eh
    p["b_h"] -= lr * eh.sum(axis=0, keepdims=True)
    return loss


if __name__ == "__main__":
    params = init(16, 8, 2)
    for epoch in range(20):
        perm = np.random.permutation(len(X))
        losses = []
        for i in range(0, len(X), 25):
            losses.append(train_step(params, X[perm[i:i + 25]], T[perm[i:i + 25]], 0.1))
        print("epoch", epoch, "loss", np.mean(losses))
"""

CLASS = """\
import numpy as np

np.random.seed(3)
X = np.random.randn(200, 6)
labels = (X[:, 0] + X[:, 1] > 0).astype(int)
T = np.eye(2)[labels]


class Net:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.3
        self.b1 = np.zeros((1, n_hidden))
        self.W2 = np.random.randn(n_hidden, n_out) * 0.3
        self.b2 = np.zeros((1, n_out))

    def train(self, x, t, lr):
        h = np.tanh(x @ self.W1 + self.b1)
        z = h @ self.W2 + self.b2
        z = z - z.max(axis=1, keepdims=True)
        y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.sum(t * np.log(y + 1e-12)) / len(x)
        e = (y - t) / len(x)
        eh = (e @ self.W2.T) * (1 - h ** 2)
        self.W2 -= lr * h.T @ e
        self.b2 -= lr * e.sum(axis=0, keepdims=True)
        self.W1 -= lr * x.T @ eh
        self.b1 -= lr * eh.sum(axis=0, keepdims=True)
        return loss


net = Net(6, 8, 2)
for epoch in range(20):
    history = []
    order = np.random.permutation(len(X))
    for i in range(0, len(X), 20):
        idx = order[i:i + 20]
        history.append(net.train(X[idx], T[idx], 0.2))
    print("epoch", epoch, "loss", np.mean(history))
"""

NO_LOSS = """\
import numpy as np

np.random.seed(1)
X = np.random.randn(64, 3)
y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
W1 = np.random.randn(3, 8) * 0.5
b1 = np.zeros((1, 8))
W2 = np.random.randn(8, 1) * 0.5
b2 = np.zeros((1, 1))
lr = 0.05
history = []
for epoch in range(300):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    d_out = 2 * (out - y) / len(X)
    dW2 = h.T @ d_out
    db2 = d_out.sum(axis=0, keepdims=True)
    dh = (d_out @ W2.T) * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0, keepdims=True)
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
    history.append(np.mean((y - out) ** 2))
    if epoch % 50 == 0:
        print(epoch, np.mean(history))
print("final", history[-1])
"""

SCRIPT_LOOP = """\
        losses = []
        for i in range(0, len(X), 25):
            losses.append(train_step(params, X[perm[i:i + 25]], T[perm[i:i + 25]], 0.1))
"""
SCRIPT_COMPREHENSION = """\
        losses = [train_step(params, X[perm[i:i + 25]], T[perm[i:i + 25]], 0.1)
                  for i in range(0, len(X), 25)]
"""


def _all_ok(report: dict, params: set[str]) -> None:
    assert errors(report) == [], errors(report)
    verdicts = step_verdicts(report)
    assert set(verdicts) == params and set(verdicts.values()) == {"ok"}, verdicts


def test_a_script_appending_the_batch_loss_is_measured_against_that_loss(tmp_path):
    path = write(tmp_path, "appended.py", SCRIPT)
    report = check(path, training=True)
    _all_ok(report, {"params['W_ih']", "params['b_h']", "params['W_ho']", "params['b_o']"})
    assert replayed(report)["loss"] != "np.mean(losses)"


def test_a_wrong_gradient_in_the_appending_script_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "appended.py", SCRIPT, 'p["W_ho"] -= lr * h.T @ e', 'p["W_ho"] -= lr * h.T @ (y - t)')
    report = check(path, training=True)
    assert [f["line"] for f in errors(report) if f["name"] == "step-gradient-mismatch"] == [line_of(path, 'p["W_ho"] -= lr')]


def test_a_class_whose_train_returns_the_loss_the_loop_appends_is_measured_against_it(tmp_path):
    path = write(tmp_path, "net.py", CLASS)
    report = check(path, training=True)
    _all_ok(report, {"net.W1", "net.b1", "net.W2", "net.b2"})
    assert replayed(report)["loss_line"] == line_of(path, "history.append(")


def test_a_wrong_gradient_in_the_class_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", CLASS, "eh = (e @ self.W2.T) * (1 - h ** 2)", "eh = (e @ self.W2.T) * (1 - h)")
    report = check(path, training=True)
    assert [f["line"] for f in errors(report) if f["name"] == "step-gradient-mismatch"] == [line_of(path, "eh = (e @")], errors(report)
    assert {p: v for p, v in step_verdicts(report).items() if v == "ok"}.keys() == {"net.W2", "net.b2"}


def test_a_pass_with_no_loss_of_its_own_is_measured_against_the_term_it_appends(tmp_path):
    path = write(tmp_path, "history.py", NO_LOSS)
    report = check(path, training=True)
    _all_ok(report, {"W1", "b1", "W2", "b2"})
    assert replayed(report)["loss_line"] == line_of(path, "history.append(")


def test_a_wrong_gradient_beside_the_appended_term_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "history.py", NO_LOSS, "dW2 = h.T @ d_out", "dW2 = h.T @ d_out * 3")
    report = check(path, training=True)
    assert [f["line"] for f in errors(report) if f["name"] == "step-gradient-mismatch"] == [line_of(path, "dW2 = h.T @")], errors(report)


def test_the_mean_over_a_comprehension_of_updating_calls_is_no_loss_of_one_pass(tmp_path):
    path = planted(tmp_path, "comprehension.py", SCRIPT, SCRIPT_LOOP, SCRIPT_COMPREHENSION)
    report = check(path, training=True)
    _all_ok(report, {"p['W_ih']", "p['b_h']", "p['W_ho']", "p['b_o']"})
    assert replayed(report)["loss_line"] == line_of(path, "loss = -np.sum(")


def test_a_wrong_gradient_under_the_comprehension_is_an_error_at_its_line(tmp_path):
    source = SCRIPT.replace(SCRIPT_LOOP, SCRIPT_COMPREHENSION)
    path = planted(tmp_path, "comprehension.py", source, 'p["W_ho"] -= lr * h.T @ e', 'p["W_ho"] -= lr * h.T @ (y - t)')
    report = check(path, training=True)
    assert [f["line"] for f in errors(report) if f["name"] == "step-gradient-mismatch"] == [line_of(path, 'p["W_ho"] -= lr')]
