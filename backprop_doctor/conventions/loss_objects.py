"""Loss objects: one method for the loss, one for its gradient, both of (target, prediction).

A loss written as an object with `loss(y, y_pred)` and `gradient(y, y_pred)`
(or `__call__(y_true, y_pred)` and `gradient(...)`, `loss`/`derivative`,
`cost`/`prime`, `__call__(x, y)`/`backward(x, y)`...) returns the gradient with respect to the *prediction*, the
argument the network produced; the other one is the target. Which is which is
read from the names (`y`, `y_true`, `t`, `target` against `y_pred`, `p`,
`output`, `y_hat`); the order is the user's. A loss that returns one value per
element (`0.5 * (y - y_pred) ** 2`) has the gradient of its sum; one that
returns a number, the gradient of that number.

Example:
    class SquareLoss:
        def loss(self, y, y_pred):
            return 0.5 * np.power(y - y_pred, 2)

        def gradient(self, y, y_pred):
            return -(y - y_pred)

    class CrossEntropy:
        def loss(self, y, p):
            p = np.clip(p, 1e-15, 1 - 1e-15)
            return -y * np.log(p) - (1 - y) * np.log(1 - p)

        def gradient(self, y, p):
            p = np.clip(p, 1e-15, 1 - 1e-15)
            return -(y / p) + (1 - y) / (1 - p)

Recognised by: a class with one of the method pairs below, both taking the
same two arguments with the same names, one named like a target and the other
like a prediction; confirmed by trial calls on probabilities (N, C) with one-hot,
integer or real-valued targets, where the gradient has the prediction's shape.
The gradient is what the second method returns. A loss written for one column of predictions
(`grad(y, y_pred) = -2 / len(y) * (y - y_pred)` beside `np.mean((y - y_pred) ** 2)`, k times the mean's
gradient on (n, k) arrays) is checked on 1-d predictions and targets: where the file's own code calls
it on one column (`loss.grad(Y[:, k], F[:, k])` on an instance it made), or, with no such caller, when
its gradient follows its loss on one column and not on (n, k) arrays (`_one_column`).

The same pair written as two functions, `mse(y_true, y_pred)` and `mse_prime(y_true, y_pred)`
(a `losses.py` beside the layers), is checked the same way: the derivative is the function named
after the loss with `_prime`, `_derivative`, `_grad`, ... and taking the same two arguments.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, method_of
from backprop_doctor.conventions._classlayer import required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.reference import softmax

NAME = "loss-objects"
KIND = "class"
ORDER = 14
LOSSES = ("loss", "__call__", "compute", "calculate", "function", "fn", "cost", "value", "f")
GRADIENTS = ("gradient", "grad", "derivative", "deriv", "prime", "delta", "dloss", "d_loss", "df", "backward_loss", "backward")
TARGETS = ("y", "y_true", "ytrue", "t", "target", "targets", "label", "labels", "actual", "expected", "true", "y_target", "truth", "desired", "ys")
PREDICTIONS = (
    "y_pred", "ypred", "pred", "preds", "prediction", "predictions", "p", "y_hat", "yhat", "output", "outputs",
    "predicted", "a", "activation", "scores", "logits", "probs", "y_predicted", "out", "y_out", "h",
)  # fmt: skip
CLASSES = 4


# the two arguments a gradient method may take after the loss's own: the output's pre-activation and
# the activation object that made the prediction of it (`grad(y, y_pred, z, act_fn)`)
PRE_ACTIVATIONS = ("z", "pre", "preact", "pre_activation", "net", "zs", "z_out")
ACTIVATION_OBJECTS = ("act_fn", "activation_fn", "act", "act_func", "activation_function", "actfn", "fn_act", "activation_object")


def activation_arguments(cls: type, gradient: str, names: list[str]) -> tuple[str, ...] | None:
    """The arguments of `gradient` after the loss's own two, when they are a pre-activation and the
    activation object that maps it to the prediction (`grad(y, y_pred, z, act_fn)`: the gradient with
    respect to `z`, `(y_pred - y) * act_fn.grad(z)`); () when it takes the loss's two alone; None otherwise."""
    given = [n.lower() for n in required_inputs(method_of(cls, gradient))]
    if given[:2] != names:
        return None
    extra = given[2:]
    if not extra:
        return ()
    if len(extra) == 2 and sorted(n in ACTIVATION_OBJECTS for n in extra) == [False, True] and any(n in PRE_ACTIVATIONS for n in extra):
        return tuple(extra)
    return None


