"""Activation functions with their derivative: objects and plain function pairs.

The derivative is a *local* one: `gradient(x)` returns f'(x) elementwise, not
the gradient of a loss. Some write it of the input (`sigmoid_prime(z) =
sigmoid(z) * (1 - sigmoid(z))`), some of the output (`dtanh(y) = 1 - y ** 2`).
It is checked as what it is: the derivative against the numerical derivative
of the function, element by element, whichever of the two forms it uses.
Functions that are not elementwise (a softmax with a Jacobian) are left out.

Example:
    class Sigmoid:
        def __call__(self, x):
            return 1 / (1 + np.exp(-x))

        def gradient(self, x):
            return self.__call__(x) * (1 - self.__call__(x))

    def relu(z):
        return np.maximum(z, 0)

    def relu_prime(z):
        return (z > 0).astype(float)

A stateful object whose `forward(x)` keeps what it needs (`self.out`, `self.x`) and whose
`backward()` takes no upstream gradient at all, returning f'(x) for its caller to multiply
(`return self.out * (1 - self.out)`), is a class layer of its own convention
(`layer_methods`: `Methods.local_derivative`): the adapter multiplies that derivative by
the upstream gradient, so it is checked as a derivative, not as dx nor for batch coupling.

A class whose `__call__` turns a weight vector into one number (a penalty such as
`l2_regularization`) has its `grad` checked as the gradient of that number.

Recognised by: a class with `__call__`/`gradient`, `fn`/`grad`, `function`/
`derivative`, `activation`/`prime` (or a stateless `forward(x)`/`backward(output)`
pair whose backward takes no upstream gradient: not one named like a loss's gradient, `dLdY`, and not
beside a forward that keeps something, also by `self.in_dims.append(X.shape)`), or functions `f` and
`f_prime`/`f_derivative`/`f_deriv`/`f_grad`/`df`, each with one argument (or a derivative of the
input and the output, `elu_deriv(z, a)`, called as `d(x, f(x))`); then a
trial call that shows the function is elementwise. The gradient is
`dout * derivative`, where `derivative` is what the second method returns.
A pair written for one Python float at a time (`1.0 / (1.0 + math.exp(-x))`,
which an array makes raise) is checked the same way, called on each element
(`per_element`).
"""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, parameters
from backprop_doctor.conventions._classlayer import Methods, function_node, required_inputs, returns_value, self_name
from backprop_doctor.conventions._through_call import calls_forward
from backprop_doctor.static.methods import assigned_attributes
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "activations"
KIND = "class"
ORDER = 15
METHOD_PAIRS = (
    ("__call__", "gradient"),
    ("__call__", "grad"),
    ("__call__", "derivative"),
    ("__call__", "prime"),
    ("__call__", "deriv"),
    ("fn", "grad"),
    ("fn", "derivative"),
    ("f", "df"),
    ("function", "derivative"),
    ("function", "gradient"),
    ("activation", "derivative"),
    ("activation", "prime"),
    ("activate", "derivative"),
    ("forward", "derivative"),
    ("forward", "gradient"),
    ("forward", "backward"),
)
def tanh(x: Any) -> Any:
    """NumPy's tanh as a function of one argument: the forward of a user's `tanh_prime(x)` or
    `tanh_backward(dA, Z)` when the file has no `tanh` of its own."""
    return np.tanh(x)


KNOWN_ACTIVATIONS = {"tanh": tanh}
DERIVATIVE_SUFFIXES = ("_prime", "_derivative", "_deriv", "_grad", "_gradient", "_der", "_d")
UPSTREAM_NAMES = ("dout", "gy", "gys", "grad", "delta", "dy", "dvalues", "upstream", "dz", "da", "error", "err", "gradient", "d_out", "output_gradient", "out_grad", "grad_output")


