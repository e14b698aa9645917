"""The README's examples are run as written, and its set-up commands match CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"<!-- readme-test: (\w+) -->\n```python\n(.*?)```", re.S)


def blocks(kind: str) -> list[str]:
    return [code for k, code in BLOCK.findall(README) if k == kind]


def test_readme_has_examples_of_every_kind():
    assert len(blocks("python")) >= 1 and len(blocks("pytest")) >= 2


@pytest.mark.parametrize("code", blocks("python"))
def test_library_example_prints_what_the_readme_says(code, tmp_path):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = code.splitlines()
    expected = [lines[i + 1][2:] for i, line in enumerate(lines[:-1]) if line.startswith("print(") and lines[i + 1].startswith("# ")]
    assert expected, "the example shows its output in comments"
    printed = result.stdout.splitlines()
    assert len(printed) == len(expected), printed
    for want, got in zip(expected, printed, strict=True):
        prefix = want.removesuffix("...").rstrip()
        assert got.startswith(prefix), (want, got)


@pytest.mark.parametrize("code", blocks("pytest"))
def test_pytest_example_passes_under_pytest(code, pytester):
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and "failed" not in outcomes and "error" not in outcomes


def test_setup_commands_match_ci_and_name_a_real_sample():
    commands = re.findall(r"```console\n(python3 -m venv .*?)\n```", README)
    assert len(commands) >= 2
    install_and_check, install_and_test = commands[0], commands[1]
    sample = re.search(r"backprop-doctor check (\S+)", install_and_check).group(1)
    assert (ROOT / sample).is_file()
    test_command = install_and_test.split("&&")[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci
    assert "pip install" in ci and "'.[test]'" in ci and "'.[test]'" in install_and_test


def test_readme_shows_the_verdict_the_tool_prints(tmp_path):
    shown = re.search(r"```text\n(✗ samples/\S+: .*?)\n", README).group(1)
    sample = ROOT / shown.split(":")[0].removeprefix("✗ ")
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(sample.relative_to(ROOT)), "--color", "never"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    first = " ".join(result.stdout.split("\nseed ")[0].split())
    assert first.startswith(shown.removesuffix("...").rstrip()), (shown, first)
