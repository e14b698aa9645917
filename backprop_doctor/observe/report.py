"""What an observed run adds to the report: its findings and a JSON-able summary in `extras`."""

from __future__ import annotations

import math
import os
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.observe.record import Record

CURVE_KEPT = 200  # loss values kept in the summary


def findings(record: Record, shown: str) -> list[Finding]:
    """`synthetic-data` for each loader replaced, `program-stopped` when the program raised or ran
    out of the time it was given before it had shown what it trains."""
    from backprop_doctor.checks import synthetic_data
    from backprop_doctor.loading.datasets import REPLACED
    from backprop_doctor.rules import rule

    found = synthetic_data.findings(REPLACED, shown)
    stop = _stop(record, shown)
    if stop is not None:
        what, file, line = stop
        checked = "what it built before that was checked on what it was given" if record.instances or record.functions else "nothing it built could be observed"
        held, advice = "", f"run the file on its own to see {'the error' if record.stopped == 'raised' else 'what it prints before it exits'}"
        if record.stopped == "raised" and record.standin is not None:
            name, module = record.standin
            what_held = f"`{name}`, which holds what" if name != module else "what"  # the module itself: `mnist.load_data()`
            held = f", on {what_held} the stand-in for `{module}` (missing here) returned, not what `{module}` would, so the stop is the stand-in's, not your code's"
            advice = f"run it where `{module}` can be imported to see it on its own data"
        elif record.stopped == "raised" and record.standin_file is not None:
            name, what = record.standin_file
            held = f", reading `{name}`, which backprop-doctor gave it for {what} (missing here): the stop is the stand-in's, not your code's"
            advice = "run it where that file is to see it on its own data"
        found.append(
            rule("program-stopped").finding(
                f"your program {what} while backprop-doctor watched it run{held}: {checked}; {advice}, "
                "or pass --no-run to check the definitions only",
                file=file or shown,
                line=line,
                highlight=(line,) if line else (),
            )
        )
    elif record.stopped == "budget":
        checked = "what it had built by then was checked" if record.instances or record.functions else "it had built nothing to check by then"
        found.append(
            rule("program-stopped").finding(
                f"your program was stopped after {record.seconds:.0f} s of watching it (the --run-budget): "
                f"{checked}; pass a larger --run-budget to watch longer",
                file=shown,
            )
        )
    return found


def _stop(record: Record, shown: str) -> tuple[str, str | None, int | None] | None:
    """How the program stopped before its end, in words, and where (file, when not `shown`, and line):
    when it raised, or exited before its training: an `exit()` inside a loader that finds no data file stops it as surely as an error."""
    if record.stopped == "raised" and record.error is not None:
        what, file, line = record.error
    elif record.stopped == "exited" and record.stack and not (record.loops_reached or record.instances or record.functions or record.losses):
        # before anything ran that it trains with: not the `sys.exit(main())` of a program that did
        what, (file, line) = "", record.stack[-1]
    else:
        return None
    same = file is not None and os.path.realpath(file) == os.path.realpath(shown)
    where = f"line {line}" if line else "your program"
    if file and not same:
        where += f" of {os.path.basename(file)}"
    if record.stopped == "raised":
        return f"stopped at {where} with {what}", None if same else file, line
    own = [n for f, n in record.stack if os.path.realpath(f) == os.path.realpath(shown)]
    called = f", called from line {own[-1]}," if own and not same else ""
    return f"exited at {where}{called} through exit() or sys.exit()", None if same else file, line


def summary(record: Record, shown: str) -> dict[str, Any]:
    """Plain JSON data for the renderers: how the run ended and the user's own loss curve."""
    file, line, values = record.loss_curve()
    finite = [v if math.isfinite(v) else None for v in values[:CURVE_KEPT]]
    data: dict[str, Any] = {
        "stopped": record.stopped,
        "seconds": round(record.seconds, 3),
        "instances": [
            {"class": i.name, "line": i.line, "file": _file(i.file, shown)} for i in record.instances
        ],
        "functions": [f.name for f in record.functions],
        "loss": {"file": _file(file, shown), "line": line, "values": finite} if values else None,
    }
    if record.error is not None:
        data["error"] = {"message": record.error[0], "file": _file(record.error[1], shown), "line": record.error[2]}
    return data


def _file(file: str | None, shown: str) -> str | None:
    if file is None:
        return None
    return shown if os.path.realpath(file) == os.path.realpath(shown) else file
