"""Forward writes into its input array.

What it finds:
    A `forward` that changes the array it was given (`x -= x.max(...)`,
    `x[x < 0] = 0`, `np.exp(x, out=x)`), found by comparing the input before and
    after the call.

Why it matters:
    The input is the previous layer's output, which that layer may have kept
    for its own backward pass (a Sigmoid keeps `self.out`). Changing it in place
    silently corrupts that layer's gradient, and the caller's data.

Example:
    def forward(self, x):
        x -= np.max(x, axis=1, keepdims=True)

Fix:
    def forward(self, x):
        x = x - np.max(x, axis=1, keepdims=True)
"""

NAME = "input-mutated"
CODE = "BPD201"
SEVERITY = "error"
STAGE = "contract"
