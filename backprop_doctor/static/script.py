"""The definitions of a module and the script around them.

A homework file defines its layers and network at the top and then loads a
data set, trains for ten thousand iterations and plots the loss, all at module
level. backprop-doctor needs the classes and functions, not the training run,
so by default it runs only what defines something:

* imports, also inside `try/except ImportError` blocks;
* `def` and `class` statements, with their decorators;
* assignments of constants: numbers, strings, tuples/lists/dicts of constants,
  arithmetic on them, names of earlier constants, attributes of imported
  modules (`dtype = np.float32`) and lambdas;
* `sys.path.append(...)`, `.insert(...)`, `.extend(...)` (but not `os.chdir`), with the
  plain assignments the folder they add is computed from (`ROOT_DIR =
  os.path.dirname(os.path.abspath(__file__))`, then `sys.path.append(ROOT_DIR)`);
* `if` blocks that hold only such statements (version checks);
* the `else` of an `if __name__ == "__main__":` block, filtered the same way.

Everything else is dropped: loops, data loading, training, plotting, prints,
network construction. `exec_module=True` keeps everything except the
`if __name__ == "__main__":` block. The returned module shares the kept nodes
with the original tree (which is not modified), so line numbers stay those of
the user's file. The loader runs what `definitions_only` keeps.

`has_driver` says whether the rest is a script worth running (it builds,
loads or trains something); `names_used` and `names_bound_by` are the names a
file reads and the names one statement binds.
"""

from __future__ import annotations

import ast
import builtins
import copy

from backprop_doctor.static.tree import is_data, walk  # walks that skip the elements of data literals

_BUILTIN_NAMES = frozenset(dir(builtins))
_SYS_PATH_METHODS = frozenset({"append", "insert", "extend"})


def definitions_only(tree: ast.Module, *, exec_module: bool = False) -> ast.Module:
    """The statements of `tree` that define something (or, with `exec_module`, all but the main block)."""
    if exec_module:
        body: list[ast.stmt] = []
        for node in tree.body:
            if isinstance(node, ast.If) and is_main_guard(node.test):
                body.extend(node.orelse)
            else:
                body.append(node)
    else:
        body = _Filter(tree).body(tree.body)
    return ast.Module(body=body, type_ignores=list(tree.type_ignores))


