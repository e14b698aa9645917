"""Course code of the NumPy 1 years indexes with a list of index arrays (`coef[[y, np.arange(N)]]`),
which NumPy read as one array per axis until 1.23 and reads as one index array on the first axis
since. When such a line raises, the report says so and gives the tuple index that means what the
code meant."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SVM = '''\
import numpy as np


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    scores = W.dot(X)
    margins = scores - scores[y, np.arange(N)] + 1
    active = margins > 0
    loss = np.sum(margins * active) / N - 1.0 + 0.5 * reg * np.sum(W * W)
    coef = active * 1.0
    coef[y, np.arange(N)] = -(np.sum(active, axis=0) - 1)
    dW = coef.dot(X.T) / N + reg * W
    return loss, dW


np.random.seed(0)
W = 0.01 * np.random.randn(3, 5)
X = np.random.randn(5, 7)
y = np.random.randint(0, 3, 7)
loss, dW = svm_loss_vectorized(W, X, y, 0.1)
print(loss, dW.shape)
'''

TUPLE = "coef[y, np.arange(N)] = "
LISTED = "coef[[y, np.arange(N)]] = "


def test_the_tuple_index_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "svm.py", SVM))) == []


def test_a_list_of_index_arrays_that_raises_is_explained_with_the_tuple_to_write(tmp_path):
    path = planted(tmp_path, "svm.py", SVM, TUPLE, LISTED)
    found = errors(check(path))
    (finding,) = [f for f in found if f["pattern"] == "list-of-index-arrays"]
    assert finding["line"] == line_of(path, LISTED)
    assert finding["fix"] == "coef[y, np.arange(N)]"
    assert "NumPy before 1.23 read as one array per axis" in finding["message"]
    assert finding["name"] in ("layer-raised", "program-stopped")
