"""A layer computes in float32: small gradient differences are rounding, not a bug.

What it finds:
    A layer whose arrays are float32 (or that casts to float32 inside), whose
    gradients agree with the numerical gradient once the check runs on float64
    copies, or agree within the float32 tolerance.

    A layer or network whose weights the check copies to float64 but whose
    forward still makes float32 arrays inside (the second book's
    `np.empty((N, T, H), dtype='f')` states of its time layers, reached from a
    `Decoder` or a `Seq2seq`) is checked at float32's step and tolerance too.

Why it matters:
    A central-difference check in float32 has errors near 1e-3 from rounding
    alone; people chase these "mismatches" for hours. This note says the
    gradients are right and the differences are precision.

Example:
    self.W = (0.01 * np.random.randn(784, 50)).astype(np.float32)

Fix:
    Nothing to fix. To gradient-check by hand, run the check in float64:
    `W64 = self.W.astype(np.float64)`.
"""

NAME = "float32-precision"
CODE = "BPD103"
SEVERITY = "info"
STAGE = "gradient"
