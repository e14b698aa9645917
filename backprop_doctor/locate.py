"""Point findings at source lines of live functions and running code.

`inspect` says where a live function or class is defined and hands its lines
to `static.writes`, which reads the statements (an assignment, a write into an
argument, the name returned); a line relative to the function becomes a line
of the file here. `executed` records which lines of user files run during a
call, `user_frame` finds the user's line in a traceback.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import sysconfig
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from backprop_doctor.conventions._base import source_of
from backprop_doctor.static import writes
from backprop_doctor.static.definitions import Function, enclosing, functions
from backprop_doctor.static.text import unparsed as ast_text


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__import__("numpy").__file__)))
_LIBRARY_DIRS = tuple(
    {os.path.abspath(sysconfig.get_path(name)) for name in ("stdlib", "purelib", "platlib")}
    | {os.path.abspath(sys.prefix), os.path.abspath(sys.base_prefix), _PACKAGE_DIR, _NUMPY_DIR}
)


def loaded_module(path: str) -> Any:
    """The module loaded from the file at `path` (absolute), None when none is."""
    return next((m for m in list(sys.modules.values()) if os.path.abspath(getattr(m, "__file__", None) or "") == path), None)


def is_user_file(filename: str | None) -> bool:
    """Code the user wrote: not this tool, numpy, the standard library or an installed package."""
    if not filename or filename.startswith("<") or filename.endswith((".pyx", ".pxd")):
        return False  # a compiled extension's own source (`numpy/random/mtrand.pyx`), named relative to nothing
    absolute = os.path.abspath(filename)
    return not absolute.startswith(_LIBRARY_DIRS) and "site-packages" not in absolute


@dataclass(frozen=True)
class Location:
    file: str | None
    line: int | None
    end_line: int | None = None
    text: str = ""

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for `Finding`."""
        if self.line is None:
            return {"file": self.file}
        return {"file": self.file, "line": self.line, "end_line": self.end_line, "highlight": (self.line,)}


def _function_tree(func: Any) -> tuple[Any, int, str] | None:
    """The parsed body of `func`, its first line number, and its file."""
    func = inspect.unwrap(func) if inspect.isroutine(func) else func
    try:
        lines, start = inspect.getsourcelines(func)
        file = inspect.getsourcefile(func)
    except (TypeError, OSError):
        return None
    tree = writes.function_tree(lines)
    if tree is None:
        return None
    return tree, start, file or ""


def where(func: Any) -> Location:
    """The `def` line of a function or class."""
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    return Location(file, start)


def assignment(func: Any, *targets: str, ran: set[int] | None = None, whole: bool = False) -> Location:
    """The last line in `func` that assigns the first of `targets` assigned there (e.g. "self.db", "dx").

    `ran` (line numbers that executed) narrows the choice to the branch that ran; `whole` passes over
    later additions to part of it (`Theta1_grad[:, 1:] += ...`). Falls back to the `return` line, then
    to the `def` line.
    """
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    relative = {line - start + 1 for line in ran} if ran else None
    return _statement(file, start, writes.assignment_statement(tree, targets, relative, whole=whole))


def _statement(file: str, start: int, node: Any) -> Location:
    """Where `node`, a statement of the function beginning at line `start`, stands; the `def` line for None."""
    if node is None:
        return Location(file, start)
    return Location(file, start + node.lineno - 1, start + (node.end_lineno or node.lineno) - 1, ast_text(node))


def entry_rebound(func: Any, container: str) -> Location:
    """The last statement of `func` that binds an entry of `container` anew by an index it computes
    (`self.grads[i] = grad` in a loop: not `self.grads[i][...] = grad`, which writes into it); the
    `def` line when there is none."""
    import ast

    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    rebinding = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and ast.unparse(t.value) == container and not isinstance(t.slice, ast.Slice)
            and not (isinstance(t.slice, ast.Constant) and t.slice.value is Ellipsis) for t in node.targets
        )
    ]  # fmt: skip
    return _statement(file, start, max(rebinding, key=lambda node: node.lineno, default=None))


