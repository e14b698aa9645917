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

- `backward(y_pred, y_true)` returning the gradients and stepping nothing (`return dws, dbs` for
  `self.ws, self.bs`, or `{"dW1": ...}` for `self.W1`, `{"W1": ...}` for `self.params["W1"]`): the loss is the model's own `loss(y_pred, y)` method (or
  `loss(x, y)`), else the one loss function of its file (`bce(y_true, y_pred)` too); with no loss,
  or two candidate loss functions, it is named as not checked.

A `backward(Y, cache)` model (the target and forward's cache: a stacked RNN adding each step's
cross-entropy to `self._loss`) is named as not checked. A `backward(label)` model that runs a list of
layers through a criterion it holds is `containers`'. Any other `backward(label)` model is named as not checked: the loss is only returned by
backward itself, and its gradients live wherever it puts them (its sub-layers'
attributes, lists of sparse embedding updates), with no one place to read them.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, GRAD_NAMES, Adapter, is_float_array, parameters, promote_to_float64
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.static.methods import returned_names, self_calls, self_name, update_operands
from backprop_doctor.static.tree import walk
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
    if _cached(names):  # backward(y_pred, y_train, cache) returning the gradients alone: named, not checked yet
        return names
    if _target_and_cache(names):  # backward(Y, cache) from the integer targets: named, not checked yet
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


CACHES = ("cache", "caches", "cached")
TRAINING_TARGETS = ("y_train", "y_batch", "t_train", "t_batch", "labels_batch", "y_mb")


def _cached(names: list[str]) -> bool:
    """`backward(y_pred, y_train, cache)`: the prediction, the target and forward's cache, and no
    upstream gradient (a model that hands its gradients to a solver and computes its loss elsewhere,
    `train_step(X, y)`); `conventions.cache_models` takes those returning the loss with them first."""
    return len(names) == 3 and names[0] in PREDICTIONS and (names[1] in TARGETS or names[1] in TRAINING_TARGETS) and names[2] in CACHES


def _target_and_cache(names: list[str]) -> bool:
    """`backward(Y, cache)` beside `forward(X)` returning that cache: the target and what forward kept, the
    loss computed inside from them (a stacked RNN adding each step's cross-entropy to `self._loss`)."""
    return len(names) == 2 and (names[0] in TARGETS or names[0] in TRAINING_TARGETS) and names[1] in CACHES


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
    if _cached(arguments):
        return (
            f"its backward({', '.join(required_inputs(cls.backward))}) starts from the prediction, the target and its "
            "forward's cache, not from an upstream gradient, and its loss is computed elsewhere: not checked yet"
        )
    if _target_and_cache(arguments):
        return (
            f"its backward({', '.join(required_inputs(cls.backward))}) starts from the target and its forward's cache, not from an "
            "upstream gradient (it computes its own loss): not checked yet"
        )
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
    if arguments is not None and _cached(arguments) and step_method(cls) is not None:
        return [_stepped_case(cls, context, rng)]
    if arguments is None or len(arguments) == 1 or _cached(arguments) or _target_and_cache(arguments) or _input_again(arguments, required_inputs(cls.forward)[0].lower()):
        raise NotChecked(why_not_checked(cls) or "not a model whose backward computes its own loss")
    model = _built(cls, context, rng)
    weights = [v for v in _parameter_arrays(model).values() if v.ndim == 2]
    rate = next((r for r in RATES if isinstance(getattr(model, r, None), (int, float)) and not isinstance(getattr(model, r), bool)), None)
    loss = _prediction_loss(cls, context) if arguments else None
    if not weights or (arguments and rate is None and loss is None):
        raise NotChecked(why_not_checked(cls) or "")
    classes = max(weights[-1].shape[-1], 2)
    n = max(int(context.options.batch_size), 2)
    n += n == classes  # labels read as one-hot rows would broadcast against a square prediction
    x = rng.standard_normal((n, weights[0].shape[0]))
    targets = _targets(n, classes, rng)
    for t in targets:
        if not arguments and (grads := _loss_then_backward(model, x, t)):
            adapter: Adapter = LossThenBackward(model, cls.__name__, grads)
        elif arguments and rate is not None and (names := _stepped(model, x, t, rate)):
            adapter = BackwardTakesStep(model, cls.__name__, rate, names)
        else:
            continue
        return [Case(f"x {x.shape}, t {t.shape}", adapter, x, t)]
    if loss is not None:
        for t in [targets[1], targets[2], targets[0], targets[0].reshape(-1, 1)]:
            if (read := _returned_gradients(model, loss, x, t)) is not None:
                adapter = BackwardReturnsGradients(model, cls.__name__, loss, read)
                return [Case(f"x {x.shape}, t {t.shape}, loss: your `{loss.label}`", adapter, x, t)]
    raise NotChecked(why_not_checked(cls) or "")


