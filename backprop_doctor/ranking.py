"""Order findings by causal precedence and pick the one root cause.

Stages run load → static → gradient → contract → batch → sharing → loss →
training (see `rules.STAGES`): a problem in an earlier stage explains the
symptoms of a later one. Within a stage errors come before warnings, and a
specific finding (one with a source line) before a vaguer one.
"""

from __future__ import annotations

import re

from backprop_doctor.findings import BACKWARD_UNUSED, CALLED_OTHERWISE, FRAMEWORK_OBJECTS, STAND_IN, UNPAIRED_GRADIENTS, WHOLE_NETWORK, Finding, Report
from backprop_doctor.rules import STAGES, all_rules, stage_rank

NOTHING_COMPARED = "nothing-compared"  # the pattern of the error `rank` adds when no gradient was compared

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

# Findings that only report a consequence: when a cause is known, they fold under it.
SYMPTOMS = {
    "gradient-mismatch",
    "gradient-shape-mismatch",
    "loss-rises",
    "loss-diverges",
    "loss-stagnant",
    "non-finite",
    "cannot-overfit",
    "init-loss",
    "dead-relu",
    "learning-rate-too-high",
    "batch-coupling",
    "loss-not-mean",
    "layer-raised",
}

# Patterns of symptom rules that are their own cause: a network that does not hand its train flag
# to its batch-norm layers mixes samples at inference whatever any gradient does.
INDEPENDENT_PATTERNS = frozenset({"train-flag-not-passed"})

# Training findings that explain the other training symptoms (a divergence, NaN, a stall).
TRAINING_CAUSES = ("learning-rate-too-high", "dead-relu")

# Causes that explain the symptoms of later stages even though they rank later themselves.
# An operation of the user's autograd engine (or its `backward()`'s order) that is wrong makes every gradient
# the training step reads wrong: the step's mismatch follows from it.
PREFERRED_CAUSES = (
    "softmax-not-per-row", "batch-coupling", "unshared-parameter", "shared-layer", "input-mutated", "activation-forward-wrong", "scalar-backward-wrong",
    "derivative-function-wrong",
)


# Findings that name the statement to fix inside code another finding only shows is wrong
# (the replay's first wrong adjoint `dZ1` in `backward`, beside the wrong `dW1` it feeds).
LOCATING = ("step-gradient-mismatch",)


def sort_key(f: Finding) -> tuple:
    # a finding already known to follow from another (a wrong helper it calls) sorts after it; of one rule's
    # findings, one that says what is wrong at its line (a pattern: the activation's slope left out) comes
    # before one that only measured it, and a network's gradient measured wrong as a whole (`_as_a_whole`:
    # wrong because a layer or a function pair it calls is, whose own finding says where) comes last
    return (
        SEVERITY_ORDER[f.severity], _precedence(f), not _locating(f), f.line is None, f.code, _as_a_whole(f), f.pattern is None,
        f.caused_by is not None,
        f.layer or "", _from_the_output(f), f.param or "",
    )


def _locating(f: Finding) -> bool:
    """A finding that names the statement to fix (`LOCATING`), or a layer's own wrong gradient explained at
    its line (`col2im` writing overlapping windows with `=`): the replay's wrong adjoint that calls that layer
    only shows where its error enters the training step."""
    return f.name in LOCATING or (f.name == "gradient-mismatch" and f.pattern is not None and f.pattern not in UNEXPLAINED_PATTERNS and f.line is not None)


# patterns of gradient-mismatch that say how the error reached the array, not what is wrong at its line
UNEXPLAINED_PATTERNS = frozenset({"shared-upstream", "right-in-training", "configuration-not-used", "logits-gradient-given"})


def _same_line_located_first(ordered: list[Finding]) -> list[Finding]:
    """A replay's located finding (`LOCATING`) at the same line as a layer's explained gradient finding goes
    before it: both name that statement, and the replay's says what it does to the training step."""
    out = list(ordered)
    for f in ordered:
        if f.name in LOCATING or not _locating(f):
            continue
        same = next((g for g in out[out.index(f) + 1 :] if g.name in LOCATING and g.severity == f.severity and (g.file, g.line) == (f.file, f.line)), None)
        if same is not None:
            out.remove(same)
            out.insert(out.index(f), same)
    return out


