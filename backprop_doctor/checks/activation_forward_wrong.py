"""A layer named after a standard activation computes something else in its forward pass.

What it finds:
    A layer class called `Relu`, `ReLU`, `Sigmoid` or `Tanh` (with or without `Layer`) whose
    forward does not give max(0, x), 1 / (1 + e^-x) or tanh(x) on a batch of random inputs.
    The finding points at the forward's lines that make its output (`out[~self.mask] = 0`,
    `1 / (1 + np.exp(x))`), and the gradient mismatches of that layer become its symptoms.
    A forward that computes another standard activation on purpose (a `sigmoid` that is tanh,
    "sigmoid-like", beside `dsigmoid(y) = 1 - y ** 2`; a perceptron's `sigmoid(x) = x > 0`) is
    only an info, when the gradients written for it agree with it (its paired derivative, the
    layer's backward) or the file writes none; not a `relu` giving its own slope `x > 0`.

Why it matters:
    The backward pass of such a layer is usually the textbook derivative, right for the
    activation the layer is named after and wrong for what its forward computes, so the gradient
    check blames the backward. The mistake is in the forward: with it fixed, the backward agrees,
    and the network computes the function its author meant.

Example:
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[~self.mask] = 0
        return out

Fix:
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out
"""

from __future__ import annotations

import ast
import inspect
import os
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor import probes
from backprop_doctor.conventions._base import isolated
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.discovery import defined_in
from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree

NAME = "activation-forward-wrong"
CODE = "BPD111"
SEVERITY = "error"
STAGE = "gradient"

ACTIVATIONS = {  # a layer's class name, lowercased without `layer` and `_` -> (what it must compute, its formula)
    "relu": (lambda x: np.maximum(x, 0.0), "max(0, x)"),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), "1 / (1 + e^-x)"),
    "tanh": (np.tanh, "tanh(x)"),
}


def run(context: Any) -> Iterator[Finding]:
    seen: set[type] = set()
    rng = np.random.default_rng(context.options.seed + 111)
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 0.1] += 0.3  # away from ReLU's kink
    for case in probes.layer_cases(context):
        cls = type(case.obj)
        expected = ACTIVATIONS.get(re.sub(r"layer|_", "", cls.__name__.lower()))
        if cls in seen or expected is None:
            continue
        seen.add(cls)
        out = _output(case.obj, x, context.options.train)
        if out is None or np.allclose(out, expected[0](x), rtol=1e-6, atol=1e-9):
            continue
        other = _other_activation(out, x, re.sub(r"layer|_", "", cls.__name__.lower()))
        if other is not None and _mismatched(context, (cls.__name__, case.key)) is False:
            # a `Sigmoid` that computes tanh and whose backward is tanh's derivative: a misnomer at most
            forward = getattr(cls, "forward", None)
            where = definition(forward) if callable(forward) else None
            if where is not None:
                yield _misnamed(cls.__name__, where, expected, other, f"`{cls.__name__}.forward`", f"`{cls.__name__}.backward`")
            continue
        finding = _finding(cls, x, out, expected)
        if finding is None:
            continue
        context.findings[:] = [
            f.replace(caused_by=finding.key()) if f.name == "gradient-mismatch" and f.layer in (cls.__name__, case.key) and not f.caused_by else f
            for f in context.findings
        ]
        yield finding
    yield from _functions(context, x)


