"""A line needs a newer Python than the one checking it; it was read the way that Python reads it.

What it finds:
    f-strings that reuse their own quotes inside a replacement field,
    `f"Missing: {f"{name}.npz"}"` or `f"{row["label"]}"`, which Python 3.12
    accepts (PEP 701) and older versions reject with "f-string: expecting '}'".
    backprop-doctor reads the inner quotes as the other kind, every line keeping
    its number, checks the file, and says which lines it read that way.

Why it matters:
    The file is right for the Python its author ran; under an older one it does
    not even parse, so nothing in it could be checked or run.

Example:
    print(f"Missing: {f"{name}.npz"}")

Fix:
    print(f"Missing: {f'{name}.npz'}")      (or run Python 3.12 or newer)
"""

NAME = "newer-python"
CODE = "BPD017"
SEVERITY = "info"
STAGE = "load"
