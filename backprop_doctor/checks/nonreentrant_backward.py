"""Calling backward twice with the same dout gives different gradients.

What it finds:
    A `backward` whose result depends on how often it has been called:
    gradients accumulated with `+=` into attributes that are never reset,
    or state changed during backward.

Why it matters:
    Gradient checks, retries and the second call in a training step then see
    different gradients; with `+=` never reset, every training step adds the new
    gradient to all the old ones, so the updates grow and point the wrong way.

Example:
    self.dW += np.dot(self.x.T, dout)

Fix:
    self.dW = np.dot(self.x.T, dout)
"""

from __future__ import annotations

import ast
import re
import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree

NAME = "nonreentrant-backward"
CODE = "BPD203"
SEVERITY = "error"
STAGE = "contract"


def run(context: Any) -> Iterator[Finding]:
    """A backward that applies an optimizer's update itself (`self.weights -= lr * m_hat / ...`) changes
    what the next call computes by design: an info that says why its gradients were not compared,
    not an error. The engine's finding is completed in place in `context.findings`."""
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or finding.severity != "error" or not finding.layer:
            continue
        path = os.path.abspath(finding.file) if finding.file else (os.path.abspath(context.source.path) if context.source else None)
        tree = source_tree(path)[1] if path else None
        updates = _own_updates(tree, finding.layer) if tree is not None else []
        if updates:
            context.findings[i] = finding.replace(
                severity="info",
                line=updates[0],
                highlight=tuple(updates[:6]),
                message=(
                    f"`{finding.layer}.backward` updates the layer's parameters itself (line {updates[0]}), so a second call "
                    "computes with other weights: its gradients could not be compared twice; keep the update out of "
                    "backward (an optimizer's step after it) to have them checked"
                ),
            )
            _not_a_kink(context, finding.layer, finding.layer, updates[0], finding.file)
            stale = _read_after_update(tree, finding.layer)
            if stale is not None:
                yield _stale_finding(finding, stale, path)
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or finding.severity != "error" or not finding.layer or context.source is None or context.source.tree is None:
            continue
        path = os.path.abspath(finding.file) if finding.file else os.path.abspath(context.source.path)
        layer_tree = source_tree(path)[1]
        added = _accumulated(layer_tree, finding.layer) if layer_tree is not None else []
        reset = reset_call(context.source.tree) if added else None
        if reset is None:
            elsewhere = _reset_in_project(path, layer_tree, finding.layer) if added else None
            if elsewhere is not None:
                context.findings[i] = _reset_elsewhere(finding, added[0], elsewhere, context.source.path)
            continue
        call_line, called, rebound = reset
        if rebound is None:  # a framework's design: `.backward` adds, the loop's `opt.zero_grad()` empties
            context.findings[i] = finding.replace(
                severity="info",
                pattern="accumulated-by-design",
                message=(
                    f"`{finding.layer}.backward` adds its gradients to what the last call left (line {added[0]}), as a framework's "
                    f"`.grad` does, and your training loop sets them back to zero with `{called}()` (line {call_line}): "
                    "the gradients of its first call were compared"
                ),
            )
            continue
        line, name, written = rebound
        context.findings[i] = finding.replace(
            pattern="reset-rebinds-name",
            line=line,
            file=context.source.path,
            highlight=tuple(sorted({line, call_line})),
            message=(
                f"`{finding.layer}.backward` adds its gradients to what the last call left (line {added[0]}), and the reset "
                f"your training loop calls, `{called}()` (line {call_line}), does not empty them: `{written}` (line {line}) binds "
                f"a new array to the loop's name `{name}` and leaves the layer's array as it was, so every step's gradient is "
                f"added to all the earlier ones; write `{name}[...] = 0` (or `{name}.fill(0)`)"
            ),
            fix=f"{name}[...] = 0",
        )
    updating = [f for f in context.findings if f.name == NAME and f.severity == "info" and "updates the layer's parameters itself" in f.message]
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or finding.severity != "error" or not finding.layer or not updating:
            continue
        path = os.path.abspath(finding.file) if finding.file else None
        tree = source_tree(path)[1] if path else None
        if tree is not None and _calls_layers_backward(tree, finding.layer):
            layer = updating[0]
            context.findings[i] = finding.replace(
                severity="info",
                message=(
                    f"`{finding.layer}.backward` calls its layers' backward, and `{layer.layer}.backward` updates that layer's "
                    f"parameters itself (line {layer.line}), so a second call computes with other weights: the network's "
                    "gradients could not be compared twice; keep the update out of backward to have them checked"
                ),
            )
            _not_a_kink(context, finding.layer, layer.layer, layer.line, layer.file)
    yield from ()


