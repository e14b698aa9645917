"""check-crashed's words (issue 15, twelfth round): a check of backprop-doctor that raises is a warning
naming that check, the exception's type and text, and the file, for a real correct file checked in this
process with one rule made to raise (as `test_check_crashed.py`)."""

from __future__ import annotations

import importlib

from test_check_crashed import LAYER

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file
from backprop_doctor.rules import all_rules


def test_a_crashed_check_is_named_with_its_exception_and_the_checked_file(tmp_path, monkeypatch):
    path = tmp_path / "affine.py"
    path.write_text(LAYER, encoding="utf-8")

    def broken(context):
        raise ValueError("shapes (3,) and (4,) do not match")
        yield  # a generator, like the real rules

    monkeypatch.setattr(importlib.import_module(all_rules()["batch-coupling"].runner), "run", broken)
    (finding,) = check_file(path, Options(training=False)).findings
    assert finding.message == (
        "the `batch-coupling` check of backprop-doctor failed on this file (ValueError: shapes (3,) and (4,) do not match); "
        "its findings are missing from this report: this is a bug in backprop-doctor, please report it"
    )
    assert (finding.layer, finding.file, finding.severity, finding.code) == ("batch-coupling", str(path), "warning", "BPD009")
