"""Reports as JSON, for editors, CI and other programs. The schema below is stable.

Fields are only ever added; a renamed or removed field raises ``schema``.

    {
      "tool": "backprop-doctor",
      "version": "0.1.0",             # backprop-doctor's version
      "schema": 1,                    # version of this layout
      "seed": 0,                      # seed of the first report (each file also has its own)
      "root_cause": {                 # the finding the verdict of the first failing file names,
        "file": "net.py",             #   or null when every file is ok
        "index": 0,                   #   index into that file's "findings"
        "name": "softmax-not-per-row",
        "code": "BPD301",
        "line": 16,
        "message": "..."
      },
      "files": [
        {
          "file": "net.py",           # null when an object, not a file, was checked
          "ok": false,                # true when there is no error finding
          "seed": 0,
          "verdict": "✗ net.py: the loss rises because ...",   # the first line of the text report
          "root_cause": 0,            # index into "findings", or null
          "findings": [
            {
              "key": "BPD301:SoftmaxWithLoss::16",   # what another finding's "caused_by" names
              "name", "code", "severity",            # severity: "error" | "warning" | "info"
              "message",
              "file", "line", "column", "end_line", "highlight",   # highlight: [line, ...]
              "layer", "param",
              "measured", "threshold",   # number, "nan", "inf", "-inf" or null
              "fix", "pattern",
              "evidence": [{"label": "...", "text": "..."}],
              "caused_by"                # key of the finding that explains this one, or null
            }
          ],
          "measurements": [{"layer", "param", "relative_error", "verdict", "probes"}],
          "built": [{"what", "how", "shapes", "skipped"}],
          "training": {                # the training probe, or null when it did not run
            "yours": [2.3, ...], "reference": [...] | null,
            "reference_label": "per-row softmax", "steps": 50, "lr": 0.1
          },
          "extras": {...}              # everything else the run recorded (free-form)
        }
      ],
      "summary": {"files": 1, "failing": 1, "errors": 3, "warnings": 2, "info": 4}
    }

JSON has no NaN or infinity: anywhere in the document they are spelled "nan", "inf"
and "-inf". Values JSON cannot hold (arrays, objects) become lists or their `str`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from backprop_doctor import __version__
from backprop_doctor.findings import Report, json_float
from backprop_doctor.report.text import index_of, named_finding, totals, verdict

SCHEMA = 1


def to_json(reports: Report | Sequence[Report], *, indent: int | None = 2) -> str:
    """The reports as one JSON document (see the module docstring for the schema)."""
    return json.dumps(to_data(reports), indent=indent, ensure_ascii=False, allow_nan=False)


def to_data(reports: Report | Sequence[Report]) -> dict[str, Any]:
    """The document `to_json` serialises, as plain Python data."""
    if isinstance(reports, Report):
        reports = [reports]
    files = [_file_data(report) for report in reports]
    counts = totals(reports)
    return {
        "tool": "backprop-doctor",
        "version": __version__,
        "schema": SCHEMA,
        "seed": reports[0].seed if reports else None,
        "root_cause": _top_root_cause(reports),
        "files": files,
        "summary": {
            "files": len(reports),
            "failing": sum(1 for r in reports if not r.ok),
            "errors": counts["error"],
            "warnings": counts["warning"],
            "info": counts["info"],
        },
    }


def _file_data(report: Report) -> dict[str, Any]:
    base = report.to_dict()
    findings = base["findings"]
    for finding, data in zip(report.findings, findings):
        data["key"] = finding.key()
    root = index_of(report.findings, report.root_cause) if report.root_cause is not None else None
    extras = dict(base.get("extras") or {})
    training = extras.pop("training", None)
    return _jsonable(
        {
            "file": base["file"],
            "ok": base["ok"],
            "seed": base["seed"],
            "verdict": verdict(report),
            "root_cause": root,
            "findings": findings,
            "measurements": base["measurements"],
            "built": base["built"],
            "training": training,
            "extras": extras,
        }
    )


def _top_root_cause(reports: Sequence[Report]) -> dict[str, Any] | None:
    """The finding the verdict of the first failing file names."""
    for report in reports:
        if report.ok:
            continue
        finding = named_finding(report)
        index = index_of(report.findings, finding) if finding is not None else None
        if finding is None or index is None:
            continue
        return {
            "file": finding.file or report.file,
            "index": index,
            "name": finding.name,
            "code": finding.code,
            "line": finding.line,
            "message": finding.message,
        }
    return None


def _jsonable(value: Any) -> Any:
    """`value` with NaN and infinities spelled out and numpy values made plain."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return json_float(value) if not math.isfinite(value) else value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    return str(value)
