"""Pre-activations written inline, given a name so the replay can move them.

A compact script computes a layer in one statement, `a1 = np.tanh(X @ W1 + b1)`, and its
backward pass still names the gradient of what went into the tanh: `dz1 = da1 * (1 - a1 ** 2)`.
The adjoint walk measures `dz1` by moving the value it is the gradient of and running the rest
of the step again; with no `z1` in the program there is nothing to move, and a wrong `dz1`
was blamed on the `dW1` line that reads it. `named_inputs` splits such a statement in two
for the replay only (`z1 = X @ W1 + b1` then `a1 = np.tanh(z1)`, both at the user's line), so
`dz1` pairs with `z1` as it would had the user written it that way. The user's file and the
loop the program runs are never changed.
"""

from __future__ import annotations

import ast
import re

from backprop_doctor.static.tree import walk

# one-argument activations whose argument an adjoint may be named after
_ACTIVATIONS = frozenset({"tanh", "sigmoid", "relu", "logistic", "expit", "leaky_relu", "elu", "softplus", "swish", "gelu"})
_ADJOINT = re.compile(r"(?:d|grad_?|g_)_?(?P<stem>[A-Za-z]\w*)")


def named_inputs(prefix: tuple[ast.stmt, ...], taken: set[str]) -> tuple[tuple[ast.stmt, ...], dict[str, str]]:
    """`prefix` with each `a = act(expr)` whose input an adjoint is named after (`dz1` beside
    `da1` or reading `a1`, no `z1` anywhere in `taken`) split into `z1 = expr; a = act(z1)`, and
    {`z1`: the expression as the user wrote it} for the names given."""
    wanted = _wanted(prefix, taken)
    given: dict[str, str] = {}
    if not wanted:
        return prefix, given
    out: list[ast.stmt] = []
    for stmt in prefix:
        target = _single_target(stmt)
        inner = _activation_input(stmt.value) if target is not None and isinstance(stmt, ast.Assign) else None
        name = wanted.pop(target, None) if inner is not None else None
        if name is None:
            out.append(stmt)
            continue
        named = ast.copy_location(ast.Assign(targets=[ast.Name(name, ast.Store())], value=inner[1]), stmt)
        rest = ast.copy_location(ast.Assign(targets=stmt.targets, value=inner[0](ast.Name(name, ast.Load()))), stmt)
        out += [ast.fix_missing_locations(named), ast.fix_missing_locations(rest)]
        given[name] = ast.unparse(inner[1])
    return tuple(out), given


def _single_target(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def _wanted(prefix: tuple[ast.stmt, ...], taken: set[str]) -> dict[str, str]:
    """{activation output: name for its input} for adjoints with no forward value of their own."""
    inputs = {t: found[1] for s in prefix if (t := _single_target(s)) is not None and (found := _activation_input(s.value)) is not None}  # type: ignore[attr-defined]
    bound = {t for s in prefix if (t := _single_target(s)) is not None}
    wanted: dict[str, str] = {}
    for stmt in prefix:
        stem = _stem(_single_target(stmt) or "")
        if stem is None or stem in taken or stem in bound:
            continue
        read = {n.id for n in walk(stmt.value) if isinstance(n, ast.Name)}  # type: ignore[attr-defined]
        for output in sorted(set(inputs) - set(wanted)):
            reads_it = output in read or any(a in read for a in (f"d{output}", f"d_{output}", f"grad_{output}"))
            if (reads_it and _same_layer(stem, output)) or _weighs_layer(stem, inputs[output]):
                wanted[output] = stem
                break
    return wanted


def _weighs_layer(stem: str, expression: ast.expr) -> bool:
    """`z1` (or `Z1`) and an activation whose inline input reads the same layer's weights (`H =
    np.tanh(X @ W1 + b1)`): the pre-activation of layer 1, named by its number even where the
    adjoint reads nothing of `H` (its derivative left out, the very bug to find)."""
    digits = re.sub(r"\D", "", stem)
    if not digits or stem[0] not in "zZ":
        return False
    return any(isinstance(n, ast.Name) and n.id[:1] in "WwBb" and re.sub(r"\D", "", n.id) == digits for n in walk(expression))


def _stem(name: str) -> str | None:
    """The forward value an adjoint is named after: `dz1` -> `z1`, `d_h` -> `h`, `delta2` -> `z2`."""
    if name.startswith("delta"):
        digits = re.sub(r"\D", "", name)
        return f"z{digits}" if digits else None
    match = _ADJOINT.fullmatch(name)
    return match["stem"] if match is not None else None


def _same_layer(stem: str, output: str) -> bool:
    """`z1` and `a1` (the digits agree); an output without digits (`out`) goes with any."""
    digits, theirs = re.sub(r"\D", "", stem), re.sub(r"\D", "", output)
    return not theirs or digits == theirs


def _activation_input(value: ast.expr) -> tuple[object, ast.expr] | None:
    """(rebuild, input) of `act(input)`, `np.maximum(0, input)` or `1 / (1 + np.exp(-input))`
    when the input is an expression, not a plain name; `rebuild(new)` is the call on `new`."""
    if isinstance(value, ast.Call) and not value.keywords:
        func = value.func.attr if isinstance(value.func, ast.Attribute) else value.func.id if isinstance(value.func, ast.Name) else ""
        if func in _ACTIVATIONS and len(value.args) == 1 and not isinstance(value.args[0], ast.Name):
            return (lambda new: ast.Call(value.func, [new], [])), value.args[0]
        if func == "maximum" and len(value.args) == 2:
            zero = [i for i, a in enumerate(value.args) if isinstance(a, ast.Constant) and a.value == 0]
            if zero and not isinstance(value.args[1 - zero[0]], ast.Name):
                i = 1 - zero[0]
                return (lambda new: ast.Call(value.func, [new if j == i else a for j, a in enumerate(value.args)], [])), value.args[i]
    if (  # 1 / (1 + np.exp(-(input)))
        isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div) and isinstance(value.right, ast.BinOp)
        and isinstance(value.right.right, ast.Call) and isinstance(value.right.right.func, ast.Attribute)
        and value.right.right.func.attr == "exp" and len(value.right.right.args) == 1
        and isinstance(value.right.right.args[0], ast.UnaryOp) and isinstance(value.right.right.args[0].op, ast.USub)
        and not isinstance(value.right.right.args[0].operand, ast.Name)
    ):  # fmt: skip
        exp = value.right.right

        def rebuild(new: ast.expr) -> ast.expr:
            call = ast.Call(exp.func, [ast.UnaryOp(ast.USub(), new)], [])
            return ast.BinOp(value.left, ast.Div(), ast.BinOp(value.right.left, value.right.op, call))

        return rebuild, exp.args[0].operand
    return None
