"""A layer's backward multiplies by a derivative function that is not the derivative of its forward's.

What it finds:
    A layer class whose forward applies a function of the checked file (`self.activation(x)`, a
    function handed to its constructor; `tanh(x)`) and whose backward multiplies by another one
    (`self.activation_prime(self.input)`, `tanh_prime(z)`) that is not the element-wise derivative
    of the first on random inputs, written of its input or of its output. The finding points at
    the derivative function's `return`, and the layer's gradient mismatch is listed as its symptom.

Why it matters:
    The gradient check sees a wrong dx in the layer's backward, the line that calls the
    derivative; the backward is right as written, and a generic `Activation` layer that every
    activation shares has nothing to fix. What is wrong is the function it was handed, often a
    closure defined in a subclass's constructor, lines away from the backward.

Example:
    class Tanh(Activation):
        def __init__(self):
            def tanh(x):
                return np.tanh(x)

            def tanh_prime(x):
                return 1 - np.tanh(x)

            super().__init__(tanh, tanh_prime)

Fix:
    def tanh_prime(x):
        return 1 - np.tanh(x) ** 2
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor import probes
from backprop_doctor.conventions._base import isolated
from backprop_doctor.conventions._classlayer import layer_methods
from backprop_doctor.discovery import defined_in
from backprop_doctor.findings import Finding
from backprop_doctor.gradcheck import elementwise_slope_error
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.tree import walk

NAME = "derivative-function-wrong"
CODE = "BPD115"
SEVERITY = "error"
STAGE = "gradient"

# A slope this far from the numerical derivative (relative to its largest value) is not the derivative.
WRONG = 1e-4
# `derivative(x)` of the activation's input or of its output: what the advice writes, by the forward's name.
FORMULAS = {
    "sigmoid": ("sigmoid(x) * (1 - sigmoid(x))", "a * (1 - a)"),
    "tanh": ("1 - np.tanh(x) ** 2", "1 - a ** 2"),
    "relu": ("(x > 0).astype(float)", "(a > 0).astype(float)"),
    "softplus": ("1 / (1 + np.exp(-x))", None),
}


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    here = os.path.abspath(source.path)
    mismatched = {f.layer for f in context.findings if f.name == "gradient-mismatch" and f.severity == "error" and f.layer}
    if not mismatched:
        return
    rng = np.random.default_rng(context.options.seed + 115)
    x = rng.standard_normal((4, 5))
    x += np.where(x < 0, -0.2, 0.2)  # away from a ReLU's kink
    seen: set[int] = set()
    named: list[Finding] = []
    for name, layer in _layers(context):
        # each object, not each class: instances of one class may hold other functions (`Dense(16, 1, "sigmoid")`)
        if id(layer) in seen or not ({name, type(layer).__name__} & mismatched):
            continue
        seen.add(id(layer))
        try:
            with isolated(layer) as (work, _):  # a method it calls may store what it computes (`self.mask`)
                found = _wrong_derivative(work, x, source.tree, here)
        except Exception:  # noqa: BLE001 - a layer that cannot be copied is left as the engine found it
            continue
        if found is None:
            continue
        derivative, forward, error = found
        finding = _finding(name if name in mismatched else type(layer).__name__, derivative, forward, error, source.tree)
        if finding is None or any(f.key() == finding.key() for f in named):
            continue
        named.append(finding)
        key = finding.key()
        names = {name, type(layer).__name__, f"{forward.__name__}/{derivative.__name__}"}
        context.findings[:] = [
            f.replace(caused_by=key) if f.name == "gradient-mismatch" and f.layer in names and not f.caused_by else f
            for f in context.findings
        ]
        yield finding


def _layers(context: Any) -> Iterator[tuple[str, Any]]:
    """(name, layer) of every layer the context built: standalone ones, those a convention built
    (`ActivationLayer(sigmoid, sigmoid_prime)`, `conventions.shaped_layers`), each network's."""
    from backprop_doctor.conventions.networks import Network

    for built in context.layers:
        yield built.name, built.obj
    yield from context.extras.get("convention_layers", ())
    for built in context.networks:
        try:
            layers = Network(built.obj).layers()
        except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
            continue
        yield from layers


