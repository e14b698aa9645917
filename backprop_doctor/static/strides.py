"""A layer's backward that moves its window one element at a time where its forward moves it by a stride.

    def forward(self, x):
        ...
        for i in range(ho):
            r = i * self.stride                            # the window of output i starts here
            patch = x[:, :, r:r + self.k, ...]
    def backward(self, dout):
        ...
        for i in range(ho):
            r0 = i                                         # the stride left out
            window = x[:, :, r0:r0 + self.k, ...]

`stride_left_out` finds, for a class whose forward reads a stride attribute (`self.stride`) and whose
backward never does, the backward's statement that starts a window at a bare loop index: a binding of
loop variables (`r0, c0 = i, j`) that a slice then starts at, or a slice that starts at one itself.
Nothing here runs user code.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.tree import walk

@dataclass(frozen=True)
class StrideLeftOut:
    line: int  # the backward's statement that starts a window at a loop index
    statement: str
    stride: str  # "self.stride"
    forward_line: int  # where the forward reads it
    meant: str | None = None  # the forward's index an index of the backward is without its stride (`i * self.stride + k`)


def stride_left_out(tree: ast.Module, class_name: str) -> StrideLeftOut | None:
    forward, backward = find_function(tree, f"{class_name}.forward"), find_function(tree, f"{class_name}.backward")
    if forward is None or backward is None or not forward.args.args or not backward.args.args:
        return None
    me, them = forward.args.args[0].arg, backward.args.args[0].arg
    strides = [n for n in walk(forward) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me and "stride" in n.attr.lower()]
    if not strides:
        return None
    attr = strides[0].attr
    if any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == them and n.attr == attr for n in walk(backward)):
        return None
    looped = {n.target.id for n in walk(backward) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)}
    if not looped:
        return None
    starts = _slice_starts(backward)
    for node in sorted((n for n in walk(backward) if isinstance(n, ast.Assign) and len(n.targets) == 1), key=lambda n: n.lineno):
        targets = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else [node.targets[0]]
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        if len(targets) != len(values) or not all(isinstance(t, ast.Name) for t in targets):
            continue
        bare = [t.id for t, v in zip(targets, values) if isinstance(v, ast.Name) and v.id in looped]
        if bare and any(name in starts for name in bare):
            written = f"{', '.join(map(ast.unparse, targets))} = {', '.join(map(ast.unparse, values))}"  # `r0, c0 = i, j`, as written
            return StrideLeftOut(node.lineno, written, f"{me}.{attr}", strides[0].lineno)
    unstrided = {ast.unparse(bare): (ast.unparse(index), index.lineno) for index, bare in _without_stride(forward, me, attr)}
    for node in walk(backward):
        if isinstance(node, ast.Subscript):
            for index in node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]:
                if ast.unparse(index) in unstrided:  # `dout[:, :, i + k]` where forward writes `out[:, :, i * self.stride + k]`
                    meant, line = unstrided[ast.unparse(index)]
                    return StrideLeftOut(node.lineno, ast.unparse(node), f"{me}.{attr}", line, meant)
    for node in walk(backward):
        if isinstance(node, ast.Slice) and isinstance(node.lower, ast.Name) and node.lower.id in looped:
            return StrideLeftOut(node.lineno, ast.unparse(node), f"{me}.{attr}", strides[0].lineno)
    return None


def _slice_starts(function: ast.AST) -> set[str]:
    """The names slices of the function start at (`x[:, :, r0:r0 + k]`: `r0`)."""
    return {n.lower.id for n in walk(function) if isinstance(n, ast.Slice) and isinstance(n.lower, ast.Name)}


def _without_stride(forward: ast.AST, me: str, attr: str) -> list[tuple[ast.expr, ast.expr]]:
    """(index, the index without its stride) for each index of the forward's subscripts that multiplies a
    name by the stride (`i * self.stride + k`): that product replaced by the name alone (`i + k`)."""
    found = []
    for node in walk(forward):
        if not isinstance(node, ast.Subscript):
            continue
        for index in node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]:
            if not any(_strided(n, me, attr) for n in walk(index)):
                continue
            found.append((index, _Unstride(me, attr).visit(copy.deepcopy(index))))
    return found


def _strided(node: ast.AST, me: str, attr: str) -> ast.Name | None:
    """The name a product multiplies by the stride (`i * self.stride`, `self.stride * i`), else None."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return None
    sides = (node.left, node.right)
    stride = any(isinstance(s, ast.Attribute) and isinstance(s.value, ast.Name) and s.value.id == me and s.attr == attr for s in sides)
    names = [s for s in sides if isinstance(s, ast.Name)]
    return names[0] if stride and names else None


class _Unstride(ast.NodeTransformer):
    def __init__(self, me: str, attr: str):
        self.me, self.attr = me, attr

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        name = _strided(node, self.me, self.attr)
        return name if name is not None else self.generic_visit(node)
