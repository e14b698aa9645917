"""cs231n classifiers: a `params` dict and `loss(X, y)` returning `(loss, grads)`.

Assignment 1's `TwoLayerNet(input_size, hidden_size, output_size, std)` with
`loss(X, y=None, reg=0.0)`, assignment 2's `TwoLayerNet`, `FullyConnectedNet`
and `ThreeLayerConvNet` with `loss(X, y=None)`: without `y` the scores, with it
the loss and a dict of gradients keyed like `self.params` (`W1`, `b1`, ...).

Example:
    class TwoLayerNet(object):
        def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
            self.params = {"W1": weight_scale * np.random.randn(input_dim, hidden_dim), "b1": np.zeros(hidden_dim), ...}

        def loss(self, X, y=None):
            ...
            if y is None:
                return scores
            loss, dscores = softmax_loss(scores, y)
            ...
            return loss, grads

Recognised by: a `loss` method taking `X` and `y` (y optional), no `gradient`
method, and a constructor that sets `params`; confirmed by building it with
small sizes and a trial `loss(X, y)` that returns `(scalar, dict)`. Gradients
live in the dict `loss` returns.
"""

from __future__ import annotations

import ast
import copy
import inspect
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array, parameters, promote_to_float64
from backprop_doctor.conventions._classlayer import function_node, last_return, required_inputs
from backprop_doctor.static.methods import assigned_attributes
from backprop_doctor.conventions._run import Case, NotChecked, program_instances

NAME = "cs231n-classifier"
KIND = "class"
ORDER = 5
SMALL = {
    "input_dim": 12, "input_size": 12, "hidden_dim": 8, "hidden_size": 8, "hidden_dims": [8, 6],
    "num_classes": 4, "output_size": 4, "num_filters": 4, "filter_size": 3,
    "weight_scale": 0.1, "std": 0.1, "reg": 0.1,
}


# the method that returns (loss, grads): cs231n's `loss`, or a course's `loss_and_grads(x, y, weight_decay)`
LOSS_METHODS = ("loss", "loss_and_grads", "loss_and_gradients", "compute_loss_and_grads", "loss_grad", "loss_and_grad")
PENALTIES = frozenset({"reg", "weight_decay", "lambda_", "l2", "l2_lambda", "reg_lambda", "lambd", "lam"})


def loss_method(cls: type) -> str | None:
    """The name of `cls`'s method taking (X, y, ...) that returns the loss and its gradients, or None."""
    for name in LOSS_METHODS:
        method = getattr(cls, name, None)
        if not callable(method):
            continue
        names = [n.lower() for n in parameters(method)]
        if len(names) >= 2 and names[0] == "x" and names[1] == "y":
            return name
    return None


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    if loss_method(cls) is None or callable(getattr(cls, "gradient", None)):
        return False
    init = function_node(getattr(cls, "__init__", None))
    if init is None or _keeps_gradients(cls, init):
        return False
    return "params" in assigned_attributes(init) or _returns_a_dict_beside(cls)


def _keeps_gradients(cls: type, init: Any) -> bool:
    """Whether the loss method only returns the loss, never a pair, and the object keeps its gradients
    itself (`self.grads = {}` in the constructor, filled while `loss` runs): not this convention, whose
    `loss` hands the gradients back; its training step is checked where the program steps it."""
    node = function_node(getattr(cls, loss_method(cls) or "loss", None))
    if node is None or "grads" not in assigned_attributes(init):
        return False
    returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
    return bool(returned) and not any(isinstance(value, ast.Tuple) for value in returned)


def _returns_a_dict_beside(cls: type) -> bool:
    """Whether the loss method's last `return` gives two values (`return loss, g`): without a `params`
    dict, its gradients are keyed by the names of the attributes they are for (`g["W1"]` of `self.W1`)."""
    returned = last_return(getattr(cls, loss_method(cls) or "loss", None))
    return isinstance(returned, ast.Tuple) and len(returned.elts) == 2


def _returned_dict(cls: type) -> str | None:
    """The name of the gradients' dict the loss method returns second (`return loss, g`: "g")."""
    returned = last_return(getattr(cls, loss_method(cls) or "loss", None))
    if isinstance(returned, ast.Tuple) and len(returned.elts) == 2 and isinstance(returned.elts[1], ast.Name):
        return returned.elts[1].id
    return None


