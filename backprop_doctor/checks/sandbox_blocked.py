"""The user's code tried to change files, use the network, start a process or read the keyboard.

What it finds:
    An action refused by backprop-doctor's sandbox while it ran the user's
    code: writing, appending to, truncating, deleting or renaming a file
    outside the private folder the code runs in (also through a path built
    from `__file__`), opening a network connection, starting or signalling a
    process, or reading standard input. The finding names the user's line
    that asked for it; the code got a `PermissionError` there and went on
    where it could.

Why it matters:
    backprop-doctor promises to leave your folder exactly as it was, so it
    never lets the code it checks touch it. Code that needs the action to
    work (a script that downloads its data set, or saves and reloads a
    checkpoint next to itself) was checked only up to that point.

Example:
    with open(os.path.join(os.path.dirname(__file__), "log.txt"), "a") as f:
        f.write(f"{loss}\n")

Fix:
    Nothing to fix for training itself. To have more of the script checked,
    keep side effects under `if __name__ == "__main__":` after the training
    loop, or guard them behind a flag.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from backprop_doctor.findings import Finding

NAME = "sandbox-blocked"
CODE = "BPD020"
SEVERITY = "warning"
STAGE = "load"

_WHAT = {
    "write": "writes to `{}`",
    "delete": "deletes `{}`",
    "rename": "renames or moves `{}`",
    "truncate": "truncates `{}`",
    "create": "creates `{}`",
    "change": "changes the permissions or times of `{}`",
    "network": "opens a network connection ({})",
    "process": "starts a process (`{}`)",
    "signal": "signals process {}",
    "stdin": "reads standard input{}",
}


def findings(records: Iterable[Any], checked: str, shown: str) -> list[Finding]:
    """One finding per refused action and line (`records` are `loading.sandbox.Blocked`)."""
    from backprop_doctor.rules import rule

    found = []
    for record in records:
        same = record.file is not None and os.path.realpath(record.file) == os.path.realpath(checked)
        file = shown if same or record.file is None else record.file
        where = f"line {record.line}" if record.line else "your code"
        if record.file and not same:
            where += f" of {os.path.basename(record.file)}"
        target = record.target if len(record.target) <= 120 else record.target[:117] + "..."
        what = _WHAT.get(record.action, record.action + " {}").format(target)
        times = f" ({record.count} times)" if record.count > 1 else ""
        found.append(
            rule(NAME).finding(
                f"{where} {what}{times}, which backprop-doctor's sandbox refused: "
                "the code got a PermissionError there, nothing of yours was changed, and the check went on without it",
                file=file,
                line=record.line,
                highlight=(record.line,) if record.line else (),
                evidence=(("refused", f"{record.action}: {target}"),),
            )
        )
    return found
