"""The files beside a module that import one of its functions, whose calls say how it is used.

A helper module (`utils.py`, `rnn_utils.py`) often only defines a function (a softmax) that the
files beside it import and call: `from utils import softmax`, `from rnn_utils import *`,
`import utils` then `utils.softmax(...)`. Read alone, the module shows no call; its importers show
every one. `importer_trees(path, name)` gives the parsed trees of those files (in the module's
folder, plus any file named in `also`, the checked file), skipping a file that defines `name`
itself (its calls are of its own function). A file whose text never spells the module's name is
not parsed (every import `imports_from` accepts spells it). Only small folders are read: a file over MAX_BYTES,
or the folder's files past MAX_FILES, are left out.
"""

from __future__ import annotations

import ast
import linecache
import os

from backprop_doctor.static.files import source_tree
from backprop_doctor.static.tree import walk as tree_walk

MAX_FILES = 60  # Python files of one folder read for importers
MAX_BYTES = 400_000  # a file larger than this is not read


def importer_trees(path: str, name: str, also: tuple[str, ...] = ()) -> list[ast.Module]:
    """Trees of the files beside the module at `path` (and of `also`) that import `name` from it."""
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    here = os.path.realpath(path)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))[:MAX_FILES]
    except OSError:
        names = []
    candidates = [os.path.join(folder, n) for n in names] + [os.path.abspath(a) for a in also]
    trees: list[ast.Module] = []
    seen = {here}
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real in seen:
            continue
        seen.add(real)
        try:
            if os.path.getsize(candidate) > MAX_BYTES:
                continue
        except OSError:
            continue
        text = "".join(linecache.getlines(candidate))
        if stem not in text and text.isascii():
            continue  # no import of the module is written without its name (NFKC aside): not parsed
        tree = source_tree(candidate)[1]
        if isinstance(tree, ast.Module) and imports_from(tree, stem, name) and not _defines(tree, name):
            trees.append(tree)
    return trees


def imports_from(tree: ast.Module, stem: str, name: str) -> bool:
    """`from stem import name`, `from stem import *`, `from .stem import name`, `from pkg.stem import name`,
    or `import stem` (`import pkg.stem as s`) with `name` read as an attribute somewhere in the file."""
    module_imported = False
    for node in tree_walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.rsplit(".", 1)[-1] == stem:
            if any(a.name in (name, "*") for a in node.names):
                return True
        elif isinstance(node, ast.Import) and any(a.name.rsplit(".", 1)[-1] == stem for a in node.names):
            module_imported = True
    return module_imported and any(isinstance(n, ast.Attribute) and n.attr == name for n in tree_walk(tree))


def _defines(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body)
