"""Module-level literal hyper-parameters: learning rates, batch sizes, epochs..."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from typing import Any
from backprop_doctor.static.calls import _scan
from backprop_doctor.static.literals import _Opaque
from backprop_doctor.static.text import _show, _source


_HYPERPARAMETERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "weight_decay",
            r"weight_decay\w*|wd|l2|l2_reg\w*|l2_lambda|reg|reg_strength|lambda_?reg\w*|regularization\w*",
        ),
        ("learning_rate_decay", r"(?:lr|learning_rate)_decay\w*|decay_rate|lr_gamma"),
        ("learning_rate", r"learning_rate\w*|learningrate|lr|lr_\w+|\w+_lr|eta|step_size"),
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