def _built(cls: type, context: Any, rng: np.random.Generator) -> Any:
    """An instance of `cls` at the sizes `build.infer_kwargs` guesses (else as the file calls it), in float64."""
    from backprop_doctor import build as builder

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
    return model


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


# --------------------------------------------------------------------------- backward(y_pred, y) returning gradients

LOSS_NAMES = re.compile(r"loss|cost|entropy|mse|error", re.IGNORECASE)


def _parameter_arrays(model: Any) -> dict[str, np.ndarray]:
    """The model's float arrays by name: `W1` for an array attribute, `ws[0]` for each array of a list
    attribute (`self.ws = [W0, W1]`), `W1` for an array of a dictionary attribute (`self.params["W1"]`),
    in the order the object holds them."""
    found: dict[str, np.ndarray] = {}
    for name, value in vars(model).items():
        if is_float_array(value):
            found[name] = value
        elif isinstance(value, list) and value and all(is_float_array(v) for v in value):
            found.update({f"{name}[{i}]": v for i, v in enumerate(value)})
        elif isinstance(value, dict) and value and all(isinstance(k, str) and is_float_array(v) for k, v in value.items()):
            found.update({k: v for k, v in value.items() if k not in found})
    return found


@dataclass(frozen=True)
class PredictionLoss:
    """The loss a `backward(y_pred, y)` differentiates: the model's own `loss(y_pred, y)` method
    (or `loss(x, y)`), else the file's `loss(y_pred, y)` function (either argument order)."""

    label: str
    method: str | None = None
    function: Any = None
    of_input: bool = False
    swapped: bool = False

    def __call__(self, model: Any, x: np.ndarray, t: Any) -> tuple[Any, Any]:
        prediction = model.forward(x)
        if self.method is not None:
            value = getattr(model, self.method)(x if self.of_input else prediction, t)
        else:
            value = self.function(t, prediction) if self.swapped else self.function(prediction, t)
        return value, prediction


def _loss_arguments(func: Any, given: str) -> tuple[bool, bool] | None:
    """(of the input, swapped) for a loss over (prediction, target), (target, prediction) or
    (input, target); None for any other two arguments."""
    names = [n.lower() for n in required_inputs(func)]
    if len(names) != 2:
        return None
    first, second = names
    if first in PREDICTIONS and second in TARGETS:
        return False, False
    if first in TARGETS and second in PREDICTIONS:
        return False, True
    if first == given and second in TARGETS:
        return True, False
    return None


def _prediction_loss(cls: type, context: Any) -> PredictionLoss | None:
    """The loss beside a `backward(y_pred, y)` model: a method of its own whose name says loss or
    cost, else a function of its file named so; None when it has neither."""
    given = required_inputs(cls.forward)[0].lower()
    for name in dir(cls):
        method = getattr(cls, name, None)
        if name.startswith("__") or name in ("forward", "backward") or not LOSS_NAMES.search(name) or not inspect.isfunction(method):
            continue
        read = _loss_arguments(method, given)
        if read is not None and not read[1]:
            return PredictionLoss(f"{cls.__name__}.{name}", method=name, of_input=read[0])
    namespace = getattr(context, "namespace", None) or {}
    found = []
    for name, func in namespace.items():
        if not (inspect.isfunction(func) and LOSS_NAMES.search(name) and getattr(func, "__module__", None) == cls.__module__):
            continue
        read = _loss_arguments(func, given)
        if read is not None and not read[0]:
            found.append(PredictionLoss(name, function=func, swapped=read[1]))
    return found[0] if len(found) == 1 else None  # two losses in the file: which one backward differentiates is not known


