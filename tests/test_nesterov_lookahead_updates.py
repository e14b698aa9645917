"""Nesterov momentum in its look-ahead form (cs231n's notes: `prev = v; v = mu * v - lr * g;
x += -mu * prev + (1 + mu) * v`) moves each parameter by two velocities, the one before and the one
the gradient just went into. The update is read as the step of the training loop, its gradient the
one that went into the new velocity, so the loop is replayed and a wrong derivative found.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np


def nesterov_step(params, grads, vel, lr=0.05, mu=0.8):
    for k in params:
        prev = vel[k].copy()
        vel[k] = mu * vel[k] - lr * grads[k]
        params[k] += -mu * prev + (1 + mu) * vel[k]


def objective(params, X, y):
    a = np.maximum(0, X @ params["U"] + params["c"])
    out = a @ params["V"]
    loss = 0.5 * np.mean((out - y) ** 2)
    dout = (out - y) / len(X)
    da = dout @ params["V"].T
    da[a <= 0] = 0
    return loss, {"U": X.T @ da, "c": da.sum(axis=0), "V": a.T @ dout}


if __name__ == "__main__":
    rng = np.random.default_rng(12)
    X = rng.normal(size=(100, 4))
    y = np.abs(X[:, :1]) - X[:, 1:2]
    params = {"U": rng.normal(scale=0.5, size=(4, 16)), "c": np.zeros(16), "V": rng.normal(scale=0.5, size=(16, 1))}
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    for epoch in range(300):
        loss, grads = objective(params, X, y)
        nesterov_step(params, grads, vel)
        if epoch % 100 == 0:
            print(epoch, loss)
'''

MASK = "    da[a <= 0] = 0\n"


def test_the_look_ahead_update_is_replayed(tmp_path):
    report = check(planted(tmp_path, "ok.py", PROGRAM, MASK, MASK))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {"params['U']", "params['c']", "params['V']"}
    assert replayed(report)["loss"] == "loss"


def test_a_wrong_mask_under_nesterov_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "bug.py", PROGRAM, MASK, "    da[da <= 0] = 0\n")
    assert errors(check(path))[0]["line"] == line_of(path, "da[da <= 0] = 0")