def _wrong_derivative(layer: Any, x: np.ndarray, tree: ast.Module, here: str) -> tuple[Any, Any, float] | None:
    """(the derivative function, the forward's function, the relative error) where the layer's backward
    calls a function of the file that no function its forward calls has as its derivative, and its
    forward calls exactly one element-wise function of the file."""
    methods = layer_methods(layer)
    if methods is None:
        return None
    applied = _called(layer, methods.forward, tree, here)
    slopes = [g for g in _called(layer, methods.backward, tree, here) if all(g is not f for f in applied)]
    if not applied or not slopes:
        return None
    errors = {}
    for g in slopes:
        measured = [elementwise_slope_error(f, g, x, quiet=probes.quietly) for f in applied]
        if any(e is not None and e <= WRONG for e in measured):
            continue  # the derivative of one of them
        known = [(f, e) for f, e in zip(applied, measured) if e is not None]
        if len(known) == 1 and len(applied) == 1:
            errors[g] = known[0]
    if len(errors) != 1:
        return None
    ((g, (f, error)),) = errors.items()
    return g, f, error


def _called(layer: Any, method: str, tree: ast.Module, here: str) -> list[Any]:
    """The functions of the checked file `layer.<method>` calls, as `self.name(...)` (a function the
    instance holds, or a method of its class) or `name(...)` (a function of the module), in order."""
    bound = getattr(type(layer), method, None)
    if not inspect.isfunction(bound) or not defined_in(bound, {here}):
        return []
    node = find_function(tree, bound.__qualname__)
    if node is None:
        return []
    module = inspect.getmodule(bound)
    found: list[Any] = []
    for call in (n for n in walk(node) if isinstance(n, ast.Call)):
        func = call.func
        target = None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            target = _held(layer, func.attr)
        elif isinstance(func, ast.Name) and module is not None:
            target = getattr(module, func.id, None)
        if target is None or target is bound:
            continue
        plain = getattr(target, "__func__", target)
        if inspect.isfunction(plain) and defined_in(plain, {here}) and all(plain is not f for f in found):
            found.append(plain if target is plain else target)
    methods = layer_methods(layer)
    own = {"__call__", *((methods.forward, methods.backward) if methods is not None else ())}
    return [f for f in found if getattr(f, "__name__", "") not in own]


def _held(layer: Any, name: str) -> Any:
    """`layer.name` when it is a function the instance holds or a method of its class, without running a property."""
    try:
        held = inspect.getattr_static(layer, name)
    except AttributeError:
        return None
    if inspect.isfunction(held):
        return getattr(layer, name) if name not in vars(layer) else held
    return None


def _finding(layer: str, derivative: Any, forward: Any, error: float, tree: ast.Module) -> Finding | None:
    where = definition(getattr(derivative, "__func__", derivative))
    if where is None:
        return None
    node = find_function(tree, where.qualname)
    returns = [n.lineno for n in walk(node) if isinstance(n, ast.Return)] if node is not None else []
    line = returns[-1] if returns else where.line
    name, of = derivative.__name__, forward.__name__
    formula = FORMULAS.get(of.lstrip("_").lower()) or FORMULAS.get(layer.lower())
    if formula is not None:
        written = f"return `{formula[0]}`" + (f" (written of the output `a = {of}(x)`: `{formula[1]}`)" if formula[1] else "")
    else:
        written = f"return the derivative of `{of}` element by element"
    message = (
        f"`{name}` (line {line}), the derivative `{layer}`'s backward multiplies by, is not the derivative of `{of}`, "
        f"the function its forward applies (relative error {error:.3g} on random inputs, whether it is given the "
        f"input or the output): {written}"
    )
    return rule(NAME).finding(message, layer=layer, file=where.file, line=line, highlight=(line,))
