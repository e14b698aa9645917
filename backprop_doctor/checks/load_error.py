"""Running the file's definitions raised an exception.

What it finds:
    An exception raised while the file's imports, classes, functions and
    constants were executed (or, with --exec-module, the whole module without
    its `if __name__ == "__main__":` block), at the innermost line of the
    user's code, with the exception type and message. Code written for older
    libraries gets the modern spelling: `np.int` → `int`, `np.float` →
    `float`, `np.float_` → `np.float64`, `collections.Hashable` →
    `collections.abc.Hashable`, `xrange` → `range`, `.iteritems()` → `.items()`.

Why it matters:
    A class whose body raises is never defined, so it cannot be checked; and
    the same error would stop the training script. What was defined before the
    error (and, without --exec-module, after it) is still checked.

Example:
    class Affine:
        dtype = np.float        # removed in NumPy 1.24

Fix:
    class Affine:
        dtype = float
"""

import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.static.script import none_placeholder

NAME = "load-error"
CODE = "BPD004"
SEVERITY = "error"
STAGE = "load"


def run(context: Any) -> Iterator[Finding]:
    """Complete in place a top-level statement that raised on a name still bound to the `None` an
    exercise started it as (`best_softmax = None`, the code that sets it still `pass`): the notebook
    is not done yet, a warning, not an error in the user's code."""
    source = context.source
    if source is None or source.tree is None:
        return
    here = os.path.abspath(source.path)
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or finding.severity != "error" or not finding.line or "NoneType" not in finding.message:
            continue
        if finding.file and os.path.abspath(finding.file) != here:
            continue
        found = none_placeholder(source.tree, finding.line)
        if found is None:
            continue
        name, line = found
        context.findings[i] = finding.replace(
            severity="warning",
            pattern="not-written",
            fix=None,
            message=(
                f"`{name}` is still the `None` it started as (line {line}) when line {finding.line} uses it: the code that "
                "should set it is not written yet; write it"
            ),
        )
    yield from ()
