"""The verdict names where the problem is once: a message that already names its layer in backticks
("the input gradient dx of `Loss_MeanAbsoluteError`") gets no "in Loss_MeanAbsoluteError.x" after it."""

from __future__ import annotations

from tests.userfiles import check, line_of, write

LOSS = '''\
import numpy as np


class MeanAbsoluteError:
    def forward(self, y_pred, y_true):
        self.y_pred, self.y_true = y_pred, y_true
        return np.mean(np.abs(y_true - y_pred))

    def backward(self, dout=1.0):
        n = self.y_pred.size
        return dout * np.sign(self.y_true - self.y_pred) / n
'''


def test_a_flipped_loss_gradient_is_named_once_in_the_verdict(tmp_path):
    path = write(tmp_path, "mae.py", LOSS)
    report = check(path)
    (finding,) = [f for f in report["findings"] if f["severity"] == "error"]
    assert finding["line"] == line_of(path, "return dout * np.sign(")
    assert "`MeanAbsoluteError`" in finding["message"] and "sign is flipped" in finding["message"]
    assert "MeanAbsoluteError.x" not in report["verdict"]
    assert report["verdict"].count("MeanAbsoluteError") == 1
    assert f"(line {finding['line']})" in report["verdict"]
