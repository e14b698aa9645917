"""batch-coupling when no reduction explains the coupling, on images, and for batch statistics.

Layers that mix samples by indexing (`x[::-1]`, `np.roll(dout, 1, axis=0)`) have no reduction to
rewrite: the finding points at the method's `def` line and gives a generic fix. A coupling smaller
than 0.1 % is written as a number, not a percentage. Image inputs are reduced per sample over
axes (1, 2, 3). A layer is recognised as a batch-statistics layer by its running averages.
All through `check_file`, in-process.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

LAYERS = """\
import numpy as np


class Flip:
    def forward(self, x):
        return x + x[::-1]

    def backward(self, dout):
        return dout + dout[::-1]


class Shuffle:
    def forward(self, x):
        return 2.0 * x

    def backward(self, dout):
        return 2.0 * np.roll(dout, 1, axis=0)


class Whisper:
    def forward(self, x):
        return x + 1e-6 * x[::-1]

    def backward(self, dout):
        return dout + 1e-6 * dout[::-1]


class Double:
    def forward(self, x):
        return 2.0 * x

    def backward(self, dout):
        return 2.0 * dout
"""

SPATIAL = """\
import numpy as np


def spatial_center_forward(x):
    out = x - x.mean()
    return out, None


def spatial_center_backward(dout, cache):
    return dout
"""

RUNNING = """\
import numpy as np


class Standardize:
    def __init__(self):
        self.{attr} = np.zeros(6)

    def forward(self, x):
        return x - x.mean(axis=0)

    def backward(self, dout):
        return dout
"""


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def coupling(tmp_path: Path, text: str):
    path = tmp_path / "layers.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False))
    return str(path), {f.layer: f for f in report.by_name("batch-coupling")}


def line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[:start].count("\n") + next(n for n, line in enumerate(text[start:].splitlines(), 1) if needle in line)


@pytest.fixture
def layers(tmp_path):
    return coupling(tmp_path, LAYERS)  # per test: mutmut attributes what a test's own call runs to that test


def test_a_forward_that_mixes_rows_by_indexing_points_at_its_def_line_with_a_generic_fix(layers):
    path, found = layers
    assert sorted(found) == ["Flip", "Shuffle", "Whisper"]  # Double keeps its rows apart
    flip = found["Flip"]
    line = line_of(LAYERS, "def forward", after="class Flip")
    assert (flip.file, flip.line, flip.column, flip.highlight) == (path, line, None, (line,))
    assert re.fullmatch(
        r"`Flip\.forward` mixes the samples of a batch: changing sample \d changes the output of sample \d "
        r"\(by [\d.]+% of the output's largest value\); compute each sample's output from that sample alone",
        flip.message,
    ), flip.message
    assert flip.fix == "np.mean(x, axis=1, keepdims=True)  # one per sample"
    assert (flip.threshold, flip.severity) == (1e-9, "error") and 1e-3 < flip.measured < 1
    assert [name for name, _ in flip.evidence] == ["coupling"]


def test_a_backward_that_sends_a_gradient_to_another_row_points_at_its_def_line(layers):
    path, found = layers
    shuffle = found["Shuffle"]
    line = line_of(LAYERS, "def backward", after="class Shuffle")
    assert (shuffle.file, shuffle.line, shuffle.column, shuffle.highlight) == (path, line, None, (line,))
    assert re.fullmatch(
        r"`Shuffle\.backward` mixes the samples of a batch: an upstream gradient on sample (\d) alone gives "
        r"sample (\d) a dx of 100% of dx's largest value, although forward keeps the samples apart; "
        r"send each sample's gradient back to that sample only",
        shuffle.message,
    ), shuffle.message
    source, affected = map(int, re.search(r"sample (\d) alone gives sample (\d)", shuffle.message).groups())
    assert affected == (source + 1) % 5  # np.roll moves row i to row i + 1
    assert (shuffle.measured, shuffle.threshold, shuffle.severity) == (1.0, 1e-9, "error")
    assert shuffle.fix == "dx = ...  # row i from dout[i] and what forward kept of sample i only"
    assert dict(shuffle.evidence) == {
        "coupling": f"checked on a batch of 5, input (5, 6): sample {source} → dx of sample {affected}, "
        "relative change 1 (threshold 1e-09)"
    }


def test_a_coupling_below_a_thousandth_is_written_as_a_number_not_a_percentage(layers):
    whisper = layers[1]["Whisper"]
    assert 1e-9 < whisper.measured < 1e-5
    assert f"(by {whisper.measured:.3g} of the output's largest value)" in whisper.message
    assert "%" not in whisper.message


def test_an_image_input_is_reduced_per_sample_over_its_three_other_axes(tmp_path):
    path, found = coupling(tmp_path, SPATIAL)
    center = found["spatial_center_forward"]
    line = line_of(SPATIAL, "out = x - x.mean()")
    assert (center.file, center.line, center.highlight) == (path, line, (line,))
    assert center.message.endswith("reduce over each sample's own features (axis=(1, 2, 3), keepdims=True)")
    assert center.fix == "out = x - x.mean(axis=(1, 2, 3), keepdims=True)"
    assert dict(center.evidence)["coupling"].startswith("checked on a batch of 2 (x (2, 3, 4, 4)), input (2, 3, 4, 4): ")


@pytest.mark.parametrize("attr", ["running_mean", "running_var", "moving_mean", "moving_var"])
def test_a_layer_that_keeps_running_statistics_and_has_no_train_flag_gets_the_skip_note(tmp_path, attr):
    text = RUNNING.format(attr=attr)
    path, found = coupling(tmp_path, text)
    note = found["Standardize"]
    assert (note.severity, note.file, note.line) == ("info", path, line_of(text, "def forward"))
    assert note.message == (
        "`Standardize` normalises with the batch's statistics, which couples the samples by design, so the "
        "batch-coupling check skipped it: add a `train_flg` argument to `Standardize.forward` to check it in "
        "inference mode"
    )
    assert note.fix == "def forward(self, x, train_flg=True):"


def test_the_same_layer_without_running_statistics_is_reported_as_coupled(tmp_path):
    text = RUNNING.format(attr="offset")
    path, found = coupling(tmp_path, text)
    coupled = found["Standardize"]
    line = line_of(text, "return x - x.mean(axis=0)")
    assert (coupled.severity, coupled.line) == ("error", line)
    assert coupled.fix == "return x - x.mean(axis=1, keepdims=True)"


TRAIN_FLAG = """\
import numpy as np


class Noisy:
    def forward(self, x, train_flg=True):
        if train_flg:
            return x - x.mean(axis=0)
        return x

    def backward(self, dout):
        return dout
"""


def test_a_layer_that_mixes_samples_only_in_training_mode_is_reported_only_when_checking_in_training_mode(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(TRAIN_FLAG, encoding="utf-8")
    assert check_file(path, Options(training=False, train=False)).by_name("batch-coupling") == []
    [noisy] = check_file(path, Options(training=False)).by_name("batch-coupling")  # training mode is the default
    line = line_of(TRAIN_FLAG, "return x - x.mean(axis=0)")
    assert (noisy.layer, noisy.line, noisy.fix) == ("Noisy", line, "return x - x.mean(axis=1, keepdims=True)")
