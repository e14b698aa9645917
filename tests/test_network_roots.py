"""A network's gradient is assembled from its layers' backward passes: when a layer's own check
fails too, that layer is the root cause and the network's mismatches its symptoms, whatever the
classes are called (the root used to follow the alphabetical order of the names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, write

NETWORK = """\
    from collections import OrderedDict

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


    class Relu:
        def forward(self, x):
            self.mask = x <= 0
            return np.where(self.mask, 0, x)

        def backward(self, dout):
            return dout


    class SoftmaxWithLoss:
        def forward(self, x, t):
            e = np.exp(x - x.max(axis=1, keepdims=True))
            self.y, self.t = e / e.sum(axis=1, keepdims=True), t
            return -np.sum(t * np.log(self.y + 1e-7)) / len(x)

        def backward(self, dout=1):
            return (self.y - self.t) / len(self.t)


    class NAME:
        def __init__(self, input_size, hidden_size, output_size):
            rng = np.random.default_rng(0)
            self.params = {"W1": 0.5 * rng.standard_normal((input_size, hidden_size)), "b1": np.zeros(hidden_size),
                           "W2": 0.5 * rng.standard_normal((hidden_size, output_size)), "b2": np.zeros(output_size)}
            self.layers = OrderedDict(Affine1=Affine(self.params["W1"], self.params["b1"]), Relu1=Relu(),
                                      Affine2=Affine(self.params["W2"], self.params["b2"]))
            self.last = SoftmaxWithLoss()

        def predict(self, x):
            for layer in self.layers.values():
                x = layer.forward(x)
            return x

        def loss(self, x, t):
            return self.last.forward(self.predict(x), t)

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.last.backward(1)
            for layer in reversed(list(self.layers.values())):
                dout = layer.backward(dout)
            grads = {}
            for i in (1, 2):
                grads["W" + str(i)] = self.layers["Affine" + str(i)].dW
                grads["b" + str(i)] = self.layers["Affine" + str(i)].db
            return grads
"""


@pytest.mark.parametrize("name", ["Net", "ZNet"])
def test_the_layer_whose_own_check_fails_is_the_root_whatever_the_network_is_called(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "net.py", NETWORK.replace("NAME", name))
    found = errors(check(path))
    roots = [f for f in found if not f.get("caused_by")]
    relu_return = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip() == "return dout")
    assert [(f["layer"], f["param"], f["line"]) for f in roots] == [("Relu1", "x", relu_return)]
    assert {f["layer"] for f in found if f.get("caused_by")} >= {name}


PAIRS = """\
    import numpy as np


    def affine_forward(x, w, b):
        return x @ w + b, (x, w, b)


    def affine_backward(dout, cache):
        x, w, b = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=1)  # one entry per sample: the wrong shape


    def pool_forward(x, pool_param):
        n, c, h, w = x.shape
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        out = np.zeros((n, c, (h - ph) / s + 1, (w - pw) / s + 1))
        return out, (x, pool_param)


    def pool_backward(dout, cache):
        x, pool_param = cache
        return np.zeros_like(x)
"""


def test_a_layer_that_raises_is_its_own_root_beside_another_pair_s_wrong_gradient(tmp_path: Path) -> None:
    path = write(tmp_path, "layers.py", PAIRS)
    roots = {f["code"] for f in errors(check(path)) if not f.get("caused_by")}
    assert roots == {"BPD102", "BPD105"}
