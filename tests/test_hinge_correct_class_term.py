"""cs231n's `svm_loss_naive` whose loop adds `X[i]` to each violating class's gradient column and
forgets to take it from the correct class's: the missing term is named at the line it belongs beside."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def svm_loss_naive(W, X, y, reg):
    """Structured SVM loss, naive implementation (with loops)."""
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(100, 8)
    y = np.random.randint(4, size=100)
    W = np.random.randn(8, 4) * 0.001
    for it in range(100):
        loss, grad = svm_loss_naive(W, X, y, 1e-3)
        W -= 0.05 * grad
        if it % 20 == 0:
            print(it, loss)
'''

TERM = "                dW[:, y[i]] -= X[i]\n"


def test_the_full_hinge_gradient_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "svm.py", PROGRAM, TERM, TERM))) == []


def test_the_correct_class_term_left_out_is_named(tmp_path):
    path = planted(tmp_path, "svm.py", PROGRAM, TERM, "")
    (found,) = errors(check(path))
    assert (found["param"], found["line"], found["pattern"]) == ("W", line_of(path, "dW[:, j] += X[i]"), "correct-class-term-left-out")
    assert found["message"].endswith("add `dW[:, y[i]] -= X[i]` beside it")


def test_the_correct_class_term_taken_for_every_class_is_found_where_some_margins_are_below_zero(tmp_path):
    """`dW[:, y[i]] -= X[i]` dedented out of `if margin > 0:` takes the term for every other class. At the
    program's start (W ≈ 0.001·randn) every margin is about 1 > 0 and the two agree; the loss function is
    checked at a ten times larger scale too, where some margins are below 0."""
    path = planted(tmp_path, "svm.py", PROGRAM, TERM, "            dW[:, y[i]] -= X[i]\n")
    found = [f for f in errors(check(path)) if f["code"] == "BPD101"]
    assert [(f["param"], f["layer"]) for f in found] == [("W", "svm_loss_naive")]
    built = {row["what"]: row for row in check(path)["built"]}
    assert "ten times larger" in built["svm_loss_naive"]["shapes"]
