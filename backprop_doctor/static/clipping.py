"""A training pass's gradient-clipping call, and where the clip function computes what it scales by.

    def clip_by_global_norm(grads, max_norm):
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        coef = max(1.0, max_norm / (total + 1e-6))     # `min` meant: this never shrinks anything
        for k in grads:
            grads[k] = grads[k] * coef
    ...
    clip_by_global_norm(grads, max_norm)              # in the loop, before the updates

`clip_call` finds a call in the pass (or in a function of the file it calls once) whose name says it clips
(`clip_grads`, `clip_gradients`, `clip_by_global_norm`; `np.clip(x, 0, 1)` clips values, not a norm), with
the file's function it runs when there is one. `threshold_statement` is the first statement of that
function reading the parameter the threshold is passed to: where the clip decides its scale. Nothing here
runs user code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backprop_doctor.static.step_functions import called_functions

_CLIPS = re.compile(r"(?i)clip.")


@dataclass(frozen=True)
class ClipCall:
    call: ast.Call
    function: ast.FunctionDef | ast.AsyncFunctionDef | None  # the file's function it runs; None: not the file's


def clip_call(tree: ast.Module | None, prefix: Sequence[ast.stmt]) -> ClipCall | None:
    """The first clipping call of the pass's statements (`prefix`), then of the functions they call."""
    called = [function for _, function in called_functions(tree, tuple(prefix))] if tree is not None else []
    for stmt in [*prefix, *called]:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and (_clipping(node.func) or _own_clip(tree, node)):
                return ClipCall(node, _resolved(tree, node))
    return None


def step_clip(tree: ast.Module | None, step: Any) -> ClipCall | None:
    """The clipping call of a training step (`steps.TrainingStep`): in the statements before its
    update (`clip_call`), else in the statement that starts the update and the functions it calls
    (`loss = trainer.step(X, y)`, whose method clips, then updates)."""
    found = clip_call(tree, step.prefix)
    loop = getattr(step, "loop", None)
    if found is not None or loop is None:
        return found
    through = [s for s in getattr(loop, "body", ()) if s.lineno <= step.update_line <= (s.end_lineno or s.lineno)]
    return clip_call(tree, through) if through else None


@dataclass(frozen=True)
class InlineClip:
    """`if norm > c: g = g * c / norm`: a gradient rescaled to a threshold's norm, written in the pass itself."""

    statement: ast.stmt  # the rescaling, `g = g * c / norm` (or `g *= c / norm`)
    threshold: ast.expr  # `c`, `5.0`


def inline_clip(step: Any) -> InlineClip | None:
    """The first norm clip written out in a training step (`steps.TrainingStep`): in the statements before its
    update, or in the loop that updates (`for p, g in zip(params, grads):` then `norm = np.linalg.norm(g)`,
    `if norm > c: g = g * c / norm`, `p -= lr * g`). An `if` that compares something with a threshold
    (`norm > c`, `np.linalg.norm(g) >= max_norm`) and whose body rebinds a name from itself and that
    threshold (`g = g * c / norm`, `g *= max_norm / np.linalg.norm(g)`). None when the step writes none."""
    loop = getattr(step, "loop", None)
    update_line = getattr(step, "update_line", 0)
    through = [s for s in getattr(loop, "body", ()) if s.lineno <= update_line <= (s.end_lineno or s.lineno)]
    for stmt in [*getattr(step, "prefix", ()), *through]:
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1):
                continue
            if not isinstance(node.test.ops[0], (ast.Gt, ast.GtE)):
                continue
            threshold = node.test.comparators[0]
            if not isinstance(threshold, (ast.Constant, ast.Name, ast.Attribute)):
                continue
            for inner in node.body:
                if _rescales(inner, threshold):
                    return InlineClip(inner, threshold)
    return None


def _rescales(stmt: ast.stmt, threshold: ast.expr) -> bool:
    """`g = g * c / norm` or `g *= c / norm`: a name scaled by a quotient that reads the threshold."""
    wanted = ast.unparse(threshold)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        name, value = stmt.targets[0].id, stmt.value
        reads = {ast.unparse(n) for n in ast.walk(value)}
        return name in reads and wanted in reads and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for n in ast.walk(value))
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and isinstance(stmt.op, (ast.Mult, ast.Div)):
        return wanted in {ast.unparse(n) for n in ast.walk(stmt.value)}
    return False


def _clipping(func: ast.expr) -> bool:
    """`clip_grads`, `clip_gradients`, `self.clipping(...)`, and a method named `clip` itself
    (`net.clip(grads, max_norm)`), not NumPy's element-wise `np.clip` (a loss's probabilities)."""
    name = ast.unparse(func).rsplit(".", 1)[-1]
    if _CLIPS.search(name):
        return True
    owner = func.value if isinstance(func, ast.Attribute) else None
    return name.lower() == "clip" and owner is not None and not (isinstance(owner, ast.Name) and owner.id in ("np", "numpy", "cp", "jnp"))


def _own_clip(tree: ast.Module | None, call: ast.Call) -> bool:
    """A call of the file's own function named `clip` (`clip(grads, 1.0)`): not NumPy's, which is
    reached through its module."""
    return isinstance(call.func, ast.Name) and call.func.id.lower() == "clip" and _resolved(tree, call) is not None


