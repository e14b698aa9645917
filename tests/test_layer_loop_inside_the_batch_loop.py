"""A backward written as a loop over the layers inside the batch loop, each layer updating itself
and handing the gradient on (`for mod in reversed(stack): grad = mod.backward(grad, lr)`), is a loop
over the layers, not the training step: the batch loop around it, which computes the loss, is.

Two styles: a list of layer classes (a regression with tanh, the mean squared error written inline)
and a dict of layer objects walked through its values (a classifier with a sigmoid cross-entropy
returned with its gradient). The planted bug is one a step replay finds: a check on held-out data run
between the loss and its backward overwrites what the layers cached, so the backward pairs the batch's
gradient with the held-out inputs. The correct twins check the held-out data after the backward.
"""

from __future__ import annotations

import ast

import pytest

from backprop_doctor.static.steps import training_steps
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

DICT = '''\
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


def bce(scores, targets):
    prob = 1.0 / (1.0 + np.exp(-scores))
    value = -np.mean(targets * np.log(prob + 1e-12) + (1 - targets) * np.log(1 - prob + 1e-12))
    return value, (prob - targets) / len(targets)


net = {"first": Affine(3, 24), "act": Relu(), "last": Affine(24, 1)}
order = list(net)


def model(inputs):
    for key in order:
        inputs = net[key](inputs)
    return inputs

rate = 0.5
for epoch in range(25):
    for lo in range(0, 200, 40):
        value, upstream = bce(model(train_x[lo:lo + 40]), train_t[lo:lo + 40])
        check_value, _ = bce(model(check_x), check_t)
        for blk in reversed(list(net.values())):
            upstream = blk.backward(upstream, rate)
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
    (LIST, "hold = np.mean", "grad = mod.backward", "for start in range", "loss = np.mean"),
    (DICT, "check_value, _ =", "upstream = blk.backward", "for lo in range", "value, upstream = bce"),
]
IDS = ["list-of-layers", "dict-of-layers"]


@pytest.mark.parametrize("text, held, last, loop, loss", CASES, ids=IDS)
def test_the_batch_loop_is_the_step_not_the_layer_loop(tmp_path, text, held, last, loop, loss):
    path = write(tmp_path, "train.py", text)
    (step,) = training_steps(ast.parse(path.read_text()))
    assert step.loop_line == line_of(path, loop)
    assert [site.line for site in step.losses][:1] == [line_of(path, loss)]


@pytest.mark.parametrize("text, held, last, loop, loss", CASES, ids=IDS)
def test_a_held_out_forward_before_the_backward_is_an_error_of_the_step(tmp_path, text, held, last, loop, loss):
    path = write(tmp_path, "train.py", text)
    report = check(path, training=True)
    (replay,) = report["extras"]["replay"]
    assert replay["not_replayed"] is None and replay["loop_line"] == line_of(path, loop)
    assert replay["loss_line"] == line_of(path, loss)
    assert [f for f in errors(report) if f["code"] == "BPD108"]


@pytest.mark.parametrize("text, held, last, loop, loss", CASES, ids=IDS)
def test_the_held_out_check_after_the_backward_is_clean(tmp_path, text, held, last, loop, loss):
    path = write(tmp_path, "train.py", _after_backward(text, held, last))
    report = check(path, training=True)
    (replay,) = report["extras"]["replay"]
    assert replay["not_replayed"] is None and replay["loop_line"] == line_of(path, loop)
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")]
