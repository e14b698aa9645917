"""The loss at initialisation is far from ln(C).

What it finds:
    A network with a softmax cross-entropy loss whose loss on its first batch,
    before any training, is far from ln(C) for C classes: at least ln(C) away
    (twice ln(C) or more), and at least one nat, so that two classes are not
    judged on the noise of a small batch. Small random weights give nearly equal scores, so every
    class gets probability about 1/C and the loss starts at ln(C) (2.30 for 10
    classes). The finding names the likely cause: a softmax normalised over the
    whole batch (the loss then starts near ln(N·C)), or initial weights so large
    that the scores are already confident, and wrong.

Why it matters:
    A loss that starts far above ln(C) means the network begins training in a
    saturated state: gradients are large or vanish, the first steps overshoot,
    and the loss can rise instead of fall. It is the cheapest sanity check
    there is (Karpathy's "verify loss @ init").

Example:
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=10)
    network.loss(x_batch, t_batch)           # 45.2, not ln(10) = 2.30

Fix:
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.01)
"""

from __future__ import annotations

import copy
import inspect
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor import probes
from backprop_doctor.checks.softmax_not_per_row import _diagnosis, _fixed_lines
from backprop_doctor.conventions._base import isolated
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.conventions.networks import Network
from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.updates import random_init_line

NAME = "init-loss"
CODE = "BPD502"
SEVERITY = "warning"
STAGE = "loss"

LARGE_SCORES = 1.0  # scores with a larger standard deviation make the softmax confident at init
MIN_DISTANCE = 1.0  # nats: |L0 - ln C| must reach max(ln C, MIN_DISTANCE) to be reported
_CROSS_ENTROPY = ("softmax", "entropy", "crossent", "nll", "logloss")


def classes(t: Any, scores: np.ndarray | None) -> int | None:
    """C: the width of one-hot targets, else the scores' width, else the largest label + 1."""
    t = np.asarray(t)
    if t.ndim == 2 and t.shape[1] >= 2:
        return int(t.shape[1])
    if scores is not None and scores.ndim == 2 and scores.shape[1] >= 2:
        return int(scores.shape[1])
    if t.ndim == 1 and t.size and t.dtype.kind in "iu":
        return int(t.max()) + 1
    return None


def threshold(c: int) -> float:
    """How far from ln(C) the initial loss may be: ln(C), but at least MIN_DISTANCE."""
    return max(math.log(c), MIN_DISTANCE)


def _cross_entropy(network: Network) -> bool:
    last = network.last_layer()
    return last is not None and any(word in type(last[1]).__name__.lower() for word in _CROSS_ENTROPY)


def initial_loss(built: Any, train: bool) -> tuple[float, np.ndarray | None, int | None] | None:
    """The loss of a freshly built network on its first case, its scores, and C."""
    _label, x, t = built.cases[0]
    with isolated(built.obj) as (work, _), probes.quietly():
        network = Network(work, train=train)
        if not _cross_entropy(network):
            return None
        np.random.seed(probes.FORWARD_SEED)
        loss = float(np.asarray(network.loss(np.array(x, dtype=np.float64), copy.deepcopy(t)), dtype=np.float64).sum())
    scores = None
    for case in probes.network_cases(built, train=train):
        if case.is_loss:
            scores = case.x
            # The data term alone: `loss()` may add weight decay, which says nothing about the scores.
            with isolated(case.obj) as (layer, _), probes.quietly():
                try:
                    loss = float(np.asarray(ClassLayer(layer, train=train).forward(scores.copy(), copy.deepcopy(case.t))).sum())
                except Exception:  # the user's loss layer raised: keep the network's loss
                    pass
    return loss, scores, classes(t, scores)


def run(context: Any) -> Iterator[Finding]:
    for built in context.networks:
        try:
            measured = initial_loss(built, context.options.train)
            if measured is None:
                continue
            loss, scores, c = measured
            if c is None or not math.isfinite(loss):
                continue
            expected = math.log(c)
            if abs(loss - expected) < threshold(c):
                continue
            finding = _finding(built, context, loss, expected, c, scores)
        except Exception:  # the user's network raised: the gradient engine reports it
            continue
        yield finding


