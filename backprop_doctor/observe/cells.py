"""Gradient-check a layer whose forward takes several arrays, as the program called it.

An RNN cell's `forward(x, h_prev)` or an LSTM cell's `forward(x, h_prev, c_prev)`
is checked with respect to its first input and its parameters, the other inputs
held at the values the program gave. When forward returns several arrays
(`h_next, c_next`), the check follows the first one and backward gets zeros
for the others (`backward(dh_next, dc_next=0)`), so every gradient it returns
for the first input and stores for the parameters must match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_doctor.adapters import ClassLayer, _parameters, _train_kwargs, isolated
from backprop_doctor.engine import LayerCheck
from backprop_doctor.findings import Built, Report
from backprop_doctor.options import Options


class ObservedCell(ClassLayer):
    """A layer called as `forward(x, *others)`; `others` stay fixed."""

    def __init__(self, layer: Any, others: list[np.ndarray], *, train: bool = True):
        super().__init__(layer, train=train)
        self.is_loss = False
        self.kind = "dlfs2-layer" if self._dlfs2 else "layer"
        self.others = others
        self._extra_outputs: list[tuple[int, ...]] = []
        self.dout_is_input = True

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        forward = self.layer.forward
        out = forward(x, *[o.copy() for o in self.others], **_train_kwargs(forward, self.train))
        if isinstance(out, tuple) and out and isinstance(out[0], np.ndarray):
            self._extra_outputs = [np.shape(o) for o in out[1:]]
            return out[0]
        self._extra_outputs = []
        return out

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        backward = self.layer.backward
        zeros = [np.zeros(shape) for shape in self._extra_outputs]
        takes = len(_parameters(backward))
        result = backward(dout, *zeros[: max(0, takes - 1)])
        dx = result[0] if isinstance(result, tuple) and result else result
        if self._dlfs2:
            grads = {name: self.layer.grads[i] if i < len(self.layer.grads) else None for i, name in enumerate(self.params())}
        else:
            grads = {name: getattr(self.layer, self._grad_names[name], None) for name in self.params()}
        return dx, grads


class StoredOutput(ClassLayer):
    """A layer whose forward stores `self.output` and returns None, and whose backward stores
    `self.dinputs` (the NNFS book's convention), as the observed program used it."""

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        out = super().forward(x, t)
        return getattr(self.layer, "output", None) if out is None else out

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        dx, grads = super().backward(dout)
        return (getattr(self.layer, "dinputs", None) if dx is None else dx), grads


def check_stored_output(layer: Any, x: np.ndarray, options: Options, label: str) -> Report:
    report = Report(seed=options.seed)
    with isolated(layer) as (work, dtypes):
        check = LayerCheck(StoredOutput(work, train=options.train), np.array(x, dtype=np.float64), None, options, user_dtypes=frozenset(dtypes), label=label)
        report.extend(check.run())
    return report


def check_cell(layer: Any, arrays: list[np.ndarray], options: Options, label: str) -> Report:
    """The gradient check of `layer.forward(arrays[0], *arrays[1:])` on copies."""
    report = Report(seed=options.seed)
    x = np.array(arrays[0], dtype=np.float64) if arrays[0].dtype.kind == "f" else arrays[0]
    others = [np.array(a, dtype=np.float64) if a.dtype.kind == "f" else a for a in arrays[1:]]
    with isolated(layer) as (work, dtypes):
        check = LayerCheck(ObservedCell(work, others, train=options.train), x, None, options, user_dtypes=frozenset(dtypes), label=label)
        report.extend(check.run())
    report.built.append(Built(label, "given object", ", ".join(str(a.shape) for a in arrays)))
    return report
