"""What every calling convention shares: isolation of user objects, signature helpers, `Adapter`.

The engine only ever calls `forward(x, t)`, `backward(dout)` and `params()` on an
`Adapter`; each convention module turns its way of writing layers into that.
Adapters always work on isolated copies promoted to float64 (see `isolated`), so
nothing the user owns is touched.
"""

from __future__ import annotations

import contextlib
import copy
import copyreg
import functools
import inspect
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# NumPy's global RNG is reseeded with this before every forward evaluation, so a layer
# that draws (dropout) sees the same numbers in each one.
FORWARD_SEED = 12345
TRAIN_FLAGS = ("train_flg", "train_flag", "train", "training", "is_training", "train_mode")
GRAD_NAMES = ("d{}", "grad_{}", "{}_grad", "d_{}", "{}grad", "{}_gradient", "g{}", "dLd{}")  # `dLdW`: CMU 11-785's mytorch
SHORT_NAMES = {"weights": "w", "weight": "w", "bias": "b", "biases": "b"}  # `self.weights` with `self.w_gradient`, `self.dw`


def gradient_names(attr: str, short: bool = True) -> list[str]:
    """The attributes a layer may keep `attr`'s gradient in: `dW`, `grad_W`, `W_grad`, `gW` ..., and (with
    `short`) for a parameter spelled out (`weights`, `bias`) the same of its initial (`dw`, `w_gradient`)."""
    return list(_gradient_names(attr, short))


@functools.lru_cache(maxsize=1024)
def _gradient_names(attr: str, short: bool) -> tuple[str, ...]:
    """`gradient_names`, formatted once per attribute name (a layer's adapter asks for each of its
    attributes at every check)."""
    bases = [attr, SHORT_NAMES[attr.lower()]] if short and attr.lower() in SHORT_NAMES else [attr]
    return tuple(n for n in dict.fromkeys(pattern.format(base) for base in bases for pattern in GRAD_NAMES) if n != attr)
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
    """Replace float arrays inside `obj` by float64 ones (shared arrays stay shared, and so
    do views of one another: `_rebased`).

    Returns the set of float dtypes that were found.
    """
    found = _arrays_in(obj)
    dtypes = _float_dtypes(found)
    if dtypes <= {"float64"}:
        return dtypes  # nothing to replace: no second walk
    memo: dict[int, Any] = {}
    for group, root in _view_groups(found):
        if root.dtype.kind == "f" and root.dtype != np.float64:
            memo.update(_rebased(group, root, root.astype(np.float64)))
    _walk(obj, lambda a: a.astype(np.float64) if a.dtype.kind == "f" and a.dtype != np.float64 else a, memo)
    return dtypes


def _float_dtypes(found: dict[int, np.ndarray]) -> set[str]:
    """The names of the float dtypes among `found`."""
    names: set[str] = set()
    for a in found.values():
        if a.dtype.kind == "f":
            names.add("float64" if a.dtype == np.float64 else str(a.dtype))
    return names


def _arrays_in(obj: Any, stateful: list[Any] | None = None) -> dict[int, np.ndarray]:
    """The arrays `_walk` reaches from `obj` (in dicts, lists and objects' attributes, six
    levels deep), by id; with `stateful`, the objects it reaches whose `stateful` flag is set are
    added to it (`stateless`)."""
    found: dict[int, np.ndarray] = {}
    seen: set[int] = set()

    def collect(value: Any, depth: int) -> None:
        if depth > 6 or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            found[id(value)] = value
            return
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        elif hasattr(value, "__dict__") and not isinstance(value, type) and not inspect.ismodule(value) and not callable(value):
            children = vars(value).values()
            if stateful is not None and vars(value).get("stateful") is True:
                stateful.append(value)
        else:
            return
        for child in list(children):
            collect(child, depth + 1)

    try:
        collect(obj, 0)
    finally:
        del collect  # a recursive closure is a reference cycle: it would hold `found` until a collection
    return found