def _accumulated(tree: ast.Module, layer: str) -> list[int]:
    """The lines of class `layer`'s backward that add into an attribute of the layer (`self.dW += ...`,
    `self.dW[i, j] += ...`)."""
    return sorted(_additions(tree, layer))


def _additions(tree: ast.Module, layer: str) -> dict[int, str]:
    """{line: attribute} of the statements of class `layer`'s backward that add into an attribute of the
    layer, whole or an element of it (`self.dW += ...`, `self.dLdW[c, k] += ...`)."""
    backward = _backward_of(tree, layer)
    if backward is None:
        return {}
    found = {}
    for n in ast.walk(backward):
        if not (isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add)):
            continue
        target = n.target
        while isinstance(target, ast.Subscript):
            target = target.value
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            found[n.lineno] = target.attr
    return found


def _reset_in_project(path: str, tree: ast.Module, layer: str) -> Any:
    """The reset-named function of the checked file or of a file of its project that imports the layer
    (`static.project_resets`) that sets every attribute the layer's backward adds into back to zero."""
    from backprop_doctor.static.project_resets import project_reset, steps_with

    attributes = set(_additions(tree, layer).values())
    if steps_with(tree, layer, attributes):
        return None  # the file's own program computes with the sums: its loop's reset (or none) decides
    return project_reset(path, layer, attributes, tree)


def _reset_elsewhere(finding: Finding, line: int, reset: Any, checked: str) -> Finding:
    """The engine's finding on a layer whose sums a reset of its project empties, as an info: the design
    of a framework's `.grad`, the first call's gradients compared."""
    here = os.path.dirname(os.path.abspath(checked))
    where = os.path.relpath(reset.path, here) if os.path.abspath(reset.path) != os.path.abspath(checked) else None
    place = f"{where}, line {reset.line}" if where else f"line {reset.line}"
    return finding.replace(
        severity="info",
        pattern="accumulated-by-design",
        message=(
            f"`{finding.layer}.backward` adds its gradients to what the last call left (line {line}), as a framework's "
            f"`.grad` does, and `{reset.name}` ({place}) sets them back to zero before the next step: "
            "the gradients of its first call were compared"
        ),
    )


def reset_call(tree: ast.Module) -> tuple[int, str, tuple[int, str, str] | None] | None:
    """(the line, the call as written, and what is wrong with it) of the first call inside a loop of the file
    named for setting gradients to zero (`opt.zero_grad()`): what is wrong is None, or (line, name,
    statement) when the file's function of that name only rebinds its loop's name to zeros
    (`for _, g in self.params: g = np.zeros_like(g)`), which leaves every array as it was."""
    from backprop_doctor.static.grad_reset import RESET_NAMES, _RESET_WORDS

    for loop in (n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))):
        for call in (n for n in ast.walk(loop) if isinstance(n, ast.Call)):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in RESET_NAMES or _RESET_WORDS.fullmatch(name):
                defined = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == name]
                rebound = _rebinds_loop_name(defined[0]) if len(defined) == 1 else None
                return call.lineno, ast.unparse(func), rebound
    return None


def _rebinds_loop_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, str, str] | None:
    """(line, name, statement) of `g = np.zeros_like(g)` in a loop of `function` whose target is `g`,
    when the function writes zeros into no array (no `g[...] = 0`, `g.fill(0)`, `g *= 0`, `p.grad = 0`)."""
    writes = any(
        (isinstance(n, ast.Assign) and any(isinstance(t, (ast.Subscript, ast.Attribute)) for t in n.targets))
        or (isinstance(n, ast.AugAssign)) or (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("fill", "copyto"))
        for n in ast.walk(function)
    )  # fmt: skip
    if writes:
        return None
    for loop in (n for n in ast.walk(function) if isinstance(n, ast.For)):
        names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
        for stmt in loop.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in names:
                return stmt.lineno, stmt.targets[0].id, ast.unparse(stmt)
    return None


def _calls_layers_backward(tree: ast.Module, layer: str) -> bool:
    """Whether class `layer`'s backward calls another object's backward under any name a layer
    convention checks (`grad = layer.backward(grad)`, `layer.bprop(grad)`): a network, whose second
    call repeats whatever its layers' backwards do."""
    backward = _backward_of(tree, layer)
    names = _backward_names()
    return backward is not None and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in names and ast.unparse(n.func.value) != "self"
        for n in ast.walk(backward)
    )


