"""The training loop stops itself (early stopping) while its loss is still falling fast.

What it finds:
    A training loop that ends itself with a `break` under a test that counts
    passes (`if bad >= patience: break`, `bad` counted when the validation loss
    fails to improve by `min_delta`), which, replayed from your program's own
    state, stops before its planned passes while its loss is still falling:
    by more than 5% over the last 5 passes before the stop. The settings its
    tests read (`min_delta = 0.1`, `patience = 5`) are named. A loop that
    stops when its loss reaches a target (`if loss < 1e-3: break`) is not
    judged, nor one whose gradients are wrong, nor one whose improvement
    test can never pass (step-early-stop-reversed, -overwritten).

Why it matters:
    Every gradient is right and the loss falls, but training ends long before
    it settles: a `min_delta` larger than what one pass can improve counts
    every pass as a failure, and a small `patience` then stops the loop within
    a few passes.

Example:
    min_delta = 0.1
    ...
    if val < best - min_delta:
        best, bad = val, 0
    else:
        bad += 1
        if bad >= patience:
            break

Fix:
    min_delta = 1e-4
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.stops import early_stop

NAME = "stopped-early"
CODE = "BPD616"
SEVERITY = "warning"
STAGE = "training"

RECENT = 5  # passes before the stop over which the loss must still fall
STILL_FALLING = 0.05  # the relative fall over them that counts as still falling
STEPS = 40  # the passes the replay's own curve asks for (`replay.curve.STEPS`)
SECONDS = 3.0  # the time that curve may take (`replay.curve.SECONDS`): a curve cut by it stopped for no reason of the program's


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    from backprop_doctor.static.overwritten_bests import overwritten_bests
    from backprop_doctor.static.reversed_stops import reversed_stops
    from backprop_doctor.static.steps import _scope_of

    results = context.extras.get("replay") or []
    never_improving = {s.loop_line for s in [*reversed_stops(source.tree), *overwritten_bests(source.tree)]} if results else set()
    for result in results:
        curve, loop = result.curve, result.step.loop
        if loop is None or result.wrong or result.driver or result.standin or not (RECENT < len(curve) < STEPS):
            continue
        if loop.lineno in never_improving:
            continue  # its improvement test can never pass: step-early-stop-reversed or -overwritten names why it stops
        if result.step_seconds * STEPS > SECONDS / 2:
            continue  # the curve may have run out of time, not passes
        scope = _scope_of(source.tree, loop.lineno)
        body = list(getattr(scope, "body", []))
        stop = early_stop(body, loop, {s.name for s in result.step.losses})
        if stop is None or stop.planned <= len(curve):
            continue
        before, last = curve[-RECENT - 1], curve[-1]
        if not (before > last and (before - last) > STILL_FALLING * abs(last)):
            continue
        settings = ", ".join(f"`{name} = {value}` (line {line})" for name, line, value in stop.settings)
        yield rule(NAME).finding(
            f"your training loop stops itself after {len(curve)} of its {stop.planned} passes (the `break` at line {stop.line}, "
            f"under `if {stop.test}`) while its loss is still falling ({before:.4g} → {last:.4g} over its last {RECENT} passes, "
            f"from {curve[0]:.4g}): the stopping rule, set by {settings}, ends training long before the loss settles: "
            "loosen it (a smaller improvement that counts, more patience)",
            file=source.path,
            line=stop.settings[0][1],
            highlight=tuple(sorted({stop.line, stop.test_line, *(s[1] for s in stop.settings)})),
            param=stop.settings[0][0],
            measured=(before - last) / abs(last) if last else None,
            threshold=STILL_FALLING,
            evidence=(("your loop", f"{len(curve)} losses replayed, then its own `break`: {curve[0]:.4g} → {last:.4g}"),),
        )
