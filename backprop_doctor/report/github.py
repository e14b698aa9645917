"""Findings as GitHub Actions workflow commands, so they show up as annotations on the diff.

One line per finding:

    ::error file=net.py,line=16,col=9,title=BPD301 softmax-not-per-row (root cause)::Softmax ...

errors become `::error`, warnings `::warning`, info `::notice`. GitHub reads `%`, CR and
LF as escapes in the message, and also `:` and `,` in the properties, so those are
percent-encoded; the message may therefore carry the fix on several lines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from backprop_doctor.findings import Finding, Report

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def to_github(reports: Report | Sequence[Report], *, root: str | None = None) -> str:
    """One workflow command per finding, newline-terminated; "" when nothing was found.

    Absolute paths under `root` (default: the working directory, which is the checkout
    in a GitHub job) are made relative to it, as GitHub expects.
    """
    if isinstance(reports, Report):
        reports = [reports]
    root = root or os.getcwd()
    lines = []
    for report in reports:
        root_key = report.root_cause.key() if report.root_cause is not None else None
        for finding in report.findings:
            lines.append(command(finding, report.file, root=root, is_root=finding.key() == root_key))
    return "".join(line + "\n" for line in lines)


def command(finding: Finding, report_file: str | None = None, *, root: str, is_root: bool = False) -> str:
    """The workflow command of one finding."""
    properties: list[tuple[str, str]] = []
    path = finding.file or report_file
    if path:
        properties.append(("file", _relative(path, root)))
        if finding.line is not None:
            properties.append(("line", str(finding.line)))
            if finding.end_line is not None and finding.end_line > finding.line:
                properties.append(("endLine", str(finding.end_line)))
            if finding.column is not None:
                properties.append(("col", str(finding.column)))
    title = f"{finding.code} {finding.name}"
    if is_root:
        title += " (root cause)"
    properties.append(("title", title))

    message = finding.message
    if finding.caused_by and not is_root:
        message += f" (explained by {finding.caused_by.split(':')[0]})"
    if finding.fix:
        message += "\n\nFix:\n" + finding.fix.strip("\n")

    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMAND.get(finding.severity, 'notice')} {props}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message: `%`, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as `escape_data`, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _relative(path: str, root: str) -> str:
    if not os.path.isabs(path):
        return path.replace(os.sep, "/")
    try:
        relative = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return path
    if relative.startswith(".."):
        return path
    return relative.replace(os.sep, "/")
