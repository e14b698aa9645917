"""An adjoint inside the function the training step calls is paired with its forward value the way
the step's own adjoints are: `dhidden` with `hidden_out` (a two-word name holding the adjoint's
stem) when no value is called `hidden`. The walk can then name the line that makes `dhidden`
wrong, and still clears a right `dhidden` when the wrong line is the one computing `dW1`.
"""

from __future__ import annotations

from tests.userfiles import errors, line_of, planted, replayed, check

PROGRAM = '''\
import numpy as np

# 二層ネットワーク: 損失と勾配を一度に返す
def loss_and_grads(P, X, y):
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    n = X.shape[0]
    hidden_out = np.maximum(0, X @ W1 + b1)
    scores = hidden_out @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), y]).mean()
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    G = {"W2": hidden_out.T @ dscores, "b2": dscores.sum(axis=0)}
    dhidden = dscores @ W2.T
    dhidden[hidden_out <= 0] = 0
    G["W1"] = X.T @ dhidden
    G["b1"] = dhidden.sum(axis=0)
    return loss, G


rng = np.random.default_rng(7)
X = rng.normal(size=(80, 6))
y = (X[:, 0] * X[:, 1] > 0).astype(int)
P = {"W1": rng.normal(scale=0.5, size=(6, 16)), "b1": np.zeros(16),
     "W2": rng.normal(scale=0.5, size=(16, 2)), "b2": np.zeros(2)}
for it in range(300):
    loss, G = loss_and_grads(P, X, y)
    for k in P:
        P[k] -= 0.2 * G[k]
    if it % 100 == 0:
        print(it, loss)
'''

MASK = "    dhidden[hidden_out <= 0] = 0\n"
WEIGHTS = '    G["W1"] = X.T @ dhidden\n'


def test_a_mask_read_from_the_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "mask.py", PROGRAM, MASK, "    dhidden[dhidden <= 0] = 0\n")
    report = check(path)
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["dhidden"]["wrong"] is True
    assert errors(report)[0]["line"] == line_of(path, "dhidden[dhidden <= 0]")
    assert "hidden_out" in errors(report)[0]["message"]


def test_a_right_adjoint_is_cleared_when_the_weights_line_is_wrong(tmp_path):
    path = planted(tmp_path, "weights.py", PROGRAM, WEIGHTS, '    G["W1"] = X.T @ dhidden[::-1]\n')
    report = check(path)
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["dhidden"]["wrong"] is False
    assert errors(report)[0]["line"] == line_of(path, 'G["W1"] = X.T @ dhidden[::-1]')


def test_the_correct_program_is_clean(tmp_path):
    path = planted(tmp_path, "ok.py", PROGRAM, MASK, MASK)
    assert errors(check(path)) == []
