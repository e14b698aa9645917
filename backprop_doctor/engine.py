"""Check one adapter: its gradients, and the contracts a backward pass must keep (`contracts`).

`LayerCheck` runs the user's code and the probes of `gradcheck`; `outcomes` turns their
figures into measurements and findings. The layer is checked in isolation with a random
upstream gradient G, on the objective `sum(forward(x) * G)` (a loss layer's own scalar
output for loss layers). NumPy's global RNG is reseeded identically before every forward
evaluation, so a dropout mask is the same in each one, and restored afterwards.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor import carryover, global_random, gradcheck, locate
from backprop_doctor.contracts import (  # noqa: F401 - STAND_IN_SIZE: read by tests and benchmarks
    _DX,
    STAND_IN_SIZE,
    Contracts,
    _carries_state,
    _LayerRaised,
    _read_only,
    _state_of,
    _WroteReadOnly,
)
from backprop_doctor.gradcheck import identical
from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, _owner, is_float_array
from backprop_doctor.conventions import _through_call
from backprop_doctor.conventions._classlayer import ClassLayer, UnpairedGradients
from backprop_doctor.findings import CALLED_OTHERWISE, FRAMEWORK_OBJECTS, STAND_IN, UNPAIRED_GRADIENTS, Report
from backprop_doctor.options import Options
from backprop_doctor.outcomes import Outcomes
from backprop_doctor.rules import rule

# Spawn key of the engine's random stream (upstream gradients, directions, samples).
ENGINE_STREAM = 0x6270_6401
# How often the input is jittered off a kink before a kinked probe is accepted as a kink.
KINK_RETRIES = 2
# A network's gradients off by less than this are checked once more on data moved off any kink it sits on.
ON_A_KINK = 0.05
# Loss layers get a looser default tolerance: the book's `np.log(y + 1e-7)` moves the true
# gradient away from `(y - t) / N` by about 1e-7 / y, up to 1e-4 for confident wrong scores.
# Real loss-layer bugs (a missing 1/N, a softmax over the wrong axis) are off by far more.
LOSS_RTOL = 1e-4
# A clean array needs fewer than `Options.probes` directions when the first ones agree far
# inside the tolerance: one probe within this fraction of it, or two within EARLY_TWO.
# A wrong gradient off by r agrees along a random direction to about r·|Z1/Z2| (two
# Gaussians): one probe lands 1,000 times below the tolerance with probability ~6e-4 · tol/r.
EARLY_ONE = 1e-3
EARLY_TWO = 1e-1
# The forward differences through a network's input step down to this fraction of a probe's
# step, where rounding leaves room (`_input_step`): their curvature term falls with the step.
INPUT_NARROWING = 10


# sys.getrefcount of a view's base that only the view refers to: the view, `owner`, the call.
_ONLY_ITS_VIEW = 3

_DTYPE_NAMES: dict[np.dtype, str] = {}


LOW_PRECISION = frozenset({"float32", "float16"})


def _made_inside(layer: Any) -> str | None:
    """"float32" when a layer whose arrays the check made float64 still holds float32 arrays after
    its forward (float16 likewise): arrays its forward made in that precision whatever its weights
    are (the second book's `hs = np.empty((N, T, H), dtype='f')` inside `TimeLSTM`, reached from a
    `Decoder` that holds it). Its output is float64 (a float64 weight after them), but its numbers
    went through float32 on the way: the check's step and tolerance are float32's."""
    from backprop_doctor.conventions._base import _arrays_in

    kinds = {a.dtype for a in _arrays_in(layer).values() if a.dtype.kind == "f"}
    for low in (np.float16, np.float32):
        if np.dtype(low) in kinds:
            return _dtype_name(np.dtype(low))
    return None


def _probability_rows(out: Any) -> np.ndarray | None:
    """A float64 copy of a layer's output when its rows (the last axis, at least 2 wide) are probabilities:
    non-negative, each summing to 1; None otherwise."""
    if isinstance(out, tuple) and out:
        out = out[0]
    if not isinstance(out, np.ndarray) or out.dtype.kind != "f" or out.ndim < 1 or out.shape[-1] < 2 or not out.size:
        return None
    sums = out.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-6) or not (out >= 0).all():
        return None
    return np.array(out, dtype=np.float64)


def _dtype_name(dtype: np.dtype) -> str:
    """str(dtype), remembered (NumPy builds the name anew on every call)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


class _Streams:
    """The engine's random stream for a seed, `np.random.default_rng([seed, ENGINE_STREAM])`
    from its start, without building a generator for every check (its seeding costs about
    a forward pass of a small network): a check takes a generator for the length of its run
    (`take`) and hands it back (`give`); a generator handed back is reset to the start."""

    KEEP = 4  # generators kept per seed
    SEEDS = 16  # seeds kept (a run over many seeds starts afresh past this)

    def __init__(self) -> None:
        self.free: dict[int, list[np.random.Generator]] = {}
        self.start: dict[int, dict[str, Any]] = {}

    def take(self, seed: int) -> np.random.Generator:
        free = self.free.get(seed)
        if free:
            try:
                return free.pop()
            except IndexError:  # taken by another thread meanwhile
                pass
        rng = np.random.default_rng([seed, ENGINE_STREAM])
        if seed not in self.start and len(self.start) >= self.SEEDS:
            self.free, self.start = {}, {}
        self.start.setdefault(seed, rng.bit_generator.state)
        return rng

    def give(self, seed: int, rng: np.random.Generator) -> None:
        start, free = self.start.get(seed), self.free.setdefault(seed, [])
        if start is not None and len(free) < self.KEEP:
            rng.bit_generator.state = start
            free.append(rng)


_streams = _Streams()


