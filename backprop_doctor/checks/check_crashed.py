"""One of backprop-doctor's own checks failed on this file.

What it finds:
    A check raised an exception inside backprop-doctor while it worked on your
    file. The other checks still ran and their findings are in the report, but
    the failed check's findings are missing, so "no problems found" cannot be
    said. The finding names the check and the exception.

Why it matters:
    This is a bug in backprop-doctor, not in your code. Without this finding
    the report could claim a clean bill of health it did not establish.

Example:
    (any file on which a check of backprop-doctor raises)

Fix:
    Nothing to change in your file. Please report it with the file and the
    message, and run with `--ignore` on the named check meanwhile.
"""

from __future__ import annotations

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "check-crashed"
CODE = "BPD009"
SEVERITY = "warning"
STAGE = "load"


def finding(check: str, error: BaseException, path: str | None) -> Finding:
    """The finding for `check` having raised `error` while checking the file at `path`."""
    return rule(NAME).finding(
        f"the `{check}` check of backprop-doctor failed on this file ({type(error).__name__}: {error}); "
        "its findings are missing from this report: this is a bug in backprop-doctor, please report it",
        layer=check,
        file=path,
    )
