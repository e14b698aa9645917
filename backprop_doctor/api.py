"""The library API: check a layer, a function pair or a network you already have.

    >>> report = backprop_doctor.check_layer(Affine(W, b), x)
    >>> report.ok, [f.name for f in report.findings]

Every call works on float64 copies, leaves the caller's arrays and NumPy's
global random state exactly as they were, and returns a `Report`.
"""

from __future__ import annotations

import copy
import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.conventions import ClassLayer, isolated, is_loss_layer, layer_methods
from backprop_doctor.conventions.cs231n import FunctionPair, LossFunction
from backprop_doctor.conventions.networks import Network, NetworkAdapter
from backprop_doctor.engine import LayerCheck
from backprop_doctor.errors import UnsupportedObject, UsageError
from backprop_doctor.findings import Built, Report
from backprop_doctor.options import Options
from backprop_doctor.ranking import rank


def _options(options: dict[str, Any]) -> Options:
    given = options.pop("options", None)
    return given.replace(**options) if isinstance(given, Options) else Options.from_kwargs(**options)


def _shape(a: Any) -> str:
    return str(tuple(np.shape(a)))


def _inputs(x: Any, t: Any = None) -> tuple[np.ndarray, Any]:
    """x (and t) as arrays, with the caller's mistakes named rather than blamed on the layer."""
    x = np.asarray(x)
    if x.size == 0:
        raise UsageError(f"x has shape {x.shape}: pass at least one sample")
    if t is not None:
        t = np.asarray(t)
        if t.ndim >= 1 and x.ndim >= 1 and t.shape[0] != x.shape[0]:
            raise UsageError(f"t has {t.shape[0]} rows but x has {x.shape[0]}: one target per sample")
    return x, t


def _instance(obj: Any) -> None:
    if inspect.isclass(obj):
        raise UnsupportedObject(f"{obj.__name__} is a class: pass an instance, e.g. {obj.__name__}(...)")


def check_layer(layer: Any, x: Any, t: Any = None, **options: Any) -> Report:
    """Check one layer object (book style, loss layer or DLFS-2 style) on input `x`.

    `t` is the target of a loss layer (one-hot or integer labels). A cs231n loss
    function such as `softmax_loss(x, y) -> (loss, dx)` is accepted too.
    """
    opts = _options(options)
    _instance(layer)
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
        check = LayerCheck(ClassLayer(work, train=opts.train), np.asarray(x), t, opts, user_dtypes=frozenset(dtypes))
        report.extend(check.run())
    report.built.append(Built(type(layer).__name__, "given object", f"x {_shape(x)}" + (f", t {_shape(t)}" if t is not None else "")))
    report.extras["forward_evaluations"] = check.counter.forwards
    return rank(report)


def check_functions(forward: Callable, backward: Callable, x: Any, *params: Any, **options: Any) -> Report:
    """Check a cs231n pair: `forward(x, *params) -> (out, cache)`, `backward(dout, cache) -> (dx, *dparams)`.

    Trailing non-array arguments (e.g. `conv_param`) are passed through unchanged.
    """
    opts = _options(options)
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
    x, t = _inputs(x, t)
    report = Report(seed=opts.seed)
    forwards = 0
    state = np.random.get_state()
    with isolated(net) as (work, dtypes):
        try:
            network = Network(work, train=opts.train)
        except TypeError as error:
            raise UnsupportedObject(str(error)) from error
        counts = Counter(type(layer).__name__ for _, layer in network.layers())
        try:
            for key, layer, activation, target, _ in network.layer_inputs(x, t):
                label = layer_label(key, type(layer).__name__, counts)
                with isolated(layer) as (layer_copy, _):
                    adapter = ClassLayer(layer_copy, train=opts.train)
                    check = LayerCheck(adapter, activation, target, opts, user_dtypes=frozenset(dtypes), label=label)
                    report.extend(check.run())
                    forwards += check.counter.forwards
                report.built.append(Built(label, f"{network.name} layer `{key}`", f"input {_shape(activation)}"))
        finally:
            np.random.set_state(state)
        whole = LayerCheck(NetworkAdapter(network), np.array(x, dtype=np.float64), t, opts, user_dtypes=frozenset(dtypes))
        report.extend(whole.run())
        forwards += whole.counter.forwards
    report.built.append(Built(network.name, "given object", f"x {_shape(x)}, t {_shape(t)}"))
    report.extras["forward_evaluations"] = forwards
    return rank(report)


def layer_label(key: str, class_name: str, counts: Counter) -> str:
    """How a network's layer is named in findings: its key when the key names it (`Affine1`,
    `Relu1`), else its class when that is unique (`lastLayer` → `SoftmaxWithLoss`), else the key."""
    if class_name.lower() in key.lower() or counts[class_name] > 1:
        return key
    return class_name