def _returned_name(node: ast.expr) -> str:
    """`dws` of `dws`, `dws[::-1]` or `list(reversed(dws))`; "" for anything else."""
    while isinstance(node, ast.Call) and len(node.args) == 1 and isinstance(node.func, ast.Name) and node.func.id in ("list", "reversed", "tuple"):
        node = node.args[0]
    if isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _returned_element_names(backward: Any) -> list[str]:
    node = function_node(backward)
    for n in walk(node) if node is not None else ():
        if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple):
            return [_returned_name(e) for e in n.value.elts]
    return []


def _stem(name: str) -> str:
    """The parameter a gradient's name is of: `dW1` -> `W1`, `grad_w` -> `w`, `dws` -> `ws`."""
    for pattern in GRAD_NAMES:
        before, _, after = pattern.partition("{}")
        if len(name) > len(before) + len(after) and name.startswith(before) and name.endswith(after):
            return name[len(before) : len(name) - len(after)]
    return name


def _names_match(gradient: str, param: str) -> bool:
    return bool(gradient) and gradient != param and _stem(gradient).lower() == param.lower()


Path = tuple[Any, ...]


def _match(returned: Any, model: Any, names: list[str], held: set[str]) -> dict[str, Path] | None:
    """{parameter: where its gradient sits in what backward returned}: a dictionary by its keys
    (`dW1` or `W1` for `self.W1`), a tuple element by element (an array to the parameter of its shape,
    a list of arrays to the list attribute of its shapes), the returned names (`return dws, dbs`)
    deciding between parameters of one shape, else the order the object holds them in. Numbers (a
    loss returned beside the gradients) and arrays of no parameter's shape (an input gradient) are
    left out; None when no gradient is found."""
    arrays = {k: v for k, v in _parameter_arrays(model).items() if k in held}  # not what forward caches
    lists = {k: v for k, v in vars(model).items() if f"{k}[0]" in held and isinstance(v, list) and v and all(is_float_array(a) for a in v)}
    found: dict[str, Path] = {}
    if isinstance(returned, dict):
        for key, value in returned.items():
            param = next((p for p in arrays if isinstance(key, str) and (p == key or _names_match(key, p))), None)
            if param is not None and param not in found and np.shape(value) == arrays[param].shape:
                found[param] = (key,)
        return found or None
    elements = _elements(returned)
    names = names if len(names) == len(elements) else [""] * len(elements)
    for i, (element, name) in enumerate(zip(elements, names)):
        if is_float_array(element):
            fits = [p for p, a in arrays.items() if "[" not in p and p not in found and a.shape == element.shape]
            param = next((p for p in fits if _names_match(name, p)), fits[0] if fits else None)
            if param is not None:
                found[param] = (i,)
        elif isinstance(element, (list, tuple)) and element and all(is_float_array(g) for g in element):
            shapes = [np.shape(g) for g in element]
            fits = [k for k, v in lists.items() if f"{k}[0]" not in found and [a.shape for a in v] == shapes]
            attribute = next((k for k in fits if _names_match(name, k)), fits[0] if fits else None)
            if attribute is not None:
                found.update({f"{attribute}[{j}]": (i, j) for j in range(len(element))})
    return found or None


def _elements(returned: Any) -> list[Any]:
    """What backward returned as a list of elements: a tuple's elements, a lone array as one element,
    and a plain list of arrays as one element (one list of gradients for one list of weights)."""
    if isinstance(returned, tuple):
        return list(returned)
    if isinstance(returned, list) and returned and all(is_float_array(v) for v in returned):
        return [returned]
    return list(returned) if isinstance(returned, list) else [returned]


def _at(returned: Any, path: Path) -> Any:
    if isinstance(returned, dict):
        return returned.get(path[0])
    value: Any = _elements(returned)
    for step in path:
        value = value[step]
    return value


@dataclass(frozen=True)
class Reading:
    """Where each parameter's gradient sits in what backward returns, and the names it returns."""

    paths: dict[str, Path]
    names: tuple[str, ...]