def loss_methods(cls: type, activation_objects: bool = False) -> tuple[str, str, int] | None:
    """(loss method, gradient method, index of the prediction among their two arguments). With
    `activation_objects`, a gradient method may also take the output's pre-activation and its
    activation object after them (`activation_arguments`)."""
    own = {name for klass in cls.__mro__[:-1] for name in vars(klass)}
    for loss in LOSSES:
        if loss not in own or not callable(getattr(cls, loss, None)):
            continue
        names = [n.lower() for n in required_inputs(method_of(cls, loss))]
        if len(names) != 2:
            continue
        for gradient in GRADIENTS:
            g = getattr(cls, gradient, None)
            if gradient not in own or not callable(g):
                continue
            extra = activation_arguments(cls, gradient, names)
            if extra is None or (extra and not activation_objects):
                continue
            # `x` is a prediction only for a loss's own `backward(x, y)`: a network's `loss(x, t)` and
            # `gradient(x, t)` take its input
            predictions = (*PREDICTIONS, "x") if gradient == "backward" and loss in ("__call__", "forward") else PREDICTIONS
            prediction = prediction_index(names, predictions)
            if prediction is not None:
                return loss, gradient, prediction
    return None


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return loss_methods(cls, activation_objects=True) is not None


FUNCTION_SUFFIXES = ("_prime", "_derivative", "_deriv", "_grad", "_gradient", "_der", "_backward", "_delta")


def prediction_index(names: list[str], predictions: tuple[str, ...] = PREDICTIONS) -> int | None:
    """Which of two argument names is the prediction (the other a target), or None."""
    if names[0] in TARGETS and names[1] in predictions:
        return 1
    if names[0] in predictions and names[1] in TARGETS:
        return 0
    return None


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(loss, derivative) pairs of functions of a target and a prediction: `mse` and `mse_prime`."""
    pairs = []
    for name, f in functions.items():
        names = [n.lower() for n in required_inputs(f)]
        if len(names) != 2 or prediction_index(names) is None:
            continue
        for suffix in FUNCTION_SUFFIXES:
            g = functions.get(name + suffix)
            if g is not None and [n.lower() for n in required_inputs(g)] == names:
                pairs.append((f, g))
                break
    return pairs


def label(obj: Any) -> str:
    if isinstance(obj, tuple):
        return f"{obj[0].__name__}/{obj[1].__name__}"
    return obj.__name__


class LossObject(Adapter):
    """`loss(y, p)` and `gradient(y, p)` seen as a loss layer of the prediction p."""

    def __init__(self, obj: Any, loss: str, gradient: str, prediction: int, through: str | None = None):
        cls = type(obj)
        super().__init__(name=cls.__name__, kind="loss-object", target=cls, is_loss=True)
        self.obj, self._loss, self._gradient, self.prediction = obj, loss, gradient, prediction
        self._inputs: tuple[np.ndarray, Any] | None = None
        # "softmax" or "sigmoid": the gradient is the combined one, `p - y`, of the output's pre-activation;
        # the input is then that pre-activation, and the loss is taken of its activation
        self.through = through
        self.summed = 1.0  # the gradient is that of the summed loss while the loss averages: n × it, divided back
        # the gradient method's arguments after the loss's two (`z`, `act_fn`): handed the input and a sigmoid
        # object, the prediction being that sigmoid of the input (`through` "sigmoid")
        self.extra: tuple[str, ...] = ()

    def _activated(self, x: np.ndarray) -> np.ndarray:
        return _ACTIVATIONS[self.through](x) if self.through else x

    def _arguments(self, p: np.ndarray, y: Any) -> tuple[Any, Any]:
        return (p, y) if self.prediction == 0 else (y, p)

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._inputs = (x.copy(), t)
        out = getattr(self.obj, self._loss)(*self._arguments(self._activated(x), _copy(t)))
        out = np.asarray(out, dtype=np.float64)
        return out.sum() if out.size > 1 else out.reshape(())  # one value per element: their sum

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._inputs is not None, "forward first"
        p, t = self._inputs
        given = self._arguments(self._activated(p.copy()), _copy(t))
        given += tuple(SigmoidObject() if n in ACTIVATION_OBJECTS else p.copy() for n in self.extra)
        dx = getattr(self.obj, self._gradient)(*given)
        return np.asarray(dx, dtype=np.float64) / self.summed * dout, {}

    def forward_target(self) -> Any:
        return getattr(type(self.obj), self._loss)

    def backward_target(self) -> Any:
        return getattr(type(self.obj), self._gradient)


class _Functions:
    """A loss function and its derivative, called as `LossObject` calls a loss object's methods."""

    def __init__(self, loss: Any, gradient: Any):
        self.loss, self.gradient = loss, gradient