# patterns of a layer's wrong gradient that say what its value is (a constant factor, a flipped sign), not
# what its own line computes wrongly: the factor may enter at an adjoint that line is computed from
MEASURED_ONLY = frozenset({"scaled", "sign-flipped"})


# patterns of a layer's wrong gradient that say which part of it is wrong (some of its columns), not what its own
# line computes wrongly: that part may come from an adjoint the line reads (the half of `denc =
# np.concatenate([dmu, dlogvar], axis=1)` that `dlogvar` fills, stored by `g["We"] = X.T @ denc`)
PARTIAL = frozenset({"some-rows", "some-columns"})


# a layer's wrong gradients placed, from the source alone, at the statement only the wrong ones are computed from
# (`checks.gradient_mismatch._wrong_only_sources`): an adjoint the replay measured wrong in that function says more
STATIC_GUESS = "wrong-only-source"


def _upstream_located_first(ordered: list[Finding]) -> list[Finding]:
    """A replay's located finding (`LOCATING`) of the same pattern at an adjoint earlier in the same function
    as a layer's wrong gradient that the layer's check only measured (`MEASURED_ONLY`) goes before it: the
    replay found which adjoint first carries the factor (DeepSets's `dh = ... / set_size` at line 24, beside
    `dW1` at line 26, 0.125 × where the set holds 8), where the layer's finding only names the store. Likewise
    at an adjoint of a function that goes on to call the one holding the store (a network's backward whose seed
    `dAL` has its sign flipped, before the per-layer helper it calls stores `dW = dZ @ A_prev.T / m`), and such
    a seed wrong in shape (`dAL` with one term's sign flipped) whatever factor the layer's check read off a
    gradient it feeds (a one-entry bias always shows one). A layer's
    gradient measured wrong in some of its rows or columns (`PARTIAL`) yields to the replay's located finding of any
    pattern at an adjoint earlier in the same function that its statement is computed from (`computed_from`), and
    one placed from the source alone (`STATIC_GUESS`) to the replay's located finding anywhere in its function.
    A layer's gradient the check only measured (`MEASURED_ONLY`) also yields to the replay's wrong adjoint at an
    earlier line of its function when the replay measured that very parameter's update wrong (`_update_wrong`):
    `dh1 = dropout_backward(dh1, drop2)` at line 42, before `grads['W1']` is completed at line 45."""
    out = list(ordered)
    if not any(f.name == "gradient-mismatch" for f in ordered):
        return out  # nothing below moves a finding: no import, no walk
    from backprop_doctor.static.definitions import computed_from

    for f in ordered:
        if f.name == "gradient-mismatch" and f.line is not None:
            # the replay's reading of the same statement as an indexed `+=` at repeated indices says why it is wrong
            why = next((g for g in out[out.index(f) + 1 :] if g.pattern == "repeated-index-add" and g.line == f.line and g.severity == f.severity), None)
            if why is not None:
                out.remove(why)
                out.insert(out.index(f), why)
                continue
        if f.name != "gradient-mismatch" or f.pattern not in MEASURED_ONLY | PARTIAL | {STATIC_GUESS} or f.line is None or not f.file:
            continue
        from backprop_doctor.static.definitions import enclosing

        function = enclosing(f.file, f.line)
        if function is None:
            continue
        earlier = next(
            (g for g in out[out.index(f) + 1 :] if g.name in LOCATING and g.severity == f.severity and g.file == f.file and g.line is not None
             and (g.pattern == f.pattern and (function.line <= g.line < f.line or _calls_down_to(f.file, g.line, function))
                  or f.pattern in MEASURED_ONLY and g.pattern == "wrong-derivative" and _calls_down_to(f.file, g.line, function)
                  or f.pattern in MEASURED_ONLY and g.pattern == "wrong-derivative" and function.line <= g.line < f.line and _update_wrong(g, f.param)
                  or f.pattern in PARTIAL and function.line <= g.line < f.line and computed_from(f.file, function, f.line, g.line)
                  or f.pattern == STATIC_GUESS and function.line <= g.line <= function.end_line)),
            None,
        )  # fmt: skip
        if earlier is not None:
            out.remove(earlier)
            out.insert(out.index(f), earlier)
    return out


