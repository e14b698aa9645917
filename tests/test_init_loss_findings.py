"""init-loss: the exact finding for each cause it names, on one small network of the book's style.

The network (an Affine layer and a softmax loss, built by the file's own script) is varied one
way at a time: large initial weights (through `weight_init_std`, or a scale written in the
line), a softmax over the whole batch (the loss sits near ln(N·C)), a softmax down the columns
on a larger batch (far from ln(N·C), still blamed), and a loss formula three times too large.
The loss and the scores' spread are random draws: each finding's numbers are checked against
each other (the message, the evidence, `measured` = |loss − ln C|), every word and line exactly.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "init-loss"

NET = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x.dot(self.W) + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T.dot(dout), dout.sum(axis=0)
        return dout.dot(self.W.T)


def softmax(x):
    x = x - np.max(x{axis})
    return np.exp(x) / np.sum(np.exp(x){axis})


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.y, self.t = softmax(x), t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self, input_size, output_size, weight_init_std=0.01):
        self.params = {{'W': weight_init_std * np.random.randn(input_size, output_size), 'b': np.zeros(output_size)}}
        self.layers = [Affine(self.params['W'], self.params['b'])]
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        return self.layers[0].forward(x)

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers[0].backward(self.lastLayer.backward(1))
        return {{'W': self.layers[0].dW, 'b': self.layers[0].db}}


if __name__ == '__main__':
    net = Net(input_size=8, output_size=3, weight_init_std={std})
"""

PER_ROW = ", axis=1, keepdims=True"
LN3 = math.log(3)


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def checked(tmp_path: Path, text: str, **options):
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False, **options))
    return str(path), report


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def initial_loss(text: str, loss: float, n: int, how: str = "Net(input_size=8, output_size=3, weight_init_std={std})",
                 **fmt) -> str:  # fmt: skip
    made = how.format(**fmt) + f" from line {line_of(text, 'net = Net(')} of your script"
    return (
        f"{made}, batch of {n}: loss {loss:.4g}; ln C = ln 3 = {LN3:.4g}; ln(N·C) = ln {3 * n} = {math.log(3 * n):.4g}"
    )


def spread_of(finding) -> float:
    text = dict(finding.evidence)["scores"]
    return float(re.fullmatch(r"standard deviation of the scores at initialisation: ([\d.e+-]+)", text).group(1))


def test_large_initial_weights_name_the_constructor_argument_and_the_weight_line(tmp_path):
    text = NET.format(axis=PER_ROW, std=20.0)
    path, report = checked(tmp_path, text)
    [finding] = report.by_name(RULE)
    loss, spread = LN3 + finding.measured, spread_of(finding)
    line = line_of(text, "weight_init_std * np.random.randn")
    assert spread >= 1.0 and loss > LN3
    assert (finding.severity, finding.layer, finding.file, finding.line, finding.highlight) == (
        "warning", "Net", path, line, (line,)
    )
    assert finding.threshold == pytest.approx(LN3)
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes (line {line}; "
        f"`weight_init_std` is 20.0, try 0.01): the scores have standard deviation {spread:.3g}, so the softmax is "
        "already confident, and wrong, before training; start from smaller weights in `Net.__init__`"
    )
    assert finding.fix == "Net(..., weight_init_std=0.01)"
    assert dict(finding.evidence)["initial loss"] == initial_loss(text, loss, 5, std=20.0)
    assert [name for name, _ in finding.evidence] == ["initial loss", "scores"]


def test_a_scale_written_in_the_weight_line_gets_that_line_scaled_down_as_its_fix(tmp_path):
    text = (
        NET.format(axis=PER_ROW, std=0.01)
        .replace("weight_init_std * np.random.randn", "20.0 * np.random.randn")
        .replace(", weight_init_std=0.01):", "):")
        .replace(", weight_init_std=0.01)\n", ")\n")
    )
    path, report = checked(tmp_path, text)
    [finding] = report.by_name(RULE)
    loss, spread = LN3 + finding.measured, spread_of(finding)
    line = line_of(text, "20.0 * np.random.randn")
    assert (finding.line, finding.highlight) == (line, (line,))
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes (line {line}): the "
        f"scores have standard deviation {spread:.3g}, so the softmax is already confident, and wrong, before "
        "training; start from smaller weights in `Net.__init__`"
    )
    assert finding.fix == text.splitlines()[line - 1].strip() + (
        "  # with weight_init_std=0.01, or np.sqrt(2.0 / n_in) for ReLU (He)"
    )
    assert dict(finding.evidence)["initial loss"] == initial_loss(text, loss, 5, how="Net(input_size=8, output_size=3)")


