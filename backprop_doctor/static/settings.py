"""Settings the script spells as literals: learning rates, batch sizes, epochs...

`hyperparameters` reads module-level assignments by kind; `script_numbers` and
`update_line` are what the training probe runs with (the script's own rate and
batch size, and the update statement a finding points at).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from backprop_doctor.static.calls import _scan
from backprop_doctor.static.literals import _Opaque
from backprop_doctor.static.text import _show, _source
from backprop_doctor.static.tree import is_data, walk
from backprop_doctor.static.updates import CJK_RATE, ROMANIZED_RATE, parameter_updates


_HYPERPARAMETERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "weight_decay",
            r"weight_decay\w*|wd|l2|l2_reg\w*|l2_lambda|reg|reg_strength|lambda_?reg\w*|regularization\w*",
        ),
        ("learning_rate_decay", r"(?:lr|learning_rate)_decay\w*|decay_rate|lr_gamma"),
        ("learning_rate", rf"learning_rate\w*|learningrate|lr|lr_\w+|\w+_lr|eta|step_size|(?:{ROMANIZED_RATE})\w*|\w*(?:{CJK_RATE})\w*"),
        ("batch_size", r"batch_size|batchsize|batch|mini_?batch_size|train_batch_size|bs"),
        (
            "iterations",
            r"iters?_num|iters|num_iters|n_iters|iterations|num_iterations|n_iterations|max_iters?"
            r"|max_iterations|steps|num_steps|n_steps|max_steps|train_steps",
        ),
        ("epochs", r"epochs?|num_epochs?|n_epochs?|epoch_num|max_epochs?"),
        ("weight_init_std", r"weight_init_std|init_std|weight_scale|weight_init"),
        ("momentum", r"momentum|beta1|beta2|mu"),
        ("dropout", r"dropout\w*|keep_prob|drop_prob"),
    )
)


@dataclass(frozen=True)
class Literal:
    """A hyper-parameter assigned a literal at module level: `learning_rate = 0.1` (line 148)."""

    name: str  # the variable, as spelled in the file
    value: Any
    line: int
    kind: str  # "learning_rate", "batch_size", "iterations", "epochs", "weight_init_std", "weight_decay", ...
    source: str = ""  # the value as written: "0.1", "1e-2", "2 ** 7"
    rebound: bool = False  # the name is bound more than once at module level


def _hyperparameter_kind(name: str) -> str | None:
    lowered = name.lower()
    for kind, pattern in _HYPERPARAMETERS:
        if pattern.fullmatch(lowered):
            return kind
    return None


def hyperparameters(tree: ast.Module, *, text: str | None = None) -> dict[str, Literal]:
    """Module-level literal assignments to names that look like hyper-parameters, keyed by name.

    Looks at the module body and the blocks in it (`if __name__ == "__main__":`,
    top-level loops, `with`, `try`), not inside functions.  Recognised names
    (case-insensitive): learning_rate, lr, learning_rate_*, lr_*, *_lr; batch_size;
    iters_num, iterations, max_iter, steps; epochs, max_epochs; weight_init_std,
    weight_scale; weight_decay*, reg; lr_decay; momentum, beta1/2; dropout*.  Each
    name keeps its last literal assignment in source order, with `kind` telling
    which of those it is.
    """
    src = _source(text)
    found: dict[str, Literal] = {}
    counts: dict[str, int] = {}

    def on_bind(name: str, value: Any, stmt: ast.stmt, node: ast.AST | None):
        kind = _hyperparameter_kind(name)
        if kind is None:
            return
        counts[name] = counts.get(name, 0) + 1
        if isinstance(value, _Opaque):
            return
        shown = _show(node, src) if node is not None else repr(value)
        found[name] = Literal(name=name, value=value, line=stmt.lineno, kind=kind, source=shown)

    _scan(tree, None, on_bind, module_only=True)
    return {name: replace(lit, rebound=counts[name] > 1) for name, lit in found.items()}


# What the training probe takes from the script: literal numbers by lower-case name, and the update line.


def _number(node: ast.AST | None) -> float | None:
    if node is None or is_data(node):
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _literal_numbers(tree: ast.AST) -> dict[str, tuple[float, int]]:
    """`learning_rate = 0.1`, `batch_size = 100`, `SGD(lr=1.0)`: the first literal of each name, by line."""
    found: dict[str, list[tuple[int, float]]] = {}
    for node in walk(tree):
        pairs: list[tuple[str, ast.AST | None, int]] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    pairs.append((target.id, node.value, node.lineno))
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs += [
                        (t.id, v, node.lineno) for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name)
                    ]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            pairs.append((node.target.id, node.value, node.lineno))
        elif isinstance(node, ast.Call):
            pairs += [(k.arg, k.value, k.value.lineno) for k in node.keywords if k.arg]
        for name, value, line in pairs:
            number = _number(value)
            if number is not None:
                found.setdefault(name.lower(), []).append((line, number))
    settings = {}
    for name, values in found.items():
        line, value = min(values)
        settings[name] = (value, line)
    return settings


def script_numbers(tree: ast.AST | None) -> dict[str, tuple[float, int | None]]:
    """Literal hyper-parameters of the script as (value, line): by kind ("learning_rate", "batch_size")
    from `hyperparameters`, and by lower-case name from every assignment and keyword argument in the
    file, which also reads `SGD(lr=1.0)`."""
    if tree is None:
        return {}
    result: dict[str, tuple[float, int | None]] = {}
    try:
        for fact in hyperparameters(tree).values():  # type: ignore[arg-type]
            value, kind = fact.value, fact.kind
            if kind and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                result.setdefault(str(kind), (float(value), fact.line))
    except Exception:  # puzzled by this tree: the plain walk below still answers
        result = {}
    for name, setting in _literal_numbers(tree).items():
        result.setdefault(name, setting)
    lines, names = _adaptive_rates(tree)
    for name in [n for n, (_, line) in result.items() if _hyperparameter_kind(n) == "learning_rate" and (line in lines or n in names)]:
        del result[name]  # the rate of `Adam(lr=0.001)` is no rate for plain SGD
    return result


ADAPTIVE = re.compile(r"(?i)adam\w*|nadam|rmsprop|rms_prop|adagrad|ada_grad|adadelta|adamax")


def _adaptive_rates(tree: ast.AST) -> tuple[set[int], set[str]]:
    """Where the script gives an adaptive optimizer its rate: the lines of the literals
    (`Adam(lr=0.001)`, `Trainer(..., optimizer='Adam', optimizer_param={'lr': 0.001})`) and the
    lower-case names passed in their place (`Adam(lr=learning_rate)`)."""
    lines: set[int] = set()
    names: set[str] = set()
    for node in walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        named = any(
            isinstance(k.value, ast.Constant) and isinstance(k.value.value, str) and ADAPTIVE.fullmatch(k.value.value)
            for k in node.keywords if k.arg and "optim" in k.arg.lower()
        )  # fmt: skip
        if not (ADAPTIVE.fullmatch(called) or named):
            continue
        given = node.keywords if named else [k for k in node.keywords if k.arg and _hyperparameter_kind(k.arg) == "learning_rate"]
        values = [*([] if named else node.args[:1]), *(k.value for k in given)]
        for value in values:
            pairs = [(k, v) for k, v in zip(value.keys, value.values)] if isinstance(value, ast.Dict) else [(None, value)]
            for key, item in pairs:
                if (key is None and named) or key is not None and not (isinstance(key, ast.Constant) and isinstance(key.value, str) and _hyperparameter_kind(key.value) == "learning_rate"):
                    continue
                if isinstance(item, ast.Name):
                    names.add(item.id.lower())
                elif _number(item) is not None:
                    lines.add(item.lineno)
    return lines, names


def update_line(tree: ast.AST | None, lr_names: Sequence[str]) -> int | None:
    """The line of an in-place update `p[k] -= lr * g[k]` (the first one that names a learning rate)."""
    if tree is None:
        return None
    try:
        updates = list(parameter_updates(tree))
        lines = sorted(int(u.line) for u in updates if isinstance(getattr(u, "line", None), int))
        if lines:
            return lines[0]
    except Exception:
        pass
    lines = []
    for node in walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub):
            names = {n.id.lower() for n in walk(node.value) if isinstance(n, ast.Name)}
            names |= {n.attr.lower() for n in walk(node.value) if isinstance(n, ast.Attribute)}
            if names & set(lr_names):
                lines.append(node.lineno)
    return min(lines) if lines else None
