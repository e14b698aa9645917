"""Containers of layer objects: a model handed its layers, which runs them forward in one
method and backward, in reverse, in another.

Example:
    class Sequential:
        def __init__(self, layers, loss, optimizer):
            self.layers, self.loss, self.optimizer = layers, loss, optimizer

        def _forward(self, x, training=True):
            for layer in self.layers:
                x = layer.forward(x, training)
            return x

        def _backward(self, grad):
            for layer in reversed(self.layers):
                grad = layer.backward(grad)

        def train_on_batch(self, x, y):
            y_pred = self._forward(x)
            self._backward(self.loss.gradient(y, y_pred))
            self.optimizer.update(self.layers)

    model = Sequential([Dense(4, 8), ReLU(), Dense(8, 3), Softmax()], CrossEntropy(), SGD(0.1))

Each layer class is checked on its own by its own convention. The container is checked as a
network: the loss its training computes, as a function of every layer's parameters, against the
gradients the layers hold once the container's backward has run. That backward is run by the
container's own training step (the method that calls it, `train_on_batch(x, y)`, `train(x_train,
y_train, ...)` for one epoch), stopped as soon as the backward returns, before any update. The loss
is the loss object the container holds (`loss(y, p)`/`gradient(y, p)`: the sum of its values when
it returns one per element, as its gradient is that sum's) or the loss function its methods call
on the prediction and the targets (`softmax_cross_entropy(y_hat, y)`). A layer that steps its
weights with an optimizer it holds is handed `UnitStep`, and its gradient is read off the step.

Where a gradient is wrong, the calls the layers received tell whose fault it is (`Container.blame`):
layers run backward in another order than forward, or a layer handed something other than what
the layer after it returned, is the container's backward; else the layer nearest the output whose
parameter gradients, or input gradient, are wrong for the gradient it was handed; else the seed
the training step computes (also when every layer's gradients are wrong, by no one factor, and the
one nearest the output is right for what it was handed: `Container._params_right`).

The container is the program's own (the observed run), at the sizes the program built it, on the
first rows of the batch it handed the training step.

A container with no training step whose `backward(labels)` takes the target alone and computes its own
loss through a loss object it holds (CMU 11-785's `MLP`/`CNN`: `self.loss = self.criterion.forward(self.Z,
labels).sum()`, `grad = self.criterion.backward()`, its layers in reverse, `return grad`) is checked as
one too (`Shape.from_target`): the step is `forward(x)` then `backward(t)`, the loss the criterion's values
reduced as backward keeps its loss (summed or averaged; summed when it keeps none), and the gradient
backward returns is compared as the input's. Only as the program builds and runs it: made-up
arguments for its constructor (criterion, initialisers, activation lists) are not guessed.

Recognised by: one method looping forward over a list the instance holds (`for layer in
self.layers`), another looping backward over the same list (`reversed(self.layers)`,
`self.layers[::-1]`), each calling one method on each layer, and a third, its training step, calling
that backward (a container whose backward only a script calls is left to the other conventions).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, copied, gradient_names, is_float_array, parameters, promote_to_float64, train_kwargs
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.conventions.loss_objects import LOSSES, TARGETS, loss_methods, prediction_index
from backprop_doctor.conventions.optimizer_objects import UnitStep
from backprop_doctor.static.methods import layer_loops, passed_to, plain_calls, returned_names, self_calls, self_name, stepped_operand

NAME = "containers"
KIND = "class"
ORDER = 11  # after `networks` (a DLFS-2 network loops over its layers too), before the layer conventions
ROWS = 8  # rows of the program's batch the check uses
FORWARD_WORDS = ("forward", "call", "predict", "feedforward", "propagate", "fprop")
BACKWARD_WORDS = ("backward", "backprop", "bprop", "gradient")
LOSS_WORDS = ("loss", "cost", "entropy", "error", "mse", "mae", "sse", "nll", "likelihood", "hinge")
TOLERANCE = 1e-3  # of a ratio of directional derivatives, when telling whose fault a wrong gradient is


@dataclass(frozen=True)
class Shape:
    """How one container class runs its layers."""

    attribute: str  # the list of layers (`layers`, `_layers`)
    forward: str  # the container's method running them forward (`_forward_pass`)
    backward: str  # ... and backward (`_backward_pass`)
    layer_forward: str  # what each is called forward (`forward_pass`)
    layer_backward: str  # ... and backward (`backward_pass`)
    passed: tuple[str, ...]  # the names the backward loop binds to what a layer returns (`loss_grad`)
    step: str  # the method that calls the backward: one training step
    # backward(labels) computing its own loss through a criterion object the container holds (`self.criterion.forward(self.Z,
    # labels)`, then `self.criterion.backward()`): the step is forward(x), then backward(t), whose return is the input's gradient
    from_target: bool = False


def _own_methods(cls: type) -> dict[str, Any]:
    """The functions of `cls` and of its user-written bases, the subclass's first."""
    found: dict[str, Any] = {}
    for klass in cls.__mro__[:-1]:
        for name, value in vars(klass).items():
            if inspect.isfunction(value):
                found.setdefault(name, value)
    return found


def _named(methods: tuple[str, ...], words: tuple[str, ...]) -> str | None:
    return next((m for m in methods if any(w in m.lower() for w in words)), None)


