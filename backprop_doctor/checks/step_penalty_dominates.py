"""An L2 penalty so strong that its pull on the weights outweighs the data's gradient.

What it finds:
    A training step whose gradients are right, for a loss that adds an L2
    penalty (`loss = data_loss + 0.5 * reg * np.sum(W * W)`, its gradient
    `dW = ... + reg * W`), where, at the replayed step, the penalty's part
    of the weights' gradient (`reg * W`) is at least `DOMINANT` times the
    data loss's part (the rest of the gradient). The strength is named at
    the line that sets it (`reg = 1.0`).

Why it matters:
    Each update then mostly shrinks the weights toward zero instead of
    fitting the data. The weights collapse until the two pulls balance at
    a tiny size, the network predicts nearly the same for every input (the
    class prior), and the loss freezes well above what the network could
    reach. Typical strengths leave the penalty's gradient a small fraction
    of the data's.

Example:
    reg = 1.0
    dW2 = hidden.T @ dscores + reg * W2

Fix:
    reg = 1e-3      # or tune it on held-out data: 1e-4 ... 1e-2
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._step_settings import right_steps, setting_value
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.penalty_strength import parameter_name

NAME = "step-penalty-dominates"
CODE = "BPD632"
SEVERITY = "error"
STAGE = "training"

DOMINANT = 3.0  # the penalty's gradient this many times the data's: each step mostly shrinks the weights
TARGET = 0.1  # the share of the data's gradient a suggested strength would leave the penalty


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.penalty_strength import decay_terms, setting_site

    source = context.source
    if source is None or source.tree is None:
        return
    terms = decay_terms(source.tree)
    if not terms:
        return
    for result in right_steps(context):
        if result.still:
            continue  # a step that left the loss where it was shows no balance of its terms
        for name in sorted({t.name for t in terms}):
            factor = next(t.factor for t in terms if t.name == name)
            strength = setting_value(result, name)
            site = setting_site(source.tree, name)
            if strength is None and site is not None:
                strength = site.value
            if strength is None or not strength > 0 or site is None:
                continue
            ratio = _ratio(result, strength * factor, {parameter_name(t.parameter) for t in terms if t.name == name})
            if ratio is None or ratio < DOMINANT:
                continue
            yield _finding(source, result, name, strength, ratio, site, [t for t in terms if t.name == name])
            return


def _ratio(result: Any, pull: float, decayed: set[str]) -> float | None:
    """|pull × W| ÷ |gradient − pull × W| over the weight matrices the step moved: the penalty's share
    of their gradient against the data loss's. Where the penalty's parameters are named like the moved
    ones (`W2` and `self.W2`), only those count; else every weight matrix does (`params[0]`)."""
    penalty, data = 0.0, 0.0
    named = [(moved, measured) for moved, measured in result.parameters if parameter_name(measured.name) in decayed]
    for moved, _ in named or result.parameters:
        value, gradient = moved.value, moved.gradient
        if not (isinstance(value, np.ndarray) and isinstance(gradient, np.ndarray)) or value.ndim < 2 or value.shape != gradient.shape:
            continue
        if not (np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))):
            return None
        decay = pull * value.astype(float)
        penalty += float(np.sum(decay**2))
        data += float(np.sum((gradient - decay) ** 2))
    if penalty == 0.0:
        return None
    if data == 0.0:
        return math.inf
    return math.sqrt(penalty / data)


def _suggested(strength: float, ratio: float) -> str:
    wanted = strength * TARGET / ratio
    return f"{10 ** math.floor(math.log10(wanted)):g}"


def _finding(source: Any, result: Any, name: str, strength: float, ratio: float, site: Any, terms: list) -> Finding:
    times = "far more than" if math.isinf(ratio) else f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"
    gradient_lines = sorted({t.line for t in terms})
    term = terms[0]
    curve = [v for v in result.curve if math.isfinite(v)]
    settled = ""
    if len(curve) >= 8 and abs(curve[-1] - curve[-len(curve) // 4]) <= 0.01 * abs(curve[-1]):
        settled = (
            f"; the loss goes from {curve[0]:.4g} to {curve[-1]:.4g} over the replayed steps and stops there, what a network that "
            "predicts about the same for every input scores"
        )
    message = (
        f"the L2 regularisation is too strong: `{site.text}` (line {site.line}) makes the weight-decay penalty's gradient "
        f"`{term.setting} * {term.parameter}` (line {term.line}) {times} the data loss's gradient on the weights at the replayed step, "
        f"so each update mostly shrinks the weights toward zero instead of fitting the data{settled}; weaken the penalty "
        f"(`{name} = {_suggested(strength, ratio)}` leaves it about a tenth of the data's gradient)"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=site.line,
        highlight=tuple(sorted({site.line, *gradient_lines})),
        param=name,
        pattern="penalty-dominates",
        measured=ratio if math.isfinite(ratio) else None,
        evidence=(("penalty", f"`{term.setting} * W` is {times} the data loss's gradient on the weights (strength {strength:g})"),),
    )
