"""The forward half of a function pair that lives in a file of its own beside the checked file.

The deep-learning course's exercises are often kept one function per file, each file named after
its function: `linear_forward.py` beside `linear_backward.py`, `relu.py` beside
`relu_backward.py`, `linear_activation_forward.py` beside `linear_activation_backward.py`.
The course's networks written as functions are split the same way (`forward.py` beside
`backward.py`, `forward_propagation_with_dropout.py` beside `backward_propagation_with_dropout.py`).
Checked on its own, a backward half has nothing to be compared with. `forward_halves` finds,
for each backward function of the checked file whose forward half is missing, the sibling
file named after that half, and imports it (as `from linear_forward import *` would) only
when that file defines the function: discovery pairs the two as if they shared a file.
A variant of the backward (`backward_propagation_with_regularization`) goes with the plain
forward (`forward_propagation`) the variant leaves unchanged, and with the variant's own cost
(`compute_cost_with_regularization`); when no file is named after the forward, the sibling module
that defines it is taken, the one the folder's program imports beside the checked file first
(`model_regularization.py` doing `from reg_utils import *` and `from
backward_propagation_with_regularization import *`: `reg_utils.py`, not `init_utils.py`).
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from backprop_doctor.static.files import source_tree

_BACKWARD = re.compile(r"^(?P<base>.+?)_backward(?P<variant>_\w+)?$")
_STEM = re.compile(r"^[A-Za-z_]\w*$")
_WITH = re.compile(r"_with_[A-Za-z0-9]\w*$")  # `_with_regularization`, `_with_dropout`
_COST = re.compile(r"cost|loss", re.IGNORECASE)
SIBLINGS_READ = 80  # sibling modules searched for a forward defined under no file of its name
SIBLING_BYTES = 300_000


def forward_names(backward: str) -> list[str]:
    """The names the forward half of `backward` goes by, most specific first: `linear_forward` for
    `linear_backward`, `relu` for `relu_backward` (an activation returning `(A, cache)`),
    `forward_propagation_with_dropout` for `backward_propagation_with_dropout` and `forward` for
    `backward` (a network written as functions)."""
    names = [backward.replace("backward", "forward", 1)] if "backward" in backward else []
    match = _BACKWARD.match(backward)
    if match is not None:
        base, variant = match["base"], match["variant"] or ""
        names += [f"{base}_forward{variant}", f"{base}_forward", base]
    names += [_WITH.sub("", name) for name in names if _WITH.search(name)]  # the variant keeps the plain forward
    return list(dict.fromkeys(names))


def forward_halves(functions: dict[str, Callable[..., Any]], path: str) -> dict[str, Callable[..., Any]]:
    """Forward halves, by name, of the backward functions of the file at `path` that `functions`
    (the file's own functions) lacks, each from the sibling file named after it that defines it."""
    folder = os.path.dirname(os.path.abspath(path))
    here = os.path.realpath(path)
    found: dict[str, Callable[..., Any]] = {}
    modules: list[str] | None = None  # the sibling modules, in the order they are searched, read once
    for backward in sorted(functions):
        names = forward_names(backward)
        if not names or any(name in functions for name in names):
            continue
        for name in names:
            sibling = os.path.join(folder, f"{name}.py")
            if not _STEM.match(name) or not os.path.isfile(sibling) or os.path.realpath(sibling) == here:
                continue
            func = _defined_in(sibling, name)
            if func is not None:
                found[name] = func
                break
        else:
            plain = [_WITH.sub("", name) for name in names if _WITH.search(name)]  # `forward_propagation` of the variant
            if plain and modules is None:
                modules = _sibling_modules(folder, here)
            for name in plain:
                func = next((f for f in (_defined_in(m, name) for m in modules or [] if _mentions(m, name) and _definitions(m)) if f is not None), None)
                if func is not None:
                    found[name] = func
                    break
        variant = _WITH.search(backward)
        if variant is not None and any(name in found for name in names):
            found.update(variant_costs(path, variant[0], functions))
    return found


def variant_costs(path: str, suffix: str, functions: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The cost of a backward's variant (`compute_cost_with_regularization` for `_with_regularization`)
    from the file beside the checked file at `path` named after it, when `functions` hold none: the
    cost the variant's gradients are of."""
    if any(_COST.search(n) and n.endswith(suffix) for n in functions):
        return {}
    folder = os.path.dirname(os.path.abspath(path))
    here = os.path.realpath(path)
    found: dict[str, Callable[..., Any]] = {}
    for entry in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(entry)
        sibling = os.path.join(folder, entry)
        if ext == ".py" and stem.endswith(suffix) and _COST.search(stem) and _STEM.match(stem) and os.path.realpath(sibling) != here:
            func = _defined_in(sibling, stem)
            if func is not None:
                found[stem] = func
    return found


def _sibling_modules(folder: str, here: str) -> list[str]:
    """The .py files beside the checked file: first those that a program of the folder importing the
    checked file's module imports too, in its order, then the rest by name."""
    stem = os.path.splitext(os.path.basename(here))[0]
    try:
        entries = sorted(e for e in os.listdir(folder) if e.endswith(".py") and _STEM.match(e[:-3]))
    except OSError:
        return []
    files = [os.path.join(folder, e) for e in entries if os.path.realpath(os.path.join(folder, e)) != here][:SIBLINGS_READ]
    stems = {os.path.splitext(os.path.basename(f))[0]: f for f in files}
    first: list[str] = []
    for file in files:
        imported = _imported_modules(file) if _mentions(file, stem) else []
        if stem in imported:
            first += [stems[m] for m in imported if m in stems and stems[m] not in first]
    return first + [f for f in files if f not in first]


def _imported_modules(file: str) -> list[str]:
    """The top-level modules the file imports, in order (`from reg_utils import *` -> `reg_utils`)."""
    tree = source_tree(file)[1]
    if tree is None:
        return []
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def _definitions(file: str) -> bool:
    """Whether the module at `file` only defines things when imported (functions, classes, imports,
    constants, a main block): a helper module, not a script that would train as it is imported."""
    from backprop_doctor.static.script import definitions_only, is_main_guard

    tree = source_tree(file)[1]
    if tree is None:
        return False
    kept = {id(n) for n in definitions_only(tree).body}
    return all(id(n) in kept or isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) or isinstance(n, ast.If) and is_main_guard(n.test) for n in tree.body)


def _mentions(file: str, word: str) -> bool:
    """Whether the file's text holds `word` (read cheaply before it is parsed)."""
    try:
        if os.path.getsize(file) > SIBLING_BYTES:
            return False
        with open(file, "rb") as handle:
            return word.encode() in handle.read()
    except OSError:
        return False


def _defined_in(sibling: str, name: str) -> Callable[..., Any] | None:
    """`name` from the module `sibling` (imported by its stem, from the checked file's folder), when
    the file defines it at its top level; None when it does not, or does not import."""
    tree = source_tree(sibling)[1]
    if tree is None or not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body):
        return None
    stem = os.path.splitext(os.path.basename(sibling))[0]
    module = sys.modules.get(stem)
    if module is None:
        try:
            module = importlib.import_module(stem)
        except (Exception, SystemExit):  # noqa: BLE001 - the user's sibling module: then there is no pair
            return None
    if os.path.realpath(getattr(module, "__file__", None) or "") != os.path.realpath(sibling):
        return None  # the name belongs to another module (an installed package of that name)
    func = getattr(module, name, None)
    return func if callable(func) else None
