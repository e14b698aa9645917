"""Models whose backward takes the target and a learning rate and steps the weights itself
(`propagate_backward(target, lrate, momentum)`, `backward(y_true, lr)` over per-neuron weight vectors
grown by `add_layer`) are checked as one loss, the gradients read off a rate-1 step with momentum 0
(`conventions.target_steps`); before, such files were "nothing to check"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIST_OF_WEIGHTS = '''\
import numpy as np


def act(z):
    return np.tanh(z)


def act_slope(a):
    return 1.0 - a * a


class TinyNet:
    def __init__(self, *widths):
        self.widths = widths
        self.units = [np.ones(widths[0] + 1)] + [np.ones(w) for w in widths[1:]]
        self.weights = [np.random.uniform(-0.5, 0.5, (self.units[i].size, self.units[i + 1].size)) for i in range(len(widths) - 1)]
        self.last = [0] * len(self.weights)

    def propagate_forward(self, sample):
        self.units[0][:-1] = sample
        for k in range(1, len(self.widths)):
            self.units[k][...] = act(self.units[k - 1] @ self.weights[k - 1])
        return self.units[-1]

    def propagate_backward(self, target, lrate=0.05, momentum=0.2):
        miss = target - self.units[-1]
        deltas = [miss * act_slope(self.units[-1])]
        for k in range(len(self.widths) - 2, 0, -1):
            deltas.insert(0, (deltas[0] @ self.weights[k].T) * act_slope(self.units[k]))
        for k in range(len(self.weights)):
            change = np.outer(self.units[k], deltas[k])
            self.weights[k] += lrate * change + momentum * self.last[k]
            self.last[k] = change
        return (miss ** 2).sum()


'''

NAMED_ARRAYS = '''\
import numpy as np


class Regressor:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.4
        self.b1 = np.zeros(n_hidden)
        self.W2 = np.random.randn(n_hidden, n_out) * 0.4
        self.b2 = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        self.h = 1.0 / (1.0 + np.exp(-(x @ self.W1 + self.b1)))
        self.y = self.h @ self.W2 + self.b2
        return self.y

    def backward(self, target, learning_rate=0.01):
        err = self.y - target
        dh = (self.W2 @ err) * self.h * (1.0 - self.h)
        self.W2 = self.W2 - learning_rate * np.outer(self.h, err)
        self.b2 = self.b2 - learning_rate * err
        self.W1 = self.W1 - learning_rate * np.outer(self.x, dh)
        self.b1 = self.b1 - learning_rate * dh
        return 0.5 * np.sum(err ** 2)


'''

PER_NEURON = '''\
import numpy as np


def leaky(v, slope=False):
    if slope:
        return np.where(v > 0, 1.0, 0.05)
    return np.where(v > 0, v, 0.05 * v)


class Unit:
    def __init__(self, n_in):
        self.w = np.random.normal(size=n_in + 1)

    def predict(self, v):
        self.z = self.w[:-1] @ v + self.w[-1]
        return leaky(self.z)


class Row:
    def __init__(self, n_in, n_units):
        self.units = [Unit(n_in) for _ in range(n_units)]

    def predict(self, v):
        self.out = np.array([u.predict(v) for u in self.units])
        return self.out

    def matrix(self):
        return np.array([u.w for u in self.units])

    def set_matrix(self, m):
        for u, row in zip(self.units, m):
            u.w = row


class Stack:
    def __init__(self, n_inputs):
        self.n_inputs = n_inputs
        self.rows = []

    def add_layer(self, n_units):
        n_in = len(self.rows[-1].units) if self.rows else self.n_inputs
        self.rows.append(Row(n_in, n_units))

    def _run(self, v):
        self.seen = [v]
        for r in self.rows:
            self.seen.append(r.predict(self.seen[-1]))
        return self.seen[-1]

    def backward(self, y_true, lr=0.05):
        zs = [np.array([u.z for u in r.units]) for r in self.rows]
        deltas = [(self.seen[-1] - y_true) * leaky(zs[-1], slope=True)]
        for i in range(len(self.rows) - 2, -1, -1):
            w_next = self.rows[i + 1].matrix()[:, :-1]
            deltas.insert(0, leaky(zs[i], slope=True) * (w_next.T @ deltas[0]))
        for i, r in enumerate(self.rows):
            step = np.column_stack((np.outer(deltas[i], self.seen[i]), deltas[i]))
            r.set_matrix(r.matrix() - lr * step)
        out = self._run(self.seen[0])
        return 0.5 * np.sum((out - y_true) ** 2)
'''

LAYER_OBJECTS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_out, n_in) * 0.5
        self.b = np.zeros(n_out)

    def predict(self, v):
        self.v = v
        self.a = 1.0 / (1.0 + np.exp(-(self.W @ v + self.b)))
        return self.a


class Net:
    def __init__(self, input_size):
        self.input_size = input_size
        self.layers = []

    def add(self, width):
        n_in = self.layers[-1].W.shape[0] if self.layers else self.input_size
        self.layers.append(Dense(n_in, width))

    def feedforward(self, v):
        for layer in self.layers:
            v = layer.predict(v)
        return v

    def cost(self, target):
        return np.sum((self.layers[-1].a - target) ** 2) / 2

    def backprop(self, target, learning_rate=0.1):
        loss = self.cost(target)
        delta = (self.layers[-1].a - target) * self.layers[-1].a * (1 - self.layers[-1].a)
        for layer in reversed(self.layers):
            grad_w = np.outer(delta, layer.v)
            below = (layer.W.T @ delta) * layer.v * (1 - layer.v)
            layer.W = layer.W - learning_rate * grad_w
            layer.b = layer.b - learning_rate * delta
            delta = below
        return loss
'''

CASES = {
    'a1': (LIST_OF_WEIGHTS, '            deltas.insert(0, (deltas[0] @ self.weights[k].T) * act_slope(self.units[k]))', '            deltas.insert(0, (deltas[0] @ self.weights[k].T) * (1.0 - self.units[k]))  # BUG: not the slope of tanh'),
    'a2': (NAMED_ARRAYS, '        dh = (self.W2 @ err) * self.h * (1.0 - self.h)', '        dh = (self.W2 @ err) * self.h  # BUG: the sigmoid slope lost its (1 - h)'),
    'b1': (PER_NEURON, '            deltas.insert(0, leaky(zs[i], slope=True) * (w_next.T @ deltas[0]))', '            deltas.insert(0, leaky(zs[i]) * (w_next.T @ deltas[0]))  # BUG: the activation, not its slope'),
    'b2': (LAYER_OBJECTS, '            below = (layer.W.T @ delta) * layer.v * (1 - layer.v)', '            below = (layer.W.T @ delta) * (1 - layer.v)  # BUG: the slope lost its factor v'),
}

# the model, the parameters its bug makes wrong (the ones before the wrong delta), those it leaves right
WRONG = {
    "a1": ("TinyNet", {"weights[0]"}, {"weights[1]"}),
    "a2": ("Regressor", {"W1", "b1"}, {"W2", "b2"}),
    "b1": ("Stack", {f"rows[0].units[{i}].w" for i in range(4)}, {f"rows[1].units[{i}].w" for i in range(3)}),
    "b2": ("Net", {"layers[0].W", "layers[0].b"}, {"layers[1].W", "layers[1].b"}),
}


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_correct_model_stepping_its_own_weights_is_checked_clean(tmp_path, case):
    source, _, _ = CASES[case]
    path = tmp_path / "model.py"
    path.write_text(source)
    code, report = check(path)
    model, wrong, right = WRONG[case]
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["name"] == "nothing-to-check"], report["findings"]
    built = next(b for b in report["built"] if b["what"] == model)
    assert built["skipped"] is None and built["how"] == "target-steps convention", built
    assert wrong | right <= {m["param"] for m in report["measurements"] if m["layer"] == model}
    assert code == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_bug_in_such_a_model_is_reported_in_its_backward(tmp_path, case):
    source, good, bad = CASES[case]
    assert source.count(good) == 1
    path = tmp_path / "model.py"
    path.write_text(source.replace(good, bad))
    code, report = check(path)
    model, wrong, right = WRONG[case]
    found = errors(report)
    assert found and {f["name"] for f in found} == {"gradient-mismatch"}, found
    assert {f["layer"] for f in found} == {model}
    blamed = {m["param"] for m in report["measurements"] if m["layer"] == model and m["verdict"] != "ok"}
    assert blamed == wrong, report["measurements"]
    lines = path.read_text().splitlines()
    bug_line = next(i for i, text in enumerate(lines, 1) if "# BUG" in text)
    start = max(i for i, text in enumerate(lines, 1) if "def " in text and i < bug_line)
    # the wrong delta's own line where the step names it (`dh`), else the statement that forms the step from it
    assert all(start < f["line"] <= bug_line + 6 for f in found), found
    if case == "a2":
        assert {f["line"] for f in found} == {bug_line}
    assert code == 1


PERCEPTRON = """\
import numpy as np


class Perceptron:
    def __init__(self, n_in, n_out):
        self.x = np.ones(n_in + 1)
        self.y = np.ones(n_out)
        self.weights = np.random.uniform(-0.25, 0.25, (n_out, n_in + 1))

    def propagate_forward(self, data):
        self.x[1:] = data
        self.y[...] = (self.weights @ self.x) > 0
        return self.y

    def propagate_backward(self, target, lrate=0.1):
        miss = np.atleast_2d(target - self.y)
        self.weights += lrate * miss.T @ np.atleast_2d(self.x)
        return (miss ** 2).sum()


p = Perceptron(2, 1)
"""


def test_perceptron_rule_on_a_step_output_is_named_not_blamed(tmp_path):
    path = tmp_path / "perceptron.py"
    path.write_text(PERCEPTRON)
    code, report = check(path)
    assert errors(report) == [], errors(report)
    built = next(b for b in report["built"] if b["what"] == "Perceptron")
    assert "step function" in built["skipped"], built
    nothing = next(f for f in report["findings"] if f["name"] == "nothing-to-check")
    assert nothing["severity"] == "warning" and "built and run" in nothing["message"] and "could not be built" not in nothing["message"], nothing
