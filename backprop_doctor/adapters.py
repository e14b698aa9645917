"""One calling convention for every shape of hand-written layer.

The engine only ever calls `forward(x, t)`, `backward(dout)` and `params()`
on an adapter. The adapters translate that into:

* book-style class layers: `forward(x[, train_flg])`, `backward(dout)`,
  gradients stored as attributes (`W` → `dW`, `gamma` → `dgamma`, ...);
* loss layers: `forward(x, t)` → scalar, `backward(dout=1)`;
* DLFS-2 layers: `self.params` / `self.grads` lists filled with `grads[i][...] = ...`;
* cs231n function pairs: `name_forward(x, *params[, param_dict]) -> (out, cache)`
  and `name_backward(dout, cache) -> (dx, dparam...)`, and loss functions
  `softmax_loss(x, y) -> (loss, dx)`;
* networks: `params` dict or list, `loss(x, t)` with `gradient(x, t)`, or
  DLFS-2 `forward(x, t)` with `backward()` and `grads`.

Adapters always work on isolated copies promoted to float64 (see `isolated`),
so nothing the user owns is touched.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# NumPy's global RNG is reseeded with this before every forward evaluation, so a layer
# that draws (dropout) sees the same numbers in each one.
FORWARD_SEED = 12345
TRAIN_FLAGS = ("train_flg", "train_flag", "train", "training", "is_training", "train_mode")
GRAD_NAMES = ("d{}", "grad_{}", "{}_grad", "d_{}", "{}grad")
LAST_LAYER_NAMES = ("lastLayer", "last_layer", "loss_layer", "lossLayer", "last", "loss_fn")


def is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


# --------------------------------------------------------------------------- isolation


def _walk(obj: Any, visit: Callable[[Any], Any], memo: dict[int, Any], depth: int = 0) -> Any:
    """Rebuild references to arrays inside `obj` in place via `visit`, sharing preserved."""
    if depth > 6 or id(obj) in memo:
        return memo.get(id(obj), obj)
    if isinstance(obj, np.ndarray):
        memo[id(obj)] = new = visit(obj)
        return new
    memo[id(obj)] = obj
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            obj[k] = _walk(v, visit, memo, depth + 1)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            obj[i] = _walk(v, visit, memo, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not inspect.ismodule(obj) and not callable(obj):
        for k, v in list(vars(obj).items()):
            new = _walk(v, visit, memo, depth + 1)
            if new is not v:
                setattr(obj, k, new)
    return obj


def promote_to_float64(obj: Any) -> set[str]:
    """Replace float arrays inside `obj` by float64 ones (shared arrays stay shared).

    Returns the set of float dtypes that were found.
    """
    dtypes: set[str] = set()

    def visit(a: np.ndarray) -> np.ndarray:
        if a.dtype.kind != "f":
            return a
        dtypes.add(str(a.dtype))
        return a if a.dtype == np.float64 else a.astype(np.float64)

    _walk(obj, visit, {})
    return dtypes


class _Snapshot:
    """Saves every array and attribute binding reachable from an object, to restore later."""

    def __init__(self, obj: Any):
        self.arrays: list[tuple[np.ndarray, np.ndarray]] = []
        self.bindings: list[tuple[Any, dict | list]] = []
        self._save(obj, set(), 0)

    def _save(self, obj: Any, seen: set[int], depth: int) -> None:
        if depth > 6 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            self.arrays.append((obj, obj.copy()))
            return
        if isinstance(obj, dict):
            self.bindings.append((obj, dict(obj)))
            children = list(obj.values())
        elif isinstance(obj, list):
            self.bindings.append((obj, list(obj)))
            children = list(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not inspect.ismodule(obj):
            self.bindings.append((obj, dict(vars(obj))))
            children = list(vars(obj).values())
        else:
            return
        for child in children:
            self._save(child, seen, depth + 1)

    def restore(self) -> None:
        for target, saved in self.bindings:
            if isinstance(target, dict):
                target.clear()
                target.update(saved)
            elif isinstance(target, list):
                target[:] = saved
            else:
                vars(target).clear()
                vars(target).update(saved)
        for array, saved in self.arrays:
            if array.flags.writeable and array.shape == saved.shape:
                np.copyto(array, saved, casting="unsafe")


@contextlib.contextmanager
def isolated(obj: Any) -> Iterator[tuple[Any, set[str]]]:
    """Yield a float64 working copy of `obj` and the float dtypes it had.

    A deep copy when the object allows it; otherwise the object itself, with every
    reachable array and attribute restored bit-identically on exit, even after an error.
    """
    try:
        work = copy.deepcopy(obj)
    except Exception:
        work = None
    if work is not None:
        yield work, promote_to_float64(work)
        return
    snapshot = _Snapshot(obj)
    try:
        yield obj, promote_to_float64(obj)
    finally:
        snapshot.restore()


# --------------------------------------------------------------------------- helpers


def _parameters(func: Callable) -> dict[str, inspect.Parameter]:
    target = getattr(func, "__func__", func)  # bound methods: cache on the function
    try:
        return _signature_parameters(target)
    except TypeError:  # unhashable callable
        return _signature_parameters.__wrapped__(target)


@functools.lru_cache(maxsize=1024)
def _signature_parameters(func: Callable) -> dict[str, inspect.Parameter]:
    try:
        params = dict(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return {}
    if inspect.isfunction(func) and params and next(iter(params)) in ("self", "cls"):
        params.pop(next(iter(params)))  # looked up on the function: drop the bound argument
    return params


def _train_kwargs(func: Callable, train: bool) -> dict[str, Any]:
    params = _parameters(func)
    for name in TRAIN_FLAGS:
        if name in params:
            return {name: train}
    return {}


def _required_positional(func: Callable) -> list[str]:
    return [
        p.name
        for p in _parameters(func).values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]


def source_of(obj: Any) -> tuple[str | None, int | None]:
    """File and first line of a class, function or method, when Python knows them."""
    target = obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)
    target = inspect.unwrap(target) if inspect.isroutine(target) else target
    try:
        file = inspect.getsourcefile(target)
        _, line = inspect.getsourcelines(target)
        return file, line
    except (TypeError, OSError):
        return None, None


def is_loss_layer(obj: Any) -> bool:
    forward = getattr(obj, "forward", None)
    return callable(forward) and len(_required_positional(forward)) >= 2


# --------------------------------------------------------------------------- adapters


@dataclass
class Adapter:
    """What the engine needs from anything with a forward and a backward."""

    name: str
    kind: str
    target: Any  # the user's class or function, for finding source lines
    is_loss: bool = False
    train: bool = True
    dout_is_input: bool = True  # backward receives the upstream gradient
    notes: list[str] = field(default_factory=list)

    def params(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        raise NotImplementedError

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        raise NotImplementedError

    def backward_target(self) -> Any:
        """The function whose code computes the gradients (for pointing at lines)."""
        return self.target

    def grad_targets(self, param: str) -> tuple[str, ...]:
        """Assignment targets in `backward_target()` that compute the gradient of `param`."""
        return (f"d{param}", param)

    def forward_target(self) -> Any:
        return self.target


class ClassLayer(Adapter):
    """A book-style layer object (also loss layers and DLFS-2 layers)."""

    def __init__(self, layer: Any, name: str | None = None, *, train: bool = True):
        cls = type(layer)
        super().__init__(
            name=name or cls.__name__, kind="layer", target=cls, is_loss=is_loss_layer(layer), train=train
        )
        self.layer = layer
        self._params: dict[str, np.ndarray] | None = None
        self._grad_names: dict[str, str] = {}
        self._dlfs2 = _is_array_list(getattr(layer, "params", None)) and isinstance(getattr(layer, "grads", None), list)
        if self._dlfs2:
            self.kind = "dlfs2-layer"
        elif self.is_loss:
            self.kind = "loss-layer"
        backward = getattr(layer, "backward", None)
        self.dout_is_input = bool(backward) and bool(_parameters(backward))

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        forward = self.layer.forward
        kwargs = _train_kwargs(forward, self.train)
        if self.is_loss:
            return forward(x, t, **kwargs)
        return forward(x, **kwargs)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        backward = self.layer.backward
        dx = backward(dout) if self.dout_is_input else backward()
        if isinstance(dx, tuple) and dx and isinstance(dx[0], np.ndarray):
            dx = dx[0]  # `return dx, None` (or a two-input layer's (dx, dy)): the input gradient comes first
        if self._dlfs2:
            grads = {name: self.layer.grads[i] if i < len(self.layer.grads) else None for i, name in enumerate(self.params())}
        else:
            grads = {name: getattr(self.layer, self._grad_names[name], None) for name in self.params()}
        return dx, grads

    def discover_params(self, forward_before: dict[str, int]) -> None:
        """Decide which attributes are parameters, after one forward and backward.

        A parameter is a float array the forward pass did not rebind (`forward_before`
        maps attribute names to ids before the forward) with a gradient attribute.
        """
        layer = self.layer
        if self._dlfs2:
            names = dlfs2_names(layer)
            self._params = {name: p for name, p in zip(names, layer.params) if is_float_array(p)}
            return
        params: dict[str, np.ndarray] = {}
        for attr, value in vars(layer).items():
            if not is_float_array(value) or forward_before.get(attr) != id(value):
                continue
            for pattern in GRAD_NAMES:
                grad_name = pattern.format(attr)
                if grad_name != attr and _is_gradient_like(getattr(layer, grad_name, None)):
                    params[attr] = value
                    self._grad_names[attr] = grad_name
                    break
        self._params = params

    def gradient_snapshot(self) -> dict[str, Any]:
        """Copies of every array attribute (and of the DLFS-2 `grads` list) as they are now."""
        snap: dict[str, Any] = {k: np.array(v, copy=True) for k, v in vars(self.layer).items() if _is_gradient_like(v)}
        if self._dlfs2:
            snap["grads"] = [np.array(g, copy=True) if isinstance(g, np.ndarray) else g for g in self.layer.grads]
        return snap

    def gradients_from(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """The parameters' gradients as they were in `snapshot`."""
        if self._dlfs2:
            grads = snapshot.get("grads", [])
            return {name: grads[i] if i < len(grads) else None for i, name in enumerate(self.params())}
        return {name: snapshot.get(self._grad_names[name]) for name in self.params()}

    def grad_attribute(self, param: str) -> str:
        if self._dlfs2:
            return f"grads[{list(self.params()).index(param)}]"
        return self._grad_names.get(param, f"d{param}")

    def grad_targets(self, param: str) -> tuple[str, ...]:
        attr = self.grad_attribute(param)
        return (f"self.{attr}", attr) if attr.startswith("grads[") else (f"self.{attr}",)

    def params(self) -> dict[str, np.ndarray]:
        return self._params or {}

    def attribute_ids(self) -> dict[str, int]:
        return {k: id(v) for k, v in vars(self.layer).items()}

    def backward_target(self) -> Any:
        return getattr(type(self.layer), "backward", self.target)

    def forward_target(self) -> Any:
        return getattr(type(self.layer), "forward", self.target)


