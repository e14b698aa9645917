"""A check of backprop-doctor that raises never lets a file pass for clean.

The file is a real correct file in a temporary folder, checked in this process
through `pipeline.check_file` with one rule made to raise: the report must carry
the `check-crashed` warning naming that rule and the exception, and the other
rules' work (the gradient measurements) must still be there.
"""

from __future__ import annotations

import importlib

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file
from backprop_doctor.rules import all_rules

LAYER = """
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""


def test_a_check_that_raises_is_a_warning_naming_it_not_a_clean_report(tmp_path, monkeypatch):
    path = tmp_path / "affine.py"
    path.write_text(LAYER, encoding="utf-8")
    clean = check_file(path, Options(training=False))
    assert clean.findings == []

    def broken(context):
        raise KeyError("a bug of ours")
        yield  # a generator, like the real rules

    monkeypatch.setattr(importlib.import_module(all_rules()["batch-coupling"].runner), "run", broken)
    report = check_file(path, Options(training=False))
    (finding,) = report.findings
    assert (finding.name, finding.code, finding.severity) == ("check-crashed", "BPD009", "warning")
    assert "`batch-coupling`" in finding.message and "KeyError" in finding.message
    assert report.measurements  # the gradient check of the layer still ran and is reported
