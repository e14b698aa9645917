"""A learning-rate schedule that takes the rate to nothing within the program's own loop.

`lr = lr0 * 0.5 ** epoch` over `range(2000)`: the rate is a thousandth of where it began by epoch 10 and
1e-61 by epoch 200; every update after the first dozen passes moves the weights by nothing, and the loss
freezes wherever it is. `static.schedules.rate_schedule` finds the statement; here it is evaluated at
each pass of its loop, from the values the program holds when its first step begins (a formula of the
loop's counter), or compounded (a factor applied every pass: of every loop it runs in, so `lr *= 0.97`
written inside the batch loop of an epoch loop runs batches × epochs times). A factor that reads a loop's
counter (`lr = lr / (1 + decay * it)`, an inverse-time decay applied to the rate it already decayed) is
compounded pass by pass, its counter bound to each pass's value. Plain numbers out (`Vanishing`);
`checks/step_rate_vanishes.py` judges and words. A warm-up, `lr = peak * min(1, ramp)` of the counter, whose ramp
is still below 1 at the loop's last pass never reaches its rate (`Unfinished`, `unfinished_warmup`); worded by
`checks/step_warmup_unfinished.py`.
"""

from __future__ import annotations

import builtins
import inspect
import math
from dataclasses import dataclass
from typing import Any

THOUSANDTH = 1e-3  # the share of its first value below which the rate has stopped training
EARLY = 0.25  # ... when it gets there within this share of the loop's passes: three quarters of training or more move nothing
MIN_PASSES = 20  # a loop this short is no schedule to judge
MOST_EVALUATIONS = 5000
MOST_PASSES = 200_000  # a factor that reads a counter is compounded over every pass: no more than this many
FALLEN = 0.1  # a schedule whose length is set right still ends below this share of its peak
COMPOUNDED_EARLY = 0.5  # a factor reading the counter, compounded: gone within half the passes, while ...
APART = 100.0  # ... its factor alone on the first rate is still this many times the compounded rate there


@dataclass(frozen=True)
class Vanishing:
    schedule: Any  # static.schedules.Schedule
    passes: int  # the passes of the loop the schedule counts
    first: float  # the rate at its first pass, or the peak a warm-up climbs to before it falls (`peaked`)
    gone_at: int  # the pass (from 0) by which it is a thousandth of that
    counter_at: Any  # the counter's value there (`epoch` = 10)
    last: float  # the rate at the loop's last pass
    effective: float  # the sum of all its rates over the first: how many passes at the first rate training amounts to
    peaked: bool = False  # the first rate is not the highest: a warm-up climbs to it, and `first` is that peak
    length: tuple[str, int, str] | None = None  # (name, value, the loop's passes as written) of the number that ends the schedule early
    counter: str | None = None  # the counter `counter_at` is a value of, when not the schedule's own (the epoch loop's, around a batch loop)
    loops: tuple[tuple[int, int], ...] = ()  # (line, passes) of each loop a factor runs in, innermost first, when more than one
    compounds: bool = False  # a factor that reads a loop's counter (`lr / (1 + decay * it)`), applied to the rate it already decayed
    base: str | None = None  # the name that holds the rate's first value (`lr0` of `lr = lr0` before the loop), when one does


def _evaluate(text: str, values: dict[str, Any]) -> Any:
    return eval(compile(text, "<schedule>", "eval"), {"__builtins__": builtins, **values})  # noqa: S307 - the program's own expression, in the sandbox


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if not math.isnan(number) else None


