"""Early stopping that compares the wrong way round: no pass ever improves, and training stops after `patience` passes.

What it finds:
    A training loop with early stopping whose improvement test can never be
    true: the best value starts at an infinity before the loop (`best =
    np.inf` for a loss, `-np.inf` for an accuracy) and the test asks for a
    value above +inf (`if val > best:`) or below -inf (`if acc < best:`),
    while only that test's body rebinds the best. The count of passes
    without improvement then grows at every pass, and the loop's `break` (or
    `return`) under `if bad >= patience`, or a `while bad < patience:`, ends training after `patience`
    passes, whatever the loss does. The comparison is named; a `patience`
    the program sets at or above the loop's planned passes is not judged.
    When the program's own loop was replayed, the pass it stopped at is
    quoted. A loss (`val_loss`, `err`, `cost`) that must go below a best
    starting at zero or under it (`best_val = 0.0` before `if val_loss <
    best_val:`) never improves either: that start is named (pattern
    `early-stop-best-floor`), with `best_val = np.inf` as the fix.

Why it matters:
    Every gradient is right, the loss falls, and the program stops early
    without complaint, returning parameters trained for a few passes (or
    the first ones it saved): the result looks like a model that cannot learn.

Example:
    best_val, bad = np.inf, 0
    for epoch in range(300):
        ...
        if val > best_val:
            best_val, bad = val, 0
        else:
            bad += 1
            if bad >= patience:
                break

Fix:
        if val < best_val:
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-early-stop-reversed"
CODE = "BPD643"
SEVERITY = "warning"
STAGE = "training"

STEPS = 40  # the passes the replay's own curve asks for (`replay.curve.STEPS`)


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.reversed_stops import reversed_stops

    source = context.source
    if source is None or source.tree is None:
        return
    results = list(context.extras.get("replay") or [])
    for stop in reversed_stops(source.tree):
        limit = _number(source.tree, stop, stop.limits[0], results) if len(stop.limits) == 1 else None
        planned = _planned(source.tree, stop, results)
        if limit is not None and planned is not None and limit >= planned:
            continue  # the count never reaches its limit within the loop: it runs to its end
        yield _finding(source, stop, limit, planned, stopped_at(stop, results))


def stopped_at(stop: Any, results: list[Any]) -> int | None:
    """The pass at which the replay of the program's own loop stopped itself, None when it was not replayed
    or ran all the passes its curve asks for. The curve holds the loss of each pass that ran to its end, so a
    loop stopping at its pass n holds n - 1 losses; one stopping in its first pass holds the one loss read
    when it ends, as one stopping in its second does: a single loss is told as the first pass only when the
    stop sits in the test's `else` (it ends the first pass whatever the loss), and not told otherwise."""
    replayed = next(
        (r for r in results if r.step.loop is not None and r.step.loop.lineno == stop.loop_line and r.curve and not r.wrong), None
    )
    if replayed is None or len(replayed.curve) >= STEPS:
        return None
    if stop.counter is None:
        return 1 if len(replayed.curve) == 1 else None
    return len(replayed.curve) + 1 if len(replayed.curve) >= 2 else None