def inplace_write(func: Any, argument: int = 0) -> Location:
    """The first line where `func` writes into its `argument`-th parameter (after `self`).

    Falls back to the `def` line when no write can be seen in the source.
    """
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    node = writes.first_function(tree)
    if node is None:
        return Location(file, start)
    names = writes.positional_parameters(node)
    if argument >= len(names):
        return Location(file, start)
    found_writes = writes.inplace_writes(node, names[argument])
    if not found_writes:
        return Location(file, start)
    line, text = found_writes[0]
    return Location(file, start + line - 1, text=text)


def accumulation(func: Any) -> Location:
    """The first `self.<attr> += ...` (or `-=`) in `func`: state that grows call after call.

    Falls back to the `def` line.
    """
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    node = writes.accumulation_statement(tree)
    if node is None:
        return Location(file, start)
    return Location(file, start + node.lineno - 1, text=ast_text(node))


def returned_name(func: Any) -> str | None:
    """The name `func` returns (`return dx` → "dx"), for finding where it was computed."""
    found = _function_tree(func)
    if found is None:
        return None
    return writes.returned_name(found[0])


def keyed_returns(func: Any, key: str) -> tuple[str, ...]:
    """`G['W1']` and `G["W1"]` for each name `func` returns (`return loss, G`): where a gradient
    stored under its parameter's name in a returned dict is computed, whatever the dict is called."""
    found = _function_tree(func)
    if found is None:
        return ()
    held = writes.keyed_names(found[0])  # not `dWx` of `return dx, dprev_h, dWx`, an array: no entry of it is written
    return tuple(t for name in writes.returned_names(found[0]) if name in held for t in (f"{name}['{key}']", f'{name}["{key}"]'))


