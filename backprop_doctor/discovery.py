"""Find what can be checked in a loaded namespace: layers, function pairs, networks.

Discovery looks at classes and functions the user wrote (defined in the file or
in a module next to it, such as `common/layers.py`), never at library code.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.conventions import TRAIN_FLAGS, all_conventions, cs231n, layer_methods, networks, numerical_gradients
from backprop_doctor.conventions._classlayer import function_node, is_abstract
from backprop_doctor.conventions.activations import KNOWN_ACTIVATIONS
from backprop_doctor.loading import siblings
from backprop_doctor.static.methods import calls_a_parameter
from backprop_doctor.static.pair_names import backward_of
from backprop_doctor.static.self_free import self_free
from backprop_doctor.training.optimizers import adagrad_function, adam_function, dict_update_function, update_function, update_method
from backprop_doctor.locate import is_user_file

FORWARD_SUFFIX = re.compile(r"^(?P<base>.+?)_forward(?P<variant>_\w+)?$")
LOSS_NAME = re.compile(r"loss|cost|entropy", re.IGNORECASE)  # which functions are worth a trial call as a loss


@dataclass
class Discovered:
    layers: list[type] = field(default_factory=list)  # layer classes, loss layers included
    networks: list[type] = field(default_factory=list)
    numerical: list[type] = field(default_factory=list)  # networks whose only gradient is `numerical_gradient`
    pairs: list[tuple[Any, Any]] = field(default_factory=list)  # (forward, backward) functions
    loss_functions: list[Any] = field(default_factory=list)  # softmax_loss(x, y) -> (loss, dx)
    functions: list[Any] = field(default_factory=list)  # other user functions (softmax, sigmoid...)
    others: list[tuple[Any, Any]] = field(default_factory=list)  # (convention module, object) of the other conventions
    imported: list[str] = field(default_factory=list)  # imported from a file beside it, not used here: not checked
    optimizers: list[Any] = field(default_factory=list)  # classes with `update(params, grads)`, functions `sgd(w, dw, config)` (`training.optimizers`)

    def __bool__(self) -> bool:
        # optimizers count once one of them has run (`pipeline._step_optimizers`)
        return bool(self.layers or self.networks or self.numerical or self.pairs or self.loss_functions or self.others)


def is_user_object(obj: Any, user_files: set[str] | None = None) -> bool:
    """Defined by the user: in the checked file or a file beside it, not in a library."""
    try:
        file = inspect.getsourcefile(obj) or inspect.getfile(obj)
    except (TypeError, OSError):
        return False
    if not file:
        return False
    absolute = os.path.abspath(file)
    if user_files and absolute in user_files:
        return True
    return is_user_file(file)


def is_network_class(cls: type) -> bool:
    return networks.is_network_class(cls)


def is_layer_class(cls: type) -> bool:
    """A class some layer convention recognises (`forward`/`backward`, `forward_pass`/`backward_pass`...)."""
    methods = layer_methods(cls)
    return methods is not None and not is_network_class(cls) and not is_abstract(cls, methods)


def defined_in(obj: Any, files: set[str]) -> bool:
    """Whether `obj` (a class or function) is defined in one of `files` (absolute paths)."""
    try:
        return os.path.abspath(inspect.getsourcefile(obj) or inspect.getfile(obj)) in files
    except (TypeError, OSError):
        return False


def discover(namespace: dict[str, Any], user_files: set[str] | None = None, source: Any = None) -> Discovered:
    """What the file defines and uses. With the file's `source`, an object imported from a
    module beside it (`from common.layers import *`) is checked only when the file uses it;
    the others are listed in `imported`."""
    found = Discovered()
    functions: dict[str, Any] = {}
    classes: list[type] = []  # defined in the checked file: their self-free methods may pair
    seen: set[int] = set()
    used = source.facts.names_used if source is not None and getattr(source, "tree", None) is not None else None
    files = {os.path.abspath(source.path)} if source is not None else set(user_files or ())
    reached = module_classes(namespace, source.tree) if used is not None else {}
    for name, obj in [*namespace.items(), *reached.items()]:
        if name.startswith("__") or id(obj) in seen:
            continue
        seen.add(id(obj))
        if not ((inspect.isclass(obj) or inspect.isfunction(obj)) and is_user_object(obj, user_files)):
            continue
        if used is not None and name not in used and not defined_in(obj, files):
            if inspect.isclass(obj) and (
                is_network_class(obj) or networks.is_numerical_network(obj) or is_layer_class(obj) or _other_convention(obj, namespace) is not None
            ):
                found.imported.append(name)
            continue
        if inspect.isclass(obj):
            if defined_in(obj, files):
                classes.append(obj)
            other = _other_convention(obj, namespace, before=_layer_order(obj))
            if is_network_class(obj) and other is None:
                found.networks.append(obj)
            elif is_layer_class(obj) and other is None:
                found.layers.append(obj)
            elif other is not None:
                found.others.append((other, obj))
            elif networks.is_numerical_network(obj):
                found.numerical.append(obj)
            elif defined_in(obj, files) and update_method(obj) is not None:
                found.optimizers.append(obj)
        else:
            functions[name] = obj
    found.optimizers += [
        f for f in functions.values() if inspect.isfunction(f) and defined_in(f, files) and (update_function(f) or dict_update_function(f) or adam_function(f) or adagrad_function(f))
    ]
    halves = siblings.forward_halves(functions, source.path) if source is not None else {}
    functions.update(halves)  # `linear_forward` of `linear_forward.py` beside a file of `linear_backward`
    paired: set[str] = set()
    for name, func in functions.items():
        match = FORWARD_SUFFIX.match(name)
        if not match:
            continue
        base, variant = match["base"], match["variant"] or ""
        backward = (
            functions.get(f"{base}_backward{variant}")
            or functions.get(f"{base}_backward")
            or next((f for n, f in sorted(functions.items()) if n.startswith(f"{base}_backward_")), None)
        )
        if backward is not None and not _tries_functions(func, backward) and cs231n.is_pair(func, backward):
            found.pairs.append((func, backward))
            paired |= {name, backward.__name__}
    known = {n: f for n, f in KNOWN_ACTIVATIONS.items() if n not in functions}  # `tanh_backward(dA, Z)` of `np.tanh`
    for name, func in {**functions, **known}.items():  # `relu(Z) -> (A, cache)` with `relu_backward(dA, cache)`: the course's activations
        backward_name = backward_of(name, functions)
        backward = functions.get(backward_name) if backward_name is not None else None
        if name not in paired and backward is not None and backward.__name__ not in paired and not _tries_functions(func, backward) and cs231n.is_pair(func, backward):
            found.pairs.append((func, backward))
            paired |= {name, backward.__name__}
    scores = np.random.default_rng(0).standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    for name, func in functions.items():
        if name in paired or name in halves:  # a sibling's function is checked only as the half of a pair
            continue
        # softmax_loss(x, y) -> (loss, dx), decided by trying it: a library `softmax_loss(X, t)`
        # that returns the loss alone is not a cs231n loss function.
        if (LOSS_NAME.search(name) or _returns_loss_beside_one(func)) and (
            cs231n.returns_loss_and_gradient(func, scores, labels) or cs231n.returns_masked_loss(func, np.random.default_rng(0))
        ):
            found.loss_functions.append(func)
        else:
            found.functions.append(func)
    _function_conventions(found, {**KNOWN_ACTIVATIONS, **{n: f for n, f in functions.items() if n not in paired}}, namespace)
    _method_pairs(found, functions, paired, classes, namespace)
    _own_finite_differences(found, files)
    found.imported.sort()
    return found


def _returns_loss_beside_one(func: Any) -> bool:
    """Whether the function's last `return` hands back two values, the first named like a loss
    (`return loss, grad` of `nll_and_grad(logits, labels)`): a loss function worth a trial call
    whatever its own name says."""
    from backprop_doctor.static.gradient_returns import LOSS_NAME as LOSS_VALUE, _own

    node = function_node(func) if inspect.isfunction(func) else None
    if node is None:
        return False
    returns = [n for n in _own(node) if isinstance(n, ast.Return) and n.value is not None]
    value = returns[-1].value if returns else None
    return isinstance(value, ast.Tuple) and len(value.elts) == 2 and isinstance(value.elts[0], ast.Name) and bool(LOSS_VALUE.match(value.elts[0].id))


def _tries_functions(*funcs: Any) -> bool:
    """Whether either half calls a function it is handed (`test_sigmoid(sigmoid)` beside
    `test_sigmoid_backward(sigmoid_backward)`): tests of the user's layer, not a layer pair."""
    return any(calls_a_parameter(function_node(f)) for f in funcs if inspect.isfunction(f))