def shape(cls: type) -> Shape | None:
    """The container's `Shape`, or None when `cls` runs no list of layers forward and backward."""
    methods = _own_methods(cls)
    forwards, backwards = [], []
    for name, func in methods.items():
        for loop in layer_loops(function_node(func)):
            if called := _named(loop.methods, BACKWARD_WORDS):
                backwards.append((name, loop, called))
            elif called := _named(loop.methods, FORWARD_WORDS):
                forwards.append((name, loop, called))
    backwards.sort(key=lambda found: not found[1].backwards)  # a loop in the wrong order is still the backward
    for backward, loop, layer_backward in backwards:
        forward = next(((name, called) for name, other, called in forwards if other.attribute == loop.attribute), None)
        if forward is None:
            continue
        steps = [name for name, func in methods.items() if name not in (forward[0], backward) and backward in self_calls(function_node(func))]
        if steps:  # without a training step of its own, the gradient its backward starts from is not known
            step = min(steps, key=lambda name: len(required_inputs(methods[name])))
            return Shape(loop.attribute, forward[0], backward, forward[1], layer_backward, loop.passed, step)
        if _from_target(methods[forward[0]], methods[backward]):
            return Shape(loop.attribute, forward[0], backward, forward[1], layer_backward, loop.passed, backward, from_target=True)
    return None


def _from_target(forward: Any, backward: Any) -> bool:
    """`forward(A)` beside `backward(labels)` that starts from a loss object the container holds
    (`self.criterion.forward(self.Z, labels)`): the target alone, not an upstream gradient."""
    names = [n.lower() for n in required_inputs(backward)]
    loss_call = any(count == 2 and any(w in called.lower() for w in LOSS_WORDS) for called, count in plain_calls(function_node(backward)))
    return len(required_inputs(forward)) == 1 and len(names) == 1 and names[0] in TARGETS and (bool(_held_calls(backward)) or loss_call)


def _held_calls(func: Any) -> set[str]:
    """The attributes of the instance whose methods (or themselves) `func` calls: `criterion` of
    `self.criterion.forward(...)`, `loss_fn` of `self.loss_fn(...)`."""
    node = function_node(func)
    me = self_name(node) if node is not None else None
    found = set()
    for call in ast.walk(node) if node is not None else ():
        if not isinstance(call, ast.Call):
            continue
        target = call.func.value if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Attribute) else call.func
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == me:
            found.add(target.attr)
    return found


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return shape(cls) is not None


def label(obj: Any) -> str:
    return obj.__name__


# --------------------------------------------------------------------------- the loss


def _loss(model: Any, cls: type, found: Shape) -> tuple[Callable[[Any, Any], float], str] | None:
    """The container's loss of (prediction, targets), and how the report names it: a loss object
    it holds, else a loss function its methods call on two arguments."""
    for attr, value in vars(model).items():
        methods = loss_methods(type(value)) if _user_object(value) else None
        if methods is not None:
            loss, _, prediction = methods
            return _valued(getattr(value, loss), prediction), f"`{attr}.{loss}`"
    functions = _own_methods(cls)
    for name in [found.step, *functions]:
        func = functions.get(name)
        for called, count in plain_calls(function_node(func)) if func is not None else []:
            loss = func.__globals__.get(called)
            if count != 2 or not inspect.isfunction(loss) or not any(w in called.lower() for w in LOSS_WORDS):
                continue
            names = [n.lower() for n in required_inputs(loss)]
            prediction = prediction_index(names) if len(names) == 2 else None
            if prediction is not None:
                return _valued(loss, prediction), f"`{called}`"
    return None


def _criterion(model: Any, cls: type, found: Shape) -> tuple[Any, str, str, int] | None:
    """The loss object a `backward(labels)` container calls, and its method of (prediction, target):
    (object, attribute, method, index of the prediction)."""
    called = _held_calls(getattr(cls, found.backward))
    for attr, value in vars(model).items():
        if attr not in called or inspect.isclass(value) or inspect.isroutine(value) or not hasattr(value, "__dict__"):
            continue
        if type(value).__module__ in ("builtins", "numpy"):
            continue
        for method in ("forward", *LOSSES):
            func = getattr(type(value), method, None)
            names = [n.lower() for n in required_inputs(func)] if inspect.isfunction(func) else []
            prediction = prediction_index(names) if len(names) == 2 else None
            if prediction is not None:
                return value, attr, method, prediction
    return None


