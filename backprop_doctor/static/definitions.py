"""Where functions and classes are defined: qualified names, def lines, the def nodes themselves."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from backprop_doctor.static.files import source_tree
from backprop_doctor.static.tree import DEFS as _DEFS
from backprop_doctor.static.tree import FunctionNode, children


def _child_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists nested in a compound statement (not in a def or class)."""
    blocks = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            blocks.append(block)
    blocks.extend(handler.body for handler in getattr(stmt, "handlers", ()))
    blocks.extend(case.body for case in getattr(stmt, "cases", ()))
    return blocks


def _definitions(body: list[ast.stmt]) -> Iterator[FunctionNode | ast.ClassDef]:
    """The defs and classes a block binds, including those under if/for/try, not inside other defs."""
    for stmt in body:
        if isinstance(stmt, _DEFS):
            yield stmt
        else:
            for block in _child_blocks(stmt):
                yield from _definitions(block)


def _walk_defs(tree: ast.AST) -> Iterator[tuple[str, FunctionNode | ast.ClassDef, ast.ClassDef | None]]:
    """(qualname, node, class the node is a method of) for every def and class, outer first."""

    def visit(body: list[ast.stmt], prefix: str, cls: ast.ClassDef | None):
        for node in _definitions(body):
            qualname = prefix + node.name
            yield qualname, node, cls
            yield from visit(node.body, qualname + ".", node if isinstance(node, ast.ClassDef) else None)

    yield from visit(getattr(tree, "body", []), "", None)


def _normal_qualname(qualname: str) -> str:
    return ".".join(part for part in qualname.split(".") if part != "<locals>")


def find_function(tree: ast.AST, qualname: str) -> FunctionNode | None:
    """The def of `qualname` ("softmax", "SoftmaxWithLoss.softmax", "outer.<locals>.inner").

    When a name is defined twice the later definition wins, as it does in Python.
    """
    wanted = _normal_qualname(qualname)
    found = None
    for name, node, _cls in _walk_defs(tree):
        if name == wanted and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = node
    return found


def definition_line(tree: ast.AST, qualname: str) -> int | None:
    """The line of the `def` (or `class`) statement of `qualname`, or None when there is none."""
    wanted = _normal_qualname(qualname)
    line = None
    for name, node, _cls in _walk_defs(tree):
        if name == wanted:
            line = node.lineno
    return line


def _qualnames(tree: ast.AST) -> dict[int, str]:
    return {id(node): name for name, node, _cls in _walk_defs(tree)}


@dataclass(frozen=True)
class Function:
    """A function or method definition in a source file."""

    file: str
    qualname: str  # "SoftmaxWithLoss.softmax"
    line: int  # the `def` line (the first decorator's, when it has some)
    end_line: int


_FUNCTIONS: dict[str, tuple[ast.Module, list[Function]]] = {}  # file -> its tree as parsed, its functions


def functions(file: str) -> list[Function]:
    """Every function and method defined in `file`, with its qualified name."""
    _, tree = source_tree(file)
    if tree is None:
        return []
    cached = _FUNCTIONS.get(file)
    if cached is not None and cached[0] is tree:  # each finding's line asks again (`enclosing`)
        return list(cached[1])
    found: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in children(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append(Function(file, name, first, child.end_lineno or child.lineno))
                visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    _FUNCTIONS[file] = (tree, found)
    return list(found)


def enclosing(file: str, line: int) -> Function | None:
    """The innermost function of `file` that contains `line`."""
    inside = [f for f in functions(file) if f.line <= line <= f.end_line]
    return max(inside, key=lambda f: f.line) if inside else None


def computed_from(file: str, function: Function, line: int, earlier: int) -> bool:
    """Whether the statement of `function` at `line` reads, through the assignments of that function before it,
    what the statement at line `earlier` binds: `g["We"] = X.T @ denc` (line 41) from `denc =
    np.concatenate([dmu, dlogvar], axis=1)` from `dlogvar = ...` (line 39)."""
    tree = source_tree(file)[1]
    node = find_function(tree, function.qualname) if tree is not None else None
    if node is None:
        return False
    statements = [n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    at = [n for n in statements if n.lineno <= line <= (n.end_lineno or n.lineno)]
    if not at:
        return False

    def read(stmt: ast.AST) -> set[str]:
        value = getattr(stmt, "value", None)
        names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} if value is not None else set()
        if isinstance(stmt, ast.AugAssign):
            names |= {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
        return names

    def bound(stmt: ast.AST) -> set[str]:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    wanted = set().union(*(read(s) for s in at))
    for stmt in sorted((s for s in statements if s.lineno < min(s2.lineno for s2 in at)), key=lambda s: -s.lineno):
        names = bound(stmt)
        if not names & wanted:
            continue
        if stmt.lineno <= earlier <= (stmt.end_lineno or stmt.lineno):
            return True
        wanted |= read(stmt)
    return False


def call_reaching(file: str, caller: Function, callee: Function) -> int | None:
    """The line of the first call in `caller` that runs `callee`, directly or through the file's other functions
    (called by their bare name, or as `self.name` of the same class): `L_model_backward` reaches `linear_backward`
    through `linear_activation_backward`. None when no call of it does."""
    tree = source_tree(file)[1]
    if tree is None:
        return None
    defs = {f.qualname: f for f in functions(file)}

    def called(function: Function) -> list[tuple[int, Function]]:
        node = find_function(tree, function.qualname)
        if node is None:
            return []
        owner = function.qualname.rsplit(".", 1)[0] + "." if "." in function.qualname else ""
        found = []
        for n in ast.walk(node):
            if not isinstance(n, ast.Call):
                continue
            name = None
            if isinstance(n.func, ast.Name):
                name = n.func.id
            elif isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self" and owner:
                name = owner + n.func.attr
            target = defs.get(name) if name else None
            if target is not None and target != function:
                found.append((n.lineno, target))
        return sorted(found, key=lambda c: c[0])

    for line, first in called(caller):
        seen, frontier = {first.qualname}, [first]
        while frontier:
            current = frontier.pop()
            if current == callee:
                return line
            for _, nxt in called(current):
                if nxt.qualname not in seen and len(seen) < 50:
                    seen.add(nxt.qualname)
                    frontier.append(nxt)
    return None
