"""An update follows an L2 or L1 penalty (weight decay) that the loss the program computes leaves out.

What it finds:
    The training-step replay measures each update against the loss the
    program computes. When an update's gradient is that loss's gradient plus
    λ·p (p the parameter), it follows a penalty λ/2·Σp² the loss leaves out:
    weight decay, or a loss printed without its penalty; plus λ·sign(p), an
    L1 penalty λ·Σ|p|. The parameter, λ and the update's line are named. (The other way round, a penalty in the loss
    that the gradient leaves out, is a wrong gradient: step-gradient-mismatch.)

Why it matters:
    The loss you watch is not the one training lowers: it can stall, or rise
    a little, while training works. Add the penalty to the loss you print to
    watch the whole objective, or leave it out knowingly.

Example:
    print(cross_entropy(T, Y))
    w += lr * (Xb.T.dot(T - Y) - 0.1 * w)

Fix:
    print(cross_entropy(T, Y) + 0.05 * np.sum(w ** 2))
    w += lr * (Xb.T.dot(T - Y) - 0.1 * w)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-penalty-mismatch"
CODE = "BPD109"
SEVERITY = "warning"
STAGE = "gradient"


DOMINANT = 10.0  # a decay whose pull on a parameter is this many times the loss's own slope: the update mostly shrinks it


def run(context: Any) -> Iterator[Finding]:
    if context.source is None:
        return
    for result in context.extras.get("replay") or []:
        loss = result.loss
        if loss is None or loss.implied:
            continue  # a step that computes no loss watches none: weight decay in its update is its own choice
        loss_words = f"`{loss.name}` (line {loss.line})"
        strong = _too_strong(result)
        for setting, pairs in strong.items():
            yield _strong_finding(context, setting, pairs, loss_words)
        for moved, measured in result.parameters:
            if measured.decay is None or (measured.decay_setting is not None and measured.decay_setting[0] in strong):
                continue
            name, decay = measured.name, measured.decay
            if measured.decay_kind == "L1":
                term, penalty, added = f"sign(`{name}`)", "an L1 penalty", f"{decay:.3g} · Σ |`{name}`|"
            else:
                term, penalty, added = f"`{name}`", "an L2 penalty (weight decay)", f"{decay / 2:.3g} · Σ `{name}`²"
            message = (
                f"the update of `{name}` (line {moved.site.line}) follows the gradient of {loss_words} plus "
                f"{decay:.3g} × {term}, {penalty} that {loss_words} leaves out: the loss you "
                f"watch is not the one training lowers; add {added} to it to watch the whole objective"
            )
            yield rule(NAME).finding(
                message,
                param=name,
                file=moved.site.file or context.source.path,
                line=moved.site.line,
                highlight=(moved.site.line,),
                pattern="penalty-only-in-gradient",
                measured=decay,
            )


def _too_strong(result: Any) -> dict[str, list[tuple[Any, Any]]]:
    """The program's decay settings whose pull on some parameter is `DOMINANT` times the loss's own slope or more,
    with the (moved, measured) pairs each pulls."""
    found: dict[str, list[tuple[Any, Any]]] = {}
    for moved, measured in result.parameters:
        if measured.decay_setting is not None:
            found.setdefault(measured.decay_setting[0], []).append((moved, measured))
    return {name: pairs for name, pairs in found.items() if max(m.decay_setting[1] for _, m in pairs) >= DOMINANT}


def _strong_finding(context: Any, setting: str, pairs: list[tuple[Any, Any]], loss_words: str) -> Finding:
    from backprop_doctor.checks._training_words import first_assignment

    source = context.source
    decay = pairs[0][1].decay
    share = max(m.decay_setting[1] for _, m in pairs)
    names = ", ".join(f"`{m.name}`" for _, m in pairs)
    updates = sorted({moved.site.line for moved, _ in pairs})
    line = (first_assignment(source.tree, [setting]) if source.tree is not None else None) or updates[0]
    message = (
        f"the weight decay `{setting}` = {decay:g} (line {line}) is far too strong: in the updates of {names} "
        f"(line{'s' if len(updates) > 1 else ''} {', '.join(map(str, updates))}) its pull, {decay:g} × the parameter, is "
        f"{share:.3g} times the gradient of {loss_words} itself, so each step mostly shrinks the weights towards 0 instead of "
        f"lowering the loss; a decay of about 1e-4 to 1e-2 regularises without taking over"
    )
    return rule(NAME).finding(
        message,
        severity="error",
        param=pairs[0][1].name,
        file=source.path,
        line=line,
        highlight=(line, *updates),
        pattern="decay-too-strong",
        measured=share,
        threshold=DOMINANT,
        fix=f"{setting} = 1e-4",
    )