def _finding(built: Any, context: Any, loss: float, expected: float, c: int, scores: np.ndarray | None) -> Finding:
    n = int(np.shape(built.cases[0][1])[0])
    batch_softmax = math.log(n * c)
    spread = float(np.std(scores)) if scores is not None and scores.size else None
    softmax = next((f for f in context.findings if f.name == "softmax-not-per-row" and f.severity == "error"), None)
    head = f"the loss at initialisation is {loss:.2f}, expected about ln {c} = {expected:.2f} for {c} classes"
    evidence = [
        (
            "initial loss",
            f"{built.how}, batch of {n}: loss {loss:.4g}; ln C = ln {c} = {expected:.4g}; "
            f"ln(N·C) = ln {n * c} = {batch_softmax:.4g}",
        ),
    ]
    if spread is not None:
        evidence.append(("scores", f"standard deviation of the scores at initialisation: {spread:.3g}"))
    fields: dict[str, Any] = {"layer": built.name, "measured": abs(loss - expected), "threshold": threshold(c)}
    near_batch_softmax = abs(loss - batch_softmax) < 0.05 * batch_softmax
    large_scores = spread is not None and spread >= LARGE_SCORES
    if not large_scores and (near_batch_softmax or softmax is not None):
        if softmax is not None:
            fields.update(file=softmax.file, line=softmax.line, highlight=softmax.highlight, fix=softmax.fix)
        else:
            fields.update(_loss_layer_softmax(built))
        where = f" (line {fields['line']})" if fields.get("line") else ""
        name = f"`{softmax.layer}`" if softmax is not None and softmax.layer else "the softmax"
        if near_batch_softmax:
            why = f"{loss:.2f} ≈ ln(N·C) = ln({n}·{c}) = {batch_softmax:.2f}, the loss of a softmax over the whole batch"
        else:
            why = "a softmax that does not normalise each row makes every loss meaningless"
        message = f"{head}{where}: {why}; normalise each row in {name}, not the whole batch"
        return rule(NAME).finding(message, evidence=tuple(evidence), **fields)
    if large_scores:
        line, text = _init_line(built)
        scale = _weight_scale(built)
        if scale is not None and not re.search(rf"\b{re.escape(scale[0])}\b", text):
            scale = None  # the weights are not drawn with it (a fixed array): changing it would change nothing
        notes = ([f"line {line}"] if line else []) + ([f"`{scale[0]}` is {scale[1]}, try 0.01"] if scale else [])
        at = f" ({'; '.join(notes)})" if notes else ""
        message = (
            f"{head}{at}: the scores have standard deviation {spread:.3g}, so the softmax is already confident, "
            f"and wrong, before training; start from smaller weights in `{built.name}.__init__`"
        )
        where = definition(type(built.obj).__init__)
        if where is not None:
            fields.update(file=where.file, line=line or where.line, highlight=(line or where.line,))
        fields["fix"] = f"{built.name}(..., {scale[0]}=0.01)" if scale else _smaller(text)
        return rule(NAME).finding(message, evidence=tuple(evidence), **fields)
    message = (
        f"{head}: neither large weights nor a batch-wide softmax explains it; check the loss formula of "
        f"`{built.name}`'s loss layer"
    )
    last = Network(built.obj).last_layer()
    where = definition(type(last[1]).forward) if last is not None else None
    if where is not None:
        fields.update(file=where.file, line=where.line, highlight=(where.line,))
    fields["fix"] = "loss = -np.sum(np.log(y[np.arange(N), labels] + 1e-7)) / N"
    return rule(NAME).finding(message, evidence=tuple(evidence), **fields)


def _loss_layer_softmax(built: Any) -> dict[str, Any]:
    """Where the loss layer's forward normalises over the whole batch when no softmax finding says so
    (its probabilities kept in a tuple, which the softmax check does not read): the line of its sum,
    the one that makes the loss ln(N·C), with every wrong reduction highlighted and rewritten per row.
    Without a wrong reduction there, the forward's `def` line and a generic fix."""
    fields: dict[str, Any] = {"fix": "exp_x / np.sum(exp_x, axis=-1, keepdims=True)"}
    last = Network(built.obj).last_layer()
    where = definition(type(last[1]).forward) if last is not None else None
    if where is None:
        return fields
    fields.update(file=where.file, line=where.line, highlight=(where.line,))
    diagnosis = _diagnosis(where)
    wrong = list(diagnosis.wrong) if diagnosis is not None else []
    if wrong:
        line = next((r.line for r in wrong if r.kind == "sum"), wrong[0].line)
        fields.update(line=line, highlight=tuple(sorted({r.line for r in wrong})), fix=_fixed_lines(where, diagnosis))
    return fields


def _init_line(built: Any) -> tuple[int | None, str]:
    """The first line of `__init__` that draws random weights."""
    where = definition(type(built.obj).__init__)
    if where is None:
        return None, ""
    lines, tree = source_tree(where.file)
    if tree is None:
        return None, ""
    line = random_init_line(tree, where.line, where.end_line)
    return (line, lines[line - 1].strip()) if line is not None else (None, "")


def _weight_scale(built: Any) -> tuple[str, str] | None:
    """The constructor argument that scales the initial weights (`weight_init_std`) and the value used."""
    try:
        params = inspect.signature(type(built.obj).__init__).parameters
    except (TypeError, ValueError):
        return None
    for name, p in params.items():
        low = name.lower()
        if "std" in low or "scale" in low or low in ("init", "weight_init", "sigma"):
            given = re.search(rf"\b{re.escape(name)}=([^,)]+)", built.how)
            if given:
                return name, given.group(1)
            if p.default is not p.empty and isinstance(p.default, (int, float)):
                return name, repr(p.default)
    return None


def _smaller(line: str) -> str:
    """The weight line scaled down: He initialisation, or 0.01 for a fixed scale."""
    if not line:
        return "W = 0.01 * np.random.randn(n_in, n_out)"
    return line + "  # with weight_init_std=0.01, or np.sqrt(2.0 / n_in) for ReLU (He)"
