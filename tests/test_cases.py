"""User files found in review that once gave false alarms or wrong diagnoses, through the real CLI.

The files live in tests/cases/; each is copied to a temp folder and checked as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parent / "cases"


def check(tmp_path: Path, name: str, *extra: str) -> tuple[int, dict, str]:
    shutil.copy(CASES / name, tmp_path / name)
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(tmp_path / name), "--format", "json", "--no-training", *extra],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, data, result.stderr


def errors(data: dict) -> list[dict]:
    return [f for f in data["files"][0]["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize(
    "name",
    ["int_labels_only.py", "embedding.py", "batchnorm_in_network.py", "mul_add_layers.py", "weight_decay.py"],
)
def test_correct_code_gets_no_error(tmp_path, name):
    code, data, _ = check(tmp_path, name)
    assert code == 0 and errors(data) == []


def test_weight_decay_in_the_loss_is_not_taken_for_a_bad_initial_loss(tmp_path):
    _, data, _ = check(tmp_path, "weight_decay.py")
    assert "init-loss" not in {f["name"] for f in data["files"][0]["findings"]}


def test_two_input_layers_are_checked_on_both_inputs(tmp_path):
    _, data, _ = check(tmp_path, "mul_add_layers.py")
    report = data["files"][0]
    assert not [f for f in report["findings"] if f["name"] == "build-failed"]
    built = {b["what"]: b["shapes"] for b in report["built"]}
    assert built["MulLayer"] == built["AddLayer"] == "x (4, 6), y (4, 6)"
    checked = {(m["layer"], m["param"]) for m in report["measurements"]}
    assert {("MulLayer", "y"), ("AddLayer", "y")} <= checked


def test_accumulated_gradients_are_the_root_cause_at_their_line(tmp_path):
    code, data, _ = check(tmp_path, "accumulating_grads.py")
    root = data["root_cause"]
    assert code == 1 and (root["name"], root["line"]) == ("nonreentrant-backward", 18)


def test_dlfs2_grads_rebound_points_at_the_layer_line_with_the_in_place_fix(tmp_path):
    code, data, _ = check(tmp_path, "dlfs2_grads_rebound.py")
    root = data["root_cause"]
    assert code == 1 and root["line"] == 42
    assert "self.grads[0][...] = " in root["message"]


def test_build_naming_an_unknown_class_is_a_usage_error(tmp_path):
    code, _, stderr = check(tmp_path, "int_labels_only.py", "--build", "Nope(1)")
    assert code == 2 and "Nope" in stderr


def test_build_that_raises_is_a_finding_not_a_silent_fallback(tmp_path):
    code, data, _ = check(tmp_path, "int_labels_only.py", "--build", "TwoLayerNet(3)")
    failed = [f for f in data["files"][0]["findings"] if f["name"] == "build-failed"]
    assert failed and "--build" in failed[0]["message"]


def test_select_with_an_unknown_code_is_a_usage_error(tmp_path):
    code, _, stderr = check(tmp_path, "int_labels_only.py", "--select", "BPD999")
    assert code == 2 and "BPD999" in stderr


def test_a_wrong_gradient_in_one_branch_points_at_the_branch_that_ran(tmp_path):
    code, data, _ = check(tmp_path, "dropout_branches.py")
    root = data["root_cause"]
    assert code == 1 and (root["name"], root["line"]) == ("gradient-mismatch", 18)  # train branch, not line 20
