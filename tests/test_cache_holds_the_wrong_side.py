"""cs231n-style layer function pairs whose forward caches the activation's input (`cache = x`) while
the backward computes the derivative from the cache as if it held the output (`1 - t ** 2`): the
verdict names the forward's cache line, with the words that say which side the cache holds."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def dense_forward(x, w, b):
    out = x @ w + b
    return out, (x, w)


def dense_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def tanh_forward(x):
    y = np.tanh(x)
    cache = y
    return y, cache


def tanh_backward(dout, cache):
    t = cache
    dx = dout * (1 - t ** 2)
    return dx


def mse_loss(pred, target):
    n = pred.shape[0]
    diff = pred - target
    return 0.5 * np.sum(diff ** 2) / n, diff / n


def net_loss(model, X, Y):
    z, c1 = dense_forward(X, model["W1"], model["b1"])
    h, c2 = tanh_forward(z)
    pred, c3 = dense_forward(h, model["W2"], model["b2"])
    loss, dpred = mse_loss(pred, Y)
    grads = {}
    dh, grads["W2"], grads["b2"] = dense_backward(dpred, c3)
    dz = tanh_backward(dh, c2)
    _, grads["W1"], grads["b1"] = dense_backward(dz, c1)
    return loss, grads


rng = np.random.RandomState(11)
X = rng.randn(64, 5)
Y = np.sin(X[:, :2]) + 0.1 * X[:, 2:4]
model = {
    "W1": rng.randn(5, 16) * 0.4,
    "b1": np.zeros(16),
    "W2": rng.randn(16, 2) * 0.4,
    "b2": np.zeros(2),
}
for step in range(300):
    loss, grads = net_loss(model, X, Y)
    for name in model:
        model[name] -= 0.2 * grads[name]
    if step % 50 == 0:
        print(step, loss)
'''

RIGHT = "    cache = y\n"
INPUT = "    cache = x\n"


def test_a_tanh_pair_that_caches_its_output_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "tanh_pairs.py", PROGRAM, RIGHT, RIGHT))) == []


def test_a_tanh_pair_that_caches_its_input_is_named_at_the_cache(tmp_path):
    path = planted(tmp_path, "tanh_pairs.py", PROGRAM, RIGHT, INPUT)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    line = line_of(path, "cache = x")
    assert (root["code"], root["line"], root["pattern"]) == ("BPD108", line, "cache-wrong-side")
    verdict = " ".join(report["verdict"].split())
    assert verdict.index(f"(line {line})") < verdict.index(f"(line {line_of(path, 'dz = tanh_backward')})")
    assert "the cache holds the input where the backward expects the output" in verdict
    assert verdict.endswith(f"cache `y` in `tanh_forward` instead of `x` (line {line}).")
    pair = next(f for f in errors(report) if f["code"] == "BPD101" and f["layer"].startswith("tanh"))
    assert (pair["line"], pair["pattern"]) == (line, "cache-wrong-side")
