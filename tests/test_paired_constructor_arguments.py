"""Layers whose constructor unpacks pairs: `self.k_h, self.k_w = kernel_size`, `self.s_h, self.s_w = stride`.

Image layers written Keras-style take `kernel_size=(3, 3)` and `stride=(1, 1)`; given the
integers backprop-doctor guesses first they raise "cannot unpack non-iterable int object" and
used to be "could not be built". Such arguments are now given as (v, v) pairs when the constructor
asks for that. A layer built with `input_shape` whose forward loops over a batch of samples
(`for single in input`) is given a batch.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

POOLING = '''\
import numpy as np


class AvgPool2D:
    def __init__(self, pool_size=(2, 2), stride=None):
        self.p_h, self.p_w = pool_size
        self.s_h, self.s_w = stride if stride is not None else pool_size

    def forward(self, inputs):
        self.inputs = inputs
        n, h, w, c = inputs.shape
        self.out_h = (h - self.p_h) // self.s_h + 1
        self.out_w = (w - self.p_w) // self.s_w + 1
        out = np.zeros((n, self.out_h, self.out_w, c))
        for i in range(self.out_h):
            for j in range(self.out_w):
                window = inputs[:, i * self.s_h:i * self.s_h + self.p_h, j * self.s_w:j * self.s_w + self.p_w, :]
                out[:, i, j, :] = window.mean(axis=(1, 2))
        return out

    def backward(self, dvalues):
        dinputs = np.zeros_like(self.inputs)
        share = 1.0 / (self.p_h * self.p_w)
        for i in range(self.out_h):
            for j in range(self.out_w):
                part = dvalues[:, i:i + 1, j:j + 1, :] * share
                dinputs[:, i * self.s_h:i * self.s_h + self.p_h, j * self.s_w:j * self.s_w + self.p_w, :] += part
        return dinputs
'''

SHAPED = '''\
import numpy as np


class PixelScale:
    """One weight per pixel and channel of an image of `input_shape` (height, width, channels)."""

    def __init__(self, input_shape, kernel_size):
        self.height, self.width, self.channels = input_shape
        self.k_h, self.k_w = kernel_size
        self.weights = 0.5 + 0.1 * np.random.randn(self.height, self.width, self.channels)

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.stack([single * self.weights for single in inputs])

    def backward(self, dvalues):
        self.dweights = np.sum(dvalues * self.inputs, axis=0)
        self.dinputs = dvalues * self.weights
'''


def test_a_pooling_layer_whose_constructor_unpacks_pairs_is_built_and_clean(tmp_path):
    report = check(write(tmp_path, "pooling.py", POOLING))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "AvgPool2D"]
    assert "stride=(1, 1)" in built["how"] or "stride=(1, 1)" in built["shapes"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "AvgPool2D"} == {"x"}


def test_a_pooling_gradient_not_shared_over_the_window_is_found(tmp_path):
    path = planted(tmp_path, "pooling.py", POOLING, "share = 1.0 / (self.p_h * self.p_w)", "share = 1.0")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD101", "x", line_of(path, "dinputs[:, i * self.s_h"))


def test_a_layer_built_from_an_input_shape_whose_forward_takes_a_batch_is_checked(tmp_path):
    report = check(write(tmp_path, "shaped.py", SHAPED))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "PixelScale"} == {"x", "weights"}
    (built,) = [b for b in report["built"] if b["what"] == "PixelScale"]
    assert "a batch x (2, " in built["shapes"]
    path = planted(tmp_path / "b", "shaped.py", SHAPED, "np.sum(dvalues * self.inputs, axis=0)", "np.mean(dvalues * self.inputs, axis=0)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"]) == ("BPD101", "weights")


PADDING = '''\
import numpy as np


class Layer:
    def set_input_shape(self, shape):
        self.input_shape = shape


class ZeroPadding2D(Layer):
    def __init__(self, padding):
        self.pad_h, self.pad_w = padding[0], padding[1]

    def forward_pass(self, X, training=True):
        return np.pad(X, ((0, 0), (0, 0), (self.pad_h, self.pad_h), (self.pad_w, self.pad_w)))

    def backward_pass(self, accum_grad):
        height, width = self.input_shape[1], self.input_shape[2]
        return accum_grad[:, :, self.pad_h:self.pad_h + height, self.pad_w:self.pad_w + width]


class Scale(Layer):
    def __init__(self, factor=2.0):
        self.factor = factor

    def forward_pass(self, X, training=True):
        return self.factor * X

    def backward_pass(self, accum_grad):
        return self.factor * accum_grad
'''


def test_a_layer_whose_backward_needs_its_networks_set_up_call_is_set_up_and_checked(tmp_path):
    """`self.input_shape` comes from `set_input_shape()`, which the user's network calls when it adds the
    layer: the layer is set up by that call before its forward, and checked, with no finding."""
    report = check(write(tmp_path, "padding.py", PADDING))
    assert errors(report) == []
    assert [f for f in report["findings"] if f.get("layer") == "ZeroPadding2D"] == []
    assert any(m["layer"] == "ZeroPadding2D" and m["verdict"] == "ok" for m in report["measurements"])


TIME_AFFINE = '''\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ self.params[0].T


class TimeAffine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW, self.db = None, None

    def forward(self, xs):
        self.layers = [Affine(self.W, self.b) for _ in range(xs.shape[1])]
        return np.stack([layer.forward(xs[:, t]) for t, layer in enumerate(self.layers)], axis=1)

    def backward(self, dout):
        self.dW, self.db = 0, 0
        dxs = []
        for t, layer in enumerate(self.layers):
            dxs.append(layer.backward(dout[:, t]))
            self.dW += layer.dW
            self.db += layer.db
        return np.stack(dxs, axis=1)
'''


def test_a_backward_that_reads_an_attribute_another_object_lacks_is_still_a_bug(tmp_path):
    """`layer.dW` of an `Affine` that keeps its gradients in `grads`: the backward sets `self.dW`
    itself, but the missing attribute is the inner layer's, so it is reported at its line."""
    path = write(tmp_path, "time_affine.py", TIME_AFFINE)
    found = [(f["code"], f["line"]) for f in errors(check(path)) if f.get("layer") == "TimeAffine"]
    assert found == [("BPD105", line_of(path, "self.dW += layer.dW"))]