def test_a_loss_near_ln_n_c_is_blamed_on_the_batch_wide_softmax_with_its_line_and_fix(tmp_path):
    text = NET.format(axis="", std=0.01)
    path, report = checked(tmp_path, text)
    [finding] = report.by_name(RULE)
    [softmax] = report.by_name("softmax-not-per-row")
    loss = LN3 + finding.measured
    assert abs(loss - math.log(15)) < 0.05 * math.log(15) and spread_of(finding) < 1.0
    assert (finding.file, finding.line, finding.highlight, finding.fix) == (
        softmax.file, softmax.line, softmax.highlight, softmax.fix
    )
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes (line {softmax.line}): "
        f"{loss:.2f} ≈ ln(N·C) = ln(5·3) = 2.71, the loss of a softmax over the whole batch; normalise each row in "
        "`softmax`, not the whole batch"
    )
    assert dict(finding.evidence)["initial loss"] == initial_loss(text, loss, 5, std=0.01)


def test_a_softmax_down_the_columns_is_blamed_although_the_loss_is_not_near_ln_n_c(tmp_path):
    text = NET.format(axis=", axis=0", std=0.01)
    path, report = checked(tmp_path, text, batch_size=20)
    [finding] = report.by_name(RULE)
    [softmax] = report.by_name("softmax-not-per-row")
    loss = LN3 + finding.measured
    assert abs(loss - math.log(60)) >= 0.05 * math.log(60)
    assert (finding.line, finding.fix) == (softmax.line, softmax.fix)
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes (line {softmax.line}): "
        "a softmax that does not normalise each row makes every loss meaningless; normalise each row in "
        "`softmax`, not the whole batch"
    )
    assert dict(finding.evidence)["initial loss"] == initial_loss(text, loss, 20, std=0.01)


def test_a_loss_formula_three_times_too_large_points_at_the_loss_layers_forward(tmp_path):
    text = NET.format(axis=PER_ROW, std=0.01).replace(
        "return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]", "return -np.sum(t * np.log(self.y + 1e-7)) * 3.0"
    )
    path, report = checked(tmp_path, text)
    [finding] = report.by_name(RULE)
    loss = LN3 + finding.measured
    line = line_of(text, "    def forward(self, x, t):")
    assert (finding.file, finding.line, finding.highlight) == (path, line, (line,))
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes: neither large "
        "weights nor a batch-wide softmax explains it; check the loss formula of `Net`'s loss layer"
    )
    assert finding.fix == "loss = -np.sum(np.log(y[np.arange(N), labels] + 1e-7)) / N"
    assert loss == pytest.approx(15 * LN3, rel=0.05)  # 3 × the sum over 5 samples of about ln 3


def test_small_weights_and_a_per_row_softmax_start_near_ln_c_and_are_not_reported(tmp_path):
    assert checked(tmp_path, NET.format(axis=PER_ROW, std=0.01))[1].by_name(RULE) == []


# --------------------------------------------------------------------------- C, the number of classes


@pytest.mark.parametrize(
    "t, scores, expected",
    [
        (np.eye(3)[[0, 2, 1, 1]], None, 3),  # one-hot targets: their width
        (np.eye(2)[[0, 1]], np.zeros((2, 7)), 2),  # one-hot wins over the scores
        (np.array([0, 4, 1]), np.zeros((3, 6)), 6),  # labels: the scores' width
        (np.array([0, 4, 1]), None, 5),  # labels alone: the largest + 1
        (np.array([0, 4, 1]), np.zeros((3, 1)), 5),  # one score column is no class count
        (np.array([0, 4, 1]), np.zeros(3), 5),  # nor are 1-D scores
        (np.array([[0], [1]]), np.zeros((2, 2)), 2),  # a column of labels: the scores' width
        (np.array([[0], [1]]), None, None),  # ... and nothing to tell without them
        (np.array([0.0, 1.0]), None, None),  # float labels are not class indices
        (np.array([], dtype=int), None, None),  # no labels
        (np.zeros((2, 3, 4)), None, None),
    ],
)
def test_the_number_of_classes_comes_from_one_hot_targets_then_the_scores_then_the_labels(t, scores, expected):
    from backprop_doctor.checks.init_loss import classes

    assert classes(t, scores) == expected


@pytest.mark.parametrize("name", ["scale", "init", "weight_init", "sigma", "init_std"])
def test_the_constructor_argument_that_scales_the_weights_is_named_whatever_it_is_called(tmp_path, name):
    text = NET.format(axis=PER_ROW, std=20.0).replace("weight_init_std", name)
    _, report = checked(tmp_path, text)
    [finding] = report.by_name(RULE)
    assert f"; `{name}` is 20.0, try 0.01): " in finding.message
    assert finding.fix == f"Net(..., {name}=0.01)"


def test_a_large_default_scale_not_given_by_the_script_is_read_from_the_signature(tmp_path):
    text = NET.format(axis=PER_ROW, std=0.01).replace("weight_init_std=0.01):", "weight_init_std=20.0):").replace(
        ", weight_init_std=0.01)\n", ")\n"
    )
    _, report = checked(tmp_path, text)
    [finding] = report.by_name(RULE)
    assert "; `weight_init_std` is 20.0, try 0.01): " in finding.message
    assert finding.fix == "Net(..., weight_init_std=0.01)"
