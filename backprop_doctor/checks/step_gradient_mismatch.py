"""A training step's update does not follow the gradient of the program's own loss.

What it finds:
    backprop-doctor runs your program up to its first parameter update
    (`W1 -= lr * dW1`, `params[k] -= lr * grads[k]`, an optimizer's update),
    takes its state there, and replays that one step with each parameter moved
    a little, to measure how the loss the program computes (`loss`, `cost`, ...)
    really changes. A parameter whose update is not the negative gradient of
    that loss is reported; the backward-pass variables of the step (`dZ2`,
    `delta`, `d_o1`) are measured the same way, from the loss backwards, and
    the first one that is wrong while the ones before it are right is the line
    to fix. The shape of the error is named: a factor of the batch size, a
    flipped sign, a factor of two, or a wrong derivative. A factor every update
    shares is a warning when a convention explains it (a count of the data, the
    2 of a square the loss takes) and an error at the line that makes it
    otherwise. An update that runs before the backward computing its
    gradient (`sgd(params, grads, lr)` above `grads = backward(params,
    cache)`, the forward before both) applies the previous pass's gradient:
    named at the update, with the line that computes it.

Why it matters:
    Gradient descent follows the gradient your program computes. When it is
    not the gradient of the loss, the loss does not go down however the
    learning rate is set, or goes down slower and stops early.

Example:
    a1 = np.tanh(z1)
    ...
    dz1 = da1 * (1 - a1)          # tanh'(z) is 1 - tanh(z)**2

Fix:
    dz1 = da1 * (1 - a1 ** 2)
"""

from __future__ import annotations

import ast
import linecache
import math
import os
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks.gradient_mismatch import cached_advice, cached_words, count_words
from backprop_doctor.checks._training_words import joined, replayed_step
from backprop_doctor.checks._column_against_vector import column_against_vector_finding
from backprop_doctor.checks._cache_overwritten import cache_overwritten_finding
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import enclosing
from backprop_doctor.replay.through_time import AtStep
from backprop_doctor.static.grad_reset import reset_after_backward
from backprop_doctor.static.gradient_returns import returned_at, unpacked_from
from backprop_doctor.static.derivatives import (
    activation_applied, cached_wrong_side, masked_after, misapplied, mutated_argument, reapplied, reapplied_behind, rescaled_after, slope_left_out,
)
from backprop_doctor.static.step_functions import InnerAdjoint
from backprop_doctor.static.mask_axes import step_mask_axis
from backprop_doctor.static.masks import left_out_mask, mask_never_read, scale_kept_mask_dropped, scale_without_mask, self_masked
from backprop_doctor.static.one_hot_scatter import scattered_one_hot
from backprop_doctor.static.stale import row_views, stale_step_read
from backprop_doctor.static.updates import reinitialised
from backprop_doctor.static.steps import _scope_of, added_term, consumers, on_other_samples, reads, written_sign
from backprop_doctor.static.writes import added_twice, crossed_entry, handed_otherwise, indexed_add, overwritten_sum, term_overwritten_in_loop, bound_indexed_add, rebound_gradients, returned_entry_indexed_add, returned_indexed_add, stored_indexed_add, filled_indexed_add
from backprop_doctor.static.tree import walk as tree_walk

NAME = "step-gradient-mismatch"
CODE = "BPD108"
SEVERITY = "error"
STAGE = "gradient"

SAME_FACTOR = 0.03  # factors within 3 % of each other are one factor


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.checks.grad_not_zeroed import unreset_loops
    from backprop_doctor.checks.step_output_applied_twice import applied_twice_in

    results = context.extras.get("replay") or []
    if context.source is None:
        return
    errors = [f for f in context.findings if f.severity == "error" and f.code.startswith(("BPD1", "BPD3")) and f.name != NAME]
    unreset = {loop.loop for loop in unreset_loops(context)} if results else set()
    for result in results:
        if result.step.loop_line in unreset:
            continue  # `.grad` never set back to zero: the sum of two passes' gradients, grad-not-zeroed words it
        if result.unfitted and result.loss is not None:
            yield _unfitted(result, context.source.path)
        if not result.parameters or not result.wrong:
            continue
        if getattr(result, "data_sized", None) is not None:
            continue  # gradients divided by the data set's size: step-divided-by-data-size words it
        if (early := _applied_early(result, context.source)) is not None:
            yield early  # `sgd(params, grads, lr)` before `grads = backward(...)`: the previous pass's gradient, right as it is
            continue
        if applied_twice_in(result, context.source) is not None:
            continue  # softmax of softmax's output in the forward pass: step-output-applied-twice words it
        if (overwritten := cache_overwritten_finding(result, context.source, NAME)) is not None:
            yield overwritten  # a held-out forward pass between the loss and its backward, the replay without it right
            continue
        known = [f for f in errors if _runs_in(f, result)]
        if all(getattr(m, "penalty_factor", None) is not None for _, m in result.wrong):
            known = []  # an L2 term whose factor the loss's penalty disagrees with: the replay names the term and its factor
        if known and not any(f.code.startswith("BPD3") for f in known) and _unvisited_steps(result, context.source.tree) is not None:
            known = []  # a backward loop over time that never reaches some steps: the replay names its range, the layer's check a sum in it
        if known and (result.first_wrong_adjoint is None or any(f.code.startswith("BPD3") for f in known)):
            if not any(f.code.startswith("BPD3") for f in known):
                # an indexed `+=` at repeated indices: the replay names why the known wrong statement is wrong
                yield from (f for f in _findings(result, context.source, _derivatives_right(context)) if f.pattern == "repeated-index-add")
            continue  # a gradient already known wrong, and the replay cannot say more precisely which statement
        if known and _computed_by_known(result.first_wrong_adjoint[0], known, context.source, _measured_right(result)):
            continue  # `loss, ds = softmax_loss(s, y)`: the function's own finding names the statement inside it
        if known and _deferred_past_a_known_division(result, known):
            continue  # `dAL` a batch size times the mean's gradient, its `1./m` in a `linear_backward` known to divide wrong
        if (broadcast := column_against_vector_finding(result, context.source, NAME)) is not None:
            yield broadcast  # `pred - y`, (N, 1) and (N,): an (N, N) array every gradient after it comes from
            continue
        for finding in _findings(result, context.source, _derivatives_right(context)):
            yield _named_in_its_loop(finding, result, context.source)


_GRADIENT_NAME = re.compile(r"(?i).*(grad|nabla|delta).*|d_?[a-z]{1,2}\d*|g\d*")


def _applied_early(result: Any, source: Any) -> Finding | None:
    """The pass's update reads a gradient the pass computes only after it, from the forward values it
    computed before it (`static.applied_early`): every update applies the gradient of the previous pass."""
    from backprop_doctor.static.applied_early import applied_early

    step = result.step
    loop = step.loop
    if loop is None or step.loopless or step.ahead or source.tree is None:
        return None
    early = applied_early(list(loop.body), step.update_line, step.update_end_line)
    roots = {re.split(r"[\[.]", m.site.gradient, maxsplit=1)[0] for m, _ in result.wrong}
    if early is None or not (early.name in roots or _GRADIENT_NAME.fullmatch(early.name)):
        return None
    lines = source.text_lines
    statement = lines[early.update - 1].strip() if 0 < early.update <= len(lines) else ""
    computing = lines[early.computed - 1].strip() if 0 < early.computed <= len(lines) else ""
    params = ", ".join(dict.fromkeys(f"`{m.name}`" for _, m in result.wrong))
    return rule(NAME).finding(
        f"line {early.update} (`{statement}`) applies `{early.name}` before line {early.computed} (`{computing}`) computes it: "
        f"each pass updates {params} by the gradient the previous pass left in `{early.name}` (the previous batch's, and at the "
        f"first pass what it started as), not the gradient of this pass's `{result.loss.name if result.loss else 'loss'}`, "
        f"and the backward then works from `{early.forward_name}` (line {early.forward}), made before the update, with the "
        f"weights already moved; compute the gradient first: move line {early.update} below line {early.computed}",
        file=source.path,
        line=early.update,
        highlight=tuple(sorted({early.update, early.computed})),
        pattern="applied-before-computed",
        measured=next((m.factor for _, m in result.wrong if m.factor is not None), None),
        evidence=_evidence(result),
    )


def rebinding_unused(moved: Any, measured: Any, source: Any) -> bool:
    """An update of the step that binds a new array to a container's entry (`static.updates`, `rebind-entry`)
    and moves a parameter the replayed loss does not read: the layers keep the old arrays."""
    if not measured.unused or moved.site.file or source is None or source.tree is None:
        return False
    return any(u.kind == "rebind-entry" and u.line == moved.site.line for u in source.facts.updates)


def _derivatives_right(context: Any) -> dict[str, str]:
    """derivative -> its function, for each activation and derivative pair the layer checks found right
    (`sigmoid/sigmoid_derivative`, its one array `x` "ok"): a wrong adjoint computed by one is wrong by what it is
    handed, not by it."""
    verdicts: dict[str, set[tuple[str, str]]] = {}
    for m in getattr(context, "measurements", None) or ():
        forward, slash, derivative = (m.layer or "").partition("/")
        if slash and forward.isidentifier() and derivative.isidentifier():
            verdicts.setdefault(m.layer, set()).add((m.param, m.verdict))
    return {layer.partition("/")[2]: layer.partition("/")[0] for layer, seen in verdicts.items() if seen == {("x", "ok")}}


def _named_in_its_loop(finding: Finding, result: Any, source: Any) -> Finding:
    """A wrong gradient whose loop shows the mistake itself, named there:

    - a statement reads, itself or through the statements of its loop it reads, a name that loop never
      sets and an earlier loop does (`draw = (1 - h * h) * dh` in the backward loop over time, `h` the
      forward loop's last step's): every pass but the one that matches that value computes with
      another pass's value (`static.stale.left_by_a_loop`);
    - a backward loop over time sets the carried gradient of the state at each step's end and never
      reads it (`static.unused.carried_not_added`): named where it belongs;
    - or reads it and never sets it again, so every step reads the zeros it started at
      (`static.unused.never_carried`): named where it is read, the missing statement in the message."""
    from backprop_doctor.checks.layer_raised import left_by_a_loop_words
    from backprop_doctor.static.stale import left_by_a_loop
    from backprop_doctor.static.unused import carried_not_added, never_carried

    tree = getattr(source, "tree", None)
    if tree is None or not finding.line or (finding.file and os.path.abspath(finding.file) != os.path.abspath(source.path)):
        return finding
    params = ", ".join(dict.fromkeys(f"`{m.name}`" for _, m in result.wrong))
    consequence = f"so the updates of {params} in your training step do not follow the gradient"
    stale = left_by_a_loop(tree, finding.line)
    if stale is not None:
        read_at = stale[1]
        return finding.replace(
            line=read_at,
            highlight=tuple(sorted({read_at, *finding.highlight})),
            pattern="left-by-a-loop",
            fix=None,
            message=f"line {read_at} " + left_by_a_loop_words(stale, f", not its own pass's, {consequence}"),
        )
    carried = carried_not_added(tree, finding.line)
    if carried is None and (zeros := never_carried(tree, finding.line)) is not None:
        name, zeroed, loop, read_at, own = zeros
        return finding.replace(
            highlight=tuple(sorted({read_at, zeroed, *finding.highlight})),
            pattern="never-carried",
            fix=None,
            message=(
                f"line {read_at} reads `{name}`, which line {zeroed} sets to zeros before the loop at line {loop} and no statement "
                f"of that loop sets again: every step reads those zeros instead of what the step before it computed, {consequence}; "
                f"end the loop's body with `{name} = {own}`"
            ),
        )
    if carried is None:
        return finding
    name, line, belongs, fix = carried
    return finding.replace(
        line=belongs,
        highlight=tuple(sorted({belongs, line})),
        pattern="through-time",
        fix=None,
        message=(
            f"`{name}` (line {line}) is the gradient each time step sends back to the one before it, but the loop never adds it to "
            f"that step's upstream gradient, {consequence}: {'pass' if belongs == line else 'write'} `{fix}`"
        ),
    )


def _computed_by_known(adjoint: Any, known: list[Finding], source: Any, right: frozenset[str] = frozenset()) -> bool:
    """Whether the first wrong adjoint's statement calls a function of the file that a finding already
    blames (`loss, ds = softmax_loss(s, y)` beside a wrong dx of `softmax_loss`), itself or through a
    statement of its function it is computed from whose value the replay did not measure right
    (`dh = (g @ W2.T) * ...` after `g = huber_grad(r) / n`, beside a wrong `huber/huber_grad`: the
    output error `g` has no forward value of its own to measure it by); `right`: the adjoints the
    replay measured right."""
    line = getattr(adjoint, "line", None)
    lines = getattr(source, "text_lines", None) or []
    if not line or not 0 < line <= len(lines) or getattr(adjoint, "file", None):
        return False
    text = lines[line - 1]
    earlier = [lines[at - 1] for at in _computed_from(source, line, right) if 0 < at <= len(lines)]

    def calls(name: str, texts: list[str]) -> bool:
        return any(re.search(rf"\b{re.escape(name)}\s*\(", t) for t in texts)

    # `relu/relu_grad`: a pair of functions, either of which the statement may call (`* relu_grad(Z1)`); the
    # statements it is computed from, by the derivative alone (`a = relu(z)` is the forward value it reads)
    return any(
        f.layer and (any(calls(part, [text]) for part in f.layer.split(".")[0].split("/")) or calls(f.layer.split(".")[0].split("/")[-1], earlier))
        for f in known
    )


def _measured_right(result: Any) -> frozenset[str]:
    """The names of the adjoints the replay measured, and found right."""
    return frozenset(a.name for a, m in getattr(result, "adjoints", None) or () if not m.wrong)


def _computed_from(source: Any, line: int, right: frozenset[str]) -> list[int]:
    """The lines of the straight-line statements of the block holding `line` (a function's body, a loop's)
    that the statement there is computed from, through none of the names in `right` (a value measured
    right stops the walk)."""
    from backprop_doctor.static.tree import walk
    from backprop_doctor.static.upstream import _binds, _reads

    tree = getattr(source, "tree", None)
    block = next(
        (stmts for node in walk(tree) for field in ("body", "orelse") if isinstance(stmts := getattr(node, field, None), list)
         and any(isinstance(st, ast.stmt) and st.lineno == line for st in stmts)),
        None,
    ) if tree is not None else None  # fmt: skip
    if block is None:
        return []
    body = [st for st in block if isinstance(st, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    at = next((st for st in body if st.lineno == line), None)
    if at is None:
        return []
    found: list[int] = []
    wanted = _reads(at) - right
    for earlier in reversed([st for st in body if st.lineno < line]):
        bound = _binds(earlier) & wanted
        if not bound:
            continue
        found.append(earlier.lineno)
        wanted = (wanted - bound) | (_reads(earlier) - right)
    return found


_DIVISIONS = ("divided-by-rows", "divided-by-batch-size", "scaled-by-batch-size")


def _deferred_past_a_known_division(result: Any, known: list[Finding]) -> bool:
    """Whether the first wrong adjoint is exactly a batch size times the gradient of the program's
    mean loss (deeplearning.ai's `dAL`, the gradient of the sum, its `1./m` left to `linear_backward`)
    while a function the step runs is already known to divide its gradients by the wrong count: the
    replay then sees no right parameter to tell the deferred mean by (`_deferred_mean`), and that
    function's finding names the statement to change; the adjoint's factor is the convention's."""
    culprit = result.first_wrong_adjoint
    if culprit is None or not any(f.pattern in _DIVISIONS for f in known):
        return False
    measured = culprit[1]
    factor = _factor(result, measured)
    return bool(measured.proportional and factor is not None and _factor_words(factor, True, result.batch_sizes)[0] == "scaled-by-batch-size" and factor > 1)


def _runs_in(finding: Finding, result: Any) -> bool:
    """Whether the code a finding blames runs in the replayed step: its line, or any line of the
    function holding it (a `def` line runs only when the file loads). A wrong `tanh_backward` that a
    network configured with ReLU never calls explains none of the step's wrong gradients. A finding
    with no line, or a step that cannot be traced, counts as running."""
    if not finding.file or not finding.line:
        return True
    ran = result.lines_run()
    if not ran:
        return True
    # the code objects may name the file as it was given (relative to a folder the check has left)
    lines = ran.get(os.path.abspath(finding.file)) or set().union(
        *(v for k, v in ran.items() if os.path.basename(k) == os.path.basename(finding.file))
    )
    if finding.line in lines:
        return True
    function = enclosing(os.path.abspath(finding.file), finding.line)
    return function is not None and any(function.line <= line <= function.end_line for line in lines)


def _unfitted(result: Any, path: str) -> Finding:
    """The program computes no loss, and its updates fit none of the losses its output error implies."""
    step, loss = result.step, result.loss
    update = min((site.line for site in step.updates if site.file is None), default=step.update_line)
    kinds = ", ".join(dict.fromkeys(site.implied for site in step.losses if site.implied))
    return rule(NAME).finding(
        f"your program computes no loss, and the updates of {_names(result.unfitted)} in your training step (line {update}) "
        f"follow none of the losses its output error (line {loss.line}) implies ({kinds}): a gradient of the step is wrong, "
        "or its loss is an unusual one; compute the loss in the loop so backprop-doctor can tell which",
        severity="warning",
        param=result.unfitted[0],
        file=path,
        line=update,
        highlight=tuple(sorted({update, loss.line})),
        pattern="no-usual-loss",
    )


def _factor_words(factor: float | None, proportional: bool, batch_sizes: tuple[int, ...]) -> tuple[str, str, str]:
    """(pattern, what it is, what to do) for an array that is `factor` × the true gradient."""
    if factor is None or not proportional:
        return "wrong-derivative", "not the gradient of your loss", ""
    if abs(factor - 1) < SAME_FACTOR:
        return "wrong-derivative", "close to, but not, the gradient of your loss", ""
    if abs(factor + 1) < SAME_FACTOR:
        return "sign-flipped", "the gradient of your loss with its sign flipped", "negate it"
    for n in batch_sizes:
        of = getattr(n, "of", "the batch size")  # `the length of `context``: the count a mean divides by
        if abs(factor - n) < SAME_FACTOR * n:
            return "scaled-by-batch-size", f"{n} × the gradient of your loss ({n} is {of})", f"divide it by {of} ({n})"
        if abs(factor * n - 1) < SAME_FACTOR:
            return "scaled-by-batch-size", f"1/{n} of the gradient of your loss ({n} is {of})", f"divide by {of} ({n}) only once"
    for two in (2.0, 0.5):
        if abs(factor - two) < SAME_FACTOR * two:
            return "factor-of-two", f"{_number(factor)} × the gradient of your loss", "look for a missing or extra factor 2 (the derivative of a square)"
    if factor < 0:
        return "sign-flipped", f"{_number(factor)} × the gradient of your loss: its sign is flipped", "negate it and check its scale"
    return "scaled", f"{_number(factor)} × the gradient of your loss", "remove the constant factor"


_LIBRARIES = frozenset({"np", "numpy", "math", "scipy", "torch"})


_OUTPUT_ERROR = re.compile(r"(?i)(cost|loss|error|err)_?(derivative|deriv|prime|grad\w*)|d_?(cost|loss)")


def _of_another_loss(result: Any, source: Any, loss_words: str, evidence: Any) -> Finding:
    """Every update follows the gradient of a usual loss (`result.other_loss`) other than the one the
    program computes: the backward pass starts from that loss's output error. Named at the statement
    that calls a cost's derivative (`self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])`),
    else where the output error is."""
    import ast

    other = result.other_loss
    wrong = result.wrong
    names = _names([m.name for _, m in wrong])
    line, statement, returned, inside = other.line, None, None, None
    tree = source.tree
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno) if tree is not None else []:
        calls = [c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "") for c in ast.walk(node.value) if isinstance(c, ast.Call)]
        called = next((c for c in calls if _OUTPUT_ERROR.fullmatch(c)), None)
        if called is not None:
            defined = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == called]
            if defined and defined[0].lineno <= other.line <= (defined[0].end_lineno or defined[0].lineno):
                # `loss, dW, db = loss_grad(W, b, X, Y)`: a loss-and-gradients function, inside which the output error
                # was already found (`dZ = (P - Y) / n`), not a cost's derivative the backward pass calls
                inside = (called, node.lineno)
                statement = next((ast.unparse(n) for n in ast.walk(defined[0]) if isinstance(n, ast.stmt) and n.lineno == other.line and not isinstance(n, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With))), None)
                break
            line, statement = node.lineno, ast.unparse(node)
            returns = [r for f in defined[:1] for r in ast.walk(f) if isinstance(r, ast.Return) and r.value is not None]
            returned = (returns[-1].lineno, called) if len(returns) == 1 else None
            break
    computed = _loss_source(result.loss, tree)
    advice = "start the backward pass from the derivative of the loss you compute"
    if other.implied == "quadratic cost" and "log" in computed:
        advice += " (for a cross-entropy over sigmoid outputs the output error is `a - y`, with no sigmoid derivative after it)"
    where = f" (line {line}: `{statement}`)" if statement else f" (line {line})"
    if inside is not None:
        where = f" (line {line}{f': `{statement}`' if statement else ''}, in `{inside[0]}`, called at line {inside[1]})"
    if returned is not None:
        where += f", with `{returned[1]}` returning that cost's derivative (line {returned[0]})"
    return rule(NAME).finding(
        f"every update of your training step ({names}) follows the gradient of the {other.implied}, {other.name}, not of "
        f"{loss_words}, the loss your program computes: its backward pass starts from that cost's output error{where}; {advice}",
        param=wrong[0][1].name,
        file=source.path,
        line=returned[0] if returned is not None else line,
        highlight=tuple(sorted({line, *([returned[0]] if returned is not None else []), *([inside[1]] if inside is not None else [])})),
        pattern="gradient-of-another-loss",
        measured=max(m.error for _, m in wrong),
        evidence=evidence,
    )


def _loss_source(loss: Any, tree: Any) -> str:
    """The loss's expression and the source of the methods or functions it calls, as text."""
    import ast

    text = loss.expression
    try:
        called = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "") for c in ast.walk(ast.parse(loss.expression, mode="eval")) if isinstance(c, ast.Call)}
    except SyntaxError:
        return text
    for node in ast.walk(tree) if tree is not None else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in called:
            text += "\n" + ast.unparse(node)
    return text


def _flipped_against_the_rest(result: Any) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]] | None:
    """(the flipped, the rest) when every update follows one factor of the loss's gradient but for its sign,
    which a few of them have the other way round (`W1 -= lr * dW1` beside `W2 += lr * dW2` in gradient
    ascent): the rest set the program's scale, and the few move against the gradient. None otherwise."""
    wrong = result.wrong
    if not wrong or len(wrong) != len(result.parameters):
        return None
    if any(m.factor is None or not (m.proportional or m.single) or m.accumulated or m.penalty_left_out is not None for _, m in wrong):
        return None
    sizes = [abs(m.factor) for _, m in wrong]
    if min(sizes) == 0 or max(sizes) / min(sizes) >= 1 + SAME_FACTOR:
        return None
    minus = [(moved, m) for moved, m in wrong if m.factor < 0]
    plus = [(moved, m) for moved, m in wrong if m.factor > 0]
    if not minus or len(minus) >= len(plus) or not any(m.proportional for _, m in plus):
        return None
    return minus, plus


