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

NAME = "layer-raised"
CODE = "BPD105"
SEVERITY = "error"
STAGE = "gradient"
