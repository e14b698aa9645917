"""The wording of the training findings: loss curves, the probe, the cause the comparison runs confirm.

Shared by the training checks (`loss_rises`, `loss_diverges`, `loss_stagnant`,
`learning_rate_too_high`, `dead_relu`, `non_finite`, `cannot_overfit`); the
numbers come from `training`, which knows nothing of sentences. The leading
underscore keeps the rule registry from taking this module for a check.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from backprop_doctor.training import NonFinite, Probe, Run
from backprop_doctor.training.swaps import SWAP_FIXES


def loss_text(value: float) -> str:
    """Two decimals when that reads well (2.30), else three significant digits (1.23e-5, nan)."""
    if not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if 0.01 <= abs(value) < 1e4:
        return f"{value:.2f}"
    return f"{value:.3g}"


def curve_text(run: Run) -> str:
    """`2.30 → 16.1 in 300 steps` (and how the run ended, when it did not finish)."""
    if not run.losses:
        return f"did not run ({run.error})" if run.error else "did not run"
    text = f"{loss_text(run.losses[0])} → {loss_text(run.losses[-1])} in {len(run.losses)} steps"
    if run.non_finite is not None:
        text += f", {describe_non_finite(run.non_finite)}"
    elif run.error:
        text += f", then raised {run.error}"
    elif run.truncated:
        text += " (stopped early: out of time)"
    return text


def describe_non_finite(nf: NonFinite) -> str:
    if nf.what == "loss":
        where = f" (first in the output of `{nf.layer}`)" if nf.layer else ""
        return f"the loss is {loss_text(nf.value if nf.value is not None else math.nan)} at step {nf.step}{where}"
    names = ", ".join(f"`{p}`" for p in nf.params)
    if nf.what == "gradient":
        return f"the gradient of {names} holds NaN or inf at step {nf.step}"
    return f"the update of step {nf.step} made {names} NaN or inf"


def curve_evidence(probe: Probe) -> tuple[tuple[str, str], ...]:
    """(label, text) rows: both curves side by side, or why there is no reference; and what was trained."""
    rows = [("yours", f"{curve_text(probe.yours)} (lr {probe.lr:g}, batch {probe.yours.batch})")]
    if probe.reference is not None and probe.reference.losses:
        rows.append((f"with {probe.reference_label}", curve_text(probe.reference)))
    elif probe.reference_note:
        rows.append(("reference", sentence(probe.reference_note)))
    rows.append(("probe", probe_description(probe)))
    return tuple(rows)


def probe_description(probe: Probe) -> str:
    lr = probe.settings.lr
    batch = probe.settings.batch_size
    lr_from = f"line {lr.line} of your script" if lr.line else "default: no literal learning rate in your script"
    batch_from = f"line {batch.line}" if batch.line else "default"
    if batch.line and int(batch.value) > probe.yours.batch:
        batch_from += f", cut to {probe.yours.batch} for speed"
    return (
        f"{probe.how}; plain SGD `params[k] -= lr * grads[k]` through its gradient(x, t) on {probe.data_label}; "
        f"lr {lr.value:g} ({lr_from}), batch {probe.yours.batch} ({batch_from})"
        + (f"; {probe.note}" if probe.note else "")
    )


def replayed_step(result: Any) -> str:
    """Which pass of the user's loop the replay measured, in words: "your first training step (loop at
    line 12)", or the later pass it was measured again at when the first showed nothing wrong."""
    later = getattr(result, "later_pass", None)
    window = getattr(result, "window", 1)
    if later is None and window > 1:  # an update that reads the sum of several passes' gradients: those passes are the step
        return f"your training step of {window} accumulated passes ({result.step.place})"
    if later is None:
        return f"your first training step ({result.step.place})"
    return f"your training step at pass {later} ({result.step.place}; at the first pass every gradient was right, the weights still small)"


def gradients_right(result: Any) -> str:
    """" although every gradient it computes is right" when the replay compared them, "" when it could not."""
    return " although every gradient it computes is right" if getattr(result, "parameters", None) else ""


def sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text


