"""An Adam optimizer class does not step as Adam does.

What it finds:
    An optimizer class named Adam (`Adam`, `AdamOptimizer`) is given the same
    gradient at five updates in a row, on fresh arrays. Adam's bias corrections
    make m̂ = g and v̂ = g² at every step for a constant gradient, so every
    update moves each parameter by exactly the learning rate against its
    gradient's sign, whatever the gradient's size. A class that divides by
    v̂ instead of √v̂ moves by lr/|g|; one that leaves out the bias
    corrections moves 3.16× too far at first (with β₁ = 0.9, β₂ = 0.999);
    one whose step count never advances drifts from its second step on; one
    whose count starts at 0 divides by zero; one that corrects one moment
    and takes the other as it is (`v_hat = self.v[k]`) is named at that
    statement. In a training loop written out
    (a script, a `train` function), a bias correction that divides by
    `1 - beta1` with no power of the update count is named at its line, and so
    is one that divides a moment by another moment's decay (`v / (1 - beta1 ** t)`
    where `v` averages with `beta2`): an error. Adamax's running maximum that
    compares the gradient itself, not its size (`u = np.maximum(beta2 * u, g)`
    beside `m = beta1 * m + (1 - beta1) * g`, the step dividing by `u`), stays at
    0 where the gradient is negative, so the step divides by eps alone: named at
    its line, an error, with the moves measured when the optimizer is a class or
    function the tool can step. An
    RMSProp or AdaGrad class moves every element by one multiple of its rate
    under a constant gradient, whatever the gradient's size; one that divides
    by its running square instead of the square's root moves by lr/|g|; one
    that sets its running square to the last gradient's square alone (`h =
    g * g` where `h += g * g` belongs) steps as far at every update, where
    AdaGrad's steps shrink by 1/√t and RMSProp's as its average fills. A call
    that hands such an optimizer an epsilon of 1e-3 or more (`Adam(P,
    eps=1.0)`) is named at its line.

Why it matters:
    Such an optimizer still moves against the gradient, so the loss may fall;
    but the step it takes is not the one its learning rate promises: too large
    (the loss jumps in the first iterations, or diverges), too small where
    gradients are large, or growing step after step.

Example:
    m_hat = self.m[key] / (1 - self.beta1 ** self.iter)
    v_hat = self.v[key] / (1 - self.beta2 ** self.iter)
    params[key] -= self.lr * m_hat / (v_hat + 1e-7)

Fix:
    params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-7)
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.infinity_norm import Accumulator, unsigned

NAME = "adam-step-wrong"
CODE = "BPD208"
SEVERITY = "warning"
STAGE = "contract"

FAR = 10.0  # a median step this many times Adam's, or this many times smaller, at any update: an error
SLACK = 0.99  # `v_hat` corrected by beta1 moves exactly 10x: measured, a hair either side


def run(context: Any) -> Iterator[Finding]:
    reported: set[int] = set()
    source = getattr(context, "source", None)
    crossed = crossed_corrections(source.tree) if source is not None and source.tree is not None else []
    measured: dict[int, Finding] = {}  # crossed line -> the drift finding that measured its optimizer's steps
    unsigned_norms = unsigned(source.tree) if source is not None and source.tree is not None else []
    maxima: dict[int, Any] = {}  # an unsigned running maximum's line -> the drift of the optimizer that holds it
    for drift in context.extras.get("adam_drift", []):
        if held := [a.line for a in unsigned_norms if _holds(drift, a.line)]:
            maxima.update(dict.fromkeys(held, drift))
            continue  # Adamax's accumulator of the signed gradient: named below, with how far the optimizer moved
        finding = _finding(drift)
        if lines := [line for line, *_ in crossed if line == finding.line or line in finding.highlight]:
            measured.update(dict.fromkeys(lines, finding))
            continue  # a moment corrected by the other's decay in that method: named below, with what is wrong in it
        reported.update(finding.highlight)
        yield finding
    if source is None or source.tree is None:
        return
    # a moment corrected by the other's decay: read from the statements alone, wherever the update is made
    for line, text, moment, own, used, average in crossed:
        yield rule(NAME).finding(
            f"line {line} corrects `{moment}`, the running average with decay `{own}` (line {average}), by `1 - {used} ** t`, "
            f"another average's decay: a bias correction undoes its own average's start at zero, so with `{used}` the "
            f"corrected value is off by the factor (1 - {own}^t) / (1 - {used}^t) (100x at the first update for decays of 0.9 "
            f"and 0.999, still 10x after a hundred) and every step is out of proportion; divide by `1 - {own} ** t`",
            severity="error",
            file=source.path,
            line=line,
            highlight=(average, line),
            pattern="crossed-correction",
            fix=text.replace(f"1 - {used} **", f"1 - {own} **"),
            measured=measured[line].measured if line in measured else None,  # how far the optimizer's first steps went
            evidence=measured[line].evidence if line in measured else (),
        )
    for norm in unsigned_norms:
        yield _unsigned_maximum(norm, source.path, maxima.get(norm.line))
    if not source.facts.training_steps:
        return
    for line, name, value in large_epsilons(source.tree):
        yield rule(NAME).finding(
            f"line {line} gives `{name}` an epsilon of {value:g}: Adam and its kin divide by √v̂ + eps, and an eps this large "
            f"swamps √v̂ (the gradient's own size) wherever gradients are below it, so the step is no longer the learning rate "
            f"but lr·m̂/eps, tiny for small gradients, and training crawls; use eps = 1e-8",
            file=source.path,
            line=line,
            highlight=(line,),
            pattern="large-epsilon",
        )
    for line, text, rate in uncounted_corrections(source.tree):
        if line in reported:
            continue
        yield rule(NAME).finding(
            f"line {line} divides by `1 - {rate}`, Adam's bias correction without the update count: it is right at the first "
            f"update only, and from the second on the step is not the one Adam takes (too far while the moments warm up, "
            f"then out of proportion); divide by `1 - {rate} ** t`, t counting the updates from 1",
            file=source.path,
            line=line,
            highlight=(line,),
            pattern="correction-without-count",
            fix=text.replace(f"(1 - {rate})", f"(1 - {rate} ** t)"),
        )


def _holds(drift: Any, line: int) -> bool:
    """Whether the update method (or function) of a measured optimizer spans `line`."""
    node = _update_node(drift.cls, drift.method or None)
    return node is not None and node.lineno <= line <= (node.end_lineno or node.lineno)


def _unsigned_maximum(norm: Accumulator, path: Any, drift: Any) -> Finding:
    """Adamax's running maximum of the gradient itself, not of its size (`u = np.maximum(beta2 * u, g)`),
    with the moves of the optimizer that holds it under a constant gradient when it was measured."""
    fixed = norm.statement.replace(norm.operand, f"np.abs({norm.operand})", 1) if norm.statement.count(norm.operand) else None
    evidence: tuple[tuple[str, str], ...] = ()
    far = None
    if drift is not None and drift.largest:
        far = drift.largest[0]
        shown = ", ".join("not finite" if math.isnan(r) else f"{r:.3g}" for r in drift.largest)
        evidence = (("the farthest move ÷ (rate × sign of the gradient), updates 1 to 5 (Adamax: 1 at each)", shown),)
    measured = f" (given one gradient at every update, yours moved an element {far:.3g} × as far as Adamax at the first)" if far is not None and not math.isnan(far) else ""
    return rule(NAME).finding(
        f"line {norm.line} keeps `{norm.target}` as the running maximum of `{norm.operand}` itself, not of its size: Adamax's "
        f"accumulator is u = max(β₂·u, |g|), the infinity norm of the gradients, and the step divides the first moment by it. "
        f"Without the absolute value a negative gradient never raises it, so where the gradient is negative u stays at 0 "
        f"(or a decayed earlier value) and the step `m / (u + eps)` is divided by eps alone: up to lr/eps times too far, "
        f"and the loss jumps or diverges{measured}; take the absolute value: `{fixed or 'np.abs(g)'}`",
        severity="error",
        file=path,
        line=norm.line,
        highlight=(norm.line,),
        pattern="unsigned-infinity-norm",
        fix=fixed,
        measured=far if far is not None and not math.isnan(far) else None,
        evidence=evidence,
    )


_ADAPTIVE = re.compile(r"(?i).*(adam|rmsprop|adagrad|adadelta|nadam).*")  # Adamax too
_EPSILON = re.compile(r"(?i)eps(ilon)?")
LARGE_EPSILON = 1e-3  # an adaptive optimizer's eps at or above this is no guard against division by zero but part of the step


def large_epsilons(tree: ast.Module) -> list[tuple[int, str, float]]:
    """(line, callee, value) of every call of an adaptive optimizer (`Adam(P, lr=0.01, eps=1.0)`) that hands
    it an epsilon of `LARGE_EPSILON` or more as a number."""
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        callee = ast.unparse(call.func).rpartition(".")[2]
        if not _ADAPTIVE.fullmatch(callee):
            continue
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg and _EPSILON.fullmatch(keyword.arg) and isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
                if not isinstance(value.value, bool) and value.value >= LARGE_EPSILON:
                    found.append((call.lineno, callee, float(value.value)))
    return found


# `beta1`, `beta_2`, `b1`, `self.beta1`: a decay rate of Adam's moments
_DECAY = re.compile(r"(?i)(self\.)?(beta_?[12]?|b[12])")


def uncounted_corrections(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, statement, rate) of every `m_hat = m / (1 - beta1)`: a moment divided by one minus a decay
    rate with no power of the update count in the divisor."""
    found = []
    for stmt in (n for n in ast.walk(tree) if isinstance(n, ast.Assign)):
        for node in ast.walk(stmt.value):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
                continue
            divisor = node.right
            if (
                isinstance(divisor, ast.BinOp) and isinstance(divisor.op, ast.Sub) and isinstance(divisor.left, ast.Constant)
                and divisor.left.value == 1 and _DECAY.fullmatch(ast.unparse(divisor.right))
            ):  # fmt: skip
                found.append((stmt.lineno, ast.unparse(stmt), ast.unparse(divisor.right)))
                break
    return found


