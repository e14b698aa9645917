"""The loss is summed over the batch, or its gradient is reduced differently from it.

What it finds:
    A loss layer or loss function whose value grows with the batch size. The
    batch is tiled twice (every sample twice): a mean loss keeps its value
    (ratio 1), a summed loss doubles (ratio 2). The gradient is tiled the same
    way: a mean loss's dx halves on each row, a sum's stays. A summed loss with a
    summed gradient is a warning; a loss and a gradient reduced differently (a
    mean loss whose backward forgets `/ batch_size`, or the reverse) is an error.
    Loss layers inside a network are checked on the scores the network
    really produces.

Why it matters:
    With a summed loss every gradient grows with the batch size, so the
    learning rate that works for a batch of 10 diverges for a batch of 100.
    When the loss and its gradient disagree, the step is N times too large (or
    too small) and a gradient check fails by exactly the batch size.

Example:
    def forward(self, x, t):
        self.y = softmax(x)
        return -np.sum(t * np.log(self.y + 1e-7))          # grows with the batch

Fix:
    def forward(self, x, t):
        self.y = softmax(x)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import locate, probes
from backprop_doctor.conventions._base import isolated
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.checks.softmax_not_per_row import softmax_named
from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition, executed
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import enclosing
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.reductions import Reduction, reductions

NAME = "loss-not-mean"
CODE = "BPD501"
SEVERITY = "warning"
STAGE = "loss"

TIMES = 2  # the batch is tiled this many times
RTOL = 1e-6  # how close a ratio must be to 1 or TIMES to name the reduction
EXPECTED_GRAD_RATIO = {"mean": 1.0 / TIMES, "sum": 1.0}  # dx of a tiled batch relative to dx of the batch


@dataclass
class _Loss:
    """A loss to tile, with the inputs it gets and where its code is."""

    key: Any  # identity used to report each class or function once
    name: str  # "SoftmaxWithLoss", "softmax_loss"
    where: str
    x: np.ndarray
    t: Any
    call: Callable[[np.ndarray, Any], tuple[float, Any]]  # (scores, t) -> (loss, dx)
    forward_def: Any
    backward_def: Any


def _targets(context: Any) -> Iterator[_Loss]:
    train = context.options.train
    left = {f.layer for f in context.findings if f.pattern == "mean-left-to-layers"}  # gradient-mismatch's info says why
    for case in probes.layer_cases(context):
        if case.is_loss and case.x.ndim >= 1 and case.x.shape[0] >= 1:
            cls = type(case.obj)
            if cls.__name__ in left:
                continue  # each sample's own gradient, the mean left to the layers the training step hands it to
            where = f"with the scores `{case.owner}` feeds it" if case.owner else f"on a batch of {case.x.shape[0]}"
            if _per_sample(case.obj, case.x, case.t, train):
                continue  # one loss per sample, its caller's to reduce (CMU 11-785's `SoftmaxCrossEntropy`)
            call = _layer_call(case.obj, train)
            forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
            yield _Loss(cls, cls.__name__, where, case.x, case.t, call, forward, backward)
    found = context.extras.get("discovered")
    if found is None:
        return
    from backprop_doctor import build

    from backprop_doctor.observe.check import loss_arguments

    rng = np.random.default_rng(context.options.seed + 501)
    n = max(int(context.options.batch_size), 2)
    record = context.extras.get("observed_record")
    for func in found.loss_functions:
        if func.__name__ in left:
            continue  # each sample's own gradient, the mean left to the layers: gradient-mismatch's info says so
        observed = loss_arguments(record, func) if record is not None else None
        if observed is not None:  # the rows the gradient check compared: one batch size in both findings
            scores, labels, line = observed
            yield _Loss(func, func.__name__, f"on the arguments observed at line {line}", scores, labels, _function_call(func), func, func)
            continue
        scores = rng.standard_normal((n, build.CLASSES))
        labels = rng.integers(0, build.CLASSES, n)
        yield _Loss(func, func.__name__, f"on a batch of {n}", scores, labels, _function_call(func), func, func)


def _per_sample(obj: Any, x: np.ndarray, t: Any, train: bool) -> bool:
    """Whether the loss layer's forward returns one loss per sample, not their sum (`ClassLayer.per_sample`)."""
    try:
        with isolated(obj) as (work, _), probes.quietly():
            layer = ClassLayer(work, train=train)
            probes.reseeded(layer.forward)(x.copy(), copy.deepcopy(t))
            return layer.per_sample
    except Exception:  # noqa: BLE001 - user code: measured (or reported) as before
        return False


