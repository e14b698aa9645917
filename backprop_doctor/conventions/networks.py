"""Whole networks, checked layer by layer and as one loss.

Book style (*Deep Learning from Scratch*): a `params` dict, `loss(x, t)` and
`gradient(x, t)` returning a dict of the same keys, layers in an `OrderedDict`
`self.layers` and a `self.lastLayer`. DLFS-2 style: a `params` list gathered
from the layers, `forward(x, t)` returning the loss and `backward()` filling
the `grads` list.

Example:
    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size):
            self.params = {"W1": 0.01 * np.random.randn(input_size, hidden_size), ...}
            self.layers = OrderedDict(Affine1=Affine(self.params["W1"], self.params["b1"]), ...)
            self.lastLayer = SoftmaxWithLoss()

        def loss(self, x, t):
            return self.lastLayer.forward(self.predict(x), t)

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.lastLayer.backward(1)
            ...
            return {"W1": self.layers["Affine1"].dW, ...}

Recognised by: a constructor that sets `params`, with `gradient`, or with
`layers` and `loss`/`predict`/`backward` (`is_network_class`); the same network
under names of its own, its dict `self.parameters` (`weights`, `model`, ...) and
its gradient `grad(x, t)` (`gradients`), beside `loss(x, t)`; confirmed on the
built object (`Network` raises TypeError otherwise). Gradients live in what
`gradient(x, t)` returns, or in the `grads` list after `backward()`.

The book's chapter 4 network has no backward pass: its `numerical_gradient(x, t)`
moves each weight by a small step and reads the loss (`is_numerical_network`). It is
checked the same way, with `numerical_gradient` in the place of `gradient`, at
sizes small enough for a gradient that costs two losses per weight.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor import scratch
from backprop_doctor.carryover import WATCHED_SIZE, Watch, streams
from backprop_doctor.gradcheck import identical
from backprop_doctor.conventions._base import (
    FORWARD_SEED,
    LAST_LAYER_NAMES,
    Adapter,
    is_array_list,
    is_float_array,
    listed_arrays,
    parameters,
    train_kwargs,
)
from backprop_doctor.conventions._classlayer import ClassLayer, layer_methods, loss_of_pair, required_inputs
from backprop_doctor.conventions._feeds import fed_inputs, unchained
from backprop_doctor.conventions.dlfs2 import dlfs2_names

NAME = "networks"
ORDER = 10


def _methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if callable(value)} | {
        name for base in cls.__mro__[1:-1] for name, value in vars(base).items() if callable(value)
    }


def _init_source(cls: type) -> str:
    try:
        return inspect.getsource(cls.__init__)
    except (TypeError, OSError):
        return ""


_OWN_PARAMETER = re.compile(r"self\.((?:W|w|b|B)[A-Za-z_]{0,3}\d*)\s*(?:,[^=\n]*)?=")
NUMERICAL = "numerical_gradient"  # the book's chapter 4: the gradient by finite differences, no backward pass


# Where a network keeps its parameters and which method returns their gradient dict: the book's
# `params` and `gradient`, or the same network with its own names (`self.parameters`, `grad(X, T)`).
PARAMETER_DICTS = ("params", "parameters", "param", "weights", "model", "theta")
GRADIENT_METHODS = ("gradient", "grad", "gradients")
_RENAMED_DICT = re.compile(r"self\.(?:" + "|".join(PARAMETER_DICTS[1:]) + r")\b")


def _renamed_book_network(cls: type, methods: set[str], init: str) -> bool:
    """A book network under other names: a dict its constructor keeps as `self.parameters` (or
    `weights`, `model`, ...), `loss(x, t)` and a gradient method taking the batch and its targets
    (`grad(X, T)`), so that a layer's own `grad(dout)` does not make it a network."""
    gradient = next((getattr(cls, name) for name in GRADIENT_METHODS[1:] if name in methods), None)
    return "loss" in methods and gradient is not None and len(required_inputs(gradient)) >= 2 and bool(_RENAMED_DICT.search(init))


def is_network_class(cls: type) -> bool:
    methods = _methods(cls)
    init = _init_source(cls)
    if "gradient" in methods and "params" in init:
        return True
    if _renamed_book_network(cls, methods, init):
        return True
    if {"gradient", "loss"} <= methods and _OWN_PARAMETER.search(init):
        return True  # weights held as attributes (`self.W1`), `gradient(x, t)` a dict of them
    if not ("params" in init and "layers" in init):
        return False
    if {"loss", "predict"} & methods:
        return True
    # DLFS-2 networks' forward takes the targets too (`forward(xs, ts)`); a time layer's
    # forward (`TimeRNN.forward(xs)`) takes the sequence alone.
    forward = getattr(cls, "forward", None)
    return "backward" in methods and callable(forward) and len(required_inputs(forward)) >= 2


def is_numerical_network(cls: type) -> bool:
    """A network trained by finite differences alone: `loss(x, t)` and `numerical_gradient(x, t)`,
    no `gradient` or `backward` of its own, its weights in `params` or its own attributes."""
    methods = _methods(cls)
    if not {"loss", NUMERICAL} <= methods or {*GRADIENT_METHODS, "backward"} & methods:
        return False
    init = _init_source(cls)
    return "params" in init or bool(_OWN_PARAMETER.search(init))


