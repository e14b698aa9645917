"""Hypothesis strategies for property-testing hand-written layers.

    from backprop_doctor.strategies import assert_gradients_hold, layer_inputs, loss_inputs

    def test_affine_gradients():
        assert_gradients_hold(
            lambda x, rng: Affine(rng.standard_normal((x.shape[1], 3)), rng.standard_normal(3)),
            layer_inputs(max_dims=2),
        )

    def test_softmax_with_loss_gradients():
        assert_gradients_hold(lambda x, rng: SoftmaxWithLoss(), loss_inputs())

Every argument is keyword-only; bounds come in `min_*`/`max_*` pairs; a bad argument
raises `backprop_doctor.errors.UsageError` naming it as `arg=value`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from backprop_doctor.errors import UsageError

__all__ = [
    "assert_gradients_hold",
    "integer_labels",
    "labels",
    "layer_inputs",
    "loss_inputs",
    "one_hot_labels",
]

# Largest rank `layer_inputs` draws; more is never a layer's input.
MAX_DIMS = 8


def layer_inputs(
    *,
    shape: int | tuple[int, ...] | None = None,
    min_dims: int = 2,
    max_dims: int = 4,
    min_side: int = 1,
    max_side: int = 6,
    min_value: float = -10,
    max_value: float = 10,
    dtype: Any = np.float64,
) -> SearchStrategy[np.ndarray]:
    """Arrays a layer accepts as input: batch first, finite, bounded, no subnormals.

    With `shape` the arrays have that shape; otherwise `min_dims..max_dims` axes of
    `min_side..max_side` entries each (the batch axis included). Values lie in
    `[min_value, max_value]`.
    """
    float_dtype = _float_dtype(dtype)
    if shape is not None:
        shape = _shape(shape)
    else:
        _int_range("min_dims", min_dims, "max_dims", max_dims, lowest=1, highest=MAX_DIMS)
        _int_range("min_side", min_side, "max_side", max_side, lowest=1)
    _value_range(min_value, max_value, float_dtype)
    elements = st.floats(
        min_value=_inward(min_value, float_dtype, up=True),
        max_value=_inward(max_value, float_dtype, up=False),
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
        width=8 * float_dtype.itemsize,
    )
    if shape is None:
        shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    return hnp.arrays(float_dtype, shape, elements=elements)


def integer_labels(*, batch: int, classes: int) -> SearchStrategy[np.ndarray]:
    """Class indices, shape `(batch,)`, dtype int64, each in `range(classes)`."""
    _int_at_least("batch", batch, 1)
    _int_at_least("classes", classes, 1)
    return hnp.arrays(np.int64, (batch,), elements=st.integers(0, classes - 1))


def one_hot_labels(*, batch: int, classes: int) -> SearchStrategy[np.ndarray]:
    """One-hot targets, shape `(batch, classes)`, float64, exactly one 1 per row."""
    _int_at_least("batch", batch, 1)
    _int_at_least("classes", classes, 1)
    eye = np.eye(classes)
    return integer_labels(batch=batch, classes=classes).map(lambda t: eye[t])


def labels(*, batch: int, classes: int, one_hot: bool | None = None) -> SearchStrategy[np.ndarray]:
    """Targets of a loss layer: one-hot (`one_hot=True`), integer (`False`) or either (`None`)."""
    if one_hot is not None and not isinstance(one_hot, bool):
        raise UsageError(f"one_hot={one_hot!r} must be True, False or None")
    if one_hot is True:
        return one_hot_labels(batch=batch, classes=classes)
    if one_hot is False:
        return integer_labels(batch=batch, classes=classes)
    return st.one_of(one_hot_labels(batch=batch, classes=classes), integer_labels(batch=batch, classes=classes))


def loss_inputs(
    *,
    min_batch: int = 1,
    max_batch: int = 6,
    min_classes: int = 2,
    max_classes: int = 6,
    min_value: float = -10,
    max_value: float = 10,
    one_hot: bool | None = None,
    dtype: Any = np.float64,
) -> SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """`(scores, targets)` pairs for a loss layer: scores `(batch, classes)` and matching labels."""
    _int_range("min_batch", min_batch, "max_batch", max_batch, lowest=1)
    _int_range("min_classes", min_classes, "max_classes", max_classes, lowest=1)
    labels(batch=1, classes=1, one_hot=one_hot)  # validates one_hot
    layer_inputs(shape=(1, 1), min_value=min_value, max_value=max_value, dtype=dtype)  # validates the rest

    def pair(size: tuple[int, int]) -> SearchStrategy[tuple[np.ndarray, np.ndarray]]:
        batch, classes = size
        return st.tuples(
            layer_inputs(shape=size, min_value=min_value, max_value=max_value, dtype=dtype),
            labels(batch=batch, classes=classes, one_hot=one_hot),
        )

    return st.tuples(st.integers(min_batch, max_batch), st.integers(min_classes, max_classes)).flatmap(pair)


def assert_gradients_hold(
    layer_factory: Callable[[np.ndarray, np.random.Generator], Any],
    inputs: SearchStrategy[Any],
    *,
    max_examples: int = 25,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    **options: Any,
) -> None:
    """Property: `check_layer(layer_factory(x, rng), x, t)` finds no error for every drawn input.

    `inputs` draws `x`, or `(x, t)` for a loss layer (see `layer_inputs`, `loss_inputs`).
    `layer_factory(x, rng)` builds a fresh layer for that input; `rng` is a NumPy Generator
    seeded by hypothesis, so parameters are part of the example and shrink with it. On
    failure hypothesis shrinks to the smallest failing example and this raises
    `GradientCheckError` (an AssertionError) whose text names that example and the diagnosis.
    The current hypothesis settings (profile, `derandomize`, database) apply, except
    `max_examples`, `deadline` (none) and the `explain` phase (off).
    Call it from a plain test, not from inside another `@given` test.
    """
    __tracebackhide__ = True
    if not callable(layer_factory):
        raise UsageError(f"layer_factory={layer_factory!r} must be callable as layer_factory(x, rng)")
    if not isinstance(inputs, SearchStrategy):
        raise UsageError(f"inputs={inputs!r} must be a hypothesis strategy (e.g. layer_inputs())")
    _int_at_least("max_examples", max_examples, 1)
    from backprop_doctor.options import Options

    check_options = {"rtol": rtol, "atol": atol, "seed": seed, **options}
    Options.from_kwargs(**{k: v for k, v in check_options.items() if v is not None})  # names unknown options

    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # the "explain" phase would list lines of backprop-doctor's engine, not of the layer
        phases=[phase for phase in settings().phases if phase is not Phase.explain],
    )
    @given(case=inputs, layer_seed=st.integers(0, 2**32 - 1))
    def gradients_hold(case: Any, layer_seed: int) -> None:
        __tracebackhide__ = True
        from backprop_doctor.assertions import assert_layer_gradients
        from backprop_doctor.errors import GradientCheckError

        x, t = case if isinstance(case, tuple) else (case, None)
        layer = layer_factory(x, np.random.default_rng(layer_seed))
        try:
            assert_layer_gradients(layer, x, t, **check_options)
        except GradientCheckError as failed:
            example = f"Falsifying example: layer_factory(x, rng) with rng seed {layer_seed}\nx = {_show(x)}"
            if t is not None:
                example += f"\nt = {_show(t)}"
            error = GradientCheckError(failed.report)
            error.args = (f"{failed}\n\n{example}",)
            raise error from None

    gradients_hold()


def _show(a: Any) -> str:
    array = np.asarray(a)
    return f"{np.array2string(array, precision=6, separator=', ', threshold=60)}  # shape {array.shape}, {array.dtype}"


# --------------------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _int_at_least(name: str, value: Any, lowest: int) -> None:
    if not _is_int(value):
        raise UsageError(f"{name}={value!r} must be an integer")
    if value < lowest:
        raise UsageError(f"{name}={value!r} must be at least {lowest}")


def _int_range(low_name: str, low: Any, high_name: str, high: Any, *, lowest: int, highest: int | None = None) -> None:
    _int_at_least(low_name, low, lowest)
    _int_at_least(high_name, high, lowest)
    if low > high:
        raise UsageError(f"{low_name}={low!r} must not exceed {high_name}={high!r}")
    if highest is not None and high > highest:
        raise UsageError(f"{high_name}={high!r} must be at most {highest}")


def _shape(shape: Any) -> tuple[int, ...]:
    dims = (shape,) if _is_int(shape) else shape
    if not isinstance(dims, tuple) or not dims or not all(_is_int(d) and d >= 1 for d in dims):
        raise UsageError(f"shape={shape!r} must be a positive integer or a non-empty tuple of them")
    return tuple(int(d) for d in dims)


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise UsageError(f"dtype={dtype!r} is not a NumPy dtype") from None
    if resolved.kind != "f" or resolved.itemsize not in (2, 4, 8):
        raise UsageError(f"dtype={dtype!r} must be float16, float32 or float64")
    return resolved


def _inward(value: float, dtype: np.dtype, *, up: bool) -> float:
    """`value` as the nearest number of `dtype` that stays inside the bound (hypothesis wants exact bounds)."""
    rounded = dtype.type(value)
    if up and float(rounded) < value:
        rounded = np.nextafter(rounded, dtype.type(np.inf))
    elif not up and float(rounded) > value:
        rounded = np.nextafter(rounded, dtype.type(-np.inf))
    return float(rounded)


def _value_range(min_value: Any, max_value: Any, dtype: np.dtype) -> None:
    limit = float(np.finfo(dtype).max)
    for name, value in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise UsageError(f"{name}={value!r} must be a real number")
        if not math.isfinite(value) or abs(value) > limit:
            raise UsageError(f"{name}={value!r} must be finite and representable in {dtype}")
    if min_value > max_value:
        raise UsageError(f"min_value={min_value!r} must not exceed max_value={max_value!r}")
