"""Gradients that hold the same values at every pass of a training loop.

A program that computes its gradient once, before its loop, and applies it at every pass

    loss, grads = model.loss(X, y)
    for step in range(400):
        model.apply(grads, lr)
        loss, _ = model.loss(X, y)        # the new gradient is thrown away

moves its weights along the gradient of where they began, whatever they are now. The capture
(`replay.capture`) reads each update's gradient at two passes; `stale` compares them: every update's
gradient bit for bit the same at both, read from the very same array object (held by the capture,
so no other array can take its id), while the parameters it moves changed in between. A gradient
computed again to the same values (a softmax saturated to exact 0s and 1s) is a new array.
"""

from __future__ import annotations

import numpy as np

from backprop_doctor.replay.capture import Capture, Moved


def stale(capture: Capture) -> list[Moved]:
    """The updates of the capture's pass whose gradients are those of the pass before, bit for bit,
    when every update's are and the parameters moved between them; [] otherwise."""
    earlier = capture.earlier
    if earlier is None or earlier.state is None or not capture.moved or not earlier.moved:
        return []
    before = {(m.site.line, m.path): m for m in earlier.moved if m.path is not None}
    found, moved = [], False
    for m in capture.moved:
        first = before.get((m.site.line, m.path))
        if first is None:
            return []
        now, then = np.asarray(m.gradient), np.asarray(first.gradient)
        if now.dtype.kind not in "fc" or now.shape != then.shape or not np.any(now) or not np.array_equal(now, then):
            return []
        if m.live is None or m.live is not first.live:
            return []  # computed again, to the same values (a softmax saturated to exact 0s and 1s): the right gradient there
        moved = moved or not np.array_equal(np.asarray(m.value), np.asarray(first.value))
        found.append(m)
    return found if moved else []
