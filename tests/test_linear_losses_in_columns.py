"""The 2015 cs231n linear losses keep one sample per column: `svm_loss_vectorized(W, X, y, reg)` with
W (C, D) and X (D, N). They are built that way when the row layout does not run, checked, and a
wrong gradient is found."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

SVM = '''\
import numpy as np


def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[1]
    scores = W.dot(X)
    correct = scores[y, np.arange(num_train)]
    margins = np.maximum(0, scores - correct + 1.0)
    margins[y, np.arange(num_train)] = 0
    loss = margins.sum() / num_train + 0.5 * reg * np.sum(W * W)
    mask = (margins > 0).astype(float)
    mask[y, np.arange(num_train)] = -mask.sum(axis=0)
    dW = mask.dot(X.T) / num_train + reg * W
    return loss, dW
'''


def test_a_column_layout_loss_is_built_and_clean(tmp_path):
    report = check(write(tmp_path, "linear_svm.py", SVM))
    assert errors(report) == []
    (built,) = report["built"]
    assert "one sample per column" in built["shapes"] and built["skipped"] is None


def test_a_wrong_gradient_of_it_is_found(tmp_path):
    path = planted(tmp_path, "linear_svm.py", SVM, "+ reg * W\n", "+ 2 * reg * W\n")
    assert any(f["name"] == "gradient-mismatch" and f["param"] == "W" for f in errors(check(path)))


NAIVE = '''

def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    num_classes, num_train = W.shape[0], X.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = W.dot(X[:, i])
        for j in range(num_classes):
            margin = scores[j] - scores[y[i]] + 1
            if j != y[i] and margin > 0:
                loss += margin
                dW[j] += X[:, i]
                dW[y[i]] -= X[:, i]
    return loss / num_train + 0.5 * reg * np.sum(W * W), dW / num_train + reg * W
'''


def test_a_vectorized_loss_that_raises_where_its_naive_twin_runs_is_an_error_at_its_line(tmp_path):
    """The naive version shows the file's layout; the vectorized one raising in that layout is the
    user's own error (a list index, `mask[[y, np.arange(n)]]`, that NumPy reads as one array), not a
    function "that does not return (loss, dW)" left silently unchecked."""
    from tests.userfiles import line_of

    assert errors(check(write(tmp_path, "linear_svm.py", SVM + NAIVE))) == []
    path = planted(tmp_path, "linear_svm.py", SVM + NAIVE, "mask[y, np.arange(num_train)] = -mask", "mask[[y, np.arange(num_train)]] = -mask")
    (finding,) = errors(check(path))
    assert (finding["name"], finding["layer"], finding["line"]) == ("layer-raised", "svm_loss_vectorized", line_of(path, "mask[[y, np.arange(num_train)]]"))
