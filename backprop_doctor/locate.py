"""Point findings at source lines of live functions (via `inspect` and `ast`)."""

from __future__ import annotations

import ast
import inspect
import os
import sys
import sysconfig
import textwrap
import traceback
from dataclasses import dataclass
from types import TracebackType
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__import__("numpy").__file__)))
_LIBRARY_DIRS = tuple(
    {os.path.abspath(sysconfig.get_path(name)) for name in ("stdlib", "purelib", "platlib")}
    | {os.path.abspath(sys.prefix), os.path.abspath(sys.base_prefix), _PACKAGE_DIR, _NUMPY_DIR}
)


def is_user_file(filename: str | None) -> bool:
    """Code the user wrote: not this tool, numpy, the standard library or an installed package."""
    if not filename or filename.startswith("<"):
        return False
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


def _function_tree(func: Any) -> tuple[ast.AST, int, str] | None:
    """The parsed body of `func`, its first line number, and its file."""
    func = inspect.unwrap(func) if inspect.isroutine(func) else func
    try:
        lines, start = inspect.getsourcelines(func)
        file = inspect.getsourcefile(func)
    except (TypeError, OSError):
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None
    return tree, start, file or ""


def where(func: Any) -> Location:
    """The `def` line of a function or class."""
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    return Location(file, start)


def assignment(func: Any, *targets: str, ran: set[int] | None = None) -> Location:
    """The last line in `func` that assigns the first of `targets` assigned there (e.g. "self.db", "dx").

    `ran` (line numbers that executed) narrows the choice to the branch that ran.
    Falls back to the `return` line, then to the `def` line.
    """
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    best: ast.AST | None = None
    if ran:  # prefer the assignments that actually ran (one branch of an if/else)
        executed = [n for n in assignments if start + n.lineno - 1 in ran]
        assignments = executed or assignments
    for wanted in targets:  # in order of preference: the first target that is assigned wins
        for node in assignments:
            node_targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            texts = [ast.unparse(t) for t in node_targets]
            if any(text == wanted or text.startswith(wanted + "[") for text in texts):
                if best is None or node.lineno > best.lineno:
                    best = node
        if best is not None:
            break
    if best is None:
        returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
        best = max(returns, key=lambda n: n.lineno) if returns else None
    if best is None:
        return Location(file, start)
    return Location(file, start + best.lineno - 1, start + (best.end_lineno or best.lineno) - 1, ast.unparse(best))


def inplace_write(func: Any, argument: int = 0) -> Location:
    """The first line where `func` writes into its `argument`-th parameter (after `self`).

    Falls back to the `def` line when no write can be seen in the source.
    """
    from backprop_doctor import static

    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None:
        return Location(file, start)
    names = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
    if argument >= len(names):
        return Location(file, start)
    writes = static.inplace_writes(node, names[argument])
    if not writes:
        return Location(file, start)
    line, text = writes[0]
    return Location(file, start + line - 1, text=text)


def accumulation(func: Any) -> Location:
    """The first `self.<attr> += ...` (or `-=`) in `func`: state that grows call after call.

    Falls back to the `def` line.
    """
    found = _function_tree(func)
    if found is None:
        return Location(None, None)
    tree, start, file = found
    for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        if isinstance(node, ast.AugAssign) and ast.unparse(node.target).startswith("self."):
            return Location(file, start + node.lineno - 1, text=ast.unparse(node))
    return Location(file, start)


def returned_name(func: Any) -> str | None:
    """The name `func` returns (`return dx` → "dx"), for finding where it was computed."""
    found = _function_tree(func)
    if found is None:
        return None
    for node in ast.walk(found[0]):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value.elts[0] if isinstance(node.value, ast.Tuple) and node.value.elts else node.value
            if isinstance(value, ast.Name):
                return value.id
    return None


def user_frame(exc: BaseException) -> Location:
    """The innermost traceback frame that belongs to user code (not this tool, numpy or the stdlib)."""
    tb: TracebackType | None = exc.__traceback__
    chosen: Location | None = None
    for frame, lineno in traceback.walk_tb(tb):
        file = frame.f_code.co_filename
        if is_user_file(file):
            chosen = Location(file, lineno)
    return chosen or Location(None, None)


def describe(exc: BaseException) -> str:
    """`ValueError (shapes (5,3) and (4,2) not aligned)`: no ": " so messages keep one split point."""
    detail = str(exc).replace(": ", " - ")
    if len(detail) > 240:
        detail = detail[:237] + "..."
    return f"{type(exc).__name__} ({detail})" if detail else type(exc).__name__
