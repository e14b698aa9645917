"""The program's state at the start of one training step, and fresh copies of it to replay from.

`State.take(namespace)` keeps a deep copy of every variable of the loop's
frame (modules, functions and classes by reference, large data arrays shared:
the step reads them, it does not write them), the global random generators'
states, and an index from each live array to the path that reaches it
(`parameters['W1']`, `net.layers[0].W`), so that a parameter an optimizer
updates far away is found again in the copy. `State.fresh()` returns a new
copy for one replay and puts the random generators back where they were, so
every replay draws the same minibatch, the same dropout mask.
"""

from __future__ import annotations

import contextlib

import copy
import copyreg
import functools
import random
import sys
import types
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor import global_random

SHARED_ELEMENTS = 500_000  # top-level arrays at least this large are data, shared between copies
INDEX_DEPTH = 6  # how deep the path index looks into dicts, lists and objects (`nn.layer.neurons[0].weights`)
NODE_DEPTH = 2  # deeper still for an autograd engine's node, a parameter of its own (`n.layers[0].neurons[0].w[0]`)

Path = tuple[tuple[str, Any], ...]  # (("name", "net"), ("attr", "params"), ("item", "W1"))

_ATOMIC = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)


_GENERATORS = (np.random.RandomState, np.random.Generator, random.Random)


def _atomic(value: Any) -> bool:
    """Shared by every copy: a module, a class, a method, a function, except a closure (its cells hold
    state); a random generator, whose state `State.reset_random` puts back (a copy would draw apart from
    the one the program's functions draw from)."""
    return isinstance(value, _ATOMIC) and not _closure(value) or isinstance(value, _GENERATORS)


def _closure(value: Any) -> bool:
    return isinstance(value, types.FunctionType) and bool(value.__closure__)


def _copy_closure(function: types.FunctionType, memo: dict[int, Any]) -> types.FunctionType:
    """`forward` of `def dense(...): params = {...}; def forward(x): ... x @ params["W"]`, with its cells
    copied in the same copy as everything else: the `params` a tuple holds beside it and the one its
    cells hold stay one dict, as in the program. A cell that will not copy stays shared."""
    cells = tuple(types.CellType() for _ in function.__closure__ or ())
    made = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__, cells)
    made.__kwdefaults__, made.__dict__ = function.__kwdefaults__, dict(function.__dict__)
    memo[id(function)] = made
    for cell, old in zip(cells, function.__closure__ or ()):
        try:
            contents = old.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        try:
            cell.cell_contents = copy.deepcopy(contents, memo)
        except Exception:  # noqa: BLE001 - a file handle, a generator: shared
            cell.cell_contents = contents
    return made


def _deepcopy(value: Any, memo: dict[int, Any], nodes: tuple[type, ...] = ()) -> Any:
    """`copy.deepcopy`, closures copied with their cells (`_copy_closure`) wherever they sit, and the
    nodes of an autograd engine (`nodes`, `graph_node_class`) copied without the graph behind them
    (`_copy_node`)."""
    dispatch = copy._deepcopy_dispatch  # type: ignore[attr-defined]
    plain = dispatch[types.FunctionType]
    dispatch[types.FunctionType] = lambda f, memo: _copy_closure(f, memo) if _closure(f) else f
    added = [cls for cls in nodes if cls not in dispatch]
    for cls in added:
        dispatch[cls] = _copy_node
    try:
        return _copied(value, memo)
    finally:
        dispatch[types.FunctionType] = plain
        for cls in added:
            dispatch.pop(cls, None)


_ATOMS = frozenset({int, float, bool, str, bytes, complex, type(None)})
_MISSING = object()
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class written in Python