def _step_schedule(result: Any) -> tuple[Any, dict[str, Any], str] | None:
    """(the schedule, the values the program holds when its first step begins, the rate's name) of the one
    learning rate the step's updates share, when a statement of the training loop sets it every pass."""
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.schedules import rate_schedule

    runner = result.runner
    rates = {moved.site.rate or _velocity_rate(moved.site) for moved, _ in result.parameters}
    if runner is None or len(rates) != 1 or None in rates:
        return None
    (rate,) = rates
    schedule = rate_schedule(source_tree(runner.path)[1], result.step.loop_line, rate)
    if schedule is None:
        return None
    # the modules and functions the loop's code reads from its globals (`np` of `np.exp(-k * epoch)` in a `train` function's
    # loop, whose frame holds its locals only), beneath the frame's own values
    namespace = getattr(runner, "namespace", None) or {}
    reachable = {k: v for k, v in namespace.items() if isinstance(k, str) and (inspect.ismodule(v) or callable(v))}
    return schedule, {**reachable, **dict(getattr(runner.state, "values", {}) or {})}, rate


def vanishing_rate(result: Any) -> Vanishing | None:
    """The step's rate schedule, when it takes the rate to a thousandth of its first value (of its peak,
    after a warm-up) within the first quarter of the loop's passes; else None."""
    found = _step_schedule(result)
    if found is None:
        return None
    schedule, values, rate = found
    try:
        if schedule.formula is not None:
            span = range(*(int(_evaluate(a, values)) for a in schedule.range_args))
            return _formula(schedule, span, values)
        return _compounded(schedule, values, rate)
    except Exception:  # noqa: BLE001 - the program's expressions raised when read here: no schedule to judge
        return None


def _velocity_rate(site: Any) -> str | None:
    """The rate of a momentum's velocity the update adds (`lr` of `v -= lr * g`, or of `v = mu * v - lr * g`,
    before `p += v`): the rate a schedule sets reaches the weights through it."""
    import ast

    from backprop_doctor.static.steps import _take_rate

    if site.velocity is None:
        return None
    try:
        statement = ast.parse(site.velocity[1]).body[0]
    except SyntaxError:
        return None
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.value, ast.BinOp):
        # `vel[k] = momentum * vel[k] - lr * g[k]`: the term that does not read the velocity itself
        kept = ast.unparse(statement.targets[0])
        terms = [t for t in (statement.value.left, statement.value.right) if kept not in ast.unparse(t)]
        if len(terms) != 1 or not isinstance(statement.value.op, (ast.Add, ast.Sub)):
            return None
        term = terms[0]
    elif isinstance(statement, ast.AugAssign) and isinstance(statement.op, (ast.Add, ast.Sub)):
        term = statement.value
    else:
        return None
    term = term.operand if isinstance(term, ast.UnaryOp) and isinstance(term.op, ast.USub) else term
    rate, _ = _take_rate(term)
    return rate if rate is not None and rate.isidentifier() else None


def _formula(schedule: Any, span: range, values: dict[str, Any]) -> Vanishing | None:
    passes = len(span)
    if passes < MIN_PASSES:
        return None
    scanned = _scan(schedule, span, values)
    if scanned is None:
        return None
    indices, rates, stride = scanned
    if not rates or rates[0] <= 0:
        return None
    gone, first = _gone(indices, rates)
    if gone is None or gone > EARLY * passes:
        return None
    last = rates[-1] if indices[-1] + stride >= passes else 0.0  # the scan stopped on an overflow of the rate's divisor
    effective = sum(abs(r) for r in rates) * stride / first
    return Vanishing(
        schedule, passes, first, gone, span[gone], last, effective, peaked=rates[0] < first, length=_length(schedule, span, values)
    )


def _scan(schedule: Any, span: range, values: dict[str, Any]) -> tuple[list[int], list[float], int] | None:
    """(passes evaluated, the rate at each, the stride between them) of a formula over its loop's passes."""
    passes = len(span)
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
    return indices, rates, stride