def _attributes_for(net: Any, grads: Any) -> list[str]:
    """The attributes of `net` the gradients' keys name, each an array of its gradient's shape."""
    if not isinstance(grads, dict):
        return []
    return [
        k for k, g in grads.items()
        if isinstance(k, str) and is_float_array(getattr(net, k, None)) and np.shape(g) == getattr(net, k).shape
    ]  # fmt: skip


class Classifier(Adapter):
    """`loss(X, y)` seen as a loss layer: forward is the loss, backward the grads dict it returned."""

    def __init__(self, net: Any, name: str, attributes: list[str] | None = None):
        super().__init__(name=name, kind="cs231n-classifier", target=type(net), is_loss=True)
        self.net = net
        self.dout_is_input = False
        self._grads: dict[str, Any] = {}
        self._method = loss_method(type(net)) or "loss"
        self.extra = penalty(net)
        self._attributes = attributes  # `self.W1`, ... when the network keeps no `params` dict
        self._dict = _returned_dict(type(net)) if attributes else None

    def params(self) -> dict[str, np.ndarray]:
        if self._attributes is not None:
            return {k: getattr(self.net, k) for k in self._attributes}
        return {k: v for k, v in self.net.params.items() if is_float_array(v)}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        loss, grads = getattr(self.net, self._method)(x, t, **self.extra)
        self._grads = dict(grads) if isinstance(grads, dict) else {}
        return loss

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, dict(self._grads)

    def backward_target(self) -> Any:
        return getattr(type(self.net), self._method)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        stem = param.rstrip("0123456789")
        built = (f"['{stem}' +]",) if stem != param else ()  # `grads[f"W{i}"]` in a loop over the layers
        own = (f"{self._dict}['{param}']", f'{self._dict}["{param}"]') if self._dict and self._dict != "grads" else ()
        return (*own, f"grads['{param}']", f'grads["{param}"]', *built, self._dict or "grads")


def penalty(net: Any) -> dict[str, float]:
    """`reg=0.1` for assignment 1's `loss(X, y=None, reg=0.0)`: at its default of 0 the penalty's
    gradient (`dW1 += 2 * reg * W1`, often forgotten or at half its size) would never be compared."""
    try:
        names = parameters(getattr(type(net), loss_method(type(net)) or "loss"))
    except (TypeError, ValueError, AttributeError):
        return {}
    return {n: SMALL["reg"] for n in names if n.lower() in PENALTIES}  # `weight_decay` of a course's `loss_and_grads` too


def _kwargs(cls: type, rng: np.random.Generator) -> dict[str, Any]:
    """cs231n's own constructor arguments at small sizes; any other required one as `build` guesses it
    by its name (`output_dim`, `activation`, `seed`), or NotChecked."""
    from backprop_doctor import build as builder

    kwargs: dict[str, Any] = {}
    for p in inspect.signature(cls).parameters.values():
        if p.name in SMALL:
            kwargs[p.name] = SMALL[p.name]
            if p.name == "input_dim" and isinstance(p.default, tuple):
                kwargs[p.name] = (3, 8, 8)
        elif p.name == "dtype":
            kwargs[p.name] = np.float64
        elif p.default is p.empty and p.name.lower() in ("activation", "act", "activation_fn", "nonlinearity", "hidden_activation"):
            kwargs[p.name] = "relu"  # the name every such constructor accepts
        elif p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            try:
                kwargs[p.name] = builder._value_for(p.name, cls.__name__, p.default, rng, {})
            except Exception as error:  # noqa: BLE001 - nothing to guess it from
                raise NotChecked(f"cannot guess the constructor argument `{p.name}`") from error
    return kwargs


def _classes(net: Any, kwargs: dict[str, Any], x: np.ndarray) -> int:
    """How many classes the labels are drawn from: the class count set here (`num_classes`), else
    the width of the scores `loss(X)` returns without `y` (cs231n's test-time path), else the
    columns of the last weight. A constructor that keeps its own default (`C=3`) would otherwise
    get labels its scores have no column for, and its correct `p[np.arange(N), y]` would raise."""
    from backprop_doctor import build as builder

    given = kwargs.get("num_classes") or kwargs.get("output_size")
    if isinstance(given, int):
        return given
    name = loss_method(type(net)) or "loss"
    if len(required_inputs(getattr(net, name))) == 1:
        scores = builder._trial(lambda: getattr(copy.deepcopy(net), name)(x.copy()))
        if isinstance(scores, np.ndarray) and scores.ndim == 2 and scores.shape[0] == len(x):
            return scores.shape[1]
    held = net.params if isinstance(getattr(net, "params", None), dict) else {k: v for k, v in vars(net).items() if is_float_array(v)}
    return builder.last_width(held) or 4


