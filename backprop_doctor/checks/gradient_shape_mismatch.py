"""A gradient's shape differs from its array's shape, or no gradient is computed.

What it finds:
    After `backward`, a gradient (`dx`, `self.dW`, `grads[i]`, or the tuple a
    cs231n `*_backward` returns) whose shape is not the shape of the array it
    belongs to, or an array that gets no gradient at all. When the shape is the
    transpose, or one entry per sample instead of one per unit, it says so.
    A gradient that holds the array's elements in another shape (`keepdims=True`:
    (1, H) for a bias of (H,)) is only an info when the training-step replay found
    the program's own update of that array right: its training reshapes it first;
    or when the array's shape was backprop-doctor's own guess (a cs231n pair's
    parameters, made up): the pair is then checked with the array in the
    gradient's shape, the row or column the user's code keeps it in.

Why it matters:
    An update `W -= lr * dW` with a mis-shaped `dW` either raises or, worse,
    broadcasts silently and updates every weight with the wrong numbers.

Example:
    self.db = np.sum(dout, axis=1)      # shape (N,), one entry per sample

Fix:
    self.db = np.sum(dout, axis=0)      # shape (M,), like b
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks.gradient_mismatch import _right_in_training
from backprop_doctor.findings import Finding

NAME = "gradient-shape-mismatch"
CODE = "BPD102"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    """Complete the engine's findings in place in `context.findings`: a gradient that only needs a
    reshape, of an array whose update the replayed training step found right, becomes an info."""
    right = _right_in_training(context)
    if right:
        context.findings[:] = [_reshaped_in_training(f, right) for f in context.findings]
    context.findings[:] = [_where_computed(f) for f in context.findings]
    yield from ()


def _where_computed(finding: Finding) -> Finding:
    """A wrong shape reported where the gradient is only unpacked from a call of the file's own
    functions (`dA_prev, dW_temp, db_temp = linear_activation_backward(...)`) is moved to the line
    that computes it (`db = 1./m * np.sum(dZ, axis=0, keepdims=True)` in `linear_backward`), the
    call's line kept highlighted."""
    import ast
    import os
    import re

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.origins import value_computed_at

    if finding.name != NAME or finding.severity != "error" or not finding.file or not finding.line or not finding.param:
        return finding
    tree = source_tree(os.path.abspath(finding.file))[1]
    if tree is None:
        return finding
    root = re.sub(r"\d+$", "", finding.param.rsplit(".", 1)[-1])
    binding = next((n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.lineno == finding.line and isinstance(n.value, ast.Call)), None)
    if binding is None or not root:
        return finding
    names = [e.id for t in binding.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t]) if isinstance(e, ast.Name)]
    chosen = [n for n in names if re.match(rf"(?i)d_?{re.escape(root)}(?![a-z])", n) or n.lower().startswith(("grad_" + root.lower(), "d" + root.lower() + "_"))]
    line = value_computed_at(tree, finding.line, chosen[0]) if len(chosen) == 1 else None
    if line is None or line == finding.line:
        return finding
    return finding.replace(line=line, highlight=tuple(sorted({line, finding.line, *(finding.highlight or ())})))


def unit_axes(finding: Finding) -> tuple[int, ...] | None:
    """The gradient's shape, where `finding` is a wrong-shape error whose gradient holds its array's
    elements with unit axes added or taken away (`keepdims=True`: (1, M) for (M,), or (M, 1)); else None."""
    import ast
    import re

    shapes = dict(finding.evidence).get("shapes", "") if finding.name == NAME and finding.severity == "error" else ""
    found = re.fullmatch(r".*: (\(.*\))   gradient: (\(.*\))", shapes)
    if found is None or finding.param in (None, "x"):
        return None
    live, grad = (ast.literal_eval(group) for group in found.groups())
    same = [d for d in live if d != 1] == [d for d in grad if d != 1]
    return tuple(grad) if same and tuple(live) != tuple(grad) else None


def kept_as_returned(finding: Finding, pair: str) -> Finding:
    """A wrong-shape error on a made-up parameter (`unit_axes`), as the info it is once the pair,
    checked again with the parameter in its gradient's shape, had none (`pipeline._as_returned`)."""
    shape = unit_axes(finding)
    return finding.replace(
        severity="info",
        pattern="shape-guessed",
        fix=None,
        message=f"{finding.message.split(': reshape it')[0]}, a shape backprop-doctor chose for `{pair}`; it was checked "
        f"with `{finding.param}` of shape {shape}, as your code may keep it: if your `{finding.param}` is {finding.message.split('has shape ')[-1].split(':')[0]}, "
        "reshape the gradient to it",
    )


def _reshaped_in_training(finding: Finding, right: dict[tuple[str, str], str]) -> Finding:
    owner = ((finding.layer or "").split(" ")[0].split(".")[0], finding.param or "")
    if finding.name != NAME or finding.severity != "error" or owner not in right or "reshape it to the parameter's shape" not in finding.message:
        return finding
    return finding.replace(
        severity="info",
        pattern="right-in-training",
        fix=None,
        message=finding.message.split(": reshape it")[0]
        + f"; your program's own training step applies it right (`{right[owner]}`), so it reshapes it before the update: "
        "keep the shapes equal if anything else reads this gradient",
    )
