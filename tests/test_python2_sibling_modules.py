"""A module written in Python 2 that the user's file imports from beside it (`print x`,
`if verbose: print x`, `d.iteritems()`) is read as Python 3 too, line for line: the network that
uses its layers is built and checked, a wrong gradient in it is blamed at its own line, and a
warning lists the lines read differently."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache, verbose=False):
    if verbose: print 'relu backward', dout.shape
    return dout * (cache > 0)


def describe(params):
    for name, value in params.iteritems():
        print name, value.shape
"""

NET = """\
import numpy as np
from layers import *


class TwoLayerNet(object):
    def __init__(self, input_dim=6, hidden_dim=5, num_classes=3, weight_scale=0.1):
        self.params = {
            'W1': weight_scale * np.random.randn(input_dim, hidden_dim),
            'b1': np.zeros(hidden_dim),
            'W2': weight_scale * np.random.randn(hidden_dim, num_classes),
            'b2': np.zeros(num_classes),
        }
        for k, v in self.params.items():
            self.params[k] = v.astype(np.float64)

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


def test_a_network_whose_layers_module_is_python2_is_built_and_checked(tmp_path):
    layers = write(tmp_path, "layers.py", LAYERS)
    net = write(tmp_path, "net.py", NET)
    report = check(net)
    assert errors(report) == []
    assert "TwoLayerNet" in {b["what"] for b in report["built"]}
    (warning,) = [f for f in report["findings"] if f["name"] == "python2"]
    read = [line_of(layers, "if verbose: print"), line_of(layers, "params.iteritems()"), line_of(layers, "print name")]
    assert (warning["file"], warning["severity"], warning["line"]) == (str(layers), "warning", read[0])
    assert sorted(warning["highlight"]) == sorted(read)
    assert warning["message"].startswith("`layers.py`, which your file imports, looks like Python 2")
    assert layers.read_text(encoding="utf-8") == LAYERS  # read as Python 3, never written


def test_a_wrong_gradient_in_a_python2_layers_module_is_blamed_at_its_line(tmp_path):
    layers = planted(tmp_path, "layers.py", LAYERS, "dw = x.reshape(x.shape[0], -1).T.dot(dout)", "dw = x.reshape(x.shape[0], -1).T.dot(dout) * 2")
    net = write(tmp_path, "net.py", NET)
    wrong = [f for f in errors(check(net)) if f["file"] == str(layers)]
    assert wrong and {f["line"] for f in wrong} == {line_of(layers, "* 2")}


def test_a_sibling_module_that_is_not_python2_keeps_its_own_syntax_error(tmp_path):
    broken = write(tmp_path, "layers.py", "def affine_forward(x, w, b:\n    return x\n")
    net = write(tmp_path, "net.py", "from layers import affine_forward\n")
    (finding,) = [f for f in errors(check(net)) if f["name"] == "load-error"]
    assert "SyntaxError" in finding["message"] and "layers.py" in finding["message"]
    assert broken.read_text(encoding="utf-8").startswith("def affine_forward(x, w, b:")
