"""Whole models whose backward takes the prediction and the target, not an upstream gradient.

`forward(X)` returns the prediction; `backward(y_pred, y_true)` computes the
loss of that prediction itself, its gradients, and (usually) the update of the
weights, and returns the loss. There is no upstream gradient to send back and
no separate loss to differentiate, so the object is not a layer: it is
checked as the whole loss it computes, never called as `backward(dout)`.

Example:
    class BinaryMLP:
        def forward(self, X):
            self.X = X
            self.h = np.maximum(0, X @ self.W1 + self.b1)
            return sigmoid(self.h @ self.W2 + self.b2).ravel()

        def backward(self, y_pred, y_true):
            loss = -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
            d_out = (y_pred - y_true).reshape(-1, 1) / len(y_pred)
            ...
            self.W2 -= self.lr * self.h.T @ d_out
            return loss

Recognised by: `forward` taking one input, and `backward` taking two, the first
named like a prediction (`y_pred`, `output`, `probs`) and the second like a
target (`y_true`, `y`, `labels`); or `backward(label)` taking the target alone
(the prediction is what forward kept); or `backward()` taking nothing beside a
`loss(x, t)` that it starts from. Confirmed by trial calls on a built model:

- `backward(y_pred, y_true)` returning the loss and updating with `self.lr`
  (`lr`, `learning_rate`, `eta`...): the loss is `backward(forward(x), t)` with
  the rate at 0; the gradients are read off one step with the rate at 1
  (before minus after), which is then undone;
- `loss(x, t)` then `backward()` leaving `self.dW` for `self.W` (a linear probe
  on frozen features): the loss is `loss(x, t)`, the gradients `self.d<name>`.

A `backward(label)` model is named as not checked: the loss is only returned by
backward itself, and its gradients live wherever it puts them (its sub-layers'
attributes, lists of sparse embedding updates), with no one place to read them.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, GRAD_NAMES, Adapter, is_float_array, parameters, promote_to_float64
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.static.methods import self_name, update_operands
from backprop_doctor.conventions._run import Case, NotChecked, program_instances
from backprop_doctor.conventions.loss_objects import PREDICTIONS, TARGETS

NAME = "model-backward"
KIND = "class"
ORDER = 13


def _arguments(cls: type) -> list[str] | None:
    """backward's arguments (prediction, target), or [] for a `backward()` that starts from
    what `loss(x, t)` left behind; None when the class is not such a model."""
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)) or len(required_inputs(forward)) != 1:
        return None
    names = [n.lower() for n in required_inputs(backward)]
    if len(names) == 2 and names[0] in PREDICTIONS and names[1] in TARGETS:
        return names
    if _input_again(names, required_inputs(forward)[0].lower()):
        return names
    if len(names) == 1 and names[0] in TARGETS:  # backward(label): from the prediction forward kept
        return names
    loss = getattr(cls, "loss", None)
    if not names and not [p for p in parameters(backward)] and callable(loss) and len(required_inputs(loss)) == 2:
        return []
    return None


def _input_again(names: list[str], given: str) -> bool:
    """`backward(X, y)` or `backward(X, y, lr)` beside `forward(X)`: the forward's input again and the
    target (and a learning rate), not an upstream gradient; what it returns or updates are the
    parameters' gradients, of a loss only its training loop computes."""
    return 2 <= len(names) <= 3 and names[0] == given and names[1] in TARGETS and all(n in RATES for n in names[2:])


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return _arguments(cls) is not None


def label(obj: Any) -> str:
    return obj.__name__


def why_not_checked(cls: type) -> str | None:
    """Why an object of `cls` is not checked as a layer, or None when it is not such a model."""
    arguments = _arguments(cls)
    if arguments is None:
        return None
    if not arguments:
        return "its backward() starts from the loss that `loss(x, t)` computed, not from an upstream gradient: not checked yet"
    if len(arguments) == 1:
        return (
            f"its backward({arguments[0]}) starts from the target and the prediction its forward kept, not from an "
            "upstream gradient (it computes its own loss): not checked yet"
        )
    if _input_again(arguments, required_inputs(cls.forward)[0].lower()):
        return (
            f"its backward({', '.join(required_inputs(cls.backward))}) takes the input again and the target, not an upstream "
            "gradient, and its loss is computed only where it is trained: checked in the training step that calls it"
        )
    prediction, target = arguments
    return (
        f"its backward({prediction}, {target}) starts from the prediction and the target, not from an upstream "
        "gradient (it computes its own loss): not checked yet"
    )


# --------------------------------------------------------------------------- checking them

RATES = ("lr", "learning_rate", "eta", "alpha", "step_size", "learningrate")


def _float_arrays(model: Any) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(model).items() if is_float_array(v)}


