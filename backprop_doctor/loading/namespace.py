"""Run the definitions of a user's file in this process and hand back its namespace.

Meant to run inside the child process that `child.run_isolated` starts: it
changes `sys.path`, `sys.meta_path`, `sys.modules` and `linecache` for good.

The file runs as a fresh module named `__bpd_user__`, never `__main__`, so an
`if __name__ == "__main__":` block does not run; the module is registered in
`sys.modules` so its classes pickle and deep-copy. Its folder and the folder
above are importable first (the book layout `sys.path.append(os.pardir);
from common.layers import *` works, also without `__init__.py`); a file inside
a package runs with `__package__` set and the package's root importable, so
its relative imports work (see `package.py`); no bytecode
is written anywhere, missing modules become stubs, and what the code prints
goes to `output` instead of the terminal.
"""

from __future__ import annotations

import ast  # builds the modules it runs, one statement each; facts come from static
import builtins
import collections.abc
import contextlib
import io
import linecache
import os
import re
import sys
import traceback
import types
from typing import Any, TextIO

from backprop_doctor import global_random
from backprop_doctor.context import SourceFile
from backprop_doctor.findings import Finding
from backprop_doctor.loading import datasets, numpy_compat, past_builtins, progress, python2_imports, python_compat, stubs
from backprop_doctor.loading.past_builtins import PYTHON2_MODULES, PYTHON2_NAMES, dropped_names
from backprop_doctor.loading.package import claim_namespace, imported_package, package_of, shadow_free
from backprop_doctor.loading.source import PYTHON2_METHODS, syntax_error_finding
from backprop_doctor.rules import rule
from backprop_doctor.static.imports import future_flags
from backprop_doctor.static.script import definitions_only, names_bound_by, none_placeholder

USER_MODULE = "__bpd_user__"
# Set by the worker: in the child process the user's output also goes to the real stdout and
# stderr, which the parent keeps, so the last lines survive a crash.
ECHO = False
ECHO_LIMIT = 200_000  # characters of the user's output echoed to the child's real stdout/stderr, in all


class _CappedEcho(io.TextIOBase):
    """The real stdout or stderr, until `ECHO_LIMIT` characters went through all echoes together."""

    written = 0

    def __init__(self, stream: TextIO):
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = ECHO_LIMIT - _CappedEcho.written
        if room > 0:
            part = text[:room]
            _CappedEcho.written += len(part)
            self.stream.write(part)
            if len(part) < len(text):
                self.stream.write("\n[backprop-doctor: the rest of the output was not kept]\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def echo_streams() -> tuple[TextIO | None, TextIO | None]:
    """Where the user's prints are echoed in the child process (capped), or nothing."""
    if not ECHO:
        return None, None
    return _CappedEcho(sys.__stdout__), _CappedEcho(sys.__stderr__)  # type: ignore[arg-type]


class OutputTail(io.TextIOBase):
    """A text stream that keeps only the last `limit` characters written to it."""

    def __init__(self, limit: int = 20_000):
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self.limit:
            kept = "".join(self._parts)[-self.limit :]
            self._parts, self._size = [kept], len(kept)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)[-self.limit :]


class _Tee(io.TextIOBase):
    def __init__(self, *streams: TextIO | None):
        self.streams = [s for s in streams if s is not None]

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for stream in self.streams:
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):
                pass
        return len(text)


