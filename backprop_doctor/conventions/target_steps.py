"""Whole models whose backward takes the target and a learning rate, and steps the weights itself.

`propagate_forward(x)` (or `forward`, `predict`, `_predict`...) runs one sample through the
model and keeps what backward needs; `propagate_backward(target, lrate=0.1, momentum=0.1)`
computes the deltas from the target, moves the weights it holds (an array, a list of arrays, or
arrays on objects it holds: `self.layers[0].neurons[2].weights`) by `lrate` times their
gradient, in place or by putting new arrays in their place, and returns the error. There is no
upstream gradient and no gradient stored anywhere: the gradients are read off the step.

Example:
    class MLP:
        def __init__(self, *sizes):
            self.layers = [np.ones(n) for n in sizes]
            self.weights = [np.random.randn(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

        def propagate_forward(self, data):
            self.layers[0][...] = data
            for i in range(1, len(self.layers)):
                self.layers[i][...] = np.tanh(self.layers[i - 1] @ self.weights[i - 1])
            return self.layers[-1]

        def propagate_backward(self, target, lrate=0.1):
            error = target - self.layers[-1]
            delta = error * (1 - self.layers[-1] ** 2)
            ...
            self.weights[i] += lrate * np.outer(self.layers[i], delta)
            return (error ** 2).sum()

Recognised by: a class with a forward method taking one input and a backward method (its name says
back: `backward`, `propagate_backward`, `backprop`) whose first argument is named like a target
(`target`, `y_true`, `y`), which takes a learning rate (`lrate`, `lr`, `learning_rate`), with or
without a default, and returns a value; confirmed by trial calls on a built model.

Checked as one loss: the loss is what backward returns with the rate at 0 (and a momentum argument,
`momentum`, `mu`, at 0 always), the state the forward reads (a recurrent context) put back before
every call; each parameter's gradient is minus its change over one step at rate 1, which is then
undone. A step that is half the gradient of a returned sum of squares, `(error ** 2).sum()`, is the
usual ½Σe² convention: that loss is checked, and said so. A model whose loss does not change when
its weights move a little while its step moves them (a perceptron's step output, `x > 0`) has no
gradient to compare its rule with: it is named as not checked.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array, parameters
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.conventions.loss_objects import TARGETS
from backprop_doctor.conventions.sgd_in_backward import RATES
from backprop_doctor.static.methods import returns_value
from backprop_doctor.static.tree import walk

NAME = "target-steps"
KIND = "class"
ORDER = 12
FORWARDS = (
    "forward", "propagate_forward", "forward_propagate", "forward_propagation", "forward_pass", "feedforward",
    "feed_forward", "feedForward", "predict", "_predict", "_forward", "forwardPropagate",
)  # fmt: skip
BACK = re.compile(r"back", re.IGNORECASE)
MOMENTA = ("momentum", "mu", "beta", "friction")
DEPTH = 6
SIZES = (4, 5, 3)
ENTRIES = 256  # the longest list or dict whose entries are looked into


def _methods(cls: type) -> tuple[str, str, str, tuple[str, ...]] | None:
    """(forward, backward, rate argument, momentum arguments) of such a model, or None."""
    if not inspect.isclass(cls):
        return None
    backward = None
    for name, member in vars(cls).items():
        if not (BACK.search(name) and inspect.isfunction(member)):
            continue
        params = [p for p in parameters(member).values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params]
        required = required_inputs(member)
        if not names or names[0].lower() not in TARGETS or len(required) > 2:
            continue
        rate = next((n for n in names[1:3] if n.lower() in RATES), None)
        if rate is None or any(n not in (names[0], rate) for n in required):
            continue
        others = [p for p in params[1:] if p.name != rate]
        if any(p.default is p.empty for p in others) or any(p.name.lower() not in MOMENTA for p in others):
            continue
        node = function_node(member)
        if node is None or not returns_value(node):
            continue  # the loss is what it returns: one returning nothing is another convention's (`model_backward`)
        backward = (name, rate, tuple(p.name for p in others))
        break
    if backward is None:
        return None
    called = _called_on_self(getattr(cls, backward[0]))
    # the usual names (one backward runs again first), else the method of one input it runs again (`self._run(v)`)
    def takes_one(n: str) -> bool:
        return callable(getattr(cls, n, None)) and len(required_inputs(getattr(cls, n))) == 1

    names = sorted((n for n in FORWARDS if takes_one(n)), key=lambda n: n not in called)
    names = names or sorted(n for n in called if not BACK.search(n) and takes_one(n) and not _reads_target(getattr(cls, n)))
    if not names:
        return None
    return names[0], backward[0], backward[1], backward[2]


def _reads_target(method: Any) -> bool:
    """A method whose one input is named like a target (`cost(target)`): a loss, no forward."""
    return any(n.lower() in TARGETS for n in required_inputs(method))


def _called_on_self(method: Any) -> set[str]:
    node = function_node(method)
    if node is None:
        return set()
    me = node.args.args[0].arg if node.args.args else "self"
    return {
        n.func.attr for n in walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == me
    }  # fmt: skip


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return _methods(cls) is not None


def label(obj: Any) -> str:
    return obj.__name__


# --------------------------------------------------------------------------- where the arrays are

Path = tuple[Any, ...]  # ("weights", 0) for self.weights[0], ("layers", 1, "neurons", 0, "weights")


def _arrays(obj: Any, path: Path = (), depth: int = 0, seen: set[int] | None = None) -> dict[Path, np.ndarray]:
    """Every float array the model reaches through its attributes, lists, tuples and dicts, by path."""
    seen = set() if seen is None else seen
    found: dict[Path, np.ndarray] = {}
    if id(obj) in seen or depth > DEPTH:
        return found
    seen.add(id(obj))
    if is_float_array(obj):
        return {path: obj}
    if isinstance(obj, (list, tuple)):
        if len(obj) > ENTRIES:  # a data set kept as a list, not a model's layers
            return found
        items: Any = enumerate(obj)
    elif isinstance(obj, dict):
        if len(obj) > ENTRIES:
            return found
        items = obj.items()
    elif hasattr(obj, "__dict__") and not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)) and type(obj).__module__ not in ("numpy", "builtins"):
        # objects it holds, layers with a `__call__` of their own among them
        items = vars(obj).items()
    else:
        return found
    for key, value in list(items):
        found.update(_arrays(value, (*path, key), depth + 1, seen))
    return found


def _get(obj: Any, path: Path) -> Any:
    for step in path:
        obj = obj[step] if isinstance(obj, (list, tuple, dict)) else getattr(obj, step)
    return obj


def _set(obj: Any, path: Path, value: Any) -> None:
    holder = _get(obj, path[:-1])
    if isinstance(holder, (list, dict)):
        holder[path[-1]] = value
    else:
        setattr(holder, path[-1], value)


def _name(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f"['{step}']" if not isinstance(step, str) or not step.isidentifier() else f".{step}"
    return text.lstrip(".")


# --------------------------------------------------------------------------- the adapter


class TargetStep(Adapter):
    """The loss is `backward(forward(x), t)`'s value at rate 0; the gradients minus one step at rate 1."""

    def __init__(self, model: Any, cls: type, methods: tuple[str, str, str, tuple[str, ...]], params: list[Path], scale: float = 1.0):
        super().__init__(name=cls.__name__, kind="model-backward", target=cls, is_loss=True)
        self.model = model
        self.dout_is_input = False
        self.forward_name, self.backward_name, self.rate, self.momenta = methods
        self.paths = params
        self.scale = scale  # 0.5: the step descends half the returned sum of squares
        self._objects = {p: _get(model, p) for p in params}
        state = _arrays(model)
        self._state = {p: a.copy() for p, a in state.items() if p not in self._objects}
        self._inputs: tuple[Any, Any] = (None, None)

    def params(self) -> dict[str, np.ndarray]:
        return {_name(p): a for p, a in self._objects.items()}

    def _put_back(self, values: dict[Path, np.ndarray] | None = None) -> None:
        """The parameters' own arrays in their places (with `values`), the rest of the state as built."""
        for path, array in self._objects.items():
            if _get(self.model, path) is not array:
                _set(self.model, path, array)
            if values is not None:
                np.copyto(array, values[path])
        for path, value in self._state.items():
            try:
                current = _get(self.model, path)
            except (AttributeError, IndexError, KeyError, TypeError):
                continue
            if isinstance(current, np.ndarray) and current.shape == value.shape:
                current[...] = value

    def _step(self, x: Any, t: Any, rate: float) -> Any:
        np.random.seed(FORWARD_SEED)
        getattr(self.model, self.forward_name)(np.array(x, copy=True))
        kwargs = {self.rate: rate, **{m: 0.0 for m in self.momenta}}
        return getattr(self.model, self.backward_name)(np.array(t, copy=True), **kwargs)

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._inputs = (x, t)
        saved = {p: a.copy() for p, a in self._objects.items()}
        self._put_back()
        try:
            value = self._step(x, t, 0.0)
        finally:
            self._put_back(saved)
        return self.scale * float(np.squeeze(value))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        x, t = self._inputs
        saved = {p: a.copy() for p, a in self._objects.items()}
        self._put_back()
        try:
            self._step(x, t, 1.0)
            grads = {_name(p): saved[p] - np.asarray(_get(self.model, p), dtype=np.float64) for p in self.paths}
        finally:
            self._put_back(saved)
        return None, grads

    def backward_target(self) -> Any:
        return getattr(self.target, self.backward_name)

    def forward_target(self) -> Any:
        return getattr(self.target, self.forward_name)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        """The names the step on `param` moves it by (`self.W1 -= lr * np.outer(self.x, dh)` -> `dh`), in a
        loop over a list of weights too (`self.weights[k] += lrate * change` for `weights[0]`)."""
        node = function_node(self.backward_target())
        return (*_step_operands(node, param, self.rate), param)


