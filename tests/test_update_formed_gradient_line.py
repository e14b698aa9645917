"""A gradient formed inside its update (`W += lr * X.T @ dz`) is blamed on the update's line when
the adjoint it reads is shown right.

`dz` feeds both updates below. When `b`'s update (which reads `dz` too) follows the gradient and
`W`'s does not, `dz` is right and the mistake is in `W`'s own line: here a `+=` where `-=` belongs.
When both are wrong the same way, `dz` is the common cause and its line is the one named.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(64, 3)
y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1

W = np.random.randn(3, 1) * 0.1
b = np.zeros((1, 1))
lr = 0.1
for epoch in range(200):
    out = X @ W + b
    loss = np.mean((out - y) ** 2)
    dz = 2 * (out - y) / len(X)
    W -= lr * X.T @ dz
    b -= lr * np.sum(dz, axis=0, keepdims=True)
    if epoch % 50 == 0:
        print(epoch, loss)
'''


def test_the_correct_script_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "regression.py", SCRIPT))) == []


def test_a_flipped_update_of_one_parameter_is_blamed_on_that_update(tmp_path):
    path = planted(tmp_path, "regression.py", SCRIPT, "W -= lr * X.T @ dz", "W += lr * X.T @ dz")
    (finding,) = errors(check(path))
    line = line_of(path, "W += lr * X.T @ dz")
    assert (finding["code"], finding["line"], finding["highlight"]) == ("BPD108", line, [line])
    assert "adds `X.T @ dz`, which is the gradient of `loss` (line" in finding["message"]
    assert finding["message"].endswith("so every step climbs it (gradient ascent): subtract the step instead of adding it")


def test_an_adjoint_wrong_for_every_update_that_reads_it_is_blamed_on_its_own_line(tmp_path):
    text = SCRIPT.replace("dz = 2 * (out - y)", "dz = 2 * (y - out)")
    path = write(tmp_path, "regression.py", text)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD108", line_of(path, "dz = 2 * (y - out)"))
    assert finding["highlight"] == [line_of(path, "dz = 2"), line_of(path, "W -= lr"), line_of(path, "b -= lr")]
