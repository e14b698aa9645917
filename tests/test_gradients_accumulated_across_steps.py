"""A gradient the step adds to (`dW1 += ...`) but that is zeroed only once, before the training loop:
from the second step on, each update moves by the sum of every gradient so far. The replay names
it as such, at the line that adds; the twin that zeroes it at the start of each step is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
y = (X @ np.array([[1.5], [-2.0], [0.7]]) > 0).astype(float)
W1 = rng.normal(size=(3, 16)) * 0.5
W2 = rng.normal(size=(16, 1)) * 0.5
lr = 0.5
for epoch in range(50):
    for i in range(0, 200, 20):
        xb, yb = X[i:i + 20], y[i:i + 20]
        dW1 = np.zeros_like(W1)
        dW2 = np.zeros_like(W2)
        a1 = np.tanh(xb @ W1)
        p = 1 / (1 + np.exp(-(a1 @ W2)))
        loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
        dz2 = (p - yb) / len(xb)
        dW2 += a1.T @ dz2
        dz1 = dz2 @ W2.T * (1 - a1 ** 2)
        dW1 += xb.T @ dz1
        W1 -= lr * dW1
        W2 -= lr * dW2
'''

ZEROED_IN_THE_STEP = "        dW1 = np.zeros_like(W1)\n        dW2 = np.zeros_like(W2)\n"
ZEROED_BEFORE = "W1 = rng.normal(size=(3, 16)) * 0.5\nW2 = rng.normal(size=(16, 1)) * 0.5\n"


def _never_reset(tmp_path):
    source = PROGRAM.replace(ZEROED_IN_THE_STEP, "").replace(ZEROED_BEFORE, ZEROED_BEFORE + "dW1 = np.zeros_like(W1)\ndW2 = np.zeros_like(W2)\n")
    return write(tmp_path, "accumulate.py", source)


def test_gradients_zeroed_at_the_start_of_each_step_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "accumulate.py", PROGRAM))) == []


def test_gradients_zeroed_only_before_the_loop_are_named_at_the_line_that_adds(tmp_path):
    path = _never_reset(tmp_path)
    found = {f["param"]: f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"}
    assert set(found) == {"W1", "W2"}
    assert {f["pattern"] for f in found.values()} == {"accumulated-across-steps"}
    assert found["W1"]["line"] == line_of(path, "dW1 += xb.T @ dz1")
    assert found["W2"]["line"] == line_of(path, "dW2 += a1.T @ dz2")
    message = found["W1"]["message"]
    assert f"set to zero only once, before the loop, at line {line_of(path, 'dW1 = np.zeros_like(W1)')}" in message
    assert "`dW1 = np.zeros_like(W1)` at the start of each step" in message


def test_a_gradient_that_is_wrong_anyway_is_not_called_accumulated(tmp_path):
    path = planted(tmp_path, "accumulate.py", PROGRAM, "        dW1 += xb.T @ dz1\n", "        dW1 += xb.T @ dz1 * 2\n")
    (found,) = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found["pattern"] == "factor-of-two" and found["param"] == "W1"
