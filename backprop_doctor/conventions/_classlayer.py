"""The adapter shared by every convention whose layers are objects with two methods.

A class-layer convention (book, DLFS-2, NNFS, `forward_pass`/`backward_pass`,
misspelled method names) only says *which* methods to call and where their
results live, as a `Methods`; `ClassLayer` does the calling. The convention
modules are asked in order (`conventions.layer_methods`), so a layer object is
always called the way its own convention says, wherever it is checked.
"""

from __future__ import annotations

import ast
import re
import contextlib
import dataclasses
import functools
import inspect
import linecache
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.conventions import _through_call
from backprop_doctor.conventions._param_objects import Held, held_parameters
from backprop_doctor.conventions._base import (
    TRAIN_FLAGS,
    Adapter,
    _gradient_names,
    is_array_list,
    is_float_array,
    is_gradient_like,
    _parameters,
    call_key,
    parameters,
    gradient_names,
    train_kwargs,
)
from backprop_doctor.static.methods import (
    global_flags,
    assigned_attributes,
    does_nothing,
    grads_aliases,
    indexed_writes,
    parse_function,
    returned_dict_names,
    returned_names,
    returns_value,
    self_name,
    update_operands,
)
from backprop_doctor.static.tree import FunctionNode

__all__ = [
    "ClassLayer",
    "Methods",
    "assigned_attributes",
    "function_node",
    "is_abstract",
    "is_loss_layer",
    "layer_methods",
    "required_inputs",
    "returns_value",
    "self_name",
]


@dataclass(frozen=True)
class Methods:
    """How to call one layer object, as its convention says."""

    convention: str = "book"
    forward: str = "forward"
    backward: str = "backward"
    output: str | None = None  # forward returns nothing and stores its output here (NNFS: "output")
    dx: str | None = None  # backward returns nothing and stores dx here (NNFS: "dinputs")
    backward_gets_prediction: bool = False  # a loss whose backward(y_pred, y_true) restarts from the prediction
    misspelled: tuple[tuple[str, str, int | None], ...] = ()  # (written, meant, line)
    learning_rate: str | None = None  # backward(dout, learning_rate) applies SGD itself: gradients are -Δ/lr
    mean_of_forward: bool = False  # a loss whose forward returns one loss per sample (NNFS): the loss is their mean
    backward_gets_inputs: bool = False  # a stateless gate: backward(x, dout) gets forward's input again
    held_optimizer: bool = False  # backward steps the weights with an optimizer the layer holds, not a rate it is given
    through_call: bool = False  # forward is run by the class's `__call__`, which keeps what backward reads (DeZero)
    local_derivative: bool = False  # backward() takes no upstream gradient and returns f'(x) of forward's cache: dx = dout * it
    held_rate: bool = False  # backward(dout) steps its lists of weights at the rate the instance holds as `learning_rate`


# (convention module, name) -> what it names: the modules that import this one, read where a call needs them
_LAZY: dict[tuple[str, str], Any] = {}


def _lazy(module: str, name: str) -> Any:
    """`name` from `backprop_doctor.conventions.<module>`, imported at its first use (the module imports
    this one) and kept: an import statement in a function costs its lookup at every call."""
    found = _LAZY.get((module, name))
    if found is None:
        import importlib

        found = _LAZY[(module, name)] = getattr(importlib.import_module(f"backprop_doctor.conventions.{module}"), name)
    return found


def layer_methods(obj: Any) -> Methods | None:
    """The `Methods` of the first convention that recognises `obj` (a layer class or object)."""
    cls = obj if inspect.isclass(obj) else type(obj)
    try:
        return _class_methods(cls)
    except TypeError:  # an unhashable class
        return _class_methods.__wrapped__(cls)


@functools.lru_cache(maxsize=512)
def _class_methods(cls: type) -> Methods | None:
    from backprop_doctor.conventions import all_conventions

    for convention in all_conventions():
        recognise = getattr(convention, "layer_methods", None)
        if recognise is None or getattr(recognise, "__module__", None) != convention.__name__:
            continue  # not its own (an imported helper of the same name)
        try:
            found = recognise(cls)
        except Exception:  # a recogniser must never stop discovery
            found = None
        if found is not None:
            return _called_through(cls, found)
    return None


def _called_through(cls: type, methods: Methods) -> Methods:
    """`methods`, marked to run forward through the class's `__call__` when that `__call__` runs it and
    keeps the inputs (a DeZero `Function`: see `_through_call`)."""
    if methods.forward != "__call__" and _through_call.calls_forward(cls, methods.forward):
        return dataclasses.replace(methods, through_call=True)
    return methods


def call_forward(layer: Any, methods: Methods, *inputs: Any, **kwargs: Any) -> Any:
    """The layer's forward on `inputs`, called the way its class is meant to be called."""
    if methods.through_call:
        return _through_call.run_forward(layer, *inputs, **kwargs)
    return getattr(layer, methods.forward)(*inputs, **kwargs)


@contextlib.contextmanager
def flags_set(layer: Any, methods: Methods, train: bool) -> Any:
    """While the block runs, the training flags outside the layer that its forward branches on
    (`if Config.train:`, a module's `TRAINING`) set to `train`, when they hold a bool: a program that
    ends in inference mode (`Config.train = False`, or stopped inside `with test_mode():`) leaves its
    layers to be checked in the mode the check asks for, as a `train_flg` argument would be."""
    forward = getattr(type(layer), methods.forward, None)
    func = inspect.unwrap(getattr(forward, "__func__", forward)) if forward is not None else None
    namespace = getattr(func, "__globals__", None)
    changed: list[tuple[Any, str, Any]] = []
    try:
        for chain in _forward_flags(func) if isinstance(namespace, dict) else ():
            owner: Any = namespace
            for name in chain[:-1]:
                owner = owner.get(name) if isinstance(owner, dict) else getattr(owner, name, None)
            value = owner.get(chain[-1]) if isinstance(owner, dict) else getattr(owner, chain[-1], None)
            if isinstance(value, bool) and value != train:
                if isinstance(owner, dict):
                    owner[chain[-1]] = train
                else:
                    setattr(owner, chain[-1], train)
                changed.append((owner, chain[-1], value))
        yield
    finally:
        for owner, name, value in reversed(changed):
            if isinstance(owner, dict):
                owner[name] = value
            else:
                setattr(owner, name, value)


@functools.lru_cache(maxsize=256)
def _forward_flags(func: Any) -> tuple[tuple[str, ...], ...]:
    return tuple(global_flags(function_node(func), TRAIN_FLAGS)) if callable(func) else ()


def call_backward(layer: Any, methods: Methods, *upstream: Any) -> Any:
    """The layer's backward on `upstream`; for a layer run through its `__call__`, with the upstream
    gradients as it takes them and its results as arrays."""
    backward = getattr(layer, methods.backward)
    if methods.through_call:
        return _through_call.run_backward(backward, layer, *upstream)
    return backward(*upstream)


def _forward_of(obj: Any) -> Any:
    methods = layer_methods(obj)
    return getattr(obj, methods.forward if methods else "forward", None)


def required_inputs(func: Any) -> list[str]:
    """Positional parameters a caller must pass, leaving out a train flag (`forward(x, training)`)."""
    try:
        return list(_required_inputs(*call_key(func)))
    except TypeError:  # unhashable callable
        return list(_required(parameters(func)))


