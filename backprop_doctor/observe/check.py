"""Check what an observed run recorded, on the inputs the program itself gave.

* a network (a `params` dict with `gradient(x, t)`, or a DLFS-2 `params`/`grads`
  list with `backward()`) is checked through its own gradient method on the
  batch it was first given, and each of its layers on the activations that reach it;
* any other layer object is checked in isolation on the input of its first
  recorded forward call (a cell given several arrays, such as an RNN cell's
  `forward(x, h_prev)`, with the other arrays held fixed);
* a cs231n function pair and a loss function, on their first recorded arguments.

Batches are cut to `ROWS` rows (the shapes beyond the batch axis stay those of
the program). The objects are used as the program first used them (see
`record.Instance.state`), always through copies.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor import api, build
from backprop_doctor.conventions._classlayer import is_loss_layer, loss_of_pair
from backprop_doctor.conventions.networks import Network
from backprop_doctor.conventions.recurrent import again_inputs
from backprop_doctor.conventions import cache_layers, containers, cs231n, layer_methods, model_backward, stepped_cells
from backprop_doctor.findings import BACKWARD_UNUSED, Built, Finding, Report
from backprop_doctor.observe.record import Call, Instance, Record, TooLarge, scalar
from backprop_doctor.observe.tracer import BACKWARD
from backprop_doctor.options import Options

ROWS = 16  # rows of a recorded batch the checks use
CHECK_SHARE = 0.35  # of --timeout that the checks of observed objects may take together
PER_CLASS = 4  # instances of one class checked at most


@dataclass
class Checked:
    """What checking the record produced."""

    report: Report = field(default_factory=Report)
    networks: list[build.Built] = field(default_factory=list)  # for the probes and the training probe
    layers: list[build.Built] = field(default_factory=list)
    observed: set[str] = field(default_factory=set)  # names of classes and functions the program used
    cache_layers: dict[type, int | None] = field(default_factory=dict)  # a `cache_layers` class -> the line of its instance checked


def check_record(record: Record, discovered: Any, options: Options, shown: str) -> Checked:
    """Check every observed object on its recorded inputs (`discovered` from the definitions load)."""
    out = Checked(report=Report(seed=options.seed))
    deadline = time.perf_counter() + max(5.0, CHECK_SHARE * options.timeout)
    late = "backprop-doctor's time for checking observed objects ran out (raise --timeout to check it)"
    covered: set[int] = set()  # ids of instances checked as part of a network
    handled: set[int] = set()  # ids of instances checked (or named as skipped) as networks
    networks = {cls.__name__ for cls in getattr(discovered, "networks", [])}
    for instance in record.instances:
        network = _network(instance, networks)
        if network is None:
            continue
        x, t, how = _batch(instance)
        if x is None:
            if not (_is_layer(instance.obj) and _first_forward(instance) is not None):
                handled.add(id(instance.obj))  # never fed: left to the synthesized build
            continue  # a layer-like "network" (DLFS-2 TimeRNN) given one input is checked as a layer below
        handled.add(id(instance.obj))
        out.observed.add(instance.name)
        if _shares_parameters(network):
            # The same array listed twice in a DLFS-2 `params` (weight tying, word2vec's shared W)
            # gets one gradient per entry: its layers are checked one by one instead.
            _skip(out, instance, shown, "its `params` list holds the same array more than once; its layers are checked one by one")
            continue
        if time.perf_counter() > deadline:
            _skip(out, instance, shown, late)
            continue
        obj = instance.state if instance.state is not None else instance.obj
        axis = _batch_axis(x, t)
        spread = _sorted_labels(t, axis)
        shapes = _shapes(x, t, how, axis, spread)
        x, t = _rows(x, axis, spread), _rows(t, axis, spread)
        if not _chained(instance.obj, record, network.params().values()):
            _skip(out, instance, shown, "its layers do not run as one chain (an encoder and a decoder, say): they are checked one by one")
            continue
        try:
            result = api.check_network(obj, x, t, options=options)
        except Exception as error:  # noqa: BLE001 - UnsupportedObject, or a network the adapter cannot take
            _skip(out, instance, shown, f"it could not be checked as the program called it ({type(error).__name__}: {error})")
            continue
        for entry in result.built:
            if entry.how == "given object":
                continue
            out.report.built.append(entry.replace(origin="observed"))
        result.built = []
        out.report.extend(result)
        out.report.built.append(
            Built(instance.name, _how(instance, shown), shapes, origin="observed", line=instance.line, kind="network")
        )
        if np.ndim(x) >= 1 and np.shape(x)[0] >= 2 and np.asarray(x).dtype.kind == "f":  # the batch probes need a float batch
            out.networks.append(build.Built(instance.name, obj, _how(instance, shown), [(shapes, x, t)], line=instance.line))
        try:
            for net in (instance.obj, obj):
                layers = [layer for _, layer in Network(net).layers()]
                covered |= {id(layer) for layer in layers}
                out.observed |= {type(layer).__name__ for layer in layers}
        except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
            pass
    groups: dict[tuple[Any, ...], list[Instance]] = {}  # (class, input shapes) -> instances
    for instance in record.instances:
        if id(instance.obj) in covered or id(instance.obj) in handled or not _is_layer(instance.obj):
            continue
        call = _first_forward(instance)
        if call is None or model_backward.why_not_checked(instance.cls):
            continue  # never run forward, or a backward(y_pred, y_true) that is no layer's: left to the synthesized build
        out.observed.add(instance.name)
        shapes = tuple(np.shape(a) for a in call.args if isinstance(a, np.ndarray)) if call else None
        groups.setdefault((instance.cls, shapes), []).append(instance)
    per_class: dict[type, int] = {}
    for (cls, _), instances in groups.items():
        per_class[cls] = per_class.get(cls, 0) + 1
        if per_class[cls] <= PER_CLASS:
            # A cell made anew at each step is checked once, on a step whose inputs are not all
            # zeros (the first step's h_prev = 0 would hide a wrong dWh).
            instance = min(instances, key=_zero_inputs)
            if time.perf_counter() > deadline:
                _skip(out, instance, shown, late)
                continue
            try:
                _check_layer(out, instance, options, shown, unused=_backward_unused(record, instances))
            except Exception as error:  # noqa: BLE001 - a recorded object the checks cannot take
                _skip(out, instance, shown, f"it could not be checked as the program called it ({type(error).__name__}: {error})")
    inside = _check_functions(out, record, discovered, options, shown)
    _check_loss_and_grads(out, record, covered | handled, options)
    _checked_through_callers(out, record, inside)
    return out


# --------------------------------------------------------------------------- networks


def _network(instance: Instance, networks: set[str]) -> Network | None:
    """The instance as a network, when discovery calls its class one and the adapter takes it."""
    if instance.name not in networks:
        return None
    try:
        return Network(instance.state if instance.state is not None else instance.obj)
    except TypeError:
        return None
    except Exception:  # noqa: BLE001 - a property of the user's class that raises
        return None


def _chained(net: Any, record: Record, weights: Any = ()) -> bool:
    """Whether the network's layers, in order, form the chain the program ran: each recorded
    forward output has the shape of the next layer's recorded input. Only then can the
    activations that reach each layer be recomputed by running the layers in turn. An array
    equal to one of the network's own `weights` as the program first called it is no input: a
    network that passes its weights (`Affine.forward(x, W1, b1)`) still chains its layers, and
    its check gives each such layer the arrays it passed (`Network.layer_adapter`)."""
    by_id = {id(i.obj): i for i in record.instances}
    try:
        layers = [layer for _, layer in Network(net).predict_layers()]  # the live layers the record knows
    except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
        return False
    shapes = []
    for layer in layers:
        instance = by_id.get(id(layer))
        call = _first_forward(instance) if instance is not None else None
        if call is None:
            return False  # a layer the program never ran forward: not part of a chain
        arrays = [a for a in call.args if isinstance(a, (np.ndarray, TooLarge))]
        arrays = arrays[:1] + [a for a in arrays[1:] if not any(_same(a, w) for w in weights)]
        if len(arrays) != 1 or not isinstance(call.result, np.ndarray):
            return False
        shapes.append((np.shape(arrays[0])[1:], np.shape(call.result)[1:]))
    return all(out == nxt for (_, out), (nxt, _) in zip(shapes, shapes[1:]))


def _same(a: Any, weight: np.ndarray) -> bool:
    return isinstance(a, np.ndarray) and a.shape == weight.shape and np.array_equal(a, weight)


def _shares_parameters(network: Network) -> bool:
    params = getattr(network.net, "params", None)
    if not isinstance(params, list):
        return False
    ids = [id(p) for p in params]
    return len(set(ids)) < len(ids)


def _batch(instance: Instance) -> tuple[Any, Any, str]:
    """(x, t, method) of the first recorded gradient/loss call given two arrays."""
    order = sorted(instance.calls, key=lambda name: (not BACKWARD.search(name), "loss" not in name.lower()))
    for name in order:
        for call in instance.calls[name]:
            arrays = [a for a in call.args if isinstance(a, (np.ndarray, TooLarge))]
            returns_loss = scalar(call.result) is not None
            returns_gradients = BACKWARD.search(name) is not None and isinstance(call.result, (dict, list, tuple))
            if len(arrays) == 2 and (returns_loss or returns_gradients):  # not a two-input layer's forward
                x, t = arrays[0], arrays[1]
                if isinstance(x, TooLarge) or isinstance(t, TooLarge):
                    return None, None, f"the batch given to `{name}` ({x!r}) is too large to keep"
                if _random_scores(t):  # the book's `t = np.random.rand(100, 10)` shape demo
                    return x, np.eye(t.shape[1])[np.argmax(t, axis=1)], f"{name} (line {call.line}), its random targets made one-hot"
                return x, t, f"{name} (line {call.line})"
    return None, None, "the program never called its gradient or loss method with a batch"


def _random_scores(t: Any) -> bool:
    """Targets that are no class probabilities, labels or 0/1 marks: uniform random numbers a
    program feeds only to see its gradients' shapes. A softmax cross-entropy's gradient `y - t`
    holds for targets whose rows sum to 1, not for these."""
    if not (isinstance(t, np.ndarray) and t.ndim == 2 and t.shape[1] > 1 and t.dtype.kind == "f" and t.size):
        return False
    inside = bool(np.all((t > 0) & (t < 1)))
    return inside and not np.allclose(t.sum(axis=1), 1.0, atol=1e-3)


def _rows(a: np.ndarray, axis: int = 0, spread: bool = False) -> np.ndarray:
    """The first ROWS samples of `a` along its batch axis: 0, or -1 for one sample per column,
    which a vector of labels `(m,)` and a matrix `(features, m)` share; a higher array keeps 0.
    With `spread`, ROWS samples evenly spaced over the batch instead (`_sorted_labels`)."""
    if a.ndim > 2:
        axis = 0
    if a.ndim < 1 or a.shape[axis] <= ROWS:
        return a
    if spread:
        chosen = np.linspace(0, a.shape[axis] - 1, ROWS).round().astype(int)
        return a[chosen] if axis == 0 else a[..., chosen]
    return a[:ROWS] if axis == 0 else a[..., :ROWS]


def _sorted_labels(t: Any, axis: int = 0) -> bool:
    """Targets whose first ROWS samples are all of one class while the batch holds others (a data set
    made class by class, `y[ix] = class_number`): the first samples would hide a gradient wrong only
    where classes differ (`dinputs[:, y_true] -= 1`), so the batch is cut at samples spread over it."""
    if not isinstance(t, np.ndarray) or t.ndim not in (1, 2) or t.dtype.kind not in "iub" and not (t.ndim == 2 and t.dtype.kind == "f"):
        return False
    if t.ndim == 2:
        if not np.isin(t, (0, 1)).all():
            return False  # not one-hot
        labels = np.argmax(t, axis=1) if axis == 0 else np.argmax(t, axis=0)
    else:
        labels = t
    if labels.shape[0] <= ROWS:
        return False
    return bool(np.all(labels[:ROWS] == labels[0]) and np.any(labels != labels[0]))


def _samples(a: np.ndarray, axis: int) -> int | None:
    """How many samples `a` holds along the batch axis `_rows` cuts."""
    if a.ndim < 1:
        return None
    return a.shape[0 if a.ndim > 2 else axis]


def _held_arrays(obj: Any) -> tuple[np.ndarray, ...]:
    """The object's weight matrices (`W`, `w1`, `weights`, `kernel`), not its caches."""
    try:
        held = vars(obj).items()
    except TypeError:  # an object without a __dict__
        return ()
    return tuple(v for k, v in held if isinstance(v, np.ndarray) and re.match(r"(?i)(w\d*$|weights?|kernel)", k))


