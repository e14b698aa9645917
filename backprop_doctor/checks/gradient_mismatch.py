"""Analytic gradient differs from the numerical gradient.

What it finds:
    An array whose gradient, as your `backward` computes it, disagrees with a
    central-difference estimate of the same derivative. The check perturbs the
    layer along a few random directions first; only an array that fails gets
    compared element by element, and the worst elements are shown with both values.
    When the disagreement has a recognisable shape it is named: off by the
    batch size, sign flipped, transposed, never computed (all zeros), not used
    by forward, or wrong only in some rows or columns.

Why it matters:
    Gradient descent follows the gradient you return. A wrong gradient moves the
    parameters in a direction that does not lower the loss, so the loss stalls,
    oscillates or rises however the learning rate is tuned.

Example:
    def backward(self, dout):
        self.db = np.sum(dout, axis=1)     # sums over features, not over the batch

Fix:
    def backward(self, dout):
        self.db = np.sum(dout, axis=0)     # one bias gradient per output unit
"""

NAME = "gradient-mismatch"
CODE = "BPD101"
SEVERITY = "error"
STAGE = "gradient"