def _flipped_findings(result: Any, flipped: tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]], path: str, loss_words: str, evidence: Any) -> Iterator[Finding]:
    from backprop_doctor.static.steps import written_sign

    minus, plus = flipped
    theirs = {written_sign(moved.site.update) for moved, _ in plus}
    others = ", ".join(f"`{m.name}`" for _, m in plus)
    for moved, measured in minus:
        mine = written_sign(moved.site.update)
        site = moved.site
        if len(theirs) == 1 and mine and mine not in theirs:  # written the other way round: the update's own sign
            op = "+=" if mine < 0 else "-="
            target = site.update.target
            message = (
                f"the update of `{measured.name}` in your training step (line {site.update.line}) moves it against the gradient of "
                f"{loss_words}, while the updates of {others} follow it: `{site.update.source.strip()}` "
                f"{'subtracts' if mine < 0 else 'adds'} its step where they {'add' if mine < 0 else 'subtract'} theirs; write `{target} {op} ...`"
            )
            line, fix = site.update.line, f"{target} {op} {site.step}"
        else:  # the update is written as the others are: the gradient it reads has its sign flipped
            message = (
                f"the update of `{measured.name}` in your training step (line {site.update.line}) uses `{moved.gradient_name or site.gradient}`"
                + (f", computed at line {measured.line}," if measured.line else "")
                + f" which has the sign of the gradient of {loss_words} flipped against the gradients of {others}: negate it"
            )
            line, fix = measured.line or site.update.line, None
        yield rule(NAME).finding(
            message,
            param=measured.name,
            file=path,
            line=line,
            highlight=tuple(sorted({line, site.update.line})),
            pattern="sign-flipped",
            measured=1.0,  # the symmetric relative error of a gradient against its negative, at the rest's scale
            fix=fix,
            evidence=evidence,
        )


