"""Forward writes into its input array.

What it finds:
    A `forward` that changes the array it was given (`x -= x.max(...)`,
    `x[x < 0] = 0`, `np.exp(x, out=x)`), found by comparing the input before and
    after the call.

Why it matters:
    The input is the previous layer's output, which that layer may have kept
    for its own backward pass (a Sigmoid keeps `self.out`). Changing it in place
    silently corrupts that layer's gradient, and the caller's data. A layer that
    keeps the very array it then overwrites (`self.x = x`, then
    `np.tanh(x, out=x)`) corrupts its own backward: the finding is named at the
    line that keeps it. Where your program puts the layer between two layers of
    a network whose whole gradient is right (nothing there reads the changed
    array), it is a warning: the trap stays for a layer before it that keeps
    its output.

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