def _own_loss(model: Any, cls: type, found: Shape, x: np.ndarray, t: Any) -> tuple[Callable[[Any, Any], float], str] | None:
    """The loss a `backward(labels)` container computes, as a function of (prediction, target): its
    criterion's values reduced as the loss the backward keeps (`self.loss = ....sum()`, or a mean),
    their sum when it keeps none; else the loss function backward calls on two arguments; None when
    it holds no criterion and calls no such function, or keeps a loss of another value."""
    held = _criterion(model, cls, found)
    if held is None:  # `self.loss = cross_entropy(self.out, y)`: the loss function it calls, as a training step's
        return _loss(model, cls, found)
    _, attr, method, prediction = held
    handed: list[Any] = []

    kind = next((k for k in type(getattr(model, attr)).__mro__ if method in vars(k)), type(getattr(model, attr)))
    original = vars(kind).get(method)

    def recorded(me: Any, *args: Any, **kwargs: Any) -> Any:  # on the class: `self.loss_fn(...)` looks `__call__` up there
        handed.append(args[prediction] if len(args) == 2 else None)
        return original(me, *args, **kwargs)

    with _seeded_copy(model) as work:
        out = getattr(work, found.forward)(x.copy(), **train_kwargs(getattr(work, found.forward), True))
        out = out.copy() if isinstance(out, np.ndarray) else out
        if original is not None:
            setattr(kind, method, recorded)
        try:
            getattr(work, found.backward)(_copy(t))
        finally:
            if original is not None:
                setattr(kind, method, original)
        kept = {k: float(v) for k, v in vars(work).items() if _number(v) and any(w in k.lower() for w in LOSS_WORDS)}
    if not (handed and _same(handed[0], out)):  # the criterion is given something else than what forward returns
        return None
    with _seeded_copy(model) as work:
        prediction_value = getattr(work, found.forward)(x.copy(), **train_kwargs(getattr(work, found.forward), True))
        criterion = getattr(work, attr)
        raw = np.asarray(getattr(criterion, method)(*((prediction_value, _copy(t)) if prediction == 0 else (_copy(t), prediction_value))), dtype=np.float64)
    reductions = {"summed": np.sum, "averaged": np.mean}
    name = f"`{attr}.{method}`" if method != "__call__" else f"`{attr}`"
    if not kept:
        return _reduced(getattr(model, attr), method, prediction, np.sum), f"{name}, summed"
    for value in kept.values():
        for word, reduce in reductions.items():
            if np.isclose(value, float(reduce(raw)), rtol=1e-6, atol=1e-12):
                how = "" if raw.size == 1 else f", {word}"
                return _reduced(getattr(model, attr), method, prediction, reduce), f"{name}{how}, as `{found.backward}` keeps it"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind == "f")


def _reduced(criterion: Any, method: str, prediction: int, reduce: Callable[[Any], Any]) -> Callable[[Any, Any], float]:
    """The criterion's loss of (prediction, target), reduced to one number: on a copy of the object, which
    keeps what it computes (`self.softmax`), so the container's own criterion is left as its backward set it."""

    def value(p: Any, t: Any) -> float:
        work = copy.deepcopy(criterion)
        out = np.asarray(getattr(work, method)(*((p, t) if prediction == 0 else (t, p))), dtype=np.float64)
        return float(reduce(out))

    return value


def _valued(loss: Callable[..., Any], prediction: int) -> Callable[[Any, Any], float]:
    """A loss of (prediction, targets) called in its own order; one value per element is summed,
    as the gradient such a loss gives is its sum's."""

    def value(p: Any, t: Any) -> float:
        out = np.asarray(loss(*((p, t) if prediction == 0 else (t, p))), dtype=np.float64)
        return float(out.sum() if out.size > 1 else out.reshape(()))

    return value


def _user_object(value: Any) -> bool:
    return hasattr(value, "__dict__") and not inspect.isclass(value) and not callable(value) and type(value).__module__ not in ("builtins", "numpy")


# --------------------------------------------------------------------------- the adapter


class _Stopped(BaseException):
    """Raised once the container's backward has returned: the training step goes no further."""


@dataclass
class _LayerCall:
    """One call of a layer's forward or backward while the container's training step ran
    (`Container.calls`): the layer's place in the list, the array it was handed, what it returned
    (None while it runs, or when it raised)."""

    index: int
    given: Any = None
    gave: Any = None


@dataclass
class _Calls:
    forwards: list[_LayerCall] = field(default_factory=list)
    backwards: list[_LayerCall] = field(default_factory=list)