def _method_loss(loss: Any) -> bool:
    """The loss is a method of the program's objects (`network.loss(x, t)`), not arithmetic it wrote."""
    import ast

    if loss.implied is not None:
        return False
    try:
        tree = ast.parse(loss.expression, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = node.func.value
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
                if isinstance(root, ast.Call) and ast.unparse(root.func) == "__import__" and root.args and ast.unparse(root.args[0]).strip("'\"") in _LIBRARIES:
                    root = ast.Name(ast.unparse(root.args[0]).strip("'\""))  # `__import__('numpy').sum(total)`: NumPy, as a loss the step writes out
                    break
                root = root.value if not isinstance(root, ast.Call) else root.func
            if not (isinstance(root, ast.Name) and root.id in _LIBRARIES):
                return True
    return False


def _same_call(step: Any, loss: Any, wrong: list[tuple[Any, Any]]) -> bool:
    """Whether the statement computing the loss also binds the gradients the wrong updates read
    (`loss, dW, db = model.loss_and_grad(X, y)`), or is the call that makes the updates and returns the
    loss (`loss = net.train_step(X, y)`): one call computes both, so no inference mode can set its loss
    apart from its gradients."""
    from backprop_doctor.static.steps import _targets

    if not loss.in_prefix and loss.line == step.update_line and loss.reported is None and not loss.accumulated and not loss.summed:
        # `loss = net.train_step(X, Y)`: the call that returns the loss is the one that computes the gradients
        # and makes the updates, on the same batch in the same mode
        return step.update_end_line == step.update_line and any(moved.site.line != loss.line or moved.site.file for moved, _ in wrong)
    bound = {name for stmt in step.prefix if stmt.lineno == loss.line for name in _targets(stmt)}
    if not loss.in_prefix or loss.name not in bound:
        return False  # `net.loss(x, t)` the tool stands in beside `grads = net.gradient(x, t)`: another call
    return any(set(re.findall(r"[^\W\d]\w*", moved.gradient_name or moved.site.gradient)) & bound for moved, _ in wrong)


def _loss_reads(loss: Any, name: str) -> bool:
    """Whether the loss is computed from `name` (the network's output): a cross-entropy's gradient with
    respect to a sigmoid's input is `p - y` only for the sigmoid whose output the loss reads, not for a
    hidden layer's."""
    return loss is not None and re.search(rf"\b{re.escape(name)}\b", loss.expression) is not None


def _factor_pattern(result: Any, measured: Any) -> str:
    """The pattern `_factor_words` names for one measured gradient: "wrong-derivative", "scaled", ..."""
    factor = _factor(result, measured)
    return _factor_words(factor, _proportional(result, measured, factor), result.batch_sizes)[0]


def _factor(result: Any, measured: Any) -> float | None:
    """A gradient's factor against the loss; under gradient clipping, against the clipped gradient; for an
    adjoint judged at the scale of the adjoints before it (a summed loss), against that scale."""
    if (result.clipped or getattr(measured, "exact_scale", False)) and measured.scale and measured.factor is not None:
        return measured.factor / measured.scale
    if measured.scale and measured.factor is not None and measured.factor < 0 and abs(measured.factor / measured.scale + 1) < SAME_FACTOR:
        return -1.0  # minus the program's own scale (a loss it sums, followed at its half): the sign is all that is wrong
    if measured.scale and measured.factor is not None and getattr(getattr(result, "loss", None), "implied", None):
        return measured.factor / measured.scale  # a loss only guessed has no scale of its own: the program's gradients set it
    return measured.factor


def _proportional(result: Any, measured: Any, factor: float | None) -> bool:
    """The gradient is `factor` × the loss's everywhere. One number (a `(1, 1)` bias) has one factor,
    which the replay calls proportional only at a sign or a factor 2; at the batch size, or one over
    it, that factor says as much."""
    exact, own = getattr(measured, "exact", None), getattr(measured, "factor", None)
    if exact is not None and own and measured.proportional and not measured.single and factor is not None and _factor_words(factor, True, result.batch_sizes)[0] == "scaled":
        # a factor with no cause of its own (not the sign, a batch size, a square's 2) that this gradient, or another
        # update's at the same factor, shows only nearly, not as one ratio for every entry: a fit to a wrong term
        # (one-hot targets where the loss smooths them, near 1/(1 − ε)), not a scale to remove
        fitted = [m for _, m in getattr(result, "wrong", ()) if m.proportional and not m.single and not getattr(m, "exact", True) and m.factor and abs(m.factor / own - 1) <= SAME_FACTOR]
        if fitted or not exact:
            return False
    if measured.proportional or not measured.single or factor is None:
        return measured.proportional
    if abs(factor + 1) < SAME_FACTOR:
        return True  # minus the program's scale (`_factor`): a sign, as one number can show it
    return _factor_words(factor, True, result.batch_sizes)[0] == "scaled-by-batch-size"


def _tidy(expression: str) -> str:
    """`(self.delta) * (x)` as `self.delta * x`: the parentheses the rate's removal left, dropped."""
    try:
        return ast.unparse(ast.parse(expression, mode="eval"))
    except SyntaxError:
        return expression


def _shown(step: Any, forward: str) -> str:
    """A forward value as the user wrote it: the expression, where the replay named an inline
    pre-activation (`X @ W1 + b1` for the `z1` of `np.tanh(X @ W1 + b1)`)."""
    return getattr(step, "inline", {}).get(forward, forward)


def _names(names: list[str]) -> str:
    return joined([f"`{n}`" for n in names])


def _lines(lines: list[int]) -> str:
    """`42`, `42 and 46`, `42, 43 and 46`."""
    return joined([str(n) for n in lines])


def _number(value: float) -> str:
    return f"{value:.3g}"


def _findings(result: Any, source: Any, derivatives_right: dict[str, str] | None = None) -> Iterator[Finding]:
    path = source.path
    step = result.step
    loss = result.loss
    loss_words = f"`{loss.name}` (line {loss.line})" if loss is not None else "your loss"
    if loss is not None and loss.implied:
        loss_words = f"{loss.implied} {loss.name}, the loss your output error at line {loss.line} implies (your program computes none)"
    elif loss is not None and result.maximised:
        loss_words = f"−`{loss.name}` (line {loss.line}: your loop climbs `{loss.name}`)"
    wrong = result.wrong
    factors = [m.factor for _, m in wrong if m.proportional and m.factor is not None]
    evidence = _evidence(result)
    flipped = _flipped_against_the_rest(result)
    if flipped is not None:
        yield from _flipped_findings(result, flipped, path, loss_words, evidence)
        return
    # the number of outputs against a loss the program writes as a mean over every entry is two means in one loss,
    # not a scale the program chose, even where the loss is only reported (a mean printed now and then)
    written = loss is not None and loss.implied is None
    if result.common_factor is not None and (written or not result.program_scale):
        if (outputs := _over_outputs(result, source, factors[0])) is not None:
            yield _mean_over_outputs(result, outputs, path, evidence)
            return
        if written and (divided := _rows_only(result, source, factors[0])) is not None:
            yield _rows_only_finding(result, divided, path, evidence)
            return
    if result.program_scale:  # (a factor the arrays show only nearly too: `StepResult.program_scale`)
        return  # a loss chosen here or only reported (a mean printed now and then), or no learning rate: the scale is the program's
    if result.common_factor is not None and not _rises_with_it(result) and not _made_at_a_line(result, factors[0], source):
        pattern, what, advice = _factor_words(factors[0], True, result.batch_sizes)
        names = ", ".join(f"`{m.name}`" for _, m in wrong)
        first = wrong[0][0]
        origin = _carrying(result, factors[0])
        since = f", from `{origin.name}` (line {origin.line}) on" if origin is not None else ""
        twice = getattr(result, "divided_twice", None) if origin is None else None
        at = origin.line if origin is not None else twice.first.line if twice is not None else first.site.line
        # `w -= lr * gradient(w, X, y)` beside `loss(w, X, y)`: the user's pair of functions, the factor a mistake in the gradient's
        paired = origin is None and twice is None and loss is not None and loss.paired and not first.site.file
        formed = returned_at(source.tree, first.gradient_name or first.site.gradient) if paired else None
        if formed is not None:
            at, since = formed, f", formed at line {formed} of the gradient function your update calls"
        if twice is not None:  # `dz2 = (p - yb) / m` and `dW2 = h.T @ dz2 / m`: the mean over the batch taken twice
            again = sorted({d.line for d in twice.again} - {twice.first.line})
            later = f"line{'s' if len(again) > 1 else ''} {_lines(again)} divide{'' if len(again) > 1 else 's'}" if again else "the same statement divides"
            since = (
                f", because line {twice.first.line} divides by `{twice.first.text}` ({twice.batch}), which already makes it the "
                f"gradient of the mean over the batch, and {later} by `{twice.first.text}` again"
            )
            advice = f"divide by `{twice.first.text}` only once (at line {twice.first.line} or where each gradient is computed, not both)"
        yield rule(NAME).finding(
            f"every update of your training step ({names}, line {first.site.line}) follows {what}, {loss_words}{since}: "
            f"training works as if the learning rate were multiplied by {_number(factors[0])}; {advice or 'remove the factor'}, "
            "or compute the loss the gradients belong to",
            severity="error" if twice is not None or paired else "warning",  # two divisions on one chain: a mistake, not a rate of the program's
            param=wrong[0][1].name,
            file=path,
            line=at,
            highlight=tuple(sorted({first.site.line, at, *(d.line for d in (twice.again if twice is not None else ()))})),
            pattern=pattern,
            measured=factors[0],
            evidence=evidence,
        )
        return
    culprit = result.first_wrong_adjoint
    if _one_parameters_own(result):
        culprit = None  # `dW1` paired with `W1`: one wrong gradient, which the others are not computed from
    if all(m.unused for _, m in wrong):
        culprit = None  # a parameter the loss never reads has no gradient an adjoint could get wrong
    if culprit is not None and loss is not None and step.inner_cuts and on_other_samples(step, loss) and not _same_call(step, loss, wrong):
        # the batch a function the pass calls cuts by an index it draws (`self.model.loss(self.X[idx], self.y[idx])` in a
        # solver's `_step()`) beside a loss the loop reports over the whole data set (`self.model.loss(self.X, self.y)`):
        # no adjoint of the step's is one of that loss, right or wrong; the updates follow another function of the parameters
        culprit = None
    if getattr(result, "other_loss", None) is not None and loss is not None and culprit is None:
        yield _of_another_loss(result, source, loss_words, evidence)
        return
    common = bool(factors) and len(factors) == len(wrong) and all(abs(f - factors[0]) <= SAME_FACTOR * abs(factors[0]) for f in factors)
    # a parameter neither the loss nor its gradient moves (a bias a batch norm takes out again) says nothing either way
    judged = [m for _, m in result.parameters if m.wrong or not m.unused]
    zero = all(m.factor is None and not m.unused for _, m in wrong)  # the gradients the updates read are zero: no mode of a loss explains that
    explained = any(m.accumulated is not None or m.penalty_left_out is not None for _, m in wrong)  # the numbers say how they are wrong
    # every update climbing the loss: the gradient of one network in another mode, or on other samples, still points downhill
    climbs = all(m.factor is not None and m.factor < 0 for _, m in wrong)
    if (
        len(wrong) == len(judged) and culprit is None and not common and not zero and not explained and not climbs
        and loss is not None and (_method_loss(loss) or on_other_samples(step, loss)) and not _same_call(step, loss, wrong)
    ):  # fmt: skip
        # `network.loss(x, t)` runs in inference mode (dropout off, batch norm on running averages), or on
        # all the data while `network.gradient(x[idx], t[idx])` trains on a minibatch: every update "wrong"
        # by unrelated factors says the two are not one function, not that the gradients are wrong; a note
        # says so, so the measured disagreement never stands unexplained beside "no problems found"
        yield _two_functions(result, loss_words, evidence, path)
        return
    if culprit is not None and isinstance(culprit[0], AtStep):
        yield _through_time(result, culprit[0], culprit[1], loss_words, evidence, path)
        return
    if culprit is not None:
        adjoint, measured = culprit
        keys = {re.sub(r"\W", "", m.name.rsplit("[", 1)[-1].rsplit(".", 1)[-1]) for _, m in result.parameters}
        right = [a for a, m in result.adjoints if not m.wrong and not m.inconclusive and a.forward not in keys]  # `dW2` of `W2` is a parameter's gradient
        inner = isinstance(adjoint, InnerAdjoint)
        computed_from = set(adjoint.reads) if inner else reads(step.prefix[adjoint.index])
        beside_cache = inner and adjoint.handed  # `backward(ddiff, cache2)`: an expression handed beside `f2`'s cache
        inputs = list(dict.fromkeys(a.name for a in right if a.name in computed_from and not (beside_cache and getattr(a, "handed", False))))
        factor = _factor(result, measured)
        pattern, what, advice = _factor_words(factor, _proportional(result, measured, factor), result.batch_sizes)
        forward = _shown(step, adjoint.forward)
        diagnosis = f"`{adjoint.name}` (line {adjoint.line}) is {what} with respect to `{forward}`"
        if beside_cache:
            diagnosis = (
                f"`{adjoint.name}`, handed at line {adjoint.line} to the backward of `{forward}` (line {adjoint.forward_at.line}) with its cache, "
                f"is {what} with respect to `{forward}`"
            )
        if inputs:
            diagnosis += f", although {_names(inputs)}, which it is computed from, {'is' if len(inputs) == 1 else 'are'} right"
        elif right:
            diagnosis += f", the first wrong one from the loss backwards ({_names([a.name for a in right])} {'is' if len(right) == 1 else 'are'} right)"
        twice = misapplied(source.tree, adjoint.line) if source.tree is not None else None
        if measured.output_of is not None:
            activation, output = measured.output_of
            name = _SLOPES[activation][0]
            pattern = "missing-activation-derivative"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is the gradient with respect to `{output}`, {name}'s output, "
                f"where the gradient with respect to `{forward}`, its input, is needed: the derivative of {name} is left out"
            )
            advice = _slope_advice(adjoint.name, activation, output)
        elif measured.extra_slope is not None:
            activation, output, factor = measured.extra_slope
            pattern = "extra-activation-derivative"
            holds = (
                f" (with a cross-entropy, `{output} - y` is the gradient with respect to the sigmoid's input)"
                if activation == "sigmoid" and _loss_reads(loss, output)
                else ""
            )
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) multiplies by `{factor}`, {_SLOPES[activation][0]}'s derivative, a "
                f"gradient that already holds it{holds}"
            )
            advice = f"remove the factor `{factor}`"
        elif twice is not None:
            pattern, diagnosis, advice = _misapplied_words(adjoint, twice)
        elif getattr(measured, "argument", None) is not None:
            helper, given, other = measured.argument
            pattern = "helper-argument"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is {what} with respect to `{forward}` because it hands `{helper}` "
                f"`{given}`: with `{helper}({other})` in its place it is the right gradient (`{helper}` itself is right, its argument is not)"
            )
            advice = f"write `{helper}({other})` at line {adjoint.line}"
        elif not inner and source.tree is not None and (again := reapplied(source.tree, adjoint.line)) is not None:
            pattern = "derivative-of-output"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is wrong because `{again.call}` applies {again.activation} again to "
                f"`{again.given}`, which is already {again.activation}'s output (line {again.given_line})"
            )
            advice = f"{again.activation}'s derivative from its output is `{again.fix}`: write that in place of the derivative at line {adjoint.line}"
        elif not inner and (dropped := left_out_mask(step.prefix, adjoint.forward, loss.line if loss is not None and loss.in_prefix else None)) is not None:
            pattern = "mask-left-out"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is not the gradient of your loss with respect to `{forward}`: the forward pass "
                f"multiplies `{forward}` by the mask `{dropped.mask}` drawn at line {dropped.drawn} (`{dropped.applied}`, line "
                f"{dropped.applied_line}), and the backward pass never multiplies by it again"
            )
            advice = f"multiply the gradient coming back from `{dropped.applied}` by `{dropped.mask}` before `{adjoint.name}` goes on"
        elif inner and loss is not None and (handed := _handed_otherwise(source, step, adjoint, loss, _state_values(result))) is not None:
            parameter, call_line, given, expected = handed
            pattern = "wrong-argument"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is computed from `{parameter}`, which line {call_line} hands "
                f"`{adjoint.adjoint.function.rpartition('.')[2]}` as `{given}`, while {loss_words} takes its `{parameter}` as `{expected}`"
            )
            advice = f"pass `{expected}` as `{parameter}` at line {call_line}, the value your loss is computed with"
        elif pattern == "wrong-derivative" and getattr(result, "other_loss", None) is not None:
            other = result.other_loss  # every update follows another usual loss: the output error this adjoint starts from is that loss's
            pattern = "gradient-of-another-loss"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is the gradient of the {other.implied}, {other.name}, with respect to `{forward}`, "
                f"not of {loss_words}, the loss your program computes, and every update follows that other loss"
            )
            advice = f"write `{adjoint.name}` as the derivative of {loss_words} with respect to `{forward}`"
        elif pattern == "wrong-derivative":
            fed = list(adjoint.fed) if inner else consumers(step, adjoint.forward, adjoint.index)
            adjoint_of = {a.forward: a.name for a in (step.inner if inner else step.adjoints)}
            terms = [f"`{adjoint_of[t]}` × ∂`{t}`/∂`{forward}`" for t, _ in fed if t in adjoint_of]
            applied = activation_applied(source.tree, fed[0][1]) if len(fed) == 1 and source.tree is not None else None
            if applied is not None and applied.given == forward and applied.output == fed[0][0]:
                upstream = f"`{adjoint_of[applied.output]}`" if applied.output in adjoint_of else f"the gradient with respect to `{applied.output}`"
                advice = (
                    f"`{applied.output}` is the {applied.shown} of `{forward}` (line {fed[0][1]}), so `{adjoint.name}` must be "
                    f"{upstream} × the {applied.shown}'s derivative, `{applied.derivative}`"
                )
            elif terms and len(terms) == len(fed):
                lines = ", ".join(str(line) for _, line in fed)
                advice = (
                    f"`{forward}` feeds {_names([t for t, _ in fed])} (line{'s' if len(fed) > 1 else ''} {lines}), "
                    f"so `{adjoint.name}` must be {' + '.join(terms)}"
                )
            else:
                advice = f"re-derive it as the derivative of {loss_words} with respect to `{forward}`"
        params = ", ".join(dict.fromkeys(f"`{m.name}`" for _, m in wrong))
        line = handed[1] if pattern == "wrong-argument" else adjoint.line  # the call that hands the wrong value
        used = None  # the line a miscounted count is used at, beside the count's own
        helper = _helper_computing(source, adjoint, plain=pattern != "wrong-derivative") if pattern in ("wrong-derivative", "scaled", "factor-of-two", "sign-flipped") and not beside_cache else None
        behind = None
        if helper is None and pattern in ("wrong-derivative", "scaled", "factor-of-two", "sign-flipped"):
            behind = _helper_behind_mask(source, step, adjoint)  # `dz = da * (z > 0)`, `da = avgpool_backward(dp)`
        cached = cached_wrong_side(source.tree, helper[1]) if helper is not None and source.tree is not None else None
        if cached is not None:  # `dh = sigmoid_backward(da, cache)`, the cache `sigmoid_forward` built holding the wrong side
            pattern, line = "cache-wrong-side", cached.line
            diagnosis = f"{cached_words(cached)}; `{adjoint.name}` (line {adjoint.line}), which `{cached.backward}` returns, is therefore {what} with respect to `{forward}`" + (
                f", although {_names(inputs)}, which it is computed from, {'is' if len(inputs) == 1 else 'are'} right" if inputs else ""
            )
            advice = cached_advice(cached)
        elif helper is not None and pattern == "wrong-derivative" and helper[0] in (derivatives_right or {}):
            # `dZ1 = dA1 * sigmoid_derivative(cache["A1"])`: the helper was checked right against its function, so what the
            # statement hands it is wrong, and the statement stays named
            diagnosis += (
                f"; `{helper[0]}` (line {helper[1]}), which it multiplies by, is right on its own (checked against "
                f"`{derivatives_right[helper[0]]}`): what line {adjoint.line} hands it is what is wrong"  # type: ignore[index]
            )
        elif helper is not None:  # `dout = huber_grad(out - y, delta)`: the wrong value is made inside the helper
            name, line = helper
            diagnosis += f", and `{name}` computes it (line {line})"
            counted = _miscounted_in(source, name, line)
            if counted is not None:  # `m = N` read by `dx = inv_std / m * (...)`: the count is what is wrong
                diagnosis += f"; {count_words(counted, line, fix=False)}"
                advice = f"write `{counted.fix}`" if counted.fix else f"make `{counted.name}` (line {counted.line}) the number of values the forward pass reduces over"
                used, line, pattern = line, counted.line, "miscounted"
        elif behind is not None:
            masked, name, line = behind
            diagnosis += f": it only masks `{masked}`, which `{name}` returns (line {line}), where the error is made"
            advice = f"re-derive what `{name}` returns as the derivative of its forward pass"
        elif pattern == "wrong-derivative" and source.tree is not None and (
            mutated := (mutated_argument(source.tree, adjoint.line, inputs) if inputs else None)
            or mutated_argument(source.tree, adjoint.line, [adjoint.name], after=True)
        ) is not None:
            # `da = dr + ...` with `dr` right where it was computed: `relu_backward(dr, z2)` wrote into it since (or
            # into `dskip` itself, read at the end of the pass, after `leaky_backward(dskip, z2)` changed it)
            alias = f": `{mutated.alias_text}` (line {mutated.alias}) makes it the argument itself" if mutated.alias_text else ""
            diagnosis += (
                f"; but `{mutated.callee}({mutated.name}, ...)` (line {mutated.call}) writes into `{mutated.name}` in place "
                f"(line {mutated.write}){alias}, so " + (
                    "what the pass goes on with is not what it computed" if mutated.name == adjoint.name else f"line {adjoint.line} reads it changed"
                )
            )
            advice = f"work on a copy in `{mutated.callee}`" + (f" (`{mutated.alias_text}.copy()`)" if mutated.alias_text else "")
            line, pattern = mutated.alias or mutated.write, "argument-mutated"
        elif pattern == "wrong-derivative" and source.tree is not None and (bare := scale_without_mask(source.tree, adjoint.name, adjoint.line, adjoint.forward)) is not None:
            # `dh2 = dh2 / keep` beside the forward's `h2 = h2 * m2 / keep`: the scale kept, the mask left out (not a rescale
            # of a value already wrong, which `rescaled_after` would blame the line before for)
            masks = " and ".join(f"`{m}`" for m in bare.masks)
            pattern = "mask-left-out"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is not the gradient of your loss with respect to `{forward}`: the forward pass "
                f"multiplies `{forward}` by {masks} as well as by the scale (`{bare.forward_text}`, line {bare.forward_line}), and line "
                f"{adjoint.line} (`{bare.statement}`) applies the scale alone"
            )
            advice = f"multiply by {masks} there too: `{bare.fix}`"
        elif pattern == "wrong-derivative" and inner and source.tree is not None and (unread := mask_never_read(source.tree, adjoint.line, adjoint.forward)) is not None:
            # `h2 = h2 * m2` in `forward`, `m2` handed to `backward` in its cache and never read there
            pattern = "mask-left-out"
            diagnosis = (
                f"`{adjoint.name}` (line {adjoint.line}) is not the gradient of your loss with respect to `{forward}`: the forward pass "
                f"multiplies `{forward}` by the mask `{unread.mask}` drawn at line {unread.drawn} (`{unread.applied}`, line "
                f"{unread.applied_line}), and the function computing `{adjoint.name}` never reads `{unread.mask}`"
            )
            advice = f"multiply the gradient coming back from `{unread.applied}` by `{unread.mask}` before `{adjoint.name}` goes on"
        elif (
            pattern == "wrong-derivative" and not getattr(adjoint, "file", None) and source.tree is not None
            and (lost := term_overwritten_in_loop(source.tree, adjoint.line)) is not None and lost[0] == adjoint.name
        ):  # fmt: skip
            # `grad_h = (1 - neg[k]) * out[k]` in the loop over the negatives, where `+=` adds each term to the one before it
            pattern = "term-overwritten"
            diagnosis += (
                f": line {adjoint.line} binds `{adjoint.name}` anew at every pass of the loop at line {lost[2]}, so the value line "
                f"{lost[1]} gave it and every earlier pass's term are thrown away and only the last pass's term is left"
            )
            advice = f"add each term to it instead (`{adjoint.name} += ...`)"
        elif not getattr(adjoint, "file", None) and (scattered := scattered_one_hot(source.tree, adjoint.line)) is not None:
            # `dlogits = (P - Y) / N` right as written: the targets it subtracts were built a column at a time
            line, pattern = scattered.line, "one-hot-scattered"
            diagnosis += (
                f": it subtracts `{scattered.target}` (line {scattered.bound_at}), built by `{scattered.text}` (line {scattered.line}), "
                f"which puts a 1 in every row at the column of every label of the batch: `{scattered.target}` is not the one-hot "
                f"of the labels your loss reads (one class per row)"
            )
            advice = f"write `{scattered.fix}`, one 1 per row at that row's label"
        elif (
            not inner and source.tree is not None
            and (axis := step_mask_axis(source.tree, step.prefix[adjoint.index], list(step.prefix[: adjoint.index]))) is not None
        ):  # fmt: skip
            # `mask = (a == a.max(axis=1, keepdims=True))` read by `da = mask * dpooled[:, :, None]`, the forward's max over axis 2
            line, pattern = axis.line, "mask-axis"
            diagnosis += (
                f": it routes the gradient through `{axis.statement}` (line {axis.line}), which finds the max's winners of "
                f"`{axis.array}` over axis {axis.written}, while the forward pass takes the max over axis {axis.forward}"
            )
            advice = f"take the max over axis {axis.forward} at line {axis.line}, the axis the forward pass takes it over"
        elif pattern == "wrong-derivative" and source.tree is not None and (earlier := rescaled_after(source.tree, adjoint.name, adjoint.line)) is not None:
            line = earlier  # `dscores[:, y] -= 1` then `dscores /= N`: a rescale cannot make it wrong otherwise than by a factor
            diagnosis += f" (line {adjoint.line} only rescales it: it is already wrong after line {earlier})"
        elif (
            pattern == "wrong-derivative" and inner and source.tree is not None
            and (off := _off_axis(source.tree, result, adjoint)) is not None
        ):  # fmt: skip
            line = off.line  # `s1 = dxhat.sum(axis=1)` read by `dx = ...` while `forward` reduces over axis 2
            diagnosis += (
                f"; line {off.line} (`{off.text}`) reduces over axis {off.axis}, while `{off.forward}` reduces over axis {off.forward_axis} only"
            )
            advice = f"reduce over axis {off.forward_axis} at line {off.line}, the axis the forward pass reduces over"
            pattern = "summed-over-wrong-axis"
        elif (
            pattern == "wrong-derivative" and not inner and source.tree is not None
            and (earlier := masked_after(source.tree, adjoint.name, adjoint.line, adjoint.forward)) is not None
        ):  # fmt: skip
            line = earlier  # `dh = dout @ W2.T` then `dh[h <= 0] = 0`: the ReLU's mask keeps what the line before made
            diagnosis += f" (line {adjoint.line} only sets it to zero where `{forward}` is not positive, the ReLU's mask: it is already wrong after line {earlier})"
        yield rule(NAME).finding(
            f"{diagnosis}, so the updates of {params} in your training step do not follow the gradient of {loss_words}: {advice}",
            param=adjoint.name,
            file=path,
            line=line,
            highlight=tuple(sorted({line, adjoint.line, *([used] if used else []), *(m.site.line for m, _ in wrong)})),
            pattern=pattern,
            measured=measured.error,
            evidence=evidence,
        )
        return
    if result.left_out is not None:
        yield _left_out(result, loss_words, evidence, path)
        return
    if (unvisited := _unvisited_steps(result, source.tree)) is not None:
        yield _unvisited_finding(result, unvisited, source, loss_words, evidence, path)
        return
    if (between := _between(result, source)) is not None:
        yield _between_finding(result, between, loss_words, evidence, path)
        return
    if (tied := _tied_overwrite(result, source)) is not None:
        yield _tied_finding(result, tied, loss_words, evidence, path)
        return
    if (shared := _shared_source(result, source)) is not None:
        yield _shared_finding(result, shared, loss_words, evidence, path, source.tree)
        return
    if zero and source.tree is not None and (rebound := rebound_gradients(source.tree)):
        yield _rebound_finding(result, rebound, loss_words, evidence, path)
        return
    if zero and (reset := reset_after_backward(step.prefix)) is not None:
        line, call, backward = reset
        yield rule(NAME).finding(
            f"the updates of {_names([m.name for _, m in wrong])} in your training step read gradients that are all zero although "
            f"{loss_words} depends on them: `{call}` (line {line}) sets them to zero after the backward pass (line {backward}) "
            f"computed them and before the update (line {step.update_line}) reads them; call it at the start of the pass, before the backward pass",
            param=wrong[0][1].name,
            file=path,
            line=line,
            highlight=tuple(sorted({line, backward, step.update_line})),
            pattern="reset-before-update",
            evidence=evidence,
        )
        return
    if culprit is None and (twice := _misapplied_in_step(result, source)) is not None:
        yield _misapplied_finding(result, twice, loss_words, evidence, path, source)
        return
    borrowed = _borrowed(result, source.tree)
    for moved, measured, owner, own in borrowed:
        yield rule(NAME).finding(
            f"the update of `{measured.name}` in your training step (line {moved.site.line}) uses `{moved.site.gradient}`, the gradient "
            f"of `{owner}` (whose own update follows {loss_words} with it), not the gradient of `{measured.name}`: use `{own}` "
            f"(line {step.assigned[own]})",
            param=measured.name,
            file=path,
            line=moved.site.line,
            highlight=tuple(sorted({moved.site.line, step.assigned[own]})),
            pattern="another-parameters-gradient",
            measured=measured.error,
            evidence=evidence,
        )
    if borrowed and len(borrowed) == len(wrong):
        return
    wrong = [(moved, measured) for moved, measured in wrong if not any(moved is b[0] for b in borrowed)]
    # `self.params[k] = self.params[k] - lr * g[k]` moving arrays the loss does not read: unshared-parameter
    # names that update, at its line (`unshared_parameter.unused_in_replay`)
    wrong = [(moved, measured) for moved, measured in wrong if not rebinding_unused(moved, measured, source)]
    if not wrong:
        return
    groups: dict[tuple[str | None, int, str], list[tuple[Any, Any]]] = {}
    target_first: list[Any] = []
    keyed: set[int] = set()  # the gradients placed at the statement that writes their dict entry, past the call that returns the dict

    def ordered() -> Any:
        """The error written target minus output, where no update follows the gradient (`_target_first`)."""
        if not target_first:
            none_right = not any(not ms.wrong and ms.factor is not None for _, ms in result.parameters)
            target_first.append(_target_first(source, step) if none_right else None)
        return target_first[0]

    for moved, measured in wrong:
        line, file = (measured.line, measured.file) if measured.line else (moved.site.line, moved.site.file)
        # a parameter walked by a dict's keys under a name of its own (`model.Wh` of `model.params().items()`): its entry
        # `g["Wh"]` forms its gradient, unless the sum is never reset (its update's) or a cut loop's (its own)
        plain = measured.accumulated is None and measured.truncated is None
        # an update that adds the gradient itself (factor -1, `P[k] += 0.005 * mh / ...`): the update is the mistake, one finding at it
        ascent = moved.site.sign > 0 and measured.factor is not None and abs(measured.factor + 1) < SAME_FACTOR and not moved.site.file
        if ascent:
            pass
        elif (
            not measured.line and not moved.site.file and source.tree is not None
            and (formed := _gradient_line(source.tree, measured.name, moved.gradient_name or moved.site.gradient)) is not None
        ):  # fmt: skip
            line = formed  # `param -= lr * grad` over `zip(params, grads)`: `dWhb += ...` is where Whb's gradient is formed
        elif (
            not measured.line and not moved.site.file and source.tree is not None
            and (formed := _keyed_line(source.tree, measured.name, moved.gradient_name or moved.site.gradient, named=plain)) is not None
        ):  # fmt: skip
            line = formed  # `P[k] = P[k] - lr * G[k]` over the dict's keys: `G["b1"] = ...` is where P["b1"]'s gradient is formed
        elif not measured.line and not moved.site.file and (formed := returned_at(source.tree, moved.gradient_name or moved.site.gradient)) is not None:
            line = formed  # `w -= lr * gradient(w, X, y)`: the file's gradient function forms it where it returns it
        elif not measured.line and not moved.site.file and (formed := _stored_by_owner(result, source, moved, measured)) is not None:
            line = formed  # `layer.b -= lr * layer.db` in a loop over the layers: `self.db = ...` in the class's backward forms it
        elif not measured.line and not moved.site.file and (formed := _zipped_line(source.tree, measured.name, moved.gradient_name or moved.site.gradient)) is not None:
            line = formed  # `for w, g in zip(layers, grads): w -= rate * g` of `grads = backprop(...)`: where `backprop` forms its entry
        elif (
            measured.line and not measured.file and (read := unpacked_from(source.tree, measured.line, moved.gradient_name or moved.site.gradient)) is not None
            and (formed := returned_at(source.tree, read)) is not None
        ):  # fmt: skip
            line = formed  # `gw, gb = grad(w, b)` then `w = w - lr * gw`: formed where `grad` returns it
        elif (
            measured.line and not measured.file and not moved.site.file and source.tree is not None
            and _bound_by_call(source.tree, measured.line, moved.gradient_name or moved.site.gradient)
            and (formed := _keyed_line(source.tree, measured.name, moved.gradient_name or moved.site.gradient, named=plain)) is not None
        ):  # fmt: skip
            line = formed  # `loss, grads = gradients(X, y)` then `params[k] -= lr * grads["d" + k]`: where `grads["db1"]` is written
            keyed.add(id(measured))
        elif (
            measured.line and measured.line == moved.site.line and not measured.file and not moved.site.file and source.tree is not None
            and measured.accumulated is None and measured.truncated is None  # a sum never reset is its update's, a cut loop its own
            and (formed := _keyed_line(source.tree, measured.name, moved.gradient_name or moved.site.gradient, named=True)) is not None
        ):  # fmt: skip
            line = formed  # `w -= lr * np.clip(g[name], -5, 5)` over `params.items()`: where `g["Uh"]` is formed
            keyed.add(id(measured))
        pattern = (
            "not-used" if measured.unused
            else "penalty-factor" if getattr(measured, "penalty_factor", None) is not None
            else "penalty-left-out" if measured.penalty_left_out is not None and _penalised(step, measured.name, source.tree)
            else "accumulated-across-steps" if measured.accumulated is not None
            else "widened-gradient" if measured.widened is not None
            else "broadcast-gradient" if measured.broadcast is not None
            else _factor_pattern(result, measured)
        )  # fmt: skip
        if pattern == "wrong-derivative" and measured.truncated is not None:
            line = -measured.truncated[1]  # one warning per loop cut short, whichever lines its gradients are added at
        elif pattern == "wrong-derivative" and file is None and line and source.tree is not None and (behind := reapplied_behind(source.tree, line)) is not None:
            line, pattern = behind[0], "derivative-of-output"  # `dW1 = X.T @ dz1` of `dz1 = da1 * (1 - np.tanh(a1) ** 2)`: one finding there
        if pattern == "sign-flipped" and file is None and moved.site.sign < 0 and (order := ordered()) is not None:
            line = order.line  # every update climbs from one error written target minus output: one finding, there
        if pattern == "accumulated-across-steps" and getattr(result, "window", 1) > 1 and file is None:
            line = moved.site.line  # sums an update reads once every few passes: one finding for the update, placed by `_never_emptied`
        elif (
            pattern == "accumulated-across-steps" and file is None and line == moved.site.line and measured.added_at is not None
            and re.search(r"\.\w+$", measured.accumulated[0])
        ):  # fmt: skip
            line = measured.added_at  # `self.dW += ...` in the layer's backward, read by an optimizer's `step` (`layer.dW`): where the sum is made
        elif pattern == "accumulated-across-steps" and not measured.line:  # sums whose adding line is not known: one finding, at the first update
            line = next((at for (f, at, p), ms in groups.items() if f == file and p == pattern and not ms[0][1].line), line)
        groups.setdefault((file, line, pattern), []).append((moved, measured))
    for (file, line, pattern), members in groups.items():
        moved, measured = members[0]
        names = _names([m.name for _, m in members])
        update_lines = sorted({m.site.line for m, _ in members})
        elsewhere = {m.site.file for m, _ in members} - {None}  # an update function imported from another file
        where = (f"{os.path.basename(elsewhere.pop())} " if len(elsewhere) == 1 else "") + f"line{'s' if len(update_lines) > 1 else ''} {', '.join(map(str, update_lines))}"
        shown = sorted({line, *(m.site.line for m, _ in members if m.site.file == file), *_inline_velocities(members, file)})
        cut = measured.truncated if pattern == "wrong-derivative" else None
        if cut is not None:
            length, loop_line, value = cut
            computed_at = sorted({m.line or m2.site.line for m2, m in members})
            line = computed_at[0]
            yield rule(NAME).finding(
                f"the update{'s' if len(members) > 1 else ''} of {names} in your training step ({where}) follow{'' if len(members) > 1 else 's'} "
                f"{'gradients' if len(computed_at) > 1 else 'a gradient'} computed at line{'s' if len(computed_at) > 1 else ''} "
                f"{', '.join(map(str, computed_at))}, inside a backward loop through time cut short after `{length}` = {value} steps "
                f"(line {loop_line}): truncated backpropagation through time, close to the gradient of {loss_words} but not "
                f"equal to it, by design; set `{length}` to the sequence length to check the full gradient",
                severity="warning",
                param=measured.name,
                file=path,
                line=loop_line,
                highlight=tuple(sorted({loop_line, *computed_at})),
                pattern="truncated-bptt",
                measured=max(m.error for _, m in members),
                evidence=evidence,
            )
            continue
        if pattern == "not-used":
            never_read = [m.name for _, m in members if _plain(m.name) and not any(_reads_name(s, m.name) for s in step.prefix)]
            again = next(((m.name, *found) for _, m in members if m.name.isidentifier() and (found := reinitialised(step.prefix, m.name)) is not None), None)
            advice = (
                f"`{again[0]}` is given new values at line {again[1]} at the start of every pass (`{again[2]}`), so each update "
                "is thrown away before the next forward pass: initialise it once, before the loop"
                if again is not None
                else
                f"your training step never reads {_names(never_read)} before updating {'them' if len(never_read) > 1 else 'it'}; "
                "look for another weight typed in its place in the forward pass"
                if never_read
                else "the forward pass computes with another array (a copy made before training, or a rebound name); "
                "update the array the forward pass uses, in place"
            )
            message = (
                f"the update{'s' if len(members) > 1 else ''} of your training step ({where}) move{'' if len(members) > 1 else 's'} {names}, "
                f"but {loss_words} does not change when {'they do' if len(members) > 1 else 'it does'}: {advice}"
            )
        elif pattern == "derivative-of-output":
            again = reapplied(source.tree, line)
            plural = len(members) > 1
            gradients = _names(list(dict.fromkeys(_tidy(m.gradient_name or m.site.gradient) for m, _ in members)))
            message = (
                f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}, "
                f"which {'are' if plural else 'is'} not the gradient of {loss_words}: line {line} applies {again.activation} again "
                f"(`{again.call}`) to `{again.given}`, which is already {again.activation}'s output (line {again.given_line}); "
                f"{again.activation}'s derivative from its output is `{again.fix}`: write that in place of the derivative at line {line}"
            )
        elif pattern == "accumulated-across-steps" and getattr(result, "window", 1) > 1 and file is None:
            line, shown, message = _never_emptied(source, step, result.window, members, where, loss_words, line, shown)
        elif pattern == "accumulated-across-steps":
            message = _accumulated_words(members, where, loss_words)
            if file is None and (reset := _reset_commented_out(source, step)) is not None:
                line, shown = reset[0], sorted({*shown, reset[0]})  # `# self.zero_grad()` in the pass: the fix is to put it back
                message += f"; line {reset[0]} of the step holds the call that would reset them, commented out (`{reset[1]}`): put it back"
            elif file is None and (before := _reset_before_loop(source, members)) is not None:
                line, shown = before, sorted({*shown, before})  # `grads[k].fill(0.0)` above the loop: the fix is to move it in
                message += f"; the reset at line {before} runs once, before the loop: move it to the start of the loop's body"
        elif pattern == "penalty-left-out" and source.tree is not None and (flipped := _penalty_subtracted(source.tree, step, measured.penalty_left_out, _state_values(result))) is not None:
            at, term = flipped
            line, shown, pattern = at, sorted({*shown, at}), "penalty-sign-flipped"
            plural = len(members) > 1
            message = (
                f"the update{'s' if plural else ''} of {names} in your training step ({where}) follow{'' if plural else 's'} the gradient of "
                f"{loss_words} less twice its L2 penalty's: line {at} subtracts `{term}`, the gradient of the penalty your loss adds, "
                f"so training pulls the weights away from zero instead of towards it; add it (`+ {term}`)"
            )
        elif pattern == "penalty-left-out":
            message = _penalty_words(members, where, loss_words, step, line)
        elif pattern == "penalty-factor":
            message = _penalty_factor_words(members, where, loss_words)
        else:
            factor = _factor(result, measured)
            _, what, advice = _factor_words(factor, _proportional(result, measured, factor), result.batch_sizes)
            gradients = _names(list(dict.fromkeys(_tidy(m.gradient_name or m.site.gradient) for m, _ in members)))
            there = f"{os.path.basename(measured.file)} " if measured.file else ""
            computed = f", computed at {there}line {measured.line}," if measured.line and (measured.line, measured.file) != (moved.site.line, moved.site.file) else ","
            finished = getattr(measured, "finished_at", None)
            if finished is not None and measured.line == line and file is None:
                # `np.add.at(dV, ...)` then `dV += lam * V`: the error is no multiple of `V`, so the first term is wrong
                computed = (
                    f", computed at line {line} and finished at line {finished} with `{measured.name}`'s penalty (its error is no multiple of "
                    f"`{measured.name}`, so it is in line {line}'s term, not in the penalty),"
                )
                shown = sorted({*shown, finished})
            if (not measured.line or id(measured) in keyed) and file is None and line and line != moved.site.line:  # found by the gradient's name (`_gradient_line`)
                computed = f", formed at line {line} (`{ast.unparse(next(n for n in ast.walk(source.tree) if isinstance(n, ast.stmt) and n.lineno == line)).strip()}`),"
            plural = len(members) > 1
            # `theta = theta + alpha * gradient` with `gradient` the loss's own: the update's sign is wrong, not the gradient's
            climbs = pattern == "sign-flipped" and factor is not None and abs(factor + 1) < SAME_FACTOR and all(m.site.sign > 0 for m, _ in members)
            if pattern == "broadcast-gradient":
                what, advice = _broadcast_words(measured.broadcast, measured.shape, plural)
            elif pattern == "widened-gradient":
                what, advice = _widened_words(measured.widened, measured.shape, plural)
            elif plural:
                what, advice = _plural(what), _plural(advice)
            stale = None
            if pattern in ("wrong-derivative", "scaled"):
                # the gradient's statement, then the update itself (`W_out[o] -= lr * g * h` reads `h` there)
                stale = _stale(step, line, file, result.views) or _stale(step, moved.site.line, moved.site.file, result.views)
            if stale is not None:
                parameter, read_at, moved_at = stale
                line, shown = read_at, sorted({*shown, read_at, moved_at})
                pattern = "stale-weights"
                if read_at == moved.site.line and moved.site.file is None:
                    computed = ","  # read by the update itself: where its parts were computed says nothing
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} computed from `{parameter}` at line {read_at}, after line {moved_at} has already "
                    f"updated {_moved_words(parameter, _owners_of_views(step, result.views))}: compute every gradient of the step before updating any parameter (move the update at "
                    f"line {moved_at} below line {read_at})"
                )
            elif (left := _slope_left_out(source, pattern, line, file) or _slope_left_out(source, pattern, moved.site.line, moved.site.file)) is not None:
                applied = left.applied
                slope = f"({applied.output} > 0)" if applied.kind == "relu" else applied.derivative
                # the update itself multiplies by the slope in the correct program (`self.wih += lr * np.dot(e * h * (1 - h), x.T)`): named there
                line, shown, pattern = left.used_at if left.in_update else left.line, sorted({*shown, left.line, left.used_at}), "missing-activation-derivative"
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} not the gradient of {loss_words}: `{left.adjoint}` (line {left.line}) is the gradient with "
                    f"respect to `{applied.output}`, the {applied.shown}'s output, but line {left.used_at} uses it as the gradient with respect to "
                    f"the {applied.shown}'s input; multiply `{left.adjoint}` by `{slope}`{' in that update' if left.in_update else ''}"
                )
            elif pattern == "wrong-derivative" and (added := _repeated_index_add(source, result, line, file, moved.gradient_name or moved.site.gradient, _last_key(moved))) is not None:
                at, target, index, value = added
                line, shown, pattern = at, sorted({*shown, at}), "repeated-index-add"
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} not the gradient of {loss_words}: `{target}[{index}] += {value}` adds once for an index "
                    f"that appears several times in `{index}` (NumPy's indexed `+=` does not accumulate repeats); write "
                    f"`np.add.at({target}, {index}, {value})`"
                )
            elif (
                file is None and source.tree is not None and line and isinstance(key := _last_key(moved), str)
                and (crossed := crossed_entry(source.tree, line, key)) is not None
            ):  # fmt: skip
                at, stored_key, name, meant, fixed = crossed
                pattern, shown = "crossed-gradient", sorted({*shown, at, line})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}, "
                    f"which {'are' if plural else 'is'} not the gradient of {loss_words}: line {at} stores `{name}` (computed at line {line}) "
                    f"under `{stored_key!r}`, but `{name}` is another parameter's gradient, stored under its own key too, and `{meant}`, "
                    f"computed for this one, is never used; write `{fixed}`"
                )
                line = at
            elif pattern in ("wrong-derivative", "sign-flipped", "scaled") and file is None and source.tree is not None and line and (lost := term_overwritten_in_loop(source.tree, line)) is not None:
                name, started, loop_line = lost
                pattern, shown = "term-overwritten", sorted({*shown, started, loop_line, line})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} not the gradient of {loss_words}: line {line} binds `{name}` anew at every pass of the "
                    f"loop at line {loop_line}, so the value line {started} gave it and every earlier pass's term are thrown away and only "
                    f"the last pass's term is left; add each term to it instead (`{name} += ...`)"
                )
            elif pattern == "wrong-derivative" and file is None and source.tree is not None and line and (over := overwritten_sum(source.tree, line)) is not None:
                name, at, started = over
                pattern, shown = "sum-overwritten", sorted({*shown, at, started})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} not the gradient of {loss_words}: it is computed from `{name}`, which starts at 0 "
                    f"(line {started}) to sum over a loop, but line {at} overwrites it at every pass instead of adding to it; write `{name} += ...`"
                )
                line = at
            elif (
                pattern in ("factor-of-two", "scaled-by-batch-size") and factor is not None and abs(factor - 2) < SAME_FACTOR * 2 and file is None and source.tree is not None and line
                and (twice := added_twice(source.tree, line)) is not None
            ):  # fmt: skip
                first, written = twice
                pattern, shown = "added-twice", sorted({*shown, first, line})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} 2 × the gradient of {loss_words}: `{written}` is written twice, at lines {first} and {line}, "
                    f"with nothing changed between them, so the same term is added twice; delete the one at line {line}"
                )
            elif climbs and all(m.site.velocity is not None and written_sign(m.site.update) < 0 for m, _ in members):
                # `v = mu * v - lr * g` then `p -= v`: the velocity already holds minus the step
                velocity_line, velocity = moved.site.velocity
                line, shown = moved.site.line, sorted({*shown, velocity_line})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) subtract{'' if plural else 's'} "
                    f"`{moved.site.step}`, which `{velocity}` (line {velocity_line}) already sets to minus the learning rate times "
                    f"{gradients}, the gradient of {loss_words}, so every step climbs it (gradient ascent): add the velocity (`+=`) at line {moved.site.line}"
                )
            elif climbs and all(m.site.velocity is not None for m, _ in members):
                velocity_line, velocity = moved.site.velocity
                line, shown = velocity_line, sorted({*shown, velocity_line})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) add{'' if plural else 's'} a velocity "
                    f"that `{velocity}` (line {velocity_line}) moves along {gradients}, the gradient of {loss_words} itself, so every "
                    f"step climbs it (gradient ascent): subtract the gradient's step from the velocity at line {velocity_line}"
                )
            elif (
                pattern == "sign-flipped" and factor is not None and abs(factor + 1) < SAME_FACTOR and all(m.site.sign < 0 for m, _ in members)
                and (adding := [m for m, ms in result.parameters if m.site.sign > 0 and not ms.wrong and not ms.unused and m.site.velocity is None])
            ):  # fmt: skip
                # Rashid's `self.wih += lr * ...` beside `self.who -= lr * ...`, both from errors written target - output: the
                # updates that add are right, so the one that subtracts has the wrong sign, not the errors it reads
                line, shown = moved.site.line, sorted({*shown, moved.site.line})
                pattern = "update-sign-flipped"
                others = _names([ms.name for m, ms in result.parameters if m in adding])
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) subtract{'' if plural else 's'} "
                    f"{gradients}{computed} which {'are' if plural else 'is'} minus the gradient of {loss_words}: your errors already "
                    f"point downhill, so subtracting {'them' if plural else 'it'} climbs; the update{'s' if len(adding) > 1 else ''} of {others} "
                    f"(line {adding[0].site.line}) add{'' if len(adding) > 1 else 's'} {'their' if len(adding) > 1 else 'its'} step and "
                    f"descend{'' if len(adding) > 1 else 's'}: add the step (`+=`) at line {moved.site.line} too"
                )
            elif (
                pattern == "sign-flipped" and file is None and factor is not None and abs(factor + 1) < SAME_FACTOR
                and all(m.site.sign < 0 for m, _ in members) and not any(not ms.wrong and ms.factor is not None for _, ms in result.parameters)
                and (order := _target_first(source, step)) is not None
            ):  # fmt: skip
                # every update subtracts minus the gradient, and the backward it calls starts from `expected - output`
                line, shown = order.line, sorted({*shown, order.line})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) subtract{'' if plural else 's'} "
                    f"{gradients}{computed if measured.line else ','} which {'are' if plural else 'is'} minus the gradient of {loss_words}: `{order.function}` "
                    f"starts the backward pass from `{order.written}` (line {order.line}), the target minus the output, so every "
                    f"update climbs; write `{order.fix}`"
                )
            elif climbs:
                line = moved.site.line
                # `p.data += mu * v + lr * p.grad`: the gradient's term is the one to subtract, not the whole step
                term = added_term(moved.site) if moved.site.adaptive and moved.site.sign > 0 else None
                advice = f"subtract `{term}` instead of adding it" if term is not None else "subtract the step instead of adding it"
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) add{'' if plural else 's'} "
                    f"{gradients}{computed} which {'are' if plural else 'is'} the gradient of {loss_words} itself, so every step "
                    f"climbs it (gradient ascent): {advice}"
                )
            elif pattern == "wrong-derivative" and file is None and line and (helper := _helper_factor(source, line)) is not None:
                name, made, at, call = helper  # `layer_1_delta = ... * relu2deriv(layer_1)`: the derivative the program wrote once
                line, shown = made, sorted({*shown, made, at})
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} {what}: line {at} multiplies by `{call}`, and `{name}` (line {made}) makes that factor: "
                    f"re-derive `{name}` as the derivative of the activation it stands for"
                )
            elif pattern == "wrong-derivative" and measured.line and not measured.file and (inputs := _right_inputs(result, source, measured.line)):
                # `g["V"] = p["g"] / norm * (dW - ...)` with `dW` right: the error is made in that line
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} {what}, although {_names(list(dict.fromkeys(a.name for a in inputs)))} "
                    f"(line{'s' if len({a.line for a in inputs}) > 1 else ''} {_lines(sorted({a.line for a in inputs}))}), which line {measured.line} computes "
                    f"{'them' if plural else 'it'} from, {'are' if len({a.name for a in inputs}) > 1 else 'is'} right"
                    f"{' at every time step' if len(inputs) > len({a.name for a in inputs}) else ''}: re-derive line {measured.line} as the "
                    f"derivative of {loss_words} with respect to {names}"
                )
            else:
                message = (
                    f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} {gradients}{computed} "
                    f"which {'are' if plural else 'is'} {what}: "
                    + (advice or f"recompute {'them' if plural else 'it'} as the derivative of {loss_words} with respect to {names}")
                )
        yield rule(NAME).finding(
            message,
            param=measured.name,
            file=file or path,
            line=line,
            highlight=tuple(shown),
            pattern=pattern,
            measured=max(m.error for _, m in members),
            evidence=evidence,
        )


