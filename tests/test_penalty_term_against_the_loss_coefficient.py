"""A gradient's L2 term `lam * W` beside a loss whose penalty is averaged over the samples
(`lam / (2 * m) * Σ W²`, whose gradient is `(lam / m) * W`) is a wrong gradient, an error named at the
term's line, and the message gives the coefficient the loss asks for (`lam / m`). Before, the loss's own
pull on the weight was so small a share of the term's (1/m) that the update was taken for weight decay
the loss leaves out (a warning at the update: "an L2 penalty that J leaves out"), though the loss holds
that penalty.

Two styles: a function that returns the cost and the gradients, the coefficient written `lam / (2 * m)`
and the term added inside a sum; and a training loop at module level whose cost writes
`(lmbda / (2 * n)) * (np.sum(np.square(W1)) + ...)`, the term added on its own line. Correct twins are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

FUNCTION = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.standard_normal((120, 2))
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 0] > 1).astype(int)
m = X.shape[0]
Y = np.eye(3)[y]
W1 = 0.5 * rng.standard_normal((2, 8))
b1 = np.zeros((1, 8))
W2 = 0.5 * rng.standard_normal((8, 3))
b2 = np.zeros((1, 3))
lam = 0.1


def cost_and_grads(W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    A1 = np.maximum(0, Z1)
    Z2 = A1 @ W2 + b2
    Z2 = Z2 - Z2.max(axis=1, keepdims=True)
    P = np.exp(Z2) / np.exp(Z2).sum(axis=1, keepdims=True)
    J = -np.sum(Y * np.log(P)) / m + lam / (2 * m) * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dZ2 = (P - Y) / m
    dW2 = A1.T @ dZ2 + (lam / m) * W2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    dW1 = X.T @ dZ1 + (lam / m) * W1
    db1 = dZ1.sum(axis=0, keepdims=True)
    return J, (dW1, db1, dW2, db2)


for it in range(100):
    J, (dW1, db1, dW2, db2) = cost_and_grads(W1, b1, W2, b2)
    W1 -= 0.5 * dW1
    b1 -= 0.5 * db1
    W2 -= 0.5 * dW2
    b2 -= 0.5 * db2
print(J)
'''

FUNCTION_TERM = "dW2 = A1.T @ dZ2 + (lam / m) * W2"
FUNCTION_WRONG = "dW2 = A1.T @ dZ2 + lam * W2"

LOOP = '''\
import numpy as np

rng = np.random.default_rng(8)
X = rng.uniform(-1, 1, size=(80, 3))
T = np.tanh(X @ np.array([[1.0], [-2.0], [0.5]]))
n = len(X)
lmbda = 0.5
W1 = 0.4 * rng.normal(size=(3, 6))
W2 = 0.4 * rng.normal(size=(6, 1))
for epoch in range(150):
    H = np.tanh(X @ W1)
    out = H @ W2
    err = out - T
    cost = 0.5 * np.sum(err ** 2) / n + (lmbda / (2 * n)) * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
    dout = err / n
    dW2 = H.T @ dout
    dW2 += (lmbda / n) * W2
    dH = (dout @ W2.T) * (1 - H ** 2)
    dW1 = X.T @ dH
    dW1 += (lmbda / n) * W1
    W1 -= 0.2 * dW1
    W2 -= 0.2 * dW2
print(cost)
'''

LOOP_TERM = "dW1 += (lmbda / n) * W1"
LOOP_WRONG = "dW1 += lmbda * W1"


def _factor_finding(report: dict) -> dict:
    found = [f for f in errors(report) if f["pattern"] == "penalty-factor"]
    assert len(found) == 1, report["findings"]
    assert not [f for f in report["findings"] if f["code"] == "BPD109"], report["findings"]
    assert report["findings"][report["root_cause"]] == found[0]
    return found[0]


def test_the_correct_function_is_clean(tmp_path):
    assert check(planted(tmp_path, "net.py", FUNCTION, FUNCTION_TERM, FUNCTION_TERM))["findings"] == []


def test_a_term_without_the_loss_s_average_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", FUNCTION, FUNCTION_TERM, FUNCTION_WRONG)
    finding = _factor_finding(check(path))
    assert finding["line"] == line_of(path, FUNCTION_WRONG)
    assert "the coefficient should be `lam / m`" in finding["message"]
    assert "leaves out" not in finding["message"]


def test_the_correct_loop_is_clean(tmp_path):
    assert check(planted(tmp_path, "loop.py", LOOP, LOOP_TERM, LOOP_TERM))["findings"] == []


def test_a_term_added_on_its_own_line_in_a_loop_is_named_there(tmp_path):
    path = planted(tmp_path, "loop.py", LOOP, LOOP_TERM, LOOP_WRONG)
    finding = _factor_finding(check(path))
    assert finding["line"] == line_of(path, LOOP_WRONG)
    assert "the coefficient should be `lmbda / n`" in finding["message"]