class LossFunctions(LossObject):
    """`mse(y, p)` and `mse_prime(y, p)`: the pair, with its own functions' lines."""

    def __init__(self, loss: Any, gradient: Any, prediction: int, through: str | None = None):
        super().__init__(_Functions(loss, gradient), "loss", "gradient", prediction, through)
        self.name, self.target = label((loss, gradient)), gradient
        self._functions = (loss, gradient)

    def forward_target(self) -> Any:
        return self._functions[0]

    def backward_target(self) -> Any:
        return self._functions[1]


_ACTIVATIONS = {"softmax": softmax, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


class SigmoidObject:
    """A sigmoid activation object as a loss's gradient method is handed one (`act_fn.grad(z)`), under
    the names such objects give their value and their derivative."""

    def fn(self, z: Any) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))

    __call__ = forward = function = f = activate = fn

    def grad(self, z: Any) -> np.ndarray:
        s = self.fn(z)
        return s * (1.0 - s)

    gradient = derivative = deriv = prime = df = backward = grad


def _along(adapter: LossObject, x: np.ndarray, t: Any, v: np.ndarray, h: float = 1e-6) -> tuple[float, float]:
    """(central difference, the adapter's gradient) of its loss at `x` along `v`; raises what user code raises."""
    with np.errstate(all="ignore"):
        slope = (adapter.forward(x + h * v, t) - adapter.forward(x - h * v, t)) / (2 * h)
        adapter.forward(x, t)
        return slope, float(np.sum(np.asarray(adapter.backward(1.0)[0]) * v))


def _combined(adapter: LossObject, p: np.ndarray, t: Any, rng: np.random.Generator) -> str | None:
    """The output activation whose input the gradient is taken with respect to, when it is the combined
    `p - y` (a multiple of it) of a cross-entropy after a softmax or a sigmoid: the activation under which
    it follows the loss of the activation's output along a random direction; else None."""
    try:
        with np.errstate(all="ignore"):
            adapter.forward(p, t)
            given = np.asarray(adapter.backward(1.0)[0], dtype=np.float64)
            y = np.eye(p.shape[1])[t] if np.ndim(t) == 1 else np.asarray(t, dtype=np.float64)
    except Exception:  # noqa: BLE001 - user code: the ordinary check reports it
        return None
    error = p - y
    scale = float(np.sum(given * error) / max(float(np.sum(error * error)), 1e-300))
    if given.shape != p.shape or scale <= 0 or not np.allclose(given, scale * error, rtol=1e-6, atol=1e-12):
        return None
    z, v = rng.normal(size=p.shape), rng.choice((-1.0, 1.0), size=p.shape)
    for name in ("softmax", "sigmoid") if p.shape[1] > 1 else ("sigmoid",):  # a softmax over one column is the constant 1
        tried = copy.copy(adapter)
        tried.through = name
        try:
            slope, analytic = _along(tried, z, t, v)
        except Exception:  # noqa: BLE001
            continue
        if np.isfinite(slope) and abs(slope - analytic) <= 1e-4 * max(abs(slope), abs(analytic)) + 1e-9:
            return name
    return None