def _view_groups(found: dict[int, np.ndarray]) -> list[tuple[list[np.ndarray], np.ndarray]]:
    """Arrays of `found` that are views of one memory (a layer's `self.W` made from
    `params['W1'][:]`, beside `params['W1']`), with the array that owns it: groups of two or
    more plain arrays of one dtype. A copy that copies each array on its own (`copy.deepcopy`,
    `astype`) would part them, and moving `params['W1']` would no longer move the layer."""
    groups: dict[int, tuple[list[np.ndarray], np.ndarray]] = {}
    for a in found.values():
        if a.base is None:
            groups.setdefault(id(a), ([], a))[0].append(a)
            continue
        root = _owner(a)
        if type(a) is np.ndarray and type(root) is np.ndarray and a.dtype == root.dtype and a.dtype.kind in "biufc":
            groups.setdefault(id(root), ([], root))[0].append(a)
    return [(group, root) for group, root in groups.values() if len(group) >= 2]


def _rebased(group: list[np.ndarray], root: np.ndarray, new_root: np.ndarray) -> dict[int, np.ndarray]:
    """id of each array of `group` (views of `root`) -> the same view of `new_root` (a copy of
    `root`, in another dtype perhaps); {} when a view cannot be rebuilt element for element
    (then each array is copied on its own, as before)."""
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or new_root.strides != tuple(
        s // root.itemsize * new_root.itemsize for s in root.strides
    ):
        return {}
    start = root.__array_interface__["data"][0]
    rebuilt = {}
    for a in group:
        offset = a.__array_interface__["data"][0] - start
        if offset % root.itemsize or any(s % root.itemsize for s in a.strides):
            return {}
        if a is root:
            rebuilt[id(a)] = new_root
            continue
        strides = tuple(s // root.itemsize * new_root.itemsize for s in a.strides)
        try:
            view = np.ndarray(a.shape, new_root.dtype, buffer=new_root, offset=offset // root.itemsize * new_root.itemsize, strides=strides)
        except (TypeError, ValueError):
            return {}
        if not a.flags.writeable:
            view.flags.writeable = False
        rebuilt[id(a)] = view
    return rebuilt


def copied(obj: Any, found: dict[int, np.ndarray] | None = None, shared: dict[int, np.ndarray] | None = None) -> Any:
    """`copy.deepcopy(obj)`, where arrays that are views of one memory stay views of one
    memory in the copy (`_view_groups`); `found`: the arrays in `obj` (`_arrays_in`), when known;
    `shared`: arrays of `obj` the copy holds themselves, not copies (`isolated_sharing`)."""
    memo: dict[int, Any] = dict(shared or {})
    for group, root in _view_groups(_arrays_in(obj) if found is None else found):
        if id(group[0]) not in memo:
            memo.update(_rebased(group, root, root.copy(order="K")))
    return _deepcopy(obj, memo)


# what `copy.deepcopy` hands back as it is
_ATOMIC = frozenset({type(None), bool, int, float, complex, str, bytes, type, types.FunctionType, types.BuiltinFunctionType, range})
_MISSING = object()


def _deepcopy(value: Any, memo: dict[int, Any]) -> Any:
    """`copy.deepcopy(value, memo)`, the same copy, made without its protocol where a value is
    one of the plain kinds a network is built of: an array of numbers, a dict, an `OrderedDict`
    or a list, a tuple of plain values, an instance of a Python class that copies as `deepcopy`
    copies any object (its `__dict__` copied into a new instance, nothing of its own to say how).
    Anything else, and anything below it, is left to `copy.deepcopy` with the same memo, so
    objects reached twice are copied once either way. The protocol's calls cost more than
    the copy of the book's network's arrays (`isolated`, at every check)."""
    found = memo.get(id(value), _MISSING)
    if found is not _MISSING:
        return found
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is np.ndarray and not value.dtype.hasobject:
        new = memo[id(value)] = value.copy(order="K")  # ndarray.__deepcopy__, for arrays of numbers
        return new
    if kind is dict or (kind is OrderedDict and not vars(value)):
        new = memo[id(value)] = kind()
        for k, v in value.items():
            new[k if type(k) in _ATOMIC else _deepcopy(k, memo)] = _deepcopy(v, memo)
        return new
    if kind is list:
        new = memo[id(value)] = []
        new.extend(_deepcopy(v, memo) for v in value)
        return new
    if kind is tuple and all(type(v) in _ATOMIC for v in value):
        memo[id(value)] = value  # as `deepcopy` keeps a tuple whose items copy to themselves
        return value
    if _plain_class(kind):
        new = memo[id(value)] = object.__new__(kind)
        state = vars(value)
        if state:
            vars(new).update(_deepcopy(state, memo))
        return new
    return copy.deepcopy(value, memo)


@functools.lru_cache(maxsize=256)
def _plain_class(kind: type) -> bool:
    """Whether `copy.deepcopy` copies an instance of `kind` by the default protocol alone: a new
    instance made by `object.__new__`, its `__dict__` copied in (no `__deepcopy__`, reduce,
    state methods, `__slots__`, attribute hook or built-in base of its own)."""
    mro = kind.__mro__
    if mro[-1] is not object or len(mro) < 2 or copy._deepcopy_dispatch.get(kind) is not None:  # type: ignore[attr-defined]
        return False
    if any(not (c.__flags__ & _HEAP_TYPE) or "__slots__" in vars(c) for c in mro[:-1]):
        return False
    return (
        kind.__new__ is object.__new__
        and kind.__reduce_ex__ is object.__reduce_ex__
        and kind.__reduce__ is object.__reduce__
        and getattr(kind, "__getstate__", None) is getattr(object, "__getstate__", None)
        and not any(hasattr(kind, name) for name in ("__deepcopy__", "__setstate__", "__getattr__"))
        and kind not in copyreg.dispatch_table
    )


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python


def _shareable(found: dict[int, np.ndarray], copied_arrays: list[np.ndarray]) -> dict[int, np.ndarray]:
    """The arrays of `found` that share no memory with any of `copied_arrays`, nor does any
    array of their view group (`_view_groups`: a group is shared whole or copied whole)."""
    owners = [_owner(c) for c in copied_arrays]
    # arrays that own their memory or are views of such an array: those of other owners share none of it
    owned = {id(o) for o in owners} if all(o.base is None for o in owners) else None
    moved = {id(c) for c in copied_arrays}
    shared = {}
    for i, a in found.items():
        if owned is not None and (owner := _owner(a)).base is None and id(owner) not in owned:
            shared[i] = a
        elif i in moved and a.size:
            continue  # one of the copied arrays itself: it shares its own memory
        elif not any(np.may_share_memory(a, c) for c in copied_arrays):
            shared[i] = a
    for group, _ in _view_groups(found):
        if not all(id(a) in shared for a in group):
            for a in group:
                shared.pop(id(a), None)
    return shared


def _owner(a: np.ndarray) -> np.ndarray:
    """The array at the end of `a`'s chain of bases (`a` itself when it owns its memory, or holds
    memory of another kind: a buffer, a memory map)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


@contextlib.contextmanager
def isolated_sharing(obj: Any, copied_arrays: Callable[[Any], list[np.ndarray]]) -> Iterator[tuple[Any, set[str], dict[int, np.ndarray]]]:
    """`isolated`, for a float64 object whose copy would copy arrays the check never moves nor
    writes (what a layer kept from the caller's last call, the caller's batch among them: a copy of it and
    the pages it takes cost more than a forward pass of the book's network): the working copy
    holds every array that shares no memory with `copied_arrays(obj)` (the parameters the probes
    move, which are copied) as it is, read-only for the length of the block, so that user code
    that writes into one raises instead of changing it. Yields (copy, dtypes, the shared arrays by
    id). Anything else (another dtype, an object that cannot be read or copied) is isolated as
    `isolated` does, sharing nothing."""
    try:
        flagged: list[Any] = []
        found = _arrays_in(obj, stateful=flagged)
        dtypes = _float_dtypes(found)
        moved = copied_arrays(obj) if dtypes <= {"float64"} else []
        shared = _shareable(found, moved) if moved else {}
        # nothing to share (a network that has not run yet): the copy `isolated` makes, its arrays read once
        work = copied(obj, found, shared) if moved else None
        if work is not None and flagged:
            stateless(work)
    except Exception:  # noqa: BLE001 - user objects: isolated without sharing
        work = None
    if work is None:
        with isolated(obj) as (work, dtypes):
            yield work, dtypes, {}
        return
    frozen = [a for a in shared.values() if a.flags.writeable]
    for a in frozen:
        a.flags.writeable = False
    try:
        yield work, dtypes, shared
    finally:
        for a in sorted(frozen, key=lambda a: a.base is not None):  # owners first: a view follows its base
            a.flags.writeable = True


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

    A deep copy when the object allows it (views of one memory kept views of one memory:
    `copied`); otherwise the object itself, with every
    reachable array and attribute restored bit-identically on exit, even after an error.
    """
    flagged: list[Any] = []
    try:
        found = _arrays_in(obj, stateful=flagged)
        work = copied(obj, found)
    except Exception:
        work = None
    if work is not None:
        dtypes = _float_dtypes(found)  # the copy's, unless a __deepcopy__ of the user's changes them
        if flagged:  # the copy's flags, found again in it; none in the original: no second walk
            stateless(work)
        yield work, dtypes if dtypes <= {"float64"} else promote_to_float64(work)
        return
    snapshot = _Snapshot(obj)
    try:
        stateless(obj)
        yield obj, promote_to_float64(obj)
    finally:
        snapshot.restore()


def stateless(obj: Any) -> None:
    """Turn off the `stateful` flag of every object reachable from `obj` that has it set (the second
    book's `TimeRNN(..., stateful=True)`, `TimeLSTM`): such a layer starts each forward from the hidden
    state its last forward left, so every evaluation of a check would start from another state and
    no two agree (every gradient "wrong", relative error 1). Off, each forward starts from zeros, as
    after the program's own `reset_state()`; the gradients of one forward are the same code."""
    flagged: list[Any] = []
    found = _arrays_in(obj, stateful=flagged)
    # arrays that are views of one memory (the book's BetterRnnlm ties `embed_W.T` to its embedding): left as they are
    if flagged and not _view_groups(found):
        for layer in flagged:
            vars(layer)["stateful"] = False


# --------------------------------------------------------------------------- helpers


def parameters(func: Callable) -> dict[str, inspect.Parameter]:
    """The parameters a caller passes: a bound method's first one (`self`, whatever it is
    called) is dropped, and so is a `self`/`cls` of a function looked up on its class."""
    target, bound, owner = call_key(func)
    try:
        return dict(_parameters(target, bound, owner))
    except TypeError:  # unhashable callable
        return _parameters.__wrapped__(target, bound, owner)


def call_key(func: Callable) -> tuple[Callable, bool, type | None]:
    """What `parameters` of `func` depends on: the function (a bound method's), whether it is bound,
    and the class it is bound to (an instance's class)."""
    bound = isinstance(func, types.MethodType)  # inspect.ismethod, without its call
    target = getattr(func, "__func__", func)  # bound methods: cache on the function
    owner = (func.__self__ if isinstance(func.__self__, type) else type(func.__self__)) if bound else None
    return target, bound, owner


@functools.lru_cache(maxsize=1024)
def _parameters(target: Callable, bound: bool, owner: type | None) -> dict[str, inspect.Parameter]:
    """`parameters` of a function (`target`), looked up on an instance of `owner` (`bound`) or
    not: read once for each (a layer's methods are read on every call the check makes of them)."""
    try:
        params = _signature_parameters(target)
    except TypeError:  # unhashable callable
        params = _signature_parameters.__wrapped__(target)
    if bound and params:
        params = dict(list(params.items())[1:])
    elif inspect.isfunction(target) and params and (next(iter(params)) in ("self", "cls") or _defined_in_class(target)):
        params = dict(list(params.items())[1:])
    else:
        return params
    if params and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values()):
        delegate = _delegate(target, owner)
        if delegate is not None:
            return parameters(delegate)
    return params


def method_of(cls: type, name: str) -> Any:
    """`cls.name` bound to the class itself (a static method as it is), for reading its parameters: a base class's
    `backward(self, *args)` that hands them to `self.backward_impl` is then read through the
    `backward_impl` of `cls`, the subclass that writes it."""
    import types

    function = getattr(cls, name, None)
    if isinstance(inspect.getattr_static(cls, name, None), staticmethod):
        return function  # `@staticmethod def loss(y, y_pred)`: no first argument to bind
    return types.MethodType(function, cls) if inspect.isfunction(function) else function


@functools.lru_cache(maxsize=256)
def _delegate(func: Callable, owner: type | None) -> Callable | None:
    """`def backward(self, *args, **kwargs): g = self.backward_impl(*args, **kwargs)`: the method
    of the same class that takes what this one is given, as the class it is looked up on defines it
    (a base class's template method, written by its subclasses); None for anything else."""
    import ast
    import textwrap

    try:
        node = ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]
    except (TypeError, OSError, SyntaxError, IndexError):
        return None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.args.args:
        return None
    me, star = node.args.args[0].arg, node.args.vararg.arg if node.args.vararg else None
    called = [
        n.func.attr for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == me
        and any(isinstance(a, ast.Starred) and isinstance(a.value, ast.Name) and a.value.id == star for a in n.args)
    ]  # fmt: skip
    if owner is None and _defined_in_class(func):
        owner = inspect.getmodule(func)
        for name in func.__qualname__.split(".")[:-1]:
            owner = getattr(owner, name, None)
    method = getattr(owner, called[0], None) if len(called) == 1 and isinstance(owner, type) else None
    return method if inspect.isfunction(method) and method is not func else None


def _defined_in_class(func: Callable) -> bool:
    """A function written in a class body (`Affine.forward`), looked up on the class: its first
    parameter is the instance, whatever it is called (`self`, `this`, `s`)."""
    parts = func.__qualname__.split(".")
    if len(parts) < 2 or parts[-2] == "<locals>":
        return False
    owner = inspect.getmodule(func)
    for name in parts[:-1]:
        owner = getattr(owner, name, None)
    return inspect.isclass(owner) and not isinstance(vars(owner).get(parts[-1]), staticmethod)


@functools.lru_cache(maxsize=1024)
def _signature_parameters(func: Callable) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return {}


def train_kwargs(func: Callable, train: bool) -> dict[str, Any]:
    key = call_key(func)
    try:
        name = _train_flag(*key)
    except TypeError:  # unhashable callable
        name = _train_flag.__wrapped__(*key)
    return {} if name is None else {name: train}


@functools.lru_cache(maxsize=1024)
def _train_flag(target: Callable, bound: bool, owner: type | None) -> str | None:
    """The first of TRAIN_FLAGS among the parameters of the function `call_key` gave (`train_kwargs`):
    read once for each (a layer's forward is asked at every call the check makes of it)."""
    try:
        params = _parameters(target, bound, owner)
    except TypeError:  # unhashable callable
        params = _parameters.__wrapped__(target, bound, owner)
    return next((name for name in TRAIN_FLAGS if name in params), None)


def required_positional(func: Callable) -> list[str]:
    return [
        p.name
        for p in parameters(func).values()
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


# --------------------------------------------------------------------------- the adapter


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
    batch_axis: int = 0  # where the input keeps its samples: -1 for one sample per column (`X (n_x, m)`)

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

    def input_grad_targets(self) -> tuple[str, ...]:
        """Assignment targets in `backward_target()` that compute dx, when it is not returned."""
        return ("dx",)

    def forward_target(self) -> Any:
        return self.target




def listed_arrays(layer: Any) -> list[Any]:
    """A layer's `params` list (DLFS-2), or [] where `params` is no list (a `params()` method, a dict)."""
    listed = getattr(layer, "params", None)
    return list(listed) if isinstance(listed, (list, tuple)) else []


def is_gradient_like(value: Any) -> bool:
    """An array, or a NumPy scalar (the gradient of a 0-d parameter such as a learned scale)."""
    return isinstance(value, (np.ndarray, np.floating))


def is_array_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(p, np.ndarray) for p in value)
