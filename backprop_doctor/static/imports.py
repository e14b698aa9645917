"""What a file imports: relative imports, guarded imports, `from __future__`, where a name comes from.

Facts the loader needs before and while it runs the user's definitions: the
package depth its relative imports reach (`relative_level`), the compiler
flags of its `from __future__` imports (`future_flags`), the lines of imports
written inside `try: ... except ImportError:` (`guarded_import_lines`, which
get an ImportError instead of a stub), and whether a name the code misses was
meant to come from a `from ... import` (`imports_name`), the functions it imports
from other files of the user's beside it (`user_functions`), and the folder above it that
holds a package it imports but cannot reach (`ancestor_with_package`).
"""

from __future__ import annotations

import __future__
import ast
import os
from collections.abc import Iterable

from backprop_doctor.static import files
from backprop_doctor.static.tree import walk  # skips the elements of data literals

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
ANCESTOR_LEVELS = 4  # folders above the file's own that may hold the project's `common/`


def ancestor_with_package(folder: str, top: str, levels: int = ANCESTOR_LEVELS) -> str | None:
    """The nearest folder at most `levels` above `folder` that holds `top` as a package folder
    with .py files in it (`common/layers.py`): the project's root, which a chapter script two or
    more folders down reaches when installed with its project (`pip install -e .`) or run from
    there, but not with its own `sys.path.append("..")`."""
    if not top.isidentifier():
        return None
    here = os.path.abspath(folder)
    for _ in range(levels):
        above = os.path.dirname(here)
        if os.path.dirname(above) == above:  # never the file system's root
            return None
        here = above
        package = os.path.join(here, top)
        try:
            if os.path.isdir(package) and any(entry.endswith(".py") for entry in os.listdir(package)):
                return here
        except OSError:
            continue
    return None


def relative_level(tree: ast.Module | None) -> int:
    """The deepest relative import in `tree` (0 when there is none)."""
    if tree is None:
        return 0
    return max((n.level for n in walk(tree) if isinstance(n, ast.ImportFrom) and n.level), default=0)


def absolute_import_tops(tree: ast.Module | None) -> list[str]:
    """First components of the absolute imports, in order: `from mlfromscratch.utils import x` -> "mlfromscratch"."""
    if tree is None:
        return []
    found: list[str] = []
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found += [alias.name.split(".")[0] for alias in node.names]
    return list(dict.fromkeys(found))