def _stored_by_owner(result: Any, source: Any, moved: Any, measured: Any) -> int | None:
    """The line of the class statement storing the gradient an update reads off an object (`layer.db` of
    `model.layers[0].b`, held by a `Linear`: `self.db = g.sum(axis=0)` in `Linear.backward`), when the
    class holding the parameter stores that attribute at one statement."""
    from backprop_doctor.static.batch_means import stored_in_class

    owner = getattr(result, "owners", {}).get(measured.name)
    read = moved.gradient_name or moved.site.gradient or ""
    if owner is None or source.tree is None or not re.fullmatch(r"[A-Za-z_][\w.]*\.\w+", read):
        return None
    return stored_in_class(source.tree, owner[0], read.rsplit(".", 1)[1])


_STRENGTH = re.compile(r"\b(reg\w*|lambd\w*|lam|l2\w*|weight_decay|wd)\b")  # the name a loss writes its penalty's λ with


def _target_first(source: Any, step: Any) -> Any:
    """`static.error_order.target_first` for the step's pass: the output error written target minus output."""
    from backprop_doctor.static.error_order import target_first

    if step.loop is None:
        return None
    updating = [s for s in step.loop.body if step.update_line <= s.lineno <= step.update_end_line]
    return target_first(source.tree, step.prefix, updating)


def _off_axis(tree: Any, result: Any, adjoint: Any) -> Any:
    """`static.reduction_axes.off_axis_sum` for the walk's first wrong adjoint inside a function: the
    statements after the last adjoint of that function measured right."""
    from backprop_doctor.static.reduction_axes import off_axis_sum

    before = [
        a.line for a, m in result.adjoints if isinstance(a, InnerAdjoint) and not m.wrong
        and a.adjoint.function == adjoint.adjoint.function and a.line < adjoint.line
    ]  # fmt: skip
    after = max(before, default=adjoint.adjoint.first_line)
    return off_axis_sum(tree, adjoint.line, after, adjoint.forward_at.line, set(adjoint.reads))


def _plain(name: str) -> bool:
    """`W1` or `self.bl`: a name a statement can read, not an item (`params['W1']`)."""
    return all(part.isidentifier() for part in name.split("."))


def _reads_name(stmt: ast.stmt, name: str) -> bool:
    """Whether `stmt` reads the values of `name`, a plain or a dotted one (`self.bl`); not only its
    shape (`np.zeros_like(self.bl)`, `W.shape`, `len(W)`)."""
    shape_only: set[int] = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Attribute) and node.attr in ("shape", "size", "dtype", "ndim"):
            shape_only.add(id(node.value))
        elif isinstance(node, ast.Call) and node.args and (
            (isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_like")) or (isinstance(node.func, ast.Name) and node.func.id in ("len", "zeros_like", "ones_like", "empty_like"))
        ):
            shape_only.add(id(node.args[0]))
    return any(
        isinstance(n, (ast.Name, ast.Attribute)) and isinstance(n.ctx, ast.Load) and id(n) not in shape_only and ast.unparse(n) == name for n in ast.walk(stmt)
    )


def _between(result: Any, source: Any) -> tuple[Any, ast.stmt, str] | None:
    """The one statement between the last adjoint measured right and the wrong parameters' gradients,
    when nothing names it: `d_h` right at line 23 (`d_h = d_out @ self.W2.T`) and `self.gW1`, `self.gb1`
    wrong, computed through `d_pre = d_h * self.h * (1 - self.h)` (line 24) with no forward value of
    `pre` to measure it by. With the slope hint of the activation the adjoint's value comes out of
    ("" when none): the statement and the hint."""
    from backprop_doctor.replay.gradients import _slope_written

    if source.tree is None or not result.adjoints or result.first_wrong_adjoint is not None or not result.wrong:
        return None
    if any(_factor_pattern(result, m) != "wrong-derivative" or m.unused for _, m in result.wrong):
        return None  # a factor, a sign, an unread parameter: their own words
    adjoint, measured = result.adjoints[-1]
    if not isinstance(adjoint, InnerAdjoint) or measured.wrong or len(adjoint.feeds) != 1 or any(
        m.line or _gradient_line(source.tree, m.name, moved.gradient_name or moved.site.gradient) for moved, m in result.wrong
    ):
        return None  # a wrong gradient located is named where it is computed (above the adjoint, it is not computed from it)
    if any(
        not m.wrong and not m.inconclusive and other.name not in adjoint.reads and adjoint.name not in getattr(other, "reads", ())
        for other, m in result.adjoints[:-1]
    ):  # fmt: skip
        return None  # `dL_dy1` and `dL_dy2` both right, neither computed from the other: the wrong gradients may come from either
    feed, scope = adjoint.feeds[0], _scope_of(source.tree, adjoint.line)
    statement = min(
        (
            n for n in ast.walk(scope) if isinstance(n, ast.Assign) and n.lineno > adjoint.line and len(n.targets) == 1
            and ast.unparse(n.targets[0]) == feed and _scope_of(source.tree, n.lineno) is scope
        ),
        key=lambda n: n.lineno, default=None,
    )  # fmt: skip
    if statement is None or _handed_to_own_function(source.tree, scope, statement):
        return None
    hint = ""
    applied = activation_applied(source.tree, adjoint.forward_at.line)
    if applied is not None and applied.kind in ("sigmoid", "tanh") and applied.output == adjoint.forward:
        other = "tanh" if applied.kind == "sigmoid" else "sigmoid"
        if re.search(_slope_written(other, applied.output), ast.unparse(statement)):
            right = f"{applied.output} * (1 - {applied.output})" if applied.kind == "sigmoid" else f"1 - {applied.output} ** 2"
            hint = (
                f"; it multiplies by {other}'s slope, but `{applied.output}` is {applied.kind}'s output (line {adjoint.forward_at.line}), "
                f"whose slope is `{right}`"
            )
    return adjoint, statement, hint


def _handed_to_own_function(tree: ast.Module, scope: ast.AST, statement: ast.Assign) -> bool:
    """Whether what `statement` binds is handed, later in its scope, to a function of the file (`dh =
    dout @ Wo.T`, then `dh = rnn_bwd(dh, caches[t], ...)` in a loop): the wrong gradients may then be
    computed inside that function, from a right value, and the statement is not the one in between."""
    name = ast.unparse(statement.targets[0])
    own = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return any(
        isinstance(n, ast.Call) and n.lineno > statement.lineno and isinstance(n.func, ast.Name) and n.func.id in own
        and any(ast.unparse(a) == name for a in n.args)
        for n in ast.walk(scope)
    )  # fmt: skip


def _between_finding(result: Any, between: tuple[Any, ast.stmt, str], loss_words: str, evidence: Any, path: str) -> Finding:
    adjoint, statement, hint = between
    wrong = result.wrong
    plural = len(wrong) > 1
    names = _names([m.name for _, m in wrong])
    lines = sorted({m.site.line for m, _ in wrong})
    return rule(NAME).finding(
        f"the update{'s' if plural else ''} of {names} in your training step (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}) "
        f"{'do' if plural else 'does'} not follow the gradient of {loss_words}, while `{adjoint.name}` (line {adjoint.line}), the gradient "
        f"of `{adjoint.forward}` {'they are' if plural else 'it is'} computed from, is right: the error is in between, at line "
        f"{statement.lineno} (`{ast.unparse(statement)}`){hint}; re-derive that line",
        param=wrong[0][1].name,
        file=path,
        line=statement.lineno,
        highlight=tuple(sorted({statement.lineno, adjoint.line, *lines})),
        pattern="wrong-derivative",
        measured=max(m.error for _, m in wrong),
        evidence=evidence,
    )


def _shared_source(result: Any, source: Any) -> tuple[ast.stmt, str, list[int]] | None:
    """The one adjoint statement every wrong gradient is computed from, when they are located at
    several lines of one function (`G["Wx"] += xs[t].T @ da`, `G["Wh"] += hs[t].T @ da`,
    `G["bh"] += da.sum(0)`, all from `da = dh * (1 - hs[t] ** 2)`): the statement, the name it binds
    and the gradients' lines. Named by nothing the walk measured (no forward value of `a`)."""

    if source.tree is None or (result.first_wrong_adjoint is not None and not _one_parameters_own(result)) or not result.wrong:
        return None
    if any(m.file or not _located(moved, m) or m.unused for moved, m in result.wrong):
        return None
    if any(m.truncated is not None or m.accumulated is not None or m.penalty_left_out is not None or m.widened is not None or m.broadcast is not None for _, m in result.wrong):
        return None  # a loop through time cut short, a sum never reset, a penalty, a shape: their own words
    flipped = _flipped_beside_right(result)
    if any(_factor_pattern(result, m) != "wrong-derivative" for _, m in result.wrong) and _one_factor(result) is None and _compounded(result) is None and not flipped:
        return None
    lines = sorted({_located(moved, m) for moved, m in result.wrong})
    if len(lines) == 1:
        lines = _keyed_lines(result, source.tree) or lines
    if len(lines) < 2:
        return None
    if any(_slope_left_out(source, "wrong-derivative", line, None) is not None or _stale(result.step, line, None, result.views) is not None for line in lines):
        return None  # a derivative left out, a parameter read after its update: their own words, at their own lines
    tree = source.tree
    loss = result.loss
    scope = _scope_of(tree, lines[0])
    after = loss.line if loss is not None and loss.in_prefix and not loss.implied and _scope_of(tree, loss.line) is scope else None
    found, first = _common_adjoint(tree, scope, lines, after), lines[0]
    if found is None and (called := _through_call(tree, scope, lines)) is not None:
        # `_, dh, dc, dWx, dWh, db = cell.step_backward(dh, dc, caches[t])`, then `grads["Wx"] += dWx` ...: the
        # gradients are made inside the function the step calls, where they share their adjoint
        function, inner_lines = called
        found, first, lines = _common_adjoint(tree, function, inner_lines, None), inner_lines[0], inner_lines
    if found is None:
        return None
    statement, name, inside = found
    if any(a.name == name and not m.wrong for a, m in result.adjoints) and not _setting_factor(result, tree):
        return None  # measured right: the gradients' own lines are wrong
    if flipped and (first != lines[0] or not _feeds_only_wrong(result, tree, scope, statement)):
        return None  # a right gradient computed from it too: the sign is flipped after it, at the gradients' own lines
    loops = [n for n in inside if isinstance(n, (ast.For, ast.While)) and n.lineno <= first <= (n.end_lineno or n.lineno)]
    if any(_changes(n, name) and n.lineno > first for loop in loops for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.AugAssign))):
        # `dz = self.Wh.T.dot(dz)` later in the loop: the next pass's `dz` comes from there, not from the line above
        return _carried(result, loops, name, first, lines)
    return statement, name, lines


def _keyed_lines(result: Any, tree: ast.Module) -> list[int] | None:
    """The lines inside one function that write the wrong gradients' dict entries (`g["We2"] = h1.T @ d_zcode`,
    `g["be2"] = d_zcode.sum(axis=0)`) when every wrong gradient is read from the dict one call of the step returns
    (`grads = backward(xb, p, cache)` then `p[k] -= lr * grads[k]`): where they are formed, as the findings place
    them; None when some is not found, or they are formed in more than one function or at one line only."""
    found = []
    for moved, m in result.wrong:
        read = moved.gradient_name or moved.site.gradient
        if not m.line or m.file or moved.site.file or not _bound_by_call(tree, m.line, read):
            return None
        plain = m.accumulated is None and m.truncated is None
        formed = _keyed_line(tree, m.name, read, named=plain)
        if formed is None:
            return None
        found.append(formed)
    lines = sorted(set(found))
    if len(lines) < 2 or len({id(_scope_of(tree, line)) for line in lines}) != 1:
        return None
    return lines


def _flipped_beside_right(result: Any) -> bool:
    """Every wrong gradient is the loss's with its sign flipped, while some parameter's gradient is right (`dc`, `dd`
    flipped beside a right `da`, `db`): the flip is made on the way to the wrong ones only. (Every update climbing
    is an error written target minus output: `_target_first`.)"""
    if not any(not m.wrong and not m.unused and not m.inconclusive for _, m in result.parameters):
        return False
    return all(_factor_pattern(result, m) == "sign-flipped" and abs((_factor(result, m) or 0.0) + 1) < SAME_FACTOR for _, m in result.wrong)


def _feeds_only_wrong(result: Any, tree: ast.Module, scope: ast.AST, statement: ast.stmt) -> bool:
    """No right gradient of the step is computed, through the assignments of `scope` before it, from what `statement`
    binds (`dz2 = dpred * f * h2 * (h2 - 1)` read by the flipped `dc`, `dd` only, not by the right `da`, `db`): each right
    gradient located in `scope`, none elsewhere."""
    inside = [n for n in ast.walk(scope) if isinstance(n, ast.stmt) and _scope_of(tree, n.lineno) is scope]
    assignments = [n for n in inside if isinstance(n, (ast.Assign, ast.AugAssign))]
    for moved, m in result.parameters:
        if m.wrong or m.unused:
            continue
        line = _located(moved, m)
        at = [n for n in inside if n.lineno == line and isinstance(n, (ast.Assign, ast.AugAssign))] if line else []
        if not at and not m.inconclusive:
            return False  # a right gradient not located here: nothing says it is not computed from it
        pending = [(n.id, n2.lineno) for n2 in at for n in ast.walk(n2.value) if isinstance(n, ast.Name)]
        seen: set[tuple[str, int]] = set()
        while pending:
            name, before = pending.pop()
            if (name, before) in seen:
                continue
            seen.add((name, before))
            for assignment in assignments:
                if assignment.lineno < before and _changes(assignment, name):
                    if assignment is statement:
                        return False
                    pending += [(n.id, assignment.lineno) for n in ast.walk(assignment.value) if isinstance(n, ast.Name)]
    return True


def _reset_commented_out(source: Any, step: Any) -> tuple[int, str] | None:
    """A call that resets the gradients, commented out in the pass before its update (`static.grad_reset.commented_reset`)."""
    from backprop_doctor.static.grad_reset import commented_reset

    text = getattr(source, "text", None)
    if step.loop is None or source.tree is None or not isinstance(text, str):
        return None
    return commented_reset(text, source.tree, step.loop.lineno + 1, step.update_line)


def _inline_velocities(members: list[tuple[Any, Any]], file: str | None) -> set[int]:
    """The lines of the velocities the updates add when their gradients are written out there
    (`v = mu * v + lr * (X.T @ err)` then `w -= v`): shown beside the updates."""
    from backprop_doctor.replay.gradients import velocity_formed

    return {at for moved, _ in members if moved.site.file == file and (at := velocity_formed(moved)) is not None}


def _located(moved: Any, measured: Any) -> int | None:
    """The line a wrong gradient is computed at: its own, or the update's where the update writes the
    gradient out itself (`self.W1 -= lr * xb.T @ d1`); None when it is read from a name not located."""
    if measured.line:
        return measured.line
    try:
        written = ast.parse(moved.site.gradient.strip(), mode="eval").body
    except SyntaxError:
        return None
    inline = moved.gradient_name is None and isinstance(written, (ast.BinOp, ast.Call, ast.UnaryOp))  # not a name, an entry, an attribute
    return moved.site.line if moved.site.file is None and inline else None


def _carried(result: Any, loops: list[Any], name: str, first: int, lines: list[int]) -> tuple[ast.stmt, str, list[int]] | None:
    """The statement of a loop over the layers that computes the next pass's adjoint (`delta = (delta @
    W[i].T) * relu_deriv(zs[i])` after `dW = a[i].T @ delta`), when the same lines give a right gradient
    on the pass the loop starts with (the last layer's, from the adjoint made before the loop) and wrong
    ones after: the statements at `lines` are right as written, the adjoint they get from the pass
    before is not. A copy (`dZ = dA`) stands for the statements of the loop that compute what it copies;
    among them one that masks the gradient by its own sign (`dA[dA <= 0] = 0`) is the one. A statement
    before those lines under an `if` of the loop that changes the adjoint (`if i < len(layers) - 1: delta
    = delta * (1 - z ** 2)`, skipped for the output layer) runs on the wrong passes only: it is the one."""
    if not any(not m.wrong and not m.unused and _located(moved, m) in lines for moved, m in result.parameters):
        return None
    loop = max(loops, key=lambda n: n.lineno)  # the innermost: the loop over the layers
    guarded = [  # `if i < len(layers) - 1: delta = delta * (1 - a ** 2)`: run on the passes after the output layer's only
        n for branch in ast.walk(loop) if isinstance(branch, ast.If) and branch is not loop
        for n in ast.walk(branch) if isinstance(n, (ast.Assign, ast.AugAssign)) and _changes(n, name) and n.lineno < first
    ]  # fmt: skip
    if len({n.lineno for n in guarded}) == 1:
        return guarded[0], name, lines
    later = [n for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.AugAssign)) and _changes(n, name) and n.lineno > first]
    if len({n.lineno for n in later}) != 1:
        return None
    statement = later[0]
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Name):
        copied = statement.value.id
        computing = sorted(
            (n for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.AugAssign)) and _changes(n, copied) and first < n.lineno < statement.lineno),
            key=lambda n: n.lineno,
        )
        if computing:
            statement = next((n for n in computing if self_masked(n) is not None), computing[0])
    return statement, name, lines


