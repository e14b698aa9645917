"""Gradient-check a layer object the way the observed program called it.

The program's first recorded `forward` call decides the calling convention,
not the signature: a loss layer is one whose forward was given two arrays and
returned one number (`forward(x, t)`); any other layer is checked with respect
to its first input and its parameters, the other arrays it was given held at
the values the program gave (an RNN cell's `forward(x, h_prev)`, an LSTM
cell's `forward(x, h_prev, c_prev)`). When forward returns several arrays
(`h_next, c_next`), the check follows the first and backward gets zeros for
the others (`backward(dh_next, dc_next=0)`). A forward that returns None and
stores `self.output`, with a backward that stores `self.dinputs` (the NNFS
book's convention), is read through those attributes. Attributes that forward
rebinds (a stateful RNN's hidden state) are put back before every evaluation.
A backward that raises on the gradient (n,) of a 1-D output and runs on the row
(1, n) (a cell returning `np.ravel(h)` whose backward transposes the row its
program passes) is called with that row, its gradients read back in the
inputs' shapes (`return dx.T`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import isolated, parameters as _parameters, train_kwargs as _train_kwargs
from backprop_doctor.conventions._classlayer import ClassLayer, call_backward, call_forward, flags_set, loss_of_pair
from backprop_doctor.conventions.dlfs2 import dlfs2_names
from backprop_doctor.engine import LayerCheck
from backprop_doctor.findings import Report
from backprop_doctor.options import Options


class ObservedLayer(ClassLayer):
    """A layer called as `forward(x, t)` (a loss) or `forward(x, *others)`; `others` stay fixed."""

    def __init__(self, layer: Any, others: list[np.ndarray], *, loss: bool, train: bool = True):
        super().__init__(layer, train=train)
        self.is_loss = loss
        self.kind = "dlfs2-layer" if self._dlfs2 else "loss-layer" if loss else "layer"
        self.others = others
        self._extra_outputs: list[tuple[int, ...]] = []
        self._x_shape: tuple[int, ...] | None = None  # the input's shape, to find its gradient among backward's results
        self._groups: dict[str, list[int]] = {}  # DLFS-2: a parameter listed several times -> its indices
        # What forward rebinds (a stateful TimeLSTM's self.h, self.c) is put back before every
        # forward, so each evaluation starts from the state the program first called it in.
        self._bindings = dict(vars(layer)) if hasattr(layer, "__dict__") else {}
        # the other inputs (an LSTM cell's h_prev, c_prev), checked like parameters when backward returns
        # one gradient per input, in their order (`return dx, dh_prev, dc_prev`)
        self._others = _returned_per_input(layer, others) if not loss else {}
        self._others_grads: dict[str, Any] = {}
        # the methods the program called, by their names (through the class's `__call__` for DeZero)
        self._as_called = dataclasses.replace(self.methods, forward="forward", backward="backward")
        # backward takes the gradient of a 1-D output (n,) as the row (1, n) the program passes it
        # (`delta.T` inside): None until a backward has run, then whether it is that row
        self._row_upstream: bool | None = None
        # backward(dscores, seq): forward's inputs it takes again by their names, after its upstream gradient
        from backprop_doctor.conventions.recurrent import again_inputs

        self._again = [] if loss else again_inputs(type(layer), self._as_called)
        self._given: list[np.ndarray] = []  # forward's inputs as the last forward got them

    def discover_params(self, forward_before: dict[str, int]) -> None:
        """As `ClassLayer`, except that an array listed several times in a DLFS-2 `params`
        (the book's NegativeSamplingLoss shares one W among its EmbeddingDot layers) is one
        parameter whose gradient is the sum of its entries in `grads`, as the book's
        `remove_duplicate` makes it before the update."""
        super().discover_params(forward_before)
        if not self._dlfs2:
            return
        first: dict[int, str] = {}
        kept: dict[str, np.ndarray] = {}
        for i, (name, array) in enumerate(zip(dlfs2_names(self.layer), self.layer.params)):
            if name not in (self._params or {}):
                continue
            owner = first.setdefault(id(array), name)
            if owner == name:
                kept[name] = array
            self._groups.setdefault(owner, []).append(i)
        self._params = kept

    def _summed(self, grads: list[Any]) -> dict[str, Any]:
        out = {}
        for name, indices in self._groups.items():
            parts = [grads[i] for i in indices if i < len(grads) and isinstance(grads[i], np.ndarray)]
            out[name] = sum(parts[1:], parts[0].copy()) if len(parts) == len(indices) and parts else None
        return out

    def gradients_from(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        if self._dlfs2 and self._groups:
            return {**self._summed(snapshot.get("grads", [])), **self._others_grads}
        return {**super().gradients_from(snapshot), **self._others_grads}

    def _called(self) -> Any:
        return self._as_called

    def params(self) -> dict[str, np.ndarray]:
        if self._again and self.returns_gradients:  # `return dU, dV, ...`: the parameters' gradients alone
            return self.layer_params()
        return {**self.layer_params(), **self._others}

    def grad_targets(self, param: str) -> tuple[str, ...]:
        if param in self._others:
            from backprop_doctor.conventions._classlayer import function_node
            from backprop_doctor.static.methods import returned_names

            names = returned_names(function_node(self.backward_target()))
            index = list(self._others).index(param) + 1
            return (names[index],) if index < len(names) and names[index] else (f"d{param}",)
        return super().grad_targets(param)

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        for name, value in self._bindings.items():
            if getattr(self.layer, name, None) is not value:
                setattr(self.layer, name, value)
        self.note_bindings()
        forward = self.layer.forward
        kwargs = _train_kwargs(forward, self.train)
        self._x_shape = tuple(np.shape(x))
        inputs = (x, t) if self.is_loss else (x, *[o.copy() for o in self.others])
        self._given = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in inputs]
        with flags_set(self.layer, self._as_called, self.train):
            out = call_forward(self.layer, self._as_called, *inputs, **kwargs)
        if out is None:
            out = getattr(self.layer, getattr(self.methods, "output", None) or "output", None)  # NNFS: `self.output(s)`
        if self.is_loss:
            out = loss_of_pair(out, x)  # `return probs, loss` by design: the loss
        if isinstance(out, tuple) and out and isinstance(out[0], np.ndarray):
            self._extra_outputs = [np.shape(o) for o in out[1:]]
            return out[0]
        self._extra_outputs = []
        return out

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        backward = self.layer.backward
        self._zero_held()  # a parameter object's `self.W.grad` read for this call alone
        if self.methods.local_derivative:
            result = self.times_derivative(dout, call_backward(self.layer, self._as_called))
        elif not self.dout_is_input:
            result = backward()
        elif self._again:
            result = call_backward(self.layer, self._as_called, *self._with_inputs(dout))
        else:
            zeros = [np.zeros(shape) for shape in self._extra_outputs]
            result = self._upstream_backward(dout, zeros[: max(0, len(_parameters(backward)) - 1)])
        if not self.others or self._again:
            self.match_declared(result)  # `return [dWx, dWh, db]` in the order of the model's `params()`
        if self.unpaired_result(result):
            return None, {}
        if self.returns_gradients and isinstance(result, (tuple, list)) and len(result) == self.returned_count and (not self.others or self._again):
            self._returned_values = result  # `return dW, db`: the parameters' gradients, no input gradient
            return None, self._layer_grads()
        dx = result[0] if isinstance(result, tuple) and result else result
        if isinstance(result, tuple):  # `return dh_prev, dx, dc_prev`: the one gradient shaped like x, when only one is
            shaped = [r for r in result if isinstance(r, np.ndarray) and r.shape == getattr(self, "_x_shape", None)]
            dx = shaped[0] if len(shaped) == 1 else dx
        dx = self._keyed_result(dx)  # `return {"W": dW, ...}` beside `self.grad_in = ...`
        if dx is None:
            dx = getattr(self.layer, getattr(self.methods, "dx", None) or "dinputs", None)
        if self._row_upstream:
            dx = _as_shaped(dx, self._x_shape)  # `return dx.T`: the row of a 1-D input's gradient
        if self._others and isinstance(result, tuple) and len(result) == 1 + len(self.others):
            returned = list(result[1:])
            self._others_grads = {
                name: np.array(_as_shaped(g, np.shape(other)) if self._row_upstream else g, copy=True) if isinstance(g, np.ndarray) else g
                for (name, other), g in zip(self._others.items(), returned)
            }
        if self._dlfs2 and self._groups:
            grads = self._summed(list(self.layer.grads))
        elif self._dlfs2:
            grads = {name: self.layer.grads[i] if i < len(self.layer.grads) else None for i, name in enumerate(self.layer_params())}
        elif self._keyed:  # `return {"W": dW, ...}`
            grads = self._kept_grads()
        else:
            grads = {name: self.kept_gradient(name) for name in self.layer_params()}
        return dx, {**grads, **self._others_grads}

    def _with_inputs(self, dout: Any) -> list[Any]:
        """backward's arguments for one taking forward's inputs again by name (`backward(dscores, seq)`):
        copies of what the last forward got there, the upstream gradient first among the others, zeros of
        forward's other outputs after it."""
        from backprop_doctor.conventions._classlayer import required_inputs

        names = list(_parameters(self.layer.forward))[: len(self._given)]
        given = dict(zip(names, self._given))
        upstream = [dout, *(np.zeros(shape) for shape in self._extra_outputs)]
        args = []
        for name in required_inputs(self.layer.backward):
            if name in self._again and name in given:
                args.append(np.array(given[name], copy=True) if isinstance(given[name], np.ndarray) else given[name])
            else:
                args.append(upstream.pop(0) if upstream else None)
        return args

    def _upstream_backward(self, dout: Any, zeros: list[np.ndarray]) -> Any:
        """backward(dout, *zeros); the gradient of a 1-D output (n,) handed over as the row (1, n) when
        backward raises on it and runs on the row (a cell whose forward returns `np.ravel(h)` and whose
        backward transposes the `(1, n)` delta its program passes): decided on the first call, kept after."""
        run = lambda d: call_backward(self.layer, self._as_called, d, *zeros)  # noqa: E731
        if self._row_upstream:
            return run(dout.reshape(1, -1))
        one_d = isinstance(dout, np.ndarray) and dout.ndim == 1 and self._row_upstream is None
        saved = _arrays_of(self.layer) if one_d else []
        try:
            result = run(dout)
        except Exception as error:
            if not one_d or "read-only" in str(error):
                raise
            _restore(self.layer, saved)  # what the failed call changed before it raised
            try:
                result = run(dout.reshape(1, -1))
            except Exception as on_row:
                _restore(self.layer, saved)
                # the row does not help: the first error is the one to report, unless the row got further
                # through backward (a mistake of its own after the lines the (n,) gradient failed at)
                code = getattr(getattr(self.layer.backward, "__func__", None), "__code__", None)
                if _line_in(on_row, code) > _line_in(error, code):
                    raise on_row from None
                raise error from None
            self._row_upstream = True
            return result
        self._row_upstream = False
        return result


def _line_in(error: BaseException, code: Any) -> int:
    """The line of `code` (a backward's) that `error` was raised from, or 0."""
    tb, line = error.__traceback__, 0
    while tb is not None:
        if tb.tb_frame.f_code is code:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _arrays_of(layer: Any) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(attribute, array, a copy of its values) of each array the layer holds."""
    held = vars(layer).items() if hasattr(layer, "__dict__") else ()
    return [(name, value, value.copy()) for name, value in held if isinstance(value, np.ndarray)]


def _restore(layer: Any, saved: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """Each saved array bound again to its attribute with its saved values (the check holds the arrays themselves)."""
    for name, array, values in saved:
        if array.flags.writeable:
            np.copyto(array, values)
        if getattr(layer, name, None) is not array:
            setattr(layer, name, array)


def _as_shaped(g: Any, shape: tuple[int, ...] | None) -> Any:
    """`g`, a row or a column (1, n) / (n, 1), reshaped to the 1-D `shape` (n,) it stands for; else as it is."""
    if isinstance(g, np.ndarray) and shape is not None and len(shape) == 1 and g.ndim == 2 and 1 in g.shape and g.size == shape[0]:
        return g.reshape(shape)
    return g


def check_observed(layer: Any, arrays: list[np.ndarray], loss: bool, options: Options, label: str) -> Report:
    """The gradient check of `layer` on copies, called as the program called it."""
    report = Report(seed=options.seed)
    as_float = [np.array(a, dtype=np.float64) if a.dtype.kind == "f" else a for a in arrays]
    x, t = as_float[0], (arrays[1] if loss else None)
    others = [] if loss else as_float[1:]
    with isolated(layer) as (work, dtypes):
        adapter = ObservedLayer(work, others, loss=loss, train=options.train)
        check = LayerCheck(adapter, x, t, options, user_dtypes=frozenset(dtypes), label=label)
        report.extend(check.run())
    report.extras["forward_evaluations"] = check.counter.forwards
    return report


def _returned_per_input(layer: Any, others: list[np.ndarray]) -> dict[str, np.ndarray]:
    """{name: array} of the inputs after the first (an LSTM cell's `h_prev`, `c_prev`) when backward
    returns one gradient per input, named for it, in their order (`return dx, dh_prev, dc_prev`);
    {} otherwise: they are then held fixed."""
    from backprop_doctor.conventions._classlayer import function_node
    from backprop_doctor.static.methods import returned_names

    forward, backward = getattr(layer, "forward", None), getattr(layer, "backward", None)
    if not (callable(forward) and callable(backward)):
        return {}
    names = list(_parameters(forward))[1 : 1 + len(others)]
    returned = returned_names(function_node(backward))
    if len(names) != len(others) or len(returned) != 1 + len(others):
        return {}
    kept = _kept_as(function_node(forward))
    upstream = next(iter(_parameters(backward)), None)  # `return dout, dout`: an AddLayer's two gradients
    for name, given, array in zip(names, returned[1:], others):
        said = {f"{prefix}{n}".lower() for n in (name, *kept.get(name, ())) for prefix in ("d", "d_", "grad_")}
        if upstream is not None and len(others) == 1:
            said.add(upstream.lower())
        if given.lower() not in said or not (isinstance(array, np.ndarray) and array.dtype.kind == "f"):
            return {}
    return dict(zip(names, others))


def _kept_as(node: Any) -> dict[str, set[str]]:
    """{parameter: attributes forward stores it in}: `self.y = n` keeps `n` as `y`, so a backward
    returning `dx, dy` for `forward(self, fruit, n)` names the gradient of `n` by its attribute."""
    import ast

    if node is None or not node.args.args:
        return {}
    me = node.args.args[0].arg
    kept: dict[str, set[str]] = {}

    def pair(target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                pair(t, v)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == me and isinstance(value, ast.Name):
            kept.setdefault(value.id, set()).add(target.attr)

    for n in ast.walk(node):
        if isinstance(n, ast.Assign):
            for target in n.targets:
                pair(target, n.value)
    return kept
