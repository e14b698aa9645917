"""Backward writes into the upstream gradient `dout` it receives.

What it finds:
    A `backward` that modifies `dout` in place, e.g. `dout[self.mask] = 0`.
    The book's own `Relu` does this and hands the same array back as its dx;
    that is harmless while nothing else reads `dout`, so it is only an info
    (a network that does read it again, through a branch or a skip
    connection, gets its own gradient check wrong, and that is reported). A
    backward that writes into `dout` and returns another array is a warning:
    the caller's gradient changed although it was not handed back.

Why it matters:
    When `dout` is shared, for instance by a branch or a skip connection, or
    kept by the caller for a second use, the other consumer sees a changed
    gradient.

Example:
    def backward(self, dout):
        dout[self.mask] = 0
        return dout

Fix:
    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx
"""

NAME = "upstream-grad-mutated"
CODE = "BPD202"
SEVERITY = "warning"
STAGE = "contract"
