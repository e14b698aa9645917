"""Your gradient clipping does not clip: the step is the raw gradient, far above the clip's threshold.

What it finds:
    The training step calls a gradient-clipping function (`clip_grads`,
    `clip_by_global_norm`, ...) with one threshold (`max_norm`), the replay
    finds every update right, that is, each step is the loss's gradient
    itself, unscaled, although the gradients hold entries well above the
    threshold (by half as much again), and the program's own loss rises or
    turns into NaN. Any clip, by value, by each array's norm or by the global
    norm, changes such a gradient; this one left it as it was. The finding is
    at the line of the clip function that reads the threshold, where it
    decides its scale; a scale of `max(1.0, max_norm / norm)` is named.

Why it matters:
    Clipping is there to stop the few huge gradients that throw the weights
    far away. A clip written with `max` where `min` belongs never shrinks a
    gradient (and blows small ones up to the threshold), so the run diverges
    exactly as if there were no clip, and a smaller learning rate only hides
    the bug.

Example:
    coef = max(1.0, max_norm / (total_norm + 1e-6))
    for k in grads:
        grads[k] = grads[k] * coef

Fix:
    coef = min(1.0, max_norm / (total_norm + 1e-6))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-clip-does-not-clip"
CODE = "BPD627"
SEVERITY = "error"
STAGE = "training"


def unclipped_of(result: Any, source: Any) -> Any:
    """`replay.clipping.Unclipped` of a step whose loss rises or turns into NaN; else None."""
    from backprop_doctor.replay.clipping import unclipped
    from backprop_doctor.replay.curve import climbs_far

    curve = result.curve
    blows_up = result.smaller_rate is not None or result.non_finite is not None or any(v != v for v in curve) or climbs_far(curve, result.terms)
    if not blows_up or result.driver or result.standin or source is None:
        return None
    return unclipped(result, source.tree)


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        found = unclipped_of(result, source)
        if found is None:
            continue
        own = result.curve
        ending = "turns into NaN" if any(v != v for v in own) else f"rises from {own[0]:.4g} to {own[-1]:.4g}"
        limit = f"`{found.threshold}` = {found.value:g}" if found.threshold.isidentifier() else f"{found.value:g}"
        where = f"line {found.line} (`{found.statement}`)" if found.statement else f"line {found.line}"
        message = (
            f"your gradient clipping `{found.call}` (line {found.call_line}) does not clip: the step's gradients hold entries up to "
            f"{found.largest:.4g} (global norm {found.norm:.4g}), above its threshold {limit}, yet every "
            f"update steps with the raw gradient, and the program's own loss {ending} over its first {len(own)} steps; "
        )
        fix = None
        if found.grows is not None:
            fix = found.statement.replace(found.grows, "min" + found.grows[found.grows.index("(") :], 1) if found.statement else None
            message += f"at line {found.line}, `{found.grows}` is never below 1, so the clip never shrinks a gradient (and scales small ones up): use `min`"
        else:
            message += f"look at {where}, where the clip decides its scale: a gradient above the threshold must come out scaled down to it"
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            fix=fix,
            highlight=tuple(sorted({found.line, found.call_line})),
            measured=found.largest,
            threshold=found.value,
            evidence=((("your loop", f"{len(own)} steps: {own[0]:.4g} → {own[-1]:.4g}"),) if own else ()),
        )