def _trial_loss(net: Any, cls: type, x: np.ndarray, y: np.ndarray) -> Any:
    """The network's loss method once, on copies, as the check will call it."""
    np.random.seed(FORWARD_SEED)
    return getattr(net, loss_method(cls) or "loss")(x.copy(), y.copy(), **penalty(net))


def _observed(cls: type, context: Any) -> Case | None:
    """The program's own object as its first call of the loss method found it, on the first samples of
    that call's arrays: for a constructor whose arguments nothing here can guess (`MLP(2, 100, 3)`)."""
    from backprop_doctor.observe.check import _rows  # the observed checks' own cut

    method = loss_method(cls) or "loss"
    for instance in program_instances(context, cls, method):
        call = next((c for c in instance.calls.get(method, []) if len(c.args) >= 2 and all(isinstance(a, np.ndarray) for a in c.args[:2])), None)
        if call is None or call.args[0].dtype.kind not in "fiu":
            continue
        net = copy.deepcopy(instance.state)
        promote_to_float64(net)
        x, y = _rows(np.array(call.args[0], dtype=np.float64)), _rows(call.args[1])
        state = np.random.get_state()
        try:
            result = _trial_loss(net, cls, x, y)
        except Exception:  # noqa: BLE001 - the user's code, on its own data: not checked this way
            continue
        finally:
            np.random.set_state(state)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
            continue
        held = isinstance(getattr(net, "params", None), dict)
        attributes = None if held else _attributes_for(net, result[1])
        if not held and not attributes:
            continue
        return Case(f"x {x.shape}, y {y.shape}: your program's own `{method}` call (line {call.line})", Classifier(net, cls.__name__, attributes), x, y)
    return None


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    try:
        kwargs = _kwargs(cls, rng)
    except NotChecked:
        case = _observed(cls, context)
        if case is None:
            raise
        return [case]
    np.random.seed(context.options.seed)
    net = builder.made(cls, rng, kwargs)
    promote_to_float64(net)  # weights made float32 (`.astype(np.float32)`): checked in float64, as a model's gradient is
    held = net.params if isinstance(getattr(net, "params", None), dict) else None
    arrays = held.values() if held is not None else [v for v in vars(net).values() if is_float_array(v) and v.ndim == 2]
    first = next((v for v in arrays if is_float_array(v)), None)
    if first is None:
        raise NotChecked("its params dict holds no arrays" if held is not None else "it holds no weight matrix")
    shape = kwargs.get("input_dim") or kwargs.get("input_size") or first.shape[0]
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
    n = context.options.batch_size
    x = rng.standard_normal((n, *shape))
    classes = _classes(net, kwargs, x)
    y = rng.integers(0, classes, n)
    state = np.random.get_state()
    try:
        result = _trial_loss(net, cls, x, y)
    except Exception as error:
        if (missing := builder.unimportable_name(error)) is not None:
            raise NotChecked(f"it uses `{missing}`, {builder.unimportable_reason(error, missing)}") from error
        try:  # a loss of one-hot targets (`-np.sum(y * np.log(p))`): the same labels as rows of the identity
            result, y = _trial_loss(net, cls, x, np.eye(classes)[y]), np.eye(classes)[y]
        except Exception:  # noqa: BLE001 - the user's code
            result = (0.0, {})  # the engine reports what it raises with integer labels, at the user's line
    finally:
        np.random.set_state(state)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise NotChecked(f"{loss_method(cls) or 'loss'}(X, y) does not return (loss, grads)")
    attributes = None
    if held is None:  # gradients keyed by the attributes they are for
        attributes = _attributes_for(net, result[1])
        if not attributes:
            raise NotChecked(f"the gradients {loss_method(cls) or 'loss'}(X, y) returns are not keyed by attributes of `{cls.__name__}`")
    reg = ""
    if penalty(net):  # the replay runs the program's own `reg`, often too small for this gradient to show
        context.extras.setdefault("penalised", {})[cls.__name__] = SMALL["reg"]
        reg = "".join(f", {name} {value}" for name, value in penalty(net).items())
    return [Case(f"x {x.shape}, labels {y.shape}{reg}", Classifier(net, cls.__name__, attributes), x, y)]
