"""Which package a user's file belongs to, so its relative imports work.

A file with an `__init__.py` beside it (`mypkg/train.py`), or one that uses
relative imports (`from .layers import *`, `from ..utils import x`) even
without `__init__.py` files (a namespace package), runs with `__package__`
set to its package's dotted name and the folder above the top package on
`sys.path`, as `python -m mypkg.train` would run it. A script in a plain sub-folder of a
package that imports that package by name gets the folder above the package on `sys.path`,
also when the package has no `__init__.py`; when such a file imports modules of its own package
by their dotted names (`transformer/losses.py` doing `from transformer.activations import ...`),
a module of the package's name beside it (`transformer/transformer.py`) does not stand for the
package (`imported_package`), as it does not when the project runs from its root.
"""

from __future__ import annotations

import ast
import os
import sys
import types

from backprop_doctor.static.imports import absolute_import_tops, relative_level
from backprop_doctor.static.tree import walk


def package_of(path: str, tree: ast.Module | None) -> tuple[str | None, str | None]:
    """(dotted package name, folder to put on sys.path) for the file at `path`, or (None, None)."""
    folder = os.path.dirname(os.path.abspath(path))
    parts: list[str] = []
    here = folder
    while os.path.isfile(os.path.join(here, "__init__.py")) and os.path.dirname(here) != here:
        parts.insert(0, os.path.basename(here))
        here = os.path.dirname(here)
    level = relative_level(tree)
    while len(parts) < level and os.path.dirname(here) != here:  # namespace packages
        parts.insert(0, os.path.basename(here))
        here = os.path.dirname(here)
    tops = set(absolute_import_tops(tree))
    while parts and os.path.basename(here) in tops and os.path.dirname(here) != here:
        # `cs231n/classifiers/__init__.py` without `cs231n/__init__.py`, and the file imports
        # `cs231n.classifiers.linear_svm`: the project's package is the namespace package above
        parts.insert(0, os.path.basename(here))
        here = os.path.dirname(here)
    if not parts or not all(p.isidentifier() for p in parts):
        return None, _enclosing_root(folder, tree)
    return ".".join(parts), here


def _enclosing_root(folder: str, tree: ast.Module | None) -> str | None:
    """A script in a sub-folder of its project's package that imports it by its absolute name
    (`mlfromscratch/examples/mlp.py` doing `from mlfromscratch.utils import x`): the folder above
    that package, so the import works as it does from the project's root. The package may lack
    `__init__.py` (a namespace package: `cs231n/classifiers/rnn.py` doing `from cs231n.layers
    import *` in a copy of the assignment without its empty `__init__.py` files)."""
    tops = set(absolute_import_tops(tree))
    here = folder
    while os.path.dirname(here) != here:
        name = os.path.basename(here)
        if name in tops and _is_package(here):
            return os.path.dirname(here)
        here = os.path.dirname(here)
    return None


def imported_package(path: str, tree: ast.Module | None, root: str | None) -> str | None:
    """The dotted name of the package folder holding the file at `path`, counted from `root` (what
    `_enclosing_root` found), when the file imports a module of that package by its dotted name and
    the module is there: `transformer/losses.py` doing `from transformer.activations import Sigmoid`
    beside `transformer/activations.py` is the module `transformer.losses` of a project run from its
    root (`python -m transformer.losses`, or imported by a script there), even when no folder has an
    `__init__.py`. `shadow_free` and `claim_namespace` then keep a module of the package's own name
    beside the file (`transformer/transformer.py`) from standing for the package, as the project's
    root first on `sys.path` does; a plain `import transformer` keeps finding that module."""
    if tree is None or root is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    relative = os.path.relpath(folder, root)
    parts = relative.split(os.sep)
    if relative.startswith(os.pardir) or not all(p.isidentifier() for p in parts):
        return None
    top = os.path.join(root, parts[0])
    for dotted in _dotted_imports(tree, parts[0]):
        inner = os.path.join(top, *dotted.split(".")[1:])
        if os.path.isdir(inner) or os.path.isfile(inner + ".py"):
            return ".".join(parts)
    return None


def _dotted_imports(tree: ast.Module, top: str) -> list[str]:
    """The modules under `top` the file imports by their dotted names (`top.sub`, `top.sub.inner`)."""
    found: list[str] = []
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module and node.module.startswith(top + "."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith(top + ".")]
    return found


def _is_package(folder: str) -> bool:
    """A regular package, or a folder of Python modules that Python 3 imports as a namespace package
    (it never hides a regular package or module of the same name further along `sys.path`)."""
    if os.path.isfile(os.path.join(folder, "__init__.py")):
        return True
    try:
        return any(entry.endswith(".py") for entry in os.listdir(folder))
    except OSError:
        return False


def shadow_free(roots: list[str], package: str | None, package_root: str | None) -> list[str]:
    """`roots` (folders put first on `sys.path`, in order) with the package's root moved to the front
    when an earlier one holds a module of the package's own top name: `neural_network/
    neural_network.py` in the folder above `neural_network/learning_algorithm/gradient_descent.py`
    would otherwise be what `import neural_network` finds, and it is not a package."""
    if package is None or package_root is None:
        return roots
    top = package.split(".")[0]
    before = roots[: roots.index(package_root)] if package_root in roots else roots
    if not any(os.path.isfile(os.path.join(root, top + ".py")) for root in before):
        return roots
    return [package_root, *(r for r in roots if r != package_root)]


def claim_namespace(package: str | None, package_root: str | None) -> None:
    """Make a namespace package importable under its name when a module of that name sits on `sys.path`
    (`model/model.py` beside `model/layer.py`, whose `from .optimizer import SGD` needs the package
    `model`): Python takes a module found anywhere on the path over a namespace package, so each level
    of the package without `__init__.py` is registered as a package whose `__path__` is its folder."""
    if package is None or package_root is None:
        return
    parts = package.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        folder = os.path.join(package_root, *parts[:depth])
        if name in sys.modules or os.path.isfile(os.path.join(folder, "__init__.py")):
            continue
        if not any(os.path.isfile(os.path.join(root, *parts[: depth - 1], parts[depth - 1] + ".py")) for root in sys.path if isinstance(root, str)):
            continue  # nothing shadows it: Python finds the namespace package itself
        module = types.ModuleType(name)
        module.__path__ = [folder]  # type: ignore[attr-defined]
        module.__package__ = name
        sys.modules[name] = module