def load_namespace(
    source: SourceFile, exec_module: bool, *, output: TextIO | None = None
) -> tuple[dict[str, Any], list[Finding]]:
    """Execute `source` (its definitions, or the whole module with `exec_module`) as `__bpd_user__`.

    Returns the module's namespace and the findings: `load-error` for code that
    raised (the namespace keeps everything defined before it, and in
    definitions mode everything defined after it too), `missing-module` for
    each import that got a stub. Never raises for what the user's code does,
    except KeyboardInterrupt.
    """
    path = os.path.abspath(source.path)
    folder = os.path.dirname(path)
    roots = [folder, os.path.dirname(folder)]
    package, package_root = package_of(path, source.tree)
    if package_root is not None and package_root not in roots:
        roots.append(package_root)
    shadowed = package or imported_package(path, source.tree, package_root)  # `transformer/losses.py` of `transformer.activations`
    roots = shadow_free(roots, shadowed, package_root)
    for root in reversed(roots):
        while root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)
    claim_namespace(shadowed, package_root)
    sys.dont_write_bytecode = True
    trees = {os.path.realpath(path): source.tree} if source.tree is not None else {}
    finder = stubs.install(path, roots, trees)
    python2 = python2_imports.install(finder.is_user_file)

    dropped = [] if source.python2 or source.tree is None else _dropped_names(source.tree)
    if source.python2 or dropped:
        python2_names()
    module = types.ModuleType(USER_MODULE, None)
    module.__file__ = path
    module.__builtins__ = user_builtins(source)  # type: ignore[attr-defined]
    if package is not None:
        module.__package__ = package  # `from .layers import *` resolves against the file's package
    sys.modules[USER_MODULE] = module
    namespace = module.__dict__
    linecache.cache[path] = (len(source.text), None, source.text_lines, path)  # tracebacks and inspect see what ran
    if source.tree is None:
        return namespace, []

    tree = definitions_only(source.tree, exec_module=exec_module)
    flags = future_flags(tree)
    chunks = [tree] if exec_module else [ast.Module(body=[node], type_ignores=[]) for node in tree.body]
    findings: list[Finding] = []
    failed: dict[str, Finding] = {}  # name a failed statement would have bound -> its finding
    sink = output if output is not None else OutputTail()
    try:
        cwd: str | None = os.getcwd()
    except OSError:
        cwd = None
    echo_out, echo_err = echo_streams()
    out = _Tee(sink, echo_out)
    err = _Tee(sink, echo_err)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _no_stdin():
            for chunk in chunks:
                try:
                    code = compile(chunk, path, "exec", flags=flags, dont_inherit=True)
                except SyntaxError as exc:
                    findings.append(syntax_error_finding(exc, source.path, source.text))
                    continue
                try:
                    exec(code, namespace)
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # noqa: BLE001 - anything the user's code does
                    finding = load_error_finding(exc, source, finder, chunk)
                    later = _bound_when_run(exc, chunk, source.tree) if not exec_module else None
                    if later is not None:  # `def f(p=params)` with `params = init(...)` a statement the definitions leave out
                        finding = finding.replace(
                            severity="info",
                            pattern="bound-when-run",
                            fix=None,
                            message=f"{finding.message.partition(': ')[0]}: `{later[0]}` is bound at line {later[1]}, which "
                            "runs only when the program runs, so backprop-doctor checks what that statement defines "
                            "as your program runs it",
                        )
                    here = not finding.file or os.path.abspath(finding.file) == path
                    placeholder = none_placeholder(source.tree, finding.line) if here and finding.line and "NoneType" in finding.message else None
                    if placeholder is not None:  # `best_softmax = None` as handed out, the code that sets it still `pass`
                        finding = finding.replace(
                            severity="warning",
                            pattern="not-written",
                            fix=None,
                            message=f"`{placeholder[0]}` is still the `None` it started as (line {placeholder[1]}) when line "
                            f"{finding.line} uses it: the code that should set it is not written yet; write it",
                        )
                    cause = _cascade_cause(exc, failed)
                    if cause is not None:
                        finding = finding.replace(caused_by=cause.key())
                    findings.append(finding)
                    if exec_module:
                        break
                    for node in chunk.body:
                        for name in names_bound_by(node):
                            failed.setdefault(name, finding)
    finally:
        if cwd is not None:
            with contextlib.suppress(OSError):
                os.chdir(cwd)  # the user's code may have moved it
    findings.extend(python2.findings())
    if dropped:
        findings.append(_dropped_finding(source, dropped))
    findings.extend(missing_module_findings(finder.missing(), source.path, path))
    findings.extend(numpy_compat.findings(source.path, source.tree))
    findings.extend(python_compat.findings(source.path, source.tree, source.text))
    global_random.register_users(namespace)  # a dropout mask drawn from `rng = np.random.default_rng(3)`
    return namespace, findings