def _returned_gradients(model: Any, loss: PredictionLoss, x: np.ndarray, t: Any) -> Reading | None:
    """How `backward(forward(x), t)` hands back its gradients, when the loss is a number for this
    target, the prediction holds the samples as the target does, and backward leaves the parameters
    where they were (it returns gradients, it does not step)."""
    names = tuple(_returned_element_names(type(model).backward))
    held = set(_parameter_arrays(model))  # the model as built, before a forward caches arrays in it

    def call(work: Any) -> Reading | None:
        value, prediction = loss(work, x.copy(), t)
        if not _scalar(value) or not _fits(prediction, t, x.shape[0], 0) or (np.asarray(t).dtype.kind in "iu" and np.shape(prediction)[1:] in ((), (1,))):
            return None  # labels are for a prediction with a score per class
        before = {k: v.copy() for k, v in _parameter_arrays(work).items()}
        returned = work.backward(np.array(prediction, copy=True), copy.deepcopy(t))
        after = _parameter_arrays(work)
        if after.keys() != before.keys() or any(not np.array_equal(after[k], v) for k, v in before.items()):
            return None
        paths = _match(returned, work, list(names), held)
        return Reading(paths, names) if paths else None

    return _trial(model, call)


class BackwardReturnsGradients(Adapter):
    """`forward(x)` is the prediction, the model's (or its file's) loss of it the loss, and
    `backward(y_pred, y_true)` returns the gradients, read where `Reading` says."""

    def __init__(self, model: Any, name: str, loss: PredictionLoss, reading: Reading):
        super().__init__(name=name, kind="model-backward", target=type(model), is_loss=True)
        self.model = model
        self.dout_is_input = False
        self._loss, self._reading = loss, reading
        self._state: tuple[Any, Any] = (None, None)

    def params(self) -> dict[str, np.ndarray]:
        arrays = _parameter_arrays(self.model)
        return {k: arrays[k] for k in self._reading.paths if k in arrays}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        value, prediction = self._loss(self.model, x, t)
        self._state = (prediction, t)
        return float(np.squeeze(value))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        prediction, t = self._state
        returned = self.model.backward(np.array(prediction, copy=True), copy.deepcopy(t))
        grads = {}
        for param, path in self._reading.paths.items():
            try:
                grads[param] = _at(returned, path)
            except (IndexError, KeyError, TypeError):
                grads[param] = None
        return None, grads

    def backward_target(self) -> Any:
        return type(self.model).backward

    def forward_target(self) -> Any:
        return type(self.model).forward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        attribute = param.partition("[")[0]
        path = self._reading.paths.get(param, ())
        named = [self._reading.names[path[0]]] if path and isinstance(path[0], int) and path[0] < len(self._reading.names) and self._reading.names[path[0]] else []
        single = attribute[:-1] if attribute.endswith("s") and len(attribute) > 1 else attribute
        # `dw = ...` then `dws.append(dw)`: the statement computing one layer's gradient before the list it is returned in
        return tuple(dict.fromkeys([f"d{single}", f"d{attribute}", *named, f"grads['{attribute}']", f'grads["{attribute}"]']))


# --------------------------------------------------------------------------- backward(y_pred, y, cache) under a step method


def step_method(cls: type) -> str | None:
    """The method that runs one training step of a `backward(y_pred, y_train, cache)` model and hands back
    its gradients with the loss it computes itself (`grad, loss = model.train_step(X, y)`): a method of two
    inputs, not forward nor backward, that calls both on its instance and returns a pair; None when there
    is none, or more than one."""
    found = []
    for name in dir(cls):
        method = getattr(cls, name, None)
        if name.startswith("__") or name in ("forward", "backward") or not inspect.isfunction(method) or len(required_inputs(method)) != 2:
            continue
        node = function_node(method)
        if {"forward", "backward"} <= set(self_calls(node)) and len(returned_names(node)) == 2:
            found.append(name)
    return found[0] if len(found) == 1 else None


def _inputs(model: Any, n: int) -> list[np.ndarray]:
    """Batches for the model's first weight: rows of its input width for a matrix (`X @ W1`), images of
    a few sides with its channels for a filter bank (F, C, k, k)."""
    rng = np.random.default_rng(FORWARD_SEED)
    first = next((v for v in _parameter_arrays(model).values() if v.ndim in (2, 4)), None)
    if first is None:
        return []
    if first.ndim == 2:
        return [rng.standard_normal((n, first.shape[0]))]
    return [rng.standard_normal((n, first.shape[1], side, side)) for side in IMAGE_SIDES]


IMAGE_SIDES = (28, 32, 8, 16, 12)  # MNIST's, CIFAR's, then small ones