@functools.lru_cache(maxsize=1024)
def _required_inputs(target: Any, bound: bool, owner: type | None) -> tuple[str, ...]:
    """`required_inputs` of the function `call_key` gave, read once for each."""
    return _required(_parameters(target, bound, owner))


def _required(params: dict[str, inspect.Parameter]) -> tuple[str, ...]:
    return tuple(
        p.name
        for p in params.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty and p.name not in TRAIN_FLAGS
    )


def is_loss_layer(obj: Any) -> bool:
    """A layer whose forward takes a target: `forward(x, t)`."""
    forward = _forward_of(obj)
    if not callable(forward):
        return False
    methods = layer_methods(obj)
    if methods is not None and methods.mean_of_forward:
        return True
    return len(required_inputs(forward)) >= 2


def loss_of_pair(out: Any, x: Any) -> Any:
    """The loss a loss layer's (or a network's `loss(x, t)`) returns beside its prediction, by design
    (`return self.y, loss`, or `return loss, probs`; every caller unpacks the pair): the one number of a
    pair whose other item is an array of one row (or column) per sample of the input `x`. Anything else
    as it is."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        return out
    shape = np.shape(x)
    numbers = [item for item in out if _one_number(item)]
    per_sample = [
        item for item in out
        if isinstance(item, np.ndarray) and item.ndim >= 1 and item.size > 1 and shape
        and (item.shape[0] == shape[0] or item.shape[-1] == shape[-1])
    ]  # fmt: skip
    return numbers[0] if len(numbers) == 1 and len(per_sample) == 1 else out


def _one_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.floating, np.integer)):
        return True
    return isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fi"


# --------------------------------------------------------------------------- reading methods


def _stepping_gradients(node: FunctionNode | None, rate: str | None) -> set[str]:
    """Attributes a backward moves another attribute by at the learning rate `rate`
    (`self.weights -= learning_rate * self.weights_gradient`): gradients it keeps on the layer, never
    parameters, however often they change."""
    if node is None or not rate:
        return set()
    found: set[str] = set()
    for stmt in ast.walk(node):
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Sub, ast.Add)) and isinstance(stmt.target, ast.Attribute):
            value, target = stmt.value, stmt.target.attr
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute):
            value, target = stmt.value, stmt.targets[0].attr
        else:
            continue
        if not any(isinstance(n, ast.Name) and n.id == rate for n in ast.walk(value)):
            continue  # not a step at the rate
        found |= {
            n.attr for n in ast.walk(value)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" and n.attr != target
        }  # fmt: skip
    return found


def last_return(func: Any) -> ast.expr | None:
    """What the last `return` of a function's source gives (`J, grad` of `return J, grad`), or None
    when its source cannot be read or it returns nothing."""
    node = function_node(func)
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None] if node is not None else []
    return returns[-1].value if returns else None


def function_node(func: Any) -> FunctionNode | None:
    """The parsed `def` of a function or method, or None when its source cannot be read."""
    func = getattr(func, "__func__", func)
    try:
        source = inspect.getsource(func)
    except (TypeError, OSError):
        return None
    return parse_function(source)


# What `ClassLayer` reads of a backward's source, by the function's code object: read once, not
# for every adapter built (a network's check builds two a layer, and the source's tokenizing and
# parsing cost more than the layer's own calls). The entry holds the code object, so its id names
# no other while it is kept; a function whose source cannot be read is not kept (its source may
# be registered later).
_BACKWARD_FACTS: dict[int, tuple[Any, tuple[str, ...], frozenset[str]]] = {}
_ONE_ENTRY: dict[int, tuple[Any, bool]] = {}  # `ClassLayer.one_entry_upstream`, by the backward's code object
_BACKWARD_FACTS_KEPT = 512


def _backward_facts(func: Any) -> tuple[tuple[str, ...], frozenset[str]]:
    """(`returned_names`, `assigned_attributes`) of a function or method's parsed source: ((), ())
    when it cannot be read, as of `function_node`'s None."""
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    kept = _BACKWARD_FACTS.get(id(code)) if code is not None else None
    if kept is not None and kept[0] is code:
        return kept[1], kept[2]
    node = function_node(func)
    if node is None:
        return (), frozenset()
    facts = (tuple(returned_names(node) or _returned_list_names(node)), frozenset(assigned_attributes(node)))
    if code is not None:
        if len(_BACKWARD_FACTS) >= _BACKWARD_FACTS_KEPT:
            del _BACKWARD_FACTS[next(iter(_BACKWARD_FACTS))]
        _BACKWARD_FACTS[id(code)] = (code, *facts)
    return facts