def gradient_method(net: Any) -> str:
    """The name of the method that gives a network's gradient dict: `gradient` (or `grad`,
    `gradients`), or the book's `numerical_gradient` where the network has nothing else."""
    named = next((name for name in GRADIENT_METHODS if callable(getattr(net, name, None))), None)
    return named or ("gradient" if not callable(getattr(net, NUMERICAL, None)) else NUMERICAL)


def parameter_holder(net: Any) -> str:
    """The attribute holding a network's parameters: `params`, else the first of the other usual
    names that holds a dict of arrays, at least one of them float (`self.parameters['W1']`)."""
    if getattr(net, "params", None) is not None:
        return "params"
    for name in PARAMETER_DICTS[1:]:
        held = vars(net).get(name) if hasattr(net, "__dict__") else None
        if isinstance(held, dict) and held and all(isinstance(v, np.ndarray) for v in held.values()) and any(is_float_array(v) for v in held.values()):
            return name
    return "params"


class Network:
    """A whole network: its parameters, its loss, its analytic gradient, its layers."""

    def __init__(self, net: Any, name: str | None = None, *, train: bool = True):
        self.net = net
        self.name = name or type(net).__name__
        self.train = train
        # `layer_inputs` fed each layer the previous one's output (False: what the network gave it)
        self.chained = False
        # key -> the arrays the network passed a layer after its input, its weights among them (`layer_inputs`)
        self.given: dict[str, dict[str, np.ndarray]] = {}
        self.called: set[int] = set()  # ids of the layers `loss_and_gradient` ran forward and backward
        # set by a caller that reads the layers' contracts from that same call (`LayerCalls`)
        self.reader: LayerCalls | None = None
        # the dx the first layer's backward returned in that same call, when it is the
        # gradient of the loss with respect to the network's input (`_called`); else None
        self.input_gradient: np.ndarray | None = None
        self.gradient_name = gradient_method(net)
        self.holder = parameter_holder(net)  # `params`, or the dict's own name (`parameters`)
        params = getattr(net, self.holder, None)
        if isinstance(params, dict):
            self.style = "dict"
        elif is_array_list(params):
            self.style = "list"
        elif callable(getattr(net, "loss", None)) and callable(getattr(net, self.gradient_name, None)) and _attribute_parameters(net):
            self.style = "attributes"
        else:
            raise TypeError(f"{self.name} has no `params` dict or list of arrays")
        if self.style == "dict" and not callable(getattr(net, self.gradient_name, None)):
            raise TypeError(f"{self.name} has a params dict but no gradient(x, t) method")
        if self.style == "list" and not (callable(getattr(net, "backward", None)) and isinstance(getattr(net, "grads", None), list)):
            raise TypeError(f"{self.name} has a params list but no backward() and grads list")

    @property
    def target(self) -> Any:
        return type(self.net)

    def params(self) -> dict[str, np.ndarray]:
        if self.style == "attributes":
            return _attribute_parameters(self.net)
        params = getattr(self.net, self.holder)
        if self.style == "dict":
            return {k: v for k, v in params.items() if is_float_array(v)}
        names = _network_list_names(self.net)
        return {name: p for name, p in _first_entries(names, params) if is_float_array(p)}

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        if self.style != "list" and not callable(getattr(self.net, "loss", None)):
            # no `loss(x, t)`: a `gradient(x, t)` that returns the loss beside the gradients (`return loss, grads`)
            gradient = getattr(self.net, self.gradient_name)
            value = _returned_loss(gradient(x, t, **train_kwargs(gradient, self.train)) if required_inputs(gradient) else None)
            if value is None:
                raise AttributeError(f"{self.name} has no loss(x, t) method, and its {self.gradient_name}(x, t) returns no loss beside its gradients")
            return value
        method = self.net.loss if self.style != "list" or not callable(getattr(self.net, "forward", None)) else self.net.forward
        return loss_of_pair(method(x, t, **train_kwargs(method, self.train)), x)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, Any]:
        return self.loss_and_gradient(x, t, keep_loss=False)[1]

    def loss_and_gradient(self, x: np.ndarray, t: np.ndarray, keep_loss: bool = True) -> tuple[Any, dict[str, Any]]:
        """The gradient, and with `keep_loss` the loss the same call computed on the way (None
        when it cannot be told: `_LossSeen`) and the layers it ran (`called`): a check needs
        the loss at the point where it takes the gradient, and the book's `gradient(x, t)`
        computes it first thing (`self.loss(x, t)`)."""
        if self.style in ("dict", "attributes"):
            gradient = getattr(self.net, self.gradient_name)
            if not required_inputs(gradient):  # `loss(x, t)` keeps what `gradient()` reads
                with self._called(x) if keep_loss else contextlib.nullcontext():
                    loss = self.loss(x, t)
                    grads = gradient()
            else:
                # finite differences call `loss` at moved weights first: their loss is not the point's
                seen = _LossSeen(self, x, t) if keep_loss and self.gradient_name != NUMERICAL else None
                with seen or contextlib.nullcontext(), self._called(x) if keep_loss else contextlib.nullcontext():
                    grads = gradient(x, t)
                loss = seen.value if seen is not None else None
            if isinstance(grads, tuple) and sum(isinstance(g, dict) for g in grads) == 1:
                if loss is None and keep_loss and not callable(getattr(self.net, "loss", None)):
                    loss = _returned_loss(grads)  # the loss it returns is the one at this point: it has no other
                grads = next(g for g in grads if isinstance(g, dict))  # `return loss, grads`
            if isinstance(grads, (tuple, list)) and self.style == "attributes":
                grads = _in_order(self.params(), grads)  # `return dW, db` for `self.W`, `self.b`
            if not isinstance(grads, dict):
                return loss, {}
            if self.style == "dict":
                return loss, dict(grads)
            # `{"W1": ...}` or `{"dW1": ...}` for `self.W1`
            named = {(k[1:] if k not in self.params() and k[1:] in self.params() else k): g for k, g in grads.items()}
            return loss, {k: g for k, g in named.items() if k in self.params()}
        with self._called(x) if keep_loss else contextlib.nullcontext():
            loss, grads = self._list_loss_and_gradient(x, t)
        return loss, grads

    def _list_loss_and_gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[Any, dict[str, Any]]:
        """A DLFS-2 network's loss (`forward`) and the gradients its `backward()` leaves in `grads`."""
        loss = self.loss(x, t)
        backward = self.net.backward
        self.net.backward(1) if parameters(backward) else self.net.backward()
        # An array listed twice (CBOW's two MatMul layers share W_in) gets the sum of its entries' gradients
        summed: dict[str, Any] = {}
        for (name, _), g in zip(_first_entries(_network_list_names(self.net), self.net.params, keep=True), self.net.grads):
            summed[name] = summed[name] + g if isinstance(summed.get(name), np.ndarray) and isinstance(g, np.ndarray) else summed.get(name, g)
        return loss, {name: summed.get(name) for name in self.params()}

    @contextlib.contextmanager
    def _called(self, x: Any) -> Iterator[None]:
        """Record in `called` the ids of the layers whose forward and backward both ran while
        the block ran (each method wrapped by an attribute of the layer for its length; a layer
        whose methods cannot be wrapped is not recorded), and in `input_gradient` what the
        first layer's backward returned (`_FirstLayer`)."""
        ran: dict[int, set[str]] = {}
        wrapped = []
        layers = self.layers()
        first = _FirstLayer(x) if self.chained and layers else None
        reader = self.reader
        for index, (_, layer) in enumerate(layers):
            methods = layer_methods(layer)
            for role in ("forward", "backward"):
                name = getattr(methods, role, role) if methods is not None else role
                seen = getattr(first, role) if first is not None and index == 0 else None
                around = functools.partial(getattr(reader, role), layer) if reader is not None else None
                # with a reader, its counts say which ran (`LayerCalls` counts each call as it starts, as `note` notes it)
                note = None if reader is not None else lambda layer=layer, role=role: ran.setdefault(id(layer), set()).add(role)
                if _wrap_call(layer, name, note, seen, around):
                    wrapped.append((layer, name, role))
        self.input_gradient = None
        try:
            yield
        finally:
            for layer, name, role in wrapped:
                vars(layer).pop(name, None)
                if reader is not None and getattr(reader.calls.get(id(layer)), "forwards" if role == "forward" else "backwards", 0):
                    ran.setdefault(id(layer), set()).add(role)
            self.called = {i for i, roles in ran.items() if len(roles) == 2}
            if reader is not None:
                reader.release()
        self.input_gradient = first.gradient() if first is not None else None

    def layers(self) -> list[tuple[str, Any]]:
        """(key, layer) pairs in forward order, the loss layer last."""
        found: list[tuple[str, Any]] = []
        layers = getattr(self.net, "layers", None)
        if isinstance(layers, dict):
            found = [(str(k), v) for k, v in layers.items()]
        elif isinstance(layers, (list, tuple)):
            found = [(f"layers[{i}]", v) for i, v in enumerate(layers)]
        else:
            for attr, value in vars(self.net).items():
                if callable(getattr(value, "forward", None)) and callable(getattr(value, "backward", None)):
                    found.append((attr, value))
        for attr in LAST_LAYER_NAMES:
            value = getattr(self.net, attr, None)
            if value is not None and callable(getattr(value, "forward", None)) and all(value is not v for _, v in found):
                found.append((attr, value))
        return found

    def last_layer(self) -> tuple[str, Any] | None:
        for attr in LAST_LAYER_NAMES:
            value = getattr(self.net, attr, None)
            if value is not None and callable(getattr(value, "forward", None)):
                return attr, value
        return None

    def layer_inputs(self, x: Any, t: Any) -> Iterator[tuple[str, Any, Any, Any, bool]]:
        """(key, layer, input, target, is_loss) for each layer in forward order, the loss layer
        last with `t`: the activations come from running this network's own layers on `x`.

        Reseeds NumPy's global RNG before each layer (callers save and restore it); stops
        quietly at a layer that raises, which the layer's own check reports. A caller that
        ran the layer's forward on the input it was given may `send` the float64 output.
        """
        last = self.last_layer()
        fed = fed_inputs(self, x, t)
        self.given = {key: weights for key, (_, _, _, weights) in fed.items() if weights}
        if unchained(self, x, fed):  # layers side by side (CBOW): each gets what the network gave it
            self.chained = False
            for key, layer in ((k, v) for k, v in self.layers() if k in fed):
                given, target, _, _ = fed[key]
                yield key, layer, given.astype(np.float64) if given.dtype.kind == "f" else given, target, target is not None
            return
        self.chained = True
        fresh = np.asarray(x).dtype.kind == "f"  # the first activation is a copy made here
        activation = scratch.copy_of(np.asarray(x), np.float64) if fresh else np.asarray(x)
        for key, layer in self.layers():
            is_loss = last is not None and layer is last[1]
            given = activation if fresh else activation.copy()
            output = yield key, layer, given, (t if is_loss else None), is_loss
            if is_loss:
                return
            if output is not None:  # sent by a caller that ran this forward on this input already
                activation, fresh = output, False
                continue
            if fresh:  # the caller had the only copy of x
                activation, fresh = np.array(x, dtype=np.float64), False
            np.random.seed(FORWARD_SEED)
            try:
                activation = np.asarray(ClassLayer(layer, train=self.train).forward(activation.copy()), dtype=np.float64)
            except Exception:  # user code
                return

    def layer_adapter(self, key: str, layer: Any) -> ClassLayer:
        """How the check of the layer `key` (`layer`, a copy of it) calls it: as its convention
        says, or with the arrays the network passed it besides its input (`given`), each checked
        like a parameter against what backward returns for it (`Affine.backward` -> dx, dW, db):
        called with its input alone it would raise, for a fault of the check, not of the code."""
        from backprop_doctor.conventions.recurrent import MultiInput

        given = self.given.get(key)
        if not given:
            return ClassLayer(layer, train=self.train)
        return MultiInput(layer, {name: array.copy() for name, array in given.items()}, 1, train=self.train)

    def predict_layers(self) -> list[tuple[str, Any]]:
        last = self.last_layer()
        return [(k, v) for k, v in self.layers() if last is None or v is not last[1]]