def module_classes(namespace: dict[str, Any], tree: ast.AST) -> dict[str, type]:
    """The classes the file reaches through a module of the user's own (a file beside it or in its
    package, never a library): `import two_layer_net` then `two_layer_net.TwoLayerNet(...)`, or
    `from ch04 import two_layer_net`, or `import ch04.two_layer_net` then
    `ch04.two_layer_net.TwoLayerNet(...)`. Keyed by the class's attribute name, as
    `from two_layer_net import TwoLayerNet` would bind it; a name the namespace already binds is left
    to that binding."""
    found: dict[str, type] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr in namespace or node.attr in found:
            continue
        chain, value = [node.attr], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or not isinstance(namespace.get(value.id), types.ModuleType):
            continue
        obj: Any = namespace[value.id]
        for part in reversed(chain[1:]):  # the submodules between the bound name and the class
            obj = getattr(obj, part, None)
            if not isinstance(obj, types.ModuleType):
                break
        if not isinstance(obj, types.ModuleType) or not is_user_file(getattr(obj, "__file__", None)):
            continue
        cls = getattr(obj, node.attr, None)
        if inspect.isclass(cls) and is_user_object(cls):
            found[node.attr] = cls
    return found


def _own_finite_differences(found: Discovered, files: set[str]) -> None:
    """A finite-difference helper imported from another file (cs231n's `eval_numerical_gradient`)
    is checked only when the file has nothing else to check: beside the user's layers it is the
    course's tool, not the user's work, and checking it alone must not stand for them."""
    helpers = [(c, o) for c, o in found.others if c.NAME == numerical_gradients.NAME]
    if not files or len(helpers) == len(found.others) and not (found.layers or found.networks or found.numerical or found.pairs or found.loss_functions):
        return
    found.others = [(c, o) for c, o in found.others if c.NAME != numerical_gradients.NAME or defined_in(o, files)]


