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

Example:
    lr = 20.0
    for i in range(1000):
        ...
        W1 -= lr * dW1

Fix:
    lr = 0.2
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import gradients_right, rate_setting, raw_features, raw_words, standardise
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

    from backprop_doctor.checks.step_stale_output import stale_in

    from backprop_doctor.checks.step_clip_does_not_clip import unclipped_of

    for result in context.extras.get("replay") or []:
        if stale_in(result, source) is not None:
            continue  # the error reads a prediction made before the loop: step-stale-output words it
        if unclipped_of(result, source) is not None:
            continue  # a gradient clip that does not clip lets the loss blow up: step-clip-does-not-clip words it
        if result.smaller_rate is None and not result.wrong and result.non_finite is None and not result.steady and climbs_far(result.curve, result.terms):
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


def _sketch(curve: list[float]) -> str:
    points = [curve[0], curve[len(curve) // 2], curve[-1]]
    return " → ".join(f"{v:.4g}" for v in points)


def _unstable(source: Any, result: Any) -> Finding:
    """The loss climbs by orders of magnitude, every gradient right, and no rate down to a thousandth
    of the program's makes it fall within the replayed steps: the step itself is unstable (a batch of
    one sample at a rate set for the whole batch, a rate far off)."""
    from backprop_doctor.checks._training_words import batch_size_of_one, update_rate

    own = result.curve
    rate = update_rate(result)
    one = batch_size_of_one(source.tree)
    raw = raw_features(result)
    if raw is not None:
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