def crossed_corrections(tree: ast.Module) -> list[tuple[int, str, str, str, str, int]]:
    """(line, statement, moment, its own decay, the decay used, the line of its average) of every bias
    correction that divides a running average by one minus another average's decay rate to a power
    (`v_hat = v / (1 - beta1 ** t)` in the scope where `v = beta2 * v + (1 - beta2) * g ** 2`)."""
    found = []
    for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        nodes = list(_own_nodes(scope))
        decays: dict[str, tuple[str, int]] = {}
        for stmt in nodes:
            if isinstance(stmt, ast.Assign) and (decay := _average_decay(stmt.value)) is not None:
                for target in stmt.targets:
                    decays[ast.unparse(target)] = (decay, stmt.lineno)
        for stmt in nodes:
            if not isinstance(stmt, ast.Assign):
                continue
            for node in ast.walk(stmt.value):
                if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
                    continue
                divisor, moment = node.right, ast.unparse(node.left)
                if not (
                    moment in decays and isinstance(divisor, ast.BinOp) and isinstance(divisor.op, ast.Sub)
                    and isinstance(divisor.left, ast.Constant) and divisor.left.value == 1
                    and isinstance(divisor.right, ast.BinOp) and isinstance(divisor.right.op, ast.Pow)
                ):  # fmt: skip
                    continue
                used, (own, average) = ast.unparse(divisor.right.left), decays[moment]
                if _DECAY.fullmatch(used) and used != own and average < stmt.lineno:
                    found.append((stmt.lineno, ast.unparse(stmt), moment, own, used, average))
    return found


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The statements of `scope` and below it, leaving out the bodies of functions and classes it defines."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.stmt):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _average_decay(value: ast.expr) -> str | None:
    """`beta2` of a running average `beta2 * v + (1 - beta2) * g ** 2` (either order of the two terms)."""
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add)):
        return None
    for term in (value.left, value.right):
        for node in ast.walk(term):
            if (
                isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Constant)
                and node.left.value == 1 and _DECAY.fullmatch(decay := ast.unparse(node.right))
            ):  # fmt: skip
                other = value.right if term is value.left else value.left
                if any(ast.unparse(n) == decay for n in ast.walk(other)):
                    return decay
    return None


