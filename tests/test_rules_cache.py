"""The rule registry's cache: `rules.registry` reads every rule's metadata from the check files'
text once and keeps it in the checks' `__pycache__/rules.json`, which a later command reads
instead of parsing some 130 files, for as long as every file keeps its size and time.

Each test works on a copy of the real checks folder in a temporary directory, under a package
name of its own, so nothing of the installed package is read from its cache or written.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

import backprop_doctor.checks as checks
from backprop_doctor import rules

PACKAGE = "bpd_cache_copy.checks"  # never imported: the registry reads the copy's text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "checks"
    shutil.copytree(Path(checks.__path__[0]), copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _fields(registry: dict[str, rules.Rule]) -> list[tuple]:
    return [(r.name, r.code, r.severity, r.stage, r.doc, r.runner) for r in registry.values()]


def _parsed(folder: Path) -> dict[str, rules.Rule]:
    """The registry as the files' text gives it, with no cache in the way."""
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    made = rules.registry(folder, PACKAGE)
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    return made


def test_a_second_read_comes_from_the_cache_and_gives_the_same_rules(folder, monkeypatch):
    first = rules.registry(folder, PACKAGE)
    assert (folder / "__pycache__" / rules.CACHE_NAME).is_file()
    assert len(first) > 50 and all(r.runner is None or r.runner.startswith(PACKAGE + ".") for r in first.values())

    def no_parsing(*args, **kwargs):
        raise AssertionError("a check file was parsed although the cache is current")

    monkeypatch.setattr(rules, "read_header", no_parsing)
    assert _fields(rules.registry(folder, PACKAGE)) == _fields(first)


def test_the_cached_registry_is_the_installed_one(folder):
    rules.registry(folder, PACKAGE)
    cached = rules.registry(folder, PACKAGE)
    installed = {r.name: (r.code, r.severity, r.stage, r.doc) for r in rules.all_rules().values()}
    assert {r.name: (r.code, r.severity, r.stage, r.doc) for r in cached.values()} == installed


def test_a_changed_check_file_is_read_again(folder):
    rules.registry(folder, PACKAGE)
    path = folder / "softmax_not_per_row.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('SEVERITY = "error"', 'SEVERITY = "warning"', 1), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    assert rules.registry(folder, PACKAGE)["softmax-not-per-row"].severity == "warning"
    assert _fields(rules.registry(folder, PACKAGE)) == _fields(_parsed(folder))


def test_a_new_check_file_is_found(folder):
    rules.registry(folder, PACKAGE)
    (folder / "made_up_rule.py").write_text(
        '"""A rule this test adds."""\n\nNAME = "made-up-rule"\nCODE = "BPD999"\nSEVERITY = "info"\nSTAGE = "static"\n\n\ndef run(context):\n    return []\n',
        encoding="utf-8",
    )
    made = rules.registry(folder, PACKAGE)["made-up-rule"]
    assert (made.code, made.runner, made.doc) == ("BPD999", f"{PACKAGE}.made_up_rule", "A rule this test adds.")


@pytest.mark.parametrize("text", ["", "{not json", json.dumps({"version": 1, "package": PACKAGE, "files": [], "rules": []}), json.dumps([1, 2])])
def test_a_broken_or_stale_cache_is_ignored_and_written_again(folder, text):
    expected = _fields(_parsed(folder))
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / rules.CACHE_NAME).write_text(text, encoding="utf-8")
    assert _fields(rules.registry(folder, PACKAGE)) == expected
    data = json.loads((folder / "__pycache__" / rules.CACHE_NAME).read_text(encoding="utf-8"))
    assert len(data["rules"]) == len(expected)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_install_is_read_from_the_text_and_nothing_is_written(folder):
    expected = _fields(_parsed(folder))
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert _fields(rules.registry(folder, PACKAGE)) == expected
        assert not (folder / "__pycache__").exists()
    finally:
        folder.chmod(stat.S_IRWXU)


def test_an_unwritable_cache_folder_is_no_error(folder):
    expected = _fields(_parsed(folder))
    (folder / "__pycache__").write_text("a file where the folder would be", encoding="utf-8")
    assert _fields(rules.registry(folder, PACKAGE)) == expected
