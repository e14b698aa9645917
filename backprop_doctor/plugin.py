"""The pytest plugin: a fixture and a marker for your own tests, and a collector for model files.

Registered through the `pytest11` entry point; `-p no:backprop_doctor` turns it off.
Importing it costs nothing: numpy, rich and the engine load only when a check runs.

In a test:

    @pytest.mark.backprop_doctor(rtol=1e-6, seed=3)      # optional, beats CLI and ini
    def test_affine(backprop_doctor):
        backprop_doctor.check_layer(Affine(W, b), x)      # AssertionError with the diagnosis

On model files, without running them in the pytest process:

    pytest --backprop-doctor students/
    students/alice/two_layer_net.py::SoftmaxWithLoss::gradient FAILED

Each model file is checked once, when it is collected, by `loading.child.run_isolated`
(a child process); its report becomes one item per (layer, check): `<layer>::gradient`
for everything the gradient stage found (every measured layer has one), `<layer>::<rule>`
for the other rules, `<file>::load` when the file could not be loaded. The root cause's
item comes first and holds the symptoms it explains, so one bug fails one item whose first
line names it. An item with warnings passes and raises them as `BackpropDoctorWarning`s
(pytest's warnings summary lists them); info findings are report sections.
The node ids pytest prints with `-v` can be pasted back on the command line. In this mode every
`.py` file is a model file, `test_*.py` included (pytest never imports a submission);
a package's `__init__.py` is not imported (pytest itself still imports a `conftest.py`). Under xdist every
worker collects every file, so the workers share the checking: each file is checked once, by
one worker, in parallel with the others, and every worker reads the same report.

Settings, first match wins: the marker, `--backprop-doctor-seed` / `--backprop-doctor-rtol`,
the ini options `backprop_doctor_seed` / `backprop_doctor_rtol`, the defaults (seed 0,
rtol by dtype). The seed in use is printed in the report header.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from backprop_doctor.plugin_items import plan_items

if TYPE_CHECKING:
    from backprop_doctor.findings import Finding, Measurement, Report

MARKER = "backprop_doctor"
DEFAULT_SEED = 0
RENDER_WIDTH = 100  # columns of the diagnosis drawn into a failure

_SETTINGS = pytest.StashKey[dict[str, Any]]()

# Rules drawn as notes, never raised as warnings: the book's own `Relu.backward` writes into `dout`.
NOTE_RULES = frozenset({"upstream-grad-mutated"})


class BackpropDoctorWarning(UserWarning):
    """A warning finding of a model file (a misspelled `__init`, dead ReLUs, ...): the item still passes."""


# --------------------------------------------------------------------------- options


def _seed(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"seed={text!r} is not an integer") from None


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"timeout={text!r} must be a number of seconds") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"timeout={text!r} must be a positive number of seconds")
    return value


def _rtol(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"rtol={text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"rtol={text!r} must be a positive finite number")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-doctor", "backprop-doctor: gradient checks of hand-written NumPy backprop")
    group.addoption(
        "--backprop-doctor",
        action="store_true",
        dest="backprop_doctor_collect",
        help="check the given Python files as models: one test item per layer and check "
        "(the files run in a child process, never in pytest's).",
    )
    group.addoption(
        "--backprop-doctor-seed",
        type=_seed,
        dest="backprop_doctor_seed",
        default=None,
        metavar="SEED",
        help=f"seed of the random probes (default: ini backprop_doctor_seed, else {DEFAULT_SEED}).",
    )
    group.addoption(
        "--backprop-doctor-rtol",
        type=_rtol,
        dest="backprop_doctor_rtol",
        default=None,
        metavar="RTOL",
        help="relative-error tolerance of gradient checks (default: ini backprop_doctor_rtol, else by dtype).",
    )
    group.addoption(
        "--backprop-doctor-timeout",
        type=_timeout,
        dest="backprop_doctor_timeout",
        default=None,
        metavar="SECONDS",
        help="time allowed to check one model file (default: ini backprop_doctor_timeout, else 60).",
    )
    parser.addini("backprop_doctor_timeout", "backprop-doctor: seconds allowed per model file (default 60).", default="")
    parser.addini("backprop_doctor_seed", f"backprop-doctor: seed of the random probes (default {DEFAULT_SEED}).", default="")
    parser.addini("backprop_doctor_rtol", "backprop-doctor: relative-error tolerance (default: by dtype).", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rtol=None, atol=None, seed=None, **options): settings of the `backprop_doctor` "
        "fixture in this test; they override --backprop-doctor-* options and ini values.",
    )
    config.stash[_SETTINGS] = _session_settings(config)


def _session_settings(config: pytest.Config) -> dict[str, Any]:
    """seed, rtol and timeout from CLI, else ini, else `[tool.backprop-doctor]`, else the defaults."""
    settings: dict[str, Any] = {"seed": DEFAULT_SEED, "rtol": None, "timeout": None}
    settings.update(_pyproject(config))
    for key, parse in (("seed", _seed), ("rtol", _rtol), ("timeout", _timeout)):
        raw = str(config.getini(f"backprop_doctor_{key}") or "").strip()
        if raw:
            try:
                settings[key] = parse(raw)
            except argparse.ArgumentTypeError as error:
                raise pytest.UsageError(f"ini option backprop_doctor_{key}: {error}") from None
        given = config.getoption(f"backprop_doctor_{key}")
        if given is not None:
            settings[key] = given
    return settings


def _pyproject(config: pytest.Config) -> dict[str, Any]:
    """The keys of `[tool.backprop-doctor]` (the CLI's settings) that apply in pytest mode."""
    if not config.getoption("backprop_doctor_collect"):
        return {}
    from backprop_doctor.cli import find_config
    from backprop_doctor.errors import UsageError

    try:
        found = find_config(Path(config.rootpath))
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None
    keys = {"seed": "seed", "timeout": "timeout", "select": "select", "ignore": "ignore"}
    return {ours: found[theirs] for theirs, ours in keys.items() if theirs in found}


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[_SETTINGS]
    line = f"backprop-doctor: seed {settings['seed']}"
    if settings["rtol"] is not None:
        line += f", rtol {settings['rtol']:g}"
    if config.getoption("backprop_doctor_collect"):
        line += ", checking model files"
    return line


# --------------------------------------------------------------------------- the fixture


class BackpropDoctor:
    """What the `backprop_doctor` fixture gives a test: the assertion helpers with its settings.

    Each method returns the `Report` when there is no error, and raises `AssertionError`
    (`GradientCheckError`) with the diagnosis when there is one. Keyword arguments given
    to a method beat every other setting.
    """

    def __init__(self, settings: dict[str, Any]):
        self.settings = dict(settings)

    @property
    def seed(self) -> int:
        return self.settings["seed"]

    def check_layer(self, layer: Any, x: Any, t: Any = None, **options: Any) -> Report:
        __tracebackhide__ = True
        from backprop_doctor.assertions import assert_layer_gradients

        return assert_layer_gradients(layer, x, t, **{**self.settings, **options})

    def check_functions(self, forward: Any, backward: Any, x: Any, *params: Any, **options: Any) -> Report:
        __tracebackhide__ = True
        from backprop_doctor.assertions import assert_function_gradients

        return assert_function_gradients(forward, backward, x, *params, **{**self.settings, **options})

    def check_network(self, net: Any, x: Any, t: Any, **options: Any) -> Report:
        __tracebackhide__ = True
        from backprop_doctor.assertions import assert_network_gradients

        return assert_network_gradients(net, x, t, **{**self.settings, **options})

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"<backprop_doctor {shown}>"


@pytest.fixture
def backprop_doctor(request: pytest.FixtureRequest) -> BackpropDoctor:
    """Gradient checks that fail the test with backprop-doctor's diagnosis.

    `backprop_doctor.check_layer(layer, x, t=None)`, `.check_functions(forward, backward, x, *params)`,
    `.check_network(net, x, t)`; settings from `@pytest.mark.backprop_doctor(...)`, the
    `--backprop-doctor-*` options and the ini file, in that order.
    """
    per_file = ("timeout", "select", "ignore")  # settings of model-file checks only
    settings = {k: v for k, v in request.config.stash[_SETTINGS].items() if k not in per_file}
    settings.update(_marker_settings(request.node))
    return BackpropDoctor(settings)


def _marker_settings(node: pytest.Item) -> dict[str, Any]:
    """The keyword arguments of every `backprop_doctor` marker on `node`, the closest one winning."""
    from backprop_doctor.errors import UsageError
    from backprop_doctor.options import Options

    merged: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(MARKER))):
        if marker.args:
            raise UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only; got args={marker.args!r}")
        merged.update(marker.kwargs)
    Options.from_kwargs(**{k: v for k, v in merged.items() if v is not None})  # names unknown options
    return merged