def _returned_list_names(node: Any) -> list[str]:
    """The names of the first list the function returns (`return [dWx, dWh, db]`), as `returned_names`
    reads a tuple's ("" for an element that is not a plain name)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Return) and isinstance(n.value, ast.List):
            return [e.id if isinstance(e, ast.Name) else "" for e in n.value.elts]
    return []


# --------------------------------------------------------------------------- the adapter


def one_entry_upstream(cls: type, backward_name: str) -> bool:
    """Whether `cls`'s backward is written for an upstream gradient with one nonzero entry (`static.one_entry`),
    read once per function, as `_BACKWARD_FACTS` are."""
    from backprop_doctor.static.one_entry import one_nonzero_upstream

    backward = getattr(cls, backward_name, None)
    code = getattr(getattr(backward, "__func__", backward), "__code__", None)
    if code is None:
        return False
    kept = _ONE_ENTRY.get(id(code))
    if kept is None or kept[0] is not code:
        kept = _ONE_ENTRY[id(code)] = (code, one_nonzero_upstream(function_node(backward)))
    return kept[1]


class ClassLayer(Adapter):
    """A layer object, called the way its convention says (`Methods`)."""

    def __init__(self, layer: Any, name: str | None = None, *, train: bool = True, methods: Methods | None = None):
        cls = type(layer)
        self.methods = methods or layer_methods(layer) or Methods()
        super().__init__(
            name=name or cls.__name__, kind="layer", target=cls, is_loss=is_loss_layer(layer), train=train
        )
        self.layer = layer
        self._params: dict[str, np.ndarray] | None = None
        self._entries: dict[str, list[int]] = {}  # DLFS-2: each parameter's indices in `params` (shared: several)
        self._grad_names: dict[str, str] = {}
        # parameter objects (`self.W = Param(...)`, `.data` beside `.grad`: `_param_objects`), found at each
        # backward, and the zeros each one's gradient was set to before it
        self._holders: dict[str, Held] = {}
        self._zeroed: dict[str, np.ndarray] = {}
        self._inputs: tuple[Any, Any] = (None, None)
        getattr(layer, "_backprop_doctor_probe", None)  # a `__getattr__` that raises other than AttributeError shows here, not mid-check
        self._listed = listed_parameters(layer)  # `params`, or `weights` beside a `grads` list
        self._dlfs2 = self._listed is not None and isinstance(getattr(layer, "grads", None), list)
        if self._dlfs2:
            self.kind = "dlfs2-layer"
        elif self.is_loss:
            self.kind = "loss-layer"
        backward = getattr(layer, self.methods.backward, None)
        self.dout_is_input = bool(backward) and bool(parameters(backward))
        if self.methods.backward_gets_prediction:
            self.dout_is_input = False
        if self.methods.local_derivative:
            self.dout_is_input = True  # the adapter multiplies backward's f'(x) by the upstream gradient itself
        self._x_shape: tuple[int, ...] | None = None  # forward's input, to tell a local derivative shaped like it
        self.per_sample = False  # a loss whose forward returns one loss per sample, summed here (`_per_sample`)
        self.mean_over: int | None = None  # N, when every parameter gradient is the mean over the batch's N rows (`_batch_mean`)
        self._returned = _returned_gradients(layer, backward) if self.methods.convention == "book" and not self._listed else {}
        self._declared_tried = False  # whether a returned list or tuple was matched to the parameters the model lists (`match_declared`)
        # {attribute: id of its value} just before the last forward: the arrays forward did not rebind (`shaped_places`)
        self._before_forward: dict[str, int] = {}
        self.unpaired: UnpairedGradients | None = None  # returned gradients the shapes pair with the parameters in several ways
        # `return {"W": dW, "b": db}` beside `self.grad_in = ...` (`Methods.dx`): the dict backward returned last,
        # and {parameter attribute: its key there}
        self._returned_dict: dict[str, Any] | None = None
        self._keyed: dict[str, str] = {}
        self._cells = _lazy("stepped_cells", "CellRestarts")()  # cells taking one time step per call that the layer holds (`stepped_cells`)

    @property
    def one_entry_upstream(self) -> bool:
        """Whether backward is written for an upstream gradient with one nonzero entry (`static.one_entry`)."""
        return one_entry_upstream(type(self.layer), self.methods.backward)

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        forward = getattr(self.layer, self.methods.forward)
        kwargs = train_kwargs(forward, self.train)
        self._inputs = (x, t)
        self._x_shape = tuple(np.shape(x))
        self.note_bindings()
        with flags_set(self.layer, self.methods, self.train):
            out = self._cells.forward(self.layer, lambda: call_forward(self.layer, self.methods, *((x, t) if self.is_loss else (x,)), **kwargs))
        if out is None and self.methods.output:
            out = getattr(self.layer, self.methods.output, None)
        if self.methods.mean_of_forward and isinstance(out, np.ndarray) and out.size > 1:
            out = np.mean(out)
        elif self.is_loss and self._per_sample(out, x):
            out = np.sum(out)
            self.per_sample = True
        if self.is_loss:
            out = loss_of_pair(out, x)
        return out

    def _per_sample(self, out: Any, x: Any) -> bool:
        """A loss whose forward returns one loss per sample (CMU 11-785's 2020 `SoftmaxCrossEntropy`:
        shape (batch,)) and whose backward takes nothing, returning each sample's own gradient (`softmax - y`):
        the loss those rows are the gradient of is the samples' sum."""
        return (
            not self.dout_is_input and not self.methods.backward_gets_prediction
            and isinstance(out, np.ndarray) and out.ndim == 1
            and np.ndim(x) == 2 and out.shape[0] == np.shape(x)[0]
        )  # fmt: skip

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        self._cells.backward(self.layer)  # held cells stepped back from what the last forward left
        self._zero_held()
        backward = getattr(self.layer, self.methods.backward)
        if self.methods.backward_gets_prediction:
            x, t = self._inputs
            prediction = getattr(self.layer, self.methods.output or "output", None)
            dx = backward(prediction if isinstance(prediction, np.ndarray) else x, t)
        elif self.methods.learning_rate:
            return self._backward_with_update(backward, dout)
        elif self.methods.backward_gets_inputs:
            dx = backward(np.array(self._inputs[0], copy=True), dout)
        elif self.methods.local_derivative:
            dx = self.times_derivative(dout, call_backward(self.layer, self.methods))
        else:
            dx = call_backward(self.layer, self.methods, *((dout,) if self.dout_is_input else ()))
            if not self.dout_is_input:
                dx = self._of_one_number(dout, dx)
        dx = self._keyed_result(dx)
        if dx is None and self.methods.dx:
            dx = getattr(self.layer, self.methods.dx, None)
        self.match_declared(dx)
        if self.unpaired_result(dx):
            return None, {}
        if self._returned and isinstance(dx, (list, tuple)) and len(dx) == self.returned_count:
            # `return dW, db`: the parameters' gradients, and no input gradient (a first layer's, or a
            # whole model's: `return [dWx, dWh, db]` in the order of its `params()`), or one it keeps
            self._returned_values = dx
            return (getattr(self.layer, self.methods.dx, None) if self.methods.dx else None), self._layer_grads()
        if isinstance(dx, tuple) and dx and isinstance(dx[0], np.ndarray):
            dx = dx[0]  # `return dx, None` (or a two-input layer's (dx, dy)): the input gradient comes first
        return dx, self._layer_grads()

    def _zero_held(self) -> None:
        """Set the gradient of every parameter object the layer holds (`self.W.grad`) to zeros before a
        backward: one that adds into it (`self.W.grad += ...`) is right by design, as the training loop's
        `zero_grad()` empties it between steps; each call is then read alone."""
        if self.methods.learning_rate or self._dlfs2 or self._returned:
            return
        self._holders = held_parameters(self.layer)
        self._zeroed = {name: held.zero() for name, held in self._holders.items()}

    def kept_gradient(self, name: str) -> Any:
        """The gradient the layer keeps for parameter `name` now: its attribute (`self.dW`), or the `grad`
        of the parameter object holding it (`self.W.grad`)."""
        held = self._holders.get(name)
        if held is not None and self._grad_names.get(name) == held.grad_path:
            return held.gradient
        attribute = self.grad_attribute(name)
        return getattr(self.layer, attribute, None) if attribute.isidentifier() else None

    def match_declared(self, result: Any) -> None:
        """Read what backward returned as the parameters' gradients when it is one array for each of the
        parameters the model lists, of their shapes and in their order (`declared_places`): decided on
        the first such return, kept after."""
        if self._declared_tried or self._returned or not isinstance(result, (list, tuple)):
            return
        self._declared_tried = True
        if not (self._dlfs2 or self.is_loss or self.methods.local_derivative or self.methods.learning_rate):
            self._returned = declared_places(self.layer, result)
            if not self._returned and len(result) >= 2 and all(_signature(g) is not None for g in result) and not self._used_as_layer():
                try:
                    self._returned = shaped_places(self.layer, result, self._before_forward, forward_reads(type(self.layer), self._called().forward))
                except UnpairedGradients as unpaired:
                    self.unpaired = unpaired

    def unpaired_result(self, result: Any) -> bool:
        """Whether `result` is what backward returns when its values pair with the parameters by shape in
        several ways (`UnpairedGradients`, kept in `unpaired`): neither an input gradient nor gradients the
        check can tell apart, so backward gives none (`engine` notes why it checked nothing)."""
        return self.unpaired is not None and isinstance(result, (list, tuple)) and len(result) == self.unpaired.count

    def _called(self) -> Methods:
        """The methods the adapter calls as forward and backward."""
        return self.methods

    def _used_as_layer(self) -> bool:
        """Whether the module defining the layer's class uses its objects as layers of a network, its
        backward's result handed on as an upstream gradient (`static.chained`)."""
        from backprop_doctor.static.chained import used_as_layer
        from backprop_doctor.static.files import source_tree

        cls = type(self.layer)
        try:
            path = inspect.getsourcefile(cls)
        except TypeError:
            return False
        return bool(path) and used_as_layer(source_tree(path)[1], cls.__name__, self._called().backward)

    def note_bindings(self) -> None:
        """Keep the id of every attribute's value just before a forward: those forward leaves as they are
        (its parameters, not the caches it rebinds) are what `shaped_places` pairs a returned tuple with."""
        self._before_forward = {k: id(v) for k, v in vars(self.layer).items()} if hasattr(self.layer, "__dict__") else {}

    def _keyed_result(self, result: Any) -> Any:
        """None for a dict backward returned beside the input gradient it keeps (`Methods.dx`): its
        parameters' gradients by name, kept for `_kept_grads`; anything else as it is."""
        if isinstance(result, dict) and self.methods.dx:
            self._returned_dict = result
            return None
        return result

    def times_derivative(self, dout: Any, derivative: Any) -> Any:
        """`dout * derivative`, the input gradient of a layer whose backward() returns its local derivative
        f'(x) element by element (`Methods.local_derivative`), when it is shaped like forward's input and
        the upstream gradient; anything else as it is, read as dx."""
        if isinstance(derivative, np.ndarray) and derivative.shape == self._x_shape and np.shape(dout) == derivative.shape:
            return dout * derivative
        if isinstance(derivative, (int, float)) and not isinstance(derivative, bool) and np.shape(dout) == self._x_shape:
            return dout * float(derivative)  # an identity's `return 1.0`
        return self._of_one_number(dout, derivative)

    def _of_one_number(self, dout: Any, dx: Any) -> Any:
        """The input gradient of a forward that returns one number (a loss object holding its target,
        `forward(pred)` -> `np.mean((pred - self.target) ** 2)`) whose backward() takes no upstream gradient:
        what it returns is that number's own gradient, scaled by the upstream one the check passes."""
        if isinstance(dx, np.ndarray) and dx.shape == self._x_shape and np.size(dout) == 1 and dx.dtype.kind == "f":
            return dx * float(np.asarray(dout, dtype=np.float64).reshape(-1)[0])
        return dx

    def _backward_with_update(self, backward: Any, dout: Any) -> tuple[Any, dict[str, Any]]:
        """Call `backward(dout, learning_rate=1)` (`backward(dout)` for a layer stepping with the
        optimizer it holds, a rate-1 `optimizer_objects.UnitStep`), read each parameter's gradient off the SGD step
        it took (`W -= lr * dW` → dW = W_before - W_after), then undo the step."""
        before = {k: (v, v.copy()) for k, v in vars(self.layer).items() if is_float_array(v)}
        if self.methods.held_rate:  # `self.weights[i] -= self.lr * dW`: each entry of its lists of weights
            before.update(
                (f"{k}[{i}]", (a, a.copy())) for k, v in vars(self.layer).items() if isinstance(v, list) for i, a in enumerate(v) if is_float_array(a)
            )
            rate = getattr(self.layer, self.methods.learning_rate)
            setattr(self.layer, self.methods.learning_rate, 1.0)
            try:
                dx = backward(dout)
            finally:
                setattr(self.layer, self.methods.learning_rate, rate)
        else:
            dx = backward(dout) if self.methods.held_optimizer else backward(dout, **{self.methods.learning_rate: 1.0})
        if isinstance(dx, tuple) and dx and isinstance(dx[0], np.ndarray):
            dx = dx[0]
        steps: dict[str, np.ndarray] = {}
        moving = _stepping_gradients(function_node(backward), self.methods.learning_rate)
        for attr, (array, saved) in before.items():
            now = _held(self.layer, attr)
            if attr in moving:
                pass  # `self.weights_gradient = ...`, kept from an earlier call: what the step moves by, not a parameter
            elif isinstance(now, np.ndarray) and now.shape == saved.shape and (now is not array or not np.array_equal(now, saved)):
                steps[attr] = saved - np.asarray(now, dtype=np.float64)
            name, _, index = attr.partition("[")
            if index and isinstance(getattr(self.layer, name, None), list):
                getattr(self.layer, name)[int(index[:-1])] = array
            elif not index:
                setattr(self.layer, attr, array)
            np.copyto(array, saved)
        self._steps = steps
        return dx, {name: steps.get(name, np.zeros_like(p)) for name, p in self.layer_params().items()}

    def _layer_grads(self) -> dict[str, Any]:
        """The gradients of the layer's own parameters, where the convention keeps them (of the batch's
        sum, for a layer that keeps their mean: `mean_over`)."""
        return self._of_the_sum(self._kept_grads())

    def _of_the_sum(self, grads: dict[str, Any]) -> dict[str, Any]:
        """`grads`, each multiplied by `mean_over` when the layer keeps the batch's mean of them."""
        if not self.mean_over:
            return grads
        return {k: g * self.mean_over if is_gradient_like(g) else g for k, g in grads.items()}

    def _kept_grads(self) -> dict[str, Any]:
        names = self.layer_params()
        if self._dlfs2:
            return self._entry_sums(list(self.layer.grads))
        if self._returned:
            values = getattr(self, "_returned_values", ())
            return {name: _returned_value(values, self._returned[name]) for name in names}
        if self._keyed:
            return {name: (self._returned_dict or {}).get(self._keyed[name]) for name in names}
        return {name: self.kept_gradient(name) for name in names}

    def _entry_sums(self, grads: list[Any]) -> dict[str, Any]:
        """DLFS-2: each parameter's entry of `grads`, summed over the entries of a shared array."""
        out: dict[str, Any] = {}
        for name in self.layer_params():
            parts = [grads[i] for i in self._entries.get(name, ()) if i < len(grads)]
            if len(parts) > 1 and all(isinstance(g, np.ndarray) for g in parts):
                out[name] = sum(parts[1:], np.array(parts[0], dtype=np.float64))
            else:
                out[name] = parts[0] if parts else None
        return out

    def trial_copy(self) -> ClassLayer:
        """An adapter of the same kind over a deep copy of the layer, for a trial (`_batch_mean`)."""
        import copy

        return ClassLayer(copy.deepcopy(self.layer), train=self.train, methods=self.methods)

    def discover_params(self, forward_before: dict[str, int]) -> None:
        """Decide which attributes are parameters, after one forward and backward (`_discover_params`),
        and whether their gradients are the batch's mean (`_batch_mean`)."""
        self._discover_params(forward_before)
        self.mean_over = None
        self.mean_over = _batch_mean(self)

    def _discover_params(self, forward_before: dict[str, int]) -> None:
        """Decide which attributes are parameters, after one forward and backward.

        A parameter is a float array the forward pass did not rebind (`forward_before`
        maps attribute names to ids before the forward) with a gradient attribute.
        """
        layer = self.layer
        if self.methods.learning_rate:  # the parameters are what backward's SGD step changed
            steps = getattr(self, "_steps", {})
            self._params = {k: v for k, v in vars(layer).items() if k in steps and forward_before.get(k) == id(v)}
            if self.methods.held_rate:  # entries of its lists of weights: `weights[0]`
                self._params.update((k, _held(layer, k)) for k in steps if "[" in k and forward_before.get(k.partition("[")[0]) == id(getattr(layer, k.partition("[")[0], None)))
            return
        if self._dlfs2:
            listed = getattr(layer, self._listed)
            names = _lazy("dlfs2", "dlfs2_names")(layer, self._listed)
            self._params = {name: p for name, p in zip(names, listed) if is_float_array(p)}
            # One array listed several times (word2vec's NegativeSamplingLoss gives every EmbeddingDot
            # the same W) is one parameter: its gradient is the sum of its entries in `grads`, as the
            # book's `remove_duplicate` makes it before the update.
            first: dict[int, str] = {}
            self._entries = {}  # discovered again for every case the layer is checked on
            for i, (name, p) in enumerate(zip(names, listed)):
                if name in self._params:
                    self._entries.setdefault(first.setdefault(id(p), name), []).append(i)
            return
        params: dict[str, np.ndarray] = {}
        if self._returned:  # `return dW, db`: the parameters are the attributes those gradients are named for
            self._params = {name: _held(layer, name) for name in self._returned if forward_before.get(name.partition("[")[0]) == id(getattr(layer, name.partition("[")[0], None))}
            names = _backward_facts(self.backward_target())[0]
            self._grad_names = {attr: _name_at(names, place if isinstance(place, int) else place[0], attr) for attr, place in self._returned.items()}
            return
        if self._returned_dict is not None:  # `return {"W": dW, ...}`: the arrays the keys name (`W`, or `dW` for `W`)
            self._keyed = {
                attr: key for attr, value in vars(layer).items()
                if is_float_array(value) and forward_before.get(attr) == id(value)
                and (key := _key_of(attr, self._returned_dict)) is not None
            }  # fmt: skip
            self._params = {attr: getattr(layer, attr) for attr in self._keyed}
            return
        written = _backward_facts(self.backward_target())[1]
        for attr, value in vars(layer).items():
            if not is_float_array(value) or forward_before.get(attr) != id(value):
                continue
            spelled = _gradient_names(attr, False)
            for grad_name in _gradient_names(attr, True):
                if grad_name not in spelled and grad_name not in written:
                    continue  # `self.dw` beside `self.weights` only when backward writes it (else a velocity, say)
                if is_gradient_like(getattr(layer, grad_name, None)):
                    params[attr] = value
                    self._grad_names[attr] = grad_name
                    break
        params.update(self._held_params(forward_before, params))
        self._params = params

    def _held_params(self, forward_before: dict[str, int], found: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The arrays of the parameter objects the layer holds (`self.W.data`) whose gradient the last
        backward wrote (`self.W.grad`, set to zeros before it: `_zero_held`), each object held where it was
        before forward."""
        layer, params = self.layer, {}
        for name, held in self._holders.items():
            array, grad = held.array, held.gradient
            if name in found or not is_float_array(array) or not is_gradient_like(grad):
                continue
            if grad is self._zeroed.get(name) and not np.any(grad):
                continue  # backward never wrote it: no parameter of this layer's gradient (a frozen one)
            top = held.path.partition("[")[0]
            if forward_before.get(top) != id(getattr(layer, top, None)):
                continue
            params[name] = array
            self._grad_names[name] = held.grad_path
        return params

    def gradient_snapshot(self) -> dict[str, Any]:
        """Copies of every array attribute (and of the DLFS-2 `grads` list) as they are now."""
        snap: dict[str, Any] = {k: np.array(v, copy=True) for k, v in vars(self.layer).items() if is_gradient_like(v)}
        for name, held in self._holders.items():  # `self.W.grad` of a parameter object
            if self._grad_names.get(name) == held.grad_path and is_gradient_like(held.gradient):
                snap[held.grad_path] = np.array(held.gradient, copy=True)
        if self._dlfs2:
            snap["grads"] = [np.array(g, copy=True) if isinstance(g, np.ndarray) else g for g in self.layer.grads]
        if self._returned:
            snap["returned"] = [_copied(g) for g in getattr(self, "_returned_values", ())]
        if self._keyed:
            snap["{returned}"] = {k: _copied(g) for k, g in (self._returned_dict or {}).items()}
        return snap

    def gradients_from(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """The parameters' gradients as they were in `snapshot` (`_of_the_sum`)."""
        return self._of_the_sum(self._gradients_from(snapshot))

    def _gradients_from(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        if self.methods.learning_rate:
            return {name: getattr(self, "_steps", {}).get(name) for name in self.layer_params()}
        if self._dlfs2:
            return self._entry_sums(snapshot.get("grads", []))
        if self._returned:
            values = snapshot.get("returned", [])
            return {name: _returned_value(values, self._returned[name]) for name in self.layer_params()}
        if self._keyed:
            return {name: snapshot.get("{returned}", {}).get(self._keyed[name]) for name in self.layer_params()}
        return {name: snapshot.get(self._grad_names[name]) for name in self.layer_params()}

    @property
    def returns_gradients(self) -> bool:
        """Backward returns the parameters' gradients (`return dW, db`, or by name beside the input's
        gradient it keeps: `return {"W": dW}`) and keeps none."""
        return bool(self._returned or self._keyed)

    @property
    def returned_count(self) -> int:
        """How many values backward returns: `return gW, gb` of the lists `self.W`, `self.b` is two."""
        return len({place if isinstance(place, int) else place[0] for place in self._returned.values()})

    @property
    def dlfs2(self) -> bool:
        """The layer keeps DLFS-2 `params`/`grads` lists."""
        return self._dlfs2

    def grad_attribute(self, param: str) -> str:
        if self._dlfs2:
            return f"grads[{self._entries[param][0] if param in self._entries else list(self.layer_params()).index(param)}]"
        return self._grad_names.get(param, f"d{param}")

    def grad_targets(self, param: str) -> tuple[str, ...]:
        attr = self.grad_attribute(param)
        node = function_node(self.backward_target())
        me = self_name(node)
        if self.methods.learning_rate and node is not None:
            # `self.W -= learning_rate * dW`: the gradient is computed where `dW` is assigned
            return (*update_operands(node, param, self.methods.learning_rate), f"{me}.{param}")
        if attr.startswith("grads["):
            # a loop's `self.grads[i] = ...` writes every entry, after the entry's own statement
            return (f"{me}.{attr}", *grads_aliases(node, me, int(attr[6:-1])), attr, *indexed_writes(node, me, "grads"))
        if self._returned:
            return (attr,)  # `db = dy.sum(axis=0)` before `return dW, db`: a local of backward
        if param in self._keyed:  # `dW = ...` before `return {"W": dW}`; else the return itself
            named = returned_dict_names(node).get(self._keyed[param])
            return (named,) if named else ()
        held = self._holders.get(param)
        if held is not None and attr == held.grad_path:
            return held.grad_spellings(me)  # `self.params['W'].grad`
        return (f"{me}.{attr}",)

    def layer_params(self) -> dict[str, np.ndarray]:
        """The parameters the layer object holds (an array listed twice in `params`, once)."""
        if self._entries:
            return {name: p for name, p in (self._params or {}).items() if name in self._entries}
        return self._params or {}

    def params(self) -> dict[str, np.ndarray]:
        return self.layer_params()

    def input_grad_targets(self) -> tuple[str, ...]:
        if self.methods.dx:
            return (f"{self_name(function_node(self.backward_target()))}.{self.methods.dx}", "dx")
        return ("dx",)

    def attribute_ids(self) -> dict[str, int]:
        return {k: id(v) for k, v in vars(self.layer).items()}

    def backward_target(self) -> Any:
        return getattr(type(self.layer), self.methods.backward, self.target)

    def forward_target(self) -> Any:
        return getattr(type(self.layer), self.methods.forward, self.target)


LISTED = ("params", "weights", "parameters")  # a list of a layer's arrays, its gradients in `grads` at the same places


def listed_parameters(layer: Any) -> str | None:
    """The attribute holding a layer's parameters as a list of arrays (DLFS-2's `params`, or
    `self.weights = [W1, W2]` beside `self.grads`), or None."""
    return next((name for name in LISTED if is_array_list(vars(layer).get(name) if hasattr(layer, "__dict__") else None) and getattr(layer, name)), None)


def is_abstract(cls: type, methods: Methods) -> bool:
    """A base class whose forward does nothing (`pass`, `raise NotImplementedError`, a docstring), or
    whose forward returns nothing while its backward does nothing (`self.ctx = x` then `...`: the
    base a layer's own forward extends with `super().forward(x)`, or a layer not written yet)."""
    node = function_node(getattr(cls, methods.forward, None))
    if node is None:
        return False
    if does_nothing(node):
        return True
    backward = function_node(getattr(cls, methods.backward, None)) if methods.backward else None
    returns = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(node))
    return backward is not None and does_nothing(backward) and not returns


def _returned_gradients(layer: Any, backward: Any) -> dict[str, int | tuple[int, int]]:
    """{parameter attribute: its place in what backward returns} for a backward that returns its
    parameters' gradients and nothing else (`return dW, db` for `self.W`, `self.b`); {} otherwise.
    A list of weight arrays (`self.W = [W1, W2, W3]`) whose gradients come back as a list
    (`return gW, gb`) gives one parameter per entry, `W[0]` at place (0, 0)."""
    names = _backward_facts(backward)[0] if callable(backward) else ()
    attributes = vars(layer)
    if not names:
        return {}
    arrays = {k: v for k, v in attributes.items() if is_float_array(v)}
    lists = {k: v for k, v in attributes.items() if is_array_list(v) and v and all(is_float_array(a) for a in v)}
    found: dict[str, int | tuple[int, int]] = {}
    for i, name in enumerate(names):
        attr = next((a for a in arrays if (name in gradient_names(a) or _with_respect_to(name, a)) and a not in found), None)
        if attr is not None:
            found[attr] = i
            continue
        listed = next((a for a in lists if _gradient_list_name(name, a) and f"{a}[0]" not in found), None)
        if listed is None:
            return {}
        found.update({f"{listed}[{j}]": (i, j) for j in range(len(lists[listed]))})
    places = {place if isinstance(place, int) else place[0] for place in found.values()}
    return found if found and len(places) == len(names) else {}


def _name_at(names: tuple[str, ...], place: int, attr: str) -> str:
    """The name backward returns `attr`'s gradient under at `place` (`dW` of `return dW, db`), or `d<attr>`
    when it returns no plain name there (`return grads`, a list it built)."""
    return names[place] if place < len(names) and names[place] else f"d{attr}"


def declared_parameters(layer: Any) -> list[tuple[str, np.ndarray]] | None:
    """[(attribute, array)] of the arrays a model lists as its parameters, in its own order: what its
    `params()` (or `parameters()`, `weights()`) method returns, or its `params` attribute (a list,
    tuple or dict of arrays); each named by the attribute that holds it (`Wx`, or `W[1]`, `params[W1]`
    for an entry of a list or dict). None when there is no such list, or an array in it is not held
    by the object."""
    own = vars(layer) if hasattr(layer, "__dict__") else {}
    for name in dict.fromkeys((*LISTED, *zipped_parameters(type(layer)))):
        if isinstance(name, tuple):  # `zip((net.W1, net.b1), grads)`: the attributes themselves
            value = [own.get(attr) for attr in name]
        else:
            value = own.get(name)
        if value is None and isinstance(name, str) and callable(getattr(type(layer), name, None)) and not required_inputs(getattr(type(layer), name)):
            try:
                value = getattr(layer, name)()
            except Exception:  # noqa: BLE001 - user code: no list of parameters to read
                continue
        arrays = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (list, tuple)) else []
        if not arrays or not all(is_float_array(a) for a in arrays):
            continue
        named = [_holder(own, a, name if isinstance(name, str) else "") for a in arrays]
        if all(named) and len(set(named)) == len(named):
            return list(zip(named, arrays))  # type: ignore[arg-type]
    return None


