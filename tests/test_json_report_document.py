"""The JSON document, field by field, on reports written out by hand (schema in report/json_report.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from backprop_doctor import __version__
from backprop_doctor.findings import Built, Finding, Measurement, Report
from backprop_doctor.ranking import rank
from backprop_doctor.report.json_report import SCHEMA, _jsonable, to_data, to_json
from backprop_doctor.report.text import verdict


def _mismatch(file: str | None = "net.py", line: int = 7, **fields) -> Finding:
    return Finding("gradient-mismatch", "BPD101", "error", "the gradient dW of `Affine` is wrong",
                   layer="Affine", param="W", file=file, line=line, **fields)


def _clean(file: str = "ok.py", seed: int = 0) -> Report:
    return rank(Report(file=file, seed=seed, measurements=[Measurement("Affine", "W", 1e-10, "ok", probes=4)]))


def test_the_document_names_the_tool_its_version_and_schema_and_the_first_seed():
    data = to_data([_clean(seed=5), _clean(seed=9)])
    assert data["tool"] == "backprop-doctor"
    assert data["version"] == __version__
    assert data["schema"] == SCHEMA == 1
    assert data["seed"] == 5
    assert data["root_cause"] is None
    assert data["summary"] == {"files": 2, "failing": 0, "errors": 0, "warnings": 0, "info": 0}


def test_no_reports_is_an_empty_document():
    assert to_data([]) == {
        "tool": "backprop-doctor",
        "version": __version__,
        "schema": 1,
        "seed": None,
        "root_cause": None,
        "files": [],
        "summary": {"files": 0, "failing": 0, "errors": 0, "warnings": 0, "info": 0},
    }


def test_a_file_entry_holds_its_findings_with_keys_its_root_and_its_training_curve():
    note = Finding("missing-module", "BPD003", "info", "`torch` is not installed", line=1, file="net.py")
    report = rank(
        Report(
            file="net.py",
            seed=3,
            findings=[note, _mismatch()],
            measurements=[Measurement("Affine", "W", 0.5, "mismatch", probes=6)],
            built=[Built("Affine", "Affine(W, b) from line 4", "x (2, 3)")],
            extras={"training": {"yours": [2.3, 2.5], "steps": 2}, "probe": "short"},
        )
    )
    [entry] = to_data(report)["files"]
    assert entry["file"] == "net.py" and entry["ok"] is False and entry["seed"] == 3
    assert entry["verdict"] == verdict(report)
    assert [f["key"] for f in entry["findings"]] == ["BPD101:Affine:W:7", "BPD003:::1"]
    assert entry["root_cause"] == 0
    assert entry["findings"][1]["caused_by"] is None
    assert entry["measurements"] == [
        {"layer": "Affine", "param": "W", "relative_error": 0.5, "verdict": "mismatch", "probes": 6}
    ]
    assert entry["built"][0]["what"] == "Affine" and entry["built"][0]["shapes"] == "x (2, 3)"
    assert entry["training"] == {"yours": [2.3, 2.5], "steps": 2}
    assert entry["extras"] == {"probe": "short"}  # the curve is not repeated among the extras
    assert report.extras["training"] == {"yours": [2.3, 2.5], "steps": 2}  # the report is left as it was


def test_a_file_without_training_or_root_has_nulls():
    [entry] = to_data(_clean())["files"]
    assert entry["training"] is None and entry["root_cause"] is None and entry["extras"] == {}
    assert entry["ok"] is True and entry["findings"] == []


def test_the_top_root_cause_is_the_first_failing_files_named_finding():
    alice = rank(Report(file="alice.py", findings=[_mismatch(file=None, line=12)]))
    bob = rank(Report(file="bob.py", findings=[_mismatch(file="helpers.py", line=3)]))
    data = to_data([_clean(), alice, bob])
    assert data["root_cause"] == {
        "file": "alice.py",  # the finding has no file of its own: the report's
        "index": 0,
        "name": "gradient-mismatch",
        "code": "BPD101",
        "line": 12,
        "message": "the gradient dW of `Affine` is wrong",
    }
    assert to_data([bob, alice])["root_cause"]["file"] == "helpers.py"  # the finding's own file


def test_a_root_cause_missing_from_its_findings_passes_the_top_root_to_the_next_file():
    lost = Report(file="lost.py", findings=[_mismatch(line=5)])
    lost.root_cause = Finding("loss-rises", "BPD601", "error", "the loss rises", line=99)  # not in findings
    found = rank(Report(file="found.py", findings=[_mismatch(file=None, line=8)]))
    data = to_data([lost, found])
    assert data["files"][0]["root_cause"] is None
    assert data["root_cause"]["file"] == "found.py" and data["root_cause"]["line"] == 8


def test_a_failing_file_without_root_names_its_first_error():
    report = Report(file="net.py", findings=[_mismatch(line=5), _mismatch(line=9)])  # not ranked
    assert to_data(report)["root_cause"]["line"] == 5


def test_the_json_text_is_indented_by_two_unless_asked_and_keeps_non_ascii():
    report = rank(Report(file="réseau.py", findings=[_mismatch(file="réseau.py")]))
    text = to_json(report)
    assert text.startswith('{\n  "tool": "backprop-doctor",\n')
    assert "réseau.py" in text and "✗" in text
    flat = to_json(report, indent=None)
    assert "\n" not in flat and json.loads(flat) == json.loads(text)


def test_nan_and_infinities_anywhere_are_spelled_out():
    finding = _mismatch(measured=float("nan"), threshold=float("inf"))
    report = rank(Report(file="net.py", findings=[finding], extras={"curve": [1.0, float("-inf"), float("nan")]}))
    data = json.loads(to_json(report))  # allow_nan=False: a bare NaN would raise here
    assert data["files"][0]["findings"][0]["measured"] == "nan"
    assert data["files"][0]["findings"][0]["threshold"] == "inf"
    assert data["files"][0]["extras"]["curve"] == [1.0, "-inf", "nan"]


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ({1: (2, 3)}, {"1": [2, 3]}),
        ([True, False, None, "s", 7], [True, False, None, "s", 7]),
        (2.5, 2.5),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (np.array([[1.5, 2.0]]), [[1.5, 2.0]]),
        (np.int64(4), 4),
        (np.float32(0.5), 0.5),
        (np.array([np.inf]), ["inf"]),
        (np.bool_(True), True),
        ({"shape": (2, 3)}, {"shape": [2, 3]}),
    ],
)
def test_values_become_plain_json(value, plain):
    result = _jsonable(value)
    assert result == plain
    assert json.loads(json.dumps(result, allow_nan=False)) == plain
    assert type(result) is type(plain)


def test_types_json_cannot_hold_become_their_text():
    class Layer:
        def __str__(self) -> str:
            return "<Affine 3->2>"

    assert _jsonable({"layer": Layer(), "ok": True, "n": 3}) == {"layer": "<Affine 3->2>", "ok": True, "n": 3}
    assert _jsonable(True) is True and _jsonable(1) == 1 and type(_jsonable(1)) is int
    assert math.isclose(_jsonable(1e-300), 1e-300)