@functools.lru_cache(maxsize=1024)
def _plain_class(cls: type) -> bool:
    """A class written in Python whose instances `copy.deepcopy` rebuilds as `cls.__new__(cls)` with a
    deep copy of their `__dict__`: no builtin base but `object`, no slots, no copy or pickle hooks."""
    own = (k for k in cls.__mro__ if k is not object)
    hooks = ("__deepcopy__", "__setstate__", "__getnewargs__", "__getnewargs_ex__", "__slots__")
    return (
        not issubclass(cls, type)
        and all(k.__flags__ & _HEAP_TYPE and not any(h in vars(k) for h in hooks) for k in own)
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and cls.__getstate__ is object.__getstate__
    )


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    """`copy.deepcopy(value, memo)`: the same copies, memo entries and kept-alive originals, written out
    for what a program's state is mostly made of (dicts, lists, NumPy arrays, plain objects, an
    `OrderedDict` of layers), where `copy.deepcopy` costs a replay a sixth of its time; anything else
    (and whatever `copy`'s dispatch table holds: closures, graph nodes) goes to `copy.deepcopy`."""
    cls = type(value)
    if cls in _ATOMS:
        return value
    made = memo.get(id(value), _MISSING)
    if made is not _MISSING:
        return made
    if cls is np.ndarray and not value.dtype.hasobject:
        made = value.copy(order="K")  # what `ndarray.__deepcopy__` makes
    elif cls is dict:
        made = memo[id(value)] = {}
        for key, item in value.items():
            made[_copied(key, memo)] = _copied(item, memo)
    elif cls is list:
        made = memo[id(value)] = []
        made.extend(_copied(item, memo) for item in value)
    elif cls is OrderedDict and not vars(value) and cls not in copyreg.dispatch_table:
        made = memo[id(value)] = OrderedDict()
        for key, item in value.items():
            made[_copied(key, memo)] = _copied(item, memo)
    elif (
        cls not in copy._deepcopy_dispatch  # type: ignore[attr-defined]
        and cls not in copyreg.dispatch_table
        and _plain_class(cls)
        and isinstance(state := getattr(value, "__dict__", None), dict)
    ):
        made = memo[id(value)] = cls.__new__(cls)
        if state:
            made.__dict__.update(_copied(state, memo))
    else:
        return copy.deepcopy(value, memo)
    memo[id(value)] = made
    copy._keep_alive(value, memo)  # type: ignore[attr-defined]
    return made


@functools.lru_cache(maxsize=1024)
def graph_node_class(cls: Any) -> bool:
    """A class whose instances are the nodes of an autograd engine written by hand (micrograd's `Value`,
    a `Tensor` with `_backward` closures): a `backward` method and arithmetic operators of its own, and
    instances with a `__dict__` (the number and its `grad` live there). Never an installed library's
    class: torch's `Tensor` fits that shape, but a copy made the engine's way would be an empty tensor."""
    if not isinstance(cls, type) or cls.__module__ in ("builtins", "numpy") or issubclass(cls, (np.ndarray, np.generic)):
        return False
    home = getattr(sys.modules.get(cls.__module__), "__file__", None) or ""
    if "site-packages" in home or "dist-packages" in home:
        return False
    own = {name for klass in cls.__mro__ if klass is not object for name in vars(klass)}
    return callable(getattr(cls, "backward", None)) and bool(own & {"__add__", "__mul__", "__matmul__"}) and "__slots__" not in own


def _is_node(value: Any) -> bool:
    return _is_class_of_nodes(type(value))


def _is_class_of_nodes(cls: type) -> bool:
    try:
        return graph_node_class(cls)
    except TypeError:  # a class its metaclass made unhashable: not an engine's
        return False


def _edges(value: Any, cls: type) -> bool:
    """`value` holds the nodes an engine's node was computed from: `_prev = {a, b}`, `_children = (a, b)`,
    `parents = [(a, 1.0), (b, x)]` (a node with the local gradient of each input)."""
    if not isinstance(value, (set, frozenset, tuple, list)) or not value:
        return False
    return all(isinstance(v, cls) or isinstance(v, tuple) and bool(v) and isinstance(v[0], cls) for v in value)


def _no_backward() -> None:
    """The closure of a copied node whose graph was left behind: the replay never calls it."""