def _one_parameters_own(result: Any) -> bool:
    """The walk's first wrong adjoint is the gradient of one wrong parameter itself (`dW1 = X.T @ dz`,
    paired with the `W1` the function unpacks), while other parameters' gradients are wrong at other
    lines: it names one of the wrong gradients, not the adjoint they share."""
    culprit = result.first_wrong_adjoint
    if culprit is None or not isinstance(culprit[0], InnerAdjoint):
        return False
    forward = culprit[0].forward
    named = {f"{forward}", f"self.{forward}"}
    own = [m for _, m in result.wrong if m.name in named or re.fullmatch(rf".*\[['\"]{re.escape(forward)}['\"]\]", m.name)]
    lines = {m.line for _, m in result.wrong if m.line and not m.file}
    return bool(own) and len(lines) > 1 and culprit[0].line in lines


def _changes(statement: ast.stmt, name: str) -> bool:
    """`dh = ...`, `dh[h <= 0] = 0`, `dh *= mask`: the statement binds or changes `name`."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return any(
        (isinstance(t, ast.Name) and t.id == name) or (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name)
        for t in targets
    )  # fmt: skip


def _common_adjoint(tree: ast.Module, scope: ast.AST, lines: list[int], after: int | None) -> tuple[ast.stmt, str, list[ast.stmt]] | None:
    """The last statement of `scope` before `lines` that binds an adjoint-like name every statement at
    `lines` is computed from (through the assignments before them), of the backward pass (after the
    line `after`, the loss, when given): the statement, the name and the scope's statements."""

    inside = [n for n in ast.walk(scope) if isinstance(n, ast.stmt) and _scope_of(tree, n.lineno) is scope]
    statements = [[n for n in inside if n.lineno == line and not isinstance(n, (ast.For, ast.While, ast.If, ast.With))] for line in lines]
    if not all(statements):
        return None
    assignments = [n for n in inside if isinstance(n, (ast.Assign, ast.AugAssign))]

    reached: set[int] = set()  # the assignments some statement at `lines` is computed from

    def made_of(at: list[ast.stmt]) -> set[str]:
        """The adjoint-like names the statements at one line are computed from, through the
        assignments before them in the function (`gW1 = X.T @ gh` reads `gh`, made of `g`): a name
        read at a line is made by the assignments before that line, not by a later one (`w5 -= ...`
        after `h1 = g1 * w5 * ...` read the old `w5`)."""
        line = at[0].lineno
        stored = {  # `grads` of `grads['W1'] = X.T @ dz1`: where the gradient goes, not what it is made of
            id(t.value) for st in at for t in (st.targets if isinstance(st, ast.Assign) else [st.target] if isinstance(st, ast.AugAssign) else [])
            if isinstance(t, ast.Subscript)
        }  # fmt: skip
        pending = [(n.id, line) for st in at for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in stored]
        seen: set[str] = set()
        visited: set[tuple[str, int]] = set()
        while pending:
            name, before = pending.pop()
            if (name, before) in visited:
                continue
            visited.add((name, before))
            seen.add(name)
            for assignment in assignments:
                if assignment.lineno < before and _changes(assignment, name):
                    reached.add(id(assignment))
                    pending += [(n.id, assignment.lineno) for n in ast.walk(assignment.value) if isinstance(n, ast.Name)]
        return seen

    # the backward pass: what the step computes after its loss (`g = (p - onehot) / n`), or a function of its own
    backward = {
        t.id for n in assignments if after is None or n.lineno > after
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)
    }  # fmt: skip
    made = [made_of(at) for at in statements]
    common = set.intersection(*made) & backward
    candidates = [(n, name) for name in common for n in assignments if n.lineno < lines[0] and id(n) in reached and _changes(n, name)]
    # the first line binds the adjoint the others are computed from (`da = (W2 @ err) * (1 - a)` at the line of
    # `db1 += da`'s sum, beside `dW1 += np.outer(x, da)`): that statement is the one they share
    candidates += [
        (n, t.id) for n in statements[0] if isinstance(n, (ast.Assign, ast.AugAssign)) and id(n) in reached
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name) and t.id in backward and all(t.id in names for names in made[1:])
    ]  # fmt: skip
    if not candidates:
        return None
    statement, name = max(candidates, key=lambda c: c[0].lineno)
    return statement, name, inside


def _through_call(tree: ast.Module, scope: ast.AST, lines: list[int]) -> tuple[ast.FunctionDef, list[int]] | None:
    """(the function, the lines inside it) when the statements at `lines` each add or store one name
    that one call of the scope unpacks from what a function of the file returns
    (`_, dh, dc, dWx, dWh, db = cell.step_backward(...)` then `grads["Wx"] += dWx`): the lines of that
    function that compute the returned names. None otherwise."""

    inside = [n for n in ast.walk(scope) if isinstance(n, ast.stmt) and _scope_of(tree, n.lineno) is scope]
    read = []
    for line in lines:
        at = [n for n in inside if n.lineno == line and isinstance(n, (ast.Assign, ast.AugAssign))]
        names = {n.id for st in at for n in ast.walk(st.value) if isinstance(n, ast.Name)}
        if len(at) != 1 or len(names) != 1:
            return None
        read.append((line, names.pop()))
    unpacks = [
        n for n in inside if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Tuple) and isinstance(n.value, ast.Call)
        and all(any(isinstance(e, ast.Name) and e.id == name for e in n.targets[0].elts) for _, name in read)
    ]  # fmt: skip
    if len(unpacks) != 1:
        return None
    call, elements = unpacks[0].value, unpacks[0].targets[0].elts
    called = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id if isinstance(call.func, ast.Name) else None
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == called]
    if len(functions) != 1:
        return None
    returns = [n for n in ast.walk(functions[0]) if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple) and len(n.value.elts) == len(elements)]
    if len(returns) != 1:
        return None
    positions = [next(i for i, e in enumerate(elements) if isinstance(e, ast.Name) and e.id == name) for _, name in read]
    returned = [returns[0].value.elts[i] for i in positions]
    if not all(isinstance(r, ast.Name) for r in returned):
        return None
    bound = {
        t.id: n.lineno for n in ast.walk(functions[0]) if isinstance(n, ast.Assign)
        for t in n.targets if isinstance(t, ast.Name)
    }  # fmt: skip
    inner = [bound.get(r.id) for r in returned]  # type: ignore[attr-defined]
    return (functions[0], sorted(set(inner))) if all(inner) and len(set(inner)) > 1 else None


def _one_factor(result: Any) -> float | None:
    """The one constant factor (not 1, not -1) every wrong gradient is of the loss's, with every one of them
    proportional (`_factor_words`' "scaled": 0.8 × where a dropout's `/ keep` is left out); None otherwise."""
    factors = [_factor(result, m) for _, m in result.wrong]
    if not factors or any(f is None or _factor_pattern(result, m) != "scaled" for f, (_, m) in zip(factors, result.wrong)):
        return None
    first = factors[0]
    return first if all(abs(f / first - 1) < SAME_FACTOR for f in factors) else None


def _compounded(result: Any) -> tuple[float, list[float]] | None:
    """(the factor, the factors) where every wrong gradient is proportional to the loss's by a power of one
    constant factor, and at least two powers show: a backward pass that leaves one scale out of a statement
    its loop over the layers runs once per layer (dropout's 1/keep on two hidden layers: 0.7 × the gradient
    of the last hidden layer, 0.49 × of the one before it); None otherwise."""
    factors = [_factor(result, m) for _, m in result.wrong]
    if not factors or any(f is None or f <= 0 or not _proportional(result, m, f) for f, (_, m) in zip(factors, result.wrong)):
        return None  # (0.49 × reads as a factor 2 on its own, 2.04 × too: a power of 0.7 or of 1.43 here)
    base = min(factors, key=lambda f: abs(math.log(f)))
    if abs(math.log(base)) < 0.05:
        return None
    powers = [math.log(f) / math.log(base) for f in factors]
    if any(abs(p - round(p)) > 0.05 or round(p) < 1 for p in powers) or len({round(p) for p in powers}) < 2:
        return None
    return base, sorted(factors, key=lambda f: abs(math.log(f)))


def _shared_finding(result: Any, shared: tuple[ast.stmt, str, list[int]], loss_words: str, evidence: Any, path: str, tree: Any = None) -> Finding:
    statement, name, lines = shared
    wrong = result.wrong
    plural = len(wrong) > 1
    factor = _one_factor(result)
    look = f"look first at line {statement.lineno}, where `{name}` is computed (`{ast.unparse(statement)}`); re-derive it"
    pattern = "scaled" if factor is not None else "wrong-derivative"
    bare = scale_kept_mask_dropped(tree, statement.lineno) if factor is None and _compounded(result) is None else None
    if bare is not None:
        # `d = (W.T @ d) / self.keep_prob * s * (1 - s)` beside the forward's `a = a * masks[i] / self.keep_prob`
        masks = " and ".join(f"`{m}`" for m in bare.masks)
        pattern = "mask-left-out"
        look = (
            f"look first at line {statement.lineno}, where `{name}` is computed (`{ast.unparse(statement)}`): the forward pass multiplies "
            f"by {masks} as well as by the scale (`{bare.forward_text}`, line {bare.forward_line}), and that line applies the scale alone; "
            f"multiply by the mask there too"
        )
    elif factor is not None and (setting := _named_setting(result, factor, tree)) is not None:
        named, value, bound = setting
        look = (
            f"{'each is' if plural else 'it is'} {_number(factor)} × the gradient, the same constant factor, and `{named}` = "
            f"{_number(value)} (line {bound}) is a setting your loss reads: the chain rule through it (a division by `{named}` puts "
            f"1/{named} into the gradient, a product {named}) is left out of `{name}`, or put in once too often; look first at line "
            f"{statement.lineno}, where `{name}` is computed (`{ast.unparse(statement)}`)"
        )
    elif factor is not None:
        look = (
            f"{'each is' if plural else 'it is'} {_number(factor)} × the gradient, the same constant factor, so `{name}` is: look first at "
            f"line {statement.lineno}, where it is computed (`{ast.unparse(statement)}`), for a factor its forward pass has and it "
            f"leaves out (a scale such as dropout's 1/keep), or one it adds"
        )
    elif _flipped_beside_right(result):
        pattern = "sign-flipped"
        look = (
            f"{'each is' if plural else 'it is'} the gradient with its sign flipped, and no right gradient is computed from `{name}`, "
            f"so `{name}` is what has its sign flipped: look first at line {statement.lineno}, where it is computed "
            f"(`{ast.unparse(statement)}`), for a difference or a factor written the other way round, and negate it there"
        )
    elif (compounded := _compounded(result)) is not None:
        base, factors = compounded
        shown = ", ".join(dict.fromkeys(f"{_number(f)} ×" for f in factors))
        pattern = "scaled"
        look = (
            f"they are {shown} the gradient, powers of one constant factor {_number(base)}, one more for each layer further "
            f"back, so `{name}` is {_number(base)} × its gradient at each pass: look first at line {statement.lineno}, where it is "
            f"computed (`{ast.unparse(statement)}`), for a factor its forward pass has and it leaves out (a scale such as "
            f"dropout's 1/keep), or one it adds"
        )
    if statement.lineno > lines[-1]:  # `_carried`: the loop's next pass gets its adjoint from there
        right = _names([m.name for moved, m in result.parameters if not m.wrong and not m.unused and _located(moved, m) in lines])
        look = (
            f"the same lines give {right} a right gradient, on the loop's pass that starts from the `{name}` made before the loop, "
            f"so look first at line {statement.lineno} (`{ast.unparse(statement)}`), where the loop computes what the next pass's `{name}` is"
        )
        if (masked := self_masked(statement)) is not None:
            look += (
                f": it zeroes `{masked}` where `{masked}` itself is not positive, but a ReLU's derivative zeroes the gradient where "
                f"the ReLU's input (its forward pre-activation) is not positive; mask by that"
            )
        else:
            look += "; re-derive it"
    return rule(NAME).finding(
        f"the update{'s' if plural else ''} of {_names([m.name for _, m in wrong])} in your training step do{'' if plural else 'es'} not follow "
        f"the gradient of {loss_words}, and every one of {'them' if plural else 'it'} is computed from `{name}` (lines "
        f"{', '.join(map(str, lines))}): {look}",
        param=wrong[0][1].name,
        file=path,
        line=statement.lineno,
        highlight=tuple(sorted({statement.lineno, *lines})),
        pattern=pattern,
        measured=max(m.error for _, m in wrong),
        evidence=evidence,
    )


def _borrowed(result: Any, tree: Any = None) -> list[tuple[Any, Any, str, str]]:
    """Updates that read another parameter's gradient (`b1 -= lr * db2`, where `b2 -= lr * db2` is right)
    while the step binds the parameter's own (`db1`): (moved, measured, that other parameter, its own
    gradient's name). A name a `for` around the update binds (`for W, g in zip(net.W, gW)` beside
    `for b, g in zip(net.b, gb)`) is a different array at each pass of it: no other parameter's."""
    looped = _loop_bound(tree, [m.site for m, _ in result.parameters if m.site.file is None])
    right = {m.site.gradient: m.site.update.target for m, r in result.parameters if not r.wrong}
    found = []
    for moved, measured in result.wrong:
        gradient, target = moved.site.gradient, moved.site.update.target
        if not (gradient.isidentifier() and target.isidentifier() and gradient in right and right[gradient] != target):
            continue
        if gradient in looped:
            continue
        own = next((n for n in (f"d{target}", f"d_{target}", f"grad_{target}", f"g{target}", f"{target}_grad") if n in result.step.assigned), None)
        if own is not None:
            found.append((moved, measured, right[gradient], own))
    return found


def _loop_bound(tree: Any, sites: list[Any]) -> set[str]:
    """The names the `for` statements around the given update sites bind (`W`, `g` of `for W, g in zip(...)`)."""
    import ast

    if tree is None or not sites:
        return set()
    lines = {site.line for site in sites}
    return {
        name.id
        for node in ast.walk(tree)
        if isinstance(node, (ast.For, ast.AsyncFor)) and any(node.body[0].lineno <= line <= (node.end_lineno or node.lineno) for line in lines)
        for name in ast.walk(node.target)
        if isinstance(name, ast.Name)
    }


def _tied_overwrite(result: Any, source: Any) -> tuple[Any, Any, int, int, str] | None:
    """(moved, measured, line, earlier) for a wrong parameter held under a key (`params['W']`) whose
    gradient entry two objects of the step write, the later with `=` (`static.tied_overwrite`)."""
    from backprop_doctor.static.tied_overwrite import overwritten_share

    if source.tree is None or result.first_wrong_adjoint is not None:
        return None
    for moved, measured in result.wrong:
        if measured.file or moved.site.file:
            continue
        try:
            node = ast.parse(measured.name, mode="eval").body
        except SyntaxError:
            continue
        if not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            continue
        found = overwritten_share(source.tree, result.step.prefix, node.slice.value)
        if found is not None:
            return moved, measured, *found
    return None


def _tied_finding(result: Any, tied: tuple[Any, Any, int, int, str], loss_words: str, evidence: Any, path: str) -> Finding:
    """The `=` that throws away the share of a tied weight's gradient written before it in the pass."""
    moved, measured, line, earlier, entry = tied
    return rule(NAME).finding(
        f"the update of `{measured.name}` in your training step (line {moved.site.line}) does not follow the gradient of {loss_words}: "
        f"its gradient is written at line {earlier}, then `{entry}` is set again with `=` at line {line} by the object whose backward "
        f"runs second, which throws the first share away, so only one use of the shared weight counts: add to it (`{entry} += ...`) at line {line}",
        param=measured.name,
        file=path,
        line=line,
        highlight=tuple(sorted({line, earlier, moved.site.line})),
        pattern="tied-share-overwritten",
        measured=measured.error,
        evidence=evidence,
    )


def _rebound_finding(result: Any, rebound: list[tuple[str, str, int, int]], loss_words: str, evidence: Any, path: str) -> Finding:
    """Every update reads a zero gradient, and a class replaces the gradient arrays it made once
    (`static.writes.rebound_gradients`): what was handed those arrays never sees a gradient."""
    cls, attribute, line, made = rebound[0]
    names = _names([m.name for _, m in result.wrong])
    lines = sorted({m.site.line for m, _ in result.wrong})
    replaced = _names([f"self.{a}" for c, a, _, _ in rebound if c == cls])
    return rule(NAME).finding(
        f"the updates of {names} in your training step (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}) read "
        f"gradients that are all zero although {loss_words} depends on them: `{cls}` replaces {replaced} with new arrays "
        f"(line {line}) instead of writing into the ones its `__init__` made (line {made}), so whatever was handed those "
        f"(an optimizer made once) never sees a gradient: write into them (`self.{attribute}[...] = ...`)",
        param=result.wrong[0][1].name,
        file=path,
        line=line,
        highlight=tuple(sorted({line, made, *(r[2] for r in rebound if r[0] == cls)})),
        pattern="gradient-rebound",
        evidence=evidence,
    )


def _penalised(step: Any, name: str, tree: Any = None) -> bool:
    """Whether the step's loss is written with a penalty on the parameter: it names a strength (`reg`,
    `lambd`) or squares the parameter itself (`np.sum(W1 ** 2)`, `np.square(self.W)`, `w @ w`), in its own
    expression, the statements of the step it reads (`reg_loss = ...`) or the functions it calls, where the
    parameter goes by the name the function gives it (`loss_grad(W, b, X, Y)`). A gradient off by λ·p under a
    loss with neither has another cause (a stale read of a view of the parameter, say, or a loss-and-gradients
    function whose output error uses other targets than its loss: after a first step from zeros the difference
    is exactly a multiple of the parameter)."""
    root = re.sub(r"\W.*", "", name.rpartition(".")[2])
    try:
        own = _keys(ast.parse(name, mode="eval").body, {}) if tree is not None else set()
    except SyntaxError:
        own = set()
    if not own:  # no code to read, or a name that is no expression: a loss that names a strength or the parameter
        return any(_STRENGTH.search(t) or (root and re.search(rf"\b{re.escape(root)}\b", t)) for t in (getattr(site, "expression", "") or "" for site in step.losses))
    return any(_penalty_in(node, aliases, own) for node, aliases in _loss_scopes(step, tree))


