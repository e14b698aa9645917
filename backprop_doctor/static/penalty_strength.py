"""Where a program's L2 penalty enters its gradients, and where its strength is set.

    loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dW2 = hidden.T @ dscores + reg * W2          # the penalty's gradient, added to the data's
    ...
    reg = 1e-3                                    # the strength, a literal the user chose

`decay_terms` finds the terms `c * S * P` a gradient adds (`dW = ... + reg * W`, `dW += 2 * lam * W`)
where `S` is a setting's name (`reg`, `self.lambd`, `weight_decay`) that some statement of the file
also reads while squaring (the loss's penalty): the learning rate is never such a setting.
`setting_site` is the line where that setting is given its number (`replay.curve.tiny_batch` sets the
settings to 0, or weighs the penalty they scale, for its few samples). Nothing here runs user code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.penalties import _is_setting, _squares
from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class DecayTerm:
    setting: str  # "reg", "self.reg": as written
    name: str  # its last part: "reg"
    parameter: str  # "W2"
    factor: float  # the constant the term carries beside the setting (2 of `2 * lam * W`), 1 without
    line: int  # the gradient's statement
    text: str = ""  # the term as written: "reg * W3"


@dataclass(frozen=True)
class SettingSite:
    line: int
    text: str  # "reg = 1.0", "reg=1.0"
    value: float


def parameter_name(path: str) -> str:
    """The last part of a parameter's path, as a `DecayTerm.parameter` names it: `W2` of `self.W2`,
    `params['W2']`, `net.params["W2"]`."""
    return re.split(r"[.\[\]'\"]+", path.strip("]'\""))[-1]


def decay_terms(tree: ast.Module | None) -> list[DecayTerm]:
    """The penalty terms the file's gradients add, each with the setting that scales it."""
    if tree is None:
        return []
    squaring = {
        _last(n) for s in walk(tree) if isinstance(s, (ast.Assign, ast.AugAssign, ast.Return)) and _squares(s)
        for n in walk(s) if isinstance(n, (ast.Name, ast.Attribute))
    }  # fmt: skip
    found: list[DecayTerm] = []
    for stmt in walk(tree):
        products: list[ast.expr] = []
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            products.append(stmt.value)
        if isinstance(stmt, (ast.Assign, ast.AugAssign)):
            products += [side for n in walk(stmt.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add) for side in (n.left, n.right)]
        for product in products:
            term = _term(product, squaring, stmt.lineno)
            if term is not None and _squares(stmt) is False:
                found.append(term)
    return found


def _term(node: ast.expr, squaring: set[str | None], line: int) -> DecayTerm | None:
    """`reg * W`, `2 * lam * W`, `self.reg * self.W`: one setting, one array, constants."""
    factors = _factors(node)
    if factors is None or len(factors) < 2:
        return None
    settings = [f for f in factors if isinstance(f, (ast.Name, ast.Attribute)) and _is_strength(_last(f) or "") and _last(f) in squaring]
    arrays = [f for f in factors if isinstance(f, (ast.Name, ast.Attribute, ast.Subscript)) and f not in settings]
    constants = [f.value for f in factors if isinstance(f, ast.Constant) and isinstance(f.value, (int, float))]
    if len(settings) != 1 or len(arrays) != 1 or len(settings) + len(arrays) + len(constants) != len(factors):
        return None
    if _is_strength(_last(arrays[0]) or "") or _last(arrays[0]) in ("lr", "learning_rate", "alpha", "eta"):
        return None
    factor = 1.0
    for c in constants:
        factor *= float(c)
    return DecayTerm(ast.unparse(settings[0]), _last(settings[0]) or "", ast.unparse(arrays[0]), factor, line, ast.unparse(node))


@dataclass(frozen=True)
class StoreWithoutTerm:
    line: int  # the store of the parameter's gradient that adds no penalty term (`grads['W2'] = dW2`)
    statement: str  # that statement, as written
    term: str  # the term it leaves out, written as the others are: "reg * W2"
    fix: str  # the statement with the term added
    others: tuple[DecayTerm, ...]  # the terms the function's other stores add (`reg * W3` at line 99)
    penalty: int  # the statement of the loss that squares the parameter, scaled by the setting


