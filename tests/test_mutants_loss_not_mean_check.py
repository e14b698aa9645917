"""loss-not-mean (BPD501): the cases its mutation run showed no test telling apart.

Real user files written to `tmp_path` and checked in-process by `check_file`: where the fix
for a backward that forgets the batch size is taken from (a returned expression on the file's
last line, a gradient with another name, a dx spread over several lines), a summed loss whose
sum the static reading does not recognise (the `def forward` line is blamed), `np.nansum`, a
sum in code that never ran, gradients that are not a multiple of the scores (not an array, the
wrong shape, divided by the batch size twice), tiny losses, a batch of one, several losses in
one file (each reported once, none hiding the next) and a loss layer inside a network. Each
buggy file has a correct twin or a boundary neighbour; every line number is found in the text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_mutants_softmax_check import NETWORK

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "loss-not-mean"

LOSS_LAYER = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return LOSS

    def backward(self, dout=1):
BACKWARD
"""

SUM = "-np.sum(t * np.log(self.y + 1e-7))"
MEAN = SUM + " / x.shape[0]"
SUM_GRAD = "        return dout * (self.y - self.t)"
MEAN_GRAD = "        return dout * (self.y - self.t) / self.t.shape[0]"


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def layer(loss: str, backward: str) -> str:
    return LOSS_LAYER.replace("LOSS", loss).replace("BACKWARD", backward)


def checked(tmp_path: Path, text: str, **options):
    """(path, the file's loss-not-mean findings); no check may have crashed on it."""
    path = tmp_path / "loss.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False, **options))
    assert "internal_errors" not in report.extras, report.extras.get("internal_errors")
    return str(path), report.by_name(RULE)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def column_of(text: str, needle: str) -> int:
    return text.splitlines()[line_of(text, needle) - 1].index(needle) + 1


def tiling(loss_ratio: str, grad_ratio: str | None, where: str = "on a batch of 5", scores: str = "(5, 4)") -> str:
    text = (
        f"checked {where}, scores {scores}\n"
        f"loss(2× tiled batch) / loss(batch) = {loss_ratio} (1 for a mean, 2 for a sum)"
    )
    if grad_ratio is not None:
        text += f"\ndx on the tiled batch / dx = {grad_ratio} (0.5 for a mean's gradient, 1 for a sum's)"
    return text


def mean_loss_message(line: int, n: int = 5) -> str:
    return (
        f"`SoftmaxWithLoss.backward` returns the gradient of the batch sum for a mean loss (line {line}): every "
        f"step is N = {n} times too large; divide dx by the batch size"
    )


def summed_loss_message(line: int) -> str:
    return (
        f"`SoftmaxWithLoss` sums its loss over the batch (line {line}): it grows ×2 when the batch is tiled 2×, so "
        "the gradient and the best learning rate change with the batch size; divide the loss by the batch size, and "
        "dx in backward too"
    )


# --------------------------------------------------------------------------- the fix for a backward that forgets N


def test_a_returned_expression_on_the_files_last_line_is_the_line_to_divide(tmp_path):
    text = layer(MEAN, SUM_GRAD).rstrip("\n")  # no newline at the end of the file
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "return dout * (self.y - self.t)")
    assert line == len(text.split("\n"))
    assert (finding.severity, finding.file, finding.line, finding.highlight) == ("error", path, line, (line,))
    assert finding.message == mean_loss_message(line)
    assert finding.fix == "return dout * (self.y - self.t) / batch_size  # batch_size = self.t.shape[0]"


def test_a_gradient_returned_under_another_name_is_divided_where_it_is_computed(tmp_path):
    text = layer(MEAN, "        grad = dout * (self.y - self.t)\n        return grad")
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "grad = dout")
    assert (finding.line, finding.highlight) == (line, (line,))
    assert finding.message == mean_loss_message(line)
    assert finding.fix == "grad = dout * (self.y - self.t) / batch_size  # batch_size = self.t.shape[0]"


def test_a_gradient_written_over_several_lines_gets_a_generic_fix(tmp_path):
    text = layer(MEAN, "        dx = dout * (\n            self.y - self.t\n        )\n        return dx")
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "dx = dout * (")
    assert (finding.line, finding.message) == (line, mean_loss_message(line))
    assert finding.fix == "dx = dout * (self.y - self.t) / batch_size"