_ZIPPED: dict[str, tuple[int, tuple[Any, ...]]] = {}  # `zipped_parameters` of a module, by its file (and its length)


def zipped_parameters(cls: type) -> tuple[str | tuple[str, ...], ...]:
    """What the training loops of `cls`'s module zip with the gradients and step: the attribute or method
    name of `for p, g in zip(net.params(), grads): p -= lr * g` (`zip(net.theta, grads)`: `theta`), or
    the attributes of a list written out (`zip([net.W1, net.b1], grads)`: `("W1", "b1")`)."""
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return ()
    lines = linecache.getlines(path) if path else []
    if not lines:
        return ()
    text = "".join(lines)
    kept = _ZIPPED.get(path)
    if kept is not None and kept[0] == len(text):
        return kept[1]
    found: list[str | tuple[str, ...]] = []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        tree = None
    for node in ast.walk(tree) if tree is not None else ():
        if not (
            isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "zip"
        ):  # fmt: skip
            continue
        stepped = _stepped_names(node)
        for target, given in zip(node.target.elts, node.iter.args):
            if not (isinstance(target, ast.Name) and target.id in stepped):
                continue
            if isinstance(given, ast.Call) and not given.args and not given.keywords:
                given = given.func  # `net.params()`
            if isinstance(given, ast.Attribute):
                found.append(given.attr)
            elif isinstance(given, (ast.List, ast.Tuple)) and given.elts and all(isinstance(e, ast.Attribute) for e in given.elts):
                found.append(tuple(e.attr for e in given.elts))  # type: ignore[union-attr]
    _ZIPPED[path] = (len(text), tuple(found))
    return tuple(found)


