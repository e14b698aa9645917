"""A backward function's result does not scale with the upstream gradient it is handed.

What it finds:
    A function pair (`leaky_relu(Z)` / `leaky_relu_backward(dA, Z)`) whose forward could not be
    run, so its gradients could not be compared, and whose backward, called on its own with an
    upstream gradient and a cache of the same shape, does not return twice as much for twice the
    upstream gradient. Every backward is linear in what it is handed, whatever its forward
    computes: one that is not sets a part of its result to a number that does not read the
    upstream gradient. The finding points at the statement that stores such a value into what the
    backward returns (`dZ[Z <= 0] = 0.01`), else at its `return`.

Why it matters:
    The forward's own error is reported where it raised; once it is fixed, the backward is the
    next error, and a network that uses the activation trains with gradients that ignore the loss
    on every negative unit.

Example:
    def leaky_relu_backward(dA, Z):
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0.01
        return dZ

Fix:
    def leaky_relu_backward(dA, Z):
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0.01 * dA[Z <= 0]
        return dZ
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import numpy as np

NAME = "backward-not-linear"
CODE = "BPD117"
SEVERITY = "error"
STAGE = "gradient"

# the result for a doubled upstream gradient this far from twice the result is not linear in it
RELATIVE = 1e-6


def probe(backward: Any, rng: np.random.Generator) -> Any:
    """The finding for `backward(dout, cache)` (two required arguments) that is not linear in its
    first on a cache of the upstream gradient's shape; None when it is, or cannot be called so."""
    from backprop_doctor.conventions._classlayer import required_inputs

    try:
        names = required_inputs(backward)
    except Exception:  # noqa: BLE001 - a signature that cannot be read
        return None
    if len(names) != 2 or not _upstream_name(names[0]):
        return None  # `mse_backward(y_pred, y_true)`: a loss's gradient, affine in the prediction
    cache = rng.standard_normal((4, 5))
    cache += np.where(cache < 0, -0.2, 0.2)  # away from a kink
    dout = rng.standard_normal((4, 5))
    results = []
    state = np.random.get_state()
    try:
        for scale in (1.0, 2.0, 0.0):
            with np.errstate(all="ignore"):
                np.random.seed(0)
                out = backward(scale * dout, cache.copy())
            if not (isinstance(out, np.ndarray) and out.shape == dout.shape and out.dtype.kind == "f" and np.isfinite(out).all()):
                return None
            results.append(out)
    except Exception:  # noqa: BLE001 - a backward that takes another cache: nothing to say
        return None
    finally:
        np.random.set_state(state)
    once, twice, zero = results
    scale = max(float(np.abs(twice).max()), 1e-12)
    if float(np.abs(twice - 2 * once).max()) <= RELATIVE * scale and not zero.any():
        return None
    return _finding(backward, once, twice, zero)


def _upstream_name(name: str) -> bool:
    """An argument named as the gradient handed down: `dA`, `dout`, `d_out`, `dvalues`, `grad_output`,
    `upstream` (not `data`, `delta_t`-free names of values such as `y_pred`)."""
    low = name.lower()
    return (low.startswith("d") and not low.startswith(("data", "dist", "dim", "drop", "dict"))) or "grad" in low or "upstream" in low


def _finding(backward: Any, once: np.ndarray, twice: np.ndarray, zero: np.ndarray) -> Any:
    from backprop_doctor.locate import where
    from backprop_doctor.rules import rule

    name = backward.__name__
    upstream, line = _untouched_store(backward)
    location = where(backward).fields()
    if line is not None:
        location.update(line=line, end_line=line, highlight=(line,))
    constant = f"; with an upstream gradient of zeros it still returns {np.count_nonzero(zero)} nonzero elements" if zero.any() else ""
    stated = f" (line {line}) stores a value that does not read `{upstream}`" if line is not None else " does not multiply every element by it"
    message = (
        f"`{name}` does not scale with its upstream gradient `{upstream}`: for twice `{upstream}` it does not return twice as much{constant}; "
        f"its statement{stated}, so those elements of the gradient ignore the loss: multiply them by `{upstream}`"
    )
    return rule(NAME).finding(message, layer=name, pattern="upstream-left-out", **location)


def _untouched_store(backward: Any) -> tuple[str, int | None]:
    """The upstream argument's name, and the first statement that stores into the returned name a
    value reading neither it nor anything computed from it (other than a literal zero)."""
    try:
        source = inspect.getsource(backward)
        first = inspect.getsourcelines(backward)[1]
    except (OSError, TypeError):
        return "dout", None
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return "dout", None
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "dout", None
    names = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
    upstream = names[0] if names else "dout"
    returned = {n.id for s in ast.walk(node) if isinstance(s, ast.Return) and s.value is not None for n in ast.walk(s.value) if isinstance(n, ast.Name)}
    tainted = {upstream}
    for statement in sorted((s for s in ast.walk(node) if isinstance(s, (ast.Assign, ast.AugAssign))), key=lambda s: s.lineno):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        reads = {n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)}
        bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        stored = {t.value.id for t in targets if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)}
        if reads & tainted:
            tainted |= bound
            continue
        zero = isinstance(statement.value, ast.Constant) and statement.value.value == 0
        if (bound | stored) & returned and not zero and not isinstance(statement, ast.AugAssign):
            return upstream, first + statement.lineno - 1
    return upstream, None
