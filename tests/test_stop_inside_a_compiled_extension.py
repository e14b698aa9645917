"""A program that stops inside NumPy's compiled code (`np.random.shuffle(5)` raises in
`numpy/random/mtrand.pyx`) is reported as stopped at the user's line that called it, not at a
line of the extension's Cython source."""

from __future__ import annotations

from tests.userfiles import check, line_of, write

PROGRAM = '''\
import numpy as np

data = 5
np.random.shuffle(data)
W = np.zeros((3, 1))
X, T = np.random.randn(20, 3), np.random.randn(20, 1)
for step in range(50):
    dW = X.T @ (X @ W - T) / len(X)
    W -= 0.1 * dW
'''


def test_the_stop_is_the_users_line(tmp_path):
    path = write(tmp_path, "shuffle.py", PROGRAM)
    (stopped,) = [f for f in check(path)["findings"] if f["name"] == "program-stopped"]
    assert stopped["line"] == line_of(path, "np.random.shuffle(data)")
    assert stopped["file"].endswith("shuffle.py") and ".pyx" not in stopped["message"]
