"""softmax-not-per-row: the exact finding for each way a softmax can normalise the wrong thing.

Each user file is checked in-process by `check_file`. The row sums shown as evidence are
recomputed here from the file's own softmax on the probe's scores (standard-normal, seeded
with the options' seed + 301, `batch_size` rows and 4 classes, or 5 when the batch has 4 rows),
so every number in the finding is derived, not copied.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "softmax-not-per-row"

COLUMNS = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x, axis=0))
    return e / e.sum(axis=0)
"""

MULTILINE = """\
import numpy as np


def softmax(scores):
    exps = np.exp(scores)
    total = np.sum(
        exps
    )
    return exps / total
"""

NAMES = """\
import numpy as np


def log_softmax(x):
    return x - np.log(np.sum(np.exp(x)))


def softmax_backward(x):
    e = np.exp(x)
    return e / e.sum()


def softmax_grad(x):
    e = np.exp(x)
    return e / e.sum()


def cross_softmax(x):
    e = np.exp(x)
    return e / e.sum()


def softmax_entropy(x):
    e = np.exp(x)
    return e / e.sum()


def softmax_loss_value(x):
    e = np.exp(x)
    return e / e.sum()


def two_args_softmax(x, t):
    e = np.exp(x)
    return e / e.sum()


def Softmax(x, temperature=1.0):
    e = np.exp(x / temperature)
    return e / e.sum()
"""

COLUMN_LAYOUT = """\
import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def forward(W, b, x):
    z = W @ x + b
    return softmax(z)


W = np.random.randn(3, 4)
b = np.zeros((3, 1))
x = np.random.randn(4, 10)
p = forward(W, b, x)
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
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    return str(path), check_file(path, Options(training=False, **options)).by_name(RULE)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def probe_scores(batch_size: int = 5, seed: int = 0) -> np.ndarray:
    n = max(batch_size, 2)
    return np.random.default_rng(seed + 301).standard_normal((n, 4 if n != 4 else 5))


def shown(sums: np.ndarray) -> str:
    text = ", ".join(f"{v:.3g}" for v in sums.ravel()[:8])
    return text + (", ..." if sums.size > 8 else "")


def column_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=0))
    return e / e.sum(axis=0)


def test_a_softmax_down_the_columns_gets_its_exact_message_fix_and_row_sums(tmp_path):
    path, [finding] = checked(tmp_path, COLUMNS)
    line, shift = line_of(COLUMNS, "return e / e.sum(axis=0)"), line_of(COLUMNS, "np.max(x, axis=0)")
    assert (finding.layer, finding.file, finding.line, finding.highlight) == ("softmax", path, line, (shift, line))
    assert finding.column == COLUMNS.splitlines()[line - 1].index("e.sum") + 1
    assert finding.message == (
        f"the softmax in `softmax` normalises each column over the batch instead of each row (line {line}): "
        "`e.sum(axis=0)` reduces over axis 0, so the rows do not sum to 1 and every gradient is wrong; "
        "reduce over axis -1 with keepdims=True (if your samples are rows: no call in this file shows which way they lie)"
    )
    assert finding.fix == "e = np.exp(x - np.max(x, axis=-1, keepdims=True))\nreturn e / e.sum(axis=-1, keepdims=True)"
    sums = column_softmax(probe_scores()).sum(axis=1)
    assert finding.measured == pytest.approx(float(np.max(np.abs(sums - 1))))
    assert finding.threshold == 1e-6 and finding.severity == "warning"  # a function on its own, called nowhere
    assert dict(finding.evidence)["row sums"] == (
        f"`softmax` on random scores of shape (5, 4): {shown(sums)} (each should be 1)"
    )
    assert [name for name, _ in finding.evidence] == ["row sums", "reductions"]


@pytest.mark.parametrize("batch_size, shape", [(4, (4, 5)), (1, (2, 4)), (10, (10, 4))])
def test_the_probe_has_the_options_batch_size_at_least_two_and_never_as_many_classes(tmp_path, batch_size, shape):
    _, [finding] = checked(tmp_path, COLUMNS, batch_size=batch_size)
    scores = probe_scores(batch_size)
    assert scores.shape == shape
    sums = column_softmax(scores).sum(axis=1)
    assert dict(finding.evidence)["row sums"] == (
        f"`softmax` on random scores of shape {shape}: {shown(sums)} (each should be 1)"
    )


def test_the_probe_follows_the_options_seed(tmp_path):
    _, [finding] = checked(tmp_path, COLUMNS, seed=7)
    sums = column_softmax(probe_scores(seed=7)).sum(axis=1)
    assert dict(finding.evidence)["row sums"].endswith(f": {shown(sums)} (each should be 1)")


def test_a_sum_written_over_several_lines_gets_the_whole_function_rewritten_as_its_fix(tmp_path):
    path, [finding] = checked(tmp_path, MULTILINE)
    line = line_of(MULTILINE, "total = np.sum(")
    assert (finding.line, finding.highlight) == (line, (line,))
    assert finding.message == (
        f"the softmax in `softmax` normalises across the whole batch (line {line}): `np.sum(\n        exps\n    )` "
        "reduces over the whole array, so every row sums to about 1/N instead of 1, N being the batch size (0.2 for "
        "the 5 samples backprop-doctor probed with) and every gradient is wrong; reduce over axis -1 with keepdims=True"
    )
    assert finding.fix == (
        "def softmax(scores):\n    exps = np.exp(scores)\n    total = np.sum(exps, axis=-1, keepdims=True)\n"
        "    return exps / total"
    )


def test_only_a_function_named_like_a_plain_softmax_taking_one_argument_is_probed(tmp_path):
    # gradients, losses, log-softmax and two-argument functions are not softmaxes to call on scores
    path, found = checked(tmp_path, NAMES)
    assert [(f.layer, f.line) for f in found] == [("Softmax", len(NAMES.splitlines()))]


def test_a_file_with_samples_in_columns_wants_each_column_to_sum_to_one(tmp_path):
    path, [finding] = checked(tmp_path, COLUMN_LAYOUT)
    line, shift = line_of(COLUMN_LAYOUT, "return e / np.sum"), line_of(COLUMN_LAYOUT, "e = np.exp(z - np.max")
    assert (finding.line, finding.highlight) == (line, (shift, line))
    assert finding.message == (
        "the softmax in `softmax` normalises each class over the batch instead of each sample (a column, in this "
        f"file) (line {line}): `np.sum(e, axis=1, keepdims=True)` reduces over axis 1, so the samples' "
        "probabilities do not sum to 1 and every gradient is wrong; reduce over axis 0 with keepdims=True"
    )
    assert finding.fix == (
        "e = np.exp(z - np.max(z, axis=0, keepdims=True))\nreturn e / np.sum(e, axis=0, keepdims=True)"
    )
    columns = probe_scores().T  # one sample per column
    e = np.exp(columns - np.max(columns, axis=1, keepdims=True))
    sums = (e / np.sum(e, axis=1, keepdims=True)).sum(axis=0)
    assert dict(finding.evidence)["row sums"] == (
        f"`softmax` on random scores of shape (4, 5), one sample per column as in this file: {shown(sums)} "
        "(each should be 1)"
    )


LOSS_LAYER = """\
import numpy as np