def _copy(t: Any) -> Any:
    return t.copy() if isinstance(t, np.ndarray) else t


def _targets(n: int, rng: np.random.Generator, classes: int = CLASSES) -> list[tuple[str, np.ndarray]]:
    labels = rng.integers(0, classes, n)
    return [
        ("one-hot targets", np.eye(classes)[labels]),
        ("integer labels", labels),
        ("real-valued targets", rng.uniform(0.1, 0.9, (n, classes))),
    ]


def _program_width(context: Any, functions: tuple[Any, ...], prediction: int) -> int:
    """The width of the prediction the program's own run handed the loss or its derivative (`huber(out, y)`
    with `out` (N, 1)): a derivative written for that width (`/ r.shape[0]`, right for one output) is
    judged at it. `CLASSES` when the run never called them with a 2-d prediction."""
    from backprop_doctor.conventions._run import program_call

    for function in functions:
        call = program_call(context, function)
        given = call.args[prediction] if call is not None and len(call.args) > prediction else None
        if isinstance(given, np.ndarray) and given.ndim == 2 and given.shape[1] >= 1:
            return int(given.shape[1])
    return CLASSES


def _trial(adapter: LossObject, p: np.ndarray, t: np.ndarray) -> bool:
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        value = adapter.forward(p, t)
        dx, _ = adapter.backward(1.0)
    except Exception:
        return False
    finally:
        np.random.set_state(state)
    return bool(np.isfinite(value)) and dx.shape == p.shape and bool(np.all(np.isfinite(dx)))


def _abstract_error(obj: Any, method: str, p: np.ndarray, t: np.ndarray, prediction: int) -> BaseException | None:
    try:
        getattr(obj, method)(*((p, t) if prediction == 0 else (t, p)))
    except NotImplementedError as error:
        return error
    except Exception:
        return None
    return None


