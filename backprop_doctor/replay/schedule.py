"""A learning-rate schedule that takes the rate to nothing within the program's own loop.

`lr = lr0 * 0.5 ** epoch` over `range(2000)`: the rate is a thousandth of where it began by epoch 10 and
1e-61 by epoch 200; every update after the first dozen passes moves the weights by nothing, and the loss
freezes wherever it is. `static.schedules.rate_schedule` finds the statement; here it is evaluated at
each pass of its loop, from the values the program holds when its first step begins (a formula of the
loop's counter), or compounded (a factor applied every pass). Plain numbers out (`Vanishing`);
`checks/step_rate_vanishes.py` judges and words.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass
from typing import Any

THOUSANDTH = 1e-3  # the share of its first value below which the rate has stopped training
EARLY = 0.1  # ... when it gets there within this share of the loop's passes
MIN_PASSES = 20  # a loop this short is no schedule to judge
MOST_EVALUATIONS = 5000


@dataclass(frozen=True)
class Vanishing:
    schedule: Any  # static.schedules.Schedule
    passes: int  # the passes of the loop the schedule counts
    first: float  # the rate at its first pass
    gone_at: int  # the pass (from 0) by which it is a thousandth of that
    counter_at: Any  # the counter's value there (`epoch` = 10)
    last: float  # the rate at the loop's last pass
    effective: float  # the sum of all its rates over the first: how many passes at the first rate training amounts to


def _evaluate(text: str, values: dict[str, Any]) -> Any:
    return eval(compile(text, "<schedule>", "eval"), {"__builtins__": builtins, **values})  # noqa: S307 - the program's own expression, in the sandbox


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if not math.isnan(number) else None


def vanishing_rate(result: Any) -> Vanishing | None:
    """The step's rate schedule, when it takes the rate to a thousandth of its first value within the
    first tenth of the loop's passes; else None."""
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.schedules import rate_schedule

    runner = result.runner
    rates = {moved.site.rate for moved, _ in result.parameters}
    if runner is None or len(rates) != 1 or None in rates:
        return None
    (rate,) = rates
    schedule = rate_schedule(source_tree(runner.path)[1], result.step.loop_line, rate)
    if schedule is None:
        return None
    values = dict(getattr(runner.state, "values", {}) or {})
    try:
        span = range(*(int(_evaluate(a, values)) for a in schedule.range_args))
        if schedule.formula is not None:
            return _formula(schedule, span, values)
        return _compounded(schedule, span, values, rate)
    except Exception:  # noqa: BLE001 - the program's expressions raised when read here: no schedule to judge
        return None


def _formula(schedule: Any, span: range, values: dict[str, Any]) -> Vanishing | None:
    passes = len(span)
    if passes < MIN_PASSES:
        return None
    stride = max(1, passes // MOST_EVALUATIONS)
    indices, rates = [], []
    for i in range(0, passes, stride):
        try:
            rate = _number(_evaluate(schedule.formula, {**values, schedule.counter: span[i]}))
        except OverflowError:  # `0.5 / 3.0 ** it` past 3.0 ** 646: the rate was gone long before
            break
        if rate is None:
            return None
        indices.append(i)
        rates.append(rate)
    if not rates or rates[0] <= 0:
        return None
    first = rates[0]
    gone = next((i for i, r in zip(indices, rates) if abs(r) <= THOUSANDTH * first), None)
    if gone is None or gone > EARLY * passes:
        return None
    last = rates[-1] if indices[-1] + stride >= passes else 0.0  # the scan stopped on an overflow of the rate's divisor
    effective = sum(abs(r) for r in rates) * stride / first
    return Vanishing(schedule, passes, first, gone, span[gone], last, effective)


def _compounded(schedule: Any, span: range, values: dict[str, Any], rate: str) -> Vanishing | None:
    passes = len(span)
    factor = _number(_evaluate(schedule.factor, values))
    first = _number(values.get(rate))
    if passes < MIN_PASSES or factor is None or first is None or first <= 0 or factor <= 0:
        return None
    each = 1 / factor if schedule.divides else factor
    if each >= 1:
        return None
    gone = math.ceil(math.log(THOUSANDTH) / math.log(each))
    if gone > EARLY * passes:
        return None
    last = first * each ** (passes - 1)
    effective = (1 - each**passes) / (1 - each)
    return Vanishing(schedule, passes, first, gone, span[gone] if gone < passes else None, last, effective)


__all__ = ["Vanishing", "vanishing_rate"]