def _functions(context: Any, x: np.ndarray) -> Iterator[Finding]:
    """Activation functions of the checked file (`def sigmoid(Z)`, returning A or (A, cache); the
    course's `relu_forward(x)`), compared with what they are named after; the mismatches of the pairs
    they are the forward of become their symptoms."""
    source = context.source
    if source is None or not context.namespace:
        return
    here = os.path.abspath(source.path)
    for name, func in sorted(context.namespace.items()):
        base = name.lstrip("_").lower().removesuffix("_forward")
        if base not in ACTIVATIONS or not inspect.isfunction(func) or not defined_in(func, {here}):
            continue
        expected = ACTIVATIONS[base]
        out = _called(func, x)
        if out is None or np.allclose(out, expected[0](x), rtol=1e-6, atol=1e-9):
            continue
        where = definition(func)
        if where is None:
            continue
        other = _other_activation(out, x, base)
        if other is not None:
            # `def sigmoid(x): return np.tanh(x)` beside `dsigmoid(y) = 1 - y ** 2`, a perceptron's `x > 0`:
            # another activation, and no derivative of the file's disagrees with it
            mismatched = _mismatched(context, (name, base))
            helper, agrees = (None, not mismatched) if mismatched is not None else _derivative_helper(context.namespace, name, func, x, here)
            if agrees is not False:
                paired = next((m.layer for m in context.measurements if _owner(m.layer) in (name, base)), None)
                derivative = f"`{paired.split('/', 1)[1]}`" if paired and "/" in paired else f"`{helper}`" if helper else None
                yield _misnamed(name, where, expected, other, f"`{name}`", derivative)
                continue
        finding = _wrong(name, where, x, out, expected, layer=base, what=f"`{name}`")
        context.findings[:] = [
            f.replace(caused_by=finding.key())
            if f.name == "gradient-mismatch" and f.layer and f.layer.split(".")[0].split("/")[0] in (name, base) and not f.caused_by
            else f
            for f in context.findings
        ]
        yield finding


OTHERS = {  # legitimate activations a function or layer named after another may compute on purpose -> (function, formula)
    "tanh": (np.tanh, "tanh(x)"),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), "1 / (1 + e^-x)"),
    "relu": (lambda x: np.maximum(x, 0.0), "max(0, x)"),
    "step": (lambda x: (x > 0).astype(np.float64), "x > 0 (a perceptron's step)"),
    "sign": (np.sign, "sign(x)"),
}
DERIVATIVE_NAMES = ("d{}", "d_{}", "{}_prime", "{}prime", "{}_derivative", "{}_deriv", "{}_grad", "{}_gradient", "derivative_{}", "{}_d")


def _owner(layer: str | None) -> str:
    """`sigmoid` of the pair `sigmoid/dsigmoid`, `Sigmoid` of `Sigmoid.x`."""
    return (layer or "").split(".")[0].split("/")[0]


SLOPES = {"relu": ("step", "sign")}  # what an activation's own derivative looks like: a `relu` returning `x > 0` returns its slope


def _other_activation(out: np.ndarray, x: np.ndarray, named: str) -> str | None:
    """The name of the standard activation (`OTHERS`) that `out` is on `x`, if any, and not the
    slope of the activation `named` (a `relu` giving `x > 0` is its derivative written in its place)."""
    found = next((name for name, (f, _) in OTHERS.items() if np.allclose(out, f(x), rtol=1e-6, atol=1e-9)), None)
    return None if found in SLOPES.get(named, ()) else found


def _mismatched(context: Any, names: tuple[str, ...]) -> bool | None:
    """Whether the gradient checks so far found a gradient of `names` (a layer, a function and the
    pairs it is the forward of) wrong: True, False when one was compared and none is, None when none was."""
    if any(f.name == "gradient-mismatch" and f.severity == "error" and _owner(f.layer) in names for f in context.findings):
        return True
    rows = [m for m in context.measurements if _owner(m.layer) in names]
    if any(m.verdict == "mismatch" for m in rows):
        return True
    return False if any(m.verdict == "ok" for m in rows) else None


def _derivative_helper(namespace: dict[str, Any], name: str, func: Any, x: np.ndarray, here: str) -> tuple[str | None, bool | None]:
    """The file's derivative helper of `name` (`dsigmoid`, `sigmoid_prime`) and whether it is the
    slope of what `func` computes, from its input or from its output (`1 - y ** 2` for tanh);
    (None, None) when the file has none."""
    slope = None
    for pattern in DERIVATIVE_NAMES:
        helper = namespace.get(pattern.format(name))
        if not inspect.isfunction(helper) or not defined_in(helper, {here}):
            continue
        if slope is None:
            h = 1e-6
            high, low = _called(func, x + h), _called(func, x - h)
            out = _called(func, x)
            if high is None or low is None or out is None:
                return None, None
            slope = (high - low) / (2 * h)
        given = [_called(helper, x), _called(helper, out)]
        return helper.__name__, any(g is not None and np.allclose(g, slope, rtol=1e-4, atol=1e-6) for g in given)
    return None, None


