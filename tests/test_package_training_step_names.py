"""A training script inside a package (`from .layers import Dense`) that walks its layers with an
inner loop (`for layer in net:`): every update is compared, each parameter is named by the list
that holds it (`net[2].W`, never the loop variable `layer.W`), and a wrong layer in the package's
other file is reported in that file at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, replayed, write

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask
'''

TRAIN = '''\
import numpy as np

from .layers import Dense, ReLU

rng = np.random.default_rng(0)
X = rng.normal(size=(100, 8))
y = rng.integers(0, 3, size=100)
net = [Dense(8, 16, rng), ReLU(), Dense(16, 3, rng)]
for it in range(100):
    h = X
    for layer in net:
        h = layer.forward(h)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(100), y]).mean()
    d = p.copy()
    d[np.arange(100), y] -= 1
    d /= 100
    for layer in reversed(net):
        d = layer.backward(d)
    for layer in net:
        if isinstance(layer, Dense):
            layer.W -= 0.1 * layer.dW
            layer.b -= 0.1 * layer.db
'''


def _package(tmp_path, layers=LAYERS):
    write(tmp_path, "mynet/__init__.py", "")
    write(tmp_path, "mynet/layers.py", layers)
    return write(tmp_path, "mynet/train.py", TRAIN)


def test_parameters_reached_through_an_inner_loop_are_named_by_their_list(tmp_path):
    report = check(_package(tmp_path))
    assert errors(report) == []
    names = [p["name"] for p in replayed(report)["parameters"]]
    assert names == ["net[0].W", "net[0].b", "net[2].W", "net[2].b"]
    assert report["verdict"].startswith("✓") and "1 training step" in report["verdict"]


def test_a_wrong_layer_in_the_packages_other_file_is_reported_there(tmp_path):
    train = _package(tmp_path, LAYERS.replace("        self.dW = self.x.T @ dout\n", "        self.dW = self.x.T @ dout * 0.5\n"))
    layers = train.parent / "layers.py"
    found = [f for f in errors(check(train)) if f["name"] == "gradient-mismatch"]
    assert found and {(f["file"].replace("\\", "/").rsplit("/", 1)[-1], f["line"]) for f in found} == {("layers.py", line_of(layers, "self.dW = self.x.T @ dout * 0.5"))}
