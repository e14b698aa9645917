"""A name a `for` around an update binds (`g` of `for w, g in zip(weights, gw)` beside `for b, g in
zip(biases, gb)`) is a different array at each pass of each loop: a wrong weight update that reads `g`
is not reading the biases' gradient because a right bias update reads a `g` too. The step-gradient-mismatch
finding names what is wrong with the gradient itself (a factor of 2 here), not "the gradient of `b`".
Two styles: the class of `test_clip_elementwise_through_a_function` clipping through a helper, and a flat
script that lists its arrays and their gradients before two loops."""

from __future__ import annotations

from tests.test_clip_elementwise_through_a_function import HELPER
from tests.userfiles import check, line_of, planted, write

LISTED = '''\
import numpy as np

rs = np.random.RandomState(12)
X = rs.randn(80, 4)
T = np.tanh(X @ rs.randn(4, 2))
W1 = rs.randn(4, 10) * 0.4
b1 = np.zeros(10)
W2 = rs.randn(10, 2) * 0.4
b2 = np.zeros(2)
step = 0.2
for sweep in range(200):
    H = np.tanh(X @ W1 + b1)
    O = H @ W2 + b2
    err = np.mean(np.sum((O - T) ** 2, axis=1)) / 2
    dO = (O - T) / len(X)
    dW2 = H.T @ dO
    db2 = dO.sum(axis=0)
    dH = dO @ W2.T * (1 - H ** 2)
    dW1 = X.T @ dH
    db1 = dH.sum(axis=0)
    gW = [dW1, dW2]
    gb = [db1, db2]
    for W, g in zip([W1, W2], gW):
        W -= step * g
    for b, g in zip([b1, b2], gb):
        b -= step * g
'''


def _mismatches(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD108"]


def test_doubled_weight_gradients_through_a_helper_are_a_factor_not_another_gradient(tmp_path):
    path = planted(tmp_path, "helper.py", HELPER, "    gw = bound_entries(gw, cap)\n", "    gw = bound_entries([2 * a for a in gw], cap)\n")
    path.write_text(path.read_text().replace("cap = 1.0", "cap = 100.0"))
    found = _mismatches(check(path))
    assert found and not any("the gradient of `b`" in f["message"] for f in found), found
    assert "2 × the gradient" in found[0]["message"]


def test_doubled_weight_gradients_of_a_listed_script_are_a_factor_not_another_gradient(tmp_path):
    path = planted(tmp_path, "listed.py", LISTED, "dW1 = X.T @ dH", "dW1 = 2 * X.T @ dH")
    found = _mismatches(check(path))
    assert found and not any("the gradient of `b`" in f["message"] for f in found), found
    assert found[0]["line"] == line_of(path, "dW1 = 2 * X.T @ dH") or "2 × the gradient" in found[0]["message"], found


def test_the_listed_script_is_clean(tmp_path):
    assert _mismatches(check(write(tmp_path, "listed.py", LISTED))) == []
