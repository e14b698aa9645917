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
    """The object was recognised but is not checked, for the reason given (no finding); `quiet`: not
    listed either (recognised only on the chance that the program's own call would tell more)."""

    def __init__(self, reason: str = "", quiet: bool = False):
        super().__init__(reason)
        self.quiet = quiet


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
            if not reason.quiet:
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
            result = check.run()
            if hasattr(case.adapter, "layer"):  # a layer object built for it: the checks may read what it holds
                context.extras.setdefault("convention_layers", []).append((case.adapter.name, case.adapter.layer))
            # a NameError is no guessed width or layout: a name the function reads from outside it (`reads-a-global`)
            guessed = [f for f in result.findings if f.name == "layer-raised" and f.severity == "error" and "NameError" not in f.message]
            if guessed:
                ran = _returned_in_program(context, case.adapter.target)
                if ran is not None:
                    from backprop_doctor.checks import layer_raised  # the check words it

                    result.findings = [layer_raised.run_by_the_program(f, ran or None) if any(f is g for g in guessed) else f for f in result.findings]
            report.extend(result)
        report.built.append(Built(name, f"{convention.NAME} convention", "; ".join(c.label for c in cases)))
    return report


def _returned_in_program(context: Any, target: Any) -> int | None:
    """The line (0 when unknown) of a call of the function `target` that returned in the program's own
    observed run; None when the run never called it or every call raised."""
    call = program_call(context, target)
    return None if call is None else call.line or 0


def program_instances(context: Any, cls: type, method: str) -> list[Any]:
    """The program's own objects of `cls` from its observed run, each with the state taken before its
    first call. The run loads the file again, so its class is another object: matched by the code of
    `cls`'s `method` (its file and first line)."""
    record = getattr(context, "extras", {}).get("observed_record")
    code = getattr(getattr(cls, method, None), "__code__", None)
    if code is None:
        return []
    found = []
    for instance in getattr(record, "instances", None) or []:
        theirs = getattr(getattr(instance.cls, method, None), "__code__", None)
        if theirs is not None and instance.state is not None and (theirs.co_filename, theirs.co_firstlineno) == (code.co_filename, code.co_firstlineno):
            found.append(instance)
    return found


def program_calls(context: Any, target: Any) -> list[Any]:
    """Every kept call of the function `target` in the program's own observed run, raised or not. The
    run loads the file again, so its functions are other objects: the one recorded as `target` itself,
    else those whose code has `target`'s file, first line and name."""
    record = getattr(context, "extras", {}).get("observed_record")
    target = getattr(target, "__func__", target)
    code = getattr(target, "__code__", None)
    if record is None or code is None:
        return []
    where = (code.co_filename, code.co_firstlineno, code.co_name)
    found = []
    for function in record.functions:
        func = getattr(function.func, "__func__", function.func)
        theirs = getattr(func, "__code__", None)
        if func is target or theirs is not None and (theirs.co_filename, theirs.co_firstlineno, theirs.co_name) == where:
            found.extend(function.calls)
    return found


def program_call(context: Any, target: Any) -> Any:
    """The first call of the function `target` that returned in the program's own observed run (its
    `args`, `line`), or None (`program_calls`)."""
    return next((c for c in program_calls(context, target) if c.returned), None)
