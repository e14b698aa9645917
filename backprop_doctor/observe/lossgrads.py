"""Gradient-check a call that returns `(loss, grads)`, as the program made it.

cs231n's classifiers (`model.loss(X, y) -> (loss, grads)` with `grads` keyed
like `model.params`) and plain functions such as `loss(params, X, y)` compute
the loss and its gradient together. When the program calls one, the recorded
call says which arrays are the parameters (the dict whose keys and shapes the
returned gradients match, `W1` or `dW1`) and which are the batch; the check
perturbs those parameters of a copy and compares the loss it returns with the
gradients it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import Adapter, copied, is_float_array, promote_to_float64
from backprop_doctor.engine import LayerCheck
from backprop_doctor.findings import Report
from backprop_doctor.observe.record import Call, scalar
from backprop_doctor.options import Options


def gradient_keys(result: Any, params: dict[str, Any]) -> dict[str, str] | None:
    """param name -> key of its gradient in `result[1]`, when `result` is (loss, grads) matching `params`."""
    if not (isinstance(result, tuple) and len(result) >= 2 and scalar(result[0]) is not None and isinstance(result[1], dict)):
        return None
    grads = result[1]
    found = {}
    for name, value in params.items():
        if not is_float_array(value):
            continue
        for key in (name, f"d{name}", f"d_{name}", f"grad_{name}"):
            g = grads.get(key)
            if isinstance(g, np.ndarray) and g.shape == value.shape:
                found[name] = key
                break
    return found or None


class LossAndGrads(Adapter):
    """`call(x, t) -> (loss, grads)` seen as one loss layer whose parameters are `params`."""

    def __init__(self, name: str, target: Any, call: Callable[[Any, Any], Any], params: dict[str, np.ndarray], keys: dict[str, str]):
        super().__init__(name=name, kind="network", target=target, is_loss=True)
        self._call = call
        self._params = {k: params[k] for k in keys}
        self._keys = keys
        self._grads: dict[str, Any] = {}
        self.dout_is_input = False

    def params(self) -> dict[str, np.ndarray]:
        return self._params

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        result = self._call(x, t)
        self._grads = result[1] if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], dict) else {}
        return result[0] if isinstance(result, tuple) else result

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, {name: self._grads.get(key) for name, key in self._keys.items()}

    def has_layers(self) -> bool:
        """Whether the object whose method this is holds layer objects (a `backward` method of their own, in a
        list or an attribute): its gradients are assembled from their backward passes, not computed by the method alone."""
        holder = getattr(self._call, "__self__", None)
        if holder is None or not hasattr(holder, "__dict__"):
            return False
        for value in vars(holder).values():
            for item in value if isinstance(value, (list, tuple)) else value.values() if isinstance(value, dict) else (value,):
                if not isinstance(item, type) and callable(getattr(type(item), "backward", None)):
                    return True
        return False

    def grad_targets(self, param: str) -> tuple[str, ...]:
        key = self._keys.get(param, param)
        return (f"grads['{key}']", f'grads["{key}"]', "grads")


def check_method(obj: Any, method: str, call: Call, options: Options, rows: int) -> tuple[Report, str] | None:
    """Check `obj.<method>(x, t)` when its recorded result is (loss, grads) matching a dict of `obj`."""
    arrays = [a for a in call.args if isinstance(a, np.ndarray)]
    if len(arrays) < 2:
        return None
    for attr, params in vars(obj).items():
        if not isinstance(params, dict):
            continue
        keys = gradient_keys(call.result, params)
        if not keys:
            continue
        # one copy, promoted in place: an array the dict shares with the layers forward reads
        # (`self.params = {"0.W": layer.W, ...}`) stays the one array in both
        work = copied(obj)
        promote_to_float64(work)
        bound = getattr(work, method)
        adapter = LossAndGrads(f"{type(obj).__name__}.{method}", getattr(type(obj), method, type(obj)), bound, getattr(work, attr), keys)
        report = _checked(adapter, arrays[0], arrays[1], options, rows, type(obj).__name__, getattr(type(obj), method, None))
        return report, f"x {tuple(arrays[0].shape)}, y {tuple(arrays[1].shape)}; parameters `self.{attr}`"
    return None


def check_function(func: Any, call: Call, options: Options, rows: int) -> tuple[Report, str] | None:
    """Check `func(...)` when its recorded result is (loss, grads) matching one of its dict arguments."""
    for index, params in enumerate(call.args):
        if not isinstance(params, dict):
            continue
        keys = gradient_keys(call.result, params)
        if not keys:
            continue
        positions = [i for i, a in enumerate(call.args) if isinstance(a, np.ndarray)]
        if len(positions) < 2:
            return None
        # the arguments copied together and promoted in place, so the dict's arrays stay the ones
        # another argument holds (`loss(params, layers, X, y)` with `params` gathered from `layers`)
        fixed = copied(list(call.args))
        promote_to_float64(fixed)
        work = fixed[index]

        def run(x: Any, t: Any) -> Any:
            args = list(fixed)
            args[positions[0]], args[positions[1]] = x, t
            return func(*args)

        adapter = LossAndGrads(func.__name__, func, run, work, keys)
        report = _checked(adapter, call.args[positions[0]], call.args[positions[1]], options, rows, func.__name__, func)
        shapes = f"x {tuple(call.args[positions[0]].shape)}, y {tuple(call.args[positions[1]].shape)}"
        return report, f"{shapes}; parameters: argument {index + 1}"
    return None


WHOLE = 200_000  # elements of a recorded batch checked whole when its first rows would not run


def _checked(adapter: LossAndGrads, x: np.ndarray, t: Any, options: Options, rows: int, label: str, func: Any = None) -> Report:
    """The check of `adapter` on the first `rows` samples of the recorded batch `(x, t)`, cut only when
    both arrays hold that many samples on their first axis (a time-major `xs (T, N, D)` with labels
    `(N,)` keeps its labels whole). A call that raises on the cut batch but ran on the whole one (a
    batch size `N = 64` the program's loss reads as a module constant) is checked on the whole batch;
    so is one whose function (or a function of its file it calls) reads a module number equal to the
    batch's size (`dpred = err / B` with `B = 48` beside `X (48, ...)`): on the cut batch its
    gradients would be rows/B of the loss's, a factor no error of the program's."""
    n = np.shape(x)[0] if np.ndim(x) else None
    cut = n is not None and n > rows and np.ndim(t) and np.shape(t)[0] == n
    if cut and np.size(x) <= WHOLE and func is not None and counts_batch(func, n):
        cut = False
    report = Report(seed=options.seed)
    first = LayerCheck(adapter, _batch(x[:rows] if cut else x), t[:rows] if cut else t, options, label=label).run()
    if cut and np.size(x) <= WHOLE and any(f.name == "layer-raised" and f.severity == "error" for f in first.findings):
        first = LayerCheck(adapter, _batch(x), t, options, label=label).run()
    report.extend(first)
    return report


def _batch(x: Any) -> np.ndarray:
    """The recorded batch as the check feeds it: float64, except integer token ids (`ids (32, 10)` an
    embedding's `E[ids]` indexes with), which stay the integers the program gave."""
    a = np.asarray(x)
    return np.array(a) if a.dtype.kind in "iu" else np.array(a, dtype=np.float64)


def counts_batch(func: Any, n: int) -> bool:
    """Whether `func`, or a function of its file it calls, reads a module global holding the number `n`
    (the size of the batch it was handed: `B = 48`, `N = X.shape[0]`), so that a cut batch would not
    match the count it divides by."""
    from backprop_doctor.conventions.gradient_tuples import _reached
    from backprop_doctor.conventions._classlayer import function_node
    from backprop_doctor.static.gradient_returns import globals_read

    try:
        reached = _reached(getattr(func, "__func__", func))
    except Exception:  # noqa: BLE001 - a function whose source cannot be read
        return False
    for f in reached:
        for name in globals_read(function_node(f)):
            held = f.__globals__.get(name)
            if isinstance(held, (int, float, np.integer, np.floating)) and not isinstance(held, bool) and held == n:
                return True
    return False
