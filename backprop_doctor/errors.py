"""The few exceptions backprop-doctor raises itself.

Problems in the user's code are never raised: they become findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backprop_doctor.findings import Report


class BackpropDoctorError(Exception):
    """Base class of the tool's own errors."""


class UsageError(BackpropDoctorError):
    """The caller asked for something that cannot be done (bad option, unknown rule...)."""


class UnsupportedObject(BackpropDoctorError):
    """An object handed to the library does not look like a layer, function pair or network."""


class GradientCheckError(AssertionError, BackpropDoctorError):
    """Raised by `Report.raise_for_errors()`; carries the report."""

    def __init__(self, report: Report, message: str | None = None):
        self.report = report
        if message is not None:
            super().__init__(message)
            return
        lines = [f"{len(report.errors)} error finding(s) (seed {report.seed}):"]
        for f in report.errors:
            where = f" [{f.layer}{'.' + f.param if f.param else ''}]" if f.layer else ""
            lines.append(f"  {f.code} {f.name}{where}: {f.message}")
        super().__init__("\n".join(lines))
