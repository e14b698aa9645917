"""Constructors sized by `dim_in` / `dim_out` (the size before the direction), and networks whose
hidden widths are a list (`MLP(dim_in, hidden_units, dim_out)` building `[dim_in] + hidden_units +
[dim_out]`): they are built from those names (12 inputs, 4 outputs; hidden widths given as a list
of two when an integer makes the constructor raise) instead of "cannot guess a value for the
constructor argument `dim_in`".

Two styles: a dense layer on `dim_in`, `dim_out`; a network that makes its layers from a list of
hidden widths. Each correct twin is clean; a planted wrong weight gradient is found at its line."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

LAYER = """\
import numpy as np


class Dense:
    def __init__(self, dim_in, dim_out):
        self.W = np.random.randn(dim_in, dim_out) * 0.1
        self.b = np.zeros(dim_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""

NETWORK = LAYER + """

class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1.0 - self.y ** 2)


class MLP:
    def __init__(self, dim_in, hidden_units, dim_out):
        assert len(hidden_units) > 0
        dims = [dim_in] + hidden_units + [dim_out]
        self.layers = []
        for i in range(len(dims) - 1):
            self.layers.append(Dense(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                self.layers.append(Tanh())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
"""

WRONG = ("self.dW = self.x.T @ dout", "self.dW = self.x.T @ dout * 0.5")


def test_a_layer_sized_by_dim_in_and_dim_out_is_built_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "dense.py", LAYER))
    assert not errors(report), errors(report)
    built = {b["what"]: b["how"] for b in report["built"]}
    assert "dim_in=12" in built["Dense"], built
    assert {("Dense", "W"), ("Dense", "b"), ("Dense", "x")} <= {(m["layer"], m["param"]) for m in report["measurements"]}


def test_a_wrong_weight_gradient_of_a_dim_in_layer_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "dense.py", LAYER, *WRONG)
    found = [f for f in errors(check(path)) if f["layer"] == "Dense" and f["param"] == "W"]
    assert found and found[0]["line"] == line_of(path, WRONG[1]), found


def test_a_network_of_hidden_width_lists_is_built_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "mlp.py", NETWORK))
    assert not errors(report), errors(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD008"], report["findings"]
    built = {b["what"]: b["how"] for b in report["built"]}
    assert "hidden_units=[" in built["MLP"], built
    assert any(m["layer"] == "MLP" for m in report["measurements"]), report["measurements"]


def test_a_wrong_weight_gradient_inside_a_hidden_width_list_network_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "mlp.py", NETWORK, *WRONG)
    report = check(path)
    found = [f for f in errors(report) if f["line"] == line_of(path, WRONG[1])]
    assert found, errors(report)
    assert any(m["layer"] == "MLP" for m in report["measurements"]), report["measurements"]


def test_a_layer_sized_by_fan_in_and_fan_out_is_built_and_its_wrong_dx_found(tmp_path: Path) -> None:
    fan = LAYER.replace("dim_in", "fan_in").replace("dim_out", "fan_out")
    clean = check(write(tmp_path, "fan.py", fan))
    assert errors(clean) == [] and {m["param"] for m in clean["measurements"] if m["verdict"] == "ok"} >= {"x", "W", "b"}, clean
    path = planted(tmp_path, "fan_bug.py", fan, "return dout @ self.W.T", "return dout @ self.W")
    found = errors(check(path))
    assert found and found[0]["layer"] == "Dense" and found[0]["line"] == line_of(path, "return dout @ self.W"), found