# --------------------------------------------------------------------------- model files


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ModelFile | None:
    """In --backprop-doctor mode, a `.py` file that is not a test module is a model file."""
    config = parent.config
    if not _is_model_candidate(file_path, config):
        return None
    if parent.session.isinitpath(file_path) or _is_test_module(file_path, config):
        return None  # pytest's python plugin asks pytest_pycollect_makemodule for these
    return ModelFile.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> ModelFile | None:
    """In --backprop-doctor mode every file is a model file, `test_*.py` ones included (a student
    may name a submission so): take it before pytest imports and runs it."""
    if _is_model_candidate(module_path, parent.config):
        return ModelFile.from_parent(parent, path=module_path)
    return None


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # the hook is new in pytest 8
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """In --backprop-doctor mode a package is a plain directory: pytest would import its `__init__.py`."""
    plain = getattr(pytest, "Dir", None)  # pytest >= 8
    if plain is not None and parent.config.getoption("backprop_doctor_collect") and (path / "__init__.py").is_file():
        return plain.from_parent(parent, path=path)
    return None


def _is_model_candidate(path: Path, config: pytest.Config) -> bool:
    if not config.getoption("backprop_doctor_collect"):
        return False
    return path.suffix == ".py" and path.name not in ("conftest.py", "__init__.py")