def _bound_when_run(exc: BaseException, chunk: ast.Module, tree: ast.Module | None) -> tuple[str, int] | None:
    """(name, line) when a definition raised NameError on a name a top-level statement of the file
    binds that the definitions-only load leaves out (a call's result, `params = init_lstm(...)`):
    the definition works when the program runs."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, NameError) or not name or tree is None:
        return None
    if not all(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in chunk.body):
        return None
    line = chunk.body[0].lineno
    for node in tree.body:
        if node.lineno < line and name in names_bound_by(node):
            return name, node.lineno
    return None


# --------------------------------------------------------------------------- findings

# NumPy 2 removed these aliases; NumPy's own message names some of them, not all.
NUMPY_REMOVED = {
    "int": "int", "float": "float", "bool": "bool", "object": "object", "str": "str",
    "complex": "complex", "long": "int", "unicode": "str",
    "float_": "np.float64", "complex_": "np.complex128", "string_": "np.bytes_", "unicode_": "np.str_",
    "int0": "np.intp", "uint0": "np.uintp", "bool8": "np.bool_", "object0": "np.object_",
    "NaN": "np.nan", "NAN": "np.nan", "Inf": "np.inf", "Infinity": "np.inf", "infty": "np.inf",
    "PINF": "np.inf", "NINF": "-np.inf", "PZERO": "0.0", "NZERO": "-0.0",
    "product": "np.prod", "cumproduct": "np.cumprod", "sometrue": "np.any", "alltrue": "np.all",
    "round_": "np.round", "row_stack": "np.vstack", "trapz": "np.trapezoid", "in1d": "np.isin",
    "asfarray": "np.asarray(x, dtype=float)", "mat": "np.asmatrix",
}
_ABC_NAMES = frozenset(collections.abc.__all__)


def user_builtins(source: SourceFile) -> Any:
    """The builtins the user's file runs with: Python 2's (`zip` returning a list, see
    `past_builtins.python2_builtins`) for a file that is Python 2 code, else Python 3's own."""
    if source.python2 or past_builtins.is_python2(source.tree):
        return past_builtins.python2_builtins()
    return builtins


def python2_names() -> None:
    """Give `builtins` the names Python 3 dropped (`xrange`, `raw_input`, `reduce`, ...), for a
    file read as Python 3 from Python 2 (`SourceFile.python2`)."""
    for name in PYTHON2_NAMES:
        if name != "cmp" and not hasattr(builtins, name):  # `cmp` has no one-name spelling
            setattr(builtins, name, past_builtins.meaning(name))


_dropped_names = dropped_names  # the Python 2 builtins a file Python 3 parses still reads


def _dropped_finding(source: SourceFile, dropped: list[tuple[str, int]]) -> Finding:
    """The `python2` warning for Python 2 builtins in a file Python 3 parses: it stops at the first."""
    name, line = dropped[0]
    names = ", ".join(f"`{n}` (line {at})" for n, at in dropped[:4])
    spelled = PYTHON2_NAMES[name]
    code = source.text_lines[line - 1] if 0 < line <= len(source.text_lines) else ""
    return rule("python2").finding(
        f"this file uses {names}, which Python 3 does not have: it stops there with NameError; "
        f"backprop-doctor gave {'it its' if len(dropped) == 1 else 'them their'} Python 3 meaning to check the file "
        f"(`{name}` is `{spelled}`): write that in the file",
        file=source.path,
        line=line,
        fix=re.sub(rf"\b{name}\b", spelled, code).strip() if name != "cmp" else None,
    )


