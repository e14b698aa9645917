"""Nielsen-style networks (*Neural Networks and Deep Learning*, `network.py`/`network2.py`).

Lists `self.weights` and `self.biases` of column-shaped arrays, `feedforward(a)`
on one column vector, and `backprop(x, y)` for one sample returning
`(nabla_b, nabla_w)` lists shaped like the biases and weights. The cost is
`self.cost.fn(a, y)` when the network has one (network2.py); otherwise the
gradient of `backprop` is taken against the network's own `cost_derivative`
(the linearised cost, exact at the checked point), else the quadratic cost, or the
cross-entropy when the output layer's delta `backprop` returns is `a - y` itself (as
network2.py's `CrossEntropyCost.delta` makes it; a network whose own loss method says
nothing usable about it: `loss_function(y, a, prime=True)` returning `a - y`).

Example:
    class Network:
        def __init__(self, sizes):
            self.sizes = sizes
            self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
            self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

        def feedforward(self, a):
            for b, w in zip(self.biases, self.weights):
                a = sigmoid(np.dot(w, a) + b)
            return a

        def backprop(self, x, y):
            ...
            return (nabla_b, nabla_w)

Recognised by: methods `feedforward(a)` (or `forward(x)`, as ports rename it) and `backprop(x, y)` and a constructor that
sets `weights` and `biases`; confirmed by building it (small sizes first) and a
trial `backprop` on a column vector that returns two lists of arrays. Gradients
live in the two lists `backprop` returns, named `biases[i]` and `weights[i]`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import Adapter
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.static.methods import assigned_attributes, self_calls
from backprop_doctor.conventions._run import Case

NAME = "nielsen"
KIND = "class"
ORDER = 6
SMALL_SIZES = [5, 4, 3]


FORWARD_NAMES = ("feedforward", "feed_forward", "feedForward", "forward")  # ports rename Nielsen's
COST_DERIVATIVES = ("cost_derivative", "derivative_C", "cost_prime", "d_cost")


def forward_name(cls: type) -> str | None:
    """The network's one-input forward method: `feedforward(a)`, or `forward(x)` in a port."""
    for name in FORWARD_NAMES:
        method = getattr(cls, name, None)
        if callable(method) and len(required_inputs(method)) == 1:
            return name
    return None


SIZES_WORDS = ("size", "layer", "dim", "shape", "architecture", "topology", "neurons")


def takes_sizes(cls: type) -> bool:
    """Whether the constructor takes the layer sizes in one argument, as `Network([784, 30, 10])`
    does: one required argument, or one named for them among several. A layer built from two
    widths (`Softmax(input_len, nodes)` with `forward`/`backprop` of its own) is not a network."""
    required = required_inputs(cls.__init__)
    return len(required) <= 1 or any(word in name.lower() for name in required for word in SIZES_WORDS)


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    backprop = getattr(cls, "backprop", None)
    if forward_name(cls) is None or not callable(backprop) or len(required_inputs(backprop)) != 2 or not takes_sizes(cls):
        return False
    init = function_node(getattr(cls, "__init__", None))
    if init is None:
        return False
    assigned = assigned_attributes(init)
    for called in self_calls(init):  # `self.default_weight_initializer()` sets them (network2.py)
        helper = function_node(getattr(cls, called, None))
        assigned |= assigned_attributes(helper) if helper is not None else set()
    return {"weights", "biases"} <= assigned



