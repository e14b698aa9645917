"""A Python 2 program whose size is halved with `size /= 2` and used two lines later, on a line that
also holds a float division (`np.sqrt(2.0 / fan_in)`, the He scale): the `//` to write is at the
`/=`, not at the float division, which divides floats in both Pythons."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

NET = """\
import numpy as np


class SmallNet(object):
    def __init__(self, input_dim=(3, 8, 8), filters=4, hidden=10, classes=3):
        C, H, W = input_dim
        size = H
        self.params = {}
        if True: size /= 2
        fan_in = size * size * filters
        self.params['W1'] = np.sqrt(2.0 / fan_in) * np.random.randn(fan_in, hidden)
        self.params['W2'] = np.sqrt(2.0 / hidden) * np.random.randn(hidden, classes)

    def loss(self, X, y=None):
        h = np.maximum(X.reshape(len(X), -1)[:, :self.params['W1'].shape[0]].dot(self.params['W1']), 0)
        return h.dot(self.params['W2'])


print 'built', SmallNet()
"""


def test_the_hint_names_the_integer_division_not_the_float_one_on_the_failing_line(tmp_path):
    path = write(tmp_path, "convnet.py", NET)
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "np.sqrt(2.0 / fan_in)")
    assert f"write `//` at line {line_of(path, 'size /= 2')}" in finding["message"]