def _stepped_case(cls: type, context: Any, rng: np.random.Generator) -> Case:
    name = step_method(cls)
    assert name is not None
    try:
        model = _built(cls, context, rng)
    except Exception as error:
        if not isinstance(error.__cause__, NotImplementedError):
            raise
        # `def _init_model(self, D, C, H): raise NotImplementedError()`
        raise NotChecked(f"`{cls.__name__}(...)` raised NotImplementedError: a base class, whose subclasses are checked") from error
    n = max(int(context.options.batch_size), 2)
    names = tuple(_returned_element_names(cls.backward))
    held = set(_parameter_arrays(model))
    # the classes: the last matrix's outputs (not a row of biases or running statistics), else two
    weights = [v for v in _parameter_arrays(model).values() if v.ndim == 2 and min(v.shape) > 1]
    classes = max(weights[-1].shape[-1], 2) if weights else 2
    n += n == classes
    for x in _inputs(model, n):
        for t in _targets(n, classes, rng)[::-1]:  # labels first: a classifier's step takes them most often

            def call(work: Any) -> StepReading | None:
                returned = getattr(work, name)(x.copy(), copy.deepcopy(t))
                if not isinstance(returned, tuple) or len(returned) != 2:
                    return None
                for loss_at in (1, 0):
                    if isinstance(returned[loss_at], (int, float, np.number, np.ndarray)) and _scalar(returned[loss_at]) and (paths := _match_sized(returned[1 - loss_at], work, list(names), held)):
                        return StepReading(name, loss_at, paths)
                return None

            reading = _trial(model, call)
            if reading is not None:
                adapter = StepReturnsGradients(model, cls.__name__, reading)
                return Case(f"x {x.shape}, t {t.shape}, loss and gradients: your `{name}`", adapter, x, t)
    raise NotChecked(f"`{cls.__name__}.{name}` did not return (gradients, loss) on the inputs tried (rows of its first weight's width, images)")


def _match_sized(returned: Any, model: Any, names: list[str], held: set[str]) -> dict[str, Path] | None:
    """`_match`, a dictionary's gradient also taken for a parameter of another shape of the same
    entries (`dgamma` (H,) for `gamma` (1, H): the update broadcasts it onto the parameter)."""
    found = _match(returned, model, names, held) or {}
    if isinstance(returned, dict):
        arrays = {k: v for k, v in _parameter_arrays(model).items() if k in held and k not in found}
        for key, value in returned.items():
            param = next((p for p in arrays if isinstance(key, str) and (p == key or _names_match(key, p))), None)
            if param is not None and is_float_array(value) and np.squeeze(value).shape == np.squeeze(arrays[param]).shape:
                found[param] = (key,)
    return found or None


@dataclass(frozen=True)
class StepReading:
    """The step method, where its loss sits in the pair it returns, and where each gradient sits in the other."""

    method: str
    loss_at: int
    paths: dict[str, Path]


class StepReturnsGradients(Adapter):
    """The loss a step method (`train_step(X, y)`) returns, as a function of the model's parameters, and
    the gradients it returns beside it (what its `backward(y_pred, y, cache)` gave)."""

    def __init__(self, model: Any, name: str, reading: StepReading):
        super().__init__(name=name, kind="model-backward", target=type(model), is_loss=True)
        self.model = model
        self.dout_is_input = False
        self._reading = reading
        self._returned: Any = None

    def params(self) -> dict[str, np.ndarray]:
        arrays = _parameter_arrays(self.model)
        return {k: arrays[k] for k in self._reading.paths if k in arrays}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        returned = getattr(self.model, self._reading.method)(x, copy.deepcopy(t))
        self._returned = returned[1 - self._reading.loss_at]
        return float(np.squeeze(returned[self._reading.loss_at]))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        params = self.params()
        grads = {}
        for param, path in self._reading.paths.items():
            try:
                value = _at(self._returned, path)
            except (IndexError, KeyError, TypeError):
                value = None
            if is_float_array(value) and param in params and np.shape(value) != params[param].shape and np.size(value) == params[param].size:
                value = np.reshape(value, params[param].shape)
            grads[param] = None if value is None else np.asarray(value, dtype=np.float64) * dout
        return None, grads

    def backward_target(self) -> Any:
        return type(self.model).backward

    def forward_target(self) -> Any:
        return type(self.model).forward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return (f"d{param}", f"grad['{param}']", f'grad["{param}"]', f"grads['{param}']", f'grads["{param}"]', param)
