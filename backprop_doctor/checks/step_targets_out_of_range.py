"""The step's loss compares a sigmoid's (or tanh's) output with targets it cannot reach.

What it finds:
    The training-step replay's loss reads an output the step squashes with a
    sigmoid (values in (0, 1)) or a tanh (in (-1, 1)) and an array of
    targets. Clipping the targets into that range gives the closest values
    any output can take: when their mean squared distance from the targets is
    at least a tenth of the targets' own variance, no weights bring the loss
    down. The targets' line (the data array they are drawn from), their
    range, the output's line and the lowest mean squared error reachable are
    named. Judged only when the step's gradients are right: a wrong gradient
    comes first.

Why it matters:
    The gradients can all be right and the loss still never falls: the
    output saturates against the end of its range (where a sigmoid's slope is
    0) while the targets lie beyond it. Exam scores of 0 to 100 under a
    sigmoid leave a mean squared error of thousands; labels of -1 and +1
    under a sigmoid leave half the samples out of reach.

Example:
    y = scores                      # 0 .. 100
    out = sigmoid(h @ W2 + b2)
    loss = np.mean((out - y) ** 2)

Fix:
    y = scores / 100.0              # predict in (0, 1), multiply back by 100
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-targets-out-of-range"
CODE = "BPD618"
SEVERITY = "error"
STAGE = "training"

_RANGE_WORDS = {"sigmoid": "(0, 1)", "tanh": "(-1, 1)"}


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.reach import unreachable

    source = context.source
    if source is None:
        return
    for result in context.extras.get("replay") or []:
        if not result.parameters or result.wrong or result.maximised or result.driver or result.standin:
            continue  # a wrong gradient comes first; made-up data says nothing of the program's targets
        found = unreachable(result)
        if found is None:
            continue
        span = _RANGE_WORDS[found.kind]
        drawn = f", drawn from `{found.data}`" if found.data != found.targets else ""
        where = f" (line {found.data_line})" if found.data_line else ""
        share = f"{found.outside:.0%} of them lie outside it" if found.outside < 0.995 else "every one lies outside it"
        scale = _advice(found)
        if _log_loss(result):
            message = (
                f"your targets `{found.targets}`{drawn}{where}{',' if drawn else ''} run from {found.low:.4g} to {found.high:.4g}, but the loss "
                f"takes the log of `{found.output}` (line {found.output_line}), a {found.kind}'s output, as a cross-entropy of labels of "
                f"0 and 1 does: {share.replace('outside it', 'outside [0, 1]')}, and a cross-entropy of such targets has no minimum, it falls below 0 and on to -inf as the "
                "output saturates; use labels of 0 and 1 (or probabilities) as the targets"
            )
        else:
            message = (
                f"your targets `{found.targets}`{drawn}{where}{',' if drawn else ''} run from {found.low:.4g} to {found.high:.4g}, but the output they are "
                f"compared with, `{found.output}` (line {found.output_line}), is a {found.kind}'s, which lies in {span}: {share}, and no "
                f"weights bring the mean squared error below {found.floor:.4g} (their variance is {found.spread:.4g}); {scale}"
            )
        line = found.data_line or found.output_line
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=line,
            highlight=tuple(sorted({line, found.output_line})),
            pattern="targets-out-of-range",
            measured=found.floor,
            threshold=0.1 * found.spread,
            evidence=(
                ("targets", f"`{found.targets}`: {found.low:.4g} to {found.high:.4g}, {found.outside:.0%} outside {span}"),
                ("reachable", f"the closest outputs in {span} leave a mean squared error of {found.floor:.4g}"),
                *((("your loop", f"{len(result.curve)} steps: {result.curve[0]:.4g} → {result.curve[-1]:.4g}"),) if result.curve else ()),
            ),
        )


def _log_loss(result: Any) -> bool:
    """Whether the replayed step's loss takes a log (a cross-entropy), not a squared error."""
    import ast

    from backprop_doctor.static.files import source_tree

    loss = getattr(result, "loss", None)
    if loss is None:
        return False
    if "log(" in loss.expression:
        return True
    try:  # `cost = compute_cost(A2, Y, parameters)`: the function it calls takes the log
        call = ast.parse(loss.expression.strip(), mode="eval").body
    except SyntaxError:
        return False
    runner = getattr(result, "runner", None)
    tree = source_tree(runner.path)[1] if runner is not None else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)) or tree is None:
        return False
    function = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == call.func.id), None)
    return function is not None and "log(" in ast.unparse(function)


def log_loss_of_unreachable_targets(result: Any) -> bool:
    """A cross-entropy whose targets lie outside its sigmoid's range (`unreachable`), gradients right: it
    has no minimum, and the NaN or -inf it ends in is that, not a guard missing from a `log`."""
    from backprop_doctor.replay.reach import unreachable

    if not result.parameters or result.wrong or result.maximised or result.driver or result.standin or not _log_loss(result):
        return False
    found = unreachable(result)
    return found is not None and found.kind == "sigmoid"


def _advice(found: Any) -> str:
    if found.kind == "sigmoid" and found.low >= 0 and found.high > 1:
        bound = 10 ** math.ceil(math.log10(found.high))  # 100 for scores up to 92
        return f"scale the targets into (0, 1) (divide `{found.data}` by {bound:g}, and multiply the outputs back), or give the network a linear output"
    if found.kind == "sigmoid" and found.low < 0 and found.high <= 1:
        return f"use targets of 0 and 1 with a sigmoid (`({found.data} + 1) / 2` for labels of -1 and +1), or a tanh output"
    return f"scale the targets into {_RANGE_WORDS[found.kind]}, or give the network a linear output"
