"""Analytic gradient differs from the numerical gradient.

What it finds:
    An array whose gradient, as your `backward` computes it, disagrees with a
    central-difference estimate of the same derivative. The check perturbs the
    layer along a few random directions first; only an array that fails gets
    compared element by element, and the worst elements are shown with both values.
    When the disagreement has a recognisable shape it is named: off by the
    batch size, sign flipped, transposed, never computed (all zeros), not used
    by forward, or wrong only in some rows or columns.

Why it matters:
    Gradient descent follows the gradient you return. A wrong gradient moves the
    parameters in a direction that does not lower the loss, so the loss stalls,
    oscillates or rises however the learning rate is tuned.

Example:
    def backward(self, dout):
        self.db = np.sum(dout, axis=1)     # sums over features, not over the batch

Fix:
    def backward(self, dout):
        self.db = np.sum(dout, axis=0)     # one bias gradient per output unit
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import joined
from backprop_doctor.conventions.activations import UPSTREAM_NAMES
from backprop_doctor.findings import REDERIVE, Finding
from backprop_doctor.locate import definition
from backprop_doctor.static.definitions import enclosing, find_function
from backprop_doctor.static.branches import split
from backprop_doctor.static.derivatives import (
    asks_for_delta, cached_wrong_side, cross_entropy_delta_with_slope, derivative_given_output, misderived, quadratic_delta_without_slope, slope_left_out, softmax_diagonal, unused_adjoint, unused_slope,
)
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.fixes import gradient_fix, takes_no_upstream
from backprop_doctor.static.logits_caller import logits_gradient_given
from backprop_doctor.static.likelihood import log_likelihood_line, returned_log_likelihood
from backprop_doctor.static.unused import carried_not_added, first_step_skipped, forward_only, left_out, skip_left_out
from backprop_doctor.static.one_hot_scatter import column_subtracted, fed_by
from backprop_doctor.static.origins import computed_at, passed_back_at
from backprop_doctor.static.outputs import output_disagreement
from backprop_doctor.static.penalties import correct_class_term_left_out, left_out_penalty, penalty_only_in_loss, penalty_subtracted
from backprop_doctor.static.penalty_strength import store_without_term
from backprop_doctor.static.reductions import bias_inside_sum
from backprop_doctor.static.reversed_difference import reversed_difference
from backprop_doctor.static.stale import stale_weights
from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.upstream import shared_source
from backprop_doctor.static.writes import crossed_entry, overwritten_windows
from backprop_doctor.static.wrong_only import gradient_statements, wrong_only
from backprop_doctor.static.tree import walk as tree_walk

NAME = "gradient-mismatch"
CODE = "BPD101"
SEVERITY = "error"
STAGE = "gradient"

# Gradient findings come from the engine; `run` completes them with the corrected line when the
# source makes it certain (see `backprop_doctor.fixes`).
FIXABLE = ("gradient-mismatch", "gradient-shape-mismatch")
OPPOSITE = 1.5  # a relative error this large: the two gradients point apart (2 is exactly opposite)


def run(context: Any) -> Iterator[Finding]:
    """Give each gradient finding in the checked file that has no fix yet the corrected line.

    The engine emitted these findings before the checks run; they are completed in place in
    `context.findings` (the report's own list) and nothing new is yielded.
    """
    source = context.source
    if source is None or source.tree is None:
        return
    here = os.path.abspath(source.path)
    _wrong_where_flat(context)
    _mean_left_to_layers(context)
    _yield_to_saturation(context)  # before the replay's word: a saturated loss says why, and what to change
    _logits_right_in_training(context)
    _yield_to_training(context)
    _output_functions_differ(context)
    _columns_subtracted(context)
    _crossed_entries(context)
    _reversed_differences(context)
    _shared_upstream(context)
    _branch_slopes(context)
    _mask_axes(context)
    _networks_follow_layers(context)
    _wrong_branch(context)
    _miscounted(context)
    _finite_differences_that_never_move(context)
    _penalties_disagree(context)
    _network_penalty_left_out(context)
    _network_penalty_subtracted(context)
    _function_penalty_left_out(context)
    _store_without_penalty(context)
    _hinge_correct_class(context)
    _terms_left_out(context)
    _alternating_signs(context)
    _slopes_never_used(context)
    _slopes_left_out(context)
    _slopes_misderived(context)
    _derivatives_given_outputs(context)
    _indices_mixed(context)
    _powers_unlowered(context)
    _powers_unbrought(context)
    _strides_left_out(context)
    _carried_not_added(context)
    _first_step_skipped(context)
    _cross_entropy_delta(context)
    _quadratic_delta(context)
    _softmax_diagonals(context)
    _read_only_forward(context)
    _windows_overwritten(context)
    _cached_sides(context)
    _activation_derivatives(context)
    _log_epsilons(context)
    for i, finding in enumerate(context.findings):
        if finding.pattern in ("right-in-training", "crossed-gradient", "one-hot-columns"):
            continue  # placed already, at the statement to change
        tree = source.tree if not finding.file or os.path.abspath(finding.file) == here else source_tree(os.path.abspath(finding.file))[1]
        through = _softmax_passing_through(tree, finding.layer) if finding.name == NAME and tree is not None else None
        if through is not None:
            method, line = through
            context.findings[i] = finding.replace(
                severity="warning",
                pattern="softmax-pass-through",
                line=line,
                highlight=(line,),
                message=(
                    f"`{finding.layer}.{method}` returns the gradient it is given unchanged (line {line}), which is not the "
                    "softmax's derivative: it is right only when what it is given is already the gradient with respect to "
                    "the softmax's input, ŷ − y, as a cross-entropy computes it for softmax and loss together; check that "
                    "the loss's backward gives ŷ − y, not the gradient with respect to ŷ"
                ),
            )
            continue
        likelihood = _log_likelihood(source.tree, finding) if finding.name == NAME and finding.layer else None
        if likelihood is not None and (not finding.file or os.path.abspath(finding.file) == here):
            line, message = likelihood
            context.findings[i] = finding.replace(
                line=line,
                highlight=tuple(sorted({line, *([finding.line] if finding.line else [])})),
                message=message,
                pattern="loss-sign-flipped",
                fix=None,
            )
            continue
        if finding.name not in FIXABLE or finding.line is None:
            continue
        if finding.file and os.path.abspath(finding.file) != here:
            continue
        summed = _bias_summed(source.tree, finding) if finding.name == NAME else None
        if summed is not None:
            context.findings[i] = summed
            continue
        stale = stale_weights(source.tree, finding.line) if finding.name == NAME else None
        if stale is not None:
            attribute, moved = stale
            what = "input gradient dx" if finding.param in (None, "x") else f"gradient of `{finding.param}`"
            context.findings[i] = finding.replace(
                message=(
                    f"The {what} of `{finding.layer}` is computed at line {finding.line} from `self.{attribute}`, which line {moved} "
                    f"has already updated in this backward pass, so it is not the `self.{attribute}` the forward pass used: "
                    f"compute it before line {moved}, then update `self.{attribute}`"
                ),
                pattern="stale-weights",
                highlight=tuple(sorted({moved, finding.line})),
                fix=None,
            )
            continue
        stored = source.text_lines[finding.line - 1].split("=")[0].strip() if 0 < finding.line <= len(source.text_lines) else ""
        if stored and (stored in (finding.fix or "") or f"`{stored}" in finding.message):
            continue  # the storing itself is what to change (`self.grads[0] = dW` -> `self.grads[0][...] = dW`)
        computed = computed_at(source.tree, finding.line, finding.param)
        if computed is not None:  # `grads_values["dW" + str(i)] = dW_curr`: where `dW_curr` is computed
            finding = context.findings[i] = finding.replace(line=computed, highlight=tuple(sorted({computed, finding.line})), fix=None)
        if finding.fix:
            continue
        fix = gradient_fix(finding.line, finding.pattern, finding.param, source.text, source.tree)
        if fix is not None:
            context.findings[i] = finding.replace(fix=fix)
    _wrong_only_sources(context)
    _logits_given_by_caller(context)
    yield from ()


def _logits_given_by_caller(context: Any) -> None:
    """A softmax layer's warning that its backward takes the logits' gradient (`takes-logits-gradient`), or
    passes its argument on unchanged (`softmax-pass-through`), becomes an info where the checked file's own
    call hands that backward `y_hat - y` beside a cross-entropy of `y_hat` (`static.logits_caller`): the line
    the warning asks the user to check is in the file."""
    source = context.source
    here = os.path.abspath(source.path)
    for i, finding in enumerate(context.findings):
        if finding.pattern not in ("takes-logits-gradient", "softmax-pass-through") or not finding.line:
            continue
        file = os.path.abspath(finding.file) if finding.file else here
        tree = source.tree if file == here else source_tree(file)[1]
        method = _scope_of(tree, finding.line) if tree is not None else None
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        owner = next((c for c in tree_walk(tree) if isinstance(c, ast.ClassDef) and method in c.body), None)
        trees = _program_trees(source.tree, here, file)
        statement = (
            logits_gradient_given(trees, source.tree, layer_class=owner.name)
            if owner is not None
            else logits_gradient_given(trees, source.tree, backward=method.name)
        )
        if statement is None:
            continue
        line = statement.lineno
        at = f"line {line}" if file == here else f"{os.path.basename(here)}, line {line}"
        text = ast.get_source_segment(source.text, statement) or ast.unparse(statement)
        name = f"{owner.name}.{method.name}" if owner is not None else method.name
        context.findings[i] = finding.replace(
            severity="info",
            pattern="logits-gradient-given",
            fix=None,
            message=(
                f"`{name}` takes the gradient with respect to its softmax's input, ŷ − y, and your program hands it "
                f"exactly that with a cross-entropy loss ({at}: `{text.strip()}`): right as written"
            ),
        )


def _program_trees(tree: ast.Module, here: str, layer_file: str) -> list[ast.Module]:
    """The checked file's tree, the layer's file's, and those of the modules beside the checked file that it
    imports from (`from model import Net` with `model.py` there), where the classes it makes are defined."""
    folder = os.path.dirname(here)
    paths = [here, layer_file]
    for node in tree_walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            paths.append(os.path.join(folder, *node.module.split(".")) + ".py")
        elif isinstance(node, ast.Import):
            paths += [os.path.join(folder, *a.name.split(".")) + ".py" for a in node.names]
    trees = [tree]
    for path in dict.fromkeys(os.path.abspath(p) for p in paths[1:]):
        if path != here and os.path.isfile(path):
            other = source_tree(path)[1]
            if other is not None:
                trees.append(other)
    return trees


def configuration_only(finding: Finding, configuration: str, right_with: str, statement: str) -> Finding:
    """A pair's gradient wrong only under arguments backprop-doctor chose (`overlapping windows`) while
    the program's own call passes (`right_with`: "your program's own call (line 34)"), or, for a
    pooling pair, the usual windows that do not overlap: a warning about a configuration the program
    does not use, not the reason its loss rises. `statement`: the source of the finding's line."""
    what = "input gradient dx" if finding.param in (None, "x") else f"gradient of `{finding.param}`"
    error = f" (relative error {finding.measured:.3g})" if finding.measured is not None else ""
    at = f" (line {finding.line})" if finding.line else ""
    if "overlapping" in configuration and re.match(r"\s*d\w*\[.*\]\s*=[^=]", statement):
        advice = (
            "add into it with `+=` instead of assigning: where windows overlap, one input cell can be the maximum "
            "of two windows and must get the gradient of both"
        )
    else:
        advice = f"if you will use it so, {finding.message.rpartition(': ')[2] or REDERIVE}"
    return finding.replace(
        severity="warning",
        pattern="configuration-not-used",
        fix=None,
        message=(
            f"the {what} of `{finding.layer}` is right with {right_with} but wrong with "
            f"{configuration}, arguments backprop-doctor chose{error}{at}: {advice}"
        ),
    )


# An activation's derivative as the backward of `name(Z)` returns it: of the input Z, of the output A.
DERIVATIVES = {
    "sigmoid": ("dA * s * (1 - s)`, with `s = sigmoid(Z)", "dA * A * (1 - A)"),
    "tanh": ("dA * (1 - np.tanh(Z) ** 2)", "dA * (1 - A ** 2)"),
    "relu": ("dA * (Z > 0)", "dA * (A > 0)"),
    "leaky_relu": ("dA * np.where(Z > 0, 1, alpha)", "dA * np.where(A > 0, 1, alpha)"),
}


def _cached_sides(context: Any) -> None:
    """A backward function's wrong gradient (cs231n's `sigmoid_backward(dout, cache)`) whose derivative is written
    of one side of the activation (`s * (1 - s)`, of its output) while its forward twin caches the other
    (`cache = x`, the input): the line to fix is the forward's cache."""
    for i, f, measured in _bare(context):
        cached = cached_wrong_side(context.source.tree, f.line)
        if cached is None:
            continue
        context.findings[i] = _named(f, measured, f"{cached_words(cached)}; {cached_advice(cached)}", "cache-wrong-side", cached.line, f.line)


def cached_words(cached: Any) -> str:
    """`sigmoid_forward` caches the sigmoid's input where `sigmoid_backward` computes the derivative of its output
    (`static.derivatives.CachedSide`); shared with `step_gradient_mismatch`."""
    held = "input" if cached.wants == "output" else "output"
    name = "the sigmoid" if cached.activation == "sigmoid" else cached.activation
    return (
        f"`{cached.forward}` caches `{cached.cached}` (line {cached.line}), {name}'s {held}, but `{cached.backward}` "
        f"computes {name}'s derivative from that cache as `{cached.written}` (line {cached.derivative_line}), "
        f"written of {name}'s {cached.wants}: the cache holds the {held} where the backward expects the {cached.wants}"
    )


def cached_advice(cached: Any) -> str:
    return f"cache `{cached.other}` in `{cached.forward}` instead of `{cached.cached}` (line {cached.line})"


def _activation_derivatives(context: Any) -> None:
    """A wrong backward or derivative of a standard activation (`sigmoid_backward`, `tanh_prime`) with no
    named pattern: the advice gives the derivative itself, in both of its usual forms."""
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.pattern or not f.layer or not f.message.endswith(REDERIVE):
            continue
        forward, _, derivative = f.layer.split(".")[0].partition("/")
        base = forward.lstrip("_").lower()  # `__sigmoid`, a private method
        if base not in DERIVATIVES:
            continue
        of_input, of_output = DERIVATIVES[base]
        local = context.source is not None and takes_no_upstream(context.source.tree, context.source.text, f.line)
        if derivative or local:  # `sigmoid_prime(z)`, a `backward(self)`: the local derivative alone, without an upstream gradient
            of_input, of_output = of_input.replace("dA * ", ""), of_output.replace("dA * ", "")
        context.findings[i] = f.replace(
            message=f.message.removesuffix(REDERIVE)
            + f"the derivative of {base} is `{of_input}` (written of its output `A = {base}(Z)`: `{of_output}`); "
            "compare it with the values below"
        )


def _bare(context: Any, *, left_out: bool = False) -> Iterator[tuple[int, Finding, re.Match[str]]]:
    """(index, finding, its measured part) of each gradient finding of the checked file that no pattern
    named yet and that still ends in advice to re-derive it: what the source facts below can word. With
    `left_out`, also one the engine measured as the loss's slope less a multiple of the weight (an L2
    penalty left out, `outcomes`), which the statement adding the penalty words better."""
    here = os.path.abspath(context.source.path)
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.pattern or f.line is None or (f.file and os.path.abspath(f.file) != here):
            continue
        measured = _REDERIVED.match(f.message) or (_SLOPE_LESS.match(f.message) if left_out else None)
        if measured is not None:
            yield i, f, measured


def _staged(context: Any) -> Iterator[tuple[int, Finding, re.Match[str]]]:
    """(index, finding, its measured part as `_bare` gives it) of each gradient finding the engine named at the first
    wrong stage of a backward written in stages (`wrong-intermediate-gradient`, `outcomes._blamed_stage`): a source
    fact about that very statement says what is wrong in it."""
    here = os.path.abspath(context.source.path)
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.pattern != "wrong-intermediate-gradient" or f.line is None or (f.file and os.path.abspath(f.file) != here):
            continue
        head = _STAGED.match(f.message)
        measured = _REDERIVED.match(f"{head[1]}: re-derive") if head is not None else None
        if measured is not None:
            yield i, f, measured


def _named(f: Finding, measured: re.Match[str], cause: str, pattern: str, at: int, *shown: int, drop_fix: bool = True) -> Finding:
    """`f` with its advice to re-derive it replaced by the `cause` the source shows, at line `at`, with
    the lines `shown` highlighted beside it; a corrected line written for the old advice is dropped."""
    changes: dict[str, Any] = {"message": measured[0] + cause, "pattern": pattern, "line": at, "highlight": tuple(sorted({at, *shown}))}
    if drop_fix:
        changes["fix"] = None
    return f.replace(**changes)


def _slopes_never_used(context: Any) -> None:
    """A wrong gradient at or after a line whose function binds an activation's derivative and never
    reads it (`sp = sigmoid_prime(z)`, then `delta = np.dot(w.T, delta)`): the factor that line leaves
    out, and the line the finding moves to."""
    for i, f, measured in _bare(context):
        slope = unused_slope(context.source.tree, f.line)
        adjoint = unused_adjoint(context.source.tree, f.line) if slope is None else None
        if adjoint is not None:  # `dz = dout * (z > 0)`, then a line handed `dout` itself
            context.findings[i] = _named(
                f, measured,
                f"`{adjoint.name} = {adjoint.value}` (line {adjoint.bound_line}) is the gradient through the activation, but line "
                f"{adjoint.line} reads `{adjoint.upstream}`, the gradient it is computed from, in its place, so the activation's "
                f"derivative is left out there: use `{adjoint.name}`",
                "missing-activation-derivative", adjoint.line, adjoint.bound_line,
            )  # fmt: skip
            continue
        if slope is None or slope.line > f.line:
            continue
        context.findings[i] = _named(
            f, measured,
            f"`{slope.name} = {slope.value}` (line {slope.bound_line}) is computed and never used, so the activation's derivative "
            f"is left out of line {slope.line}: multiply the gradient there by `{slope.name}`",
            "missing-activation-derivative", slope.line, slope.bound_line,
        )  # fmt: skip


def _windows_overwritten(context: Any) -> None:
    """A layer's wrong dx returned through a function of the file that writes each window's gradient
    into the input's shape with `=` (`col2im`'s `xp[:, :, i:i + oh, j:j + ow] = ...`): where windows
    overlap, the cells they share keep only the last window's gradient."""
    here = os.path.abspath(context.source.path)
    for i, f in enumerate(context.findings):
        measured = _REDERIVED.match(f.message) if f.name == NAME and not f.pattern and f.line is not None else None
        if measured is None or f.param not in (None, "x"):
            continue
        file = os.path.abspath(f.file) if f.file else here  # the book's layers.py, beside the checked file
        tree = context.source.tree if file == here else source_tree(file)[1]
        origins: dict[str, str] = {}
        found = overwritten_windows(tree, f.line, lambda name, file=file, origins=origins: _imported_definition(file, name, origins)) if tree is not None else None
        if found is None:
            continue
        function, line, target = found
        there = origins.get(function)  # another file: the finding moves there, with no line of this one beside it
        helper = f"`{function}`" if there is None else f"`{function}` ({os.path.basename(there)}), which line {f.line} of {os.path.basename(file)} calls,"
        named = _named(
            f, measured,
            f"{helper} writes each window's gradient into `{target}` with `=` (line {line}), so where windows overlap the "
            f"cells they share keep only the last window's: add them with `{target} += ...`",
            "overlap-overwritten", line, *(() if there else (f.line,)),
        )  # fmt: skip
        context.findings[i] = named if there is None else named.replace(file=there)


def _imported_definition(file: str, name: str, origins: dict[str, str]) -> ast.AST | None:
    """The parsed user file that defines the function `name` that the module loaded from `file` holds
    (`from common.util import col2im` in the book's `layers.py`), noting it in `origins`; None where
    that module, or a user's function by that name in it, is not loaded."""
    import inspect

    from backprop_doctor.locate import is_user_file, loaded_module

    module = loaded_module(file)
    function = getattr(module, name, None) if module is not None else None
    if not inspect.isfunction(function):
        return None
    try:
        defined = os.path.abspath(inspect.getsourcefile(function) or "")
    except TypeError:
        return None
    if not is_user_file(defined) or defined == file:
        return None
    origins[name] = defined
    return source_tree(defined)[1]


def _read_only_forward(context: Any) -> None:
    """A layer's wrong dx whose forward computes its output with an attribute its backward never reads
    (Dropout's `x * self.mask` with `return dout`; a leaky ReLU's `self.alpha * x` with no slope for
    negative inputs): that attribute is what dx leaves out."""
    for i, f, measured in _bare(context):
        if f.param != "x" or not f.layer:
            continue
        cls = f.layer.split(".")[0]
        skipped = skip_left_out(context.source.tree, cls)
        if skipped is not None:
            line, upstream, returned = skipped
            context.findings[i] = _named(
                f, measured,
                f"`{cls}.forward` adds its input to what it returns (a skip connection, line {line}), so its input gradient "
                f"is `{upstream}` plus the branch's: `return {upstream} + {returned}`",
                "skip-connection-left-out", f.line, line, drop_fix=False,
            )  # fmt: skip
            continue
        unread = forward_only(context.source.tree, cls)
        if len(unread) != 1:
            continue
        attribute, line = unread[0]
        context.findings[i] = _named(
            f, measured,
            f"`{cls}.forward` computes its output with `{attribute}` (line {line}), which `{cls}.backward` never reads: "
            f"dx must use `{attribute}` as forward does (the derivative of forward's output with respect to x)",
            "forward-attribute-left-out", f.line, line, drop_fix=False,
        )  # fmt: skip


def _slopes_left_out(context: Any) -> None:
    """A wrong gradient computed from the gradient of an activation's output that nothing multiplies by
    the activation's slope (`dh = d @ W2.T`, then `dW1 = X.T @ dh`, with `h = np.maximum(0, ...)`)."""
    for i, f, measured in _bare(context):
        left = slope_left_out(context.source.tree, f.line)
        if left is None:
            continue
        applied = left.applied
        slope = f"({applied.output} > 0)" if applied.kind == "relu" else applied.derivative
        context.findings[i] = _named(
            f, measured,
            f"`{left.adjoint}` (line {left.line}) is the gradient with respect to `{applied.output}`, the {applied.shown}'s output, "
            f"but line {left.used_at} uses it as the gradient with respect to the {applied.shown}'s input: the {applied.shown}'s "
            f"derivative is left out; multiply `{left.adjoint}` by `{slope}`",
            "missing-activation-derivative", left.line, left.used_at,
        )  # fmt: skip


def _slopes_misderived(context: Any) -> None:
    """A wrong gradient whose function multiplies by `(1 - A1)` for a tanh output `A1` (its derivative is
    `1 - A1 ** 2`), or by `(1 - A)` alone for a sigmoid's (`A * (1 - A)`)."""
    for i, f, measured in _bare(context):
        wrong = misderived(context.source.tree, f.line)
        if wrong is None:
            continue
        applied = wrong.applied
        context.findings[i] = _named(
            f, measured,
            f"line {wrong.line} multiplies by `{wrong.written}` as the derivative of `{applied.output} = {applied.shown}(...)`, "
            f"but the {applied.shown}'s derivative is `{applied.derivative}`: write that in its place",
            "wrong-activation-derivative", wrong.line, f.line,
        )  # fmt: skip


def _derivatives_given_outputs(context: Any) -> None:
    """A wrong gradient whose function hands a derivative written from the activation's input
    (`sigmoid_prime(z)`) an element of the list of its outputs (`activations[-l]`): Nielsen's hidden
    layers with `sigmoid_prime(activations[-l])` where `sigmoid_prime(zs[-l])` belongs."""
    for i, f, measured in _bare(context):
        given = derivative_given_output(context.source.tree, f.line)
        if given is None:
            continue
        instead = f"; hand it the matching element of `{given.inputs}`" if given.inputs else ""
        context.findings[i] = _named(
            f, measured,
            f"line {given.line} computes `{given.call}`, a derivative that applies the {given.kind} itself, on the "
            f"{given.kind}'s output: it needs the {given.kind}'s input (the pre-activation){instead}",
            "derivative-of-output", given.line, f.line,
        )  # fmt: skip


def _indices_mixed(context: Any) -> None:
    """A wrong gradient whose function reads an array by another loop's index on one gradient line
    (`dW[:, j] += X[j]` where every other line reads `X[i]`, the sample)."""
    from backprop_doctor.static.indices import mixed_index

    for i, f, measured in _bare(context):
        mixed = mixed_index(context.source.tree, f.line)
        if mixed is None:
            continue
        context.findings[i] = _named(
            f, measured,
            f"line {mixed.line} reads `{mixed.array}[{mixed.written}]`, the row of `{mixed.array}` picked by the loop index "
            f"`{mixed.written}`, where every other line of the function reads `{mixed.array}[{mixed.meant}]` "
            f"({_lines(mixed.others)}): write `{mixed.array}[{mixed.meant}]`",
            "index-mixed-up", mixed.line, *mixed.others,
        )  # fmt: skip


def _powers_unlowered(context: Any) -> None:
    """A wrong gradient whose function applies the power rule without lowering the exponent
    (`-0.5 * (var + eps) ** -0.5` for the derivative of `(var + eps) ** -0.5`)."""
    from backprop_doctor.static.powers import unlowered_power

    for i, f, measured in (*_bare(context), *_staged(context)):
        power = unlowered_power(context.source.tree, f.line)
        if power is None or f.pattern is not None and power.line != f.line:
            continue  # a stage found wrong by running it is named at its own line, or left as it is
        lowered = f"{power.exponent - 1:g}"
        context.findings[i] = _named(
            f, measured,
            f"line {power.line} multiplies by {power.factor:g} and `{power.written}`: the derivative of `({power.base}) ** {power.exponent:g}` "
            f"is {power.factor:g} · `({power.base}) ** {lowered}`, the exponent lowered by one: write `({power.base}) ** {lowered}`",
            "power-rule", power.line, f.line,
        )  # fmt: skip


def _powers_unbrought(context: Any) -> None:
    """A wrong gradient whose function applies the power rule without bringing the exponent down as a
    factor (`0.044715 * x ** 2` for the derivative of the forward's `0.044715 * x ** 3`)."""
    from backprop_doctor.static.powers import unbrought_power

    for i, f, measured in _bare(context):
        power = unbrought_power(context.source.tree, f.line)
        if power is None:
            continue
        context.findings[i] = _named(
            f, measured,
            f"line {power.line} (`{power.written}`) is the derivative of `{power.forward}` (line {power.forward_line}) without the "
            f"exponent brought down: the power rule multiplies by {power.exponent:g} as it lowers the power, so write "
            f"`{power.exponent:g} * {power.written}`",
            "power-rule", power.line, f.line,
        )  # fmt: skip


def _strides_left_out(context: Any) -> None:
    """A layer's wrong gradients whose backward starts each window at a bare loop index (`r0, c0 = i, j`)
    where its forward moves the window by a stride (`i * self.stride`) that the backward never reads."""
    from backprop_doctor.static.strides import stride_left_out

    for i, f, measured in _bare(context):
        if not f.layer:
            continue
        left = stride_left_out(context.source.tree, f.layer.split(".")[0])
        if left is None:
            continue
        if left.meant is not None:
            cause = (
                f"line {left.line} reads `{left.statement}`, one position after the other, where forward's position is "
                f"`{left.meant}` (line {left.forward_line}): multiply the loop index by `{left.stride}` there"
            )
        else:
            cause = (
                f"line {left.line} (`{left.statement}`) starts each window at the loop index, one element after the other, while "
                f"forward moves it by `{left.stride}` (line {left.forward_line}): multiply the index by `{left.stride}` there"
            )
        context.findings[i] = _named(f, measured, cause, "stride-left-out", left.line, f.line)


def _lines(lines: tuple[int, ...]) -> str:
    """"line 14", "lines 14 and 23", "lines 3, 9 and 14"."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"


def _carried_not_added(context: Any) -> None:
    """A recurrent backward whose loop over time makes each step's gradient of the previous state and
    never adds it to the earlier step's upstream gradient (`dh[:, t, :]` where `dh[:, t, :] + dprev_h`
    belongs): every weight's gradient then misses the paths through time."""
    for i, f, measured in _bare(context):
        carried = carried_not_added(context.source.tree, f.line)
        if carried is None:
            continue
        name, line, belongs, fix = carried
        context.findings[i] = _named(
            f, measured,
            f"`{name}` (line {line}) is the gradient each time step sends back to the one before it, but the loop never adds "
            f"it to that step's upstream gradient: {'pass' if belongs == line else 'write'} `{fix}`",
            "through-time", belongs, line, f.line,
        )  # fmt: skip


