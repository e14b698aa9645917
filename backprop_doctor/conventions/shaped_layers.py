"""Layers built for one sample of a given shape, and activation layers handed their function.

Written the way many from-scratch tutorials build a network of single samples:
the constructor takes the shape of one input (`Convolutional(input_shape,
kernel_size, depth)` with `input_shape = (depth, height, width)`,
`Reshape(input_shape, output_shape)`), forward takes that one sample (no
batch axis) and `backward(output_gradient, learning_rate)` updates the weights
itself (see `sgd_in_backward`). A base `Activation(activation,
activation_prime)` takes the function and its derivative.

Example:
    class Reshape:
        def __init__(self, input_shape, output_shape):
            self.input_shape = input_shape
            self.output_shape = output_shape

        def forward(self, input):
            return np.reshape(input, self.output_shape)

        def backward(self, output_gradient, learning_rate):
            return np.reshape(output_gradient, self.input_shape)

Recognised by: a layer class whose constructor requires `input_shape` (or
`shape_in`, `in_shape`; alone, or with a kernel size, a depth or an output
shape, `output_shape`, `shape_out`, `out_shape`) and whose forward takes no
target, or requires a function and its
derivative (`activation`, `activation_prime`) and has no subclass in the file
that passes them; confirmed by building it (`input_shape = (2, 5, 6)`, a
3×3 kernel, depth 3, `output_shape = (60, 1)`, else an output a layer that checks
it against its input may declare: a 3×3 window's valid output channels last or
first, the input's own shape, a transposed window's; an activation built with the
function and derivative the file hands it (`ActivationLayer(sigmoid, sigmoid_prime)`),
else with tanh and its derivative of the input, which checks how the layer applies them) and a trial
forward on one sample of that shape. Gradients: where the layer's own
convention keeps them (the update of `backward(output_gradient, learning_rate)`).
"""

from __future__ import annotations

import ast
import copy
import inspect
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, train_kwargs
from backprop_doctor.conventions._classlayer import ClassLayer, is_loss_layer, layer_methods, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "shaped-layers"
KIND = "class"
ORDER = 29  # before the layer conventions that would build these from argument names alone
INPUT_SHAPE = (2, 5, 6)  # (depth, height, width); tried as (height, width, depth) when that fails
KERNEL = 3  # the kernel size a shaped layer is given
DEPTH = 3  # the output depth it is given
FUNCTIONS = ("activation", "activation_prime", "function", "function_prime", "derivative", "f", "f_prime", "df")
# other spellings of one sample's shape in and out (`Dense(shape_in, shape_out)`, `Conv(in_shape, ...)`)
SHAPE_NAMES = {"input_shape": "input_shape", "shape_in": "input_shape", "in_shape": "input_shape", "inp_shape": "input_shape",
               "output_shape": "output_shape", "shape_out": "output_shape", "out_shape": "output_shape"}


def canonical(name: str) -> str:
    """`input_shape` for `shape_in` and `in_shape`, `output_shape` for `shape_out`; other names lower-cased."""
    return SHAPE_NAMES.get(name.lower(), name.lower())


def tanh(x: Any) -> Any:
    return np.tanh(x)


def tanh_prime(x: Any) -> Any:
    return 1 - np.tanh(x) ** 2


def _handed(cls: type, context: Any) -> tuple[Any, Any] | None:
    """The function and derivative the checked program hands to `cls` (`ActivationLayer(sigmoid,
    sigmoid_prime)`), the first such call whose two arguments are functions of its namespace."""
    source, namespace = getattr(context, "source", None), getattr(context, "namespace", None) or {}
    if source is None or source.tree is None:
        return None
    for node in ast.walk(source.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == cls.__name__):
            continue
        given = [*node.args, *(k.value for k in node.keywords)]
        functions = [namespace.get(a.id) if isinstance(a, ast.Name) else None for a in given]
        if len(functions) == 2 and all(inspect.isfunction(f) for f in functions):
            if node.keywords and [k.arg for k in node.keywords] != _constructor(cls)[len(node.args):]:
                continue  # keywords in another order than the constructor's: not worth the guess
            return functions[0], functions[1]
    return None


def _constructor(cls: type) -> list[str]:
    try:
        return required_inputs(cls)
    except (TypeError, ValueError):
        return []


def _takes_function(names: list[str]) -> bool:
    low = [n.lower() for n in names]
    return len(low) == 2 and all(n in FUNCTIONS or "prime" in n or "deriv" in n or "activation" in n for n in low)


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    if layer_methods(cls) is None:
        return False
    names = [canonical(n) for n in _constructor(cls)]
    if "input_shape" in names and is_loss_layer(cls):
        return False  # `forward(x, t)`: its target is not one sample of that shape
    if "input_shape" in names:
        return len(names) >= 1  # `Sigmoid(shape_in)`: one sample of that shape is what it takes
    if _takes_function(names):
        # its subclasses that pass the function are checked themselves
        return not any(inspect.isclass(v) and v is not cls and issubclass(v, cls) for v in namespace.values())
    return False


def _stubbed(cls: type) -> list[str]:
    """Names the layer's methods use that are stand-ins for a module that is not installed
    (`signal.correlate2d` without SciPy)."""
    from backprop_doctor.loading.stubs import is_stub

    found = []
    for value in vars(cls).values():
        code = getattr(value, "__code__", None)
        for name in code.co_names if code is not None else ():
            if name not in found and is_stub(value.__globals__.get(name)):
                found.append(name)
    return found


def label(cls: type) -> str:
    return cls.__name__