def _layer_call(obj: Any, train: bool) -> Callable[[np.ndarray, Any], tuple[float, Any]]:
    def call(x: np.ndarray, t: Any) -> tuple[float, Any]:
        with isolated(obj) as (work, _):
            layer = ClassLayer(work, train=train)
            loss = probes.reseeded(layer.forward)(x.copy(), copy.deepcopy(t))
            dx, _ = layer.backward(1.0)
            return float(np.asarray(loss, dtype=np.float64).sum()), dx

    return call


def _function_call(func: Callable) -> Callable[[np.ndarray, Any], tuple[float, Any]]:
    def call(x: np.ndarray, t: Any) -> tuple[float, Any]:
        loss, dx = probes.reseeded(func)(x.copy(), copy.deepcopy(t))
        return float(np.asarray(loss, dtype=np.float64).sum()), dx

    return call


@dataclass(frozen=True)
class Measured:
    """What tiling the batch did to the loss and to its gradient."""

    loss_ratio: float  # loss(tiled) / loss
    grad_ratio: float | None  # dx(tiled)[:N] / dx, None when dx is not a multiple
    loss_kind: str | None  # "mean", "sum" or None
    grad_kind: str | None


def measure(call: Callable[[np.ndarray, Any], tuple[float, Any]], x: np.ndarray, t: Any) -> Measured | None:
    """Tile the batch and compare the loss and its gradient with the untiled ones."""
    with probes.quietly():
        loss, dx = call(x, t)
        loss2, dx2 = call(probes.tile_batch(x, TIMES), probes.tile_batch(t, TIMES))
    if not (np.isfinite(loss) and np.isfinite(loss2)) or abs(loss) < 1e-12:
        return None
    ratio = loss2 / loss
    grad_ratio = None
    n = x.shape[0]
    if isinstance(dx, np.ndarray) and isinstance(dx2, np.ndarray) and dx.shape == x.shape and dx2.shape[0] == TIMES * n:
        first = probes.scale_factor(dx2[:n], dx, RTOL * 1e3)
        same = all(np.allclose(dx2[k * n : (k + 1) * n], dx2[:n], rtol=1e-9, atol=0.0) for k in range(1, TIMES))
        grad_ratio = first if same else None
    grad_kind = None
    if grad_ratio is not None:
        close = [k for k, v in EXPECTED_GRAD_RATIO.items() if np.isclose(grad_ratio, v, rtol=RTOL, atol=0)]
        grad_kind = close[0] if close else None
    return Measured(ratio, grad_ratio, probes.reduction(ratio, TIMES, RTOL), grad_kind)


def run(context: Any) -> Iterator[Finding]:
    seen: set[Any] = set()
    for target in _targets(context):
        if target.key in seen:
            continue
        try:
            m = measure(target.call, target.x, target.t)
        except Exception:  # the user's loss raised on a tiled batch: the gradient engine reports raising losses
            continue
        if m is None or m.loss_kind is None:
            continue  # neither a mean nor a sum of per-sample losses: softmax-not-per-row says why
        seen.add(target.key)
        finding = _finding(target, m)
        if finding is not None:
            yield finding


def _loss_reduction(target: _Loss) -> Reduction | None:
    """The last sum over the batch that ran in the loss computation, outside any softmax helper and
    backward (a `softmax_loss` function's own sum counts)."""
    try:
        with probes.quietly():
            _, ran = executed(lambda: target.call(target.x, target.t))
    except Exception:
        return None
    backward = definition(target.backward_def) if target.backward_def is not target.forward_def else None
    found = []
    for file, lines in ran.items():
        for r in reductions(file, lines):
            function = enclosing(file, r.line)
            name = function.qualname.rsplit(".", 1)[-1].lower() if function else ""
            if r.kind in ("sum", "nansum") and r.over_batch and not softmax_named(name) and function != backward:
                found.append(r)
    return found[-1] if found else None


