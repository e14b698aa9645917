"""A second forward pass run between the training loss and its backward, on other inputs (a check on
held-out data: `val_loss = loss_fn(net(X_val), y_val)` before `for layer in reversed(net): g =
layer.back(g, lr)`). Layers that keep what their forward saw (`self.inp`, `self.mask`) keep the
held-out pass's, so the backward pairs the training batch's gradient with the held-out inputs: the
updates follow the gradient of no loss.

The replay finds the updates wrong; which statement made them so is confirmed by replaying the step
again with that statement left out. When every update then follows the loss (the loss itself the
same), that statement is the one to move."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# calls that are no forward pass of the user's: NumPy's, the standard library's, the builtins
_LIBRARIES = frozenset({"np", "numpy", "math", "random", "scipy", "time", "os", "sys", "json", "pickle", "copy", "itertools", "functools"})
_BUILTINS = frozenset(dir(builtins))
MOST = 3  # statements tried at most


@dataclass
class Overwritten:
    """The statement that ran the forward pass again (`line`, `text`), the calls of it the loss's own
    pass makes too (`calls`: `run`, `model`), and the loss's statement line."""

    line: int
    text: str
    calls: tuple[str, ...]
    loss_line: int


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _calls(stmt: ast.stmt) -> dict[str, list[str]]:
    """The user's own calls `stmt` makes (`run(X_tr[idx])`, `self.model.forward(xb)`): the callee's text and
    the texts of the arguments of each call of it."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(stmt):
        if not isinstance(node, ast.Call):
            continue
        root = _root(node.func)
        if root is None or root in _LIBRARIES or (isinstance(node.func, ast.Name) and node.func.id in _BUILTINS):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend", "copy", "item", "sum", "mean", "reshape", "format"):
            continue
        arguments = ast.unparse(ast.Tuple(elts=[*node.args, *(k.value for k in node.keywords)], ctx=ast.Load()))
        found.setdefault(ast.unparse(node.func), []).append(arguments)
    return found


def _bound(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _read(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _shared(stmt: ast.stmt, earlier: list[ast.stmt]) -> tuple[str, ...]:
    """The callees `stmt` calls that the statements `earlier` call too, with other arguments."""
    before: dict[str, set[str]] = {}
    for other in earlier:
        for callee, arguments in _calls(other).items():
            before.setdefault(callee, set()).update(arguments)
    return tuple(c for c, arguments in _calls(stmt).items() if c in before and set(arguments) - before[c])


def candidates(step: Any, loss_line: int) -> list[tuple[ast.stmt, tuple[str, ...]]]:
    """The statements of the step's pass before its first update that call a function (or method) an
    earlier statement of the pass calls, with other arguments, and that the loss does not read: those
    after the statement computing the loss (at `loss_line`) first, then those between the training
    forward pass and the loss whose names the loss's statements never read. Each with the callees it shares."""
    prefix = list(step.prefix)
    at = next((i for i, s in enumerate(prefix) if s.lineno <= loss_line <= (s.end_lineno or s.lineno)), None)
    if at is None:
        return []
    found = []
    for i, stmt in enumerate(prefix):
        if stmt.lineno >= step.update_line:
            break
        if i == at or isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if i < at and _bound(stmt) & set().union(*(_read(s) for s in prefix[i + 1 : at + 1])):
            continue  # the loss is computed from it: a part of the training forward pass
        shared = _shared(stmt, prefix[:i])
        if shared:
            found.append((i < at, stmt, shared))
    found.sort(key=lambda f: f[0])  # after the loss first
    return [(stmt, shared) for _, stmt, shared in found[:MOST]]


def _program_steps(capture: Any, step: Any, path: str) -> list[Any] | None:
    """How far each parameter the capture moved moves in one pass of `step` run from the captured state,
    its updates included (`before - after`); None when that pass does not run on its own."""
    import contextlib

    from backprop_doctor.replay.runner import Runner
    from backprop_doctor.replay.state import resolve

    try:
        runner = Runner(dataclasses.replace(capture, step=step), path)
        namespace = runner.run_through_updates(contextlib.nullcontext())
        moved = []
        for m in capture.moved:
            after = np.asarray(resolve(namespace, m.path), dtype=np.float64)
            moved.append(np.asarray(m.value, dtype=np.float64) - after)
        return moved
    except Exception:  # noqa: BLE001 - a statement the rest of the pass needs, an update that cannot run alone: not confirmed
        return None


def _follow(result: Any, capture: Any, steps: list[Any], scales: list[float], seed: int) -> bool:
    """Every parameter's step (over its rate) measured against the loss of the original replay, and right."""
    from backprop_doctor.replay.gradients import _measure

    runner = result.runner
    rng = np.random.default_rng(seed)
    base_loss = result.loss_value
    for m, step, scale in zip(capture.moved, steps, scales):
        start = np.asarray(m.value, dtype=np.float64).copy()
        if step.shape != start.shape or not np.all(np.isfinite(step)):
            return False

        def loss_moved(delta: Any, m: Any = m, start: Any = start) -> float:
            return runner.loss([(m.path, start + delta)])

        measured = _measure(str(m.path), None, step / scale, start, loss_moved, base_loss, rng)
        if measured.wrong or measured.unused or measured.inconclusive:
            return False
    return True


def _scales(capture: Any, original: list[Any]) -> list[float] | None:
    """Each parameter's rate: the program's own (`moved.rate`), else its step over the gradient it applied."""
    scales = []
    for m, step in zip(capture.moved, original):
        if m.rate:
            scales.append(float(m.rate))
            continue
        gradient = np.asarray(m.gradient, dtype=np.float64)
        if gradient.shape != step.shape or not np.any(gradient):
            return None
        scales.append(float(np.sum(step * gradient) / np.sum(gradient * gradient)))
    return scales if all(math.isfinite(s) and s > 0 for s in scales) else None


def confirm(capture: Any, path: str, result: Any, seed: int, budget: float) -> Any:
    """`result`, with `overwritten` set when some update of the step is wrong and leaving one statement of the
    pass out (a forward pass again on other inputs, between the loss and the first update) makes every
    update step along the gradient of the same loss."""
    if not result.wrong or result.loss is None or result.non_finite is not None or getattr(result, "runner", None) is None:
        return result
    if capture is None or capture.state is None or result.step is not capture.step or capture.window or not capture.moved:
        return result  # measured at another capture (an earlier pass, a rotated reading, a window): not the pass tried here
    if any(m.path is None for m in capture.moved) or result.loss_value is None:
        return result
    tried = candidates(capture.step, result.loss.line)
    if not tried:
        return result
    original = _program_steps(capture, capture.step, path)
    scales = _scales(capture, original) if original is not None else None
    if scales is None or _follow(result, capture, original, scales, seed):
        return result  # the pass as written already steps along the loss's gradient: the replay's finding is another
    for stmt, calls in tried:
        step = dataclasses.replace(capture.step, prefix=tuple(s for s in capture.step.prefix if s is not stmt), rotated=None)
        steps = _program_steps(capture, step, path)
        if steps is None or not _follow(result, capture, steps, scales, seed):
            continue
        result.overwritten = Overwritten(stmt.lineno, ast.unparse(stmt), calls, result.loss.line)
        return result
    return result


__all__ = ["Overwritten", "candidates", "confirm"]
