"""The inputs are shuffled and the targets are not, so each input is trained on another's target.

What it finds:
    A training loop that takes each minibatch the same way (`[k:k + 20]`) from
    an array it shuffled (`Xs = X[idx]` with `idx = np.random.permutation(n)`,
    or `np.random.shuffle(X)`) and from one it did not (`ys = y`). The two
    batches no longer belong together. Taken by two statements
    (`xb = X_train[s:s + b]`, then `yb = y_train[s:s + b]`, handed on together),
    it is named at the shuffle that moved the inputs alone
    (`X_train = X_train[perm]`), or at the targets' batch taken without the
    permutation the inputs' batch was taken through (`y[:b]` beside `X[idx[:b]]`).
    Inputs and targets each shuffled by a draw of their own (`np.random.shuffle(X)`,
    then `np.random.shuffle(y)`) are named at the second shuffle. A loop that cuts
    its next batch of inputs with a new index (`xb = X[idx]`) while the targets cut
    with them before the loop (`xb, yb = X[idx], y[idx]`) are never cut again is
    named at that cut (`static.stale_targets`).

Why it matters:
    Every gradient is right for the data the step is handed, so a gradient
    check passes; but the labels are a shuffled copy of themselves, and the loss
    stays where it starts (near ln 2 for two classes) however long it trains.

Example:
    idx = np.random.permutation(len(X))
    Xs, ys = X[idx], y
    xb, yb = Xs[k:k + 20], ys[k:k + 20]

Fix:
    idx = np.random.permutation(len(X))
    Xs, ys = X[idx], y[idx]
    xb, yb = Xs[k:k + 20], ys[k:k + 20]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.shuffles import unshuffled_targets
from backprop_doctor.static.stale_targets import stale_targets

NAME = "targets-not-shuffled"
CODE = "BPD614"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None or not source.facts.training_steps:
        return
    found = unshuffled_targets(source.tree)
    if found is None:
        stale = stale_targets(source.tree)
        if stale is not None:
            yield _stale(source, stale)
        return
    if found.named is not None:  # the two batches taken by two statements: named where the change belongs
        yield _across(source, found)
        return
    if found.index and found.source:
        fix = f"`{found.target} = {found.source}[{found.index}]`"
    elif found.index:
        fix = f"`{found.target}[{found.index}]`"
    else:
        fix = f"the same permutation as `{found.shuffled}`"
    if found.other is not None:
        taken = f"from targets shuffled by another permutation at line {found.other[0]} (`{found.other[1]}`)"
        fix = (
            f"`{found.target} = {found.source}[{found.index}]`" if found.source and found.index else
            f"the same permutation as `{found.shuffled}`" if found.index else
            f"draw one permutation and index both with it: `perm = np.random.permutation(len({found.shuffled}))`, then "
            f"`{found.shuffled}, {found.target} = {found.shuffled}[perm], {found.target}[perm]`"
        )  # fmt: skip
    else:
        taken = "from targets that were not shuffled"
    yield rule(NAME).finding(
        f"line {found.line} takes the batch `{found.shuffled}{found.batch}` from the inputs shuffled at line {found.shuffled_line} "
        f"(`{found.shuffled_text}`) and `{found.target}{found.batch}` {taken}, so each input is "
        f"trained on another input's target: shuffle the targets with the inputs ({fix})",
        file=source.path,
        line=found.other[0] if found.other else found.line,  # the second permutation is the line to change
        highlight=tuple(sorted({found.shuffled_line, found.line, *((found.other[0],) if found.other else ())})),
        param=found.target,
        pattern="targets-not-shuffled",
    )


def _across(source: Any, found: Any) -> Finding:
    if found.through:  # `xb = X[idx[:b]]` beside `yb = y[:b]`
        said = (
            f"line {found.line} takes the targets' batch `{found.target}{found.batch}` in their stored order while line "
            f"{found.shuffled_line} takes the inputs' batch `{found.shuffled_text}` through the permutation `{found.index}`"
        )
    elif found.other is not None:  # `np.random.shuffle(X)`, then `np.random.shuffle(y)`: two orders
        lines = found.batch_lines
        taken = f"line {lines[0]} takes" if len(lines) == 1 else f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]} take"
        said = (
            f"line {found.shuffled_line} shuffles the inputs (`{found.shuffled_text}`) and line {found.other[0]} the targets "
            f"(`{found.other[1]}`), each in an order drawn for it alone, then {taken} the batch `{found.batch}` from both"
        )
    elif found.alias is not None:  # `y_shuf = y` beside `X_shuf = X[perm]`
        lines = found.batch_lines
        taken = f"line {lines[0]} takes" if len(lines) == 1 else f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]} take"
        said = (
            f"line {found.shuffled_line} shuffles the inputs (`{found.shuffled_text}`) while line {found.alias[0]} binds the targets "
            f"`{found.target}` to `{found.source}` in its stored order (`{found.alias[1]}`), then {taken} the batch `{found.batch}` from both"
        )
    else:
        lines = found.batch_lines
        taken = f"line {lines[0]} takes" if len(lines) == 1 else f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]} take"
        said = (
            f"line {found.shuffled_line} shuffles the inputs (`{found.shuffled_text}`) and not the targets `{found.target}`, "
            f"then {taken} the batch `{found.batch}` from both"
        )
    assert found.named is not None
    return rule(NAME).finding(
        f"{said}, so each input is trained on another input's target: {found.fix}",
        file=source.path,
        line=found.named,
        highlight=tuple(sorted({found.shuffled_line, found.named, *found.batch_lines})),
        param=found.target,
        pattern="targets-not-shuffled",
    )


def _stale(source: Any, stale: Any) -> Finding:
    fix = f"{stale.inputs}, {stale.targets} = {stale.statement.split('=', 1)[1].strip()}, {stale.target_cut}"
    return rule(NAME).finding(
        f"line {stale.line} cuts the next batch of inputs (`{stale.statement}`) but not its targets: `{stale.targets}` keeps "
        f"the batch cut with the first inputs at line {stale.paired_line}, so from the second step on each input is trained "
        f"on another sample's target: cut both with the same index (`{fix}`)",
        file=source.path,
        line=stale.line,
        highlight=(stale.paired_line, stale.line),
        param=stale.targets,
        fix=fix,
        pattern="targets-not-recut",
    )