def load_error_finding(
    exc: BaseException, source: SourceFile, finder: stubs.StubFinder, chunk: ast.Module | None = None
) -> Finding:
    """A `load-error` finding for `exc`, placed at the innermost line of the user's code."""
    file, line, column, func = _where(exc, source, finder)
    if line is None and chunk is not None and chunk.body:
        file, line = source.path, chunk.body[0].lineno
    name = type(exc).__name__
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, SystemExit):
        what = f"calls sys.exit({'' if exc.code is None else repr(exc.code)}) while the file is loaded"
    else:
        what = f"raises {name}" + (f": {first}" if first else "")
    where = f"line {line}" if line else "loading"
    if file and os.path.abspath(file) != os.path.abspath(source.path):
        where += f" of {os.path.basename(file)}"
    code_line = linecache.getline(os.path.abspath(file), line).rstrip("\n") if file and line else ""
    hint, fix = _hint(exc, first, code_line)
    what = (what.replace(": ", " (", 1) + ")" if what.startswith("raises") and ": " in what else what).replace(".)", ")")
    standin = _standin_raised(exc)
    advice = hint or "fix it"
    if standin is not None:  # `df.userId.max() + 1` on the stand-in for pandas: the stand-in's doing, not the code's
        advice = f"it raised on the stand-in for `{standin}` (missing here), not on what `{standin}` would give; install `{standin}` to load the file fully"
    message = f"{where} {what}: {advice}"
    evidence: list[tuple[str, str]] = []
    if text and text != first:
        evidence.append((name, text))
    if func and func != "<module>":
        evidence.append(("in", f"{func}()"))
    return rule("load-error").finding(
        message,
        severity="warning" if standin is not None else "error",
        file=file,
        line=line,
        column=column,
        highlight=(line,) if line else (),
        fix=fix if standin is None else None,
        evidence=tuple(evidence),
    )


def _standin_raised(exc: BaseException) -> str | None:
    """The missing module whose stand-in the loading code raised on: a `Stub` in the operation
    (`stubs.standin_behind`), or an attribute a stand-in module does not have (`gym.__version__`)."""
    module = stubs.standin_behind(exc)
    if module is None and isinstance(exc, AttributeError) and stubs.is_stub(getattr(exc, "obj", None)):
        module = stubs._standin_module(exc.obj)
    return module


def missing_module_findings(records: list[stubs.StubRecord], shown: str, path: str) -> list[Finding]:
    findings = []
    for record in records:
        in_user_file = record.file is not None and os.path.realpath(record.file) == os.path.realpath(path)
        where = f"line {record.line}" if in_user_file else f"line {record.line} of {os.path.basename(record.file or '?')}"
        top = record.module.split(".")[0]
        helpers = datasets.helpers_of(record.module)
        if datasets.is_numpy_mirror(record.module):
            done = "backprop-doctor ran the code that needs it on NumPy, whose functions it mirrors on the GPU."
        elif progress.functions_of(record.module):
            bars = ", ".join(f"`{h}`" for h in progress.functions_of(record.module))
            done = f"backprop-doctor put silent versions of {bars} in its place: they run the loop they wrap and draw nothing."
        elif past_builtins.functions_of(record.module):
            names = ", ".join(f"`{h}`" for h in past_builtins.functions_of(record.module))
            done = f"backprop-doctor gave {names} their Python 3 meaning (`xrange` is `range`)."
        elif helpers:
            done = (
                f"backprop-doctor put a stand-in in its place, with NumPy versions of {', '.join(f'`{h}`' for h in helpers)}; "
                "any other code that needs it was skipped."
            )
        else:
            done = "backprop-doctor put a stand-in in its place, so any code that needs it was skipped."
        message = f"`{record.module}` (imported at {where}) is neither installed nor next to your file; {done}"
        fix = None
        if record.module in past_builtins.RENAMED:
            new = PYTHON2_MODULES[record.module]
            message = (
                f"`{record.module}` (imported at {where}) is a Python 2 module: use `{new}`, its Python 3 name; "
                f"backprop-doctor imported `{new}` in its place."
            )
            fix = f"import {new}"
        elif top in PYTHON2_MODULES:
            message += f" `{top}` is a Python 2 module: use `{PYTHON2_MODULES[top]}`."
            fix = f"import {PYTHON2_MODULES[top]}"
        findings.append(
            rule("missing-module").finding(
                message,
                file=shown if in_user_file else record.file,
                line=record.line,
                highlight=(record.line,) if record.line else (),
                fix=fix,
            )
        )
    return findings