def _first_step_skipped(context: Any) -> None:
    """A gradient added up in a backward loop over time steps that counts down and stops before the first
    (`for t in range(T - 1, 0, -1)`): step 0's part of it is never added, so the finding moves to the loop."""
    for i, f, measured in _bare(context):
        skipped = first_step_skipped(context.source.tree, f.line)
        if skipped is None:
            continue
        line, variable, fix = skipped
        header = context.source.text_lines[line - 1].strip() if 0 < line <= len(context.source.text_lines) else fix
        moved = _named(
            f, measured,
            f"the loop over time steps at line {line} (`{header}`) stops before {variable} = 0, so the first step's part "
            f"of the gradient that line {f.line} adds up is never added: write `{fix}`",
            "first-step-skipped", line, f.line,
        )  # fmt: skip
        context.findings[i] = moved.replace(fix=fix)


LOG_EPSILON = 1e-3  # a constant at most this large added inside a log (`np.log(p + 1e-5)`) keeps it finite
LOG_EPSILON_ERROR = 1e-2  # a relative error at most this large is what such a constant explains


def _log_epsilons(context: Any) -> None:
    """A small gradient error of a function whose loss takes `log(p + eps)`: the textbook gradient
    (`probs - onehot`) leaves the constant out, which moves the gradient by about eps / p. That is
    the program's own choice, not a bug: an info naming the constant."""
    here = os.path.abspath(context.source.path)
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.severity != "error" or f.measured is None or f.measured > LOG_EPSILON_ERROR or not f.line:
            continue
        tree = context.source.tree if not f.file or os.path.abspath(f.file) == here else source_tree(os.path.abspath(f.file))[1]
        function = _scope_of(tree, f.line) if tree is not None else None
        found = _log_of_sum(function) if function is not None and function is not tree else None
        if found is None:
            continue
        line, constant = found
        context.findings[i] = f.replace(
            severity="info",
            pattern="log-epsilon",
            message=f"the gradient of `{f.layer}` differs from the numerical one by {f.measured:.2g} (relative), which the constant "
            f"`{constant}` added inside the log at line {line} explains: the usual gradient leaves it out, and it moves the "
            "gradient by about that constant over each probability; harmless",
            highlight=tuple(sorted({f.line, line})),
            fix=None,
        )


