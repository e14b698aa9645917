"""A training loop that was found but whose step could not be replayed: its updates go unchecked.

What it finds:
    backprop-doctor found the loop that updates your parameters and ran your program
    to its first pass, but could not replay that pass against a loss (the step computes
    no loss it could read, the step raised when run again, no update's gradient could be
    read where it ran...). The layers, pairs and networks it found are still checked;
    the gradients the loop itself applies are not.

Why it matters:
    "No problems found" then says nothing about the training step, which is where a
    wrong gradient assembled by hand (or a loss computed only in a report every hundred
    epochs) makes the loss rise. The note says which loop and why, so that a clean verdict
    is not read as a checked step.

Example:
    for epoch in range(epochs):
        for x, y in zip(X, Y):
            grads = backward(model, x, y)
            model = [w - lr * g for w, g in zip(model, grads)]
        if epoch % 100 == 0:
            print(sum(loss(model, x, y) for x, y in zip(X, Y)))

Fix:
    Compute the loss in the pass that updates, before the update (`loss = ...`), from the
    same forward pass the gradients come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-not-replayed"
CODE = "BPD636"
SEVERITY = "info"
STAGE = "training"

# said by other findings already
# (`program-stopped`; `step-gradient-mismatch` warns of updates that follow none of the implied losses)
_SAID_ELSEWHERE = ("the program raised before its training loop ran", "the program computes no loss, and no usual loss fits its gradients")
_NO_LOSS = "the step computes no loss that could be read"


def run(context: Any) -> Iterator[Finding]:
    results = list(context.extras.get("replay") or [])
    replayed = {r.step.loop_line for r in results if not r.why}
    seen: set[int] = set()
    for result in results:
        why, line = result.why, result.step.loop_line
        if getattr(result, "sampled", None) and line not in seen:
            seen.add(line)
            yield _sampled(result, getattr(context.source, "path", None))
            continue
        if not why or line in replayed or line in seen or why in _SAID_ELSEWHERE:
            continue
        seen.add(line)
        advice = (
            "compute the loss in the pass that updates, before the update, from the forward pass its gradients come from"
            if why == _NO_LOSS
            else "the layers, pairs and networks found are still checked on their own"
        )
        yield rule(NAME).finding(
            f"your training loop (line {line}) was found, but its step was not replayed: {why}; the gradients its updates "
            f"apply were not checked against its loss ({advice})",
            file=getattr(context.source, "path", None),
            line=line,
        )


def _sampled(result: Any, path: str | None) -> Finding:
    """REINFORCE's `theta -= lr * policy_gradient(theta, S, acts, adv)` with actions drawn from the policy: the
    updates the replay ran but did not compare, and why."""
    names = result.sampled
    shown = ", ".join(f"`{n}`" for n in names[:-1]) + (" and " if len(names) > 1 else "") + f"`{names[-1]}`"
    drawn = f" (line {result.sampled_at})" if result.sampled_at else ""
    loss = f" such as `{result.loss.name}`" if result.loss is not None else ""
    return rule(NAME).finding(
        f"the update{'s' if len(names) > 1 else ''} of {shown} in your training loop (line {result.step.loop_line}) "
        f"follow{'' if len(names) > 1 else 's'} a gradient estimated from actions drawn from the policy{drawn}, a sampled "
        f"estimate that is the gradient of no loss your program computes{loss}, so {'they were' if len(names) > 1 else 'it was'} "
        "not compared (compute the surrogate loss, the mean of the advantage times the log-probability of the actions drawn, "
        "in the step to have it checked)",
        file=path,
        line=result.sampled_at or result.step.loop_line,
    )