def _not_a_kink(context: Any, layer: str, mover: str, line: int, file: str | None) -> None:
    """The probes of a layer whose backward moved its weights (or of a network whose backward calls
    that layer's, `mover`) measure forward at the moved weights, so their dx disagrees with them as
    at a kink; the note says what happened instead, at the update (a linear layer has no kink)."""
    for i, f in enumerate(context.findings):
        if f.name == "gradient-at-kink" and f.layer == layer:
            context.findings[i] = f.replace(
                file=file,
                line=line,
                pattern="weights-moved-by-backward",
                message=(
                    f"the numerical gradient of `{layer}`.{f.param or 'x'} was measured at the weights `{mover}.backward` "
                    f"had already moved (line {line}), so it differs from the one backward returned: that is the update, "
                    "not a kink; keep the update out of backward to have it checked"
                ),
            )


def _read_after_update(tree: ast.Module, layer: str) -> tuple[str, int, int] | None:
    """(the attribute, the line that moved it, the line that reads it after) for a backward that updates
    its weights and then computes with them (`self.W -= lr * dW`, then `dx = grad @ self.W.T`)."""
    from backprop_doctor.static.stale import stale_weights

    backward = _backward_of(tree, layer)
    if backward is None:
        return None
    for node in ast.walk(backward):
        if isinstance(node, (ast.Assign, ast.Return)) and node.value is not None:
            found = stale_weights(tree, node.lineno)
            if found is not None:
                return found[0], found[1], node.lineno
    return None


def _stale_finding(finding: Finding, stale: tuple[str, int, int], path: str | None) -> Finding:
    from backprop_doctor.rules import rule

    attribute, moved, line = stale
    return rule("gradient-mismatch").finding(
        f"The input gradient dx of `{finding.layer}` is computed at line {line} from `self.{attribute}`, which line {moved} has "
        f"already updated in this backward pass, so it is not the `self.{attribute}` the forward pass used and every layer before "
        f"it gets a wrong gradient: compute it before line {moved}, then update `self.{attribute}`",
        layer=finding.layer,
        param="x",
        file=path,
        line=line,
        highlight=tuple(sorted({moved, line})),
        pattern="stale-weights",
    )


def _own_updates(tree: ast.Module, layer: str) -> list[int]:
    """Lines of the class `layer`'s backward that move its parameters (`self.W -= lr * g`)."""
    from backprop_doctor.static.updates import parameter_updates

    backward = _backward_of(tree, layer)
    if backward is None:
        return []
    module = ast.Module(body=[backward], type_ignores=[])
    found = {u.line for u in parameter_updates(module) if u.target.startswith("self.")}
    return sorted(found | set(_steps_of_itself(backward)))


def _steps_of_itself(backward: ast.FunctionDef) -> list[int]:
    """Lines that rebind an attribute to itself minus (or plus) a step: `self.W = self.W - self.lr * dW +
    self.momentum * (self.W - self.W_last)`, which the update reader does not take for one (a momentum term
    beside the step)."""
    lines = []
    for node in ast.walk(backward):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.BinOp)):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"):
            continue
        left = node.value
        while isinstance(left, ast.BinOp) and isinstance(left.op, (ast.Add, ast.Sub)):
            left = left.left
        if isinstance(left, ast.Attribute) and ast.unparse(left) == ast.unparse(target) and isinstance(node.value.op, (ast.Add, ast.Sub)) and _rated(node.value):
            lines.append(node.lineno)
    return lines


_RATE = re.compile(r"(?i)(self\.)?(lr|learning_rate|eta|alpha|step_size|learn_rate|rate)")


def _rated(value: ast.expr) -> bool:
    """Whether `value` multiplies something by a learning rate (`self.lr * dW`): a step, not a counter's `+ 1`."""
    return any(
        isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and any(_RATE.fullmatch(ast.unparse(side)) for side in (n.left, n.right))
        for n in ast.walk(value)
    )


def _backward_of(tree: ast.Module, layer: str) -> ast.FunctionDef | None:
    """The `def` of class `layer`'s backward method, by every name a layer convention checks it under
    (`bprop`, `backward_propagation`...: a renamed layer that updates itself is excused like any other)."""
    return next((f for name in _backward_names() if (f := find_function(tree, f"{layer}.{name}"))), None)


def _backward_names() -> tuple[str, ...]:
    """`backward` and the backward of every renamed pair, in that order."""
    from backprop_doctor.conventions.renamed import PAIRS

    return tuple(dict.fromkeys(("backward", *(backward for _, backward in PAIRS))))
