"""A reset of a layer's gradient sums written in another file of the same project.

A course's layer file (CMU 11-785's `mytorch/conv.py`) adds each call's gradient into what the last
call left (`self.dLdW[...] += ...`) by design: the network that steps it lives in another folder of
the handout (`hw2/hw2.py`, `from conv import *`) and empties the sums before every step with its
`zero_grads()` (`layer.dLdW.fill(0.0)`). Read alone, the layer file shows no reset, and its backward
is not re-entrant; its project shows the reset.

`project_reset(path, layer, attributes)` finds such a function: one named for setting gradients to zero
(`grad_reset.RESET_NAMES`, or `zero_grad`-like words), in the checked file or in a file of its project
that imports the layer's module, which sets every one of `attributes` back to zero (`x.dW.fill(0)`,
`x.dW[...] = 0`, `x.dW = np.zeros_like(x.W)`, `x.dW *= 0`). The project: the checked file's folder,
the folder above it, and that folder's own subfolders (a handout's `mytorch/` beside its `hw2/`); a file
outside the checked file's folder counts only when it names that folder, as a package it imports from
or a path it puts on `sys.path` (`sys.path.append('mytorch')`): a sibling exercise's own module of the
same name is not this one.
Only small folders are read (`importers.MAX_FILES`, `importers.MAX_BYTES`).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

from backprop_doctor.static.files import source_tree
from backprop_doctor.static.importers import MAX_BYTES, MAX_FILES, imports_from
from backprop_doctor.static.resets import _zeroing
from backprop_doctor.static.tree import walk

MAX_FOLDERS = 12  # subfolders of the folder above the checked file's that are read


@dataclass(frozen=True)
class ProjectReset:
    path: str  # the file that holds the reset
    name: str  # `CNN.zero_grads`, or `zero_grads` for a function
    line: int  # the line of its `def`


def project_reset(path: str, layer: str, attributes: set[str], tree: ast.Module | None = None) -> ProjectReset | None:
    """The first reset-named function that sets every one of `attributes` to zero, in `tree` (the checked
    file's, at `path`) or in a file of the project that imports `layer` from the checked file's module."""
    if not attributes:
        return None
    stem = os.path.splitext(os.path.basename(path))[0]
    here = os.path.realpath(path)
    own = tree if tree is not None else source_tree(path)[1]
    if own is not None and (found := _reset_in(own, attributes)) is not None:
        return ProjectReset(path, *found)
    folder = os.path.dirname(os.path.abspath(path))
    for candidate in _project_files(path):
        if os.path.realpath(candidate) == here:
            continue
        other = source_tree(candidate)[1]
        if other is None or not imports_from(other, stem, layer):
            continue
        if os.path.dirname(os.path.abspath(candidate)) != folder and not _reaches(other, os.path.basename(folder)):
            continue  # a file of another folder importing a module of that name: not this one's, unless it names this folder
        if (found := _reset_in(other, attributes)) is not None:
            return ProjectReset(candidate, *found)
    return None


def steps_with(tree: ast.Module, layer: str, attributes: set[str]) -> bool:
    """Whether the checked file computes with the sums outside class `layer` (an update `W -= lr * layer.gW`,
    `unit.W - self.lr * unit.gW`): its own program steps the layer, so what it does between steps decides."""
    inside = {id(n) for c in walk(tree) if isinstance(c, ast.ClassDef) and c.name == layer for n in walk(c)}
    for node in walk(tree):
        if id(node) in inside or not isinstance(node, (ast.BinOp, ast.AugAssign)):
            continue
        operands = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.value,)
        if any(isinstance(a, ast.Attribute) and a.attr in attributes for operand in operands for a in walk(operand)):
            return True
    return False


def _reaches(tree: ast.Module, folder: str) -> bool:
    """Whether a file of another folder names the checked file's folder `folder`, to import from it: as a
    package (`from mytorch.conv import *`, `from mytorch import conv`) or in a string it puts on its path
    (`sys.path.append('mytorch')`, `os.path.join('..', 'mytorch')`)."""
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and folder in node.module.split("."):
            return True
        if isinstance(node, ast.Import) and any(folder in a.name.split(".") for a in node.names):
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 300:
            if folder in node.value.replace("\\", "/").strip("/").split("/"):
                return True
    return False


def _project_files(path: str) -> list[str]:
    """The Python files of the checked file's folder, of the folder above it and of that folder's
    subfolders (hidden ones and caches left out), small ones only."""
    folder = os.path.dirname(os.path.abspath(path))
    parent = os.path.dirname(folder)
    folders = [folder, parent]
    try:
        subfolders = sorted(
            e.path for e in os.scandir(parent) if e.is_dir(follow_symlinks=False) and not e.name.startswith((".", "__"))
        )
    except OSError:
        subfolders = []
    folders += [f for f in subfolders if f != folder][:MAX_FOLDERS]
    files: list[str] = []
    for place in folders:
        try:
            names = sorted(n for n in os.listdir(place) if n.endswith(".py"))[:MAX_FILES]
        except OSError:
            continue
        for name in names:
            candidate = os.path.join(place, name)
            try:
                if os.path.getsize(candidate) <= MAX_BYTES:
                    files.append(candidate)
            except OSError:
                continue
    return files


RESET_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _reset_in(tree: ast.Module, attributes: set[str]) -> tuple[str, int] | None:
    """(qualified name, line) of the first function of `tree` named for a gradient reset that zeroes
    every one of `attributes`."""
    from backprop_doctor.static.grad_reset import RESET_NAMES, _RESET_WORDS

    owners = {id(f): c.name for c in walk(tree) if isinstance(c, ast.ClassDef) for f in c.body if isinstance(f, RESET_DEFS)}
    functions = sorted((n for n in walk(tree) if isinstance(n, RESET_DEFS)), key=lambda f: f.lineno)
    for function in functions:
        if not (function.name in RESET_NAMES or _RESET_WORDS.fullmatch(function.name)):
            continue
        if attributes <= _zeroed_attributes(function):
            owner = owners.get(id(function))
            return (f"{owner}.{function.name}" if owner else function.name), function.lineno
    return None


def _zeroed_attributes(function: ast.AST) -> set[str]:
    """The attribute names `function` sets to zero: `dW` of `layer.dW.fill(0)`, `self.layers[i].dW[...] = 0`."""
    found = set()
    for node in walk(function):
        if _zeroing(node) is None:
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target if isinstance(node, ast.AugAssign) else node.value.func.value  # type: ignore[attr-defined]
        while isinstance(target, ast.Subscript):
            target = target.value
        if isinstance(target, ast.Attribute):
            found.add(target.attr)
    return found