def breaks_training(drift: Any) -> bool:
    """Whether an optimizer's drift is an error: a step off by an order of magnitude at some update (or by 1/|g|,
    which gradients of 1e-3 make 1000×), NaN or infinity, or a running square that is not kept (by update 100 an
    AdaGrad that keeps one square steps 10× as far as AdaGrad's): such an optimizer, not the gradients, stops a
    network from fitting."""
    far = any(r >= SLACK * FAR or r <= 1 / (SLACK * FAR) for r in drift.ratios if not math.isnan(r))
    return far or drift.kind in ("inverse-magnitude", "not-finite", "not-accumulated")


def _finding(drift: Any) -> Finding:
    cls, method, rate = drift.cls, drift.method, drift.rate
    shown_name = f"{cls.__name__}.{method}" if method else cls.__name__
    family = drift.family
    adam_like = family in ("Adam", "Adamax")  # Adamax's running maximum of |g| is |g| under a constant gradient: Adam's moves
    if adam_like:
        head = f"`{shown_name}` does not step as {family} does: given the same gradient at every update, {family} moves each parameter by its learning rate ({rate:g}) against the gradient's sign"
    else:
        head = (
            f"`{shown_name}` does not step as {family} does: given the same gradient at every update, {family} moves every parameter "
            f"by one multiple of its learning rate ({rate:g}) against the gradient's sign, whatever the gradient's size"
        )
    severity = "error" if breaks_training(drift) else None
    # the statements the update gets wrong, read once: an Adam second moment of the gradient itself, a running square overwritten
    unsquared = _unsquared_second_moment(cls, method) if drift.kind == "not-finite" and adam_like else None
    overwritten = _overwritten_square(cls, method) if drift.kind == "not-accumulated" else None
    if drift.kind == "not-finite" and not adam_like:
        text = f"{head}, and update {drift.step} of yours makes NaN or infinity: add its epsilon outside the square root, and start its running square at 0"
    elif drift.kind == "inverse-magnitude" and not adam_like:
        text = (
            f"{head}; yours moves it by the rate divided by the gradient's size (a median {drift.ratio:.3g} × the rate here), "
            "because it divides the gradient by its running square instead of that square's root: take the square root (`np.sqrt(cache) + eps`)"
        )
    elif drift.kind == "not-finite" and unsquared is not None:
        text = (
            f"{head}, and update {drift.step} of yours makes NaN or infinity: the second moment `{unsquared[1]}` (line {unsquared[0]}) "
            "averages the gradient itself, not its square, so it goes negative where the gradient is and its square root is NaN; "
            "average the squared gradient (`(1 - beta2) * g ** 2`)"
        )
    elif drift.kind == "not-finite":
        text = (
            f"{head}, and update {drift.step} of yours makes NaN or infinity: a bias correction divides by `1 - beta ** t` "
            "with t = 0; count the update (`t += 1`) before the corrections use t"
        )
    elif drift.kind == "inverse-magnitude":
        text = (
            f"{head}; yours moves it by the rate divided by the gradient's size (a median {drift.ratio:.3g} × the rate here), "
            "because it divides the first moment by v̂ instead of √v̂: take the square root of the second moment (`np.sqrt(v_hat) + eps`)"
        )
    elif drift.kind == "uniform" and drift.step == 1:
        text = (
            f"{head}; yours moves {drift.ratio:.3g} × as far at its first update: its bias corrections are left out or "
            "wrong; divide m by `1 - beta1 ** t` and v by `1 - beta2 ** t`, t counting the updates from 1"
        )
    elif drift.kind == "uniform":
        text = (
            f"{head}; yours does at update 1 but moves {drift.ratio:.3g} × as far at update {drift.step} "
            f"({drift.ratios[-1]:.3g} × by update {len(drift.ratios)}): its bias corrections do not follow the update count; "
            "increase t by one at every update and divide by `1 - beta1 ** t` and `1 - beta2 ** t`"
        )
    elif drift.kind == "not-accumulated":
        shrink = "by 1/√t (0.707 of the first at the second update, 0.447 at the fifth)" if family == "AdaGrad" else "as its average of squares fills up from 0"
        keep = (
            f"`{overwritten[1]}` (line {overwritten[0]}) is set to this update's square alone instead of adding it to the sum"
            if overwritten is not None and family == "AdaGrad"
            else f"`{overwritten[1]}` (line {overwritten[0]}) is set to this update's square alone, the decayed average thrown away"
            if overwritten is not None
            else "its running square keeps only the last gradient's square"
        )
        fix = "add each square to it (`+=`)" if family == "AdaGrad" else "keep the average (`cache = rho * cache + (1 - rho) * g * g`)"
        further = "steps ever further beside AdaGrad's (√t times as far by update t)" if family == "AdaGrad" else "stays that far once RMSProp's steps have come down to the rate"
        text = (
            f"`{shown_name}` does not step as {family} does: given the same gradient at every update, {family}'s steps shrink {shrink}; "
            f"yours stay {drift.ratios[0]:.3g} × its learning rate ({rate:g}) at every update, so it never adapts and {further}: {keep}; {fix}"
        )
    else:
        text = f"{head}; yours moves {drift.ratio:.3g} × as far (the median over the elements) at update {drift.step}: compare each line with {family}'s"
    where = definition(getattr(cls, method, None) if method else cls)
    line = where.line if where is not None else None
    marked: tuple[int, ...] = ()
    fix = None
    if unsquared is not None:
        line, marked = unsquared[0], (unsquared[0],)
    elif overwritten is not None:
        line, marked = overwritten[0], (overwritten[0],)
    elif where is not None and (tree := source_tree(where.file)[1]) is not None:
        node = find_function(tree, where.qualname)
        line = _update_line(node, 1 if method else 0) or line
        if drift.kind == "uniform" and node is not None and (uncounted := uncounted_corrections(node)):
            # `m / (1 - b1)`: corrections with no update count, which these moves measured
            line, marked = uncounted[0][0], tuple(u for u, _, _ in uncounted)
            fix = uncounted[0][1].replace(f"(1 - {uncounted[0][2]})", f"(1 - {uncounted[0][2]} ** t)")
        elif drift.kind in ("uniform", "not-finite") and (corrections := _corrections(node)):
            marked = (*(c for c, _ in corrections), line) if line else tuple(c for c, _ in corrections)
            suspect = _suspect(node, corrections)
            bare = _uncorrected(node, corrections) if suspect is None and drift.kind == "uniform" else None
            if bare is not None:  # one moment corrected, the other taken as it is (`v_hat = self.v[k]`)
                line, marked, fix = bare.line, (*marked, bare.line), bare.fix
                text = f"{head}; yours moves {drift.ratio:.3g} × as far at update {drift.step}: line {bare.line} {bare.words}"
            else:
                line = suspect or corrections[0][0]
    shown = ", ".join("not finite" if math.isnan(r) else f"{r:.4g}" for r in drift.ratios)
    return rule(NAME).finding(
        text,
        severity=severity,
        layer=cls.__name__,
        file=where.file if where is not None else None,
        line=line,
        highlight=tuple(sorted(set(marked))) if marked else (line,) if line else (),
        pattern=drift.kind,
        fix=fix,
        measured=drift.ratio if not math.isnan(drift.ratio) else None,
        evidence=(("moves ÷ (rate × sign of the gradient), updates 1 to 5" + (f" ({family}: 1 at each)" if adam_like else f" ({family}: one multiple for every element)"), shown),),
    )