def is_main_guard(test: ast.expr) -> bool:
    """True for `__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


class _Filter:
    def __init__(self, tree: ast.Module):
        self.known: set[str] = set()  # bound by a kept statement
        self.dropped: set[str] = set()  # bound only by dropped statements
        self.modules: set[str] = set()  # bound by imports: `plt.rcParams[...] = ...` left out leaves `plt` whole
        self.math: set[str] = set()  # the names of NumPy and `math` (`np`), whose functions of numbers are kept
        self.star = any(
            isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in walk(tree)
        )
        self.path_steps = _path_assignments(tree.body)  # ids of the assignments a sys.path statement reads

    def body(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        kept = []
        for node in stmts:
            if isinstance(node, ast.If) and is_main_guard(node.test):
                kept.extend(self.body(node.orelse))  # runs on import; the main block does not
                continue
            new = self.stmt(node)
            if new is not None:
                kept.append(new)
            else:  # what it binds is no longer what a kept statement made it (`best_net = None`, then a dropped search loop)
                rebound = _bound_names(node) | (_mutated_names(node) - self.modules)  # `onehots["the"] = ...` left out: `onehots` is incomplete
                self.known -= rebound
                self.dropped |= rebound
        return kept

    def stmt(self, node: ast.stmt) -> ast.stmt | None:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return self._keep(node)
        if isinstance(node, ast.Pass) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        ):
            return node
        if isinstance(node, ast.Assign):
            if all(_simple_target(t) for t in node.targets) and self.safe(node.value):
                return self._keep(node)
            if id(node) in self.path_steps and all(_simple_target(t) for t in node.targets) and self.computable(node.value):
                return self._keep(node)  # `ROOT_DIR = os.path.dirname(os.path.abspath(__file__))` for `sys.path.append(ROOT_DIR)`
            return None
        if isinstance(node, ast.AnnAssign):
            if (
                isinstance(node.target, ast.Name)
                and node.value is not None
                and self.safe(node.value)
                and self.safe(node.annotation)
            ):
                return self._keep(node)
            return None
        if isinstance(node, ast.Expr) and _is_sys_path_call(node.value):
            return node if self.computable(node.value) else None  # its folder comes from a statement left out
        if isinstance(node, ast.If):
            return self._if(node)
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            return self._try(node)
        return None

    def _keep(self, node: ast.stmt) -> ast.stmt:
        names = _bound_names(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.modules |= names
            if isinstance(node, ast.Import):  # `import numpy as np`: `np.sqrt(2 / np.pi)` runs no user code
                self.math |= {a.asname or a.name for a in node.names if a.name in _MATH_MODULES}
        self.known |= names
        self.dropped -= names
        return node

    def _if(self, node: ast.If) -> ast.stmt | None:
        known, dropped = set(self.known), set(self.dropped)
        body, orelse = self.body(node.body), self.body(node.orelse)
        whole = len(body) == len(node.body) and len(orelse) == len(node.orelse)
        if whole and body == node.body and orelse == node.orelse:
            return node
        if whole:  # a nested main guard or try was rewritten
            new = copy.copy(node)
            new.body, new.orelse = body, orelse
            return new
        self.known, self.dropped = known, dropped | (_bound_names(node) - known)
        return None

    def _try(self, node: ast.stmt) -> ast.stmt | None:
        body = self.body(node.body)  # type: ignore[attr-defined]
        if not body:
            return None
        new = copy.copy(node)
        new.body = body  # type: ignore[attr-defined]
        handlers = []
        for handler in node.handlers:  # type: ignore[attr-defined]
            h = copy.copy(handler)
            h.body = self.body(handler.body) or [_pass(handler)]
            handlers.append(h)
        new.handlers = handlers  # type: ignore[attr-defined]
        new.orelse = self.body(node.orelse)  # type: ignore[attr-defined]
        new.finalbody = self.body(node.finalbody)  # type: ignore[attr-defined]
        if not handlers and not new.finalbody:  # type: ignore[attr-defined]
            new.finalbody = [_pass(node)]  # type: ignore[attr-defined]
        return new

    def computable(self, node: ast.expr) -> bool:
        """True when no name `node` reads is bound only by a left-out statement: calls are allowed,
        as in the folder a sys.path statement adds (`os.path.join(BASE, "common")`)."""
        return not any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in self.dropped for n in walk(node))

    def safe(self, node: ast.expr | None) -> bool:
        """True when evaluating `node` runs no user code and needs nothing that was dropped."""
        if node is None or isinstance(node, ast.Constant) or is_data(node):  # a pasted data set is constants
            return True
        if isinstance(node, ast.Name):
            if node.id in self.known:
                return True
            if node.id in self.dropped:
                return False
            return node.id in _BUILTIN_NAMES or self.star
        if isinstance(node, ast.Attribute):
            return self.safe(node.value)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(self.safe(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return all(k is not None and self.safe(k) for k in node.keys) and all(self.safe(v) for v in node.values)
        if isinstance(node, ast.UnaryOp):
            return self.safe(node.operand)
        if isinstance(node, ast.BinOp):
            return self.safe(node.left) and self.safe(node.right)
        if isinstance(node, ast.BoolOp):
            return all(self.safe(v) for v in node.values)
        if isinstance(node, ast.Compare):
            return self.safe(node.left) and all(self.safe(c) for c in node.comparators)
        if isinstance(node, ast.IfExp):
            return self.safe(node.test) and self.safe(node.body) and self.safe(node.orelse)
        if isinstance(node, ast.Subscript):
            return self.safe(node.value) and self.safe(node.slice)
        if isinstance(node, ast.Slice):
            return self.safe(node.lower) and self.safe(node.upper) and self.safe(node.step)
        if isinstance(node, ast.Lambda):
            args = node.args
            return all(self.safe(d) for d in [*args.defaults, *args.kw_defaults])
        if isinstance(node, ast.JoinedStr):
            return all(self.safe(v) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.safe(node.value) and self.safe(node.format_spec)
        if (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _PURE
            and isinstance(node.func.value, ast.Name) and node.func.value.id in self.math and node.func.value.id not in self.dropped
        ):  # fmt: skip
            # `C = np.sqrt(2.0 / np.pi)` above a GELU that reads it: a number, computed from numbers
            return all(self.safe(a) for a in node.args) and all(self.safe(k.value) for k in node.keywords)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _GENERATORS:
            # `rng = np.random.default_rng(0)`, which a class's `__init__` may draw its weights from
            module = node.func.value
            return (
                isinstance(module, ast.Attribute) and module.attr == "random" and self.safe(module)
                and all(self.safe(a) for a in node.args) and all(self.safe(k.value) for k in node.keywords)
            )  # fmt: skip
        return False


# NumPy's and `math`'s functions of numbers: called on numbers, they run no user code and read nothing
_MATH_MODULES = frozenset({"numpy", "math"})
_PURE = frozenset({
    "sqrt", "log", "log2", "log10", "log1p", "exp", "expm1", "power", "pow", "tanh", "sinh", "cosh", "sin", "cos",
    "tan", "arctan", "arcsin", "arccos", "atan", "asin", "acos", "abs", "fabs", "floor", "ceil", "float64", "float32",
})  # fmt: skip


# NumPy's random generators: making one runs no user code and reads nothing
_GENERATORS = frozenset({"default_rng", "RandomState", "Generator", "PCG64", "MT19937"})


def _path_assignments(stmts: list[ast.stmt]) -> set[int]:
    """The ids of the plain assignments (`name = ...`) whose names a `sys.path` statement reads,
    directly or through other such assignments, each the last one before the statement that reads it.

    The statements are those the module runs on import in order (inside `if`, `try` and the `else`
    of a main guard too, not inside loops, functions or the main block), read from the last back."""
    wanted: set[str] = set()
    steps: set[int] = set()
    for node in reversed(_import_time_statements(stmts)):
        if isinstance(node, ast.Expr) and _is_sys_path_call(node.value):
            wanted |= _names_read(node.value)
        elif isinstance(node, ast.Assign) and all(_simple_target(t) for t in node.targets):
            bound = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if bound & wanted:
                steps.add(id(node))
                wanted = (wanted - bound) | _names_read(node.value)
    return steps


def _import_time_statements(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """`stmts` in order with the bodies of their `if`, `try` and main-guard `else` blocks spliced in."""
    flat: list[ast.stmt] = []
    for node in stmts:
        if isinstance(node, ast.If):
            if not is_main_guard(node.test):
                flat.extend(_import_time_statements(node.body))
            flat.extend(_import_time_statements(node.orelse))
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):  # type: ignore[attr-defined]
                flat.extend(_import_time_statements(block))
        else:
            flat.append(node)
    return flat


def _names_read(node: ast.expr) -> set[str]:
    """The names `node` reads: `os` and `BASE` of `os.path.join(BASE, "common")`."""
    return {n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _simple_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, ast.Starred):
        return _simple_target(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_simple_target(e) for e in target.elts)
    return False


def _is_sys_path_call(node: ast.expr) -> bool:
    """`sys.path.append(...)`, `sys.path.insert(...)` or `sys.path.extend(...)`."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    func = node.func
    if func.attr not in _SYS_PATH_METHODS:
        return False
    owner = func.value
    return (
        isinstance(owner, ast.Attribute)
        and owner.attr == "path"
        and isinstance(owner.value, ast.Name)
        and owner.value.id == "sys"
    )


