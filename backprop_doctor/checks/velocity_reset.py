"""The momentum buffer is made again as zeros at every pass of the training loop, so momentum never builds up.

What it finds:
    A training loop whose pass first binds the velocity (a momentum buffer, an
    optimizer's running average) to zeros, `vel = tuple(np.zeros_like(p) for p
    in params)`, then decays it and adds the gradient, `vel = tuple(mu * v - lr *
    g for v, g in zip(vel, grads))`, then moves the parameters by it. Read from
    the source (`static.velocity_reset`): the zeros are made in the loop's body
    itself, not under a test of it, and before the decay in the same pass.

Why it matters:
    The decayed term `mu * v` is zero at every step, so the velocity is only the
    step of plain gradient descent: nothing is carried from one update to the
    next. Training runs and the loss falls, only as slowly as without momentum,
    and the momentum setting does nothing at all.

Example:
    for t in range(steps):
        vel = [np.zeros_like(p) for p in params]
        g = gradients(params, X, Y)
        vel = [mu * v - lr * gi for v, gi in zip(vel, g)]
        params = [p + v for p, v in zip(params, vel)]

Fix:
    vel = [np.zeros_like(p) for p in params]     # once, before the loop
    for t in range(steps):
        ...

A step function that makes the new velocity as a new array and returns it beside the new weights (`v = mu * v - lr
* dw; return w + v, v`), called in the loop by a statement that throws that velocity away (`params[k], _ =
sgd_momentum(params[k], grads[k], velocity[k])`) while nothing stores `velocity[k]`, is the same fault reached
another way (`static.velocity_discarded`, pattern `velocity-discarded`): the velocity handed in is the zeros it
started as at every call.

An optimizer object constructed in the body of the loop (`opt = Adam(shapes)` at every pass), whose constructor makes
its state zeros (`self.m = [np.zeros(s) for s in shapes]`) and whose step decays that state (`m[...] = self.beta1 * m +
...`), is the same fault once more (`static.velocity_reset.optimizer_resets`, pattern `optimizer-reset`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "velocity-reset"
CODE = "BPD640"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.velocity_discarded import discarded_velocities
    from backprop_doctor.static.velocity_reset import optimizer_resets, velocity_resets

    source = getattr(context, "source", None)
    if source is None or getattr(source, "tree", None) is None:
        return
    for found in velocity_resets(source.tree, getattr(source, "text", None)):
        message = (
            f"the momentum buffer `{found.name}` is reset to zeros at every pass of the training loop (line {found.loop_line}): "
            f"line {found.line} makes it zeros before line {found.decay_line} decays it (`{found.decay}`), so the velocity's "
            f"old term (`{found.coefficient}` times `{found.name}`) is always zero and each update is a plain gradient step: "
            f"momentum never builds up; make `{found.name}` once, before the loop at line {found.loop_line}"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            highlight=tuple(sorted({found.line, found.decay_line})),
            pattern="velocity-reset",
            evidence=(("reset", f"`{found.statement}` runs at every pass of the loop at line {found.loop_line}, before `{found.decay}`"),),
        )
    for made in optimizer_resets(source.tree, getattr(source, "text", None)):
        message = (
            f"the optimizer `{made.name}` is made anew at every pass of the training loop (line {made.loop_line}): line {made.line} "
            f"constructs a new `{made.cls}`, whose constructor makes its state `{made.buffer}` zeros (line {made.made_line}), before "
            f"line {made.call_line} calls `{made.name}.{made.method}`, which decays that state (`{made.decay}`, line {made.decay_line}): "
            f"the old term (`{made.coefficient}` times it) is always zero, so nothing is carried from one step to the next and the "
            f"optimizer's running averages never build up; construct `{made.name}` once, before the loop at line {made.loop_line}"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=made.line,
            highlight=tuple(sorted({made.line, made.call_line})),
            pattern="optimizer-reset",
            evidence=(("reset", f"`{made.statement}` runs at every pass of the loop at line {made.loop_line}, before `{made.name}.{made.method}` (line {made.call_line})"),),
        )
    for lost in discarded_velocities(source.tree, getattr(source, "text", None)):
        kept = lost.statement.replace(f", {lost.dropped} =", f", {lost.velocity} =", 1) if lost.dropped == "_" else None
        fix = f"store it back (`{kept}`)" if kept and kept != lost.statement else f"store it back into `{lost.velocity}`"
        message = (
            f"line {lost.line} throws away the new velocity `{lost.function}` returns (`{lost.statement}` binds it to `{lost.dropped}`), "
            f"and nothing in the loop at line {lost.loop_line} stores `{lost.velocity}`: every call starts again from the velocity the "
            f"loop started with (the momentum buffer never moves from its first value), so the old term (`{lost.coefficient}` times the "
            f"velocity, line {lost.made_line}) never carries anything over and each update is a plain gradient step: momentum does "
            f"nothing; {fix}"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=lost.line,
            highlight=(lost.line,),
            pattern="velocity-discarded",
            evidence=(("velocity kept", f"`{lost.velocity}` is handed to `{lost.function}` at every pass and never stored again"),),
        )