# --------------------------------------------------------------------------- building one


def _instances(cls: type, context: Any, rng: np.random.Generator) -> list[Any]:
    """Models of `cls` as the file builds them (its literal calls), else from sizes guessed by name."""
    from backprop_doctor import build as builder

    facts = getattr(getattr(context, "source", None), "facts", None)
    calls = facts.constructor_calls if facts is not None else {}
    made = []
    for call in calls.get(cls.__name__, []):
        if getattr(call, "literal", False):
            np.random.seed(context.options.seed)
            model = builder._trial(lambda call=call: cls(*copy.deepcopy(call.args), **copy.deepcopy(call.kwargs)))
            if model is not None:
                made.append(model)
    if not made:
        try:
            kwargs = builder.infer_kwargs(cls, rng)
        except builder.BuildError:
            kwargs = None
        if kwargs is not None:
            np.random.seed(context.options.seed)
            model = builder._trial(lambda: cls(**kwargs))
            if model is not None:
                made.append(model)
    if not made and any(p.kind == p.VAR_POSITIONAL for p in parameters(cls.__init__).values()):
        np.random.seed(context.options.seed)  # `MLP(*sizes)`: the widths of a layer of each
        model = builder._trial(lambda: cls(*SIZES))
        if model is not None:
            made.append(model)
    return [_grown(m, calls, context) for m in made[:2]]


