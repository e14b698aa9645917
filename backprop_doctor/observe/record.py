"""What an observed run of the user's program recorded: plain data, filled by `tracer.Recorder`.

Array arguments and results are copies taken at the time of the call (large
ones are kept as their shape only, see `Value`); instances are the program's
own objects, which the checks only ever use through copies.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TooLarge:
    """Stands for an array too large to copy: its shape and dtype only."""

    shape: tuple[int, ...]
    dtype: str

    def __repr__(self) -> str:
        return f"array{self.shape}"


@dataclass
class Call:
    """One recorded call of a method or function."""

    name: str  # "forward", "affine_forward"
    args: tuple[Any, ...]  # copies, without `self`
    kwargs: dict[str, Any]
    file: str | None  # the line that called it
    line: int | None
    result: Any = None  # a copy of what it returned
    returned: bool = False  # False while running, or when it raised


@dataclass
class Instance:
    """An object of a class the user wrote, with the call that created it."""

    cls: type
    obj: Any
    file: str | None  # the line that created it
    line: int | None
    args: tuple[Any, ...] = ()  # constructor arguments (copies)
    kwargs: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, list[Call]] = field(default_factory=dict)  # method name -> its first calls
    owner: int | None = None  # index of the instance that created this one (a network's layer)
    created: bool = True  # False: no `__init__` of its own ran, `line` is where it was first used
    state: Any = None  # a deep copy taken just before its first recorded call (None: could not copy)

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass
class FunctionCalls:
    """A plain function the user wrote that took or returned arrays."""

    func: Any
    calls: list[Call] = field(default_factory=list)

    @property
    def name(self) -> str:
        return getattr(self.func, "__name__", "?")


@dataclass
class LossValue:
    value: float
    file: str | None  # the line that computed it
    line: int | None
    top_level: bool  # computed by the driver itself, not inside another recorded call


@dataclass
class Record:
    """Everything one observed run recorded."""

    instances: list[Instance] = field(default_factory=list)
    functions: list[FunctionCalls] = field(default_factory=list)
    losses: list[LossValue] = field(default_factory=list)
    stopped: str = "finished"  # "finished", "enough" (every backward ran), "budget", "raised", "exited"
    error: tuple[str, str | None, int | None] | None = None  # (description, file, line) when it raised
    stack: tuple[tuple[str, int], ...] = ()  # when it raised or exited: the user's frames it was in, (file, line), outermost first
    skipped: list[tuple[int, str]] = field(default_factory=list)  # top-level statements that failed on a stand-in: (line, error)
    # when it raised on what a stand-in for a missing module gave it: (the name holding it, the module), ("X", "pandas")
    standin: tuple[str, str] | None = None
    # when it raised while a frame of the user's held a file `open` gave for a missing data file: (the name
    # holding it, what it stands for), ("f", "the word-vector file glove.6B.50d.txt")
    standin_file: tuple[str, str] | None = None
    loops_reached: set[int] = field(default_factory=set)  # first lines of the training loops whose body ran
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # when it raised: the arrays of the frame it raised in, by shape
    seconds: float = 0.0

    def loss_curve(self) -> tuple[str | None, int | None, list[float]]:
        """The loss values of one call site: the driver's own, else the most frequent one."""
        sites: dict[tuple[str | None, int | None], list[LossValue]] = {}
        for value in self.losses:
            sites.setdefault((value.file, value.line), []).append(value)
        if not sites:
            return None, None, []
        best = max(sites.items(), key=lambda kv: (kv[1][0].top_level, len(kv[1])))
        (file, line), values = best
        return file, line, [v.value for v in values]


