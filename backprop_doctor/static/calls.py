"""Constructor calls with literal arguments, and the flow analysis that resolves names to literals."""

from __future__ import annotations

import ast
import builtins
import copy
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from backprop_doctor.errors import UsageError
from backprop_doctor.static.literals import _MISSING, _NotLiteral, _OPERATORS, _Opaque, _arithmetic, _evaluate, _same
from backprop_doctor.static.text import _clip
from backprop_doctor.static.tree import DEFS as _DEFS, FunctionNode, children, is_data, walk


def _target_names(target: ast.AST) -> list[str]:
    """The plain names an assignment target binds (`a, (b, *c)` -> a, b, c)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _root_name(node: ast.AST) -> str | None:
    """`x` in `x`, `x.a`, `x[i].b`..."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _own_expressions(stmt: ast.stmt) -> list[ast.expr]:
    """The expressions a statement evaluates itself, not those of the blocks nested in it."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [*stmt.decorator_list, *stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]
    if isinstance(stmt, ast.ClassDef):
        return [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        return [h.type for h in stmt.handlers if h.type is not None]
    if isinstance(stmt, ast.Match):
        return [stmt.subject]
    return [child for child in children(stmt) if isinstance(child, ast.expr)]


def _calls_in(expressions: Iterable[ast.AST]) -> Iterator[tuple[ast.Call, frozenset[str]]]:
    """Every call in the expressions, with the names comprehensions and lambdas shadow there."""

    def visit(node: ast.AST, shadow: frozenset[str]) -> Iterator[tuple[ast.Call, frozenset[str]]]:
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            shadow = shadow | {n for g in node.generators for n in _target_names(g.target)}
        elif isinstance(node, ast.Lambda):
            shadow = shadow | {a.arg for a in _all_arguments(node.args)}
        elif isinstance(node, ast.Call):
            yield node, shadow
        for child in children(node):
            yield from visit(child, shadow)

    for expression in expressions:
        yield from visit(expression, frozenset())


def _all_arguments(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    found += [a for a in (args.vararg, args.kwarg) if a is not None]
    return found


_MUTATING_METHODS = {
    "append", "extend", "insert", "pop", "remove", "clear", "update",
    "setdefault", "popitem", "add", "discard", "sort", "reverse",
}  # fmt: skip


class _Flow:
    """Walks one scope's statements in execution order, tracking the names that hold literals.

    `env` maps a name to its literal value or to an `_Opaque` saying why it has
    none.  Branches are merged (a name bound differently on two paths becomes
    opaque); a loop body is walked once to find the names that change from one
    pass to the next, which become opaque, and once more to record.
    """

    def __init__(
        self,
        outer: Mapping[str, Any],
        on_statement: Callable[[ast.stmt, dict[str, Any]], None] | None = None,
        on_bind: Callable[[str, Any, ast.stmt, ast.AST | None], None] | None = None,
        on_nested: Callable[[FunctionNode | ast.ClassDef], None] | None = None,
    ):
        self.outer = outer
        self.on_statement = on_statement
        self.on_bind = on_bind
        self.on_nested = on_nested

    def lookup(self, env: Mapping[str, Any], shadow: frozenset[str] = frozenset()) -> Callable[[str], Any]:
        return _lookup(env, self.outer, shadow)

    def block(self, stmts: list[ast.stmt], env: dict[str, Any], record: bool) -> bool:
        """Walk the statements; True when the block always leaves (return, raise, break...)."""
        for stmt in stmts:
            if self.statement(stmt, env, record):
                return True
        return False

    def statement(self, stmt: ast.stmt, env: dict[str, Any], record: bool) -> bool:
        if record and self.on_statement is not None:
            self.on_statement(stmt, env)
        line = stmt.lineno
        self._side_effects(stmt, env, record)
        if isinstance(stmt, _DEFS):
            kind = "class" if isinstance(stmt, ast.ClassDef) else "function"
            self.bind(env, stmt.name, _Opaque(f"`{stmt.name}` is a {kind} (line {line})"), stmt, None, record)
            if record and self.on_nested is not None:
                self.on_nested(stmt)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                name = alias.asname or alias.name.split(".")[0]
                if name != "*":
                    self.bind(env, name, _Opaque(f"`{name}` is imported (line {line})"), stmt, None, record)
        elif isinstance(stmt, ast.Assign):
            self.assign(stmt.targets, stmt.value, env, stmt, record)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign([stmt.target], stmt.value, env, stmt, record)
        elif isinstance(stmt, ast.AugAssign):
            self.augmented(stmt, env, record)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                for name in _target_names(target):
                    self.bind(env, name, _Opaque(f"`{name}` is deleted (line {line})"), stmt, None, record)
                self.touch(target, env, line)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            self.loop(stmt, env, record)
        elif isinstance(stmt, ast.If):
            body, orelse = dict(env), dict(env)
            ends = [(body, self.block(stmt.body, body, record)), (orelse, self.block(stmt.orelse, orelse, record))]
            return self.join(env, ends, line)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
                        self.bind(env, name, _Opaque(f"`{name}` is bound by `with` (line {line})"), stmt, None, record)
            return self.block(stmt.body, env, record)
        elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            return self.attempt(stmt, env, record)
        elif isinstance(stmt, ast.Match):
            ends = [(dict(env), False)]  # no case matched
            for case in stmt.cases:
                case_env = dict(env)
                for node in walk(case.pattern):
                    name = getattr(node, "name", None) or getattr(node, "rest", None)
                    if isinstance(name, str):
                        case_env[name] = _Opaque(f"`{name}` is bound by `case` (line {case.pattern.lineno})")
                ends.append((case_env, self.block(case.body, case_env, record)))
            return self.join(env, ends, line)
        elif isinstance(stmt, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
            return True
        return False

    def bind(self, env: dict[str, Any], name: str, value: Any, stmt: ast.stmt, node: ast.AST | None, record: bool):
        env[name] = value
        if record and self.on_bind is not None:
            self.on_bind(name, value, stmt, node)

    def assign(self, targets: list[ast.expr], value_node: ast.expr, env: dict[str, Any], stmt: ast.stmt, record: bool):
        try:
            value: Any = _evaluate(value_node, self.lookup(env))
        except _NotLiteral:
            value = _Opaque("")
        for target in targets:
            self.assign_target(target, value, value_node, env, stmt, record)

    def assign_target(self, target: ast.expr, value: Any, node: ast.AST | None, env, stmt, record):
        line = stmt.lineno
        if isinstance(target, ast.Name):
            if isinstance(value, _Opaque):
                name = target.id

                def reason() -> str:
                    if node is not None and is_data(node):
                        shown = " to a data literal"
                    else:
                        shown = f" to `{_clip(ast.unparse(node))}`" if node is not None else ""
                    return f"`{name}` is bound{shown} at line {line}, which is not a literal"

                value = _Opaque(reason)
            self.bind(env, target.id, value, stmt, node, record)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elements = target.elts
            if (
                isinstance(value, (tuple, list))
                and len(value) == len(elements)
                and not any(isinstance(e, ast.Starred) for e in elements)
            ):
                nodes: list[ast.AST | None] = [None] * len(elements)
                if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == len(elements):
                    nodes = list(node.elts)
                for element, item, item_node in zip(elements, value, nodes):
                    self.assign_target(element, item, item_node, env, stmt, record)
            else:
                for name in _target_names(target):
                    self.bind(env, name, _Opaque(f"`{name}` is bound by unpacking at line {line}"), stmt, None, record)
        else:
            self.touch(target, env, line)

    def augmented(self, stmt: ast.AugAssign, env: dict[str, Any], record: bool):
        target = stmt.target
        if not isinstance(target, ast.Name):
            self.touch(target, env, stmt.lineno)
            return
        try:
            if type(stmt.op) not in _OPERATORS:
                raise _NotLiteral("`{}` is not simple arithmetic", stmt)
            lookup = self.lookup(env)
            value: Any = _arithmetic(stmt.op, lookup(target.id), _evaluate(stmt.value, lookup), stmt)
        except _NotLiteral:
            value = _Opaque(lambda: f"`{target.id}` is changed by `{_clip(ast.unparse(stmt))}` at line {stmt.lineno}")
        self.bind(env, target.id, value, stmt, None, record)

    def touch(self, target: ast.AST, env: dict[str, Any], line: int):
        """`x[0] = ...` or `x.a = ...` changes the literal `x` holds: it is no longer known."""
        name = _root_name(target)
        if name is not None and name in env and not isinstance(env[name], _Opaque):
            env[name] = _Opaque(f"`{name}` is modified at line {line}")

    def _side_effects(self, stmt: ast.stmt, env: dict[str, Any], record: bool):
        for expression in _own_expressions(stmt):
            for node in walk(expression):
                if isinstance(node, ast.NamedExpr):
                    name = node.target.id
                    reason = f"`{name}` is bound by `:=` at line {stmt.lineno}"
                    self.bind(env, name, _Opaque(reason), stmt, None, record)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _MUTATING_METHODS
                ):
                    self.touch(node.func.value, env, stmt.lineno)

    def loop(self, stmt: ast.For | ast.AsyncFor | ast.While, env: dict[str, Any], record: bool):
        line = stmt.lineno
        entry = dict(env)
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            for name in _target_names(stmt.target):
                self.bind(entry, name, _Opaque(f"`{name}` is a loop variable (line {line})"), stmt, None, record)
            self.touch(stmt.target, entry, line)
        trial = dict(entry)
        self.block(stmt.body, trial, record=False)
        for name in set(trial) | set(entry):
            if not _same(trial.get(name, _MISSING), entry.get(name, _MISSING)):
                entry[name] = _Opaque(f"`{name}` changes from one pass of the loop at line {line} to the next")
        passes = dict(entry)
        self.block(stmt.body, passes, record)
        self.join(env, [(entry, False), (passes, False)], line)
        self.block(stmt.orelse, env, record)

    def attempt(self, stmt: ast.Try, env: dict[str, Any], record: bool) -> bool:
        line = stmt.lineno
        start = dict(env)
        body = dict(env)
        ends = [(body, self.block(stmt.body, body, record) or self.block(stmt.orelse, body, record))]
        for handler in stmt.handlers:
            handler_env = _merge([start, body], line)
            if handler.name:
                handler_env[handler.name] = _Opaque(f"`{handler.name}` is an exception (line {handler.lineno})")
            ends.append((handler_env, self.block(handler.body, handler_env, record)))
        left = self.join(env, ends, line)
        return self.block(stmt.finalbody, env, record) or left

    def join(self, env: dict[str, Any], ends: list[tuple[dict[str, Any], bool]], line: int) -> bool:
        """Continue with the merge of the paths that fall through; True when none does."""
        live = [end for end, left in ends if not left]
        if not live:
            return True
        merged = _merge(live, line)
        env.clear()
        env.update(merged)
        return False


def _merge(envs: list[dict[str, Any]], line: int) -> dict[str, Any]:
    if len(envs) == 1:
        return dict(envs[0])
    merged = {}
    for name in set().union(*envs):
        values = [env.get(name, _MISSING) for env in envs]
        if all(_same(values[0], v) for v in values[1:]):
            merged[name] = values[0]
        elif all(isinstance(v, _Opaque) for v in values):
            merged[name] = values[0]
        else:
            merged[name] = _Opaque(f"`{name}` is bound differently on different paths (line {line})")
    return merged


def _lookup(env: Mapping[str, Any], outer: Mapping[str, Any], shadow: frozenset[str]) -> Callable[[str], Any]:
    def lookup(name: str) -> Any:
        if name in shadow:
            raise _NotLiteral(f"`{name}` is a comprehension or lambda variable")
        value = env[name] if name in env else outer.get(name, _MISSING)
        if value is _MISSING:
            if hasattr(builtins, name):
                raise _NotLiteral(f"`{name}` is a built-in, not a literal")
            raise _NotLiteral(f"`{name}` is not bound to a literal before this line")
        if isinstance(value, _Opaque):
            raise _NotLiteral(value.reason or f"`{name}` is not a literal")
        return copy.deepcopy(value)

    return lookup


def _local_names(function: FunctionNode) -> set[str]:
    """Names a function binds in its own scope (Python makes them local everywhere in it)."""
    names: set[str] = set()
    declared: set[str] = set()

    def visit(node: ast.AST, in_comprehension_target: bool = False):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, _DEFS):
            names.add(node.name)
            for expression in _own_expressions(node):
                visit(expression)
            return
        elif isinstance(node, ast.Lambda):
            return
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and not in_comprehension_target:
            names.add(node.id)
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        if isinstance(node, ast.comprehension):
            visit(node.target, True)
            visit(node.iter)
            for condition in node.ifs:
                visit(condition)
            return
        for child in children(node):
            visit(child, in_comprehension_target)

    for stmt in function.body:
        visit(stmt)
    return names - declared


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*")
    return names


def _scan(
    tree: ast.Module,
    on_call: Callable[[ast.Call, Callable[[str], Any]], None] | None,
    on_module_bind: Callable[[str, Any, ast.stmt, ast.AST | None], None] | None = None,
    module_only: bool = False,
) -> None:
    """Walk every scope of the module in order, reporting calls (with a name resolver) and bindings."""

    def run(body: list[ast.stmt], env: dict[str, Any], outer: Mapping[str, Any], on_bind=None):
        nested: list[FunctionNode | ast.ClassDef] = []
        bound: dict[str, list[Any]] = {}

        def on_statement(stmt: ast.stmt, now: dict[str, Any]):
            if on_call is not None:
                for call, shadow in _calls_in(_own_expressions(stmt)):
                    on_call(call, _lookup(now, outer, shadow))

        def record(name: str, value: Any, stmt: ast.stmt, node: ast.AST | None):
            bound.setdefault(name, []).append(value)
            if on_bind is not None:
                on_bind(name, value, stmt, node)

        _Flow(outer, on_statement, record, nested.append).block(body, env, True)
        agreed = {}
        for name, values in bound.items():
            first = values[0]
            if all(_same(first, v) for v in values[1:]):
                agreed[name] = first
            else:
                agreed[name] = _Opaque(f"`{name}` is bound more than once, to different values")
        return nested, agreed

    nested, agreed = run(tree.body, {}, ChainMap(), on_module_bind)
    if module_only:
        return
    for node in walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                agreed[name] = _Opaque(f"`{name}` is also assigned inside a function (`global {name}`)")
    queue: list[tuple[FunctionNode | ast.ClassDef, ChainMap]] = [(n, ChainMap(agreed)) for n in nested]
    while queue:
        node, outer = queue.pop(0)
        if isinstance(node, ast.ClassDef):
            inner, _ = run(node.body, {}, outer)
            queue.extend((n, outer) for n in inner)  # methods do not see the class body's names
            continue
        parameters = {a.arg for a in _all_arguments(node.args)}
        env: dict[str, Any] = {}
        for name in _local_names(node) - parameters:
            env[name] = _Opaque(f"`{name}` is used before it is assigned in `{node.name}`")
        for name in parameters:
            env[name] = _Opaque(f"`{name}` is a parameter of `{node.name}`")
        inner, local = run(node.body, env, outer)
        for name in parameters:
            local[name] = env[name]
        queue.extend((n, outer.new_child(local)) for n in inner)


# ---------------------------------------------------------- constructor calls


@dataclass(frozen=True)
class Unresolved:
    """An argument that is not a literal, kept in `Call.args`/`Call.kwargs` in its place."""

    source: str  # the argument as written
    reason: str  # why it is not a literal

    def __repr__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Call:
    """A call `Name(...)` or `module.Name(...)`, with its arguments evaluated where they are literals.

    `literal` is False when some argument is not a literal (those arguments are
    `Unresolved` and `reason` says why); a builder should only use literal calls.
    """

    name: str  # "TwoLayerNet"
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    line: int | None  # None for a --build expression
    col: int | None = None
    literal: bool = True
    reason: str | None = None  # why it is not literal, e.g. "argument 1: `x.shape[1]` is not a literal"
    qualifier: str | None = None  # "models" in `models.TwoLayerNet(...)`
    source: str = ""  # the call as written (ast.unparse of it)

    def expression(self) -> str:
        """The call with its evaluated arguments: `TwoLayerNet(input_size=784, hidden_size=50, output_size=10)`."""
        parts = [repr(value) for value in self.args]
        parts += [f"{key}={value!r}" for key, value in self.kwargs.items()]
        prefix = f"{self.qualifier}." if self.qualifier else ""
        return f"{prefix}{self.name}({', '.join(parts)})"


def _make_call(node: ast.Call, lookup: Callable[[str], Any], modules: set[str] | None) -> Call | None:
    """A `Call` record for `Name(...)` or `module.Name(...)`; None for other call shapes.

    `modules` are the names a qualifier may be (the file's imports); None allows any.
    """
    func = node.func
    if isinstance(func, ast.Name):
        name, qualifier = func.id, None
    elif (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and (modules is None or func.value.id in modules)
    ):
        name, qualifier = func.attr, func.value.id
    else:
        return None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    reasons: list[str] = []
    for position, argument in enumerate(node.args, 1):
        if isinstance(argument, ast.Starred):
            text = ast.unparse(argument)
            reasons.append(f"argument {position}: `{_clip(text)}` unpacks arguments at run time")
            args.append(Unresolved(text, "unpacks arguments at run time"))
            continue
        try:
            args.append(_evaluate(argument, lookup))
        except _NotLiteral as error:
            reasons.append(f"argument {position}: {error}")
            args.append(Unresolved(ast.unparse(argument), str(error)))
    for keyword in node.keywords:
        if keyword.arg is None:
            reasons.append(f"`**{_clip(ast.unparse(keyword.value))}` unpacks keyword arguments at run time")
            continue
        try:
            kwargs[keyword.arg] = _evaluate(keyword.value, lookup)
        except _NotLiteral as error:
            reasons.append(f"`{keyword.arg}=`: {error}")
            kwargs[keyword.arg] = Unresolved(ast.unparse(keyword.value), str(error))
    return Call(
        name=name,
        args=tuple(args),
        kwargs=kwargs,
        line=node.lineno,
        col=node.col_offset,
        literal=not reasons,
        reason="; ".join(reasons) or None,
        qualifier=qualifier,
        source=ast.unparse(node),
    )


def constructor_calls(tree: ast.Module) -> dict[str, list[Call]]:
    """Every call `Name(...)` or `module.Name(...)` in the file, keyed by `Name`, in source order.

    Calls at module level, in loops, in functions and methods all count; a
    `module` qualifier must be a name the file imports (so `self.f()` and
    `x.sum()` are left out).  Arguments are evaluated when they are literals:
    numbers, strings, bools, None, tuples/lists/sets/dicts of literals, unary
    minus and + - * / // % ** between literals, and names bound to literals.  A
    name resolves to the value it holds at that point of the module (in order,
    through branches and loops), or inside a function to a local literal or to
    the one literal the module binds it to.  Calls with any other argument are
    recorded with `literal=False` and the reason.
    """
    modules = _imported_names(tree)
    found: dict[str, list[Call]] = {}

    def on_call(node: ast.Call, lookup: Callable[[str], Any]):
        call = _make_call(node, lookup, modules)
        if call is not None:
            found.setdefault(call.name, []).append(call)

    _scan(tree, on_call)
    for calls in found.values():
        calls.sort(key=lambda c: (c.line or 0, c.col or 0))
    return found


_BUILD_EXAMPLE = "`TwoLayerNet(input_size=20, hidden_size=8, output_size=4)`"


def parse_build_expression(text: str) -> Call:
    """Parse a `--build` string such as `TwoLayerNet(input_size=20, hidden_size=8, output_size=4)`.

    It is parsed with `ast`, never evaluated: it must be one call of a class
    name (optionally `module.Name`) whose arguments are literals.  Anything
    else raises `UsageError` saying what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"--build needs a call such as {_BUILD_EXAMPLE}")
    stripped = text.strip()
    try:
        node = ast.parse(stripped, mode="eval").body
    except SyntaxError as error:
        raise UsageError(
            f"--build {stripped!r} is not valid Python ({error.msg}); write a call such as {_BUILD_EXAMPLE}"
        ) from None
    if not isinstance(node, ast.Call):
        raise UsageError(f"--build {stripped!r} is not a call; write a call such as {_BUILD_EXAMPLE}")

    def no_names(name: str) -> Any:
        raise _NotLiteral(f"`{name}` is a name; --build takes literal values only")

    call = _make_call(node, no_names, None)
    if call is None:
        raise UsageError(
            f"--build must call a class by its name, like {_BUILD_EXAMPLE}; "
            f"`{_clip(ast.unparse(node.func))}` is not a name"
        )
    if not call.literal:
        raise UsageError(
            "--build arguments must be literals (numbers, strings, True/False/None, tuples, lists, dicts): "
            f"{call.reason}"
        )
    return replace(call, line=None, col=None, source=stripped)
