"""A model kept as one layer object whose weights are a list (`self.weights = [W1, W2]`) and whose
backward fills a `grads` list at the same places: its input width is the first weight's rows
(784 here, from its own default sizes), and each `grads[i]` is checked against `weights[i]`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

MODEL = """\
    import numpy as np


    class MLP:
        def __init__(self, sizes=(784, 30, 10)):
            self.weights = [0.1 * np.random.randn(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
            self.grads = [None] * len(self.weights)
            self.a = []

        def forward(self, x):
            self.a = [x]
            for i, W in enumerate(self.weights):
                z = self.a[-1] @ W
                self.a.append(np.tanh(z) if i < len(self.weights) - 1 else z)
            return self.a[-1]

        def backward(self, dout):
            for i in reversed(range(len(self.weights))):
                if i < len(self.weights) - 1:
                    dout = dout * (1 - self.a[i + 1] ** 2)
                self.grads[i] = self.a[i].T @ dout
                dout = dout @ self.weights[i].T
            return dout
"""


def test_a_list_of_weights_with_a_grads_list_is_checked_at_its_own_width(tmp_path):
    report = check(write(tmp_path, "mlp.py", MODEL))
    assert errors(report) == []
    assert {(m["param"], m["verdict"]) for m in report["measurements"]} == {("x", "ok"), ("weights[0]", "ok"), ("weights[1]", "ok")}
    (built,) = report["built"]
    assert built["shapes"].startswith("x (5, 784)")


def test_a_wrong_tanh_derivative_makes_the_first_weight_wrong_and_leaves_the_last_right(tmp_path):
    path = planted(tmp_path, "mlp.py", MODEL, "dout = dout * (1 - self.a[i + 1] ** 2)", "dout = dout * (1 - self.a[i + 1])")
    report = check(path)
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"]}
    assert (verdicts["weights[0]"], verdicts["weights[1]"]) == ("mismatch", "ok")
    (wrong,) = [f for f in errors(report) if f["param"] == "weights[0]"]
    assert wrong["name"] == "gradient-mismatch"
    # the statement that writes every entry of `grads` in the loop
    assert wrong["line"] == line_of(path, "self.grads[i] = self.a[i].T @ dout")
