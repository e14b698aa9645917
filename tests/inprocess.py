"""Helpers for tests that check a user's file in this process, where a mutation run can see the
checks' code run (the CLI's child process is out of its sight; `tests/userfiles.py` drives that).

Import the fixtures into a test module to use them there (`restored_interpreter` is autouse).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_doctor import pipeline
from backprop_doctor.context import CheckContext
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options
from backprop_doctor.replay import replay_file


@pytest.fixture(autouse=True)
def restored_interpreter(tmp_path):
    """The import path, the import hooks and the NumPy random state as they were, and the user's
    modules this test imported dropped: a later test's `from layers import ...` must read its own
    file, also when the same process runs the tests again (a mutation run does)."""
    saved = list(sys.path), list(sys.meta_path), set(sys.modules), np.random.get_state()
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    np.random.set_state(saved[3])
    for name in set(sys.modules) - saved[2]:
        module = sys.modules[name]
        if name.startswith("__bpd") or type(module).__name__ == "StubModule" or str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture
def program_runs(monkeypatch):
    """The file's own program runs (the observed run, the training-step replay) as in the CLI's
    child, where the sandbox holds it (`pipeline._may_run`); the programs are the tests' own text."""
    monkeypatch.setattr(pipeline, "_may_run", lambda context: context.options.run and context.options.build is None)


@pytest.fixture
def unranked(monkeypatch):
    """`check_file` hands back the findings as the checks leave them (the ranking would link
    symptoms to their root by itself, hiding whether a check did)."""
    monkeypatch.setattr(pipeline, "rank", lambda report: report)


def edited(text: str, *edits: tuple[str, str]) -> str:
    """`text` dedented, each `old` (which must be there) replaced once by its `new`."""
    text = textwrap.dedent(text)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def line_of(path: Path, needle: str, after: int = 0) -> int:
    """The 1-based line of the first line of `path` after line `after` that contains `needle`."""
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if i > after and needle in line)


def replayed_findings(path: Path, check: Any, curve: bool = True) -> tuple[list[Any], list[Any]]:
    """(the replay's results, what `check` finds in them) for the script at `path`, replayed here."""
    source, _ = read_source(str(path))
    context = CheckContext(options=Options(training=False), source=source)
    context.extras["replay"] = results = replay_file(source, 10.0, seed=0, curve=curve, measure=True)
    return results, list(check.run(context))


def replayed(tmp_path: Path, check: Any, text: str, *edits: tuple[str, str], curve: bool = True) -> tuple[Path, Any, list[Any]]:
    """(path, the replay's one result, what `check` finds) for `text` with `edits` applied, written as train.py."""
    path = tmp_path / "train.py"
    path.write_text(edited(text, *edits), encoding="utf-8")
    (result,), found = replayed_findings(path, check, curve)
    return path, result, found


def checked(tmp_path: Path, name: str, text: str, **options: Any) -> tuple[Path, list[Any]]:
    """(path, findings) of `text`, dedented, written as `name` in `tmp_path` and checked in this
    process without the training probe (`options` for the rest); no check may have failed."""
    from backprop_doctor.pipeline import check_file

    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    report = check_file(path, Options(training=False, **options))
    assert "internal_errors" not in report.extras, report.extras.get("internal_errors")
    return path, report.findings
