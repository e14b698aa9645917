"""Most units of a tanh or sigmoid hidden layer are saturated for every sample.

What it finds:
    After the training-step replay has found every update of your program
    right, backprop-doctor runs one pass of your training loop from your
    program's own state and reads each tanh or sigmoid output that feeds the
    next layer's product (`h = np.tanh(X @ W1 + b1)` then `h @ W2`, a layer's
    `self.H`). A unit is saturated when its output is within 0.01 of the
    curve's ends (±1 for tanh, 0 or 1 for a sigmoid) for at least 90 % of
    the samples of the batch; this check fires when more than half of the
    units are. It is a
    warning, and an error when every unit is.

Why it matters:
    At the flat ends of the curve the slope is about 0, so the gradient that
    reaches the weights feeding a saturated unit is about 0 as well: they
    barely move, and the loss creeps down or stalls although every gradient
    is right. Inputs on a scale of hundreds or thousands (raw pixel values,
    millimetres, prices) or weights drawn far too large do this.

Example:
    X = pixels                      # values 0 to 255
    h = np.tanh(X @ W1 + b1)

Fix:
    X = pixels / 255.0              # or standardise: (X - X.mean(0)) / X.std(0)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.checks._training_words import raw_features, raw_words, standardise
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-saturated-units"
CODE = "BPD621"
SEVERITY = "warning"
STAGE = "training"

SATURATED_SHARE = 0.5  # more than this share of a layer's units saturated is reported


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.saturation import saturated_units

    source = context.source
    if source is None or source.tree is None:
        return
    hidden = _squashed_hidden(source.tree)
    if not hidden:
        return
    for result in right_steps(context):
        if result.runner is None:
            continue
        namespace = result.after_one_pass()
        if namespace is None:
            continue
        widths = {size for moved, _ in result.parameters for size in np.shape(_value(result, moved))}
        for output, (kind, line) in hidden.items():
            for name, values in _resolved(output, namespace):
                counted = saturated_units(values, kind, widths)
                if counted is None:
                    continue
                saturated, units = counted
                if saturated <= SATURATED_SHARE * units:
                    continue
                ends = "±1" if kind == "tanh" else "0 or 1"
                raw = raw_features(result)
                cause = (
                    f"what reaches the {kind} is far too large because {raw_words(raw)}: {standardise(raw[0], raw[1])}" if raw is not None else
                    f"what reaches the {kind} is far too large (inputs of raw scale, weights drawn too large): standardise the inputs "
                    "((X - X.mean(0)) / X.std(0)) or scale the weights down"
                )  # fmt: skip
                yield rule(NAME).finding(
                    f"{saturated} of {units} units of `{name}` (line {line}), a {kind}, output within 0.01 of {ends} for nearly every "
                    "sample (90 % or more) of your program's batch at its first step: the slope there is about 0, so almost no gradient flows back through "
                    f"them and the weights that feed them barely learn; {cause}",
                    severity="error" if saturated == units else None,
                    file=source.path,
                    line=raw[2] if raw is not None and raw[2] else line,
                    highlight=tuple(sorted({line, raw[2]})) if raw is not None and raw[2] else (),
                    pattern="saturated",
                    measured=saturated / units,
                    evidence=(("saturated units", f"{saturated} of {units} at the first step, each at an end for 90 % of the samples or more"),),
                )
                return


def _value(result: Any, moved: Any) -> Any:
    try:
        return result.runner.state_value(moved.path)
    except Exception:  # noqa: BLE001 - a parameter whose path cannot be read again: no width from it
        return None


def _squashed_hidden(tree: ast.Module) -> dict[str, tuple[str, int]]:
    """{output: (kind, line)} of every tanh or sigmoid output of the file that a matrix product reads
    (`h = np.tanh(z)` then `h @ W2`, `self.a1 = sigmoid(self.z1)` then `np.dot(self.a1, self.W2)`)."""
    from backprop_doctor.static.derivatives import activation_outputs

    outputs = {name: (applied.kind, 0) for name, applied in activation_outputs(tree).items() if applied.kind in ("tanh", "sigmoid")}
    lines: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = ast.unparse(node.targets[0])
            if target in outputs and target not in lines:
                lines[target] = node.lineno
            elif target not in lines and _inline_sigmoid(node.value):
                outputs.setdefault(target, ("sigmoid", 0))
                lines[target] = node.lineno
    multiplied = set()
    for node in ast.walk(tree):
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) else (
            list(node.args) if isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] in ("dot", "matmul") else []
        )
        for operand in operands:
            while isinstance(operand, ast.Attribute) and operand.attr == "T":
                operand = operand.value
            multiplied.add(ast.unparse(operand))
    return {name: (kind, lines[name]) for name, (kind, _) in outputs.items() if name in multiplied and name in lines}


def _inline_sigmoid(value: ast.expr) -> bool:
    """`1 / (1 + np.exp(-z))`."""
    return (
        isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div) and isinstance(value.left, ast.Constant) and value.left.value in (1, 1.0)
        and isinstance(value.right, ast.BinOp) and isinstance(value.right.op, ast.Add)
        and any(isinstance(side, ast.Call) and ast.unparse(side.func).rpartition(".")[2] == "exp" for side in (value.right.left, value.right.right))
    )  # fmt: skip


def _resolved(output: str, namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    """The arrays `output` names after the pass: a name of the loop's own, or a layer's `self.H` read
    off every object of the loop that holds one (`net.H`)."""
    if output.isidentifier():
        return [(output, namespace[output])] if isinstance(namespace.get(output), np.ndarray) else []
    owner, _, attribute = output.partition(".")
    if owner != "self" or not attribute.isidentifier():
        return []
    found = []
    for name, value in namespace.items():
        held = getattr(value, "__dict__", None)
        if isinstance(held, dict) and isinstance(held.get(attribute), np.ndarray) and not name.startswith("__"):
            found.append((f"{name}.{attribute}", held[attribute]))
    return found
