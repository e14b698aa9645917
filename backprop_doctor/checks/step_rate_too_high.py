"""Every gradient of the program is right, yet its own loss rises: the learning rate is too high.

What it finds:
    After the training-step replay has measured every update of your program
    against its own loss and found them right, backprop-doctor runs your
    training loop again from the same state for a few dozen steps, with your
    own update rule, batches and learning rate. When that loss climbs (or turns
    into NaN), the loop is run once more with the learning rate ten, a
    hundred, then a thousand times smaller; this check fires when the loss
    then falls, and also when it climbs far (tenfold or more) and no smaller
    rate makes it fall within those steps: a step on one sample at a time at
    a rate chosen for the whole batch does this.

Why it matters:
    A step larger than the curvature allows overshoots the minimum every time,
    so the loss rises although every derivative is right. No gradient check
    finds it; only the program's own training shows it.

    A learning-rate schedule in the loop that makes the rate grow without
    bound is named at its line too, a warning read from the schedule itself,
    evaluated over the loop's own passes from the values the program holds
    when its first step begins: the rate ends a hundred times its first value
    or more, still ten times what it was halfway through (`lr = lr0 / 0.9 **
    epoch`, a decay written with its operation turned round, or `lr *= 1.05`).
    A warm-up that climbs to its rate and levels off is no such schedule.

Example:
    lr = 20.0
    for i in range(1000):
        ...
        W1 -= lr * dW1

Fix:
    lr = 0.2
"""

from __future__ import annotations

import re

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import first_assignment, gradients_right, rate_setting, raw_features, raw_words, standardise
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-rate-too-high"
CODE = "BPD608"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    from backprop_doctor.replay.curve import climbs_far
    from backprop_doctor.replay.schedule import growing_rate

    from backprop_doctor.checks.step_stale_output import stale_in

    from backprop_doctor.checks.step_clip_does_not_clip import unclipped_of
    from backprop_doctor.checks.step_stale_gradient import computed_once

    from backprop_doctor.checks.step_decay_wrong import added_decays

    decays = added_decays(context)
    for result in context.extras.get("replay") or []:
        if stale_in(result, source) is not None:
            continue  # the error reads a prediction made before the loop: step-stale-output words it
        if unclipped_of(result, source) is not None:
            continue  # a gradient clip that does not clip lets the loss blow up: step-clip-does-not-clip words it
        if computed_once(result, source) is not None:
            continue  # a gradient computed once before the loop walks the weights away: step-stale-gradient words it
        if result.parameters and not (result.wrong or result.driver or result.standin) and (grows := growing_rate(result)) is not None:
            yield _schedule_grows(source, result, grows)  # whatever the first rate, the schedule takes it past any
            continue
        if not result.wrong and result.curve and (momentum := momentum_not_below_one(result, source)) is not None:
            yield _momentum(source, result, *momentum)  # no rate mends a velocity that never decays, rising or swinging
            continue
        if decays:
            continue  # `(1 + eta * lmbda / n) * w`: a weight decay added grows the weights at any rate (`step-decay-wrong`)
        if _rate_made_up(result):
            continue  # the driver built the object at a rate of its own making: a climb there says nothing of the program's
        unstable = result.smaller_rate is None and not result.wrong and result.non_finite is None and not result.steady and climbs_far(result.curve, result.terms)
        if unstable:
            yield _unstable(source, result)
            continue
        if result.smaller_rate is None or result.wrong:
            continue
        name, yours, tried, curve = result.smaller_rate
        own = result.curve
        line, where = rate_setting(source, result, name, yours)
        ending = "turns into NaN" if any(v != v for v in own) else f"rises from {own[0]:.4g} to {own[-1]:.4g}"
        fix = f"{name} = {tried:g}"
        yield rule(NAME).finding(
            f"your program's own loss {ending} over its first {len(own)} steps{gradients_right(result)}, "
            f"so its learning rate {where} is too high: with `{fix}` the same program, from the same state, "
            f"goes from {curve[0]:.4g} to {curve[-1]:.4g}",
            file=source.path,
            line=line,
            fix=fix,
            param=name,
            measured=yours,
            evidence=(
                ("your loop", f"{len(own)} steps at {name} = {yours:g}: {_sketch(own)}"),
                ("smaller rate", f"{len(curve)} steps at {name} = {tried:g}: {_sketch(curve)}"),
            ),
        )