def _pair(cls: type) -> tuple[str, str] | None:
    for forward, derivative in METHOD_PAIRS:
        f, d = getattr(cls, forward, None), getattr(cls, derivative, None)
        if not (callable(f) and callable(d)) or (forward == "__call__" and "__call__" not in _own(cls)):
            continue
        if len(required_inputs(f)) != 1 or len(required_inputs(d)) != 1:
            continue
        if forward == "forward" and not _stateless_local(cls, derivative):
            continue  # a layer: backward(dout) is a chain-rule gradient, checked by the book convention
        return forward, derivative
    return None


def _own(cls: type) -> set[str]:
    return {name for klass in cls.__mro__[:-1] for name in vars(klass)}


def _stateless_local(cls: type, derivative: str) -> bool:
    """`forward(x)` keeps nothing and `backward(output)`/`derivative(x)` takes no upstream gradient.
    A forward run by its class's `__call__`, which keeps the inputs (DeZero's `Neg`), is a layer's."""
    fnode, dnode = function_node(getattr(cls, "forward")), function_node(getattr(cls, derivative))
    if fnode is None or dnode is None or assigned_attributes(fnode) or calls_forward(cls, "forward") or _pushes(fnode):
        return False
    argument = required_inputs(getattr(cls, derivative))[0].lower()
    if _delegates(fnode) or _named_after(argument, fnode):
        return False  # `forward(xs)` that runs `self.embed.forward(xs)`, `backward(dhs)` of its `hs`: a composite layer
    return argument not in UPSTREAM_NAMES and not argument.startswith(("d_", "grad")) and not UPSTREAM_SPELLED.match(argument)


# `dLdY`, `dL_dout`, `dloss_dz`: the loss's gradient of an output, spelled out
UPSTREAM_SPELLED = re.compile(r"d(l|loss|e|err|j|c|cost)_?d[a-z_]*")


def _pushes(node: Any) -> bool:
    """Whether a forward keeps something by a call on what the instance holds (`self.in_dims.append(X.shape)`,
    `self.cache["x"].append(x)`), which `assigned_attributes` does not see: a layer's state, not a stateless function."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "insert", "update", "setdefault"):
            root = n.func.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and root.id == "self":
                return True
    return False


def _delegates(node: Any) -> bool:
    """Whether a forward hands its work to layers it holds (`self.lstm.forward(xs)`)."""
    import ast

    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "forward"
        and isinstance(n.func.value, ast.Attribute) and isinstance(n.func.value.value, ast.Name) and n.func.value.value.id == "self"
        for n in ast.walk(node)
    )  # fmt: skip


def _named_after(argument: str, node: Any) -> bool:
    """Whether the derivative's argument is `d` + a name the forward binds or returns (`dhs` of `hs`)."""
    import ast

    names = {n.id.lower() for n in ast.walk(node) if isinstance(n, ast.Name)}
    return argument.startswith("d") and len(argument) > 1 and argument[1:] in names


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return _pair(cls) is not None