def _is_test_module(path: Path, config: pytest.Config) -> bool:
    """Test files found in a directory stay tests (the `python_files` ini option)."""
    for pattern in config.getini("python_files"):
        target = str(path) if "/" in pattern else path.name
        if fnmatch.fnmatch(target, pattern):
            return True
    return False


# --------------------------------------------------------------------------- xdist: check each file once

# Under pytest-xdist every worker collects every file. So that a class's submissions are
# checked once and in parallel, the controller hands the workers a shared folder; before
# collecting, each worker walks the model files starting at its own offset, checks those no
# other worker has claimed (an O_EXCL lock file) and writes the report there. Collection then
# reads the reports, waiting for one another worker is still writing.
_CACHE_DIR = pytest.StashKey[str]()
_CACHE_INPUT = "backprop_doctor_cache"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller, once per worker: share the report folder with it."""
    config = node.config
    if not config.getoption("backprop_doctor_collect"):
        return
    if _CACHE_DIR not in config.stash:
        import tempfile

        config.stash[_CACHE_DIR] = tempfile.mkdtemp(prefix="backprop-doctor-")
    node.workerinput[_CACHE_INPUT] = config.stash[_CACHE_DIR]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_DIR in config.stash:
        import shutil

        shutil.rmtree(config.stash[_CACHE_DIR], ignore_errors=True)


def pytest_collection(session: pytest.Session) -> None:
    """An xdist worker checks its share of the model files before collection starts."""
    config = session.config
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or _CACHE_INPUT not in workerinput:
        return
    from backprop_doctor.loading.child import run_isolated

    files = sorted({p for arg in config.args for p in _model_files(Path(arg.split("::")[0]), config)})
    if not files:
        return
    worker = int(str(workerinput.get("workerid", "gw0")).removeprefix("gw") or 0)
    count = max(int(workerinput.get("workercount", 1)), 1)
    start = worker * len(files) // count
    options = _file_options(config)
    for path in files[start:] + files[:start]:
        result, lock = _cache_paths(config, path)
        if result is None or result.exists():
            continue
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue  # another worker is on it
        try:
            report = run_isolated(str(path), options)
        except Exception:  # noqa: BLE001 - collect() will check it itself and report the error
            continue
        partial = result.with_suffix(".partial")
        partial.write_text(json.dumps(report.to_dict()), encoding="utf-8")
        os.replace(partial, result)


def _model_files(path: Path, config: pytest.Config) -> Iterator[Path]:
    if path.is_file():
        if _is_model_candidate(path, config):
            yield path.resolve()
        return
    for found in sorted(path.rglob("*.py")):
        if any(part.startswith(".") or part == "__pycache__" for part in found.parts):
            continue
        if _is_model_candidate(found, config):
            yield found.resolve()


def _cache_paths(config: pytest.Config, path: Path) -> tuple[Path | None, Path | None]:
    folder = (getattr(config, "workerinput", None) or {}).get(_CACHE_INPUT)
    if not folder:
        return None, None
    import hashlib

    settings = config.stash[_SETTINGS]
    key = hashlib.sha1(f"{path.resolve()}|{settings['seed']}|{settings['rtol']}".encode()).hexdigest()[:20]
    return Path(folder) / f"{key}.json", Path(folder) / f"{key}.lock"


def _file_options(config: pytest.Config) -> Any:
    from backprop_doctor.options import Options

    settings = config.stash[_SETTINGS]
    extra = {k: settings[k] for k in ("timeout", "select", "ignore") if settings.get(k)}
    return Options.from_kwargs(seed=settings["seed"], rtol=settings["rtol"], **extra)


def _shared_report(config: pytest.Config, path: Path, options: Any) -> Report | None:
    """The report another xdist worker wrote for `path`, waiting while it is being written."""
    from backprop_doctor.findings import Report

    result, lock = _cache_paths(config, path)
    if result is None or lock is None or not lock.exists():
        return None
    deadline = time.monotonic() + options.timeout + 30
    while not result.exists():
        if time.monotonic() > deadline:
            return None  # the worker that claimed it died: check it here
        time.sleep(0.05)
    report = Report.from_dict(json.loads(result.read_text(encoding="utf-8")))
    return report


class CheckFailed(Exception):
    """Raised by a model item with an error finding; its text is drawn by `repr_failure`."""


class Diagnosis:
    """The failure text of a model item, with the one-line summary pytest shows in `-r` lines."""

    def __init__(self, summary: str, text: str):
        self.text = text
        self.reprcrash = _Crash(summary)

    def toterminal(self, out: Any) -> None:
        for line in self.text.splitlines():
            out.line(line)

    def __str__(self) -> str:
        return self.text


class _Crash:
    def __init__(self, message: str):
        self.message = message
        self.path: str | None = None
        self.lineno: int | None = None


class ModelFile(pytest.File):
    """One user model file. It is checked once, in a child process, when it is collected."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        options = _file_options(self.config)
        try:
            from backprop_doctor.loading.child import run_isolated
        except ImportError as error:
            raise self.CollectError(
                f"backprop-doctor cannot check {self.path.name}: the child-process loader is missing "
                f"(backprop_doctor.loading.child.run_isolated: {error})"
            ) from None
        from backprop_doctor.errors import UsageError

        try:
            report = _shared_report(self.config, self.path, options) or run_isolated(str(self.path), options)
        except (UsageError, OSError) as error:
            raise self.CollectError(f"backprop-doctor cannot check {self.path.name}: {error}") from None
        if report.file is None:
            report.file = str(self.path)
        for layer, items in plan_items(report):
            if layer is None:
                for check, findings, measurements in items:
                    yield ModelCheck.from_parent(
                        self, name=check, report=report, findings=findings, measurements=measurements
                    )
            else:
                yield ModelLayer.from_parent(self, name=layer, report=report, items=items)


