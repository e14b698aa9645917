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
            called = [
                e.func.id if isinstance(e.func, ast.Name) else e.func.attr
                for e in display.elts if isinstance(e, ast.Call) and isinstance(e.func, (ast.Name, ast.Attribute))
            ]  # fmt: skip
            classes = tuple(c for c in called if c in layers)
            if classes:
                found.append(Multiplied(
                    node.lineno, node.end_lineno or node.lineno, ast.unparse(node), classes,
                    ", ".join(ast.unparse(e) for e in display.elts) + ("," if len(display.elts) == 1 else ""), ast.unparse(count),
                ))  # fmt: skip
            break
    return sorted(found, key=lambda m: m.line)
