"""Your training step scales the weights by a factor far from 1 beside their gradient step: a weight decay written wrongly.

What it finds:
    One pass of your training loop multiplies a parameter it also steps
    with its gradient by a number made of settings alone (`P *= wd`,
    `layer.W *= decay`), and the replay measures that statement's factor
    (the parameter after it over the parameter before it) far from 1:
    below a half, above one and a half, or negative. Also an update that
    multiplies a parameter by one plus a penalty's strength, read from the
    source (`(1 + eta * (lmbda / n)) * w - ...`, `W *= 1 + lr * wd`): a
    weight decay added instead of subtracted, named at its line with the
    fix `(1 - ...)`, an error when the replayed loss rises, else a warning.

Why it matters:
    Decoupled weight decay shrinks each weight by a tiny fraction per step,
    `P *= (1 - wd)` (or `1 - lr * wd`), a factor just below 1. Multiplying by
    `wd` itself (1e-4) instead wipes the weights out at every step: whatever
    the gradient step builds is thrown away at the next pass, and the
    network never learns however right its gradients are. A factor above 1
    (`1 + wd` of a large `wd`) makes them grow without bound instead.

Example:
    for P, G in zip(params, grads):
        P *= wd
        P -= lr * G

Fix:
    for P, G in zip(params, grads):
        P *= (1 - lr * wd)
        P -= lr * G
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-decay-wrong"
CODE = "BPD639"
SEVERITY = "error"
STAGE = "training"

LOW, HIGH = 0.5, 1.5  # a decay's factor per step lies between: a tiny fraction of each weight taken away


def _one_minus(factor: str) -> bool:
    """`1 - wd`, `(1 - lr * wd)`, `1. - decay`: a factor already written as one minus a decay."""
    import ast

    try:
        node = ast.parse(factor, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Add)) and isinstance(node.left, ast.Constant) and node.left.value == 1


def wrong_scalings(result: Any) -> list[Any]:
    """The `capture.Scaled` of a replayed step whose factor is far from 1, on a parameter its gradient step moves."""
    moved = {m.path for m, _ in result.parameters if m.path is not None}
    return [s for s in getattr(result, "scaled", []) or [] if s.path in moved and not LOW <= s.factor <= HIGH]


def _rate_of(result: Any, path: Any) -> str:
    """The learning rate as the gradient step of the scaled parameter writes it (`self.lr`), `lr` when none is read."""
    for moved, _ in result.parameters:
        if moved.path == path and moved.site.rate:
            return moved.site.rate
    return "lr"


def added_decays(context: Any) -> list[Any]:
    """The updates of the checked file that multiply a parameter by one plus a penalty's strength
    (`static.scalings.added_decays`: `(1 + eta * (lmbda / n)) * w - ...`), a weight decay that grows the weights."""
    from backprop_doctor.static.scalings import added_decays as found

    source = getattr(context, "source", None)
    return found(source.tree) if source is not None and source.tree is not None else []


def _climbed(context: Any) -> bool:
    """Whether a replayed training loop's own loss rises (or stops being a number) over its steps."""
    from backprop_doctor.replay.curve import rises

    return any(result.curve and rises(result.curve, result.terms) for result in context.extras.get("replay") or [])


def _added(context: Any) -> Iterator[Finding]:
    """A weight decay added, not taken away: named at its statement, an error when the program's own loss
    was seen to rise, a warning when no replayed loss shows what it does (a tiny strength hides it)."""
    decays = added_decays(context)
    if not decays:
        return
    first = decays[0]
    rose = _climbed(context)
    others = [d.line for d in decays[1:]]
    also = f" (also line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})" if others else ""
    yield rule(NAME).finding(
        f"line {first.line} multiplies `{first.parameter}` by `{first.factor}`, a weight decay added instead of subtracted{also}: "
        f"the factor is above 1, so every step makes the weights larger where L2 weight decay shrinks them a little "
        f"(the gradient of ½·λ·‖w‖² is +λ·w, and a step takes it away)"
        + (", and your program's loss rises although its gradients are right" if rose else "")
        + f"; write `{first.fixed}`",
        severity=None if rose else "warning",
        file=context.source.path,
        line=first.line,
        highlight=tuple(range(first.line, first.end_line + 1)),
        param=first.parameter,
        pattern="decay-added",
        fix=first.statement.replace(first.factor[1:-1], first.fixed[1:-1], 1),
    )


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.state import describe

    source = context.source
    if source is None or source.tree is None:
        return
    yield from _added(context)
    for result in context.extras.get("replay") or []:
        found = wrong_scalings(result)
        if not found:
            continue
        first = found[0].scaling
        same = [s for s in found if s.scaling.line == first.line]
        factor = sum(s.factor for s in same) / len(same)
        params = ", ".join(dict.fromkeys(f"`{describe(s.path)}`" for s in same))
        written = first.factor.strip()
        if written.startswith("(") and written.endswith(")"):
            written = written[1:-1]
        value = f"{factor:.3g}"
        rate = _rate_of(result, same[0].path)
        if 0 <= factor < LOW and not _one_minus(written):
            text = (
                f"line {first.line} (`{first.statement}`) multiplies the weights by `{written}` itself (= {value}) at every step, "
                f"shrinking them to {value}× their size, where weight decay multiplies them by `1 - {written}` "
                f"(or `1 - {rate} * {written}`), just below 1: whatever the gradient step builds is wiped out at the next pass"
            )
            fix = f"{first.target} *= (1 - {written})" if "lr" in written or "rate" in written else f"{first.target} *= (1 - {rate} * {written})"
        elif 0 <= factor < LOW:
            text = (
                f"line {first.line} (`{first.statement}`) multiplies the weights by `{written}` = {value} at every step, "
                f"taking away {1 - factor:.0%} of each weight per step, far more than a weight decay should "
                f"(a factor just below 1): whatever the gradient step builds is wiped out at the next pass; use a much smaller decay"
            )
            fix = None
        elif factor < 0:
            text = (
                f"line {first.line} (`{first.statement}`) multiplies the weights by `{written}` = {value} at every step, "
                f"flipping their sign; a weight decay multiplies them by a factor just below 1 (`1 - lr * wd`)"
            )
            fix = None
        else:
            text = (
                f"line {first.line} (`{first.statement}`) multiplies the weights by `{written}` = {value} at every step, "
                f"growing them {value}× per step where a weight decay shrinks them by a factor just below 1 (`1 - lr * wd`)"
            )
            fix = None
        text = f"{text} ({params} measured in the replayed step)"
        yield rule(NAME).finding(
            text,
            file=source.path,
            line=first.line,
            highlight=tuple(range(first.line, first.end_line + 1)),
            param=describe(same[0].path),
            pattern="decay-factor-wrong",
            measured=factor,
            **({"fix": fix} if fix else {}),
        )