def _resolved(tree: ast.Module | None, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    if tree is None:
        return None
    name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else None
    found = [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
    ]  # fmt: skip
    return found[0] if len(found) == 1 else None


def parameter_of(clip: ClipCall, argument: ast.expr) -> str | None:
    """The clip function's parameter an argument of the call is passed to (`max_norm`)."""
    function = clip.function
    if function is None:
        return None
    for keyword in clip.call.keywords:
        if keyword.value is argument:
            return keyword.arg
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if params and params[0] in ("self", "cls") and isinstance(clip.call.func, ast.Attribute):
        params = params[1:]
    for i, arg in enumerate(clip.call.args):
        if arg is argument and i < len(params):
            return params[i]
    return None


def threshold_statement(clip: ClipCall, parameter: str) -> ast.stmt | None:
    """The first statement of the clip function that reads `parameter` (an assignment, an `if` test):
    where the clip compares the gradients with its threshold or computes its scale from it."""
    function = clip.function
    if function is None:
        return None
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
            value = node.value
        elif isinstance(node, (ast.If, ast.While)):
            value = node.test
        else:
            continue
        if value is not None and any(isinstance(n, ast.Name) and n.id == parameter for n in ast.walk(value)):
            return node
    return None


def never_below_one(statement: ast.stmt) -> str | None:
    """`max(1.0, ...)` (`np.maximum(1, ...)`) in the statement: a scale that can only grow the gradients."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and len(node.args) == 2:
            name = ast.unparse(node.func).rsplit(".", 1)[-1]
            if name in ("max", "maximum", "fmax") and any(isinstance(a, ast.Constant) and a.value == 1 for a in node.args):
                return ast.unparse(node)
    return None


_BOUNDS = frozenset({"min", "minimum", "fmin", "clip", "max", "maximum", "fmax", "where"})


def always_rescales(clip: ClipCall) -> ast.stmt | None:
    """The statement of the clip function that computes its scale as the threshold divided by
    something (`scale = max_norm / (total + 1e-12)`), where nothing in the function compares or
    bounds anything (no `if`, no comparison, no `min`/`max`/`np.clip`/`np.where`): a scale
    applied to every gradient, whatever its norm. None for any other clip, or one not the file's."""
    function = clip.function
    if function is None:
        return None
    for node in ast.walk(function):
        if isinstance(node, (ast.Compare, ast.If, ast.IfExp, ast.While)):
            return None
        if isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] in _BOUNDS:
            return None
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
    for parameter in params:
        statement = threshold_statement(clip, parameter)
        if isinstance(statement, ast.Assign) and _divides(statement.value, parameter):
            return statement
    return None


def _divides(value: ast.expr, parameter: str) -> bool:
    """`parameter / something`: the threshold over a norm."""
    return isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div) and isinstance(value.left, ast.Name) and value.left.id == parameter


@dataclass(frozen=True)
class ClipInside:
    """An element-wise clip (`np.clip(g, -value, value)`) in a function of the file that a step calls,
    with that call's arguments bound to the function's parameters (`{"value": clip_value}`)."""

    call: ast.Call  # the step's call of the function (`clip_elementwise(gW, clip_value)`)
    clip: ast.Call
    bound: dict[str, ast.expr]  # the function's parameter -> the call's argument (or the parameter's default)


def clips_inside_calls(tree: ast.Module | None, nodes: Sequence[ast.AST]) -> list[ClipInside]:
    """Each `np.clip` / `x.clip` with three arguments inside a file's function that `nodes` call, once per
    call: `clip_elementwise(gW, clip_value)` then `clip_elementwise(gb, clip_value)` are two, each with
    its own argument for the bound. Unlike `step_functions.called_functions`, a function called more than
    once counts at each call (what its parameters stand for is the call's, not one value of its locals)."""
    from backprop_doctor.static.step_functions import _definitions

    if tree is None:
        return []
    functions, methods = _definitions(tree)
    found: list[ClipInside] = []
    for call in (n for top in nodes for n in ast.walk(top) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Name) and func.id in functions:
            function, method = functions[func.id], False
        elif isinstance(func, ast.Attribute) and len(methods.get(func.attr, ())) == 1 and not (isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy")):
            function, method = methods[func.attr][0][1], True
        else:
            continue
        clips = [
            n for n in ast.walk(function)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "clip" and len(n.args) >= 3
        ]  # fmt: skip
        if not clips:
            continue
        bound = _bound_arguments(function, call, method)
        found += [ClipInside(call, clip, bound) for clip in clips]
    return found


def _bound_arguments(function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, method: bool) -> dict[str, ast.expr]:
    """The function's parameters -> the expressions a call passes them (a default where it passes none)."""
    arguments = function.args
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if method and positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    bound: dict[str, ast.expr] = {}
    defaults = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    defaults += [(a.arg, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
    bound.update(defaults)
    if any(isinstance(a, ast.Starred) for a in call.args):
        return bound
    bound.update(zip(positional, call.args))
    bound.update({k.arg: k.value for k in call.keywords if k.arg})
    return bound