def _misnamed(name: str, where: Any, expected: tuple[Any, str], other: str, what: str, derivative: str | None) -> Finding:
    """An info: `what` computes the activation `other`, not the one its name says, and nothing of
    the file takes it for the named one (its derivative, when it has one, is `other`'s)."""
    told = OTHERS[other][1]
    if derivative:
        said = (f"{what} computes {told}, not the {expected[1]} its name says; {derivative} is the derivative of {told}, "
                f"so their gradients are right for what it computes: if {expected[1]} was meant, make both compute it, "
                f"else a name that says {other} reads better")
    else:
        said = (f"{what} computes {told}, not the {expected[1]} its name says, and no derivative in the file is written for "
                f"{expected[1]}: if {expected[1]} was meant, make it compute it, else a name that says {other} reads better")
    return rule(NAME).finding(
        said,
        severity="info",
        layer=name,
        file=where.file,
        line=where.line,
        pattern="another-activation",
    )


def _called(func: Any, x: np.ndarray) -> np.ndarray | None:
    """What `func(x)` gives (the first of a tuple it returns), as a float array of x's shape, or None."""
    try:
        with probes.quietly():
            result = func(x.copy())
    except Exception:  # noqa: BLE001 - a function that needs more than one array is not an activation here
        return None
    if isinstance(result, tuple) and result:
        result = result[0]
    try:
        out = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return out if out.shape == x.shape and np.all(np.isfinite(out)) else None


def _output(layer: Any, x: np.ndarray, train: bool) -> np.ndarray | None:
    """The layer's forward on a copy of it, as a float array of x's shape, or None."""
    try:
        with isolated(layer) as (work, _), probes.quietly():
            out = np.asarray(ClassLayer(work, train=train).forward(x.copy()), dtype=np.float64)
    except Exception:  # a forward that raises is the gradient engine's to report
        return None
    return out if out.shape == x.shape and np.all(np.isfinite(out)) else None


def _finding(cls: type, x: np.ndarray, out: np.ndarray, expected: tuple[Any, str]) -> Finding | None:
    forward = getattr(cls, "forward", None)
    where = definition(forward) if callable(forward) else None
    if where is None:
        return None
    return _wrong(cls.__name__, where, x, out, expected, layer=cls.__name__, what=f"`{cls.__name__}.forward`")


def _wrong(name: str, where: Any, x: np.ndarray, out: np.ndarray, expected: tuple[Any, str], *, layer: str, what: str) -> Finding:
    lines = _output_lines(where)
    i = np.unravel_index(int(np.argmax(np.abs(out - expected[0](x)))), x.shape)
    return rule(NAME).finding(
        f"{what} does not compute {expected[1]}: for x = {x[i]:.3g} it gives {out[i]:.3g}, where {expected[1]} is "
        f"{expected[0](x)[i]:.3g}; its backward is then the derivative of another function: make it compute {expected[1]}",
        layer=layer,
        file=where.file,
        line=lines[0] if lines else where.line,
        highlight=tuple(lines[:6]),
        pattern="not-the-activation",
        evidence=(("forward", f"x {x.shape} of random values: {int(np.sum(~np.isclose(out, expected[0](x))))} of {x.size} outputs differ"),),
    )


def _output_lines(where: Any) -> list[int]:
    """The lines of forward that make what it returns: the returned name's assignments and writes."""
    tree = source_tree(where.file)[1]
    node = find_function(tree, where.qualname) if tree is not None else None
    if node is None:
        return []
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return []
    value = returns[-1].value
    if isinstance(value, ast.Tuple) and value.elts:  # `return A, cache`
        value = value.elts[0]
    if not isinstance(value, (ast.Name, ast.Attribute)):
        return [returns[-1].lineno]
    name = ast.unparse(value)  # `out`, or `self.out`
    written = []
    for stmt in ast.walk(node):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
        for target in targets:
            while isinstance(target, ast.Subscript):
                target = target.value
            if ast.unparse(target) == name:
                written.append(stmt.lineno)
    return sorted(set(written), reverse=True) or [returns[-1].lineno]
