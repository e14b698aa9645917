"""Layers whose forward takes a constant mask from the caller (`forward(x, mask)`): the mask is given
as 0/1 of the input's shape, or of a batch of sequences' first two axes, and no gradient is asked of
it. A right backward is clean; one that forgets the count it averages over is found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = '''\
import numpy as np


class MaskedMean:
    """Mean over the valid time steps of a padded batch (N, T, D) -> (N, D)."""

    def forward(self, x, mask):
        self.mask = mask[:, :, None].astype(float)
        self.count = self.mask.sum(axis=1)
        return (x * self.mask).sum(axis=1) / self.count

    def backward(self, dout):
        return dout[:, None, :] * self.mask / self.count[:, None, :]


class ApplyMask:
    def forward(self, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, dout):
        return dout * self.mask
'''


def test_masked_layers_are_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "masked.py", LAYERS))
    assert errors(report) == []
    checked = {m["layer"] for m in report["measurements"] if m["verdict"] == "ok"}
    assert {"MaskedMean", "ApplyMask"} <= checked
    assert not any(m["param"] == "mask" for m in report["measurements"])


def test_a_masked_mean_that_forgets_its_count_is_found_at_its_line(tmp_path):
    wrong = "return dout[:, None, :] * self.mask\n"
    path = planted(tmp_path, "masked.py", LAYERS, "return dout[:, None, :] * self.mask / self.count[:, None, :]\n", wrong)
    (finding,) = errors(check(path))
    assert (finding["layer"], finding["line"]) == ("MaskedMean", line_of(path, wrong.strip()))
