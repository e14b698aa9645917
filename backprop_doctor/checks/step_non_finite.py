"""Your program's own loss is NaN or infinite, and no smaller learning rate helps: the line that made it.

What it finds:
    After the training-step replay has found every update of your program right,
    backprop-doctor runs your training loop again from the same state. When its
    loss stops being a number and the same loop at a ten or a hundred times
    smaller learning rate does too, the step size is not the cause: the
    arithmetic is. A loss that is NaN from the first step, before any update,
    is traced the same way. The loop is then run once more while NumPy reports every
    overflow, division by zero and invalid value, and the first one made on a
    line of your file is named. When that line reads an adaptive step an update
    adds by name (AdaDelta's `dx`), or sets what that step reads, the line that
    makes the step is named instead: a correct adaptive step cannot grow that far.

    A loss that stops being a number at the first replayed pass past the end
    of the loop's own `for ... in range(n_batches)` is not judged: the program
    never runs that pass (its pointer, set again before the next epoch, has
    only run off the data in the replay).

Why it matters:
    Once a NaN reaches the weights every later number is NaN. Here no gradient
    is wrong and no rate fixes it: the forward pass itself takes `exp` of a
    large number, `log` of 0, or divides by a sum that is 0.

Example:
    A2 = 1 / (1 + np.exp(-Z2))
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))   # log(0) once A2 is exactly 1

Fix:
    A2 = np.clip(A2, 1e-12, 1 - 1e-12)   # or compute the loss from Z2 with np.logaddexp
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import defined_step_of, defined_step_words, gradients_right, raw_features, raw_words, standardise
from backprop_doctor.findings import Finding
from backprop_doctor.static.unsquared import unsquared_under_root
from backprop_doctor.rules import rule

NAME = "step-non-finite"
CODE = "BPD610"
SEVERITY = "error"
STAGE = "training"

ADVICE = {
    "overflow": "a number grew past the float range there (`exp` of a large value, or weights that keep growing): "
    "subtract the maximum before `exp`, or scale the inputs",
    "divide by zero": "it divides by 0 or takes `log` of 0 there: keep the value away from 0 "
    "(`np.log(np.clip(p, 1e-12, None))`, or add a small epsilon to the divisor)",
    "invalid value": "it makes a NaN there (`0 / 0`, `inf - inf`, `log` of a negative number, `sqrt` of a negative number): "
    "check what reaches that operation",
}


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    from backprop_doctor.checks.step_clip_does_not_clip import unclipped_of
    from backprop_doctor.checks.step_targets_out_of_range import log_loss_of_unreachable_targets

    for result in context.extras.get("replay") or []:
        found = result.non_finite
        if found is None or result.wrong:
            continue
        if len(result.curve) > 1 and unclipped_of(result, source) is not None:
            continue  # a gradient clip that does not clip let the weights blow up: step-clip-does-not-clip words it
        if len(result.curve) > 1 and log_loss_of_unreachable_targets(result):
            continue  # a cross-entropy of targets outside (0, 1) falls to -inf: step-targets-out-of-range words it
        if _past_its_range(result, found.step):
            continue  # the replay ran the loop's body past its own `range`: the user's loop never reaches that pass
        own = result.curve
        advice = ADVICE.get(found.kind, ADVICE["invalid value"])
        if len(own) == 1:  # before any update
            saturated = _saturated_probabilities(source, result, found.line) if found.kind == "divide by zero" else None
            if saturated is not None:
                name, count, size = saturated
                advice = (
                    f"{count} of {size} entries of `{name}` are exactly 0 or 1 at the first step: a sigmoid's output rounds to "
                    "exactly 1.0 in float64 once its input passes about 37, so what reaches it is far too large from the "
                    f"start, weights initialised too large or inputs left unscaled; scale the initial weights down "
                    f"(`* np.sqrt(1 / n_in)`) or standardise the inputs, and {advice.partition('there: ')[2] or advice}"
                )
            message = (
                f"your program's loss is {own[0]} from its first step, before any update: the first {found.kind} "
                f"in its loop is at line {found.line}; "
            )
        else:
            first_bad = next((i for i, v in enumerate(own) if not math.isfinite(v)), len(own) - 1)
            message = (
                f"your program's own loss stops being a number after {first_bad + 1} of its steps{gradients_right(result)}, "
                f"and a smaller learning rate does not help: the first {found.kind} "
                f"in its loop is at line {found.line} (step {found.step + 1}); "
            )
        line, evidence = found.line, ()
        unsquared = unsquared_under_root(source.tree, found.line) if found.kind == "invalid value" else None
        if unsquared is not None:
            # Adam's second moment, or RMSProp's cache, averaging the gradient itself: negative where it is, and its root NaN
            advice = (
                f"the square root there is taken of what `{unsquared.average}` holds, and `{unsquared.statement}` (line {unsquared.line}) "
                f"makes that a running average of `{unsquared.fresh}` itself, not of its square: it goes negative where the gradient is, "
                "and its square root is NaN; average the squared gradient (`... ** 2`)"
            )
            line = unsquared.line
        bigger = getattr(result, "smaller_init", None)
        defined = defined_step_of(result, source, found.line) if unsquared is None and len(own) > 1 else None
        if defined is not None:
            # AdaDelta's `dx = ... np.sqrt(...) / np.sqrt(...) * g`, then `params[key] += dx`: a correct adaptive step stays
            # within a bounded multiple of the last, so a step that reaches the float range is made so where it is defined
            line = defined.line
            fed = next((target for n, target in defined.feeding if n == found.line), None)
            if fed is not None:
                message += (
                    f"line {found.line} sets `{fed}`, which line {defined.line} reads to make the step your update adds "
                    f"(line {defined.update}), `{defined.text}`: "
                )
            elif found.line != defined.line:
                message += (
                    f"line {found.line} reads `{defined.name}`, the step your update adds (line {defined.update}), which line "
                    f"{defined.line} makes (`{defined.text}`): "
                )
            else:
                message += f"line {defined.line} makes the step your update adds (line {defined.update}), `{defined.text}`: "
            message += defined_step_words(defined)
        elif len(own) > 1 and bigger is not None and bigger.lines:
            line, drawn = bigger.lines[0]
            name, shape, std = max(bigger.matrices, key=lambda m: m[2] * math.sqrt(min(m[1])))
            fan = min(shape)
            message += (
                f"your initial weights are too large: line {line} (`{drawn}`) draws them, `{name}` ({'×'.join(str(n) for n in shape)}) "
                f"with std {std:.3g} where about 1/sqrt(fan_in) = {1 / math.sqrt(fan):.3g} keeps each layer's pre-activations "
                f"the size of its inputs; with every weight matrix scaled by {bigger.factor:g} at the start, the same program goes from "
                f"{bigger.curve[0]:.4g} to {bigger.curve[-1]:.4g}: draw them with std 1/sqrt(fan_in) (LeCun; sqrt(2/fan_in) for ReLU)"
            )
            evidence = (("smaller weights", f"{len(bigger.curve)} steps with the weight matrices × {bigger.factor:g}: {bigger.curve[0]:.4g} → {bigger.curve[-1]:.4g}"),)
        elif len(own) > 1 and unsquared is None and (raw := raw_features(result)) is not None:
            line = raw[2] or line  # features in the thousands: every step is huge whatever the rate
            message += f"{raw_words(raw)}, and with features that large the steps blow up; {standardise(raw[0], raw[1])}"
        else:
            message += advice
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=line,
            highlight=tuple(sorted({line, found.line})),
            evidence=(
                ("your loop", "the first step's loss: " + f"{own[0]:.4g}" if len(own) == 1 else f"{len(own)} steps: " + " → ".join(f"{v:.4g}" for v in own[:6])),
                *evidence,
            ),
        )


def _past_its_range(result: Any, step: int) -> bool:
    """Whether the pass at which the loss stopped being a number (0-based `step` of the replay) lies past the end
    of the replayed loop's own `for i in range(n_batches)`: the replay's first pass runs with the loop's variable
    at the value it holds after one pass, so `len(range) - index(that value)` passes are left. An inner batch loop
    replayed for more passes than it has runs its pointer past the data (`X[400:440]` is empty, its mean NaN)."""
    import ast

    loop = result.step.loop
    if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Call)):
        return False
    if not (isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"):
        return False
    namespace = result.after_one_pass()
    if not namespace or loop.target.id not in namespace:
        return False
    try:
        values = eval(compile(ast.Expression(loop.iter), "<range>", "eval"), dict(namespace))  # noqa: S307 - the user's own range
        left = len(values) - values.index(namespace[loop.target.id])
    except Exception:  # noqa: BLE001 - not evaluable on its own, or the variable is not one of its values
        return False
    return 0 < left == step  # the first pass past its end: not a loss that grows over many passes


def _saturated_probabilities(source: Any, result: Any, line: int) -> tuple[str, int, int] | None:
    """(name, entries exactly 0 or 1, entries) of the probabilities the `log` at `line` takes (or, where
    it takes a function's argument, of the pass's own), after one pass of the program's loop, when some
    are exactly 0 or 1 and others are not (targets are all 0 or 1: not probabilities): the output
    saturated, not an unguarded log of a value that merely came close."""
    import ast

    import numpy as np

    lines = getattr(source, "text_lines", None) or []
    if not 0 < line <= len(lines) or "log" not in lines[line - 1]:
        return None
    try:
        statement = ast.parse(lines[line - 1].strip())
    except SyntaxError:
        return None
    names = [
        n.id for call in ast.walk(statement) if isinstance(call, ast.Call) and (getattr(call.func, "attr", None) or getattr(call.func, "id", None)) == "log"
        for arg in call.args for n in ast.walk(arg) if isinstance(n, ast.Name)
    ]  # fmt: skip
    namespace = result.after_one_pass() if hasattr(result, "after_one_pass") else None
    if not namespace:
        return None
    # the names the `log` reads, then, for a `log` inside a function of the program's (`cross_entropy(A, Y)`), what
    # the pass itself holds (`A2`)
    for name in [*dict.fromkeys(n for n in names if n in namespace), *(n for n in namespace if n not in names)]:
        value = namespace.get(name)
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or value.size < 2 or not np.all((value >= 0) & (value <= 1)):
            continue
        ends = int(np.count_nonzero((value == 0) | (value == 1)))
        if 0 < ends < value.size:
            return name, ends, int(value.size)
    return None