def _update_wrong(located: Finding, param: str | None) -> bool:
    """Whether the replay's located finding measured the update of the parameter `param` wrong (its evidence
    `model.params['W1']`: "wrong: ..."): the adjoint it names (`dh1`, handed at line 42 to the backward of the
    layer below, with another layer's cache) is what that parameter's gradient is computed from, the first wrong
    one from the loss backwards, so it explains the layer check's wrong `W1` stored at a later line."""
    if not param:
        return False
    key = re.sub(r"\W", "", param.rsplit("[", 1)[-1].rsplit(".", 1)[-1])
    return bool(key) and any(
        text.startswith("wrong") and re.sub(r"\W", "", label.rsplit("[", 1)[-1].rsplit(".", 1)[-1]) == key for label, text in located.evidence
    )


def _calls_down_to(file: str, line: int, function: object) -> bool:
    """`line` is in a function that, later on, calls `function` (through the file's own functions): a network's
    backward computing its seed `dAL` before the per-layer helper that stores each layer's gradients from it."""
    from backprop_doctor.static.definitions import call_reaching, enclosing

    caller = enclosing(file, line)
    if caller is None or caller == function:
        return False
    call = call_reaching(file, caller, function)  # type: ignore[arg-type]
    return call is not None and line < call


def _as_a_whole(f: Finding) -> bool:
    """A network's gradient found wrong as a whole, with nothing said of where (`findings.WHOLE_NETWORK`)."""
    return f.pattern is None and any(words in f.message for words in WHOLE_NETWORK)


# Nielsen's `self.weights[l]`, `self.biases[l]`: one entry per layer, counted from the input
_LAYER_LISTS = re.compile(r"(?:weights|biases)\[(\d+)\]")


def _from_the_output(f: Finding) -> int:
    """Layers of a network's lists of weights and biases, the last first: backpropagation computes the
    output layer's gradient first and every earlier one from it, so when several are wrong the one
    nearest the output is where it starts going wrong."""
    found = _LAYER_LISTS.fullmatch(f.param or "")
    return -int(found.group(1)) if found else 0


# ... and findings of a cause read from the source, whose numbers show up only downstream: weights a backward
# updates before it computes the gradient it hands back make every earlier layer's gradient wrong; a layer
# function over columns that divides by its input's rows (`m = A_prev.shape[0]`) scales every layer of the
# network by another factor, which the network's own check and the replayed step only see as unrelated factors
PREFERRED_PATTERNS = ("stale-weights", "divided-by-rows")


# a preferred cause's pattern that says a gradient finding is its cause: a batch coupling only a backward makes
# (its forward keeps the samples apart), linked by its check to that layer's wrong gradient, is what that wrong
# gradient does, not why it is wrong
YIELDING_PATTERNS = frozenset({"backward-only"})


def _precedence(f: Finding) -> int:
    if f.pattern in YIELDING_PATTERNS and f.caused_by is not None:
        return stage_rank(f) if f.name in all_rules() else 99
    if (f.name in PREFERRED_CAUSES or f.pattern in PREFERRED_PATTERNS) and f.severity == "error":
        return -1
    return stage_rank(f) if f.name in all_rules() else 99


def rank(report: Report) -> Report:
    """Sort the report's findings, set `root_cause`, and link symptoms to it. Returns the report."""
    seen: set[tuple] = set()
    unique = []
    for f in report.findings:
        identity = (f.name, f.layer, f.param, f.line) if f.line is not None else (f.name, f.layer, f.param, f.message)
        if identity not in seen:
            seen.add(identity)
            unique.append(f)
    # recomputed on every ranking: a file's report gathers the reports of its objects
    unique = [f for f in unique if f.pattern != NOTHING_COMPARED]
    unchecked = _nothing_checked(report, unique)
    if unchecked is not None:
        unique.append(unchecked)
    ordered = _upstream_located_first(_same_line_located_first(sorted(unique, key=sort_key)))
    errors = [f for f in ordered if f.severity == "error"]
    root = errors[0] if errors else None
    if root is not None and stage_rank(root) == STAGES.index("training"):
        # Only training symptoms are errors: a finding that explains them is the cause.
        explaining = [f for f in ordered if f.name in TRAINING_CAUSES]
        if explaining:
            root = explaining[0]
            ordered.remove(root)
            ordered.insert(0, root)
    if root is not None:
        own: dict[str, Finding] = {}  # a cause found in the symptom's own layer explains it before the root does
        for g in errors:
            if g.name in PREFERRED_CAUSES and g.caused_by is None and g.layer:
                own.setdefault(g.layer, g)
        linked = []
        for f in ordered:
            cause = own.get(f.layer or "", root)
            cause = root if cause is f else cause
            if f is not cause and f.caused_by is None and f.name in SYMPTOMS and f.pattern not in INDEPENDENT_PATTERNS and _explains(cause, f):
                f = f.replace(caused_by=cause.key())
            linked.append(f)
        ordered = linked
    report.findings = ordered
    report.root_cause = root
    report.measurements = _worst_per_array(report.measurements)
    return report