def store_without_term(tree: ast.Module | None, line: int, parameter: str) -> StoreWithoutTerm | None:
    """The statement at `line` when it stores the gradient of `parameter` (`grads['W2'] = dW2`, `self.dW2 = dW2`)
    with no penalty term, while the same function stores its other weights' gradients with one, of one setting
    and one factor (`grads['W3'] = dW3 + reg * W3`, `grads['W1'] = dW1 + reg * W1`), and a statement of the file
    squares `parameter` scaled by that setting (`reg_loss = 0.5 * reg * (... + np.sum(W2 * W2) + ...)`): the one
    gradient the penalty's term was left out of. None otherwise (no term anywhere is `penalty_only_in_loss`'s)."""
    if tree is None:
        return None
    stmt = next((n for n in walk(tree) if isinstance(n, ast.Assign) and n.lineno == line and len(n.targets) == 1), None)
    if stmt is None or not _stored_for(stmt.targets[0], parameter):
        return None
    function = max(
        (n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= line <= (n.end_lineno or n.lineno)),
        key=lambda n: n.lineno, default=None,
    )  # fmt: skip
    if function is None:
        return None
    inside = [t for t in decay_terms(tree) if function.lineno <= t.line <= (function.end_lineno or function.lineno)]
    if not inside or any(parameter_name(t.parameter) == parameter for t in inside) or len({(t.setting, t.factor) for t in inside}) != 1:
        return None
    statements = {n.lineno: n for n in walk(function) if isinstance(n, ast.Assign) and len(n.targets) == 1}
    kind = _store_kind(stmt.targets[0])
    if not all(t.line in statements and _store_kind(statements[t.line].targets[0]) == kind for t in inside):
        return None  # the others add it where they store their gradient the same way (`grads['W3'] = ...`), not elsewhere
    model = inside[0]
    named = parameter_name(model.parameter)
    array = re.sub(rf"\b{re.escape(named)}\b", parameter, model.parameter)
    if array == model.parameter or not model.text or model.parameter not in model.text:
        return None
    if isinstance(ast.parse(array, mode="eval").body, ast.Name) and not any(isinstance(n, ast.Name) and n.id == array for n in walk(function)):
        return None  # `W2` is no name of the function: no term to write with it
    penalty = next(
        (
            s.lineno for s in walk(tree) if isinstance(s, (ast.Assign, ast.AugAssign, ast.Return)) and s.value is not None
            and _squares_named(s.value, parameter) and any(_last(n) == model.name for n in walk(s.value))
        ),
        None,
    )  # fmt: skip
    if penalty is None:
        return None
    term = model.text.replace(model.parameter, array)
    value = stmt.value
    written = ast.unparse(value)
    plain = isinstance(value, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)) or (
        isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult))
    )
    fix = f"{ast.unparse(stmt.targets[0])} = {written if plain else f'({written})'} + {term}"
    return StoreWithoutTerm(line, ast.unparse(stmt), term, fix, tuple(sorted(inside, key=lambda t: t.line)), penalty)


def _stored_for(target: ast.expr, parameter: str) -> bool:
    """Whether a store is named for `parameter`: `grads['W2']`, `grads['dW2']`, `self.dW2`, `dW2`, `grad_W2` of `W2`."""
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
        name = target.slice.value
    elif isinstance(target, (ast.Name, ast.Attribute)):
        name = _last(target) or ""
    else:
        return False
    return name in (parameter, f"d{parameter}", f"d_{parameter}", f"grad_{parameter}")


def _squares_named(node: ast.expr, parameter: str) -> bool:
    """`W2 * W2`, `W2 ** 2`, `np.square(W2)` of the parameter under any path (`net['W2'] ** 2`, `self.W2 * self.W2`)."""
    def named(n: ast.expr) -> bool:
        return parameter_name(ast.unparse(n)) == parameter

    for n in walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and ast.dump(n.left) == ast.dump(n.right) and named(n.left):
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant) and n.right.value == 2 and named(n.left):
            return True
        if isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "square" and n.args and named(n.args[0]):
            return True
    return False


def _store_kind(target: ast.expr) -> str:
    """What a store writes into, its own name left out: `grads[...]`, `self.*`, a name."""
    if isinstance(target, ast.Subscript):
        return f"{ast.unparse(target.value)}[...]"
    if isinstance(target, ast.Attribute):
        return f"{ast.unparse(target.value)}.*"
    return "name"


def _is_strength(name: str) -> bool:
    """A penalty's strength by its name: `reg`, `weight_decay`, `l2`, and the short spellings of lambda
    (`lam`, `lmbda`, `lambd`) and weight decay (`wd`)."""
    low = name.lower()
    return _is_setting(name) or low.startswith(("lam", "lmb", "lmd")) or low in ("wd", "c_wd")


