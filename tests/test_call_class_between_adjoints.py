"""A network class whose forward pass is `__call__` (`out = model(X)`), whose backward takes the targets
and stores its gradients on the object, and whose pre-activations are never named (`self.a =
np.tanh(X @ self.W + self.c)`). The replay measures the backward's adjoints through `model(X)`; when
the one after a right adjoint has no forward value to be measured by (`d_z = d_a * ...`), the wrong
gradients are named at that statement, with the slope the activation really has.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PROGRAM = '''\
import numpy as np


class Regressor:
    def __init__(self, inputs, width, gen):
        self.W = gen.normal(size=(inputs, width)) / np.sqrt(inputs)
        self.c = np.zeros(width)
        self.V = gen.normal(size=(width, 1)) / np.sqrt(width)
        self.e = np.zeros(1)

    def __call__(self, X):
        self.X = X
        self.a = np.tanh(X @ self.W + self.c)
        self.yhat = self.a @ self.V + self.e
        return self.yhat

    def backward(self, target):
        d_yhat = 2 * (self.yhat - target) / len(target)
        self.grad = {"V": self.a.T @ d_yhat, "e": d_yhat.sum(axis=0)}
        d_a = d_yhat @ self.V.T
        d_z = d_a * (1 - self.a ** 2)
        self.grad["W"] = self.X.T @ d_z
        self.grad["c"] = d_z.sum(axis=0)

    def descend(self, rate):
        for key, g in self.grad.items():
            setattr(self, key, getattr(self, key) - rate * g)


gen = np.random.default_rng(12)
X = gen.uniform(-2, 2, (160, 2))
target = (np.sin(X[:, :1]) + 0.5 * X[:, 1:] ** 2) / 2
model = Regressor(2, 12, gen)
for epoch in range(500):
    yhat = model(X)
    mse = np.mean((yhat - target) ** 2)
    model.backward(target)
    model.descend(0.1)
print(mse)
'''


def test_a_sigmoid_slope_on_a_tanh_output_is_named_at_its_statement(tmp_path):
    path = planted(tmp_path, "regressor.py", PROGRAM, "d_z = d_a * (1 - self.a ** 2)", "d_z = d_a * self.a * (1 - self.a)")
    report = check(path)
    adjoints = {a["name"]: a["wrong"] for a in replayed(report)["adjoints"]}
    assert adjoints == {"d_yhat": False, "d_a": False}  # read through `model(X)`, right
    (finding,) = errors(report)
    assert finding["name"] == "step-gradient-mismatch"
    assert finding["line"] == line_of(path, "d_z = d_a * self.a * (1 - self.a)")
    assert "`d_a`" in finding["message"] and "`1 - self.a ** 2`" in finding["message"]


def test_another_wrong_derivative_there_is_named_there_without_the_slope_hint(tmp_path):
    path = planted(tmp_path, "regressor_sq.py", PROGRAM, "d_z = d_a * (1 - self.a ** 2)", "d_z = d_a * (1 - self.a) ** 2")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "d_z = d_a * (1 - self.a) ** 2")
    assert "slope" not in finding["message"]


def test_the_correct_class_is_clean(tmp_path):
    report = check(write(tmp_path, "regressor_ok.py", PROGRAM))
    assert errors(report) == []
    assert replayed(report)["parameters"]