def _attribute_parameters(net: Any) -> dict[str, np.ndarray]:
    """Float arrays the network holds under parameter names (`self.W1`, `self.b2`)."""
    from backprop_doctor.static.updates import _PARAM_NAME

    return {k: v for k, v in vars(net).items() if is_float_array(v) and _PARAM_NAME.fullmatch(k) and k not in ("params", "param")}


def _network_list_names(net: Any) -> list[str]:
    """Names for a DLFS-2 network's params list: `layer.param` where the array is a layer's."""
    names = []
    owners: dict[int, str] = {}
    for key, layer in Network.layers.__get__(_Shell(net))():
        for i, p in enumerate(listed_arrays(layer)):
            if isinstance(p, np.ndarray):
                owners.setdefault(id(p), f"{key}.{dlfs2_names(layer)[i] if i < len(dlfs2_names(layer)) else i}")
    for i, p in enumerate(net.params):
        names.append(owners.get(id(p), f"params[{i}]"))
    return names


def _first_entries(names: list[str], params: list[Any], *, keep: bool = False) -> list[tuple[str, Any]]:
    """(name, array) for each entry of a params list, an array listed again named as its first
    entry (and left out unless `keep`)."""
    first: dict[int, str] = {}
    out = []
    for name, p in zip(names, params):
        if id(p) not in first or keep:
            out.append((first.setdefault(id(p), name), p))
    return out


