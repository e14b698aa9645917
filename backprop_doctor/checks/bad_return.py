"""Forward or backward returns nothing, or the wrong kind of value.

What it finds:
    A `forward` that returns None (a forgotten `return out`) or a tuple such as
    `(out, cache)` from a class layer, and a `backward` that returns None for
    the input gradient of a layer whose input is a float array.

Why it matters:
    The next layer receives None instead of an array: forward passes break in
    the next layer, and a backward that returns None stops the gradient there,
    so every layer before it never learns. The error appears far from its cause.

Example:
    def backward(self, dout):
        dx = dout * self.out * (1.0 - self.out)

Fix:
    def backward(self, dout):
        dx = dout * self.out * (1.0 - self.out)
        return dx
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.static.files import source_tree

NAME = "bad-return"
CODE = "BPD107"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    """A backward that ends in `return None` on purpose (the first layer of a network, whose input
    gradient nobody reads) is a warning that says so, not an error; the engine's finding is
    completed in place in `context.findings`."""
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or "returns None" not in finding.message or finding.severity != "error" or not finding.file or not finding.line:
            continue
        tree = source_tree(os.path.abspath(finding.file))[1]
        node = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.lineno <= finding.line <= (n.end_lineno or n.lineno)), None) if tree else None
        last = node.body[-1] if node is not None and node.body else None
        if isinstance(last, ast.Return) and isinstance(last.value, ast.Constant) and last.value.value is None:
            context.findings[i] = finding.replace(
                severity="warning",
                line=last.lineno,
                highlight=(last.lineno,),
                message=finding.message.replace("returns None, so the gradient stops here", "returns None on purpose (line "
                                                f"{last.lineno}), so the gradient stops here: right for a network's first layer only")
                .replace(": return dx", "; otherwise return dx"),
            )
    yield from ()