def _finding(source: Any, stop: Any, limit: float | None, planned: int | None, stopped: int | None) -> Finding:
    if stop.floor:
        return _floor_finding(source, stop, limit, planned, stopped)
    what = "greater than +infinity" if stop.sign > 0 else "less than -infinity"
    message = (
        f"your early stopping compares the wrong way round: `{stop.test}` (line {stop.line}) can never be true, since "
        f"`{stop.best}` starts at `{stop.start}` (line {stop.start_line}) and no value is {what}; so `{stop.best}` is never updated"
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
    message += f", whatever the loss does, with barely trained parameters; compare the other way: `if {stop.fix}`"
    return rule(NAME).finding(
        message,
        file=source.path,
        line=stop.line,
        fix=f"if {stop.fix}:",
        highlight=tuple(sorted({stop.line, stop.start_line, stop.stop_line})),
        pattern="early-stop-reversed",
        evidence=(("best", f"`{stop.best}` = `{stop.start}` (line {stop.start_line}), never improved on by `{stop.test}`"),),
    )


def _ending(source: Any, stop: Any, limit: float | None, planned: int | None, stopped: int | None) -> str:
    """How the loop ends when no pass improves: `, `bad` grows at every pass, and the `break` at line 140 ... passes`."""
    if stop.counter is not None:
        ender = (
            f"the loop's own test `while {stop.guard}` (line {stop.loop_line})" if stop.stop_line == stop.loop_line
            else f"the `{_word(source, stop)}` at line {stop.stop_line} (under `if {stop.guard}`)"
        )
        text = f", `{stop.counter}` grows at every pass, and {ender} ends training after "
        if stop.limits:
            shown = f" = {limit:g}" if limit is not None else ""
            text += f"`{stop.limits[0]}`{shown} passes"
        else:
            text += "a few passes"
    else:
        text = f", and the `{_word(source, stop)}` at line {stop.stop_line} in its `else` ends training after the first pass"
    if planned is not None:
        text += f" of the {planned} it plans"
    if stopped is not None:
        text += f" (replayed, your loop at line {stop.loop_line} stopped itself at its pass {stopped})"
    return text


def _floor_finding(source: Any, stop: Any, limit: float | None, planned: int | None, stopped: int | None) -> Finding:
    """A best loss that starts at zero (`best_val = 0.0`), named where it starts, with an infinity as the fix."""
    message = (
        f"your early stopping's best `{stop.best}` starts at `{stop.start}` (line {stop.start_line}), and no loss is below it: "
        f"`{stop.test}` (line {stop.line}) is never true, so `{stop.best}` is never updated"
        + _ending(source, stop, limit, planned, stopped)
        + f", whatever the loss does, keeping the first parameters it saved; start it above every loss: `{stop.fix}`"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=stop.start_line,
        fix=stop.fix,
        highlight=tuple(sorted({stop.line, stop.start_line, stop.stop_line})),
        pattern="early-stop-best-floor",
        evidence=(("best", f"`{stop.best}` = `{stop.start}` (line {stop.start_line}), never improved on by `{stop.test}`"),),
    )


def _word(source: Any, stop: Any) -> str:
    lines = source.text.splitlines() if getattr(source, "text", None) else []
    text = lines[stop.stop_line - 1].strip() if 0 < stop.stop_line <= len(lines) else ""
    return "return" if text.startswith("return") else "break"


def _number(tree: ast.Module, stop: Any, name: str, results: list[Any]) -> float | None:
    """`name`'s number: bound to a constant before the loop in its function, a default of that function,
    a constant of the module, else read off a replayed pass of a loop in the same function (`self.patience`
    as an attribute of the `self` that pass ran with)."""
    from backprop_doctor.static.reversed_stops import _enclosing, _own, _value_bound

    scope, classes = _enclosing(tree, stop.loop_line)
    bodies = [getattr(scope, "body", [])]
    if scope is not tree:
        bodies.append(tree.body)
    if name.startswith("self."):
        for cls in classes:
            bodies += [n.body for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    for body in bodies:
        value = None
        for stmt in _own(body):
            if body is bodies[0] and stmt.lineno >= stop.loop_line:
                continue
            bound = _value_bound(stmt, name)
            if bound is not None:
                value = bound
        number = _constant(value)
        if number is not None:
            return number
        if isinstance(value, ast.Name) and body is not bodies[0]:
            continue
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = scope.args
        positional = args.posonlyargs + args.args
        defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults) :], args.defaults))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        if name in defaults:
            number = _constant(defaults[name])
            if number is not None:
                return number
    for result in results:
        loop = result.step.loop
        if loop is None or not (stop.loop.lineno <= loop.lineno <= (stop.loop.end_lineno or stop.loop.lineno)):
            continue
        try:
            namespace = result.after_one_pass()
        except Exception:  # noqa: BLE001
            namespace = None
        first, *rest = name.split(".")
        value = (namespace or {}).get(first)
        for attr in rest:  # `self.patience`: the attribute of the object the pass ran with
            value = getattr(value, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _constant(node: ast.AST | None) -> float | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def _planned(tree: ast.Module, stop: Any, results: list[Any]) -> int | None:
    """The passes `for epoch in range(...)` plans, when its bounds are numbers the program sets."""
    loop = stop.loop
    if not (isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"):
        return None
    bounds = []
    for arg in loop.iter.args:
        number = _constant(arg)
        if number is None and isinstance(arg, ast.Name):
            number = _number(tree, stop, arg.id, results)
        if number is None and isinstance(arg, ast.Attribute):
            number = _number(tree, stop, ast.unparse(arg), results)
        if number is None:
            return None
        bounds.append(int(number))
    try:
        return len(range(*bounds))
    except (TypeError, ValueError):
        return None
