"""Where a file keeps its samples: in rows (`x @ W`, the book and cs231n) or in columns
(`W @ x`, Coursera, Nielsen, min-char-rnn).

A product of a weight and an activation says it: `np.dot(x, W)` and `x @ W` put the samples
in the rows of the result, `np.dot(W, x)` and `W @ x` in its columns. A weight is a name (or an
attribute) spelled like one: `W`, `W1`, `Wxh`, `self.weights`, `params['W2']`.
"""

from __future__ import annotations

import ast
import re
from typing import Literal

from backprop_doctor.static.tree import walk

Layout = Literal["rows", "columns", "unknown"]

_WEIGHT = re.compile(r"^(?:w|W)(?:[a-z]{0,3}|_?\w{0,3})?\d*$|^weights?$|^kernel$", re.ASCII)


def _name(node: ast.AST) -> str | None:
    """The last name of `x`, `self.x`, `params['x']`, `x[t]`, `x.T`."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return None  # a transpose turns the layout round: no evidence
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _name(node.value)
    return None


def _is_weight(node: ast.AST) -> bool:
    name = _name(node)
    return name is not None and bool(_WEIGHT.match(name))


def _products(tree: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    found = []
    for node in walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append((node.left, node.right))
        elif isinstance(node, ast.Call) and len(node.args) == 2:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in ("dot", "matmul"):
                found.append((node.args[0], node.args[1]))
        elif isinstance(node, ast.Call) and len(node.args) == 1 and isinstance(node.func, ast.Attribute) and node.func.attr == "dot":
            found.append((node.func.value, node.args[0]))  # `W1.dot(X)`
    return found


def sample_layout(tree: ast.AST | None) -> Layout:
    """"columns" when the file's weight products mostly read `W @ x`, "rows" when `x @ W`."""
    if tree is None:
        return "unknown"
    return _layout_of(_products(tree))


def call_layout(tree: ast.AST | None, name: str) -> Layout:
    """Where the samples are in what the file hands `name` (a softmax, say): from the weight products
    in its first argument at each call (`softmax(np.dot(Wya, a) + by)`), or in the statement of the
    calling function that computed that argument (`a2 = np.dot(z1, W2) + b2` then `softmax(a2)`).
    "unknown" when the calls say nothing."""
    if tree is None:
        return "unknown"
    found: list[tuple[ast.AST, ast.AST]] = []
    scopes = [n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] + [tree]
    for scope in scopes:
        body = _own_nodes(scope)
        for call in (n for n in body if isinstance(n, ast.Call) and n.args):
            func = call.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if called != name:
                continue
            argument = call.args[0]
            found += _products(argument)
            if isinstance(argument, ast.Name):
                for stmt in body:
                    if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == argument.id for t in stmt.targets):
                        found += _products(stmt.value)
    return _layout_of(found)


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of a function (or module) outside the functions and classes defined in it."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _layout_of(products: list[tuple[ast.AST, ast.AST]]) -> Layout:
    rows = columns = 0
    for left, right in products:
        left_w, right_w = _is_weight(left), _is_weight(right)
        if left_w and not right_w:
            columns += 1
        elif right_w and not left_w:
            rows += 1
    if columns > rows:
        return "columns"
    return "rows" if rows else "unknown"