def _arguments(
    names: list[str], shape: tuple[int, ...] = INPUT_SHAPE, functions: tuple[Any, Any] = (tanh, tanh_prime),
    output: tuple[int, ...] | None = None,
) -> tuple[dict[str, Any], tuple[int, ...]] | None:
    kwargs: dict[str, Any] = {}
    if _takes_function(names):
        return dict(zip(names, functions)), (6, 1)
    size = int(np.prod(shape))
    values = {
        "input_shape": shape, "kernel_size": KERNEL, "kernel_shape": (KERNEL, KERNEL), "depth": DEPTH, "layer_depth": DEPTH,
        "output_depth": DEPTH, "output_shape": output or (size, 1), "stride": 1,
    }
    for name in names:
        if canonical(name) not in values:
            return None
        kwargs[name] = values[canonical(name)]
    return kwargs, shape


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    names = _constructor(cls)
    if _arguments(names) is None:
        raise NotChecked(f"cannot guess the constructor arguments of `{cls.__name__}({', '.join(names)})`")
    channels_last = (*INPUT_SHAPE[1:], INPUT_SHAPE[0])
    try:
        first: tuple[list[Case], bool] | Exception = _build(cls, context, rng, INPUT_SHAPE)
    except Exception as error:  # noqa: BLE001 - the other image layout may suit it; else the first error stands
        first = error
    if isinstance(first, tuple) and first[1]:
        return first[0]
    if "input_shape" in (canonical(n) for n in names):
        try:
            second = _build(cls, context, rng, channels_last)
        except Exception:  # noqa: BLE001
            second = None
        if second is not None and second[1]:
            return second[0]
    if "output_shape" in (canonical(n) for n in names):
        # `Conv2D(shape_in, shape_out, kernel_size)` that asserts its output's shape: the shape a window
        # of the kernel's size leaves (channels first or last), the input's own, or a transposed one's
        for layout in (INPUT_SHAPE, channels_last):
            for output in _output_shapes(layout):
                try:
                    other = _build(cls, context, rng, layout, output)
                except Exception:  # noqa: BLE001
                    continue
                if other[1]:
                    return other[0]
    if isinstance(first, Exception):
        raise first
    return first[0]  # its forward raises on either layout: the engine reports it at the user's line


def _output_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Other outputs a layer of one (a, b, c) sample may declare: a 3 × 3 window's valid output with
    the guessed depth, channels last then first; the input's own shape; a transposed 3 × 3 window's."""
    a, b, c = shape
    shapes = [
        (a - KERNEL + 1, b - KERNEL + 1, DEPTH), (DEPTH, b - KERNEL + 1, c - KERNEL + 1), shape,
        (a + KERNEL - 1, b + KERNEL - 1, DEPTH), (DEPTH, b + KERNEL - 1, c + KERNEL - 1),
    ]  # fmt: skip
    return [s for s in shapes if min(s) > 0]  # an empty output checks nothing


def _forward(layer: Any, x: np.ndarray, context: Any) -> Any:
    """What a trial forward on a copy of `layer` returns (or stores), or the exception it raised."""
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        work = copy.deepcopy(layer)
        forward = getattr(work, layer_methods(work).forward)
        out = forward(x.copy(), **train_kwargs(forward, context.options.train))
        return getattr(work, "output", None) if out is None else out
    except Exception as error:  # the engine reports it at the user's line
        return error
    finally:
        np.random.set_state(state)


def _build(
    cls: type, context: Any, rng: np.random.Generator, input_shape: tuple[int, ...], output: tuple[int, ...] | None = None
) -> tuple[list[Case], bool]:
    """The case for one image layout, and whether its trial forward ran."""
    from backprop_doctor import build as builder

    # the program's own function and derivative where it hands them in (its derivative may be written of
    # either side); else tanh and its derivative of the input, the tutorials' contract
    functions = _handed(cls, context) or (tanh, tanh_prime)
    found = _arguments(_constructor(cls), input_shape, functions, output)
    assert found is not None
    kwargs, shape = found
    np.random.seed(context.options.seed)
    try:
        layer = cls(**kwargs)
    except Exception as error:  # user code
        paired = builder.as_pairs(kwargs) if builder._wants_pairs(error) else None  # `self.k_h, self.k_w = kernel_size`
        layer = builder._trial(lambda: cls(**paired), default=None) if paired else None
        if layer is None:
            raise builder._raised(f"{cls.__name__}(...) raised {type(error).__name__}: {error}", error) from error
        kwargs = paired
    x = rng.standard_normal(shape)
    out = _forward(layer, x, context)
    if isinstance(out, Exception) or np.ndim(out) > x.ndim:
        # a layer that takes a batch of such samples (`for single in input`): given one sample it
        # raises, or broadcasts each row against its weights into an output of more axes
        batch = rng.standard_normal((2, *shape))
        out_batch = _forward(layer, batch, context)
        if not isinstance(out_batch, Exception) and np.ndim(out_batch) == batch.ndim and np.shape(out_batch)[0] == 2:
            x, out, shape = batch, out_batch, batch.shape
    missing = _stubbed(cls)
    if missing and (isinstance(out, Exception) or getattr(out, "dtype", None) == object):
        raise builder.Unsupported(f"`{cls.__name__}` uses `{missing[0]}`, which comes from a module that could not be imported here")
    if out is None:
        raise NotChecked(f"`{cls.__name__}.forward` returns None on one sample of shape {shape}")
    shown = ", ".join(f"{k}={getattr(v, '__name__', v)!s}" for k, v in kwargs.items())
    samples = f"one sample x {shape}" if x.ndim == len(input_shape) else f"a batch x {shape}"
    return [Case(f"{cls.__name__}({shown}), {samples}", ClassLayer(layer, train=context.options.train), x)], not isinstance(out, Exception) and np.size(out) > 0
