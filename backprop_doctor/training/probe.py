"""The probe: train each built network, with the comparison runs that explain its curve, once per context."""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import isolated
from backprop_doctor.conventions.networks import Network
from backprop_doctor.training.data import Data, _as_labels, data_for
from backprop_doctor.training.run import ReluActivity, Run, _quiet, _scalar, train
from backprop_doctor.training.settings import CLEAR_FALL, DEAD_FRACTION, FITTED_RATIO, MIN_BATCH, MIN_STEPS, OVERFIT_SAMPLES, OVERFIT_STEPS, SMALLER_RATES, TINY_SECONDS, Settings, WORK, script_settings, settings_from
from backprop_doctor.training.swaps import Swap, plan_swaps


@dataclass
class Probe:
    """Everything the training checks need to know about one network."""

    network: str
    how: str  # how it was built
    line: int | None  # the constructor call in the script
    target: type  # the network's class
    settings: Settings
    data_label: str
    yours: Run
    smaller: list[Run] = field(default_factory=list)  # same steps, smaller rates, in the order tried
    reference: Run | None = None
    reference_label: str | None = None
    reference_note: str | None = None  # why no reference applies, or why it could not run
    swaps: list[Swap] = field(default_factory=list)
    overfit: Run | None = None
    overfit_reference: Run | None = None  # the tiny batch with the reference swapped in, when yours is not fitted
    overfit_agreeing: Run | None = None  # the tiny batch with one value at every position the loss reads apart (`_positions`)
    note: str | None = None  # e.g. --data could not be read
    seconds: float = 0.0

    @property
    def lr(self) -> float:
        return self.settings.lr.value

    @property
    def falls_with_smaller_rate(self) -> Run | None:
        """The first smaller-rate run whose loss clearly falls."""
        return next((r for r in self.smaller if falls_clearly(r)), None)

    @property
    def reference_falls(self) -> bool:
        return self.reference is not None and self.reference.trend == "falls"

    def extras(self) -> dict[str, Any]:
        """The JSON-ready curves that the report draws."""
        ref, label = self.reference, self.reference_label
        if ref is None or not ref.losses:  # no reference: the smaller rate that worked, if one did
            ref = self.falls_with_smaller_rate
            label = ref.label if ref is not None else None
        return {
            "yours": [float(v) for v in self.yours.losses],
            "reference": [float(v) for v in ref.losses] if ref else None,
            "reference_label": label if ref else None,
            "steps": len(self.yours.losses),
            "lr": float(self.lr),
            "batch_size": int(self.yours.batch),
            "network": self.network,
            "data": self.data_label,
        }


def probe_network(
    built: Any, settings: Settings, *, seed: int = 0, data_path: str | None = None, findings: Sequence[Any] = ()
) -> Probe | None:
    """Train one built network (a `build.Built`) and the comparisons that explain its curve."""
    if not getattr(built, "cases", None):
        return None
    started = time.perf_counter()
    state = np.random.get_state()
    try:
        # (BLAS threads: the child process runs with one, see loading/child.py)
        probe = _probe_network(built, settings, seed, data_path, findings)
        probe.seconds = time.perf_counter() - started
        return probe
    finally:
        np.random.set_state(state)


