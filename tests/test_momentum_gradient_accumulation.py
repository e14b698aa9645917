"""Momentum over an accumulated gradient: each pass adds its micro-batch's gradient to a sum, and once
every K passes (`if step % ACCUM == 0:`) a velocity takes that sum over K (`vel[k] = 0.9 * vel[k] - lr *
acc[k] / ACCUM`) and the parameter adds the velocity (`params[k] += vel[k]`). The velocity's fresh term
is read as the gradient sum it is (a divisor named `ACCUM` is no optimiser state), the update replayed
over its window of K passes, the correct twins clean, and a wrong micro-batch gradient named at the
line that computes it (through `acc[k] += g[k]`), not at the velocity. Two styles: a dict of parameters
with the gradients written inline into a dict, and one array per parameter with sums and velocities
of its own."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

DICTS = '''\
import numpy as np

rng = np.random.default_rng(1)
N, D, H, C = 192, 5, 10, 3
X = rng.normal(size=(N, D))
labels = rng.integers(0, C, N)
P = {"W1": rng.normal(size=(D, H)) * 0.3, "b1": np.zeros(H), "W2": rng.normal(size=(H, C)) * 0.3, "b2": np.zeros(C)}
acc = {k: np.zeros_like(v) for k, v in P.items()}
vel = {k: np.zeros_like(v) for k, v in P.items()}
ACCUM, BATCH, lr = 3, 16, 0.2
it = 0
for epoch in range(10):
    for s in range(0, N, BATCH):
        xb, yb = X[s:s + BATCH], labels[s:s + BATCH]
        a = np.maximum(0, xb @ P["W1"] + P["b1"])
        z = a @ P["W2"] + P["b2"]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(yb)), yb]))
        dz = p.copy()
        dz[np.arange(len(yb)), yb] -= 1
        dz /= len(yb)
        grads = {"W2": a.T @ dz, "b2": dz.sum(axis=0)}
        da = dz @ P["W2"].T * (a > 0)
        grads["W1"] = xb.T @ da
        grads["b1"] = da.sum(axis=0)
        for k in P:
            acc[k] += grads[k]
        it += 1
        if it % ACCUM == 0:
            for k in P:
                vel[k] = 0.9 * vel[k] - lr * acc[k] / ACCUM
                P[k] += vel[k]
                acc[k] = np.zeros_like(P[k])
    print(epoch, loss)
'''

ARRAYS = '''\
import numpy as np

np.random.seed(4)
X = np.random.randn(200, 3)
Y = np.sin(X @ np.array([[1.0], [-0.5], [0.3]]))
W1 = np.random.randn(3, 8) * 0.5
W2 = np.random.randn(8, 1) * 0.5
aW1, aW2 = np.zeros_like(W1), np.zeros_like(W2)
vW1, vW2 = np.zeros_like(W1), np.zeros_like(W2)
ACCUM, lr, beta = 4, 0.05, 0.9
for t in range(1, 101):
    rows = np.random.choice(200, 10, replace=False)
    xb, yb = X[rows], Y[rows]
    h = np.tanh(xb @ W1)
    out = h @ W2
    loss = 0.5 * np.mean((out - yb) ** 2)
    d_out = (out - yb) / len(xb)
    dW2 = h.T @ d_out
    dW1 = xb.T @ ((d_out @ W2.T) * (1 - h ** 2))
    aW1 += dW1
    aW2 += dW2
    if t % ACCUM == 0:
        vW1 = beta * vW1 - lr * aW1 / ACCUM
        vW2 = beta * vW2 - lr * aW2 / ACCUM
        W1 += vW1
        W2 += vW2
        aW1[:] = 0
        aW2[:] = 0
'''


def test_dict_momentum_over_accumulated_gradients_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "accumulate.py", DICTS))
    assert errors(report) == [], errors(report)
    assert replayed(report)["window"] == 3
    assert step_verdicts(report) == {"P['W1']": "ok", "P['b1']": "ok", "P['W2']": "ok", "P['b2']": "ok"}


def test_dict_momentum_doubled_micro_batch_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "accumulate.py", DICTS, 'grads["W1"] = xb.T @ da\n', 'grads["W1"] = xb.T @ da * 2\n')
    report = check(path)
    (finding,) = errors(report)
    assert finding["name"] == "step-gradient-mismatch", finding
    assert finding["line"] == line_of(path, 'grads["W1"] = xb.T @ da * 2'), finding
    assert "2 × the gradient" in finding["message"], finding["message"]
    verdicts = step_verdicts(report)
    assert verdicts["P['W1']"] == "mismatch" and verdicts["P['W2']"] == verdicts["P['b2']"] == "ok", verdicts


def test_dict_momentum_relu_mask_left_out_is_named_in_the_micro_batch_backward(tmp_path):
    path = planted(tmp_path, "accumulate.py", DICTS, 'da = dz @ P["W2"].T * (a > 0)\n', 'da = dz @ P["W2"].T\n')
    lines = {f["line"] for f in errors(check(path))}
    assert line_of(path, 'da = dz @ P["W2"].T') in lines, lines
    assert line_of(path, "vel[k] = 0.9 * vel[k]") not in lines, lines


def test_array_momentum_over_accumulated_gradients_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "accumulate.py", ARRAYS))
    assert errors(report) == [], errors(report)
    assert replayed(report)["window"] == 4
    assert step_verdicts(report) == {"W1": "ok", "W2": "ok"}


def test_array_momentum_wrong_tanh_slope_is_named_at_the_gradient_line(tmp_path):
    path = planted(tmp_path, "accumulate.py", ARRAYS, "* (1 - h ** 2))\n", "* (1 - h))\n")
    report = check(path)
    (finding,) = errors(report)
    assert finding["name"] == "step-gradient-mismatch", finding
    assert finding["line"] == line_of(path, "dW1 = xb.T @"), finding
    assert step_verdicts(report) == {"W1": "mismatch", "W2": "ok"}
