"""A gradient clip so tight that it, not the gradient, sets every step: the loss cannot move.

`np.clip(g, -clip_value, clip_value)` with `clip_value = 1e-6` where the gradients' entries are near 1
turns every gradient into its sign pattern times 1e-6: each step moves each weight by `lr * 1e-6`, and the
program's loss stays where it started. The replay has found the loss stalled over its first passes; this
reads the clip's bound (`gradients.clip_bound`, the same for every update, from a name of the step's state),
finds nearly every entry the program stepped with at that bound, and runs the program again from the same
state with the bound lifted: without the clip its loss falls. The bound to suggest is the first ten, a
hundred, ... times larger at which the loss falls nine tenths as far as without the clip (one the
gradients hardly reach), else the first at which it falls at all. Plain numbers out (`TightClip`);
`checks/step_clip_too_tight.py` judges and words.

A norm clip (`clip_by_global_norm(grads, max_norm)`, or each array's own norm) so tight is `norm_clip_tight`:
the replay found every gradient right at the clip's factor (`gradients._clipped` set each `Measured.scale` to
it) and that factor is tiny, the gradients' norm a hundred times the threshold or more, at the first replayed
pass and still at the last. Such a clip need not stall the loss, only slow it to a creep: it is named when the
same program with the threshold lifted (the ladder above) falls five times as far over the same passes. A clip
that binds moderately (a factor of 0.02 to 0.1, an RNN's clip at 1 with gradients of 10 to 50) is deliberate and
never asked about. Plain numbers out (`NormClip`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

AT_BOUND = 0.9  # the share of the gradients' entries at the clip's bound: the clip, not the gradient, sets the step
LARGEST_FACTOR = 12  # bounds up to 1e12 times the program's are tried, in steps of ten


@dataclass(frozen=True)
class TightClip:
    setting: str  # `clip_value`
    value: float  # 1e-6
    line: int  # the clip (`np.clip(...)`, or the step's call of the function that clips)
    at_bound: int  # entries of the gradients the program stepped with at the bound
    entries: int  # all their entries
    tried: float | None  # the larger bound to suggest; None: the loss falls only without the clip
    curve: list[float]  # the program's loss at `tried` (or without the clip)


def tight_clip(runner: Any, moved: list[Any], deadline: Any = None) -> TightClip | None:
    """The clip that holds a stalled step back, when every update is clipped at one bound read from
    the state, nearly all the entries stepped with sit at it, and the program's loss falls once the
    bound is lifted."""
    from backprop_doctor.replay.curve import falls, own_curve
    from backprop_doctor.replay.gradients import clip_bound
    from backprop_doctor.replay.state import setting_value

    if not moved:
        return None
    bounds = {clip_bound(runner, m) for m in moved}
    if len(bounds) != 1:
        return None
    (bound,) = bounds
    if bound is None or bound.setting is None or setting_value(runner.state.values, bound.setting) is None:
        return None
    gradients = [np.abs(np.asarray(m.gradient, dtype=float)).ravel() for m in moved if m.gradient is not None]
    entries = sum(g.size for g in gradients)
    if not entries or not all(np.all(np.isfinite(g)) for g in gradients):
        return None
    at_bound = sum(int(np.count_nonzero(g >= bound.value * (1 - 1e-9))) for g in gradients)
    if at_bound < AT_BOUND * entries:
        return None
    free = own_curve(runner, names={bound.setting: math.inf})
    if not falls(free):
        return None  # the step stalls without the clip too: something else holds it back
    first: tuple[float, list[float]] | None = None
    for power in range(1, LARGEST_FACTOR + 1):
        if deadline is not None and deadline.passed():
            break
        tried = float(f"{bound.value * 10.0 ** power:.6g}")
        curve = own_curve(runner, names={bound.setting: tried})
        if not falls(curve):
            continue
        first = first or (tried, curve)
        if _as_far(curve, free):
            return TightClip(bound.setting, bound.value, bound.line, at_bound, entries, tried, curve)
    if first is not None:
        return TightClip(bound.setting, bound.value, bound.line, at_bound, entries, first[0], first[1])
    return TightClip(bound.setting, bound.value, bound.line, at_bound, entries, None, free)


TINY_FACTOR = 0.01  # a norm clip's factor at or below this: the gradients' norm is a hundred times its threshold
FARTHER = 5.0  # the lifted curve must fall this many times as far as the program's own


@dataclass(frozen=True)
class NormClip:
    setting: str  # `MAX_NORM`
    value: float  # 1e-3
    line: int  # the clip: the step's clipping call (`clip_grad_norm(all_g, MAX_NORM)`) or its rescaling statement
    clip: str  # that call or statement, as written
    norm: float  # the gradients' norm at the first pass (the threshold over the factor)
    factor: float  # the clip's factor at the first pass (the largest over the parameters)
    late: float  # its factor at the last replayed pass
    tried: float | None  # the larger threshold to suggest; None: the loss falls only without the clip
    curve: list[float]  # the program's loss at `tried` (or without the clip)
    each: bool = False  # each array clipped to the threshold by its own norm (factors of their own), not all by one


def clip_factor_tiny(result: Any) -> bool:
    """The replay found the step right at a norm clip's factor (`result.clipped`, every judged parameter's
    `Measured.scale` set) and every such factor is `TINY_FACTOR` or below."""
    if not getattr(result, "clipped", None) or result.wrong or getattr(result, "maximised", False):
        return False
    judged = [m for _, m in result.parameters if not m.unused and not m.inconclusive]
    return bool(judged) and all(m.scale is not None and 0 < m.scale <= TINY_FACTOR for m in judged)


def norm_clip_tight(runner: Any, result: Any, deadline: Any = None) -> NormClip | None:
    """The norm clip that holds every step of the program to a tiny share of its gradient (`clip_factor_tiny`)
    at its first replayed pass and at its last, when the program's loss over those passes falls
    `FARTHER` times as far with the clip's threshold (a setting of the step's state) lifted."""
    if not clip_factor_tiny(result) or not result.curve or runner is None:
        return None
    found = _threshold(runner, result)
    if found is None:
        return None
    setting, value, line, clip = found
    own = result.curve
    if not all(math.isfinite(v) for v in own):
        return None
    scales = [m.scale for _, m in result.parameters if not m.unused and not m.inconclusive]
    factor = max(scales)
    late = _late_factor(runner, result, setting, len(own))
    if late is None or late > TINY_FACTOR:
        return None  # the gradients shrink to the threshold as the program trains: the clip lets go by itself
    from backprop_doctor.replay.curve import own_curve

    fell = max(own[0] - own[-1], 0.0)

    def farther(curve: list[float]) -> bool:
        """Over the same passes the loss falls `FARTHER` times as far, or gets as low as the program's own
        ends in a `FARTHER`-th of them and ends lower (a loss with a floor, reached early, falls no farther)."""
        if len(curve) < len(own) or not all(math.isfinite(v) for v in curve) or curve[0] - curve[-1] <= 0.01 * abs(curve[0]):
            return False
        early = curve[: max(1, len(own) // int(FARTHER)) + 1]
        return curve[0] - curve[-1] >= FARTHER * fell or (min(early) <= own[-1] and curve[-1] < own[-1])

    tried: list[tuple[float | None, list[float]]] = []
    highest = min(LARGEST_FACTOR, math.ceil(math.log10(1.0 / factor)) + 1)  # past the gradients' norm the clip never binds
    for power in range(1, highest + 1):
        if deadline is not None and deadline.passed():
            break
        larger = float(f"{value * 10.0 ** power:.6g}")
        tried.append((larger, own_curve(runner, steps=len(own), names={setting: larger})))
    tried.append((None, own_curve(runner, steps=len(own), names={setting: math.inf})))
    working = [(t, c) for t, c in tried if farther(c)]
    if not working:
        return None  # lifted, the loss falls no faster: the clip is not what holds it back
    most = max(c[0] - c[-1] for _, c in working)
    best = next((t, c) for t, c in working if c[0] - c[-1] >= 0.9 * most)  # the smallest threshold nearly as good as any
    return NormClip(setting, value, line, clip, value / factor, factor, late, best[0], best[1], factor > 1.01 * min(scales))


def _threshold(runner: Any, result: Any) -> tuple[str, float, int, str] | None:
    """(the setting, its value, the clip's line, the clip as written) of the step's norm clip: the threshold
    a name of the step's state binds (`MAX_NORM`), passed to the clipping call (`static.clipping.step_clip`)
    or compared with in the rescaling the step writes out (`inline_clip`)."""
    import ast

    from backprop_doctor.replay.clipping import _number, clip_threshold
    from backprop_doctor.replay.state import setting_value
    from backprop_doctor.static.clipping import inline_clip, step_clip
    from backprop_doctor.static.files import source_tree

    values = dict(getattr(runner.state, "values", {}) or {})
    step = result.step
    call = step_clip(source_tree(runner.path)[1], step)
    if call is not None:
        threshold = clip_threshold(call, values)
        if threshold is None:
            return None
        argument, value = threshold
        line, clip = call.call.lineno, ast.unparse(call.call)
    else:
        inline = inline_clip(step)
        if inline is None:
            return None
        argument, value = inline.threshold, _number(inline.threshold, values)
        line, clip = inline.statement.lineno, ast.unparse(inline.statement).splitlines()[0]
    if value is None or not isinstance(argument, (ast.Name, ast.Attribute)) or setting_value(values, ast.unparse(argument)) is None:
        return None  # `max_norm`, `self.max_norm`: a setting a fix can change, read from the step's state
    return ast.unparse(argument), value, line, clip


def _late_factor(runner: Any, result: Any, setting: str, passes: int) -> float | None:
    """The clip's factor at the last of the program's first `passes` passes: the program's own loop run for
    as many passes and one more, that last one with the threshold lifted. Each parameter's step at the
    last clipped pass against its step unclipped right after is the share of its gradient the clip lets
    through (for a plain step `p -= lr * g`; a step that adapts to the gradient's size says 1). The largest
    over the parameters; None when the steps cannot be read."""
    from backprop_doctor.replay.curve import own_curve
    from backprop_doctor.replay.state import resolve, set_setting

    paths = list(dict.fromkeys(m.path for m, _ in result.parameters if m.path is not None))
    if not paths:
        return None
    seen: list[list[np.ndarray] | None] = []
    module = getattr(runner.capture, "module_globals", None)
    shared = module is not None and setting in getattr(runner.capture, "globals_read", ())
    kept = module.get(setting) if shared else None

    def each(namespace: dict[str, Any]) -> None:
        if len(seen) == passes:
            set_setting(namespace, setting, math.inf)  # the pass after the last: unclipped
            if shared:
                module[setting] = math.inf
        try:
            seen.append([np.array(resolve(namespace, p), dtype=float, copy=True) for p in paths])
        except Exception:  # noqa: BLE001 - a parameter the pass does not hold where the first one did
            seen.append(None)

    try:
        own_curve(runner, steps=passes + 1, each=each)
    finally:
        if shared:
            module[setting] = kept
    if len(seen) < passes + 2 or any(s is None for s in seen[passes - 1 : passes + 2]):
        return None
    before, at, after = seen[passes - 1], seen[passes], seen[passes + 1]
    factors = []
    for old, clipped_to, free_to in zip(before, at, after):
        clipped = float(np.linalg.norm(clipped_to - old))
        free = float(np.linalg.norm(free_to - clipped_to))
        if not (math.isfinite(clipped) and math.isfinite(free)) or free == 0:
            continue
        factors.append(clipped / free)
    return max(factors) if factors else None


def _as_far(curve: list[float], free: list[float]) -> bool:
    """The loss falls nine tenths as far as without the clip: a bound the gradients hardly reach."""
    return bool(curve) and math.isfinite(curve[-1]) and curve[0] - curve[-1] >= 0.9 * (free[0] - free[-1])


__all__ = ["NormClip", "TightClip", "clip_factor_tiny", "norm_clip_tight", "tight_clip"]