def _copy_node(node: Any, memo: dict[int, Any]) -> Any:
    """A copy of one node of an autograd engine that stops at the node: the nodes it was computed from
    (`_prev`) are left out and its backward closure, which holds them, becomes a no-op.

    Copying the graph behind a loss node the state holds from the pass before (every `Value` of the last
    forward pass, with a closure over each) costs ~0.1 s a copy for micrograd's 41-weight MLP on four
    samples, and the replay copies the state once per loss it computes. The step builds its own graph
    anew from the parameters (leaves, which have no graph and are copied whole), so a node left over
    is only ever read for its number. A program that re-evaluates a graph built once before its loop
    would replay to a loss other than its own, which the replay's repeatability test turns away."""
    cls = type(node)
    attributes = getattr(node, "__dict__", None)
    if not isinstance(attributes, dict):
        rv = node.__reduce_ex__(4)
        return copy._reconstruct(node, memo, *rv)  # type: ignore[attr-defined]
    made = cls.__new__(cls)
    memo[id(node)] = made
    computed = any(_edges(v, cls) for v in attributes.values())
    for key, value in attributes.items():
        if computed and _edges(value, cls):
            made.__dict__[key] = type(value)()
        elif computed and _closure(value):
            made.__dict__[key] = _no_backward
        else:
            made.__dict__[key] = copy.deepcopy(value, memo)
    return made


def describe(path: Path) -> str:
    """`net.params['W1']` for (("name", "net"), ("attr", "params"), ("item", "W1"))."""
    text = ""
    for kind, key in path:
        if kind == "name":
            text = str(key)
        elif kind == "attr":
            text += f".{key}"
        elif kind == "slice":
            start, stop, step = key
            text += f"[{'' if start is None else start}:{'' if stop is None else stop}{'' if step is None else f':{step}'}]"
        else:
            text += f"[{key!r}]"
    return text


def resolve(namespace: dict[str, Any], path: Path) -> Any:
    value: Any = namespace
    for kind, key in path:
        if kind == "slice":  # (start, stop, step): the part of an array an update moves (`self.w_[1:]`), a view
            value = value[slice(*key)]
        else:
            value = value[key] if kind in ("name", "item") else getattr(value, key)
    return value


def assign(namespace: dict[str, Any], path: Path, value: Any) -> None:
    """Bind `value` at `path`; an array parameter is written in place so every alias sees it."""
    current = resolve(namespace, path)
    if isinstance(current, np.ndarray) and isinstance(value, np.ndarray) and current.shape == value.shape:
        current[...] = value
        return
    parent = resolve(namespace, path[:-1]) if len(path) > 1 else namespace
    kind, key = path[-1]
    if kind in ("name", "item"):
        parent[key] = value
    else:
        setattr(parent, key, value)


def setting_path(spelled: str) -> Path | None:
    """`self.max_norm` -> (("name", "self"), ("attr", "max_norm")): a setting written as a name or as an attribute
    of one (a trainer's threshold, an optimizer's momentum), as a path of the step's state; None for anything else."""
    parts = spelled.split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    return (("name", parts[0]), *(("attr", p) for p in parts[1:]))


def setting_value(values: dict[str, Any], spelled: str) -> Any:
    """The value the step's state gives the setting `spelled` (`clip`, `self.max_norm`); None when it holds none."""
    path = setting_path(spelled)
    if path is None or path[0][1] not in values:
        return None
    try:
        return resolve(values, path)
    except Exception:  # noqa: BLE001 - an attribute the object does not have
        return None


def set_setting(namespace: dict[str, Any], spelled: str, value: Any) -> None:
    """Bind the setting `spelled` in a fresh copy of the state: a name, or the attribute of the object there
    (`self.max_norm` set on the copy of `self` the run uses)."""
    path = setting_path(spelled)
    if path is None or len(path) == 1:
        namespace[spelled] = value
        return
    with contextlib.suppress(Exception):
        setattr(resolve(namespace, path[:-1]), path[-1][1], value)


