"""Every bundled sample through the real CLI: buggy ones get their root cause at the right line,
correct ones exit 0 with no error finding."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

# sample → (root cause name, its line, other findings that must be present as (name, line))
BUGGY = {
    "two_layer_net_batch_softmax.py": ("softmax-not-per-row", 12, {("gradient-mismatch", None), ("loss-rises", None)}),
    "bias_wrong_axis.py": ("gradient-shape-mismatch", 26, set()),
    "sigmoid_backward_wrong.py": ("gradient-mismatch", 18, set()),
    "loss_not_divided_by_batch.py": ("gradient-mismatch", 37, {("loss-not-mean", 37)}),
    "cs231n_buggy.py": ("gradient-mismatch", 29, {("gradient-shape-mismatch", 18)}),
    "unshared_params.py": ("unshared-parameter", 81, {("unshared-parameter", 83)}),
    "rebinding_update.py": ("unshared-parameter", 120, set()),
    "misspelled_init.py": ("misspelled-dunder", 25, {("misspelled-dunder", 11)}),
    "batch_coupled.py": ("batch-coupling", 14, {("gradient-mismatch", 18)}),
    "lr_too_high.py": ("learning-rate-too-high", 103, {("loss-diverges", None)}),
    "dead_relu.py": ("dead-relu", 62, {("loss-stagnant", None)}),
    "inplace_input.py": ("input-mutated", 45, set()),
}
CORRECT = [
    "two_layer_net_fixed.py",
    "multilayer_relu_fixed.py",
    "batchnorm_dropout_fixed.py",
    "dlfs2_style.py",
    "cs231n_layers.py",
    "float32_model.py",
]


def check(tmp_path: Path, name: str) -> tuple[int, dict]:
    """Copy the sample to a fresh folder (as a user's file) and run the CLI on it."""
    path = tmp_path / name
    shutil.copy(SAMPLES / name, path)
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def test_every_sample_is_covered_here():
    assert set(BUGGY) | set(CORRECT) == {p.name for p in SAMPLES.glob("*.py")}


@pytest.mark.parametrize("name", sorted(BUGGY))
def test_buggy_sample_is_diagnosed_with_its_root_cause(tmp_path, name):
    root_name, root_line, also = BUGGY[name]
    code, data = check(tmp_path, name)
    assert code == 1
    root = data["root_cause"]
    assert (root["name"], root["line"]) == (root_name, root_line), root
    findings = data["files"][0]["findings"]
    present = {(f["name"], f["line"]) for f in findings} | {(f["name"], None) for f in findings}
    assert also <= present, sorted(present, key=str)


@pytest.mark.parametrize("name", CORRECT)
def test_correct_sample_has_no_error_finding(tmp_path, name):
    code, data = check(tmp_path, name)
    errors = [f for f in data["files"][0]["findings"] if f["severity"] == "error"]
    assert code == 0 and errors == [] and data["root_cause"] is None


def test_float32_sample_gets_only_precision_notes(tmp_path):
    _, data = check(tmp_path, "float32_model.py")
    names = {f["name"] for f in data["files"][0]["findings"]}
    assert names == {"float32-precision"}


def test_seed_sized_sample_shows_the_users_curve_against_the_fixed_one(tmp_path):
    _, data = check(tmp_path, "two_layer_net_batch_softmax.py")
    training = data["files"][0]["training"]
    yours, reference = training["yours"], training["reference"]
    assert yours[-1] > yours[0]  # the user's loss rises
    assert reference[-1] < reference[0] / 2  # with a per-row softmax it falls
    assert "softmax" in training["reference_label"]
