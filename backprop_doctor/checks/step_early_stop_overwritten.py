"""Early stopping that overwrites its best with the current value just before testing for an improvement: no pass ever improves, and training stops after `patience` passes.

What it finds:
    A training loop with early stopping whose best-so-far is set from the
    current value by the statement just before the improvement test, outside
    that test's branch: `best_val = val` then `if val < best_val:` compares
    the value with itself, and `best = min(best, val)` then `if val < best:`
    compares it with something no larger; neither can ever be true. The count
    of passes without improvement then grows at every pass, and the loop's
    `break` (or `return`) under `if waited >= patience`, or a
    `while waited < patience:`, ends training after `patience` passes,
    whatever the loss does. Named at the overwriting statement. Nothing
    between it and the test may change either side; a test that is always
    true instead (`<=`) or one that counts rises (`prev = loss` then
    `if loss > prev: bad += 1`) never stops the loop and is not judged, nor
    is a `patience` the program sets at or above the loop's planned passes.
    When the program's own loop was replayed, the pass it stopped at is
    quoted.

Why it matters:
    Every gradient is right, the loss falls, and the program stops early
    without complaint, returning parameters trained for a few passes: the
    result looks like a model that cannot learn. The test reads like a
    correct early stop; only its order is wrong.

Example:
    best_val, waited = np.inf, 0
    for epoch in range(300):
        ...
        best_val = val
        if val < best_val:
            waited = 0
        else:
            waited += 1
            if waited >= patience:
                break

Fix:
        if val < best_val:
            best_val = val
            waited = 0
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-early-stop-overwritten"
CODE = "BPD647"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.checks.step_early_stop_reversed import _number, _planned, stopped_at
    from backprop_doctor.static.overwritten_bests import overwritten_bests

    source = context.source
    if source is None or source.tree is None:
        return
    results = list(context.extras.get("replay") or [])
    for stop in overwritten_bests(source.tree):
        limit = _number(source.tree, stop, stop.limits[0], results) if len(stop.limits) == 1 else None
        planned = _planned(source.tree, stop, results)
        if limit is not None and planned is not None and limit >= planned:
            continue  # the count never reaches its limit within the loop: it runs to its end
        yield _finding(source, stop, limit, planned, stopped_at(stop, results))


def _finding(source: Any, stop: Any, limit: float | None, planned: int | None, stopped: int | None) -> Finding:
    if stop.kind == "same":
        why = f"compares `{stop.value}` with itself"
    else:
        why = f"compares `{stop.value}` with the {'smaller' if stop.kind == 'min' else 'larger'} of it and the previous best"
    message = (
        f"your early stopping overwrites its best before testing it: `{stop.statement}` (line {stop.line}) runs just before "
        f"`if {stop.test}` (line {stop.test_line}), which then {why} and can never be true; so no pass counts as an improvement"
    )
    if stop.counter is not None:
        ender = (
            f"the loop's own test `while {stop.guard}` (line {stop.loop_line})" if stop.stop_line == stop.loop_line
            else f"the `{_word(source, stop)}` at line {stop.stop_line} (under `if {stop.guard}`)"
        )
        message += f", `{stop.counter}` grows at every pass, and {ender} ends training after "
        if stop.limits:
            shown = f" = {limit:g}" if limit is not None else ""
            message += f"`{stop.limits[0]}`{shown} passes"
        else:
            message += "a few passes"
    else:
        message += f", and the `{_word(source, stop)}` at line {stop.stop_line} in its `else` ends training after the first pass"
    if planned is not None:
        message += f" of the {planned} it plans"
    if stopped is not None:
        message += f" (replayed, your loop at line {stop.loop_line} stopped itself at its pass {stopped})"
    message += (
        f", whatever the loss does, with barely trained parameters; move `{stop.moved}` into the improvement branch, "
        f"under `if {stop.test}:`"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=stop.line,
        fix=f"move `{stop.moved}` into the improvement branch",
        highlight=tuple(sorted({stop.line, stop.test_line, stop.stop_line})),
        pattern="early-stop-overwritten",
        evidence=(("best", f"`{stop.best}` set from `{stop.value}` (line {stop.line}) just before `{stop.test}` (line {stop.test_line})"),),
    )


def _word(source: Any, stop: Any) -> str:
    lines = source.text.splitlines() if getattr(source, "text", None) else []
    text = lines[stop.stop_line - 1].strip() if 0 < stop.stop_line <= len(lines) else ""
    return "return" if text.startswith("return") else "break"
