"""The names a function's forward and backward halves go by.

A pair written as two functions is told by its names: `affine_forward` beside `affine_backward`
(cs231n), `relu` beside `relu_backward` (the deep-learning course's activations), and the short
forms students write too: `lstm_step` beside `lstm_step_back`, `conv_fwd` beside `conv_bwd`,
`attn_forward` beside `attn_back`. Discovery pairs a forward with its backward by these names
(`backward_of`), and the reading of a training step pairs a backward step function its loop
calls with the forward one another loop calls (`forward_of`).
"""

from __future__ import annotations

from collections.abc import Container

# (the forward's suffix, its backward's): "" is the forward's bare name
FORMS = (("_forward", "_backward"), ("", "_backward"), ("", "_back"), ("", "_bwd"), ("_fwd", "_bwd"), ("_forward", "_back"))


def backward_of(name: str, names: Container[str]) -> str | None:
    """The name in `names` of the backward of the forward called `name`, the most specific form
    first (`conv_forward` -> `conv_backward` rather than `conv_forward_backward`)."""
    for forward, backward in FORMS:
        if forward and not name.endswith(forward):
            continue
        candidate = (name[: -len(forward)] if forward else name) + backward
        if candidate in names and candidate != name:
            return candidate
    return None


def forward_of(name: str, names: Container[str]) -> str | None:
    """The name in `names` of the forward of the backward called `name` (`backward_of` turned round)."""
    for forward, backward in FORMS:
        if not name.endswith(backward):
            continue
        candidate = name[: -len(backward)] + forward
        if candidate in names and candidate != name:
            return candidate
    return None
