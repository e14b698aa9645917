"""One script, its update written the ways people write it: through a loop over the parameters
(`for p, g in zip(...)`, `for k in model`, `params[i]`) and with a learning rate a schedule
function gives (`rate_for(epoch) * dW1`).

A tanh's derivative left out of the hidden adjoint is one finding, at the adjoint's line, whatever
the update looks like: the corrected adjoint's gradients are read by the names the loop walks
(`dW1`, not the loop's `g`). A rate from a function is the step's rate, not part of the gradient:
the correct script is clean and the bug names no correct gradient.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, step_verdicts

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(7)
X = rng.normal(size=(40, 3))
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
{init}
for epoch in range(60):
    hid = np.tanh(X @ {W1} + {b1})
    prob = 1.0 / (1.0 + np.exp(-(hid @ {W2} + {b2})))
    loss = -np.mean(y * np.log(prob) + (1 - y) * np.log(1 - prob))
    dlogit = (prob - y) / len(X)
    dW2 = hid.T @ dlogit
    db2 = dlogit.sum(axis=0)
    dhid = dlogit @ {W2}.T * (1 - hid ** 2)
    dW1 = X.T @ dhid
    db1 = dhid.sum(axis=0)
{update}
'''

PLAIN = dict(W1="W1", b1="b1", W2="W2", b2="b2")
SHAPES = "W1 = rng.normal(0, 0.5, (3, 6)); b1 = np.zeros(6); W2 = rng.normal(0, 0.5, (6, 1)); b2 = np.zeros(1)"

STYLES = {
    "zip over the names": dict(
        PLAIN, init=f"{SHAPES}\nlr = 0.8",
        update="    for p, g in zip((W1, b1, W2, b2), (dW1, db1, dW2, db2)):\n        p -= lr * g",
    ),
    "zip over attributes": dict(
        W1="net.W1", b1="net.b1", W2="net.W2", b2="net.b2",
        init=f"class Net:\n    pass\nnet = Net()\n{SHAPES}\nnet.W1, net.b1, net.W2, net.b2 = W1, b1, W2, b2\nlr = 0.8",
        update="    for p, g in zip([net.W1, net.b1, net.W2, net.b2], [dW1, db1, dW2, db2]):\n        p -= lr * g",
    ),
    "keys of a dict": dict(
        W1="model['W1']", b1="model['b1']", W2="model['W2']", b2="model['b2']",
        init=f"{SHAPES}\nmodel = {{'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}}\nlr = 0.8",
        update="    grads = {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}\n    for k in model:\n        model[k] -= lr * grads[k]",
    ),
    "rate in a settings dict": dict(
        W1="net.p['W1']", b1="net.p['b1']", W2="net.p['W2']", b2="net.p['b2']",
        init=f"class Net:\n    pass\nnet = Net()\n{SHAPES}\nnet.p = {{'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}}\ncfg = {{'lr': 0.8, 'epochs': 60}}",
        update="    grads = {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}\n    for k in net.p:\n        net.p[k] -= cfg['lr'] * grads[k]",
    ),
    "rate from a schedule": dict(
        PLAIN, init=f"{SHAPES}\n\ndef rate_for(epoch):\n    return 0.8 / (1.0 + 0.05 * epoch)",
        update="    W1 -= rate_for(epoch) * dW1\n    b1 -= rate_for(epoch) * db1\n    W2 -= rate_for(epoch) * dW2\n    b2 -= rate_for(epoch) * db2",
    ),
}

SLOPE = " * (1 - hid ** 2)"


@pytest.mark.parametrize("style", STYLES)
def test_the_correct_script_is_clean_and_every_parameter_is_measured(tmp_path, style):
    text = SCRIPT.format(**STYLES[style])
    path = planted(tmp_path, "train.py", text, SLOPE, SLOPE)
    report = check(path)
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert len(verdicts) == 4 and set(verdicts.values()) == {"ok"}, verdicts


@pytest.mark.parametrize("style", STYLES)
def test_a_left_out_tanh_slope_is_one_finding_at_the_adjoint(tmp_path, style):
    text = SCRIPT.format(**STYLES[style])
    path = planted(tmp_path, "train.py", text, SLOPE, "")
    report = check(path)
    (finding,) = errors(report)
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, "dhid = dlogit @")
    assert "`dW1` and `db1`" in finding["message"]
    assert "1 - hid ** 2" in finding["message"]


LAYERED = '''\
import numpy as np


class Stack:
    """Dense ReLU layers; gradients kept under keys made from the layer's number."""

    def __init__(self, widths, seed=4):
        rng = np.random.default_rng(seed)
        self.p, self.g = {}, {}
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            self.p[f"W{i}"] = rng.normal(0, np.sqrt(2 / a), (a, b))
            self.p[f"b{i}"] = np.zeros(b)
        self.depth = len(widths) - 1

    def forward(self, x):
        self.seen = [x]
        for i in range(self.depth):
            x = x @ self.p[f"W{i}"] + self.p[f"b{i}"]
            if i < self.depth - 1:
                x = np.maximum(x, 0)
            self.seen.append(x)
        return x

    def backward(self, grad):
        for i in reversed(range(self.depth)):
            if i < self.depth - 1:
                grad = grad * (self.seen[i + 1] > 0)
            self.g["W" + str(i)] = self.seen[i].T @ grad
            self.g[f"b{i}"] = grad.sum(axis=0)
            grad = grad @ self.p[f"W{i}"].T

    def sgd(self, lr):
        for name in self.p:
            self.p[name] -= lr * self.g[name]


rng = np.random.default_rng(0)
X = rng.normal(size=(48, 4))
Y = X @ rng.normal(size=(4, 3))
net = Stack([4, 12, 12, 3])
for it in range(150):
    out = net.forward(X)
    loss = 0.5 * np.sum((out - Y) ** 2) / len(X)
    net.backward((out - Y) / len(X))
    net.sgd(0.05)
'''


def test_a_bias_gradient_stored_under_a_key_made_in_a_loop_is_named_where_it_is_stored(tmp_path):
    """`self.g[f"b{i}"] = grad.mean(axis=0)`, read by the update as `self.g[name]`: the finding is at
    the line that stores it, not at the update."""
    clean = check(planted(tmp_path / "ok", "stack.py", LAYERED, "grad.sum(axis=0)", "grad.sum(axis=0)"))
    assert errors(clean) == []
    path = planted(tmp_path / "bug", "stack.py", LAYERED, "grad.sum(axis=0)", "grad.mean(axis=0)")
    report = check(path)
    (finding,) = errors(report)
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, 'self.g[f"b{i}"] =')
    assert {m["param"] for m in report["measurements"] if m["verdict"] != "ok" and m["layer"] == "training step"} == {
        "net.p['b0']", "net.p['b1']", "net.p['b2']"
    }