def location(context: Any, probe: Probe, line: int | None = None) -> dict[str, Any]:
    """`file=` and `line=` for a finding: the given line, else the update statement, else the constructor call."""
    source = getattr(context, "source", None)
    file = getattr(source, "path", None)
    line = line or probe.settings.update_line or probe.line
    if line is None:
        return {"file": file}
    return {"file": file, "line": line, "highlight": (line,)}


def span(run: Run) -> str:
    """`2.30 → 0.01`: the first loss and the last."""
    if not run.losses:
        return "no steps"
    return f"{loss_text(run.losses[0])} → {loss_text(run.losses[-1])}"


def lr_text(probe: Probe) -> str:
    lr = probe.settings.lr
    return f"lr {lr.value:g} (line {lr.line})" if lr.line else f"lr {lr.value:g} (default)"


def cause_clause(probe: Probe) -> str:
    """What the comparison runs say about the cause, as a clause; "" when they say nothing."""
    ref = probe.reference
    if ref is not None and ref.losses:
        if ref.trend == "falls":
            return f"with {probe.reference_label} swapped in it falls {span(ref)}, which confirms the cause: fix that first"
        return f"with {probe.reference_label} swapped in it does not fall either ({span(ref)})"
    smaller = probe.falls_with_smaller_rate
    if smaller is not None:
        return f"at lr {smaller.lr:g} it falls {span(smaller)}: lower the learning rate"
    return ""


def fix_for(probe: Probe) -> str | None:
    """A snippet for the finding's `fix`: the confirmed reference's, else a smaller rate that worked."""
    if probe.reference_falls:
        for swap in probe.swaps:
            if swap.kind in SWAP_FIXES:
                return SWAP_FIXES[swap.kind]
        return None
    smaller = probe.falls_with_smaller_rate
    if smaller is not None:
        return f"learning_rate = {smaller.lr:g}"
    return None


def rate_setting(source: Any, result: Any, name: str, yours: float) -> tuple[int, str]:
    """Where the program sets its learning rate `name` and how to quote it: (line, "`lr = 20` (line 7)").

    For the replay's rate findings (`step_rate_too_high`, `step_rate_too_low`); a rate the file does not
    set with a literal is quoted at the one statement that computes it before the loop (`rate_statement`),
    else with its value at the training loop's line."""
    setting = source.facts.hyperparameters.get(name)
    if setting is not None:
        return setting.line, f"`{name} = {yours:g}` (line {setting.line})"
    entry = _settings_entry(source.tree, name)
    if entry is not None:
        return entry, f"`{name}` ({yours:g}, line {entry})"
    computed = rate_statement(source.tree, result.step, name)
    if computed is not None:
        return computed.lineno, f"`{ast.unparse(computed)}` ({yours:g}, line {computed.lineno})"
    return result.step.loop_line, f"`{name}` ({yours:g})"


def rate_statement(tree: Any, step: Any, name: str) -> ast.Assign | None:
    """The one statement that computes the rate `name` before the training loop, in the function that
    holds the loop (or the module's own statements): `lr = BASE_LR / (BATCH / BASE_BATCH)`. None when
    the name is bound more than once there, or inside the loop."""
    from backprop_doctor.static.definitions import find_function
    from backprop_doctor.static.tree import walk

    if tree is None or not name.isidentifier():
        return None
    scope = find_function(tree, step.function) if step.function else tree
    if scope is None:
        return None
    nested = {id(n) for d in walk(scope) if d is not scope and isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) for n in walk(d)}
    binds = [
        n for n in walk(scope) if id(n) not in nested and isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For))
        and any(isinstance(t, ast.Name) and t.id == name for t in walk(n.target if not isinstance(n, ast.Assign) else ast.Tuple(elts=n.targets)))
    ]  # fmt: skip
    if len(binds) != 1 or not isinstance(binds[0], ast.Assign) or len(binds[0].targets) != 1 or not isinstance(binds[0].targets[0], ast.Name):
        return None
    return binds[0] if binds[0].lineno < step.loop_line else None


_ENTRY = re.compile(r"""(\w+)\[(["'])(\w+)\2\]""")  # a settings dict's entry as `ast.unparse` writes it: `config['lr']`