def _update_node(cls: Any, method: str | None) -> Any:
    """The parsed update method `method` of `cls` (or the function `cls` itself); None when its source cannot be read."""
    where = definition(getattr(cls, method, None) if method else cls)
    tree = source_tree(where.file)[1] if where is not None else None
    return find_function(tree, where.qualname) if tree is not None and where is not None else None


def _unsquared_second_moment(cls: Any, method: str | None) -> tuple[int, str] | None:
    """(line, target) of an Adam second moment that averages the gradient, not its square
    (`self.v[k] = beta2 * self.v[k] + (1 - beta2) * grads[k]`, `self.v[k] += (1 - beta2) * (grads[k] - self.v[k])`):
    a running sum that goes negative, whose
    square root is NaN. None when the update's source cannot be read or every second moment squares."""
    node = _update_node(cls, method)
    if node is None:
        return None
    for stmt in (n for n in ast.walk(node) if (isinstance(n, ast.Assign) and len(n.targets) == 1) or isinstance(n, ast.AugAssign)):
        target = ast.unparse(stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target)  # `v += (1 - beta2) * (g - v)` too
        moment = re.sub(r"\[.*\]$", "", target).rpartition(".")[2].lower()
        value = ast.unparse(stmt.value)
        if not (moment[:1] in ("v", "s") and re.search(r"(?i)beta_?2|\bb2\b|rho", value) and moment in value.lower().replace("self.", "")):
            continue
        decay = r"(?i)beta|\bb[12]\b|rho"
        squares = any(
            (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and not re.search(decay, ast.unparse(n.left)))  # `g ** 2`, not `beta2 ** t`
            or (isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "square")
            or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and ast.unparse(n.left) == ast.unparse(n.right))  # `g * g`
            for n in ast.walk(stmt.value)
        )
        if not squares and re.search(r"(?i)grad|\bd_?[a-z]\w*|\bg\b|\bg\[", value):  # the gradient itself, not a square kept apart (`g2`)
            return stmt.lineno, target
    return None


