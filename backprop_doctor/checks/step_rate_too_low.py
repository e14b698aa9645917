"""Every gradient of the program is right, yet its own loss does not move: the learning rate is too small.

What it finds:
    After the training-step replay has found every update of your program
    right, backprop-doctor runs your training loop again from the same state
    for a few dozen steps, with your own update rule, batches and learning
    rate. When that loss stays within 1 % of where it started, the loop is run
    once more with the learning rate ten, then a hundred times larger; this
    check fires when the loss then falls by at least 10 %.

Why it matters:
    A step far smaller than the curvature allows moves the weights so little
    that the loss looks stuck: thousands of iterations go by with nothing to
    show. The gradients are fine; only the step is not.

Example:
    learning_rate = 1e-6
    for epoch in range(1000):
        ...
        W1 -= learning_rate * dW1

Fix:
    learning_rate = 1e-4
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import gradients_right, rate_setting
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-rate-too-low"
CODE = "BPD609"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    for result in context.extras.get("replay") or []:
        if result.larger_rate is None or result.wrong:
            continue
        name, yours, tried, curve = result.larger_rate
        own = result.curve
        line, where = rate_setting(source, result, name, yours)
        fix = f"{name} = {tried:g}"
        yield rule(NAME).finding(
            f"your program's own loss stays at {own[0]:.4g} (it ends at {own[-1]:.4g}) over its first {len(own)} steps"
            f"{gradients_right(result)}, so its learning rate {where} is too small: with `{fix}` "
            f"the same program, from the same state, goes from {curve[0]:.4g} to {curve[-1]:.4g}",
            file=source.path,
            line=line,
            fix=fix,
            param=name,
            measured=yours,
            evidence=(
                ("your loop", f"{len(own)} steps at {name} = {yours:g}: {own[0]:.4g} → {own[-1]:.4g}"),
                ("larger rate", f"{len(curve)} steps at {name} = {tried:g}: {curve[0]:.4g} → {curve[-1]:.4g}"),
            ),
        )
