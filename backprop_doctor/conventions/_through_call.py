"""Layers that are run through their class's `__call__` (*Deep Learning from Scratch 3*, DeZero).

A DeZero `Function` subclass writes only `forward(x)` and `backward(gy)`. The base
class's `__call__` unwraps the `Variable`s it is given, runs `self.forward`, wraps the
results, and keeps its inputs and outputs (`self.inputs`, `self.outputs`,
`self.input`), which backward then reads. Calling `forward` directly would leave
backward without them, so such a layer is called the way its class is meant to be
called: its inputs wrapped in the class `__call__` makes (`Variable(x)`), its
outputs and its backward's results unwrapped to arrays (`.data`). Its upstream
gradient is an array, or a `Variable` as the framework hands it once gradients are
`Variable`s: when backward raises on the array, or turns it into an array of
`Variable`s (`gy * cos(x)` with a `Variable` the array does not defer to).

Example:
    class Function:
        def __call__(self, *inputs):
            xs = [x.data for x in inputs]
            ys = self.forward(*xs)
            self.inputs = inputs
            return Variable(ys)

    class Square(Function):
        def forward(self, x):
            return x ** 2

        def backward(self, gy):
            x = self.inputs[0].data
            return 2 * x * gy

Recognised by: a `__call__` (its own or a base class's) that calls `self.forward`
(the layer's forward method) and assigns attributes of the instance.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import weakref
from typing import Any

import numpy as np

from backprop_doctor.static.methods import assigned_attributes, self_name


def calls_forward(cls: type, forward: str) -> bool:
    """Whether the `__call__` of `cls` (its own or a base class's) runs `self.<forward>(...)` and keeps
    something on the instance (DeZero's `Function.__call__` keeps `self.inputs`): backward may read it."""
    call = _user_call(cls)
    node = _node(call)
    if node is None:
        return False
    me = self_name(node)
    runs = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == forward
        and isinstance(n.func.value, ast.Name) and n.func.value.id == me
        for n in ast.walk(node)
    )  # fmt: skip
    return runs and bool(assigned_attributes(node))


def _user_call(cls: type) -> Any:
    """The `__call__` a class in the MRO of `cls` defines itself (not `object`'s or the metaclass's), or None."""
    return next((vars(klass)["__call__"] for klass in cls.__mro__[:-1] if "__call__" in vars(klass)), None)


def _node(func: Any) -> ast.FunctionDef | None:
    from backprop_doctor.conventions._classlayer import function_node

    return function_node(func) if callable(func) else None


@functools.lru_cache(maxsize=256)
def wrapper(cls: type) -> type | None:
    """The class the `__call__` of `cls` wraps forward's results in (DeZero's `Variable(y)`): the first
    user class it constructs by name, from the names the `__call__`'s module sees, other than a layer
    with that same `__call__`; None when there is none."""
    call = _user_call(cls)
    node = _node(call)
    seen = getattr(call, "__globals__", {})
    for n in ast.walk(node) if node is not None else ():
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            found = seen.get(n.func.id)
            if inspect.isclass(found) and _user_class(found) and _user_call(found) is not call:
                return found
    return None


def _user_class(cls: type) -> bool:
    """A class of the user's code, not Python's (`tuple`, `list`) nor NumPy's (`np.ndarray`)."""
    module = getattr(cls, "__module__", "") or ""
    return module != builtins.__name__ and module.split(".")[0] != "numpy"


def wrapped(cls: type, value: Any) -> Any:
    """`value` as the class's `__call__` expects its inputs: in its wrapper (`Variable(x)`) when it has one
    that accepts the array, else the array itself."""
    kind = wrapper(cls)
    if kind is None:
        return value
    try:
        return kind(value)
    except Exception:  # noqa: BLE001 - the user's wrapper refuses it (say, a scalar): give the array
        return value


def unwrapped(value: Any) -> Any:
    """Arrays for what the class returns: `Variable.data` for a wrapper, a tuple for a list or tuple
    (DeZero returns a list of outputs, and backward a tuple of gradients), anything else as it is."""
    if isinstance(value, (list, tuple)):
        return tuple(unwrapped(v) for v in value)
    data = getattr(value, "data", None)
    if not isinstance(value, (np.ndarray, np.generic)) and isinstance(data, (np.ndarray, np.generic)):
        return data  # `Variable(x ** 2)` of a 0-d x holds a NumPy scalar
    return value


_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # layer -> what its last `__call__` returned
_MISSING = object()


class NothingKept(Exception):
    """The class's `__call__` ran forward but kept nothing for backward: DeZero's `Function.__call__` keeps
    its inputs only while backprop is on (`Config.enable_backprop`, off inside `no_grad()`)."""


def run_forward(layer: Any, *inputs: Any, **kwargs: Any) -> Any:
    """The layer's forward run by its `__call__` on `inputs` (arrays), its outputs as arrays; `NothingKept`
    when the `__call__` left every attribute it assigns as it was."""
    cls = type(layer)
    kept = kept_attributes(cls)
    before = {name: getattr(layer, name, _MISSING) for name in kept}
    result = layer(*[wrapped(cls, x) for x in inputs], **_accepted(layer, kwargs))
    if kept and all(getattr(layer, name, _MISSING) is value for name, value in before.items()):
        raise NothingKept(f"`{cls.__name__}.__call__` ran forward but kept none of {', '.join(sorted(kept))}")
    _keep(layer, result)
    return unwrapped(result)


@functools.lru_cache(maxsize=256)
def kept_attributes(cls: type) -> frozenset[str]:
    """The attributes of the instance that the `__call__` of `cls` assigns (`inputs`, `outputs`)."""
    node = _node(_user_call(cls))
    return frozenset(assigned_attributes(node)) if node is not None else frozenset()


def _accepted(layer: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments (a train flag forward takes) that the layer's `__call__` takes too: a
    `__call__(self, *inputs)` runs forward with its own default."""
    if not kwargs:
        return kwargs
    try:
        taken = inspect.signature(layer.__call__).parameters  # its own, not the forward it hands `*inputs` to
    except (TypeError, ValueError):
        return {}
    if any(p.kind == p.VAR_KEYWORD for p in taken.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in taken}


def _keep(layer: Any, result: Any) -> None:
    """Hold what the layer's `__call__` returned until its next forward. DeZero keeps only weak references
    to its outputs (`self.outputs = [weakref.ref(y)]`), which backward calls (`y = self.outputs[0]()`);
    in the user's program the graph holds them."""
    try:
        _KEPT[layer] = result
    except TypeError:  # a layer that cannot be weakly referenced: nothing to keep it with
        pass


def not_usable(layer: Any, error: BaseException) -> str | None:
    """Why the layer's `__call__` cannot be used to check it, when `error` says so; None otherwise:

    - Python refuses arithmetic on the wrapper (`unsupported operand type(s) for * - 'numpy.ndarray' and
      'Variable'`): its operators are set up elsewhere (DeZero's package `__init__` calls
      `setup_variable()`), not by the file checked;
    - the `__call__` kept nothing for backward (`NothingKept`): backprop was off when it ran."""
    if isinstance(error, NothingKept):
        return f"{error}: backprop was switched off when it ran (inside DeZero's `no_grad()`, say)"
    kind = wrapper(type(layer))
    if kind is None or not isinstance(error, TypeError) or "operand" not in str(error) or f"'{kind.__name__}'" not in str(error):
        return None
    return (
        f"it computes on `{kind.__name__}` objects, which raised TypeError ({error}) here; their operators are set up "
        "elsewhere (a package's `__init__`), so check the file that imports the package"
    )


def run_backward(backward: Any, layer: Any, *upstream: Any) -> Any:
    """`backward(*upstream)` with the upstream gradients as arrays (as the book's first steps give them),
    or else in the wrapper (as DeZero gives them once gradients are `Variable`s), also when the arrays
    give an array of the wrapper's objects; its result as arrays.
    When both raise, the error of the first is the one shown. A number (a loss's `dout=1`) is given as a
    0-d array, the only kind DeZero's `Variable` holds."""
    upstream = tuple(np.asarray(g, dtype=np.float64) if isinstance(g, (int, float)) else g for g in upstream)
    try:
        result = unwrapped(backward(*upstream))
    except Exception as error:  # noqa: BLE001 - user code: try the other way it may be written for
        if wrapper(type(layer)) is None:
            raise
        try:
            return unwrapped(backward(*[wrapped(type(layer), g) for g in upstream]))
        except Exception:  # noqa: BLE001
            raise error from None
    if wrapper(type(layer)) is not None and _holds_objects(result):
        # `gy * cos(x)` with `cos(x)` a `Variable` the array does not defer to (no `__array_priority__`):
        # NumPy made an object array of `Variable`s, where the framework, which hands backward its
        # upstream gradient as a `Variable`, gets one `Variable`
        try:
            again = unwrapped(backward(*[wrapped(type(layer), g) for g in upstream]))
        except Exception:  # noqa: BLE001 - user code: the array's result stands, and is reported as it is
            return result
        return result if _holds_objects(again) else again
    return result


def _holds_objects(value: Any) -> bool:
    """Whether `value` (an array, or a tuple of them) holds an object array: NumPy's array of the
    wrapper's instances, not numbers."""
    if isinstance(value, tuple):
        return any(_holds_objects(v) for v in value)
    return isinstance(value, np.ndarray) and value.dtype == object
