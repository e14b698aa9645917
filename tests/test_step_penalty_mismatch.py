"""An L2 penalty in the update but not in the loss the program prints (weight decay): a warning
naming the parameter and λ, not a gradient error. In the loss but not in the update, it is one.

The program below is logistic regression in a rotated loop (its output recomputed after each
update), printing a cross-entropy without the penalty its update follows.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

DECAY = '''\
import numpy as np

rng = np.random.default_rng(5)
X = np.c_[np.ones(80), rng.normal(size=(80, 2))]
T = (X[:, 1] + X[:, 2] > 0).astype(float)
w = rng.normal(size=3)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cross_entropy(T, Y):
    return -np.sum(T * np.log(Y) + (1 - T) * np.log(1 - Y))


Y = sigmoid(X.dot(w))
for i in range(500):
    if i % 50 == 0:
        print(cross_entropy(T, Y))
    w += 0.01 * (X.T.dot(T - Y) - 0.1 * w)
    Y = sigmoid(X.dot(w))
'''

PENALISED_LOSS = DECAY.replace(
    "    return -np.sum(T * np.log(Y) + (1 - T) * np.log(1 - Y))\n",
    "    return -np.sum(T * np.log(Y) + (1 - T) * np.log(1 - Y)) + 0.1 / 2 * np.sum(w ** 2)\n",
)


def _penalty(report: dict) -> dict:
    (finding,) = [f for f in report["findings"] if f["name"] == "step-penalty-mismatch"]
    return finding


def test_a_decay_the_printed_loss_leaves_out_is_a_warning_with_its_lambda(tmp_path):
    path = write(tmp_path, "decay.py", DECAY)
    report = check(path)
    assert errors(report) == []
    finding = _penalty(report)
    assert (finding["code"], finding["severity"], finding["pattern"]) == ("BPD109", "warning", "penalty-only-in-gradient")
    assert finding["line"] == line_of(path, "w += 0.01")
    assert abs(finding["measured"] - 0.1) < 1e-6
    assert "plus 0.1 × `w`" in finding["message"] and "add 0.05 · Σ `w`²" in finding["message"]
    (parameter,) = replayed(report)["parameters"]
    assert (parameter["name"], parameter["wrong"]) == ("w", False)


def test_the_same_penalty_in_both_is_no_finding(tmp_path):
    report = check(write(tmp_path, "decay.py", PENALISED_LOSS))
    assert [f for f in report["findings"] if f["severity"] != "info"] == []


def test_a_penalty_only_in_the_loss_is_a_wrong_gradient_at_the_update(tmp_path):
    strong = PENALISED_LOSS.replace("+ 0.1 / 2 * np.sum(w ** 2)", "+ 2.0 / 2 * np.sum(w ** 2)")  # too large to pass for a scale
    path = planted(tmp_path, "decay.py", strong, "(X.T.dot(T - Y) - 0.1 * w)", "X.T.dot(T - Y)")
    report = check(path)
    assert not [f for f in report["findings"] if f["name"] == "step-penalty-mismatch"]
    (finding,) = errors(report)
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "w", line_of(path, "w += 0.01 * X.T.dot(T - Y)"))


def test_a_wrong_gradient_is_still_an_error_not_a_penalty(tmp_path):
    path = planted(tmp_path, "decay.py", PENALISED_LOSS, "(X.T.dot(T - Y) - 0.1 * w)", "(X.T.dot((T - Y) * Y) - 0.1 * w)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"]) == ("BPD108", "w")