class NielsenNetwork(Adapter):
    """One sample's cost as a loss layer: forward is the cost of `feedforward(x)`, backward is `backprop(x, y)`."""

    def __init__(self, net: Any, name: str):
        super().__init__(name=name, kind="nielsen-network", target=type(net), is_loss=True)
        self.net = net
        self.dout_is_input = False
        self._x: np.ndarray | None = None
        self._y: Any = None
        self._linear: np.ndarray | None = None  # cost_derivative at the checked point
        self._forward = forward_name(type(net)) or "feedforward"
        self.cross_entropy = False  # the output delta is `a - y`: the cost is the cross-entropy of a sigmoid output
        self.columns_fed = False  # `backprop` takes a batch of rows, `feedforward` its transpose (`build`)

    def params(self) -> dict[str, np.ndarray]:
        named = {f"weights[{i}]": w for i, w in enumerate(self.net.weights)}
        named.update({f"biases[{i}]": b for i, b in enumerate(self.net.biases)})
        return named

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        if self._x is None or self._x.shape != x.shape or not np.array_equal(self._x, x):
            self._x, self._y, self._linear = x.copy(), t, None
        feed = getattr(self.net, self._forward)
        # a port whose `backprop` takes rows while its `feedforward` takes one column per sample (`np.dot(W, a) + b`)
        a = np.asarray(feed(x.T).T if self.columns_fed else feed(x), dtype=np.float64)
        cost = getattr(self.net, "cost", None)
        if callable(getattr(cost, "fn", None)):
            return float(cost.fn(a, t))
        derivative = next((getattr(self.net, n) for n in COST_DERIVATIVES if callable(getattr(self.net, n, None))), None)
        if derivative is not None:
            if self._linear is None:
                self._linear = np.array(derivative(a.copy(), t), dtype=np.float64)
            return float(np.sum(a * self._linear))
        if self.cross_entropy:
            return float(-np.sum(t * np.log(a) + (1 - t) * np.log(1 - a)))
        return float(0.5 * np.sum((a - t) ** 2))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._x is not None, "forward first"
        nabla_b, nabla_w = self.net.backprop(self._x.copy(), copy.deepcopy(self._y))
        if _shapes(nabla_b) == _shapes(self.net.weights) != _shapes(self.net.biases) and _shapes(nabla_w) == _shapes(self.net.biases):
            nabla_b, nabla_w = nabla_w, nabla_b  # `return (dw, db)`: a port that returns the weights first
        grads = {f"weights[{i}]": g for i, g in enumerate(nabla_w)}
        grads.update({f"biases[{i}]": g for i, g in enumerate(nabla_b)})
        return None, grads

    def backward_target(self) -> Any:
        return type(self.net).backprop

    def forward_target(self) -> Any:
        return getattr(type(self.net), self._forward)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        """`nabla_w[-1]` for the last layer's weights, else `nabla_w`; a bias gradient is the
        `delta` of its layer, computed on the line that assigns it."""
        kind, index = param.rstrip("]").split("[")
        last = int(index) == len(self.net.weights) - 1
        if kind == "weights":
            return ("nabla_w[-1]", "nabla_w") if last else ("nabla_w",)
        return ("nabla_b[-1]", "delta") if last else ("delta", "nabla_b")


def _shapes(arrays: Any) -> list[tuple[int, ...]]:
    return [np.shape(a) for a in arrays]


def _construct(cls: type, context: Any) -> tuple[Any, str]:
    """The network with small sizes, else as the user's script builds it."""
    from backprop_doctor import build, static

    np.random.seed(context.options.seed)
    try:
        return cls(list(SMALL_SIZES)), f"{cls.__name__}({SMALL_SIZES})"
    except Exception as error:
        first = error
    calls = static.constructor_calls(context.source.tree) if context.source is not None and context.source.tree else {}
    for call in calls.get(cls.__name__, []):
        if getattr(call, "literal", False):
            np.random.seed(context.options.seed)
            try:
                return cls(*call.args, **call.kwargs), f"{cls.__name__} from line {call.line} of your script"
            except Exception as error:
                raise build._raised(f"{cls.__name__}(...) raised {type(error).__name__}: {error}", error, literal=True) from error
    raise build._raised(f"{cls.__name__}({SMALL_SIZES}) raised {type(first).__name__}: {first}", first)


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    net, _ = _construct(cls, context)
    n_in, n_out = net.weights[0].shape[1], net.weights[-1].shape[0]
    x = rng.standard_normal((n_in, 1))
    y = np.zeros((n_out, 1))
    y[rng.integers(0, n_out)] = 1.0
    layout = "column x"
    if not _runs(net, x, y):
        # a port whose `backprop` takes a mini-batch of rows (`np.dot(activation, W.T) + b.T`)
        rows = rng.standard_normal((ROWS, n_in))
        targets = np.eye(n_out)[rng.integers(0, n_out, ROWS)]
        if _runs(net, rows, targets):
            x, y, layout = rows, targets, "one row per sample, x"
    adapter = NielsenNetwork(net, cls.__name__)
    if x.shape[0] == ROWS and x.shape[1] == n_in and layout != "column x":
        adapter.columns_fed = _feeds_columns(net, adapter._forward, x, n_out)
    adapter.cross_entropy = _delta_is_the_error(adapter, x, y)
    cost = ", cross-entropy cost (your output delta is a − y)" if adapter.cross_entropy else ""
    return [Case(f"{layout} {x.shape}, one-hot y {y.shape}{cost}", adapter, x, y)]