def _overwritten_square(cls: Any, method: str | None) -> tuple[int, str] | None:
    """(line, target) of an AdaGrad or RMSProp update that sets its running square to the gradient's square
    alone (`self.h[i] = grads[i] * grads[i]`, `self.cache[k] = (1 - self.rho) * g ** 2`): an assignment to
    something other than the parameters whose value squares the gradient and does not read the target itself.
    None when the update's source cannot be read or every such statement reads what it sets."""
    node = _update_node(cls, method)
    if node is None:
        return None
    moved = {a.arg for a in node.args.args[1 if method else 0 : 2 if method else 1]}  # the parameters argument
    for stmt in (n for n in ast.walk(node) if isinstance(n, ast.Assign) and len(n.targets) == 1):
        target = stmt.targets[0]
        root = target
        while isinstance(root, ast.Subscript):
            root = root.value
        if not isinstance(root, ast.Attribute) or root is target or (isinstance(root.value, ast.Name) and root.value.id in moved):
            continue  # a state kept per parameter (`self.h[i]`), not a parameter nor a name of the update's own
        text = ast.unparse(target)
        squares = any(
            (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant) and n.right.value == 2)
            or (isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "square")
            or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and ast.unparse(n.left) == ast.unparse(n.right))
            for n in ast.walk(stmt.value)
        )
        if squares and text not in ast.unparse(stmt.value) and ast.unparse(root) not in ast.unparse(stmt.value):
            return stmt.lineno, text
    return None