def _log_of_sum(function: Any) -> tuple[int, str] | None:
    """(line, constant) of a `log(<expr> + c)` in `function` with 0 < c <= LOG_EPSILON."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] == "log" and len(node.args) == 1:
            inner = node.args[0]
            if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Add):
                for side in (inner.left, inner.right):
                    if isinstance(side, ast.Constant) and isinstance(side.value, float) and 0 < side.value <= LOG_EPSILON:
                        return node.lineno, ast.unparse(side)
    return None


def _cross_entropy_delta(context: Any) -> None:
    """A network's wrong gradients when its cross-entropy cost class's `delta` multiplies the output error
    by the sigmoid's slope (`(a - y) * sigmoid_prime(z)`): the cost's delta is the first wrong step."""
    found = cross_entropy_delta_with_slope(context.source.tree)
    if found is None:
        return
    cls, line, written, fix = found
    for i, f in enumerate(context.findings):
        measured = _REDERIVED.match(f.message) if f.name == NAME and not f.pattern else None
        if measured is None:
            continue
        context.findings[i] = f.replace(
            message=measured[0]
            + f"`{cls}.delta` returns `{written}` (line {line}), but with the cross-entropy cost the sigmoid's slope cancels "
            f"and the output error is `{fix}` itself: return `{fix}`",
            pattern="extra-activation-derivative",
            line=line,
            file=context.source.path,
            highlight=(line,),
            fix=None,
        )


def _quadratic_delta(context: Any) -> None:
    """A network's wrong gradients when its quadratic cost class's `delta(z, a, y)` returns the output error
    `a - y` alone: that is the gradient with respect to the sigmoid's output, where the backward pass starts
    from the gradient with respect to its input (`a - y` is the cross-entropy's delta, not the quadratic
    cost's). Only the findings of a function that asks a cost for its `delta` are its symptoms."""
    found = quadratic_delta_without_slope(context.source.tree)
    if found is None:
        return
    for i, f, measured in _bare(context):
        if not asks_for_delta(context.source.tree, f.line):
            continue
        context.findings[i] = f.replace(
            message=measured[0]
            + f"`{found.cls}.delta` returns `{found.written}` (line {found.line}), the gradient of the quadratic cost with respect to "
            f"`{found.output}`, the sigmoid's output, but the backward pass uses it as the output layer's delta, the gradient with "
            f"respect to `{found.given}`, the sigmoid's input: the sigmoid's derivative is left out (`{found.written}` alone is the "
            f"cross-entropy cost's delta); return `{found.fix}`",
            pattern="missing-activation-derivative",
            line=found.line,
            file=context.source.path,
            highlight=tuple(sorted({found.line, f.line})),
            fix=None,
        )


def _softmax_diagonals(context: Any) -> None:
    """A softmax layer's wrong dx written as `dout * y * (1 - y)`: the Jacobian's diagonal alone, the
    derivative of a sigmoid, where each output of a row depends on every input of that row."""
    for i, f, measured in _bare(context):
        if f.param != "x":
            continue
        y = softmax_diagonal(context.source.tree, f.line)
        if y is None:
            continue
        context.findings[i] = f.replace(
            message=measured[0]
            + f"it multiplies by `{y} * (1 - {y})`, only the diagonal of the softmax's Jacobian (a sigmoid's derivative), but "
            f"each output of a row depends on every input of the row: dx = {y} * (dout - np.sum(dout * {y}, axis=1, keepdims=True))",
            pattern="softmax-jacobian-diagonal",
        )


# "... is wrong (relative error 0.75): " followed by advice to re-derive it, of a layer or of a network without layers
_STAGED = re.compile(r"(.*? is wrong \(relative error [^)]*\)), from `")  # `outcomes._stage_sentence`
_REDERIVED = re.compile(r".*? is wrong \(relative error [^)]*\): (?=re-derive|the network computes it itself)")
_SLOPE_LESS = re.compile(r".*? is wrong \(relative error [^)]*\): (?=it is the loss's slope less)")


NUMBERED = re.compile(r"^(?P<stem>[A-Za-z_]+?)(?P<layer>\d+)$")


def _alternating_signs(context: Any) -> None:
    """Signs flipped at every other layer counted from the output (W2 and b2 of three layers, the
    others right): the gradient handed from one layer to the next is negated once per layer, so two
    negations cancel. When each layer's backward is one function of the file called in a loop, its
    return of that gradient (`dA_prev = -W.T.dot(dZ)`) is the root and the flipped gradients its symptoms."""
    source = context.source
    here = os.path.abspath(source.path)
    groups: dict[str, list[Finding]] = {}
    for f in context.findings:
        if f.name == NAME and f.severity == "error" and f.layer and f.param and (not f.file or os.path.abspath(f.file) == here):
            groups.setdefault(f.layer, []).append(f)
    for layer, members in groups.items():
        checked = {m.param for m in context.measurements if m.layer == layer}
        depths = _depths(checked | {f.param for f in members})
        if depths is None or len(set(depths.values())) < 3 or not all(f.pattern == "sign-flipped" for f in members):
            continue
        top = max(depths.values())
        flipped = {depths.get(f.param) for f in members}
        expected = {d for d in set(depths.values()) if (top - d) % 2 == 1}
        if flipped != expected or any(depths[p] in expected for p in depths if p not in {f.param for f in members}):
            continue
        line = min(f.line for f in members if f.line) if any(f.line for f in members) else None
        found = passed_back_at(source.tree, line) if line is not None else None
        if found is None:
            continue
        at, name = found
        root = members[0]
        params = ", ".join(f"`{f.param}`" for f in members)
        text = source.text_lines[at - 1].strip() if 0 < at <= len(source.text_lines) else name
        old_key = root.key()
        index = next(i for i, f in enumerate(context.findings) if f is root)
        context.findings[index] = moved = root.replace(
            param=name,
            line=at,
            highlight=(at,),
            pattern="passed-back-negated",
            fix=None,
            message=(
                f"`{text}` (line {at}) has its sign flipped: `{name}` is handed from each layer to the one before, so "
                f"the gradients of every other layer come out negated ({params}) while the rest are right, two negations "
                f"cancelling; compute `{name}` without the minus sign"
            ),
        )
        context.findings[:] = [
            f.replace(caused_by=moved.key()) if (f in members[1:] or f.caused_by == old_key) and f is not moved else f for f in context.findings
        ]


def _depths(params: set[str]) -> dict[str, int] | None:
    """param -> its layer number, when every parameter is numbered (`W1`, `b1`, `W2`, ...)."""
    depths = {}
    for param in params:
        match = NUMBERED.match(param.split("'")[-2] if "'" in param else param)
        if match is None:
            return None
        depths[param] = int(match["layer"])
    return depths


def _terms_left_out(context: Any) -> None:
    """A parameter the loss does not depend on (`unused-in-forward`) that its forward fetches and never
    reads, a bias left out of `a1 = np.dot(x, W1)`: the finding moves to the statement where the term
    belongs, with it added."""
    source = context.source
    here = os.path.abspath(source.path)
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.pattern != "unused-in-forward" or not f.param or not f.layer or (f.file and os.path.abspath(f.file) != here):
            continue
        found = left_out(source.tree, f.layer.split(".")[0], f.param)
        if found is None or not 0 < found.line <= len(source.text_lines):
            continue
        text = source.text_lines[found.line - 1].strip()
        fix = f"{text} + {found.name}" if "=" in text and not text.endswith((":", "\\", "(", ",")) and "#" not in text else None
        context.findings[i] = f.replace(
            line=found.line,
            highlight=tuple(sorted({found.line, *([f.line] if f.line else [])})),
            pattern="term-left-out",
            fix=fix,
            message=(
                f"`{f.layer}.{f.param}` is never used by `{f.layer.split('.')[0]}.{found.method}`, so the loss does not depend on it "
                f"(its numerical gradient is zero) while your backward computes a gradient for it: add `{found.name}` to "
                f"`{text}` (line {found.line})"
            ),
        )


def _yield_to_saturation(context: Any) -> None:
    """A network whose whole-gradient check disagrees only through samples whose right class it gives
    a probability near 0 is not wrong: a loss written `log(y + 1e-7)` stops following its gradient
    there (a network started from large weights saturates its softmax). Checked again with the classes
    it predicts as targets (never near 0), its gradient agrees: its mismatches become one info."""
    for built in getattr(context, "networks", ()) or ():
        name = type(built.obj).__name__
        members = [f for f in context.findings if f.name == NAME and f.severity == "error" and f.layer == name and f.param]
        if not members or not built.cases:
            continue
        # a layer of its own found wrong (checked with upstream gradients of its own, no loss) explains it
        inner = _layer_labels(built.obj) - _loss_layer_names(built.obj)
        if any(f.name == NAME and f.severity == "error" and f.layer in inner for f in context.findings):
            continue
        if not _agrees_on_its_predictions(built, {f.param for f in members}, context.options.seed, context.options.train):
            continue
        loss_layers = _loss_layer_names(built.obj)  # its loss layer, checked on the same saturated scores
        members += [f for f in context.findings if f.name == NAME and f.severity == "error" and f.layer in loss_layers and f not in members]
        _merge(context, members, _saturated_info(members[0], name, [f.param for f in members]))
        for result in context.extras.get("replay") or []:  # the training step's loss saturates the same way: not judged
            for _moved, measured in result.parameters:
                ascends = measured.factor is not None and measured.factor < 0  # uphill: a flipped update, not saturation
                if measured.wrong and not ascends and result.owners.get(measured.name, ("",))[0] == name:
                    measured.inconclusive = True


def _saturated_info(first: Finding, name: str, params: list[str]) -> Finding:
    """The one info of a saturated network whose gradients agree on the classes it predicts (`_yield_to_saturation`)."""
    shown = ", ".join(f"`{p}`" for p in params)
    return first.replace(
        name=NAME,
        code=CODE,
        severity="info",
        pattern="saturated-loss",
        fix=None,
        evidence=(),
        message=(
            f"the gradients of `{name}`'s {shown} disagree with its loss only through samples whose right class it gives a "
            "probability near 0: a loss with a small constant inside its log (`log(y + 1e-7)`) stops following its gradient "
            "there; with the classes it predicts as targets every gradient agrees, so the gradient code is right; the "
            "network starts saturated (its softmax nearly one-hot at the first step): start from smaller weights"
        ),
    )


def _layer_labels(net: Any) -> set[str]:
    """What a network's layers are called in findings (`api.layer_labels`)."""
    from backprop_doctor.api import layer_labels
    from backprop_doctor.conventions.networks import Network

    try:
        return set(layer_labels(Network(net).layers()))
    except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
        return set()


def _loss_layer_names(net: Any) -> set[str]:
    """The key and the class name of a network's loss layer (`lastLayer`: `SoftmaxWithLoss`)."""
    from backprop_doctor.conventions.networks import Network

    try:
        last = Network(net).last_layer()
    except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
        return set()
    return {last[0], type(last[1]).__name__} if last is not None else set()


def _wrong_where_flat(context: Any) -> None:
    """A network whose loss is flat in floating point around the point checked (`loss-flat`: a softmax
    saturated by large scores, its numerical gradients exactly 0) is checked again with the classes it
    predicts as its targets, where a saturated softmax gives each of them probability 1 and the loss's
    gradient is 0 (`log(y + 1e-7)` too): a parameter whose backward still gives a gradient there is wrong
    whatever the saturation (a weight-decay term added to a gradient whose loss has none), and gets an
    error; the others stay in the warning."""
    for built in getattr(context, "networks", ()) or ():
        name = type(built.obj).__name__
        flat = [f for f in context.findings if f.name == "loss-flat" and f.layer == name and f.pattern == "flat-in-floating-point"]
        params = list(dict.fromkeys(m.param for m in context.measurements if m.layer == name and m.verdict == "flat"))
        if not flat or not params or not built.cases:
            continue
        judged = _verdicts_on_its_predictions(built, context.options.seed, context.options.train)
        if judged is None:
            continue
        wrong = [p for p in params if judged.get(p, "ok") not in ("ok", "kink")]
        if not wrong and set(params) <= set(judged):
            # every gradient agrees on its predictions: the saturated loss's one info, with its loss layer's input
            loss_layers = _loss_layer_names(built.obj)
            members = flat + [f for f in context.findings if f.name == "loss-flat" and f.layer in loss_layers and f.param == "x"]
            _merge(context, members, _saturated_info(flat[0], name, sorted(params) + ["x"] * (len(members) > len(flat))))
            continue
        where = flat[0]
        lines = _flat_lines(where)
        for param in wrong:
            line = lines.get(param, where.line)
            context.findings.append(
                where.replace(
                    line=line,
                    highlight=(line,) if line else (),
                    evidence=(),
                    name=NAME,
                    code=CODE,
                    severity="error",
                    param=param,
                    pattern="wrong-where-flat",
                    fix=None,
                    measured=None,
                    threshold=None,
                    message=(
                        f"the gradient of `{name}.{param}` is wrong: the network's loss is flat at its labels (saturated), so it "
                        "was checked again with the classes the network predicts as its targets, where its softmax gives them "
                        "probability 1 and the loss's gradient is 0; backward still gives it a gradient there, so something is "
                        "added to it that the loss does not have (a weight-decay term the loss leaves out?)"
                    ),
                )
            )


def _flat_lines(finding: Finding) -> dict[str, int]:
    """param -> the line that computes its gradient, from a `loss-flat` or logits-gradient warning's evidence."""
    from backprop_doctor.outcomes import FLAT_LINES

    lines = {}
    for label, text in finding.evidence:
        if label == FLAT_LINES:
            for row in text.splitlines():
                param, _, line = row.rpartition(": line ")
                if param and line.isdigit():
                    lines[param] = int(line)
    return lines


def _agrees_on_its_predictions(built: Any, params: set[str], seed: int, train: bool = True) -> bool:
    """Whether `built`'s network passes the whole-gradient check for `params` with targets set to
    the classes it predicts itself (one-hot if the targets were), predicted in the mode the check
    runs it in (batch normalisation trains on the batch's own statistics)."""
    judged = _verdicts_on_its_predictions(built, seed, train)
    return judged is not None and params <= set(judged) and all(judged[p] == "ok" for p in params)


def _verdicts_on_its_predictions(built: Any, seed: int, train: bool = True) -> dict[str, str] | None:
    """The verdict of each of `built`'s network's parameters in the whole-gradient check with targets set
    to the classes it predicts itself (`_agrees_on_its_predictions`); None when it cannot be asked."""
    import copy

    import numpy as np

    from backprop_doctor.api import check_network
    from backprop_doctor.conventions._base import train_kwargs

    _label, x, t = built.cases[0]
    predict = getattr(built.obj, "predict", None)
    if t is None or not callable(predict):
        return None
    try:
        net = copy.deepcopy(built.obj)
        scores = np.asarray(net.predict(np.array(x, dtype=np.float64), **train_kwargs(net.predict, train)))
        t = np.asarray(t)
        if scores.ndim != 2 or scores.shape[0] != len(x) or scores.shape[1] < 2:
            return None
        guess = scores.argmax(axis=1)
        mine = np.eye(scores.shape[1], dtype=t.dtype)[guess] if t.ndim == 2 and t.shape == scores.shape else guess.astype(t.dtype)
        if t.ndim != mine.ndim:
            return None
        report = check_network(copy.deepcopy(built.obj), x, mine, seed=seed)
    except Exception:  # noqa: BLE001 - the network cannot be asked again: its findings stand
        return None
    return {m.param: m.verdict for m in report.measurements if m.layer == type(built.obj).__name__}


def _yield_to_training(context: Any) -> None:
    """A layer or network check's mismatches on parameters the training-step replay measured right
    become one info per class: the replay judged them as the program runs them."""
    right = _right_in_training(context)
    here = os.path.abspath(context.source.path)
    penalised = context.extras.get("penalised", {})
    grouped: dict[str | None, list[Finding]] = {}
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or finding.severity != "error":
            continue
        if finding.layer in penalised:
            # checked with a penalty the program's replayed step may barely exercise (cs231n's `reg=5e-6`)
            context.findings[i] = finding.replace(
                message=f"{finding.message}; `{finding.layer}.loss` was checked with `reg={penalised[finding.layer]}`, so its "
                "regularisation term's gradient is part of it (`dW += 2 * reg * W` for a loss term `reg * np.sum(W * W)`)"
            )
        elif (finding.layer, finding.param) in right:
            grouped.setdefault(finding.layer, []).append(finding)
    for members in grouped.values():
        _merge(context, members, _yielded(members, right, here))


def _penalties_disagree(context: Any) -> None:
    """A weight penalty's `grad` that is not the derivative of its `__call__`: either may be the wrong
    one (`__call__` written with `np.linalg.norm`, the L2 norm, under a name that says L1), so the
    finding names both instead of telling the user to re-derive the gradient."""
    import inspect

    namespace = getattr(context, "namespace", None) or {}
    for i, f in enumerate(context.findings):
        cls = namespace.get(f.layer or "")
        if not (f.name == NAME and f.severity == "error" and inspect.isclass(cls) and callable(getattr(cls, "grad", None))):
            continue
        call = definition(getattr(cls, "__call__", None)) if "__call__" in vars(cls) else None
        if call is None or f.pattern:
            continue
        context.findings[i] = f.replace(
            fix=None,
            highlight=tuple(sorted({call.line, *([f.line] if f.line else [])})),
            message=(
                f"`{f.layer}.grad` is not the derivative of `{f.layer}.__call__` (line {call.line}), relative error "
                f"{f.measured:.3g}: one of the two is wrong; check which penalty both should compute (the L1 penalty is "
                "the sum of |w|, whose gradient is sign(w); `np.linalg.norm(w)` is the L2 norm)"
            ),
        )


def _network_penalty_left_out(context: Any) -> None:
    """A network's wrong weight gradient when its `loss` adds a squared-weight penalty scaled by a
    setting its gradient method never reads (the book's `weight_decay_lambda`): the penalty's gradient
    is what is missing, not a layer's."""
    tree = context.source.tree
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.pattern or not f.layer or not f.param or not f.param.lower().startswith("w"):
            continue
        left = left_out_penalty(tree, f.layer.split(".")[0])
        if left is None:
            continue
        at = left.weights_line or f.line  # where the weights' gradient is stored: the term belongs there
        context.findings[i] = f.replace(
            message=(
                f"the gradient of `{f.layer}.{f.param}` is wrong (relative error {f.measured:.3g}): `{f.layer}.loss` adds a penalty "
                f"scaled by `{left.setting}` (line {left.line}) that `{f.layer}.{left.method}` never reads, so the penalty's gradient "
                f"is left out of the weights' gradients: add `{left.setting} * W` to each weight's gradient"
            ),
            pattern="penalty-left-out",
            line=at,
            highlight=tuple(sorted({left.line, *([at] if at else [])})),
            fix=None,
        )


def _network_penalty_subtracted(context: Any) -> None:
    """A network's wrong weight gradient when its `loss` adds a squared-weight penalty and its gradient
    method stores each weight's gradient with that penalty's term subtracted (`dW - weight_decay_lambda *
    W`): the term's sign is what is wrong, at that statement, not a layer's backward pass."""
    tree = context.source.tree
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.pattern or not f.layer or not f.param or not f.param.lower().startswith("w"):
            continue
        flipped = penalty_subtracted(tree, f.layer.split(".")[0])
        if flipped is None:
            continue
        context.findings[i] = f.replace(
            message=(
                f"the gradient of `{f.layer}.{f.param}` is wrong (relative error {f.measured:.3g}): `{f.layer}.loss` adds a penalty "
                f"scaled by `{flipped.setting}` (line {flipped.line}), and line {flipped.at} (`{flipped.statement}`) subtracts its "
                f"gradient from the weight's: add it (`+ {flipped.setting.rpartition('.')[2]} * W`), the derivative of the penalty the loss adds"
            ),
            pattern="penalty-sign-flipped",
            line=flipped.at,
            highlight=tuple(sorted({flipped.line, flipped.at})),
            fix=None,
        )


def _function_penalty_left_out(context: Any) -> None:
    """A loss function's wrong weight gradient when its penalty setting (`reg`) is read only by the
    squared-weight term of its loss (cs231n's `softmax_loss_vectorized` without `dW += reg * W`)."""
    for i, f, measured in _bare(context, left_out=True):
        found = penalty_only_in_loss(context.source.tree, f.line)
        if found is None:
            continue
        setting, line, statement = found
        context.findings[i] = _named(
            f, measured,
            f"`{statement}` (line {line}) adds a penalty to the loss, and `{setting}` is read nowhere else, so no gradient "
            f"has its term: add the penalty's gradient (`{setting} * W` for `0.5 * {setting} * ΣW²`, `2 * {setting} * W` without the half)",
            "penalty-left-out", f.line, line,
        )  # fmt: skip


def _store_without_penalty(context: Any) -> None:
    """A weight's gradient measured as the loss's slope less a multiple of the weight (`outcomes`: an L2 penalty left
    out) whose store adds no penalty term (`grads['W2'] = dW2`) where the function's other stores add one
    (`grads['W3'] = dW3 + reg * W3`): that store is the line to change, not where `dW2` was computed, and the term
    to add is the one the others write (`static.penalty_strength.store_without_term`)."""
    for i, f, measured in _bare(context, left_out=True):
        if not _SLOPE_LESS.match(f.message) or not f.param:
            continue
        found = store_without_term(context.source.tree, f.line, f.param)
        if found is None:
            continue
        others = found.others
        lines = joined([str(n) for n in sorted({t.line for t in others})])
        names = " and ".join(dict.fromkeys(f"`{t.parameter}`" for t in others))
        context.findings[i] = _named(
            f, measured,
            f"`{found.statement}` (line {found.line}) stores it without the penalty's term `{found.term}`, which line{'s' if len(others) > 1 else ''} "
            f"{lines} add{'' if len(others) > 1 else 's'} for {names}, while the loss penalises `{f.param}` too (line {found.penalty}): "
            f"write `{found.fix}`",
            "penalty-left-out", found.line, *(t.line for t in others), found.penalty, drop_fix=False,
        ).replace(fix=found.fix)  # fmt: skip


def _hinge_correct_class(context: Any) -> None:
    """A hinge loss's wrong weight gradient whose loop adds `X[i]` to each violating class's column and
    never subtracts it from the correct class's (cs231n's `svm_loss_naive`)."""
    for i, f, measured in _bare(context):
        found = correct_class_term_left_out(context.source.tree, f.line)
        if found is None:
            continue
        line, statement, term = found
        context.findings[i] = _named(
            f, measured,
            f"each positive margin raises the loss with the other class's score and lowers it with the correct class's, but "
            f"only `{statement}` (line {line}) is written: add `{term}` beside it",
            "correct-class-term-left-out", line, f.line,
        )  # fmt: skip


def _bias_summed(tree: ast.Module | None, finding: Finding) -> Finding | None:
    """A bias gradient that is exactly 1/k of the numerical one, for a forward that adds the bias to
    each of the k terms of a sum (`s = a_slice * W + b`, `np.sum(s)`): the backward's sum of the
    upstream gradient is the usual one, and it is the forward that counts the bias k times."""
    if finding.pattern != "scaled" or not finding.param or finding.param.lower().lstrip("d") not in ("b", "bias", "biases"):
        return None
    found = bias_inside_sum(tree, finding.param)
    factor = re.search(r"it is ([0-9.e-]+) × the numerical", finding.message)
    if found is None or factor is None or not 0 < float(factor.group(1)) < 1:
        return None
    times = round(1 / float(factor.group(1)))
    return finding.replace(
        line=found.line,
        highlight=tuple(sorted({found.line, *([finding.line] if finding.line else [])})),
        pattern="bias-inside-sum",
        fix=found.fix,
        message=(
            f"`{finding.layer}`'s forward adds `{finding.param}` to every term of a sum (line {found.line}, `{found.text}`), so each output "
            f"counts `{finding.param}` {times} times while the backward's gradient of `{finding.param}` counts it once: add it "
            f"once, after the sum (`{found.fix}`)"
        ),
    )


def _output_functions_differ(context: Any) -> None:
    """A network with no layers whose loss reads `predict`, which ends in one output function, while
    its gradient method starts from another (`y = softmax(...)`, `dy = y - t`): every gradient of the
    network is off for that one reason. One finding, at the gradient method's output."""
    source = context.source
    here = os.path.abspath(source.path)
    layers = {f.layer for f in context.findings if f.name == NAME and f.severity == "error" and f.layer and (not f.file or os.path.abspath(f.file) == here)}
    for layer in sorted(layers):
        found = output_disagreement(source.tree, layer)
        members = [f for f in context.findings if f.name == NAME and f.severity == "error" and f.layer == layer and f.pattern != "right-in-training"]
        if found is None or not members:
            continue
        params = ", ".join(f"`{f.param}`" for f in members)
        merged = members[0].replace(
            line=found.gradient_line,
            highlight=tuple(sorted({found.forward_line, found.gradient_line, found.difference_line})),
            pattern="output-function-differs",
            fix=None,
            param=None,  # every parameter of the network: the output function is one choice
            message=(
                f"`{layer}.{found.gradient}` computes its gradients for a {found.gradient_output} output (line {found.gradient_line}, "
                f"the output's gradient at line {found.difference_line}), but the loss reads `{layer}.{found.forward}`, which ends in a "
                f"{found.forward_output} (line {found.forward_line}), so every gradient ({params}) is off: make both end in the same "
                "output function"
            ),
        )
        _merge(context, members, merged)


def _numerical_networks(context: Any) -> set[str]:
    """Names of the networks whose only gradient is `numerical_gradient` (the book's chapter 4)."""
    return {cls.__name__ for cls in getattr(context.extras.get("discovered"), "numerical", [])}


def _finite_differences_that_never_move(context: Any) -> None:
    """A network trained by `numerical_gradient` whose gradients are all zeros has no backward to
    fix: its finite differences never moved what the loss reads (a helper that moves a copy,
    `f(x + h)`, under a loss written `lambda W: self.loss(x, t)` that ignores its argument)."""
    numerical = _numerical_networks(context)
    for i, f in enumerate(context.findings):
        if f.name == NAME and f.severity == "error" and f.layer in numerical and f.pattern == "not-computed" and f.param:
            context.findings[i] = f.replace(
                fix=None,
                message=(
                    f"the gradient `{f.layer}.numerical_gradient` gives `{f.param}` is all zeros although the loss depends on "
                    "it: the loss never changed while the finite differences moved the weights, so they moved something the "
                    "loss does not read: move the array itself in place (`x[i] = tmp + h`, then put `tmp` back), not a copy "
                    "(`f(x + h)`), when the loss ignores its argument (`lambda W: self.loss(x, t)`)"
                ),
            )


def _networks_follow_layers(context: Any) -> None:
    """A network's gradient is assembled from its layers' backward passes: when one of its layers'
    own checks fails too, the network's mismatches are that layer's symptoms (the one nearest the
    loss, whose error reaches every layer before it), whatever the names sort like."""
    from backprop_doctor.checks.batch_coupling import held_layers
    from backprop_doctor.conventions.networks import Network

    networks = [(built, True) for built in getattr(context, "networks", ()) or ()]
    # a container checked as one layer (`Sequential(Linear(...), Swish(), ...)` with forward and backward of its own)
    containers = [(built, False) for built in getattr(context, "layers", ()) or () if held_layers(getattr(built, "obj", None))]
    for built, network in [*networks, *containers]:
        name = type(built.obj).__name__
        try:
            layers = Network(built.obj).layers() if network else [(type(layer).__name__, layer) for layer in held_layers(built.obj)]
        except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
            continue
        order = [n for key, layer in reversed(layers) for n in (key, type(layer).__name__) if n != name]
        own = {f.key() for f in context.findings if f.layer == name}  # the network check linked its layers to these
        wrong: dict[str, Finding] = {}
        for f in context.findings:
            if f.name == NAME and f.severity == "error" and f.layer in order and (not f.caused_by or f.caused_by in own):
                wrong.setdefault(f.layer, f)
        cause = next((wrong[n] for n in order if n in wrong), None)
        if cause is None:
            continue
        relinked = []
        for f in context.findings:
            if f is cause:
                f = f.replace(caused_by=None)
            elif f.name == NAME and f.severity == "error" and (f.layer == name and not f.caused_by or f.caused_by in own):
                f = f.replace(caused_by=cause.replace(caused_by=None).key())
            relinked.append(f)
        context.findings[:] = relinked


def _wrong_branch(context: Any) -> None:
    """A backward whose input gradient adds two branches (`return da @ W.T + dg @ V.T`), each branch's
    adjoint bound once before it (`static.branches`), whose parameter gradients are wrong on one branch only
    (`dV`, `dc` from `dg`, while `dW`, `db` from `da` are right, in the layer's own check or in its network's):
    the root finding points at that branch's adjoint, which they share and the right ones do not. A layer
    whose parameters are all wrong (its upstream gradient is) says nothing; two layers of one class that
    disagree neither."""
    verdicts = _layer_verdicts(context)
    groups: dict[tuple[str, str], list[Finding]] = {}
    for (_, file), members in _layer_groups(context).items():
        for f in members:
            function = enclosing(file, f.line)
            if function is not None:
                groups.setdefault((file, function.qualname), []).append(f)
    for (file, qualname), members in groups.items():
        tree = source_tree(file)[1]
        node = find_function(tree, qualname) if tree is not None else None
        if node is None:
            continue
        branches = next((b for b in (split(node, line) for line in sorted({f.line for f in members if f.param == "x"})) if b), None)
        if branches is None:
            continue
        labels = list(dict.fromkeys(f.layer for f in members))
        found = [(label, one) for label in labels if (one := _wrong_one(branches, verdicts.get(label, {}))) is not None]
        if len({one[0] for _, one in found}) != 1:
            continue  # no layer of the class tells, or two tell apart
        root = next((f for f in members if not f.caused_by), None)
        if root is None or root.pattern:
            continue  # a named pattern (a factor, some columns) says more than a branch
        label, (wrong, wrong_params, right_params) = next(((lb, one) for lb, one in found if lb == root.layer), found[0])
        branch = next(b for b in branches if b.line == wrong)
        if root.line == branch.line:
            continue
        seen = "the" if label == root.layer else f"in `{label}`, a layer of the same class, the"
        others = ", ".join(f"`{b.name}`" for b in branches if b is not branch)
        wrongs, rights = ", ".join(f"`{p}`" for p in wrong_params), ", ".join(f"`{p}`" for p in right_params)
        shown = {f.line for f in members} | {s.line for s in branch.stores}
        _repointed(
            context,
            root,
            param=None,
            line=branch.line,
            highlight=tuple(sorted({branch.line, *shown})),
            pattern="wrong-branch",
            fix=None,
            message=(
                f"the input gradient of `{root.layer}` adds the branches {others} and `{branch.name}`; {seen} gradients computed "
                f"from `{branch.name}` alone ({wrongs}) are wrong while those computed from {others} ({rights}) are right, so the "
                f"mistake is most likely in `{branch.text}` (line {branch.line}): re-derive `{branch.name}` (when forward "
                "multiplies the branches, each one's adjoint holds the other branch's value)"
            ),
        )


def _miscounted(context: Any) -> None:
    """A wrong gradient whose statement reads a count bound before it (`m = N`) that counts other axes than
    its forward pass averages over (`x.mean(axis=(0, 2, 3))`: N * H * W values; `static.counts`): the finding
    points at the count's statement, the one to change."""
    from backprop_doctor.static.counts import forward_twin, miscounted

    for i, f in enumerate(context.findings):
        if f.name != NAME or f.severity != "error" or not f.file or not f.line or f.pattern in ("not-computed", "unused-in-forward"):
            continue
        file = os.path.abspath(f.file)
        function = enclosing(file, f.line)
        tree = source_tree(file)[1] if function is not None else None
        backward = find_function(tree, function.qualname) if tree is not None and function is not None else None
        forward = forward_twin(tree, backward) if backward is not None and tree is not None else None
        found = miscounted(backward, forward, f.line) if forward is not None and backward is not None else None
        if found is None:
            continue
        context.findings[i] = f.replace(
            line=found.line,
            highlight=tuple(sorted({found.line, f.line, *(f.highlight or ())})),
            pattern="miscounted",
            fix=found.fix,
            message=f"{f.message.replace(': ' + REDERIVE, '').rstrip('.')}: {count_words(found, f.line)}",
        )


def count_words(found: Any, used: int, *, fix: bool = True) -> str:
    """What a `static.counts.Miscount` says: the count, where it is used, and (with `fix`) the count the forward takes."""
    written = f" (`{found.fix}`)" if found.fix and fix else ""
    return (
        f"line {used} uses `{found.name}`, defined as `{found.text}` (line {found.line}), which counts the values along "
        f"{_axes_words(found.axes)}, while `{found.forward}` reduces over {_axes_words(found.forward_axes)}: make `{found.name}` "
        f"the number of values the forward pass reduces over{written}"
    )


def _axes_words(axes: tuple[int, ...]) -> str:
    """`axis 0`, `axes 0, 2 and 3`."""
    if len(axes) == 1:
        return f"axis {axes[0]}"
    return f"axes {', '.join(str(a) for a in axes[:-1])} and {axes[-1]}"


def _wrong_one(branches: list[Any], verdicts: dict[str, str]) -> tuple[int, tuple[str, ...], tuple[str, ...]] | None:
    """(the line of the one branch whose parameters' gradients are all wrong, those parameters, the right ones)
    when every other branch's are all right; each parameter read off the one store that writes it."""
    stores = [(b.line, s) for b in branches for s in b.stores]
    per: dict[int, dict[str, bool]] = {b.line: {} for b in branches}
    written = []  # (the store's line, its branch, the parameter, wrong)
    for param, verdict in verdicts.items():
        if param == "x" or not (verdict == "mismatch" or verdict.startswith("ok")):
            continue
        writers = [(s.line, line) for line, s in stores if s.writes(param)]
        if len(writers) == 1:
            written.append((*writers[0], param, verdict == "mismatch"))
    for _, line, param, wrong_one in sorted(written):
        per[line][param] = wrong_one
    if any(not found for found in per.values()):
        return None
    wrong = [line for line, found in per.items() if all(found.values())]
    right = [line for line, found in per.items() if not any(found.values())]
    if len(wrong) != 1 or len(right) != len(per) - 1:
        return None
    return wrong[0], tuple(per[wrong[0]]), tuple(p for line in right for p in per[line])


def _layer_verdicts(context: Any) -> dict[str, dict[str, str]]:
    """{layer label: {array: verdict}}: the layer's own rows, with the rows of its network's check for the
    arrays the layer keeps by key (`self.params = {name + ".W": ...}` gathered into the network's `params`)."""
    from backprop_doctor.api import layer_labels
    from backprop_doctor.conventions.networks import Network

    verdicts: dict[str, dict[str, str]] = {}
    for m in context.measurements:
        verdicts.setdefault(m.layer, {}).setdefault(m.param, m.verdict)
    for built in getattr(context, "networks", ()) or ():
        rows = verdicts.get(type(built.obj).__name__, {})
        if not rows:
            continue
        try:
            layers = Network(built.obj).layers()
            labels = layer_labels(layers)
        except Exception:  # noqa: BLE001 - a network whose layers cannot be listed
            continue
        for label, (_, layer) in zip(labels, layers):
            keys = {k for v in (vars(layer).values() if hasattr(layer, "__dict__") else ()) if isinstance(v, dict) for k in v if isinstance(k, str)}
            for param in keys & set(rows):
                verdicts.setdefault(label, {}).setdefault(param, rows[param])
    return verdicts


def _shared_upstream(context: Any) -> None:
    """All of one backward's gradients wrong, every one computed from one statement that reads the
    upstream gradient (`da = dnext_h * (1 - next_h)`): the root finding points there. The gradient
    lines themselves are only where the mistake shows."""
    if any(f.severity == "error" and f.code.startswith("BPD3") for f in context.findings):
        return  # a softmax or a batch coupling makes every gradient wrong: they are its symptoms
    # a network trained by finite differences alone has its own account (`_finite_differences_that_never_move`)
    numerical = _numerical_networks(context)
    for (layer, file), members in _layer_groups(context, leave_out=numerical).items():
        lines = sorted({f.line for f in members})
        inner = {enclosing(file, line) for line in lines}
        if len(lines) < 3 or len(inner) != 1 or None in inner:
            continue
        (function,) = inner
        tree = source_tree(file)[1]
        node = find_function(tree, function.qualname) if tree is not None else None
        # every one negated, or every one all zeros: one statement they share does it
        same = next((p for p in ("sign-flipped", "not-computed") if all(f.pattern == p for f in members)), None)
        flipped = same is not None
        # a whole network's backward (`backward_propagation(X, Y, cache)`) has no upstream gradient to read
        upstream = not flipped and node is not None and _takes_upstream(node)
        shared = shared_source(node, lines, reads_upstream=upstream, module=tree) if node is not None else None
        if shared is None or shared.lineno in lines or any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) for n in ast.walk(shared)):
            continue  # a call of the user's own function (`rnn_step_backward(...)`) has findings of its own
        root = next((f for f in members if not f.caused_by), members[0])
        if (root.pattern and not flipped) or root.caused_by:
            continue  # a named pattern (a factor, some columns) says more than a shared line
        text = ast.unparse(shared)
        # a class layer checked on a batch and on one sample has each gradient's finding twice: name it once
        names = list(dict.fromkeys(f.param for f in members if f.param))
        params, count = ", ".join(f"`{p}`" for p in names), len(dict.fromkeys(f.key() for f in members))
        _repointed(
            context,
            root,
            param=None,  # the layer's, not one array's: the verdict names the layer alone
            line=shared.lineno,
            highlight=tuple(sorted({shared.lineno, *lines})),
            pattern=same or "shared-upstream",
            fix=None,
            message=(
                f"all {count} gradients of `{layer}` ({params}) have their sign flipped, and each is computed from "
                f"`{text}` (line {shared.lineno}): negate it there, once, rather than each gradient"
                if same == "sign-flipped"
                else f"{count} gradients of `{layer}` ({params}) are all zeros although the loss depends on them, and "
                f"each is computed from `{text}` (line {shared.lineno}): that line zeroes them (for an activation, check "
                "which side of the kink its mask keeps)"
                if same == "not-computed"
                else f"{count} gradients of `{layer}` are wrong ({params}), and each is computed from "
                f"`{text}` (line {shared.lineno}): the mistake is most likely in that line, which all of them share "
                "(for an activation, the derivative of the function forward applied)"
            ),
        )


