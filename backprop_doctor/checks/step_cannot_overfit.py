"""Every gradient of the program is right, yet its own training step cannot fit five samples.

What it finds:
    After the training-step replay has found every update of your program
    right, and when no other training finding explains its loss (no learning
    rate that works better, no NaN, no dead units, no lost update),
    backprop-doctor cuts the data your loop reads to 5 samples (or keeps them
    all when there are fewer) and runs your loop's body on them again and
    again, up to 2,000 times, with your own update rule and learning rate. The
    same pass every time: a minibatch drawn inside the loop draws from those
    samples the same way. This check fires when the loss ends above a fifth of
    where it began and has stopped falling. It is the script's
    `cannot-overfit`. A loop backprop-doctor had to drive itself, or ran on
    synthetic data in place of a data set it could not load, is not judged:
    its rate and data would be the tool's, not yours. A weight decay is set
    to 0 for those passes (`reg`, `net.weight_decay`: the strength of an L2
    term a gradient adds): the penalty puts a floor under the loss that no fit
    goes below, and the question is whether the data can be fitted. Nor is a
    loss against soft targets: a data array of them, or labels the program
    smooths itself (`target = np.full(shape, s / K)` with `1 - s` at the
    label, `y * (1 - s) + s / K`): the cross-entropy against them is at least
    their entropy, however well the network fits.

Why it matters:
    Any network whose gradients are right memorises a handful of samples; one
    that cannot is stuck for a reason that no amount of data or patience will
    fix. With the gradients ruled out, what is left is the set-up: inputs so
    large that sigmoid or tanh units saturate and pass no gradient back, an
    output activation that cannot reach the targets, a network too small for
    even five samples, or a step far too small. When the samples hold values
    of 20 or more, the report names the array. When the weight matrices are
    drawn so small that each layer shrinks what it passes on (std times the
    square root of its larger axis below 0.3, in two or more) and the same
    step fits the samples once they are drawn at the usual size (std
    1/sqrt(fan_in)), the report leads with the initial weights: where they
    are drawn, and the number that scales them (`init_scale=0.01` at the
    call that builds the model), which is the line it points at. When the
    network has four or more weight matrices and one's gradient, relative to
    its own size, is a thousandth of another's or less, the report says the
    gradient vanishes through the layers (a deep stack of sigmoid units).

Example:
    X = np.random.randint(0, 256, size=(200, 16)).astype(float)   # pixels, never scaled
    ...
    h = sigmoid(X @ W1 + b1)

Fix:
    X = X / 255.0
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import gradients_right, rate_setting, update_rate
from backprop_doctor.checks.adam_step_wrong import breaks_training
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.writes import first_assignment_line

NAME = "step-cannot-overfit"
CODE = "BPD615"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.checks.step_decay_wrong import wrong_scalings
    from backprop_doctor.replay.uniform import collapsed_inputs

    source = context.source
    if source is None or any(breaks_training(drift) for drift in context.extras.get("adam_drift", [])):
        return  # an optimizer of the program's that does not step as it should explains it (`adam-step-wrong`)
    if any(getattr(drift, "undecayed", False) for drift in context.extras.get("momentum_drift", [])):
        return  # a velocity that sums every gradient, never decayed, explains it (`momentum-never-decays`)
    for result in context.extras.get("replay") or []:
        tiny = result.tiny
        if tiny is None or result.wrong or not tiny.judged or tiny.fitted or result.driver or result.standin:
            continue  # a step driven on made-up data or settings (`replay.driver`, `replay.standin`) says nothing of the program's
        if tiny.own_fit is not None:
            continue  # the program's own loop, as many passes as it makes, fits all its data: its set-up does not stop it
        if wrong_scalings(result):
            continue  # a decay written wrongly (`P *= wd`) wipes the weights out at every pass (`step-decay-wrong`)
        if collapsed_inputs(result):
            continue  # inputs nearly constant over the samples explain it (`step-inputs-collapsed`)
        losses = tiny.losses
        rate = update_rate(result)
        if rate is not None:
            rate_line, where = rate_setting(source, result, *rate)
            at = f" at {where}"
        else:
            rate_line, at = result.step.loop_line, ""
        which = f"{tiny.samples} samples of {_names(tiny.cut)}" if tiny.cut else f"its {tiny.samples} samples"
        if tiny.undecayed:  # the penalty set to 0: its floor under the loss is not what these passes are judged by
            at += f" and its weight decay ({_names(tiny.undecayed)}) set to 0"
        text = (
            f"your program cannot fit {which}: its own training step, repeated {len(losses)} times on them with its update rule{at}, "
            f"takes their loss from {losses[0]:.4g} to {losses[-1]:.4g}, not below a fifth of where it began"
            f"{',' if result.parameters else ''}{gradients_right(result)}"
        )
        line, fix, highlight = rate_line, None, ()
        if tiny.mean_only and tiny.raw_targets is not None:
            name, largest, _ = tiny.raw_targets
            text = (
                f"your program cannot fit {which}: its own training step, repeated {len(losses)} times on them with its update rule{at}, "
                f"takes their loss from {losses[0]:.4g} to {losses[-1]:.4g}, no lower than fitting their mean alone leaves"
                f"{',' if result.parameters else ''}{gradients_right(result)}; `{name}` holds targets up to {largest:.4g} on their raw "
                "scale, never standardised: a bias learns their mean while the gradients that large saturate the hidden units and "
                f"nothing else fits; standardise the targets (`{name} = ({name} - {name}.mean()) / {name}.std()`) and undo it on the "
                "predictions"
            )
            fix = f"{name} = ({name} - {name}.mean()) / {name}.std()"
            assigned = source.tree is not None and first_assignment_line(source.tree, [name])
            line = assigned if assigned and assigned < result.step.loop_line else result.step.loop_line
        elif tiny.faster is not None and rate is not None:
            name, faster, curve = tiny.faster
            fix = f"{name} = {faster:g}"
            text += f"; with `{fix}` the same step fits them ({curve[0]:.4g} → {curve[-1]:.4g} in {len(curve)} passes): raise the learning rate"
        elif tiny.larger_init is not None and tiny.larger_init.lines:
            line, cause, drawn = _too_small(source, tiny.larger_init)
            curve = tiny.larger_init.losses
            text = (
                f"{cause}: {text}; drawn at that size, the same step fits them ({curve[0]:.4g} → {curve[-1]:.4g} in {len(curve)} passes): "
                "draw them with std 1/sqrt(fan_in) (sqrt(2/fan_in) for ReLU)"
            )
            highlight = tuple(sorted({line, drawn}))
        elif tiny.alike is not None:
            inputs, targets, distinct, size = tiny.alike
            text += (
                f"; its inputs cannot tell its samples apart: the {size} samples of `{inputs}` hold only {distinct} distinct "
                f"row{'s' if distinct > 1 else ''} of values, and samples with the same `{inputs}` have different `{targets}`; look at how "
                f"`{inputs}` is made (standardise each feature over the samples, `axis=0`)"
            )
            assigned = source.tree is not None and first_assignment_line(source.tree, [inputs])
            line = assigned if assigned and assigned < result.step.loop_line else result.step.loop_line
        elif tiny.largest is not None:
            name, largest = tiny.largest
            text += (
                f"; `{name}` holds values up to {largest:.4g}: data that large saturates sigmoid and tanh units, whose gradients "
                "then vanish, and no output squashed to (0, 1) reaches such targets; scale it"
            )
            fix = f"{name} = {name} / 255.0" if largest <= 255 else f"{name} = ({name} - {name}.mean(axis=0)) / {name}.std(axis=0)"
            assigned = source.tree is not None and first_assignment_line(source.tree, [name])
            line = assigned if assigned and assigned < result.step.loop_line else result.step.loop_line
        elif (vanishing := _vanishing(result)) is not None:
            small, large, ratio, layers = vanishing
            text += (
                f"; its gradient vanishes on the way back through its {layers} weight matrices: relative to its weights, the "
                f"gradient of `{small}` is {ratio:.2g} times smaller than that of `{large}`, so the layers near the input hardly "
                "move. A deep stack of sigmoid or tanh units shrinks the gradient at every layer (a sigmoid's slope is at most "
                "0.25): use fewer layers, or ReLU units with weights drawn with std sqrt(2/fan_in)"
            )
            root = _ROOT.match(small)
            assigned = source.tree is not None and root is not None and first_assignment_line(source.tree, [root.group(0)])
            line = assigned if assigned and assigned < result.step.loop_line else result.step.loop_line
        else:
            text += (
                "; what stops it is the set-up: an output activation that cannot reach the targets, units that saturate, "
                "a network too small for them, or a learning rate far too small"
            )
        yield rule(NAME).finding(
            text + ".",
            file=source.path,
            line=line,
            fix=fix,
            highlight=highlight,
            measured=losses[-1],
            threshold=0.2 * abs(losses[0]),
            evidence=(
                *((("usual-size weights", f"{len(tiny.larger_init.losses)} passes: {tiny.larger_init.losses[0]:.4g} → {tiny.larger_init.losses[-1]:.4g}"),) if tiny.larger_init else ()),
                *((("larger rate", f"{len(tiny.faster[2])} passes at {tiny.faster[0]} = {tiny.faster[1]:g}: {tiny.faster[2][0]:.4g} → {tiny.faster[2][-1]:.4g}"),) if tiny.faster else ()),
                ("tiny batch", f"{len(losses)} passes of your loop on {f'{tiny.samples} of its {tiny.of}' if tiny.cut else f'its {tiny.samples}'} samples: {losses[0]:.4g} → {losses[-1]:.4g}"),
                ("your loop", f"{len(result.curve)} steps on its own batches: {result.curve[0]:.4g} → {result.curve[-1]:.4g}"),
            ),
        )


def _too_small(source: Any, bigger: Any) -> tuple[int, str, int]:
    """(line, words, line drawing them) of weights drawn so small that the signal vanishes through the
    layers, which the same step fits from once they are drawn at the usual size: the line is the number
    that sets their scale, when the program writes one (`init_scale=0.01` at the call that builds the
    model), else where they are drawn."""
    import math

    from backprop_doctor.static.init_scale import scale_written

    drawn_line, drawn = bigger.lines[0]
    name, shape, std = max(bigger.matrices, key=lambda m: (m[1][0] * m[1][1], -m[2]))  # the largest: a hidden layer's
    usual = 1 / math.sqrt(math.sqrt(shape[0] * shape[1]))
    written = scale_written(source.tree, drawn_line)
    scale = f", scaled by `{written.text}` (line {written.line})" if written is not None and written.line != drawn_line else ""
    words = (
        f"your initial weights are too small: line {drawn_line} (`{drawn}`) draws them{scale}, `{name}` ({'×'.join(map(str, shape))}) "
        f"with std {std:.3g} where about 1/sqrt(fan_in) ({usual:.3g}) keeps each layer's output the size of its input; "
        f"each of its weight matrices shrinks what it passes on, so the activations and the gradients vanish "
        "through the layers"
    )
    return (written.line if written is not None else drawn_line), words, drawn_line


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


VANISHED = 1e-3  # the smallest weight matrix's relative gradient below this share of the largest's: vanished
_ROOT = re.compile(r"[A-Za-z_][\w.]*")


def _vanishing(result: Any) -> tuple[str, str, float, int] | None:
    """(smallest, largest, how many times smaller, how many matrices) of the step's weight matrices (4 or more)
    when one's gradient, relative to its own size (RMS over RMS), is below `VANISHED` of another's."""
    import numpy as np

    relative = []
    for moved, measured in result.parameters:
        value, gradient = moved.value, moved.gradient
        if not (isinstance(value, np.ndarray) and isinstance(gradient, np.ndarray) and value.ndim == 2 and min(value.shape) > 1):
            continue
        size = float(np.sqrt(np.mean(np.square(value, dtype=np.float64))))
        if size > 0 and gradient.shape == value.shape and np.all(np.isfinite(gradient)):
            relative.append((float(np.sqrt(np.mean(np.square(gradient, dtype=np.float64)))) / size, measured.name))
    if len(relative) < 4:
        return None
    (low, small), (high, large) = min(relative), max(relative)
    if not (low > 0 and low < VANISHED * high):
        return None  # all zero is a frozen parameter's finding, not a vanishing one
    return small, large, high / low, len(relative)
