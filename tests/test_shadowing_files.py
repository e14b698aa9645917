"""A user's folder may hold files named like standard modules (`random.py`, a common first name
for a script that draws random numbers). Python's own `tempfile` and NumPy's random module import
`random`; neither the tool nor the sandboxed child may pick up the user's file in its place
(it used to end in "internal error: cannot import name 'SystemRandom'")."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.userfiles import check, errors, write

TRAINING_SCRIPT = """\
import numpy as np

np.random.seed(0)
X = np.random.randn(64, 3)
y = (X.sum(axis=1, keepdims=True) > 0).astype(float)
W = np.random.randn(3, 1) * 0.1
b = np.zeros((1, 1))
for i in range(100):
    p = 1 / (1 + np.exp(-(X @ W + b)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz = (p - y) / len(X)
    W -= 0.5 * X.T @ dz
    b -= 0.5 * dz.sum(axis=0, keepdims=True)
"""


def test_a_script_beside_a_random_py_is_checked(tmp_path):
    write(tmp_path, "random.py", TRAINING_SCRIPT)
    report = check(write(tmp_path, "logistic.py", TRAINING_SCRIPT))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"]} == {"W", "b"}


def test_a_script_named_random_py_is_checked_itself(tmp_path):
    report = check(write(tmp_path, "random.py", TRAINING_SCRIPT))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"]} == {"W", "b"}


def test_the_installed_command_run_in_that_folder_gives_a_report_not_an_internal_error(tmp_path):
    write(tmp_path, "random.py", TRAINING_SCRIPT)
    path = write(tmp_path, "logistic.py", TRAINING_SCRIPT)
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", path.name, "--no-training", "--color", "never"],
        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "internal error" not in result.stdout + result.stderr
    assert result.stdout.startswith("✓ logistic.py")