def _wrap_call(obj: Any, name: str, note: Any, seen: Any = None, around: Any = None) -> bool:
    """Wrap the method `name` of `obj` by an attribute of the instance that calls `note()` (when given) and
    then the method, through `around(method, args, kwargs)` when given (and `seen(args, result)`
    after it, when given); False (nothing wrapped) where it is not a method of its class, or the
    instance has an attribute of that name already, or takes none."""
    method = getattr(obj, name, None)
    if not callable(method) or not callable(getattr(type(obj), name, None)) or name in getattr(obj, "__dict__", {name: None}):
        return False

    def call(*args: Any, **kwargs: Any) -> Any:
        if note is not None:
            note()
        result = method(*args, **kwargs) if around is None else around(method, args, kwargs)
        if seen is not None:
            seen(args, result)
        return result

    try:
        setattr(obj, name, call)
    except Exception:  # noqa: BLE001 - __slots__, a read-only property, a __setattr__ of its own
        return False
    return True


class _FirstLayer:
    """What a network's first layer did during one `gradient` call: whether each forward took
    the network's input itself, and what each backward was given and returned. Its dx is the
    gradient of the loss with respect to that input (`gradient()`) when it ran forward once, on
    the input, and backward once, and returned an array of the input's shape and dtype: a
    network that uses its input anywhere else gets a dx that disagrees with the loss, and the
    check that reads it (`engine.LayerCheck.input_error`) falls back to the one it makes
    without it.

    An upstream gradient whose rows all sum to zero (a softmax-with-loss right after the first
    layer) never shows an error of dx along those sums, which the layer's own check, with an
    upstream gradient of its own, finds: such a dx is not taken either."""

    def __init__(self, x: Any):
        self.x = x
        self.inputs: list[bool] = []  # per forward: its first argument was the network's input
        self.returned: list[Any] = []  # per backward: what it returned
        self.balanced = False  # some backward's upstream gradient had rows that sum to zero

    def forward(self, args: tuple, result: Any) -> None:
        self.inputs.append(bool(args) and args[0] is self.x)

    def backward(self, args: tuple, result: Any) -> None:
        self.returned.append(result)
        dout = args[0] if args else None
        if isinstance(dout, np.ndarray) and dout.ndim >= 2 and dout.dtype.kind == "f" and not self.balanced:
            self.balanced = (dout.size == 0 or _balanced_row(dout[(0,) * (dout.ndim - 1)])) and _balanced(dout)

    def gradient(self) -> np.ndarray | None:
        """The first layer's dx, or None where it is not the input's gradient. It is not copied:
        a layer that writes into an array it returned makes the check that reads it fail and
        fall back, at a cost, never pass in its place."""
        x = self.x
        if self.inputs != [True] or len(self.returned) != 1 or self.balanced or not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            return None
        dx = self.returned[0]
        if not isinstance(dx, np.ndarray) or dx.shape != x.shape or dx.dtype != x.dtype:
            return None
        return dx