def layer_methods(cls: type) -> Methods | None:
    """A stateful activation whose `backward()` takes no upstream gradient and returns the local derivative
    f'(x) of what `forward(x)` kept (`self.out * (1 - self.out)`, `(self.x > 0).astype(float)`), which its
    caller multiplies by the upstream gradient itself: a `ClassLayer` that multiplies it in
    (`Methods.local_derivative`), checked against the numerical derivative of forward, never as dx."""
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    name = "backward"
    if backward is None and callable(getattr(cls, "derivative", None)):
        # CMU 11-785 (2020): `forward(x)` keeps `self.state`, `derivative()` returns f'(x) from it
        name, backward = "derivative", getattr(cls, "derivative")
        if required_inputs(backward):
            return None
    elif not callable(backward) or parameters(backward):
        return None  # backward takes something: an upstream gradient, a target, a rate
    if not callable(forward) or calls_forward(cls, "forward") or len(required_inputs(forward)) != 1:
        return None
    fnode, bnode = function_node(forward), function_node(backward)
    if fnode is None or bnode is None or _delegates(fnode) or not returns_value(bnode):
        return None
    kept = assigned_attributes(fnode)
    if not kept or assigned_attributes(bnode):
        return None  # keeps nothing to differentiate at, or stores gradients of its own (a layer's backward)
    me = self_name(bnode)
    read = {n.attr for n in ast.walk(bnode) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me}
    # `derivative()` of the 2020 course's `Identity` returns 1.0 and reads nothing: a derivative all the same
    return Methods(convention=NAME, backward=name, local_derivative=True) if read & kept or name == "derivative" else None


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(f, f_prime) pairs of one-argument functions, the derivative also of the input and the output at once
    (`elu_deriv(z, a)` beside `elu(z)`: `_input_and_output`)."""
    pairs = []
    for name, f in functions.items():
        if len(required_inputs(f)) != 1:
            continue
        for candidate in [name + s for s in DERIVATIVE_SUFFIXES] + ["d" + name, "d_" + name]:
            d = functions.get(candidate)
            if d is not None and (len(required_inputs(d)) == 1 or _input_and_output(f, d) is not None):
                pairs.append((f, d))
                break
    return pairs


# names of an activation's input, beside an output named as one of `cs231n.OUTPUT_NAMES`
INPUT_NAMES = frozenset({"x", "z", "u", "v", "pre", "preact", "net", "inp", "input", "inputs", "logits"})


def _input_and_output(f: Any, d: Any) -> int | None:
    """Where a derivative of two arguments takes the activation's output (0 or 1), when one is named as an
    input and the other as the output (`elu_deriv(z, a)`, `sigmoid_grad(y, x)`): written of both, it is called
    as `d(x, f(x))`; None for any other derivative (`leaky_deriv(x, alpha)`)."""
    from backprop_doctor.conventions.cs231n import OUTPUT_NAMES

    names = [n.lower() for n in required_inputs(d)]
    own = [n.lower() for n in required_inputs(f)]
    if len(names) != 2:
        return None
    inputs = [n in INPUT_NAMES or n in own for n in names]
    outputs = [n in OUTPUT_NAMES for n in names]
    if inputs == [True, False] and outputs == [False, True]:
        return 1
    if inputs == [False, True] and outputs == [True, False]:
        return 0
    return None


def of_both(f: Any, d: Any, output: int) -> Any:
    """`d` of two arguments, the input and the activation's output at place `output`, as a function of the input."""

    def local(x: Any) -> Any:
        y = f(x.copy())
        return d(x, y) if output == 1 else d(y, x)

    local.__name__ = getattr(d, "__name__", "derivative")
    return local


def label(obj: Any) -> str:
    if isinstance(obj, tuple):
        return f"{obj[0].__name__}/{obj[1].__name__}"
    return obj.__name__


class LocalDerivative(Adapter):
    """f and its elementwise derivative d, seen as a layer: forward f(x), backward dout * d(·)."""

    def __init__(self, name: str, f: Any, d: Any, of_output: bool, target: Any, d_target: Any):
        super().__init__(name=name, kind="activation", target=target)
        self._f, self._d, self.of_output = f, d, of_output
        self._d_target = d_target
        self._x: np.ndarray | None = None

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._x = x.copy()
        return self._f(x)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._x is not None, "forward first"
        at = np.asarray(self._f(self._x.copy()), dtype=np.float64) if self.of_output else self._x.copy()
        return dout * np.asarray(self._d(at), dtype=np.float64), {}

    def backward_target(self) -> Any:
        return self._d_target


def _callables(obj: Any) -> tuple[str, Any, Any, Any, Any]:
    """(name, f, d, f's code, d's code) of an activation class or function pair."""
    if isinstance(obj, tuple):
        f, d = obj
        return label(obj), f, d, f, d
    forward, derivative = _pair(obj)
    guessed = _defaults(obj)
    try:
        instance = obj(**guessed)
    except Exception as error:
        from backprop_doctor.build import UserCodeRaised, _raised

        judged = _raised(str(error), error, guessed=guessed.values()) if guessed else error
        if judged is error or isinstance(judged, UserCodeRaised):
            raise  # the user's own line: wrong whatever the arguments (`layer-raised`)
        # an argument guessed for a rate (`alpha`) that the constructor takes as something else (`lst[0]`)
        raise NotChecked(f"`{obj.__name__}` could not be built with {guessed}: {type(error).__name__}: {error}") from None
    return obj.__name__, getattr(instance, forward), getattr(instance, derivative), getattr(obj, forward), getattr(obj, derivative)


