"""Which intermediate gradient of a backward is the first wrong one, found by running it.

A backward written in stages (`dxhat`, `dvar`, `dmean`, then `dx`) is found wrong at the gradient it
returns, while the slip is often in a stage before it. `first_wrong` reads each stage's value (the
backward's code with a statement added after each, `static.intermediates`), measures the gradient
it is named after by central differences through the forward (the forward's code with the value
moved one element at a time right after its statement), and takes the first stage that disagrees.
That stage is blamed only when putting the measured gradient in its place makes the checked gradient
agree (`agrees`, the caller's comparison): then every stage before it is right, its own value is
wrong, and with it right nothing else is. A stage named after a value it is not the whole gradient of
(`dxmu1`, one path of two) fails that last test and blames nothing.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import gradcheck, rewrites
from backprop_doctor.static import intermediates

RIGHT = 1e-5  # a stage agrees with its measured gradient to this relative error
WRONG = 1e-3  # and disagrees beyond this one; in between it is not judged
MOST_ELEMENTS = 2_000  # elements measured at most, over all stages


@dataclass(frozen=True)
class Blamed:
    """The first wrong stage: its statement, the forward value it is the gradient of, and the stages before it that are right."""

    name: str  # "dvar"
    line: int
    end_line: int
    text: str
    forward: str  # "self.var"
    error: float  # its largest relative error against the measured gradient
    right: tuple[str, ...]  # the stages before it, all right
    store_line: int


def first_wrong(
    backward: Any, forward: Any, store_line: int, objective: Callable[[], float], run_backward: Callable[[], None],
    agrees: Callable[[], bool], enough: Callable[[], bool] = lambda: False, memo: dict[Any, Any] | None = None,
) -> Blamed | None:  # fmt: skip
    """The first stage before `store_line` of `backward` (a line of its file) whose gradient disagrees with the one
    measured through `forward`, when the measured one in its place makes `agrees()` true; None otherwise.

    `objective()` runs the forward pass and returns the number the gradient is of; `run_backward()` runs the
    backward pass on the state `objective` left. `memo`, kept by the caller for one check, keeps the stages' values and
    measured gradients for the next wrong array of the same backward (they do not depend on which array is compared)."""
    bfunc, ffunc = _function(backward), _function(forward)
    if bfunc is None or ffunc is None or bfunc is ffunc:
        return None
    bnode, fnode = _tree(bfunc), _tree(ffunc)
    if bnode is None or fnode is None:
        return None
    try:
        lines, start = inspect.getsourcelines(bfunc)
    except (OSError, TypeError):
        return None
    pairs = intermediates.pairs(bnode, fnode, store_line)
    if not pairs:
        return None
    probe: dict[str, Any] = {}
    spaces = [bfunc.__globals__, ffunc.__globals__]
    if any(intermediates.PROBE in space for space in spaces):
        return None
    for space in spaces:
        space[intermediates.PROBE] = probe
    originals = bfunc.__code__, ffunc.__code__
    try:
        blamed = _first_wrong(bfunc, ffunc, bnode, fnode, pairs, probe, store_line, objective, run_backward, agrees, enough, {} if memo is None else memo)
    finally:
        bfunc.__code__, ffunc.__code__ = originals
        for space in spaces:
            space.pop(intermediates.PROBE, None)
    if blamed is None:
        return None
    written = " ".join(line.strip() for line in lines[blamed.line - start : blamed.end_line - start + 1])  # as the user wrote it
    return dataclasses.replace(blamed, text=written or blamed.text)


def _first_wrong(
    bfunc: types.FunctionType, ffunc: types.FunctionType, bnode: Any, fnode: Any, pairs: list[intermediates.Pair], probe: dict[str, Any],
    store_line: int, objective: Callable[[], float], run_backward: Callable[[], None], agrees: Callable[[], bool], enough: Callable[[], bool],
    memo: dict[Any, Any],
) -> Blamed | None:  # fmt: skip
    original = bfunc.__code__
    key = (bfunc.__code__.co_filename, bnode.lineno, tuple(p.adjoint for p in pairs))
    values: dict[str, np.ndarray] = memo.setdefault(("values", key), {})
    if not values:
        probe["record"] = lambda name, value: values.__setitem__(name, np.array(value, dtype=np.float64, copy=True)) if _floats(value) else None
        code = _compiled(bnode, [(p.statement, intermediates.recorded(p)) for p in pairs], bfunc)
        if code is None:
            return None
        bfunc.__code__ = code
        try:
            objective()
            run_backward()
        finally:
            bfunc.__code__ = original
    right: list[str] = []
    spent = 0
    for pair in pairs:
        if enough():
            return None
        analytic = values.get(pair.adjoint)
        if analytic is None:
            return None  # not run, or no array of numbers: the stages after it cannot be judged either
        measured = memo.get(("measured", key, pair.adjoint))
        if measured is None:
            measured = _measured(ffunc, fnode, pair, probe, objective, MOST_ELEMENTS - spent, enough)
            if measured is not None:
                memo[("measured", key, pair.adjoint)] = measured
        if measured is None or measured.size != analytic.size:
            return None
        spent += measured.size
        floor = 1e-7 * max(float(np.max(np.abs(measured), initial=0.0)), 1e-12)
        error = float(np.max(gradcheck.relative_error(analytic.reshape(-1), measured.reshape(-1), floor), initial=0.0))
        if error <= RIGHT:
            right.append(pair.adjoint)
            continue
        if error < WRONG:
            return None
        shape, dtype = analytic.shape, values[pair.adjoint].dtype
        probe["inject"] = lambda _value: measured.reshape(shape).astype(dtype)
        code = _compiled(bnode, [(pair.statement, intermediates.injected(pair))], bfunc)
        if code is None:
            return None
        bfunc.__code__ = code
        try:
            fixed = agrees()
        except Exception:  # noqa: BLE001 - user code run with a value put in place: failing is no agreement
            fixed = False
        finally:
            bfunc.__code__ = original
        if not fixed:
            return None
        s = pair.statement
        return Blamed(pair.adjoint, s.lineno, s.end_lineno or s.lineno, ast.unparse(s), pair.forward, error, tuple(right), store_line)
    return None


def _measured(
    ffunc: types.FunctionType, fnode: Any, pair: intermediates.Pair, probe: dict[str, Any], objective: Callable[[], float], most: int,
    enough: Callable[[], bool],
) -> np.ndarray | None:  # fmt: skip
    """The gradient of `objective()` with respect to the forward value `pair` names, by central differences,
    one element at a time; None when that value is no float array, has more than `most` elements, or the
    time is up (`enough()`) before every element is measured."""
    code = _compiled(fnode, intermediates.shifted(pair), ffunc)
    if code is None:
        return None
    seen: list[np.ndarray] = []
    step: dict[str, Any] = {"delta": None}

    def shift(value: Any) -> Any:
        if not seen:
            seen.append(np.array(value, copy=True))
        return value if step["delta"] is None else value + step["delta"]

    probe["shift"] = shift
    original = ffunc.__code__
    ffunc.__code__ = code
    try:
        objective()
        if not seen or not _floats(seen[0]) or seen[0].dtype != np.float64 or seen[0].size > most:
            return None
        base = seen[0]
        out = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            if enough():
                return None
            h = gradcheck.STEP["float64"] * max(1.0, abs(float(base[index])))
            delta = np.zeros(base.shape)
            delta[index] = h
            step["delta"] = delta
            up = objective()
            step["delta"] = -delta
            down = objective()
            out[index] = (float(up) - float(down)) / (2 * h)
        return out
    finally:
        step["delta"] = None
        ffunc.__code__ = original


def _floats(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" or isinstance(value, float)


def _function(target: Any) -> types.FunctionType | None:
    func = getattr(target, "__func__", target)
    if not isinstance(func, types.FunctionType) or set(func.__code__.co_freevars) - {"__class__"}:
        return None
    return func


def _tree(func: types.FunctionType) -> Any:
    """The tree of `func`'s definition, with the lines of its file."""
    try:
        lines, start = inspect.getsourcelines(func)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    ast.increment_lineno(tree, start - 1)
    node = tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if node is None or node.name != func.__code__.co_name:
        return None
    node.decorator_list = []
    return node


def _compiled(node: Any, added: list[tuple[ast.stmt, ast.stmt]], func: types.FunctionType) -> types.CodeType | None:
    """`func`'s code with each added statement after its own, compiled as `rewrites` compiles a variant."""
    return rewrites.compiled_as(intermediates.with_after(node, added), func)