def _factors(node: ast.expr) -> list[ast.expr] | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _factors(node.left), _factors(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Constant)):
        return [node]
    return None


def _last(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _last(node.value)
    return None


def setting_site(tree: ast.Module | None, name: str) -> SettingSite | None:
    """Where the setting `name` is given a number: `reg = 1.0`, `self.reg = 1.0`, a call's `reg=1.0`,
    else a parameter's default `def __init__(self, reg=1.0)`."""
    if tree is None:
        return None
    calls: list[SettingSite] = []
    defaults: list[SettingSite] = []
    for node in walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and _last(node.targets[0]) == name and not isinstance(node.targets[0], ast.Subscript):
            value = literal_number(node.value)
            if value is not None:
                return SettingSite(node.lineno, ast.unparse(node), value)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == name and (value := literal_number(keyword.value)) is not None:
                    calls.append(SettingSite(keyword.value.lineno, f"{name}={ast.unparse(keyword.value)}", value))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = node.args.posonlyargs + node.args.args
            for argument, default in zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults):
                if argument.arg == name and (value := literal_number(default)) is not None:
                    defaults.append(SettingSite(default.lineno, f"{name}={ast.unparse(default)}", value))
    return (calls or defaults or [None])[0]


def literal_number(node: ast.expr) -> float | None:
    """The value of a number written in the source (`0.5`, `-2`, `+1e-3`); None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = literal_number(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


@dataclass(frozen=True)
class HeldPenalty:
    coefficient: str  # what multiplies the squares, as written: "lam / (2 * m)"
    derivative: str  # twice that, as a user would write it: "lam / m"
    line: int


def penalty_held(tree: ast.Module | None, parameter: str, setting: str) -> HeldPenalty | None:
    """The L2 penalty a statement of the file puts on `parameter` (`J = ... + lam / (2 * m) * (np.sum(W1 ** 2) +
    np.sum(W2 ** 2))`): a product whose one side squares the parameter and whose other is plain arithmetic
    of names and numbers reading `setting`. None when no statement does, or several disagree."""
    if tree is None:
        return None
    found: dict[str, HeldPenalty] = {}
    for stmt in walk(tree):
        if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Return)) or stmt.value is None:
            continue
        for node in walk(stmt.value):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
                continue
            for coefficient, squares in ((node.left, node.right), (node.right, node.left)):
                if _arithmetic(coefficient) and any(_last(n) == setting for n in walk(coefficient)) and _squares_parameter(squares, parameter):
                    text = ast.unparse(coefficient)
                    found.setdefault(text, HeldPenalty(text, _twice(coefficient), stmt.lineno))
    return next(iter(found.values())) if len(found) == 1 else None


def _arithmetic(node: ast.expr) -> bool:
    """Names, numbers and + - * / ** of them: a coefficient that can be evaluated from the program's values."""
    return all(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.operator, ast.unaryop, ast.expr_context)) for n in walk(node)) and all(
        isinstance(n.value, (int, float)) and not isinstance(n.value, bool) for n in walk(node) if isinstance(n, ast.Constant)
    )


def _squares_parameter(node: ast.expr, parameter: str) -> bool:
    for n in walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and ast.dump(n.left) == ast.dump(n.right) and _last(n.left) == parameter:
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant) and n.right.value == 2 and _last(n.left) == parameter:
            return True
        if isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "square" and n.args and _last(n.args[0]) == parameter:
            return True
    return False


def _twice(node: ast.expr) -> str:
    """`2 * c` written plainly: `lam / m` of `lam / (2 * m)`, `lam` of `0.5 * lam` or `lam / 2`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        d = node.right
        if isinstance(d, ast.Constant) and d.value == 2:
            return ast.unparse(node.left)
        if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Mult):
            for two, rest in ((d.left, d.right), (d.right, d.left)):
                if isinstance(two, ast.Constant) and two.value == 2:
                    return ast.unparse(ast.BinOp(node.left, ast.Div(), rest))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for half, rest in ((node.left, node.right), (node.right, node.left)):
            if isinstance(half, ast.Constant) and half.value == 0.5:
                return ast.unparse(rest)
    return f"2 * ({ast.unparse(node)})" if isinstance(node, ast.BinOp) else f"2 * {ast.unparse(node)}"
