"""A backward function handed another array than the loss for the same parameter (`mse(out,
y_scaled)` beside `backward(cache, out, y)`): the wrong adjoint it computes is traced to the call
that hands the value, with the loss's argument as the fix."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = '''\
import numpy as np


def forward(p, x):
    h = np.maximum(0, x @ p["W1"] + p["b1"])
    return h @ p["W2"] + p["b2"], (x, h)


def mse(out, y_true):
    return np.mean((out - y_true) ** 2)


def backward(p, cache, out, y_true):
    x, h = cache
    dout = 2 * (out - y_true) / out.size
    dh = dout @ p["W2"].T * (h > 0)
    return {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dout, "b2": dout.sum(0)}


rng = np.random.RandomState(2)
x = rng.randn(200, 4)
y = 40 + 10 * np.sin(x[:, :1]) * x[:, 1:2]
y_scaled = (y - y.mean()) / y.std()
p = {"W1": rng.randn(4, 16) * 0.5, "b1": np.zeros(16), "W2": rng.randn(16, 1) * 0.3, "b2": np.zeros(1)}
for epoch in range(400):
    out, cache = forward(p, x)
    loss = mse(out, y_scaled)
    grads = backward(p, cache, out, y_scaled)
    for k in p:
        p[k] -= 0.05 * grads[k]
'''


def test_the_same_array_handed_to_both_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "fit.py", PROGRAM))) == []


def test_another_array_handed_to_the_backward_is_named_at_its_call(tmp_path):
    path = planted(tmp_path, "fit.py", PROGRAM, "grads = backward(p, cache, out, y_scaled)", "grads = backward(p, cache, out, y)")
    (finding,) = errors(check(path))
    assert (finding["pattern"], finding["line"]) == ("wrong-argument", line_of(path, "grads = backward("))
    assert "pass `y_scaled` as `y_true`" in finding["message"]
