"""Calling backward twice with the same dout gives different gradients.

What it finds:
    A `backward` whose result depends on how often it has been called:
    gradients accumulated with `+=` into attributes that are never reset,
    or state changed during backward.

Why it matters:
    Gradient checks, retries and the second call in a training step then see
    different gradients; with `+=` never reset, every training step adds the new
    gradient to all the old ones, so the updates grow and point the wrong way.

Example:
    self.dW += np.dot(self.x.T, dout)

Fix:
    self.dW = np.dot(self.x.T, dout)
"""

NAME = "nonreentrant-backward"
CODE = "BPD203"
SEVERITY = "error"
STAGE = "contract"
