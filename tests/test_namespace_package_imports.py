"""A file deep inside its project's package imports the package by its absolute name
(`mylib/models/net.py` doing `from mylib.layers import *`) although the package has no
`__init__.py` (Python 3 imports it as a namespace package), or only its sub-folder has one: the
import resolves as it does from the project's root, and the network is built and checked."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
import numpy as np


def affine_forward(x, w, b):
    return x.dot(w) + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T), x.T.dot(dout), dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)
"""

NET = """\
import numpy as np
from mylib.layers import *


class TwoLayerNet(object):
    def __init__(self, input_dim=6, hidden_dim=5, num_classes=3, weight_scale=0.1):
        self.params = {
            'W1': weight_scale * np.random.randn(input_dim, hidden_dim),
            'b1': np.zeros(hidden_dim),
            'W2': weight_scale * np.random.randn(hidden_dim, num_classes),
            'b2': np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        h, cache1 = affine_forward(X, self.params['W1'], self.params['b1'])
        a, cache2 = relu_forward(h)
        scores, cache3 = affine_forward(a, self.params['W2'], self.params['b2'])
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(probs[np.arange(n), y]).sum() / n
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        grads = {}
        da, grads['W2'], grads['b2'] = affine_backward(dscores, cache3)
        dh = relu_backward(da, cache2)
        _, grads['W1'], grads['b1'] = affine_backward(dh, cache1)
        return loss, grads
"""

LAYOUTS = {
    "no __init__.py anywhere": [],
    "only the sub-folder is a regular package": ["mylib/models/__init__.py"],
}


@pytest.mark.parametrize("inits", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_a_network_importing_its_namespace_package_by_name_is_built_and_checked(tmp_path, inits):
    write(tmp_path, "mylib/layers.py", LAYERS)
    for init in inits:
        write(tmp_path, init, "")
    net = write(tmp_path, "mylib/models/net.py", NET)
    report = check(net)
    assert errors(report) == []
    assert "TwoLayerNet" in {b["what"] for b in report["built"]}
    assert [f for f in report["findings"] if f["name"] == "missing-module"] == []


def test_a_wrong_gradient_in_the_namespace_package_is_blamed_at_its_line(tmp_path):
    layers = planted(tmp_path, "mylib/layers.py", LAYERS, "x.T.dot(dout), dout.sum(axis=0)", "x.T.dot(dout) * 2, dout.sum(axis=0)")
    net = write(tmp_path, "mylib/models/net.py", NET)
    wrong = [f for f in errors(check(net)) if f["file"] == str(layers)]
    assert wrong and {f["line"] for f in wrong} == {line_of(layers, "* 2")}
