"""Facts read from a user's source without running it.

One module per kind of fact; every walk of a parsed tree in the project lives
in this package. Functions take a parsed module (`ast.Module`) or one of its
function nodes and return frozen dataclasses of plain data; nothing is
imported, executed or written back. Data literals (`DATA = [0.1, 0.2, ...]`
with thousands of numbers) are never walked (`tree.walk`), and a long run of
numbers is not even parsed one node per number (`packed`).

- `tree`: the walker that skips data literals.
- `packed`: parsing a long run of numbers as one starred constant (the loader's parse).
- `script`: the definitions the loader runs, `has_driver`, names used and bound.
- `imports`: relative, guarded and `__future__` imports; where a missing name was meant to come from.
- `header`: a module's literal constants and docstring (the rule registry's metadata).
- `fixes`: the corrected line of a wrong gradient, in the user's names.
- `text`: the file's text, character columns, the code as the user wrote it.
- `definitions`: `find_function`, `definition_line`, `functions`, `enclosing`.
- `literals`, `calls`: literal evaluation, the flow analysis that resolves names,
  `constructor_calls` and `parse_build_expression` (a network built with the
  user's own sizes).
- `settings`: module-level literal learning rates, batch sizes, epochs...
  (`hyperparameters`), and what the training probe takes from the script.
- `reductions`: the one `Reduction` type; reductions on lines that ran, and
  their rewrite to reduce over one axis (`with_axis`).
- `softmax`: `softmax_functions`, `softmax_reductions`, `softmax_diagnosis`.
- `updates`: `parameter_updates`, `params[key] -= lr * grads[key]` and cousins.
- `writes`: `inplace_writes`, `assigning_lines`, and the statements of a live
  function that assign, return or accumulate (for `locate`).
- `dunders`: `special_method_typos`, `__init`, `_init_`, `__inti__`...
- `facts`: `SourceFacts`, the facts of one parsed file, each computed once.

Lines are 1-based and columns 0-based, as in `ast`. Functions that accept the
file's `text` use it only to quote the user's own spelling (spacing, comments)
and to count columns in characters; without it, quoted code is `ast.unparse`d
and columns count UTF-8 bytes (the same thing on ASCII lines).
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module it lives in, imported when first asked for: a caller that needs
# one module of the package (the rule registry reads `header` alone) does not pay for the others
# (PEP 562's module `__getattr__`).
_HOMES = {
    "Call": "calls",
    "Unresolved": "calls",
    "constructor_calls": "calls",
    "parse_build_expression": "calls",
    "definition_line": "definitions",
    "find_function": "definitions",
    "Typo": "dunders",
    "special_method_typos": "dunders",
    "Literal": "settings",
    "hyperparameters": "settings",
    "SourceFacts": "facts",
    "Reduction": "reductions",
    "SoftmaxDiagnosis": "softmax",
    "softmax_diagnosis": "softmax",
    "softmax_functions": "softmax",
    "softmax_reductions": "softmax",
    "source_segment": "text",
    "Update": "updates",
    "parameter_updates": "updates",
    "assigning_lines": "writes",
    "inplace_writes": "writes",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # a submodule not imported yet: `from backprop_doctor.static import packed` imports it
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
