"""The parameters are initialised again at the start of every epoch, so training starts over each time.

What it finds:
    A training step whose gradients are right, where the loop around it (or
    the training loop itself, before its update) binds the very arrays the
    update moves to a fresh value at every pass: `W1, b1 = init_params()`,
    `model = MLP(...)`, `W = np.random.randn(...)` inside `for epoch in
    range(...)`. The replay reads which arrays the update moves; the source
    says where they are bound again.

Why it matters:
    Whatever an epoch learned is thrown away when the next one starts, so
    the loss after every epoch is the loss of one epoch of training from
    scratch and never falls further, however many epochs run. With a fixed
    seed the network even restarts from the very same weights every time.

Example:
    for epoch in range(40):
        W1, b1, W2, b2 = init_params(seed=0)
        for start in range(0, n, 20):
            ...

Fix:
    W1, b1, W2, b2 = init_params(seed=0)      # once, before the epochs
    for epoch in range(40):
        for start in range(0, n, 20):
            ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-reinitialised"
CODE = "BPD630"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.reinit import rebound_each_pass

    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        if result.wrong or result.driver or result.standin:
            continue  # a wrong gradient first; a loop backprop-doctor drove itself has no epochs of the program's
        if any(moved.site.file for moved, _ in result.parameters):
            continue
        # the parameters the replay measured; with none (a dict bound afresh at every pass, so no array of it lives
        # from one pass to the next), what the step's updates move, as written (`params[k]`)
        names = [measured.name for _, measured in result.parameters] or [
            site.update.target for site in result.step.updates if site.update.file is None
        ]
        if not names:
            continue
        found = rebound_each_pass(source.tree, result.step.loop, names)
        if found is None:
            continue
        moved = [n for n in names if any(n == b or n.startswith((b + ".", b + "[")) for b in found.names)]
        shown = ", ".join(f"`{n}`" for n in moved[:4]) + (f" and {len(moved) - 4} more" if len(moved) > 4 else "")
        same = " with the same seed, so every epoch restarts from the very same weights" if found.seeded else ""
        where = "each pass of the training loop" if found.loop_line == result.step.loop_line else "every epoch"
        made = "new arrays" if found.literal else f"fresh values from `{found.call}`"
        message = (
            f"your parameters are re-initialised at the start of {where}: `{found.statement}` (line {found.line}, inside the loop "
            f"at line {found.loop_line}) binds {shown}, the arrays the update moves, to {made}{same}; "
            f"what each epoch learned is thrown away and training starts over from scratch, so the loss never gets below what "
            f"one epoch reaches: initialise them once, before the loop at line {found.loop_line}"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            highlight=tuple(sorted({found.line, found.loop_line})),
            param=found.names[0],
            pattern="reinitialised",
            evidence=(("reset", f"`{found.statement}` runs at every pass of the loop at line {found.loop_line}"),),
        )
        return