def _layer_order(cls: type) -> int:
    """The ORDER of the layer convention that recognises `cls` (networks come first)."""
    if is_network_class(cls):
        return networks.ORDER
    methods = layer_methods(cls)
    if methods is None:
        return 10**6
    return next((getattr(c, "ORDER", 50) for c in all_conventions() if c.NAME == methods.convention), 10**6)


def _other_convention(obj: Any, namespace: dict[str, Any], before: int = 10**6) -> Any:
    """The first convention (beyond layer classes and networks) whose recogniser accepts `obj`,
    among those asked before `before`."""
    for convention in all_conventions():
        if getattr(convention, "ORDER", 50) >= before:
            break
        recognise = getattr(convention, "recognise", None)
        if recognise is None or getattr(convention, "KIND", "class") != ("class" if inspect.isclass(obj) else "function"):
            continue
        try:
            if recognise(obj, namespace):
                return convention
        except Exception:  # a recogniser must never stop discovery
            continue
    return None


def _method_pairs(found: Discovered, functions: dict[str, Any], paired: set[str], classes: list[type], namespace: dict[str, Any]) -> None:
    """Activations and their derivatives written as methods that never read the instance
    (`self.sigmoid_backward(dA, Z)`, `self.tanh_prime(x)`), paired with one another, with a
    module function or with NumPy's own `tanh`: checked as the function pairs they are."""
    methods: dict[str, Any] = {}
    for cls in classes:
        for name, method in self_free_methods(cls).items():
            methods.setdefault(name, method)
    if not methods:
        return
    pool = {**KNOWN_ACTIVATIONS, **methods, **{n: f for n, f in functions.items() if n not in paired}}
    ours = {id(m) for m in methods.values()}
    for name, backward in methods.items():
        match = re.fullmatch(r"(?P<base>\w+?)_backward", name)
        forward = pool.get(match["base"]) if match and name not in functions else None
        if forward is not None and cs231n.is_pair(forward, backward):
            found.pairs.append((forward, backward))
    _function_conventions(found, pool, namespace, keep=lambda members: any(id(m) in ours for m in members))


def self_free_methods(cls: type) -> dict[str, Callable[..., Any]]:
    """name -> callable for each method of `cls` (its own, not inherited) that never reads the
    instance, bound to a bare instance; static methods as they are. Empty when none is, or when
    the class cannot give a bare instance."""
    nodes: dict[str, tuple[str | None, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for name, value in vars(cls).items():
        if name.startswith("__"):
            continue
        func = value.__func__ if isinstance(value, staticmethod) else value
        if not inspect.isfunction(func):
            continue
        node = function_node(func)
        if node is None:
            continue
        if isinstance(value, staticmethod):
            nodes[name] = (None, node)
        elif node.args.args:
            nodes[name] = (node.args.args[0].arg, node)
    free = self_free(nodes)
    if not free or "__del__" in vars(cls):  # a bare instance would run its `__del__` on state it never set
        return {}
    try:
        bare = object.__new__(cls)
    except Exception:  # noqa: BLE001 - a class with its own `__new__` rules
        return {}
    found: dict[str, Callable[..., Any]] = {}
    for name in sorted(free):
        value = vars(cls)[name]
        found[name] = value.__func__ if isinstance(value, staticmethod) else types.MethodType(value, bare)
    return found


def _function_conventions(found: Discovered, pool: dict[str, Any], namespace: dict[str, Any], keep: Any = None) -> None:
    """Conventions made of several plain functions (activation/derivative pairs, function networks),
    recognised among the functions of `pool`; with `keep`, only the groups whose members it accepts."""
    for convention in all_conventions():
        group = getattr(convention, "recognise_functions", None)
        if group is None:
            continue
        try:
            groups = group(pool, namespace)
        except Exception:  # a recogniser must never stop discovery
            continue
        for item in groups:
            if keep is None or keep(item if isinstance(item, tuple) else (item,)):
                found.others.append((convention, item))


def train_flag_name(func: Any) -> str | None:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return None
    return next((p for p in TRAIN_FLAGS if p in params), None)
