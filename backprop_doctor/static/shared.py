"""Layer objects put in a network twice by multiplying a list.

`[Dense(16, 16), Tanh()] * 2` does not build four layers: it repeats the references to the same two
objects. A layer written by hand keeps what its forward pass saw (`self.x = x`) and what its backward
pass computed (`self.dW = ...`) on the object, so the second use overwrites the first's cache before
the backward pass reads it, and the gradient of the weights both uses share is the last use's alone.
`multiplied_layers` reads a file for a list display of calls to its own layer classes multiplied by a
count; nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk
from backprop_doctor.static.writes import _callee

_FORWARD = frozenset({"forward", "__call__", "fprop", "forward_pass", "forward_propagation", "feedforward"})
_BACKWARD = frozenset({"backward", "backprop", "bprop", "backward_pass", "backward_propagation", "backpropagate"})


@dataclass(frozen=True)
class Multiplied:
    """`[Dense(H, H, rng), Tanh()] * 2` (line 12): the layers `Dense`, `Tanh` repeated 2 times."""

    line: int
    end_line: int
    text: str  # the list times its count, as written
    classes: tuple[str, ...]  # the layer classes whose objects repeat, in order
    elements: str  # "Dense(H, H, rng), Tanh()": the display's elements as a tuple's ("Dense(H, H)," for one)
    count: str  # "2", "n_hidden"


def _stateful_layers(tree: ast.Module) -> set[str]:
    """Classes of the file with a forward and a backward method that keep something on the object in
    one of them (`self.x = x`, `self.dW = ...`): two uses of one object overwrite each other's."""
    found: set[str] = set()
    for node in walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        methods = {m.name: m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        passes = [m for name, m in methods.items() if name in _FORWARD | _BACKWARD]
        if not (_FORWARD & methods.keys() and _BACKWARD & methods.keys()):
            continue
        for method in passes:
            me = method.args.args[0].arg if method.args.args else "self"
            if any(
                isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me
                for n in walk(method) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            ):  # fmt: skip
                found.add(node.name)
                break
    return found


def _count(node: ast.expr) -> bool:
    """A count a list can be multiplied by, other than 0 and 1: `2`, `n_layers`, `depth - 1`."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int and node.value > 1
    return isinstance(node, (ast.Name, ast.Attribute, ast.BinOp, ast.Call))


def multiplied_layers(tree: ast.Module | None) -> list[Multiplied]:
    """Every `[Layer(...), ...] * n` (or `n * [...]`) of the file whose display calls a layer class of
    the file that keeps state on its objects, in source order."""
    if tree is None:
        return []
    layers = _stateful_layers(tree)
    if not layers:
        return []
    found: list[Multiplied] = []
    for node in walk(tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        for display, count in ((node.left, node.right), (node.right, node.left)):
            if not isinstance(display, (ast.List, ast.Tuple)) or not _count(count) or isinstance(count, (ast.List, ast.Tuple)):
                continue
            called = [_callee(e) for e in display.elts if isinstance(e, ast.Call) and isinstance(e.func, (ast.Name, ast.Attribute))]
            classes = tuple(c for c in called if c in layers)
            if classes:
                found.append(Multiplied(
                    node.lineno, node.end_lineno or node.lineno, ast.unparse(node), classes,
                    ", ".join(ast.unparse(e) for e in display.elts) + ("," if len(display.elts) == 1 else ""), ast.unparse(count),
                ))  # fmt: skip
            break
    return sorted(found, key=lambda m: m.line)


@dataclass(frozen=True)
class Aliased:
    """`act2 = act1` (line 9) and both in `self.layers` (line 10): one `ReLU` object used twice."""

    line: int  # the alias (`act2 = act1`), else the list that names one object twice
    listed: int  # the line of the list
    names: tuple[str, ...]  # the names the list reaches the object by, in order ("act1", "act2")
    cls: str  # "ReLU"
    made: int  # the line the object is made at (`act1 = ReLU()`)


def aliased_layers(tree: ast.Module | None, layers: set[str] | None) -> list[Aliased]:
    """Every list display of a function (or of the module) that holds one object of a stateful layer
    class twice, by one name or by two bound to each other (`relu = ReLU()`, `[..., relu, ..., relu]`;
    `act2 = act1`). `layers`: the stateful layer classes (`stateful_layers`), of this file or of the
    files it imports them from; None: an object of any class called (each display found is one of
    these, its class the only difference)."""
    if tree is None or layers is not None and not layers:
        return []
    found: list[Aliased] = []
    for scope in (tree, *(n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))):
        made: dict[str, tuple[str, int]] = {}  # name -> (class, line made), by the object it holds
        alias_line: dict[str, int] = {}  # name bound to another name's object -> that line
        for node in _own_statements(scope):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and (name := _held_name(node.targets[0])) is not None:
                value = node.value
                made.pop(name, None)
                alias_line.pop(name, None)
                if isinstance(value, ast.Call) and (called := _callee(value)) and (layers is None or called in layers):
                    made[name] = (called, node.lineno)
                elif (other := _held_name(value)) is not None and other in made:
                    made[name] = made[other]
                    alias_line[name] = node.lineno
            for display in (n for n in ast.walk(node) if isinstance(n, ast.List)):
                named = [held for e in display.elts if (held := _held_name(e)) is not None and held in made]
                seen: dict[tuple[str, int], list[str]] = {}
                for name in named:
                    seen.setdefault(made[name], []).append(name)
                for (cls, line), names in seen.items():
                    if len(names) > 1:
                        alias = next((alias_line[n] for n in names if n in alias_line), None)
                        found.append(Aliased(alias or display.lineno, display.lineno, tuple(names), cls, line))
    return sorted(set(found), key=lambda a: a.line)


def _held_name(node: ast.expr) -> str | None:
    """`relu`, or `self.act1` of a constructor (`self.act2 = self.act1`, `self.layers = [..., self.act1, ..., self.act2]`):
    the name a layer object is held under; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def stateful_layers(tree: ast.Module | None) -> set[str]:
    """The layer classes of a file that keep something on the object in their forward or backward pass."""
    return _stateful_layers(tree) if tree is not None else set()


def _own_statements(scope: ast.AST) -> list[ast.stmt]:
    """The statements of a module or function in order, those of its blocks too, not those of the
    functions and classes it defines."""
    out: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            out.append(stmt)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    visit(inner)
            for handler in getattr(stmt, "handlers", []) or []:
                visit(handler.body)

    visit(getattr(scope, "body", []))
    return out
