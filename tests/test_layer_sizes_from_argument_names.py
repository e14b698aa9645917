"""Layers whose constructor takes two widths under names of their own.

`FullyConnected(input_len, nodes)` with `forward` and `backprop(d_out, learn_rate)` is a layer
that applies SGD itself, not a Nielsen network (`Network(sizes)` takes the sizes in one list);
`SoftmaxOutput(inputs, outputs)` ends in a softmax whose backward takes ŷ − y from the
cross-entropy, right only together with it: it is named as not checked, never called wrong.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
    import numpy as np


    class FullyConnected:
        def __init__(self, input_len, nodes):
            self.weights = np.random.randn(input_len, nodes) / input_len
            self.biases = np.zeros(nodes)

        def forward(self, x):
            self.last_input = x
            return x @ self.weights + self.biases

        def backprop(self, d_out, learn_rate):
            d_w = self.last_input.T @ d_out
            d_b = d_out.sum(axis=0)
            d_x = d_out @ self.weights.T
            self.weights -= learn_rate * d_w
            self.biases -= learn_rate * d_b
            return d_x


    class SoftmaxOutput:
        def __init__(self, inputs, outputs):
            self.W = 0.1 * np.random.randn(inputs, outputs)
            self.b = np.zeros(outputs)

        def forward(self, x):
            self.x = x
            z = x @ self.W + self.b
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        def backward(self, delta):
            self.dW = self.x.T @ delta
            self.db = delta.sum(axis=0)
            return delta @ self.W.T
"""


def test_two_widths_build_the_layer_and_the_fused_softmax_is_not_called_wrong(tmp_path):
    path = write(tmp_path, "layers.py", LAYERS)
    report = check(path)
    assert errors(report) == []
    assert {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"} == {
        ("FullyConnected", "x"), ("FullyConnected", "weights"), ("FullyConnected", "biases"),
    }
    (skipped,) = [f for f in report["findings"] if f["name"] == "build-failed"]
    assert skipped["layer"] == "SoftmaxOutput" and skipped["severity"] == "info"
    assert "gradient with respect to the softmax's input" in skipped["message"]
    assert skipped["line"] == line_of(path, "class SoftmaxOutput")


def test_a_bias_step_divided_by_the_batch_is_found_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "d_b = d_out.sum(axis=0)", "d_b = d_out.sum(axis=0) / len(d_out)")
    report = check(path)
    (wrong,) = [f for f in errors(report) if f["name"] == "gradient-mismatch"]
    assert (wrong["layer"], wrong["param"]) == ("FullyConnected", "biases")
    assert wrong["line"] == line_of(path, "d_b = d_out.sum(axis=0) / len(d_out)")
