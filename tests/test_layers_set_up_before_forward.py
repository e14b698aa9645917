"""Layers that make their weights in a set-up call of their own, not in the constructor.

`Linear(inputs, outputs)` keeps two sizes and makes its weights in `prepare(batch_size)`;
`Dense(units)` sizes them from the input in `build(input_shape)`, as a network calls it when it
adds the layer. Both are built with small sizes, set up with the batch (or one sample's shape,
else the batch's) and checked;
their gradients are kept under names of the spelled-out parameters' initials (`self.w_gradient`
for `self.weights`, `self.dw` for `self.weight`).
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
    import numpy as np


    class Linear:
        def __init__(self, inputs, outputs):
            self.inputs, self.outputs = inputs, outputs

        def prepare(self, batch_size):
            self.weights = 0.1 * np.random.randn(self.inputs, self.outputs)
            self.bias = np.zeros(self.outputs)
            self.reset_buffers(batch_size)

        def reset_buffers(self, batch_size):
            self.out = np.zeros((batch_size, self.outputs))

        def forward(self, x):
            if x.shape[0] != self.out.shape[0]:
                self.reset_buffers(x.shape[0])
            self.x = x
            self.out = x @ self.weights + self.bias
            return self.out

        def backward(self, grad):
            self.w_gradient = self.x.T @ grad
            self.b_gradient = grad.sum(axis=0)
            return grad @ self.weights.T


    class Dense:
        def __init__(self, units):
            self.units = units

        def build(self, input_shape):
            fan_in = input_shape[-1]
            self.weight = np.random.randn(fan_in, self.units) / np.sqrt(fan_in)
            self.bias = np.zeros(self.units)
            return [input_shape[0], self.units]

        def forward(self, x):
            self.shape = x.shape
            self.x = x.reshape(len(x), -1)
            return self.x @ self.weight + self.bias

        def backward(self, dy):
            self.dw = self.x.T @ dy
            self.db = dy.sum(axis=0)
            return (dy @ self.weight.T).reshape(self.shape)
"""


def _compared(report: dict) -> dict[tuple[str, str], str]:
    return {(m["layer"], m["param"]): m["verdict"] for m in report["measurements"]}


def test_layers_set_up_by_their_own_methods_are_checked_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert _compared(report) == {
        ("Linear", "x"): "ok", ("Linear", "weights"): "ok", ("Linear", "bias"): "ok",
        ("Dense", "x"): "ok", ("Dense", "weight"): "ok", ("Dense", "bias"): "ok",
    }  # fmt: skip
    how = {b["what"]: b["how"] for b in report["built"]}
    assert how == {"Linear": "Linear(inputs=12, outputs=4) then prepare(5)", "Dense": "Dense(units=4) then build((12,))"}


def test_a_bias_gradient_averaged_over_the_batch_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "self.b_gradient = grad.sum(axis=0)", "self.b_gradient = grad.mean(axis=0)")
    report = check(path)
    (wrong,) = [f for f in errors(report) if f["name"] == "gradient-mismatch"]
    assert (wrong["layer"], wrong["param"]) == ("Linear", "bias")
    assert wrong["line"] == line_of(path, "self.b_gradient = grad.mean(axis=0)")


def test_a_weight_gradient_of_a_layer_sized_by_build_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "self.dw = self.x.T @ dy", "self.dw = self.x.T @ dy * 2")
    report = check(path)
    (wrong,) = [f for f in errors(report) if f["name"] == "gradient-mismatch"]
    assert (wrong["layer"], wrong["param"]) == ("Dense", "weight")
    assert wrong["line"] == line_of(path, "self.dw = self.x.T @ dy * 2")
