"""The facts of one parsed file, each computed once, on first use.

The loader parses the user's file once (`loading.source.read_source`); its
`SourceFile.facts` is a `SourceFacts` over that tree. The pipeline and every
check ask it instead of walking the tree again, so a fact no check needs is
never computed and one that several need is computed once.
"""

from __future__ import annotations

import ast
from functools import cached_property
from typing import Any

from backprop_doctor.static import calls, dunders, layout, script, settings, softmax, steps, updates


class SourceFacts:
    """Facts read from one parsed module (`tree`), quoting `text` where it is known."""

    def __init__(self, tree: ast.Module | None, text: str | None = None, path: str | None = None):
        self.tree = tree
        self.text = text
        self.path = path

    @cached_property
    def constructor_calls(self) -> dict[str, list[calls.Call]]:
        """`Name(...)` calls with their literal arguments, keyed by name (see `calls.constructor_calls`)."""
        return calls.constructor_calls(self.tree) if self.tree is not None else {}

    @cached_property
    def hyperparameters(self) -> dict[str, settings.Literal]:
        """Module-level literal hyper-parameters, keyed by name."""
        return settings.hyperparameters(self.tree, text=self.text) if self.tree is not None else {}

    @cached_property
    def script_numbers(self) -> dict[str, tuple[float, int | None]]:
        """Literal numbers by lower-case name, as the training probe reads them (value, line)."""
        return settings.script_numbers(self.tree)

    def update_line(self, lr_names: Any) -> int | None:
        """The line of the script's parameter update (the training probe's anchor)."""
        key = tuple(lr_names)
        cache = self.__dict__.setdefault("_update_lines", {})
        if key not in cache:
            cache[key] = settings.update_line(self.tree, key)
        return cache[key]

    @cached_property
    def updates(self) -> list[updates.Update]:
        """Parameter updates, `params[key] -= lr * grads[key]` and its rebinding cousins."""
        return updates.parameter_updates(self.tree, text=self.text) if self.tree is not None else []

    @cached_property
    def training_steps(self) -> list[steps.TrainingStep]:
        """The training loops and what one pass of each computes (see `steps.training_steps`)."""
        from backprop_doctor.static.imports import user_functions

        imported = user_functions(self.tree, self.path) if self.path is not None else []
        return steps.training_steps(self.tree, imported)

    @cached_property
    def softmax_reductions(self) -> list[softmax.Reduction]:
        """The max and sum reductions of every softmax-like function, judged per row."""
        return softmax.softmax_reductions(self.tree, text=self.text) if self.tree is not None else []

    @cached_property
    def sample_layout(self) -> layout.Layout:
        """Whether the file keeps samples in rows (`x @ W`) or columns (`W @ x`)."""
        return layout.sample_layout(self.tree)

    @cached_property
    def names_used(self) -> set[str]:
        """Names the file reads, `Affine(...)` and `layers.Affine` alike (imports do not count)."""
        return script.names_used(self.tree) if self.tree is not None else set()

    @cached_property
    def has_driver(self) -> bool:
        """Whether the file has a script worth running: a main block, or module-level code that calls something."""
        return script.has_driver(self.tree)

    @cached_property
    def typos(self) -> list[dunders.Typo]:
        """Misspelled special methods (`__init`, `_init_`, ...)."""
        return dunders.special_method_typos(self.tree, text=self.text) if self.tree is not None else []