def count_divided_by(func: Any, axis: int) -> Location | None:
    """The statement of `func`, or of a function it calls by name, that binds the count its gradients
    are divided by from the size of an input along `axis` (`m = A_prev.shape[0]` for `axis` 0, read in
    `dW = 1. / m * ...`); None when there is none."""
    import ast

    found = _function_tree(func)
    if found is None:
        return None
    callees = [getattr(func, "__globals__", {}).get(n.func.id) for n in ast.walk(found[0]) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    for candidate in (found, *(_function_tree(c) for c in callees if inspect.isfunction(c) and c is not func)):
        if candidate is None:
            continue
        tree, start, file = candidate
        divisors = {ast.unparse(n.right) for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            value = node.value
            read = (
                isinstance(value, ast.Subscript) and isinstance(value.value, ast.Attribute) and value.value.attr == "shape"
                and isinstance(value.slice, ast.Constant) and value.slice.value == axis
            )  # fmt: skip
            if read and node.targets[0].id in divisors:
                return _statement(file, start, node)
    return None


def assignment_line(func: Any, targets: Sequence[str]) -> tuple[str | None, int | None]:
    """File and line of the first statement in `func` that assigns one of `targets` (as `ast.unparse` spells them)."""
    try:
        func = inspect.unwrap(func)
        lines, start = inspect.getsourcelines(func)
        file = inspect.getsourcefile(func)
    except (TypeError, OSError):
        return None, None
    tree = writes.function_tree(lines)
    if tree is None:
        return None, None
    best = writes.first_assignment_line(tree, targets)
    if best is None:
        return file, None
    return file, start + best - 1


def definition(func: Any) -> Function | None:
    """Where a live function or method is defined."""
    func = inspect.unwrap(getattr(func, "__func__", func))
    file, line = source_of(func)
    if file is None or line is None:
        return None
    name = getattr(func, "__name__", "")
    found = [f for f in functions(file) if f.line == line or f.line <= line <= f.end_line and f.qualname.endswith(name)]
    if found:
        return min(found, key=lambda f: abs(f.line - line))
    return Function(file, getattr(func, "__qualname__", func.__name__), line, line)


def executed(call: Callable[[], Any]) -> tuple[Any, dict[str, set[int]]]:
    """Run `call()` and record which lines of user files ran, by file. Exceptions propagate."""
    lines: dict[str, set[int]] = {}

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return local if is_user_file(frame.f_code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = call()
    finally:
        sys.settrace(previous)
    return result, lines


def arrays_assigned(
    call: Callable[[], Any], keep: Callable[[Any], bool], reading: frozenset[str] = frozenset({"exp"})
) -> tuple[Any, list[tuple[Function, str, Any]]]:
    """Run `call()` and keep the 2-D float arrays that user functions hold in their locals, at any
    line, for which `keep(array)` is true: (function, local name, a copy), the first such value of
    each local. A softmax written inside a loss function (`probs = exp_scores / np.sum(exp_scores)`)
    shows its rows here even when a later line changes them in place. Only the code that reads one
    of the names in `reading` is watched (a softmax calls `exp`; a convolution's loops are left
    alone). Exceptions propagate."""
    import numpy as np

    kept: list[tuple[Function, str, Any]] = []
    seen: set[tuple[Any, str]] = set()

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event in ("line", "return"):
            code = frame.f_code
            for name, value in frame.f_locals.items():
                if (code, name) in seen or not (isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind == "f"):
                    continue
                if keep(value):
                    seen.add((code, name))
                    where = enclosing(code.co_filename, frame.f_lineno)  # statements a replay runs belong to the loop's function
                    if where is not None:
                        kept.append((where, name, value.copy()))
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        return local if reading & set(code.co_names) and is_user_file(code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = call()
    finally:
        sys.settrace(previous)
    return result, kept


def user_frame(exc: BaseException) -> Location:
    """The innermost traceback frame that belongs to user code (not this tool, numpy or the stdlib)."""
    tb: TracebackType | None = exc.__traceback__
    chosen: Location | None = None
    for frame, lineno in traceback.walk_tb(tb):
        file = frame.f_code.co_filename
        if is_user_file(file):
            chosen = Location(file, lineno)
    return chosen or Location(None, None)


_SIGNATURE = re.compile(
    r"missing \d+ required (positional|keyword-only) arguments?|takes \d+ positional arguments? but \d+ (were|was) given"
    r"|got an unexpected keyword argument|takes no arguments"
)


def called_wrongly(exc: BaseException) -> bool:
    """Whether `exc` is Python refusing a call's arguments (`missing 1 required positional argument`).
    Raised with no frame of the user's code (`user_frame`), the call that failed was the tool's own."""
    return isinstance(exc, TypeError) and bool(_SIGNATURE.search(str(exc)))


def standin_behind(exc: BaseException) -> str | None:
    """The missing module whose stand-in made the user's code raise `exc` (see `stubs.standin_behind`)."""
    from backprop_doctor.loading.stubs import standin_behind as behind

    return behind(exc)


def standin_reason(doing: str, exc: BaseException, module: str) -> str:
    """Why an object was not checked when `module` is a stand-in: the error is the stand-in's, not a
    line of the user's to fix (`doing`: "building it", "its forward")."""
    if isinstance(exc, NameError):
        what = f"{doing} raised {describe(exc)}, a name `from {module} import *` would give it, but `{module}` is"
    else:
        what = f"{doing} raised {describe(exc)} on what backprop-doctor put in place of `{module}`, which is"
    return f"{what} neither installed nor next to your file (see the missing-module note): install it or put it beside your file to check it"


def describe(exc: BaseException) -> str:
    """`ValueError (shapes (5,3) and (4,2) not aligned)`: no ": " so messages keep one split point."""
    detail = str(exc).replace(": ", " - ")
    if len(detail) > 240:
        detail = detail[:237] + "..."
    return f"{type(exc).__name__} ({detail})" if detail else type(exc).__name__