def _probe_network(built: Any, settings: Settings, seed: int, data_path: str | None, findings: Sequence[Any]) -> Probe:
    data, note = data_for(built.cases[0], data_path, np.random.default_rng(seed))
    data = _labels_the_loss_takes(built.obj, data, seed)
    lr = settings.lr.value
    asked = settings.steps
    batch, steps = run_size(settings.batch, asked, _parameter_count(built.obj, data.x))
    settings = dataclasses.replace(settings, steps=steps)
    same = functools.partial(train, built.obj, data, batch=batch, steps=steps, seed=seed)
    tiny = Data(data.x[:OVERFIT_SAMPLES], data.t[:OVERFIT_SAMPLES], f"{OVERFIT_SAMPLES} samples")
    # a network too large for the usual run (fewer steps) gets fewer tiny-batch steps too, and a time limit:
    # an unfinished tiny run says nothing (`checks/cannot_overfit.py`)
    tiny_steps = OVERFIT_STEPS if steps >= asked else max(2 * MIN_STEPS, OVERFIT_STEPS * steps // max(asked, 1))
    on_tiny = functools.partial(
        train, built.obj, tiny, lr=lr, batch=OVERFIT_SAMPLES, steps=tiny_steps, seed=seed, no_decay=True, budget=TINY_SECONDS
    )

    probe = Probe(
        network=built.name,
        how=built.how,
        line=getattr(built, "line", None),
        target=type(built.obj),
        settings=settings,
        data_label=data.label,
        yours=same(lr=lr, watch_relu=True),
        note=note,
    )
    try:
        with _quiet():
            swaps, notes = plan_swaps(Network(copy_for_planning(built.obj)), findings)
    except Exception:  # the user's object would not even copy: no reference then
        swaps, notes = [], []
    probe.swaps = swaps
    if swaps:
        probe.reference_label = " + ".join(dict.fromkeys(s.label for s in swaps))
        # The reference only has to show that the swap makes the network learn: once it clearly
        # does, it stops, unless your curve learns as well (the two are compared step by step)
        # or your ReLU units die during training (the reference's are compared at the end).
        early = not falls_clearly(probe.yours) and not any(a.fraction > DEAD_FRACTION for a in probe.yours.relu_end)
        probe.reference = same(lr=lr, label=probe.reference_label, swaps=swaps, watch_relu=True, stop_when_falls=early)
        if probe.reference.error and not probe.reference.ran:
            notes.insert(0, f"the reference could not be swapped in: {probe.reference.error}")
    elif not notes:
        notes = ["no earlier finding points at a standard layer, so there is no reference to compare with"]
    probe.reference_note = "; ".join(notes) or None
    if _worth_a_smaller_rate(probe.yours) and not probe.reference_falls:
        for divisor in SMALLER_RATES:
            probe.smaller.append(same(lr=lr / divisor, label=f"lr {lr / divisor:g}"))
            if falls_clearly(probe.smaller[-1]):
                break
    # A tiny batch that is fitted needs no more steps: only one that is not is reported.
    probe.overfit = on_tiny(label="tiny batch", stop_when_fitted=True)
    positions = _positions(built.obj) if not fitted(probe.overfit) and tiny.x.ndim == 3 else ()
    if positions and max(positions) < tiny.x.shape[1] and min(positions) >= 0:
        # skip-gram's `forward(contexts, target)` sums a loss per context position over the same scores: positions
        # that hold different words put a floor above 0 under it; with one value at every position it has none
        agreeing = Data(np.repeat(tiny.x[:, :1], tiny.x.shape[1], axis=1), tiny.t, f"{tiny.label}, one value at every position")
        probe.overfit_agreeing = train(
            built.obj, agreeing, lr=lr, batch=OVERFIT_SAMPLES, steps=tiny_steps, seed=seed, no_decay=True, budget=TINY_SECONDS,
            label="tiny batch, one value at every position", stop_when_fitted=True,
        )  # fmt: skip
    if swaps and not fitted(probe.overfit) and not (probe.reference is not None and falls_clearly(probe.reference)):
        # the tiny batch with the reference swapped in, unless the full run with it already
        # showed that the swap makes the network learn
        probe.overfit_reference = on_tiny(label=probe.reference_label or "reference", swaps=swaps)
    return probe


def _positions(obj: Any) -> tuple[int, ...]:
    """The fixed positions (`contexts[:, 0]`, `contexts[:, 1]`) the network's `forward` or `loss` reads
    from its first input (`static.positions`); () when it reads none, or its source cannot be read."""
    import ast
    import inspect
    import textwrap

    from backprop_doctor.static.positions import constant_positions

    for name in ("forward", "loss"):
        method = getattr(type(obj), name, None)
        if not callable(method):
            continue
        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(method))).body[0]
        except (OSError, TypeError, SyntaxError, IndexError):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (found := constant_positions(node)):
            return found
    return ()


def _worth_a_smaller_rate(run: Run) -> bool:
    """A smaller rate can only help a curve that goes up (or to NaN after some steps)."""
    shape = run.shape
    if shape.trend in ("rises", "diverges"):
        return True
    return shape.trend == "non-finite" and run.non_finite is not None and run.non_finite.step > 0


def falls_clearly(run: Run) -> bool:
    shape = run.shape
    return shape.trend == "falls" and shape.tail <= CLEAR_FALL * abs(shape.first)


def fitted(run: Run | None) -> bool:
    """Whether a run drove its loss below FITTED_RATIO of where it started."""
    if run is None or len(run.losses) < 2:
        return False
    shape = run.shape
    return shape.trend != "non-finite" and shape.tail <= FITTED_RATIO * abs(shape.first)


