"""Momentum written as two statements on one line: `vW1 = mu * vW1 - lr * dW1; W1 += vW1`.

The velocity's definition was looked for on the lines before the update's, so the one on the
update's own line was never found: no update was read, and a script that trains with momentum got
"nothing was checked" (BPD007). Statements on one line are now told apart by their columns. Two
styles: a script, and a function that steps parameters kept in a dict; correct twins are clean and
measured, and a wrong gradient is still named. Real CLI, in a subprocess."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

SCRIPT = '''\
import numpy as np

rs = np.random.RandomState(0)
X = rs.uniform(-1, 1, size=(300, 2))
Y = (np.sin(3 * X[:, 0]) - X[:, 0] * X[:, 1]).reshape(-1, 1)
W1 = rs.randn(2, 32) * 0.7
b1 = np.zeros(32)
W2 = rs.randn(32, 1) * 0.2
b2 = np.zeros(1)
vW1 = np.zeros_like(W1); vb1 = np.zeros_like(b1)
vW2 = np.zeros_like(W2); vb2 = np.zeros_like(b2)
lr, mom = 0.05, 0.9
for step in range(400):
    i = rs.randint(0, 300, 40)
    xb, yb = X[i], Y[i]
    h = np.maximum(0, xb @ W1 + b1)
    out = h @ W2 + b2
    err = out - yb
    loss = np.mean(err ** 2)
    dout = 2 * err / len(xb)
    dW2 = h.T @ dout; db2 = dout.sum(0)
    dh = dout @ W2.T
    dh[h <= 0] = 0
    dW1 = xb.T @ dh; db1 = dh.sum(0)
    vW1 = mom * vW1 - lr * dW1; W1 += vW1
    vb1 = mom * vb1 - lr * db1; b1 += vb1
    vW2 = mom * vW2 - lr * dW2; W2 += vW2
    vb2 = mom * vb2 - lr * db2; b2 += vb2
    if step % 100 == 0:
        print(step, loss)
'''

FUNCTION = '''\
import numpy as np


def sgd_momentum(params, grads, vel, lr=0.1, mu=0.8):
    for k in params:
        vel[k] = mu * vel[k] - lr * grads[k]; params[k] += vel[k]


def loss_and_grads(params, X, y):
    z = X @ params["w"] + params["c"]
    p = 1 / (1 + np.exp(-z))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz = (p - y) / len(y)
    return loss, {"w": X.T @ dz, "c": dz.sum()}


rng = np.random.default_rng(3)
X = rng.normal(size=(120, 5))
y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) > 0).astype(float)
params = {"w": np.zeros(5), "c": np.zeros(())}
vel = {k: np.zeros_like(v) for k, v in params.items()}
for it in range(200):
    loss, grads = loss_and_grads(params, X, y)
    sgd_momentum(params, grads, vel)
    if it % 50 == 0:
        print(it, loss)
'''


def test_a_script_with_velocity_and_update_on_one_line_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "momentum.py", SCRIPT), training=True)
    assert errors(report) == []
    assert step_verdicts(report) == {"W1": "ok", "b1": "ok", "W2": "ok", "b2": "ok"}


def test_a_script_with_velocity_on_one_line_still_names_a_wrong_gradient(tmp_path):
    path = planted(tmp_path, "momentum.py", SCRIPT, "dW1 = xb.T @ dh; db1 = dh.sum(0)", "dW1 = xb.T @ dh * 0.5; db1 = dh.sum(0)")
    report = check(path, training=True)
    assert step_verdicts(report)["W1"] != "ok"
    assert any(f["line"] == line_of(path, "dW1 = xb.T @ dh * 0.5") for f in errors(report)), errors(report)


def test_a_function_with_velocity_and_update_on_one_line_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "logistic.py", FUNCTION), training=True)
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert verdicts and set(verdicts.values()) == {"ok"}, verdicts


def test_a_function_with_velocity_on_one_line_names_a_wrong_bias_gradient(tmp_path):
    path = planted(tmp_path, "logistic.py", FUNCTION, '"c": dz.sum()', '"c": dz.mean()')
    report = check(path, training=True)
    assert any(v != "ok" for v in step_verdicts(report).values())
    assert errors(report)
