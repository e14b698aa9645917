"""A layer that steps its own weights inside backward at a fixed rate (`self.W -= 0.1 * self.dW`): its
probes measure forward at the moved weights, so its dx disagrees as at a kink. The notes say that the
update did it, at the update's line, and never call a linear layer's difference a kink."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

DENSE = """\
import numpy as np


class Dense:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        dx = dout @ self.W.T
        self.W -= 0.1 * self.dW
        self.b -= 0.1 * self.db
        return dx
"""


def test_the_difference_is_put_down_to_the_update_not_to_a_kink(tmp_path):
    path = write(tmp_path, "layer.py", DENSE)
    report = check(path)
    assert errors(report) == []
    notes = {f["name"]: f for f in report["findings"]}
    update = line_of(path, "self.W -= 0.1 * self.dW")
    assert notes["nonreentrant-backward"]["line"] == update
    kink = notes["gradient-at-kink"]
    assert (kink["pattern"], kink["line"]) == ("weights-moved-by-backward", update)
    assert "that is the update, not a kink" in kink["message"]