def _is_gradient_like(value: Any) -> bool:
    """An array, or a NumPy scalar (the gradient of a 0-d parameter such as a learned scale)."""
    return isinstance(value, (np.ndarray, np.floating))


def _is_array_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(p, np.ndarray) for p in value)


def dlfs2_names(layer: Any) -> list[str]:
    """Names for the entries of a DLFS-2 `params` list: the constructor's argument
    names when they match in number (`Affine(W, b)` → W, b), else `params[i]`."""
    n = len(layer.params)
    init_args = [p for p in _parameters(type(layer).__init__) if p != "self"]
    arrays = [a for a in init_args if a not in TRAIN_FLAGS][:n]
    if len(arrays) == n and all(a.isidentifier() for a in arrays):
        return arrays
    return [f"params[{i}]" for i in range(n)]


class FunctionPair(Adapter):
    """A cs231n pair `name_forward(x, *params[, config]) -> (out, cache)` / `name_backward`."""

    def __init__(
        self,
        forward: Callable,
        backward: Callable,
        params: dict[str, np.ndarray],
        config: tuple[Any, ...] = (),
        name: str | None = None,
    ):
        base = forward.__name__.removesuffix("_forward").removesuffix("_forward_naive").removesuffix("_forward_fast")
        super().__init__(name=name or base, kind="function-pair", target=forward)
        self._forward, self._backward = forward, backward
        self._params = params
        self._config = config  # non-array trailing arguments, e.g. conv_param; copied per call
        self._cache: Any = None

    def params(self) -> dict[str, np.ndarray]:
        return self._params

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        config = copy.deepcopy(self._config)
        out, self._cache = self._forward(x, *self._params.values(), *config)
        return out

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        result = self._backward(dout, self._cache)
        grads = list(result) if isinstance(result, tuple) else [result]
        dx = grads[0] if grads else None
        return dx, {name: grads[i + 1] if i + 1 < len(grads) else None for i, name in enumerate(self._params)}

    def backward_target(self) -> Any:
        return self._backward