def _length(schedule: Any, span: range, values: dict[str, Any]) -> tuple[str, int, str] | None:
    """(name, value, the loop's passes as written) of the one whole number the formula reads that sets
    how long the schedule lasts, when it is shorter than the loop: `total_steps = epochs` (40) read by a
    cosine over a step counter that runs 640 passes. Set to the loop's passes, the rate no longer
    vanishes early but still falls, by the loop's end, below `FALLEN` of its peak: a decay spread over
    the loop (a warm-up that long would climb to its last pass instead). None when no such name, or more than one, does that."""
    import ast

    passes = len(span)
    try:
        read = {n.id for n in ast.walk(ast.parse(schedule.formula, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return None
    found = []
    for name in sorted(read - {schedule.counter}):
        value = values.get(name)
        if type(value) is not int or not 0 < value < passes // 2:
            continue
        scanned = _scan(schedule, span, {**values, name: passes})
        if scanned is None or not scanned[1] or scanned[1][0] <= 0:
            continue
        gone, _ = _gone(scanned[0], scanned[1])
        rates = scanned[1]
        if (gone is None or gone > EARLY * passes) and abs(rates[-1]) <= FALLEN * max(abs(r) for r in rates):
            found.append((name, value))  # it still falls, but over the whole loop (not a warm-up made as long as the loop)
    if len(found) != 1:
        return None
    return (*found[0], _passes_written(schedule))


def _passes_written(schedule: Any) -> str:
    """The loop's passes as the program would write them: `steps_per_epoch * epochs` of a counter of its
    own counted over `range(steps_per_epoch)` in `range(epochs)`, `epochs` of `range(epochs)`."""
    import ast

    args = schedule.range_args
    if len(args) == 1:
        return args[0]
    start, stop = args[0], args[1]
    if len(args) == 2 and stop.startswith(f"{start} + "):
        class _Unranged(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call) -> ast.AST:
                self.generic_visit(node)
                inner = node.args[0] if len(node.args) == 1 else None
                if isinstance(node.func, ast.Name) and node.func.id == "len" and isinstance(inner, ast.Call):
                    if isinstance(inner.func, ast.Name) and inner.func.id == "range" and len(inner.args) == 1:
                        return inner.args[0]  # `len(range(epochs))` is `epochs`
                return node

        try:
            return ast.unparse(_Unranged().visit(ast.parse(stop[len(start) + 3 :], mode="eval")))
        except SyntaxError:
            pass
    return f"len(range({', '.join(args)}))"


def _gone(indices: list[int], rates: list[float]) -> tuple[int | None, float]:
    """(the pass by which the rate is a thousandth of the highest it has reached, that highest rate): a
    warm-up that starts small and climbs to its peak (`peak * (step + 1) / warmup`) is measured from
    the peak, not from its first tiny step."""
    peak = 0.0
    for i, r in zip(indices, rates):
        peak = max(peak, abs(r))
        if abs(r) <= THOUSANDTH * peak:
            return i, peak
    return None, peak


def _counted_trips(schedule: Any, values: dict[str, Any]) -> list[tuple[Any, int]]:
    """(trip, its passes) of each loop the factor runs in, innermost first, up to the first whose passes
    cannot be read from the program's values: the factor runs at least their product of times."""
    counted = []
    for trip in schedule.trips:
        try:
            passes = int(_evaluate(trip.passes, values)) if trip.passes is not None else None
        except Exception:  # noqa: BLE001 - an expression of the program's the values do not answer: no count
            passes = None
        if passes is None or passes < 0:
            break
        counted.append((trip, passes))
    return counted


def _compounded(schedule: Any, values: dict[str, Any], rate: str) -> Vanishing | None:
    """A factor applied on every pass of the loops around it: as many times as the product of their passes
    (`lr *= decay` in the batch loop runs batches × epochs times, not once per epoch)."""
    counted = _counted_trips(schedule, values)
    if not counted:
        return None
    passes = math.prod(n for _, n in counted)
    first = _number(values.get(rate))
    if passes < MIN_PASSES or first is None or first <= 0:
        return None
    peaked = compounds = False
    if _reads_a_counter(schedule.factor, counted):
        compounds = True
        rates = _per_pass(schedule, values, counted, first)
        if rates is None:
            return None
        found, first = _gone(list(range(len(rates))), rates)
        alone = _per_pass(schedule, values, counted, first, alone=True) if found is not None else None
        # the factor of that pass alone, applied to the first rate (`lr0 * decay ** epoch`, what compounding it stands for),
        # still far above the compounded rate there: the compounding, not the schedule, ends training
        kept = alone is not None and found < len(alone) and alone[found] >= APART * rates[found]
        if found is None or found > (COMPOUNDED_EARLY if kept else EARLY) * passes:
            return None
        gone, last, effective, peaked = found, rates[-1], sum(abs(r) for r in rates) / first, rates[0] < first
    else:
        factor = _number(_evaluate(schedule.factor, values))
        if factor is None or factor <= 0:
            return None
        each = 1 / factor if schedule.divides else factor
        if each >= 1:
            return None
        gone = math.ceil(math.log(THOUSANDTH) / math.log(each))
        if gone > EARLY * passes:
            return None
        last = first * each ** (passes - 1)
        effective = (1 - each**passes) / (1 - each)
    outer = counted[-1][0]
    counter_at = _outer_counter_at(counted, values, gone)
    loops = tuple((trip.line, n) for trip, n in counted) if len(counted) > 1 else ()
    base = _base(values, rate, float(values[rate])) if compounds else None
    return Vanishing(
        schedule, passes, first, gone, counter_at, last, effective, peaked=peaked, counter=outer.counter, loops=loops, compounds=compounds, base=base
    )


def _base(values: dict[str, Any], rate: str, first: float) -> str | None:
    """The one other number the program holds that equals the rate's first value (`lr0` of `lr0 = 0.3`
    ... `lr = lr0`): what a decay that does not compound divides."""
    names = [
        name for name, value in values.items()
        if name != rate and name.isidentifier() and not name.startswith("_") and type(value) in (int, float) and value == first
    ]  # fmt: skip
    return names[0] if len(names) == 1 else None


def _outer_counter_at(counted: list[tuple[Any, int]], values: dict[str, Any], at: int) -> Any:
    """The outermost loop's counter at pass `at` (from 0) of all the loops a factor runs in; None when it
    cannot be told."""
    passes = math.prod(n for _, n in counted)
    outer, outer_passes = counted[-1]
    if not (0 <= at < passes and outer.counter and outer_passes):
        return None
    within = passes // outer_passes  # the passes of the loops inside the outermost one, per pass of it
    if outer.range_args:
        return range(*(int(_evaluate(a, values)) for a in outer.range_args))[at // within]
    if outer.counts:
        start, step = (_number(_evaluate(e, values)) for e in outer.counts)
        if start is not None and step is not None:
            return f"{start + step * (at // within):g}"
    return None


def _reads_a_counter(factor: str, counted: list[tuple[Any, int]]) -> bool:
    """Whether the factor reads the counter of a loop it runs in (`it` of `lr / (1 + decay * it)`)."""
    import ast

    try:
        read = {n.id for n in ast.walk(ast.parse(factor, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return False
    return any(trip.counter in read for trip, _ in counted if trip.counter)


def _per_pass(schedule: Any, values: dict[str, Any], counted: list[tuple[Any, int]], first: float, alone: bool = False) -> list[float] | None:
    """The rate at each pass of the loops a factor that reads their counters runs in, outermost loop
    slowest: the rate a pass starts with, before the factor of that pass is applied to it. None when a
    counter the factor reads is no `range` loop's, or the passes are too many to compound one by one.
    `alone`: the first rate times each pass's factor instead, the factors not compounded."""
    import itertools

    spans = []
    for trip, passes in reversed(counted):  # outermost first
        if trip.counter and trip.range_args:
            span = range(*(int(_evaluate(a, values)) for a in trip.range_args))
            if len(span) != passes:
                return None
            spans.append((trip.counter, span))
        elif trip.counter and not _reads_a_counter(schedule.factor, [(trip, passes)]):
            spans.append((None, range(passes)))
        else:
            return None  # a counter the factor reads whose values cannot be told
    if math.prod(len(span) for _, span in spans) > MOST_PASSES:
        return None
    code = compile(schedule.factor, "<schedule>", "eval")
    scope = {"__builtins__": builtins, **values}
    rate, rates = first, []
    for at in itertools.product(*(span for _, span in spans)):
        rates.append(rate)
        scope.update({name: value for (name, _), value in zip(spans, at) if name})
        try:
            factor = _number(eval(code, scope))  # noqa: S307 - the program's own expression, in the sandbox
        except (OverflowError, ZeroDivisionError):
            factor = None
        if factor is None or factor <= 0:
            return None
        if alone:
            rates[-1] = first / factor if schedule.divides else first * factor
            continue
        rate = rate / factor if schedule.divides else rate * factor
    return rates


GROWN = 100.0  # a schedule whose rate ends this many times its first value ...
RISING = 10.0  # ... and this many times what it was halfway through the loop grows without bound (a warm-up levels off)
TENFOLD = 10.0


@dataclass(frozen=True)
class Growing:
    schedule: Any  # static.schedules.Schedule
    passes: int  # the passes of the loop (of all the loops a factor runs in)
    first: float  # the rate at the first pass
    last: float  # at the last pass (inf when it overflowed)
    halfway: float  # at the middle pass
    tenfold_at: int  # the pass (from 0) by which it is ten times its first value
    counter_at: Any  # the counter's value there (`epoch` = 22), when it can be told
    counter: str | None = None  # the counter `counter_at` is a value of
    decaying: str | None = None  # the schedule's statement with its operation turned round, when that decays (`lr = lr0 * 0.9 ** epoch`)


def growing_rate(result: Any) -> Growing | None:
    """The step's rate schedule, when it makes the rate grow without bound over the loop's passes: ending
    `GROWN` times its first value and still `RISING` times what it was halfway (an exponent of the wrong
    sign: `lr0 / 0.9 ** epoch`, `lr *= 1.05`), or multiplying it by one factor above 1 at every pass to at least
    `TENFOLD` times its first value (`lr0 / 0.93 ** epoch` over 50 passes, 35 times: `_geometric`); else None. A
    warm-up that climbs to its rate and stays there, or one that starts from 0, is none."""
    found = _step_schedule(result)
    if found is None:
        return None
    schedule, values, rate = found
    try:
        if schedule.formula is not None:
            return _formula_grows(schedule, values)
        return _factor_grows(schedule, values, rate)
    except Exception:  # noqa: BLE001 - the program's expressions raised when read here: no schedule to judge
        return None


def _formula_grows(schedule: Any, values: dict[str, Any]) -> Growing | None:
    span = range(*(int(_evaluate(a, values)) for a in schedule.range_args))
    passes = len(span)
    if passes < MIN_PASSES:
        return None
    scanned = _scan(schedule, span, values)
    if scanned is None:
        return None
    indices, rates, stride = scanned
    if indices and indices[-1] + stride < passes:  # the scan stopped on an overflow of the rate
        indices, rates = [*indices, passes - 1], [*rates, math.inf]
    grown = _grown(indices, rates, passes)
    if grown is None:
        return None
    first, last, halfway, tenfold = grown
    return Growing(schedule, passes, first, last, halfway, tenfold, span[tenfold], schedule.counter, _turned_round(schedule, span, values))


def _factor_grows(schedule: Any, values: dict[str, Any], rate: str) -> Growing | None:
    counted = _counted_trips(schedule, values)
    if not counted:
        return None
    passes = math.prod(n for _, n in counted)
    first = _number(values.get(rate))
    if passes < MIN_PASSES or first is None or first <= 0:
        return None
    if _reads_a_counter(schedule.factor, counted):
        rates = _per_pass(schedule, values, counted, first)
        if rates is None:
            return None
        grown = _grown(list(range(len(rates))), rates, passes)
    else:
        factor = _number(_evaluate(schedule.factor, values))
        if factor is None or factor <= 0:
            return None
        each = 1 / factor if schedule.divides else factor
        if each <= 1:
            return None
        at = [0, (passes - 1) // 2, passes - 1]
        grown = _grown(at, [first * _power(each, i) for i in at], passes)
        if grown is not None:
            grown = (*grown[:3], math.ceil(math.log(TENFOLD) / math.log(each)))
    if grown is None:
        return None
    first, last, halfway, tenfold = grown
    outer = counted[-1][0]
    return Growing(schedule, passes, first, last, halfway, tenfold, _outer_counter_at(counted, values, tenfold), outer.counter)


def _power(base: float, exponent: int) -> float:
    try:
        return base**exponent
    except OverflowError:
        return math.inf


def _grown(indices: list[int], rates: list[float], passes: int) -> tuple[float, float, float, int] | None:
    """(first, last, halfway, the pass by which it is tenfold) of rates that grow without bound; else None."""
    if not rates or any(not r > 0 for r in rates):  # NaN, 0 or a negative rate: no growth to judge
        return None
    first, last = rates[0], rates[-1]
    halfway = next(r for i, r in zip(reversed(indices), reversed(rates)) if i <= passes // 2)
    if not (last >= GROWN * first and last >= RISING * halfway and last >= max(rates)) and not _geometric(indices, rates, first, last):
        return None
    tenfold = next((i for i, r in zip(indices, rates) if r >= TENFOLD * first), indices[-1])
    return first, last, halfway, tenfold


def _geometric(indices: list[int], rates: list[float], first: float, last: float) -> bool:
    """Rates multiplied by one factor above 1 at every pass (`lr0 / 0.93 ** epoch`: 1.075 each pass) that end at least
    `TENFOLD` times their first value: an exponential decay turned round, growing for as long as the loop runs (35 times
    over 50 passes), however far short of `GROWN` the loop stops; a warm-up never climbs by one factor all the way."""
    if len(rates) < 3 or not math.isfinite(last) or last < TENFOLD * first:
        return False
    factors = [(b / a) ** (1.0 / (j - i)) for i, j, a, b in zip(indices, indices[1:], rates, rates[1:])]
    return min(factors) > 1.0 and max(factors) - min(factors) <= 1e-6 * max(factors)


def _turned_round(schedule: Any, span: range, values: dict[str, Any]) -> str | None:
    """The schedule's statement with its outermost `/` and `*` swapped (`lr0 / 0.9 ** epoch` written for
    `lr0 * 0.9 ** epoch`), when the rate it sets then falls over the loop instead: the likely intent."""
    import ast
    from dataclasses import replace

    try:
        node = ast.parse(schedule.formula, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div))):
        return None
    node.op = ast.Div() if isinstance(node.op, ast.Mult) else ast.Mult()
    formula = ast.unparse(node)
    try:
        scanned = _scan(replace(schedule, formula=formula), span, values)
    except Exception:  # noqa: BLE001 - the turned formula raised: no intent to offer
        return None
    if scanned is None or not scanned[1] or not all(0 < r <= scanned[1][0] for r in scanned[1]) or scanned[1][-1] >= scanned[1][0]:
        return None
    return f"{schedule.rate} = {formula}"


__all__ = ["Growing", "Vanishing", "growing_rate", "vanishing_rate"]


WARMUP_MIN_PASSES = 5  # a loop this short is no warm-up to judge


@dataclass(frozen=True)
class Unfinished:
    """A warm-up (`lr = peak * min(1, (step + 1) / warmup)`) that does not reach its end within the loop's passes."""

    schedule: Any  # static.schedules.Schedule
    passes: int  # the passes of the loop whose counter the warm-up reads
    ramp: str  # the climbing argument of the `min`, as written (`(epoch + 1) / warmup_steps`)
    reached: float  # the ramp's value at the loop's last pass: the share of the target the rate ever gets to
    mean: float  # the ramp's mean over the passes: the share of the target training runs at on average
    target: float  # the rate once the warm-up is over
    length: tuple[str, int] | None = None  # (name, value) of the one whole number the ramp reads that is more than the passes
    counter: tuple[str, int] | None = None  # (name, line) of a counter of the training loop's own passes (`step += 1`) the ramp does not read


def unfinished_warmup(result: Any) -> Unfinished | None:
    """The step's rate schedule, when it is a warm-up `min(1, ramp)` of a loop counter whose ramp climbs
    but stays below 1 at every pass of the loop: the rate never reaches the value it warms up to."""
    import ast

    found = _step_schedule(result)
    if found is None or found[0].formula is None:
        return None
    schedule, values, _ = found
    try:
        formula = ast.parse(schedule.formula, mode="eval")
        span = range(*(int(_evaluate(a, values)) for a in schedule.range_args))
    except Exception:  # noqa: BLE001 - the program's expressions raised when read here: no schedule to judge
        return None
    if len(span) < WARMUP_MIN_PASSES:
        return None
    capped = [
        n for n in ast.walk(formula) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "min" and len(n.args) == 2
        and not n.keywords and any(_one(a) for a in n.args)
    ]  # fmt: skip
    if len(capped) != 1:
        return None
    call = capped[0]
    ramp = next(a for a in call.args if not _one(a))
    if not any(isinstance(n, ast.Name) and n.id == schedule.counter for n in ast.walk(ramp)):
        return None
    text = ast.unparse(ramp)
    stride = max(1, len(span) // MOST_EVALUATIONS)
    try:
        ramps = [_number(_evaluate(text, {**values, schedule.counter: span[i]})) for i in range(0, len(span), stride)]
        ramps.append(_number(_evaluate(text, {**values, schedule.counter: span[-1]})))
        done = _warmed_up(schedule.formula, ast.unparse(call))
        target = _number(_evaluate(done, values))
    except Exception:  # noqa: BLE001
        return None
    if any(r is None or not math.isfinite(r) for r in ramps) or target is None or target <= 0:
        return None
    if not 0 < ramps[0] < ramps[-1] or max(ramps) >= 1:
        return None  # no climb, or the warm-up ends within the loop
    read = {n.id for n in ast.walk(ramp) if isinstance(n, ast.Name)} - {schedule.counter}
    lengths = [(name, values[name]) for name in sorted(read) if type(values.get(name)) is int and values[name] > len(span)]
    return Unfinished(
        schedule, len(span), text, ramps[-1], sum(ramps[:-1]) / len(ramps[:-1]), target,
        length=lengths[0] if len(lengths) == 1 else None, counter=_step_counter(result, schedule),
    )  # fmt: skip


def _one(node: Any) -> bool:
    import ast

    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 1


def _warmed_up(formula: str, capped: str) -> str:
    """`formula` with its `min(1, ramp)` call (written `capped`) replaced by 1: the rate once the warm-up is over."""
    import ast

    class _Swap(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if ast.unparse(node) == capped:
                return ast.Constant(1.0)
            self.generic_visit(node)
            return node

    return ast.unparse(_Swap().visit(ast.parse(formula, mode="eval")))


def _step_counter(result: Any, schedule: Any) -> tuple[str, int] | None:
    """(name, line) of the one name the training loop adds 1 to at each of its passes (`step += 1`), when the
    warm-up reads the counter of a loop around it instead (`epoch`): the count of the steps its length may be in."""
    import ast

    loop = result.step.loop
    if loop is None or schedule.loop_line == result.step.loop_line:
        return None
    counted = [
        n for n in loop.body if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Name)
        and _one(n.value) and n.target.id != schedule.counter
    ]  # fmt: skip
    return (counted[0].target.id, counted[0].lineno) if len(counted) == 1 else None
