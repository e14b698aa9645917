"""`checks/gradient_mismatch.py`: the engine's gradient findings get the corrected line, in place.

The findings are those the engine emits for a Sigmoid whose backward forgot `(1 - y)`; the
check completes them from the file the user wrote (here in `tmp_path`) and yields nothing new.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_doctor.checks import gradient_mismatch
from backprop_doctor.context import CheckContext
from backprop_doctor.findings import Finding
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options

SIGMOID = """\
import numpy as np


class Sigmoid:
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.y = y
        return y

    def backward(self, grad_output):
        return grad_output * self.y          # forgot (1 - y)
"""
FIXED = "return grad_output * (1.0 - self.y) * self.y"
LINE = 11


@pytest.fixture
def source(tmp_path: Path):
    path = tmp_path / "sigmoid.py"
    path.write_text(SIGMOID, encoding="utf-8")
    found, _ = read_source(path)
    assert found.text.split("\n")[LINE - 1].strip().startswith("return grad_output * self.y")
    return found


def mismatch(path: str | None, name: str = "gradient-mismatch", **fields) -> Finding:
    fields.setdefault("line", LINE)
    return Finding(name, "BPD101" if name == "gradient-mismatch" else "BPD102", "error", "the input gradient is wrong",
                   layer="Sigmoid", param="x", file=path, **fields)


def completed(source, *findings: Finding) -> list[Finding]:
    context = CheckContext(options=Options(), source=source, findings=list(findings))
    assert list(gradient_mismatch.run(context)) == []
    return context.findings


def test_a_wrong_gradient_in_the_checked_file_gets_its_corrected_line(source):
    [finding] = completed(source, mismatch(source.path))
    assert finding == mismatch(source.path).replace(fix=FIXED)


def test_a_finding_without_a_file_is_taken_to_be_in_the_checked_file(source):
    assert completed(source, mismatch(None))[0].fix == FIXED


def test_a_wrong_shape_is_completed_too_and_other_findings_are_left_alone(source):
    shape, other = mismatch(source.path, "gradient-shape-mismatch"), mismatch(source.path, "gradient-at-kink")
    assert [f.fix for f in completed(source, other, shape)] == [None, FIXED]


def test_a_fix_already_there_a_finding_without_a_line_or_in_another_file_is_kept_as_it_is(source, tmp_path):
    given = mismatch(source.path, fix="return grad_output * self.y * (1 - self.y)")
    no_line = mismatch(source.path, line=None)
    elsewhere = mismatch(str(tmp_path / "layers" / "sigmoid.py"))
    assert completed(source, given, no_line, elsewhere, mismatch(source.path)) == [
        given, no_line, elsewhere, mismatch(source.path).replace(fix=FIXED)
    ]


def test_a_line_the_tool_cannot_correct_gets_no_fix(source):
    assert completed(source, mismatch(source.path, line=6))[0].fix is None


def test_without_a_parsed_file_nothing_is_completed(source):
    unparsed = type(source)(source.path, source.text, None)
    assert completed(unparsed, mismatch(source.path))[0].fix is None
    context = CheckContext(options=Options(), findings=[mismatch(None)])
    assert list(gradient_mismatch.run(context)) == [] and context.findings[0].fix is None