class LossFunction(Adapter):
    """A cs231n loss `softmax_loss(x, y) -> (loss, dx)`; it has no dout to honour."""

    def __init__(self, func: Callable, name: str | None = None):
        super().__init__(name=name or func.__name__, kind="loss-function", target=func, is_loss=True)
        self._func = func
        self._dx: np.ndarray | None = None
        self.dout_is_input = False

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        loss, self._dx = self._func(x, t)
        return loss

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return (None if self._dx is None else self._dx * dout), {}


# --------------------------------------------------------------------------- networks


class Network:
    """A whole network: its parameters, its loss, its analytic gradient, its layers."""

    def __init__(self, net: Any, name: str | None = None, *, train: bool = True):
        self.net = net
        self.name = name or type(net).__name__
        self.train = train
        params = getattr(net, "params", None)
        if isinstance(params, dict):
            self.style = "dict"
        elif _is_array_list(params):
            self.style = "list"
        else:
            raise TypeError(f"{self.name} has no `params` dict or list of arrays")
        if self.style == "dict" and not callable(getattr(net, "gradient", None)):
            raise TypeError(f"{self.name} has a params dict but no gradient(x, t) method")
        if self.style == "list" and not (callable(getattr(net, "backward", None)) and isinstance(getattr(net, "grads", None), list)):
            raise TypeError(f"{self.name} has a params list but no backward() and grads list")

    @property
    def target(self) -> Any:
        return type(self.net)

    def params(self) -> dict[str, np.ndarray]:
        params = self.net.params
        if self.style == "dict":
            return {k: v for k, v in params.items() if is_float_array(v)}
        names = _network_list_names(self.net)
        return {name: p for name, p in zip(names, params) if is_float_array(p)}

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        method = self.net.loss if self.style == "dict" or not callable(getattr(self.net, "forward", None)) else self.net.forward
        return method(x, t, **_train_kwargs(method, self.train))

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, Any]:
        if self.style == "dict":
            grads = self.net.gradient(x, t)
            return dict(grads) if isinstance(grads, dict) else {}
        self.loss(x, t)
        backward = self.net.backward
        self.net.backward(1) if _parameters(backward) else self.net.backward()
        names = list(self.params())
        return {name: g for name, g in zip(names, self.net.grads)}

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
        quietly at a layer that raises, which the layer's own check reports.
        """
        last = self.last_layer()
        activation = np.array(x, dtype=np.float64) if np.asarray(x).dtype.kind == "f" else np.asarray(x)
        for key, layer in self.layers():
            is_loss = last is not None and layer is last[1]
            yield key, layer, activation.copy(), (t if is_loss else None), is_loss
            if is_loss:
                return
            np.random.seed(FORWARD_SEED)
            try:
                activation = np.asarray(ClassLayer(layer, train=self.train).forward(activation.copy()), dtype=np.float64)
            except Exception:  # user code
                return

    def predict_layers(self) -> list[tuple[str, Any]]:
        last = self.last_layer()
        return [(k, v) for k, v in self.layers() if last is None or v is not last[1]]


def _network_list_names(net: Any) -> list[str]:
    """Names for a DLFS-2 network's params list: `layer.param` where the array is a layer's."""
    names = []
    owners: dict[int, str] = {}
    for key, layer in Network.layers.__get__(_Shell(net))():
        for i, p in enumerate(getattr(layer, "params", []) or []):
            if isinstance(p, np.ndarray):
                owners.setdefault(id(p), f"{key}.{dlfs2_names(layer)[i] if i < len(dlfs2_names(layer)) else i}")
    for i, p in enumerate(net.params):
        names.append(owners.get(id(p), f"params[{i}]"))
    return names


class _Shell:
    """Lets `Network.layers` run on an object without validating it as a network."""

    def __init__(self, net: Any):
        self.net = net


class NetworkAdapter(Adapter):
    """A whole network seen as one loss layer: forward is `loss(x, t)`, backward is `gradient(x, t)`."""

    def __init__(self, network: Network):
        super().__init__(name=network.name, kind="network", target=network.target, is_loss=True, train=network.train)
        self.network = network
        self.dout_is_input = False  # gradient(x, t) takes no upstream gradient
        self._inputs: tuple[Any, Any] | None = None

    def params(self) -> dict[str, np.ndarray]:
        return self.network.params()

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        self._inputs = (x.copy(), t)
        return self.network.loss(x, t)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._inputs is not None, "forward first"
        x, t = self._inputs
        np.random.seed(FORWARD_SEED)  # gradient() runs its own forward: the same dropout masks
        return None, self.network.gradient(x.copy(), t)

    def backward_target(self) -> Any:
        cls = type(self.network.net)
        return getattr(cls, "gradient", None) or getattr(cls, "backward", cls)

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
            for i, p in enumerate(getattr(layer, "params", None) or []):
                grads = getattr(layer, "grads", None) or []
                if p is array and i < len(grads) and grads[i] is not net_grads[k]:
                    return layer, i
        return None