def _columns_subtracted(context: Any) -> None:
    """Gradients of one function wrong, every one computed from a softmax gradient whose one-hot subtraction
    is written over whole columns (`dscores[:, y] -= 1`, `static.one_hot_scatter.column_subtracted`): each
    row loses 1 at the label of every sample of the batch. The root finding points at that statement, with
    the row-by-row fix; the gradient lines are only where the mistake shows."""
    if any(f.severity == "error" and f.code.startswith("BPD3") for f in context.findings):
        return
    for (layer, file), members in _layer_groups(context).items():
        lines = sorted({f.line for f in members})
        inner = {enclosing(file, line) for line in lines}
        if len(inner) != 1 or None in inner:
            continue
        (function,) = inner
        tree = source_tree(file)[1]
        node = find_function(tree, function.qualname) if tree is not None else None
        found = column_subtracted(node)
        if node is None or found is None or found.line >= lines[0] or not all(fed_by(node, found.line, found.array, line) for line in lines):
            continue
        root = next((f for f in members if not f.caused_by), members[0])
        names = ", ".join(f"`{p}`" for p in dict.fromkeys(f.param for f in members if f.param))
        measured = re.match(r".*? is wrong \(relative error [^)]*\)", root.message)
        opening = measured[0] if measured and len(members) == 1 else f"the gradients of `{layer}` ({names}) are wrong"
        moved = _repointed(
            context,
            root,
            line=found.line,
            highlight=tuple(sorted({found.line, *lines})),
            pattern="one-hot-columns",
            fix=None,
            param=root.param if len(members) == 1 else None,  # the function's, not one array's, when several follow from it
            message=(
                f"{opening}, and each is computed from `{found.array}` after `{found.text}` (line {found.line}), which subtracts 1 "
                f"from whole columns: every row loses 1 at the label of every sample of the batch, where the cross-entropy's "
                f"gradient subtracts 1 once per row, at that row's own label; write `{found.fix}`"
            ),
        )
        others = {id(f) for f in members if f is not root}  # the other gradients follow from it: they never rank before it
        context.findings[:] = [f.replace(caused_by=moved.key()) if id(f) in others and not f.caused_by else f for f in context.findings]


