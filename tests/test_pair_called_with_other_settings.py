"""A forward/backward pair the program calls with other settings at a second site (a convolution at
dilation 1, then 2; a pooling at stride 1, then 2) is checked at each: a backward that drops the
setting is right where it is 1 and wrong elsewhere, so the first call alone says nothing.

Two styles: cs231n-like `*_forward`/`*_backward` pairs with a positional setting and a loss function
over a params dict, and a pair taking a `pool_param` dict in a flat training script.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

DILATED = '''\
import numpy as np


def causal_conv_forward(x, w, dilation):
    """x: (N, C, T), w: (F, C, K): out[:, :, t] = sum_k x[:, :, t + dilation * k] @ w[:, :, k].T"""
    N, C, T = x.shape
    F, _, K = w.shape
    length = T - dilation * (K - 1)
    out = np.zeros((N, F, length))
    for t in range(length):
        for k in range(K):
            out[:, :, t] += x[:, :, t + dilation * k] @ w[:, :, k].T
    return out, (x, w, dilation)


def causal_conv_backward(dout, cache):
    x, w, dilation = cache
    F, C, K = w.shape
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for t in range(dout.shape[2]):
        for k in range(K):
            dw[:, :, k] += dout[:, :, t].T @ x[:, :, t + dilation * k]
            dx[:, :, t + dilation * k] += dout[:, :, t] @ w[:, :, k]
    return dx, dw


def tanh_forward(x):
    y = np.tanh(x)
    return y, y


def tanh_backward(dout, y):
    return dout * (1 - y ** 2)


def loss_and_grads(p, x, y):
    h1, c1 = causal_conv_forward(x, p["w1"], 1)
    a1, t1 = tanh_forward(h1)
    h2, c2 = causal_conv_forward(a1, p["w2"], 2)
    a2, t2 = tanh_forward(h2)
    score = a2.mean(axis=(1, 2))
    loss = 0.5 * np.mean((score - y) ** 2)
    dscore = (score - y) / len(y)
    da2 = np.repeat(dscore[:, None, None] / (a2.shape[1] * a2.shape[2]), a2.shape[1], axis=1)
    da2 = np.repeat(da2, a2.shape[2], axis=2)
    dh2 = tanh_backward(da2, t2)
    da1, dw2 = causal_conv_backward(dh2, c2)
    dh1 = tanh_backward(da1, t1)
    _, dw1 = causal_conv_backward(dh1, c1)
    return loss, {"w1": dw1, "w2": dw2}


rng = np.random.default_rng(0)
X = rng.normal(size=(24, 2, 16))
Y = X[:, 0, :].mean(axis=1)
params = {"w1": 0.3 * rng.normal(size=(4, 2, 3)), "w2": 0.3 * rng.normal(size=(3, 4, 3))}
for step in range(60):
    loss, grads = loss_and_grads(params, X, Y)
    for k in params:
        params[k] -= 0.5 * grads[k]
    if step % 20 == 0:
        print(step, loss)
'''

POOLED = '''\
import numpy as np


def avg_pool_forward(x, pool_param):
    size, stride = pool_param["size"], pool_param["stride"]
    N, T = x.shape
    length = (T - size) // stride + 1
    out = np.empty((N, length))
    for i in range(length):
        out[:, i] = x[:, i * stride:i * stride + size].mean(axis=1)
    return out, (x.shape, pool_param)


def avg_pool_backward(dout, cache):
    shape, pool_param = cache
    size, stride = pool_param["size"], pool_param["stride"]
    dx = np.zeros(shape)
    for i in range(dout.shape[1]):
        dx[:, i * stride:i * stride + size] += dout[:, [i]] / size
    return dx


rng = np.random.default_rng(1)
X = rng.normal(size=(40, 20))
y = (X[:, :10].sum(axis=1) > 0).astype(float)
W = 0.1 * rng.normal(size=(20, 20))
v = 0.1 * rng.normal(size=4)
for step in range(100):
    h = np.maximum(X @ W, 0)
    p1, c1 = avg_pool_forward(h, {"size": 3, "stride": 1})
    p2, c2 = avg_pool_forward(p1, {"size": 3, "stride": 5})
    z = p2 @ v
    prob = 1 / (1 + np.exp(-z))
    loss = -np.mean(y * np.log(prob + 1e-12) + (1 - y) * np.log(1 - prob + 1e-12))
    dz = (prob - y) / len(y)
    dv = p2.T @ dz
    dp1 = avg_pool_backward(np.outer(dz, v), c2)
    dh = avg_pool_backward(dp1, c1) * (h > 0)
    dW = X.T @ dh
    W -= 1.0 * dW
    v -= 1.0 * dv
    if step % 25 == 0:
        print(step, loss)
'''


def _pair_errors(report: dict, layer: str) -> list[dict]:
    return [f for f in errors(report) if f["layer"] and f["layer"].startswith(layer)]


def test_a_dilation_dropped_in_backward_is_found_at_the_second_call(tmp_path):
    path = planted(tmp_path, "dilated.py", DILATED,
                   "dw[:, :, k] += dout[:, :, t].T @ x[:, :, t + dilation * k]", "dw[:, :, k] += dout[:, :, t].T @ x[:, :, t + k]")  # fmt: skip
    report = check(path)
    found = _pair_errors(report, "causal_conv")
    assert found and {f["param"] for f in found} == {"w"}
    assert found[0]["line"] == line_of(path, "dw[:, :, k] += dout[:, :, t].T @ x[:, :, t + k]")
    lines = {b["how"] for b in report["built"] if b["what"].startswith("causal_conv_forward")}
    assert any(str(line_of(path, 'p["w2"], 2)')) in how for how in lines), lines


def test_the_correct_dilated_pair_is_clean_at_both_settings(tmp_path):
    report = check(write(tmp_path, "dilated.py", DILATED))
    assert errors(report) == []
    checked = [b["line"] for b in report["built"] if b["what"].startswith("causal_conv_forward") and b["skipped"] is None]
    assert len(checked) == 2  # the call at dilation 1 and the one at dilation 2
    rows = [m for m in report["measurements"] if m["layer"] == "causal_conv"]
    assert rows and all(m["verdict"] == "ok" for m in rows)


def test_a_stride_dropped_in_backward_is_found_at_the_strided_call(tmp_path):
    path = planted(tmp_path, "pooled.py", POOLED,
                   "dx[:, i * stride:i * stride + size] += dout[:, [i]] / size", "dx[:, i:i + size] += dout[:, [i]] / size")  # fmt: skip
    found = _pair_errors(check(path), "avg_pool")
    assert found and found[0]["param"] == "x"
    assert found[0]["line"] == line_of(path, "dx[:, i:i + size] += dout[:, [i]] / size")


def test_the_correct_pooling_pair_is_clean(tmp_path):
    report = check(write(tmp_path, "pooled.py", POOLED))
    assert errors(report) == []