def _batch_axis(x: Any, t: Any = None, weights: tuple[Any, ...] = ()) -> int:
    """-1 when `x` holds one sample per column, the course layout (features, samples): its targets
    share its last axis (`Y (1, m)`, labels `(m,)`), or without targets a weight multiplies it from
    the left (`W (n, d) @ x (d, m)`) and none from the right. Else 0, one sample per row."""
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[0] == x.shape[1]:
        return 0
    if isinstance(t, np.ndarray) and t.ndim in (1, 2):
        if t.shape[0] == x.shape[0]:
            return 0
        return -1 if t.shape[-1] == x.shape[1] else 0
    matrices = [w for w in weights if isinstance(w, np.ndarray) and w.ndim == 2]
    left = any(w.shape[1] == x.shape[0] for w in matrices)
    right = any(w.shape[0] == x.shape[1] for w in matrices)
    return -1 if left and not right else 0


def _given(arrays: list[np.ndarray], names: list[str], axis: int = 0, spread: bool = False) -> str:
    """`x (100, 784), t (100, 10) (checked on the first 16 rows)`."""
    text = ", ".join(f"{n} {tuple(a.shape)}" for n, a in zip(names, arrays))
    if any(a.ndim >= 1 and a.shape[axis] > ROWS for a in arrays[:1]):
        which = "rows" if not axis else "columns"
        text += f" (checked on {ROWS} {which} spread over it: its first ones are all of one class)" if spread else f" (checked on the first {ROWS} {which})"
    return text