def build(cls: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    n = max(int(context.options.batch_size), 2)
    p = rng.uniform(0.1, 0.9, (n, CLASSES))  # probabilities away from 0 and 1: every loss is smooth there
    if isinstance(cls, tuple):  # a loss function and its derivative
        f, g = cls
        prediction = prediction_index([name.lower() for name in required_inputs(f)])
        assert prediction is not None
        width = _program_width(context, cls, prediction)
        p = rng.uniform(0.1, 0.9, (n, width)) if width != CLASSES else p
        for what, t in _targets(n, rng, width):
            made = LossFunctions(f, g, prediction)
            if _trial(made, p, t):
                return [_case(made, p, t, what, rng)]
        return [Case(f"prediction {p.shape}, one-hot targets (every target tried raised)", LossFunctions(f, g, prediction), p, _targets(n, rng, width)[0][1])]
    loss, gradient, prediction = loss_methods(cls, activation_objects=True)
    if inspect.isabstract(cls):
        raise NotChecked(f"`{cls.__name__}` is an abstract base class: the classes that write its methods are checked")
    try:
        obj = cls(**builder.infer_kwargs(cls, rng))
    except builder.BuildError as error:
        raise NotChecked(str(error)) from error
    except Exception as error:
        raise builder._raised(f"{cls.__name__}(...) raised {type(error).__name__}: {error}", error) from error
    names = [n.lower() for n in required_inputs(method_of(cls, loss))]
    extra = activation_arguments(cls, gradient, names) or ()
    if extra:
        return [_through_object(obj, loss, gradient, prediction, extra, n, rng)]
    column = _one_column(cls, context, rng, n, obj, loss, gradient, prediction)
    if column is not None:
        return [column]
    # probabilities that sum to 1 over each row, for a loss that checks they do (`assert np.allclose(p.sum(1), 1)`)
    for given in (p, p / p.sum(axis=1, keepdims=True)):
        for what, t in _targets(n, rng):
            adapter = LossObject(obj, loss, gradient, prediction)
            if _trial(adapter, given, t):
                return [_case(adapter, given, t, what, rng)]
    if _abstract_error(obj, loss, p, _targets(n, rng)[0][1], prediction) is not None:
        raise NotChecked(f"`{cls.__name__}.{loss}` raises NotImplementedError: a base class")
    # Nothing runs: let the engine report what the loss raises, at the user's line.
    return [Case(f"prediction {p.shape}, one-hot targets (every target tried raised)", LossObject(obj, loss, gradient, prediction), p, _targets(n, rng)[0][1])]


def _through_object(obj: Any, loss: str, gradient: str, prediction: int, extra: tuple[str, ...], n: int, rng: np.random.Generator) -> Case:
    """The case of a gradient taken with respect to the output's pre-activation, handed with the activation
    object that made the prediction of it (`grad(y, y_pred, z, act_fn)`): the pre-activation drawn at random,
    a sigmoid object, the loss taken of its output."""
    z = rng.normal(size=(n, CLASSES))
    targets = _targets(n, rng)
    tried = []
    for what, t in targets:
        adapter = LossObject(obj, loss, gradient, prediction, through="sigmoid")
        adapter.extra = extra
        tried.append((what, t, adapter))
        if _trial(adapter, z, t):
            break  # else the first: the engine reports what it raises
    what, t, adapter = tried[-1] if len(tried) < len(targets) or _trial(tried[-1][2], z, tried[-1][1]) else tried[0]
    handed = " and ".join(f"`{e}`" for e in extra)
    return Case(f"pre-activation {z.shape} through a sigmoid object ({handed} handed to `{gradient}`), {what} {np.shape(t)}", adapter, z, t)


def _one_column(cls: type, context: Any, rng: np.random.Generator, n: int, obj: Any, loss: str, gradient: str, prediction: int) -> Case | None:
    """The case of a loss written for one column of predictions (`grad(y, y_pred) = -2 / len(y) * (y - y_pred)`
    beside `np.mean((y - y_pred) ** 2)`): 1-d predictions and targets (n,), where the file's own code calls
    its methods on one column (`loss.grad(Y[:, k], Y_pred[:, k])`), or, where no caller says, when its
    gradient follows its loss on one column and not on (n, k) arrays (where it is a multiple of the mean's).
    None: the loss is checked on (n, k) arrays as before."""
    p1 = rng.uniform(0.1, 0.9, n)
    t1 = rng.uniform(0.1, 0.9, n)
    made = LossObject(obj, loss, gradient, prediction)
    if not _trial(made, p1, t1):
        return None
    source = getattr(context, "source", None)
    called = _called_on_columns(cls, (loss, gradient), getattr(source, "tree", None))
    if called is not None:
        return Case(f"prediction {p1.shape}, real-valued targets {t1.shape} (one column, as line {called} calls it)", made, p1, t1)
    if _agrees(made, p1, t1, rng) is not True:
        return None
    p2 = rng.uniform(0.1, 0.9, (n, CLASSES))
    for _what, t2 in _targets(n, rng):
        wide = LossObject(obj, loss, gradient, prediction)
        if _trial(wide, p2, t2):
            if _agrees(wide, p2, t2, rng) is not False or _summed(wide, p2, t2, rng) != 1:
                return None  # right on (n, k) arrays too (or a summed loss's gradient, divided back): checked on them
            return Case(
                f"prediction {p1.shape}, real-valued targets {t1.shape} (its gradient follows its loss on one column, "
                f"not on ({n}, {CLASSES}) arrays: written for one column)",
                made, p1, t1,
            )
    return Case(f"prediction {p1.shape}, real-valued targets {t1.shape} (one column: no (n, k) targets tried run)", made, p1, t1)


def _agrees(adapter: LossObject, p: np.ndarray, t: Any, rng: np.random.Generator) -> bool | None:
    """Whether the adapter's gradient follows its loss along two random directions (None: not measurable)."""
    for _ in range(2):
        try:
            slope, analytic = _along(adapter, p, t, rng.choice((-1.0, 1.0), size=p.shape))
        except Exception:  # noqa: BLE001 - user code
            return None
        if not (np.isfinite(slope) and np.isfinite(analytic)):
            return None
        if abs(slope - analytic) > 1e-5 * max(abs(slope), abs(analytic)) + 1e-9:
            return False
    return True


def _called_on_columns(cls: type, methods: tuple[str, ...], checked: Any = None) -> int | None:
    """The line of a call in the checked file (the tree `checked`) or the class's own file of one of `methods` on an instance (`loss.grad(y, y_pred)`)
    whose arguments are one column of an array (`Y[:, k]`, or a name bound to one in the same function)."""
    import inspect

    from backprop_doctor.static.files import source_tree

    try:
        path = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        path = None
    trees = [t for t in (checked, source_tree(path)[1] if path else None) if t is not None]
    names = {m for m in methods if m != "__call__"}
    for tree in trees:
        line = _column_call(tree, names, cls.__name__)
        if line is not None:
            return line
    return None


def _column_call(tree: Any, names: set[str], made: str) -> int | None:
    """`_called_on_columns` in one tree: the receiver a name the same function binds to `made(...)`."""
    import ast

    from backprop_doctor.static.tree import walk

    def column(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2
            and isinstance(node.slice.elts[0], ast.Slice) and node.slice.elts[0].lower is None and node.slice.elts[0].upper is None
            and not isinstance(node.slice.elts[1], ast.Slice)
        )  # fmt: skip

    for function in (f for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))):
        columns: set[str] = set()
        instances: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                pairs = (
                    zip(node.targets[0].elts, node.value.elts)
                    if isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Tuple) and len(node.targets[0].elts) == len(node.value.elts)
                    else [(node.targets[0], node.value)] if len(node.targets) == 1 else []
                )
                pairs = list(pairs)
                columns |= {target.id for target, value in pairs if isinstance(target, ast.Name) and column(value)}
                instances |= {
                    target.id for target, value in pairs
                    if isinstance(target, ast.Name) and isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute))
                    and (value.func.id if isinstance(value.func, ast.Name) else value.func.attr) == made
                }  # fmt: skip
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names and len(node.args) >= 2):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id in instances):
                continue
            if all(column(a) or (isinstance(a, ast.Name) and a.id in columns) for a in node.args[:2]):
                return node.lineno
    return None


