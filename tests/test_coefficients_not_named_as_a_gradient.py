"""A loss-and-gradient function whose weight gradient is the input's product with an array built by several
in-place writes under a name that does not say it is a gradient (`coef`): `dW = X.T @ coef / n` of
`S = X @ W`. The replay pairs `coef` with `S` by that product, so a wrong write into it (the correct
class's column with the wrong sign) is named at its own line, not at the last line that writes `dW`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def hinge_objective(W, X, y, reg, delta=1.0):
    n = X.shape[0]
    rows = np.arange(n)
    S = X @ W
    slack = np.maximum(0.0, S - S[rows, y][:, None] + delta)
    slack[rows, y] = 0.0
    loss = slack.sum() / n + 0.5 * reg * np.sum(W * W)
    coef = (slack > 0).astype(float)
    coef[rows, y] = -coef.sum(axis=1)
    dW = X.T @ coef / n
    dW = dW + reg * W
    return loss, dW


gen = np.random.default_rng(5)
classes, features, count = 4, 6, 400
centres = gen.normal(0.0, 2.0, (classes, features))
y_all = gen.integers(0, classes, count)
X_all = np.hstack([centres[y_all] + gen.normal(size=(count, features)), np.ones((count, 1))])
W = 0.01 * gen.normal(size=(features + 1, classes))
for step in range(300):
    pick = gen.integers(0, count, 64)
    loss, dW = hinge_objective(W, X_all[pick], y_all[pick], 1e-3)
    W -= 0.01 * dW
    if step % 100 == 0:
        print(step, round(float(loss), 4))
'''

RIGHT = "    coef[rows, y] = -coef.sum(axis=1)\n"
WRONG = "    coef[rows, y] = coef.sum(axis=1)\n"


def test_a_right_hinge_gradient_built_in_coef_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "hinge.py", PROGRAM, RIGHT, RIGHT))) == []


def test_the_correct_class_column_with_its_sign_flipped_is_named_at_its_write(tmp_path):
    path = planted(tmp_path, "hinge.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["param"]) == ("BPD108", line_of(path, "coef[rows, y] = coef.sum(axis=1)"), "coef")
    assert "with respect to `S`" in root["message"], root["message"]