def _stepped_names(loop: ast.For) -> set[str]:
    """The names a loop's body steps in place: `p -= lr * g`, `p[...] = p - lr * g`, `p[:] -= ...`."""
    names = set()
    for n in ast.walk(loop):
        targets = [n.target] if isinstance(n, ast.AugAssign) else n.targets if isinstance(n, ast.Assign) else []
        for t in targets:
            if isinstance(n, ast.Assign) and not isinstance(t, ast.Subscript):
                continue  # `p = p - lr * g` rebinds the name: no step of the array
            while isinstance(t, ast.Subscript):
                t = t.value
            if isinstance(t, ast.Name):
                names.add(t.id)
    return names


def _holder(own: dict[str, Any], array: np.ndarray, listed: str) -> str | None:
    """The attribute of the object holding `array` (`Wx`), else the entry of a list or dict attribute (`W[1]`, `params[W1]`)."""
    for attr, value in own.items():
        if value is array and attr != listed:
            return attr
    for attr, value in own.items():
        if isinstance(value, list):
            j = next((j for j, v in enumerate(value) if v is array), None)
            if j is not None and attr != listed:
                return f"{attr}[{j}]"
        elif isinstance(value, dict):
            key = next((k for k, v in value.items() if v is array and isinstance(k, str) and "[" not in k and "]" not in k), None)
            if key is not None:
                return f"{attr}[{key}]"
    return None