def _summed(adapter: LossObject, p: np.ndarray, t: Any, rng: np.random.Generator) -> float:
    """The number of samples or of elements when the gradient is exactly that many times the loss's
    along two random directions: a per-sample derivative (`-y / p + (1 - y) / (1 - p)`) of a loss that
    averages, which a training loop divides by its batch itself; else 1."""
    ratios = []
    for _ in range(2):
        try:
            slope, analytic = _along(adapter, p, t, rng.choice((-1.0, 1.0), size=p.shape))
        except Exception:  # noqa: BLE001 - user code: the ordinary check reports it
            return 1.0
        if not np.isfinite(slope) or abs(slope) < 1e-9:
            return 1.0
        ratios.append(analytic / slope)
    for n in (p.shape[0], p.size):
        if n > 1 and all(abs(r / n - 1) < 1e-5 for r in ratios):
            return float(n)
    return 1.0


def _case(adapter: LossObject, p: np.ndarray, t: Any, what: str, rng: np.random.Generator) -> Case:
    """The case of a loss that runs: on the prediction, or, when its gradient is the combined `p - y`
    of a softmax or sigmoid output, on that output's pre-activation (scores drawn at random). A gradient
    of the summed loss beside a loss that averages is divided back, and the case says so."""
    through = _combined(adapter, p, t, rng)
    if through is None:
        adapter.summed = _summed(adapter, p, t, rng)
        summed = f" (your gradient is the summed loss's, {adapter.summed:g} × the mean's; compared divided by {adapter.summed:g})" if adapter.summed != 1 else ""
        return Case(f"prediction {p.shape}, {what} {np.shape(t)}{summed}", adapter, p, t)
    adapter.through = through
    scores = rng.normal(size=p.shape)
    return Case(
        f"scores {scores.shape} through a {through}, {what} {np.shape(t)} (the gradient given is p − y: the {through}'s input's)",
        adapter, scores, t,
    )
