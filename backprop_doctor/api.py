"""The library API: check a layer, a function pair or a network you already have.

    >>> report = backprop_doctor.check_layer(Affine(W, b), x)
    >>> report.ok, [f.name for f in report.findings]

Every call works on float64 copies, leaves the caller's arrays and NumPy's
global random state exactly as they were, and returns a `Report`.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import global_random
from backprop_doctor.conventions import ClassLayer, isolated, isolated_sharing, is_loss_layer, layer_methods, promote_to_float64
from backprop_doctor.conventions.cs231n import FunctionPair, LossFunction
from backprop_doctor.conventions.networks import LayerCalls, Network, NetworkAdapter
from backprop_doctor.contracts import dout_ignored
from backprop_doctor.engine import EARLY_ONE, EARLY_TWO, LayerCheck, first_upstream
from backprop_doctor.gradcheck import Direction, Probe, identical, probe_from
from backprop_doctor.errors import UnsupportedObject, UsageError
from backprop_doctor.findings import Built, Measurement, Report
from backprop_doctor.options import Options
from backprop_doctor.ranking import rank


# Inputs larger than this many elements are cut to their first rows: a gradient check needs a
# few samples, not a data set, and its float64 copies would otherwise cost many times x's memory.
MAX_INPUT_ELEMENTS = 1_000_000


_DEFAULTS = Options()  # frozen: shared by every call that sets nothing


def _options(options: dict[str, Any]) -> Options:
    if not options:
        return _DEFAULTS
    given = options.pop("options", None)
    if given is not None and not isinstance(given, Options):
        raise UsageError(f"options={given!r}: pass an Options instance, or the settings as keywords (seed=1)")
    return given.replace(**options) if isinstance(given, Options) else Options.from_kwargs(**options)


def _array(name: str, value: Any, kinds: str) -> np.ndarray:
    """`value` as a numeric array, or a `UsageError` that names the argument and what is wrong."""
    if value is None:
        raise UsageError(f"{name}=None: pass an array")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise UsageError(f"{name} is ragged ({type(error).__name__}): every row needs the same length") from None
    if array.dtype.kind == "c":
        raise UsageError(f"{name} has complex dtype {array.dtype}: pass real numbers (the imaginary part would be dropped)")
    if array.dtype.kind not in kinds:
        shown = repr(value) if len(repr(value)) <= 40 else f"an array of dtype {array.dtype}"
        raise UsageError(f"{name}={shown} is not numeric (dtype {array.dtype}): pass an array of numbers")
    return array


def _shape(a: Any) -> str:
    return str(a.shape if isinstance(a, np.ndarray) else tuple(np.shape(a)))


def _inputs(x: Any, t: Any = None) -> tuple[np.ndarray, Any]:
    """x (and t) as arrays, with the caller's mistakes named rather than blamed on the layer.

    A huge batch is cut to its first rows (see `MAX_INPUT_ELEMENTS`); `sampled` says so.
    """
    x = _array("x", x, "biuf")
    if x.size == 0:
        raise UsageError(f"x has shape {x.shape}: pass at least one sample")
    if t is not None:
        t = _array("t", t, "biuf")
        if t.ndim >= 1 and x.ndim >= 1 and t.shape[0] != x.shape[0]:
            raise UsageError(f"t has {t.shape[0]} rows but x has {x.shape[0]}: one target per sample")
    if x.size > MAX_INPUT_ELEMENTS:
        row = x.size // x.shape[0] if x.ndim >= 1 else x.size
        if x.ndim < 1 or row > MAX_INPUT_ELEMENTS:
            raise UsageError(
                f"x has shape {x.shape}: one sample holds {row:,} numbers, more than the {MAX_INPUT_ELEMENTS:,} "
                "a check handles; pass a smaller input"
            )
        keep = max(1, MAX_INPUT_ELEMENTS // row)
        x = x[:keep]
        t = t[:keep] if t is not None and t.ndim >= 1 else t
    return x, t


def _sampled(given: Any, x: np.ndarray) -> str:
    rows = np.shape(given)[0] if np.ndim(given) >= 1 else 1
    return f" (the first {x.shape[0]} of {rows} samples)" if x.shape[0] != rows else ""


def _instance(obj: Any) -> None:
    if inspect.isclass(obj):
        raise UnsupportedObject(f"{obj.__name__} is a class: pass an instance, e.g. {obj.__name__}(...)")


def _function(name: str, value: Any) -> None:
    """A cs231n function must be a Python callable whose signature can be read."""
    if not callable(value):
        raise UsageError(f"{name}={value!r} is not callable: pass a function such as affine_{name}")
    try:
        inspect.signature(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"{name}={value!r} has no Python signature (a builtin?): pass your own function, e.g. affine_{name}"
        ) from None


def check_layer(layer: Any, x: Any, t: Any = None, **options: Any) -> Report:
    """Check one layer object (book style, loss layer or DLFS-2 style) on input `x`.

    `t` is the target of a loss layer (one-hot or integer labels). A cs231n loss
    function such as `softmax_loss(x, y) -> (loss, dx)` is accepted too.
    """
    opts = _options(options)
    _instance(layer)
    given = x
    x, t = _inputs(x, t)
    report = Report(seed=opts.seed)
    if inspect.isroutine(layer):
        check = LayerCheck(LossFunction(layer), np.asarray(x), t, opts)
        report.extend(check.run())
        report.built.append(Built(layer.__name__, "loss function", f"x {_shape(x)}, t {_shape(t)}"))
        return rank(report)
    if layer_methods(layer) is None:
        raise UnsupportedObject(f"{type(layer).__name__} has no forward and backward methods")
    if is_loss_layer(layer) and t is None:
        raise UnsupportedObject(f"{type(layer).__name__}.forward takes a target: pass t=")
    with isolated(layer) as (work, dtypes):
        try:
            adapter = ClassLayer(work, train=opts.train)
        except Exception as error:  # noqa: BLE001 - e.g. a user __getattr__ that raises
            raise UnsupportedObject(
                f"inspecting {type(layer).__name__} raised {type(error).__name__}: {error} "
                "(a __getattr__ should raise AttributeError for names it does not have)"
            ) from None
        check = LayerCheck(adapter, np.asarray(x), t, opts, user_dtypes=frozenset(dtypes), originals=originals(layer, work))
        report.extend(check.run())
    shapes = f"x {_shape(x)}{_sampled(given, x)}" + (f", t {_shape(t)}" if t is not None else "")
    report.built.append(Built(type(layer).__name__, "given object", shapes))
    report.extras["forward_evaluations"] = check.counter.forwards
    return rank(report)


def check_functions(forward: Callable, backward: Callable, x: Any, *params: Any, **options: Any) -> Report:
    """Check a cs231n pair: `forward(x, *params) -> (out, cache)`, `backward(dout, cache) -> (dx, *dparams)`.

    Trailing non-array arguments (e.g. `conv_param`) are passed through unchanged.
    """
    opts = _options(options)
    _function("forward", forward)
    _function("backward", backward)
    x, _ = _inputs(x)
    names = [p for p in inspect.signature(forward).parameters][1:]
    arrays: dict[str, np.ndarray] = {}
    config: list[Any] = []
    dtypes: set[str] = set()
    for i, value in enumerate(params):
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and not config:  # int weights too
            name = names[i] if i < len(names) else f"param{i}"
            dtypes.add(str(value.dtype))
            arrays[name] = np.array(value, dtype=np.float64)
        else:
            config.append(copy.deepcopy(value))
    adapter = FunctionPair(forward, backward, arrays, tuple(config))
    check = LayerCheck(adapter, np.asarray(x), None, opts, user_dtypes=frozenset(dtypes | {str(np.asarray(x).dtype)}))
    report = Report(seed=opts.seed)
    report.extend(check.run())
    shapes = ", ".join([f"x {_shape(x)}"] + [f"{k} {v.shape}" for k, v in arrays.items()])
    report.built.append(Built(f"{forward.__name__}/{backward.__name__}", "given functions", shapes))
    report.extras["forward_evaluations"] = check.counter.forwards
    return rank(report)


def check_network(net: Any, x: Any, t: Any, **options: Any) -> Report:
    """Check every layer of `net` on the activations that reach it, then the whole gradient.

    `net` has a `params` dict with `loss(x, t)` and `gradient(x, t)` (book style),
    or a `params`/`grads` list with `forward(x, t)` and `backward()` (DLFS-2 style).
    """
    opts = _options(options)
    _instance(net)
    if t is None:
        raise UsageError("check_network needs the targets t of x (one-hot or integer labels)")
    given = x
    x, t = _inputs(x, t)
    report = Report(seed=opts.seed)
    state = global_random.save()
    try:  # every check reseeds NumPy's global random state: it is restored once, here
        tried, name = _network_first(net, x, t, opts, report)
        if name is None:
            global_random.restore(state)  # the layer-by-layer check starts where the caller left it
            report = Report(seed=opts.seed)
            forwards, name = _layer_by_layer(net, x, t, opts, report)
            forwards += tried
        else:
            forwards = tried
    finally:
        global_random.restore(state)
    report.built.append(Built(name, "given object", f"x {_shape(x)}{_sampled(given, x)}, t {_shape(t)}"))
    report.extras["forward_evaluations"] = forwards
    return rank(report)


def _network(work: Any, opts: Options) -> Network:
    """The working copy seen as a `Network`; `UnsupportedObject` when it is none, or holds no parameters."""
    try:
        network = Network(work, train=opts.train)
    except TypeError as error:
        raise UnsupportedObject(str(error)) from error
    if not network.params():
        raise UnsupportedObject(
            f"{network.name}.params holds no float arrays: nothing to check; pass a network whose "
            "constructor has created its weights"
        )
    return network


def _network_first(net: Any, x: Any, t: Any, opts: Options, report: Report) -> tuple[int, str | None]:
    """A clean network settled by its own check, its layers' contracts read from the one
    `gradient` call that check makes (`LayerCalls`): (forward evaluations spent, the network's
    name), the name None, leaving `report` to be thrown away, where that does not settle the
    layers as the layer-by-layer check would (`_layer_by_layer`, which the caller then runs afresh).

    Only where the layer-by-layer check would leave every layer's probes to the network's check
    (`LayerCheck.defer`: the layers are chained, more than two, and the first holds one of the
    network's parameters, so each later layer's dx reaches it). The network's check makes its
    first calls as that check would (its layers' calls read meanwhile) and settles the network as
    it would, or gives up (`LayerCheck.settle_only`): where a layer's calls showed something its
    own check would report, or where the network's gradient is most likely wrong. Each layer's
    rows then read `ok (network)`, as they would have; those of the first layer where its dx was
    not compared through the network's input (`LayerCheck.input_error`), and of a layer whose
    backward writes into its dout (`upstream-grad-mutated`, the book's Relu), come from its own
    check made whole from a copy of it as it was, as the layer-by-layer check makes it then.
    """
    # what the layers kept from the caller's last call is shared, not copied: nothing here moves it,
    # and user code that writes into it raises, which leaves the network to the layer-by-layer check
    caller: list[Network] = []  # the caller's network, read once: its parameters here, its layers below

    def moved(given: Any) -> list[np.ndarray]:
        caller.append(Network(given, train=opts.train))
        return list(caller[-1].params().values())

    with isolated_sharing(net, moved) as (work, dtypes, shared):
        # not copied: the layers' checks would not be deferred (`_shared_copy`)
        deferred = _all_deferred(work, opts) if work is not net else None
        if deferred is None:
            return 0, None
        adapters, network, layers, parameter_ids = deferred  # parameters among them: `_network` would not raise
        feed = network.layer_inputs(x, t)
        item = next(feed, None)
        feed.close()
        first_input = item[2] if item is not None else None
        if not network.chained or not isinstance(first_input, np.ndarray) or first_input.dtype != np.float64:
            return 0, None
        try:
            reader = LayerCalls(layers, t, opts.train, adapters)
        except Exception:  # noqa: BLE001 - a layer the adapter cannot read: its own check says why
            return 0, None
        pairs: list[tuple[np.ndarray, np.ndarray]] = []  # (the caller's array, the working copy's made from it)
        given_arrays = {**originals(net, work, pairs), **shared}
        # the caller's layers, as the working copy's were before the check: copied, should a layer need
        # its own check, from those (`_as_it_was`), not from the working copy's beforehand
        try:
            callers = (caller[0] if caller and caller[0].net is net else Network(net, train=opts.train)).layers()
        except Exception:  # noqa: BLE001 - as the working copy was read: not expected
            return 0, None
        if [key for key, _ in callers] != [key for key, _ in layers]:
            return 0, None
        network.reader = reader
        sources = {**given_arrays, id(first_input): x} if isinstance(x, np.ndarray) and x.dtype == np.float64 else given_arrays
        # a float32 network's first layer gets its own check's precision note: not read off the network's probes
        rider = _FirstLayerRider(layers[0][1], reader, opts) if dtypes <= {"float64"} else None
        whole = LayerCheck(
            NetworkAdapter(network),
            first_input,
            t,
            opts,
            user_dtypes=frozenset(dtypes),
            originals=sources,
            x_owned=True,
            restore_rng=False,
            restore_moved=False,
            parts_reentrant=True,  # every layer's backward is watched, or called twice, in the call (`LayerCalls.backward`)
            settle_only=lambda: reader.fine,
            rider=rider,
        )
        whole.run()
        network.reader = None
        if not _clean(whole) or not reader.settles(layers, parameter_ids):
            return whole.counter.forwards, None
        labels = layer_labels(layers)
        calls = [reader.calls[id(layer)] for _, layer in layers]
        # the layers the network's check does not settle: the first where its dx was not compared
        # through the input, a layer whose backward wrote into its dout (its own check reports it)
        ridden = rider.error if rider is not None and whole.input_error is None else None
        again = [i for i, call in enumerate(calls) if (i == 0 and whole.input_error is None and ridden is None) or call.own_check]
        if any(i > 0 and calls[i].kept is None for i in again):
            return whole.counter.forwards, None
        copies = {id(original): array for original, array in pairs}
        as_it_was = {i: _as_it_was(callers[i][1], copies, shared) for i in again}
        if any(copied is None for copied in as_it_was.values()):
            return whole.counter.forwards, None
        last = network.last_layer()
        own: dict[int, LayerCheck] = {}
        for i in again:
            inputs = _as_given(first_input, x) if i == 0 else calls[i].kept
            target = t if last is not None and layers[i][1] is last[1] else None
            _set_back(_arrays_held(as_it_was[i]), given_arrays)
            with _layer_copy(as_it_was[i], given_arrays) as layer_copy:
                own[i] = _layer_check(layer_copy, inputs, target, opts, dtypes, labels[i], sources if i == 0 else given_arrays, False, keep_output=False)
                own[i].run()
        for (key, _), label, call in zip(layers, labels, calls):
            report.built.append(Built(label, f"{network.name} layer `{key}`", f"input {_shape(call.input)}"))
        _settled_rows(report, whole, list(zip(labels, calls)), own, ridden)
        return whole.counter.forwards + sum(check.counter.forwards for check in own.values()), network.name


class _FirstLayerRider:
    """A network's first layer's own probe, read off the network's central probes
    (`LayerCheck.rider`) instead of made with evaluations of its own: for a network whose forward
    differences leave its first layer's dx unread (a loss that moves in its last digits, at a small
    initial scale), which the layer's own check would otherwise probe whole (`api._network_first`).

    The layer's calls in the network's `gradient` were read as its own check reads its first ones
    (`LayerCalls`); what that check adds is its probe of `sum(forward(x) · G)` for an upstream G of
    its own. Here G is the one it draws, the layer's backward is called once with it (the network's
    gradients held read-only meanwhile, as for any user call in its check) on the state the
    `gradient` call left, and the network's probes move the input with the parameters: the first
    layer's output in each of their evaluations gives the objective at ±h along the network's
    directions through x, W and b, for no evaluation of its own. `error` is that probe's, where it
    settles the layer as its own check's first probes would (one within `EARLY_ONE` of the
    tolerance, or two within `EARLY_TWO`, none kinked); None leaves the layer to its own check."""

    def __init__(self, layer: Any, reader: LayerCalls, opts: Options):
        self.layer, self.reader, self.opts = layer, reader, opts
        self.error: float | None = None
        self._method = ""  # the forward wrapped while the network's probes run
        self._pending: float | None = None  # the step of the evaluation under way
        self._values: dict[tuple[int, float], float] = {}  # (probe, step) -> objective
        self._probes: list[list[Any]] = []  # each network probe's directions

    def begin(self, arrays: list[Any], guarded: Callable[[Callable[[], Any]], Any]) -> bool:
        """Ready to ride the probes of `arrays` (the network's, its input last): the layer's
        objective at the point and its gradients for G; False where the layer cannot be read so."""
        call = self.reader.calls.get(id(self.layer))
        if call is None or call.own_check or call.forwards != 1 or call.backwards != 1 or call.input is not arrays[-1].live:
            return False
        out, lives = call.output, call.adapter.layer_params()
        where = {id(a.live): i for i, a in enumerate(arrays)}
        if not (isinstance(out, np.ndarray) and out.dtype == np.float64 and call.names == ["x", *lives] and all(id(p) in where for p in lives.values())):
            return False
        self._where = {"x": len(arrays) - 1, **{name: where[id(p)] for name, p in lives.items()}}
        upstream = first_upstream(out.shape, self.opts.seed)
        upstream.flags.writeable = False
        self._f0 = float((out * upstream).sum())
        try:
            dx, grads = guarded(lambda: call.adapter.backward(upstream))
        except Exception:  # noqa: BLE001 - user code: its own check says what it raises
            return False
        grads = {"x": dx, **{name: grads.get(name) for name in lives}}
        if not all(isinstance(g, np.ndarray) and g.shape == arrays[self._where[name]].live.shape for name, g in grads.items()):
            return False
        self._grads = {name: np.array(g, dtype=np.float64) for name, g in grads.items()}
        method = call.adapter.methods.forward
        if method in vars(self.layer):  # an attribute of its own already: not wrapped
            return False
        original = getattr(self.layer, method)

        def forward(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            if self._pending is not None and isinstance(out, np.ndarray) and out.shape == upstream.shape:
                self._values[(len(self._probes) - 1, self._pending)] = float((np.asarray(out, dtype=np.float64) * upstream).sum())
            return out

        try:
            setattr(self.layer, method, forward)
        except Exception:  # noqa: BLE001 - __slots__, a __setattr__ of its own
            return False
        self._method = method
        return True

    def directions(self, directions: list[Any]) -> list[Any]:
        """One network probe's directions, the input's made to note each step it is moved by."""
        self._probes.append(directions)
        directions = list(directions)
        directions[self._where["x"]] = _Noted(directions[self._where["x"]], self)
        return directions

    def note(self, h: float) -> None:
        """The input is being moved by h along the current probe's direction: the next evaluation's."""
        self._pending = h

    def end(self, probes: list[Probe] | None) -> None:
        """The network's probes are over (None: they raised): the layer's forward unwrapped, its
        probe read off theirs (`error`)."""
        vars(self.layer).pop(self._method, None)
        self._pending = None
        errors = []
        for k, probe in enumerate(probes or []):
            plus, minus = self._values.get((k, probe.step)), self._values.get((k, -probe.step))
            if plus is None or minus is None:
                return
            directions = self._probes[k]
            grads = list(self._grads.values())
            dots = [directions[self._where[name]].dot(g) for name, g in self._grads.items()]
            mine = probe_from(self._f0, grads, dots, probe.step, self.opts.atol, plus, minus)
            if mine.kinked:
                return
            errors.append(mine.error)
        tol = self.opts.tolerance("float64")
        if (len(errors) == 1 and errors[0] <= EARLY_ONE * tol) or (len(errors) == 2 and max(errors) <= EARLY_TWO * tol):
            self.error = max(errors)


class _Noted(Direction):
    """A direction that tells the rider the step of each move, before the evaluation it is for."""

    def __init__(self, direction: Direction, rider: _FirstLayerRider):
        self.__dict__.update(vars(direction))  # the same windows of the pool: no new draw
        self.rider = rider

    def step(self, out: np.ndarray, base: np.ndarray, h: float) -> None:
        self.rider.note(h)
        super().step(out, base, h)


def _clean(whole: LayerCheck) -> bool:
    """Whether a network's check settled it with nothing to report: no finding, every parameter
    within the tolerance (what lets the layer-by-layer check settle a deferred layer, `_Deferred`),
    the tolerance a layer's own check would hold it to (`_resolved`)."""
    measured = whole.report.measurements
    return not whole.gave_up and not whole.report.findings and bool(measured) and all(m.verdict == "ok" for m in measured) and _resolved(
        measured, whole.options.tolerance()
    )


def _resolved(measurements: list[Measurement], tolerance: float) -> bool:
    """Every row within `tolerance`, a layer's own check's. A deep network at a small initial scale
    (the book's 0.01 over five layers) moves its loss only in its last digits: its rows pass against
    that rounding, at errors far above any layer's tolerance, and cannot tell a layer's bias gradient
    from twice it. Such a network's check settles none of its layers: each is checked on its own."""
    return all(m.relative_error is not None and m.relative_error <= tolerance for m in measurements)


def _settled_rows(report: Report, whole: LayerCheck, layers: list[tuple[str, Any]], own: dict[int, LayerCheck], ridden: float | None) -> None:
    """Each layer's findings and rows, by its label and its calls (`LayerCalls`), as the
    layer-by-layer check writes them: a layer's own check's report where one was made (`own`, by
    index), the first layer's `ok` rows with the error of its own probe read off the network's
    (`ridden`, `_FirstLayerRider`), else, for a layer the network settled, a loss layer's note that
    it ignores its dout and `ok (network)` rows with the network's error, the first layer's input
    with the input's (`_network_rows`); then the network's report."""
    for index, (label, call) in enumerate(layers):
        if index in own:
            start = len(report.measurements)
            report.extend(own[index].report)
            if index > 0 and all(f.severity == "info" for f in own[index].report.findings):
                # only notes (the book's Relu handing back the dout it wrote into): the network
                # settles its rows, as the layer-by-layer check leaves them
                report.measurements[start:] = _network_rows(label, call.names, whole.report, None)
            continue
        if index == 0 and ridden is not None:
            report.measurements += [Measurement(label, name, ridden, "ok") for name in call.names]
            continue
        if call.dout_ignored:
            report.findings.append(dout_ignored(label, call.adapter.backward_target()))
        report.measurements += _network_rows(label, call.names, whole.report, whole.input_error if index == 0 else None)
    report.extend(whole.report)


def _network_rows(label: str, names: Iterable[str], network: Report, input_error: float | None) -> list[Measurement]:
    """A layer's rows where the network's check settled it: each array at the network's relative
    error, the first layer's input at its own (`LayerCheck.input_error`; None for a later layer)."""
    error = max((m.relative_error or 0.0 for m in network.measurements), default=0.0)
    return [Measurement(label, name, input_error if name == "x" and input_error is not None else error, "ok (network)") for name in names]


def _all_deferred(work: Any, opts: Options) -> tuple[dict[int, ClassLayer], Network, list[tuple[str, Any]], set[int]] | None:
    """Whether the layer-by-layer check of `work` (a copy of the caller's network: its attributes
    are read) would leave every layer's probes to the network's check, as far as its objects tell
    before any call (more than two layers, the first holding one of the network's parameters), and
    each layer is called as a network's code calls it (`LayerCalls.plain`): each layer's adapter by
    its id, for `LayerCalls` (nothing runs the layers in between), with the network those were read
    from, its (key, layer) pairs and the ids of its parameters, where it would; None otherwise."""
    try:
        network = Network(work, train=opts.train)
        layers = network.layers()
        parameter_ids = {id(p) for p in network.params().values()}
        if len(layers) <= 2 or not any(i in parameter_ids for i in _arrays_held(layers[0][1])):
            return None
        adapters = {}
        for _, layer in layers:
            adapter = adapters[id(layer)] = ClassLayer(layer, train=opts.train)
            if not LayerCalls.plain(adapter):
                return None
        return adapters, network, layers, parameter_ids
    except Exception:  # noqa: BLE001 - odd objects: the layer-by-layer check says what they are
        return None


def _layer_by_layer(net: Any, x: Any, t: Any, opts: Options, report: Report) -> tuple[int, str]:
    """Every layer checked on the activations that reach it, then the whole gradient: (forward
    evaluations, the network's name). A layer whose probes the network's check may settle leaves
    them to it (`LayerCheck.defer`), and is checked again, whole, where it does not (`_Deferred`)."""
    forwards = 0
    with isolated(net) as (work, dtypes):
        given_arrays = originals(net, work)
        network = _network(work, opts)
        counts = Counter(type(layer).__name__ for _, layer in network.layers())
        reentrant = []  # per layer checked: its backward gave the same gradients twice
        # every layer check's report and count of evaluations, in order: joined at the end, once the
        # deferred ones are complete (the checks themselves are let go, but for the deferred)
        results: list[tuple[Report, Any]] = []
        deferred: list[_Deferred] = []  # layer checks that left their probes to the network's check
        localised: set[tuple[Any, str]] = set()  # classes and arrays localised element by element so far
        parameter_ids = {id(p) for p in network.params().values()}
        holding: list[Any] = []  # the layers so far that hold one of the network's parameters
        feed = network.layer_inputs(x, t)
        item = next(feed, None)
        first_input = item[2] if item is not None else None  # float64 values of x, when it is float64
        first_untouched = False  # the first layer's check left first_input as it was, for certain
        while item is not None:
            key, layer, activation, target, _ = item
            label = layer_label(key, type(layer).__name__, counts)
            sources = given_arrays
            if activation is first_input and isinstance(x, np.ndarray) and x.dtype == np.float64:
                sources = {**given_arrays, id(activation): x}  # probes restore it from x, no copy
            # its dx reaches an earlier layer's parameters, or it is the first layer, whose dx the
            # network's check compares with its input's gradient (`Network.input_gradient`: not
            # where the loss layer follows it), so the network's check may settle it
            first = not results and sum(counts.values()) > 2
            held = _arrays_held(layer)  # the same before and after its check, which runs on a copy
            as_it_was = _shared_copy(layer, given_arrays, held) if network.chained and (holding or first) else None
            with _layer_copy(layer, given_arrays, held) as layer_copy:
                adapter = network.layer_adapter(key, layer_copy)
                check = _layer_check(
                    layer_copy, activation, target, opts, dtypes, label, sources, defer=as_it_was is not None, adapter=adapter, localised=localised
                )
                results.append((check.run(), check.counter))
                reentrant.append(check.reentrant is True)
                first_untouched = first_untouched or (activation is first_input and check.input_untouched)
            if check.deferred is not None:
                lives = check.adapter.params()
                arrays = {name: id(lives.get(name)) for name in check.deferred}
                deferred.append(_Deferred(len(results) - 1, label, arrays, layer, tuple(holding), as_it_was, activation, target, sources))
            if any(i in parameter_ids for i in held):
                holding.append(layer)
            given = "".join(f", {name} {_shape(array)}" for name, array in network.given.get(key, {}).items())  # its weights, passed in
            report.built.append(Built(label, f"{network.name} layer `{key}`", f"input {_shape(activation)}{given}"))
            output = check.output
            del check, layer_copy, activation, sources, as_it_was, held  # before the next layer's check allocates its own
            try:
                item = feed.send(output)
            except StopIteration:
                item = None
            del output
        first_input = _as_given(first_input, x, first_untouched)
        whole = LayerCheck(
            NetworkAdapter(network),
            first_input,
            t,
            opts,
            user_dtypes=frozenset(dtypes),
            # the input's forward differences (`input_error`) restore it from x, no copy
            originals={**given_arrays, id(first_input): x} if isinstance(x, np.ndarray) and x.dtype == np.float64 and first_input is not x else given_arrays,
            x_owned=True,
            restore_rng=False,
            # what the deferred layers' checks reuse is compared with the caller's arrays (`_set_back`, `_as_given`)
            restore_moved=False,
            parts_reentrant=len(reentrant) == sum(counts.values()) and all(reentrant),
        )
        whole.run()
        for waiting in deferred:
            part, counter = results[waiting.index]
            settled = waiting.settled(whole.report, network.called, parameter_ids, whole.input_error is not None) and _resolved(
                whole.report.measurements, opts.tolerance()
            )
            if settled and all(f.severity == "info" for f in part.findings):
                part.measurements += waiting.measurements(whole.report, whole.input_error)
                continue
            forwards += counter.forwards
            # what it shares with the network (`self.dW += ...` into the network's array) as it was
            _set_back(_arrays_held(waiting.as_it_was), given_arrays)
            # the first layer's input, as the network's check left it (a network that writes into
            # its input writes into the check's copy)
            inputs = waiting.x if waiting.before else _as_given(waiting.x, x)
            with _layer_copy(waiting.as_it_was, given_arrays) as layer_copy:
                again = _layer_check(
                    layer_copy, inputs, waiting.t, opts, dtypes, waiting.label, waiting.sources, False, keep_output=False, localised=localised
                )
                results[waiting.index] = (again.run(), again.counter)
        del deferred
        for part, counter in (*results, (whole.report, whole.counter)):
            report.extend(part)
            forwards += counter.forwards
    return forwards, network.name




def _as_given(first_input: Any, x: Any, untouched: bool = False) -> Any:
    """The first layer's input: `first_input` (float64, made for the check) while it still holds
    the caller's `x`, else a new float64 copy of x (word ids stay integers). `untouched`: its
    check says it holds them (`LayerCheck.input_untouched`), and they need no comparison."""
    if (
        isinstance(first_input, np.ndarray)
        and first_input.dtype == np.float64
        and first_input.shape == np.shape(x)
        and (untouched or identical(first_input, x))
    ):
        return first_input
    return np.array(x, dtype=np.float64) if np.asarray(x).dtype.kind == "f" else np.array(x)


def _layer_check(
    layer: Any, x: Any, t: Any, opts: Options, dtypes: set[str], label: str, sources: dict, defer: bool, keep_output: bool = True,
    adapter: ClassLayer | None = None, localised: set[tuple[Any, str]] | None = None,
) -> LayerCheck:
    """The check of one layer of a network (a copy of it) on the activation that reaches it;
    with `keep_output`, its first forward's output is kept as the next layer's input. `adapter`:
    how the network's layers are called (`Network.layer_adapter`), where not as their convention says.
    `localised`: the network's layers' classes and arrays localised element by element already."""
    return LayerCheck(
        adapter or ClassLayer(layer, train=opts.train),
        x,
        t,
        opts,
        user_dtypes=frozenset(dtypes),
        label=label,
        originals=sources,
        x_owned=True,  # layer_inputs hands each layer a copy of its own
        restore_rng=False,
        keep_output=keep_output,  # the next layer's input: no second forward for it
        defer=defer,
        localised=localised,
    )


@dataclass
class _Deferred:
    """A layer check that left its probes to the network's check (`LayerCheck.defer`): what
    settles it, and what checks it again, whole, when the network's check does not."""

    index: int  # its place among the layer checks' results
    label: str
    arrays: dict[str, int]  # the arrays its probes would compare -> id of the live array
    layer: Any  # the network's own layer
    before: tuple[Any, ...]  # the layers before it that hold parameters of the network
    as_it_was: Any  # a copy of the layer as its check found it
    x: Any  # its input
    t: Any
    sources: dict[int, np.ndarray]  # what its probes restore arrays from (`LayerCheck.originals`)

    def settled(self, network: Report, called: set[int], parameter_ids: set[int], input_checked: bool) -> bool:
        """Whether the network's check settles this layer's gradients (the caller also asks
        that the layer's own check found nothing but notes).

        It does when that check is clean (no finding, every parameter within the tolerance)
        and measured all the layer's arrays: the network's `gradient` ran the layer's forward
        and backward, each of its parameters is one of the network's, and its dx reached the
        gradient of a parameter of a layer before it whose backward ran too (a wrong dx would
        have made that gradient wrong), or, for the first layer, was the input's gradient the
        network's forward differences compared (`input_checked`, `LayerCheck.input_error`).
        """
        clean = bool(network.measurements) and not network.findings and all(m.verdict == "ok" for m in network.measurements)
        if self.before:
            reached = any(id(earlier) in called for earlier in self.before)
        else:  # the first layer
            reached = input_checked or "x" not in self.arrays
        return clean and id(self.layer) in called and reached and all(name == "x" or i in parameter_ids for name, i in self.arrays.items())

    def measurements(self, network: Report, input_error: float | None) -> list[Measurement]:
        """The layer's rows of the table: each array compared through the network's gradient
        (the first layer's input through the input's forward differences)."""
        return _network_rows(self.label, self.arrays, network, None if self.before else input_error)


def _as_it_was(layer: Any, copies: dict[int, np.ndarray], shared: dict[int, np.ndarray]) -> Any:
    """A copy of one of the caller's layers, as the working copy's layer made from it was before
    the check ran (`isolated_sharing`), for its own check: what `_shared_copy` would have made of
    that layer then, made now from the caller's, which the check leaves as it was. It holds the
    working copy's array wherever the working layer held one the caller's arrays can restore
    (`copies`: id of each of the caller's arrays -> the working copy's array made from it) and the
    arrays the working copy shares with the caller (`shared`), and copies of anything else; None
    when the layer cannot be copied."""
    memo: dict[int, Any] = {}
    for i in _arrays_held(layer):
        array = copies.get(i)
        if array is None:
            array = shared.get(i)
        if array is not None:
            memo[i] = array
    try:
        return copy.deepcopy(layer, memo)
    except Exception:  # noqa: BLE001 - user objects that refuse to be copied
        return None


def _shared_copy(layer: Any, given: dict[int, np.ndarray], held: dict[int, np.ndarray] | None = None) -> Any:
    """A copy of a layer as it is now, sharing the float arrays the caller's own arrays can
    restore (as `_layer_copy` does); None when it cannot be copied. `held`: the layer's
    arrays (`_arrays_held`), when known."""
    memo: dict[int, Any] = {i: a for i, a in (_arrays_held(layer) if held is None else held).items() if i in given}
    try:
        return copy.deepcopy(layer, memo)
    except Exception:  # noqa: BLE001 - user objects that refuse to be copied
        return None


@contextlib.contextmanager
def _layer_copy(layer: Any, given: dict[int, np.ndarray], held: dict[int, np.ndarray] | None = None) -> Iterator[Any]:
    """A copy of one layer of the network's working copy, for its own check.

    The float arrays the layer holds are shared with the copy rather than copied again,
    wherever the caller's own array is there to restore them from: the network's
    parameters (a large layer's weights would otherwise be held three times), which the
    check restores bit-identically after every probe, and what the layer kept from an
    earlier call (a cached batch), which its forward binds anew. Any that user code
    changed are set back from the caller's arrays afterwards: a comparison costs less than
    a copy. Without the caller's arrays, or when the layer cannot be deep-copied, the layer
    is isolated as any other object. `held`: the layer's arrays (`_arrays_held`), when known.
    """
    held = _arrays_held(layer) if held is None else held
    copied = _shared_copy(layer, given, held)
    if copied is None:
        with isolated(layer) as (work, _):
            yield work
        return
    promote_to_float64(copied)
    try:
        yield copied
    finally:
        _set_back(held, given)


def _set_back(arrays: dict[int, np.ndarray], given: dict[int, np.ndarray]) -> None:
    """Set each of `arrays` that has a caller's array in `given` back to its values, where they differ."""
    for i, a in arrays.items():
        original = given.get(i)
        if original is not None and original is not a and not identical(a, original):
            np.copyto(a, original, casting="unsafe")


def _arrays_held(obj: Any, depth: int = 0) -> dict[int, np.ndarray]:
    """The arrays an object holds in its attributes, and in lists, tuples and dicts there,
    a few levels deep (one the deep copy would reach deeper is copied), by id."""
    if isinstance(obj, np.ndarray):
        return {id(obj): obj}
    if depth > 3:
        return {}
    if isinstance(obj, dict):
        values = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        values = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not callable(obj):
        values = list(vars(obj).values())
    else:
        return {}
    found: dict[int, np.ndarray] = {}
    for value in values:
        found.update(_arrays_held(value, depth + 1))
    return found


def originals(given: Any, work: Any, pairs: list[tuple[np.ndarray, np.ndarray]] | None = None) -> dict[int, np.ndarray]:
    """id of each float array in `work` (a copy of `given`) -> the array of `given` it was
    copied from, found by walking both along the same attributes, keys and indices; with
    `pairs`, each (array of `given`, array of `work`) is appended to it too."""
    found: dict[int, np.ndarray] = {}
    seen: set[int] = set()

    def walk(a: Any, b: Any, depth: int) -> None:
        if depth > 6 or id(b) in seen or a is b:
            return
        seen.add(id(b))
        if isinstance(b, np.ndarray):
            if isinstance(a, np.ndarray) and b.dtype.kind == "f" and a.dtype.kind == "f" and a.shape == b.shape:
                found[id(b)] = a
                if pairs is not None:
                    pairs.append((a, b))
            return
        if isinstance(b, dict) and isinstance(a, dict):
            for k, v in b.items():
                if k in a:
                    walk(a[k], v, depth + 1)
        elif isinstance(b, (list, tuple)) and isinstance(a, (list, tuple)) and len(a) == len(b):
            for u, v in zip(a, b):
                walk(u, v, depth + 1)
        elif hasattr(b, "__dict__") and type(a) is type(b) and not isinstance(b, type) and not callable(b):
            mine = vars(a)
            for k, v in vars(b).items():
                if k in mine:
                    walk(mine[k], v, depth + 1)

    try:
        walk(given, work, 0)
    except Exception:  # noqa: BLE001 - odd user objects: probes then copy what they perturb
        if pairs is not None:
            pairs.clear()
        return {}
    finally:
        del walk  # a recursive closure is a reference cycle: it would hold `pairs` (the working copy's arrays) until a collection
    return found


def layer_labels(layers: list[tuple[str, Any]]) -> list[str]:
    """How each of a network's (key, layer) pairs is named in findings (`layer_label`)."""
    counts: Counter = Counter()
    for _, layer in layers:  # Counter's own counting of an iterable costs more than this on a few layers
        name = type(layer).__name__
        counts[name] = counts[name] + 1
    return [layer_label(key, type(layer).__name__, counts) for key, layer in layers]


def layer_label(key: str, class_name: str, counts: Counter) -> str:
    """How a network's layer is named in findings: its key when the key names it (`Affine1`,
    `Relu1`), else its class when that is unique (`lastLayer` → `SoftmaxWithLoss`), else the key."""
    if class_name.lower() in key.lower() or counts[class_name] > 1:
        return key
    return class_name
