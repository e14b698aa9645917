"""A check on held-out data run between the training loss and its backward (`hold = mse(predict(X_hold),
Y_hold)` before `for mod in reversed(stack): grad = mod.backward(grad, lr)`): the layers keep what
that second forward pass saw (`self.x`, `self.y`), so the backward pairs the batch's gradient with
the held-out inputs. The error is at that statement (BPD108, pattern `cache-overwritten`), confirmed
by the replay: without it every update steps along the loss's gradient. The correct twins run the
held-out check after the backward, or before the training forward pass, and are clean (there, with
both losses computed by one function, the training loss is the one whose statement binds what the
backward reads, not the first); a second bug the statement does not explain (the squared error's 2
left out) keeps the usual findings.

Two styles: a list of layer classes walked in the batch loop, and a `Sequential`-like class holding
its layers in a dict, with `model(x)` and `model.backward(g, rate)`.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, write

LIST = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.uniform(-2, 2, (192, 4))
w_true = rng.normal(size=(4, 1))
Y = np.tanh(X @ w_true) + 0.5 * X[:, :1] ** 2
X_fit, Y_fit = X[:160], Y[:160]
X_hold, Y_hold = X[160:], Y[160:]


class Linear:
    def __init__(self, n_in, n_out):
        self.W = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out))
        self.b = np.zeros((1, n_out))

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad, lr):
        dx = grad @ self.W.T
        self.W -= lr * self.x.T @ grad
        self.b -= lr * grad.sum(axis=0, keepdims=True)
        return dx


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad, lr):
        return grad * (1 - self.y ** 2)


stack = [Linear(4, 16), Tanh(), Linear(16, 1)]


def predict(x):
    for mod in stack:
        x = mod.forward(x)
    return x


lr = 0.05
for epoch in range(30):
    for start in range(0, 160, 32):
        xb, yb = X_fit[start:start + 32], Y_fit[start:start + 32]
        out = predict(xb)
        loss = np.mean((out - yb) ** 2)
        grad = 2 * (out - yb) / out.size
        hold = np.mean((predict(X_hold) - Y_hold) ** 2)
        for mod in reversed(stack):
            grad = mod.backward(grad, lr)
    print(epoch, loss, hold)
'''

SEQUENTIAL = '''\
import numpy as np

gen = np.random.default_rng(21)
pts = gen.normal(size=(240, 3))
labels = ((pts[:, 0] * pts[:, 1] + 0.4 * pts[:, 2]) > 0).astype(float)[:, None]
train_x, train_t = pts[:200], labels[:200]
check_x, check_t = pts[200:], labels[200:]


class Affine:
    def __init__(self, fan_in, fan_out):
        self.weight = gen.normal(0, np.sqrt(1.0 / fan_in), (fan_in, fan_out))
        self.shift = np.zeros(fan_out)

    def __call__(self, inputs):
        self.inputs = inputs
        return inputs @ self.weight + self.shift

    def backward(self, upstream, rate):
        passed = upstream @ self.weight.T
        self.weight -= rate * (self.inputs.T @ upstream)
        self.shift -= rate * upstream.sum(axis=0)
        return passed


class Relu:
    def __call__(self, inputs):
        self.keep = inputs > 0
        return np.where(self.keep, inputs, 0.0)

    def backward(self, upstream, rate):
        return upstream * self.keep


class Sequential:
    def __init__(self, **blocks):
        self.blocks = blocks

    def __call__(self, inputs):
        for blk in self.blocks.values():
            inputs = blk(inputs)
        return inputs

    def backward(self, upstream, rate):
        for blk in reversed(list(self.blocks.values())):
            upstream = blk.backward(upstream, rate)


def bce(scores, targets):
    prob = 1.0 / (1.0 + np.exp(-scores))
    value = -np.mean(targets * np.log(prob + 1e-12) + (1 - targets) * np.log(1 - prob + 1e-12))
    return value, (prob - targets) / len(targets)


model = Sequential(first=Affine(3, 24), act=Relu(), last=Affine(24, 1))
rate = 0.5
for epoch in range(25):
    for lo in range(0, 200, 40):
        value, upstream = bce(model(train_x[lo:lo + 40]), train_t[lo:lo + 40])
        check_value, _ = bce(model(check_x), check_t)
        model.backward(upstream, rate)
    print(epoch, value, check_value)
'''


def _after_backward(text: str, held: str, last: str) -> str:
    """The correct twin: the held-out check `held` moved after the backward's line `last`."""
    lines = text.splitlines(keepends=True)
    moved = next(line for line in lines if line.strip().startswith(held))
    lines.remove(moved)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(last))
    lines.insert(at + 1, moved)
    return "".join(lines)


CASES = [
    (LIST, "hold = np.mean", "grad = mod.backward", "loss = np.mean"),
    (SEQUENTIAL, "check_value, _ =", "model.backward(", "value, upstream = bce"),
]
IDS = ["list-of-layers", "sequential"]


@pytest.mark.parametrize("text, held, last, loss", CASES, ids=IDS)
def test_the_held_out_forward_is_named_at_its_line(tmp_path, text, held, last, loss):
    path = write(tmp_path, "train.py", text)
    report = check(path, training=True)
    found = [f for f in errors(report) if f["code"] == "BPD108"]
    assert [(f["line"], f["pattern"]) for f in found] == [(line_of(path, held), "cache-overwritten")]
    (finding,) = found
    assert f"(line {line_of(path, loss)})" in finding["message"] and "move that line after the updates" in finding["message"]
    assert report["findings"][report["root_cause"]] == finding


@pytest.mark.parametrize("text, held, last, loss", CASES, ids=IDS)
def test_the_held_out_check_after_the_backward_is_clean(tmp_path, text, held, last, loss):
    path = write(tmp_path, "train.py", _after_backward(text, held, last))
    report = check(path, training=True)
    (replay,) = report["extras"]["replay"]
    assert replay["not_replayed"] is None
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_a_bug_the_statement_does_not_explain_keeps_its_findings(tmp_path):
    path = write(tmp_path, "train.py", LIST.replace("grad = 2 * (out - yb) / out.size", "grad = (out - yb) / out.size"))
    report = check(path, training=True)
    found = [f for f in errors(report) if f["code"] == "BPD108"]
    assert found and not [f for f in found if f["pattern"] == "cache-overwritten"]


def _before_forward(text: str, held: str, forward: str) -> str:
    """Another correct twin: the held-out check `held` moved before the training forward pass `forward`."""
    lines = text.splitlines(keepends=True)
    moved = next(line for line in lines if line.strip().startswith(held))
    lines.remove(moved)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(forward))
    lines.insert(at, moved)
    return "".join(lines)


def test_between_the_forward_and_the_loss_is_named_too(tmp_path):
    path = write(tmp_path, "train.py", _before_forward(LIST, "hold = np.mean", "loss = np.mean"))
    report = check(path, training=True)
    found = [f for f in errors(report) if f["code"] == "BPD108"]
    assert [(f["line"], f["pattern"]) for f in found] == [(line_of(path, "hold = np.mean"), "cache-overwritten")]


@pytest.mark.parametrize("text, held, forward", [
    (LIST, "hold = np.mean", "out = predict(xb)"),
    (SEQUENTIAL, "check_value, _ =", "value, upstream = bce"),
], ids=IDS)  # fmt: skip
def test_the_held_out_check_before_the_training_forward_is_clean(tmp_path, text, held, forward):
    path = write(tmp_path, "train.py", _before_forward(text, held, forward))
    report = check(path, training=True)
    (replay,) = report["extras"]["replay"]
    assert replay["not_replayed"] is None
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")]
