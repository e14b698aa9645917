"""Forward or backward returns nothing, or the wrong kind of value.

What it finds:
    A `forward` that returns None (a forgotten `return out`) or a tuple such as
    `(out, cache)` from a class layer, and a `backward` that returns None for
    the input gradient of a layer whose input is a float array.

Why it matters:
    The next layer receives None instead of an array: forward passes break in
    the next layer, and a backward that returns None stops the gradient there,
    so every layer before it never learns. The error appears far from its cause.

Example:
    def backward(self, dout):
        dx = dout * self.out * (1.0 - self.out)

Fix:
    def backward(self, dout):
        dx = dout * self.out * (1.0 - self.out)
        return dx
"""

NAME = "bad-return"
CODE = "BPD107"
SEVERITY = "error"
STAGE = "gradient"