def test_the_mean_twin_of_each_backward_is_not_reported(tmp_path):
    assert checked(tmp_path, layer(MEAN, MEAN_GRAD))[1] == []


# --------------------------------------------------------------------------- where a summed loss is blamed


def test_a_sum_the_static_reading_does_not_recognise_blames_the_def_forward_line(tmp_path):
    text = layer("-np.einsum('ij,ij->', t, np.log(self.y + 1e-7))", SUM_GRAD)
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "def forward")
    assert (finding.severity, finding.file, finding.line, finding.column, finding.highlight) == (
        "warning", path, line, None, (line,)
    )
    assert finding.message == summed_loss_message(line)
    assert finding.fix == (
        "loss = -np.sum(t * np.log(y + 1e-7)) / batch_size\n"
        "# and in backward: dx = dout * (self.y - self.t) / batch_size"
    )
    assert finding.evidence == (("tiling", tiling("2", "1")),)


def test_a_summed_loss_whose_backward_divides_is_an_error_named_after_its_layer(tmp_path):
    text = layer(SUM, MEAN_GRAD)
    _, [finding] = checked(tmp_path, text)
    assert (finding.severity, finding.layer, finding.line) == ("error", "SoftmaxWithLoss", line_of(text, "return -np.sum"))


SOFTMAX_LOSS = """\
import numpy as np


def softmax_loss(x, y):
    n = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(n), y]))
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    return loss, dx
"""


def test_the_sum_of_a_function_named_softmax_loss_is_the_losss_own_sum(tmp_path):
    """Sums inside a softmax helper are not the loss's; the cs231n `softmax_loss` is the loss."""
    path, [finding] = checked(tmp_path, SOFTMAX_LOSS)
    line = line_of(SOFTMAX_LOSS, "loss = -np.sum(")
    assert (finding.layer, finding.severity, finding.file, finding.line, finding.column, finding.highlight) == (
        "softmax_loss", "warning", path, line, column_of(SOFTMAX_LOSS, "np.sum(np.log"), (line,)
    )
    assert finding.fix == (
        "loss = -np.sum(np.log(probs[np.arange(n), y])) / batch_size  # batch_size = x.shape[0]\n"
        "# and its gradient too: dx /= batch_size"
    )


def test_the_mean_twin_of_softmax_loss_is_not_reported(tmp_path):
    text = SOFTMAX_LOSS.replace("loss = -np.sum(np.log(probs[np.arange(n), y]))", "loss = -np.mean(np.log(probs[np.arange(n), y]))")
    text = text.replace("return loss, dx", "return loss, dx / n")
    assert checked(tmp_path, text)[1] == []


def test_a_nansum_is_the_losss_sum(tmp_path):
    text = layer("-np.nansum(t * np.log(self.y + 1e-7))", SUM_GRAD)
    path, [finding] = checked(tmp_path, text)
    line = line_of(text, "return -np.nansum")
    assert (finding.line, finding.column) == (line, column_of(text, "np.nansum"))
    assert finding.fix.splitlines()[0] == "return -np.nansum(t * np.log(self.y + 1e-7)) / batch_size  # batch_size = x.shape[0]"


def test_a_sum_over_the_batch_in_code_that_never_ran_is_not_blamed(tmp_path):
    text = layer(SUM, SUM_GRAD) + (
        "\n\ndef total_error(y, t):\n    return np.sum((y - t) ** 2)\n"
    )
    path, [finding] = checked(tmp_path, text)
    assert finding.line == line_of(text, "return -np.sum")


# --------------------------------------------------------------------------- gradients that are no multiple


def test_a_gradient_that_is_not_an_array_leaves_only_the_losss_reduction(tmp_path):
    """`return dout` (a number): nothing to compare, so a mean loss is fine and a summed loss
    is a warning whose evidence has no gradient line."""
    assert checked(tmp_path, layer(MEAN, "        return dout"))[1] == []
    text = layer(SUM, "        return dout")
    _, [finding] = checked(tmp_path, text)
    assert (finding.severity, finding.line) == ("warning", line_of(text, "return -np.sum"))
    assert finding.evidence == (("tiling", tiling("2", None)),)


def test_a_gradient_of_another_shape_than_the_scores_is_not_compared(tmp_path):
    assert checked(tmp_path, layer(MEAN, "        return (dout * (self.y - self.t)).sum(axis=1)"))[1] == []


