"""A function or layer named after one activation that computes another on purpose is no error.

Old tutorials call their squashing function `sigmoid` whatever it computes: tanh ("a sigmoid-like
function"), with its derivative written for tanh from the output (`1 - y ** 2`), or a perceptron's
step `x > 0`. `activation-forward-wrong` used to call that an error. When the forward is another
standard activation (tanh, the logistic sigmoid, ReLU, a step, sign) and the gradients the file
writes for it agree with it (the derivative helper it is paired with, a layer's backward), or the
file writes none, it is an info that the name says one function and the code another. A forward
that is no activation at all (`1 / (1 + np.exp(x))`), or one whose derivative is the named
activation's, is still an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = '''\
import numpy as np


def sigmoid(x):
    """A squashing function, tanh: centred on zero."""
    return np.tanh(x)


def dsigmoid(y):
    """Its slope, written from its output."""
    return 1.0 - y ** 2


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
T = np.array([[0.0], [1.0], [1.0], [0.0]])
rng = np.random.default_rng(3)
W1 = rng.uniform(-0.5, 0.5, (2, 4))
W2 = rng.uniform(-0.5, 0.5, (4, 1))
for epoch in range(200):
    h = sigmoid(X @ W1)
    out = sigmoid(h @ W2)
    err = out - T
    loss = 0.5 * np.sum(err ** 2)
    d_out = err * dsigmoid(out)
    d_h = (d_out @ W2.T) * dsigmoid(h)
    W2 -= 0.1 * h.T @ d_out
    W1 -= 0.1 * X.T @ d_h
print(loss)
'''

LAYERS = '''\
import numpy as np


class Sigmoid:
    """Squashes to (-1, 1) with tanh."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


layers = [Linear(3, 5), Sigmoid(), Linear(5, 1)]
x = np.random.randn(8, 3)
out = x
for layer in layers:
    out = layer.forward(out)
grad = np.ones_like(out)
for layer in reversed(layers):
    grad = layer.backward(grad)
'''

PERCEPTRON = '''\
import numpy as np


def sigmoid(x):
    return x > 0


class Perceptron:
    def __init__(self, n):
        self.w = np.zeros(n + 1)

    def predict(self, x):
        return sigmoid(np.dot(self.w[:-1], x) + self.w[-1])

    def learn(self, x, target, rate=0.1):
        error = target - self.predict(x)
        self.w[:-1] += rate * error * x
        self.w[-1] += rate * error


samples = [(np.array([0.0, 0.0]), 0), (np.array([0.0, 1.0]), 1), (np.array([1.0, 0.0]), 1), (np.array([1.0, 1.0]), 1)]
p = Perceptron(2)
for epoch in range(20):
    for x, t in samples:
        p.learn(x, t)
print([int(p.predict(x)) for x, _ in samples])
'''

RELU_NET = '''\
import numpy as np


def relu(z):
    return np.maximum(z, 0.0)


rng = np.random.default_rng(0)
X = rng.standard_normal((16, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
W1, b1 = 0.5 * rng.standard_normal((3, 6)), np.zeros(6)
W2, b2 = 0.5 * rng.standard_normal(6), 0.0
for step in range(100):
    z1 = X @ W1 + b1
    h = relu(z1)
    pred = h @ W2 + b2
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(y)
    dW2, db2 = h.T @ dpred, dpred.sum()
    dz1 = np.outer(dpred, W2) * (z1 > 0)
    dW1, db1 = X.T @ dz1, dz1.sum(axis=0)
    W1 -= 0.05 * dW1
    b1 -= 0.05 * db1
    W2 -= 0.05 * dW2
    b2 -= 0.05 * db2
print(loss)
'''

CORRECT = {"functions": FUNCTIONS, "layers": LAYERS, "perceptron": PERCEPTRON}

PLANTED = {
    # a logistic sigmoid with the sign of its exponent lost: no activation at all
    "functions_sign": (FUNCTIONS, "    return np.tanh(x)\n", "    return 1.0 / (1.0 + np.exp(x))\n", "sigmoid"),
    # tanh computed, the logistic sigmoid's slope written for it
    "functions_slope": (FUNCTIONS, "    return 1.0 - y ** 2\n", "    return y * (1.0 - y)\n", "sigmoid"),
    "layers_sign": (LAYERS, "        self.out = np.tanh(x)\n", "        self.out = 1.0 / (1.0 + np.exp(x))\n", "Sigmoid"),
    "layers_slope": (LAYERS, "dout * (1.0 - self.out ** 2)", "dout * self.out * (1.0 - self.out)", "Sigmoid"),
    # a relu returning its own slope (a step, but no perceptron's: the backward multiplies by it)
    "relu_slope": (RELU_NET, "    return np.maximum(z, 0.0)\n", "    return (z > 0).astype(float)\n", "relu"),
}


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_another_activation_on_purpose_is_at_most_an_info(tmp_path, case):
    path = tmp_path / f"{case}.py"
    path.write_text(CORRECT[case], encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    said = [f for f in report["findings"] if f["code"] == "BPD111"]
    assert said and all(f["severity"] == "info" for f in said), report["findings"]
    told = "x > 0" if case == "perceptron" else "tanh(x)"
    assert f"computes {told}" in said[0]["message"], said
    if case == "functions":
        assert "`dsigmoid` is the derivative of tanh(x)" in said[0]["message"], said


def test_a_right_relu_network_has_nothing_to_say_about_its_activation(tmp_path):
    path = tmp_path / "relu_net.py"
    path.write_text(RELU_NET, encoding="utf-8")
    report = check(path)
    assert errors(report) == [] and not any(f["code"] == "BPD111" for f in report["findings"]), report["findings"]


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_wrong_sigmoid_is_still_an_error(tmp_path, case):
    program, right, wrong, layer = PLANTED[case]
    assert right in program
    path = tmp_path / f"{case}.py"
    path.write_text(program.replace(right, wrong), encoding="utf-8")
    report = check(path)
    wrong_forward = [f for f in errors(report) if f["code"] == "BPD111" and f["layer"] == layer]
    assert wrong_forward, report["findings"]