def _corrections(node: Any) -> tuple[tuple[int, bool], ...]:
    """(line, of the second moment) of the update's bias corrections: statements that raise a decay
    rate to a power (`m_hat = m / (1 - self.beta1 ** self.t)`, `vhat = v * (1 - b2) ** t`)."""
    if node is None:
        return ()
    found = {}
    for stmt in (n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))):
        for power in (n for n in ast.walk(stmt.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)):
            base = ast.unparse(power.left)
            if re.search(r"(?i)beta|\bb[12]\b|decay|rho|mom", base):
                found[stmt.lineno] = bool(re.search(r"(?i)beta_?2|\bb2\b|rho|decay", base))
    return tuple(sorted(found.items()))


def _suspect(node: Any, corrections: tuple[tuple[int, bool], ...]) -> int | None:
    """The correction written otherwise than `m / (1 - beta ** t)` (a power of `(1 - beta)`, a product
    where a quotient belongs), else the statement that sets the count to a constant (`self.t = 1`)."""
    lines = {line for line, _ in corrections}
    for line, _ in corrections:  # `v_hat = v / (1 - beta1 ** t)`: the other moment's decay rate
        stmt = next((n for n in ast.walk(node) if isinstance(n, ast.Assign) and n.lineno == line and len(n.targets) == 1), None)
        if stmt is None:
            continue
        moment = ast.unparse(stmt.targets[0]).rpartition(".")[2].lower()  # `v_hat`, `self.m_hat`, `s_corrected`
        bases = [ast.unparse(n.left) for n in ast.walk(stmt.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)]
        other = r"(?i)(beta|b)_?1$" if moment[:1] in ("v", "s") else r"(?i)(beta|b)_?2$" if moment[:1] == "m" else None
        if other and any(re.search(other, base) for base in bases):
            return line
    counts = set()
    for stmt in (n for n in ast.walk(node) if isinstance(n, ast.Assign) and n.lineno in lines):
        for power in (n for n in ast.walk(stmt.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)):
            counts.add(ast.unparse(power.right))
            if isinstance(power.left, ast.BinOp):
                return stmt.lineno  # `(1 - b1) ** t`: the decay rate's power, minus one, is what corrects
        if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and any(isinstance(m, ast.BinOp) and isinstance(m.op, ast.Pow) for m in ast.walk(n.right)) for n in ast.walk(stmt.value)):
            return stmt.lineno  # `v * (1 - b2 ** t)`: multiplied where it divides
    for stmt in (n for n in ast.walk(node) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)):
        if any(ast.unparse(t) in counts for t in stmt.targets) and stmt.value.value != 0:
            return stmt.lineno  # `self.t = 1` at every update: the count never advances
    return None


