"""Some parameters' gradients are exactly zero: they never learn.

What it finds:
    After the training-step replay has found every update of your program
    right, the parameters whose gradient in that step is exactly zero in
    every entry, while others' are not; or every parameter's, with the
    replayed loss the same number at every step (the output depends on no
    parameter: a ReLU on the output layer, hidden ReLUs that all died); or
    every parameter zero where the loop starts, so that each gradient, a
    product with the others, is zero too (two embedding matrices started at
    `np.zeros`). Dead units the replay names itself have their own finding.

Why it matters:
    A parameter whose gradient is exactly zero never moves: whatever it
    feeds stays as it started, and the loss can only fall as far as the
    other parameters take it. A batch norm over a batch of one sample
    (`x - x.mean(axis=0)` is zero, so the normalised value and everything
    before it get no gradient), a weight multiplied by a zero that the
    forward pass writes in, or an input that is zero throughout do this.

Example:
    batch_size = 1
    h = (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + eps)   # batch norm

Fix:
    batch_size = 32     # a batch norm needs several samples per batch
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._training_words import batch_size_of_one, below_zero_bias, first_assignment
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-frozen-parameters"
CODE = "BPD622"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    if any(f.name in ("dead-relu", "step-dead-relu") for f in context.findings):
        return  # units that never fire pass no gradient back: their finding says why, at the bias
    for result in context.extras.get("replay") or []:
        if (every := _all_frozen(result, source.path)) is not None:
            yield every
            continue
        if not result.parameters or result.wrong or result.still or result.lost or any(d.dead_last * 2 > d.units for d in result.dead):
            continue  # a wrong gradient first; nothing moving at all, or dead units, have findings of their own
        # an array of zeros that gets no gradient is a part switched off (`self.Wfy = np.zeros(...)` when a
        # `peephole` flag is off), not one that cannot learn
        frozen = [(moved, measured) for moved, measured in result.parameters if _zero(moved.gradient) and not _zero(moved.value)]
        if getattr(result, "zero_rows", False):
            # rows of a matrix moved row by row still all zero (`W_out = np.zeros(...)` of word2vec): a row read against
            # them gets no gradient at this pass only, until the rows it meets have moved
            frozen = [(m, ms) for m, ms in frozen if not (m.path and m.path[-1][0] == "item")]
        if any(np.size(m.gradient) > 1 for m, _ in frozen) and len(frozen) < len(result.parameters) and result.runner is not None:
            # zero at the replayed pass only: the loop's own later passes move them (a per-sample loop's input of zeros)
            from backprop_doctor.replay.curve import moving

            later = moving(result.runner, [m for m, _ in frozen])
            frozen = [(m, measured) for m, measured in frozen if m.path is None or m.path not in later]
        weights = [m for m, _ in frozen if np.size(m.gradient) > 1]
        if not weights or len(frozen) == len(result.parameters):
            continue
        names = [measured.name for _, measured in frozen]
        shown = ", ".join(f"`{n}`" for n in names[:-1]) + (" and " if len(names) > 1 else "") + f"`{names[-1]}`"
        one = 1 in result.batch_sizes or _batch_of_one(result)
        why = (
            "; your batches hold one sample, so a batch norm's `x - mean` over the batch is zero and gives nothing before it a gradient: "
            "train on batches of several samples"
            if one
            else "; what they feed reaches the loss through a zero (a batch norm over one sample, ReLU units that never fire, a product "
            "with a constant zero, an input that is zero throughout): follow them forward to the value that does not change"
        )
        line = (batch_size_of_one(source.tree) if one else None) or min(m.site.line for m, _ in frozen)
        fix, severity = None, None
        if not one and (bias := _negative_bias(frozen, source.tree, result.step.loop_line)) is not None:
            name, value, at = bias
            why = (
                f"; `{name}` starts at {value:.3g}" + (f" (line {at})" if at else "") + ", below every input it is added to, so the "
                "ReLU units it feeds are dead (they output 0 for every sample) and pass no gradient back: start the biases at 0"
            )
            # the bias's own gradient is zero in every entry: every unit it feeds is off for every sample (an error, as
            # `step-dead-relu` makes it when all of a layer's units are dead)
            line, fix, severity = at or line, f"{name} = np.zeros_like({name})", "error"
        yield rule(NAME).finding(
            f"the gradient{'s' if len(names) > 1 else ''} of {shown} in your training step {'are' if len(names) > 1 else 'is'} exactly "
            f"zero in every entry while the others' are not, so {'they' if len(names) > 1 else 'it'} never learn{'' if len(names) > 1 else 's'}{why}",
            file=source.path,
            line=line,
            severity=severity,
            pattern="frozen" if severity is None else "negative-bias",
            fix=fix,
            measured=float(len(frozen)),
            evidence=(("frozen", f"{len(frozen)} of {len(result.parameters)} parameters with an all-zero gradient"),),
        )


def _all_frozen(result: Any, path: str) -> Finding | None:
    """Every parameter's gradient exactly zero in every entry, and the replayed loss the same number at
    every step: nothing in the network reaches the loss at this state. Units off for every sample do
    this (a ReLU on the output layer, which clamps every logit to 0; ReLUs that all died), as does an
    output multiplied by a constant zero."""
    if not result.parameters or result.wrong or result.lost or any(d.dead_last * 2 > d.units for d in result.dead):
        return None
    if not all(_zero(moved.gradient) for moved, _ in result.parameters):
        return None
    curve = list(result.curve or [])
    if result.zero_start:
        return _all_zero(result, path)  # a state no step leaves, whatever each pass's term of the loss
    if len(curve) < 2 or any(v != curve[0] for v in curve):
        return None
    loss = result.loss
    where = f" (line {loss.line})" if loss is not None else ""
    return rule(NAME).finding(
        f"every gradient in your training step is exactly zero, so nothing learns and the loss{where} stays at {curve[0]:.6g} "
        f"over {len(curve)} replayed steps: the output does not depend on any parameter here. Look for units that are off for "
        "every sample: a ReLU on the output layer (it clamps the logits to 0; use no activation there), or hidden ReLUs that "
        "all died (a large rate, a negative bias); or an output multiplied by a constant zero",
        file=path,
        line=loss.line if loss is not None else result.step.update_line,
        pattern="frozen",
        measured=float(len(result.parameters)),
        evidence=(("frozen", f"{len(result.parameters)} of {len(result.parameters)} parameters with an all-zero gradient; loss {curve[0]:.6g} at every step"),),
    )


_INDEX = re.compile(r"\[[^\]]*\]")


def _negative_bias(frozen: list, tree: Any, before: int) -> tuple[str, float, int | None] | None:
    """(name, largest entry, the line that sets it before the loop) of a frozen bias (a vector, or a row or
    column) whose every entry is below `NEGATIVE_BIAS` (`below_zero_bias`): the units it is added into never fire (`b = np.full(n, -5.0)`)."""
    import ast

    for moved, measured in frozen:
        value = moved.value
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and below_zero_bias(value)):
            continue
        base = _INDEX.sub("", measured.name)
        lines = [
            node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assign) and node.lineno < before
            and any(ast.unparse(t) == measured.name or _INDEX.sub("", ast.unparse(t)) == base for t in node.targets)
        ] if tree is not None else []  # fmt: skip
        key = re.fullmatch(r"\w+\[['\"](\w+)['\"]\]", measured.name)
        keyed = [
            v.lineno for node in ast.walk(tree) if isinstance(node, ast.Dict)
            for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and k.value == key.group(1)
        ] if key is not None and tree is not None else []  # fmt: skip
        # `{"b1": np.full(...)}` in the function that builds the parameters, rather than `params = init(...)`
        return measured.name, float(value.max()), (keyed[0] if len(keyed) == 1 else max(lines, default=None))
    return None


def _zero(gradient: Any) -> bool:
    try:
        array = np.asarray(gradient, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return array.size > 0 and not np.any(array)


def _batch_of_one(result: Any) -> bool:
    """The step's own batch holds one sample: a name the pass binds to an index array of one entry
    (`idx = order[s:s + 1]`) or to one row of data (`xb = X[i:i + 1]`)."""
    from backprop_doctor.static.steps import _targets

    namespace = result.after_one_pass() or {}
    bound = {n for stmt in result.step.prefix for n in _targets(stmt)}
    return any(
        isinstance(v, np.ndarray) and v.ndim in (1, 2) and v.shape[0] == 1 and (v.ndim == 2 or v.dtype.kind in "iu")
        for n, v in namespace.items() if n in bound
    )  # fmt: skip


def _all_zero(result: Any, path: str) -> Finding:
    """Every parameter zero, and so every gradient: each weight's gradient is a product with the others
    (`dW2 = h.T @ d` with `h = x @ W1`), zero while they are, so no step ever moves any of them (two
    embedding matrices of a word2vec, a network whose weights all start at `np.zeros`)."""
    from backprop_doctor.static.files import source_tree

    names = list(dict.fromkeys(re.sub(r"\[[^\]]*\]$", "", measured.name) for _, measured in result.parameters))
    tree = source_tree(path)[1]
    line = (first_assignment(tree, names) if tree is not None else None) or result.step.update_line
    shown = ", ".join(f"`{n}`" for n in names[:-1]) + (" and " if len(names) > 1 else "") + f"`{names[-1]}`"
    return rule(NAME).finding(
        f"every parameter of your training step ({shown}) is zero where the loop starts, and so is every gradient: each is a "
        "product with the others, zero while they are, so no step moves any of them and the loss never changes. Initialise the "
        "weights with small random values (`np.random.randn(...) * 0.1`) instead of zeros",
        file=path,
        line=line,
        pattern="all-zero",
        measured=float(len(result.parameters)),
        evidence=(("frozen", f"{len(result.parameters)} of {len(result.parameters)} parameters zero, with an all-zero gradient"),),
    )
