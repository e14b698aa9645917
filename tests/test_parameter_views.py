"""A layer built on a view of the network's parameter (`Affine(self.params['W1'][:], ...)`)
shares the parameter's memory as the book's own `Affine(self.params['W1'], ...)` does: moving
`params['W1']` moves the layer's weights. The check's working copy must keep that sharing,
or the network's loss does not move with `params['W1']` and a correct network reads as
"the numerical gradient is zero".
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

import backprop_doctor as bd
from userfiles import check, errors, line_of, planted, write

VIEW_NET = """
    import numpy as np
    from collections import OrderedDict


    class Affine:
        def __init__(self, W, b):
            self.W = W
            self.b = b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)


    class Relu:
        def forward(self, x):
            self.mask = x <= 0
            return np.where(self.mask, 0.0, x)

        def backward(self, dout):
            return np.where(self.mask, 0.0, dout)


    class SoftmaxWithLoss:
        def forward(self, x, t):
            z = x - x.max(axis=1, keepdims=True)
            self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            self.t = t
            return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

        def backward(self, dout=1):
            return dout * (self.y - self.t) / self.t.shape[0]


    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size):
            self.params = {
                "W1": 0.1 * np.random.randn(input_size, hidden_size),
                "b1": np.zeros(hidden_size),
                "W2": 0.1 * np.random.randn(hidden_size, output_size),
                "b2": np.zeros(output_size),
            }
            self.layers = OrderedDict()
            self.layers["Affine1"] = Affine(self.params["W1"][:], self.params["b1"][:])
            self.layers["Relu1"] = Relu()
            self.layers["Affine2"] = Affine(self.params["W2"][:, :], self.params["b2"])
            self.lastLayer = SoftmaxWithLoss()

        def loss(self, x, t):
            for layer in self.layers.values():
                x = layer.forward(x)
            return self.lastLayer.forward(x, t)

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.lastLayer.backward(1)
            for layer in reversed(list(self.layers.values())):
                dout = layer.backward(dout)
            return {
                "W1": self.layers["Affine1"].dW,
                "b1": self.layers["Affine1"].db,
                "W2": self.layers["Affine2"].dW,
                "b2": self.layers["Affine2"].db,
            }
"""


def _module(path):
    spec = importlib.util.spec_from_file_location(f"views_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_network_whose_layers_hold_views_of_its_params_is_clean(tmp_path):
    report = check(write(tmp_path, "view_net.py", VIEW_NET))
    assert errors(report) == []
    gradient_names = {f["name"] for f in report["findings"]} & {"gradient-mismatch", "unshared-parameter"}
    assert gradient_names == set()


def test_a_wrong_gradient_behind_a_view_is_still_found_at_its_line(tmp_path):
    path = planted(tmp_path, "view_net_wrong.py", VIEW_NET, "self.db = np.sum(dout, axis=0)", "self.db = 2 * np.sum(dout, axis=0)")
    found = [(f["layer"], f["param"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert ("Affine1", "b") in found and ("TwoLayerNet", "b1") in found
    [line] = {f["line"] for f in errors(check(path)) if f["name"] == "gradient-mismatch" and f["layer"] == "Affine1"}
    assert line == line_of(path, "self.db = 2 * np.sum")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_check_network_keeps_the_views_and_leaves_the_callers_network_as_it_was(tmp_path, dtype):
    module = _module(write(tmp_path, f"view_net_{np.dtype(dtype).name}.py", VIEW_NET))
    np.random.seed(0)
    net = module.TwoLayerNet(4, 5, 3)
    for key in list(net.params):
        net.params[key] = net.params[key].astype(dtype)
    net.layers["Affine1"].W, net.layers["Affine1"].b = net.params["W1"][:], net.params["b1"][:]
    net.layers["Affine2"].W, net.layers["Affine2"].b = net.params["W2"][:, :], net.params["b2"]
    saved = {k: v.copy() for k, v in net.params.items()}
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(dtype)
    report = bd.check_network(net, x, np.eye(3)[[0, 1, 2, 0, 1, 2]])
    assert report.ok, [f.message for f in report.errors]
    assert {m.param for m in report.measurements if m.layer == "TwoLayerNet" and m.verdict == "ok"} == {"W1", "b1", "W2", "b2"}
    assert all(np.array_equal(net.params[k], saved[k]) for k in saved)
    assert np.shares_memory(net.layers["Affine1"].W, net.params["W1"])