def _defaults(cls: type) -> dict[str, Any]:
    """Arguments for a constructor that needs some (`LeakyReLU(alpha)`, `ELU(alpha)`)."""
    kwargs: dict[str, Any] = {}
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return kwargs
    from backprop_doctor.build import integer_size

    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        size = integer_size(p.name, cls.__name__)  # `Embedding(n_out, vocab_size)`: sizes, not rates
        kwargs[p.name] = size if size is not None else 0.1
    return kwargs


def _call(func: Any, x: np.ndarray) -> np.ndarray | None:
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        out = func(x.copy())
        out = np.asarray(out, dtype=np.float64)
        return out if out.shape == x.shape and np.all(np.isfinite(out)) else None
    except Exception:
        return None
    finally:
        np.random.set_state(state)


def elementwise(f: Any, x: np.ndarray) -> bool:
    """Changing one element of the input changes only that element of the output."""
    y = _call(f, x)
    if y is None:
        return False
    moved = x.copy()
    moved.flat[0] += 0.37
    y2 = _call(f, moved)
    if y2 is None:
        return False
    changed = ~np.isclose(y, y2, rtol=0, atol=1e-12)
    return not changed.flat[1:].any()


def _error(a: np.ndarray | None, b: np.ndarray) -> float:
    if a is None:
        return np.inf
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


class ScalarGradient(Adapter):
    """f(w) -> a number and g(w) its gradient (a weight penalty with its `grad`), seen as a loss of w."""

    def __init__(self, name: str, f: Any, g: Any, target: Any, g_target: Any):
        super().__init__(name=name, kind="penalty", target=target, is_loss=True)
        self._f, self._g, self._g_target = f, g, g_target
        self._w: np.ndarray | None = None
        self.dout_is_input = False

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._w = x.copy()
        return float(self._f(x))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._w is not None, "forward first"
        return dout * np.asarray(self._g(self._w.copy()), dtype=np.float64), {}

    def backward_target(self) -> Any:
        return self._g_target


def _names_an_output(d: Any) -> bool:
    """The derivative's argument is named as an output (`sigmoid_derivative(s)`, `dtanh(y)`): written for the
    output, it is right as written, and a call that hands it the input is the call's mistake, not its own."""
    from backprop_doctor.conventions.cs231n import OUTPUT_NAMES

    try:
        names = [p.name for p in inspect.signature(d).parameters.values()]
    except (TypeError, ValueError):
        return False
    names = names[1:] if names[:1] == ["self"] else names
    return bool(names) and names[0].lower() in OUTPUT_NAMES


def _handed_the_input(context: Any, f: Any, d: Any) -> bool:
    """Every call of the derivative `d` in the file is handed a value the file also hands `f`, and no
    value a call of `f` made (`relu(self.z1)` and `relu_derivative(self.z1)`)."""
    source = getattr(context, "source", None)
    tree = getattr(source, "tree", None)
    f_name, d_name = getattr(f, "__name__", None), getattr(d, "__name__", None)
    if tree is None or f_name is None or d_name is None:
        return False
    given: set[str] = set()
    made: set[str] = set()
    handed: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and ast.unparse(node.func).rpartition(".")[2] == f_name:
            given.add(ast.unparse(node.args[0]))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and ast.unparse(node.value.func).rpartition(".")[2] == f_name:
            made.update(ast.unparse(t) for t in node.targets)
        if isinstance(node, ast.Call) and len(node.args) == 1 and ast.unparse(node.func).rpartition(".")[2] == d_name:
            handed.append(ast.unparse(node.args[0]))
    return bool(handed) and all(h in given and h not in made for h in handed)


