"""Gradients handed back in a list and applied over `zip(params, grads)`: the replay cannot trace an
update to the statement that forms its gradient, so a wrong one was named at the update (or at a
statement between the last right gradient and it). The one statement that forms the parameter's
gradient by its name (`dWh += ...`, `dW2 = ...`, not its `np.zeros_like` start) is where it goes wrong.
And a backward loop over time that assigns the same name (`da`) as another backward loop is paired
only with the series it reads itself (a bidirectional RNN's `hf` and `hb`)."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

LISTED = """
import numpy as np

rng = np.random.default_rng(9)
X = rng.normal(size=(90, 4))
Y = (np.sin(X[:, :1]) + X[:, 1:2] ** 2 > 0.5).astype(float)
W1 = rng.normal(scale=0.5, size=(4, 10))
b1 = np.zeros(10)
W2 = rng.normal(scale=0.5, size=(10, 1))
b2 = np.zeros(1)


def forward(X):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0.0)
    logits = a1 @ W2 + b2
    return z1, a1, 1.0 / (1.0 + np.exp(-logits))


def backward(X, Y, z1, a1, prob):
    dlog = (prob - Y) / len(X)
    dW2 = a1.T @ dlog
    db2 = dlog.sum(axis=0)
    da1 = dlog @ W2.T
    dz1 = da1 * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return [dW1, db1, dW2, db2]


for epoch in range(200):
    z1, a1, prob = forward(X)
    loss = -np.mean(Y * np.log(prob + 1e-12) + (1 - Y) * np.log(1 - prob + 1e-12))
    grads = backward(X, Y, z1, a1, prob)
    for param, grad in zip([W1, b1, W2, b2], grads):
        param -= 0.5 * grad
"""

BIAS = "    db1 = dz1.sum(axis=0)"
BIAS_WRONG = "    db1 = dz1.sum(axis=0) + dz1.mean(axis=0)"

TWO_WAYS = """
import numpy as np

rng = np.random.default_rng(5)
T, B, D, H = 6, 12, 3, 5
X = rng.normal(size=(T, B, D))
y = (X[0, :, :1] * X[-1, :, 1:2] > 0).astype(float)
Uf = rng.normal(scale=0.4, size=(D, H))
Vf = rng.normal(scale=0.4, size=(H, H))
Ub = rng.normal(scale=0.4, size=(D, H))
Vb = rng.normal(scale=0.4, size=(H, H))
Wo = rng.normal(scale=0.4, size=(2 * H, 1))


def run(X):
    fwd = np.zeros((T + 1, B, H))
    bwd = np.zeros((T + 1, B, H))
    for t in range(T):
        fwd[t + 1] = np.tanh(X[t] @ Uf + fwd[t] @ Vf)
    for t in reversed(range(T)):
        bwd[t] = np.tanh(X[t] @ Ub + bwd[t + 1] @ Vb)
    both = np.concatenate([fwd[T], bwd[0]], axis=1)
    return fwd, bwd, both, both @ Wo


def backprop(X, y, fwd, bwd, both, out):
    dout = (out - y) / B
    dWo = both.T @ dout
    dboth = dout @ Wo.T
    dUf, dVf, dUb, dVb = np.zeros_like(Uf), np.zeros_like(Vf), np.zeros_like(Ub), np.zeros_like(Vb)
    carry = dboth[:, :H]
    for t in reversed(range(T)):
        da = carry * (1 - fwd[t + 1] ** 2)
        dUf += X[t].T @ da
        dVf += fwd[t].T @ da
        carry = da @ Vf.T
    carry = dboth[:, H:]
    for t in range(T):
        da = carry * (1 - bwd[t] ** 2)
        dUb += X[t].T @ da
        dVb += bwd[t + 1].T @ da
        carry = da @ Vb.T
    return [dUf, dVf, dUb, dVb, dWo]


for epoch in range(100):
    fwd, bwd, both, out = run(X)
    loss = 0.5 * np.mean((out - y) ** 2)
    grads = backprop(X, y, fwd, bwd, both, out)
    for param, grad in zip([Uf, Vf, Ub, Vb, Wo], grads):
        param -= 0.3 * grad
"""

STEP_BACK = "        dVb += bwd[t + 1].T @ da"
STEP_BACK_WRONG = "        dVb += bwd[t].T @ da"


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "listed.py", LISTED, BIAS, BIAS))) == []
    assert errors(check(planted(tmp_path, "two_ways.py", TWO_WAYS, STEP_BACK, STEP_BACK))) == []


def test_a_gradient_returned_in_a_list_is_named_where_it_is_formed(tmp_path: Path) -> None:
    path = planted(tmp_path, "listed.py", LISTED, BIAS, BIAS_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and found[0]["line"] == line_of(path, BIAS_WRONG.strip()), found


def test_a_state_one_step_off_in_the_second_backward_loop_is_named_at_its_sum(tmp_path: Path) -> None:
    path = planted(tmp_path, "two_ways.py", TWO_WAYS, STEP_BACK, STEP_BACK_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and found[0]["line"] == line_of(path, STEP_BACK_WRONG.strip()), found