def _shapes(x: Any, t: Any, how: str, axis: int = 0, spread: bool = False) -> str:
    return f"{how}: {_given([x, t] if t is not None else [x], ['x', 't'], axis, spread)}"


def _how(instance: Instance, shown: str) -> str:
    args = describe_call(instance.name, instance.args, instance.kwargs)
    if not instance.line:
        return f"{args} observed in your program"
    return f"{args} observed at line {instance.line}" if instance.created else f"{args} first used at line {instance.line}"


def _skip(out: Checked, instance: Instance, shown: str, why: str) -> None:
    out.report.built.append(Built(instance.name, _how(instance, shown), skipped=why, origin="observed", line=instance.line))


def describe_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """`MLP([6, 16, 3], rng=<Generator>)`: arrays by shape, other objects by type, long values cut."""

    def show(v: Any) -> str:
        if isinstance(v, (np.ndarray, TooLarge)):
            return f"array{tuple(v.shape)}"
        if v is None or isinstance(v, (bool, int, float, str, np.generic)) or (
            isinstance(v, (list, tuple)) and all(isinstance(e, (bool, int, float, str)) for e in v)
        ):
            text = repr(v)
            return text if len(text) <= 40 else text[:37] + "..."
        return f"<{type(v).__name__}>"

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# --------------------------------------------------------------------------- layers


def _is_layer(obj: Any) -> bool:
    """A layer object: `forward` and `backward`, and no container running a list of layers
    (`conventions/containers.py` checks that one as a network)."""
    if containers.shape(type(obj)) is not None:
        return False
    return (callable(getattr(obj, "forward", None)) and callable(getattr(obj, "backward", None))) or _called_layer(obj)


def _called_layer(obj: Any) -> bool:
    """A block run by calling it and taking one gradient back by another name (`__call__`/`back`, `conventions.renamed`)
    that holds the layers it calls (`self.fc1 = Linear(...)`): checked on what the program fed it, as no size of it
    can be guessed to build it (a layer of its own arrays is built and checked as before)."""
    methods = layer_methods(obj)
    if methods is None or methods.convention != "renamed" or methods.forward != "__call__" or methods.learning_rate:
        return False
    held = vars(obj).values() if hasattr(obj, "__dict__") else ()
    return any(not isinstance(v, type) and layer_methods(v) is not None for v in held)  # a block of layers, built by no guess of its sizes


def _first_forward(instance: Instance) -> Call | None:
    for name in ("forward", "__call__"):
        for call in instance.calls.get(name, []):
            if call.returned and call.args:
                return call
    return None


REGULARISATION = ("regulariz", "regularis", "weight_decay", "l2", "l1", "lambd", "reg")


def _without_regularisation(obj: Any) -> tuple[Any, str]:
    """A copy of `obj` with its weight-decay factors at 0, and a note saying so.

    A layer that adds `2 * l2 * W` to `dW` in backward while the penalty itself is added to the
    loss elsewhere (the NNFS book's `regularization_loss`) is right, but its own forward does
    not contain the penalty, so its gradient would not match the forward it is checked against.
    """
    import copy

    names = [
        k for k, v in vars(obj).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0 and any(r in k.lower() for r in REGULARISATION)
    ] if hasattr(obj, "__dict__") else []
    if not names:
        return obj, ""
    try:
        work = copy.deepcopy(obj)
    except Exception:  # noqa: BLE001 - checked as it is
        return obj, ""
    for name in names:
        setattr(work, name, 0)
    return work, f" ({', '.join(names)} set to 0: the penalty is not part of this layer's forward)"


def _required(func: Any, flags: bool = False) -> int:
    """How many positional parameters `func` needs; with `flags`, a train flag (`forward(self, inputs, training)`,
    nnfs's model calls each layer so) is not counted: the check passes it by its name."""
    import inspect

    from backprop_doctor.conventions import TRAIN_FLAGS

    try:
        return sum(
            1 for p in inspect.signature(func).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and not (flags and p.name in TRAIN_FLAGS)
        )
    except (TypeError, ValueError):
        return 0


def _backward_arguments(obj: Any) -> str:
    """The names of the arguments backward needs beyond the upstream gradient, if any."""
    import inspect

    try:
        params = [
            p for p in inspect.signature(obj.backward).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError, AttributeError):
        return ""
    return ", ".join(f"`{p.name}`" for p in params[1:])


def _holds_batch_state(obj: Any, x: np.ndarray) -> bool:
    """A stateful layer (a TimeLSTM's h) keeps arrays of the program's batch size: cutting the
    batch would not fit them."""
    listed = getattr(obj, "params", None)
    params = {id(p) for p in listed if isinstance(p, np.ndarray)} if isinstance(listed, (list, tuple)) else set()  # not a `params()` method
    n = np.shape(x)[0] if np.ndim(x) else None
    if n is None or n <= ROWS:
        return False
    owners = [obj] + [v for v in (vars(obj).values() if hasattr(obj, "__dict__") else ()) if hasattr(v, "__dict__") and not isinstance(v, type)]
    return any(
        isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n and id(v) not in params
        for owner in owners
        for v in vars(owner).values()
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) or (isinstance(value, np.ndarray) and value.dtype.kind in "fiu")


