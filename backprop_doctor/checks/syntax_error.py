"""The file does not parse, so nothing in it can be checked.

What it finds:
    A syntax or indentation error, with the line, the column and Python's own
    message. Python 2 code (`print x`, `except E, e:`, `raise E, "msg"`, `<>`,
    `0777`, `10L`) is named as such, with the Python 3 spelling of the line and
    the other Python 2 lines in the file. A typographic quote (“ ” ‘ ’) or a
    full-width character from a Chinese or Japanese input method (（ ） ， ：)
    used as code gets its ASCII replacement.

Why it matters:
    Python compiles the whole file before running any of it: one error stops
    every layer in the file from being checked, and from being trained.

Example:
    print "loss:", loss
    x = np.dot（W, x）

Fix:
    print("loss:", loss)
    x = np.dot(W, x)
"""

NAME = "syntax-error"
CODE = "BPD001"
SEVERITY = "error"
STAGE = "load"
