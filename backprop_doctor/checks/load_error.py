"""Running the file's definitions raised an exception.

What it finds:
    An exception raised while the file's imports, classes, functions and
    constants were executed (or, with --exec-module, the whole module without
    its `if __name__ == "__main__":` block), at the innermost line of the
    user's code, with the exception type and message. Code written for older
    libraries gets the modern spelling: `np.int` → `int`, `np.float` →
    `float`, `np.float_` → `np.float64`, `collections.Hashable` →
    `collections.abc.Hashable`, `xrange` → `range`, `.iteritems()` → `.items()`.

Why it matters:
    A class whose body raises is never defined, so it cannot be checked; and
    the same error would stop the training script. What was defined before the
    error (and, without --exec-module, after it) is still checked.

Example:
    class Affine:
        dtype = np.float        # removed in NumPy 1.24

Fix:
    class Affine:
        dtype = float
"""

NAME = "load-error"
CODE = "BPD004"
SEVERITY = "error"
STAGE = "load"

