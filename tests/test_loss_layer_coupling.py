"""batch-coupling on a loss layer: a softmax over the whole batch couples the rows of its dx.

The seed file shows this too (`tests/test_check_batch_coupling.py`), but that test skips where
`../shared` is absent, as it is in mutmut's copy of the repository; this is a file of our own,
checked in-process by `pipeline.check_file`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

LOSS_LAYER = """\
import numpy as np


class SoftmaxCrossEntropy:
    def __init__(self):
        self.probs = None
        self.labels = None

    def _softmax(self, scores):
        shifted = scores - np.max(scores)
        e = np.exp(shifted)
        return e / np.sum(e)

    def forward(self, scores, labels):
        self.labels = labels
        self.probs = self._softmax(scores)
        n = scores.shape[0]
        return -np.sum(labels * np.log(self.probs + 1e-8)) / n

    def backward(self, dout=1):
        n = self.labels.shape[0]
        return dout * (self.probs - self.labels) / n
"""

PER_ROW = LOSS_LAYER.replace("np.max(scores)", "np.max(scores, axis=1, keepdims=True)").replace(
    "np.sum(e)", "np.sum(e, axis=1, keepdims=True)"
)


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def checked(tmp_path: Path, text: str):
    path = tmp_path / "softmax_loss.py"
    path.write_text(text, encoding="utf-8")
    return check_file(path, Options(training=False))


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_loss_layer_coupled_by_its_softmax_points_at_the_softmax_and_takes_its_fix(tmp_path):
    report = checked(tmp_path, LOSS_LAYER)
    [softmax] = report.by_name("softmax-not-per-row")
    [coupled] = report.by_name("batch-coupling")
    assert report.root_cause == softmax
    assert coupled.severity == "error" and coupled.layer == "SoftmaxCrossEntropy" and coupled.param is None
    assert re.fullmatch(
        r"`SoftmaxCrossEntropy` couples the samples through `SoftmaxCrossEntropy\._softmax` \(line 12\): "
        r"changing the scores of sample \d changes row \d of its gradient dx \(by [\d.]+% of dx's largest value\); "
        r"row i of dx must depend on sample i alone; normalise each row",
        coupled.message,
    ), coupled.message
    assert 1e-3 < coupled.measured < 1 and coupled.threshold == 1e-9
    assert (coupled.file, coupled.line, coupled.column, coupled.highlight) == (
        softmax.file, line_of(LOSS_LAYER, "return e / np.sum(e)"), softmax.column, softmax.highlight
    )
    assert coupled.fix == softmax.fix
    assert coupled.caused_by == softmax.key()
    assert "dx" in dict(coupled.evidence)["coupling"]


def test_the_same_loss_layer_with_a_per_row_softmax_is_not_coupled(tmp_path):
    report = checked(tmp_path, PER_ROW)
    assert report.by_name("batch-coupling") == [] and report.by_name("softmax-not-per-row") == []


BACKWARD_COUPLED = """\
import numpy as np


class SoftmaxLoss:
    def forward(self, scores, labels):
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        e = np.exp(shifted)
        self.probs = e / np.sum(e, axis=1, keepdims=True)
        self.labels = labels
        n = scores.shape[0]
        return -np.sum(np.log(self.probs[np.arange(n), labels] + 1e-12)) / n

    def backward(self, dout=1):
        diff = self.probs.copy()
        diff[np.arange(len(self.labels)), self.labels] -= 1
        dx = diff / np.sum(np.abs(diff))
        return dout * dx
"""


def test_a_loss_layer_whose_backward_divides_by_a_batch_wide_sum_is_pointed_at_its_backward(tmp_path):
    report = checked(tmp_path, BACKWARD_COUPLED)
    assert report.by_name("softmax-not-per-row") == []
    [coupled] = report.by_name("batch-coupling")
    line = line_of(BACKWARD_COUPLED, "dx = diff / np.sum(np.abs(diff))")
    assert (coupled.file, coupled.line, coupled.highlight) == (str(tmp_path / "softmax_loss.py"), line, (line,))
    assert coupled.column == BACKWARD_COUPLED.splitlines()[line - 1].index("np.sum") + 1
    assert re.fullmatch(
        rf"`SoftmaxLoss\.backward` couples the samples of a batch \(line {line}: `np\.sum\(np\.abs\(diff\)\)` "
        r"reduces over the whole batch \(no axis\)\): changing the scores of sample \d changes row \d of its "
        r"gradient dx \(by [\d.]+% of dx's largest value\); row i of dx must depend on sample i alone; "
        r"send each sample's gradient back to that sample only",
        coupled.message,
    ), coupled.message
    assert coupled.fix == "dx = diff / np.sum(np.abs(diff), axis=1, keepdims=True)"
    assert (coupled.severity, coupled.layer, coupled.threshold) == ("error", "SoftmaxLoss", 1e-9)
    assert 1e-3 < coupled.measured < 1
    assert re.fullmatch(
        r"checked on a batch of 5, input \(5, 4\): sample \d → dx of sample \d, relative change [\d.e-]+ "
        r"\(threshold 1e-09\)",
        dict(coupled.evidence)["coupling"],
    )
    assert dict(coupled.evidence)["reductions"] == (
        f"line {line}: `np.sum(np.abs(diff))` reduces over the whole batch (no axis)"
    )
