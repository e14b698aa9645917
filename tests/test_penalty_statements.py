"""A regulariser in the update: an L1 penalty's subgradient (`lam * np.sign(W)`), and a penalty
written as a statement of its own beside the gradient step (`W -= lr * lam * np.sign(W)` then
`W -= lr * dW`, or `W -= lr * lam * W`). Right when the loss holds the penalty; a warning naming
λ when the printed loss leaves it out; a wrong gradient stays an error at its line.

Two styles: a flat softmax-regression script, and a Nielsen-like two-layer network whose
per-sample gradients are summed over a mini-batch and whose biases take no penalty.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, write

SOFTMAX = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(120, 6))
true_w = rng.normal(size=(6, 3))
y = np.argmax(X @ true_w + 0.3 * rng.normal(size=(120, 3)), axis=1)
T = np.eye(3)[y]

W = 0.1 * rng.normal(size=(6, 3))
b = np.zeros(3)
lr, lam = 0.5, 0.01

for epoch in range(200):
    z = X @ W + b
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(T * np.log(p + 1e-12), axis=1))
    dz = (p - T) / len(X)
    dW = X.T @ dz
    db = dz.sum(axis=0)
    W -= lr * (dW + lam * np.sign(W))
    b -= lr * db
    if epoch % 50 == 0:
        print(epoch, loss)
'''

IN_LOSS = "    loss = -np.mean(np.sum(T * np.log(p + 1e-12), axis=1)) + lam * np.abs(W).sum()\n"
PLAIN_LOSS = "    loss = -np.mean(np.sum(T * np.log(p + 1e-12), axis=1))\n"
STEP = "    W -= lr * (dW + lam * np.sign(W))\n"
L1_APART = "    W -= lr * lam * np.sign(W)\n    W -= lr * dW\n"
L2_APART = "    W -= lr * lam * W\n    W -= lr * dW\n"

# a network of sigmoid units on column samples, gradients summed over a mini-batch, each weight
# matrix shrunk by its own L1 statement before its gradient step (the biases take none)
SUMMED = '''\
import numpy as np

rng = np.random.default_rng(7)
data = [(rng.normal(size=(4, 1)), np.eye(3)[:, [k % 3]]) for k in range(60)]
W1, b1 = rng.normal(size=(5, 4)) * 0.5, np.zeros((5, 1))
W2, b2 = rng.normal(size=(3, 5)) * 0.5, np.zeros((3, 1))
eta, lmbda, n = 0.5, 2.0, len(data)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


for epoch in range(30):
    cost = 0.0
    for k in range(0, n, 10):
        batch = data[k:k + 10]
        gW1, gb1 = np.zeros_like(W1), np.zeros_like(b1)
        gW2, gb2 = np.zeros_like(W2), np.zeros_like(b2)
        for x, y in batch:
            a1 = sigmoid(W1 @ x + b1)
            a2 = sigmoid(W2 @ a1 + b2)
            cost += 0.5 * float(np.sum((a2 - y) ** 2))
            d2 = (a2 - y) * a2 * (1 - a2)
            d1 = (W2.T @ d2) * a1 * (1 - a1)
            gW2 += d2 @ a1.T
            gb2 += d2
            gW1 += d1 @ x.T
            gb1 += d1
        W2 -= (eta * lmbda / n) * np.sign(W2)
        W1 -= (eta * lmbda / n) * np.sign(W1)
        W2 -= eta * gW2 / len(batch)
        W1 -= eta * gW1 / len(batch)
        b2 -= eta * gb2 / len(batch)
        b1 -= eta * gb1 / len(batch)
    print(epoch, cost / n)
'''


def _penalties(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-penalty-mismatch"]


@pytest.mark.parametrize("step", [STEP, L1_APART], ids=["inside", "apart"])
def test_an_l1_penalty_the_loss_holds_is_clean(tmp_path, step):
    path = write(tmp_path, "l1.py", SOFTMAX.replace(PLAIN_LOSS, IN_LOSS).replace(STEP, step))
    report = check(path, training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"W": False, "b": False}


@pytest.mark.parametrize("step", [STEP, L1_APART], ids=["inside", "apart"])
def test_an_l1_penalty_the_printed_loss_leaves_out_is_a_warning_with_its_lambda(tmp_path, step):
    path = write(tmp_path, "l1.py", SOFTMAX.replace(STEP, step))
    report = check(path, training=True)
    assert errors(report) == []
    (finding,) = _penalties(report)
    assert (finding["code"], finding["severity"], finding["param"]) == ("BPD109", "warning", "W")
    assert finding["line"] == line_of(path, "W -= lr * (dW" if step == STEP else "W -= lr * dW")
    assert abs(finding["measured"] - 0.01) < 1e-6
    assert "sign(`W`)" in finding["message"] and "L1 penalty" in finding["message"] and "Σ |`W`|" in finding["message"]


def test_weight_decay_in_a_statement_of_its_own_is_a_warning_not_a_wrong_gradient(tmp_path):
    path = write(tmp_path, "l2.py", SOFTMAX.replace(STEP, L2_APART))
    report = check(path, training=True)
    assert errors(report) == []
    (finding,) = _penalties(report)
    assert "L2 penalty" in finding["message"] and abs(finding["measured"] - 0.01) < 1e-6


def test_a_penalty_statement_that_pushes_the_weights_out_is_an_error_at_it(tmp_path):
    path = planted(tmp_path, "l1.py", SOFTMAX.replace(PLAIN_LOSS, IN_LOSS).replace(STEP, L1_APART),
                   "    W -= lr * lam * np.sign(W)\n", "    W += lr * lam * np.sign(W)\n")  # fmt: skip
    report = check(path, training=True)
    assert not _penalties(report)
    assert [f["code"] for f in errors(report)][:1] == ["BPD108"]
    assert {"W"} <= {f["param"] for f in errors(report)}


def test_a_wrong_gradient_beside_a_penalty_statement_is_still_an_error(tmp_path):
    path = planted(tmp_path, "l1.py", SOFTMAX.replace(PLAIN_LOSS, IN_LOSS).replace(STEP, L1_APART),
                   "    dW = X.T @ dz\n", "    dW = X.T @ (p - T)\n")  # fmt: skip
    report = check(path, training=True)
    assert not _penalties(report)
    found = errors(report)
    assert found and found[0]["param"] == "W"


def test_summed_mini_batch_with_l1_statements_is_clean_with_the_penalty_measured(tmp_path):
    # the program computes no loss it returns (a running `cost`): its loss is implied by the output
    # error, which watches no penalty, so the penalty is measured, not warned about
    report = check(write(tmp_path, "nielsen_l1.py", SUMMED), training=True)
    assert errors(report) == []
    decays = {p["name"]: p["decay"] for p in replayed(report)["parameters"]}
    assert decays["b1"] is None and decays["b2"] is None
    # λ / n in the loss's units: the steps are means over the batch of 10, the implied loss a sum
    assert all(abs(decays[w] - 2.0 / 60 * 10) < 1e-6 for w in ("W1", "W2")), decays


def test_summed_mini_batch_with_a_wrong_delta_is_not_clean(tmp_path):
    path = planted(tmp_path, "nielsen_l1.py", SUMMED, "d1 = (W2.T @ d2) * a1 * (1 - a1)", "d1 = (W2.T @ d2) * a1")
    report = check(path, training=True)
    assert [f["code"] for f in report["findings"] if f["severity"] != "info"][:1] == ["BPD108"]


def test_an_l1_term_added_where_the_gradient_is_formed_is_a_warning(tmp_path):
    text = SOFTMAX.replace("    dW = X.T @ dz\n", "    dW = X.T @ dz + lam * np.sign(W)\n").replace(STEP, "    W -= lr * dW\n")
    path = write(tmp_path, "l1.py", text)
    report = check(path, training=True)
    assert errors(report) == []
    (finding,) = _penalties(report)
    assert "L1 penalty" in finding["message"] and finding["line"] == line_of(path, "W -= lr * dW")


def test_a_constant_added_to_the_gradient_of_weights_of_one_sign_is_no_l1_penalty(tmp_path):
    # every weight positive: a constant added to the gradient is λ·sign(W) in value, but nothing
    # in the program takes a sign, so it is a wrong gradient
    text = SOFTMAX.replace("W = 0.1 * rng.normal(size=(6, 3))", "W = 0.1 * rng.random(size=(6, 3))").replace(STEP, "    W -= lr * dW\n")
    path = planted(tmp_path, "positive.py", text, "    dW = X.T @ dz\n", "    dW = X.T @ dz + 0.01\n")
    report = check(path, training=True)
    assert not _penalties(report)
    (finding,) = [f for f in errors(report) if f["param"] == "W"]
    assert (finding["code"], finding["line"]) == ("BPD108", line_of(path, "dW = X.T @ dz + 0.01"))
