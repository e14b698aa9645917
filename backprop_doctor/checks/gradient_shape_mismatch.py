"""A gradient's shape differs from its array's shape, or no gradient is computed.

What it finds:
    After `backward`, a gradient (`dx`, `self.dW`, `grads[i]`, or the tuple a
    cs231n `*_backward` returns) whose shape is not the shape of the array it
    belongs to, or an array that gets no gradient at all. When the shape is the
    transpose, or one entry per sample instead of one per unit, it says so.

Why it matters:
    An update `W -= lr * dW` with a mis-shaped `dW` either raises or, worse,
    broadcasts silently and updates every weight with the wrong numbers.

Example:
    self.db = np.sum(dout, axis=1)      # shape (N,), one entry per sample

Fix:
    self.db = np.sum(dout, axis=0)      # shape (M,), like b
"""

NAME = "gradient-shape-mismatch"
CODE = "BPD102"
SEVERITY = "error"
STAGE = "gradient"
