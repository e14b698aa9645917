"""A layer method that takes other arguments than the check gives it (a stateless layer's
`backward(dout, x)`, a loss layer's `forward(scores, t, W)` that adds the penalty of the weights it
is handed) cannot be called by the check: Python refuses the call before any of the user's code
runs. That is the check's limit, a warning, never the user's error; a method that raises inside
its own code is the user's error, at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

STATELESS = """\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out):
        self.W = 0.3 * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)

    def forward(self, x):
        return x @ self.W + self.b

    def backward(self, dout, x):
        self.dW = x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        return np.tanh(x)

    def backward(self, dout, x):
        return dout * (1 - np.tanh(x) ** 2)
"""

PENALTY = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SoftmaxL2Loss:
    def __init__(self, reg):
        self.reg = reg

    def forward(self, scores, t, W):
        shifted = scores - scores.max(axis=1, keepdims=True)
        self.p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        self.t = t
        return -np.mean(np.log(self.p[np.arange(len(t)), t])) + 0.5 * self.reg * np.sum(W * W)

    def backward(self):
        d = self.p.copy()
        d[np.arange(len(self.t)), self.t] -= 1
        return d / len(self.t)


class Classifier:
    def __init__(self, n_in=6, n_out=3, reg=0.1):
        rng = np.random.default_rng(0)
        self.params = {"W": 0.1 * rng.standard_normal((n_in, n_out)), "b": np.zeros(n_out)}
        self.layer = Affine(self.params["W"], self.params["b"])
        self.last = SoftmaxL2Loss(reg)

    def loss(self, x, t):
        return self.last.forward(self.layer.forward(x), t, self.params["W"])

    def gradient(self, x, t):
        self.loss(x, t)
        self.layer.backward(self.last.backward())
        return {"W": self.layer.dW + self.last.reg * self.params["W"], "b": self.layer.db}
"""


def _otherwise(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["pattern"] == "called-otherwise"]


def test_stateless_layers_whose_backward_takes_the_input_after_dout_are_warnings_not_errors(tmp_path):
    report = check(write(tmp_path, "layers.py", STATELESS))
    assert errors(report) == []
    assert {(f["layer"], f["severity"]) for f in _otherwise(report)} == {("Linear", "warning"), ("Tanh", "warning")}
    assert "missing 1 required positional argument - 'x'" in _otherwise(report)[0]["message"]
    (nothing,) = [f for f in report["findings"] if f["name"] == "nothing-to-check"]
    assert nothing["severity"] == "warning" and "2 of the methods it would call take other arguments" in nothing["message"]


def test_the_same_layers_with_the_input_first_are_checked(tmp_path):
    swapped = STATELESS.replace("def backward(self, dout, x):", "def backward(self, x, dout):")
    report = check(write(tmp_path, "layers.py", swapped))
    assert errors(report) == [] and _otherwise(report) == []
    assert {(m["layer"], m["param"]) for m in report["measurements"]} >= {("Linear", "W"), ("Linear", "x"), ("Tanh", "x")}


def test_a_loss_layer_handed_the_weights_it_penalises_leaves_the_network_clean(tmp_path):
    report = check(write(tmp_path, "classifier.py", PENALTY))
    assert errors(report) == []
    assert [f["layer"] for f in _otherwise(report)] == ["SoftmaxL2Loss"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Classifier"} == {"W", "b"}


def test_a_wrong_penalty_gradient_beside_it_is_still_found_at_its_line(tmp_path):
    path = write(tmp_path, "classifier.py", PENALTY.replace("self.layer.dW + self.last.reg * self.params", "self.layer.dW + 2 * self.last.reg * self.params"))
    report = check(path)
    assert [(f["layer"], f["line"]) for f in errors(report) if f["name"] == "gradient-mismatch"] == [
        ("Classifier", line_of(path, "2 * self.last.reg"))
    ]


def test_a_method_that_calls_its_own_helper_wrongly_is_the_users_error_at_that_line(tmp_path):
    wrong = STATELESS.replace("def backward(self, dout, x):", "def backward(self, x, dout):").replace(
        "        return dout * (1 - np.tanh(x) ** 2)\n",
        "        return dout * self.slope()\n\n    def slope(self, x):\n        return 1 - np.tanh(x) ** 2\n",
    )
    path = write(tmp_path, "layers.py", wrong)
    report = check(path)
    assert [(f["name"], f["layer"], f["line"]) for f in errors(report)] == [("layer-raised", "Tanh", line_of(path, "self.slope()"))]
