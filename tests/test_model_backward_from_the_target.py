"""A model with `loss(X, Y)` (its forward and its cost) and `backward(Y)` (the gradients left in
`self.dW1` ...), over column vectors: checked as the program's own run first used it, a copy of
the object at its first `loss` call, on that call's first samples in the program's layout. Where
it cannot be checked (the program never calls it), the report says backprop-doctor does not check
it yet: a warning, never an error on a file nothing was found wrong in."""

from __future__ import annotations

from backprop_doctor.findings import Built, Report
from backprop_doctor.ranking import NOTHING_COMPARED, rank
from tests.userfiles import check, errors, line_of, planted, write

MODEL = """\
    import numpy as np

    class ColumnNet:
        def __init__(self, n_in, n_hidden, seed=3):
            g = np.random.RandomState(seed)
            self.W1 = 0.7 * g.randn(n_hidden, n_in)
            self.b1 = np.zeros((n_hidden, 1))
            self.W2 = 0.7 * g.randn(1, n_hidden)
            self.b2 = np.zeros((1, 1))

        def forward(self, X):
            self.X = X
            self.H = np.tanh(self.W1 @ X + self.b1)
            self.out = 1.0 / (1.0 + np.exp(-(self.W2 @ self.H + self.b2)))
            return self.out

        def loss(self, X, Y):
            out = self.forward(X)
            return float(-np.mean(Y * np.log(out) + (1 - Y) * np.log(1 - out)))

        def backward(self, Y):
            m = Y.shape[1]
            dS = (self.out - Y) / m
            self.dW2 = dS @ self.H.T
            self.db2 = dS.sum(axis=1, keepdims=True)
            dH = self.W2.T @ dS
            dZ = dH * (1 - self.H ** 2)
            self.dW1 = dZ @ self.X.T
            self.db1 = dZ.sum(axis=1, keepdims=True)
"""

DRIVER = """\

    def train(net, X, Y, rate):
        for name in ("W1", "b1", "W2", "b2"):
            setattr(net, name, getattr(net, name) - rate * getattr(net, "d" + name))

    g = np.random.RandomState(0)
    X = g.uniform(-1, 1, size=(3, 200))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    net = ColumnNet(3, 6)
    for epoch in range(500):
        cost = net.loss(X, Y)
        net.backward(Y)
        train(net, X, Y, 1.0)
    print(cost)
"""


def test_the_model_is_checked_on_the_columns_the_program_gave_its_loss(tmp_path):
    path = write(tmp_path, "colnet.py", MODEL + DRIVER)
    report = check(path)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "ColumnNet"} == {p: "ok" for p in ("W1", "b1", "W2", "b2")}
    (built,) = [b for b in report["built"] if b["what"] == "ColumnNet"]
    assert built["shapes"].startswith("x (3, 16) (one sample per column), t (1, 16)")
    assert f"line {line_of(path, 'cost = net.loss(X, Y)')}" in built["shapes"]


def test_a_wrong_gradient_of_that_model_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "colnet.py", MODEL + DRIVER, "dZ = dH * (1 - self.H ** 2)", "dZ = dH * (1 - self.H)")
    found = errors(check(path))
    assert {f["param"] for f in found} == {"W1", "b1"}
    assert {f["line"] for f in found} <= {line_of(path, "dZ = dH * (1 - self.H)"), line_of(path, "self.dW1 ="), line_of(path, "self.db1 =")}


def test_a_model_the_program_never_runs_is_not_checked_yet_a_warning(tmp_path):
    report = check(write(tmp_path, "colnet.py", MODEL))
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f["code"] == "BPD007"]
    assert note["severity"] == "warning" and "does not check yet" in note["message"] and "`ColumnNet`" in note["message"]


def test_objects_not_checked_yet_beside_one_that_could_not_be_built_are_one_warning_naming_both():
    yet = Built("Model", "model-backward convention", skipped="its backward(y) starts from the target: not checked yet")
    (alone,) = rank(Report(file="m.py", built=[yet])).findings
    assert (alone.severity, alone.pattern) == ("warning", NOTHING_COMPARED)
    (mixed,) = rank(Report(file="m.py", built=[yet, Built("Net", "", skipped="needs sizes")])).findings
    assert (mixed.severity, mixed.pattern) == ("warning", NOTHING_COMPARED)
    assert "`Model`" in mixed.message and "`Net` could not be built" in mixed.message