class LossThenBackward(Adapter):
    """`loss(x, t)` is the loss; `backward()` (or `backward(t)`, given the target again) leaves each
    parameter's gradient in `self.d<name>`."""

    def __init__(self, model: Any, name: str, grad_names: dict[str, str], with_target: bool = False):
        super().__init__(name=name, kind="model-backward", target=type(model), is_loss=True)
        self.model = model
        self.dout_is_input = False
        self._grad_names = grad_names
        self._with_target = with_target
        self._target: Any = None

    def params(self) -> dict[str, np.ndarray]:
        return {k: getattr(self.model, k) for k in self._grad_names}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._target = t
        return self.model.loss(x, t)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        if self._with_target:
            self.model.backward(self._target)
        else:
            self.model.backward()
        return None, {k: getattr(self.model, g, None) for k, g in self._grad_names.items()}

    def backward_target(self) -> Any:
        return type(self.model).backward

    def forward_target(self) -> Any:
        return type(self.model).loss

    def grad_targets(self, param: str) -> tuple[str, ...]:
        me = self_name(function_node(self.backward_target()))
        return (f"{me}.{self._grad_names[param]}", self._grad_names[param])


class BackwardTakesStep(Adapter):
    """`forward(x)` is the prediction; `backward(y_pred, y_true)` returns the loss and takes an SGD
    step with `self.<rate>`. The loss is read with the rate at 0 (no step); the gradients off one
    step with the rate at 1 (before minus after), which is then undone."""

    def __init__(self, model: Any, name: str, rate: str, names: list[str]):
        super().__init__(name=name, kind="model-backward", target=type(model), is_loss=True)
        self.model = model
        self.dout_is_input = False
        self.rate = rate
        self._names = names
        self._inputs: tuple[Any, Any] = (None, None)
        setattr(model, rate, 0.0)

    def params(self) -> dict[str, np.ndarray]:
        return {k: getattr(self.model, k) for k in self._names}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._inputs = (x, t)
        return self.model.backward(self.model.forward(x), t)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        x, t = self._inputs
        arrays = self.params()
        saved = {k: np.array(v, copy=True) for k, v in arrays.items()}
        setattr(self.model, self.rate, 1.0)
        try:
            np.random.seed(FORWARD_SEED)
            self.model.backward(self.model.forward(np.array(x, copy=True)), t)
            grads = {k: saved[k] - np.asarray(getattr(self.model, k), dtype=np.float64) for k in arrays}
        finally:
            setattr(self.model, self.rate, 0.0)
            for k, array in arrays.items():
                setattr(self.model, k, array)
                np.copyto(array, saved[k])
        return None, grads

    def backward_target(self) -> Any:
        return type(self.model).backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        me = self_name(function_node(self.backward_target()))
        return (*update_operands(function_node(self.backward_target()), param, f"{me}.{self.rate}"), f"{me}.{param}")


def _targets(n: int, classes: int, rng: np.random.Generator) -> list[np.ndarray]:
    labels = rng.integers(0, classes, n)
    return [rng.integers(0, 2, n).astype(np.float64), np.eye(classes)[labels], labels]


def _trial(model: Any, call: Any) -> Any:
    state = np.random.get_state()
    work = copy.deepcopy(model)
    try:
        np.random.seed(FORWARD_SEED)
        return call(work)
    except Exception:  # noqa: BLE001 - user code: another target is tried
        return None
    finally:
        np.random.set_state(state)


def _scalar(value: Any) -> bool:
    return value is not None and np.size(value) == 1 and bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())


def _loss_then_backward(model: Any, x: np.ndarray, t: Any, with_target: bool = False, axis: int = 0) -> dict[str, str] | None:
    """{parameter: gradient attribute} when `loss(x, t)` then `backward()` (`backward(t)`) leaves the
    gradients. Given the target again, the prediction must hold the batch's samples along `axis` as the
    target does (or the target be one label per sample): a target that only broadcasts against it
    is another layout's."""

    def call(work: Any) -> dict[str, str] | None:
        if with_target and not _fits(work.forward(x.copy()), t, x.shape[axis], axis):
            return None
        if not _scalar(work.loss(x.copy(), t)):
            return None
        if with_target:
            work.backward(t)
        else:
            work.backward()
        found = {}
        for name, array in _float_arrays(work).items():
            grad = next((g.format(name) for g in GRAD_NAMES if g.format(name) != name and isinstance(getattr(work, g.format(name), None), np.ndarray) and getattr(work, g.format(name)).shape == array.shape), None)
            if grad is not None:
                found[name] = grad
        return found or None

    return _trial(model, call)