class LayerCalls:
    """The contracts a network's layers' own checks test on their first forward and backward,
    read instead from the one forward and one backward of each layer that the network's
    `gradient` call makes (`Network.reader`), so that a clean network's layers need no calls of
    their own (`api._network_first`).

    While that call runs, each forward gets its input read-only until the layer's backward has
    run, as its own check hands it over (a write into it raises: `input-mutated`); each backward
    gets its upstream gradient read-only (`upstream-grad-mutated`) and runs under a
    `carryover.Watch` (anything a second call could read: `nonreentrant-backward`), or, for a
    small layer, is called a second time with the dout it was first given, as its own check calls
    it (`_again`); a loss layer's backward is called again with 2.0 and then as the network called
    it (`upstream-grad-ignored`, a note the caller makes as the layer's own check makes it). A
    small layer whose backward writes into its dout (the book's Relu) is called again with it
    writable and marked for its own check, which the caller makes whole, as the layer-by-layer
    check makes it (`own_check`). `fine` turns False at anything else a layer's own check could
    report, or could see otherwise than this call does: a method called twice or with other
    arguments than the check passes, a draw from NumPy's or Python's global random stream, an
    output that is not one finite float64 array (a number for the loss layer), a dx not of its
    input's shape and dtype, a parameter's gradient missing or not of its shape and dtype,
    anything else that raised. The caller then checks every layer on its own, as it would have."""

    def __init__(self, layers: list[tuple[str, Any]], t: Any, train: bool, adapters: dict[int, ClassLayer] | None = None):
        """`adapters`: each layer's `ClassLayer` by its id, built already (with `train`, from the
        layers as they are now), where the caller has them."""
        self.t = t
        self.fine = True
        built = adapters or {}
        self.calls = {id(layer): _LayerCall(built.get(id(layer)) or ClassLayer(layer, train=train)) for _, layer in layers}

    @staticmethod
    def plain(adapter: ClassLayer) -> bool:
        """Whether a layer's own check calls it as a network's code does: `forward(x)` (`forward(x,
        t)`) returning its output and `backward(dout)` returning dx, gradients in attributes."""
        m = adapter.methods
        return not (
            adapter.dlfs2
            or m.output
            or m.dx
            or m.learning_rate
            or m.backward_gets_prediction
            or m.mean_of_forward
            or m.backward_gets_inputs
        )

    def forward(self, layer: Any, method: Any, args: tuple, kwargs: dict) -> Any:
        """The layer's forward, as the network called it, read (`_forward`)."""
        try:
            return self._forward(layer, method, args, kwargs)
        except BaseException:
            self.fine = False  # whatever raised, the layer's own check is left to say
            raise

    def backward(self, layer: Any, method: Any, args: tuple, kwargs: dict) -> Any:
        """The layer's backward, as the network called it, read (`_backward`)."""
        try:
            return self._backward(layer, method, args, kwargs)
        except BaseException:
            self.fine = False
            raise

    def _forward(self, layer: Any, method: Any, args: tuple, kwargs: dict) -> Any:
        call = self.calls[id(layer)]
        adapter = call.adapter
        call.forwards += 1
        call.before = adapter.attribute_ids()
        given = args[0] if args else None
        if (
            call.forwards > 1
            or len(args) != (2 if adapter.is_loss else 1)
            or (adapter.is_loss and args[1] is not self.t)
            or kwargs != train_kwargs(method, adapter.train)
            or not (isinstance(given, np.ndarray) and given.dtype == np.float64)
        ):
            self.fine = False
        drawn = streams(type(layer))
        call.frozen = _freeze(given)  # until its backward has run, as its own check hands it over
        out = method(*args, **kwargs)
        call.input, call.output = given, out
        if isinstance(given, np.ndarray) and given.size < WATCHED_SIZE:
            call.kept = given.copy()  # for its own check, should it need one (`own_check`)
        if streams(type(layer)) != drawn or not _finite(out, adapter.is_loss):
            self.fine = False
        return out

    def _backward(self, layer: Any, method: Any, args: tuple, kwargs: dict) -> Any:
        call = self.calls[id(layer)]
        adapter = call.adapter
        call.backwards += 1
        if call.backwards > 1 or call.forwards != 1 or kwargs or len(args) != (1 if adapter.dout_is_input and not adapter.methods.local_derivative else 0):
            self.fine = False
        watch = Watch(layer, own=frozenset((adapter.methods.forward, adapter.methods.backward)))
        dout = args[0] if args else None
        # a small layer is called again, as its own check calls it, with the dout it was first given
        fresh = dout.copy() if not watch.worth and isinstance(dout, np.ndarray) else None
        frozen = _freeze(dout)
        try:
            try:
                if watch.worth:
                    with watch:
                        dx = method(*args, **kwargs)
                else:
                    dx = method(*args, **kwargs)
            except ValueError as error:
                if watch.worth or frozen is None or "read-only" not in str(error):
                    raise
                # a small layer that writes into its dout (the book's Relu): its own check reports
                # it and is then made whole (`own_check`); the network's call goes on as written
                _thaw(frozen)
                frozen, call.own_check = None, True
                dx = method(*args, **kwargs)
            call.names = self._arrays(call, layer, dx)
            uses_dout = adapter.is_loss and adapter.dout_is_input
            if not watch.worth and self.fine and not uses_dout:  # a loss layer's second call: `_uses_dout`
                dx = self._again(call, layer, method, args if fresh is None else (fresh,), kwargs, dx)
        finally:
            _thaw(frozen)
            _thaw(call.frozen)
            call.frozen = None
        if watch.worth and watch.carries():
            self.fine = False
        if uses_dout and self.fine:
            dx = self._uses_dout(call, layer, method, args if fresh is None else (fresh,), dx, again=not watch.worth)
        return dx

    def _again(self, call: _LayerCall, layer: Any, method: Any, args: tuple, kwargs: dict, dx: Any) -> Any:
        """A small layer's backward (or one the watch cannot see into) called a second time with
        the same dout, as its own check calls it where a watch would cost more: the same dx and
        gradients, or the reading is unfit. The second call's dx, which the network gets."""
        first = _Results(call, layer, dx)
        again = method(*args, **kwargs)
        if not first.again(again):
            self.fine = False
        return again

    def _arrays(self, call: _LayerCall, layer: Any, dx: Any) -> list[str]:
        """The arrays the layer's own check would compare (`x` and its parameters, as
        `ClassLayer.discover_params` finds them), each with a gradient of its shape and dtype."""
        x = call.input
        if not (isinstance(dx, np.ndarray) and isinstance(x, np.ndarray) and dx.shape == x.shape and dx.dtype == x.dtype):
            self.fine = False
            return []
        adapter = call.adapter
        adapter.discover_params(call.before or {})
        names = ["x"]
        for name, live in adapter.layer_params().items():
            g = adapter.kept_gradient(name)
            if not (isinstance(g, np.ndarray) and g.shape == live.shape and g.dtype == live.dtype == np.float64):
                self.fine = False
            names.append(name)
        return names

    def _uses_dout(self, call: _LayerCall, layer: Any, method: Any, args: tuple, dx: Any, again: bool) -> Any:
        """A loss layer's backward called with 2.0: the dx it gave the network, whose upstream
        gradient is 1, says it ignores its dout (`dout_ignored`, a note its own check makes too);
        the layer is then called as the network called it, which leaves it as after that call.
        With `again` (a layer the watch did not see) that last call is its second, as `_again`
        makes it: the same dx and gradients as the first, or the reading is unfit. The dx the
        network gets: the last call's, with `again`."""
        from backprop_doctor.contracts import ignores_dout

        first = _Results(call, layer, dx, gradients=again)
        try:
            at_two = method(2.0)
            last = method(*args)
        except Exception:  # noqa: BLE001 - user code: its own check reports it
            self.fine = False
            return dx
        if not isinstance(at_two, np.ndarray):
            self.fine = False
        call.dout_ignored = ignores_dout(at_two, np.asarray(first.values[0], dtype=np.float64))
        if not again:
            return dx
        if not first.again(last):
            self.fine = False
        return last

    def release(self) -> None:
        """Every input still read-only (a layer whose backward did not run) writable again."""
        for call in self.calls.values():
            _thaw(call.frozen)
            call.frozen = None

    def settles(self, layers: list[tuple[str, Any]], parameter_ids: set[int]) -> bool:
        """Whether the call read every layer as its own check would, found nothing it would
        report, and fed each layer after the first the previous one's output, as the layers'
        checks are fed (`Network.layer_inputs`; the first layer's dx is compared only where it
        had the network's input itself, `_FirstLayer`); each layer's parameters are the
        network's, so its gradients are the ones the network's check compared."""
        fed = None
        for index, (_, layer) in enumerate(layers):
            call = self.calls[id(layer)]
            if call.forwards != 1 or call.backwards != 1 or (index > 0 and call.input is not fed) or not call.names:
                return False
            if any(id(live) not in parameter_ids for live in call.adapter.layer_params().values()):
                return False
            fed = call.output
        return self.fine


