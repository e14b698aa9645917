"""A layer's forward or backward method name is misspelled.

What it finds:
    A layer class with no `forward` (or `backward`) but a method whose name
    nearly spells it: `backword`, `backwards`, `bakward`, `foward`, `forwad`.
    The layer is still gradient-checked under the names it has. A method that is
    the user's own under its own name is none: one that takes only a learning
    rate (`backwards(self, learning_rate)`, an update step), or one the code
    calls by that name (`model.backwards()`) where nothing calls `.backward`.

Why it matters:
    Python calls methods by their exact names: a network that calls
    `layer.backward(dout)` raises AttributeError, and a training loop that
    checks `hasattr(layer, "backward")` silently skips the layer, so its
    weights never learn.

Example:
    class Sigmoid:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backword(self, dout):
            return dout * self.out * (1 - self.out)

Fix:
    Rename the method:
        def backward(self, dout):
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import rules
from backprop_doctor.conventions import layer_methods
from backprop_doctor.conventions.misspelled import calls_by_own_name
from backprop_doctor.findings import Finding

NAME = "misspelled-method"
CODE = "BPD014"
SEVERITY = "warning"
STAGE = "static"


def run(context: Any) -> Iterator[Finding]:
    found = context.extras.get("discovered")
    if found is None or context.source is None:
        return
    rule = rules.rule(NAME)
    for cls in found.layers:
        methods = layer_methods(cls)
        for written, meant, line in methods.misspelled if methods else ():
            if calls_by_own_name(context.source.tree, written, meant):
                continue  # the checked script calls `model.backwards()` and never `.backward`: the name its code uses
            yield rule.finding(
                f"`{cls.__name__}.{written}` is a misspelled `{meant}` (line {line}): rename it to `{meant}`; "
                f"code that calls `layer.{meant}(...)` raises AttributeError. It was checked under the name `{written}`.",
                file=context.source.path,
                line=line,
                layer=cls.__name__,
                highlight=(line,) if line else (),
            )