def _stepped(model: Any, x: np.ndarray, t: Any, rate: str) -> list[str] | None:
    """The parameters one `backward(forward(x), t)` changes with the rate at 1, when it returns the loss."""

    def call(work: Any) -> list[str] | None:
        setattr(work, rate, 0.0)
        if not _scalar(work.backward(work.forward(x.copy()), t)):
            return None
        before = {k: v.copy() for k, v in _float_arrays(work).items()}
        setattr(work, rate, 1.0)
        work.backward(work.forward(x.copy()), t)
        after = _float_arrays(work)
        return [k for k, v in before.items() if k in after and after[k].shape == v.shape and not np.array_equal(after[k], v)] or None

    return _trial(model, call)


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    arguments = _arguments(cls)
    if arguments is not None and len(arguments) == 1 and _has_loss(cls):  # `loss(X, Y)`, then `backward(Y)`
        case = _as_the_program_trains_it(cls, context)
        if case is not None:
            return [case]
    if arguments is None or len(arguments) == 1 or _input_again(arguments, required_inputs(cls.forward)[0].lower()):
        raise NotChecked(why_not_checked(cls) or "not a model whose backward computes its own loss")
    try:
        kwargs = builder.infer_kwargs(cls, rng)
    except builder.BuildError:  # `GRU(D, H)`: sizes with no name to guess them by, as the file calls it
        facts = getattr(getattr(context, "source", None), "facts", None)
        kwargs = builder._as_called(cls, facts.constructor_calls.get(cls.__name__, []) if facts is not None else [])
        if kwargs is None:
            raise
    np.random.seed(context.options.seed)
    try:
        model = cls(**kwargs)
    except Exception as error:
        listed = builder.as_lists(kwargs) if builder._wants_lists(error) else None  # `hidden_units` a list of widths
        np.random.seed(context.options.seed)
        model = builder._trial(lambda: cls(**listed)) if listed is not None else None
        if model is None:
            raise builder._raised(f"{cls.__name__}(...) raised {type(error).__name__}: {error}", error) from error
    promote_to_float64(model)
    weights = [v for v in _float_arrays(model).values() if v.ndim == 2]
    rate = next((r for r in RATES if isinstance(getattr(model, r, None), (int, float)) and not isinstance(getattr(model, r), bool)), None)
    if not weights or (arguments and rate is None):
        raise NotChecked(why_not_checked(cls) or "")
    n = max(int(context.options.batch_size), 2)
    x = rng.standard_normal((n, weights[0].shape[0]))
    for t in _targets(n, max(weights[-1].shape[-1], 2), rng):
        if not arguments and (grads := _loss_then_backward(model, x, t)):
            adapter: Adapter = LossThenBackward(model, cls.__name__, grads)
        elif arguments and rate is not None and (names := _stepped(model, x, t, rate)):
            adapter = BackwardTakesStep(model, cls.__name__, rate, names)
        else:
            continue
        return [Case(f"x {x.shape}, t {t.shape}", adapter, x, t)]
    raise NotChecked(why_not_checked(cls) or "")


def _as_the_program_trains_it(cls: type, context: Any) -> Case | None:
    """A `backward(Y)` model beside its `loss(X, Y)`, checked as the program's own run first used it:
    a copy of the object as it was then (its sizes), on the first samples of the batch its first
    `loss` call was given, in the layout the program uses (one sample per column when the target
    shares the input's last axis). Made-up sizes would not do: a loss averaged over every entry
    beside a backward divided by the samples agrees for the one output the program trains, not for
    four. None when the run never called `loss` on arrays or no gradient could be read."""
    from backprop_doctor.observe.check import _batch_axis, _rows  # the observed checks' own cut

    for instance in program_instances(context, cls, "loss"):
        call = next((c for c in instance.calls.get("loss", []) if c.returned and len(c.args) == 2 and all(isinstance(a, np.ndarray) for a in c.args)), None)
        if call is None or call.args[0].dtype.kind not in "fiu":
            continue
        x, t = call.args
        axis = _batch_axis(x, t)
        x, t = _rows(np.array(x, dtype=np.float64), axis), _rows(t, axis)
        model = copy.deepcopy(instance.state)
        promote_to_float64(model)
        grads = _loss_then_backward(model, x, t, with_target=True, axis=axis)
        if not grads:
            continue
        adapter = LossThenBackward(model, cls.__name__, grads, with_target=True)
        adapter.batch_axis = axis
        layout = " (one sample per column)" if axis else ""
        return Case(f"x {x.shape}{layout}, t {t.shape}: your program's own `loss` call (line {call.line})", adapter, x, t)
    return None


def _fits(prediction: Any, t: Any, n: int, axis: int) -> bool:
    """A prediction of `n` samples along `axis`, of the target's shape or one score row/column per label."""
    shape, given = np.shape(prediction), np.shape(t)
    if len(shape) < 1 or shape[axis] != n:
        return False
    return given == shape or (len(given) == 1 and given[0] == n and np.asarray(t).dtype.kind in "iu")


def _has_loss(cls: type) -> bool:
    """A `loss(x, t)` method: the loss a `backward(t)` differentiates, computed beside it."""
    loss = getattr(cls, "loss", None)
    return callable(loss) and len(required_inputs(loss)) == 2
