"""A parameter's gradient has a different dtype from the parameter.

What it finds:
    A gradient computed in float32 for a float64 parameter, or the reverse.

Why it matters:
    Mixed precision halves the accuracy of the update without anyone noticing
    and makes gradient checks disagree by rounding; an integer gradient
    truncates the update to nothing.

Example:
    self.dW = np.dot(self.x.T, dout).astype(np.float32)

Fix:
    self.dW = np.dot(self.x.T, dout)
"""

NAME = "gradient-dtype-mismatch"
CODE = "BPD205"
SEVERITY = "warning"
STAGE = "contract"
