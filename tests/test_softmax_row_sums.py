"""softmax-not-per-row (BPD301): the row sums it shows, and the batch of scores it probes with.

A loss layer of our own whose softmax sums over the whole batch, checked in-process by
`pipeline.check_file` at several `batch_size` settings: the evidence lists the first eight
row sums (all rows together sum to 1), then "...", and the scores always have more than one
row and a class count different from the batch size (so rows and columns cannot be confused).
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
    def _softmax(self, scores):
        shifted = scores - np.max(scores)
        e = np.exp(shifted)
        return e / np.sum(e)

    def forward(self, scores, labels):
        self.labels = labels
        self.probs = self._softmax(scores)
        return -np.sum(labels * np.log(self.probs + 1e-8)) / scores.shape[0]

    def backward(self, dout=1):
        return dout * (self.probs - self.labels) / self.labels.shape[0]
"""

NUMBER = r"\d[\d.e-]*"


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def sums_of_the_softmax(tmp_path: Path, batch: int) -> str:
    path = tmp_path / "softmax_loss.py"
    path.write_text(LOSS_LAYER, encoding="utf-8")
    [finding] = check_file(path, Options(training=False, batch_size=batch)).by_name("softmax-not-per-row")
    rows = [text for label, text in finding.evidence if label == "row sums" and "._softmax` on random scores" in text]
    assert len(rows) == 1, finding.evidence
    return rows[0]


def test_eight_row_sums_are_all_shown_and_together_sum_to_one(tmp_path):
    text = sums_of_the_softmax(tmp_path, 8)
    match = re.fullmatch(rf"`SoftmaxCrossEntropy\._softmax` on random scores of shape \(8, 4\): ((?:{NUMBER}, ){{7}}{NUMBER}) \(each should be 1\)", text)
    assert match, text
    assert sum(float(v) for v in match.group(1).split(", ")) == pytest.approx(1.0, abs=0.01)


def test_past_eight_rows_the_sums_end_with_an_ellipsis(tmp_path):
    text = sums_of_the_softmax(tmp_path, 9)
    assert re.fullmatch(rf"`SoftmaxCrossEntropy\._softmax` on random scores of shape \(9, 4\): (?:{NUMBER}, ){{8}}\.\.\. \(each should be 1\)", text), text


@pytest.mark.parametrize(("batch", "shape"), [(1, "(2, 4)"), (2, "(2, 4)"), (4, "(4, 5)"), (5, "(5, 4)")])
def test_the_probe_scores_have_two_rows_at_least_and_never_as_many_classes_as_rows(tmp_path, batch, shape):
    assert f"on random scores of shape {shape}: " in sums_of_the_softmax(tmp_path, batch)