def _scalar_case(name: str, f: Any, g: Any, f_code: Any, g_code: Any, rng: np.random.Generator) -> Case | None:
    """A function of a weight vector that returns one number, with its gradient (`l2_regularization`:
    `__call__(w) = alpha * 0.5 * w.T.dot(w)`, `grad(w) = alpha * w`); None when it is not that."""
    w = rng.standard_normal(6)
    w[np.abs(w) < 0.05] += 0.1  # away from a kink at 0
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        value, gradient = np.asarray(f(w.copy()), dtype=np.float64), np.asarray(g(w.copy()), dtype=np.float64)
    except Exception:  # noqa: BLE001 - user code: not this kind of function
        return None
    finally:
        np.random.set_state(state)
    if value.ndim != 0 or gradient.shape != w.shape or not np.isfinite(value):
        return None
    return Case(f"w {w.shape}, a number and its gradient", ScalarGradient(name, f, g, f_code, g_code), w)


def _float_valued(func: Any, value: float) -> bool:
    """`func(value)` on a Python float returns one finite number (`1.0 / (1.0 + math.exp(-x))`)."""
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        out = func(value)
    except Exception:  # noqa: BLE001 - user code: not a function of one float
        return False
    finally:
        np.random.set_state(state)
    return isinstance(out, (int, float, np.number)) and not isinstance(out, bool) and bool(np.isfinite(float(out)))


def per_element(func: Any) -> Any:
    """`func`, written for one Python float at a time (`math.exp`), applied to each element of an array."""

    def apply(x: Any) -> np.ndarray:
        values = np.asarray(x, dtype=np.float64)
        return np.array([float(func(float(v))) for v in values.flat], dtype=np.float64).reshape(values.shape)

    apply.__name__ = getattr(func, "__name__", "function")
    apply.__wrapped_per_element__ = func  # type: ignore[attr-defined]
    return apply


def build(obj: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    name, f, d, f_code, d_code = _callables(obj)
    both = _input_and_output(f, d) if isinstance(obj, tuple) and len(required_inputs(d)) == 2 else None
    if both is not None:  # `elu_deriv(z, a)`: called as the program does, with the input and `f`'s output of it
        d = of_both(f, d, both)
    x = rng.standard_normal((context.options.batch_size, 6))
    x[np.abs(x) < 0.05] += 0.1  # away from a kink at 0
    if _call(f, x) is None:
        scalar = _scalar_case(name, f, d, f_code, d_code, rng)
        if scalar is not None:
            return [scalar]
        if not (_float_valued(f, float(x.flat[0])) and _float_valued(d, float(x.flat[0]))):
            raise NotChecked(f"`{name}` does not map an array of shape {x.shape} to one of the same shape")
        f, d = per_element(f), per_element(d)  # a pair written for one float at a time: checked element by element
    if not elementwise(f, x):
        raise NotChecked(f"`{name}` is not elementwise (each output depends on several inputs): its derivative is a Jacobian")
    h = 1e-6
    numerical = (np.asarray(f(x + h), dtype=np.float64) - np.asarray(f(x - h), dtype=np.float64)) / (2 * h)
    of_input = _error(_call(d, x), numerical)
    y = _call(f, x)
    of_output = _error(_call(d, y), numerical) if y is not None else np.inf
    reads_output = of_output < of_input and of_output < 1e-4 and both is None
    if reads_output and _handed_the_input(context, f_code, d_code) and not _names_an_output(d_code):
        # `relu_derivative(self.z1)` beside `relu(self.z1)`: the program hands it the input, whatever its
        # output would give (`np.sign` is the step of a ReLU's output, not of its input)
        reads_output = False
    adapter = LocalDerivative(name, f, d, reads_output, f_code, d_code)  # wrong either way: as written
    form = "of the output" if adapter.of_output else "of the input"
    return [Case(f"x {x.shape}, derivative {form}", adapter, x)]