def copy_value(value: Any, budget: list[int], depth: int = 0, memo: dict[int, Any] | None = None) -> Any:
    """A copy of `value` for the record; arrays beyond the element `budget` become `TooLarge`; with `memo`,
    an array reached twice is copied once (`copy_arguments`)."""
    if isinstance(value, np.ndarray):
        if memo is not None and id(value) in memo:
            return memo[id(value)]
        if value.size > budget[0]:
            return TooLarge(tuple(value.shape), str(value.dtype))
        budget[0] -= value.size
        new = value.copy()
        if memo is not None:
            memo[id(value)] = new
        return new
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return value
    if depth >= 3:
        return value
    if isinstance(value, tuple):
        items = tuple(copy_value(v, budget, depth + 1, memo) for v in value)
        return type(value)(*items) if hasattr(type(value), "_fields") else items  # a namedtuple stays one
    if isinstance(value, list):
        return [copy_value(v, budget, depth + 1, memo) for v in value]
    if isinstance(value, dict):
        return {k: copy_value(v, budget, depth + 1, memo) for k, v in value.items()}
    return value  # another object: kept as it is (the checks copy before they use it)


def copy_arguments(values: tuple[Any, ...], budget: list[int]) -> tuple[Any, ...]:
    """The arguments of one call, copied for the record as `copy_value` copies each, an array two of them
    hold copied once; an object of the user's kept as it is that holds arrays another argument hands over
    too (`loss(params, layers, X, y)` with `params = {"W0": layers[0].W, ...}`) is copied with them, so
    the record's dict holds the very arrays the record's layers compute with, as the program's did."""
    memo: dict[int, Any] = {}
    copies = tuple(copy_value(v, budget, memo=memo) for v in values)
    if not memo or not any(_is_object(c) for c in copies):
        return copies
    import copy

    try:
        held = [_held_arrays(c) for c in copies if _is_object(c)]
        if not any(memo.keys() & h.keys() for h in held):
            return copies
        more = sum(a.size for h in held for i, a in h.items() if i not in memo)
        if more > budget[0]:
            return copies  # the objects' own arrays beyond the record's budget: kept as they are
        budget[0] -= more
        return tuple(copy.deepcopy(c, memo) if _is_object(c) else c for c in copies)
    except Exception:  # noqa: BLE001 - an object that will not copy: kept as it is
        return copies


_NOT_HOLDERS = (type, types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.ModuleType)


def _held_arrays(value: Any) -> dict[int, np.ndarray]:
    """The arrays, by id, reachable from `value` through dicts, lists, tuples and the attributes of
    objects, in `__dict__` or `__slots__` (a dataclass, a class with slots, a namedtuple), six levels deep."""
    found: dict[int, np.ndarray] = {}
    seen: set[int] = set()
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > 6 or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            found[id(item)] = item
        elif isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif not (isinstance(item, _NOT_HOLDERS) or type(item).__module__ in ("builtins", "types")):
            stack.extend((v, depth + 1) for v in getattr(item, "__dict__", {}).values())
            for cls in type(item).__mro__:
                slots = vars(cls).get("__slots__", ())
                for name in (slots,) if isinstance(slots, str) else slots:
                    if hasattr(item, name) and name not in ("__dict__", "__weakref__"):
                        stack.append((getattr(item, name), depth + 1))
    return found


def _is_object(value: Any) -> bool:
    """An object `copy_value` keeps as it is, or a list holding one (the program's layers)."""
    if isinstance(value, (list, tuple)):
        return any(_is_object(v) for v in value)
    return not (value is None or isinstance(value, (np.ndarray, bool, int, float, complex, str, bytes, np.generic, dict, TooLarge)))


def number(value: Any) -> float | None:
    """The float in a Python or NumPy number, or in an array of one element; None for anything else."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fiu":
        return float(value.reshape(()))
    return None


def scalar(value: Any) -> float | None:
    """The number in a loss-like return value: a float, a 0-d array, or the first item of a tuple."""
    if isinstance(value, tuple) and value:
        value = value[0]
    if isinstance(value, (np.ndarray, np.integer)) and value.dtype.kind != "f":
        return None  # an integer array or number returned is an index or a count, not a loss
    return number(value)
