"""Whether one backward call of a class layer leaves anything the next call would read.

The re-entrancy contract (`contracts`) asks that backward, called twice with the same dout
after one forward, give the same gradients. A second call can only differ where the first
left state behind that the second reads: an attribute it rebinds after reading it
(`self.dW = self.dW + g`), an array or list it writes into (`self.dW += g`,
`dx = self.y; dx[...] -= 1`, `self.cache.pop()`), a random stream it draws from, a class
attribute or a global of its module it rebinds. `Watch` runs the first call so that each
of these shows: the layer's attribute reads and writes are recorded (its class is swapped
for a subclass that records them), the arrays it holds are read-only (a write into one
raises, and the check starts again without a watch: `engine.LayerCheck._run`), and its
lists and dicts, its class, its module's globals and the random streams are compared
before and after. A call that shows none of them cannot give a second call anything the
first did not have, so the check makes no second call. A layer holding an object the
watch cannot see into (another layer, a random generator) is called twice, as before.
"""

from __future__ import annotations

import ctypes
import random
import sys
import types
from typing import Any

import numpy as np

from backprop_doctor.global_random import MT_WORDS

# The record of each watched layer (by id): attribute -> "load" or "store", whichever came first.
_WATCHED: dict[int, dict[str, str]] = {}
# Attributes a watched call stored or deleted, by layer id.
_STORED: dict[int, set[str]] = {}
_TRACED: dict[type, type] = {}

_PLAIN = (bool, int, float, complex, str, bytes, type(None), np.generic, type, np.ufunc, type(np.dot))
_CONTAINERS = (list, tuple, dict, set, frozenset)

# How deep the watch looks into the layer's lists, tuples and dicts.
DEPTH = 3
# A layer holding fewer elements in its arrays is called twice: its second backward costs
# less than watching the first (about 20 µs, a tenth of a forward pass of the book's network).
WATCHED_SIZE = 1 << 14


class Watch:
    """A context around one backward call; `carries()` afterwards says whether a second call
    could see anything the first one changed. `worth` says whether watching costs less than
    a second call: the layer holds at least WATCHED_SIZE elements in its arrays."""

    def __init__(self, layer: Any, own: frozenset[str] = frozenset()):
        """`own`: attributes the caller bound on the layer for the length of the call (the
        wrappers of its methods, `conventions.networks.LayerCalls`), not state of the layer's."""
        self.layer = layer
        self.first: dict[str, str] = {}
        self.stored: set[str] = set()
        self.known = False  # False: the layer holds something the watch cannot see into
        self._class = type(layer)
        self._arrays: list[np.ndarray] = []
        self._containers: list[Any] = []
        self._frozen: list[np.ndarray] = []
        attributes = getattr(layer, "__dict__", None)
        if own and attributes is not None:
            attributes = {k: v for k, v in attributes.items() if k not in own}
        self.seen = _reach(attributes, self._arrays, self._containers, 0)
        self.worth = self.seen and sum(a.size for a in self._arrays) >= WATCHED_SIZE

    def __enter__(self) -> Watch:
        if not self.seen:
            return self
        try:
            self.layer.__class__ = _traced(self._class)
        except Exception:  # noqa: BLE001 - a class that cannot be subclassed, or a layout a subclass cannot take
            return self
        self.known = True
        self._shapes = [_shape(c) for c in self._containers]
        self._bindings = _bindings(self._class)
        self._streams = streams(self._class)
        _WATCHED[id(self.layer)], _STORED[id(self.layer)] = self.first, self.stored
        for a in self._arrays:
            if a.flags.writeable:
                a.flags.writeable = False
                self._frozen.append(a)
        return self

    def __exit__(self, *exc: Any) -> None:
        for a in self._frozen:
            try:
                a.flags.writeable = True
            except ValueError:  # a view whose base was made read-only meanwhile
                pass
        self._frozen = []
        if self.known:
            _WATCHED.pop(id(self.layer), None)
            _STORED.pop(id(self.layer), None)
            self.layer.__class__ = self._class
            _hand_back(_TRACED[self._class], self._class)

    def carries(self) -> bool:
        """Whether the call read an attribute it then rebound, deleted one, changed a list or
        dict it holds, rebound an attribute of its class or a global of its module, or drew
        from NumPy's or Python's global random stream (or the watch could not see)."""
        if not self.known:
            return True
        return (
            any(self.first.get(name) != "store" for name in self.stored)
            or any(_shape(c) != s for c, s in zip(self._containers, self._shapes))
            or _bindings(self._class) != self._bindings
            or streams(self._class) != self._streams
        )