class _Results:
    """A layer's dx and its gradient attributes after one backward, copied (`gradients` False: the dx
    alone), for `again`: whether a later call of the same backward gave the same values."""

    def __init__(self, call: _LayerCall, layer: Any, dx: Any, gradients: bool = True):
        adapter = call.adapter
        self.layer = layer
        self.adapter = adapter
        self.names = list(adapter.layer_params()) if gradients else []
        self.values = [np.array(dx), *(np.array(adapter.kept_gradient(name)) for name in self.names)]

    def again(self, dx: Any) -> bool:
        second = [dx, *(self.adapter.kept_gradient(name) for name in self.names)]
        return all(isinstance(b, np.ndarray) and identical(a, b) for a, b in zip(self.values, second))


@dataclass
class _LayerCall:
    """One layer's calls in a network's `gradient` call, as `LayerCalls` read them."""

    adapter: ClassLayer
    forwards: int = 0
    backwards: int = 0
    before: dict[str, int] | None = None  # the ids of its attributes before its forward
    input: Any = None
    output: Any = None
    names: list[str] = field(default_factory=list)  # the arrays its own check would compare
    dout_ignored: bool = False  # a loss layer whose backward ignores its dout (`LayerCalls._uses_dout`)
    # its backward wrote into its dout: its own check is to be made, whole (`api._network_first`)
    own_check: bool = False
    kept: np.ndarray | None = None  # a copy of a small input, for that check
    frozen: np.ndarray | None = None  # its input, read-only from its forward until its backward has run