def _grown(model: Any, calls: dict[str, Any], context: Any) -> Any:
    """A model built empty and grown by a method adding layers (`nn.add_layer(4)`), grown as the file
    grows it, else by two layers of 4 and 3."""
    add = next((n for n in dir(type(model)) if n.lower().startswith("add") and inspect.isfunction(getattr(type(model), n))), None)
    if add is None or _arrays(model):
        return model
    sizes = [c.args[:1] for c in calls.get(add, []) if getattr(c, "literal", False) and c.args[:1] and isinstance(c.args[0], int)]
    np.random.seed(context.options.seed)
    for size in sizes[:3] if len(sizes) >= 2 else [(4,), (3,)]:
        getattr(model, add)(*size)
    return model


def _input_sizes(model: Any, cls: type) -> list[int]:
    sizes: list[int] = []
    for value in vars(model).values():
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10_000:
            sizes.append(value)
        if isinstance(value, tuple) and value and isinstance(value[0], int):
            sizes.append(value[0])
    for array in _arrays(model).values():
        sizes += [n + d for n in array.shape[:2] for d in (0, -1)]
    return [n for n in dict.fromkeys(sizes) if n > 0][:12]


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    methods = _methods(cls)
    if methods is None:
        raise NotChecked("not a model whose backward takes the target and a learning rate")
    forward_name, backward_name, rate, momenta = methods
    from backprop_doctor.conventions._base import promote_to_float64

    for model in _instances(cls, context, rng):
        promote_to_float64(model)
        case = _case(model, cls, methods, rng)
        if case is not None:
            return [case]
    raise NotChecked(
        f"its {backward_name}(target, {rate}) steps the weights itself, but no model of it could be built and run "
        "forward and backward on one sample: not checked"
    )


def _case(model: Any, cls: type, methods: tuple[str, str, str, tuple[str, ...]], rng: np.random.Generator) -> Case | None:
    forward_name, backward_name, rate, momenta = methods
    for n in _input_sizes(model, cls):
        x = rng.standard_normal(n)
        work = copy.deepcopy(model)
        try:
            out = np.asarray(getattr(work, forward_name)(x.copy()), dtype=np.float64)
        except Exception:  # noqa: BLE001 - user code: another size is tried
            continue
        if out.size == 0 or not np.isfinite(out).all():
            continue
        t = rng.uniform(0.1, 0.9, out.shape)
        params = _stepped(model, methods, x, t)
        if not params:
            continue
        return _checked(model, cls, methods, params, x, t, rng)
    return None