def declared_places(layer: Any, returned: list[Any] | tuple[Any, ...]) -> dict[str, int | tuple[int, int]]:
    """{parameter: its place in what backward returned} when backward returned one gradient for each of the
    arrays the model lists as its parameters (`declared_parameters`), in that order and of their shapes
    (`return [dWx, dWh, db, dWy, dby]` beside `params()` returning `[Wx, Wh, b, Wy, by]`, the training loop
    zipping the two): the parameters' gradients, not an input gradient; {} otherwise."""
    declared = declared_parameters(layer)
    if not declared or len(declared) != len(returned):
        return {}
    for (_, p), g in zip(declared, returned):
        if not (is_float_array(g) and g.shape == p.shape) or g is p:
            return {}
    return {name: i for i, (name, _) in enumerate(declared)}


class UnpairedGradients(Exception):
    """Backward returned the parameters' gradients alone (`shaped_places`), in more than one way of pairing
    them with the parameters by shape: which is whose cannot be told, so the layer is not checked as one
    (its training step is). `pairings` are the attributes of each pairing found, in returned order."""

    def __init__(self, pairings: list[list[str]], returned: Any):
        self.pairings = pairings
        self.count = len(returned)
        # the parameters two pairings put at different places: those of one shape (`W1`, `W2`)
        self.shared = sorted({a for pairing in pairings for a, b in zip(pairing, pairings[0]) if a != b})
        names = " and ".join(f"`{a}`" for a in self.shared) if len(self.shared) == 2 else ", ".join(f"`{a}`" for a in self.shared)
        super().__init__(
            f"its backward returns {self.count} values shaped like its parameters, their gradients and no input gradient, "
            f"but {names} have the same shape, so which value is whose gradient cannot be told from the shapes"
        )


