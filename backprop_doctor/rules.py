"""The rule registry: every check is one module in `backprop_doctor.checks`.

A check module carries its own identity and documentation:

    NAME = "softmax-not-per-row"     # stable, kebab-case
    CODE = "BPD301"                  # stable, never reused
    SEVERITY = "error"               # default severity of its findings
    STAGE = "batch"                  # causal stage, used to rank findings
    '''What it finds / Why it matters / Example / Fix'''   # the module docstring

and, when it inspects a checked file or object rather than being raised by
the gradient engine, a `run(context) -> Iterable[Finding]`.  Adding a check
means adding that module and its test; nothing else lists it.

The metadata is read from the check files' text (`static.header`), without importing them: a
report needs every rule's stage and summary, but only the pipeline runs checks,
and a check module is imported when its `run` is first called. What the text gave is kept in the
checks' `__pycache__/rules.json` for the next command (`registry`), and a process that has imported
every check (a worker) reads them from their modules.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import pkgutil
import sys
import tempfile
from pathlib import Path
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from backprop_doctor.errors import UsageError
from backprop_doctor.findings import Finding, Severity
from backprop_doctor.static.header import read_header

# Causal order: an earlier stage explains the symptoms of a later one.
STAGES = ("load", "static", "gradient", "contract", "batch", "sharing", "loss", "training")


@dataclass(frozen=True)
class Rule:
    name: str
    code: str
    severity: Severity
    stage: str
    doc: str
    # the check's `run`, or the name of the module that defines it (imported on first use)
    runner: Callable[[Any], Iterable[Finding]] | str | None = None

    @property
    def run(self) -> Callable[[Any], Iterable[Finding]] | None:
        """The check's `run(context)`, or None for a rule raised by the engine or the loader."""
        if isinstance(self.runner, str):
            return importlib.import_module(self.runner).run
        return self.runner

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name

    def finding(self, message: str, *, severity: Severity | None = None, **fields: Any) -> Finding:
        """A finding of this rule; `severity` overrides the rule's default."""
        return Finding(
            name=self.name, code=self.code, severity=severity or self.severity, message=message, **fields
        )


_FIELDS = ("NAME", "CODE", "SEVERITY", "STAGE")


def _read_rule(module: str, path: Path) -> Rule | None:
    """A rule from its check file's text: literal NAME/CODE/SEVERITY/STAGE, docstring, `run`.

    A file that computes any of these imports as before; one without NAME is not a rule.
    """
    header = read_header(path, _FIELDS, ("run",))
    if header is None:
        return _import_rule(module)
    values = header.constants
    if "NAME" not in values:
        return None
    if any(values.get(name) is None for name in _FIELDS):
        return _import_rule(module)
    return Rule(
        name=values["NAME"],
        code=values["CODE"],
        severity=values["SEVERITY"],  # type: ignore[arg-type]
        stage=values["STAGE"],
        doc=header.doc,
        runner=module if "run" in header.binds else None,
    )


def _import_rule(module_name: str) -> Rule | None:
    module = importlib.import_module(module_name)
    if not hasattr(module, "NAME"):
        return None
    return Rule(
        name=module.NAME,
        code=module.CODE,
        severity=module.SEVERITY,
        stage=module.STAGE,
        doc=inspect.cleandoc(module.__doc__ or ""),
        runner=module_name if callable(getattr(module, "run", None)) else None,
    )


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule, keyed by name, in code order."""
    import backprop_doctor.checks as package

    return registry(Path(package.__path__[0]), package.__name__)


CACHE_NAME = "rules.json"  # in the checks' `__pycache__`: every rule's metadata, with the files it was read from
_CACHE_VERSION = 1


def registry(folder: Path, package: str) -> dict[str, Rule]:
    """The rules of the check modules in `folder` (the package `package`), keyed by name, in code order.

    Modules already imported (a worker preloads them all) are read from their attributes. Otherwise
    the rules come from `__pycache__/rules.json` when every check file still has the size and time
    the cache recorded, and from the files' text (`_read_rule`) when one does not; the cache is then
    written again, as the tool's bytecode is (nothing is written where the install is read-only).
    Parsing the ~130 check files costs a command about a fifth of a second: more than the rest of
    its start-up after `import numpy`."""
    modules = [(info.name, f"{package}.{info.name}") for info in pkgutil.iter_modules([str(folder)]) if not info.name.startswith("_")]
    files = {name: folder / f"{name}.py" for name, _ in modules}
    rules: list[Rule | None]
    if all(module in sys.modules for _, module in modules):
        rules = [_import_rule(module) for _, module in modules]
    else:
        signature = _signature(files)
        rules = _cached(folder, signature, package) if signature is not None else None  # type: ignore[assignment]
        if rules is None:
            rules = [_read_rule(module, files[name]) if files[name].is_file() else _import_rule(module) for name, module in modules]
            if signature is not None:
                _write_cache(folder, signature, [r for r in rules if r is not None], package)
    found = sorted((r for r in rules if r is not None), key=lambda r: r.code)
    names = [r.name for r in found]
    codes = [r.code for r in found]
    assert len(set(names)) == len(names) and len(set(codes)) == len(codes), "duplicate rule"
    return {r.name: r for r in found}


def _signature(files: dict[str, Path]) -> list[list[Any]] | None:
    """[name, size, modification time] of each check file, None when one is not a plain file."""
    out = []
    for name, path in sorted(files.items()):
        try:
            stat = path.stat()
        except OSError:
            return None
        out.append([name, stat.st_size, stat.st_mtime_ns])
    return out


def _cached(folder: Path, signature: list[list[Any]], package: str) -> list[Rule | None] | None:
    try:
        data = json.loads((folder / "__pycache__" / CACHE_NAME).read_text(encoding="utf-8"))
        if data.get("version") != _CACHE_VERSION or data.get("package") != package or data.get("files") != signature:
            return None
        return [Rule(**fields) for fields in data["rules"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # no cache, or one of another layout
        return None


def _write_cache(folder: Path, signature: list[list[Any]], rules: list[Rule], package: str) -> None:
    if any(r.runner is not None and not isinstance(r.runner, str) for r in rules):
        return
    data = {
        "version": _CACHE_VERSION,
        "package": package,
        "files": signature,
        "rules": [{"name": r.name, "code": r.code, "severity": r.severity, "stage": r.stage, "doc": r.doc, "runner": r.runner} for r in rules],
    }
    cache_folder = folder / "__pycache__"
    try:
        cache_folder.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".rules-", suffix=".json", dir=cache_folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.chmod(temporary, 0o644)  # readable as the bytecode beside it is
            os.replace(temporary, cache_folder / CACHE_NAME)  # whole, or not at all: another command may read it now
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:  # a read-only install: the next command parses the files again
        pass


def rule(name_or_code: str) -> Rule:
    """Look a rule up by name or code (case-insensitive for codes)."""
    rules = all_rules()
    if name_or_code in rules:
        return rules[name_or_code]
    for r in rules.values():
        if r.code.lower() == name_or_code.lower():
            return r
    raise UsageError(f"unknown rule {name_or_code!r}; `backprop-doctor list-checks` lists them")


def stage_rank(finding: Finding) -> int:
    stage = rule(finding.name).stage if finding.name in all_rules() else "training"
    return STAGES.index(stage)


def matches(finding: Finding, prefixes: Iterable[str]) -> bool:
    """True when the finding's code or name starts with one of `prefixes` (for --select/--ignore)."""
    return any(
        finding.code.upper().startswith(p.upper()) or finding.name.startswith(p) for p in prefixes
    )