def _zero_inputs(instance: Instance) -> int:
    call = _first_forward(instance)
    if call is None:
        return 0
    return sum(1 for a in call.args if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not a.any())


def _argument_names(func: Any, n: int) -> list[str]:
    import inspect

    try:
        names = [p for p in inspect.signature(func).parameters][:n]
    except (TypeError, ValueError):
        names = []
    return names + [f"input {i + 1}" for i in range(len(names), n)]


def _backward_unused(record: Record, instances: list[Instance]) -> str | None:
    """The name of the layers' backward when the program ran its training (or ran to its end) and
    never called it on any of them: an activation object whose derivative the caller writes out by
    hand, say. Its backward failing is then no cause of how the program trains."""
    if record.stopped not in ("enough", "finished"):
        return None
    methods = layer_methods(instances[0].obj)
    name = methods.backward if methods is not None else "backward"
    return None if any(name in i.calls for i in instances) else name


def _dormant(finding: Finding, layer: str, backward: str) -> Finding:
    """`finding`, the layer's backward raising, as a warning: the program never calls it."""
    if finding.name != "layer-raised" or not finding.message.startswith(f"`{layer}.{backward}` raised"):
        return finding
    return finding.replace(
        severity="warning",
        pattern=BACKWARD_UNUSED,
        message=f"{finding.message.split(': fix the')[0]}, though your program never calls `{layer}.{backward}` "
        f"(its training uses `{layer}` forward only): fix it before anything calls it, or delete it",
    )


def _check_layer(out: Checked, instance: Instance, options: Options, shown: str, unused: str | None = None) -> None:
    call = _first_forward(instance)
    if call is None:
        _skip(out, instance, shown, "the program never ran its forward")
        return
    obj = instance.state if instance.state is not None else instance.obj
    given = ""
    if _plain_numbers(call):  # the book's `forward(0)`, `MulLayer().forward(100, 2)`
        call, given = _numbers_as_arrays(instance, obj, call, options.seed)
    arrays = _layer_arrays(call)
    if stepped_cells.recognise(type(obj), {}) and len(arrays) == 1 and isinstance(arrays[0], np.ndarray) and np.ndim(arrays[0]) >= 1:
        _check_stepped_cell(out, instance, obj, arrays[0], call, options, shown)
        return
    if len(call.args) > len(arrays) and _required(obj.forward, flags=True) > len(arrays):
        _skip(out, instance, shown, "its forward also needs arguments that are not arrays (lengths, masks as lists): not checked yet")
        return
    if cache_layers.recognise(type(obj), {}) and len(arrays) == 1 and isinstance(arrays[0], np.ndarray) and arrays[0].dtype.kind == "f":
        _check_cache_layer(out, instance, obj, arrays[0], call, options, shown)
        return
    if (held := build.gradients_returned_by_name(type(obj))) is not None:
        _skip(out, instance, shown, build.GRADIENT_DICT.format(held=held))
        return
    methods = layer_methods(obj)
    # backward(dout, learning_rate), a loss's backward(dvalues, y_true), a gate's backward(x, dout):
    # the layer's convention says what the second argument is, and its adapter passes it
    conventional = methods is not None and bool(methods.learning_rate or methods.backward_gets_prediction or methods.backward_gets_inputs)
    conventional = conventional or _called_layer(obj)  # `__call__`/`back`: its convention's adapter calls it
    extra = "" if conventional else _backward_arguments(obj)
    outputs = call.result if isinstance(call.result, tuple) else ()
    if extra and len(outputs) == _required(obj.backward) and all(isinstance(o, np.ndarray) for o in outputs):
        extra = ""  # backward(dh_next, dc_next): one upstream gradient per output of forward (h_next, c_next)
    if extra and methods is not None and again_inputs(type(obj), methods):
        extra = ""  # backward(dscores, seq): forward's input again by its name, handed over by `cells.ObservedLayer`
    if extra:
        _skip(out, instance, shown, f"its backward takes {extra} as well as the upstream gradient: not checked yet")
        return
    obj, note = _without_regularisation(obj)
    if not arrays or any(isinstance(a, TooLarge) for a in arrays):
        _skip(out, instance, shown, "its recorded input is too large to keep" if arrays else "its forward was given no array")
        return
    if call.result is None and not getattr(layer_methods(obj), "output", None) and _return_never_used(type(obj)):
        _skip(
            out, instance, shown,
            f"its forward returns nothing by design (it keeps what it computes on the instance, and no call of "
            f"`{type(obj).__name__}.forward` in the file uses a value it returns), so there is no output to compare its gradients against: not checked yet",
        )
        return
    returned = loss_of_pair(call.result, arrays[0]) if len(arrays) == 2 else call.result  # `return probs, loss` by design
    loss = len(arrays) >= 2 and not isinstance(returned, (tuple, list)) and np.size(returned) == 1 and _number(returned)  # forward(x, t) -> loss
    if not loss and methods is not None and _per_sample_loss(obj, returned, arrays):
        loss = conventional = True  # the adapter sums the samples' losses, whose gradient `backward()` returns
    obj, arrays = _floated(obj, arrays, loss)
    if conventional and methods.mean_of_forward and len(arrays) == 2:
        loss = True  # an NNFS loss's forward(y_pred, y_true) returns one loss per sample
    if loss and len(arrays) > 2:
        _skip(out, instance, shown, f"its forward takes {len(arrays)} arrays and returns the loss: not checked yet")
        return
    names = ["x", "t"] if loss else _argument_names(getattr(obj, methods.forward if methods is not None else "forward"), len(arrays))
    axis = _batch_axis(arrays[0], arrays[1] if loss else None, _held_arrays(obj))
    spread = loss and _sorted_labels(arrays[1], axis)
    shapes = f"forward (line {call.line}): {_given(arrays, names, axis, spread)}{given}{note}"
    one_sample = np.ndim(arrays[0]) < 2 or (np.ndim(arrays[0]) == 2 and 1 in np.shape(arrays[0]))  # a vector, a row or a column
    if not _holds_batch_state(obj, arrays[0]) and not one_sample:  # one sample is kept whole
        samples = _samples(arrays[0], axis)
        # only arrays with as many samples as the input: `forward(x, W, b)` keeps its weights whole
        arrays = [_rows(a, axis, spread) if i == 0 or _samples(a, axis) == samples else a for i, a in enumerate(arrays)]
    else:
        shapes = re.sub(r" \(checked on (the first \d+ (rows|columns)|\d+ (rows|columns) spread over it: [^)]*)\)", "", shapes)
    label = instance.name if instance.line is None else f"{instance.name} (line {instance.line})"
    from backprop_doctor.observe.cells import check_observed

    def checked(arrays: list[Any]) -> Any:
        if conventional and (loss or len(arrays) == 1):
            return api.check_layer(obj, arrays[0], arrays[1] if loss else None, options=options)
        return check_observed(obj, arrays, loss, options, label=instance.name)

    result = checked(arrays)
    if loss and _saturated(result, arrays[0]):
        # scores so far apart (a network at weight scale 1 in a sweep: logits of 1e5) that the loss is flat to
        # rounding around them: its gradient cannot be measured there, so the same loss is checked on them rescaled
        shapes += f" (scores up to {float(np.max(np.abs(arrays[0]))):.3g}, where the loss is flat to rounding: checked on them rescaled to a spread of 1)"
        arrays = [arrays[0] / float(np.std(arrays[0])), *arrays[1:]]
        result = checked(arrays)
    case = (f"x {arrays[0].shape}" + (f", t {arrays[1].shape}" if loss else ""), arrays[0], arrays[1] if loss else None)
    if (len(arrays) > 1 and not loss) or call.result is None or is_loss_layer(obj) != loss:
        case = None  # the batch probes call forward(x[, t]) as the signature suggests
    result.built = []
    if unused is not None:
        result.findings = [_dormant(f, instance.name, unused) for f in result.findings]
    out.report.extend(result)
    out.report.built.append(
        Built(label, _how(instance, shown), shapes, origin="observed", line=instance.line)
    )
    if case is not None and np.ndim(case[1]) >= 1 and np.shape(case[1])[0] >= 2 and case[1].dtype.kind == "f":
        out.layers.append(build.Built(instance.name, obj, _how(instance, shown), [case], line=instance.line))


