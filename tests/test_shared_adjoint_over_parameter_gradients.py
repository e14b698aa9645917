"""When the walk's first wrong "adjoint" is one parameter's own gradient (`dW1`, paired with the
`W1` a function unpacks from its parameters) and another parameter's gradient is wrong at another
line without being computed from it, the two share an earlier cause: the report names the adjoint
both are computed from (`dz`), not the first of them.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

# 回归网络: 返回损失和梯度字典
def loss_and_grads(P, X, y):
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    loss = 0.5 * np.mean((out[:, 0] - y) ** 2)
    dout = (out - y[:, None]) / n
    G = {}
    dW2 = h.T @ dout
    G["W2"] = dW2
    G["b2"] = dout.sum(axis=0)
    dz = (dout @ W2.T) * (1 - h ** 2)
    dW1 = X.T @ dz
    G["W1"] = dW1
    G["b1"] = dz.sum(axis=0)
    return loss, G


rng = np.random.default_rng(11)
X = rng.normal(size=(64, 3))
y = X[:, 0] - 0.5 * X[:, 1] * X[:, 2]
P = {"W1": rng.normal(scale=0.5, size=(3, 8)), "b1": np.zeros(8),
     "W2": rng.normal(scale=0.5, size=(8, 1)), "b2": np.zeros(1)}
for step in range(300):
    loss, G = loss_and_grads(P, X, y)
    for key in P:
        P[key] -= 0.1 * G[key]
    if step % 100 == 0:
        print(step, loss)
'''

SLOPE = "    dz = (dout @ W2.T) * (1 - h ** 2)\n"


def test_two_wrong_gradients_are_traced_to_the_adjoint_they_share(tmp_path):
    path = planted(tmp_path, "slope.py", PROGRAM, SLOPE, "    dz = (dout @ W2.T) * (1 - h)\n")
    first = errors(check(path))[0]
    assert first["code"] == "BPD108"
    assert first["line"] == line_of(path, "dz = (dout @ W2.T) * (1 - h)")
    assert "`dz`" in first["message"]


def test_one_wrong_gradient_is_still_named_at_its_own_line(tmp_path):
    path = planted(tmp_path, "weights.py", PROGRAM, "    dW1 = X.T @ dz\n", "    dW1 = X.T @ dz[::-1]\n")
    first = errors(check(path))[0]
    assert first["line"] == line_of(path, "dW1 = X.T @ dz[::-1]")


def test_the_correct_program_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "ok.py", PROGRAM, SLOPE, SLOPE))) == []