class ModelLayer(pytest.Collector):
    """The checks of one layer (or network) of a model file."""

    def __init__(self, *, report: Report, items: list[tuple[str, list[Finding], list[Measurement]]], **kwargs: Any):
        super().__init__(**kwargs)
        self.report = report
        self.planned = items

    def collect(self) -> Iterator[pytest.Item]:
        for check, findings, measurements in self.planned:
            yield ModelCheck.from_parent(self, name=check, report=self.report, findings=findings, measurements=measurements)


class ModelCheck(pytest.Item):
    """One check of one layer: passes when none of its findings is an error."""

    def __init__(self, *, report: Report, findings: list[Finding], measurements: list[Measurement], **kwargs: Any):
        super().__init__(**kwargs)
        self.report = report
        self.findings = findings
        self.measurements = measurements
        self.layer = self.parent.name if isinstance(self.parent, ModelLayer) else None
        for finding in findings:
            self.user_properties.append(("finding", f"{finding.code} {finding.name} {finding.severity}"))

    def runtest(self) -> None:
        if any(f.severity == "error" for f in self.findings):
            raise CheckFailed(self.nodeid)
        import warnings

        for finding in self.findings:
            if finding.severity == "warning" and finding.name not in NOTE_RULES:
                warnings.warn_explicit(
                    _warning_text(finding),
                    BackpropDoctorWarning,
                    filename=_shown_path(finding.file or self.report.file, self.config.invocation_params.dir)
                    or str(self.path),
                    lineno=finding.line or 0,
                )
        if self.findings:
            self.add_report_section("call", "backprop-doctor", self.diagnosis())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            return _failure_repr(self.path, self._line(), self.summary(), self.diagnosis())
        return super().repr_failure(excinfo, style=style)

    def _line(self) -> int | None:
        lines = [f.line for f in self.findings if f.line is not None and _same_file(f.file, self.path)]
        first = next((f for f in self.findings if f.severity == "error"), None)
        if first is not None and first.line is not None and _same_file(first.file or self.report.file, self.path):
            return first.line
        return min(lines) if lines else None

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self._line()
        # The domain is what pytest shows as the failure's heading. It must not be the end of
        # the node id: `-v` would then rewrite its dots as "::" (`net::py::Affine::gradient`),
        # and the id printed could not be pasted back.
        return self.path, (line - 1 if line else None), f"{self.nodeid} ({self._label()})"

    def _label(self) -> str:
        first = next((f for f in self.findings if f.severity == "error"), None) or next(
            (f for f in self.findings if f.severity == "warning"), None
        )
        return f"{first.code} {first.name}" if first is not None else "checked"

    def summary(self) -> str:
        """One line for pytest's short test summary: the root cause, else the first error of this item."""
        from backprop_doctor.report.text import one_line

        root = self.report.root_cause
        errors = [f for f in self.findings if f.severity == "error"]
        first = next((f for f in errors if root is not None and (f is root or f == root)), errors[0])
        return f"{first.code} {first.name}: {one_line(first.message)}"

    def sub_report(self) -> Report:
        """The part of the file's report this item is about."""
        from backprop_doctor.findings import Report

        root = self.report.root_cause
        return Report(
            findings=list(self.findings),
            measurements=list(self.measurements),
            seed=self.report.seed,
            file=_shown_path(self.report.file, self.config.invocation_params.dir),
            root_cause=root if root is not None and any(f is root or f == root for f in self.findings) else None,
            extras=dict(self.report.extras) if self._holds_root() or (self.layer is None and self.name != "load") else {},
        )

    def _holds_root(self) -> bool:
        root = self.report.root_cause
        return root is not None and any(f is root or f == root for f in self.findings)

    def diagnosis(self) -> str:
        """The CLI's rendering of this item's findings, plain text; a plain listing if rich is unavailable."""
        report = self.sub_report()
        try:
            text = _render(report)
        except ImportError:
            text = _plain(report)
        root = self.report.root_cause
        if root is not None and report.root_cause is None:
            place = f" in {root.layer}{'.' + root.param if root.param else ''}" if root.layer else ""
            text += f"\nRoot cause in this file: {root.code} {root.name}{place}: {root.message}"
        return text.rstrip("\n") + f"\nseed: {report.seed} (rerun with --backprop-doctor-seed={report.seed})"


