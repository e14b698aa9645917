"""Networks that start with a convolution are fed images with pixel intensities in [0, 1).

A deep He-initialised convolution network fed standard-normal "pixels" drives its softmax to
probabilities near 1e-4, where the book's `log(y + 1e-7)` already differs from the gradient
`y - t` by 1e-3: a correct network was reported as a gradient mismatch (and localising that
mismatch ran past the time limit). A data set loads digits as intensities, so the synthesised
batch is drawn the same way.
"""

from __future__ import annotations

import numpy as np

from backprop_doctor.build import network_inputs
from tests.userfiles import check, errors, line_of, planted, write

DEEP_CONV_NET = '''\
"""A deep convolution network for 28x28 digits, He-initialised throughout."""
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Conv3x3:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        self.win = sliding_window_view(self.xp, (3, 3), axis=(2, 3))  # N C H W 3 3
        return np.einsum("nchwij,fcij->nfhw", self.win, self.W) + self.b[None, :, None, None]

    def backward(self, dout):
        self.dW = np.einsum("nchwij,nfhw->fcij", self.win, dout)
        self.db = dout.sum(axis=(0, 2, 3))
        dxp = np.zeros_like(self.xp)
        H, W = dout.shape[2:]
        for i in range(3):
            for j in range(3):
                dxp[:, :, i:i + H, j:j + W] += np.einsum("nfhw,fc->nchw", dout, self.W[:, :, i, j])
        return dxp[:, :, 1:-1, 1:-1]


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Pool2x2:
    def forward(self, x):
        N, C, H, W = x.shape
        self.shape = x.shape
        win = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
        self.arg = win.argmax(axis=-1)
        return win.max(axis=-1)

    def backward(self, dout):
        N, C, H, W = self.shape
        dwin = np.zeros((N, C, H // 2, W // 2, 4))
        np.put_along_axis(dwin, self.arg[..., None], dout[..., None], axis=-1)
        return dwin.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(self.shape)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.shape = x.shape
        self.x = x.reshape(len(x), -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.shape)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / len(x)

    def backward(self, dout=1):
        return dout * (self.y - self.t) / len(self.t)


class DeepConvNet:
    def __init__(self, input_dim=(1, 28, 28), hidden_size=50, output_size=10):
        channels, side, _ = input_dim
        sizes = [channels, 16, 16, 32, 32]
        self.params = {}
        for i in range(4):
            fan_in = sizes[i] * 9
            self.params[f"W{i + 1}"] = np.sqrt(2.0 / fan_in) * np.random.randn(sizes[i + 1], sizes[i], 3, 3)
            self.params[f"b{i + 1}"] = np.zeros(sizes[i + 1])
        flat = 32 * (side // 4) ** 2
        self.params["W5"] = np.sqrt(2.0 / flat) * np.random.randn(flat, hidden_size)
        self.params["b5"] = np.zeros(hidden_size)
        self.params["W6"] = np.sqrt(2.0 / hidden_size) * np.random.randn(hidden_size, output_size)
        self.params["b6"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Conv1"] = Conv3x3(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Conv2"] = Conv3x3(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Pool1"] = Pool2x2()
        self.layers["Conv3"] = Conv3x3(self.params["W3"], self.params["b3"])
        self.layers["Relu3"] = Relu()
        self.layers["Conv4"] = Conv3x3(self.params["W4"], self.params["b4"])
        self.layers["Relu4"] = Relu()
        self.layers["Pool2"] = Pool2x2()
        self.layers["Affine1"] = Affine(self.params["W5"], self.params["b5"])
        self.layers["Relu5"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W6"], self.params["b6"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i, name in enumerate(["Conv1", "Conv2", "Conv3", "Conv4", "Affine1", "Affine2"]):
            grads[f"W{i + 1}"] = self.layers[name].dW
            grads[f"b{i + 1}"] = self.layers[name].db
        return grads
'''


def test_a_correct_deep_convolution_network_on_digits_is_clean(tmp_path):
    report = check(write(tmp_path, "deep_conv_net.py", DEEP_CONV_NET))
    assert errors(report) == []
    assert report["ok"] is True
    network = [m for m in report["measurements"] if m["layer"] == "DeepConvNet"]
    assert {m["param"] for m in network} >= {f"W{i}" for i in range(1, 7)}


def test_a_wrong_convolution_bias_gradient_is_still_found_at_its_line(tmp_path):
    path = planted(
        tmp_path, "deep_conv_net.py", DEEP_CONV_NET.replace("input_dim=(1, 28, 28)", "input_dim=(1, 8, 8)"),
        "self.db = dout.sum(axis=(0, 2, 3))", "self.db = dout.sum(axis=(0, 2, 3)) / dout.shape[0]",
    )
    found = {(f["code"], f["line"]) for f in errors(check(path))}
    assert ("BPD101", line_of(path, "self.db = dout.sum")) in found


def test_the_synthesised_batch_of_an_image_network_holds_pixel_intensities(tmp_path):
    import importlib.util

    path = write(tmp_path, "deep_conv_net.py", DEEP_CONV_NET)
    spec = importlib.util.spec_from_file_location("deep_conv_net", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.random.seed(0)
    net = module.DeepConvNet()
    x, t = network_inputs(net, {"input_dim": (1, 28, 28)}, np.random.default_rng(0), batch=5, train=False)
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= 0.0 and x.max() < 1.0
    assert t.shape == (5, 10)