# The samples of the batch a network whose `backprop` takes rows is checked on (`build`).
ROWS = 3


def _feeds_columns(net: Any, forward: str, rows: np.ndarray, n_out: int) -> bool:
    """Whether `forward` (`feedforward`) takes the batch as columns where `backprop` took it as rows:
    it raises on the rows, or returns no row per sample, and returns one column per sample of the
    transpose."""
    from backprop_doctor.build import _trial

    def shape_of(a: np.ndarray) -> tuple[int, ...] | None:
        return _trial(lambda: np.shape(getattr(copy.deepcopy(net), forward)(a.copy())))

    return shape_of(rows) != (len(rows), n_out) and shape_of(rows.T) == (n_out, len(rows))


def _runs(net: Any, x: np.ndarray, y: np.ndarray) -> bool:
    """Whether a copy of `net` runs `backprop(x, y)` without an error, returning two lists with
    an array of each bias's and each weight's shape."""
    from backprop_doctor.build import _trial

    def trial() -> bool:
        work = copy.deepcopy(net)
        nabla_b, nabla_w = work.backprop(x.copy(), y.copy())
        got = sorted(_shapes([*nabla_b, *nabla_w]))
        return got == sorted(_shapes([*work.biases, *work.weights]))

    try:
        return bool(_trial(trial))
    except Exception:  # noqa: BLE001 - user code: the check itself reports what the column layout raises
        return False


def _delta_is_the_error(adapter: NielsenNetwork, x: np.ndarray, y: np.ndarray) -> bool:
    """Whether a network with neither a cost object nor a cost derivative returns `a - y` as its
    output layer's bias gradient, with sigmoid outputs in (0, 1): the cross-entropy's delta, which the
    quadratic cost (`(a - y) * a * (1 - a)`) would call wrong everywhere."""
    net = adapter.net
    if callable(getattr(getattr(net, "cost", None), "fn", None)) or any(callable(getattr(net, n, None)) for n in COST_DERIVATIVES):
        return False
    from backprop_doctor.build import _trial

    def delta_and_output() -> tuple[np.ndarray, np.ndarray]:
        a = np.asarray(getattr(net, adapter._forward)(x.copy()), dtype=np.float64)
        _, grads = adapter.backward(adapter.forward(x, y))
        return np.asarray(grads[f"biases[{len(net.biases) - 1}]"], dtype=np.float64), a

    try:
        delta, a = _trial(delta_and_output)
    except Exception:  # noqa: BLE001 - user code: the check itself says what is wrong with it
        return False
    finally:
        adapter._x = None  # the engine's first forward starts afresh
    if delta.shape != a.shape or not np.all((a > 0) & (a < 1)):
        return False
    return bool(np.allclose(delta, a - y, rtol=1e-6, atol=1e-12)) and not np.allclose(a - y, (a - y) * a * (1 - a))
