"""A folder without `__init__.py` that holds a module of its own name (`model/model.py` beside
`model/layer.py`): the layer file's relative import (`from .activation import relu`) needs the
package `model`, which Python would resolve to `model.py` on the path. The file is checked as
`python -m model.layer` would run it."""

from __future__ import annotations

from tests.userfiles import check, errors, write

LAYER = '''\
import numpy as np

from .activation import relu, relu_grad


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        self.z = x @ self.W + self.b
        return relu(self.z)

    def backward(self, dout):
        dz = dout * relu_grad(self.z)
        self.dW = self.x.T @ dz
        self.db = dz.sum(axis=0)
        return dz @ self.W.T
'''

ACTIVATION = '''\
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def relu_grad(z):
    return (z > 0).astype(float)
'''

MODEL = '''\
from .layer import Dense


class Model:
    def __init__(self):
        self.layers = [Dense(4, 3)]
'''


def _package(tmp_path, layer: str = LAYER):
    write(tmp_path, "model/activation.py", ACTIVATION)
    write(tmp_path, "model/model.py", MODEL)
    return write(tmp_path, "model/layer.py", layer)


def test_a_layer_of_a_namespace_package_named_like_its_module_is_checked(tmp_path):
    report = check(_package(tmp_path))
    assert errors(report) == []
    assert any(b["what"] == "Dense" and not b["skipped"] for b in report["built"])
    assert not [f for f in report["findings"] if f["name"] == "load-error"]


def test_its_bug_is_found(tmp_path):
    path = _package(tmp_path, LAYER.replace("self.db = dz.sum(axis=0)", "self.db = dz.sum(axis=1)"))
    found = errors(check(path))
    assert [f["param"] for f in found if f["layer"] == "Dense"] == ["b"]