def _crossed_entries(context: Any) -> None:
    """A parameter's gradient wrong where the function returning the gradients stores another parameter's under
    its key (`{'W1': gW1, 'b1': gb2, ...}`, `static.writes.crossed_entry`): the finding points at that entry."""
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.severity != "error" or not f.line or not f.param or f.pattern or f.caused_by:
            continue
        tree = source_tree(os.path.abspath(f.file))[1] if f.file else context.source.tree
        computed = (computed_at(tree, f.line, f.param) or f.line) if tree is not None else f.line  # past `return {...}` to `gb2`'s line
        crossed = crossed_entry(tree, computed, f.param) if tree is not None else None
        if crossed is None:
            continue
        at, stored_key, name, meant, fixed = crossed
        measured = re.match(r".*? is wrong \(relative error [^)]*\)", f.message)
        context.findings[i] = f.replace(
            line=at,
            highlight=tuple(sorted({at, computed})),
            pattern="crossed-gradient",
            fix=None,
            message=(
                f"{measured[0] if measured else f'the gradient of `{f.param}` is wrong'}: line {at} stores `{name}` (computed at line {computed}) "
                f"under `{stored_key!r}`, but `{name}` is another parameter's gradient, stored under its own key too, and `{meant}`, "
                f"computed for this one, is never used; write `{fixed}`"
            ),
        )