class Container(Adapter):
    """A container's loss as a function of its layers' parameters, its gradient as the
    container's own training step leaves it in the layers."""

    def __init__(self, model: Any, found: Shape, loss: Callable[[Any, Any], float], train: bool = True):
        super().__init__(name=type(model).__name__, kind="container", target=type(model), is_loss=True, train=train)
        self.model, self.shape, self.loss = model, found, loss
        self.dout_is_input = False
        self.layers = list(getattr(model, found.attribute))
        for layer in self.layers:
            for attr, value in list(vars(layer).items()) if hasattr(layer, "__dict__") else []:
                if _holds_optimizer(value):
                    setattr(layer, attr, UnitStep())  # its step is the gradient itself
        self._params: dict[str, tuple[Any, str, np.ndarray]] = {}  # "layers[0].W" -> (layer, attribute, array)
        self._inputs: tuple[Any, Any] = (None, None)
        self._blame: tuple[str, int | None] | None = None
        self._wrong: dict[str, float] = {}  # the parameters whose gradient `blame` found wrong
        self.fed: list[tuple[int, ...]] = []  # the shapes the training step's forward passes were given

    def discover(self, x: np.ndarray, t: Any) -> None:
        """The parameters: each layer's float arrays a forward pass does not rebind, that the
        training step gives a gradient."""
        before = {(i, k): v for i, layer in enumerate(self.layers) for k, v in _parameters(layer).items()}
        self.forward(x, t)
        kept = {key: v for key, v in before.items() if _arrays(self.layers[key[0]]).get(key[1]) is v}
        self._params = {f"{self.shape.attribute}[{i}].{k}": (self.layers[i], k, v) for (i, k), v in kept.items()}
        _, grads = self.backward(1.0)
        self._params = {key: entry for key, entry in self._params.items() if grads.get(key) is not None}

    def params(self) -> dict[str, np.ndarray]:
        return {key: array for key, (_, _, array) in self._params.items()}

    def _predict(self, x: np.ndarray) -> Any:
        method = getattr(self.model, self.shape.forward)
        np.random.seed(FORWARD_SEED)
        return method(x.copy(), **train_kwargs(method, self.train))

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._inputs = (x, t)
        return self.loss(self._predict(x), _copy(t))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        saved = {key: array.copy() for key, (_, _, array) in self._params.items()}
        returned = self._step()
        grads = {key: _gradient(layer, attr, array, saved[key]) for key, (layer, attr, array) in self._params.items()}
        x = self._inputs[0]
        # a `backward(labels)` container returns the gradient of its input (`return grad` after the first layer's)
        dx = returned * dout if self.shape.from_target and is_float_array(returned) and np.shape(returned) == np.shape(x) else None
        return dx, {key: None if g is None else g * dout for key, g in grads.items()}

    def _step(self) -> Any:
        """The container's training step on the batch, stopped when its backward returns; what that backward returned."""
        x, t = self._inputs
        self.fed = []
        returned: list[Any] = []
        with _stop_after(self.model, self.shape.backward, returned), _wrapped(self.model, self.shape.forward, self._feeding):
            np.random.seed(FORWARD_SEED)
            try:
                if self.shape.from_target:  # forward(x), then backward(t): the loss computed inside
                    forward = getattr(self.model, self.shape.forward)
                    forward(x.copy(), **train_kwargs(forward, self.train))
                    getattr(self.model, self.shape.backward)(_copy(t))
                else:
                    step = getattr(self.model, self.shape.step)
                    step(**_step_arguments(step, x.copy(), _copy(t)))
            except _Stopped:
                return returned[0] if returned else None
        raise NotChecked(f"`{self.shape.step}` never called `{self.shape.backward}`")

    def _feeding(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """`method` (the container's forward), the shape of each input it is given kept in `fed`."""

        def fed(*args: Any, **kwargs: Any) -> Any:
            self.fed.append(np.shape((*args, *kwargs.values())[0]))
            return method(*args, **kwargs)

        return fed

    # ---------------------------------------------------------------- whose fault

    def calls(self) -> _Calls:
        """What each layer was handed and gave in one training step (until it raised, if it did)."""
        record = _Calls()
        with contextlib.ExitStack() as stack:
            for index, layer in enumerate(self.layers):
                stack.enter_context(_watched(layer, self.shape.layer_forward, record.forwards, index))
                stack.enter_context(_watched(layer, self.shape.layer_backward, record.backwards, index))
            saved = {key: array.copy() for key, (_, _, array) in self._params.items()}
            with contextlib.suppress(Exception):  # noqa: BLE001 - user code: what ran before it raised is kept
                self._step()
            for key, (layer, attr, array) in self._params.items():
                _gradient(layer, attr, array, saved[key])  # undo a step
        return record

    def blame(self) -> tuple[str, int | None]:
        """("container", None), ("params", i), ("dx", i) or ("seed", None): who computes the wrong gradient."""
        if self._blame is None:
            self._blame = self._whose()
        return self._blame

    def chained(self, record: _Calls) -> bool:
        """Whether the layers ran backward in the reverse of their forward order, each handed what
        the layer after it returned (as far as the step went)."""
        order = [c.index for c in record.backwards]
        if order != [c.index for c in record.forwards][::-1][: len(order)]:
            return False
        return all(_same(call.given, previous.gave) for previous, call in zip(record.backwards, record.backwards[1:]))

    def disorder(self, record: _Calls) -> str:
        """What `chained` found wrong, in words."""
        names = [type(layer).__name__ for layer in self.layers]
        ran = [c.index for c in record.backwards]
        expected = [c.index for c in record.forwards][::-1]
        if ran != expected[: len(ran)]:
            first = next(i for i, (a, b) in enumerate(zip(ran, expected)) if a != b)
            return f"`{self.shape.backward}` ran `{names[ran[first]]}` (layer {ran[first]}) backward before `{names[expected[first]]}` (layer {expected[first]}), not in the reverse of the forward order"
        second = next(call for previous, call in zip(record.backwards, record.backwards[1:]) if not _same(call.given, previous.gave))
        return f"`{self.shape.backward}` handed `{names[second.index]}` (layer {second.index}) something other than what the layer after it returned"

    def _whose(self) -> tuple[str, int | None]:
        record = self.calls()
        if not self.chained(record) or len(record.backwards) != len(record.forwards):
            return "container", None
        wrong = self._wrong = self._wrong_arrays()
        flags: dict[int, list[bool]] = {}
        for key, (owner, _, _) in self._params.items():
            flags.setdefault(self._index(owner), []).append(key in wrong)
        mixed = [i for i, marks in flags.items() if any(marks) and not all(marks)]
        if mixed:  # one layer's arrays, fed one gradient, part right and part wrong: its own statements
            return "params", max(mixed)
        broken = [i for i, marks in flags.items() if all(marks)]
        if not broken:
            return "seed", None
        nearest = max(broken)
        right = min((i for i, marks in flags.items() if i > nearest and not any(marks)), default=len(self.layers))
        inputs = {c.index: c.given for c in record.forwards}
        for call in record.backwards:  # from the output: the input gradients between the two
            if nearest < call.index <= right and self._dx_wrong(call.index, inputs[call.index], call.given):
                return "dx", call.index
        if len(set(np.round(list(wrong.values()), 3))) == 1 and len(wrong) == len(self._params) > 1:
            return "seed", None  # every gradient off by one factor, every layer right: the gradient the step starts from
        handed = next((c.given for c in record.backwards if c.index == nearest), None)
        if right == len(self.layers) and len(wrong) == len(self._params) and self._params_right(nearest, inputs.get(nearest), handed):
            return "seed", None  # every layer right for what it was handed, from the output down: what the step started from is not
        return "params", nearest

    def _params_right(self, index: int, x: Any, dout: Any) -> bool:
        """Whether layer `index`'s backward, handed `dout` after a forward of `x`, leaves the gradients of
        `sum(forward(x) * dout)` in its parameters."""
        if not (is_float_array(x) and isinstance(dout, np.ndarray)):
            return False
        layer = copied(self.layers[index])
        forward, backward = getattr(layer, self.shape.layer_forward), getattr(layer, self.shape.layer_backward)
        flags = train_kwargs(forward, self.train)

        def value() -> float:
            np.random.seed(FORWARD_SEED)
            return float(np.sum(np.asarray(forward(x.copy(), **flags)) * dout))

        arrays = _parameters(layer)
        value()
        saved = {k: a.copy() for k, a in arrays.items()}
        backward(dout.copy())
        grads = {k: _gradient(layer, k, a, saved[k]) for k, a in arrays.items()}
        ratios = [_slope_ratio(value, a, grads[k], np.random.default_rng(3)) for k, a in arrays.items() if grads[k] is not None]
        return bool(ratios) and all(r is not None and abs(r - 1.0) <= TOLERANCE for r in ratios)

    def _index(self, layer: Any) -> int:
        return next(i for i, other in enumerate(self.layers) if other is layer)

    def _wrong_arrays(self) -> dict[str, float]:
        """The parameters whose gradient disagrees with the loss along a random direction, with the
        ratio of the gradient's slope to the loss's."""
        x, t = self._inputs
        _, grads = self.backward(1.0)
        rng = np.random.default_rng(1)
        wrong = {}
        for key, (_, _, array) in self._params.items():
            ratio = _slope_ratio(lambda: self.forward(x, t), array, grads[key], rng)
            if ratio is None or abs(ratio - 1.0) > TOLERANCE:
                wrong[key] = np.inf if ratio is None else ratio
        self._inputs = (x, t)
        return wrong

    def _dx_wrong(self, index: int, x: Any, dout: Any) -> bool:
        """Whether layer `index`'s backward, handed `dout` after a forward of `x`, returns an input
        gradient that is not that of `sum(forward(x) * dout)`. A layer that hands its gradient back
        unchanged at the output (a softmax whose loss gives ŷ − y) is not judged here."""
        layer = copied(self.layers[index])
        forward, backward = getattr(layer, self.shape.layer_forward), getattr(layer, self.shape.layer_backward)
        flags = train_kwargs(forward, self.train)

        def value(inp: np.ndarray) -> float:
            np.random.seed(FORWARD_SEED)
            return float(np.sum(np.asarray(forward(inp.copy(), **flags)) * dout))

        if not (is_float_array(x) and isinstance(dout, np.ndarray)):
            return False
        value(x)
        dx = backward(dout.copy())
        dx = dx[0] if isinstance(dx, tuple) and dx else dx
        if not isinstance(dx, np.ndarray) or dx.shape != x.shape or _same(dx, dout):
            return False
        moved = x.copy()
        ratio = _slope_ratio(lambda: value(moved), moved, dx, np.random.default_rng(2))
        return ratio is None or abs(ratio - 1.0) > TOLERANCE

    # ---------------------------------------------------------------- lines

    def backward_target(self) -> Any:
        who, index = self.blame()
        if who == "container":
            return getattr(type(self.model), self.shape.backward)
        if who == "seed":
            return getattr(type(self.model), self.shape.step)
        return getattr(type(self.layers[index]), self.shape.layer_backward)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        who, index = self.blame()
        if who == "container":
            return self.shape.passed
        node = function_node(self.backward_target())
        if who == "seed" and self.shape.from_target:  # the gradient backward hands its layers (`grad = ...`)
            return self.shape.passed
        if who == "seed":
            return passed_to(node, self.shape.backward)
        if who == "dx":
            return tuple(returned_names(node)) or ("dx",)
        layer, attr, _ = self._params.get(param, (None, "", None))
        if type(layer) is not type(self.layers[index]):  # a gradient further from the output, wrong because of this layer's
            attr = next(a for key, (owner, a, _) in self._params.items() if owner is self.layers[index] and key in self._wrong)
        operand = stepped_operand(node, attr)
        return (*((operand,) if operand else ()), *(f"{self_name(node)}.{name}" for name in _gradient_names(attr)))

    def grad_location(self, name: str) -> Any:
        """A `backward(labels)` container whose every layer is right for what it was handed: the statement
        before its layer loop that binds the gradient the loop starts from (`grad = self.criterion.backward()
        / len(labels)`), not the loop's own `grad = layer.backward(grad)`; None otherwise."""
        from backprop_doctor import locate

        if not self.shape.from_target or self.blame()[0] != "seed":
            return None
        func = getattr(type(self.model), self.shape.backward)
        node = function_node(func)
        try:
            start, file = inspect.getsourcelines(func)[1], inspect.getsourcefile(func)
        except (TypeError, OSError):
            return None
        if node is None:
            return None
        loops = [n.lineno for n in ast.walk(node) if isinstance(n, (ast.For, ast.While))]
        first = min(loops, default=None)
        binds = [
            n for n in ast.walk(node)
            if isinstance(n, (ast.Assign, ast.AugAssign)) and (first is None or n.lineno < first)
            and any(isinstance(t, ast.Name) and t.id in self.shape.passed for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
        ]  # fmt: skip
        if not binds:
            return None
        last = max(binds, key=lambda n: n.lineno)
        return locate.Location(file, start + last.lineno - 1, start + (last.end_lineno or last.lineno) - 1)

    def input_grad_targets(self) -> tuple[str, ...]:
        if self.shape.from_target:  # `return grad` of the container's own backward
            return tuple(returned_names(function_node(getattr(type(self.model), self.shape.backward)))) or ("dx",)
        return super().input_grad_targets()

    def forward_target(self) -> Any:
        return getattr(type(self.model), self.shape.forward)


def _slope_ratio(value: Callable[[], float], array: np.ndarray, grad: Any, rng: np.random.Generator, h: float = 1e-5) -> float | None:
    """The slope `grad` gives along a random direction over the slope of `value` in `array` (moved
    in place and put back): 1 for a right gradient; None when they cannot be compared."""
    if not isinstance(grad, np.ndarray) or grad.shape != array.shape:
        return None
    v = rng.standard_normal(array.shape)
    saved = array.copy()
    array += h * v
    up = value()
    np.copyto(array, saved - h * v)
    down = value()
    np.copyto(array, saved)
    numerical, analytic = (up - down) / (2 * h), float(np.sum(grad * v))
    if abs(numerical) < 1e-12:
        return 1.0 if abs(analytic) < 1e-9 else None
    return analytic / numerical


def _gradient_names(attr: str) -> list[str]:
    """Where a layer keeps `attr`'s gradient, a private attribute's too (`_w` → `_dw`)."""
    names = gradient_names(attr)
    return names + ["_" + n for n in gradient_names(attr[1:])] if attr.startswith("_") and len(attr) > 1 else names


def _gradient(layer: Any, attr: str, array: np.ndarray, saved: np.ndarray) -> np.ndarray | None:
    """The gradient of one parameter after a backward: the step a `UnitStep` the layer holds took
    (the parameter then put back), else the array kept under one of its gradient's names."""
    now = getattr(layer, attr, None)
    stepped = any(isinstance(v, UnitStep) for v in vars(layer).values())
    if stepped and (now is not array or not np.array_equal(array, saved)):
        setattr(layer, attr, array)
        np.copyto(array, saved)
        try:  # a step of another shape than the parameter's (a bias not summed over the batch) is kept as it is
            return np.asarray(saved - np.asarray(now, dtype=np.float64))
        except (TypeError, ValueError):
            return None
    for name in _gradient_names(attr):
        g = vars(layer).get(name)
        if isinstance(g, np.ndarray) and g.shape == array.shape:
            return np.array(g, dtype=np.float64)
    return None


def _arrays(layer: Any) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(layer).items() if is_float_array(v)} if hasattr(layer, "__dict__") else {}


def _parameters(layer: Any) -> dict[str, np.ndarray]:
    """A layer's float arrays that may be parameters: not the gradient of another (`_dw` of `_w`)."""
    arrays = _arrays(layer)
    gradients = {name for attr in arrays for name in _gradient_names(attr)}
    return {k: v for k, v in arrays.items() if k not in gradients}


def _holds_optimizer(value: Any) -> bool:
    """An optimizer object a layer holds (`self.W_opt`): a user object with `update`, no layer."""
    methods = dir(type(value))
    return _user_object(value) and callable(getattr(value, "update", None)) and _named(tuple(methods), FORWARD_WORDS + BACKWARD_WORDS) is None


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)