def _bound_names(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module namespace."""
    names: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            names.add(alias.asname or alias.name.split(".")[0])
        return names
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names if alias.name != "*"}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    for sub in walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
            names.add(sub.name)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names |= _bound_names(sub)
    return names


_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "remove", "add", "clear", "discard", "sort", "reverse"})


def _mutated_names(node: ast.stmt) -> set[str]:
    """Names whose value a statement changes without binding them: `d["k"] = ...`, `obj.x = ...`,
    `d["k"] += 1`, `items.append(x)`; nested statements (loops, ifs) count too."""
    names: set[str] = set()
    for sub in walk(node):
        targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target] if isinstance(sub, (ast.AugAssign, ast.AnnAssign)) else []
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in _MUTATORS:
            targets = [sub.func]
        for target in targets:
            if not isinstance(target, (ast.Subscript, ast.Attribute)):
                continue
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
            if isinstance(target, ast.Name):
                names.add(target.id)
    return names


def _pass(where: ast.AST) -> ast.Pass:
    return ast.copy_location(ast.Pass(), where)


def names_bound_by(node: ast.stmt) -> list[str]:
    """Names a top-level statement binds, as the loader blames a later NameError on it (imports by their first part)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    names = []
    for sub in walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.append(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(sub.name)
    return names


def names_used(tree: ast.Module) -> set[str]:
    """Names the file reads (imports do not count): `Affine(...)`, `layers.Affine`."""
    used = {n.id for n in walk(tree) if isinstance(n, ast.Name)}
    return used | {n.attr for n in walk(tree) if isinstance(n, ast.Attribute)}


# --------------------------------------------------------------------------- the script


def has_driver(tree: ast.Module | None) -> bool:
    """True when the file has a non-empty `if __name__ == "__main__":` block, or module-level
    statements beyond its definitions that call something (building, loading, training)."""
    if tree is None:
        return False
    for node in tree.body:
        if isinstance(node, ast.If) and is_main_guard(node.test) and any(_calls(s) for s in node.body):
            return True
    kept = {id(n) for n in definitions_only(tree).body}
    for node in tree.body:
        if id(node) in kept or (isinstance(node, ast.If) and is_main_guard(node.test)):
            continue
        if _calls(node):
            return True
    return False


def _calls(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return False
    return any(isinstance(sub, ast.Call) for sub in walk(node))


def none_placeholder(tree: ast.Module | None, line: int) -> tuple[str, int] | None:
    """(name, line of `name = None`) for a top-level statement at `line` that reads a name whose last
    top-level binding before it is `name = None`: a notebook's exercise left as handed out
    (`best_softmax = None`, the search that should set it still `pass`)."""
    body = getattr(tree, "body", [])
    statement = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    if statement is None:
        return None
    read = sorted({n.id for n in walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)})
    for name in read:
        bindings = [
            s for s in body if s.lineno < statement.lineno
            for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name
        ]  # fmt: skip
        last = bindings[-1] if bindings else None
        if isinstance(last, ast.Assign) and isinstance(last.value, ast.Constant) and last.value.value is None:
            return name, last.lineno
    return None


def top_level_binding(tree: ast.Module | None, name: str) -> tuple[int, str | None] | None:
    """(line, `parameters['Wf']`) for a name a top-level statement assigns (a notebook's test cell:
    `Wf = np.random.randn(...)`), with how the file reads it from a dict by that key elsewhere, if it
    does; None when no top-level statement binds it."""
    body = getattr(tree, "body", [])
    bound = next(
        (s.lineno for s in body if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign))
         for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name),
        None,
    )  # fmt: skip
    if bound is None:
        return None
    keyed = next(
        (ast.unparse(n) for n in walk(tree) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
         and isinstance(n.slice, ast.Constant) and n.slice.value == name),
        None,
    )  # fmt: skip
    return bound, keyed
