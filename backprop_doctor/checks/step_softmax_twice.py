"""Softmax applied twice: probabilities handed to a loss that applies softmax to its logits itself.

What it finds:
    A training step whose gradients are right, whose loss function applies
    softmax to the scores it is handed (`cross_entropy_with_logits(out, y)`
    takes `np.exp` of its first argument and divides by the sum), while the
    value the step hands it is already a probability distribution: at the
    replayed step every row lies in [0, 1] and sums to 1. The line that made
    those probabilities is named: the `Softmax()` layer put at the end of the
    model, or the statement `out = softmax(z)`.

Why it matters:
    The loss then takes the softmax of probabilities. Its inputs lie in
    [0, 1], so its outputs are squashed into [1/K, e/(e + K - 1)] for K
    classes: however well the network separates them, the loss cannot fall
    below log(e + K - 1) - 1 (1.46 for 10 classes), and its gradients are
    small. Each piece's gradient is right for what is written, so a
    gradient check passes.

Example:
    layers = [Linear(D, 32), ReLU(), Linear(32, K), Softmax()]
    loss, d = cross_entropy_with_logits(out, y)

Fix:
    layers = [Linear(D, 32), ReLU(), Linear(32, K)]     # the loss applies softmax
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-softmax-twice"
CODE = "BPD631"
SEVERITY = "error"
STAGE = "training"

_ROW_SUM = 1e-6  # how far from 1 a row of probabilities may sum


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.logit_losses import logit_loss_calls

    source = context.source
    if source is None or source.tree is None:
        return
    for result in right_steps(context):
        if result.loss is None:
            continue
        statement = next((s for s in result.step.prefix if s.lineno <= result.loss.line <= (s.end_lineno or s.lineno)), None)
        if statement is None:
            continue
        calls = logit_loss_calls(source.tree, statement)
        if not calls:
            continue
        namespace = result.after_one_pass()
        if not namespace:
            continue
        for call in calls:
            value = _value(call.argument, namespace)
            axis = _probability_axis(value)
            if axis is None:
                continue
            made = _made_at(source.tree, namespace, value, call.argument, result.step)
            yield _finding(source, call, value, axis, made)
            return


def _value(expression: str, namespace: dict[str, Any]) -> Any:
    """The value of `out`, `self.out`, `cache['probs']` in the pass's names; None for anything that calls."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return None
    if any(not isinstance(n, (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Load, ast.Slice, ast.Tuple)) for n in ast.walk(tree)):
        return None
    try:
        return eval(compile(tree, "<argument>", "eval"), {"__builtins__": {}}, dict(namespace))  # noqa: S307 - names, attributes and indices only
    except Exception:  # noqa: BLE001 - not there after the pass
        return None


def _probability_axis(value: Any) -> int | None:
    """The axis along which every entry is in [0, 1] and sums to 1 (the last, else the first), when the
    array has at least two classes along it."""
    if not isinstance(value, np.ndarray) or value.ndim not in (1, 2) or value.size < 2 or not np.issubdtype(value.dtype, np.floating):
        return None
    if not np.all(np.isfinite(value)) or value.min() < 0 or value.max() > 1:
        return None
    for axis in ((-1, 0) if value.ndim == 2 else (-1,)):
        if value.shape[axis] >= 2 and np.all(np.abs(value.sum(axis=axis) - 1) <= _ROW_SUM):
            return axis
    return None


def _made_at(tree: ast.Module, namespace: dict[str, Any], value: np.ndarray, argument: str, step: Any) -> tuple[int, str] | None:
    """(line, code) of what made the probabilities: the constructor call of the object that holds them
    (`Softmax()` in a list of layers), else the pass's assignment of the name handed to the loss."""
    holder = _holder(namespace, value)
    if holder is not None:
        for node in _calls_outside(tree, holder):
            return node.lineno, ast.unparse(node)
    line = step.assigned.get(argument) if hasattr(step, "assigned") else None
    if line is not None:
        statement = next((s for s in step.prefix if s.lineno == line), None)
        return line, ast.unparse(statement) if statement is not None else argument
    return None


def _holder(namespace: dict[str, Any], value: np.ndarray) -> str | None:
    """The class name of an object of the pass's names (or in one of its lists) holding `value` itself."""
    seen: set[int] = set()
    for held in list(namespace.values()):
        members = list(held.values()) if isinstance(held, dict) and len(held) < 100 else list(held) if isinstance(held, (list, tuple)) and len(held) < 100 else []
        for candidate in [held, *members]:
            if id(candidate) in seen or isinstance(candidate, (np.ndarray, type)) or not hasattr(candidate, "__dict__"):
                continue
            seen.add(id(candidate))
            try:
                attributes = vars(candidate)
            except TypeError:
                continue
            if any(v is value for v in attributes.values()):
                return type(candidate).__name__
    return None


def _calls_outside(tree: ast.Module, name: str) -> Iterator[ast.Call]:
    """Calls `Name(...)` outside the class `name` itself, in source order."""
    own = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    inside = {id(n) for n in ast.walk(own)} if own is not None else set()
    calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and id(n) not in inside
        and (isinstance(n.func, ast.Name) and n.func.id == name or isinstance(n.func, ast.Attribute) and n.func.attr == name)
    ]  # fmt: skip
    yield from sorted(calls, key=lambda n: (n.lineno, n.col_offset))


def _finding(source: Any, call: Any, value: np.ndarray, axis: int, made: tuple[int, str] | None) -> Finding:
    classes = value.shape[axis]
    floor = math.log(math.e + classes - 1) - 1
    top = math.e / (math.e + classes - 1)
    by = f", made by `{made[1]}` (line {made[0]})" if made is not None else ""
    line = made[0] if made is not None else call.line
    message = (
        f"softmax is applied twice: `{call.function}` (line {call.line}) applies softmax to `{call.argument}` itself "
        f"(`exp`, line {call.exp_line}), but `{call.argument}` is already a probability distribution{by}: every entry in [0, 1] "
        f"and each {'row' if axis == -1 else 'column'} summing to 1 at the replayed step; softmax on softmax squashes the "
        f"probabilities of {classes} classes into [{1 / classes:.3g}, {top:.3g}], so the loss cannot fall below {floor:.3g} "
        f"however well the network learns, and its gradients are small: remove one of the two softmaxes (hand the loss the "
        f"raw scores, or use a loss that takes probabilities)"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=line,
        highlight=tuple(sorted({line, call.line, call.exp_line})),
        param=call.argument,
        pattern="softmax-twice",
        measured=floor,
        evidence=(("floor", f"softmax of probabilities over {classes} classes: loss ≥ log(e + {classes - 1}) - 1 = {floor:.3g}"),),
    )
