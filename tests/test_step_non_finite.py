"""A script whose loss is NaN or infinite is traced to the line that first made it.

Every gradient of such a program can be right; what breaks it is arithmetic: `log` of a sigmoid
that saturated to exactly 0 or 1, `exp` of raw scores without the row maximum subtracted. The
replay runs the program's own loop while NumPy reports each overflow, division by zero and
invalid value, and names the first one made on a line of the user's file (an overflow or a
division by zero ahead of the NaN it causes later).
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SATURATED_LOG = '''\
import numpy as np

np.random.seed(0)
X = np.random.rand(2, 64) * 40 - 20          # raw features, never scaled
Y = (X[0:1] > 0).astype(float)
W = np.random.randn(1, 2) * 5
b = np.zeros((1, 1))
lr = 0.5
for i in range(200):
    Z = W @ X + b
    A = 1 / (1 + np.exp(-Z))
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ = A - Y
    dW = dZ @ X.T / X.shape[1]
    db = np.sum(dZ, axis=1, keepdims=True) / X.shape[1]
    W -= lr * dW
    b -= lr * db
    if i % 50 == 0:
        print(i, cost)
'''

UNSHIFTED_SOFTMAX = '''\
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(50, 4)) * 300.0
y = rng.integers(0, 3, 50)
W = rng.normal(size=(4, 3))
b = np.zeros(3)
learning_rate = 1e-3
for epoch in range(100):
    scores = X @ W + b
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(50), y]))
    dscores = probs.copy()
    dscores[np.arange(50), y] -= 1
    dscores /= 50
    dW = X.T @ dscores
    db = dscores.sum(axis=0)
    W -= learning_rate * dW
    b -= learning_rate * db
'''


def _non_finite(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD610"]


def test_log_of_a_saturated_sigmoid_is_named_at_its_line(tmp_path):
    path = write(tmp_path, "logistic.py", SATURATED_LOG)
    report = check(path, training=True)
    (finding,) = _non_finite(report)
    assert finding["line"] == line_of(path, "cost = -np.mean(Y * np.log(A)")
    assert "divide by zero" in finding["message"] and "before any update" in finding["message"]
    assert report["root_cause"] == report["findings"].index(finding)
    assert "BPD007" not in {f["code"] for f in report["findings"]}  # the program was not left unchecked


def test_the_same_program_with_its_probabilities_clipped_is_clean(tmp_path):
    path = planted(
        tmp_path, "logistic.py", SATURATED_LOG,
        "A = 1 / (1 + np.exp(-Z))", "A = np.clip(1 / (1 + np.exp(-Z)), 1e-12, 1 - 1e-12)",
    )
    report = check(path, training=True)
    assert errors(report) == [] and _non_finite(report) == []


def test_exp_of_unshifted_scores_is_named_as_the_overflow_not_the_division_after_it(tmp_path):
    path = write(tmp_path, "softmax_script.py", UNSHIFTED_SOFTMAX)
    report = check(path, training=True)
    (finding,) = _non_finite(report)
    assert finding["line"] == line_of(path, "exp_scores = np.exp(scores)")
    assert "overflow" in finding["message"]


def test_the_softmax_script_with_the_maximum_subtracted_is_clean(tmp_path):
    text = UNSHIFTED_SOFTMAX.replace("* 300.0", "* 3.0")
    path = planted(
        tmp_path, "softmax_script.py", text,
        "exp_scores = np.exp(scores)", "exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))",
    )
    report = check(path, training=True)
    assert errors(report) == [] and _non_finite(report) == []


def test_the_line_is_found_without_the_training_probe_too(tmp_path):
    path = write(tmp_path, "logistic.py", SATURATED_LOG)
    (finding,) = _non_finite(check(path))
    assert finding["line"] == line_of(path, "np.log(A)")
