"""A loss layer's backward ignores its dout argument.

What it finds:
    A loss layer whose `backward(dout)` returns the same gradient for `dout=2`
    as for `dout=1`. The book's `SoftmaxWithLoss` does this, so it is only
    information.

Why it matters:
    As the last layer with `dout=1` nothing goes wrong. Used inside a larger
    graph (a weighted sum of losses, a loss scaled by a factor) the gradient is
    wrong by that factor.

Example:
    def backward(self, dout=1):
        return (self.y - self.t) / batch_size

Fix:
    def backward(self, dout=1):
        return dout * (self.y - self.t) / batch_size
"""

NAME = "upstream-grad-ignored"
CODE = "BPD204"
SEVERITY = "info"
STAGE = "contract"
