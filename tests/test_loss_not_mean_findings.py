"""loss-not-mean: the exact finding for each pairing of a loss's reduction and its gradient's.

Loss layers and a cs231n loss function of our own, checked in-process by `check_file`: a mean
loss with a summed gradient, a summed loss with a mean gradient (both errors), a summed loss
with a summed gradient (a warning), the line blamed (the loss's own sum, not a sum in backward),
the fix (the loss line divided, a generic line when the sum spans several lines) and the tiling
evidence. The batch is the options' `batch_size` for standalone losses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "loss-not-mean"

SOFTMAX_LOSS = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return {loss}

    def backward(self, dout=1):
        dx = {grad}
        return dx
"""

SUM = "-np.sum(t * np.log(self.y + 1e-7))"
MEAN = SUM + " / x.shape[0]"
SUM_GRAD = "dout * (self.y - self.t)"
MEAN_GRAD = SUM_GRAD + " / self.t.shape[0]"

SQUARED = """\
import numpy as np


class SquaredLoss:
    def forward(self, x, t):
        self.x, self.t = x, t
        return 0.5 * np.sum((x - t) ** 2)

    def backward(self, dout=1):
        self.grad_norm = np.sum((self.x - self.t) ** 2)
        return dout * (self.x - self.t)
"""

SVM = """\
import numpy as np


def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(n), y] = 0
    loss = np.sum(margins)
    mask = (margins > 0).astype(float)
    mask[np.arange(n), y] = -mask.sum(axis=1)
    dx = mask
    return loss, dx
"""


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def checked(tmp_path: Path, text: str, **options):
    path = tmp_path / "loss.py"
    path.write_text(text, encoding="utf-8")
    return str(path), check_file(path, Options(training=False, **options)).by_name(RULE)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def tiling(n: int, loss_ratio: str, grad_ratio: str, classes: int = 4) -> str:
    return (
        f"checked on a batch of {n}, scores ({n}, {classes})\n"
        f"loss(2× tiled batch) / loss(batch) = {loss_ratio} (1 for a mean, 2 for a sum)\n"
        f"dx on the tiled batch / dx = {grad_ratio} (0.5 for a mean's gradient, 1 for a sum's)"
    )


def test_a_mean_loss_whose_backward_forgets_the_batch_size_is_an_error_at_the_dx_line(tmp_path):
    text = SOFTMAX_LOSS.format(loss=MEAN, grad=SUM_GRAD)
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "dx = dout")
    assert (finding.severity, finding.layer, finding.file, finding.line, finding.highlight) == (
        "error", "SoftmaxWithLoss", path, line, (line,)
    )
    assert finding.message == (
        f"`SoftmaxWithLoss.backward` returns the gradient of the batch sum for a mean loss (line {line}): every "
        "step is N = 5 times too large; divide dx by the batch size"
    )
    assert finding.fix == "dx = dout * (self.y - self.t) / batch_size  # batch_size = self.t.shape[0]"
    assert (finding.measured, finding.threshold, finding.pattern) == (pytest.approx(1.0), 0.5, "scaled-by-batch-size")
    assert finding.evidence == (("tiling", tiling(5, "1", "1")),)


def test_a_summed_loss_whose_backward_divides_by_the_batch_size_is_an_error_at_the_sum(tmp_path):
    text = SOFTMAX_LOSS.format(loss=SUM, grad=MEAN_GRAD)
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "return -np.sum")
    assert (finding.severity, finding.file, finding.line, finding.highlight, finding.column) == (
        "error", path, line, (line,), text.splitlines()[line - 1].index("np.sum") + 1
    )
    assert finding.message == (
        f"`SoftmaxWithLoss` sums its loss over the batch but returns the mean's gradient (line {line}): the loss "
        "grows ×2 when the batch is tiled 2×, so the gradient is N = 5 times smaller than the loss's; divide the "
        "loss by the batch size to match its backward"
    )
    assert finding.fix == "return -np.sum(t * np.log(self.y + 1e-7)) / batch_size  # batch_size = x.shape[0]"
    assert (finding.measured, finding.threshold, finding.pattern) == (pytest.approx(2.0), 1.0, None)
    assert finding.evidence == (("tiling", tiling(5, "2", "0.5")),)


def test_a_summed_loss_with_a_summed_gradient_is_a_warning_whose_fix_divides_both(tmp_path):
    text = SOFTMAX_LOSS.format(loss=SUM, grad=SUM_GRAD)
    path, [finding] = checked(tmp_path, text, batch_size=7)
    line = line_of(text, "return -np.sum")
    assert (finding.severity, finding.line, finding.measured, finding.threshold) == ("warning", line, pytest.approx(2.0), 1.0)
    assert finding.message == (
        f"`SoftmaxWithLoss` sums its loss over the batch (line {line}): it grows ×2 when the batch is tiled 2×, so "
        "the gradient and the best learning rate change with the batch size; divide the loss by the batch size, "
        "and dx in backward too"
    )
    assert finding.fix == (
        "return -np.sum(t * np.log(self.y + 1e-7)) / batch_size  # batch_size = x.shape[0]\n"
        "# and in backward: dx = dout * (self.y - self.t) / batch_size"
    )
    assert finding.evidence == (("tiling", tiling(7, "2", "1")),)


def test_a_mean_loss_with_a_mean_gradient_is_not_reported(tmp_path):
    assert checked(tmp_path, SOFTMAX_LOSS.format(loss=MEAN, grad=MEAN_GRAD))[1] == []


def test_the_line_blamed_is_the_losss_own_sum_not_a_sum_that_backward_computes(tmp_path):
    path, [finding] = checked(tmp_path, SQUARED)
    line = line_of(SQUARED, "return 0.5 * np.sum")
    assert (finding.severity, finding.line, finding.highlight) == ("warning", line, (line,))
    assert finding.fix.splitlines()[0] == "return 0.5 * np.sum((x - t) ** 2) / batch_size  # batch_size = x.shape[0]"


def test_a_sum_over_several_lines_gets_a_generic_fix(tmp_path):
    text = SQUARED.replace("np.sum((x - t) ** 2)\n", "np.sum(\n            (x - t) ** 2\n        )\n", 1)
    path, [finding] = checked(tmp_path, text)
    assert finding.line == line_of(text, "return 0.5 * np.sum(")
    assert finding.fix == (
        "loss = -np.sum(t * np.log(y + 1e-7)) / batch_size\n"
        "# and in backward: dx = dout * (self.y - self.t) / batch_size"
    )


def test_a_summed_loss_function_is_checked_on_the_options_batch_and_its_fix_has_no_backward(tmp_path):
    path, [finding] = checked(tmp_path, SVM, batch_size=6)
    line = line_of(SVM, "loss = np.sum(margins)")
    assert (finding.layer, finding.severity, finding.line) == ("svm_loss", "warning", line)
    assert finding.message.startswith(f"`svm_loss` sums its loss over the batch (line {line}): it grows ×2 ")
    assert finding.fix == "loss = np.sum(margins) / batch_size  # batch_size = x.shape[0]\n# and its gradient too: dx /= batch_size"
    assert finding.evidence == (("tiling", tiling(6, "2", "1")),)
    _, [small] = checked(tmp_path, SVM, batch_size=1)
    assert small.evidence == (("tiling", tiling(2, "2", "1")),)
