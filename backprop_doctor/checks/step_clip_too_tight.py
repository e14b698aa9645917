"""Your gradient clip is so tight that every step is clipped to it: the loss cannot move.

What it finds:
    The training step clips its gradients element-wise (`np.clip(g, -c, c)`,
    inline or in a function it calls) at a bound read from a setting of the
    program (`clip_value`), nearly every entry it steps with sits at that
    bound, and its own loss stays within 1 % of where it started over its
    first steps. backprop-doctor runs the loop again from the same state with
    the clip lifted: the loss then falls; the finding suggests the first bound
    ten, a hundred, ... times larger at which it falls nearly as far.

    A norm clip (`clip_by_global_norm(grads, max_norm)`, or each array rescaled
    to `max_norm` by its own norm) is named when the gradients' norm is a
    hundred times its threshold or more at the first replayed step and still
    at the last (each step a hundredth of the gradient or less), and the same
    program with the threshold ten, a hundred, ... times larger falls five times
    as far over those steps (or as low in a fifth of them). The loss need not
    stall: it creeps. A clip that binds moderately (at 1 or 5 with gradients of
    10 to 50) is deliberate and never named.

Why it matters:
    A clip is meant to cut the rare huge entries. A bound far below the
    gradients' own size clips all of them: each step becomes the gradient's
    sign pattern times the bound, so every weight moves by `lr * c` and
    thousands of iterations change nothing. The gradients are fine and so is
    the learning rate; only the clip's bound is not.

Example:
    clip_value = 1e-6
    ...
    g = np.clip(g, -clip_value, clip_value)
    W -= lr * g

Fix:
    clip_value = 1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.settings import script_numbers

NAME = "step-clip-too-tight"
CODE = "BPD635"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    for result in context.extras.get("replay") or []:
        found = getattr(result, "tight_clip", None)
        if found is None or result.wrong or not result.curve:
            continue
        own = result.curve
        if hasattr(found, "factor"):
            yield _norm_finding(source, found, own)
            continue
        line, where, fix, lifted = _placed(source, found)
        yield rule(NAME).finding(
            f"your gradient clip (line {found.line}) is too tight: with {where}, {found.at_bound} of the {found.entries} gradient "
            f"entries your step uses are clipped to ±{found.value:g}, so every step is too small to move the weights and your "
            f"loss stays at {own[0]:.4g} (it ends at {own[-1]:.4g}) over its first {len(own)} steps; {lifted} the same program, "
            f"from the same state, goes from {found.curve[0]:.4g} to {found.curve[-1]:.4g}",
            file=source.path,
            line=line,
            highlight=tuple(sorted({line, found.line})),
            fix=fix,
            param=found.setting,
            measured=found.value,
            evidence=(
                ("your loop", f"{len(own)} steps at {found.setting} = {found.value:g}: {own[0]:.4g} → {own[-1]:.4g}"),
                ("at the bound", f"{found.at_bound} of {found.entries} entries of the gradients stepped with"),
                (f"{found.setting} = {found.tried:g}" if found.tried is not None else "no clip", f"{len(found.curve)} steps: {found.curve[0]:.4g} → {found.curve[-1]:.4g}"),
            ),
        )


def _placed(source: Any, found: Any) -> tuple[int, str, str | None, str]:
    """(the line to report, the setting as written, the fix, what the lifted curve ran with): at the statement
    that sets the bound or threshold (`clip_value = 1e-6`, `MAX_NORM = 1e-3`) where the file sets it to the
    value the step used, else at the clip."""
    if "." in found.setting:  # `self.max_norm`: a trainer's setting, given where the object is made (`max_norm=1e-4`)
        return _placed_attribute(source, found)
    written = script_numbers(source.tree).get(found.setting.lower())
    set_at = written[1] if written is not None and written[1] is not None and math.isclose(written[0], found.value) else None
    line = set_at if set_at is not None else found.line
    where = f"`{found.setting} = {found.value:g}`" + (f" (line {set_at})" if set_at is not None else "")
    fix = f"{found.setting} = {found.tried:g}" if found.tried is not None else None
    return line, where, fix, f"with `{fix}`" if fix is not None else "without the clip"


def _placed_attribute(source: Any, found: Any) -> tuple[int, str, str | None, str]:
    """`_placed` for a setting an object holds (`self.clip_value`): at the statement, call or default that gives it
    the number the step used (`self.clip_value = 1e-6`, `Trainer(clip_value=1e-6)`, `def __init__(..., clip_value=1e-6)`),
    the fix written there; else at the clip."""
    from backprop_doctor.static.penalty_strength import setting_site

    attribute = found.setting.rpartition(".")[2]
    site = setting_site(source.tree, attribute)
    if site is None or not math.isclose(site.value, found.value):
        fix = f"{found.setting} = {found.tried:g}" if found.tried is not None else None
        return found.line, f"`{found.setting} = {found.value:g}`", fix, f"with `{fix}`" if fix is not None else "without the clip"
    given = site.text.startswith(f"{attribute}=")  # a keyword of a call, or a default
    where = f"`{found.setting} = {found.value:g}` (" + (f"`{site.text}`, " if given else "") + f"line {site.line})"
    fix = None if found.tried is None else f"{attribute}={found.tried:g}" if given else f"{site.text.partition('=')[0].strip()} = {found.tried:g}"
    return site.line, where, fix, f"with `{found.setting} = {found.tried:g}`" if found.tried is not None else "without the clip"


def _norm_finding(source: Any, found: Any, own: list[float]) -> Finding:
    """A norm clip (`replay.clip_tight.NormClip`) whose threshold lets a tiny share of every gradient through."""
    line, where, fix, lifted = _placed(source, found)
    scaled = (
        f"each array's gradient to norm {found.value:g} while their norms are {found.norm:.3g} or more" if found.each
        else f"the gradients to norm {found.value:g} while their norm is about {found.norm:.3g}"
    )  # fmt: skip
    return rule(NAME).finding(
        f"your gradient-norm clip (line {found.line}, `{found.clip}`) is too tight: with {where} it scales {scaled}, "
        f"so each step is {'at most ' if found.each else ''}{found.factor:.2g} of the gradient (still {found.late:.2g} at the last "
        f"of {len(own)} replayed steps) and your loss only creeps from {own[0]:.4g} "
        f"to {own[-1]:.4g}; {lifted} the same program, from the same state, goes from {found.curve[0]:.4g} to "
        f"{found.curve[-1]:.4g} over those steps",
        file=source.path,
        line=line,
        highlight=tuple(sorted({line, found.line})),
        fix=fix,
        param=found.setting,
        measured=found.value,
        evidence=(
            ("your loop", f"{len(own)} steps at {found.setting} = {found.value:g}: {own[0]:.4g} → {own[-1]:.4g}"),
            ("clip factor", f"{'at most ' if found.each else ''}{found.factor:.2g} at the first step, {found.late:.2g} at the last (gradient norm {'≥' if found.each else '≈'} {found.norm:.3g})"),
            (fix if fix is not None else "no clip", f"{len(found.curve)} steps: {found.curve[0]:.4g} → {found.curve[-1]:.4g}"),
        ),
    )