def future_flags(tree: ast.Module) -> int:
    """The compiler flags of the module's `from __future__ import ...` statements."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def imports_name(file: str, name: str) -> bool:
    """Whether the file at `file` has a `from ... import` that binds `name` (or imports `*`).

    The checked file's own tree is reused (`files.register`); another file is read
    as UTF-8, undecodable bytes replaced.
    """
    tree = files.registered(file)
    if tree is None:
        try:
            with open(file, encoding="utf-8", errors="replace") as handle:
                tree = ast.parse(handle.read())
        except (OSError, SyntaxError, ValueError):
            return False
    return any(
        isinstance(node, ast.ImportFrom) and any(a.name in (name, "*") or a.asname == name for a in node.names)
        for node in walk(tree)
    )


def guarded_lines_of(filename: str) -> frozenset[int]:
    """`guarded_import_lines` of the file at `filename` (none when it cannot be read or parsed)."""
    tree = _parsed(filename)
    return guarded_import_lines(tree) if tree is not None else frozenset()


def flattened_module_fits(importing: ast.Module | None, filename: str, line: int, module: str, sibling: str) -> bool:
    """Whether the file `sibling` can stand for the missing package module `module` that the statement
    at `line` of `filename` (its tree `importing`, parsed here when None) imports from: a `from
    module import a, b` whose every name `sibling` binds at its top level, or a `from module import *`
    of a file of definitions (functions or classes) whose top level runs nothing but a main block.
    False when either file does not parse."""
    from backprop_doctor.static.script import definitions_only, is_main_guard

    if importing is None:
        importing = _parsed(filename)
    defined = _parsed(sibling)
    if importing is None or defined is None:
        return False
    statement = next((n for n in importing.body if isinstance(n, ast.ImportFrom) and n.lineno <= line <= (n.end_lineno or n.lineno)), None)
    if statement is None or statement.module != module or statement.level:
        return False
    names = {a.name for a in statement.names}
    if names != {"*"}:
        return names <= _top_level_names(defined)
    kept = {id(n) for n in definitions_only(defined).body}
    runs = [n for n in defined.body if id(n) not in kept and not (isinstance(n, ast.If) and is_main_guard(n.test)) and not isinstance(n, ast.Expr)]
    return not runs and any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in defined.body)


def _parsed(filename: str) -> ast.Module | None:
    try:
        with open(filename, "rb") as handle:
            return ast.parse(handle.read(), filename)
    except (OSError, SyntaxError, ValueError):
        return None


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level: definitions, assignments, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).partition(".")[0] for a in node.names}
    return names


def guarded_import_lines(tree: ast.Module) -> frozenset[int]:
    """Lines of imports inside `try:` blocks that catch ImportError (or `suppress(ImportError)`)."""
    lines: set[int] = set()
    for node in walk(tree):
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))) and any(
            _catches_import_error(h.type) for h in node.handlers
        ):
            lines |= _statement_lines(node.body)
        elif isinstance(node, (ast.With, ast.AsyncWith)) and any(
            _suppresses_import_error(item.context_expr) for item in node.items
        ):
            lines |= _statement_lines(node.body)
    return frozenset(lines)


def _statement_lines(body: Iterable[ast.stmt]) -> set[int]:
    """Every line of the statements in `body`, not descending into function bodies."""
    lines: set[int] = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append(child)
    # Function bodies run later, outside the try: take their lines back out.
    for node in body:
        for sub in ast.walk(node):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in sub.body:
                    lines.difference_update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _catches_import_error(node: ast.expr | None) -> bool:
    if node is None:
        return True
    if isinstance(node, ast.Tuple):
        return any(_catches_import_error(e) for e in node.elts)
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name in _IMPORT_ERRORS


def _suppresses_import_error(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "suppress" and any(_catches_import_error(a) for a in node.args)


def _module_file(folder: str, module: str | None, level: int) -> str | None:
    """The user's file a module name leads to from `folder`: `nn_utils` -> folder/nn_utils.py,
    `.layers` -> the same, `pkg.model` -> folder/pkg/model.py (or a package's `__init__.py`).
    An absolute name is also looked for one and two folders up, where the book's chapter scripts
    find `common/` (`sys.path.append(os.pardir)`), and in the nearest folder further up that
    holds its package (`ancestor_with_package`)."""
    bases = [folder]
    for _ in range(max(level - 1, 0)):
        bases = [os.path.dirname(bases[0])]
    if not level and module:
        bases += [os.path.dirname(folder), os.path.dirname(os.path.dirname(folder))]
        root = ancestor_with_package(folder, module.split(".")[0])
        bases += [root] if root is not None else []
    for base in dict.fromkeys(bases):
        path = os.path.join(base, *(module or "").split(".")) if module else base
        for candidate in (path + ".py", os.path.join(path, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
    return None


def star_imported(tree: ast.Module | None) -> list[str]:
    """The modules `tree` star-imports by absolute name, anywhere in it: `from common.layers import *`."""
    if tree is None:
        return []
    return [
        n.module for n in walk(tree)
        if isinstance(n, ast.ImportFrom) and not n.level and n.module and any(a.name == "*" for a in n.names)
    ]  # fmt: skip


def user_functions(tree: ast.Module | None, file: str) -> list[tuple[str, ast.Module, dict[str, str]]]:
    """The other files of the user's that `tree` (the file at `file`) imports functions from, at
    module level: (that file, its tree, {how the file calls them: their name there}).

    `from nn_utils import update as step` -> {"step": "update"}; `from nn_utils import *` -> every
    function of `nn_utils` by its own name; `import nn_utils as nu` -> {"nu.update": "update"};
    `from common.optimizer import SGD` with `optimizer = SGD(lr)` in the file ->
    {"optimizer.update": "update"}: a method is bound only through the names the file gives
    instances of its class, so `counts.update(words)` of a dictionary is not taken for it.
    Files outside the user's folder (installed packages) are not read."""
    if tree is None:
        return []
    folder = os.path.dirname(os.path.abspath(file))
    instances = _instances(tree)
    found: dict[str, tuple[ast.Module, dict[str, str]]] = {}
    for node in tree.body:
        targets: list[tuple[str | None, int, dict[str, str] | None, str | None]] = []
        if isinstance(node, ast.ImportFrom):
            names = None if any(a.name == "*" for a in node.names) else {a.asname or a.name: a.name for a in node.names}
            targets.append((node.module, node.level, names, None))
        elif isinstance(node, ast.Import):
            targets += [(alias.name, 0, None, alias.asname or alias.name) for alias in node.names]
        for module, level, names, alias in targets:
            other = _module_file(folder, module, level)
            if other is None or os.path.abspath(other) == os.path.abspath(file):
                continue
            _lines, other_tree = files.source_tree(other)
            if other_tree is None:
                continue
            defined = {n.name for n in other_tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            if alias is not None:
                bound = {f"{alias}.{d}": d for d in defined}
            else:
                bound = {local: name for local, name in (names or {d: d for d in defined}).items() if name in defined}
            for cls in other_tree.body:  # `from common.optimizer import SGD`, then `optimizer.update(...)`
                if isinstance(cls, ast.ClassDef) and (names is None or cls.name in names.values()):
                    local = next((k for k, v in (names or {cls.name: cls.name}).items() if v == cls.name), cls.name)
                    methods = [m.name for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
                    bound.update({f"{var}.{m}": m for var in instances.get(local, ()) for m in methods})
            if bound:
                entry = found.setdefault(other, (other_tree, {}))
                entry[1].update(bound)
    return [(other, other_tree, bound) for other, (other_tree, bound) in found.items()]


def _instances(tree: ast.Module) -> dict[str, set[str]]:
    """Class name -> the names the file binds its instances to (`optimizer = SGD(lr)`, `self.opt = Adam()`)."""
    found: dict[str, set[str]] = {}
    for node in walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            cls = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if cls:
                found.setdefault(cls, set()).update(ast.unparse(t) for t in node.targets if isinstance(t, (ast.Name, ast.Attribute)))
    return found


def called_from_imports(tree: ast.Module | None, modules: Iterable[str]) -> list[tuple[str, int, list[str]]]:
    """(module, line, names) for each `from module import ...` of `tree` among `modules`: the names the
    file calls that the statement is what binds, `from dnn_app_utils_v2 import *` giving every name the
    file calls and neither defines, binds by another import, nor has as a builtin (`L_model_forward`)."""
    import builtins

    if tree is None:
        return []
    wanted = set(modules)
    statements = [n for n in tree.body if isinstance(n, ast.ImportFrom) and not n.level and n.module in wanted]
    if not statements:
        return []
    bound: set[str] = set()
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and node not in statements:
            bound |= {(a.asname or a.name).partition(".")[0] for a in node.names if a.name != "*"}
    called = list(dict.fromkeys(n.func.id for n in walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)))
    found = []
    for statement in statements:
        names = {a.asname or a.name for a in statement.names}
        given = [n for n in called if (n in names or "*" in names) and n not in bound and not hasattr(builtins, n)]
        if given:
            found.append((statement.module or "", statement.lineno, given))
    return found