@dataclass
class State:
    """A deep copy of the loop frame's variables and of the random generators, taken once."""

    values: dict[str, Any]
    shared: dict[int, Any]  # id -> array shared by every copy (data)
    numpy_random: global_random.Saved
    python_random: Any
    paths: dict[int, Path] = field(default_factory=dict)  # id of a live array, list of weights or object -> its path
    holders: dict[int, int] = field(default_factory=dict)  # id of a live array -> how many places hold it
    keep: list[Any] = field(default_factory=list)  # the live arrays indexed (their ids stay valid)
    uncopied: list[str] = field(default_factory=list)  # names whose value would not copy (shared)
    views: dict[str, _View] = field(default_factory=dict)  # names bound to a view into another name's array
    generators: list[tuple[Any, Any]] = field(default_factory=list)  # the program's own generators left shared, and their states
    nodes: tuple[type, ...] = ()  # the classes of an autograd engine's nodes, copied without their graphs (`_copy_node`)

    @classmethod
    def take(cls, namespace: dict[str, Any], later: set[str] | frozenset[str] = frozenset(), shared_with: dict[str, Any] | None = None) -> State:
        """`later`: names whose arrays are indexed after every other's (an inner loop's `layer`); `shared_with`:
        the module's globals a function's loop runs with, whose random generators (`rng =
        np.random.RandomState(11)`, drawn from by a function the pass calls) are put back with NumPy's."""
        names = {k: v for k, v in namespace.items() if not k.startswith("__")}
        shared = {
            id(v): v for k, v in names.items() if isinstance(v, np.ndarray) and v.size >= SHARED_ELEMENTS and not _param_name(k)
        }
        state = cls({}, shared, global_random.save(), random.getstate())
        state._index({k: v for k, v in names.items() if k not in later})
        state._index({k: v for k, v in names.items() if k in later})  # what they reach is already indexed by its holder
        classes = {id(c): c for c in (*names.values(), *(shared_with or {}).values(), *(type(v) for v in state.keep)) if isinstance(c, type)}
        state.nodes = tuple(c for c in classes.values() if _is_class_of_nodes(c))
        memo = dict(shared)
        for name, value in names.items():
            if _atomic(value):
                state.values[name] = value
                continue
            try:
                state.values[name] = _deepcopy(value, memo, state.nodes)
            except Exception:  # noqa: BLE001 - a file handle, a generator: shared, and named
                state.values[name] = value
                state.uncopied.append(name)
        state.views = _views({k: v for k, v in names.items() if id(v) not in shared})  # shared data is never written through
        _relink(state.values, state.views)
        state.generators = _generators({**(shared_with or {}), **names})
        return state

    def _index(self, names: dict[str, Any]) -> None:
        seen = {id(v) for v in self.keep}
        queue: list[tuple[Any, Path]] = [(v, (("name", k),)) for k, v in names.items() if not isinstance(v, _ATOMIC)]
        while queue:
            value, path = queue.pop(0)
            if isinstance(value, np.ndarray):
                self.holders[id(value)] = self.holders.get(id(value), 0) + 1
            if id(value) in seen or len(path) > INDEX_DEPTH + (NODE_DEPTH if _is_node(value) else 0):
                continue
            seen.add(id(value))
            if isinstance(value, np.ndarray):
                if value.dtype.kind in "fc":
                    self.paths.setdefault(id(value), path)
                    self.keep.append(value)
                continue
            if isinstance(value, dict):
                queue += [(v, (*path, ("item", k))) for k, v in value.items() if isinstance(k, (str, int))]
            elif isinstance(value, (list, tuple)) and len(value) <= 1000:
                if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                    self.paths.setdefault(id(value), path)  # a list of weights, updated one number at a time
                    self.keep.append(value)
                queue += [(v, (*path, ("item", i))) for i, v in enumerate(value)]
            elif not isinstance(value, (_ATOMIC, str, bytes, int, float, complex, bool)) and value is not None:
                attributes = getattr(value, "__dict__", None)
                if attributes is None:
                    attributes = _slotted(value)  # `class Param: __slots__ = ("data", "grad")`
                if isinstance(attributes, dict):
                    self.paths.setdefault(id(value), path)  # an object holding numbers as weights (`self.w1`)
                    self.keep.append(value)
                    queue += [(v, (*path, ("attr", k))) for k, v in attributes.items() if not k.startswith("__")]

    def reset_random(self) -> None:
        """NumPy's and Python's global random generators put back where they were at the step's start."""
        global_random.restore(self.numpy_random)  # its key as bytes: `np.random.set_state` was a tenth of a replayed check
        random.setstate(self.python_random)
        for generator, kept in self.generators:
            if isinstance(generator, np.random.RandomState):
                generator.set_state(kept)
            elif isinstance(generator, np.random.Generator):
                generator.bit_generator.state = kept
            else:
                generator.setstate(kept)

    def fresh(self) -> dict[str, Any]:
        """A copy of the variables for one replay; the random generators are reset to the step's start."""
        self.reset_random()
        memo = dict(self.shared)
        copied = {}
        for name, value in self.values.items():
            if _atomic(value) or name in self.uncopied:
                copied[name] = value
            else:
                copied[name] = _deepcopy(value, memo, self.nodes)
        _relink(copied, self.views)
        return copied