def _per_sample_loss(obj: Any, returned: Any, arrays: list[Any]) -> bool:
    """`forward(A, Y)` returning one loss per sample of A's rows beside a `backward()` that takes nothing
    (CMU 11-785's `SoftmaxCrossEntropy`, returning `softmax - Y`): a loss of the prediction and the target,
    not a layer of two inputs whose backward would be handed an upstream gradient."""
    backward = getattr(obj, "backward", None)
    return (
        len(arrays) == 2 and callable(backward) and _required(backward) == 0
        and isinstance(returned, np.ndarray) and returned.dtype.kind == "f" and returned.ndim == 1
        and np.ndim(arrays[0]) == 2 and returned.shape[0] == np.shape(arrays[0])[0] > 1
    )  # fmt: skip


def _plain_numbers(call: Call) -> bool:
    """A forward call given Python numbers only (`forward(0)`, `forward(apple, apple_num)`)."""
    return bool(call.args) and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in call.args)


NUMBER_SHAPE = (4, 5)  # the arrays a layer first called with Python numbers is checked on


def _numbers_as_arrays(instance: Instance, obj: Any, call: Call, seed: int) -> tuple[Call, str]:
    """The forward call to check a layer on whose first forward the program gave Python numbers.

    A later forward call of the program given arrays, when there is one (a Relu tried on `3`, then
    on `np.random.randn(5)`). Else float arrays of `NUMBER_SHAPE` in place of the numbers, when
    forward takes them and returns finite float arrays of their shape: a layer that works on
    numbers with NumPy's operators works on arrays element by element, and one element would hide
    a gradient right only there (`dout * 0.25` for a sigmoid tried at 0, a Relu tried at 3 only
    on its slope). Normal draws first, both signs; else, for a forward defined on one side only
    (`np.log(x)`), draws of each number's sign (its size times 0.5 to 1.5). Else the program's
    numbers as 0-d float arrays, checked where the program called it (`math.exp(x)`, `if x > 0:`).
    The note says which, for the report's shapes."""
    for later in instance.calls.get(call.name, []):
        if later.returned and later.args and any(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in later.args) and all(
            isinstance(a, np.ndarray) or (isinstance(a, (int, float)) and not isinstance(a, bool)) for a in later.args
        ):
            return later, f" (its first forward, line {call.line}, was given Python numbers: checked on this later call's arrays)"
    rng = np.random.default_rng(seed)
    numbers = ", ".join(repr(a) for a in call.args)
    both = [rng.standard_normal(NUMBER_SHAPE) for _ in call.args]
    signed = [float(v) * rng.uniform(0.5, 1.5, NUMBER_SHAPE) if abs(float(v)) > 1e-12 else a for v, a in zip(call.args, both)]
    for arrays, which in ((both, "normal draws"), (signed, "draws of their signs")):
        result = _trial_forward(obj, arrays, call.kwargs)
        if result is not None:
            return Call(call.name, tuple(arrays), dict(call.kwargs), call.file, call.line, result, True), (
                f" (your program gave it Python numbers, {numbers}: checked on arrays of {which})"
            )
    scalars = [np.array(float(a)) for a in call.args]
    result = _trial_forward(obj, scalars, call.kwargs, zero_d=True)
    if result is None:
        return call, ""
    return Call(call.name, tuple(scalars), dict(call.kwargs), call.file, call.line, result, True), (
        f" (your program gave it Python numbers, {numbers}: checked at them, as 0-d arrays)"
    )


def _trial_forward(obj: Any, arrays: list[np.ndarray], kwargs: dict[str, Any], zero_d: bool = False) -> Any:
    """What forward returns on copies of `arrays`, when it is a float array of their shape or a
    tuple of such (a number for 0-d inputs); None when it raises or returns anything else."""
    import warnings

    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))

    def fits(value: Any) -> bool:
        if zero_d and isinstance(value, (float, np.floating)):
            return bool(np.isfinite(value))
        return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.shape == shape and bool(np.all(np.isfinite(value)))

    state = np.random.get_state()
    try:
        work = copy.deepcopy(obj)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = work.forward(*[a.copy() for a in arrays], **kwargs)
    except Exception:  # noqa: BLE001 - a forward written for numbers only (`math.exp(x)`, `if x > 0:`)
        return None
    finally:
        np.random.set_state(state)
    parts = result if isinstance(result, tuple) else (result,)
    return result if parts and all(fits(p) for p in parts) else None


