"""A user's backward run with one statement of it changed, to find which statement is wrong.

A per-sample loop in a backward (`for index, ... in enumerate(...)`: intermediate arrays, then a
row of the output stored) is found wrong at its store, while the slip is often in a statement
before it. `first_wrong` runs the backward once for each shape-level alternative of each of the
loop's statements (`static.alternatives`), with the function's code swapped for that variant
and put back afterwards, and hands the measuring back to the caller (`agrees`): the statement
whose change makes the gradient agree is the wrong one. Among several such changes, the most
likely kind wins, then the earliest statement.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backprop_doctor.static import alternatives

MOST = 80  # variants run at most for one finding


@dataclass(frozen=True)
class Blamed:
    """The statement to change (lines of the file) and the change that makes the gradient agree."""

    line: int
    end_line: int
    text: str
    fix: str | None  # None: the store only copies what that statement computes, and no one change of it is right
    store_line: int
    looped: bool  # the store is in a per-sample loop; else an earlier write of the same array is blamed
    read_at: int | None = None  # a statement after the store that hands its value on to the loop's next pass: the line reading it there


def first_wrong(
    func: Any, store_line: int, agrees: Callable[[], bool], enough: Callable[[], bool] = lambda: False, named: bool = False
) -> Blamed | None:
    """The statement of the per-sample loop around `store_line` (a line of `func`'s file), or of the
    earlier writes of the array it stores, whose one change makes `agrees()` true while `func` runs the
    changed code (tried until `enough()`, at most `MOST` changes); None when no single change does, or
    there is no such loop or earlier write (`alternatives.loop_statements`, `written_before`). Where no change does and the store only
    copies a value computed before it (`alternatives.copied_from`), that value's statement, with no fix;
    likewise the write into part of the array before a store that only scales it by one number
    (`alternatives.rescaled_from`), unless the check named the error's pattern (`named`: a factor that
    store may well be wrong by, a statement left out that the pattern's own advice says)."""
    func = getattr(func, "__func__", func)
    function = function_tree(func)
    if function is None:
        return None
    statements = alternatives.loop_statements(function, store_line)
    looped = statements is not None
    carried = {id(s): line for s, line in alternatives.carried_statements(function, store_line)} if looped else {}
    if statements is None:
        statements = alternatives.written_before(function, store_line)
    if statements is None:
        return None
    function.decorator_list = []
    found: Blamed | None = None
    original = func.__code__
    searched = alternatives.feeding(statements)  # not `grads["Wh"] += x.T @ dah` beside a store of `dx` it never reaches
    try:
        # every statement's likely changes before any statement's unlikely ones: the likelier kind wins, then the
        # earlier statement, and the changes tried (at most `MOST`) are not spent on unlikely ones first
        for tried, (statement, alternative) in enumerate(variants(func, function, searched)):
            if tried >= MOST or enough():
                break
            code = _compiled(function, statement, alternative.node, func)
            if code is None:
                continue
            func.__code__ = code
            try:
                right = agrees()
            except Exception:  # noqa: BLE001 - user code changed by us: a variant that fails is not the fix
                right = False
            finally:
                func.__code__ = original
            if right:
                end = statement.end_lineno or statement.lineno
                found = Blamed(statement.lineno, end, ast.unparse(statement), alternative.text, store_line, looped, carried.get(id(statement)))
                break
    finally:
        func.__code__ = original
    if not found:
        copied = alternatives.copied_from(statements) if looped else None if named else alternatives.rescaled_from(statements)
        if copied is None:
            return None
        return Blamed(copied.lineno, copied.end_lineno or copied.lineno, ast.unparse(copied), None, store_line, looped)
    return found


def function_tree(func: Any) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The definition of the plain function `func`, parsed with the lines of its file; None for anything else
    (a closure over names of its own, a function whose source cannot be read)."""
    if not isinstance(func, types.FunctionType) or set(func.__code__.co_freevars) - {"__class__"}:
        return None
    try:
        lines, start = inspect.getsourcelines(func)
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None
    ast.increment_lineno(tree, start - 1)
    return tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def variants(func: Any, function: ast.FunctionDef | ast.AsyncFunctionDef, statements: list[ast.stmt]) -> list[tuple[ast.stmt, alternatives.Alternative]]:
    """(statement, change) for every single change of `statements` (statements of `function`, the tree of `func`),
    every statement's likely changes before any unlikely one, each kind in the statements' order."""
    siblings = alternatives.operand_siblings(_file_tree(func) or function)
    factors = alternatives.gradient_factors(function)
    changes = [(statement, change) for statement in statements for change in alternatives.alternatives(statement, siblings, factors)]
    return sorted(changes, key=lambda pair: pair[1].rank)


def variant_code(func: Any, function: ast.FunctionDef | ast.AsyncFunctionDef, statement: ast.stmt, change: alternatives.Alternative) -> types.CodeType | None:
    """The code of `func` with `statement` (of its tree `function`) made `change`; None when it does not compile."""
    stripped = _swap(function, statement, change.node)
    stripped.decorator_list = []  # type: ignore[attr-defined]  # as `first_wrong` compiles it
    return compiled_as(stripped, func)  # type: ignore[arg-type]


def _file_tree(func: types.FunctionType) -> ast.Module | None:
    """The parsed file `func` is defined in (`static.files.source_tree`), None when it cannot be read."""
    from backprop_doctor.static.files import source_tree

    try:
        file = inspect.getsourcefile(func)
    except TypeError:
        return None
    return source_tree(file)[1] if file else None


def _compiled(function: ast.FunctionDef | ast.AsyncFunctionDef, statement: ast.stmt, replacement: ast.stmt, func: types.FunctionType) -> types.CodeType | None:
    """The code of `function` with `statement` replaced, compiled in its class's name (private names
    mangled as the original's were) and file; None when it does not compile to a compatible code."""
    return compiled_as(_swap(function, statement, replacement), func)


def compiled_as(function: ast.FunctionDef | ast.AsyncFunctionDef, func: types.FunctionType) -> types.CodeType | None:
    """The code of the definition `function` (lines of `func`'s file), compiled in `func`'s class's name and
    file; None when it does not compile to a code `func` can take."""
    owner = func.__qualname__.rsplit(".", 1)[0] if "." in func.__qualname__ else None
    body: list[ast.stmt] = [function]
    if owner and "<locals>" not in owner:
        body = [ast.ClassDef(name=owner.rsplit(".", 1)[-1], bases=[], keywords=[], body=body, decorator_list=[], **_type_params())]
    module = ast.fix_missing_locations(ast.Module(body, []))
    try:
        compiled = compile(module, func.__code__.co_filename, "exec")
    except (SyntaxError, ValueError, TypeError):
        return None
    code = _find(compiled, func.__code__.co_name)
    if code is None or code.co_freevars != func.__code__.co_freevars:
        return None
    return code


def _type_params() -> dict[str, list[Any]]:
    """`type_params=[]` where the Python's class nodes have them (3.12 on)."""
    return {"type_params": []} if "type_params" in ast.ClassDef._fields else {}


def _swap(function: ast.AST, statement: ast.stmt, replacement: ast.stmt) -> ast.AST:
    """`function` with `statement` (a node of it) replaced by `replacement`, in a copy."""
    import copy

    path = _path_to(function, statement)
    changed = copy.deepcopy(function)
    holder: Any = changed
    for field, index in path[:-1]:
        holder = getattr(holder, field)[index] if index is not None else getattr(holder, field)
    field, index = path[-1]
    getattr(holder, field)[index] = replacement
    return changed


def _path_to(node: ast.AST, target: ast.AST) -> list[tuple[str, int | None]]:
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, child in enumerate(value):
                if child is target:
                    return [(field, i)]
                if isinstance(child, ast.AST):
                    below = _path_to(child, target)
                    if below:
                        return [(field, i), *below]
        elif isinstance(value, ast.AST):
            if value is target:
                return [(field, None)]
            below = _path_to(value, target)
            if below:
                return [(field, None), *below]
    return []


def _find(code: types.CodeType, name: str) -> types.CodeType | None:
    """The code object of the def named `name` compiled inside `code` (a module, maybe through a class body)."""
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = const if const.co_name == name and const.co_flags & inspect.CO_OPTIMIZED else _find(const, name)
            if found is not None:
                return found
    return None