def _reach(obj: Any, arrays: list[np.ndarray], containers: list[Any], depth: int) -> bool:
    """Collect the arrays and the mutable containers reachable from `obj` (an attribute dict
    first); False when something is reachable whose state the watch cannot see."""
    if obj is None and depth == 0:
        return False  # no attribute dict (`__slots__`): not watched
    if depth > 0 and not isinstance(obj, (tuple, frozenset)):
        containers.append(obj)
    for value in obj.values() if isinstance(obj, dict) else obj:
        if isinstance(value, np.ndarray):
            arrays.append(value)
        elif isinstance(value, _CONTAINERS):
            if depth >= DEPTH or not _reach(value, arrays, containers, depth + 1):
                return False
        elif not _plain(value):
            return False
    return True


def _plain(value: Any) -> bool:
    """A value with no state of its own: a scalar, a type, a NumPy function, a function
    without a closure, a module's builtin (not one bound to an object: `rng.random` draws
    from `rng`)."""
    if isinstance(value, types.FunctionType):  # first: NumPy before 1.25 has plain functions for `np.dot`
        return not value.__closure__
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, types.BuiltinFunctionType):
        return value.__self__ is None or isinstance(value.__self__, types.ModuleType)
    return False


def _shape(container: Any) -> tuple:
    """What a container holds, by identity: an append, a pop or a new item changes it."""
    if isinstance(container, dict):
        return tuple((k, id(v)) for k, v in container.items())
    return tuple(id(v) for v in container)


def _bindings(cls: type) -> tuple:
    """The names of the layer's classes and of its module's globals, and the ids bound to them."""
    namespaces = [vars(c) for c in cls.__mro__[:-1]]
    module = sys.modules.get(cls.__module__)
    if module is not None:
        namespaces.append(vars(module))
    return tuple((tuple(names), tuple(map(id, names.values()))) for names in namespaces)


# NumPy's global MT19937 generator last read by `streams`, and its state's words (a view of its memory)
_WORDS: list[Any] = [None, None]


def streams(cls: type) -> tuple:
    """Where NumPy's global random stream stands (read from its MT19937 state without a copy
    of it: `np.random.get_state` costs a tenth of a forward pass), and Python's, when the
    layer's module uses it: a draw moves either."""
    generator = getattr(np.random.mtrand._rand, "_bit_generator", None)
    if _WORDS[0] is generator:  # its state's words, read where they were found last time
        words = _WORDS[1]
        numpy_stream: Any = (words[0], words[MT_WORDS - 1], words[MT_WORDS])  # key ends, position
    elif type(generator).__name__ == "MT19937":
        words = (ctypes.c_uint32 * (MT_WORDS + 1)).from_address(generator.ctypes.state_address)
        _WORDS[:] = [generator, words]  # the generator held: its state stays where it is
        numpy_stream = (words[0], words[MT_WORDS - 1], words[MT_WORDS])
    else:
        numpy_stream = repr(np.random.get_state())
    module = sys.modules.get(cls.__module__)
    uses_random = module is not None and any(v is random or getattr(v, "__self__", None) is random._inst for v in vars(module).values())
    return numpy_stream, random.getstate() if uses_random else None


def _traced(cls: type) -> type:
    """A subclass of `cls` (same name, no new slots) whose instances record, while watched,
    the first access to each attribute and every store."""
    traced = _TRACED.get(cls)
    if traced is not None:
        return traced
    get, put, drop = cls.__getattribute__, cls.__setattr__, cls.__delattr__

    def __getattribute__(self: Any, name: str) -> Any:
        first = _WATCHED.get(id(self))
        if first is not None and name not in first:
            first[name] = "load"
        return get(self, name)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        _record_store(self, name)
        put(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        _record_store(self, name)
        drop(self, name)

    namespace = {
        "__slots__": (),
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__getattribute__": __getattribute__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
    }
    traced = _TRACED[cls] = type(cls.__name__, (cls,), namespace)
    return traced


# What a recording subclass holds of its own (anything else a watched call bound on it).
_OWN = frozenset({"__slots__", "__module__", "__qualname__", "__getattribute__", "__setattr__", "__delattr__", "__doc__"})


def _hand_back(traced: type, cls: type) -> None:
    """Move what the watched call bound on its class (`type(self).calls += 1` binds `calls`
    on the recording subclass) to the layer's own class, where it would have gone."""
    for name in [k for k in vars(traced) if k not in _OWN]:
        setattr(cls, name, vars(traced)[name])
        delattr(traced, name)


def _record_store(layer: Any, name: str) -> None:
    first = _WATCHED.get(id(layer))
    if first is not None:
        first.setdefault(name, "store")
        _STORED[id(layer)].add(name)