def _return_never_used(cls: type) -> bool:
    """Whether `cls.forward` keeps what it computes on the instance (`self.x.append(...)`, `self.out = ...`) and every
    call of a `forward` method in its file is a statement of its own (`net.forward(x)`), whose value nothing reads: a
    stateful network whose backward reads its own lists (`self.x[-1]`), not a layer that forgot `return out`."""
    import ast
    import inspect

    from backprop_doctor.conventions._classlayer import assigned_attributes, function_node
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.tree import walk

    node = function_node(getattr(cls, "forward", None))
    if node is None or not (assigned_attributes(node) or any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append" for n in ast.walk(node))):
        return False
    try:
        path = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return False
    tree = source_tree(path)[1] if path else None
    if tree is None:
        return False
    made = {
        t.id for n in walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
        and isinstance(n.value.func, (ast.Name, ast.Attribute)) and (getattr(n.value.func, "id", None) or getattr(n.value.func, "attr", None)) == cls.__name__
        for t in n.targets if isinstance(t, ast.Name)
    }  # fmt: skip
    alone = {id(n.value) for n in walk(tree) if isinstance(n, ast.Expr)}
    calls = [
        n for n in walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "forward" and isinstance(n.func.value, ast.Name) and n.func.value.id in made
    ]  # fmt: skip
    return bool(calls) and all(id(c) in alone for c in calls)


def _check_cache_layer(out: Checked, instance: Instance, obj: Any, x: np.ndarray, call: Call, options: Options, shown: str) -> None:
    """A layer whose forward returns `(out, cache)` and whose backward takes that cache back (`conventions.cache_layers`),
    checked on a copy at the program's own first input (its first rows), the cache handed back as the program does."""
    from backprop_doctor.conventions._base import isolated
    from backprop_doctor.engine import LayerCheck

    if type(obj) in out.cache_layers:  # one instance of such a class is checked: its backward is the same code
        first = out.cache_layers[type(obj)]
        _skip(out, instance, shown, f"checked at its first instance{f' (line {first})' if first else ''}: the same code")
        return
    out.cache_layers[type(obj)] = instance.line
    rows = _rows(x, 0) if np.ndim(x) >= 2 and not _holds_batch_state(obj, x) else x
    with isolated(obj) as (work, _):
        adapter = cache_layers.CacheLayer(work, cache_layers.parameter_order(type(work)), train=options.train)
        trial = cache_layers.trial(work, rows, options.train)
        if trial is None:
            _skip(out, instance, shown, "its forward and backward did not run on the program's own input as the program calls them")
            return
        adapter.settle(rows, trial[1], trial[2])
        result = LayerCheck(adapter, rows, None, options, label=instance.name).run()
    result.built = []
    out.report.extend(result)
    label = instance.name if instance.line is None else f"{instance.name} (line {instance.line})"
    out.report.built.append(Built(label, _how(instance, shown), f"forward (line {call.line}): {_given([x], ['x'])}", origin="observed", line=instance.line))


def _check_stepped_cell(out: Checked, instance: Instance, obj: Any, x: np.ndarray, call: Call, options: Options, shown: str) -> None:
    """A cell that takes one time step per call, forward and backward (`conventions.stepped_cells`): checked
    from the program's own state over a sequence of steps shaped like its first recorded input, the way
    the program calls it (forward T times, then backward T times)."""
    from backprop_doctor.engine import LayerCheck

    try:
        case = stepped_cells.program_case(obj, x, np.random.default_rng(options.seed))
    except Exception as error:  # noqa: BLE001 - user code, or a cell the adapter cannot take
        _skip(out, instance, shown, f"it could not be checked as the program called it ({type(error).__name__}: {error})")
        return
    result = LayerCheck(case.adapter, case.x, None, options, label=instance.name).run()
    result.built = []
    out.report.extend(result)
    label = instance.name if instance.line is None else f"{instance.name} (line {instance.line})"
    out.report.built.append(Built(label, _how(instance, shown), f"forward (line {call.line}): x {tuple(np.shape(x))}; {case.label}", origin="observed", line=instance.line))


SATURATED = 30.0  # scores this far apart put a softmax's smaller probabilities below float64's resolution


def _saturated(result: Any, x: Any) -> bool:
    """A loss whose input gradient measured zero at scores spread wider than `SATURATED`: flat to rounding there."""
    spread = float(np.ptp(x)) if isinstance(x, np.ndarray) and x.size and np.all(np.isfinite(x)) else 0.0
    flat = ("unused-in-forward", "flat-in-floating-point", "log-guard-at-saturation")  # the last two: `loss-flat` warnings
    return spread > SATURATED and any(f.severity in ("error", "warning") and f.param == "x" and f.pattern in flat for f in result.findings)


def _layer_arrays(call: Call) -> list[Any]:
    """The arrays a recorded forward call was given, a NumPy float scalar as a 0-d array: `x ** 2` of
    a 0-d array is one, and DeZero's first steps pass it on to the next function's forward."""
    return [np.asarray(a) if isinstance(a, np.floating) else a for a in call.args if isinstance(a, (np.ndarray, np.floating, TooLarge))]


def _floated(obj: Any, arrays: list[np.ndarray], loss: bool) -> tuple[Any, list[np.ndarray]]:
    """The layer and its observed inputs with integer arrays as float64, when the layer computes the
    same with them. A demo that runs a layer on `np.arange(1, 7).reshape(2, -1)` gives it integer
    weights and inputs, and no gradient can be probed on integers; indices (`W[idx]`) and a loss's
    labels stay integers, because the layer then computes something else or fails."""
    held = [k for k, v in getattr(obj, "__dict__", {}).items() if isinstance(v, np.ndarray) and v.dtype.kind in "iu"]
    cast = [a.dtype.kind in "iu" and not (loss and i == 1) for i, a in enumerate(arrays)]
    if not held and not any(cast):
        return obj, arrays
    # both forwards draw the same numbers from NumPy's global generator (a dropout mask drawn with
    # `np.random.rand(*x.shape)` on `np.array([1, 2, 3, 4, 5])`), and leave it as they found it
    drawn = np.random.get_state()
    try:
        floated = copy.deepcopy(obj)
        for name in held:
            setattr(floated, name, getattr(obj, name).astype(np.float64))
        new = [a.astype(np.float64) if c else a for a, c in zip(arrays, cast)]
        as_given = np.asarray(copy.deepcopy(obj).forward(*arrays), dtype=np.float64)
        np.random.set_state(drawn)
        same = np.allclose(as_given, np.asarray(copy.deepcopy(floated).forward(*new), dtype=np.float64))
    except Exception:  # noqa: BLE001 - the layer's own code: it keeps what it was given
        return obj, arrays
    finally:
        np.random.set_state(drawn)
    return (floated, new) if same else (obj, arrays)


# --------------------------------------------------------------------------- functions


OTHER_SETTINGS = 2  # further calls of a pair with settings of their own that are checked too


def _settings(call: Call) -> tuple[Any, ...]:
    """What a call passes besides arrays (`dilation=2`, `{"stride": 2, "pad": 1}`, `"train"`): two calls
    with the same settings run the same code on arrays of other values."""

    def plain(value: Any) -> Any:
        if isinstance(value, (np.ndarray, TooLarge)):
            return ("array", getattr(value, "ndim", None))
        if isinstance(value, dict):
            return tuple(sorted((str(k), plain(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple)):
            return tuple(plain(v) for v in value)
        if isinstance(value, (bool, int, float, str, np.generic)) or value is None:
            return repr(value)
        return type(value).__name__

    return tuple(plain(a) for a in call.args[1:])


def _check_pair_call(out: Checked, name: str, forward: Any, backward: Any, call: Call, options: Options, ran: Call | None = None) -> Report | None:
    """`forward`/`backward` checked on one recorded call's arguments (a batch cut from its input); None
    when they are too large to have been kept. `ran`: a call of the backward in the program's own run that
    returned; the backward raising on what the check hands it is then the check's doing (an order of its
    arguments, a batch cut), not the program's: a note (`layer_raised.run_by_the_program`)."""
    params = list(call.args[1:])
    axis = _batch_axis(call.args[0], weights=tuple(params))
    # a state carried from step to step (`h_prev` (64, 12) beside `x` (64, 2)) holds the same samples: cut
    # neither, rather than pair a cut batch with the whole state
    carried = any(isinstance(a, np.ndarray) and a.ndim >= 2 and _samples(a, axis) == _samples(call.args[0], axis) for a in params)
    x = call.args[0] if carried else _rows(call.args[0], axis)
    if any(isinstance(a, TooLarge) for a in params):
        out.report.built.append(Built(name, "observed", skipped="its recorded arguments are too large to keep", origin="observed", line=call.line))
        return None
    result = api.check_functions(forward, backward, x, *params, options=options)
    result.built = []
    if ran is not None:
        raised = [f for f in result.findings if f.name == "layer-raised" and f.severity == "error" and re.match(r"`[^`]+\.backward` raised", f.message)]
        result.findings = [_handed_by_the_check(f, ran.line) if any(f is r for r in raised) else f for f in result.findings]
    out.report.extend(result)
    shapes = ", ".join([f"x {x.shape}"] + [f"{tuple(p.shape)}" for p in params if isinstance(p, np.ndarray)])
    out.report.built.append(Built(name, f"arguments observed at line {call.line}", shapes, origin="observed", line=call.line))
    return result


def _handed_by_the_check(finding: Finding, line: int | None) -> Finding:
    """A pair's backward that raised on what the pair's check handed it (the rows it cut from the program's
    input, its arguments in the order the check reads from their names), while the program's own call of
    it (at `line`) returned: a note, not the program's error."""
    where = f" (line {line})" if line else ""
    return finding.replace(
        severity="info",
        pattern="made-up-input",
        fix=None,
        message=(
            f"{finding.message.partition(': fix')[0]}, as backprop-doctor's check of the pair handed it (rows cut from "
            f"your program's input, the upstream gradient and the cache in the order it read from their names); your "
            f"program's own call{where} runs it without an error, so only that check is left out"
        ),
    )


def _first_moved_state(calls: list[Call]) -> Call | None:
    """The first of a pair's recorded calls, unless an array it is handed is all zeros there and not at a later
    call: a recurrent step's state started at zeros (`gru_step_forward(x[:, 0], h0, ...)` with `h0 = 0`), where
    every term multiplying it vanishes from the gradients (`(r * prev_h).T @ dn` written `prev_h.T @ dn` agrees
    at 0); then the first call where every such array has moved. An array zero at every call (a bias not yet
    updated) is no state."""

    def zero(value: Any) -> bool:
        return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 1 and not value.any()

    if not calls:
        return None
    width = min(len(c.args) for c in calls)
    states = [i for i in range(width) if zero(calls[0].args[i]) and any(isinstance(c.args[i], np.ndarray) and c.args[i].any() for c in calls[1:])]
    if not states:
        return calls[0]
    return next((c for c in calls if not any(zero(c.args[i]) for i in states)), calls[0])


def _check_functions(out: Checked, record: Record, discovered: Any, options: Options, shown: str) -> list[tuple[str, Call]]:
    """Check the pairs and loss functions on their recorded calls; returns the (name, call) of the pairs whose
    forward the program called on something else than an input array first (`gru_step(p, x, h)`: the whole
    dictionary of parameters), which no check of the pair alone can take (`_checked_through_callers`)."""
    recorded = {f.name: f for f in record.functions if f.calls}
    inside: list[tuple[str, Call]] = []
    for forward, backward in getattr(discovered, "pairs", []):
        calls = recorded.get(forward.__name__)
        call = _first_moved_state([c for c in calls.calls if c.returned and c.args]) if calls else None
        if call is not None and not isinstance(call.args[0], np.ndarray) and any(isinstance(a, np.ndarray) for a in call.args[1:]):
            inside.append((f"{forward.__name__}/{backward.__name__}", call))
        if call is None or not isinstance(call.args[0], np.ndarray):
            continue
        live_backward = calls.func.__globals__.get(backward.__name__, backward)
        name = f"{forward.__name__}/{backward.__name__}"
        if not any(isinstance(a, dict) and "stride" in a for a in call.args[1:]):
            out.observed.add(name)  # hyperparameters (`{"stride": 1, "pad": 0}`): the built cases try others too
        if not (isinstance(call.result, tuple) and len(call.result) == 2 and isinstance(call.result[0], np.ndarray)):
            returned = f"{len(call.result)} values" if isinstance(call.result, tuple) else type(call.result).__name__
            out.report.built.append(
                Built(name, f"arguments observed at line {call.line}", skipped=f"`{forward.__name__}` returned {returned}, not (out, cache): not checked yet", origin="observed", line=call.line)
            )
            continue
        unknown = cs231n.not_handed(calls.func, live_backward)
        if unknown:  # `gru_step_back(dh, cache, P, G)`: a `G` the forward does not take, for the check to hand it again
            out.report.built.append(
                Built(name, f"arguments observed at line {call.line}", skipped=f"`{backward.__name__}` also takes {', '.join(unknown)}, which `{forward.__name__}` does not: checked through your training step", origin="observed", line=call.line)
            )
            continue
        backs = recorded.get(backward.__name__)
        ran = next((c for c in backs.calls if c.returned), None) if backs is not None else None
        result = _check_pair_call(out, name, calls.func, live_backward, call, options, ran)
        # a pair the program calls with other settings too (a second convolution at `dilation=2`, `stride=2`):
        # checked there as well, where the first call's settings hide a mistake (a dilation dropped at 1)
        seen = {_settings(call)}
        for other in calls.calls:
            if result is None or any(f.severity == "error" for f in result.findings) or len(seen) > OTHER_SETTINGS:
                break
            if other is call or not other.returned or not other.args or not isinstance(other.args[0], np.ndarray) or _settings(other) in seen:
                continue
            if not (isinstance(other.result, tuple) and len(other.result) == 2 and isinstance(other.result[0], np.ndarray)):
                continue
            seen.add(_settings(other))
            result = _check_pair_call(out, name, calls.func, live_backward, other, options, ran)
    for loss in getattr(discovered, "loss_functions", []):
        calls = recorded.get(loss.__name__)
        observed = loss_arguments(record, loss)
        if calls is None or observed is None:
            continue
        x, t, line = observed
        out.observed.add(loss.__name__)
        result = api.check_layer(calls.func, x, t, options=options)
        result.built = []
        out.report.extend(result)
        out.report.built.append(Built(loss.__name__, f"arguments observed at line {line}", f"x {x.shape}, t {t.shape}", origin="observed", line=line))
    return inside


def _checked_through_callers(out: Checked, record: Record, inside: list[tuple[str, Call]]) -> None:
    """A pair whose forward the program calls from inside a function or a class it checked on the program's
    own call (`loss_and_grads(params, X, y)` running `gru_step(p, x, h)` at every time step) was checked
    with it: named so, and left out of the build from guessed arguments, which cannot guess them."""
    spans = _checked_spans(out, record)
    for name, call in inside:
        caller = next((owner for file, first, last, owner in spans if call.file == file and call.line is not None and first <= call.line <= last), None)
        if caller is None:
            continue
        out.observed.add(name)
        forward = name.split("/")[0]
        out.report.built.append(
            Built(name, f"called at line {call.line}", skipped=f"`{forward}` takes {_described(call.args[0])} first: checked through `{caller}`, which calls it", origin="observed", line=call.line)
        )


def _described(value: Any) -> str:
    if isinstance(value, dict):
        return "a dictionary of parameters" if any(isinstance(v, np.ndarray) for v in value.values()) else "a dictionary"
    return f"a {type(value).__name__}, not an array,"


def _checked_spans(out: Checked, record: Record) -> list[tuple[str, int, int, str]]:
    """(file, first line, last line, name) of the code of each function and class the observed checks took
    whole, on the program's own call (a `(loss, grads)` function, a network's methods)."""
    import types

    codes: list[tuple[Any, str]] = [(f.func.__code__, f.name) for f in record.functions if f.name in out.observed and hasattr(f.func, "__code__")]
    for instance in record.instances:
        if instance.name in out.observed:
            codes += [(v.__code__, instance.name) for v in vars(instance.cls).values() if isinstance(v, types.FunctionType)]
    spans = []
    for code, owner in codes:
        lines = [line for _, _, line in code.co_lines() if line is not None]
        if lines:
            spans.append((code.co_filename, min(code.co_firstlineno, *lines), max(lines), owner))
    return spans


def loss_arguments(record: Record, loss: Any) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(scores, targets, line) of the program's first call of the loss function `loss(scores, y) -> (loss,
    dx)` that returned, its batch cut to the rows the gradient check compares (`_rows`), so a check of its
    reduction (`loss-not-mean`) reads the same batch size; None when the program never called it with arrays."""
    calls = {f.name: f for f in record.functions if f.calls}.get(loss.__name__)
    call = next((c for c in calls.calls if c.returned and len(c.args) >= 2), None) if calls else None
    if call is None or not all(isinstance(a, np.ndarray) for a in call.args[:2]):
        return None
    axis = _batch_axis(call.args[0], call.args[1])
    spread = _sorted_labels(call.args[1], axis)
    return _rows(call.args[0], axis, spread), _rows(call.args[1], axis, spread), call.line



# --------------------------------------------------------------------------- (loss, grads) calls


def _check_loss_and_grads(out: Checked, record: Record, covered: set[int], options: Options) -> None:
    """Calls that return (loss, grads): cs231n's `model.loss(X, y)`, a function `loss(params, X, y)`."""
    from backprop_doctor.observe.lossgrads import check_function, check_method

    done: set[Any] = set()
    for instance in record.instances:
        if instance.cls in done or id(instance.obj) in covered or _is_layer(instance.obj):
            continue
        obj = instance.state if instance.state is not None else instance.obj
        for method, calls in instance.calls.items():
            call = next((c for c in calls if c.returned and isinstance(c.result, tuple)), None)
            if call is None:
                continue
            try:
                checked = check_method(obj, method, call, options, ROWS)
            except Exception:  # noqa: BLE001 - an object that will not copy
                checked = None
            if checked is None:
                continue
            report, shapes = checked
            done.add(instance.cls)
            out.observed.add(instance.name)
            out.report.extend(report)
            out.report.built.append(
                Built(instance.name, _how(instance, ""), f"{method} (line {call.line}): {shapes}", origin="observed", line=instance.line, kind="network")
            )
            break
    for function in record.functions:
        call = next((c for c in function.calls if c.returned and isinstance(c.result, tuple)), None)
        if call is None:
            continue
        checked = check_function(function.func, call, options, ROWS)
        if checked is None:
            continue
        report, shapes = checked
        out.observed.add(function.name)
        out.report.extend(report)
        out.report.built.append(Built(function.name, f"called at line {call.line}", shapes, origin="observed", line=call.line, kind="network"))
