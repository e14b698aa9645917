"""A layer returns NaN or infinity for a finite input.

What it finds:
    A forward pass whose output holds NaN or inf although its input is finite,
    typically `np.exp` of a large number or `np.log(0)`.

Why it matters:
    One NaN spreads through every later computation: the loss becomes NaN and
    every parameter it touches stops meaning anything.

Example:
    y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)

Fix:
    x = x - np.max(x, axis=1, keepdims=True)
    y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
"""

NAME = "non-finite-output"
CODE = "BPD106"
SEVERITY = "error"
STAGE = "gradient"
