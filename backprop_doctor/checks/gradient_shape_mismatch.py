"""A gradient's shape differs from its array's shape, or no gradient is computed.

What it finds:
    After `backward`, a gradient (`dx`, `self.dW`, `grads[i]`, or the tuple a
    cs231n `*_backward` returns) whose shape is not the shape of the array it
    belongs to, or an array that gets no gradient at all. When the shape is the
    transpose, or one entry per sample instead of one per unit, it says so.
    A gradient that holds the array's elements in another shape (`keepdims=True`:
    (1, H) for a bias of (H,)) is only an info when the training-step replay found
    the program's own update of that array right: its training reshapes it first.

Why it matters:
    An update `W -= lr * dW` with a mis-shaped `dW` either raises or, worse,
    broadcasts silently and updates every weight with the wrong numbers.

Example:
    self.db = np.sum(dout, axis=1)      # shape (N,), one entry per sample

Fix:
    self.db = np.sum(dout, axis=0)      # shape (M,), like b
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks.gradient_mismatch import _right_in_training
from backprop_doctor.findings import Finding

NAME = "gradient-shape-mismatch"
CODE = "BPD102"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    """Complete the engine's findings in place in `context.findings`: a gradient that only needs a
    reshape, of an array whose update the replayed training step found right, becomes an info."""
    right = _right_in_training(context)
    if right:
        context.findings[:] = [_reshaped_in_training(f, right) for f in context.findings]
    yield from ()


def _reshaped_in_training(finding: Finding, right: dict[tuple[str, str], str]) -> Finding:
    owner = ((finding.layer or "").split(" ")[0].split(".")[0], finding.param or "")
    if finding.name != NAME or finding.severity != "error" or owner not in right or "reshape it to the parameter's shape" not in finding.message:
        return finding
    return finding.replace(
        severity="info",
        pattern="right-in-training",
        fix=None,
        message=finding.message.split(": reshape it")[0]
        + f"; your program's own training step applies it right (`{right[owner]}`), so it reshapes it before the update: "
        "keep the shapes equal if anything else reads this gradient",
    )