@dataclass(frozen=True)
class Uncorrected:
    """A moment of Adam's left without its bias correction while the other has one: the line that takes
    it as it is (`v_hat = self.v[k]`, or the step reading `self.v[k]` itself), what it says, a fix."""

    line: int
    words: str
    fix: str | None


def _uncorrected(node: Any, corrections: tuple[tuple[int, bool], ...]) -> Uncorrected | None:
    """Where the update takes one of its two moments uncorrected when the other one has its correction
    (`m_hat = m / (1 - b1 ** t)` beside `v_hat = v`): the statement that copies that moment as it is, else
    the first other statement that reads it (the step itself). None when both or neither are corrected."""
    kinds = {second for _, second in corrections}
    if node is None or len(kinds) != 1:
        return None
    second = not kinds.pop()  # the moment without a correction
    statements = sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno)
    averages: dict[str, str] = {}  # the moment -> its decay rate
    for stmt in statements:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and (decay := _average_decay(stmt.value)) is not None:
            if bool(re.search(r"(?i)(beta|b)_?2$", decay)) == second:
                averages[ast.unparse(stmt.targets[0])] = decay
    if len(averages) != 1:
        return None
    ((moment, decay),) = averages.items()
    lines = {line for line, _ in corrections}
    powers = [n for stmt in statements if stmt.lineno in lines for n in ast.walk(stmt.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)]
    count = ast.unparse(powers[0].right) if powers else "t"
    which = "second moment" if second else "first moment"
    correction = f"`1 - {decay} ** {count}`"
    others = [s for s in statements if s.lineno not in lines and ast.unparse(s.targets[0] if isinstance(s, ast.Assign) else s.target) != moment]
    for stmt in others:  # `v_hat = self.v[k]`: the corrected name, made without its correction
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and ast.unparse(stmt.value) == moment:
            target = ast.unparse(stmt.targets[0])
            return Uncorrected(
                stmt.lineno,
                f"sets `{target}` to the {which} `{moment}` as it is, without its bias correction, while the other moment "
                f"has one: a moment started at zero is too small by (1 - {decay}^t) in the first updates, so the step is out of "
                f"proportion until it warms up; divide it by {correction}",
                f"{target} = {moment} / (1 - {decay} ** {count})",
            )
    for stmt in others:  # the step reads the running average itself
        if any(ast.unparse(n) == moment for n in ast.walk(stmt.value)):
            return Uncorrected(
                stmt.lineno,
                f"reads the {which} `{moment}` without its bias correction, while the other moment has one: a moment started "
                f"at zero is too small by (1 - {decay}^t) in the first updates, so the step is out of proportion until it warms "
                f"up; divide it by {correction} first",
                None,
            )
    return None


def _update_line(node: Any, index: int) -> int | None:
    """The statement of the update method or function that moves its parameters argument (the
    `index`-th: `params[key] -= ...`, `parameters["W" + str(l)] = ...`), or that makes cs231n's
    `next_w`."""
    if node is None or len(node.args.args) <= index:
        return None
    params = node.args.args[index].arg
    # `for p, g in zip(params, grads): p -= ...`: the loop's names for the parameters move them in place
    aliases = {
        n.id for loop in ast.walk(node) if isinstance(loop, ast.For) and any(isinstance(i, ast.Name) and i.id == params for i in ast.walk(loop.iter))
        for n in ast.walk(loop.target) if isinstance(n, ast.Name)
    }  # fmt: skip
    for stmt in sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            root = target
            while isinstance(root, ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name) and ((root.id == params and root is not target) or (root is target and root.id.startswith("next"))):
                return stmt.lineno
            if isinstance(stmt, ast.AugAssign) and isinstance(root, ast.Name) and root.id in aliases:
                return stmt.lineno
    return None