def _where(
    exc: BaseException, source: SourceFile, finder: stubs.StubFinder
) -> tuple[str | None, int | None, int | None, str | None]:
    """(file, line, 1-based column, function) of the innermost frame in the user's code."""
    user = os.path.realpath(os.path.abspath(source.path))
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:  # a sibling module does not parse
        return exc.filename, exc.lineno, exc.offset, None
    for frame in reversed(frames):  # innermost first: the user's file or a module next to it
        real = os.path.realpath(frame.filename)
        if real == user or finder.is_user_file(real):
            column = frame.colno + 1 if getattr(frame, "colno", None) is not None else None
            shown = source.path if real == user else frame.filename
            return shown, frame.lineno, column, frame.name
    return None, None, None, None


def _hint(exc: BaseException, first: str, code_line: str) -> tuple[str, str | None]:
    """(advice, repaired line) for the well-known breakages of old code on new libraries."""
    fixed: str | None = None
    match = re.search(r"module '(numpy|collections)' has no attribute '(\w+)'", first)
    if isinstance(exc, AttributeError) and match:
        owner, attr = match.groups()
        if owner == "numpy" and attr in NUMPY_REMOVED:
            new = NUMPY_REMOVED[attr]
            pattern = re.compile(rf"\b(np|numpy)\.{re.escape(attr)}\b")
            found = pattern.search(code_line)
            alias = found.group(1) if found else "np"
            new = new.replace("np.", f"{alias}.")
            if found:
                fixed = pattern.sub(lambda m: new, code_line)
            return f"NumPy removed `{alias}.{attr}`: use `{new}` instead.", fixed
        if owner == "collections" and attr in _ABC_NAMES:
            fixed = re.sub(rf"\bcollections\.{attr}\b", f"collections.abc.{attr}", code_line) or None
            return f"Python 3.10 moved it: use `collections.abc.{attr}`.", fixed
    match = re.search(r"cannot import name '(\w+)' from 'collections'", first)
    if isinstance(exc, ImportError) and match and match.group(1) in _ABC_NAMES:
        fixed = code_line.replace("from collections import", "from collections.abc import")
        return f"Python 3.10 moved it: `from collections.abc import {match.group(1)}`.", fixed
    match = re.search(r"name '(\w+)' is not defined", first)
    if isinstance(exc, NameError) and match and match.group(1) in PYTHON2_NAMES:
        old, new = match.group(1), PYTHON2_NAMES[match.group(1)]
        if old != "cmp":
            fixed = re.sub(rf"\b{old}\b", new, code_line)
        return f"`{old}` is Python 2: use `{new}` in Python 3.", fixed
    match = re.search(r"has no attribute '(\w+)'", first)
    if isinstance(exc, AttributeError) and match and match.group(1) in PYTHON2_METHODS:
        old, new = match.group(1), PYTHON2_METHODS[match.group(1)]
        fixed = re.sub(rf"\.{old}\(", f".{new}(", code_line)
        return f"`.{old}()` is Python 2: use `.{new}()`.", fixed
    return "", None


def _cascade_cause(exc: BaseException, failed: dict[str, Finding]) -> Finding | None:
    if isinstance(exc, NameError) and getattr(exc, "name", None) in failed:
        return failed[exc.name]  # type: ignore[index]
    return None


@contextlib.contextmanager
def _no_stdin() -> Any:
    """`input()` in the user's code gets end-of-file instead of waiting for a keyboard."""
    saved = sys.stdin
    sys.stdin = io.StringIO()
    try:
        yield
    finally:
        sys.stdin = saved
