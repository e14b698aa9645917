"""A backward that rescales an adjoint by the factor its forward applies (`dS = dS * self.scale` for forward's
`Q @ K.T * self.scale`) is the chain rule of that product, right whatever it scales: when the wrong gradients
(of the queries' and keys' weights) are all computed from it and from the softmax's backward before it, the
softmax's line is named, not the rescaling (`static.wrong_only._rescales_as_elsewhere`). A rescaling that
does not do what the forward does (`dS = dS / self.scale`) is still the line named. Two styles: a class layer
of scaled dot-product attention and cs231n-like function pairs, each in a file that defines them and tries them
once (no training loop, so the layer's own check is the one that names the line); each beside its correct twin,
which stays clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYER = '''\
import numpy as np

rng = np.random.default_rng(4)
B, T, D, DK, C = 6, 5, 8, 4, 3


def softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


class Attention:
    def __init__(self, d, dk):
        self.Wq = rng.normal(0, 0.4, (d, dk))
        self.Wk = rng.normal(0, 0.4, (d, dk))
        self.Wv = rng.normal(0, 0.4, (d, dk))
        self.scale = 1.0 / np.sqrt(dk)

    def forward(self, x):
        self.x = x
        self.q, self.k, self.v = x @ self.Wq, x @ self.Wk, x @ self.Wv
        s = self.q @ self.k.transpose(0, 2, 1) * self.scale
        self.a = softmax(s, axis=-1)
        return self.a @ self.v

    def backward(self, dout):
        da = dout @ self.v.transpose(0, 2, 1)
        dv = self.a.transpose(0, 2, 1) @ dout
        ds = self.a * (da - np.sum(da * self.a, axis=-1, keepdims=True))
        ds = ds * self.scale
        dq = ds @ self.k
        dk = ds.transpose(0, 2, 1) @ self.q
        flat = self.x.reshape(-1, self.x.shape[-1])
        self.dWq = flat.T @ dq.reshape(-1, dq.shape[-1])
        self.dWk = flat.T @ dk.reshape(-1, dk.shape[-1])
        self.dWv = flat.T @ dv.reshape(-1, dv.shape[-1])
        return dq @ self.Wq.T + dk @ self.Wk.T + dv @ self.Wv.T


att = Attention(D, DK)
X = rng.normal(size=(B, T, D))
out = att.forward(X)
dx = att.backward(np.ones_like(out))
print(out.shape, dx.shape, att.dWq.shape)
'''

FUNCTIONS = '''\
import numpy as np


def attention_forward(x, Wq, Wk, Wv, temperature):
    q, k, v = x @ Wq, x @ Wk, x @ Wv
    s = q @ k.T / temperature
    s = s - s.max(axis=1, keepdims=True)
    a = np.exp(s)
    a /= a.sum(axis=1, keepdims=True)
    return a @ v, (x, q, k, v, a, Wq, Wk, Wv, temperature)


def attention_backward(dout, cache):
    x, q, k, v, a, Wq, Wk, Wv, temperature = cache
    da = dout @ v.T
    dv = a.T @ dout
    ds = a * (da - (da * a).sum(axis=1, keepdims=True))
    ds = ds / temperature
    dq = ds @ k
    dk = ds.T @ q
    dWq = x.T @ dq
    dWk = x.T @ dk
    dWv = x.T @ dv
    dx = dq @ Wq.T + dk @ Wk.T + dv @ Wv.T
    return dx, dWq, dWk, dWv


if __name__ == "__main__":
    r = np.random.RandomState(3)
    x = r.randn(7, 5)
    out, cache = attention_forward(x, r.randn(5, 3), r.randn(5, 3), r.randn(5, 3), 2.0)
    print(attention_backward(np.ones_like(out), cache)[0].shape)
'''

LAYER_SOFTMAX = "ds = self.a * (da - np.sum(da * self.a, axis=-1, keepdims=True))"
FUNCTIONS_SOFTMAX = "ds = a * (da - (da * a).sum(axis=1, keepdims=True))"


def _root(report: dict) -> dict:
    return report["findings"][report["root_cause"]]


def test_attention_layer_is_clean(tmp_path):
    report = check(write(tmp_path, "attention.py", LAYER))
    assert errors(report) == [] and report["measurements"]


def test_attention_layer_softmax_backward_over_the_query_axis_is_named_at_the_softmax_line(tmp_path):
    wrong = LAYER_SOFTMAX.replace("axis=-1", "axis=1")
    path = planted(tmp_path, "attention.py", LAYER, LAYER_SOFTMAX, wrong)
    report = check(path)
    assert errors(report)
    assert _root(report)["line"] == line_of(path, wrong)


def test_attention_layer_rescaled_against_its_forward_is_named_at_the_rescaling(tmp_path):
    path = planted(tmp_path, "attention.py", LAYER, "ds = ds * self.scale", "ds = ds / self.scale")
    report = check(path)
    assert errors(report)
    assert _root(report)["line"] == line_of(path, "ds = ds / self.scale")


def test_attention_functions_are_clean(tmp_path):
    report = check(write(tmp_path, "attention_fns.py", FUNCTIONS))
    assert errors(report) == [] and report["measurements"]


def test_attention_functions_softmax_backward_over_the_wrong_axis_is_named_at_the_softmax_line(tmp_path):
    wrong = FUNCTIONS_SOFTMAX.replace("axis=1", "axis=0")
    path = planted(tmp_path, "attention_fns.py", FUNCTIONS, FUNCTIONS_SOFTMAX, wrong)
    report = check(path)
    assert errors(report)
    assert _root(report)["line"] == line_of(path, wrong)


def test_attention_input_gradient_wrong_alone_gets_no_affine_layer_fix(tmp_path):
    """`self.a @ self.v` multiplies two activations: the fix an affine layer's dx gets (`dout @ W.T`) would be
    a guess, and a wrong one; the finding says what is wrong without it."""
    returned = "return dq @ self.Wq.T + dk @ self.Wk.T + dv @ self.Wv.T"
    path = planted(tmp_path, "attention.py", LAYER, returned, "return dq @ self.Wq.T + dk @ self.Wk.T")
    report = check(path)
    (error,) = errors(report)
    assert error["param"] == "x" and error["line"] == line_of(path, "return dq @ self.Wq.T + dk @ self.Wk.T")
    assert "self.v" not in (error["fix"] or "") and "self.v.T" not in error["message"]