def _parameter_count(obj: Any, x: np.ndarray | None = None) -> int:
    """Multiply-adds per sample, roughly: a 4-D (convolution) filter counts once per spatial
    position of a 4-D input. Deterministic, so the run's size never depends on the machine."""
    positions = int(np.prod(x.shape[2:])) if x is not None and x.ndim == 4 else 1
    try:
        return sum(int(p.size) * (positions if p.ndim == 4 else 1) for p in Network(obj).params().values())
    except Exception:
        return 0


def run_size(batch: int, steps: int, parameters: int) -> tuple[int, int]:
    """Batch and steps that keep one run within WORK (samples x parameters): smaller batches first."""
    if parameters <= 0 or batch * steps * parameters <= WORK:
        return batch, steps
    batch = max(min(batch, MIN_BATCH), min(batch, WORK // (steps * parameters)))
    if batch * steps * parameters > WORK:
        steps = max(MIN_STEPS, WORK // (batch * parameters))
    return int(batch), int(steps)


def copy_for_planning(obj: Any) -> Any:
    """A throw-away copy of the network, to read its layers from (the object itself if it cannot be copied)."""
    import copy

    try:
        return copy.deepcopy(obj)
    except Exception:
        return obj


def _labels_the_loss_takes(obj: Any, data: Data, seed: int) -> Data:
    """Keep one-hot targets when the network's loss takes them, else try integer labels."""
    if data.t.ndim != 2:
        return data

    def loss_with(t: np.ndarray) -> float | None:
        state = np.random.get_state()
        try:
            with _quiet(), isolated(obj) as (work, _):
                np.random.seed(seed % 2**32)
                return _scalar(Network(work).loss(data.x[:OVERFIT_SAMPLES].copy(), t[:OVERFIT_SAMPLES].copy()))
        except Exception:
            return None
        finally:
            np.random.set_state(state)

    one_hot = loss_with(data.t)
    if one_hot is not None and math.isfinite(one_hot):
        return data
    labels = _as_labels(data.t)
    with_labels = loss_with(labels)
    if with_labels is not None and (one_hot is None or math.isfinite(with_labels)):
        return Data(data.x, labels, data.label)
    return data


PROBE_KEY = "_training_probe"


def probe_for(context: Any) -> list[Probe]:
    """The probes of every network in the context, computed once and kept in `context.extras`."""
    extras = context.extras
    if PROBE_KEY in extras:
        return extras[PROBE_KEY]
    probes: list[Probe] = []
    extras[PROBE_KEY] = probes
    options = context.options
    if not getattr(options, "training", True) or not context.networks:
        return probes
    source = getattr(context, "source", None)
    facts = getattr(source, "facts", None)
    settings = settings_from(facts) if facts is not None else script_settings(getattr(source, "tree", None))
    for built in context.networks:
        try:
            probe = probe_network(
                built, settings, seed=options.seed, data_path=options.data, findings=list(context.findings)
            )
        except Exception:  # never let the probe take the other checks down
            probe = None
        if probe is not None and not _misfit(probe, options.data):
            probes.append(probe)
    drawn = [p for p in probes if p.yours.losses]
    if drawn:
        shown = next((p for p in drawn if p.yours.trend != "falls"), drawn[0])
        extras["training"] = shown.extras()
    return probes


def _misfit(probe: Probe, data_path: str | None) -> bool:
    """Whether the probe's made-up data does not fit the network: a loss that starts at or above zero
    and goes below it in any run cannot be a cross-entropy or a squared error of targets the loss
    takes (skip-gram's `forward(contexts, target)` fed Gaussian vectors as its labels); such runs
    judge the data, not the training, so they are left out."""
    if data_path is not None or not probe.yours.losses or probe.yours.losses[0] < 0:
        return False
    runs = [probe.yours, *probe.smaller, probe.reference, probe.overfit, probe.overfit_reference]
    return any(v < -1e-6 for run in runs if run is not None for v in run.losses if math.isfinite(v))


def dead_layers(probe: Probe) -> list[tuple[ReluActivity, str]]:
    """ReLU layers where most units never fire: (activity, "at initialisation" or "after training")."""
    found = []
    end = {a.layer: a for a in probe.yours.relu_end}
    for start in probe.yours.relu_start:
        if start.fraction > DEAD_FRACTION:
            found.append((start, "at initialisation"))
        elif start.layer in end and end[start.layer].fraction > DEAD_FRACTION:
            found.append((end[start.layer], "after training"))
    return found
