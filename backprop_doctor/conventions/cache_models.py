"""Whole models whose forward hands back a cache, and whose backward returns the loss and every gradient.

Example:
    class MLP:
        def __init__(self, input_dim=3072, hidden_dim=256, output_dim=10):
            self.params = {"W1": ..., "b1": ..., "W2": ..., "b2": ...}

        def forward(self, X):
            Z1 = X @ self.params["W1"] + self.params["b1"]
            A1 = np.maximum(0, Z1)
            Z2 = A1 @ self.params["W2"] + self.params["b2"]
            return Z2, (X, Z1, A1)

        def backward(self, logits, labels, cache, reg):
            X, Z1, A1 = cache
            ...                                  # softmax, cross-entropy, the L2 penalty
            return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

A course's three-layer classifier is often written this way: no layer objects, no upstream
gradient; the model's `backward` takes its own forward's output and cache with the labels,
computes the loss there, and returns it with the gradients keyed like `self.params`. The
loss is what that backward returns, as a function of `self.params`; the gradients are the dict
it returns with it.

Recognised by: `forward` taking one input and `backward` taking the prediction (`logits`,
`scores`, `y_pred`, ...), the target (`labels`, `y`, ...) and a `cache`, and perhaps a
regularisation strength (`reg`, `lambda_`) given 0.1 so a penalty the gradient forgets shows;
confirmed by a trial on a model built small (its size arguments at a few units each): forward
returns a pair and backward returns a number and a dict with the keys of the model's `params`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array, parameters, promote_to_float64
from backprop_doctor.conventions import model_backward
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.conventions.loss_objects import PREDICTIONS, TARGETS
from backprop_doctor.static.methods import returned_names

NAME = "cache-model"
KIND = "class"
ORDER = 12  # before the layer conventions, which would call this backward with one upstream gradient

REGULARISATION = frozenset({"reg", "lambda_", "lambd", "lam", "l2", "reg_lambda", "weight_decay", "l2_lambda", "lmbda"})
CACHES = frozenset({"cache", "caches", "cached"})
SAMPLES, FEATURES, HIDDEN, CLASSES, REG = 6, 5, 4, 3, 0.1
_SIZE = re.compile(r"(?i)(input|in|n_in|hidden|h|output|out|n_out|num_classes|n_classes|classes)\w*(_dim|_size|_units|dim|size)?\d*")


def _arguments(cls: type) -> list[str] | None:
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)) or len(required_inputs(forward)) != 1:
        return None
    names = [n.lower() for n in required_inputs(backward)]
    if len(names) < 3 or names[0] not in PREDICTIONS or names[1] not in (*TARGETS, "labels", "y") or names[2] not in CACHES:
        return None
    if any(n not in REGULARISATION for n in names[3:]):
        return None
    return required_inputs(backward)


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    if _arguments(cls) is None:
        return False
    # a backward that returns the gradients alone, beside a step method that computes the loss (`train_step`):
    # `conventions.model_backward` checks it through that step
    return not (model_backward.step_method(cls) is not None and len(returned_names(function_node(cls.backward))) != 2)


def label(obj: Any) -> str:
    return obj.__name__


def _small(cls: type) -> dict[str, Any]:
    """The constructor's sizes at a few units each (`input_dim=3072` -> 5): the model's other arguments keep their defaults."""
    kwargs: dict[str, Any] = {}
    for name, p in parameters(cls.__init__).items():
        if not isinstance(p.default, int) or isinstance(p.default, bool) or p.default <= 1 or not _SIZE.fullmatch(name):
            continue
        low = name.lower()
        kwargs[name] = FEATURES if low.startswith(("in", "n_in")) else CLASSES if low.startswith(("out", "n_out", "num_classes", "n_classes", "classes")) else HIDDEN
    return kwargs


class CacheModel(Adapter):
    """The loss `backward(*forward(x), ...)` returns, as a function of the model's `params`."""

    def __init__(self, model: Any, names: list[str]):
        super().__init__(name=type(model).__name__, kind="cache-model", target=type(model), is_loss=True)
        self.model = model
        self.dout_is_input = False
        self._extra = {n: REG for n in names[3:]}
        self._grads: dict[str, Any] = {}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self.model.params.items() if is_float_array(v)}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        out, cache = self.model.forward(x)
        loss, grads = self.model.backward(out, t, cache, *self._extra.values())
        self._grads = grads
        return float(loss)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, {k: np.asarray(g, dtype=np.float64) * dout for k, g in self._grads.items() if k in self.params()}

    def backward_target(self) -> Any:
        return type(self.model).backward

    def forward_target(self) -> Any:
        return type(self.model).forward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return (f"d{param}", f"grads['{param}']", f'grads["{param}"]', param)


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    names = _arguments(cls)
    assert names is not None
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        model = cls(**_small(cls))
    except Exception as error:  # noqa: BLE001 - user code
        raise NotChecked(f"`{cls.__name__}(...)` could not be built small: {type(error).__name__}: {error}") from error
    finally:
        np.random.set_state(state)
    promote_to_float64(model)  # weights made float32: checked in float64
    if not isinstance(getattr(model, "params", None), dict) or not any(is_float_array(v) for v in model.params.values()):
        raise NotChecked(f"`{cls.__name__}` keeps no `params` dict of arrays")
    first = next(v for v in model.params.values() if is_float_array(v))
    x = rng.standard_normal((SAMPLES, first.shape[0]))
    for what, t in (("integer labels", rng.integers(0, CLASSES, SAMPLES)), ("one-hot targets", np.eye(CLASSES)[rng.integers(0, CLASSES, SAMPLES)])):
        adapter = CacheModel(model, names)
        try:
            value = adapter.forward(x, t)
            _, grads = adapter.backward(1.0)
        except Exception:  # noqa: BLE001 - not this kind of target
            continue
        if np.isfinite(value) and set(grads) == set(adapter.params()):
            return [Case(f"x {x.shape}, {what} {t.shape}, {names[3]} {REG}" if len(names) > 3 else f"x {x.shape}, {what} {t.shape}", adapter, x, t)]
    raise NotChecked(f"`{cls.__name__}.backward` did not return (loss, gradients of every parameter) on x {x.shape}")