def _keys(node: Any, aliases: dict[str, set[str]]) -> set[str]:
    """The names an array reference goes by (`W1` of `W1`, `self.W1`, `W1.T`, `W1[1:]`, `W1.ravel()`; `W1` and
    `params` of `params['W1']`), a function's own argument read as what the call hands it (`aliases`)."""
    found: set[str] = set()
    while True:
        if isinstance(node, ast.Attribute) and node.attr == "T":
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("ravel", "flatten", "reshape", "copy", "values"):
            node = node.func.value
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                found.add(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy")):
                found.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            if node.id not in ("self", "cls"):
                found |= aliases.get(node.id, {node.id})
            return found
        else:
            return set()


_SQUARING = frozenset({"square", "norm"})  # `np.square(W)`, `np.linalg.norm(W)`
_SELF_PRODUCTS = frozenset({"dot", "vdot", "inner"})  # `np.dot(w, w)`, `w.dot(w)`


def _squared(node: Any) -> list[Any]:
    """The arrays an expression squares (`W ** 2`, `W * W`, `w @ w`, `np.square(W)`, `np.linalg.norm(W)`, `w.dot(w)`)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
        return [node.left]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)) and ast.dump(_untransposed(node.left)) == ast.dump(_untransposed(node.right)):
        return [node.left]
    if isinstance(node, ast.Call):
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if called in _SQUARING and node.args:
            return [node.args[0]]
        pair = [node.func.value, *node.args] if isinstance(node.func, ast.Attribute) and len(node.args) == 1 else list(node.args)
        if called in _SELF_PRODUCTS and len(pair) == 2 and ast.dump(_untransposed(pair[0])) == ast.dump(_untransposed(pair[1])):
            return [pair[0]]
    return []


def _untransposed(node: Any) -> Any:
    """`W` of `W.T` (the two sides of `W.T @ W` are one array)."""
    return node.value if isinstance(node, ast.Attribute) and node.attr == "T" else node


def _penalty_in(node: Any, aliases: dict[str, set[str]], own: set[str]) -> bool:
    """Whether `node` names a penalty's strength or squares an array that goes by one of `own`'s names."""
    loops = dict(aliases)
    for part in ast.walk(node):  # `sum(np.sum(w ** 2) for w in self.weights)`: `w` is an entry of `weights`
        for target, iterable in [(g.target, g.iter) for g in getattr(part, "generators", ())] + ([(part.target, part.iter)] if isinstance(part, ast.For) else []):
            if isinstance(target, ast.Name):
                loops[target.id] = _keys(iterable, aliases)
    for part in ast.walk(node):
        named = part.id if isinstance(part, ast.Name) else part.arg if isinstance(part, (ast.arg, ast.keyword)) else part.attr if isinstance(part, ast.Attribute) else None
        if named and _STRENGTH.fullmatch(named):
            return True
        if any(_keys(squared, loops) & own for squared in _squared(part)):
            return True
    return False


def _loss_scopes(step: Any, tree: Any) -> list[tuple[Any, dict[str, set[str]]]]:
    """The code the step's loss is computed by: its expressions, the statements of the step that assign what they
    read, and the functions they call (to a depth of three), each with the names its arguments are handed."""
    scopes: list[tuple[Any, dict[str, set[str]]]] = []
    for site in step.losses:
        try:
            scopes.append((ast.parse(site.expression, mode="eval").body, {}))
        except SyntaxError:
            continue
    read = {n.id for node, _ in scopes for n in ast.walk(node) if isinstance(n, ast.Name)}
    read |= {getattr(site, "name", "") for site in step.losses}  # `loss += 0.5 * reg * np.sum(W * W)` after `loss = ...`
    for statement in reversed(step.prefix):  # `reg_loss = 0.5 * reg * np.sum(W * W)` before `loss = data_loss + reg_loss`
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target] if isinstance(statement, (ast.AugAssign, ast.AnnAssign)) else []
        if any(isinstance(t, ast.Name) and t.id in read for t in targets) and statement.value is not None:
            scopes.append((statement.value, {}))
            read |= {n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)}
    defined: dict[str, list[Any]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.setdefault(node.name, []).append(node)
    seen: set[int] = set()
    index = 0
    while index < len(scopes):
        node, aliases = scopes[index]
        index += 1
        for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
            called = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            for function in defined.get(called, ()):
                if id(function) in seen or len(seen) >= 12:
                    continue
                seen.add(id(function))
                arguments = [a.arg for a in function.args.posonlyargs + function.args.args]
                if arguments and arguments[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
                    arguments = arguments[1:]
                handed = {a: _keys(v, aliases) for a, v in zip(arguments, call.args)}
                handed.update({k.arg: _keys(k.value, aliases) for k in call.keywords if k.arg})
                scopes.append((function, {a: v for a, v in handed.items() if v}))
    return scopes


def _penalty_words(members: list[tuple[Any, Any]], where: str, loss_words: str, step: Any, line: int | None) -> str:
    """The loss holds an L2 penalty whose gradient, λ·p, the updates' gradients leave out."""
    plural = len(members) > 1
    names = _names([m.name for _, m in members])
    penalty = members[0][1].penalty_left_out
    gradients = _names(list(dict.fromkeys(_tidy(m.gradient_name or m.site.gradient) for m, _ in members)))
    rate = _penalty_rate(step)
    term = f"`{rate} * {members[0][1].name}`" if rate else f"{penalty:.3g} × `{members[0][1].name}`"
    computed = f" (line {line})" if line else ""
    return (
        f"{loss_words} holds an L2 penalty on {names} whose gradient, λ·p with λ = {penalty:.3g}, {gradients}{computed} "
        f"leave{'' if plural else 's'} out, so the update{'s' if plural else ''} ({where}) do{'' if plural else 'es'} not follow "
        f"the gradient of the loss you compute: add {term} to {'each gradient, with its own parameter' if plural else gradients}"
    )


def _penalty_factor_words(members: list[tuple[Any, Any]], where: str, loss_words: str) -> str:
    """The gradient's L2 term carries another factor than the loss's penalty asks for (`replay.gradients.PenaltyFactor`)."""
    plural = len(members) > 1
    names = _names([m.name for _, m in members])
    off = members[0][1].penalty_factor
    setting, parameter = off.setting, off.parameter

    def term(factor: float) -> str:
        if _number(factor) == "1":
            return f"{setting} * {parameter}"
        return f"{_number(factor)} * {setting} * {parameter}"

    if off.asked_text:  # the loss's coefficient, as written, gives the term's: `lam / (2 * m) * Σp²` asks for `(lam / m) * p`
        return (
            f"the update{'s' if plural else ''} of {names} in your training step ({where}) follow{'' if plural else 's'} a gradient whose "
            f"L2 term at line {off.line}, `{term(off.written)}`, disagrees with the penalty {loss_words} adds: that penalty's gradient is "
            f"`({off.asked_text}) * {parameter}`, {_number(off.asked)} × `{setting}` × `{parameter}` (`{setting}` = {off.strength:g}), "
            f"not {_number(off.written)} × (the gradient of c·Σp² is 2·c·p): the coefficient should be `{off.asked_text}`; "
            f"write `({off.asked_text}) * {parameter}`"
        )
    return (
        f"the update{'s' if plural else ''} of {names} in your training step ({where}) follow{'' if plural else 's'} a gradient whose "
        f"L2 term at line {off.line}, `{term(off.written)}`, disagrees with the penalty {loss_words} adds: that penalty's gradient is "
        f"{_number(off.asked)} × `{setting}` × `{parameter}` (`{setting}` = {off.strength:g}), not {_number(off.written)} × "
        f"(the gradient of ½·λ·Σp² is λ·p, of λ·Σp² it is 2·λ·p): write `{term(off.asked)}`"
    )


def _penalty_subtracted(tree: Any, step: Any, left_out: float, values: dict[str, Any]) -> tuple[int, str] | None:
    """(line, term) of a gradient that subtracts its penalty's gradient (`X.T @ (p - y) / N - lam * w`), the
    strength named as the loss names it (`lam` of `objective(w, b, X, y, lam)`) and the difference measured
    (`left_out`) twice its value: λ·p taken off where λ·p belongs."""
    import ast

    strengths = {
        name for site in step.losses for name in _STRENGTH.findall(getattr(site, "expression", "") or "")
        if isinstance(values.get(name), (int, float)) and values[name] > 0 and abs(left_out / (2 * values[name]) - 1) < 0.05
    }  # fmt: skip
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and isinstance(node.right, ast.BinOp) and isinstance(node.right.op, ast.Mult):
            names = {n.id for n in ast.walk(node.right) if isinstance(n, ast.Name)}
            if names & strengths and names - strengths and not any(isinstance(n, ast.Call) for n in ast.walk(node.right)):
                return node.lineno, ast.unparse(node.right)
    return None


def _penalty_rate(step: Any) -> str | None:
    """λ as the loss writes it: `reg` for `0.5 * reg * np.sum(W * W)` (the half cancels the square's 2),
    `2 * reg` for `reg * np.sum(W * W)`; None when the loss names no penalty strength."""
    for site in step.losses:
        text = getattr(site, "expression", "") or ""
        for name in _STRENGTH.findall(text):
            halved = re.search(rf"0\.5\s*\*\s*{name}\b|\b{name}\s*\*\s*0\.5|\b{name}\s*/\s*2\b|{name}\s*/\s*\(\s*2", text)
            return name if halved else f"2 * {name}"
    return None


def _carrying(result: Any, factor: float) -> Any:
    """The first adjoint from the loss backwards that carries the factor every update is off by
    (`dp = 2 * (p - y)`, never divided by the batch): where it enters the step, when the walk found it."""
    return next(
        (a for a, m in result.adjoints if m.wrong and m.factor is not None and abs(m.factor / factor - 1) <= SAME_FACTOR and not getattr(a, "file", None)),
        None,
    )


def _over_outputs(result: Any, source: Any, factor: float) -> tuple[Any, Any, int, int] | None:
    """(adjoint, mean, rows, outputs) when every update is off by the number of outputs because the loss
    is a mean over every entry of the output (`np.mean(err ** 2)` over rows × outputs) while the output's
    gradient, where the factor enters, is divided by the rows alone (`2 * err / len(X)`): not a scale
    the program chose (a learning rate tuned to it would be tuned to a mean over rows), but two means in
    one loss. A factor of the batch size, or an output of one column, stays the step's scale."""
    from backprop_doctor.static.reductions import mean_over_entries

    origin = _carrying(result, factor)
    if origin is None or source.tree is None:
        return None
    measured = next((m for a, m in result.adjoints if a is origin), None)
    shape = tuple(getattr(measured, "shape", ()) or ())
    batches = set(result.batch_sizes)
    if len(shape) != 2 or not batches or (shape[0] in batches) == (shape[1] in batches):
        return None  # no batch axis to tell from the outputs' (or a square output)
    rows, outputs = (shape[0], shape[1]) if shape[0] in batches else (shape[1], shape[0])
    if outputs < 2 or abs(factor - outputs) > SAME_FACTOR * outputs:
        return None
    loss = result.loss
    loss_line = loss.line if loss is not None and loss.implied is None else None
    mean = mean_over_entries(source.tree, origin.line, origin.forward, loss_line)
    return (origin, mean, rows, outputs) if mean is not None else None


def _mean_over_outputs(result: Any, outputs: tuple[Any, Any, int, int], path: str, evidence: Any) -> Finding:
    adjoint, mean, rows, width = outputs
    wrong = result.wrong
    names = ", ".join(f"`{m.name}`" for _, m in wrong)
    first = wrong[0][0]
    loss = f"`{mean.text}` (line {mean.line})" if mean.called is None else f"`{mean.called}` (line {mean.line}: `{mean.text}`)"
    return rule(NAME).finding(
        f"`{adjoint.name}` (line {adjoint.line}) is {width} × the gradient of your loss with respect to `{adjoint.forward}` "
        f"({width} is the number of outputs): {loss} is a mean over all {rows * width} entries "
        f"({rows} rows × {width} outputs), while `{adjoint.name}` is divided by the {rows} rows alone, so every update of "
        f"your training step ({names}, line {first.site.line}) is {width} × too large: divide `{adjoint.name}` by the number "
        f"of entries ({rows * width}, `{mean.argument}`'s size), or make the loss a mean over the rows of a sum over the outputs",
        param=adjoint.name,
        file=path,
        line=adjoint.line,
        highlight=tuple(sorted({adjoint.line, mean.line, first.site.line})),
        pattern="scaled-by-outputs",
        measured=_factor_of(result, adjoint),
        evidence=evidence,
    )


def _rows_only(result: Any, source: Any, factor: float) -> tuple[ast.stmt, str, str | None, Any, int] | None:
    """(statement, its divisor, the target the difference subtracts (whose size to divide by), the loss's
    mean, outputs) when the walk found no adjoint
    carrying the factor (`_over_outputs`: the output error is formed in a method that hands it through a
    loop over layers, `grad = layer.backward(grad)`), yet every update is off by a whole number of outputs
    ≥ 2, an axis size of the program's arrays and no batch size, the program's loss is a mean over every
    entry of an element-wise expression (`reductions.loss_entry_mean`: in the pass, or only reported), and
    exactly one statement of the loop's body or of the file's functions it calls (the pass's and the
    updating ones: `model.train_step(x, t, lr)`) divides a difference by the rows alone
    (`grad = 2.0 * (p - y) / len(y)`, `/ y.shape[0]`). None otherwise."""
    from backprop_doctor.static.reductions import loss_entry_mean

    loss = result.loss
    if loss is None or loss.implied is not None or source.tree is None or _carrying(result, factor) is not None:
        return None
    width = round(factor)
    if width < 2 or abs(factor - width) > SAME_FACTOR * width or width in result.batch_sizes or width not in result.data_sizes:
        return None
    mean = loss_entry_mean(source.tree, loss.reported or loss.expression, loss.line)
    if mean is None:
        return None
    step = result.step
    body = tuple(step.loop.body) if isinstance(step.loop, (ast.For, ast.While)) else step.prefix  # `model.train_step(x, t, lr)` updates too
    statements = [*body, *_reached(source.tree, body)]
    found = []
    for stmt in (n for top in statements for n in ast.walk(top) if isinstance(n, (ast.Assign, ast.AugAssign, ast.Return))):
        for part in (n for n in ast.walk(stmt) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)):
            differences = [n for n in ast.walk(part.left) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub)]
            if _rows_of(part.right) is not None and differences:
                # the entries to divide by are the difference's (`(p - y) / len(y)`: `y.size`), not those of an input
                # whose rows the divisor counts (`/ len(x)`, `x` holding rows × features)
                target = differences[0].right
                sized = ast.unparse(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
                found.append((stmt, ast.unparse(part.right), sized, mean, width))
    unique = {id(f[0]): f for f in found}
    return next(iter(unique.values())) if len(unique) == 1 else None


def _reached(tree: ast.Module, prefix: tuple[ast.stmt, ...], depth: int = 3) -> list[ast.stmt]:
    """The statements of the file's functions the pass calls, and of those they call (`depth` deep), each
    function once: `model.backward(p, y[b])` reaches `Model.backward`, however often it runs (its loop over
    layers calls a `backward` of another file, which is not the file's)."""
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    methods: dict[str, list[ast.AST]] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.setdefault(item.name, []).append(item)
    seen: dict[int, ast.AST] = {}
    frontier: list[ast.AST] = list(prefix)
    for _ in range(depth):
        called = []
        for node in frontier:
            for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
                func = call.func
                target = functions.get(func.id) if isinstance(func, ast.Name) else None
                if isinstance(func, ast.Attribute) and len(methods.get(func.attr, ())) == 1:
                    target = methods[func.attr][0]
                if target is not None and id(target) not in seen:
                    seen[id(target)] = target
                    called.append(target)
        frontier = called
    return [stmt for function in seen.values() for stmt in function.body]  # type: ignore[attr-defined]


def _rows_of(node: ast.expr) -> str | None:
    """`y` of `len(y)` or `y.shape[0]`: the array whose rows a divisor counts."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1 and not node.keywords:
        return ast.unparse(node.args[0])
    if (
        isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
        and isinstance(node.slice, ast.Constant) and node.slice.value == 0
    ):  # fmt: skip
        return ast.unparse(node.value.value)
    return None


def _rows_only_finding(result: Any, divided: tuple[ast.stmt, str, str | None, Any, int], path: str, evidence: Any) -> Finding:
    stmt, divisor, array, mean, width = divided
    wrong = result.wrong
    names = ", ".join(f"`{m.name}`" for _, m in wrong)
    first = wrong[0][0]
    loss = f"`{mean.text}` (line {mean.line})" if mean.called is None else f"`{mean.called}` (line {mean.line}: `{mean.text}`)"
    written = linecache.getline(path, stmt.lineno)
    fix = written.strip().replace(divisor, f"{array}.size", 1) if array is not None and divisor in written else None
    entries = f"the number of entries (`{array}.size`)" if array is not None else f"the number of entries (rows × {width})"
    return rule(NAME).finding(
        f"every update of your training step ({names}, line {first.site.line}) is {width} × the gradient of your loss "
        f"({width} is the number of outputs): {loss} is a mean over every entry, rows × {width} outputs, while line {stmt.lineno} "
        f"divides the output's gradient by `{divisor}`, the rows alone: divide it by {entries}, "
        "or make the loss a mean over the rows of a sum over the outputs",
        param=wrong[0][1].name,
        file=path,
        line=stmt.lineno,
        highlight=tuple(sorted({stmt.lineno, first.site.line})),
        pattern="scaled-by-outputs",
        measured=result.common_factor,
        fix=fix,
        evidence=evidence,
    )


def _factor_of(result: Any, adjoint: Any) -> float | None:
    return next((m.factor for a, m in result.adjoints if a is adjoint), None)


def _made_at_a_line(result: Any, factor: float, source: Any = None) -> bool:
    """Whether a factor every update shares is a mistake made at one statement rather than a scale the
    program may have chosen: the program computes the loss itself in the step (not one inferred, nor
    one only reported), the factor is none a convention explains (the batch size or one over it, for a
    sum against a mean, or a size of any array the program holds; 2 or 1/2 when the loss squares
    something, the derivative of a square left to the rate, alone or times such a count; a sign), and
    the walk
    from the loss backwards finds the adjoint where it enters (`ds = T ** 2 * (p_s - p_t) / N`, the
    1/T of a softmax at temperature T forgotten: T × the gradient of the loss the program prints).
    Such a gradient is then named at that adjoint, as a wrong factor in one layer is."""
    loss = result.loss
    if loss is None or loss.implied is not None or not loss.in_prefix or loss.reported is not None:
        return False
    if loss.accumulated or loss.summed or result.maximised or result.clipped:
        return False
    pattern = _factor_words(factor, True, result.batch_sizes)[0]
    if pattern not in ("scaled", "factor-of-two"):
        return False
    squared = source is None or _squares_a_value(result.loss, source.tree)
    if pattern == "factor-of-two" and squared:
        return False  # `np.mean(err ** 2)` followed as `err / n`: the square's 2 left to the rate, a convention
    halves = (1.0, 2.0, 0.5) if squared else (1.0,)
    counts = {1, *result.batch_sizes, *getattr(result, "data_sizes", ())}
    for count in counts:
        for half in halves:
            scale = count * half
            if scale != 1 and (abs(factor - scale) < SAME_FACTOR * scale or abs(factor * scale - 1) < SAME_FACTOR):
                # a count of the data (rows a function the loop calls reads from the module, the classes of a mean over
                # every entry), times a square's 2 (`err` for `np.mean(err ** 2)`: the gradient of half a sum): conventions
                return False
    if _carrying(result, factor) is not None:
        return True
    # no adjoint walked (the gradients are made inside a loss-and-gradients function the step calls), but the factor is
    # a setting the loss reads by name (`T = 2.5` of `softmax_T(logits, T)`) and every wrong gradient is computed from
    # one adjoint (`dlogits = (P - Y) / n`, the 1/T left out): a factor of the loss's forward the backward lost
    return source is not None and _named_setting(result, factor, source.tree) is not None and _shared_source(result, source) is not None


def _setting_factor(result: Any, tree: Any) -> bool:
    """Every wrong gradient off by one factor that is a named setting of the loss (`_named_setting`): the adjoint they
    share may be measured right against the forward value the setting scales (`g = (P - Y) / n` of `z = logits / tau`),
    and it is still where that setting's factor belongs, for the gradients computed from it."""
    factor = _one_factor(result)
    return factor is not None and _named_setting(result, factor, tree) is not None


def _named_setting(result: Any, factor: float, tree: Any) -> tuple[str, float, int] | None:
    """(name, value, line bound) of a number the file binds once by name (`T = 2.5`, `_module_numbers`) that the loss reads, in
    its expression, in a function of the file it calls or in what a name it reads is set to (to a depth of six), and that the factor every update is
    off by is (or one over it, or its square or one over that): a temperature, a margin's scale, a setting of the
    loss whose chain-rule factor the backward pass left out or doubled. None otherwise."""
    loss = result.loss
    if loss is None or tree is None:
        return None
    try:
        frontier: list[ast.AST] = [ast.parse(loss.expression, mode="eval")]
    except SyntaxError:
        return None
    values: dict[str, tuple[float, int]] = {}
    names = _module_numbers(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in names:
                    values[target.id] = (float(node.value.value), node.lineno)
    updated = {m.name for _, m in result.parameters}  # `W = W - lr * dW`: the update is no part of the loss
    functions: dict[str, list[ast.AST]] = {}
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for bound in ast.walk(target):
                    if isinstance(bound, ast.Name) and bound.id not in updated:
                        assigned.setdefault(bound.id, []).append(node.value)
    read: set[str] = set()
    held: set[str] = set()  # `self.T`: a setting the step's object holds
    seen: set[str] = set()
    for _ in range(6):
        new = {n.id for r in frontier for n in ast.walk(r) if isinstance(n, ast.Name)} - read
        held |= {ast.unparse(n) for r in frontier for n in ast.walk(r) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        read |= new
        called = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "") for r in frontier for c in ast.walk(r) if isinstance(c, ast.Call)}
        # the functions the loss calls, and what the names it reads are set to (`P` from `z = (X @ W + b) / tau`)
        frontier = [f for name in called - seen for f in functions.get(name, [])] + [v for name in new for v in assigned.get(name, [])]
        seen |= called
        if not frontier:
            break
    values.update(_held_numbers(result, tree, held - updated))
    for name in sorted((read | held) & set(values)):
        value, line = values[name]
        if value in (0.0, 1.0, -1.0) or float(value).is_integer():
            continue  # a count, a sign, nothing: not a setting whose factor could be left out unnoticed
        for power in (value, 1 / value, value**2, 1 / value**2):
            if abs(factor / power - 1) < SAME_FACTOR:
                return name, value, line
    return None


def _held_numbers(result: Any, tree: Any, paths: set[str]) -> dict[str, tuple[float, int]]:
    """The settings an object of the step holds, `self.T` of `z = X @ self.W / self.T` (a trainer's temperature):
    each number the step's state gives that attribute, with the line of the file's first statement binding it
    (`self.T = T` in `__init__`); only an attribute bound once in the file, as a module's setting is."""
    from backprop_doctor.replay.state import resolve

    state = getattr(getattr(getattr(result, "runner", None), "state", None), "values", None)
    if not state or not paths:
        return {}
    lines: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            if isinstance(target, ast.Attribute):
                lines.setdefault(target.attr, []).append(node.lineno)
    found: dict[str, tuple[float, int]] = {}
    for path in paths:
        owner, _, attribute = path.partition(".")
        if owner not in state or len(lines.get(attribute, ())) != 1:
            continue
        try:
            value = resolve(state, (("name", owner), ("attr", attribute)))
        except Exception:  # noqa: BLE001 - an attribute the state's object does not have
            continue
        if type(value) in (int, float) or isinstance(value, np.floating):
            found[path] = (float(value), lines[attribute][0])
    return found


def _squares_a_value(loss: Any, tree: Any) -> bool:
    """Whether the loss squares anything but a number the module sets once (`e ** 2`, `np.square(e)`,
    `e * e`, `e.T @ e`, `np.dot(e, e)`, a norm), in its expression, in what the names it reads are set
    to anywhere in the file, or in a function of the file it calls, to a depth of ten: a factor 2 or
    1/2 of its gradient is then that square's. `T ** 2 * np.mean(kl)` squares only the temperature.
    True when the loss cannot be read (no reason to call the 2 a mistake)."""
    if loss is None or tree is None:
        return True
    try:
        frontier: list[ast.AST] = [ast.parse(loss.expression, mode="eval")]
    except SyntaxError:
        return True
    functions: dict[str, list[ast.AST]] = {}
    values: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        values.setdefault(name.id, []).append(node.value)
    constants = _module_numbers(tree)
    seen: set[str] = set()
    for _ in range(10):
        if any(_square_in(r, constants) for r in frontier):
            return True
        called = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "") for r in frontier for c in ast.walk(r) if isinstance(c, ast.Call)}
        read = {n.id for r in frontier for n in ast.walk(r) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        following = [f for name in called - seen for f in functions.get(name, [])]
        following += [v for name in read - seen - constants for v in values.get(name, [])]
        seen |= called | read
        if not following:
            return False
        frontier = following
    return True


def _module_numbers(tree: Any) -> set[str]:
    """Names the module binds once, to a number written out (`T = 3.0`)."""
    bound: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
            bound.setdefault(node.target.id, []).append(None)
    return {
        name for name, values in bound.items()
        if len(values) == 1 and isinstance(values[0], ast.Constant) and isinstance(values[0].value, (int, float)) and not isinstance(values[0].value, bool)
    }  # fmt: skip


def _square_in(root: ast.AST, constants: set[str]) -> bool:
    def value(node: ast.AST) -> bool:
        return not (isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id in constants))

    def same(a: ast.AST, b: ast.AST) -> bool:
        text = ast.unparse(b)
        return ast.unparse(a) in (text, f"{text}.T") or text == f"{ast.unparse(a)}.T"

    for node in ast.walk(root):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
            if value(node.left):
                return True
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)) and same(node.left, node.right) and value(node.left):
            return True
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("square", "norm"):
                return True
            if name in ("dot", "inner", "vdot", "matmul") and len(node.args) == 2 and same(*node.args):
                return True
            if name in ("dot",) and isinstance(node.func, ast.Attribute) and len(node.args) == 1 and same(node.func.value, node.args[0]):
                return True
            if name == "power" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == 2:
                return True
    return False


def _rises_with_it(result: Any) -> bool:
    """Whether the program's own loss, replayed on its own data, rises or stops being a number: a factor
    every gradient carries (a mean's loss, a sum's gradients) is then why, not a learning rate the
    program may tune."""
    from backprop_doctor.replay.curve import rises

    curve = result.curve
    if result.standin or result.driver:
        return False  # a curve on data backprop-doctor made up says nothing of how the program's own loss goes
    return bool(curve) and result.common_factor > 1 and (rises(curve, result.terms) or not all(math.isfinite(v) for v in curve))


def _right_inputs(result: Any, source: Any, line: int) -> list[Any]:
    """The adjoints measured right that the one statement at `line` (a wrong parameter gradient's) reads."""
    if source.tree is None:
        return []
    statement = next((n for n in ast.walk(source.tree) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno == line), None)
    if statement is None:
        return []
    read = reads(statement)
    return [a for a, m in result.adjoints if not m.wrong and not m.inconclusive and a.name in read and a.line < line]


def _moved_words(parameter: str, views: dict[str, str]) -> str:
    """`center_vec` the update moved: the name itself, or the array it is a view into."""
    owner = views.get(parameter)
    return f"`{owner}`, which `{parameter}` is a view into" if owner else f"`{parameter}`"


def _gradient_line(tree: Any, parameter: str, read: str | None = None) -> int | None:
    """The one statement that forms a parameter's gradient, found by its name (`dWhb += hb[t].T @ da`,
    `grad_W1 = X.T @ d1`, `W1_grad = ...`) where the replay could not trace the update to it (the
    gradients handed back in a list and applied over `zip(params, grads)`, the update reading `grad`):
    not its initialisation (`dWhb = np.zeros_like(Whb)`); None when no such name, when more than one
    statement forms it, or when the update reads that name itself (`W1 -= lr * dW1`: named as it was)."""
    if tree is None:
        return None
    bare = re.sub(r"\W", "", parameter.rsplit("[", 1)[-1].rsplit(".", 1)[-1])
    if not bare or bare.isdigit():
        return None  # `model[1]`, a position in a list of parameters: `d1` is no name of its gradient
    names = {f"d{bare}", f"d_{bare}", f"grad_{bare}", f"grad{bare}", f"g{bare}", f"g_{bare}", f"{bare}_grad", f"delta_{bare}"}
    if read is not None and ({n.id for n in ast.walk(ast.parse(read, mode="eval")) if isinstance(n, ast.Name)} if _parses(read) else set()) & names:
        return None
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id in names:
            found.add(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            hits = [t for t in flat if isinstance(t, ast.Name) and t.id in names]
            if not hits or node.value is None:
                continue
            value = node.value
            if isinstance(value, (ast.ListComp, ast.GeneratorExp)):  # `dWf, dWi = [np.zeros_like(w) for w in (Wf, Wi)]`
                value = value.elt
            zeros = isinstance(value, ast.Tuple) or (isinstance(value, ast.Call) and re.search(r"zeros|empty|full", ast.unparse(value.func)))
            if not zeros:
                found.add(node.lineno)
    return found.pop() if len(found) == 1 else None


def _bound_by_call(tree: Any, line: int, read: str) -> bool:
    """Whether the dict an update reads an entry of (`grads` of `grads["d" + k]`) is bound at `line` by a call
    (`loss, grads = gradients(X, y)`)."""
    try:
        gradient = ast.parse(read, mode="eval").body
    except SyntaxError:
        return False
    if not (isinstance(gradient, ast.Subscript) and isinstance(gradient.value, ast.Name)):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and node.lineno == line and isinstance(node.value, ast.Call):
            flat = [e for t in node.targets for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])]
            if any(isinstance(e, ast.Name) and e.id == gradient.value.id for e in flat):
                return True
    return False


