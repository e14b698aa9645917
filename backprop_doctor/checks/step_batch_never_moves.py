"""A mini-batch pointer that never moves: every step trains on the same rows of a much larger data set.

What it finds:
    A training loop that cuts its batch at a position it computes itself
    (`xb = X[ptr:ptr + bs]` with `ptr` moved in the loop, `start = ...`, an
    index read off the loop's counter), where the program's own loop,
    replayed from its state for a few passes, takes exactly the same rows at
    every pass, and those rows are at most half of the array it cuts them
    from. The statement that computes where the batch starts is named (the
    pointer's update, `ptr = (ptr + bs) // N`): a `//` where a wrap-around
    `%` was meant sets it back to 0 every pass. A cut whose position,
    evaluated over the loop's whole `range`, takes another value later (a
    batch repeated for some steps on purpose) is not judged, nor a batch that
    is the whole data set (full-batch training). Judged only when the step's
    gradients are right.

Why it matters:
    Every update sees the same few samples and the rest of the data never
    reaches the network: the loss on that batch falls while the loss over
    all the data stalls or climbs. No gradient check sees anything wrong.

Example:
    ptr = 0
    for step in range(300):
        xb, yb = X[ptr:ptr + bs], Y[ptr:ptr + bs]
        ...
        ptr = (ptr + bs) // N

Fix:
        ptr = (ptr + bs) % N

A pointer set back to a number at the top of every pass (`ptr = 0` as the
loop body's first statement, before the cut) is named at that statement
instead, with the move before the loop as the fix (pattern
`batch-pointer-reset`).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-batch-never-moves"
CODE = "BPD642"
SEVERITY = "warning"
STAGE = "training"

PASSES = 12  # the passes of the program's own loop replayed to see where its batches start
SECONDS = 2.0
AT_LEAST = 5  # positions read before the batch counts as never moving
SHARE = 0.5  # the batch holds at most this share of the data
RANGE = 5000  # values of the loop's counter a position read off it is evaluated at


class _Key:
    """`_Key()[ptr:ptr + bs]` is the slice itself: a cut's position without cutting anything."""

    def __getitem__(self, key: Any) -> Any:
        return key


_KEY = "__bpd_key__"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.curve import own_curve
    from backprop_doctor.static.batch_pointer import moving_cuts

    source = context.source
    if source is None or source.tree is None:
        return
    for result in right_steps(context):
        runner, loop = result.runner, result.step.loop
        if runner is None or not isinstance(loop, (ast.For, ast.While)):
            continue
        cuts = [c for c in moving_cuts(loop) if not c.at_counter]  # `X[i:i + bs]` under `for i in range(0, n, bs)` moves by itself
        if not cuts:
            continue
        seen: dict[int, list[Any]] = {i: [] for i in range(len(cuts))}
        last: list[dict[str, Any]] = [{}]
        codes = []
        for cut in cuts:
            try:
                codes.append(compile(f"{_KEY}[{cut.index}]", source.path, "eval"))
            except SyntaxError:
                codes.append(None)

        def each(namespace: dict[str, Any]) -> None:
            namespace[_KEY] = _Key()
            try:
                for i, (cut, code) in enumerate(zip(cuts, codes)):
                    if code is None:
                        continue
                    try:
                        key = eval(code, namespace)  # noqa: S307 - the user's own index expression
                    except Exception:  # noqa: BLE001 - a name the pass binds later: nothing to read at this start
                        continue
                    rows = _rows(key, _data(namespace, cut.data), cut.axis)
                    if rows is not None:
                        seen[i].append(rows)
                last[0] = dict(namespace)
            finally:
                namespace.pop(_KEY, None)

        try:
            own_curve(runner, steps=PASSES, seconds=SECONDS, starts=[], each=each)
        except Exception:  # noqa: BLE001 - the user's loop raised: nothing read
            continue
        for i, cut in enumerate(cuts):
            rows = seen[i]
            if len(rows) < AT_LEAST or any(r != rows[0] for r in rows[1:]):
                continue
            taken, held = rows[0][1], rows[0][2]
            if not (0 < taken and held >= 2 and taken <= SHARE * held):
                continue
            if cut.counter_reads and _moves_later(cut, loop, last[0], source.path):
                continue
            yield _finding(source, cut, result, min(len(rows), PASSES), taken, held, rows[0][0])
            break


def _data(namespace: dict[str, Any], spelled: str) -> Any:
    """The array `X` or `self.X` names in `namespace`."""
    head, _, attribute = spelled.partition(".")
    value = namespace.get(head)
    return getattr(value, attribute, None) if attribute else value


