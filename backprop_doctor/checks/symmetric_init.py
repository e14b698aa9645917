"""Every weight matrix starts with all its units the same, so the hidden units never differ.

What it finds:
    The training-step replay reads your program's weights where its training
    loop runs. When every weight matrix (two or more) has identical units, as
    `np.zeros` or `np.ones` give them, each hidden unit computes the same value
    and receives the same gradient at every step: the units stay copies of one
    another, however long the loop runs (and ReLU units at exactly 0 get no
    gradient at all).

Why it matters:
    Every gradient is right and the loss may still fall a little, so nothing
    looks broken; but the network is one unit wide. Random initial weights
    break the symmetry.

Example:
    W1 = np.zeros((2, 8))
    W2 = np.zeros((8, 1))

Fix:
    W1 = np.random.randn(2, 8) * 0.1
    W2 = np.random.randn(8, 1) * 0.1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import first_assignment
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.equal_init import constant_made, unpacked_at

NAME = "symmetric-init"
CODE = "BPD611"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        if not result.symmetric or result.wrong:
            continue
        names = result.symmetric
        # the line that makes the first weight equal (`np.full(...)`, `0.5 * np.ones(...)`, `W1.fill(0.5)`), else the first
        # that binds one of them by its name (`W1 = p['W1']`), else one that makes another equal, else the tuple that
        # binds them (`W1, W2 = make()`), else the loop
        line = (
            constant_made(source.tree, names[:1]) or first_assignment(source.tree, names) or constant_made(source.tree, names)
            or unpacked_at(source.tree, names) or result.step.loop_line
        )  # fmt: skip
        shown = ", ".join(f"`{n}`" for n in names)
        yield rule(NAME).finding(
            f"every weight matrix of your program ({shown}) starts with all its units equal, so each hidden unit "
            f"computes the same value and gets the same gradient at every step: they never become different units. "
            f"Initialise the weights with small random values (`np.random.randn(...) * 0.1`) instead",
            file=source.path,
            line=line,
            param=names[0],
            fix=None,
        )