def _keyed_line(tree: Any, parameter: str, read: str | None, named: bool = False) -> int | None:
    """The one statement that forms a dict entry's gradient (`G["b1"] = dZ1.sum(axis=0)`, or under the gradient's
    own key, `grads["db1"]`, `grads["dW1"]` of `params["W1"]`) where the update reads it by a loop's key
    (`P[k] = P[k] - lr * G[k]`, `params[k] -= lr * grads["d" + k]` over the dict's keys), so the replay could not trace the update to it: the
    entries of the dict the update reads first, else of any other dict but the parameter's own; not an
    initialisation (`G["b1"] = np.zeros_like(P["b1"])`). None when no statement or more than one forms it
    (`G["b1"] = ...` then `G["b1"] += reg * P["b1"]`). `named`: the parameter may be a plain name (`Uh`, walked as
    `w` of `params.items()` beside `np.clip(g[name], -5, 5)`) or an attribute (`model.Wh`, walked as `p` of
    `model.params().items()` beside `grads[name]`), whose entries are those under its name (`g["Wh"]`)."""
    try:
        entry, gradient = ast.parse(parameter, mode="eval").body, ast.parse(read or "", mode="eval").body
    except SyntaxError:
        return None
    if isinstance(gradient, ast.Call) and gradient.args and isinstance(gradient.args[0], ast.Subscript):
        gradient = gradient.args[0]  # `np.clip(g[name], -5, 5)`: the entry it clips
    if named and isinstance(entry, (ast.Name, ast.Attribute)) and isinstance(gradient, ast.Subscript) and not isinstance(gradient.slice, ast.Constant):
        # `Uh`, walked as `w` of `params.items()` beside `g[name]`, or `model.Wh` of `model.params().items()`: the entries under its name
        key, own = entry.id if isinstance(entry, ast.Name) else entry.attr, None
    elif isinstance(entry, ast.Subscript) and isinstance(entry.slice, ast.Constant) and isinstance(entry.slice.value, str):
        key, own = entry.slice.value, ast.unparse(entry.value)
    else:
        return None
    if not isinstance(gradient, ast.Subscript) or isinstance(gradient.slice, (ast.Slice, ast.Tuple)):
        return None  # `G[k]`, `grads["d" + k]`, `grads[f"d{k}"]`: an entry by a loop's key
    read_from = ast.unparse(gradient.value)
    keys = {key, f"d{key}", f"d_{key}", f"grad_{key}", f"grad{key}", f"g{key}", f"g_{key}", f"{key}_grad", f"delta_{key}"}
    if isinstance(gradient.slice, ast.Constant) and gradient.slice.value not in keys:
        return None
    found: dict[str, set[int]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        hits = [t for t in flat if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and t.slice.value in keys]
        value = node.value
        if not hits or (
            not isinstance(node, ast.AugAssign)
            and (isinstance(value, ast.Constant) or (isinstance(value, ast.Call) and re.search(r"zeros|empty|full", ast.unparse(value.func))))
        ):  # fmt: skip
            continue
        for hit in hits:
            found.setdefault(ast.unparse(hit.value), set()).add(node.lineno)
    if read_from in found:
        lines = found[read_from]
    else:
        lines = {line for container, at in found.items() if container != own for line in at}
    if not found:
        lines = _literal_entry_lines(tree, keys)
    return next(iter(lines)) if len(lines) == 1 else None


def _literal_entry_lines(tree: Any, keys: set[str]) -> set[int]:
    """The statements that form a name a function hands back under one of `keys` in a dict it writes out
    (`return {'Wxh': dWxh, 'Whh': dWhh}` of a method `backward`): each statement of that function that binds or
    adds to the name (`dWhh += self.hs[t].T @ dhraw` in its loop through time), not its start at zeros."""
    lines: set[int] = set()
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        names = {
            value.id for d in ast.walk(function) if isinstance(d, ast.Dict)
            for k, value in zip(d.keys, d.values)
            if isinstance(k, ast.Constant) and k.value in keys and isinstance(value, ast.Name)
        }  # fmt: skip
        for node in ast.walk(function):
            if not isinstance(node, (ast.Assign, ast.AugAssign)) or not names:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if not any(isinstance(t, ast.Name) and t.id in names for t in flat):
                continue
            if isinstance(node, ast.Assign) and (isinstance(node.value, ast.Tuple) or re.search(r"zeros|empty|full", ast.unparse(node.value))):
                if all(isinstance(v, ast.Call) and re.search(r"zeros|empty|full", ast.unparse(v.func)) for v in getattr(node.value, "elts", [node.value])):
                    continue  # `dWxh, dWhh = np.zeros_like(...), np.zeros_like(...)`: the start, not the gradient
            lines.add(node.lineno)
    return lines


def _zipped_line(tree: Any, parameter: str, read: str | None) -> int | None:
    """The line of the file's gradient function that forms entry k of the list an update walks beside its parameters:
    `layers[3]` moved by `g` of `for w, g in zip(layers, grads)` (or a comprehension over that zip), `grads` bound once to
    `backprop(layers, X, T)`, whose return's fourth value is formed there (`static.gradient_returns.returned_at`)."""
    entry = re.fullmatch(r"(\w+)\[(\d+)\]", parameter)
    if tree is None or entry is None or not read or not read.isidentifier():
        return None
    listed, k = entry.groups()
    sources = set()
    for node in ast.walk(tree):
        loops = node.generators if isinstance(node, (ast.ListComp, ast.GeneratorExp)) else [node] if isinstance(node, ast.For) else []
        for loop in loops:
            walked = loop.iter
            if not (isinstance(walked, ast.Call) and isinstance(walked.func, ast.Name) and walked.func.id == "zip" and isinstance(loop.target, ast.Tuple)):
                continue
            names = [e.id if isinstance(e, ast.Name) else None for e in loop.target.elts]
            args = [ast.unparse(a) for a in walked.args]
            if listed in args and read in names and len(names) == len(args) and isinstance(walked.args[names.index(read)], ast.Name):
                sources.add(args[names.index(read)])
    if len(sources) != 1:
        return None
    (name,) = sources
    calls = [
        n.value for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name and isinstance(n.value, ast.Call)
    ]  # fmt: skip
    if len(calls) != 1:
        return None
    return returned_at(tree, f"{ast.unparse(calls[0])}[{k}]")


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


def _helper_behind_mask(source: Any, step: Any, adjoint: Any) -> tuple[str, str, int] | None:
    """(the masked name, the function, the line of its one return) when the adjoint's statement only masks another value
    (`dz = da * (z > 0)`, a ReLU's mask, right whatever the factor) and that value is what one
    function of the checked file returns (`da = avgpool_backward(dp)`): the factor is made there."""
    tree = source.tree if source is not None else None
    if isinstance(adjoint, InnerAdjoint):  # inside a function the step calls: its statements before the adjoint's
        scope = _scope_of(tree, adjoint.line) if tree is not None else None
        body = list(scope.body) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        statement = next((s for s in body if s.lineno == adjoint.line), None)
        before = [s for s in body if s.lineno < adjoint.line]
    else:
        statement = step.prefix[adjoint.index] if 0 <= adjoint.index < len(step.prefix) else None
        before = list(step.prefix[: adjoint.index])
    if tree is None or not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.BinOp) or not isinstance(statement.value.op, ast.Mult):
        return None
    sides = (statement.value.left, statement.value.right)
    masked = [a for a, b in (sides, sides[::-1]) if isinstance(a, ast.Name) and _a_mask(b)]
    if len(masked) != 1:
        return None
    made = [s for s in before if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == masked[0].id for t in s.targets)]
    if not made:
        return None
    defined = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    value = made[-1].value
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in defined):
        return None
    if not all(isinstance(a, (ast.Name, ast.Attribute, ast.Constant)) for a in value.args):
        return None  # a factor may be written in an argument (`spread_back(2 * dpool)`): made at the call
    returns = [r for r in ast.walk(defined[value.func.id]) if isinstance(r, ast.Return) and r.value is not None]
    if len(returns) != 1:
        return None
    line = returns[0].lineno
    if isinstance(returns[0].value, ast.Name):  # `return dx` after `dx[...] += ...` in a loop: the one statement that writes it
        name = returns[0].value.id
        writes = [
            n for n in ast.walk(defined[value.func.id])
            if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Subscript) and isinstance(n.target.value, ast.Name) and n.target.value.id == name
        ]  # fmt: skip
        if len(writes) == 1:
            line = writes[0].lineno
    return masked[0].id, value.func.id, line