@contextlib.contextmanager
def _wrapped(obj: Any, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """`obj.<name>` replaced by `wrap(obj.<name>)` on the instance for the length of the block (an
    object without an instance dict, or without the method, is left as it is)."""
    method = getattr(obj, name, None)
    if method is None or not hasattr(obj, "__dict__"):
        yield
        return
    setattr(obj, name, wrap(method))
    try:
        yield
    finally:
        vars(obj).pop(name, None)


def _stop_after(model: Any, name: str, returned: list[Any] | None = None) -> contextlib.AbstractContextManager[None]:
    """`model.<name>` raises `_Stopped` once it has returned (what it returned appended to `returned`),
    for the length of the block."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def stopped(*args: Any, **kwargs: Any) -> Any:
            value = method(*args, **kwargs)
            if returned is not None:
                returned.append(value)
            raise _Stopped

        return stopped

    return _wrapped(model, name, wrap)


def _watched(layer: Any, name: str, calls: list[_LayerCall], index: int) -> contextlib.AbstractContextManager[None]:
    """Each call of `layer.<name>` appended to `calls` as it starts, what it returns added when it
    does, for the length of the block."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            given = (*args, *kwargs.values())
            call = _LayerCall(index, _copy(given[0] if given else None))
            calls.append(call)
            out = method(*args, **kwargs)
            call.gave = _copy(out[0] if isinstance(out, tuple) and out else out)
            return out

        return watched

    return _wrapped(layer, name, wrap)


# --------------------------------------------------------------------------- building


def _step_arguments(step: Any, x: np.ndarray, t: Any) -> dict[str, Any]:
    """The training step's arguments for one pass over one batch: the batch and its targets (a
    validation set too), one epoch, a batch that holds every row."""
    values: dict[str, Any] = {}
    for index, (name, p) in enumerate(parameters(step).items()):
        low = name.lower()
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        if index < 2:
            values[name] = (x, t)[index]
        elif p.default is not p.empty and not any(w in low for w in ("epoch", "iter")):
            continue
        elif any(w in low for w in ("epoch", "iter", "step")):
            values[name] = 1
        elif "batch" in low or low == "bs":
            values[name] = len(x)
        elif "x" in low or "input" in low or "data" in low:
            values[name] = x
        else:
            values[name] = t
    return values


def _batch(instance: Any, found: Shape) -> tuple[np.ndarray, Any] | None:
    """The first rows of the batch and targets the program handed its container: the arguments of
    its training step's first recorded call, else of any call given two arrays of as many rows."""
    if found.from_target:  # `model.forward(X)` then `model.backward(Y)`: the first of each
        given = [next((a for a in (*c.args, *c.kwargs.values()) if isinstance(a, np.ndarray)), None) for name in (found.forward, found.backward) for c in instance.calls.get(name, [])[:1]]
        if len(given) == 2 and is_float_array(given[0]) and given[0].ndim >= 1 and given[1] is not None and len(given[1]) == len(given[0]):
            return given[0][:ROWS].astype(np.float64), given[1][:ROWS]
        return None
    calls = instance.calls.get(found.step, [])
    for call in [*calls, *(c for cs in instance.calls.values() for c in cs)]:
        arrays = [a for a in (*call.args, *call.kwargs.values()) if isinstance(a, np.ndarray)]
        if len(arrays) >= 2 and is_float_array(arrays[0]) and arrays[0].ndim >= 1 and len(arrays[1]) == len(arrays[0]):
            return arrays[0][:ROWS].astype(np.float64), arrays[1][:ROWS]
    return None


def _observed(cls: type, context: Any, found: Shape, rng: np.random.Generator) -> tuple[Any, np.ndarray, Any, Any] | None:
    """The program's own container of class `cls`, its batch and the record of it: the batch it
    trained on, else (a program that built it and stopped before training) one of the width its
    first layer takes, with one-hot targets of its output's width."""
    record = context.extras.get("observed_record") if context is not None else None
    untrained = None
    for instance in getattr(record, "instances", []):
        if not _same_class(instance.cls, cls):
            continue
        # as the program first ran it, before its training moved (or broke) the weights
        obj = next((o for o in (instance.state, instance.obj) if getattr(o, found.attribute, None)), None)
        batch = _batch(instance, found) if obj is not None else None
        if batch is not None:
            return obj, batch[0], batch[1], instance
        if obj is not None and untrained is None:
            untrained = (obj, instance)
    if untrained is None:
        return None
    batch = _fed_batch(untrained[0], found, rng)
    return (untrained[0], *batch, untrained[1]) if batch is not None else None


def _fed_batch(model: Any, found: Shape, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """A batch of the width the container's first layer takes (one side of its first matrix),
    and one-hot targets of the width its output has; None when neither side runs."""
    first = getattr(model, found.attribute)[0]
    widths = dict.fromkeys(side for array in _arrays(first).values() if array.ndim == 2 for side in array.shape)
    forward = getattr(model, found.forward)
    for width in widths:
        x = rng.standard_normal((ROWS, width))
        try:
            with _seeded_copy(model) as work:
                out = getattr(work, found.forward)(x.copy(), **train_kwargs(forward, True))
        except Exception:  # noqa: BLE001 - not the width it takes
            continue
        if isinstance(out, np.ndarray) and out.ndim == 2:
            return x, np.eye(out.shape[1])[rng.integers(0, out.shape[1], ROWS)]
    return None


@contextlib.contextmanager
def _seeded_copy(model: Any) -> Iterator[Any]:
    """A copy of `model` to try, NumPy's global generator seeded for it and put back afterwards."""
    state = np.random.get_state()
    np.random.seed(FORWARD_SEED)
    try:
        yield copied(model)
    finally:
        np.random.set_state(state)


def _in_container(adapter: Container, error: Exception) -> Exception:
    """A training step that raised inside a layer the container called out of order, or handed
    something other than what the layer after it returned: the error, its traceback cut at the
    container's own backward, whose line is the one to fix (`build.failure_finding` reports the
    innermost line of the user's it holds). Raised otherwise, the step is not checked: the
    arguments backprop-doctor gave it may be what it refused."""
    from backprop_doctor.build import UserCodeRaised  # the build stage's own error, as `_run` reports it

    record = adapter.calls()
    if adapter.chained(record):  # not the container's order: the call backprop-doctor made may be to blame
        return NotChecked(f"its training step `{adapter.shape.step}` raised {type(error).__name__} on the batch backprop-doctor gave it: {error}")
    code = getattr(getattr(type(adapter.model), adapter.shape.backward, None), "__code__", None)
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is not None:
        tb.tb_next = None
    if error.args and isinstance(error.args[0], str):
        error.args = (f"{adapter.disorder(record)}, and then: {error.args[0]}", *error.args[1:])
    return UserCodeRaised(f"`{adapter.shape.backward}` of `{adapter.name}` runs its layers out of order", error)


def _same_class(ran: type, defined: type) -> bool:
    """The class the program ran is the one the definitions define: the same object, or the same
    definition executed again by the program's own run (same name, same file)."""
    if ran is defined:
        return True
    try:
        return ran.__qualname__ == defined.__qualname__ and inspect.getsourcefile(ran) == inspect.getsourcefile(defined)
    except (TypeError, OSError):
        return False


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    found = shape(cls)
    assert found is not None
    observed = _observed(cls, context, found, rng)
    if observed is not None:
        obj, x, t, instance = observed
        model = copied(obj)
        built = f"your {cls.__name__}" + (f", built at line {instance.line}" if instance.line else "")
    elif found.from_target:
        try:
            model, x, t, built = _synthesized(cls, found, context, rng)
        except NotChecked as error:
            raise NotChecked(
                f"its backward({required_inputs(getattr(cls, found.backward))[0]}) starts from the target and computes its own loss "
                f"through the criterion it holds; it is checked as a program builds it and runs forward, then backward, and none "
                f"here does ({error}): not checked yet"
            ) from None
    else:
        model, x, t, built = _synthesized(cls, found, context, rng)
    promote_to_float64(model)
    try:
        loss = _own_loss(model, cls, found, x, t) if found.from_target else _loss(model, cls, found)
    except Exception as error:  # noqa: BLE001 - user code
        raise NotChecked(f"its `{found.forward}` then `{found.backward}` raised {type(error).__name__} on the batch backprop-doctor gave it: {error}") from None
    if loss is None and found.from_target:
        raise NotChecked(
            f"its backward({required_inputs(getattr(cls, found.backward))[0]}) starts from the target and computes its own loss "
            "through a criterion handed something other than what its forward returns, or keeps a loss its criterion's values "
            "do not sum or average to: not checked yet"
        )
    if loss is None:
        raise NotChecked(f"`{cls.__name__}` holds no loss object and calls no loss function of its prediction and targets")
    adapter = Container(model, found, loss[0], train=context.options.train if context is not None else True)
    try:
        adapter.discover(x, t)
        if adapter.fed[:1] != [x.shape] and len(x) > 1:  # a step that runs part of the batch: a batch of one
            x, t = x[:1], t[:1]
            adapter.discover(x, t)
    except Exception as error:  # noqa: BLE001 - user code
        raise _in_container(adapter, error) from None
    if adapter.fed[:1] != [x.shape]:
        raise NotChecked(f"`{cls.__name__}.{found.step}` runs its forward on other inputs than the batch it is given ({adapter.fed[0]} for {x.shape})")
    if not adapter.params():
        raise NotChecked(f"`{cls.__name__}.{found.step}` left no gradient in its layers' parameters")
    return [Case(f"{built}, x {x.shape}, t {np.shape(t)}, loss {loss[1]}", adapter, x, t)]


def _synthesized(cls: type, found: Shape, context: Any, rng: np.random.Generator) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """A container the file never builds, built of the layer classes its package (or the file
    itself) defines, with a batch its first layer takes and one-hot targets of its output's width."""
    from backprop_doctor.conventions import _package_layers as package

    namespace = getattr(context, "namespace", None) or {}
    own = [v for v in namespace.values() if inspect.isclass(v) and v.__module__ == cls.__module__ and v is not cls]
    classes = list(dict.fromkeys([*own, *package.package_classes(cls)]))
    network = package.small_network(classes, rng, batch=ROWS)
    if network is None:
        raise NotChecked(f"your program never builds a `{cls.__name__}`, and no layer class with parameters was found beside it to build one")
    layers, x, hows = network
    try:
        model = package.construct(cls, layers, package.losses(classes), UnitStep())
        forward = getattr(model, found.forward)
        with package.seeded():
            out = forward(x.copy(), **train_kwargs(forward, True))
    except Exception as error:  # noqa: BLE001 - user code
        raise NotChecked(f"`{cls.__name__}` could not be built of {', '.join(hows)}: {type(error).__name__}: {error}") from error
    t = np.eye(np.shape(out)[-1])[rng.integers(0, np.shape(out)[-1], len(x))]
    return model, x, t, f"`{cls.__name__}` of {', '.join(hows)}"
