"""The statement that makes a weight matrix with every entry the same.

`symmetric-init` learns from the replay that every weight matrix of a program starts with its units
equal; `constant_made` finds the line that made them so, for the finding to name: an assignment whose
value is an array of one repeated number (`np.zeros((2, H))`, `np.ones(...) * 0.5`, `0.5 * np.ones(...)`,
`np.full((2, H), 0.5)`, `np.zeros_like(W)`), each element of a tuple on its own
(`W1, W2 = np.full((2, H), 0.5), np.full((H, 1), 0.5)`), to the name or to an attribute of that name
(`self.W1 = np.ones(...)` for `net.W1`), or a statement that fills the array with one number
(`W1.fill(0.5)`, `W1[:] = 0.5`). None when no such statement is found (the weights come from a function
of the user's, a file, a copy of another): the check then keeps the line it named before. Nothing here
runs user code. `unpacked_at`: the line that unpacks them from a call (`W1, W2 = make_weights()`), when
nothing else names them.
"""

from __future__ import annotations

import ast
import re

from backprop_doctor.static.tree import walk

_CONSTANT_ARRAYS = {"zeros", "ones", "full", "zeros_like", "ones_like", "full_like"}
# a factor drawn at random makes the entries differ (`np.ones(...) * np.random.randn(...)`)
_RANDOM = re.compile(r"(?i)rand|normal|uniform|choice|permutation|integers|random|binomial|shuffle|sample")


def constant_made(tree: ast.Module | None, names: list[str]) -> int | None:
    """The first line that sets one of `names` (`W1`, `net.W1`, `self.W1`) to an array of one repeated number."""
    if tree is None:
        return None
    wanted = {_last(n) for n in names} - {""}
    lines = []
    for node in walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                lines += [node.lineno for t, v in _pairs(target, node.value) if _names(t) & wanted and _constant(v)]
                if isinstance(target, ast.Subscript) and _whole(target.slice) and _names(target.value) & wanted and _scalar(node.value):
                    lines.append(node.lineno)  # `W1[:] = 0.5`
        elif isinstance(node, ast.AnnAssign) and node.value is not None and _names(node.target) & wanted and _constant(node.value):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "fill" and _names(node.value.func.value) & wanted
            and len(node.value.args) == 1 and _scalar(node.value.args[0])
        ):  # fmt: skip
            lines.append(node.lineno)  # `W1.fill(0.5)`
    return min(lines) if lines else None


def unpacked_at(tree: ast.Module | None, names: list[str]) -> int | None:
    """The first line that binds one of `names` as an element of a tuple (`W1, W2 = make_weights()`,
    `self.W1, self.W2 = ...`), which `first_assignment` does not read."""
    if tree is None:
        return None
    wanted = {_last(n) for n in names} - {""}
    lines = [
        node.lineno for node in walk(tree) if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, (ast.Tuple, ast.List))
        if any(_names(e) & wanted for e in target.elts)
    ]  # fmt: skip
    return min(lines) if lines else None


def _last(name: str) -> str:
    """`W1` of `W1`, `net.W1`, `self.layers[0].W` (the attribute or the name last written); `[W1]` of `params['W1']`,
    an entry, matched only by an entry's assignment (`W1 = p['W1']` is the weight's name, not `p['W1'] = ...`)."""
    if (entry := re.search(r"\[['\"](\w+)['\"]\]$", name)) is not None:
        return f"[{entry.group(1)}]"
    parts = [p for p in re.split(r"[.\[\]'\"]+", name) if p and not p.isdigit()]
    return parts[-1] if parts else ""


def _names(target: ast.expr) -> set[str]:
    """The name a target binds, read as the checked names are (`self.W1` and `W1` both give `W1`)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Attribute):
        return {target.attr}
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
        return {f"[{target.slice.value}]"}  # `params['W1']`, for a checked name that is an entry (`params['W1']`)
    return set()


def _pairs(target: ast.expr, value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) and len(target.elts) == len(value.elts):
        return [pair for t, v in zip(target.elts, value.elts) for pair in _pairs(t, v)]
    if isinstance(target, (ast.Tuple, ast.List)):
        return []
    return [(target, value)]


def _whole(index: ast.expr) -> bool:
    """`[:]`, `[...]`, `[:, :]`: the whole array."""
    if isinstance(index, ast.Slice):
        return index.lower is None and index.upper is None and index.step is None
    if isinstance(index, ast.Constant):
        return index.value is Ellipsis
    return isinstance(index, ast.Tuple) and all(_whole(e) for e in index.elts)


def _scalar(value: ast.expr) -> bool:
    """A number, a name or a formula of them (`0.5`, `c`, `1 / H`, `np.sqrt(2 / n)`), nothing drawn at random."""
    if isinstance(value, (ast.List, ast.Tuple, ast.ListComp, ast.Dict, ast.Subscript)):
        return False
    return not any(isinstance(n, ast.Call) and _RANDOM.search(ast.unparse(n.func)) for n in walk(value))


def _constant(value: ast.expr) -> bool:
    """An array of one repeated number: `np.zeros(...)`, `np.full(shape, 0.5)`, `np.ones(...) * 0.5`, `0.5 * np.ones(...)`,
    `np.ones(...).astype(float)`."""
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr in ("astype", "copy", "reshape") and _constant(func.value):
            return True
        name = ast.unparse(func).rpartition(".")[2]
        if name not in _CONSTANT_ARRAYS:
            return False
        if name in ("full", "full_like"):
            fill = value.args[1] if len(value.args) > 1 else next((k.value for k in value.keywords if k.arg == "fill_value"), None)
            return fill is not None and _scalar(fill)
        return True
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Mult, ast.Div, ast.Add, ast.Sub)):
        return (_constant(value.left) and _scalar(value.right)) or (_scalar(value.left) and _constant(value.right))
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return _constant(value.operand)
    return False