def _freeze(a: Any) -> np.ndarray | None:
    """`a` made read-only, when it is a writable array (returned, to be made writable again by
    `_thaw`); else None."""
    if isinstance(a, np.ndarray) and a.flags.writeable:
        a.flags.writeable = False
        return a
    return None


def _thaw(a: np.ndarray | None) -> None:
    if a is not None:
        try:
            a.flags.writeable = True
        except ValueError:  # a view whose base was made read-only meanwhile
            pass


def _balanced(dout: np.ndarray) -> bool:
    """Whether every row of `dout` sums to zero, to 1e-8 of the sum of its magnitudes (the first
    row alone, asked first, settles most upstream gradients at a fraction of the cost)."""
    return bool(np.all(np.abs(dout.sum(axis=-1)) <= 1e-8 * np.abs(dout).sum(axis=-1)))


def _balanced_row(row: np.ndarray) -> bool:
    """`_balanced` of one row, as two sums (a twentieth of a row's cost in NumPy's calls)."""
    return bool(abs(row.sum()) <= 1e-8 * np.abs(row).sum())


def _all_finite(a: np.ndarray) -> bool:
    """Whether every element of a float array is finite: a finite sum says so (a NaN or an infinity
    makes it neither) at half the cost of `isfinite`; a sum that is not finite is looked into."""
    return math.isfinite(np.add.reduce(a, axis=None)) or bool(np.isfinite(a).all())  # `a.sum()`, one call less


def _finite(out: Any, is_loss: bool) -> bool:
    """A layer's output as its own check accepts it without a finding: one finite float64
    array (a finite number, for a loss layer)."""
    if is_loss:
        if isinstance(out, float):  # a Python float, or NumPy's float64
            return math.isfinite(out)
        return isinstance(out, (np.floating, np.ndarray)) and np.size(out) == 1 and bool(np.isfinite(out).all())
    return isinstance(out, np.ndarray) and out.dtype == np.float64 and _all_finite(out)


def _in_order(params: dict[str, np.ndarray], grads: tuple[Any, ...] | list[Any]) -> dict[str, Any] | None:
    """A gradient returned as a tuple, one array per parameter in the order the network binds them,
    as a dict; None when the count or any shape disagrees."""
    if len(grads) != len(params):
        return None
    paired = dict(zip(params, grads))
    return paired if all(np.shape(g) == np.shape(params[k]) for k, g in paired.items()) else None


def _returned_loss(returned: Any) -> Any:
    """The loss a `gradient(x, t)` returns beside its dict of gradients (`return loss, grads`): the one
    number of the tuple; None for anything else."""
    if not isinstance(returned, tuple) or sum(isinstance(r, dict) for r in returned) != 1:
        return None
    numbers = [r for r in returned if isinstance(r, (int, float, np.floating)) and not isinstance(r, bool) or (isinstance(r, np.ndarray) and r.size == 1 and r.dtype.kind == "f")]
    return numbers[0] if len(numbers) == 1 else None


