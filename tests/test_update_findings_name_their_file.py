"""unshared-parameter (BPD401) for an update that rebinds a name: the finding names the checked file.

The update statement is found in the file's own source (`source.facts.updates`), so the finding
carries that file and line, as a report of several files needs; checked in-process by
`pipeline.check_file` on a file of our own and on `samples/rebinding_update.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

ROOT = Path(__file__).resolve().parents[1]

REGRESSOR = """\
import numpy as np


class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class MSE:
    def forward(self, y, t):
        self.diff = y - t
        return 0.5 * np.mean(np.sum(self.diff ** 2, axis=1))

    def backward(self, dout=1):
        return dout * self.diff / self.diff.shape[0]


class Regressor:
    def __init__(self, n_in, n_out):
        self.params = {'W': 0.1 * np.random.randn(n_in, n_out), 'b': np.zeros(n_out)}
        self.layer = Linear(self.params['W'], self.params['b'])
        self.last = MSE()

    def loss(self, x, t):
        return self.last.forward(self.layer.forward(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layer.backward(self.last.backward(1))
        return {'W': self.layer.dW, 'b': self.layer.db}


if __name__ == '__main__':
    model = Regressor(n_in=4, n_out=2)
    x, t = np.random.randn(30, 4), np.random.randn(30, 2)
    for epoch in range(20):
        grads = model.gradient(x, t)
        for p, g in zip(model.params.values(), grads.values()):
            p = p - 0.05 * g
"""


COURSE_STYLE = """\
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    parameters = {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
                  "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}
    return parameters


def forward_propagation(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, (Z1, A1, Z2, A2)


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    Z1, A1, Z2, A2 = cache
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    for name in ("W1", "b1", "W2", "b2"):
        parameters[name] = parameters[name] - learning_rate * grads["d" + name]
    return parameters


if __name__ == "__main__":
    X = np.random.randn(2, 40)
    Y = (X[0:1] > 0).astype(float)
    parameters = initialize_parameters(2, 4, 1)
    for i in range(100):
        A2, cache = forward_propagation(X, parameters)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
"""


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def test_rebinding_the_loop_variable_is_reported_in_the_users_file_at_its_line(tmp_path):
    path = tmp_path / "regressor.py"
    path.write_text(REGRESSOR, encoding="utf-8")
    [finding] = check_file(path, Options(training=False)).by_name("unshared-parameter")
    line = next(n for n, text in enumerate(REGRESSOR.splitlines(), 1) if "p = p - 0.05 * g" in text)
    assert (finding.file, finding.line, finding.fix) == (str(path), line, "p -= 0.05 * g")


def test_rebinding_a_params_entry_is_reported_in_the_users_file(tmp_path):
    sample = ROOT / "samples" / "rebinding_update.py"
    path = tmp_path / "rebinding_update.py"
    path.write_text(sample.read_text(encoding="utf-8"), encoding="utf-8")
    [finding] = check_file(path, Options(training=False)).by_name("unshared-parameter")
    assert (finding.file, finding.line, finding.fix) == (str(path), 120, "network.params[key] -= learning_rate * grad[key]")


def test_rebinding_an_entry_of_a_plain_parameters_dict_without_layer_objects_is_a_valid_update(tmp_path):
    path = tmp_path / "planar_classifier.py"
    path.write_text(COURSE_STYLE, encoding="utf-8")
    report = check_file(path, Options(training=False))
    assert report.findings == []  # no layer keeps its own reference: `parameters[name] = ...` updates it