def _reversed_differences(context: Any) -> None:
    """A gradient whose sign is flipped, computed from a difference the backward recomputes with its operands
    reversed against the forward's (`diff = x1.data - x0.data` beside forward's `diff = x0 - x1`,
    `static.reversed_difference`): the finding points at that difference, not at the gradient that only uses it."""
    for i, f in enumerate(context.findings):
        if f.name != NAME or f.severity != "error" or not f.line or f.pattern != "sign-flipped" or f.caused_by:
            continue
        tree = source_tree(os.path.abspath(f.file))[1] if f.file else context.source.tree
        found = reversed_difference(tree, f.line) if tree is not None else None
        if found is None:
            continue
        at, forward = found.statement.lineno, found.forward.lineno
        measured = re.match(r".*?, its sign is flipped \(analytic = −numerical\)", f.message)
        old_key = f.key()
        context.findings[i] = moved = f.replace(
            line=at,
            end_line=at,
            highlight=tuple(sorted({at, forward, f.line})),
            fix=found.fixed,
            message=(
                f"{measured[0] if measured else f'the gradient of `{f.param}` has its sign flipped'}: line {at} computes "
                f"`{ast.unparse(found.statement)}`, the difference forward computes at line {forward} (`{ast.unparse(found.forward)}`) with "
                f"its operands reversed, and line {f.line} computes the gradient from it; write `{found.fixed}`"
            ),
        )
        context.findings[:] = [g.replace(caused_by=moved.key()) if g.caused_by == old_key else g for g in context.findings]


