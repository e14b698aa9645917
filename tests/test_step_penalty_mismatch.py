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


NAMED_DECAY = '''\
import numpy as np

rng = np.random.default_rng(6)
X = np.vstack([rng.normal(size=(100, 2)) + m for m in ([0, 3], [3, -2], [-3, -2])])
y = np.repeat(np.arange(3), 100)
W1 = rng.normal(size=(2, 16)) * 0.1
b1 = np.zeros(16)
W2 = rng.normal(size=(16, 3)) * 0.1
b2 = np.zeros(3)
lr = 0.1
weight_decay = 1e-4
N = len(X)
for epoch in range(300):
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    dW2 = h.T @ dscores
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dh[h <= 0] = 0
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    W1 -= lr * (dW1 + weight_decay * W1)
    b1 -= lr * db1
    W2 -= lr * (dW2 + weight_decay * W2)
    b2 -= lr * db2
'''


def test_a_named_decay_whose_pull_outweighs_the_loss_is_named_too_strong_where_it_is_set(tmp_path):
    # the same update with weight_decay = 5.0: its pull on the small weights is dozens of times the loss's own
    # gradient, so the steps shrink the weights towards 0 and the loss does not fall; named at the setting
    path = planted(tmp_path, "decay.py", NAMED_DECAY, "weight_decay = 1e-4", "weight_decay = 5.0")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["name"], finding["pattern"]) == ("step-penalty-mismatch", "decay-too-strong")
    assert finding["line"] == line_of(path, "weight_decay = 5.0") and finding["fix"] == "weight_decay = 1e-4"
    assert "`weight_decay` = 5" in finding["message"] and "`W1`, `W2`" in finding["message"] and finding["measured"] >= 10
    assert report["findings"][report["root_cause"]] == finding


def test_a_small_named_decay_is_no_error(tmp_path):
    report = check(write(tmp_path, "decay.py", NAMED_DECAY))
    assert errors(report) == []
