"""The file uses a standard-library name that this Python no longer has; it ran with its modern spelling.

What it finds:
    `time.clock`, removed in Python 3.8, wherever the file reads it: `from time
    import clock` or `time.clock()`. While backprop-doctor runs the program it
    gives the name back as its modern spelling (`time.perf_counter`), so the
    rest of the program can be checked, and it says on which lines and what to
    write instead.

Why it matters:
    Course notebooks written before 2019 time their layers with `time.clock`.
    With a newer Python the program stops at that import with an ImportError,
    before it defines or trains anything.

Example:
    from time import clock
    t0 = clock()

Fix:
    from time import perf_counter as clock
    t0 = clock()
"""

NAME = "python-removed"
CODE = "BPD013"
SEVERITY = "warning"
STAGE = "load"