def _describe(m: Measured) -> str:
    text = f"loss({TIMES}× tiled batch) / loss(batch) = {m.loss_ratio:.6g} (1 for a mean, {TIMES} for a sum)"
    if m.grad_ratio is not None:
        expected = f"{EXPECTED_GRAD_RATIO['mean']:g} for a mean's gradient, 1 for a sum's"
        text += f"\ndx on the tiled batch / dx = {m.grad_ratio:.6g} ({expected})"
    return text


def _finding(target: _Loss, m: Measured) -> Finding | None:
    evidence = (("tiling", f"checked {target.where}, scores {tuple(target.x.shape)}\n{_describe(m)}"),)
    n = target.x.shape[0]
    if m.loss_kind == "mean" and m.grad_kind in (None, "mean"):
        return None
    if m.loss_kind == "mean" and m.grad_kind == "sum":
        where = locate.assignment(target.backward_def, locate.returned_name(target.backward_def) or "dx", "dx")
        return rule(NAME).finding(
            f"`{target.name}.backward` returns the gradient of the batch sum for a mean loss"
            + (f" (line {where.line})" if where.line else "")
            + f": every step is N = {n} times too large; divide dx by the batch size",
            severity="error",
            layer=target.name,
            measured=m.grad_ratio,
            threshold=EXPECTED_GRAD_RATIO["mean"],
            fix=_divided_dx(where),
            evidence=evidence,
            pattern="scaled-by-batch-size",
            **where.fields(),
        )
    reduction = _loss_reduction(target)
    location = _location(target, reduction)
    fix = _divided(reduction)
    at = f" (line {location['line']})" if location.get("line") else ""
    if m.grad_kind == "mean":
        return rule(NAME).finding(
            f"`{target.name}` sums its loss over the batch but returns the mean's gradient{at}: the loss grows "
            f"×{m.loss_ratio:.3g} when the batch is tiled {TIMES}×, so the gradient is N = {n} times smaller than "
            "the loss's; divide the loss by the batch size to match its backward",
            severity="error",
            layer=target.name,
            measured=m.loss_ratio,
            threshold=1.0,
            fix=fix,
            evidence=evidence,
            **location,
        )
    return rule(NAME).finding(
        f"`{target.name}` sums its loss over the batch{at}: it grows ×{m.loss_ratio:.3g} when the batch is tiled "
        f"{TIMES}×, so the gradient and the best learning rate change with the batch size; divide the loss by the "
        "batch size, and dx in backward too",
        layer=target.name,
        measured=m.loss_ratio,
        threshold=1.0,
        fix=fix + (
            "\n# and its gradient too: dx /= batch_size"  # a loss function returns (loss, dx): no backward
            if target.backward_def is target.forward_def
            else "\n# and in backward: dx = dout * (self.y - self.t) / batch_size"
        ),
        evidence=evidence,
        **location,
    )


def _location(target: _Loss, reduction: Reduction | None) -> dict[str, Any]:
    if reduction is not None:
        return {
            "file": reduction.file,
            "line": reduction.line,
            "column": reduction.col + 1,
            "highlight": (reduction.line,),
        }
    where = definition(target.forward_def)
    return {"file": where.file, "line": where.line, "highlight": (where.line,)} if where else {}


def _divided(reduction: Reduction | None) -> str:
    """The loss line with its sum divided by the batch size."""
    if reduction is None or reduction.line != reduction.end_line:
        return "loss = -np.sum(t * np.log(y + 1e-7)) / batch_size"
    lines, _ = source_tree(reduction.file)
    line = lines[reduction.line - 1]
    fixed = line[: reduction.end_col] + " / batch_size" + line[reduction.end_col :]
    return fixed.strip() + "  # batch_size = x.shape[0]"


def _divided_dx(where: locate.Location) -> str:
    """The backward line that computes dx, divided by the batch size."""
    if where.file and where.line and where.end_line in (None, where.line):
        lines, _ = source_tree(where.file)
        text = lines[where.line - 1].strip() if where.line <= len(lines) else ""
        if text.startswith("return ") or ("=" in text and not text.startswith(("if ", "for ", "while "))):
            return f"{text} / batch_size  # batch_size = self.t.shape[0]"
    return "dx = dout * (self.y - self.t) / batch_size"
