"""A layer's forward or backward raised an exception on a valid input.

What it finds:
    An exception from the user's `forward`, `backward`, `loss` or `gradient`
    when called on an input of the shapes the network uses, with the line in
    the user's file where it was raised. A loss layer that returns an array
    instead of a scalar is reported here too.

Why it matters:
    A layer that cannot run cannot be trained; often the exception points at a
    shape mistake (`np.dot` of mismatched arrays) or a missing attribute
    (an `__init__` that never ran).

Example:
    def forward(self, x):
        return np.dot(self.W, x)        # (50, 784) · (N, 784) does not align

Fix:
    def forward(self, x):
        return np.dot(x, self.W)
"""

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding

NAME = "layer-raised"
CODE = "BPD105"
SEVERITY = "error"
STAGE = "gradient"


_SCALAR = "only 0-dimensional arrays can be converted to Python scalars"


def run(context: Any) -> Iterator[Finding]:
    """Complete in place a layer that raised because NumPy 2 turns only 0-dimensional arrays into
    numbers (`float(b)` of a (1, 1, 1) bias, as course code of the NumPy 1 years writes it): say
    what works in every version."""
    for i, finding in enumerate(context.findings):
        if finding.name == NAME and _SCALAR in finding.message and ".item()" not in finding.message:
            context.findings[i] = finding.replace(
                message=finding.message + "; NumPy 2 turns only a 0-dimensional array into a number: write `b.item()` "
                "(the one number of a size-1 array) where the line has `float(b)` or `int(b)`"
            )
    yield from ()
