"""Build and check what the conventions beyond layer classes and networks discovered.

Each such convention's `build(obj, namespace, rng, options)` returns `Case`s: an
adapter the engine can check, and the input to check it on. Everything user
code raises while building becomes a finding at the user's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import Adapter


@dataclass
class Case:
    label: str  # "x (5, 6)", "sequence (2, 3, 4)"
    adapter: Adapter
    x: Any
    t: Any = None


class NotChecked(Exception):
    """The object was recognised but is not checked, for the reason given (no finding)."""


def check_others(others: list[tuple[Any, Any]], context: Any, rng: np.random.Generator) -> Any:
    """A `Report` of every (convention, object) pair in `others`."""
    from backprop_doctor import build
    from backprop_doctor.engine import LayerCheck
    from backprop_doctor.findings import Built, Report

    opts = context.options
    report = Report(seed=opts.seed)
    for convention, obj in others:
        name = convention.label(obj) if hasattr(convention, "label") else getattr(obj, "__name__", str(obj))
        try:
            cases = convention.build(obj, context, rng)
        except NotChecked as reason:
            report.built.append(Built(name, f"{convention.NAME} convention", skipped=str(reason)))
            continue
        except Exception as error:  # user code, or nothing to build it from
            report.findings.append(build.failure_finding(name, obj, error))
            report.built.append(Built(name, "not built", skipped=str(error)))
            continue
        for case in cases:
            floor = getattr(case.adapter, "rtol", None)  # an approximation judged as one, unless the user set --rtol
            options = opts.replace(rtol=floor) if floor is not None and opts.rtol is None else opts
            check = LayerCheck(case.adapter, case.x, case.t, options, label=case.adapter.name)
            report.extend(check.run())
        report.built.append(Built(name, f"{convention.NAME} convention", "; ".join(c.label for c in cases)))
    return report
