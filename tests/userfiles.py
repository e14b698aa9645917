"""Helpers for tests that write a user's file and check it with the real CLI.

Every helper here works on real files in a temporary folder and runs
`python -m backprop_doctor` in a subprocess, the way a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write(folder: Path, name: str, text: str) -> Path:
    """The user's file `name` in `folder` (`name` may hold subfolders), dedented, UTF-8."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def planted(folder: Path, name: str, text: str, correct: str, wrong: str) -> Path:
    """The correct program with one statement replaced by its buggy twin."""
    source = textwrap.dedent(text)
    assert correct in source, correct
    return write(folder, name, source.replace(correct, wrong, 1))


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` containing `text`."""
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def check(path: Path, *extra: str, training: bool = False) -> dict:
    """The JSON report of `backprop-doctor check PATH [--no-training] EXTRA...` for that file, run in its folder."""
    env = {**os.environ, "NO_COLOR": "1"}
    flags = () if training else ("--no-training",)
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", *flags, *extra],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def replayed(report: dict) -> dict:
    """The report's one replayed training step, which must have been replayed."""
    (result,) = report["extras"]["replay"]
    assert result["not_replayed"] is None, result
    return result


def step_verdicts(report: dict) -> dict[str, str]:
    """The replayed training step's verdict for each parameter it measured (`{"W1": "ok", ...}`)."""
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]
