"""The training-step replay: run one step of the user's own program again, from its own state.

`static.steps` finds the training loop and splits one pass of it; `capture`
runs the program up to its first update and keeps the state; `runner` replays
the step from copies of that state; `gradients` measures every update against
the loss the program computes. `replay_file` does all of it for one file (in the
child process, under the sandbox); `checks/step_gradient_mismatch.py` words the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backprop_doctor.context import SourceFile
from backprop_doctor.observe.record import Record
from backprop_doctor.replay.cache_overwritten import confirm as confirm_overwritten
from backprop_doctor.replay.driver import Driver
from backprop_doctor.replay.gradients import StepResult, replay_step
from backprop_doctor.static.steps import TrainingStep

if TYPE_CHECKING:
    from backprop_doctor.replay.capture import Capture
    from backprop_doctor.replay.standin import Loader


def replay_file(
    source: SourceFile,
    budget: float = 10.0,
    seed: int = 0,
    curve: bool = False,
    measure: bool = True,
    namespace: dict | None = None,
    definitions: dict | None = None,
    observed: Record | None = None,
) -> list[StepResult]:
    """Replay the first step of each training loop of `source` (at most two loops).

    `observed`: the observed run of the same program (`observe.run`); a loop it ran to its end, or
    for the whole run budget, without reaching is not run for again.

    A file with no code that runs its training (`namespace`: its loaded definitions) has its first
    loop inside a method or function driven on a small synthetic batch (`replay.driver`). So has a
    program that stops before its training runs (a data file that is not there: `definitions`, its
    loaded definitions, let the driver build what the loop needs). A program that stops inside its
    own data loader (`observed`) is run again with synthetic data in its place (`replay.standin`)."""
    import os

    from backprop_doctor.observe.run import run_program
    from backprop_doctor.replay.capture import StepCapture

    results = []
    path = os.path.abspath(source.path)
    if namespace is not None:
        return _driven(source, budget, seed, curve, measure, namespace)
    stood_in = _stood_in(source, observed, budget, seed, curve, measure)
    if stood_in:
        return stood_in
    for step in source.facts.training_steps[:2]:
        if observed is not None and observed.stopped in _UNREACHED and not step.loopless and step.loop_line not in observed.loops_reached:
            called = _called_instead(source, step, budget, seed, curve, measure, definitions)
            results.append(called or StepResult(step, why=_UNREACHED[observed.stopped]))  # the same program would not reach it now
            continue
        capture = StepCapture(path, step, budget)
        record, _namespace, _output = run_program(source, budget, seed=seed, recorder=capture)
        found = capture.capture
        if found.state is None:
            found.why = {"raised": "the program raised before its training loop ran", **_UNREACHED}.get(record.stopped, _UNREACHED["finished"])
            called = _called_instead(source, step, budget, seed, curve, measure, definitions)
            if called is not None:
                results.append(called)
                continue
        result = confirm_overwritten(found, path, replay_step(found, path, seed=seed, budget=budget, curve=curve, measure=measure), seed, budget)
        results.append(_unzeroed(source, step, result, found, budget, seed) if (later := _later(source, step, result, found.pass_number, budget, seed)) is None else later)
        results[-1] = results[-1] or result
        if found.state is None and record.stopped == "raised" and _data_missing(record) and definitions is not None and step.function is not None:
            driven = _driven(source, budget, seed, curve, measure, definitions, stopped=True)
            for result in driven:
                result.stopped_at = record.error[2] if record.error else None
            if driven:
                return driven
    return results


def _called_instead(
    source: SourceFile, step: TrainingStep, budget: float, seed: int, curve: bool, measure: bool, definitions: dict | None
) -> StepResult | None:
    """A loop the program never runs (its data are not here) around one call of a method that makes a whole
    step (`step.called`: `network.train(X, y)`): that method's step, captured where the program itself calls
    it (a unit test's `network.train(inputs, targets)`), else driven on a synthetic batch after the file's
    definitions; None when neither reaches an update."""
    import os

    from backprop_doctor.observe.run import run_program
    from backprop_doctor.replay.capture import StepCapture
    from backprop_doctor.replay.driver import candidates

    if step.called is None:
        return None
    path = os.path.abspath(source.path)
    capture = StepCapture(path, step.called, budget)
    run_program(source, budget, seed=seed, recorder=capture)
    if capture.capture.state is not None and capture.capture.moved:
        result = replay_step(capture.capture, path, seed=seed, budget=budget, curve=curve, measure=measure)
        if result.parameters or result.non_finite is not None:
            return result
    if definitions is None:
        return None
    best = _best(source, step.called, candidates(source, step.called, definitions, definitions=True), budget, seed, curve, measure)
    return best[0] if best is not None else None


def _later(source: SourceFile, step: TrainingStep, result: StepResult, first: int, budget: float, seed: int) -> StepResult | None:
    """The step measured again at a later pass, when every gradient was right at the second pass yet
    the program's loss climbs or stops being a number: a wrong derivative can hide while the weights
    are small (`1 - Z1 ** 2` for tanh's slope, at the course's 0.01 initialisation), and a smaller
    rate that only slows the climb down says nothing against it. The state is taken at the last pass,
    in the first half of the finite curve, before the loss has climbed past 1.5 times its first value:
    the weights have grown, and nothing yet clips or saturates. Returned only when a gradient is wrong
    there; its curve is the first measurement's."""
    import math
    import os

    from backprop_doctor.observe.run import run_program
    from backprop_doctor.replay.capture import StepCapture
    from backprop_doctor.replay.curve import rises

    if not result.parameters or result.wrong or not result.curve or result.maximised:
        return None
    if result.non_finite is None and (not rises(result.curve, result.terms) or result.steady):
        return None
    finite = next((i for i, v in enumerate(result.curve) if not math.isfinite(v)), len(result.curve))
    if result.non_finite is not None:
        finite = min(finite, result.non_finite.step)
    if finite < 4:
        return None  # no pass between the first and the last finite one
    # a pass before the loss has climbed at all (to within half the first value): further on, what makes a
    # right gradient measure wrong is everywhere (clipped probabilities, saturated units, guards that bite)
    bound = 1.5 * abs(result.curve[0])
    sane = 0
    for i in range(1, finite // 2 + 1):
        if not abs(result.curve[i]) <= bound:
            break
        sane = i
    if sane == 0:
        return None
    at = first + sane
    capture = StepCapture(os.path.abspath(source.path), step, budget, at_pass=at)
    run_program(source, budget, seed=seed, recorder=capture)
    found = capture.capture
    if found.state is None or not found.moved or found.pass_number != at:
        return None
    later = replay_step(found, os.path.abspath(source.path), seed=seed, budget=budget, curve=False, measure=True)
    if not later.wrong:
        return None
    later.curve, later.non_finite, later.later_pass = result.curve, result.non_finite, at
    return later


UNZEROED_AHEAD = 4  # passes after the first measured one where a step with zero rows is taken again, at the earliest
UNZEROED_FURTHER = 256  # passes more it may wait for one whose every row has left zero


def _unzeroed(source: SourceFile, step: TrainingStep, result: StepResult, found: Capture, budget: float, seed: int) -> StepResult | None:
    """The step measured again at a later pass, when every gradient was right at the second pass while
    some row it moves (`W_out[neg]`, a row of a matrix the loop updates row by row, beside rows that are
    not zero) was still all zero there: every term of a gradient that multiplies such a row vanishes, so
    a term the backward drops or overwrites (`grad_v = ...` for `grad_v += ...` over the negative samples
    of word2vec) measures right. The state is taken at the first pass, 4 passes on or later, where no
    row the step moves is zero and no row is moved twice (a context word drawn again as a negative: one
    row, two gradients, which the replay measures one by one); returned only when a gradient is wrong
    there, with the first measurement's curve."""
    import os

    from backprop_doctor.observe.run import run_program
    from backprop_doctor.replay.capture import StepCapture

    result.zero_rows = bool(result.parameters) and _zero_rows(found, some_other=True)
    if not result.parameters or result.wrong or result.zero_start or result.maximised or step.loopless or not result.zero_rows:
        return None
    at = found.pass_number + UNZEROED_AHEAD
    capture = StepCapture(os.path.abspath(source.path), step, budget, at_pass=at, accept=_measurable, further=UNZEROED_FURTHER)
    run_program(source, budget, seed=seed, recorder=capture)
    later = capture.capture
    if later.state is None or not later.moved or later.pass_number < at or not _measurable(later):
        return None  # the loop ends (or the budget does) before such a pass
    measured = replay_step(later, os.path.abspath(source.path), seed=seed, budget=budget, curve=False, measure=True)
    if not measured.wrong:
        return None
    measured.curve, measured.non_finite, measured.later_pass = result.curve, result.non_finite, later.pass_number
    return measured


def _measurable(capture: Capture) -> bool:
    """No row the pass moves is zero, and no place is moved by two updates (or twice by one)."""
    paths = [m.path for m in capture.moved if m.path is not None]
    return not _zero_rows(capture) and not capture.repeated and len(set(paths)) == len(paths)


def _zero_rows(capture: Capture, some_other: bool = False) -> bool:
    """Whether a parameter the step moves is a row (an entry) of an array of two axes or more and is zero
    in every entry where the step starts; with `some_other`, while another parameter it moves is not zero."""
    import numpy as np

    from backprop_doctor.replay.state import resolve

    rows, nonzero = False, False
    for moved in capture.moved:
        value = moved.value
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc" or value.size == 0:
            continue
        if np.any(value):
            nonzero = True
            continue
        if moved.path is None or len(moved.path) < 2 or moved.path[-1][0] != "item" or capture.state is None:
            continue
        try:
            whole = resolve(capture.state.values, moved.path[:-1])
        except (KeyError, AttributeError, IndexError, TypeError):
            continue
        if isinstance(whole, np.ndarray) and whole.ndim >= 2 and np.any(whole):
            rows = True
    return rows and (nonzero or not some_other)


def _driven(source: SourceFile, budget: float, seed: int, curve: bool, measure: bool, namespace: dict, stopped: bool = False) -> list[StepResult]:
    """The first loop a driver can run (`driver.candidates`, one layout after another), replayed;
    `stopped`: the program's own top level stops before its training, so the driver runs after the
    file's definitions alone."""
    from backprop_doctor.replay.driver import candidates

    for step in source.facts.training_steps[:2]:
        raised: list[tuple[tuple[str, str | None, int | None], str]] = []
        drivers = candidates(source, step, namespace, definitions=stopped)
        best = _best(source, step, drivers, budget, seed, curve, measure, raised=raised)
        if best is None and step.called is not None:
            # a loop the driver cannot run (`train_loop(iterations, train_features, ...)` over pandas frames) around one
            # call of a method that makes a whole step (`self.train(X, y)`): that method, driven on a batch
            best = _best(source, step.called, candidates(source, step.called, namespace, definitions=stopped), budget, seed, curve, measure)
        if best is not None:
            return [best[0]]
        after = [(error, said) for error, said in raised if _in_its_backward(source, step, error)]
        if after and len({error[2] for error, _ in after}) == 1:
            error, said = after[0]
            return [StepResult(step, why="its backward pass raised", driver=said, raised=error)]
    return []


def _in_its_backward(source: SourceFile, step: TrainingStep, error: tuple[str, str | None, int | None]) -> bool:
    """Whether a driven run raised at a line of the step's own function after its loss was computed:
    the forward pass took the synthetic batch, and the backward pass or the update raised on what the
    forward pass made (`dW2 = a1 @ d2.T`, shapes that do not align)."""
    import os

    _, file, line = error
    loss = step.losses[0] if step.losses else None
    if not file or os.path.realpath(file) != os.path.realpath(source.path) or line is None or loss is None or not loss.in_prefix:
        return False
    backward = [s for s in step.prefix if s.lineno > loss.line]
    return any(s.lineno <= line <= (s.end_lineno or s.lineno) for s in backward) or any(u.line == line for u in step.updates)


def _stood_in(source: SourceFile, observed: Record | None, budget: float, seed: int, curve: bool, measure: bool) -> list[StepResult]:
    """The program's training loops (at most two) replayed on synthetic data given in place of its
    own data loader, when the observed run stopped inside that loader (raised or exited) before
    any loop ran (`replay.standin`). The layout of the targets is the first loop's best. A program
    whose weights have sizes of their own (784 inputs, ten classes) stops on the arrays' shapes:
    it is run again at the sizes its errors name (`standin.widths`), inputs first, then classes."""
    from backprop_doctor.replay.standin import candidates, loader_before, loader_call, stopped_on_standin, widths

    if observed is None or observed.loops_reached or not source.facts.training_steps:
        return []
    loader = loader_call(source, observed.stack, stub=stopped_on_standin(observed)) if observed.stopped in ("raised", "exited") else None
    ended = loader is None and _passed_over(source, observed)
    if ended:  # it went past its training without running it: its loader gave nothing to train on
        loader = loader_before(source, source.facts.training_steps[0])
    if loader is None:
        return []
    stops: list[str] = []
    results = _stood_in_at(source, loader, budget, seed, curve, measure, stops, ended=ended)
    if not results and not widths(stops):
        stops = _stops(candidates(source, loader)[:1], budget, seed)  # an error in the loop's own frame ends its capture unseen
    for features, classes in widths(stops) if not results else ():
        sized: list[str] = []
        results = _stood_in_at(source, loader, budget, seed, curve, measure, sized, features, classes, ended=ended)
        outputs = widths(sized, features, classes, inputs=False) if not results else []
        if outputs:  # the inputs fit now: the next size named is the number of classes
            results = _stood_in_at(source, loader, budget, seed, curve, measure, [], *outputs[0], ended=ended)
        if results:
            break
    return results


def _passed_over(source: SourceFile, observed: Record) -> bool:
    """The program ran to its end, or raised after its first training loop (`print(loss)` of a loop
    that never ran), without running that loop: not a stop before it, which is the user's to mend."""
    import os

    if observed.stopped == "finished":
        return True
    step = source.facts.training_steps[0]
    end = getattr(step.loop, "end_lineno", None) or step.update_end_line
    error = observed.error if observed.stopped == "raised" else None
    return bool(error and error[1] and error[2]) and os.path.realpath(error[1]) == os.path.realpath(source.path) and error[2] > end  # type: ignore[index,operator]


def _stood_in_at(
    source: SourceFile, loader: Loader, budget: float, seed: int, curve: bool, measure: bool, stops: list[str], *sizes: int, ended: bool = False,
) -> list[StepResult]:
    """`_stood_in` with the arrays at `sizes` (features, classes; the driver's own when not given);
    `stops` gets the errors of the runs that stopped before an update; `ended`: the program ran to
    its end on what its loader gave, without training."""
    from backprop_doctor.replay.standin import candidates

    drivers, results = candidates(source, loader, *sizes), []
    for step in source.facts.training_steps[:2]:
        best = _best(source, step, drivers, budget, seed, curve, measure, stops)
        if best is None:
            continue
        result, driver = best
        drivers = [driver]
        result.stopped_at, result.standin, result.ended = loader.statement.lineno, loader.call, ended
        results.append(result)
    return results


def _stops(drivers: list[Driver], budget: float, seed: int) -> list[str]:
    """The errors the programs of `drivers` stop with, run as they are (no capture to end them)."""
    from backprop_doctor.observe.run import run_program

    return [record.error[0] for record in (run_program(d.source, budget, seed=seed)[0] for d in drivers) if record.error]


def _best(
    source: SourceFile, step: TrainingStep, drivers: list[Driver], budget: float, seed: int, curve: bool, measure: bool, stops: list[str] | None = None,
    raised: list[tuple[tuple[str, str | None, int | None], str]] | None = None,
) -> tuple[StepResult, Driver] | None:
    """The loop of `step` replayed under the first driver whose run has every update follow the
    gradient, else under the one where most do; None when no driver's run reaches an update.
    `stops` gets the error of each run that raised before an update, `raised` the error itself
    ((description, file, line), the driver's call)."""
    import os

    from backprop_doctor.observe.run import run_program
    from backprop_doctor.replay.capture import StepCapture

    path = os.path.abspath(source.path)
    replayed: list[tuple[StepResult, Driver]] = []
    for driver in drivers:
        driven = next((s for t in driver.source.facts.training_steps for s in (t, t.called) if s is not None and s.loop_line == step.loop_line), None)
        if driven is None:
            continue
        capture = StepCapture(path, driven, budget)
        record, _namespace, _output = run_program(driver.source, budget, seed=seed, recorder=capture)
        if (capture.capture.state is None or not capture.capture.moved) and record.error and stops is not None:
            stops.append(record.error[0])
        error = capture.capture.raised or (record.error if capture.capture.state is None else None)
        if not capture.capture.moved and error and raised is not None:
            raised.append((error, driver.said))
        if capture.capture.state is None or not capture.capture.moved:
            continue
        result = replay_step(capture.capture, path, seed=seed, budget=budget, curve=curve, measure=measure)
        if result.parameters or result.non_finite is not None:
            result.driver = driver.said
            if _followed(result):
                return result, driver
            replayed.append((result, driver))
    # a layout the code does not expect can still run (targets broadcast against the output) and give
    # gradients of another loss: the layout under which most updates follow the gradient is the one
    # the code expects, and what is wrong there is wrong
    return max(replayed, key=lambda rd: sum(not m.wrong for _, m in rd[0].parameters)) if replayed else None


_UNREACHED = {"budget": "the training loop was not reached in time", "finished": "the training loop never ran", "exited": "the training loop never ran"}


_MISSING = ("FileNotFoundError", "OSError", "IOError", "ModuleNotFoundError", "ImportError", "PermissionError", "IsADirectoryError")


def _data_missing(record: object) -> bool:
    """The program stopped on what is not on this machine (a data file, a module, or what the
    stand-in for a missing module gave it: `observe.run._standin_held`), not on a mistake of its
    own code, which the user is told about at its line."""
    error = getattr(record, "error", None)
    return bool(error) and (str(error[0]).startswith(_MISSING) or getattr(record, "standin", None) is not None)


def _followed(result: StepResult) -> bool:
    """Every update of the step follows the gradient of its loss, each one measured for certain."""
    return result.non_finite is None and all(not (m.wrong or m.unused or m.inconclusive) for _, m in result.parameters)


def summary(result: StepResult) -> dict:
    """Plain JSON for the report's extras: what was replayed and how each parameter compared."""
    return {
        "loop_line": result.step.loop_line,
        "loss": result.loss.name if result.loss else None,
        "loss_line": result.loss.line if result.loss else None,
        "loss_value": result.loss_value,
        "program_loss": result.program_loss,
        "runs": result.runs,
        "seconds": round(result.seconds, 4),
        "step_seconds": round(result.step_seconds, 4),
        "not_replayed": result.why or None,
        "later_pass": result.later_pass,
        "window": result.window,
        "skipped": list(result.skipped) if result.skipped else None,
        "driver": result.driver,
        "maximised": result.maximised,
        "guard_lifted": result.guard_lifted,
        "curve": [float(v) for v in result.curve],
        "corrected": [float(v) for v in result.corrected],
        "smaller_rate": (
            {"name": result.smaller_rate[0], "yours": result.smaller_rate[1], "tried": result.smaller_rate[2], "curve": [float(v) for v in result.smaller_rate[3]]}
            if result.smaller_rate
            else None
        ),
        "tight_clip": (
            {"setting": result.tight_clip.setting, "value": result.tight_clip.value, "line": result.tight_clip.line, "tried": result.tight_clip.tried}
            if result.tight_clip
            else None
        ),
        "non_finite": (
            {"line": result.non_finite.line, "kind": result.non_finite.kind, "step": result.non_finite.step}
            if result.non_finite
            else None
        ),
        "tiny": (
            {
                "samples": result.tiny.samples, "of": result.tiny.of, "cut": list(result.tiny.cut),
                "losses": [float(v) for v in result.tiny.losses], "soft": result.tiny.soft, "noise": result.tiny.noise,
                "undecayed": list(result.tiny.undecayed), "penalty": result.tiny.penalty,
            }
            if result.tiny
            else None
        ),
        "symmetric": list(result.symmetric),
        "clipped": result.clipped,
        "dead": [{"name": d.name, "line": d.line, "units": d.units, "first": d.dead_first, "last": d.dead_last} for d in result.dead],
        "parameters": [
            {"name": m.name, "wrong": m.wrong, "factor": m.factor, "proportional": m.proportional, "unused": m.unused, "decay": m.decay}
            for _, m in result.parameters
        ],
        "adjoints": [{"name": a.name, "line": a.line, "wrong": m.wrong, "factor": m.factor} for a, m in result.adjoints],
    }


__all__ = ["StepResult", "replay_file", "summary"]
