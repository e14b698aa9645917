"""A special method is misspelled, so Python never calls it.

What it finds:
    A method whose name is a near miss of a special method: the right letters
    with the wrong underscores (`__init`, `_init_`, `__init_`, `___init__`), a
    small misspelling (`__inti__`, `__intit__`, `__ini__`, `__cal__`), `__int__`
    (int conversion) written where `__init__` was meant, or a plain `init` that
    sets attributes in a class without `__init__`. Found by reading the source;
    nothing is run.

Why it matters:
    Python only calls special methods by their exact names. A misspelled
    `__init__` never runs: the attributes it should set do not exist until some
    other method happens to set them, and creating the object with arguments,
    `Affine(W, b)`, raises `TypeError: Affine() takes no arguments`. When another
    method sets the same attribute first (Relu's `forward` sets `self.mask`) the
    layer still works, which hides the mistake until something reads the
    attribute before it is set (AttributeError) or the class gains arguments.

Example:
    class Relu:
        def __init(self):
            self.mask = None

Fix:
    class Relu:
        def __init__(self):
            self.mask = None
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import rules
from backprop_doctor.findings import Finding

NAME = "misspelled-dunder"
CODE = "BPD010"
SEVERITY = "warning"
STAGE = "static"


def run(context: Any) -> Iterator[Finding]:
    """One finding per misspelled special method; an error when the misspelling makes a call in the file raise."""
    source = context.source
    if source is None or source.tree is None:
        return
    rule = rules.rule(NAME)
    raised = [f for f in context.findings if f.name == "layer-raised"]
    for typo in source.facts.typos:
        message = (
            f"`{typo.class_name}.{typo.method}` is a misspelled `{typo.intended}` (line {typo.line}): "
            f"rename it to `{typo.intended}`; {typo.reason}, so {typo.effect}."
        )
        # A layer that raised because an attribute the misspelled method would set is missing:
        # the misspelling is the cause, so it is an error too.
        missing = [
            f for f in raised
            if any(f"'{typo.class_name}' object has no attribute '{attr}'" in f.message for attr in typo.attributes)
        ]
        yield rule.finding(
            message,
            severity="error" if typo.raises_type_error or missing else None,
            file=source.path,
            line=typo.line,
            column=typo.col + 1,  # findings count columns from 1, like editors and tracebacks
            layer=typo.class_name,
            highlight=(typo.line,),
            fix=typo.fix,
            evidence=(("consequence", typo.consequence),),
        )