_RATE_ARGUMENT = re.compile(r"(?i)[(,]\s*(\w*(?:lr|rate|eta|alpha|step_?size)\w*)=")


def _rate_made_up(result: Any) -> bool:
    """Whether the replay ran on an object a driver built (`replay.driver`) with a learning rate the
    driver chose itself: a constructor argument named for a rate with no default in the user's
    signature (`NeuralNetwork(..., learning_rate=0.1).train(X, y)`; a default is left to the user's
    own value). The program's own callers pass their rate; the driver's guess is not theirs to lower."""
    said = getattr(result, "driver", None) or ""
    constructor = said.partition(").")[0]
    return bool(_RATE_ARGUMENT.search(constructor))


MOMENTUM_NAMES = ("momentum", "mu", "momentum_coef", "momentum_rate")  # what a velocity's decay is called


def momentum_not_below_one(result: Any, source: Any) -> tuple[str, float, int | None] | None:
    """(its name, its value, the line that sets it) of a momentum coefficient of 1 or more the loop holds:
    a number named for momentum (`mu = 1.0`), or an attribute so named of an object it holds
    (`opt = MomentumSGD(lr=0.15, momentum=1.0)`); None when there is none."""
    import ast

    runner = getattr(result, "runner", None)
    values = getattr(getattr(runner, "state", None), "values", None) or {}
    found: tuple[str, float, str] | None = None
    for name, value in values.items():
        if _coefficient(name, value):
            found = (name, float(value), name)
            break
        if hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
            attrs = [(a, v) for a, v in vars(value).items() if _coefficient(a, v)]
            if attrs:
                found = (f"{name}.{attrs[0][0]}", float(attrs[0][1]), attrs[0][0])
                break
    if found is None or source.tree is None or not _decays_velocity(source.tree, found[2]):
        return None
    shown, value, key = found
    # `MomentumSGD(lr=0.15, momentum=1.0)`: the keyword that sets it, before the constructor's own `self.momentum = momentum`
    keyword = next(
        (k.value.lineno for k in ast.walk(source.tree) if isinstance(k, ast.keyword) and k.arg == key and isinstance(k.value, ast.Constant) and k.value.value == value),
        None,
    )
    unpacked = next(  # `lr, mu = 0.05, 1.0`
        (
            node.lineno for node in ast.walk(source.tree)
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Tuple) and any(isinstance(e, ast.Name) and e.id == shown for e in t.elts) for t in node.targets)
        ),
        None,
    )  # fmt: skip
    return shown, value, keyword or first_assignment(source.tree, [shown]) or unpacked


