"""Statements that add into an entry picked by several indices (`beta[t, i] += beta[t + 1, i] * p`).

A backward recursion (CTC's alpha/beta, an HMM's forward-backward) or a bookkeeping table written
beside a training loop adds into `name[i, j]`. Reading updates once took every subscript's index as
a single key, and the whole check stopped with an internal error (BPD006) before anything was
measured. Such a statement is not an update of a parameter by a key; the script's real training
step is checked, and the correct program stays clean. Real CLI, in a subprocess.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, step_verdicts, write

SCRIPT = '''
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
y = (X[:, 0] > 0).astype(int)
W = rng.normal(size=(4, 2)) * 0.1
b = np.zeros(2)
stats = np.zeros((3, 3))
table = np.zeros((5, 5))
for it in range(60):
    z = X @ W + b
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(32), y]).mean()
    dz = p.copy()
    dz[np.arange(32), y] -= 1
    dz /= 32
    dW = X.T @ dz
    db = dz.sum(axis=0)
    W[:, 0] -= 0.5 * dW[:, 0]
    W[:, 1] -= 0.5 * dW[:, 1]
    b[...] -= 0.5 * db
    stats[it % 3, 0] += 0.5 * loss
    beta = np.ones((4, 3))
    for t in range(2, -1, -1):
        for i in range(3):
            beta[t, i] += beta[t + 1, i] * p[t, i % 2]
    table[1:3, ::2] -= 2 * table[0:2, ::2]
    if it % 20 == 0:
        print(it, loss)
'''

# functions: a backward recursion kept as its own function, a network's step in another
FUNCTIONS = '''
import numpy as np


def backward_table(probs):
    T, S = probs.shape
    beta = np.zeros((T + 1, S))
    beta[T, :] = 1.0
    for t in range(T - 1, -1, -1):
        for s in range(S):
            beta[t, s] += beta[t + 1, s] * probs[t, s]
            if s + 1 < S:
                beta[t, s] += beta[t + 1, s + 1] * probs[t, s]
    return beta


def step(params, X, y, lr):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    loss = 0.5 * np.mean((out - y) ** 2)
    dout = (out - y) / len(X)
    grads = {"W2": h.T @ dout, "b2": dout.sum(axis=0)}
    dh = dout @ params["W2"].T * (1 - h ** 2)
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    for k in params:
        params[k] -= lr * grads[k]
    return loss


rng = np.random.default_rng(1)
X = rng.normal(size=(40, 3))
y = np.sin(X[:, :1])
params = {"W1": rng.normal(size=(3, 8)) * 0.5, "b1": np.zeros(8),
          "W2": rng.normal(size=(8, 1)) * 0.5, "b2": np.zeros(1)}
for epoch in range(100):
    loss = step(params, X, y, 0.1)
    table = backward_table(np.abs(np.tanh(X[:5])))
'''


def _no_internal_error(report: dict) -> None:
    codes = [f["code"] for f in report["findings"]]
    assert "BPD006" not in codes and "BPD009" not in codes, report["findings"]


def test_a_script_adding_into_two_index_entries_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "train_table.py", SCRIPT), training=True)
    _no_internal_error(report)
    assert errors(report) == []
    assert report["measurements"], "the script's softmax step was never measured"


def test_a_backward_recursion_beside_a_training_step_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "recursion.py", FUNCTIONS), training=True)
    _no_internal_error(report)
    assert errors(report) == []
    assert step_verdicts(report) == {f"params['{k}']": "ok" for k in ("W1", "b1", "W2", "b2")}


def test_the_same_recursion_still_lets_a_wrong_gradient_be_named(tmp_path):
    path = planted(tmp_path, "recursion_bug.py", FUNCTIONS, 'grads["W1"] = X.T @ dh', 'grads["W1"] = X.T @ dh * 2')
    report = check(path, training=True)
    _no_internal_error(report)
    assert step_verdicts(report)["params['W1']"] != "ok"
    assert any("W1" in f["message"] for f in errors(report)), errors(report)