def _signature(value: Any) -> tuple[str, Any] | None:
    """("array", shape) of a float array, ("list", shapes) of a non-empty list or tuple of float arrays, else None."""
    if is_float_array(value):
        return ("array", value.shape)
    if isinstance(value, (list, tuple)) and value and all(is_float_array(v) for v in value):
        return ("list", tuple(v.shape for v in value))
    return None


def shaped_places(
    layer: Any, returned: list[Any] | tuple[Any, ...], kept: dict[str, int], read: frozenset[str] | None
) -> dict[str, int | tuple[int, int]]:
    """{parameter: its place in what backward returned} when backward returned the parameters' gradients
    alone, under names that say nothing (`return gW, gc` for the lists `self.weights`, `self.offsets`;
    `return g1, g2, g3, g4` for `self.W1`, `self.b1`, `self.W2`, `self.b2`), paired with them as a training
    loop zips them, by shape: each returned value an array of one parameter's shape, or a list of arrays of the
    shapes of one list of parameters, entry by entry (`weights[1]` at place (0, 1)). The parameters are the
    float arrays and lists of them that the last forward read (`read`, from its source: `forward_reads`; None
    when it cannot be read) and did not rebind (`kept`: each attribute's id before that forward), never the
    caches it makes. At least two values are returned, each paired with a parameter of its own: {} when no
    pairing fits (a layer that returns its input's gradient beside its parameters', `return dx, dW, db`, has
    one value more than it has parameters of those shapes), `UnpairedGradients` when several do (two
    parameters of one shape, `W1` and `W2` both (8, 8), which the shapes cannot tell apart)."""
    if len(returned) < 2 or not kept:
        return {}
    own = vars(layer) if hasattr(layer, "__dict__") else {}
    candidates: dict[str, tuple[str, Any]] = {}
    for attr, value in own.items():
        if kept.get(attr) != id(value) or (read is not None and attr not in read):
            continue
        signature = _signature(value)
        if signature is not None:
            candidates[attr] = signature
    wanted = [_signature(g) for g in returned]
    if not candidates or any(w is None for w in wanted):
        return {}
    held = {id(a) for attr in candidates for a in (own[attr] if isinstance(own[attr], (list, tuple)) else [own[attr]])}
    if any(id(a) in held for g in returned for a in (g if isinstance(g, (list, tuple)) else [g])):
        return {}  # the parameters themselves (a `get_params()`), not their gradients
    options = [[attr for attr, signature in candidates.items() if signature == w] for w in wanted]
    found: list[list[str]] = []

    def pair(i: int, taken: list[str]) -> None:
        if len(found) > 1:
            return
        if i == len(options):
            found.append(list(taken))
            return
        for attr in options[i]:
            if attr not in taken:
                pair(i + 1, [*taken, attr])

    pair(0, [])
    if len(found) > 1:
        raise UnpairedGradients(found, returned)  # kept by `ClassLayer.match_declared`
    if not found:
        return {}
    places: dict[str, int | tuple[int, int]] = {}
    for i, attr in enumerate(found[0]):
        if wanted[i][0] == "array":  # type: ignore[index]
            places[attr] = i
        else:
            places.update({f"{attr}[{j}]": (i, j) for j in range(len(own[attr]))})
    return places


def forward_reads(cls: type, name: str) -> frozenset[str] | None:
    """The attributes a class's forward method `name` reads of its instance (`self.weights`), in its own
    body and in the methods of the class it calls on the instance (`self._affine(x, i)`), however deep;
    None when its source cannot be read."""
    node = function_node(getattr(cls, name, None))
    if node is None:
        return None
    read: set[str] = set()
    seen = {name}
    todo = [node]
    while todo:
        method = todo.pop()
        me = self_name(method)
        for n in ast.walk(method):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me and not isinstance(n.ctx, ast.Store):
                read.add(n.attr)
                called = getattr(cls, n.attr, None)
                if n.attr not in seen and callable(called) and not isinstance(called, type):
                    seen.add(n.attr)
                    other = function_node(called)
                    if other is not None:
                        todo.append(other)
    return frozenset(read)


def _key_of(attr: str, returned: dict[str, Any]) -> str | None:
    """The key a returned dict holds `attr`'s gradient under: its own name (`"W"`) or a gradient's name
    for it (`"dW"`, `"grad_W"`; `"dW"` for `weight` too, case aside), when that entry is an array (or a number)."""
    names = gradient_names(attr)
    key = attr if attr in returned else next((g for g in names if g in returned), None)
    if key is None:
        lowered = {g.lower() for g in names}
        key = next((k for k in returned if isinstance(k, str) and k.lower() in lowered), None)
    return key if key is not None and is_gradient_like(returned[key]) else None