def _settings_entry(tree: Any, name: str) -> int | None:
    """The line of the entry `"lr": 0.05` in the dict literal `config = {...}` for the rate `config["lr"]`."""
    import ast

    found = _ENTRY.fullmatch(name)
    if tree is None or found is None:
        return None
    owner, key = found.group(1), found.group(3)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(isinstance(t, ast.Name) and t.id == owner for t in node.targets):
            for k, v in zip(node.value.keys, node.value.values):
                if isinstance(k, ast.Constant) and k.value == key:
                    return v.lineno
    return None


def update_rate(result: Any) -> tuple[str, float] | None:
    """The learning rate a replayed step's updates use, by name and value, when they agree on one."""
    rates = {(m.site.rate, m.rate) for m, _ in result.parameters if m.site.rate and m.rate is not None and _settable(m.site.rate)}
    return next(iter(rates)) if len(rates) == 1 else None


def _settable(rate: str) -> bool:
    """A rate a fix can set: a name (`lr`) or a settings dict's entry (`config["lr"]`), not a number or an expression."""
    return rate.isidentifier() or _ENTRY.fullmatch(rate) is not None


def batch_size_of_one(tree: Any) -> int | None:
    """The line of `batch_size = 1` (`bs = 1`, `BATCH = 1`), when the file sets its batch size so."""
    import ast

    if tree is None:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and re.fullmatch(r"(?i)(mini_?)?batch(_?size)?|bs|n_?batch", node.targets[0].id)
            and isinstance(node.value, ast.Constant) and node.value.value == 1
        ):  # fmt: skip
            return node.lineno
    return None


def joined(words: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def first_assignment(tree: ast.Module, names: list[str]) -> int | None:
    """The first line that assigns one of `names` (`W1 = np.zeros(...)`, `self.W1 = ...`, `params['W1'] = ...`);
    for an entry of a dict (`parameters['W1']`) that a function builds from its own names (`W1 = np.zeros(...)`
    ... `return {"W1": W1, ...}`), the line in that function that assigns the name."""
    wanted = set(names) | {n.split(".")[-1] for n in names}
    lines = [*_built_from_names(tree, names)]
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                text = ast.unparse(target)
                if text in wanted or text.removeprefix("self.") in wanted or text.replace('"', "'") in wanted:
                    lines.append(node.lineno)
    return min(lines) if lines else None


def _built_from_names(tree: ast.Module, names: list[str]) -> list[int]:
    """Lines assigning the local names a function puts in a dict literal under the keys of `names`' entries
    (`parameters['W1']`: `W1 = np.zeros((n_h, n_x))` before `return {"W1": W1}`), in that function."""
    keys = {m.group(1) for n in names if (m := re.fullmatch(r"\w+\[['\"](\w+)['\"]\]", n))}
    if not keys:
        return []
    lines = []
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        held = {
            value.id
            for d in ast.walk(function) if isinstance(d, ast.Dict)
            for key, value in zip(d.keys, d.values)
            if isinstance(key, ast.Constant) and key.value in keys and isinstance(value, ast.Name)
        }  # fmt: skip
        for node in ast.walk(function):
            if not (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in held for t in node.targets)):
                continue
            read = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            if not any(isinstance(n, ast.Subscript) for n in ast.walk(node.value)) and not read & held:
                lines.append(node.lineno)  # made here (`np.zeros(...)`), not read from the dict nor stepped (`W1 - lr * dW1`)
    return lines


# the names a step's targets go by: a raw target is another matter (its error, not its features, is large)
_TARGET = re.compile(r"(?i)y\w*|t|ts|targets?\w*|labels?\w*|answers?")