def _stepped(model: Any, methods: tuple[str, str, str, tuple[str, ...]], x: np.ndarray, t: np.ndarray) -> list[Path]:
    """The arrays one step at rate 1 moves and a forward on another input does not write."""
    forward_name, backward_name, rate, momenta = methods
    try:
        work = copy.deepcopy(model)
        np.random.seed(FORWARD_SEED)
        getattr(work, forward_name)(x.copy())
        value = getattr(work, backward_name)(t.copy(), **{rate: 0.0, **{m: 0.0 for m in momenta}})
        if value is None or np.size(value) != 1 or not np.isfinite(np.asarray(value, dtype=np.float64)).all():
            return []
        before = {p: a.copy() for p, a in _arrays(work).items()}
        getattr(work, forward_name)(x.copy())
        getattr(work, backward_name)(t.copy(), **{rate: 1.0, **{m: 0.0 for m in momenta}})
        after = _arrays(work)
        other = copy.deepcopy(model)
        held = _arrays(other)
        kept = {p: a.copy() for p, a in held.items()}
        getattr(other, forward_name)(-x.copy() + 0.5)
        written = {p for p, a in _arrays(other).items() if p not in kept or kept[p].shape != a.shape or not np.array_equal(kept[p], a)}
    except Exception:  # noqa: BLE001 - user code
        return []
    built = _arrays(model)
    return [p for p, a in before.items() if p in after and p in built and p not in written and after[p].shape == a.shape and not np.array_equal(after[p], a)]


def _checked(model: Any, cls: type, methods: tuple[str, str, str, tuple[str, ...]], params: list[Path], x: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> Case:
    adapter = TargetStep(model, cls, methods, params)
    forward_name, backward_name, rate, momenta = methods
    # the loss along a small move of every parameter, against the step's slope
    adapter.forward(x, t)  # the state the step reads
    _, grads = adapter.backward(None)
    arrays = adapter.params()
    slopes: dict[str, list[float]] = {k: [] for k in arrays}
    steps: dict[str, list[float]] = {k: [] for k in arrays}
    for _ in range(2):  # the loss along a small move of each parameter, against the step's slope
        for k, a in arrays.items():
            direction = rng.standard_normal(a.shape)
            saved = a.copy()
            values = []
            for h in (1e-5, -1e-5):
                np.copyto(a, saved + h * direction)
                values.append(adapter.forward(x, t))
            np.copyto(a, saved)
            slopes[k].append((values[0] - values[1]) / 2e-5)
            steps[k].append(float(np.sum(np.asarray(grads[k]) * direction)))
    moved = any(abs(s) > 1e-9 for v in steps.values() for s in v)
    if moved and all(s == 0.0 for v in slopes.values() for s in v):
        raise NotChecked(
            f"its loss does not change when its weights move a little, while its {backward_name}(target, {rate}) moves them: "
            "its output is a step function of them (a perceptron's rule), with no gradient to compare the rule with"
        )
    halved = [k for k in arrays if all(abs(s) > 1e-8 and abs(st / s - 0.5) < 1e-4 for s, st in zip(slopes[k], steps[k]))]
    if _sum_of_squares(getattr(cls, backward_name)) and halved:  # one parameter is enough: another may be wrong
        adapter.scale = 0.5
        how = f"x {x.shape}, target {t.shape}: ½ × what {backward_name} returns (its step descends ½Σe²), {rate}=1 read off the step"
    else:
        how = f"x {x.shape}, target {t.shape}: the loss {backward_name} returns, the gradients read off its step at {rate}=1"
    return Case(how, adapter, x, t)


def _sum_of_squares(method: Any) -> bool:
    """Whether `method` returns a sum of squares with no ½ of its own: `(error ** 2).sum()`."""
    node = function_node(method)
    if node is None:
        return False
    for n in walk(node):
        if isinstance(n, ast.Return) and n.value is not None:
            text = ast.unparse(n.value)
            if "** 2" in text and ("sum" in text) and "0.5" not in text and "/ 2" not in text:
                return True
    return False


def _step_operands(node: Any, param: str, rate: str) -> tuple[str, ...]:
    """The names (neither the instance, NumPy nor the rate) in the value of the statement that writes
    `self.<param>`, or `self.<root>[...]` for an entry of a list of weights; () when none does."""
    if node is None:
        return ()
    me = node.args.args[0].arg if node.args.args else "self"
    root = re.split(r"[.\[]", param, maxsplit=1)[0]
    wanted = f"{me}.{param}"
    for exact in (True, False):
        for n in walk(node):
            if not isinstance(n, (ast.AugAssign, ast.Assign)):
                continue
            targets = [ast.unparse(t) for t in ([n.target] if isinstance(n, ast.AugAssign) else n.targets)]
            if any(t == wanted if exact else t.startswith(f"{me}.{root}[") for t in targets):
                names = [x.id for x in walk(n.value) if isinstance(x, ast.Name) and x.id not in (me, rate, "np", "numpy")]
                if names:
                    return tuple(dict.fromkeys(names))
    return ()