def _with_respect_to(name: str, attr: str) -> bool:
    """`dy_dw_dec` for `self.W_dec`, `dL_dW1` for `self.W1`, `dLdb`: a gradient named as the derivative of
    an output or a loss with respect to the parameter (`d<out>_d<param>`, case aside)."""
    return re.fullmatch(rf"d[a-z0-9]*_?d_?{re.escape(attr.lower())}", name.lower()) is not None


def _gradient_list_name(name: str, attr: str) -> bool:
    """`gW`, `dW`, `grad_W`, `dWs` for the list `self.W` (a list's gradients named with a `g` too)."""
    return name in gradient_names(attr) or name in (f"g{attr}", f"g_{attr}", f"d{attr}s", f"g{attr}s", f"grads_{attr}")


def _held(layer: Any, name: str) -> Any:
    """The array `name` names in the layer: `W` or an entry of a list, `W[1]`."""
    attr, _, index = name.partition("[")
    value = getattr(layer, attr, None)
    if not index:
        return value
    if isinstance(value, dict):  # `params[W1]`: an entry of a dict of arrays (`declared_parameters`)
        return value.get(index[:-1])
    j = int(index[:-1])
    return value[j] if isinstance(value, list) and j < len(value) else None


def _returned_value(values: Any, place: int | tuple[int, int]) -> Any:
    """The value at `place` of what backward returned: the `place`-th, or entry j of the i-th list."""
    if isinstance(place, int):
        return values[place] if place < len(values) else None
    i, j = place
    listed = values[i] if i < len(values) else None
    return listed[j] if isinstance(listed, (list, tuple)) and j < len(listed) else None


def _copied(value: Any) -> Any:
    """A copy of a returned gradient: an array, or a list of arrays."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, list):
        return [np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in value]
    return value


def _batch_mean(adapter: ClassLayer, h: float = 1e-6, close: float = 1e-4) -> int | None:
    """N when the layer keeps each parameter's gradient as the mean over the N rows of its last input
    while its input gradient is the sum's (CMU 11-785's `Linear`: `self.dW = x.T @ delta / N`,
    `self.db = np.mean(delta, axis=0)`, `return delta @ W.T`, for a caller whose loss hands down each
    sample's own gradient), else None. Decided by trying it on copies, as `column_pairs` decides the
    course's mean convention: the input's gradient is the numerical gradient of sum(dout · forward(x))
    along a random direction, at least one parameter's gradient is it once multiplied by N, and none is
    it as it is (then the others are wrong either way, and named times N). A layer dividing only some of
    its gradients (a `db` divided beside a `dW` that is not) is left as it is, its division named."""
    x = adapter._inputs[0]
    params = adapter.layer_params()
    if (
        adapter.is_loss or adapter.methods.learning_rate or adapter.methods.local_derivative or adapter._dlfs2 or adapter._returned
        or not params or any("[" in name or name in adapter._holders for name in params) or not is_float_array(x) or x.ndim != 2 or x.shape[0] < 2
    ):  # fmt: skip
        return None
    if not _divides(function_node(adapter.backward_target())):
        return None  # no division nor mean in backward: nothing to try
    if _mean_loss_beside(adapter.layer):
        return None  # its loss hands down the mean's gradient already: a mean here divides twice
    from backprop_doctor.conventions._base import FORWARD_SEED

    n = x.shape[0]
    rng = np.random.default_rng(0)
    state = np.random.get_state()

    def fresh(moved: str | None = None, step: Any = None) -> ClassLayer:
        other = adapter.trial_copy()
        for grad_name in adapter._grad_names.values():  # a backward adding to its gradients (`self.dW += ...`) starts from 0
            held = getattr(other.layer, grad_name, None)
            if is_float_array(held):
                held[...] = 0.0
        if moved is not None:
            setattr(other.layer, moved, getattr(other.layer, moved) + step)
        return other

    def objective(dout: np.ndarray, xx: np.ndarray, moved: str | None = None, step: Any = None) -> float:
        np.random.seed(FORWARD_SEED)
        return float(np.sum(dout * np.asarray(fresh(moved, step).forward(xx.copy()), dtype=np.float64)))

    def agrees(analytic: float, numerical: float, factor: float) -> bool:
        return abs(factor * analytic - numerical) <= close * max(abs(numerical), 1e-8)

    try:
        trial = fresh()
        np.random.seed(FORWARD_SEED)
        out = trial.forward(x.copy())
        if not is_float_array(out) or out.shape[:1] != (n,):
            return None
        dout = rng.standard_normal(out.shape)
        trial._params = {name: getattr(trial.layer, name) for name in params}
        trial._grad_names = dict(adapter._grad_names)
        dx, grads = trial.backward(dout.copy())
        if not (is_float_array(dx) and dx.shape == x.shape):
            return None
        v = rng.standard_normal(x.shape)
        numerical = (objective(dout, x + h * v) - objective(dout, x - h * v)) / (2 * h)
        if not agrees(float(np.sum(dx * v)), numerical, 1.0):
            return None  # the input's gradient is not the sum's: nothing to read the parameters' against
        means = 0
        for name, value in params.items():
            grad = grads.get(name)
            if not (is_float_array(grad) and grad.shape == value.shape):
                continue
            v = rng.standard_normal(value.shape)
            numerical = (objective(dout, x, name, h * v) - objective(dout, x, name, -h * v)) / (2 * h)
            analytic = float(np.sum(grad * v))
            if agrees(analytic, numerical, 1.0):
                return None  # a gradient of the sum beside it: the sum's convention, a mean is the mistake
            means += agrees(analytic, numerical, n)
        return n if means else None
    except Exception:  # noqa: BLE001 - user code: checked as it is
        return None
    finally:
        np.random.set_state(state)


def _mean_loss_beside(layer: Any) -> bool:
    """Whether the layer's own module defines a loss layer whose backward divides (the book's
    `SoftmaxWithLoss.backward`: `(self.y - self.t) / batch_size`): the gradient its layers are handed
    is then the mean loss's already, and a layer that takes the batch mean of its own parameters'
    gradients again divides them by N twice. The convention `_batch_mean` reads is the other one,
    a loss whose backward hands down each sample's own gradient (CMU 11-785's `derivative()`:
    `self.sm - self.labels`), the mean left to the layers."""
    cls = type(layer)
    module = sys.modules.get(cls.__module__)
    if module is None:
        return False
    for value in list(vars(module).values()):
        if not (isinstance(value, type) and value is not cls and value.__module__ == cls.__module__):
            continue
        try:
            if not is_loss_layer(value):
                continue
            methods = layer_methods(value)
            backward = getattr(value, methods.backward if methods else "backward", None)
        except Exception:  # noqa: BLE001 - a class of the user's that cannot be read: not a loss layer known here
            continue
        if callable(backward) and _divides(function_node(backward)):
            return True
    return False


def _divides_code(node: Any) -> bool:
    return any(
        isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Div, ast.Mult)) and isinstance(n.left, ast.Constant)  # `(1 / n) * ...`
        or isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, ast.Div)
        or isinstance(n, ast.Call) and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) in ("mean", "average")
        for n in ast.walk(node)
    )  # fmt: skip


def _divides(node: Any) -> bool:
    """Whether a backward divides something or takes a mean (`x.T @ delta / N`, `np.mean(delta, axis=0)`)."""
    return node is not None and _divides_code(node)
