"""Dropout masks a file draws, and the probability each keeps a unit with.

    mask = (np.random.rand(*h.shape) < keep_prob) / keep_prob     # keeps with keep_prob
    mask = rng.random(h.shape) > drop_rate                         # keeps with 1 - drop_rate
    mask = np.random.binomial(1, p, size=h.shape) / p              # keeps with p

`dropout_masks` finds each comparison of a uniform draw with a setting (or a number) and each Bernoulli
draw, and reads which way the comparison keeps: `draw < p` keeps with p, `draw > p` with 1 - p.
Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_UNIFORM = ("rand", "random", "random_sample", "uniform", "ranf")


@dataclass(frozen=True)
class DropoutMask:
    line: int  # the statement that draws the mask
    setting: str | None  # "keep_prob", "self.p": the name the probability is read from; None for a number
    name: str | None  # its last part ("keep_prob", "p")
    number: float | None  # the number itself, when the mask compares with a literal
    keeps_below: bool  # True: `draw < p` keeps with p; False: `draw > p` keeps with 1 - p
    statement: str  # the statement, as written


def dropout_masks(tree: ast.Module | None) -> list[DropoutMask]:
    if tree is None:
        return []
    found: list[DropoutMask] = []
    for stmt in walk(tree):
        if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)) or stmt.value is None:
            continue
        for node in walk(stmt.value):
            mask = _compared(node) or _bernoulli(node)
            if mask is None:
                continue
            setting, keeps_below = mask
            number = _number(setting)
            name = setting.id if isinstance(setting, ast.Name) else setting.attr if isinstance(setting, ast.Attribute) else None
            if number is None and name is None:
                continue
            if number is not None and not 0 < number < 1:
                continue
            found.append(DropoutMask(stmt.lineno, None if number is not None else ast.unparse(setting), name, number, keeps_below, ast.unparse(stmt)))
            break
    return found


def _compared(node: ast.AST) -> tuple[ast.expr, bool] | None:
    """(the probability, keeps below it) of `draw < p`, `draw > p`, `p > draw`."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    left, right, op = node.left, node.comparators[0], node.ops[0]
    below = isinstance(op, (ast.Lt, ast.LtE))
    if not below and not isinstance(op, (ast.Gt, ast.GtE)):
        return None
    if _uniform(left) and not _uniform(right):
        return right, below
    if _uniform(right) and not _uniform(left):
        return left, not below
    return None


def _bernoulli(node: ast.AST) -> tuple[ast.expr, bool] | None:
    """(p, True) of `np.random.binomial(1, p, size)`, `rng.binomial(n=1, p=p, ...)`."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "binomial"):
        return None
    arguments = {k.arg: k.value for k in node.keywords if k.arg}
    trials = node.args[0] if node.args else arguments.get("n")
    p = node.args[1] if len(node.args) > 1 else arguments.get("p")
    if p is None or not (isinstance(trials, ast.Constant) and trials.value == 1):
        return None
    if len(node.args) < 3 and not any(k.arg == "size" for k in node.keywords):
        return None  # one coin, not a mask
    return p, True


def _uniform(node: ast.AST) -> bool:
    """`np.random.rand(...)`, `rng.random(...)`, `np.random.uniform(size=...)` (on [0, 1)), drawn with a
    shape: one number (`np.random.rand() < epsilon`) is a coin, not a mask."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _UNIFORM):
        return False
    if node.func.attr == "uniform" and not any(k.arg == "size" for k in node.keywords) and len(node.args) < 3:
        return False
    if node.func.attr != "uniform" and not node.args and not any(k.arg == "size" for k in node.keywords):
        return False
    if node.func.attr == "uniform":
        bounds = [_number(a) for a in node.args[:2]] + [_number(k.value) for k in node.keywords if k.arg in ("low", "high")]
        return all(b is not None for b in bounds) and bounds in ([], [0.0, 1.0])
    return True


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None