def _generators(namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The random generators among `namespace`'s values (NumPy's two kinds, Python's), with their states."""
    found: list[tuple[Any, Any]] = []
    for value in {id(v): v for v in namespace.values() if isinstance(v, _GENERATORS)}.values():
        if isinstance(value, np.random.RandomState):
            found.append((value, value.get_state()))
        elif isinstance(value, np.random.Generator):
            found.append((value, copy.deepcopy(value.bit_generator.state)))
        elif isinstance(value, random.Random):
            found.append((value, value.getstate()))
    return found


@dataclass(frozen=True)
class _View:
    """Where a view looks into its owner's memory: `center = W_in[c]` is the owner's row c, and an
    update of `W_in[c]` moves `center` too. A deep copy of each name alone would cut that tie."""

    owner: str
    offset: int  # bytes from the owner's first element
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _views(names: dict[str, Any]) -> dict[str, _View]:
    """The names bound to a view into the array another name owns (a row, a column, a slice)."""
    owners = {id(v): k for k, v in names.items() if isinstance(v, np.ndarray) and v.base is None and v.flags.c_contiguous}
    found = {}
    for name, value in names.items():
        if isinstance(value, np.ndarray) and value.base is not None and id(value.base) in owners:
            owner = value.base
            offset = value.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
            if value.dtype == owner.dtype and 0 <= offset < max(owner.nbytes, 1):
                found[name] = _View(owners[id(owner)], offset, value.shape, value.strides)
    return found


def _relink(copied: dict[str, Any], views: dict[str, _View]) -> None:
    """Make each view's copy a view into its owner's copy again, where it was one in the program."""
    for name, view in views.items():
        owner = copied.get(view.owner)
        if isinstance(owner, np.ndarray) and owner.flags.c_contiguous and isinstance(copied.get(name), np.ndarray):
            try:
                copied[name] = np.ndarray(view.shape, owner.dtype, buffer=owner, offset=view.offset, strides=view.strides)
            except (TypeError, ValueError):  # a view the copy's memory cannot hold: left a copy of its own
                continue


def _slotted(value: Any) -> dict[str, Any] | None:
    """The attributes an instance of a class of the user's with `__slots__` holds (a parameter object
    `__slots__ = ("data", "grad")`), by name; None for anything else."""
    cls = type(value)
    if cls.__module__ in ("builtins", "numpy") or not cls.__flags__ & _HEAP_TYPE:
        return None
    names = [n for klass in cls.__mro__ for n in (getattr(klass, "__slots__", ()) or ()) if isinstance(n, str) and not n.startswith("__")]
    if isinstance(getattr(cls, "__slots__", None), str):
        names.append(cls.__slots__)
    missing = object()
    return {n: v for n in dict.fromkeys(names) if (v := getattr(value, n, missing)) is not missing} or None


def _param_name(name: str) -> bool:
    from backprop_doctor.static.updates import _PARAM_NAME

    return bool(_PARAM_NAME.fullmatch(name)) or "param" in name.lower() or "weight" in name.lower()