def raw_features(result: Any) -> tuple[str, float, int | None] | None:
    """(name, largest magnitude, the line that binds it) of the data the step reads, not a parameter nor its
    targets, whose features hold values beyond `step_dead_relu.RAW` (a size in square feet, a year):
    features never standardised, which make every step huge whatever the rate."""
    import ast

    import numpy as np

    from backprop_doctor.checks.step_dead_relu import RAW, _bound_line

    values = getattr(getattr(result.runner, "state", None), "values", {}) or {}
    moved = {str(m.path[0][1]) for m, _ in result.parameters if m.path}
    read = dict.fromkeys(n.id for stmt in result.step.prefix for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
    for name in read:
        data = values.get(name)
        if name in moved or _TARGET.fullmatch(name) or not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.ndim != 2 or len(data) < 2:
            continue
        if np.all(np.isfinite(data)) and (largest := float(np.max(np.abs(data)))) > RAW:
            bound = result.step.assigned.get(name) or _bound_line(result, name)
            if bound is None:  # a function's argument (`x` of `train_step(p, x, t, lr)`): the program's array it is cut from
                name, bound = _source_array(result, name, data, largest) or (name, None)
            return name, largest, bound
    return None


def _source_array(result: Any, name: str, data: Any, largest: float) -> tuple[str, int] | None:
    """(name, line) of the program's own array, bound before the training loop, whose columns are those of
    `data` (a batch cut from it and handed to the step's function) and whose largest value is `largest`."""
    import numpy as np

    from backprop_doctor.checks.step_dead_relu import _bound_line

    namespace = result.after_one_pass() or {}
    found = []
    for other, value in namespace.items():
        if (
            other != name and isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim == 2
            and value.shape[1] == data.shape[1] and value.size and float(np.max(np.abs(value))) == largest
            and (line := _bound_line(result, other)) is not None
        ):  # fmt: skip
            found.append((line, other))
    return (max(found)[1], max(found)[0]) if found else None


def raw_words(raw: tuple[str, float, int | None]) -> str:
    """`X` (line 15) holds values up to 7994, never standardised: the words for `raw_features`."""
    name, largest, bound = raw
    return f"`{name}`{f' (line {bound})' if bound else ''} holds values up to {largest:.4g}, on their raw scale, never standardised"


def standardise(name: str, largest: float | None = None) -> str:
    """The advice to standardise the features `name` (to scale them to [0, 1] first, for values that pixels
    could be: a constant pixel's standard deviation is 0)."""
    if largest is not None and largest <= 255:
        return f"scale it to [0, 1] before training (`{name} / 255.0` for pixels), or standardise each feature over the samples"
    return f"standardise each feature over the samples (`({name} - {name}.mean(axis=0)) / {name}.std(axis=0)`) before training"


NEGATIVE_BIAS = -1.0  # a bias whose every entry is below this starts its units off, for inputs of unit scale


def below_zero_bias(value: Any) -> bool:
    """Whether `value` is a bias (a vector, or a row or a column, of more than one entry) whose every entry is
    below `NEGATIVE_BIAS`: the units it is added into never fire (`b = np.full(n, -5.0)`)."""
    import numpy as np

    return (
        isinstance(value, np.ndarray) and value.size > 1 and (value.ndim == 1 or min(value.shape) == 1)
        and float(value.max()) < NEGATIVE_BIAS
    )  # fmt: skip


def defined_step_of(result: Any, source: Any, line: int | None = None) -> Any:
    """The definition of an adaptive step an update of the replayed step adds by one name
    (`static.step_definition`: AdaDelta's `dx = ... np.sqrt(...) / np.sqrt(...) * g`, then
    `params[key] += dx`); with `line`, only when that line makes the step or reads it after (a number
    that leaves the float range there: `Edx2 = rho * Edx2 + (1 - rho) * dx * dx`, the update itself), or
    sets what the definition reads (`Eg2 = rho * Eg2 + (1 - rho) * g * g`, of a gradient the grown steps made huge)."""
    from backprop_doctor.static.step_definition import defined_step

    tree = getattr(source, "tree", None)
    if tree is None:
        return None
    for site in result.step.updates:
        if not site.adaptive or site.update.file is not None:
            continue
        defined = defined_step(tree, site.update.line, site.gradient)
        if defined is not None and (line is None or line == defined.line or line in defined.readers or any(line == n for n, _ in defined.feeding)):
            return defined
    return None


def defined_step_words(defined: Any) -> str:
    """What is wrong with a step that grows although the gradients it is made from are right."""
    if defined.inverted is None:
        return "from gradients that are right, its formula makes each step larger than the last; check the square roots and what they divide there"
    average, averaged = defined.inverted
    return (
        f"from gradients that are right, it multiplies by the square root of `{average}`, the running average of the "
        f"gradient's square (line {averaged}): an adaptive step divides by that root, so this one grows with the gradient "
        f"and with the steps before it; put the root of `{average}` under the division (AdaDelta's step is "
        "-sqrt(E[dx²] + eps) / sqrt(E[g²] + eps) × g)"
    )