def _a_mask(node: ast.AST) -> bool:
    """`(z > 0)`, `(z > 0).astype(float)`, `(a >= 0)`: a comparison with 0, a ReLU's slope."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "astype":
        node = node.func.value
    return (
        isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Gt, ast.GtE))
        and isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value == 0
    )  # fmt: skip


def _miscounted_in(source: Any, name: str, line: int) -> Any:
    """`static.counts.miscounted` for the statement at `line` of the file's function `name` (a backward the
    step calls), against its forward half beside it."""
    from backprop_doctor.static.counts import forward_twin, miscounted

    tree = source.tree if source is not None else None
    backward = next((n for n in (tree.body if tree is not None else ()) if isinstance(n, ast.FunctionDef) and n.name == name), None)
    forward = forward_twin(tree, backward) if backward is not None else None
    return miscounted(backward, forward, line) if forward is not None and backward is not None else None


def _helper_computing(source: Any, adjoint: Any, plain: bool = False) -> tuple[str, int] | None:
    """(the function, the line of its return) when the adjoint's statement only calls a function of the
    checked file for its value (`dout = huber_grad(out - y, delta)`), or a lambda it binds to a name
    (`relu_deriv = lambda a: a > 0`, its own line): the wrong value is made there.
    With `plain` (a factor, not a wrong derivative), only when the call is the whole value and hands
    the function names as they are (`spread_back(dpool)`): a factor written in an argument
    (`relu_backward(2 * W2.T @ dZ2, Z1)`) is made at the call."""
    from backprop_doctor.static.origins import value_computed_at

    tree = source.tree if source is not None else None
    statement = next((n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.lineno == adjoint.line), None) if tree is not None else None
    if statement is None:
        return None
    defined = _program_helpers(tree)
    calls = [c for c in ast.walk(statement.value) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in defined]
    if len(calls) != 1:
        return None  # none, or two helpers: which one is wrong is not read here
    name = calls[0].func.id
    if plain and (statement.value is not calls[0] or not all(isinstance(a, (ast.Name, ast.Attribute, ast.Constant)) for a in calls[0].args)):
        return None
    if isinstance(defined[name], ast.Lambda):
        line = defined[name].body.lineno  # the lambda's one expression
    elif statement.value is calls[0]:
        line = value_computed_at(tree, adjoint.line, adjoint.name)
    else:  # `huber_grad(r, delta) / n`: the helper's own return
        returns = [r for r in ast.walk(defined[name]) if isinstance(r, ast.Return) and r.value is not None]
        line = returns[-1].lineno if len(returns) == 1 else None
    return (name, line) if line is not None and line != adjoint.line else None


def _program_helpers(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.Lambda]:
    """The file's functions by name: its `def`s, and the lambdas it binds to a name once
    (`relu2deriv = lambda output: output > 0`); a name bound to a lambda twice is left out."""
    lambdas: dict[str, list[ast.Lambda]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lambdas.setdefault(target.id, []).append(node.value)
    defined: dict[str, Any] = {name: found[0] for name, found in lambdas.items() if len(found) == 1}
    defined.update({n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)})
    return defined


def _helper_factor(source: Any, line: int) -> tuple[str, int, int, str] | None:
    """(the function, the line its value is made at, the statement's line, the call) when the statement at `line` multiplies by what one
    function of the file, or one lambda it names, returns, handed plain values (`delta = up.dot(W.T) *
    relu2deriv(h)`): a derivative the program wrote once and applies; a wrong gradient computed there
    is made in it."""
    tree = source.tree if source is not None else None
    if tree is None:
        return None
    statement = next((n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno == line), None)
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Mult) and isinstance(statement.target, ast.Name):
        # `delta *= mask * 2` after `delta = up * relu2deriv(h)`: the value it multiplies is made at the binding before it
        scope = _scope_of(tree, line) or tree
        bound = [
            n for n in ast.walk(scope)
            if isinstance(n, ast.Assign) and n.lineno < line and any(isinstance(t, ast.Name) and t.id == statement.target.id for t in n.targets)
        ]  # fmt: skip
        statement = max(bound, key=lambda n: n.lineno) if bound else None
        line = statement.lineno if statement is not None else line
    if not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.BinOp) or not isinstance(statement.value.op, ast.Mult):
        return None
    defined = _program_helpers(tree)
    calls = [c for c in ast.walk(statement.value) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in defined]
    factors = (statement.value.left, statement.value.right)
    if len(calls) != 1 or not any(c is calls[0] for c in factors):
        return None
    if not calls[0].args or not all(isinstance(a, (ast.Name, ast.Attribute)) for a in calls[0].args):
        return None
    # the same call made at another statement too (`h1 = sigmoid(sum_h1)` in the forward pass, `deriv(sum_o1)`
    # in every partial of the output): its value is not this statement's own mistake, which is in the
    # statement itself (`h2 * deriv(sum_o1)` where `h1` belongs, `sigmoid` where its derivative belongs)
    text = ast.unparse(calls[0])
    scope = _scope_of(tree, line) or tree
    if any(isinstance(c, ast.Call) and c is not calls[0] and ast.unparse(c) == text for c in ast.walk(scope)):
        return None
    helper = _helper_computing(source, type("At", (), {"line": line, "name": ""})())
    return (*helper, line, ast.unparse(calls[0])) if helper is not None else None


def _handed_otherwise(source: Any, step: Any, adjoint: Any, loss: Any, values: dict[str, Any]) -> tuple[str, int, str, str] | None:
    """`static.writes.handed_otherwise` for a wrong adjoint inside a function the step calls, kept
    only where the two arguments are arrays of the step's state that could stand for each other."""
    if source.tree is None:
        return None
    function = adjoint.adjoint.function.rpartition(".")[2]
    found = handed_otherwise(source.tree, step.prefix, function, adjoint.line, adjoint.reads, loss.expression)
    return next(((p, at, given, expected) for p, at, given, expected in found if _alike(values, given, expected)), None)


def _alike(values: dict[str, Any], one: str, other: str) -> bool:
    """Both are arrays of the step's state with one shape and kind of number: either could be handed
    (`y` for `y_scaled`); integer labels beside their one-hot rows are two forms, not a mix-up."""
    a, b = values.get(one), values.get(other)
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype.kind == b.dtype.kind


def _state_values(result: Any) -> dict[str, Any]:
    """The variables of the replayed step's state (read, never written), {} when it kept none."""
    runner = getattr(result, "runner", None)
    return runner.state.values if runner is not None else {}


def _repeated_index_add(
    source: Any, result: Any, line: int | None, file: str | None, gradient: str | None = None, key: str | None = None
) -> tuple[int, str, str, str] | None:
    """(its line, target, index, value) of `static.writes.indexed_add` at `line` (`demb[docs] += dvecs`), or
    of `returned_indexed_add` in the function whose result `line` unpacks into `gradient`, when the index
    is an integer array of the step's state with a value repeated: NumPy's buffered `+=` adds once per
    distinct index, where the gradient of a gather (`emb[docs]`) sums every repeat (`np.add.at`)."""
    if line is None or file is not None or source.tree is None:
        return None
    added = indexed_add(source.tree, line)
    found = (line, *added) if added is not None else None
    passed = added[1] if added is not None else None
    index = _index_value(result, passed) if passed is not None else None
    if index is None and found is not None:  # `dE[self.ids] += dtok` in the model's backward: its instance's
        index = _index_on_self(result, found[2], source.path, found[0])
    if found is None and (stored := stored_indexed_add(source.tree, line)) is not None:  # `self.grads["E"] = dE` after `dE[self.idx] += g`
        read = _index_value(result, stored[2])
        read = read if read is not None else _index_on_self(result, stored[2], source.path, stored[0])
        if read is not None:
            found, index = stored, read
    if found is None and (filled := filled_indexed_add(source.tree, line)) is not None:  # `self.grad = np.zeros_like(W)` then `self.grad[self.ids] += d`
        read = _index_value(result, filled[2])
        read = read if read is not None else _index_on_self(result, filled[2], source.path, filled[0])
        if read is not None:
            found, index = filled, read
    if index is None:  # not the step's own name: an index a function the step calls was handed
        inner = returned_indexed_add(source.tree, line, gradient) if found is None and gradient is not None else None
        inner = inner or bound_indexed_add(source.tree, line, result.step.prefix)
        if inner is None and found is None and gradient is not None:  # `grads[k]`, `g["E"][inputs[:, t]] += dx` in the function
            inner = returned_entry_indexed_add(source.tree, line, gradient, key)
        if inner is not None:
            at, target, index, passed, value = inner
            found = (at, target, index, value)
            index = _index_value(result, passed)
    if found is not None and isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size > np.unique(index).size:
        return found
    return None


def _index_on_self(result: Any, passed: str, path: str, line: int) -> Any:
    """`self.ids` of an indexed `+=` in a method (`dE[self.ids] += dtok` in `BagOfWordsClassifier.backward`), read
    off the one object of that class the step holds (`model`, or an object or a list entry one of its objects
    holds) after one run of the pass; None where no single such object is found or the reading fails."""
    if not re.fullmatch(r"self(?:\.[^\W\d]\w*)+", passed):
        return None
    function = enclosing(path, line)
    parts = function.qualname.split(".") if function is not None else []
    if len(parts) < 2:
        return None
    owner_class = parts[-2]
    namespace = result.after_one_pass() or _state_values(result)
    found: dict[int, Any] = {}

    def look(value: Any, depth: int) -> None:
        if type(value).__name__ == owner_class:
            found[id(value)] = value
        if depth == 0:
            return
        inner = list(value) if isinstance(value, (list, tuple)) else list(vars(value).values()) if hasattr(value, "__dict__") and not isinstance(value, type) else []
        for item in inner[:64]:
            if not isinstance(item, np.ndarray):
                look(item, depth - 1)

    for value in list(dict(namespace).values()):
        if not isinstance(value, (np.ndarray, type)) and not callable(value) or type(value).__name__ == owner_class:
            look(value, 2)
    if len(found) != 1:
        return None
    try:
        return eval(passed, {"self": next(iter(found.values()))})  # noqa: S307 - attributes of the user's own object
    except Exception:  # noqa: BLE001 - an attribute the object does not hold
        return None


def _last_key(moved: Any) -> str | None:
    """'E' of the parameter `params['E']` (the last step of its path, when it is a string key)."""
    path = getattr(moved, "path", None)
    return path[-1][1] if path and path[-1][0] == "item" and isinstance(path[-1][1], str) else None


def _index_value(result: Any, passed: str) -> Any:
    """The index the step hands the gradient's indexed `+=`: `passed` (`ids`, `X[bi]`) read after one run of
    the pass from the replayed state, else a name's value in the state itself; None when neither reads."""
    namespace = result.after_one_pass()
    if namespace is not None:
        try:
            return eval(passed, dict(namespace))  # noqa: S307 - names, attributes and entries only (`static.writes._plain_reference`)
        except Exception:  # noqa: BLE001 - the user's names, read again: nothing to read
            pass
        looped = _index_over_loop(passed, namespace)
        if looped is not None:
            return looped
    return _state_values(result).get(passed)


def _index_over_loop(passed: str, namespace: dict[str, Any]) -> Any:
    """`inputs[:, t]` inside a loop over `t` of the function the step calls (`t` is not the step's): the
    first of its values over `t` that repeats an index, read from the step's `inputs`; else the first
    value; None when it is not an entry of an integer array of the step's by one name it lacks."""
    import ast

    try:
        node = ast.parse(passed, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
        return None
    array = namespace.get(node.value.id)
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "iu":
        return None
    parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    free = [(axis, p.id) for axis, p in enumerate(parts) if isinstance(p, ast.Name) and p.id not in namespace]
    if len(free) != 1 or free[0][0] >= array.ndim:
        return None
    axis, name = free[0]
    values = []
    for value in range(min(array.shape[axis], 256)):
        try:
            index = eval(passed, {**namespace, name: value})  # noqa: S307 - an entry of the step's own array
        except Exception:  # noqa: BLE001
            return None
        if isinstance(index, np.ndarray) and index.size > np.unique(index).size:
            return index
        values.append(index)
    return values[0] if values else None


def _slope_left_out(source: Any, pattern: str, line: int | None, file: str | None) -> Any:
    """`static.derivatives.slope_left_out` of a wrong gradient computed in the checked file at `line`
    from the gradient of an activation's output (`grads["W1"] = X.T @ dh` with `h = np.maximum(0, z)`)."""
    if pattern not in ("wrong-derivative", "scaled") or line is None or file is not None or source is None or source.tree is None:
        return None
    left = slope_left_out(source.tree, line)
    return left if left is not None and left.used_at == line else None


def _stale(step: Any, line: int | None, file: str | None, views: dict[str, str] | None = None) -> tuple[str, int, int] | None:
    """A gradient of the step, at `line`, computed from a parameter an earlier update of the same pass
    moved (`W2 -= lr * dW2` before `d_h = d_out @ W2.T`), or from a view into it (`center = W_in[c]`
    bound before the pass, read after `W_in[c] -= lr * g` moved it). `views`: the step's names bound
    to a view into another name's array."""
    loop = step.loop
    if loop is None or line is None or file is not None:
        return None
    updated: dict[str, int] = {}
    rows: dict[str, str] = {}
    for site in step.updates:
        root, _, index = site.update.target.partition("[")
        inside = loop.lineno <= site.line <= (loop.end_lineno or loop.lineno)  # not in a function the pass calls: its names are its own
        if site.file is None and (root.isidentifier() or _attribute_path(root)) and inside:
            updated.setdefault(root, site.line)
            if index[:-1].isidentifier():
                rows.setdefault(root, index[:-1])  # `V[i] += ...`: one row moved
    for name, owner in (views or {}).items():
        if owner in updated:
            updated.setdefault(name, updated[owner])
    return stale_step_read(list(loop.body), updated, line, rows) if updated else None


def _attribute_path(text: str) -> bool:
    """`self.W2`: a parameter an object holds, updated in place by the pass (`self.W2 -= lr * dW2`)."""
    parts = text.split(".")
    return len(parts) > 1 and all(part.isidentifier() for part in parts)


def _owners_of_views(step: Any, views: dict[str, str]) -> dict[str, str]:
    """Every name of the step that is a view into another's array: bound before the pass (`views`,
    read from the state) or in it (`h = W_in[c]`)."""
    inside = {name: owner for name, (owner, _) in row_views(list(step.loop.body)).items()} if step.loop is not None else {}
    return {**views, **inside}


_SLOPES = {"relu": ("the ReLU", "({0} > 0)"), "sigmoid": ("the sigmoid", "{0} * (1 - {0})"), "tanh": ("tanh", "(1 - {0} ** 2)")}


def _slope_advice(adjoint: str, activation: str, output: str) -> str:
    """`multiply `delta1` by the sigmoid's derivative, `a1 * (1 - a1)``, the slope written of its output."""
    name, slope = _SLOPES[activation]
    return f"multiply `{adjoint}` by {name}'s derivative, `{slope.format(output)}`"


def _left_out(result: Any, loss_words: str, evidence: Any, path: str) -> Finding:
    """A right adjoint of an activation's output used as the adjoint of its input: the slope is missing."""
    left = result.left_out
    adjoint = left.adjoint
    forward = _shown(result.step, adjoint.forward)
    name = _SLOPES[left.activation][0]
    wrong = [m for m, _ in result.wrong]
    gradients = _names(list(dict.fromkeys(_tidy(m.gradient_name or m.site.gradient) for m in wrong)))
    return rule(NAME).finding(
        f"`{adjoint.name}` (line {adjoint.line}) is the gradient with respect to `{forward}`, {name}'s output, but {gradients} "
        f"use{'s' if len(wrong) == 1 else ''} it as the gradient with respect to {name}'s input: the derivative of {name} is left out, "
        f"so the update{'s' if len(wrong) > 1 else ''} of {_names([m.name for _, m in result.wrong])} in your training step do"
        f"{'es' if len(wrong) == 1 else ''} not follow the gradient of {loss_words}: {_slope_advice(adjoint.name, left.activation, forward)}",
        param=adjoint.name,
        file=path,
        line=adjoint.line,
        highlight=tuple(sorted({adjoint.line, *(m.line for _, m in result.wrong if m.line), *(m.site.line for m in wrong)})),
        pattern="missing-activation-derivative",
        measured=max(m.error for _, m in result.wrong),
        evidence=evidence,
    )


def _two_functions(result: Any, loss_words: str, evidence: Any, path: str) -> Finding:
    """The note for updates off by unrelated factors against a loss method of the program's objects: read as
    two functions (another mode, other samples), not as wrong gradients, and how to tell."""
    wrong = result.wrong
    factors = [_number(m.factor) for _, m in wrong if m.factor is not None]
    shown = f" ({', '.join(factors[:4])}{', ...' if len(factors) > 4 else ''})" if factors else ""
    lines = sorted({m.site.line for m, _ in wrong if not m.site.file})
    where = f"line{'s' if len(lines) > 1 else ''} {', '.join(str(n) for n in lines)}" if lines else "its updates"
    return rule(NAME).finding(
        f"the updates of {_names([m.name for _, m in wrong])} in your training step ({where}) do not follow {loss_words}, each by a "
        f"factor of its own{shown}: read as your loss method computing otherwise than your gradients (dropout or batch "
        "normalisation in inference mode, or other samples than the step's), not as wrong gradients; to check them, compute "
        "the loss in the loop on the step's own batch, in training mode",
        severity="info",
        param=wrong[0][1].name,
        file=path,
        line=lines[0] if lines else None,
        highlight=tuple(lines),
        pattern="another-function",
        measured=max(m.error for _, m in wrong),
        evidence=evidence,
    )


def _misapplied_in_step(result: Any, source: Any) -> Any:
    """A derivative helper given the wrong side of its activation (`static.derivatives.misapplied`) on a line
    of the checked file the step runs, when every update is wrong by no one factor and no adjoint was
    measured to say where (`sigmoid_derivative(self.zs[-1])` inside a method the step calls)."""
    from backprop_doctor.static.derivatives import misapplied

    if source.tree is None or any(m.proportional or m.unused or m.accumulated is not None or m.file for _, m in result.wrong):
        return None
    lines = result.lines_run().get(os.path.abspath(source.path), set())
    return next((found for line in sorted(lines) if (found := misapplied(source.tree, line)) is not None), None)


def _misapplied_finding(result: Any, twice: Any, loss_words: str, evidence: Any, path: str, source: Any) -> Finding:
    """The finding for `_misapplied_in_step`: at the call, with its fix."""
    side, other = ("output", "input") if twice.wants == "input" else ("input", "output")
    lines = getattr(source, "text_lines", None) or []
    written = lines[twice.line - 1].strip() if 0 < twice.line <= len(lines) else ""
    params = _names([m.name for _, m in result.wrong])
    said = (
        f"`{twice.call}` (line {twice.line}) is {twice.activation}'s derivative written with `{twice.given}`, its {side} (line {twice.given_line}), "
        f"where {twice.activation}'s derivative is written with its {other}"
        if not twice.helper
        else f"`{twice.call}` (line {twice.line}) gives `{twice.helper}` `{twice.given}`, the {side} of {twice.activation} (line {twice.given_line}), "
        f"while `{twice.helper}` computes the derivative from {twice.activation}'s {other}"
    )
    return rule(NAME).finding(
        f"{said}, so the updates of {params} in your training step "
        f"do not follow the gradient of {loss_words}: write `{twice.fix}` in place of `{twice.call}`",
        param=result.wrong[0][1].name,
        file=path,
        line=twice.line,
        highlight=tuple(sorted({twice.line, *(m.site.line for m, _ in result.wrong if not m.site.file)})),
        pattern="derivative-of-output" if twice.wants == "input" else "derivative-of-input",
        measured=max(m.error for _, m in result.wrong),
        fix=written.replace(twice.call, twice.fix, 1) if twice.call in written else None,
        evidence=evidence,
    )


def _misapplied_words(adjoint: Any, twice: Any) -> tuple[str, str, str]:
    """(pattern, diagnosis, advice) for an adjoint whose derivative helper gets the wrong side of its activation."""
    given = f"`{adjoint.name}` (line {adjoint.line}) is wrong because `{twice.call}` is given `{twice.given}`"
    if twice.wants == "input":
        return (
            "derivative-of-output",
            f"{given}, the output of {twice.activation} (line {twice.given_line}), while `{twice.helper}` computes the derivative "
            f"from {twice.activation}'s input (it applies {twice.activation} itself), applying it twice",
            f"write `{twice.fix}` in place of `{twice.call}`",
        )
    if not twice.helper:  # written out in the statement: `1 - self.z1 ** 2`
        return (
            "derivative-of-input",
            f"`{adjoint.name}` (line {adjoint.line}) is wrong because `{twice.call}` is {twice.activation}'s derivative written with "
            f"`{twice.given}`, its input (line {twice.given_line}), where {twice.activation}'s derivative is written with its output",
            f"write `{twice.fix}` in place of `{twice.call}`",
        )
    return (
        "derivative-of-input",
        f"{given}, the input of {twice.activation} (line {twice.given_line}), while `{twice.helper}` computes the derivative "
        f"from {twice.activation}'s output",
        f"write `{twice.fix}` in place of `{twice.call}`",
    )


def _reset_before_loop(source: Any, members: list[tuple[Any, Any]]) -> int | None:
    """The line before the loop that resets the summed gradients in place (`grads[k].fill(0.0)`,
    `grads[k][:] = 0`, not the statement that makes them): it runs once, and belongs inside the loop."""
    import ast

    lines = {m.accumulated[1] for _, m in members} - {None}
    if source.tree is None or len(lines) != 1:
        return None
    (line,) = lines
    for node in ast.walk(source.tree):
        if getattr(node, "lineno", None) != line or not isinstance(node, (ast.Expr, ast.Assign)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
            return line  # `grads[k].fill(0.0)`, `model.zero_grad()` (a method that zeroes them: `replay.gradients._zeroing_calls_before`)
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Subscript) for t in node.targets):
            return line
    return None


def _never_emptied(
    source: Any, step: Any, window: int, members: list[tuple[Any, Any]], where: str, loss_words: str, line: int, shown: list[int]
) -> tuple[int, list[int], str]:
    """(line, lines shown, message) for an update run once every `window` passes (`if step % k == 0:`) that
    reads a sum the passes add their gradients to (`acc[k] += g[k]`) and that the loop never empties: named
    at the statement of the update that zeroes another array in its place (`g[k][...] = 0.0`), else at the
    line that adds."""
    from backprop_doctor.static.resets import zeroing_statements

    plural = len(members) > 1
    sums = list(dict.fromkeys(m.accumulated[0] for _, m in members))
    added = sorted({m.added_at for _, m in members if m.added_at is not None})
    resets = zeroing_statements(source.tree, step)
    adds = f" (line{'s' if len(added) > 1 else ''} {', '.join(map(str, added))})" if added else ""
    if resets:
        at, target = resets[0]
        emptied = f"line {at} sets `{target}` to zero, which empties none of them, so "
        line = at
    else:
        emptied = ""
        line = added[0] if added else line
    shown = sorted({line, *added, *(m.site.line for m, _ in members if m.site.file is None)})
    message = (
        f"the update{'s' if plural else ''} of {_names([m.name for _, m in members])} in your training step ({where}) "
        f"run{'' if plural else 's'} once every {window} passes and use{'' if plural else 's'} the accumulated "
        f"{'sums' if len(sums) > 1 else 'sum'} {_names(sums)}, which each pass adds its gradient to{adds}; the loop never "
        f"empties {'them' if len(sums) > 1 else 'it'} after an update: {emptied}every update applies the sum of all the gradients so far "
        f"of {loss_words}, not the mean of its own {window} passes'; set `{sums[0]}[...] = 0.0` (each of them) right after the update"
    )
    return line, shown, message


def _accumulated_words(members: list[tuple[Any, Any]], where: str, loss_words: str) -> str:
    """A gradient the step adds to (`dW1 += ...`) and never resets: each update uses the sum of all of them."""
    names = _names([m.name for _, m in members])
    gradients = [m.accumulated for _, m in members]
    plural = len(members) > 1
    zeroed = sorted({line for _, line in gradients if line is not None})
    once = f" (set to zero only once, before the loop, at line{'s' if len(zeroed) > 1 else ''} {', '.join(map(str, zeroed))})" if zeroed else ""
    first = gradients[0][0]
    return (
        f"the update{'s' if plural else ''} of {names} in your training step ({where}) use{'' if plural else 's'} "
        + ", ".join(dict.fromkeys(f"`{m.accumulated[0]}` (line {m.line})" if m.line else f"`{m.accumulated[0]}`" for _, m in members))
        + f", which the step adds this step's gradient to without resetting{once}: "
        f"each update moves by the sum of every gradient so far of {loss_words}, not by this step's; set "
        f"`{first} = np.zeros_like({members[0][1].name})` at the start of each step, or assign `{first} = ...` instead of adding to it"
    )


_PLURAL = (("the gradient ", "the gradients "), ("its sign", "their sign"), ("its scale", "their scale"), ("negate it", "negate them"), ("divide it", "divide them"))


def _plural(words: str) -> str:
    """`_factor_words`' words for several gradients at once: "the gradients ... their sign ... negate them"."""
    for one, several in _PLURAL:
        words = words.replace(one, several)
    return words


def _widened_words(own: tuple[int, ...], shape: tuple[int, ...], plural: bool) -> tuple[str, str]:
    """What a gradient larger than its parameter is, and how to sum it: `db1 = dZ1 / m` of shape (10, 200)
    on a (10, 1) bias turns the bias into a (10, 200) array at the first update, one value per sample."""
    axes = [axis for axis, (n, p) in enumerate(zip(own, shape)) if p == 1 and n > 1]  # the samples' axis
    summed = str(axes[0]) if len(axes) == 1 else f"({', '.join(map(str, axes))})"
    what = (
        f"of shape {own}, where the parameter{'s have' if plural else ' has'} shape {shape}, so the first update turns "
        f"{'each' if plural else 'it'} into an array of shape {own}, one value per sample"
    )
    advice = f"sum the gradient over the samples (`np.sum(..., axis={summed}, keepdims=True)`) so it has the parameter's shape"
    return what, advice


def _broadcast_words(own: tuple[int, ...], shape: tuple[int, ...], plural: bool) -> tuple[str, str]:
    """What a gradient smaller than its parameter is, and how to sum it: `np.sum(dZ1)` is one number
    that the update adds to each of `b1`'s (10, 1) entries, where each entry has a gradient of its own."""
    size = "one number" if not own or all(n == 1 for n in own) else f"of shape {own}"
    axes = [str(axis) for axis, n in enumerate(shape) if n == 1]  # the parameter's own axes of one entry: the samples'
    summed = axes[0] if len(axes) == 1 else f"({', '.join(axes)})"
    how = f"axis={summed}, keepdims=True" if axes and len(shape) > 1 else "axis=0" if axes or len(shape) == 1 else "the batch axis"
    what = f"{size}, where the parameter{'s have' if plural else ' has'} shape {shape}, so the update moves all its entries by the same amount"
    advice = f"each entry has a gradient of its own, so sum over the samples only ({how}), not over the whole array"
    return what, advice


def _gate_words(at: AtStep, path: str) -> str | None:
    """`at.gate`, with a GRU's `z`, a sigmoid's output where an LSTM's `z` is the gates' input, as its update gate."""
    gate = at.gate
    if gate == "gate input":
        from backprop_doctor.static.derivatives import activation_applied
        from backprop_doctor.static.files import source_tree

        tree = source_tree(path)[1]
        applied = activation_applied(tree, at.adjoint.forward_at.line) if tree is not None else None
        if applied is not None and applied.kind == "sigmoid":
            return "update gate"
    return gate


def _through_time(result: Any, at: AtStep, measured: Any, loss_words: str, evidence: Any, path: str) -> Finding:
    """The first wrong adjoint of a backward loop over time: which step, which gate, which statement."""
    wrong = result.wrong
    params = ", ".join(dict.fromkeys(f"`{m.name}`" for _, m in wrong))
    # a pass at t that computes the gradient of `hs[t + 1]` (`TimeAdjoint.lag` equal to its offset): keys 1..T
    first = at.adjoint.offset if at.adjoint.lag == at.adjoint.offset else 0
    last = at.steps - 1 + first if at.steps else None
    when = f"time step {at.step}" + (" (the last one, where the backward pass starts)" if at.step == last else f" of {first}..{last}" if last is not None else "")
    gate_words = _gate_words(at, path)
    what = f" — the {gate_words}" if gate_words else ""
    before = [a.name for a, m in result.adjoints if isinstance(a, AtStep) and a.step == at.step and not m.wrong]
    terms: list[int] = []
    fix = at.rewritten.fix if at.rewritten is not None else None
    if at.carried is not None and at.rewritten is not None and at.rewritten.line != at.carried[1]:
        carried, line = at.carried
        made = at.rewritten
        diagnosis = (
            f"`{at.name}` (line {at.adjoint.line}) is wrong first at {when}{what}, although every gradient of time step "
            f"{at.step + 1} is right: `{carried}` (line {line}), which carries the gradient from step {at.step + 1} back to "
            f"step {at.step}, is not the gradient of {loss_words} {'' if at.adjoint.local else f'with respect to `{at.adjoint.series}[{at.step}]` '}through the next step, "
            f"from `{made.text}` (line {made.line}) at step {at.step + 1}"
        )
        advice = f"write `{made.fix}`, with which `{at.name}` at step {at.step} is right"
        terms = [line]
    elif at.carried is not None:
        carried, line = at.carried
        diagnosis = (
            f"`{at.name}` (line {at.adjoint.line}) is wrong first at {when}{what}, although every gradient of time step "
            f"{at.step + 1} is right: `{carried}` (line {line}), which carries the gradient from step {at.step + 1} back to "
            f"step {at.step}, is not the gradient of {loss_words} {'' if at.adjoint.local else f'with respect to `{at.adjoint.series}[{at.step}]` '}through the next step"
        )
        advice = f"re-derive `{carried}` as the derivative of the next step's computation with respect to its input from this step (check for a transposed or missing term)"
    elif measured.output_of is not None:
        activation, output = measured.output_of
        name = _SLOPES[activation][0]
        diagnosis = (
            f"at {when}, `{at.name}` (line {at.line}) is the gradient of {loss_words} with respect to `{at.forward}`, "
            f"{name}'s output, where the gradient with respect to {name}'s input is needed: the derivative of {name} is left out"
        )
        advice = _slope_advice(at.name, activation, output)
    elif (handed := at.adjoint.forward_at).line == handed.first_line:
        # `dh` of `h`, the state `forward(self, x, h)` is handed: the sum of its gradients through every use of it there
        terms = _terms_of(path, at)
        diagnosis = (
            f"at {when}, `{at.name}` (line {at.line}) is not the gradient of {loss_words} with respect to `{at.forward}`, the state "
            f"`{handed.function}` is handed (line {handed.line})"
        )
        if before:
            diagnosis += f", although {_names(list(dict.fromkeys(before)))} at that step {'is' if len(set(before)) == 1 else 'are'} right"
        advice = f"`{at.name}` must add up the gradient through every use of `{at.forward}` in `{handed.function}`" + (
            f": re-derive each term it adds up at lines {_lines(terms)}" if len(terms) > 1 else ""
        )
    else:
        gate = f", the {gate_words}," if gate_words else ""
        diagnosis = (
            f"at {when}, `{at.name}` (line {at.line}) is not the gradient of {loss_words} with respect to `{at.forward}`{gate} "
            "nor to its pre-activation"
        )
        if before:
            diagnosis += f", although {_names(list(dict.fromkeys(before)))} at that step {'is' if len(set(before)) == 1 else 'are'} right"
        advice = f"re-derive `{at.name}` from the forward statement of `{at.adjoint.forward}` (line {at.adjoint.forward_at.line})"
        from backprop_doctor.static.files import source_tree

        tree = source_tree(path)[1] if path else None
        statement = next((n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == at.line), None) if tree is not None else None
        if statement is not None and (masked := self_masked(statement)) is not None:  # `dH[dH <= 0] = 0` in a loop over layers kept by key
            advice = (
                f"it zeroes `{masked}` where `{masked}` itself is not positive, but a ReLU's derivative zeroes the gradient where "
                f"the ReLU's input (its forward pre-activation) is not positive; mask by that"
            )
        if at.adjoint.unpaired:
            inputs = ", ".join(f"`{n}` (line {line})" for n, line in at.adjoint.unpaired)
            advice += f"; it is computed from {inputs}, which no stored forward value lets backprop-doctor measure on its own: the mistake may be there"
    return rule(NAME).finding(
        f"{diagnosis}, so the updates of {params} in your training step do not follow the gradient: {advice}",
        param=at.name,
        file=path,
        line=at.line,
        highlight=tuple(sorted({at.line, at.adjoint.line, *terms, *(m.site.line for m, _ in wrong)})),
        pattern="through-time" if at.carried is not None else "missing-activation-derivative" if measured.output_of is not None else "wrong-derivative",
        measured=measured.error,
        evidence=evidence,
        fix=fix,
    )


def _unvisited_steps(result: Any, tree: ast.Module | None) -> AtStep | None:
    """A backward loop over time whose range leaves out time steps at its ends that the forward loop stored
    (`for t in range(T - 1, max(0, T - 1 - k), -1)` stops at 1, `hs[0]` never visited), while every adjoint
    the walk measured through it was right (the gradient the loop carries to the step it never visits
    included), and every wrong gradient is added up inside that loop: the gradients miss the terms of the
    steps the loop never reaches, and the loop's range is the line to fix. Not a truncation the program
    chose (`Measured.truncated`), nor a sum never reset."""
    walked = [(a, m) for a, m in result.adjoints if isinstance(a, AtStep)]
    if not walked or not result.wrong or any(m.wrong or m.inconclusive for a, m in result.adjoints):
        return None
    at = next((a for a, _ in walked if a.unvisited and a.adjoint.loop is not None), None)
    if at is None or not at.visited:
        return None
    low, high = min(at.visited), max(at.visited)
    if any(low <= step <= high for step in at.unvisited):
        return None  # a hole in the middle: not where a range starts or stops
    loop = at.adjoint.loop
    for moved, measured in result.wrong:
        line = _located(moved, measured)
        if measured.file or moved.site.file or measured.unused:
            return None
        if (line is None or not loop.line < line <= loop.end_line) and not _added_in_loop(tree, loop, measured.name):
            return None  # a gradient neither computed at a line of the loop nor added up there under its name (`self.dWxh +=`)
        if measured.truncated is not None or measured.accumulated is not None or measured.penalty_left_out is not None:
            return None
    return at


def _added_in_loop(tree: ast.Module | None, loop: Any, name: str) -> bool:
    """Whether a statement of the loop at `loop` adds into a gradient named after the parameter `name`
    (`self.dWxh += ...` for `net.Wxh`, `g["U"] += ...` for `params['U']`)."""
    key = re.sub(r"\W", "", name.rsplit("[", 1)[-1].rsplit(".", 1)[-1])
    if tree is None or not key:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and loop.line < node.lineno <= loop.end_line and isinstance(node.op, ast.Add):
            target = node.target
            last = target.attr if isinstance(target, ast.Attribute) else ast.unparse(target.slice) if isinstance(target, ast.Subscript) else getattr(target, "id", "")
            stem = re.sub(r"\W", "", last)
            if stem == key or stem in (f"d{key}", f"d_{key}", f"grad_{key}", f"grad{key}"):
                return True
    return False


def _unvisited_finding(result: Any, at: AtStep, source: Any, loss_words: str, evidence: Any, path: str) -> Finding:
    loop = at.adjoint.loop
    lines = getattr(source, "text_lines", None) or []
    head = lines[loop.line - 1].strip().rstrip(":") if 0 < loop.line <= len(lines) else ""
    wrong = result.wrong
    names = _names(list(dict.fromkeys(m.name for _, m in wrong)))
    plural = len(wrong) > 1
    first, last = at.visited[0], at.visited[-1]
    stored = sorted({*at.visited, *at.unvisited})
    missed = at.unvisited
    steps = f"step{'s' if len(missed) > 1 else ''} {_lines(list(missed))}"
    return rule(NAME).finding(
        f"the backward loop over time (line {loop.line}{f', `{head}`' if head else ''}) visits time steps {first} to {last} of "
        f"`{at.adjoint.series}`'s {stored[0]}..{stored[-1]}: time {steps} never add{'' if len(missed) > 1 else 's'} {'its' if len(missed) == 1 else 'their'} "
        f"terms, so the update{'s' if plural else ''} of {names} in your training step {'do' if plural else 'does'} not follow the gradient of "
        f"{loss_words}, although `{at.name}` (line {at.adjoint.line}) is right at every step the loop reaches: make the loop's range "
        f"reach time {steps} (check its start and stop bounds)",
        param=wrong[0][1].name,
        file=path,
        line=loop.line,
        highlight=tuple(sorted({loop.line, *(m.site.line for m, _ in wrong)})),
        pattern="time-steps-skipped",
        measured=max(m.error for _, m in wrong),
        evidence=evidence,
    )


def _terms_of(path: str, at: AtStep) -> list[int]:
    """The lines of the backward step function that bind or add to the time adjoint (`dh = dh_next * g`, `dh += ...`)."""
    from backprop_doctor.static.files import source_tree

    tree = source_tree(path)[1]
    site = at.adjoint.adjoint
    function = next(
        (n for n in tree_walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= site.first_line <= n.body[0].lineno and n.lineno >= site.first_line - len(n.decorator_list)),
        None,
    ) if tree is not None else None
    if function is None:
        return []
    return sorted({n.lineno for n in ast.walk(function) if isinstance(n, (ast.Assign, ast.AugAssign)) and at.name in _changed_names(n)})


def _changed_names(statement: ast.stmt) -> set[str]:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _evidence(result: Any) -> tuple[tuple[str, str], ...]:
    rows = []
    if result.loss is not None and result.loss_value is not None:
        own = f"; your program computed {result.program_loss:.6g} at that step" if result.program_loss is not None else ""
        lifted = " without the small constant added inside its log (the loss your gradients are the derivative of)" if getattr(result, "guard_lifted", False) else ""
        rows.append(("replayed", f"{replayed_step(result)}, replayed from the program's own state: loss {result.loss_value:.6g}{lifted}{own}"))
    for _moved, measured in result.parameters:
        along = measured.directions[0] if measured.directions else None
        if along is None:
            continue
        verdict = "unused" if measured.unused else "wrong" if measured.wrong else "kink" if measured.inconclusive else "ok"
        rows.append((measured.name, f"{verdict}: d loss along the update: numerical {along.numerical:.6g}, yours {along.analytic:.6g}"))
    for adjoint, measured in result.adjoints:
        if isinstance(adjoint, AtStep) and measured.output_of is not None:
            name = _SLOPES[measured.output_of[0]][0]
            rows.append((adjoint.name, f"ok as the gradient with respect to `{adjoint.forward}` (line {adjoint.line}), {name}'s output; wrong as the gradient with respect to {name}'s input"))
            continue
        verdict = "wrong" if measured.wrong else "ok"
        factor = f" (× {measured.factor:.3g})" if measured.wrong and measured.factor is not None else ""
        rows.append((adjoint.name, f"{verdict}{factor} as the gradient with respect to `{_shown(result.step, adjoint.forward)}` (line {adjoint.line})"))
    return tuple(rows)

