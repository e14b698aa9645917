"""A gradient line of a loop-written loss that reads the data by the wrong loop's index (`X[j]`, j the
class, where every other line reads `X[i]`, the sample): the wrong gradient is named at that line with
the index to write; the correct twins are clean."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

HINGE = """\
    import numpy as np

    def hinge_loss_loops(W, X, y, reg):
        grad = np.zeros(W.shape)
        total = 0.0
        for i in range(X.shape[0]):
            s = X[i] @ W
            for j in range(W.shape[1]):
                if j == y[i]:
                    continue
                m = s[j] - s[y[i]] + 1.0
                if m > 0:
                    total += m
                    grad[:, j] += X[i]
                    grad[:, y[i]] -= X[i]
        total = total / X.shape[0] + reg * np.sum(W * W)
        grad = grad / X.shape[0] + 2 * reg * W
        return total, grad

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 7))
    y = rng.integers(0, 4, 40)
    W = rng.standard_normal((7, 4)) * 0.01
    for it in range(100):
        loss, dW = hinge_loss_loops(W, X, y, 1e-3)
        W -= 0.1 * dW
"""

SOFTMAX = """\
    import numpy as np

    def softmax_loss_loops(W, X, y):
        dW = np.zeros_like(W)
        loss = 0.0
        N, C = X.shape[0], W.shape[1]
        for n in range(N):
            f = X[n].dot(W)
            f = f - f.max()
            p = np.exp(f) / np.sum(np.exp(f))
            loss -= np.log(p[y[n]])
            for c in range(C):
                dW[:, c] += (p[c] - (c == y[n])) * X[n]
        return loss / N, dW / N

    np.random.seed(1)
    X = np.random.randn(30, 6)
    y = np.random.randint(0, 5, 30)
    W = np.random.randn(6, 5) * 0.1
    for step in range(50):
        loss, dW = softmax_loss_loops(W, X, y)
        W -= 0.5 * dW
"""

CASES = [
    pytest.param(HINGE, "grad[:, j] += X[i]", "grad[:, j] += X[j]", id="multiclass-hinge"),
    pytest.param(SOFTMAX, "dW[:, c] += (p[c] - (c == y[n])) * X[n]", "dW[:, c] += (p[c] - (c == y[n])) * X[c]", id="softmax"),
]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_the_data_read_by_the_class_index_is_named_at_its_line(tmp_path, program, correct, wrong):
    path = planted(tmp_path, "loss.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["line"] == line_of(path, wrong), report["findings"]
    meant = correct.rsplit("X[", 1)[1].rstrip("]")
    assert f"write `X[{meant}]`" in head["message"], head["message"]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_read_by_the_sample_index_it_is_clean(tmp_path, program, correct, wrong):
    report = check(planted(tmp_path, "loss.py", program, correct, correct))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]
