"""Most units of a ReLU layer never fire.

What it finds:
    During the training probe (see `loss-rises`), the outputs of every
    ReLU-like layer of your network are recorded on a batch of 200 samples,
    before the first step and after the last. A unit is dead when its output is
    0 for every sample; this check fires when more than half of a layer's units
    are. When the layer is dead from the start, the finding points at the
    initialisation of the bias or the weights that feed it. It is a warning,
    and an error when every unit of the layer is dead (after training, only at
    a learning rate your file sets: at the probe's own default it stays a
    warning).

Why it matters:
    A ReLU that never fires passes no gradient back: the weights before it never
    change, and the layer after it sees only zeros. With every unit dead the
    network outputs a constant and the loss stays flat. A large negative bias,
    weights far too large for the inputs, or a learning rate that knocks the
    units into the negative range all do this.

Example:
    self.params['b1'] = np.full(hidden_size, -100.0)
    network = TwoLayerNet(input_size=2, hidden_size=50, output_size=3, weight_init_std=10)

Fix:
    self.params['W1'] = np.sqrt(2.0 / input_size) * np.random.randn(input_size, hidden_size)
    self.params['b1'] = np.zeros(hidden_size)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import locate, training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "dead-relu"
CODE = "BPD605"
SEVERITY = "warning"
STAGE = "training"


def _blame(activity: training.ReluActivity) -> tuple[str | None, str, str | None]:
    """(parameter to point at, why, fix) for a layer dead from the start."""
    b, mean, std = activity.bias_mean, activity.pre_mean, activity.pre_std
    bias, weight = activity.bias, activity.weight
    if bias and b is not None and b < 0 and mean < 0 and abs(b) >= 0.5 * abs(mean):
        target = f"self.params['{bias}']" if bias.isidentifier() else "b"
        return (
            bias,
            f"`{bias}` starts at {b:.3g}, which pushes the pre-activations to {mean:.3g} ± {std:.3g}",
            f"{target} = np.zeros(hidden_size)",
        )
    if weight:
        target = f"self.params['{weight}']" if weight.isidentifier() else "W"
        return (
            weight,
            f"the pre-activations are {mean:.3g} ± {std:.3g}: the scale of `{weight}` does not suit the inputs",
            f"{target} = np.sqrt(2.0 / fan_in) * np.random.randn(fan_in, fan_out)   # He init",
        )
    return None, f"the pre-activations are {mean:.3g} ± {std:.3g}", None


def _where(probe: training.Probe, activity: training.ReluActivity, param: str | None) -> dict[str, Any]:
    if param:
        file, line = locate.assignment_line(
            getattr(probe.target, "__init__", None), [f"self.params['{param}']", f"self.{param}", f"params['{param}']"]
        )
        if line is not None:
            return {"file": file, "line": line, "highlight": (line,)}
    return locate.where(getattr(activity.cls, "forward", activity.cls)).fields()


def _alive_with_reference(probe: training.Probe, layer: str) -> bool:
    """Whether the reference run keeps most units of `layer` alive to the end."""
    ref = probe.reference
    if ref is None or not ref.relu_end:
        return False
    return any(a.layer == layer and a.fraction <= training.DEAD_FRACTION for a in ref.relu_end)


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        for activity, when in training.dead_layers(probe):
            share = (
                f"{activity.dead} of {activity.units} units of `{activity.layer}` never fire "
                f"on {training.EVAL_SAMPLES} samples {when}"
            )
            if when == "at initialisation":
                param, why, fix = _blame(activity)
                message = f"{share}: {why}; start biases at 0 and scale the weights like He init, sqrt(2 / fan_in)."
                where = _where(probe, activity, param)
            else:
                param = None
                alive = _alive_with_reference(probe, activity.layer)
                if alive:
                    fix = words.fix_for(probe)
                    message = (
                        f"{share}: they stop firing during training at {words.lr_text(probe)}, but with "
                        f"{probe.reference_label} swapped in they stay alive: fix that first."
                    )
                else:
                    fix = f"learning_rate = {probe.lr / 10:g}"
                    message = (
                        f"{share}: they stop firing during training at {words.lr_text(probe)}; "
                        "lower the learning rate."
                    )
                line = probe.settings.lr.line if not alive else None
                where = words.location(context, probe, line)
            evidence = (
                (
                    "activity",
                    f"{activity.units - activity.dead} of {activity.units} units fire at least once {when}; "
                    f"pre-activations {activity.pre_mean:.3g} ± {activity.pre_std:.3g}",
                ),
                ("built", probe.how),
                *words.curve_evidence(probe)[:1],
            )
            yield rule(NAME).finding(
                message,
                # Every unit dead: nothing reaches the layers below, the network cannot learn.
                # Dead only after training at the probe's own default rate (the file sets none): a rate the
                # program never chose says little about it, so it stays a warning.
                severity="error" if activity.dead == activity.units and (when == "at initialisation" or probe.settings.lr.line) else None,
                layer=activity.layer,
                param=param,
                measured=activity.fraction,
                threshold=training.DEAD_FRACTION,
                fix=fix,
                evidence=evidence,
                **where,
            )