_SCALED = re.compile(r"it is (-?[0-9.]+(?:e[-+]?[0-9]+)?) × the numerical gradient")


def _wrong_only_sources(context: Any) -> None:
    """Some of one backward's gradients wrong and the others right, the wrong ones all computed from a
    statement no right one reads (`dz = dh * 0.5 * (h > 0)` feeds `W1` and `b1`, not `W2`): the root
    finding points there (`static.wrong_only`), not at the gradient lines where the mistake only shows.
    Only for findings no other account has named (no pattern, or a shared constant factor)."""
    verdicts = _layer_verdicts(context)
    for (layer, file), members in _layer_groups(context).items():
        if any(f.caused_by or f.pattern not in (None, "scaled") for f in members):
            continue
        lines = sorted({f.line for f in members})
        inner = {enclosing(file, line) for line in lines}
        if len(lines) < 2 or len(inner) != 1 or None in inner:
            continue
        (function,) = inner
        tree = source_tree(file)[1]
        node = find_function(tree, function.qualname) if tree is not None else None
        if node is None:
            continue
        wrong = {f.param for f in members}
        right_params = [p for p, v in verdicts.get(layer, {}).items() if v.startswith("ok") and p not in wrong and p != "x"]
        right = []
        for param in right_params:
            stored = gradient_statements(node, param)
            if len(stored) == 1:
                right.append(stored[0].lineno)
        factors = {m.group(1) for f in members for m in [_SCALED.search(f.message)] if m}
        scaled = all(f.pattern == "scaled" for f in members) and len(factors) == 1
        found = wrong_only(node, lines, right, float(next(iter(factors))) if scaled else None, tree)
        if found is None:
            continue
        named = found.named
        text = ast.unparse(named)
        wrong_names = ", ".join(f"`{p}`" for p in dict.fromkeys(f.param for f in members if f.param))
        right_names = ", ".join(f"`{p}`" for p in right_params)
        others = [s for s in found.chain if s is not named]
        if scaled and found.literal:
            factor = next(iter(factors))
            cause = f"they are each {factor} × the numerical gradient, and that factor is in this line: remove it"
        elif others:
            shown = ", ".join(f"line {s.lineno}" for s in others)
            cause = f"the mistake is most likely in that line, or in what it is computed from that no right gradient reads ({shown})"
        else:
            cause = "the mistake is most likely in that line (for an activation, the derivative of the function forward applied)"
        root = next((f for f in members if not f.caused_by), members[0])
        moved = _repointed(
            context,
            root,
            line=named.lineno,
            highlight=tuple(sorted({named.lineno, *(s.lineno for s in found.chain), *lines})),
            pattern="wrong-only-source",
            fix=None,
            message=(
                f"the gradients of `{layer}` ({wrong_names}) are wrong while those of {right_names} are right, and only the wrong ones "
                f"are computed from `{text}` (line {named.lineno}): {cause}"
            ),
        )
        # the group's other wrong gradients (`Wk` beside `Wq`, each only measured at its own store, a factor 2 where
        # the scores' scale is left out) are named by that finding too: they follow from it, never rank before it
        others = {id(f) for f in members if f is not root}
        context.findings[:] = [f.replace(caused_by=moved.key()) if id(f) in others and not f.caused_by else f for f in context.findings]


def _layer_groups(context: Any, leave_out: Any = frozenset()) -> dict[tuple[str, str], list[Finding]]:
    """The gradient-mismatch errors that point at a line, by (layer, file), but those of the layers `leave_out`."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in context.findings:
        if f.name == NAME and f.severity == "error" and f.file and f.line and f.layer and f.layer not in leave_out:
            groups.setdefault((f.layer, os.path.abspath(f.file)), []).append(f)
    return groups


def _repointed(context: Any, root: Finding, **changes: Any) -> Finding:
    """`root` with `changes` in its place in `context.findings`, the findings it explained explained by it still."""
    index = next(i for i, f in enumerate(context.findings) if f is root)
    old_key = root.key()
    context.findings[index] = moved = root.replace(**changes)
    context.findings[:] = [f.replace(caused_by=moved.key()) if f.caused_by == old_key else f for f in context.findings]
    return moved


def _branch_slopes(context: Any) -> None:
    """Two or more of one backward's gradients wrong, the backward choosing its activation's derivative by
    name, and the branch of one name written with another's derivative (`static.branch_slopes`): the
    root finding points at that branch, with the derivative it names."""
    from backprop_doctor.static.branch_slopes import misnamed_slope

    for (layer, file), members in _layer_groups(context).items():
        inner = {enclosing(file, f.line) for f in members}
        if len({f.param for f in members}) < 2 or len(inner) != 1 or None in inner:
            continue
        (function,) = inner
        tree = source_tree(file)[1]
        node = find_function(tree, function.qualname) if tree is not None else None
        found = misnamed_slope(node) if node is not None else None
        if found is None or any(f.line == found.line for f in members):
            continue
        root = next((f for f in members if not f.caused_by), members[0])
        names = ", ".join(f"`{p}`" for p in dict.fromkeys(f.param for f in members if f.param))
        _repointed(
            context,
            root,
            param=None,
            line=found.line,
            highlight=tuple(sorted({found.line, *(f.line for f in members)})),
            pattern="branch-derivative",
            fix=found.statement.replace(found.written, found.fix, 1),
            message=(
                f"the gradients of `{layer}` ({names}) are wrong, and each is computed from line {found.line}, the "
                f"{found.activation} branch of its backward, which multiplies by `{found.written}`: that is not the derivative of "
                f"{found.activation}; write `{found.fix}`"
            ),
        )


def _mask_axes(context: Any) -> None:
    """A layer's gradients wrong, its backward finding a max's winners again over another axis than its
    forward's max (`static.mask_axes`): the root finding points at that comparison, with the forward's axis."""
    from backprop_doctor.static.mask_axes import mask_axis_mismatch

    for f in context.findings:
        if f.name != NAME or f.severity != "error" or not f.file or not f.line or not f.layer or f.caused_by:
            continue
        file = os.path.abspath(f.file)
        inner = enclosing(file, f.line)
        tree = source_tree(file)[1]
        if inner is None or tree is None:
            continue
        backward = find_function(tree, inner.qualname)
        owner, _, name = inner.qualname.rpartition(".")
        forward_name = name.replace("backward", "forward") if "backward" in name else None
        forward = find_function(tree, f"{owner}.{forward_name}" if owner else forward_name) if forward_name else None
        found = mask_axis_mismatch(forward, backward) if forward is not None and backward is not None else None
        if found is None or found.line == f.line:
            continue
        fixed = found.statement.replace(f"axis={found.written}", f"axis={found.forward}", 1)
        _repointed(
            context,
            f,
            line=found.line,
            highlight=tuple(sorted({found.line, f.line})),
            pattern="mask-axis",
            fix=fixed if fixed != found.statement else None,
            message=(
                f"the gradients of `{f.layer}` are wrong because line {found.line} finds the max's winners of `{found.array}` "
                f"over axis {found.written}, while the forward takes the max over axis {found.forward}: the mask routes the "
                f"gradient to other entries; take it over axis {found.forward}"
            ),
        )
        return


def _takes_upstream(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a backward's first argument (after `self`) is an upstream gradient (`dout`, `dA`, `delta`),
    not the data a whole network's backward starts from (`X`, `cache`)."""
    params = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
    if not params:
        return False
    first = params[0].lower()
    return first in UPSTREAM_NAMES or first.startswith(("d", "grad"))


