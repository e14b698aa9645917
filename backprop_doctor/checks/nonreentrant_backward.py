"""Calling backward twice with the same dout gives different gradients.

What it finds:
    A `backward` whose result depends on how often it has been called:
    gradients accumulated with `+=` into attributes that are never reset,
    or state changed during backward.

Why it matters:
    Gradient checks, retries and the second call in a training step then see
    different gradients; with `+=` the step size grows every iteration.

Example:
    self.dW += np.dot(self.x.T, dout)

Fix:
    self.dW = np.dot(self.x.T, dout)
"""

NAME = "nonreentrant-backward"
CODE = "BPD203"
SEVERITY = "warning"
STAGE = "contract"
