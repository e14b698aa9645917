"""The file uses a NumPy name that the installed NumPy no longer has; it ran with the old meaning.

What it finds:
    `np.float`, `np.int`, `np.asfarray`, `np.NaN`, `np.product` and the other
    aliases NumPy 1.24 and 2.0 removed, wherever the file (or a file of the
    user's beside it) reads them. While backprop-doctor runs the program it
    puts the old meaning back (`np.float` is `float`, `np.asfarray(x)` is
    `np.asarray(x, dtype=float)`), so the rest of the program can be checked,
    and it says which names, on which lines, and what to write instead.

Why it matters:
    Tutorials and books written before 2023 use these names freely. With the
    NumPy installed here the program stops at the first one with an
    AttributeError, before it trains at all.

Example:
    inputs = np.asfarray(values[1:]) / 255.0
    labels = np.zeros(10, dtype=np.float)

Fix:
    inputs = np.asarray(values[1:], dtype=float) / 255.0
    labels = np.zeros(10, dtype=float)
"""

NAME = "numpy-removed"
CODE = "BPD011"
SEVERITY = "warning"
STAGE = "load"
