"""The program's own loss curve: its training loop run again for a few steps from the captured state.

The loop statement itself is run, on a fresh copy of the state (`Runner.fresh`),
with two things added: before each pass a note of the loss the previous pass
computed, and a stop after `STEPS` passes or `SECONDS` of time. So the curve is
made by the program's own forward, backward and update rule (an optimizer
class, a momentum, an update that rebinds), on its own batches, with its output
thrown away.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import math
import re
import sys
import time
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.observe.budget import Deadline

from backprop_doctor.observe.record import number
from backprop_doctor.replay.runner import Runner, compiled
from backprop_doctor.replay.state import resolve, set_setting
from backprop_doctor.static.steps import sums_added
from backprop_doctor.scalar_autograd import node_number
from backprop_doctor.training.settings import FITTED_RATIO, OVERFIT_SAMPLES

STEPS = 40
SECONDS = 3.0
STRETCH_SLACK = 1.25  # a stretched run's new budget: the time its passes left take at the pace so far, and a quarter more
_NOTE = "__bpd_note__"
_AFTER = "__bpd_after__"


@dataclass
class NonFinite:
    """Where the replayed loop first made an infinity or a NaN: its line, what NumPy met there
    ("overflow", "divide by zero", "invalid value") and in which pass (0 is the first)."""

    line: int
    kind: str
    step: int


def first_non_finite(runner: Runner, steps: int = STEPS, seconds: float = SECONDS) -> NonFinite | None:
    """The statement of the user's file where the replayed loop first produced inf or NaN.

    NumPy reports each such operation to `np.seterrcall` while its error mode is "call"; the
    frame that called it is the user's line. A NaN made from an infinity made earlier (`inf / inf`)
    points to the operation that made the infinity, so an overflow or a division by zero is
    preferred over the invalid value it causes; underflow is never a cause."""
    events: list[tuple[str, int, int]] = []
    starts: list[int] = []
    path = runner.path

    def seen(kind: str, _flag: int) -> None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != path:
            frame = frame.f_back
        if frame is not None and len(events) < 1000:
            events.append((kind, frame.f_lineno, len(starts)))

    old = np.seterrcall(seen)
    try:
        with np.errstate(over="call", divide="call", invalid="call", under="ignore"):
            own_curve(runner, steps, seconds, starts=starts)
    finally:
        np.seterrcall(old)
    if not events:
        return None
    causes = [e for e in events if e[0] in ("overflow", "divide by zero")] or events
    kind, line, step = causes[0]
    return NonFinite(line, kind, max(step - 1, 0))




def own_curve(
    runner: Runner,
    steps: int = STEPS,
    seconds: float = SECONDS,
    names: dict[str, Any] | None = None,
    starts: list[int] | None = None,
    watch: dict[str, list[Any]] | None = None,
    pinned: dict[str, Any] | None = None,
    until: Any = None,
    each: Any = None,
    stretch: float = 1.0,
) -> list[float]:
    """The loss after each of the first `steps` passes of the training loop; [] when it cannot run.
    A program that climbs its objective (`runner.sign` -1, gradient ascent) gets the objective negated.

    `names` rebinds variables of the step's state first (`{"lr": 0.05}`: the same program at a
    smaller learning rate); `starts` gets the number of each pass as it starts; `watch` maps
    names of the pass (`a1`) to [their value in the first pass, in the last], filled in.

    `pinned` makes every pass the same pass: the loop's body is run again and again (its `for`
    never advances, its `while` test is not asked), each pass starting with these names rebound
    to copies of their values and the random generators put back, so it draws the same batch,
    while the parameters and the update rule's own state (a velocity, Adam's moments) carry on.
    `until(losses)` ends the run early when it says the curve has shown enough; `each(namespace)` is
    called as each pass starts, and once more after the last.

    `stretch` lets a run whose `seconds` run out finish its `steps` when, at its pace so far, all of them
    take no more than `stretch` times `seconds`: a judgement that needs every pass (`Tiny.judged`) then
    comes out the same on a machine up to that much slower or busier, not unjudged there."""
    step = runner.step
    loop = step.loop
    site = runner.loss_site
    if loop is None or (site is None and starts is None) or not isinstance(loop, (ast.For, ast.While)):
        return []  # without a loss to note, the loop only runs for the passes it is counted in
    losses: list[float] = []
    deadline = Deadline(seconds)
    stretched = stretch <= 1.0
    passes = [0]

    before: list[Any] = [0]  # an accumulated loss's sum when the pass starts

    def note(namespace: dict[str, Any]) -> bool:
        if pinned is not None:
            namespace.update({k: v if type(v) in (int, float, str) else copy.deepcopy(v) for k, v in pinned.items()})
            runner.state.reset_random()
        if starts is not None:
            starts.append(passes[0])
        if each is not None:
            each(namespace)
        if site is not None and site.accumulated:
            before[0] = namespace.get(site.name, 0)
        if passes[0] > 0 and watch is not None:
            for name, seen in watch.items():
                value = namespace.get(name)
                if isinstance(value, np.ndarray):
                    if seen[0] is None:
                        seen[0] = value.copy()
                    seen[1] = value.copy()
        if passes[0] > 0 and site is not None and site.in_prefix:
            read(lambda: namespace.get(site.bound))
        passes[0] += 1
        return passes[0] > steps or out_of_time() or (until is not None and until(losses))

    def out_of_time() -> bool:
        nonlocal deadline, stretched
        if not deadline.passed():
            return False
        spent = deadline.spent()
        if stretched or spent <= deadline.seconds:  # stretched once already, or the check's own time is running out
            return True
        stretched = True
        rest = spent * (steps + 1 - passes[0]) / max(passes[0] - 1, 1)  # the passes left, at the pace so far
        if spent + rest > stretch * seconds:
            return True
        deadline = Deadline(STRETCH_SLACK * rest)
        return False

    def read(value_of: Any) -> None:
        try:
            value = value_of()
        except Exception:  # noqa: BLE001 - the loss cannot be read after this pass (an index past the data)
            value = None
        found = number(value)
        if found is None:
            found = node_number(value)  # a loss an autograd engine computes (`Value`): its number
        if found is not None:
            losses.append(found)
        elif value is not None:
            losses.append(math.nan)

    def after(namespace: dict[str, Any]) -> None:
        """A loss the pass does not keep in a name (`-(np.log(probs[t]))` of `loss -= ...`) is read
        where the replay reads it, after the statements before the update: the update part may
        change what it reads (`d = probs; d[t] -= 1`)."""
        if site.accumulated:
            read(lambda: namespace.get(site.name) - before[0])
        else:
            # the loss the program reports, over the whole data set its pass walks (not only its first minibatch, whose
            # penalty `lmbda / len(data)` would weigh forty times as much): what the program's own curve shows
            read(lambda: eval(compiled(site.reported or site.expression), namespace))  # noqa: S307 - the user's own expression

    check = ast.parse(f"if {_NOTE}(globals()):\n    break").body[0]
    own = sum(1 for stmt in loop.body if any(stmt is p for p in step.prefix))  # the prefix's statements of this body
    synthesized = [stmt for stmt in step.prefix if not any(stmt is b for b in loop.body)]
    if site is not None and not site.in_prefix and sums_added(step) and len(synthesized) > 1 and own + 1 <= len(loop.body):
        # a loss the error implies, summed over the pass's loop over its samples by statements the step added
        # (`static.steps._summed_in_inner_loop`), or the program's own total beside such sums (`total += 0.5 * err ** 2`
        # in that loop): the step's own prefix holds that loop, extended; it is read after it, not before
        body = [check, *step.prefix, ast.parse(f"{_AFTER}(globals())").body[0], *loop.body[own + 1 :]]
    elif site is not None and not site.in_prefix:
        body = [check, *loop.body[:own], ast.parse(f"{_AFTER}(globals())").body[0], *loop.body[own:]]
    else:
        body = [check, *loop.body]
    if pinned is not None:
        again = ast.While(test=ast.Constant(True), body=body, orelse=[])
    elif isinstance(loop, ast.For):
        again = ast.For(target=loop.target, iter=loop.iter, body=body, orelse=[], type_comment=None)
    else:
        again = ast.While(test=loop.test, body=body, orelse=[])
    module = ast.Module(body=[ast.copy_location(again, loop), ast.parse(f"{_NOTE}(globals())").body[0]], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        code = compile(module, runner.path, "exec", dont_inherit=True)
    except SyntaxError:
        return []
    namespace = runner.fresh()
    for name, value in (names or {}).items():
        set_setting(namespace, name, value)  # `self.max_norm`: the attribute of the state's copy of `self`
    namespace[_NOTE] = note
    namespace[_AFTER] = after
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), globals_rebound(runner, names or {}):
            exec(code, namespace)  # noqa: S102 - the user's own loop, in the sandbox
    except Exception:  # noqa: BLE001 - the loop raised after some passes: the curve so far
        pass
    finally:
        namespace.pop(_NOTE, None)
        namespace.pop(_AFTER, None)
    return [runner.sign * v for v in losses[:steps]]  # a log-likelihood the loop climbs is judged as its negative


@contextlib.contextmanager
def globals_rebound(runner: Runner, names: dict[str, Any]) -> Iterator[None]:
    """`names` that are the module's globals a function's loop reads (`X`, `y`, `reg_lambda` of a
    `build_model()` over the module's data) bound in the module itself while the loop runs, and put
    back after: the functions the pass calls read them there, not in the copy the loop runs in, so a
    loss `calculate_loss(model)` over the module's `X` is computed on the samples the pass trains on
    (a tiny batch's five), not on the whole data set. Nothing for a loop at the module's level, whose
    namespace is the module's own."""
    capture = runner.capture
    module = capture.module_globals
    shared = {k: v for k, v in names.items() if k in capture.globals_read} if module is not None else {}
    if not shared or module is None:
        yield
        return
    missing = object()
    kept = {k: module.get(k, missing) for k in shared}
    module.update(shared)
    try:
        yield
    finally:
        for k, v in kept.items():
            if v is missing:
                module.pop(k, None)
            else:
                module[k] = v


def walked(runner: Runner, moved: list[Any], steps: int = STEPS, seconds: float = SECONDS) -> tuple[float, float] | None:
    """(before, after): the mean loss over the batches the loop's first `steps` passes take, with the
    parameters of its state and with those its own loop leaves after those passes. None unless the
    loop's `for` walks the data, each pass on a batch of its own (`for x, t in data`, `for i in range(n)`
    with `x = X[i]`): then each value of its own curve is the loss of another batch, and only the loss
    of the same data, before and after, says whether the steps overshoot (online SGD's curve jumps
    from one sample's loss to the next's while the mean squared error falls)."""
    loop = runner.step.loop
    paths = [m.path for m in moved if m.path is not None]
    if not isinstance(loop, ast.For) or not paths:
        return None
    names = sorted({n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)})
    if not names:
        return None
    batches: list[dict[str, Any]] = []
    last: list[list[tuple[Any, Any]]] = [[]]

    def each(namespace: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # noqa: SIM105 - a name the pass has not bound
            batches.append({n: copy.deepcopy(namespace[n]) for n in names})
            last[0] = [(p, copy.deepcopy(resolve(namespace, p))) for p in dict.fromkeys(paths)]

    curve = own_curve(runner, steps, seconds, each=each)
    batches = batches[: len(curve)]
    if len(batches) < 5 or not last[0]:
        return None
    deadline = Deadline(seconds)
    before: list[float] = []
    after: list[float] = []
    for batch in batches:
        if deadline.passed():
            break
        where = [((("name", n),), v) for n, v in batch.items()]
        try:
            first = runner.loss(where)
            then = runner.loss_of(runner.run([*where, *last[0]]))
        except Exception:  # noqa: BLE001 - this batch cannot be read again on its own
            continue
        before.append(first)
        after.append(math.inf if then is None else then)
    if len(before) < 5 or max(before) - min(before) <= 1e-12 * max(abs(max(before)), 1e-12):
        return None  # every pass on the same data: its own curve says it
    return sum(before) / len(before), sum(after) / len(after)


def moving(runner: Runner, moved: list[Any], steps: int = 20, seconds: float = SECONDS) -> set[Any]:
    """The paths of `moved` whose parameters the loop's own first `steps` passes change, from the step's
    state on, other than by a factor alone (a weight decay's `W *= 1 - lr * wd`): a gradient that is zero
    in every entry at the replayed pass, and not at every pass. A per-sample loop's pass on an input of
    zeros (XOR's `[0, 0]`) gives the first layer's weights no gradient; the next sample does."""
    paths = list(dict.fromkeys(m.path for m in moved if m.path is not None))
    if not paths:
        return set()
    start: dict[Any, np.ndarray] = {}
    found: set[Any] = set()

    def each(namespace: dict[str, Any]) -> None:
        for p in paths:
            if p in found:
                continue
            try:
                value = np.array(resolve(namespace, p), dtype=np.float64)
            except Exception:  # noqa: BLE001 - a path the pass has not bound, or not numbers
                continue
            if p not in start:
                start[p] = value
            elif _changed(start[p], value):
                found.add(p)

    own_curve(runner, steps, seconds, each=each, until=lambda _losses: len(found) == len(paths))
    return found


def _changed(before: np.ndarray, after: np.ndarray) -> bool:
    """`after` is not `before` times one number (nor the same array); for one number, not the same."""
    if before.shape != after.shape or not (np.all(np.isfinite(before)) and np.all(np.isfinite(after))):
        return before.shape != after.shape
    if before.size == 1:
        return not np.array_equal(before, after)  # one number is always a multiple of another
    norm = float(np.dot(before.ravel(), before.ravel()))
    if norm == 0.0:
        return bool(np.any(after))
    factor = float(np.dot(before.ravel(), after.ravel())) / norm
    return float(np.linalg.norm(after - factor * before)) > 1e-9 * math.sqrt(norm)


def steady(pair: tuple[float, float] | None) -> bool:
    """The loss over the data the passes walk (`walked`) is a number and does not rise by 10 %."""
    return pair is not None and all(math.isfinite(v) for v in pair) and pair[1] <= 1.1 * pair[0]


CLIMB = 10.0  # the loss's last values this many times its first: no overshoot of a well-set step does that


def rises(curve: list[float], terms: bool = False) -> bool:
    """The loss climbs or stops being a number over the replayed steps (mean of the last fifth
    above the first value by 10 %). With `terms`, each value is one pass's term of a sum over the
    samples the passes take in turn (`total += err ** 2`): two samples differ by more than a step
    changes either, so only a climb by `CLIMB` times, first fifth to last, counts."""
    if len(curve) < 5:
        return False
    if not all(math.isfinite(v) for v in curve):
        return True
    if terms:
        return climbs_far(curve, terms)
    tail = curve[-max(2, len(curve) // 5):]
    return sum(tail) / len(tail) > 1.1 * curve[0]


def climbs_far(curve: list[float], terms: bool = False) -> bool:
    """The loss ends `CLIMB` times above where it starts, a number throughout; with `terms` (see
    `rises`), the mean of the last fifth against the mean of the first."""
    if len(curve) < 5 or not all(math.isfinite(v) for v in curve):
        return False
    fifth = max(2, len(curve) // 5)
    first, last = (sum(curve[:fifth]) / fifth, sum(curve[-fifth:]) / fifth) if terms else (curve[0], curve[-1])
    return first > 0 and last > CLIMB * first


def stalls(curve: list[float], terms: bool = False) -> bool:
    """The loss hardly moves over the replayed steps (by less than 1 % of its first value), and stays a
    number; never for one pass's terms of a sum over samples (see `rises`)."""
    if terms or len(curve) < 10 or not all(math.isfinite(v) for v in curve):
        return False
    return max(abs(v - curve[0]) for v in curve) < 0.01 * max(abs(curve[0]), 1e-12)


NOISY_STEPS = 20  # a curve of mini-batch losses this long at the least is judged through its noise
SPREAD = 0.25  # ... when its values lie within this share of their mean: batches' noise, not a rate that overshoots


def stalls_through_noise(curve: list[float], terms: bool = False) -> bool:
    """A mini-batch loss that hardly moves, its batches' noise aside: each pass's loss is over a batch of
    its own, so the values scatter by a few percent (`stalls` sees no loss within 1 % of its first), while
    the mean of the curve's second half is within 1 % of its first half's. Never for one pass's terms of a
    sum over samples (see `rises`), nor for a curve that scatters by more than `SPREAD` of its mean."""
    if terms or len(curve) < NOISY_STEPS or not all(math.isfinite(v) for v in curve):
        return False
    half = len(curve) // 2
    first, second = sum(curve[:half]) / half, sum(curve[half:]) / (len(curve) - half)
    if first <= 0 or max(curve) - min(curve) > SPREAD * first:
        return False
    return abs(second - first) < 0.01 * first


def falls(curve: list[float]) -> bool:
    """The loss's last fifth is below 90 % of where it began."""
    return Tail().falls(curve)


class Tail:
    """The mean of a growing curve's last fifth (two values at least), every value a number, as
    `falls` and `fitted` judge a curve: kept as running sums, so that asking after every pass of a
    run (`own_curve`'s `until`) costs the same at its 10,000th pass as at its first. Summing the
    tail afresh made such a run quadratic: three of the four seconds of a 10,000-pass XOR run, which
    then ran out of time unjudged."""

    def __init__(self) -> None:
        self._sums = [0.0]  # the sums of the curve's first 0, 1, 2, ... values
        self._finite = True

    def mean(self, curve: list[float]) -> float | None:
        """The mean of `curve`'s last fifth; None with fewer than five values or one not a number.
        `curve` must be the curve of the calls before, grown."""
        sums = self._sums
        for value in curve[len(sums) - 1 :]:
            self._finite = self._finite and math.isfinite(value)
            sums.append(sums[-1] + value)
        if len(curve) < 5 or not self._finite:
            return None
        last = max(2, len(curve) // 5)
        return (sums[len(curve)] - sums[len(curve) - last]) / last

    def falls(self, curve: list[float]) -> bool:
        mean = self.mean(curve)
        return mean is not None and mean < 0.9 * curve[0]

    def fitted(self, curve: list[float]) -> bool:
        mean = self.mean(curve)
        return mean is not None and mean <= FITTED * abs(curve[0])


CORRECTED_RUNS = 4000  # replays the curve with correct gradients may cost (two per parameter element per step)


def corrected_curve(runner: Runner, moved: list[Any], steps: int = STEPS, seconds: float = SECONDS, runs: int = CORRECTED_RUNS) -> list[float]:
    """The same step, from the same state, with every gradient replaced by the true gradient of the
    program's loss (central differences, element by element) and each parameter moved by the
    program's own rate: what the program would do with its gradients right. [] when it would cost
    more than `runs` replays for ten steps, when an update is adaptive (Adagrad, Adam) or has no
    parameter to move, or when the loss stops being a number.

    Each step replays the program's step from its state with the parameters moved, so it trains on
    the batch the program drew at that step (its own curve draws a new batch at every pass)."""
    if not moved or any(m.path is None or m.site.adaptive for m in moved):
        return []
    paths = list(dict.fromkeys(m.path for m in moved))
    rates = {m.path: (m.rate if m.rate is not None else 1.0) for m in moved}
    current = {path: np.array(runner.value(path), dtype=np.float64, copy=True) for path in paths}
    size = sum(v.size for v in current.values())
    steps = min(steps, runs // max(1, 2 * size + 1))
    if steps < 10:
        return []
    deadline = Deadline(seconds)
    curve: list[float] = []
    for _ in range(steps):
        changes = [(p, _like(runner, p, v)) for p, v in current.items()]
        loss = runner.loss(changes)
        curve.append(runner.sign * loss)
        if not math.isfinite(loss) or deadline.passed():
            break
        gradients = {}
        for path, value in current.items():
            gradient = np.zeros_like(value)
            h = 1e-6 * max(float(np.sqrt(np.mean(value * value))) if value.size else 0.0, 1e-2)
            for index in np.ndindex(value.shape):
                moved_value = value.copy()
                moved_value[index] += h
                up = runner.loss([(q, _like(runner, q, moved_value if q == path else v)) for q, v in current.items()])
                moved_value[index] -= 2 * h
                down = runner.loss([(q, _like(runner, q, moved_value if q == path else v)) for q, v in current.items()])
                gradient[index] = (up - down) / (2 * h)
            gradients[path] = gradient
        for path, gradient in gradients.items():
            current[path] = np.array(current[path] - rates[path] * gradient, dtype=np.float64)  # 0-d stays an array
    return curve


def _like(runner: Runner, path: Any, value: np.ndarray) -> Any:
    """`value` in the form the program keeps the parameter in (a Python float for a scalar weight)."""
    original = runner.state_value(path)
    if isinstance(original, np.ndarray):
        return value.astype(original.dtype, copy=False).reshape(original.shape)
    return float(value.reshape(()))


@dataclass
class DeadUnits:
    """A ReLU output of the loop (`a1`, line 12) whose units output 0 for every sample of the batch."""

    name: str
    line: int
    units: int
    dead_first: int  # in the first replayed pass
    dead_last: int  # in the last


def dead_units(name: str, line: int, first: np.ndarray, last: np.ndarray, widths: set[int]) -> DeadUnits | None:
    """How many units of a ReLU output are 0 for the whole batch, first and last; None when the
    array has no batch axis of at least `MIN_BATCH` samples (one sample per step proves nothing).

    `widths` are the sizes of the parameters' axes: the units' axis is the one among them (32 of
    `a1 (200, 32)` beside `W1 (5, 32)`; 16 of `A1 (16, 120)` beside `W1 (16, 4)`), the batch the other;
    samples in rows when both or neither are."""
    if last.ndim != 2 or first.shape != last.shape or min(last.shape) == 1:
        return None  # one sample (a column vector `(30, 1)`, a row `(1, 30)`): a unit off for it is not dead
    rows, columns = (size in widths for size in last.shape)
    axis = 1 if rows and not columns else 0
    if last.shape[axis] < MIN_BATCH:
        return None

    def dead(a: np.ndarray) -> int:
        return int(np.count_nonzero(np.all(a <= 0, axis=axis)))

    return DeadUnits(name, line, last.shape[1 - axis], dead(first), dead(last))


MIN_BATCH = 8


TINY_SAMPLES = OVERFIT_SAMPLES  # the samples of its batch the program's own step is asked to fit, as the network's tiny batch has
TINY_STEPS = 2000  # at least; as many as the loop itself makes, up to `TINY_MAX_STEPS`, when it says how many
TINY_MAX_STEPS = 20_000
TINY_SECONDS = 4.0
TINY_STRETCH = 3.0  # ... or up to three times that, when the passes it is given all fit in it (`own_curve(stretch=...)`)
TINY_MIN_STEPS = 200  # fewer passes in the time given prove nothing
FITTED = FITTED_RATIO  # fitted: the loss's last fifth below this share of its first value, as for the network's tiny batch
LARGE_VALUES = 20.0  # data reaching this magnitude is named beside a batch that cannot be fitted
RAW_TARGETS = 100.0  # regression targets beyond this in size, never standardised (a price, a count)
PENALTY_SHARE = 1 / 3  # an L2 penalty left on holding this share of a tiny batch's last loss: the penalty sets its floor
MEAN_ONLY = 0.5  # a tiny batch's loss ending above this share of what is left once the targets' mean is fitted has fitted only that


@dataclass
class Tiny:
    """The program's own step repeated on a few samples of its batch (`tiny_batch`)."""

    losses: list[float]
    samples: int  # how many samples the batch was cut to
    of: int  # how many it held
    cut: tuple[str, ...]  # the names of the arrays cut
    largest: tuple[str, float] | None = None  # the cut array with the largest values, when they reach `LARGE_VALUES`
    faster: tuple[str, float, list[float]] | None = None  # (rate's name, rate, losses): a larger learning rate that fits them
    larger_init: Any = None  # init_scale.LargerInit: the weight matrices drawn at the usual size fit them, from weights too small
    asked: int = 0  # the passes it was given; fewer ran when its time ran out
    alike: tuple[str, str, int, int] | None = None  # (inputs, targets, distinct input rows, samples): rows repeated with other targets
    soft: str | None = None  # an array of soft targets the loop reads (`_soft_targets`), or the strength of a label smoothing the pass writes out (`_smoothed`): its loss has a floor above 0
    noise: int | None = None  # the line of noise the pass draws for its loss (`static.noise`): a random model's loss has no floor of 0
    raw_targets: tuple[str, float, float] | None = None  # (name, largest, share of their mean square that is not their mean): `_raw_targets`
    undecayed: tuple[str, ...] = ()  # the weight-decay settings set to 0 for these passes (`reg`, `net.weight_decay`)
    penalty: float | None = None  # what an L2 penalty left at its strength adds to the last loss (`_penalty_left`)
    agreeing: str | None = None  # a cut array of context positions (`contexts[:, 0]`, `contexts[:, 1]`) with whose positions made one the passes fit
    own_fit: list[float] | None = None  # the loop's own passes on all its data, when they fit it (`fits_in_its_own_passes`): no set-up stops it

    @property
    def judged(self) -> bool:
        """Every pass it was given ran (or it fitted), every loss a number, and the loss is not on its
        way to being fitted: the fall of the run's second half, once more, would not take it below
        `FITTED` of its start. Not against soft targets: a cross-entropy against a distribution is at
        least that distribution's entropy, so no fit takes it towards 0. Nor when the pass draws noise
        for its loss (a VAE's sampled code and its KL term, dropout's masks): such a loss is random by
        design and its floor on a few samples is not 0."""
        curve = self.losses
        if len(curve) < TINY_MIN_STEPS or not all(math.isfinite(v) for v in curve) or curve[0] <= 0 or self.soft is not None:
            return False
        if self.noise is not None or self.agreeing is not None:
            return False  # `agreeing`: positions holding different words put a floor above 0 under a loss summed over them
        if len(curve) < self.asked - 1 and not fitted(curve):
            return False  # out of time before the passes it was given: where it would stop is not known
        if self.mean_only:
            return True
        tenth = max(2, len(curve) // 10)
        middle = curve[len(curve) // 2 : len(curve) // 2 + tenth]
        end, half = sum(curve[-tenth:]) / tenth, sum(middle) / len(middle)
        return fitted(curve) or end - (half - end) > FITTED * curve[0]

    @property
    def fitted(self) -> bool:
        """Fitted: the loss, or the data's part of it once an L2 penalty left on is taken away (a floor no fit
        goes below), ends below `FITTED` of where it began."""
        return (fitted(self.losses) or self.data_fitted) and not self.mean_only

    @property
    def data_fitted(self) -> bool:
        """The penalty left on explains where the loss stops: the last loss less the penalty's value there is
        below `FITTED` of the first loss, or the penalty holds `PENALTY_SHARE` of the last loss or more (the
        weights have grown until their penalty balances the data's pull; a network stuck for another reason
        leaves them where they were, or lets the penalty shrink them). A penalty estimated above the whole
        loss is not believed."""
        if self.penalty is None or not self.losses or not math.isfinite(self.losses[-1]) or self.losses[0] <= 0:
            return False
        end = self.losses[-1]
        return self.penalty <= end and (end - self.penalty <= FITTED * self.losses[0] or self.penalty >= PENALTY_SHARE * end)

    @property
    def mean_only(self) -> bool:
        """The loss fell by no more than the targets' mean accounts for: regression targets on a raw scale
        (prices in dollars) whose mean square is mostly their mean, which a bias learns while the rest of
        the network stays stuck. From a start near 0, a loss of squares that has fitted their mean alone
        ends at the share of their mean square that is spread about the mean; one that fits them goes
        well below it."""
        if self.raw_targets is None or not self.losses or self.losses[0] <= 0:
            return False
        tenth = max(2, len(self.losses) // 10)
        end = sum(self.losses[-tenth:]) / tenth
        return end >= MEAN_ONLY * self.raw_targets[2] * self.losses[0]


def fitted(curve: list[float]) -> bool:
    """The loss's last fifth is below `FITTED` of where it began."""
    return Tail().fitted(curve)


def tiny_batch(
    runner: Runner, moved: list[Any], steps: int = TINY_STEPS, seconds: float = TINY_SECONDS, rebound: dict[str, Any] | None = None
) -> Tiny | None:
    """The program's own step, update rule and learning rate, repeated on `TINY_SAMPLES` samples of
    its data: any network with right gradients and a workable rate drives that loss towards 0. It is
    given at least as many passes as the program's loop makes (`for i in range(10000)`): a sigmoid
    network that fits XOR slowly fits it within its own training.

    The samples are taken from the arrays the loop's body reads whose sample axis (the first, or the
    last for data in columns, `X.shape == (2, 400)`) has a length two of them share and no parameter
    has, and repeated to that length: the arrays keep their shapes, so a count read before the loop
    (`m = X.shape[1]` in `dW = dZ @ A.T / m`, `np.random.choice(n_train, 32)`) stays right and a
    gradient summed over the samples keeps its size. A weight decay the loop reads (`reg`, `lambd`:
    `training.run.DECAY`) is set to 0, as the network's tiny batch has it, and so is the strength of an
    L2 term a gradient adds (`static.penalty_strength.decay_terms`: `reg` of `dW2 = ... + reg * W2`),
    a name of the state or an attribute of an object it holds (`net.weight_decay` of `TwoLayerNet(...,
    weight_decay=0.05)`): the penalty keeps the weights from growing, so it sets a floor under the
    loss that no fit of a few samples goes below. A penalty it cannot reach (a default argument) is
    weighed instead (`_penalty_left`, `Tiny.data_fitted`). Each pass is the same pass
    (`own_curve(pinned=...)`): the loop's variables, the numbers the body reads (a learning rate a
    schedule would lower, a counter) and the random generators are put back, so a minibatch drawn
    inside it draws from those samples the same way every time. `rebound` rebinds names of the state
    besides (`{"lr": 0.5}`). None when there is no such axis, no loss, or no loop.
    """
    from collections import Counter

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.noise import drawn_noise
    from backprop_doctor.static.steps import reads

    step = runner.step
    loop = step.loop
    if not isinstance(loop, (ast.For, ast.While)) or runner.loss_site is None or step.loopless:
        return None
    values = runner.state.values
    read: set[str] = set()  # read by the body before it binds them: what a pass starts from
    bound: set[str] = set()
    for stmt in loop.body:
        read |= reads(stmt) - bound
        bound |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    parameters = {id(runner.state_value(m.path)) for m in moved if m.path is not None}
    widths = {int(n) for m in moved for n in np.shape(m.value)}
    data = {
        name: value for name, value in values.items()
        if name in read and isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.ndim >= 1 and id(value) not in parameters
    }  # fmt: skip
    axes: Counter[tuple[int, int]] = Counter()
    for value in data.values():
        axes[(0, value.shape[0])] += 1
        if value.ndim >= 2:
            axes[(value.ndim - 1, value.shape[-1])] += 1
    shared = [(count, axis == 0, axis, n) for (axis, n), count in axes.items() if count >= 2 and n > 1 and n not in widths]
    if not shared:
        return None
    _, _, axis, size = max(shared)
    samples = min(size, TINY_SAMPLES)  # a data set of four samples (XOR) is fitted whole
    keep = np.resize(np.linspace(0, size - 1, samples).round().astype(int), size)  # 0, 50, 100, 149, 199, 0, 50, ...
    cut = {name: np.take(value, keep, axis=axis) for name, value in data.items() if value.ndim > axis and value.shape[axis] == size} if samples < size else {}
    from backprop_doctor.static.penalty_strength import decay_terms
    from backprop_doctor.training.run import decay_strengths

    terms = decay_terms(source_tree(runner.path)[1])
    penalties = {term.name for term in terms if term.name}  # the settings a gradient's L2 term is scaled by (`reg * W2`)
    undecayed = {name: 0.0 for name in decay_strengths(values) if name in read and type(values[name]) is float}
    undecayed.update({name: 0.0 for name in penalties if _strength(values.get(name)) and name not in (rebound or {})})
    held = _held_strengths(values, penalties)  # `net.weight_decay`: an object's own setting, which no name rebinds
    changed = {**cut, **undecayed, **(rebound or {})}
    pinned: dict[str, Any] = {name: changed.get(name, value) for name, value in values.items() if name in read and type(value) in (int, float)}
    if isinstance(loop, ast.For):
        for name in {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)} & values.keys():
            pinned[name] = changed.get(name, values[name])
    for name, value in values.items():
        if isinstance(value, (np.random.Generator, np.random.RandomState)):
            pinned[name] = value  # copied before each pass: every pass draws the same numbers
    steps = max(steps, min(_planned(runner, loop), TINY_MAX_STEPS))
    tail = Tail()
    whole = {n: v for n, v in data.items() if v.ndim > axis and v.shape[axis] == size}
    raw = _raw_targets(cut or whole)

    def done(seen: list[float]) -> bool:  # fitted, and below what fitting the targets' mean alone leaves
        return tail.fitted(seen) and len(seen) >= TINY_MIN_STEPS and not Tiny(seen, samples, size, (), raw_targets=raw).mean_only

    last: list[dict[str, Any]] = [{}]  # the namespace of the passes, at the end: the weights they leave

    def undecay(namespace: dict[str, Any]) -> None:  # as each pass starts: the object's setting at 0 again
        last[0] = namespace
        for name, attribute in held:
            holder = namespace.get(name)
            with contextlib.suppress(Exception):  # an object that will not take it keeps its penalty
                setattr(holder, attribute, type(getattr(holder, attribute))(0))

    losses = own_curve(runner, steps, seconds, names=changed, pinned=pinned, until=done, each=undecay, stretch=TINY_STRETCH)
    agreeing = None
    if losses and not fitted(losses):
        for name, value in cut.items():
            if value.ndim == 3 and 2 <= value.shape[1] <= MAX_POSITIONS and _read_by_position(runner, loop, name):
                # skip-gram's `model.forward(contexts, target)` sums a loss per context position over the same scores:
                # with one value at every position that sum has no floor above 0, and a right step fits it
                same = {**changed, name: np.repeat(value[:, :1], value.shape[1], axis=1)}
                if fitted(own_curve(runner, steps, seconds, names=same, pinned=pinned, until=done, each=undecay, stretch=TINY_STRETCH)):
                    agreeing = name
                break
    zeroed = {*undecayed, *(attribute for _, attribute in held)}
    penalty = _penalty_left(runner, moved, [t for t in terms if t.name not in zeroed], last[0]) if terms and losses else None
    floats = [
        (name, float(np.max(np.abs(value))))
        for name, value in (cut or {n: v for n, v in data.items() if v.ndim > axis and v.shape[axis] == size}).items()
        if value.size and not _indices(data.get(name, value))
    ]
    largest = max(floats, key=lambda nv: nv[1], default=None)
    return Tiny(
        losses, samples, size, tuple(cut), largest if largest is not None and largest[1] >= LARGE_VALUES else None, asked=steps,
        alike=_alike_rows(whole, axis), soft=next((n for n, v in whole.items() if _soft_targets(v, axis)), None) or _smoothed(runner.path),
        noise=drawn_noise(source_tree(runner.path)[1], loop), raw_targets=raw,
        undecayed=(*sorted(n for n in undecayed if n not in (rebound or {})), *(f"{name}.{attribute}" for name, attribute in held)),
        penalty=penalty, agreeing=agreeing,
    )


MAX_POSITIONS = 8  # context positions of a word window, at most


def _read_by_position(runner: Runner, loop: ast.stmt, name: str) -> bool:
    """Whether the loop hands `name` first to a function or method that reads fixed positions of it
    (`model.forward(around, centre)` over `contexts[:, 0]`, `contexts[:, 1]`: `static.positions`)."""
    import inspect
    import textwrap

    from backprop_doctor.static.positions import constant_positions

    namespace = {**(runner.namespace or {}), **runner.state.values}
    for node in ast.walk(loop):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == name):
            continue
        try:
            function = eval(compiled(ast.unparse(node.func)), dict(namespace))  # noqa: S307 - a name or attribute of the user's own
            function = getattr(function, "__func__", function)
            tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
        except Exception:  # noqa: BLE001 - not a function of the user's with a source to read
            continue
        if isinstance(tree, (ast.FunctionDef, ast.AsyncFunctionDef)) and constant_positions(tree):
            return True
    return False


def _penalty_left(runner: Runner, moved: list[Any], terms: list[Any], namespace: dict[str, Any]) -> float | None:
    """The L2 penalty's share of the loss the passes end at, ½·λ·c·Σp² over the parameters its gradient
    terms scale (`dW2 = ... + c * λ * W2`, `decay_terms`), at the strength the passes ran at: a setting
    `tiny_batch` could not set to 0 (a default argument, a global of a function the loop calls from
    inside a function of its own). The replay found the gradients right, so `c·λ·p` is the gradient of
    the loss's penalty and ½·c·λ·Σp² its value. None without such a term, or a strength it can read."""
    from backprop_doctor.replay.state import describe
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.penalty_strength import parameter_name, setting_site

    pulls: dict[str, float] = {}
    for term in terms:
        strength = _strength_held(namespace, term.name)
        if strength is None and (site := setting_site(source_tree(runner.path)[1], term.name)) is not None:
            strength = site.value
        if strength is not None and strength > 0:
            pulls.setdefault(parameter_name(term.parameter), strength * term.factor)
    total, seen = 0.0, set()
    for m in moved:
        name = describe(m.path) if m.path is not None else None
        if name is None or name in seen or parameter_name(name) not in pulls:
            continue
        seen.add(name)
        try:
            value = resolve(namespace, m.path)
        except Exception:  # noqa: BLE001 - a path the passes' namespace does not hold
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and np.all(np.isfinite(value)):
            total += 0.5 * pulls[parameter_name(name)] * float(np.sum(np.square(value, dtype=np.float64)))
    return total if total > 0 else None


def _strength_held(namespace: dict[str, Any], name: str) -> float | None:
    """The setting `name` as the passes read it: a name of theirs, else an attribute of an object they hold."""
    if _strength(namespace.get(name)):
        return float(namespace[name])
    for value in list(namespace.values()):
        attributes = getattr(value, "__dict__", None) if not isinstance(value, (type, np.ndarray)) else None
        if isinstance(attributes, dict) and _strength(attributes.get(name)):
            return float(attributes[name])
    return None


def _strength(value: Any) -> bool:
    """A penalty's strength as a program holds it: a positive number (not a flag)."""
    return isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _held_strengths(values: dict[str, Any], penalties: set[str]) -> list[tuple[str, str]]:
    """(name, attribute) of the penalty settings (`penalties`) the objects of the state hold as attributes of
    their own (`net.weight_decay_lambda`, set by `TwoLayerNet(..., weight_decay=0.05)`), not a module's,
    a class's or a function's."""
    import types

    found: list[tuple[str, str]] = []
    for name, value in values.items():
        if isinstance(value, (types.ModuleType, type, types.FunctionType, types.MethodType, np.ndarray)):
            continue
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            found += [(name, attribute) for attribute in sorted(penalties) if _strength(attributes.get(attribute))]
    return found


_TARGET_NAME = re.compile(r"(?i)y\w*|t|ts|targets?\w*|prices?\w*|values?")


def _raw_targets(arrays: dict[str, np.ndarray]) -> tuple[str, float, float] | None:
    """(name, largest, spread share) of the regression targets among the arrays a tiny batch was cut from:
    an array named as targets, of real numbers (not labels: some not whole), reaching `RAW_TARGETS`;
    the share is the part of their mean square that is spread about their mean, Σ(y − ȳ)² / Σy²."""
    for name, value in arrays.items():
        if not _TARGET_NAME.fullmatch(name) or value.dtype.kind != "f" or value.size < 2 or not np.all(np.isfinite(value)):
            continue
        largest = float(np.max(np.abs(value)))
        if largest < RAW_TARGETS or np.all(value == np.round(value)):
            continue
        square = float(np.sum(value.astype(np.float64) ** 2))
        spread = float(np.sum((value - value.mean()) ** 2))
        if square > 0:
            return name, largest, spread / square
    return None


def _soft_targets(value: np.ndarray, axis: int) -> bool:
    """Whether a data array holds soft targets: each sample a probability distribution over two or more
    classes (entries in [0, 1] that sum to 1), some of them not one-hot (a teacher's softened outputs,
    smoothed labels)."""
    if value.ndim != 2 or value.dtype.kind != "f" or value.shape[1 - axis] < 2 or not np.all(np.isfinite(value)):
        return False
    if value.min() < 0 or value.max() > 1 or not np.allclose(value.sum(axis=1 - axis), 1.0, atol=1e-6):
        return False
    return bool(np.any(value.max(axis=1 - axis) < 0.99))


def _smoothed(path: str) -> str | None:
    """The strength of the label smoothing the program writes out (`static.smoothing`): the soft targets it
    makes inside its pass, from its integer labels, which no data array it reads holds."""
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.smoothing import smoothed_targets

    found = smoothed_targets(source_tree(path)[1])
    return None if found is None else found[0]


def _indices(value: np.ndarray) -> bool:
    """Whether an array the loop reads is one of sample indices, not data (`perm = np.random.permutation(n)`,
    `idx = np.arange(n)`): whole numbers, one axis, each a different one, none negative."""
    return value.ndim == 1 and value.dtype.kind in "iu" and value.size > 1 and int(value.min()) >= 0 and np.unique(value).size == value.size


ALIKE_SHARE = 0.1  # inputs with at most this share of distinct rows, some repeated with other targets, tell nothing apart


def _alike_rows(data: dict[str, np.ndarray], axis: int) -> tuple[str, str, int, int] | None:
    """(inputs, targets, distinct rows, samples) when the step's inputs (the float array of most features,
    one-hot targets aside when another is there) have few distinct samples (`ALIKE_SHARE`) and some
    sample repeats another's inputs with a different target: every feature standardised away
    (`X.std(axis=1)` over two features leaves ±1), a column copied over the others. Nothing in such
    inputs tells those samples apart."""
    arrays = {n: np.moveaxis(v, axis, 0).reshape(v.shape[axis], -1) for n, v in data.items()}
    inputs = [n for n, v in arrays.items() if data[n].dtype.kind == "f" and v.shape[1] >= 2]
    inputs = [n for n in inputs if not _one_hot(arrays[n])] or inputs  # `T = np.eye(3)[labels]`: the targets, of more columns
    if not inputs:
        return None
    x = max(inputs, key=lambda n: arrays[n].shape[1])
    rows = np.round(arrays[x], 6)
    _, group = np.unique(rows, axis=0, return_inverse=True)
    group = np.ravel(group)
    distinct, size = int(group.max()) + 1, len(group)
    if size < 20 or distinct > ALIKE_SHARE * size:
        return None
    for y, targets in arrays.items():
        if y == x:
            continue
        for g in range(distinct):
            members = targets[group == g]
            if len(members) > 1 and np.any(members != members[0]):
                return x, y, distinct, size
    return None


def _one_hot(rows: np.ndarray) -> bool:
    """Every row (one per sample) all 0 but for a single 1: one-hot class targets."""
    return bool(rows.size) and bool(np.all((rows == 0) | (rows == 1))) and bool(np.all(rows.sum(axis=1) == 1))


LONG_SECONDS = 3.0  # the time a loss that stalls over `STEPS` passes is given to fall over the loop's own passes


def falls_in_its_own_passes(runner: Runner) -> bool:
    """Whether a loss that hardly moves over the first `STEPS` passes falls over as many passes as the
    program's loop makes (`for step in range(2000)`, up to `TINY_MAX_STEPS`, within `LONG_SECONDS`):
    a slow start the program's own training gets past, which no larger learning rate is needed for.
    False when the loop does not say how many passes it makes, or makes no more than `STEPS`."""
    loop = runner.step.loop
    if not isinstance(loop, (ast.For, ast.While)):
        return False
    planned = min(_planned(runner, loop), TINY_MAX_STEPS)
    if planned <= STEPS:
        return False
    tail = Tail()
    return falls(own_curve(runner, planned, LONG_SECONDS, until=lambda seen: tail.falls(seen) and len(seen) > STEPS))


def fits_in_its_own_passes(runner: Runner, seconds: float = LONG_SECONDS) -> list[float] | None:
    """The loss of the program's own loop over as many passes as it makes (`for epoch in range(400)`, up
    to `TINY_MAX_STEPS`, within `seconds`), on its own data and settings, when it ends below `FITTED` of
    where it began: a network whose own training fits its data (a slow sigmoid net that leaves a plateau
    after a few hundred passes) is not stuck, whatever a few of its samples repeated on their own do (the
    same net may settle in a local minimum of five XOR points). None when it does not, or when the loop
    does not say how many passes it makes."""
    loop = runner.step.loop
    if not isinstance(loop, (ast.For, ast.While)):
        return None
    planned = min(_planned(runner, loop), TINY_MAX_STEPS)
    if planned <= STEPS:
        return None
    tail = Tail()
    curve = own_curve(runner, planned, seconds, until=lambda seen: tail.fitted(seen) and len(seen) >= TINY_MIN_STEPS, stretch=TINY_STRETCH)
    return curve if len(curve) >= TINY_MIN_STEPS and fitted(curve) else None


def _planned(runner: Runner, loop: ast.For | ast.While) -> int:
    """How many passes the loop makes, when its `for` runs over something with a length (`range(epochs)`)."""
    if not isinstance(loop, ast.For):
        return 0
    ranged = isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"
    if not (ranged or isinstance(loop.iter, (ast.Name, ast.Attribute))):
        return 0  # a call of the program's own (a loader, a batch generator) is not made again only to count
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return len(eval(compile(ast.Expression(loop.iter), runner.path, "eval"), runner.fresh()))  # noqa: S307 - the user's own expression
    except Exception:  # noqa: BLE001 - a generator, a name this state has not bound
        return 0
