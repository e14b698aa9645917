"""Weights drawn too large: a loss that overflows whatever the learning rate, but not from smaller weights.

    self.W = rng.normal(0.0, 1.0, (n_in, n_out))      # std 1 over 64 inputs: each layer multiplies the
                                                      # activations' size by about 8, and six of them overflow

When the program's own loss stops being a number and no smaller learning rate helps, `smaller_init` runs
the same loop once more from the state before its first update, with every weight matrix (the parameters
of two axes or more the step moves) scaled down by 10, then by 100, when one of them is large for its
size (std times the square root of its smaller axis at least `MIN_GAIN`: each layer grows what it reads). When that loss stays a number and
does not rise, the size of the initial weights is what overflowed, and `init_lines` finds where the file draws
them: the assignment of the parameter's name (`self.W = ...`, `params["W1"] = ...`, `W1 = ...`, or the
list `self.weights = [...]` it is an entry of) whose value draws random numbers. Plain numbers out.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

FACTORS = (0.1, 0.01)
MIN_GAIN = 2.0  # a weight matrix whose std times sqrt(its smaller axis) reaches this multiplies its inputs' size at least so
_DRAWS = ("randn", "normal", "uniform", "rand", "standard_normal", "random", "glorot", "xavier", "he_", "kaiming", "truncnorm")


@dataclass(frozen=True)
class SmallerInit:
    factor: float  # every weight matrix scaled by this at the start
    curve: list[float]  # the program's own loss from there
    matrices: list[tuple[str, tuple[int, ...], float]]  # (name, shape, std) of each weight matrix at the start
    lines: list[tuple[int, str]]  # (line, statement) of where the file draws them, most shared first


def smaller_init(runner: Any, capture: Any, path: str, tree: ast.Module | None, terms: bool = False) -> SmallerInit | None:
    """The first of `FACTORS` at which the loop, from the state before its first update with its weight
    matrices scaled by it, keeps a finite loss that does not rise; None when neither does, or there are none."""
    from backprop_doctor.replay.curve import own_curve, rises
    from backprop_doctor.replay.runner import Runner

    base = capture.earlier if capture.earlier is not None and capture.earlier.state is not None else capture
    try:
        start = runner if base is capture else Runner(base, path)
    except Exception:  # noqa: BLE001 - the first pass cannot be run again: nothing to try
        return None
    if start is not runner:
        start.loss_site, start.sign, start.guards = runner.loss_site, runner.sign, runner.guards  # the same loop's loss, as the replay read it
    matrices: dict[int, tuple[Any, np.ndarray]] = {}
    for moved in base.moved:
        if moved.path is None:
            continue
        try:
            value = start.state_value(moved.path)
        except Exception:  # noqa: BLE001 - a path the state does not hold
            continue
        if isinstance(value, np.ndarray) and value.ndim >= 2 and value.dtype.kind == "f" and value.size > 1 and value.flags.writeable:
            matrices.setdefault(id(value), (moved, value))
    if not any(float(value.std()) * math.sqrt(min(value.shape)) >= MIN_GAIN for _, value in matrices.values()):
        return None  # weights of the usual size (1/sqrt(fan_in)): smaller ones would only hide what overflows (an `exp` unguarded)
    kept = {key: value.copy() for key, (_, value) in matrices.items()}
    described = [(_name(moved.path), value.shape, float(value.std())) for moved, value in matrices.values()]
    try:
        for factor in FACTORS:
            for _, value in matrices.values():
                value *= factor
            try:
                curve = own_curve(start)
            finally:
                for key, (_, value) in matrices.items():
                    np.copyto(value, kept[key])
            if len(curve) >= 5 and all(math.isfinite(v) for v in curve) and not rises(curve, terms):
                return SmallerInit(factor, curve, described, init_lines(tree, [m.path for m, _ in matrices.values()]))
    finally:
        for key, (_, value) in matrices.items():
            np.copyto(value, kept[key])
    return None


def _name(path: Any) -> str:
    text = ""
    for kind, key in path:
        text = key if kind == "name" else f"{text}.{key}" if kind == "attr" else f"{text}[{key!r}]"
    return text


def _leaves(path: Any) -> list[str]:
    """The names along a parameter's path, last first: `W`, `layers`, `net` of `net.layers[0].W`; `W1`, `params`
    of `params['W1']` (a dict literal assigned to `params` draws it)."""
    return [key for kind, key in reversed(path) if isinstance(key, str) and kind in ("name", "attr", "item")]


def init_lines(tree: ast.Module | None, paths: list[Any]) -> list[tuple[int, str]]:
    """(line, statement) of the assignments that draw the parameters' random values, those drawing the most
    of them first, then in the order of the file. Each parameter is looked for by the last name along its
    path that an assignment drawing random numbers binds."""
    if tree is None:
        return []
    assignments = [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _draws(node.value)
    ]  # fmt: skip
    counts: dict[int, tuple[int, str]] = {}
    for path in paths:
        for leaf in _leaves(path):
            found = next(
                (n for n in assignments if any(_target_leaf(t) == leaf for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))), None
            )
            if found is not None:
                count, text = counts.get(found.lineno, (0, ast.unparse(found).splitlines()[0]))
                counts[found.lineno] = (count + 1, text)
                break
    return [(line, text) for line, (_, text) in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def _target_leaf(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
        return target.slice.value
    if isinstance(target, ast.Subscript) and not isinstance(target.slice, (ast.Constant, ast.Slice)):
        return _target_leaf(target.value)  # `params[f"W{i}"] = ...` in a loop draws entries of `params`
    return None


def _draws(value: ast.expr) -> bool:
    return any(
        isinstance(n, ast.Call) and any(word in ast.unparse(n.func).rsplit(".", 1)[-1].lower() for word in _DRAWS)
        for n in ast.walk(value)
    )


SMALL_GAIN = 0.3  # a weight matrix whose std times sqrt(its larger axis) stays below this shrinks what it reads, whichever axis it reads along
MIN_SMALL = 2  # ... and this many of them in a chain: the signal vanishes through their product


@dataclass(frozen=True)
class LargerInit:
    losses: list[float]  # the few samples' loss with every weight matrix drawn at the usual size
    matrices: list[tuple[str, tuple[int, ...], float]]  # (name, shape, std) of each weight matrix at the start
    gain: float  # the largest std times sqrt(larger axis) among them: how much a layer keeps of what it reads, at most
    lines: list[tuple[int, str]]  # (line, statement) of where the file draws them, most shared first


def larger_init(runner: Any, moved: list[Any], tree: ast.Module | None) -> LargerInit | None:
    """When the few samples `curve.tiny_batch` could not fit are fitted once every weight matrix the step
    moves is scaled to the usual size (std 1/sqrt of its axes' geometric mean, the fan-in of either
    convention within a factor), from weights so small that each layer shrinks what it passes on (std ×
    sqrt(larger axis) below `SMALL_GAIN` in two matrices or more): the weights' initial scale is what
    stops training, its activations and gradients vanishing through the layers. None otherwise."""
    from backprop_doctor.replay.curve import tiny_batch

    matrices: dict[int, tuple[Any, np.ndarray]] = {}
    for m in moved:
        if m.path is None:
            continue
        try:
            value = runner.state_value(m.path)
        except Exception:  # noqa: BLE001 - a path the state does not hold
            continue
        if isinstance(value, np.ndarray) and value.ndim == 2 and min(value.shape) > 1 and value.dtype.kind == "f" and value.flags.writeable:
            matrices.setdefault(id(value), (m, value))
    gains = [float(value.std()) * math.sqrt(max(value.shape)) for _, value in matrices.values()]
    if sum(g < SMALL_GAIN for g in gains) < MIN_SMALL or not all(0 < g < MIN_GAIN for g in gains):
        return None
    kept = {key: value.copy() for key, (_, value) in matrices.items()}
    described = [(_name(m.path), value.shape, float(value.std())) for m, value in matrices.values()]
    try:
        for _, value in matrices.values():
            value *= (1.0 / math.sqrt(math.sqrt(value.shape[0] * value.shape[1]))) / float(value.std())
        tried = tiny_batch(runner, moved)
    finally:
        for key, (_, value) in matrices.items():
            np.copyto(value, kept[key])
    if tried is None or not tried.fitted:
        return None
    return LargerInit(tried.losses, described, max(gains), init_lines(tree, [m.path for m, _ in matrices.values()]))