class _LossSeen:
    """While a network's `gradient(x, t)` runs, the value of its first call of its own `loss`,
    when that call is the one `Network.loss` would make: the same `x` and `t` objects and the
    same training flag (`value`; None otherwise). The network's `loss` is wrapped by an
    attribute of the instance for the length of the call, and the wrapper removed afterwards;
    a network that has an instance attribute `loss` already, or takes none, is left alone."""

    def __init__(self, network: Network, x: Any, t: Any):
        self.net, self.x, self.t = network.net, x, t
        self.value: Any = None
        method = getattr(type(self.net), "loss", None)
        self.method = getattr(self.net, "loss", None) if callable(method) else None
        self.flags = train_kwargs(self.method, network.train) if self.method is not None else {}
        self.installed = False

    def __enter__(self) -> _LossSeen:
        if self.method is None or "loss" in getattr(self.net, "__dict__", {"loss": None}):
            return self
        calls = 0

        def loss(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            value = self.method(*args, **kwargs)
            if calls == 1 and len(args) == 2 and args[0] is self.x and args[1] is self.t and kwargs == self.flags:
                self.value = loss_of_pair(value, self.x)
            return value

        try:
            self.net.loss = loss
        except (AttributeError, TypeError):  # __slots__, a read-only property
            return self
        self.installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.installed:
            vars(self.net).pop("loss", None)


class _Shell:
    """Lets `Network.layers` run on an object without validating it as a network."""

    def __init__(self, net: Any):
        self.net = net


def _integral(x: Any) -> bool:
    """A float array of whole non-negative numbers: integer ids in a float copy."""
    return isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.size > 0 and bool(np.all((x >= 0) & (x == np.round(x))))


class NetworkAdapter(Adapter):
    """A whole network seen as one loss layer: forward is `loss(x, t)`, backward is `gradient(x, t)`."""

    def __init__(self, network: Network):
        super().__init__(name=network.name, kind="network", target=network.target, is_loss=True, train=network.train)
        self.network = network
        self.dout_is_input = False  # gradient(x, t) takes no upstream gradient
        self._inputs: tuple[Any, Any] | None = None
        self._ids = False  # the network takes word ids: its float input is cast back to integers
        self._pending: dict[str, Any] | None = None  # gradients `first_forward` took, for the next backward
        self._input_gradient: np.ndarray | None = None  # the first layer's dx from that same call

    def params(self) -> dict[str, np.ndarray]:
        return self.network.params()

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        if self._ids:
            x = x.astype(np.int64)
        self._inputs = (x.copy() if x.flags.writeable else x, t)  # a read-only x (the engine's own) needs no copy
        try:
            return self.network.loss(x, t)
        except IndexError as error:
            if self._ids or not _integral(x) or "integer" not in str(error):
                raise
        # Word ids that reached the check as a float copy (the network's input is never
        # perturbed: backward gives no dx). A language model looks rows up with them.
        self._ids = True
        return self.forward(x, t)

    def first_forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        """`forward` for the engine's first call, which a `backward` follows at the same point:
        the network's `gradient` runs now and its own loss is the value returned (one loss
        evaluation fewer per check); the next `backward` returns these gradients. Where that
        loss cannot be told (`_LossSeen`: a `gradient` that computes its forward inline), `loss`
        runs after `gradient`, the gradients kept as copies. A gradient that raises leaves the
        plain calls, `loss` now and `gradient` in `backward`, which reports it as before.

        The caller seeded NumPy's global RNG, as before any forward; `backward` seeds it before
        `gradient` the same way, so the dropout masks are the same either way."""
        self._pending = self._input_gradient = None
        if self._ids:
            return self.forward(x, t)
        self._inputs = (x.copy() if x.flags.writeable else x, t)
        try:
            loss, grads = self.network.loss_and_gradient(x.copy() if x.flags.writeable else x, t)
        except Exception:  # noqa: BLE001 - user code: the plain calls report it
            np.random.seed(FORWARD_SEED)
            return self.forward(x, t)
        if loss is None:
            loss = self._loss_after(x, t, grads)
            if loss is None:  # the loss wrote into the gradients: the plain calls
                np.random.seed(FORWARD_SEED)
                return self.forward(x, t)
        self._pending, self._input_gradient = grads, self.network.input_gradient
        return loss

    def input_gradient(self) -> np.ndarray | None:
        """The gradient of the loss with respect to the network's input, as the first layer's
        backward returned it in the `gradient` call `first_forward` made (`Network.input_gradient`);
        None where that is not known."""
        return self._input_gradient

    def _loss_after(self, x: np.ndarray, t: Any, grads: dict[str, Any]) -> Any:
        """The loss, computed after `gradient` with its gradient arrays read-only (they are the
        ones checked; copies would hide arrays that existed before the call, `_carries_state`);
        None when the loss writes into one of them."""
        frozen = [g for g in grads.values() if isinstance(g, np.ndarray) and g.flags.writeable]
        for g in frozen:
            g.flags.writeable = False
        try:
            np.random.seed(FORWARD_SEED)
            return self.forward(x, t)
        except ValueError as error:
            if "read-only" not in str(error):
                raise
            return None
        finally:
            for g in frozen:
                g.flags.writeable = True

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._inputs is not None, "forward first"
        if self._pending is not None:
            grads, self._pending = self._pending, None
            return None, grads
        x, t = self._inputs
        np.random.seed(FORWARD_SEED)  # gradient() runs its own forward: the same dropout masks
        return None, self.network.gradient(x.copy() if x.flags.writeable else x, t)

    def backward_target(self) -> Any:
        cls = type(self.network.net)
        return getattr(cls, self.network.gradient_name, None) or getattr(cls, "backward", cls)

    def forward_target(self) -> Any:
        cls = type(self.network.net)
        return getattr(cls, "loss", None) or getattr(cls, "forward", cls)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return (f"grads['{param}']", f'grads["{param}"]', "grads")

    def rebound_gradient(self, param: str) -> tuple[Any, int] | None:
        """For a DLFS-2 network: the layer (and index i) whose `grads[i]` is no longer the array
        the network's `grads` list holds for this parameter, because backward rebound it."""
        if self.network.style != "list":
            return None
        array = self.params().get(param)
        net_params, net_grads = self.network.net.params, self.network.net.grads
        k = next((j for j, p in enumerate(net_params) if p is array), None)
        if k is None or k >= len(net_grads):
            return None
        for _, layer in self.network.layers():
            for i, p in enumerate(listed_arrays(layer)):
                grads = getattr(layer, "grads", None) or []
                if p is array and i < len(grads) and grads[i] is not net_grads[k]:
                    return layer, i
        return None
