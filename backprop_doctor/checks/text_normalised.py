"""Invisible characters pasted from a web page were read as spaces, or the encoding was guessed.

What it finds:
    Characters that look like spaces but that Python rejects outside strings:
    U+00A0 NO-BREAK SPACE (what a browser copies for `&nbsp;`), U+3000
    IDEOGRAPHIC SPACE (a full-width space from a Chinese or Japanese input
    method), U+2002..U+200A and U+202F spaces, and the zero-width U+200B and
    U+FEFF. backprop-doctor reads each one the compiler rejects as an ASCII
    space (zero-width ones as nothing) and says which, how many and where.
    Characters inside strings and comments are left alone. The same rule
    reports a file that is not valid UTF-8 and declares no other encoding, and
    the encoding it was read with instead (GB18030, Shift-JIS, ...).

Why it matters:
    Python stops at the first such character with "invalid non-printable
    character U+00A0", often on a line that looks blank. The file on disk still
    has them: fix them, or `python yourfile.py` keeps failing.

Example:
    def forward(self, x):
    ····return np.dot(x, self.W)     # the four "spaces" are U+00A0

Fix:
    def forward(self, x):
        return np.dot(x, self.W)         # retyped with ordinary spaces

    Most editors can show invisible characters and replace them: search for
    the regular expression [\\u00a0\\u3000\\u200b] and replace it with a space.
"""

NAME = "text-normalised"
CODE = "BPD002"
SEVERITY = "info"
STAGE = "load"