def _rows(key: Any, data: Any, axis: int) -> tuple[Any, int, int] | None:
    """(the positions as a comparable value, how many rows they take, how many the data holds)."""
    if not isinstance(data, np.ndarray) or data.ndim <= axis:
        return None
    held = data.shape[axis]
    if isinstance(key, slice):
        try:
            positions = key.indices(held)
        except (TypeError, ValueError):
            return None
        return positions, len(range(*positions)), held
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return ("one", int(key) % held if held else int(key)), 1, held
    if isinstance(key, (list, np.ndarray)):
        array = np.asarray(key)
        if array.dtype == bool or not np.issubdtype(array.dtype, np.integer) or array.size == 0:
            return None
        return ("rows", tuple(int(v) for v in array.ravel()[:100000])), int(np.unique(array).size), held
    return None


def _moves_later(cut: Any, loop: ast.For | ast.While, namespace: dict[str, Any], path: str) -> bool:
    """Whether the cut's position, read off the loop's counter, takes another value over the loop's whole
    range (`start = (step // 100) * bs`: a batch repeated for 100 steps on purpose); True when it cannot be told."""
    if not isinstance(loop, ast.For) or not isinstance(loop.target, ast.Name) or not namespace:
        return True
    try:
        values = eval(compile(ast.Expression(loop.iter), path, "eval"), dict(namespace))  # noqa: S307 - the user's own range
        values = list(values[:RANGE]) if isinstance(values, range) else list(values)[:RANGE]
        statement = None
        if cut.source_line != cut.line:
            statement = compile(cut.source, path, "exec")
        key = compile(f"{_KEY}[{cut.index}]", path, "eval")
    except Exception:  # noqa: BLE001 - not evaluable on its own
        return True
    first = None
    for value in values:
        scope = dict(namespace)
        scope[loop.target.id] = value
        scope[_KEY] = _Key()
        try:
            if statement is not None:
                exec(statement, scope)  # noqa: S102 - the user's own statement
            rows = _rows(eval(key, scope), _data(scope, cut.data), cut.axis)  # noqa: S307
        except Exception:  # noqa: BLE001
            return True
        if rows is None:
            return True
        if first is None:
            first = rows[0]
        elif rows[0] != first:
            return True
    return False


def _finding(source: Any, cut: Any, result: Any, passes: int, taken: int, held: int, positions: Any) -> Finding:
    where = ""
    if cut.reset_line is not None:
        pass  # the rows read at the end of a pass are where the move left the pointer, not where the reset puts it
    elif isinstance(positions, tuple) and len(positions) == 3 and all(isinstance(p, int) for p in positions):
        where = f" (rows {positions[0]} to {positions[1] - 1})" if positions[2] == 1 else ""
    elif isinstance(positions, tuple) and positions and positions[0] == "one":
        where = f" (row {positions[1]})"
    what = "sample" if taken == 1 else f"{taken} samples"
    message = (
        f"your mini-batch never moves: over {passes} passes of your training loop (line {result.step.loop_line}), replayed from "
        f"its own state, `{cut.cut}` (line {cut.line}) takes the same {what}{where} of the {held} of `{cut.data}` at every step, "
    )
    if cut.reset_line is not None:
        message += (
            f"because `{cut.reset}` (line {cut.reset_line}) sets the pointer `{cut.pointer}` back at the start of every pass, "
            f"so `{cut.source}` (line {cut.source_line}) never reaches the next pass"
        )
    elif cut.source_line != cut.line:
        message += f"because `{cut.source}` (line {cut.source_line}) computes the same batch start every pass"
        if cut.pointer is not None:
            message += f": the pointer `{cut.pointer}` never advances"
    else:
        message += "because its index computes the same batch start every pass"
    message += f"; the steps never see the other {held - taken} samples, and the network overfits those {taken}"
    fix = None
    if cut.reset_line is not None:
        fix = cut.reset
        message += f": move `{cut.reset}` before the loop (line {result.step.loop_line})"
    elif "//" in cut.source and cut.source_line != cut.line:
        fix = cut.source.replace("//", "%", 1)
        message += f": `//` divides where a wrap-around `%` was meant, `{fix}`"
    else:
        message += "; advance the position each step and wrap it at the data's end (`% N`), or walk a shuffled order"
    loss = result.curve
    evidence = [("batch", f"`{cut.cut}`: {taken} of the {held} samples of `{cut.data}`, the same at each of {passes} replayed passes")]
    if loss and all(math.isfinite(v) for v in (loss[0], loss[-1])):
        evidence.append(("your loop", f"{len(loss)} steps replayed: {loss[0]:.4g} → {loss[-1]:.4g}"))
    return rule(NAME).finding(
        message,
        file=source.path,
        line=cut.reset_line if cut.reset_line is not None else cut.source_line,
        fix=fix,
        highlight=tuple(sorted({cut.line, cut.source_line, result.step.loop_line} | ({cut.reset_line} if cut.reset_line else set()))),
        pattern="batch-pointer-reset" if cut.reset_line is not None else "batch-never-moves",
        measured=taken / held,
        evidence=tuple(evidence),
    )