def _merge(context: Any, members: list[Finding], merged: Finding) -> None:
    """Put `merged` where the first of `members` stood in `context.findings` and drop the others."""
    dropped = {id(f) for f in members[1:]}
    context.findings[:] = [merged if f is members[0] else f for f in context.findings if id(f) not in dropped]


def _yielded(members: list[Finding], right: dict[tuple[str, str], str], here: str) -> Finding:
    first = members[0]
    layer = first.layer
    tree = source_tree(os.path.abspath(first.file) if first.file else here)[1]
    # two instances of one class (`Dense(4, 16)`, `Dense(16, 1)`) have one finding each per array: named once
    params = ", ".join(dict.fromkeys(f"`{f.param}`" for f in members))
    updates = ", ".join(dict.fromkeys(f"`{right[(layer, f.param)]}`" for f in members))
    plural = len(dict.fromkeys(f.param for f in members)) > 1
    gradients = f"the gradient{'s' if plural else ''} of `{layer}`'s {params}"
    if tree is not None and find_function(tree, f"{layer}.forward") is not None:
        message = (
            f"{gradients} {'are' if plural else 'is'} not the derivative of `{layer}.forward`'s output as a layer's would be, yet "
            f"your training step's update{'s' if plural else ''} of {updates} follow{'' if plural else 's'} the gradient of your "
            "loss: your loop hands backward another gradient than that of forward's output (the logits' gradient ŷ − y, as a "
            "softmax or sigmoid with its cross-entropy gives it), which is right as written"
        )
    else:
        message = (
            f"{gradients} disagree{'' if plural else 's'} with `{layer}`'s loss on the network backprop-doctor checked, yet at "
            f"your program's own training step the update{'s' if plural else ''} of {updates} follow{'' if plural else 's'} the "
            "gradient of your loss, so they are judged right as your program runs them (the two differ where that network's "
            "outputs saturate, or where it was built otherwise)"
        )
    lines = tuple(sorted({f.line for f in members if f.line}))
    return first.replace(severity="info", pattern="right-in-training", message=message, fix=None, highlight=lines or first.highlight)


def _logits_right_in_training(context: Any) -> None:
    """A softmax layer's warning that its backward takes the logits' gradient (`takes-logits-gradient`) becomes
    the training step's info where the replay found that layer's parameters' updates right: the program's own
    loop hands it that gradient, which settles the contract the warning asks about."""
    right = _right_in_training(context)
    here = os.path.abspath(context.source.path)
    for finding in list(context.findings):
        if finding.pattern != "takes-logits-gradient":
            continue
        lines = _flat_lines(finding)
        params = [p for p in lines if p != "x" and (finding.layer, p) in right]
        if not params:
            continue
        members = [finding.replace(param=p, line=lines[p], highlight=(lines[p],)) for p in params]
        _merge(context, [finding], _yielded(members, right, here))


def _mean_left_to_layers(context: Any) -> None:
    """A loss function whose input gradient is exactly N × the gradient of the mean loss it returns (`p -
    onehot`, each sample's own gradient: pattern `scaled-by-batch-size`) becomes an info where the program's
    training step takes its loss from that function, hands its gradient on (`loss, dscores =
    cross_entropy(scores, yb)`, `model.backward(dscores)`), and the replay measured some parameter's update
    right at the mean loss's scale: the layers it feeds take the batch mean of their parameters' gradients
    (`self.dW = self.x.T @ g / len(g)`), a convention (CMU 11-785's losses), not an error. The parameters the
    replay found wrong stay its findings (a bias whose gradient is the sum's beside it). Where no parameter
    is right (the layers do not divide), the finding stays the error it is."""
    from backprop_doctor.static.batch_means import hands_on, mean_lines

    results = context.extras.get("replay") or []
    source = context.source
    here = os.path.abspath(source.path)
    for i, finding in enumerate(context.findings):
        if finding.name != NAME or finding.severity != "error" or finding.pattern != "scaled-by-batch-size":
            continue
        if finding.param not in (None, "x") or not finding.layer or (finding.file and os.path.abspath(finding.file) != here):
            continue
        for result in results:
            left = _left_to_layers(result, finding.layer, hands_on, source.tree)
            if left is None:
                continue
            statement, gradient, handed, right = left
            classes = frozenset(owner[0] for m in right if (owner := result.owners.get(m.name)) is not None)
            means = mean_lines(source.tree, classes, frozenset(m.line for m in right if m.line and not m.file))
            where = f" (line{'s' if len(means) > 1 else ''} {', '.join(map(str, means))})" if means else ""
            names = ", ".join(f"`{m.name}`" for m in right)
            at = f" (line {finding.line})" if finding.line else ""
            context.findings[i] = finding.replace(
                severity="info",
                pattern="mean-left-to-layers",
                fix=None,
                highlight=tuple(sorted({*([finding.line] if finding.line else []), handed, *means})),
                message=(
                    f"`{finding.layer}` returns each sample's own gradient{at}, N × the gradient of the mean loss it returns, and "
                    f"your training step hands it on as `{gradient}` (line {handed}) to layers that take the batch mean "
                    f"of their parameters' gradients{where}: the update{'s' if len(right) > 1 else ''} of {names} follow"
                    f"{'' if len(right) > 1 else 's'} the gradient of your loss, so this is a convention, not an error; code that "
                    f"takes `{finding.layer}`'s gradient as the mean loss's would step N times too far"
                ),
            )
            break


def _left_to_layers(result: Any, function: str, hands_on: Any, tree: Any) -> tuple[Any, str, int, list[Any]] | None:
    """(the loop's statement calling `function`, the gradient it hands on, the line binding it, the parameters
    measured right at the loss's own scale) when the replayed step's loss is what `function` returns (a loss
    function's pair, or a loss layer's forward, its gradient from the layer's backward) and that gradient is
    read later in the step, and no adjoint bound there was measured wrong other than by the batch size the
    later mean takes out (`StepResult.deferred`)."""
    step, loss = result.step, result.loss
    if loss is None or loss.implied or not result.parameters:
        return None
    for k, statement in enumerate(step.prefix):
        bound = hands_on(statement, function, list(step.prefix[k + 1 :]), tree)
        if bound is None or statement.lineno != loss.line or loss.bound != bound[0]:
            continue
        if any(m.wrong and getattr(a, "line", None) in (statement.lineno, bound[2]) for a, m in result.adjoints):
            return None  # its gradient measured wrong, not deferred: the layers do not take the mean it leaves out
        right = [
            m for _, m in result.parameters
            if not (m.wrong or m.unused or m.inconclusive) and m.scale is None and m.factor is not None and abs(m.factor - 1) < 0.05
        ]  # fmt: skip
        return (statement, bound[1], bound[2], right) if right else None
    return None


def _right_in_training(context: Any) -> dict[tuple[str, str], str]:
    """(class, attribute) -> the parameter's name in the training step, for every parameter an object
    of that class holds whose update the training-step replay found right: a layer check of the same
    array that disagrees judged the class by a convention the program does not follow."""
    right: dict[tuple[str, str], str] = {}
    wrong: set[tuple[str, str]] = set()
    for result in context.extras.get("replay") or []:
        for _moved, measured in result.parameters:
            owner = result.owners.get(measured.name)
            if owner is None:
                continue
            at_scale_one = measured.scale is None and (measured.factor is None or abs(measured.factor - 1) < 0.05)
            if measured.wrong or measured.inconclusive or measured.unused or not at_scale_one:
                wrong.add(owner)  # a factor the program's scale absorbs (a summed loss) is not "right" here
            else:
                right[owner] = measured.name
    return {k: v for k, v in right.items() if k not in wrong}


_BACKWARD = ("backward", "backward_pass", "backprop", "backward_propagation", "bprop", "grad", "gradient")


def _softmax_passing_through(tree: ast.Module, layer: str | None) -> tuple[str, int] | None:
    """(method, line) when the class `layer` normalises exponentials in its forward (a softmax) and
    its backward returns one of its arguments unchanged: the pairing with a cross-entropy that
    hands it ŷ − y, on purpose."""
    if not layer:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name == layer):
            continue
        methods = {m.name: m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        forward_text = " ".join(ast.unparse(m) for name, m in methods.items() if name not in _BACKWARD)
        if "exp" not in forward_text or "sum" not in forward_text:
            return None
        for name in _BACKWARD:
            method = methods.get(name)
            body = [st for st in method.body if not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant))] if method else []
            arguments = {a.arg for a in method.args.args[1:]} if method else set()
            if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Name) and body[0].value.id in arguments:
                return name, body[0].lineno
    return None


def _log_likelihood(tree: ast.Module, finding: Finding) -> tuple[int, str] | None:
    """(line, message) when the loss a mismatched gradient belongs to is a log-likelihood: a loss
    object's `loss` that returns one (`return y * np.log(p) + (1 - y) * np.log(1 - p)`) against a
    gradient that is exactly the opposite, or a loss function (`softmax_loss_vectorized(W, X, y, reg)`)
    whose loss statement's logs enter with a plus sign, against a gradient pointing apart (a penalty
    beside it keeps it from being exactly the opposite)."""
    layer = finding.layer
    if finding.pattern == "sign-flipped" and (line := returned_log_likelihood(tree, f"{layer}.loss")) is not None:
        return line, (
            f"`{layer}.loss` returns a log-likelihood (line {line}), which grows as the fit improves, while its "
            "gradient is that of the negative log-likelihood, the loss training lowers: the two disagree in sign; "
            "return the negative from `loss` (the gradient is the one minimising needs)"
        )
    if finding.pattern == "sign-flipped" or (finding.measured or 0) >= OPPOSITE:
        if (line := log_likelihood_line(tree, layer)) is not None:
            return line, (
                f"`{layer}` computes its loss as a log-likelihood (line {line}, where its log enters with a plus sign), "
                "which grows as the fit improves, while the gradient it returns is that of the negative log-likelihood, the loss "
                "training lowers: put a minus sign in front of the log term"
            )
    return None