def _warning_text(finding: Finding) -> str:
    from backprop_doctor.report.text import one_line, sentence, where

    place = where(finding)
    return f"{finding.code} {finding.name}{' · ' + place if place else ''}: {sentence(one_line(finding.message))}"


def _failure_repr(path: Path, line: int | None, summary: str, text: str) -> Any:
    """The failure as pytest's own serialisable repr: xdist carries it whole, `-r` shows `summary`."""
    from _pytest._code.code import ExceptionChainRepr, ReprEntry, ReprFileLocation, ReprTraceback

    entry = ReprEntry(text.rstrip("\n").splitlines(), None, None, None, "value")
    crash = ReprFileLocation(str(path), line or 0, summary)
    return ExceptionChainRepr([(ReprTraceback([entry], None, "value"), crash, None)])


def _render(report: Report) -> str:
    from io import StringIO

    from rich.console import Console

    from backprop_doctor.report import render_report

    out = StringIO()
    render_report(report, "rich", console=Console(file=out, width=RENDER_WIDTH, color_system=None))
    return out.getvalue()


def _plain(report: Report) -> str:
    lines = []
    for f in report.findings:
        place = f"{f.layer}{'.' + f.param if f.param else ''}" if f.layer else ""
        at = f" ({f.file}:{f.line})" if f.file and f.line is not None else ""
        lines.append(f"{f.code} {f.name} [{f.severity}] {place}{at}: {f.message}")
        lines += [f"    {label}: {text}" for label, text in f.evidence]
    for m in report.measurements:
        error = "-" if m.relative_error is None else f"{m.relative_error:.3g}"
        lines.append(f"{m.layer}.{m.param}: relative error {error} ({m.verdict})")
    return "\n".join(lines) + "\n"


def _shown_path(path: str | None, start: Path) -> str | None:
    """`path` relative to where pytest was started, when it lies below it."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(start.resolve()))
    except (OSError, ValueError):
        return path


def _same_file(a: str | None, b: Path) -> bool:
    try:
        return a is not None and Path(a).resolve() == b.resolve()
    except OSError:
        return False