def _decays_velocity(tree: Any, key: str) -> bool:
    """Whether the program multiplies a velocity by `key` where it sets it again: `v = mu * v - lr * g`,
    `self.v[k] = self.momentum * self.v[k] - ...` (a `mu` that is a mean, or a `momentum` never used so, is not one)."""
    import ast

    def named(node: Any) -> bool:
        return (isinstance(node, ast.Name) and node.id == key) or (isinstance(node, ast.Attribute) and node.attr == key)

    for node in ast.walk(tree):
        if not isinstance(node, (ast.Assign, ast.AugAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        written = {ast.unparse(t) for t in targets}
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Mult):
                for one, other in ((sub.left, sub.right), (sub.right, sub.left)):
                    if named(one) and ast.unparse(other) in written:
                        return True
    return False


def _coefficient(name: str, value: Any) -> bool:
    return name.lower() in MOMENTUM_NAMES and isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 100


def _momentum(source: Any, result: Any, name: str, value: float, line: int | None) -> Finding:
    own = result.curve
    ending = "turns into NaN" if any(v != v for v in own) else f"rises from {own[0]:.4g} to {own[-1]:.4g}"
    return rule(NAME).finding(
        f"your program's own loss {ending} over its first {len(own)} steps{gradients_right(result)}, and its momentum "
        f"`{name}` is {value:g}{f' (line {line})' if line else ''}: a momentum of 1 or more never lets the velocity decay, so "
        "every gradient since the first keeps pushing and the steps grow without bound whatever the learning rate; "
        "use a momentum below 1 (0.9 is usual)",
        file=source.path,
        line=line or result.step.loop_line,
        param=name,
        pattern="momentum-not-below-one",
        measured=value,
        threshold=1.0,
        fix=f"{name.split('.')[-1]} = 0.9" if "." not in name else None,
        evidence=(("your loop", f"{len(own)} steps: {_sketch(own)}"),),
    )


def _schedule_grows(source: Any, result: Any, grows: Any) -> Finding:
    """A schedule that makes the rate grow without bound over the loop's passes (`replay.schedule.growing_rate`)."""
    schedule = grows.schedule
    counter = grows.counter or schedule.counter
    at = f"`{counter}` = {grows.counter_at}" if grows.counter_at is not None and counter else f"pass {grows.tenfold_at + 1}"
    last = "overflows" if grows.last == float("inf") else f"reaches {grows.last:.3g}"
    times = "" if grows.last == float("inf") else f", {grows.last / grows.first:.3g} times its first value"
    if grows.decaying is not None:
        advice = f"a decay multiplies by a factor below 1 (or divides by one above 1): `{grows.decaying}`"
    elif schedule.factor is not None:
        advice = f"a decay {'divides by a factor above 1' if schedule.divides else 'multiplies by a factor below 1'}: check `{schedule.factor}`"
    else:
        advice = "a decay makes the rate fall as the counter grows: check the sign of its exponent, or whether it divides where it should multiply"
    message = (
        f"your learning-rate schedule `{schedule.statement}` (line {schedule.line}) makes `{schedule.rate}` grow instead of decay: "
        f"from {grows.first:.3g} at the first pass to ten times that by {at}, {grows.halfway:.3g} halfway, and it {last} by the last of "
        f"the loop's {grows.passes} passes (line {schedule.loop_line}){times}: each step grows with the rate, and once the rate is too large "
        f"for the loss the steps overshoot and the loss rises or diverges; {advice}"
    )
    evidence = [("rate", f"{grows.first:.3g} at the first pass, {grows.halfway:.3g} halfway, {grows.last:.3g} at pass {grows.passes}")]
    if result.curve:
        evidence.append(("your loop", f"{len(result.curve)} steps replayed: {_sketch(result.curve)}"))
    return rule(NAME).finding(
        message,
        file=source.path,
        line=schedule.line,
        severity="warning",
        fix=grows.decaying,
        param=schedule.rate,
        highlight=tuple(sorted({schedule.line, schedule.loop_line})),
        pattern="schedule-grows",
        measured=grows.last / grows.first,
        threshold=100.0,
        evidence=tuple(evidence),
    )


def _sketch(curve: list[float]) -> str:
    points = [curve[0], curve[len(curve) // 2], curve[-1]]
    return " → ".join(f"{v:.4g}" for v in points)


def _unstable(source: Any, result: Any) -> Finding:
    """The loss climbs by orders of magnitude, every gradient right, and no rate down to a thousandth
    of the program's makes it fall within the replayed steps: the step itself is unstable (a batch of
    one sample at a rate set for the whole batch, a rate far off)."""
    from backprop_doctor.checks._training_words import batch_size_of_one, defined_step_of, defined_step_words, update_rate

    own = result.curve
    rate = update_rate(result)
    one = batch_size_of_one(source.tree)
    raw = raw_features(result)
    defined = defined_step_of(result, source)
    if defined is not None and (defined.inverted is not None or (rate is None and raw is None and one is None)):
        # AdaDelta's `dx = ...` (no learning rate), its ratio upside down: the steps grow whatever the gradients' size
        line = defined.line
        advice = f"line {defined.line} makes the step your update adds (line {defined.update}), `{defined.text}`: " + defined_step_words(defined)
    elif raw is not None:
        name, _, bound = raw
        line = bound or result.step.loop_line
        advice = (
            f"{raw_words(raw)}: with features that large every step is huge whatever the rate; {standardise(name, raw[1])}"
        )
    elif one is not None:
        line, advice = one, "one sample per update makes each step follow that sample alone, at a rate set for the whole batch: train on batches of several samples, or lower the rate as far as a single sample needs"
    elif rate is not None:
        line, where = rate_setting(source, result, *rate)
        advice = f"lower the learning rate {where} by far more than a thousandfold, or look at what sets the step's size"
    else:
        line, advice = result.step.loop_line, "look at what sets the size of each step"
    return rule(NAME).finding(
        f"your program's own loss rises from {own[0]:.4g} to {own[-1]:.4g} over its first {len(own)} steps although every gradient "
        f"it computes is right, and not even a learning rate a thousand times smaller makes it fall within them: {advice}",
        file=source.path,
        line=line,
        pattern="unstable",
        measured=own[-1] / own[0],
        evidence=(("your loop", f"{len(own)} steps: {_sketch(own)}"),),
    )