def first_upstream(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """The upstream gradient a layer's own check with this seed draws first, for its output's
    shape: the first draw of a fresh engine stream, as `LayerCheck._first_calls` makes it."""
    rng = _streams.take(seed)
    try:
        return gradcheck.Direction(shape, rng).array()
    finally:
        _streams.give(seed, rng)


@dataclass
class _Array:
    name: str  # "x" or a parameter name
    live: np.ndarray  # the array that is perturbed
    grad: np.ndarray  # analytic gradient, float64
    scale: float = 1.0  # what its finite-difference step is a fraction of (gradcheck.step_scales)
    squared: float | None = None  # |grad|², once known (`_Grads.squared_norms`)


class _Grads:
    """The arrays' gradients, read when a probe has run: user code run by the probe may
    have made the check take private copies of them (`LayerCheck._privatise`)."""

    def __init__(self, arrays: list[_Array]):
        self.arrays = arrays

    def __iter__(self):
        return (a.grad for a in self.arrays)

    def squared_norms(self) -> list[float]:
        """|g|² of each gradient, computed once per check (a private copy has the same values)."""
        for a in self.arrays:
            if a.squared is None:
                a.squared = gradcheck.squared_norms([a.grad])[0]
        return [a.squared for a in self.arrays]

    def __len__(self) -> int:
        return len(self.arrays)


@dataclass
class _Counter:
    forwards: int = 0


@dataclass
class LayerCheck(Contracts, Outcomes):
    """One gradient check of one adapter. Build it, then call `run()`."""

    adapter: Adapter
    x: np.ndarray
    t: Any = None
    options: Options = field(default_factory=Options)
    user_dtypes: frozenset[str] = frozenset()
    label: str | None = None  # name used in findings; defaults to the adapter's name
    counter: _Counter = field(default_factory=_Counter)
    # id of a perturbed array -> an array with its values that nothing writes to (the caller's
    # own, from which the check's copy was made): probes restore from it instead of a copy.
    originals: Mapping[int, np.ndarray] | None = None
    # The caller made `x` for this check alone: a float64 `x` is perturbed (and restored)
    # itself instead of a copy.
    x_owned: bool = False
    # Restore NumPy's global random state after the check (False: the caller does, once for
    # several checks).
    restore_rng: bool = True
    # Set back the arrays a network's forward differences moved when they pass (False: the
    # caller lets go of them and compares what it reuses with its own arrays, as `check_network`
    # does: a copy over the parameters and the batch, about a fifth of a forward pass, saved).
    restore_moved: bool = True
    # For a network: the caller checked every one of its layers, and each layer's backward gave
    # the same gradients when called twice. The network's own second `gradient` call is then
    # made only where state could still carry over between calls (`_carries_state`).
    parts_reentrant: bool = False
    # Keep a float64 copy of the first forward's output as `output` (a network's next layer
    # is checked on it, so its input is not computed by another forward).
    keep_output: bool = False
    # Make no probe, and name the arrays they would compare in `deferred`: for a network's layer
    # whose arrays the network's own check may settle (`api._Deferred`); one it does not is
    # checked again without `defer`, from a copy of the layer as it was.
    defer: bool = False
    # For a network whose layers are not checked yet (`api._network_first`): settle it as it would
    # be settled (its forward differences, else its central probes where rounding limits those) or
    # give up (`gave_up`): right after its first forward (the `gradient` call) when `settle_only()`
    # is false there (its layers' calls showed something their own checks would report), at a
    # forward difference outside its window, or at a failing central probe, where it would go on
    # to find what is wrong. The caller then checks the network as it would have, layer by layer.
    settle_only: Callable[[], bool] | None = None
    # For a network: its first layer's own probe, read off the network's central probes when they
    # are the first evaluations after its `gradient` call (`_central`; `api._FirstLayerRider`).
    rider: Any = None
    # (class, array name) whose wrong gradient a check of the same network localised element by
    # element already (a network of six `Convolution`s with one bug): shared by the layers' checks,
    # a later layer of the class compares only the first few elements (`Outcomes._localise`)
    localised: set[tuple[Any, str]] | None = None

    def __post_init__(self) -> None:
        self.deferred: list[str] | None = None  # with `defer`: the arrays the probes would compare
        self.gave_up = False  # with `settle_only`: neither settled nor probed
        self._outside = False  # a network's forward difference failed outside its window, not by rounding
        # A network's input gradient (its first layer's dx) agreed in its forward differences, to
        # this error (relative to the smaller part's size, `_clean_with_input`); None: not compared.
        self.input_error: float | None = None
        self._writes_input = True  # until the first forward shows otherwise
        # Hand over copies of the input and the upstream gradient rather than the arrays
        # themselves, read-only (set once user code wrote into one of them).
        self._copies = False
        # The layer wrote into an array of its own while its first backward was watched
        # (`carryover.Watch`): its backward is then called twice without a watch, as any
        # layer's whose first call could carry state into the second.
        self._stateful = False
        self._watched = False  # the first backward of this run is watched
        self._untouched: np.ndarray | None = None  # the input, when user code had it only read-only
        # ids of a network's parameters user code had only read-only since they were copied from the
        # caller's (`_first_calls`): they still hold the caller's values, without a comparison (`_saved`)
        self._unmoved: frozenset[int] = frozenset()
        self._narrow = True  # failing probes are stepped finer too (float64 only, set in `_run`)
        self._dtype = "float64"  # the precision the loss is computed in (set in `_check_arrays`)
        self._softmax_out: np.ndarray | None = None  # the first output, when its rows are probabilities (`_first_calls`)
        # The first backward's gradients are held by reference, not copied (a large layer's
        # check would need a second copy of its weights' size): they are read-only while user
        # code runs, and copied only if user code writes into them (`_privatise`).
        self._held: list[np.ndarray] = []
        # True once the second backward gave the same gradients as the first (None: not known)
        self.reentrant: bool | None = None
        self.output: np.ndarray | None = None  # with `keep_output`: the first forward's output
        self._grads: dict[str, Any] = {}
        self._checked: list[_Array] = []
        # A stream of its own: inputs built (or drawn by the caller) from the same seed must not
        # coincide with the upstream gradient, or bugs such as masking on dout's sign hide.
        # Set for the length of `run` (`_streams`).
        self.rng: np.random.Generator = None  # type: ignore[assignment]
        self.layer = self.label or self.adapter.name
        self.report = Report(seed=self.options.seed)
        self._own_generators: tuple[Any, list[tuple[Any, Any]]] | None = None  # (layer, its `self.rng` as the first forward found it)

    @property
    def input_untouched(self) -> bool:
        """Whether the input the check was given holds its values for certain, without a
        comparison: user code had it only read-only, and no probe moved it (a deferred check
        makes none)."""
        return self.deferred is not None and self._untouched is self.x

    # -- running user code ------------------------------------------------------------

    def _reseed(self) -> None:
        """The same random numbers for each forward: NumPy's global RNG and the file's generators
        (`global_random.reseed`), and a generator the layer holds itself (`self.rng`)."""
        global_random.reseed(FORWARD_SEED)
        layer = self.adapter.layer if isinstance(self.adapter, ClassLayer) else None
        if layer is None:
            return
        if self._own_generators is None or self._own_generators[0] is not layer:
            self._own_generators = (layer, global_random.held(layer))
        global_random.reset(self._own_generators[1])

    def _forward(self, x: np.ndarray) -> Any:
        self._reseed()
        self.counter.forwards += 1
        try:
            # A forward that left its input alone on the first call gets the check's own copy
            # directly: the probes set every element before each call anyway.
            return self._guarded(lambda: self.adapter.forward(x.copy() if self._writes_input else x, self.t), reseed=True)
        except Exception as error:  # user code
            raise _LayerRaised("forward", error) from error

    def _backward(self, dout: Any, copy_grads: bool = True, copy_dx: bool = True) -> tuple[np.ndarray | None, dict[str, Any]]:
        """dx and the gradients, copied (a later call may write into the same arrays) unless
        `copy_grads` (`copy_dx`) is False: for a look that ends before the next call to user
        code, or for arrays the check then holds (`_hold`)."""
        try:
            dx, grads = self._guarded(lambda: self.adapter.backward(dout))
        except Exception as error:  # user code
            raise _LayerRaised("backward", error) from error
        copy = lambda g: np.array(g, copy=True) if isinstance(g, np.ndarray) else g  # noqa: E731
        return (copy(dx) if copy_dx else dx), ({k: copy(v) for k, v in grads.items()} if copy_grads else dict(grads))

    def _first_backward(self, upstream: Any) -> tuple[Any, np.ndarray | None, dict[str, Any]]:
        """(dout, dx, gradients) of the first backward, nothing copied.

        The upstream gradient is handed over itself, read-only, rather than as a copy; it
        stays read-only for the rest of the check (`run` makes it writable again), as the
        objective of every probe reads it. A backward that writes into it raises, and the
        check starts again from copies (`_run`), where `_contracts` reports the write.
        """
        if self._copies or not (isinstance(upstream, np.ndarray) and upstream.flags.owndata):
            dout = upstream.copy() if isinstance(upstream, np.ndarray) else upstream
            return (dout, *self._backward(dout, copy_grads=False, copy_dx=False))
        upstream.flags.writeable = False
        return (upstream, *self._backward(upstream, copy_grads=False, copy_dx=False))

    def _first_gradients(self, before: dict[str, int]) -> dict[str, Any]:
        """The parameters' gradients as the first backward left them (see `_hold`).

        Only the gradient attributes are read, not every array the layer holds. A DLFS-2
        layer writes into its `grads` arrays on every call: those are copied at once.
        """
        adapter = self.adapter
        assert isinstance(adapter, ClassLayer)
        adapter.discover_params(before)
        layer = adapter.layer
        copy = lambda g: np.array(g, copy=True) if isinstance(g, (np.ndarray, np.floating)) else g  # noqa: E731
        if adapter.dlfs2:  # a DLFS-2 layer or cell: its `grads` list
            return adapter.gradients_from({"grads": [copy(g) for g in layer.grads]})
        if adapter.returns_gradients:  # `return dW, db`: what the first backward returned
            return adapter.gradients_from(adapter.gradient_snapshot())
        snapshot = {}
        for name in adapter.layer_params():  # the layer's own arrays (not the other inputs of a cell)
            attribute = adapter.grad_attribute(name)
            value = adapter.kept_gradient(name)  # `self.dW`, or a parameter object's `self.W.grad`
            if isinstance(value, np.floating):
                snapshot[attribute] = copy(value)
            elif isinstance(value, np.ndarray):
                snapshot[attribute] = value
        return adapter.gradients_from(snapshot)

    # -- gradients held by reference -----------------------------------------------------

    def _hold(self, grads: dict[str, Any], x: np.ndarray) -> dict[str, Any]:
        """Keep the gradient arrays by reference where that is safe: an array that shares
        memory with something the probes perturb, or that cannot be made read-only, is copied."""
        lives = [a for a in (x, *self.adapter.params().values()) if isinstance(a, np.ndarray)]
        # the memory the lives are in, by the arrays that own it, where NumPy allocated all of it: an
        # array that owns its memory shares it with a live only when it is that live's owner
        owners = [_owner(a) for a in lives]
        owned = {id(o) for o in owners} if all(o.base is None for o in owners) else None
        held = {}
        for name, g in grads.items():
            if isinstance(g, np.ndarray) and not any(g is h for h in self._held):
                # An owner is held alone. A view (the book's `return dx.reshape(...)`) stays writable
                # through its base: it is held with its base (base first, so the base is writable
                # again before the view) when nothing but the view refers to that base (a view the
                # layer kept of it would stay writable); anything else is copied.
                owner = g if g.flags.owndata else g.base
                if (
                    g.flags.writeable
                    and isinstance(owner, np.ndarray)
                    and owner.flags.owndata
                    and owner.flags.writeable
                    and (owner is g or sys.getrefcount(owner) <= _ONLY_ITS_VIEW)
                    and not (id(owner) in owned if owned is not None and owner.base is None else any(np.may_share_memory(owner, a) for a in lives))
                ):
                    if owner is not g and not any(owner is h for h in self._held):
                        self._held.append(owner)
                    self._held.append(g)
                else:
                    g = np.array(g, copy=True)
            held[name] = g
        self._grads = held
        return held

    def _release(self, keep: dict[str, Any]) -> None:
        """Stop holding arrays that `keep` no longer refers to (nor to a view of)."""
        kept = [v for v in keep.values() if isinstance(v, np.ndarray)]
        self._held = [g for g in self._held if any(g is v or g is v.base for v in kept)]

    def _guarded(self, call: Callable[[], Any], reseed: bool = False) -> Any:
        """Run user code with the held gradients read-only; if it writes into them, copy
        them (their values are still the first backward's) and run it again."""
        held = self._held
        if not held:
            return call()
        for g in held:
            g.flags.writeable = False
        try:
            return call()
        except ValueError as error:
            if "read-only" not in str(error):
                raise
        finally:
            for g in held:
                g.flags.writeable = True
        self._privatise()
        if reseed:
            self._reseed()
        return call()

    def _privatise(self) -> None:
        copies = {id(g): g.copy() for g in self._held}
        self._held = []
        self._grads = {k: copies.get(id(v), v) if isinstance(v, np.ndarray) else v for k, v in self._grads.items()}
        for a in self._checked:
            a.grad = copies.get(id(a.grad), a.grad)

    def _saved(self, live: np.ndarray) -> np.ndarray:
        """What a probe restores `live` from: the caller's own array when it still holds
        the same values (no copy), else a copy. An input user code had only read-only
        (`_untouched`) still holds them without a comparison."""
        original = self.originals.get(id(live)) if self.originals else None
        if (
            original is not None
            and original is not live
            and original.shape == live.shape
            and not np.may_share_memory(original, live)
            and (((live is self._untouched or id(live) in self._unmoved) and original.dtype == live.dtype) or identical(live, original))
        ):
            return original
        return live.copy()

    def _objective(self, out: Any, upstream: Any) -> float:
        if self.adapter.is_loss:
            if type(out) is float:  # a network's loss: the float it is, as the sum of its one element is
                return out
            return float(np.asarray(out, dtype=np.float64).sum())
        return float((np.asarray(out, dtype=np.float64) * upstream).sum())  # np.sum's own reduction

    # -- the check ---------------------------------------------------------------------

    def run(self) -> Report:
        """The check; with `defer`, without its probes (`deferred`)."""
        state = global_random.save() if self.restore_rng else None
        self.rng = _streams.take(self.options.seed)
        try:
            self._run(attempt=0)
        except _LayerRaised as raised:
            where = locate.user_frame(raised.error)
            if where.file is None and locate.called_wrongly(raised.error):
                # the call itself failed, before any of the user's code ran: backprop-doctor's call, not the user's
                self._add(
                    "build-failed",
                    f"`{self.layer}.{raised.phase}` was not checked: it takes other arguments than backprop-doctor "
                    f"gives it ({locate.describe(raised.error)}); it is checked where a network or a training loop "
                    "of yours calls it",
                    pattern=CALLED_OTHERWISE,
                )
                return self.report
            module = locate.standin_behind(raised.error)
            if module is not None:  # `im2col` from a missing module: the stand-in's error, not the user's
                message = f"`{self.layer}` was not checked: {locate.standin_reason(f'its {raised.phase}', raised.error, module)}"
                self._add("build-failed", message, severity="info", pattern=STAND_IN, **where.fields())
                return self.report
            if _indexed_by_floats(raised.error, self.x):
                # `W[idx]` given the float batch backprop-doctor made up: the layer takes token ids
                self._add(
                    "build-failed",
                    f"`{self.layer}.{raised.phase}` was not checked on made-up input: it indexes with its input "
                    f"({locate.describe(raised.error)}), so it takes integer ids, not the float batch of shape "
                    f"{tuple(np.shape(self.x))} it was given; it is checked where a network or a training loop of yours calls it",
                    severity="info",
                    pattern=CALLED_OTHERWISE,
                )
                return self.report
            if self._not_usable(raised):
                return self.report
            if isinstance(raised.error, UnpairedGradients):
                # `return g1, g2, g3, g4` of `W1`, `b1`, `W2`, `b2` with `W1` and `W2` both (8, 8): not a bad
                # return, and not a layer to compare; the training step that steps with them is checked
                self._add(
                    "build-failed",
                    f"`{self.layer}` was not checked as a layer: {raised.error}; they are checked only through a training "
                    "step that updates the parameters with them",
                    severity="info",
                    pattern=UNPAIRED_GRADIENTS,
                    **locate.where(self.adapter.backward_target()).fields(),
                )
                return self.report
            self._add(
                "layer-raised",
                f"`{self.layer}.{raised.phase}` raised {locate.describe(raised.error)} on input of shape "
                f"{tuple(np.shape(self.x))}: fix the {raised.phase} pass so it runs on that input",
                **where.fields(),
            )
        finally:
            self._let_go()
            _streams.give(self.options.seed, self.rng)
            self.rng = None  # type: ignore[assignment]
            if state is not None:
                global_random.restore(state)
        return self.report

    def _not_usable(self, raised: _LayerRaised) -> bool:
        """Whether the layer, run through its class's `__call__` (DeZero), raised because that `__call__`
        cannot be used here (`_through_call.not_usable`): then an info note says it was not checked."""
        adapter = self.adapter
        if not (isinstance(adapter, ClassLayer) and adapter.methods.through_call):
            return False
        why = _through_call.not_usable(adapter.layer, raised.error)
        if why is None:
            return False
        self._add(
            "build-failed",
            f"`{self.layer}.{raised.phase}` was not checked: {why}",
            severity="info",
            pattern=FRAMEWORK_OBJECTS,
            **locate.user_frame(raised.error).fields(),
        )
        return True

    def _let_go(self) -> None:
        """Stop holding the gradients and make every array the check made read-only writable again."""
        for g in self._held:
            g.flags.writeable = True
        upstream = getattr(self, "_upstream", None)
        if isinstance(upstream, np.ndarray) and upstream.flags.owndata:
            upstream.flags.writeable = True
        self._held, self._grads, self._checked = [], {}, []

    def _add(self, name: str, message: str, severity: Any = None, **fields: Any) -> None:
        fields.setdefault("layer", self.layer)
        self.report.findings.append(rule(name).finding(message, severity=severity, **fields))

    def _run(self, attempt: int) -> None:
        kept = len(self.report.findings), len(self.report.measurements)
        try:
            self._run_once(attempt)
        except _WroteReadOnly:
            # User code wrote into an array the check handed over read-only (its input, or the
            # upstream gradient): start again from copies, as a check that copies everything.
            # Should it write with copies too, the array was the layer's own (its first
            # backward was watched): start again without the watch.
            del self.report.findings[kept[0] :], self.report.measurements[kept[1] :]
            self._let_go()
            self._stateful = self._copies
            self._copies = True
            self._run(attempt)

    def _run_once(self, attempt: int) -> None:
        self._watched = False
        self._untouched = None
        if self.x_owned and isinstance(self.x, np.ndarray) and self.x.dtype == np.float64:
            x = self.x
        else:
            x = np.array(self.x, dtype=np.float64) if is_float_array(np.asarray(self.x)) else np.array(self.x)
        readonly = not self._copies and isinstance(x, np.ndarray) and x.flags.owndata and x.flags.writeable
        if readonly:
            x.flags.writeable = False
        try:
            first = self._first_calls(x, attempt, readonly)
        except _LayerRaised as raised:
            if (self._copies and not self._watched) or not _read_only(raised.error):
                raise
            raise _WroteReadOnly from raised
        finally:
            if readonly:
                x.flags.writeable = True
        if first is None:
            return
        self._untouched = x if readonly else None  # user code could not write into it
        dtype, upstream, f0, grads = first
        dx = grads.get(_DX)

        arrays = self._arrays(x, dx, grads, attempt)
        self._checked = arrays
        if not arrays:
            return
        # An input that is not probed (a network's) stays read-only: user code that keeps it
        # between calls then needs no copy of it (`NetworkAdapter`).
        if self.defer and attempt == 0:
            self.deferred = [a.name for a in arrays]
            return
        frozen = readonly and all(a.name != "x" for a in arrays)
        if frozen:
            x.flags.writeable = False
        try:
            self._check_arrays(x, attempt, dtype, upstream, f0, arrays)
        finally:
            if frozen:
                x.flags.writeable = True

    def _check_arrays(self, x: np.ndarray, attempt: int, dtype: str, upstream: Any, f0: float, arrays: list[_Array]) -> None:
        """Probe the arrays' gradients; localise what fails."""
        for a, scale in zip(arrays, gradcheck.step_scales([a.live for a in arrays], _Grads(arrays))):
            a.scale = scale
        forward = lambda: self._objective(self._forward(x), upstream)  # noqa: E731
        h = gradcheck.STEP.get(dtype, gradcheck.STEP["float64"])
        tol = self.options.tolerance(dtype)
        if self.adapter.is_loss and self.options.rtol is None:
            tol = max(tol, LOSS_RTOL)
        self._tol = tol
        self._dtype = dtype  # the precision the loss is computed in (`Outcomes._resolved`)
        # smaller steps tell a kink from a wrong gradient only above float64 rounding
        self._narrow = dtype == "float64"
        if self._clean_one_sided(forward, f0, arrays, h, attempt, x):
            self._passed(arrays, self._one_sided_error, dtype, attempt)
            return
        if self.settle_only is not None and self._outside:
            self.gave_up = True  # a forward difference outside its window, not rounding: most likely a wrong gradient
            return
        probes = self._central(forward, f0, arrays, h, x)
        worst = max(p.error for p in probes)
        if worst <= tol:
            self._passed(arrays, worst, dtype, attempt)
            return
        if self.settle_only is not None:
            self.gave_up = True
            return
        if any(p.kinked for p in probes) and attempt < KINK_RETRIES and arrays[0].name == "x":
            self.x = _jitter(x, self.rng)
            self._run(attempt + 1)
            return
        if attempt == 0 and worst < ON_A_KINK and self.adapter.kind == "network" and isinstance(x, np.ndarray) and x.dtype.kind == "f":
            # a network's data may sit on its kinks exactly (a sample at the origin with zero biases: every
            # ReLU input 0): its parameters' one-sided slopes then agree with each other and not with
            # backward; moved off them once, a right gradient passes and a wrong one fails again
            self.x = _jitter(x, self.rng)
            self._run(attempt + 1)
            return
        self._localise(forward, f0, arrays, h, tol, kinked=any(p.kinked for p in probes), joint=worst)

    def _first_calls(self, x: np.ndarray, attempt: int, readonly: bool) -> tuple[str, Any, float, dict[str, Any]] | None:
        """The first forward and backward, and the contracts of backward: (dtype, upstream,
        f0, gradients with dx under `_DX`), or None when the output cannot be checked.

        With `readonly`, `x` is handed to user code itself, read-only, rather than as a copy
        (`_run` retries with copies should user code write into it).
        """
        before = self.adapter.attribute_ids() if isinstance(self.adapter, ClassLayer) else None
        given = x if readonly else x.copy()  # read-only: a forward that writes into it raises
        network = getattr(self.adapter, "network", None) if self.adapter.kind == "network" and self.parts_reentrant else None
        # what the network holds before its `gradient` runs, which may be inside the first forward
        # (`NetworkAdapter.first_forward`: the loss it computes is f0)
        state = _state_of(network.net, {p.shape for p in network.params().values()}) if network is not None and attempt == 0 else None
        self._reseed()
        self.counter.forwards += 1
        frozen = self._frozen_parameters(attempt)
        try:
            out = getattr(self.adapter, "first_forward", self.adapter.forward)(given, self.t)
        except Exception as error:
            raise _LayerRaised("forward", error) from error
        finally:
            for p in frozen:
                p.flags.writeable = True
        self._unmoved = frozenset(map(id, frozen))
        if self.settle_only is not None and not self.settle_only():
            self.gave_up = True
            return None
        self._writes_input = not readonly and not identical(given, x)
        if attempt == 0 and self._writes_input:
            self._input_mutated(x, given)
        del given  # the layer may keep it; the check needs it no longer
        if not self._output_ok(out):
            return None
        if self.keep_output and attempt == 0 and not self._copies:
            # copied now: backward may change what the layer keeps of its output
            self.output = np.array(out, dtype=np.float64)
        # a layer's output rows that are probabilities (its forward ends in a softmax), for `Outcomes._takes_logits_gradient`
        self._softmax_out = None if self.adapter.is_loss or attempt else _probability_rows(out)
        out_dtype = np.asarray(out).dtype
        dtype = _dtype_name(out_dtype) if out_dtype.kind == "f" else "float64"
        if dtype == "float64" and self.user_dtypes & LOW_PRECISION:
            held = self.adapter.layer if isinstance(self.adapter, ClassLayer) else getattr(getattr(self.adapter, "network", None), "net", None)
            dtype = (_made_inside(held) if held is not None else None) or dtype
        # uniform entries from the pool rather than Gaussian draws (which cost a tenth of a forward pass)
        upstream: Any = 1.0 if self.adapter.is_loss else gradcheck.Direction(np.shape(out), self.rng).array()
        if not self.adapter.is_loss and getattr(self.adapter, "one_entry_upstream", False) and np.size(upstream) > 1:
            # a backward written for the one nonzero entry a cross-entropy of its output sends (`static.one_entry`)
            kept = np.zeros_like(upstream)
            at = np.unravel_index(int(np.argmax(np.abs(upstream))), np.shape(upstream))
            kept[at] = upstream[at]
            upstream = kept
        self._upstream = upstream
        # a deferred check makes no probe: its objective would never be read
        f0 = math.nan if self.defer and attempt == 0 else self._objective(out, upstream)
        del out

        class_layer = isinstance(self.adapter, ClassLayer) and before is not None
        rebound = self.adapter.attribute_ids() if class_layer and attempt == 0 else None
        watch = self._watch(attempt)
        self._watched = watch is not None
        with watch or contextlib.nullcontext():
            dout, dx, grads = self._first_backward(upstream)
        if class_layer and self.adapter.unpaired is not None:
            raise _LayerRaised("backward", self.adapter.unpaired)  # no gradient to compare: `run` notes why
        if watch is not None:
            carries = watch.carries()
        else:
            carries = state is None or _carries_state(network.net, state, grads)
        if carries:
            self._unmoved = frozenset()  # a second call follows, with the parameters writable
        del state
        if class_layer:
            # Which attributes are parameters is only known after a backward; read their
            # gradients from that same first call (a second one would show accumulation).
            grads = self._first_gradients(before)
        elif self.adapter.kind == "network" and getattr(getattr(self.adapter, "network", None), "style", "") == "list":
            grads = {k: np.array(g, copy=True) if isinstance(g, np.ndarray) else g for k, g in grads.items()}  # DLFS-2 writes in place
        handed_back = isinstance(dx, np.ndarray) and isinstance(dout, np.ndarray) and np.shares_memory(dx, dout)
        grads = self._hold({**grads, _DX: dx}, x)  # dx held too: user code that writes into it gets it copied
        if attempt == 0:
            again = self._contracts(upstream, dout, self._grads, twice=carries, rebound=rebound, handed_back=handed_back)
            grads = self._grads  # copies, if the second call wrote into the first one's arrays
            if again is not None:
                # The second call gave the same gradients: compare with those (the ones the
                # layer holds now) and let the first call's go.
                grads = {k: again[k] if isinstance(again.get(k), np.ndarray) else v for k, v in grads.items()}
                self._release(grads)
                grads = self._hold(grads, x)
            if dx is None and is_float_array(x) and self.adapter.kind in ("layer", "loss-layer", "function-pair") and not getattr(self.adapter, "returns_gradients", False):
                self._add(
                    "bad-return",
                    f"`{self.layer}.backward` returns None, so the gradient stops here: return dx "
                    f"(shape {tuple(x.shape)}) at its end",
                    **locate.where(self.adapter.backward_target()).fields(),
                )
        del dout
        return dtype, upstream, f0, grads

    def _frozen_parameters(self, attempt: int) -> list[np.ndarray]:
        """A network's parameters made read-only for its first `gradient` call, in a check that gives
        up on anything it cannot settle (`settle_only`: the network's, made on a working copy of the
        caller's network, `api._network_first`): a call that writes into one raises, and the
        layer-by-layer check, which freezes nothing, is made instead. Those it had only read-only
        need no comparison with the caller's own before a probe restores from them (`_saved`)."""
        if attempt != 0 or self.settle_only is None or self.adapter.kind != "network":
            return []
        frozen = [p for p in self.adapter.params().values() if isinstance(p, np.ndarray) and p.flags.writeable and p.flags.owndata]
        for p in frozen:
            p.flags.writeable = False
        return frozen

    def _watch(self, attempt: int) -> carryover.Watch | None:
        """A watch over a large class layer's first backward (`carryover`), where a layer of
        its convention keeps its gradients in attributes it binds (DLFS-2 layers write into
        their `grads` lists, SGD-in-backward layers into their weights: called twice)."""
        adapter = self.adapter
        if self._stateful or attempt != 0 or not isinstance(adapter, ClassLayer) or adapter.dlfs2 or adapter.methods.learning_rate:
            return None
        watch = carryover.Watch(adapter.layer)
        return watch if watch.worth else None

    def _central(self, f: Callable[[], float], f0: float, arrays: list[_Array], h: float, x: np.ndarray) -> list[gradcheck.Probe]:
        """The central probes that settle the arrays (`_probe`, early), with a network's first layer
        riding on them (`rider`) where no evaluation has moved anything since the network's
        `gradient` call: the network's input then moves with the parameters (its gradient, the
        first layer's dx from that call, joins the analytic slope, as in `_clean_with_input`), and
        each evaluation's first-layer output gives that layer's own probe, with no evaluation of its
        own. The network's rows are its parameters' only."""
        rider = self.rider
        inputs = self._input_array(x) if rider is not None and self.counter.forwards == 1 else None
        if inputs is None or not rider.begin([*arrays, inputs], self._guarded):
            return self._probe(f, f0, arrays, h, early=True, reuse=self.settle_only is not None)
        probes = None
        x.flags.writeable = True
        try:
            probes = self._probe(self._read_only_during(f, x), f0, [*arrays, inputs], h, early=True, watch=rider.directions, reuse=self.settle_only is not None)
        finally:
            x.flags.writeable = False
            rider.end(probes)
        return probes

    def _input_array(self, x: np.ndarray, rows: slice | None = None) -> _Array | None:
        """The network's input as an array its probes can move, its gradient the first layer's dx
        from the `gradient` call (`NetworkAdapter.input_gradient`); None where there is none, or
        user code may have had the input writable. `rows`: only those rows of it (views of x
        and dx: a probe that moves them moves x), stepped √(x.size / their size) times wider, so
        they move the loss by about what the whole input moves it by at its own step: the part
        of a probe they make keeps the share of it the whole input's would have (`_part_sizes`)."""
        dx = getattr(self.adapter, "input_gradient", lambda: None)()
        if dx is None or x is not self._untouched or dx.shape != x.shape:
            return None
        widened = 1.0
        if rows is not None:
            whole = x.size
            x, dx = x[rows], dx[rows]
            widened = math.sqrt(whole / x.size)
        inputs = _Array("x", x, dx)
        inputs.scale = gradcheck.step_scales([x], _Grads([inputs]))[0] * widened
        return inputs

    @staticmethod
    def _read_only_during(f: Callable[[], float], x: np.ndarray) -> Callable[[], float]:
        """`f`, with the input (which the probes step) read-only while user code runs."""

        def moved() -> float:
            x.flags.writeable = False
            try:
                return f()
            finally:
                x.flags.writeable = True

        return moved

    def _probe(
        self,
        f: Callable[[], float],
        f0: float,
        arrays: list[_Array],
        h: float,
        count: int | None = None,
        early: bool = False,
        watch: Callable[[list[gradcheck.Direction]], list[gradcheck.Direction]] | None = None,
        reuse: bool = False,
    ) -> list[gradcheck.Probe]:
        """Probes along random directions; with `early`, fewer than `count` when the first
        ones agree far inside the tolerance (`EARLY_ONE`, `EARLY_TWO`). `watch`: sees each probe's
        directions before the probe, and hands back the ones to step (`_central`). `reuse`: a wider step
        one probe found not straight is not tried by the later ones (`gradcheck.refined_probe`'s `bent`):
        only for a network's check that gives up on any failure (`settle_only`) and is then made again
        layer by layer without it, so a network that is not clean gets the findings it got before."""
        probes: list[gradcheck.Probe] = []
        lives = [a.live for a in arrays]
        saved = [self._saved(a) for a in lives]  # restored bit-identically after each probe: one source serves all
        bent: set[float] | None = set() if reuse else None  # wider steps found not straight: not tried again
        for _ in range(count or self.options.probes):
            directions = gradcheck.Direction.drawn([(a.live.shape, a.scale) for a in arrays], self.rng)
            if watch is not None:
                directions = watch(directions)
            probes.append(
                gradcheck.refined_probe(f, f0, lives, _Grads(arrays), directions, h, self.options.atol, self._tol, saved, self._narrow, bent)
            )
            if self.settle_only is not None and probes[-1].error > self._tol:
                break  # the check gives up (`_check_arrays`): no probe more
            if early and not any(p.kinked for p in probes):
                worst = max(p.error for p in probes)
                if (len(probes) == 1 and worst <= EARLY_ONE * self._tol) or (len(probes) == 2 and worst <= EARLY_TWO * self._tol):
                    break
        return probes

    def _clean_one_sided(self, f: Callable[[], float], f0: float, arrays: list[_Array], h: float, attempt: int, x: np.ndarray) -> bool:
        """Whether a network's gradients agree along two random directions by forward
        differences, which reuse f0 and cost one evaluation each (central probes cost two).

        Two forward differences within `EARLY_TWO` of the tolerance settle a network as two
        central probes do (a wrong gradient passes either only when its error happens to be
        nearly orthogonal to the direction); their curvature term only makes them fail more
        often. Anything else (a probe outside, a float32 network, one probe asked for) is
        checked as before from the same random state, so a network that is not clean gets the
        findings central probes give.
        """
        if not (self.adapter.kind == "network" and self._narrow and attempt == 0 and self.options.probes >= 2):
            return False
        state = self.rng.bit_generator.state
        if self._clean_with_input(f, f0, arrays, h, x):
            return True
        self.rng.bit_generator.state = state
        lives = [a.live for a in arrays]
        saved: list[np.ndarray] | None = None
        errors = []
        for _ in range(2):
            directions = gradcheck.Direction.drawn([(a.live.shape, a.scale) for a in arrays], self.rng)
            (dots,) = gradcheck.dots_along(_Grads(arrays), [directions])
            # Where rounding hides the slope (a deep network at a small initial scale moves its
            # loss by a few units in the last place), central probes take a larger step instead:
            # known from the analytic slope before the evaluation is spent (a numerical slope
            # large enough to lift the limit would fail the window: the central probes follow too)
            if gradcheck.slope_hidden(sum(d for d, _ in dots), f0, h, self._tol):
                self.rng.bit_generator.state = state
                return False
            saved = saved or [self._saved(a) for a in lives]
            probe = gradcheck.one_sided_probe(f, f0, lives, _Grads(arrays), directions, h, self.options.atol, saved, dots=dots)
            errors.append(probe.error)
            limited = gradcheck.rounding_limited(probe, f0, h, self._tol)
            if probe.error > EARLY_TWO * self._tol or limited:
                self.rng.bit_generator.state = state
                self._outside = not limited
                return False
        self._one_sided_error = max(errors)
        return True

    def _clean_with_input(self, f: Callable[[], float], f0: float, arrays: list[_Array], h: float, x: np.ndarray) -> bool:
        """Whether a network's gradients and the gradient of its input (its first layer's dx,
        `NetworkAdapter.input_gradient`) agree along two random directions through both, by
        forward differences f(θ + h·v, x + h·u) - f0: the input's gradient is checked with no
        evaluation of its own. Anything else leaves `_clean_one_sided` to check as before,
        from the same random state. Sets `input_error`.

        Neither part may hide in the other: the tolerance is scaled by the smaller part's share
        of the larger (`_part_sizes`), so an error in either, relative to that part's own typical
        size, is held to `EARLY_TWO` of the tolerance to within a factor of two (the first layer's
        own tolerance, for a network's loss-layer tolerance). An error is measured against the
        slope or its spread over the directions, whichever is larger, and the step is the
        smallest that rounding allows (`_input_step`). The input stays read-only while user code
        runs, as for the rest of a network's check.
        """
        inputs = self._input_array(x, _input_rows(x, self.rng))
        if inputs is None:
            return False
        sizes = _part_sizes(arrays, inputs)
        share = min(sizes) / max(sizes) if max(sizes) > 0 and all(map(math.isfinite, sizes)) else 0.0
        tol = self._tol * share
        spread = math.hypot(*sizes) / math.sqrt(3)  # of g·v + dx·u over the directions (uniform entries)
        if not share > 0 or _rounding_limited(f0, h, spread, tol):
            return False
        h = _input_step(f0, h, spread, tol)
        both = [*arrays, inputs]
        lives = [a.live for a in both]
        saved = [self._saved(a) for a in lives]
        moved = self._read_only_during(f, x)
        errors = []
        passed = False
        x.flags.writeable = True
        inputs.live.flags.writeable = True  # a view of x, made while x was read-only
        try:

            def keep(analytic: float, numerical: float, floor: float) -> bool:
                # against the slope's spread too: a slope small by chance says nothing of an error
                error = abs(analytic - numerical) / max(abs(analytic), abs(numerical), floor, spread)
                errors.append(error / share)
                return not error > EARLY_TWO * tol

            grads = _Grads(both)
            pooled = gradcheck.pooled_forward_differences(
                moved, f0, lives, grads, [a.scale for a in both], h, self.options.atol, saved, self.rng, 2, keep
            )
            del keep
            if pooled is False:
                return False
            if pooled:  # one pool window per array: `one_sided_probe`'s figures, without its objects
                passed = True
                return True
            # both drawn first (the same draws as one after the other: nothing else draws between), so
            # their dot products are taken together, each gradient read once (`dots_along`)
            drawn = gradcheck.Direction.drawn([(a.live.shape, a.scale) for _ in range(2) for a in both], self.rng)
            plan = [drawn[: len(both)], drawn[len(both) :]]
            for directions, dots in zip(plan, gradcheck.dots_along(_Grads(both), plan)):
                # not restored between the two: the second steps every element from `saved` again
                probe = gradcheck.one_sided_probe(
                    moved, f0, lives, _Grads(both), directions, h, self.options.atol, saved, restore=False, dots=dots
                )
                # against the slope's spread too: a slope small by chance says nothing of an error
                error = abs(probe.analytic - probe.numerical) / max(abs(probe.analytic), abs(probe.numerical), probe.floor, spread)
                errors.append(error / share)
                if error > EARLY_TWO * tol:
                    return False
            passed = True
        finally:
            if self.restore_moved or not passed:  # the central probes that follow start from the saved values
                gradcheck.restored(lives, saved)
            x.flags.writeable = False
            if passed:
                self._one_sided_error = self.input_error = max(errors)
        return True

    def _numbers(self, name: str, live: np.ndarray, grad: Any, attempt: int) -> np.ndarray | None:
        """The gradient of `name` as an array of numbers; None when it is not one, with a finding (on the
        first attempt): an info note for a framework's objects (DeZero `Variable`s: not compared), else a
        bad return."""
        array = _as_numbers(grad)
        if array is not None or attempt != 0:
            return array
        framework = _framework_class(grad)
        items = f"`{framework}`s" if framework else "values"
        what = f"a {type(grad).__name__} of {len(grad)} {items}" if isinstance(grad, (list, tuple)) else f"a `{type(grad).__name__}`"
        if framework is not None:
            message = (
                f"the gradient of `{self.layer}.{name}` is {what} (a framework's type, with a NumPy array in `.data`), "
                "not a NumPy array: it was not compared"
            )
            self._add("bad-return", message, severity="info", param=name, pattern=FRAMEWORK_OBJECTS, **self._grad_location(name).fields())
        else:
            message = f"the gradient of `{self.layer}.{name}` is {what}, not an array of numbers: make it a NumPy array of shape {live.shape}"
            self._add("bad-return", message, param=name, **self._grad_location(name).fields())
        return None

    def _arrays(self, x: np.ndarray, dx: Any, grads: dict[str, Any], attempt: int) -> list[_Array]:
        """The arrays whose gradients can be compared; shape problems become findings."""
        arrays = []
        candidates = []
        if is_float_array(x) and not (self.adapter.is_loss and dx is None and not self.adapter.params()):
            candidates.append(("x", x, dx))
        candidates += [(name, live, grads.get(name)) for name, live in self.adapter.params().items()]
        for name, live, grad in candidates:
            if grad is None:
                if name == "x":
                    continue  # a first layer may legitimately return no dx
                if attempt == 0:
                    self._add(
                        "gradient-shape-mismatch",
                        f"`{self.layer}` computes no gradient for `{name}`: return or store one with shape {live.shape}",
                        param=name,
                        pattern="missing",
                        **self._grad_location(name).fields(),
                    )
                continue
            grad = self._numbers(name, live, grad, attempt)
            if grad is None:
                continue
            if grad.shape != live.shape:
                if attempt == 0:
                    self._shape_mismatch(name, live, grad, x)
                continue
            if grad.dtype.kind != "f":
                grad = grad.astype(np.float64)
            elif attempt == 0 and grad.dtype != live.dtype and name != "x":
                self._add(
                    "gradient-dtype-mismatch",
                    f"the gradient of `{self.layer}.{name}` is {grad.dtype} but the parameter is {live.dtype}: "
                    f"compute it in the parameter's dtype",
                    param=name,
                    **self._grad_location(name).fields(),
                )
            arrays.append(_Array(name, live, np.asarray(grad, dtype=np.float64)))  # grads are the check's own copies
        return arrays


def _indexed_by_floats(error: BaseException, x: Any) -> bool:
    """NumPy refusing a float array as indices while the input is a float array: the layer indexes
    with its input (an embedding's `W[idx]`), which made-up floats cannot be."""
    return (
        isinstance(error, IndexError) and "arrays used as indices must be of integer" in str(error)
        and isinstance(x, np.ndarray) and x.dtype.kind == "f"
    )  # fmt: skip


def _as_numbers(grad: Any) -> np.ndarray | None:
    """`grad` as an array of numbers, or None when it holds something else (objects, a ragged list)."""
    try:
        array = np.asarray(grad)
        if array.dtype.kind not in "biufc":
            array = array.astype(np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _framework_class(grad: Any) -> str | None:
    """The class name of the framework objects `grad` is, or holds (a list of them): objects that keep
    their numbers as a NumPy array in `.data`, as DeZero's `Variable` does; None for anything else."""
    items = grad if isinstance(grad, (list, tuple)) else [grad]
    classes = {type(item).__name__ for item in items if not isinstance(item, np.ndarray) and isinstance(getattr(item, "data", None), (np.ndarray, np.generic))}
    return next(iter(classes)) if len(classes) == 1 and len(items) else None


def _part_sizes(arrays: list[_Array], inputs: _Array) -> tuple[float, float]:
    """The typical sizes of the two parts of a probe through a network's parameters and its
    input: the spread of g·v over random directions v of each array's step scale (scale·|g|,
    up to a common factor), the parameters' together and the input's. A wrong gradient of
    either part moves the probe by its error times that part's size."""
    norms = _Grads([*arrays, inputs]).squared_norms()
    return math.sqrt(sum(a.scale**2 * n for a, n in zip(arrays, norms))), inputs.scale * math.sqrt(norms[-1])


def _rounding_limited(f0: float, h: float, spread: float, tol: float) -> bool:
    """Whether rounding of the loss (eps·|f0| over the step) would limit a forward difference
    whose slope is of its typical size (`spread`) as `gradcheck.rounding_limited` judges a
    probe: a deep network at a small initial scale, whose check then spends no evaluation on
    the input's forward differences."""
    return not spread > 0 or 10 * gradcheck.EPS * abs(f0) / h > tol * spread


def _input_step(f0: float, h: float, spread: float, tol: float) -> float:
    """The step of the forward differences through a network's parameters and input: the
    smallest, down to h / INPUT_NARROWING, at which rounding of the loss stays a hundredth of
    `tol` of the slope's spread. A forward difference's error is its curvature term, which
    falls with the step (a ReLU network at He init: 1e-6 to 1e-5 of the slope at `h`), and
    rounding, which rises as the step falls."""
    return min(h, max(h / INPUT_NARROWING, 100 * gradcheck.EPS * abs(f0) / (tol * spread)))


# The rows of a network's input its forward differences move (`_input_rows`): about this many elements.
INPUT_ELEMENTS = 1 << 13


def _input_rows(x: np.ndarray, rng: np.random.Generator) -> slice | None:
    """A block of consecutive rows of a batch, at a random place, about INPUT_ELEMENTS elements:
    the rows of the input a network's forward differences move (`_clean_with_input`); None for
    the whole input. The first layer's dx is a row-by-row formula, so a wrong one is wrong in
    every row; moving a block of them checks it for a fraction of the passes over x and dx. A dx
    wrong in a few rows only, none of them in the block, passes these two forward differences (a
    first layer's dx reaches no weight's update)."""
    if x.ndim == 0 or x.size <= INPUT_ELEMENTS:
        return None
    n = x.shape[0]
    count = max(1, INPUT_ELEMENTS // max(1, x.size // n))
    if count >= n:
        return None
    start = min(int(rng.random() * (n - count + 1)), n - count)
    return slice(start, start + count)


def _jitter(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move every element a little, off any kink it sat on (x is a copy owned by the check)."""
    scale = float(np.std(x)) or 1.0
    return x + 1e-3 * scale * rng.standard_normal(x.shape)
