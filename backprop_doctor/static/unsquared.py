"""A running average of the gradient itself where its square belongs, under a square root.

    layer.weight_cache = self.beta_2 * layer.weight_cache + (1 - self.beta_2) * layer.dweights   # `** 2` left out
    weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
    layer.weights += -lr * m_hat / (np.sqrt(weight_cache_corrected) + eps)                      # NaN here

`unsquared_under_root` follows what a square root at a line reads back through the assignments before it,
in the same function, to an exponential average (`v = b * v + (1 - b) * x`, one term reading `v`, one
fresh) whose fresh term squares nothing: an average of signed gradients goes negative, and its root is NaN.
Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

DEPTH = 4


@dataclass(frozen=True)
class Unsquared:
    line: int
    statement: str
    average: str  # `layer.weight_cache`
    fresh: str  # `(1 - self.beta_2) * layer.dweights`: the term that should square


def _roots(statement: ast.AST) -> list[ast.expr]:
    """The arguments of `np.sqrt(...)`, `math.sqrt(...)`, and of `x ** 0.5`, in `statement`."""
    found = []
    for node in walk(statement):
        if isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] == "sqrt" and node.args:
            found.append(node.args[0])
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 0.5:
            found.append(node.left)
    return found


def _read(node: ast.AST) -> set[str]:
    return {ast.unparse(n) for n in walk(node) if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(getattr(n, "ctx", None), ast.Load)}


def _squares(node: ast.AST) -> bool:
    for n in walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant) and n.right.value == 2:
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and ast.unparse(n.left) == ast.unparse(n.right):
            return True
        if isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] in ("square", "power", "abs", "absolute", "exp"):
            return True
    return False


def _terms(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _terms(node.left) + _terms(node.right)
    return [node]


def _scope(tree: ast.Module, line: int) -> ast.AST:
    best: ast.AST = tree
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if best is tree or node.lineno >= best.lineno:  # type: ignore[attr-defined]
                best = node
    return best


def unsquared_under_root(tree: ast.Module | None, line: int) -> Unsquared | None:
    """The exponential average of an unsquared term that a square root at `line` reads, through the
    assignments before it in its function; None when there is none."""
    if tree is None:
        return None
    statement = next((n for n in walk(tree) if isinstance(n, ast.stmt) and n.lineno == line and not isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.With))), None)
    if statement is None:
        return None
    scope = _scope(tree, line)
    assigns = [
        n for n in walk(scope) if isinstance(n, ast.Assign) and len(n.targets) == 1 and n.lineno < line
        and isinstance(n.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
    ]  # fmt: skip
    todo = [(name, 0) for root in _roots(statement) for name in _read(root)]
    seen: set[str] = set()
    while todo:
        name, depth = todo.pop(0)
        if name in seen or depth > DEPTH:
            continue
        seen.add(name)
        setting = [n for n in assigns if ast.unparse(n.targets[0]) == name]
        if not setting:
            continue
        last = max(setting, key=lambda n: n.lineno)
        terms = _terms(last.value)
        own = [t for t in terms if name in _read(t)]
        fresh = [t for t in terms if t not in own]
        if len(terms) == 2 and len(own) == 1 and len(fresh) == 1:
            if not _squares(fresh[0]):
                return Unsquared(last.lineno, ast.unparse(last), name, ast.unparse(fresh[0]))
            continue
        todo += [(n, depth + 1) for n in _read(last.value) if n != name]
    return None


__all__ = ["Unsquared", "unsquared_under_root"]