class SoftmaxCrossEntropy:
    def _softmax(self, scores):
        e = np.exp(scores)
        return e / np.sum(e)

    def forward(self, scores, labels):
        self.labels = labels
        self.probs = self._softmax(scores)
        return -np.sum(labels * np.log(self.probs + 1e-8)) / scores.shape[0]

    def backward(self, dout=1):
        return dout * (self.probs - self.labels) / self.labels.shape[0]
"""


def test_a_loss_layers_kept_probabilities_come_first_then_its_softmax_method_on_random_scores(tmp_path):
    path, [finding] = checked(tmp_path, LOSS_LAYER)
    line = line_of(LOSS_LAYER, "return e / np.sum(e)")
    assert (finding.layer, finding.line, finding.highlight) == ("SoftmaxCrossEntropy._softmax", line, (line,))
    (first, kept), (second, probed), (third, _) = finding.evidence
    assert (first, second, third) == ("row sums", "row sums", "reductions")
    assert kept.startswith("`SoftmaxCrossEntropy.probs` after forward on a batch of scores of shape (5, 4): ")
    e = np.exp(probe_scores())
    assert probed == (
        f"`SoftmaxCrossEntropy._softmax` on random scores of shape (5, 4): {shown((e / e.sum()).sum(axis=1))} "
        "(each should be 1)"
    )
    kept_sums = [float(v) for v in kept.split(": ", 1)[1].removesuffix(" (each should be 1)").split(", ")]
    assert len(kept_sums) == 5 and sum(kept_sums) == pytest.approx(1.0, abs=0.01)  # the whole batch sums to 1
    assert finding.measured == pytest.approx(max(abs(v - 1) for v in kept_sums), abs=1e-3)  # the layer's own scores