def measured_count(report: Report) -> int:
    """How many arrays had their gradient actually compared (skipped ones do not count)."""
    return sum(1 for m in report.measurements if m.verdict != "skipped")


def _nothing_checked(report: Report, findings: list[Finding]) -> Finding | None:
    """A finding when objects were built (or tried) but not one gradient was compared: an error when one
    ran and its forward returned no array, a warning when none could be built or fed.

    Every object failed to build, or every forward returned something that is not an
    array (a generator, a coroutine, an object array): "no problems found" would then be
    a verdict on nothing, so the report says so.
    """
    if not report.built or measured_count(report) or any(f.severity == "error" for f in findings):
        return None
    from backprop_doctor.rules import rule

    unwritten = [f for f in findings if f.pattern == "not-written"]
    otherwise = [f for f in findings if f.pattern == CALLED_OTHERWISE]
    unpaired = [f for f in findings if f.pattern == UNPAIRED_GRADIENTS]
    if unpaired and not unwritten and not otherwise:  # whole models whose returned gradients only a training step can pair
        return rule("nothing-to-check").finding(
            f"not one gradient could be compared: {len(unpaired)} of the models checked "
            f"{'returns' if len(unpaired) == 1 else 'return'} its parameters' gradients in values their shapes cannot pair with them (below), "
            "and no training step of this file that updates with them was replayed; check a program that trains it",
            severity="warning",
            file=report.file,
            pattern=NOTHING_COMPARED,
        )
    if otherwise and not unwritten:  # layers whose methods take what only the user's own code gives them
        return rule("nothing-to-check").finding(
            f"not one gradient could be compared: {len(otherwise)} of the methods it would call take other arguments "
            "than backprop-doctor gives them (below); call them from a network or a training loop in this file",
            severity="warning",
            file=report.file,
            pattern=NOTHING_COMPARED,
        )
    framework = [f for f in findings if f.pattern == FRAMEWORK_OBJECTS]
    if framework and not unwritten:  # gradients given as a framework's objects: skipped with a note each
        return rule("nothing-to-check").finding(
            f"not one gradient could be compared: {len(framework)} of the layers checked "
            f"{'runs' if len(framework) == 1 else 'run'} through a framework's own objects or calls, which could not be used (below)",
            severity="warning",
            file=report.file,
            pattern=NOTHING_COMPARED,
        )
    if unwritten:  # an exercise not done yet: that is the news, not a failure of the check
        return rule("nothing-to-check").finding(
            f"not one gradient could be compared: {len(unwritten)} of the functions it would run "
            f"{'is' if len(unwritten) == 1 else 'are'} not written yet (below); write them and check again",
            severity="warning",
            file=report.file,
            pattern=NOTHING_COMPARED,
        )
    standins = {f.layer for f in findings if f.pattern == STAND_IN and f.layer}
    if standins and all(b.what in standins for b in report.built):  # what the file builds needs a missing module
        return rule("nothing-to-check").finding(
            f"not one gradient could be compared: {len(report.built)} of the objects it would check "
            f"{'needs' if len(report.built) == 1 else 'need'} a module that is missing here (below); "
            "install it or put it beside your file and check again",
            severity="warning",
            file=report.file,
            pattern=NOTHING_COMPARED,
        )
    unsupported = [b for b in report.built if b.skipped and " ".join(b.skipped.split()).endswith("not checked yet")]
    if unsupported and len(unsupported) == len(report.built):  # backprop-doctor's own limit, not the file's fault
        shown = "; ".join(f"`{b.what}`: {' '.join(b.skipped.split())}" for b in unsupported[:4]) + ("; ..." if len(unsupported) > 4 else "")
        return rule("nothing-to-check").finding(
            f"not one gradient could be compared: what this file defines is written in a way backprop-doctor does not check yet ({shown}); "
            "this says nothing about its gradients either way",
            severity="warning",
            file=report.file,
            pattern=NOTHING_COMPARED,
        )
    reasons, advice = [], []
    ran = False  # an object built and run, whose forward gave nothing to compare: the file's own doing
    # layers whose backward raised on the program's own inputs, though the program runs them forward only
    # (a DeZero step that has not written `backward` yet): a warning each, so nothing the file gets wrong
    dormant = {f.layer: f for f in findings if f.pattern == BACKWARD_UNUSED and f.layer}
    for b in report.built:
        unused = dormant.get(b.what.partition(" (line ")[0])
        if b.what in standins:
            reasons.append(f"`{b.what}` needs a module that is missing here")
            advice.append("install the missing module or put it beside your file")
        elif b.skipped and b.skipped.endswith("it is not written yet"):  # a template as handed out
            reasons.append(" ".join(b.skipped.split()))
            advice.append("write it and check again")
        elif not b.skipped and unused is not None:
            what = "is not written yet (it raises NotImplementedError)" if "raised NotImplementedError" in unused.message else "raised (below)"
            reasons.append(f"`{b.what}` ran forward only: its backward, which your program never calls, {what}")
            advice.append("check a program that calls backward")
        elif b.skipped and b.skipped.endswith("with no gradient to compare the rule with"):  # a perceptron's rule (`target_steps`)
            reasons.append(f"`{b.what}` was built and run, but {' '.join(b.skipped.split())}")
            advice.append("nothing to fix for that: a learning rule that follows no gradient is not gradient-checked")
        elif b.skipped and (undefined := re.search(r"uses `(\w+)`, which (none of its imports gives|comes from a module that could not be imported here)", b.skipped)):
            reasons.append(f"`{b.what}` could not be built ({' '.join(b.skipped.split())})")  # `build.unimportable_reason`
            advice.append(
                f"define `{undefined[1]}` or import it from the file that does"
                if undefined[2].startswith("none")
                else "install the module it comes from or put it beside your file"
            )
        elif b.skipped:
            reasons.append(f"`{b.what}` could not be built ({' '.join(b.skipped.split())})")
            advice.append(f"pass `--build '{b.what}(...)'` with literal arguments")
        else:
            ran = True
            why = re.search(r"\((forward [^)]*)\)", b.shapes)
            reasons.append(
                f"`{b.what}` was built, but no gradient of it could be compared"
                + (f" ({why.group(1)})" if why else "")
            )
            advice.append("make `forward` return a float NumPy array (not a generator, a coroutine or an object array)")
    shown = "; ".join(reasons[:4]) + ("; ..." if len(reasons) > 4 else "")
    # objects backprop-doctor could not build or feed: a warning, since that says nothing of their gradients
    # (a correct Seq2seq fed made-up floats where it takes word ids is no bug of the user's), and the verdict
    # is "!", never a tick; a forward that ran and returned no array (a generator) is the file's error
    return rule("nothing-to-check").finding(
        f"not one gradient could be compared, so nothing was checked ({shown}): "
        + " and ".join(dict.fromkeys(advice)),
        severity="error" if ran else "warning",
        file=report.file,
        pattern=NOTHING_COMPARED,
    )


