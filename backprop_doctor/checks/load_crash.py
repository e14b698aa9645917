"""The process checking the file died without producing a report.

What it finds:
    The child process that loads and checks the file ended abnormally: a
    segmentation fault in a C extension, `os._exit(...)`, the out-of-memory
    killer, or an internal error of backprop-doctor. The finding names how it
    ended, the line of the user's code it was running (when a stack dump shows
    it) and the last lines the process wrote to stderr.

Why it matters:
    No other finding could be collected for the file. Your own process is
    unaffected: the file runs in a separate process precisely for this.

Example:
    import os
    os._exit(0)                          # at module level, under --exec-module

Fix:
    Remove the call, or put it under `if __name__ == "__main__":`; run the file
    on its own to see a crash in an extension module.
"""

NAME = "load-crash"
CODE = "BPD006"
SEVERITY = "error"
STAGE = "load"