def test_a_gradient_divided_by_the_batch_size_twice_is_neither_a_mean_nor_a_sum(tmp_path):
    text = layer(SUM, "        n = self.t.shape[0]\n        return dout * (self.y - self.t) / (n * n)")
    _, [finding] = checked(tmp_path, text)
    line = line_of(text, "return -np.sum")
    assert (finding.severity, finding.line, finding.message) == ("warning", line, summed_loss_message(line))
    assert finding.evidence == (("tiling", tiling("2", "0.25")),)


# --------------------------------------------------------------------------- tiny losses and small batches


@pytest.mark.parametrize("scale", ["1e-9 * ", "0.5 * "])
def test_a_summed_loss_smaller_than_one_is_still_measured(tmp_path, scale):
    text = layer(scale + SUM, "        return " + scale + "dout * (self.y - self.t)")
    _, [finding] = checked(tmp_path, text)
    assert (finding.severity, finding.line) == ("warning", line_of(text, "return " + scale + "-np.sum"))
    assert finding.evidence == (("tiling", tiling("2", "1")),)


def test_a_loss_that_is_exactly_zero_is_not_measured(tmp_path):
    assert checked(tmp_path, layer("0.0 * " + SUM, "        return 0.0 * dout * (self.y - self.t)"))[1] == []


@pytest.mark.parametrize("batch_size", [1, 2])
def test_a_loss_layer_is_checked_from_a_batch_of_one(tmp_path, batch_size):
    text = layer(SUM, SUM_GRAD)
    _, [finding] = checked(tmp_path, text, batch_size=batch_size)
    assert finding.evidence == (
        ("tiling", tiling("2", "1", where=f"on a batch of {batch_size}", scores=f"({batch_size}, 4)")),
    )


# --------------------------------------------------------------------------- several losses in one file



FUNCTIONS = """

def fixed_batch_loss(x, y):
    t = np.eye(x.shape[1])[y].reshape(4, -1)  # written for batches of four
    loss = np.sum((x - t) ** 2) / 4
    return loss, 2 * (x - t) / 4


def root_loss(x, y):
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    loss = np.sqrt(np.sum(margins ** 2))
    return loss, margins / loss


def svm_loss(x, y):
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    loss = np.sum(margins)
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] -= dx.sum(axis=1)
    return loss, dx


def squared_loss(x, y):
    t = np.eye(x.shape[1])[y]
    loss = 0.5 * np.sum((x - t) ** 2)
    return loss, x - t
"""


def test_a_loss_layer_inside_a_network_is_reported_once_on_the_networks_scores(tmp_path):
    text = layer(SUM, SUM_GRAD) + NETWORK
    _, [finding] = checked(tmp_path, text)
    assert (finding.layer, finding.line) == ("SoftmaxWithLoss", line_of(text, "return -np.sum"))
    assert finding.evidence == (("tiling", tiling("2", "1", where="with the scores `Net` feeds it", scores="(5, 3)")),)


def test_losses_that_raise_or_are_neither_a_mean_nor_a_sum_do_not_hide_the_next_one(tmp_path):
    """The network's loss layer is met twice (on its own and inside `Net`), `fixed_batch_loss`
    (written for batches of four) raises and `root_loss` grows ×√2: each is passed over, and every summed loss (a layer, two functions) is reported once."""
    text = layer(SUM, SUM_GRAD) + NETWORK + FUNCTIONS
    _, found = checked(tmp_path, text)
    assert [(f.layer, f.line, f.severity) for f in found] == [
        ("SoftmaxWithLoss", line_of(text, "return -np.sum"), "warning"),
        ("squared_loss", line_of(text, "loss = 0.5 * np.sum((x - t) ** 2)"), "warning"),
        ("svm_loss", line_of(text, "loss = np.sum(margins)"), "warning"),
    ]  # the functions in the order of their names


def test_two_loss_layers_of_different_classes_are_each_reported(tmp_path):
    text = layer(SUM, SUM_GRAD) + "\n\n" + layer(SUM, SUM_GRAD).split("\n\n\n", 2)[2].replace(
        "class SoftmaxWithLoss", "class OtherLoss"
    )
    _, found = checked(tmp_path, text)
    assert sorted(f.layer for f in found) == ["OtherLoss", "SoftmaxWithLoss"]