def _worst_per_array(measurements: list) -> list:
    """One row per (layer, array): the worst of the configurations it was checked in."""
    order = {"mismatch": 0, "shape": 1, "kink": 2}
    kept: dict[tuple[str, str], object] = {}
    for m in measurements:
        key = (m.layer, m.param)
        old = kept.get(key)
        if old is None:
            kept[key] = m
            continue
        rank_new, rank_old = order.get(m.verdict, 3), order.get(old.verdict, 3)
        worse = (m.relative_error or 0.0) > (old.relative_error or 0.0)
        if rank_new < rank_old or (rank_new == rank_old and worse):
            kept[key] = m
    return list(kept.values())


def _explains(cause: Finding, symptom: Finding) -> bool:
    """Whether `cause` can account for `symptom`: a later stage, or the same layer. A layer that
    raises is accounted for only by a finding about that same layer: another layer's wrong gradient
    does not make it raise."""
    if symptom.name == "layer-raised":
        return bool(cause.layer) and cause.layer == symptom.layer
    if cause.name in PREFERRED_CAUSES:
        return True
    if symptom.name == "gradient-mismatch" and cause.name in ("gradient-mismatch", *LOCATING):
        # a wrong layer gradient makes every gradient upstream of it and the network's wrong
        return True
    return _precedence(cause) <= _precedence(symptom)
