"""The same layer objects sit in the network twice: a list of layers multiplied by a count.

What it finds:
    A list of your own layer objects multiplied by a count (`[Dense(16, 16),
    Tanh()] * 2`, `[Layer(8, 8)] * depth`), where the layer class keeps
    something on the object in its forward or backward pass (`self.x = x`,
    `self.dW = ...`). Multiplying a list repeats references to the objects it
    holds: it builds no new layers.

Why it matters:
    Each use of a shared object overwrites what the other use kept: the
    backward pass of the first use reads the input the second use saw, and
    the weights both uses share get the gradient of the last use alone (the
    right one is the sum of both). The network also has fewer weights than it
    seems, and a `params()` list that names them twice steps them twice.

Example:
    layers = [Dense(1, 16)] + [Dense(16, 16), Tanh()] * 2 + [Dense(16, 1)]

Fix:
    layers = [Dense(1, 16)] + [m for _ in range(2) for m in (Dense(16, 16), Tanh())] + [Dense(16, 1)]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.shared import multiplied_layers

NAME = "shared-layer"
CODE = "BPD402"
SEVERITY = "error"
STAGE = "sharing"


def _listed(names: tuple[str, ...]) -> str:
    quoted = [f"`{n}`" for n in dict.fromkeys(names)]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for found in multiplied_layers(source.tree):
        fix = f"[layer for _ in range({found.count}) for layer in ({found.elements})]"
        objects = "object" if len(found.classes) == 1 else "objects"
        yield rule(NAME).finding(
            f"`{found.text}` (line {found.line}) puts the same {_listed(found.classes)} {objects} in the list {found.count} times, not new ones: "
            "each use overwrites what the other's forward pass kept and the gradient its backward pass left, so the backward "
            "pass reads the wrong inputs and the shared weights get one use's gradient only: build a new object for each use "
            f"(`{fix}`)",
            file=source.path,
            line=found.line,
            end_line=found.end_line if found.end_line != found.line else None,
            layer=found.classes[0],
            fix=fix,
            pattern="list-multiplied",
        )
