"""Facts read from a user's source without running it.

Every function here takes a parsed module (`ast.Module`) or one of its function
nodes and returns frozen dataclasses of plain data; nothing is imported,
executed or written back.

- `constructor_calls`, `parse_build_expression`: calls whose arguments are
  literals, so a network can be built with the user's own sizes.
- `hyperparameters`: module-level literal learning rates, batch sizes, epochs...
- `softmax_functions`, `softmax_reductions`, `softmax_diagnosis`: the max and sum
  reductions of a softmax, and whether each one works per row.
- `parameter_updates`: `params[key] -= lr * grads[key]` and its rebinding cousins.
- `find_function`, `definition_line`, `source_segment`, `inplace_writes`,
  `assigning_lines`: where things are, to point a finding at a line.
- `special_method_typos`: `__init`, `_init_`, `__inti__`... in classes.

Lines are 1-based and columns 0-based, as in `ast`.  Functions that accept the
file's `text` use it only to quote the user's own spelling (spacing, comments)
and to count columns in characters; without it, quoted code is `ast.unparse`d
and columns count UTF-8 bytes (the same thing on ASCII lines).
"""

from __future__ import annotations

import ast
import builtins
import copy
import io
import operator
import re
import textwrap
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from backprop_doctor.errors import UsageError

__all__ = [
    "Call",
    "Literal",
    "Reduction",
    "SoftmaxDiagnosis",
    "Typo",
    "Unresolved",
    "Update",
    "assigning_lines",
    "constructor_calls",
    "definition_line",
    "find_function",
    "hyperparameters",
    "inplace_writes",
    "parameter_updates",
    "parse_build_expression",
    "softmax_diagnosis",
    "softmax_functions",
    "softmax_reductions",
    "source_segment",
    "special_method_typos",
]

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


# ------------------------------------------------------------------ source text


class _Text:
    """The file's text, with `ast` positions (line, UTF-8 byte column) turned into offsets."""

    def __init__(self, text: str):
        self.text = text
        # The same line breaks as the tokenizer: \n, \r\n and a lone \r.
        self.lines = io.StringIO(text, newline="").readlines()
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def column(self, lineno: int, byte_col: int) -> int:
        if not 0 < lineno <= len(self.lines):
            return byte_col
        return len(self.lines[lineno - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def offset(self, lineno: int, byte_col: int) -> int:
        if lineno > len(self.lines):
            return len(self.text)
        return self.starts[lineno - 1] + self.column(lineno, byte_col)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def line(self, lineno: int) -> str:
        return self.lines[lineno - 1].rstrip("\r\n") if 0 < lineno <= len(self.lines) else ""


def _source(text: str | None) -> _Text | None:
    return _Text(text) if text is not None else None


def _show(node: ast.AST, src: _Text | None) -> str:
    """The node as the user wrote it when the text is known, else as `ast.unparse` spells it."""
    if src is not None and getattr(node, "end_lineno", None) is not None:
        return src.segment(node)
    return ast.unparse(node)


def _columns(node: ast.AST, src: _Text | None) -> tuple[int, int]:
    """(col, end_col) of a node, in characters when the text is known."""
    col, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    if src is None:
        return col, end
    return src.column(node.lineno, col), src.column(node.end_lineno, end)  # type: ignore[attr-defined]


def _clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def source_segment(text: str, node: ast.AST) -> str | None:
    """The exact text of `node` in `text` (the text it was parsed from), or None without positions."""
    if getattr(node, "end_lineno", None) is None:
        return None
    return _Text(text).segment(node)


# ----------------------------------------------------------------- definitions


def _child_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists nested in a compound statement (not in a def or class)."""
    blocks = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            blocks.append(block)
    blocks.extend(handler.body for handler in getattr(stmt, "handlers", ()))
    blocks.extend(case.body for case in getattr(stmt, "cases", ()))
    return blocks


def _definitions(body: list[ast.stmt]) -> Iterator[FunctionNode | ast.ClassDef]:
    """The defs and classes a block binds, including those under if/for/try, not inside other defs."""
    for stmt in body:
        if isinstance(stmt, _DEFS):
            yield stmt
        else:
            for block in _child_blocks(stmt):
                yield from _definitions(block)


def _walk_defs(tree: ast.AST) -> Iterator[tuple[str, FunctionNode | ast.ClassDef, ast.ClassDef | None]]:
    """(qualname, node, class the node is a method of) for every def and class, outer first."""

    def visit(body: list[ast.stmt], prefix: str, cls: ast.ClassDef | None):
        for node in _definitions(body):
            qualname = prefix + node.name
            yield qualname, node, cls
            yield from visit(node.body, qualname + ".", node if isinstance(node, ast.ClassDef) else None)

    yield from visit(getattr(tree, "body", []), "", None)


def _normal_qualname(qualname: str) -> str:
    return ".".join(part for part in qualname.split(".") if part != "<locals>")


def find_function(tree: ast.AST, qualname: str) -> FunctionNode | None:
    """The def of `qualname` ("softmax", "SoftmaxWithLoss.softmax", "outer.<locals>.inner").

    When a name is defined twice the later definition wins, as it does in Python.
    """
    wanted = _normal_qualname(qualname)
    found = None
    for name, node, _cls in _walk_defs(tree):
        if name == wanted and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = node
    return found


def definition_line(tree: ast.AST, qualname: str) -> int | None:
    """The line of the `def` (or `class`) statement of `qualname`, or None when there is none."""
    wanted = _normal_qualname(qualname)
    line = None
    for name, node, _cls in _walk_defs(tree):
        if name == wanted:
            line = node.lineno
    return line


def _qualnames(tree: ast.AST) -> dict[int, str]:
    return {id(node): name for name, node, _cls in _walk_defs(tree)}


# -------------------------------------------------------------------- literals

_MAX_INT_BITS = 4096  # larger integers are not "sizes"; refusing them keeps evaluation instant
_MAX_LENGTH = 10_000  # longest string or sequence built by arithmetic
_NUMBERS = (int, float, complex)
_SEQUENCES = (str, bytes, tuple, list)
_CONSTANTS = (int, float, complex, str, bytes, bool, type(None))
_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_MISSING = object()


class _NotLiteral(Exception):
    """An expression is not a literal; the message says why, quoting the user's code.

    With a `node`, "{}" in the message stands for that node's code, unparsed only when shown.
    """

    def __init__(self, message: str, node: ast.AST | None = None):
        super().__init__(message)
        self.message, self.node = message, node

    def __str__(self) -> str:
        if self.node is None:
            return self.message
        return self.message.format(_clip(ast.unparse(self.node)))


class _Opaque:
    """What a name holds when it is not a literal; `reason` says how it was bound (built when read)."""

    __slots__ = ("_reason", "_make")

    def __init__(self, reason: str | Callable[[], str]):
        self._reason, self._make = (reason, None) if isinstance(reason, str) else (None, reason)

    @property
    def reason(self) -> str:
        if self._reason is None:
            self._reason = self._make()  # type: ignore[misc]
        return self._reason

    def __repr__(self) -> str:
        return f"_Opaque({self.reason!r})"


def _evaluate(node: ast.AST, lookup: Callable[[str], Any]) -> Any:
    """The value of a literal expression; `lookup` resolves names or raises `_NotLiteral`."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, _CONSTANTS):
            return node.value
        raise _NotLiteral("`{}` is not a literal", node)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                raise _NotLiteral("`{}` unpacks at run time", element)
            items.append(_evaluate(element, lookup))
        if isinstance(node, ast.Tuple):
            return tuple(items)
        if isinstance(node, ast.List):
            return items
        try:
            return set(items)
        except TypeError:
            raise _NotLiteral("`{}` holds unhashable items", node) from None
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _NotLiteral("`{}` unpacks a dict at run time", node)
        try:
            pairs = zip(node.keys, node.values)
            return {_evaluate(k, lookup): _evaluate(v, lookup) for k, v in pairs}  # type: ignore[arg-type]
        except TypeError:
            raise _NotLiteral("`{}` has an unhashable key", node) from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, lookup)
        if isinstance(value, _NUMBERS):
            return -value if isinstance(node.op, ast.USub) else +value
        raise _NotLiteral("`{}` is not arithmetic on numbers", node)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _evaluate(node.left, lookup)
        right = _evaluate(node.right, lookup)
        return _arithmetic(node.op, left, right, node)
    if isinstance(node, ast.Name):
        return lookup(node.id)
    raise _NotLiteral("`{}` is not a literal", node)


def _arithmetic(op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
    """`a op b` for simple arithmetic on literals, refusing anything huge or unusual; `node` is quoted."""
    too_large = _NotLiteral("`{}` is too large to evaluate", node)
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        if isinstance(a, int) and isinstance(b, int):
            if isinstance(op, ast.Pow) and b > 0 and max(abs(a).bit_length(), 1) * b > _MAX_INT_BITS and abs(a) > 1:
                raise too_large
            if isinstance(op, ast.Mult) and abs(a).bit_length() + abs(b).bit_length() > _MAX_INT_BITS:
                raise too_large
    elif isinstance(op, ast.Add) and type(a) is type(b) and isinstance(a, _SEQUENCES):
        if len(a) + len(b) > _MAX_LENGTH:
            raise too_large
    elif isinstance(op, ast.Mult) and (
        (isinstance(a, _SEQUENCES) and type(b) is int) or (type(a) is int and isinstance(b, _SEQUENCES))
    ):
        sequence, count = (a, b) if isinstance(a, _SEQUENCES) else (b, a)
        if len(sequence) * max(count, 0) > _MAX_LENGTH:
            raise too_large
    else:
        raise _NotLiteral("`{}` is not simple arithmetic on literals", node)
    try:
        result = _OPERATORS[type(op)](a, b)
    except (ArithmeticError, ValueError, TypeError) as error:
        raise _NotLiteral("`{}` raises " + type(error).__name__, node) from None
    if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS:
        raise too_large
    return result


def _same(a: Any, b: Any) -> bool:
    """Two bindings hold the same literal (1, 1.0 and True differ)."""
    if a is b:
        return True
    if a is _MISSING or b is _MISSING or isinstance(a, _Opaque) or isinstance(b, _Opaque):
        return False
    return type(a) is type(b) and repr(a) == repr(b)


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
    return [child for child in ast.iter_child_nodes(stmt) if isinstance(child, ast.expr)]


def _calls_in(expressions: Iterable[ast.AST]) -> Iterator[tuple[ast.Call, frozenset[str]]]:
    """Every call in the expressions, with the names comprehensions and lambdas shadow there."""

    def visit(node: ast.AST, shadow: frozenset[str]) -> Iterator[tuple[ast.Call, frozenset[str]]]:
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            shadow = shadow | {n for g in node.generators for n in _target_names(g.target)}
        elif isinstance(node, ast.Lambda):
            shadow = shadow | {a.arg for a in _all_arguments(node.args)}
        elif isinstance(node, ast.Call):
            yield node, shadow
        for child in ast.iter_child_nodes(node):
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
                for node in ast.walk(case.pattern):
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
            for node in ast.walk(expression):
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
        for child in ast.iter_child_nodes(node):
            visit(child, in_comprehension_target)

    for stmt in function.body:
        visit(stmt)
    return names - declared


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
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
    for node in ast.walk(tree):
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


# ------------------------------------------------------------ hyper-parameters

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


# ------------------------------------------------------------- softmax reductions

_MAX_FUNCTIONS = {"max", "amax", "nanmax"}
_SUM_FUNCTIONS = {"sum", "nansum"}


@dataclass(frozen=True)
class Reduction:
    """One max or sum reduction in a softmax, and whether it works per row.

    `fixed` is the same call rewritten to reduce per row with `keepdims=True`
    (equal to `source` when it already does).  `per_row` is None when that
    cannot be told (an axis that is not a literal, or code only 1-D input reaches).
    """

    function: str  # qualname of the softmax, e.g. "SoftmaxWithLoss.softmax"
    line: int
    col: int
    end_line: int
    end_col: int
    source: str  # the call as written: "np.sum(exp_x)"
    kind: str  # "max" or "sum"
    axis: int | tuple[int, ...] | None
    axis_known: bool  # False when the axis is not a literal
    keepdims: bool | None  # None when not a literal
    fixed: str  # "np.sum(exp_x, axis=1, keepdims=True)"
    per_row: bool | None
    is_wrong: bool
    is_harmless: bool  # a global max shift next to per-row sums: harmless, do not flag it alone
    transposed: bool = False  # the reduced array is the transpose of the input, so axis 0 is per row
    one_d_only: bool = False  # inside a branch only 1-D input reaches (`if x.ndim == 1:`)
    reason: str = ""


@dataclass(frozen=True)
class SoftmaxDiagnosis:
    """What is wrong with one softmax and the whole function rewritten to reduce per row."""

    wrong: list[Reduction]
    harmless: list[Reduction]
    fixed_source: str  # the function, dedented, with the wrong reductions and a global max rewritten
    function: str = ""
    line: int = 0  # the def line
    correct: list[Reduction] = field(default_factory=list)
    unknown: list[Reduction] = field(default_factory=list)  # the axis is not a literal
    axis: int = -1  # the axis the rewrites use (0 for reductions of a transposed input)
    note: str = ""  # why that axis

    @property
    def ok(self) -> bool:
        return not self.wrong

    @property
    def reductions(self) -> list[Reduction]:
        everything = self.wrong + self.harmless + self.correct + self.unknown
        return sorted(everything, key=lambda r: (r.line, r.col))


@dataclass
class _Candidate:
    """A reduction found in a softmax, with the flow facts that judge it."""

    node: ast.Call
    kind: str  # "max" or "sum"
    axis_index: int | None  # where a positional axis would sit in node.args
    transposed: bool  # it reduces the transpose of the input
    one_d: bool  # only 1-D input reaches it


@dataclass
class _SoftmaxState:
    transposed: set[str] = field(default_factory=set)
    exp: set[str] = field(default_factory=set)
    one_d: bool = False

    def copy(self) -> _SoftmaxState:
        return _SoftmaxState(set(self.transposed), set(self.exp), self.one_d)

    def become(self, other: _SoftmaxState) -> None:
        self.transposed, self.exp, self.one_d = other.transposed, other.exp, other.one_d


def _numpy_names(tree: ast.AST | None) -> tuple[set[str], dict[str, str]]:
    """(aliases of numpy itself, {local name: numpy function} imported with `from numpy import`)."""
    modules = {"np", "numpy"}
    functions: dict[str, str] = {}
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    modules.add(alias.asname or "numpy")
        elif isinstance(node, ast.ImportFrom) and node.module == "numpy":
            for alias in node.names:
                functions[alias.asname or alias.name] = alias.name
    return modules, functions


def _reduction_shape(call: ast.Call, numpy: tuple[set[str], dict[str, str]]) -> tuple[str, ast.expr | None, int] | None:
    """(kind, reduced operand, index of a positional axis) when the call is a max or sum reduction."""
    modules, functions = numpy
    func = call.func

    def first_argument() -> ast.expr | None:
        if call.args and not isinstance(call.args[0], ast.Starred):
            return call.args[0]
        return next((k.value for k in call.keywords if k.arg == "a"), None)

    if isinstance(func, ast.Attribute):
        if func.attr == "logsumexp":
            return "sum", first_argument(), 1
        if isinstance(func.value, ast.Name) and func.value.id in modules:
            if func.attr in _MAX_FUNCTIONS:
                return "max", first_argument(), 1
            if func.attr in _SUM_FUNCTIONS:
                return "sum", first_argument(), 1
            return None
        if func.attr in ("max", "sum"):
            return func.attr, func.value, 0
        return None
    if isinstance(func, ast.Name):
        original = functions.get(func.id)
        if original in _MAX_FUNCTIONS:
            return "max", first_argument(), 1
        if original in _SUM_FUNCTIONS:
            return "sum", first_argument(), 1
        if func.id == "logsumexp":
            return "sum", first_argument(), 1
    return None


def _axis_of(call: ast.Call, axis_index: int) -> tuple[bool, Any, ast.expr | None]:
    """(known, value, node) of the call's axis argument."""
    node = call.args[axis_index] if len(call.args) > axis_index else None
    node = next((k.value for k in call.keywords if k.arg == "axis"), node)
    if node is None:
        return True, None, None
    try:
        value = _evaluate(node, _no_names)
    except _NotLiteral:
        return False, None, node
    if value is None or type(value) is int or (isinstance(value, tuple) and all(type(v) is int for v in value)):
        return True, value, node
    return False, None, node


def _no_names(name: str) -> Any:
    raise _NotLiteral(f"`{name}` is a name")


def _keepdims_of(call: ast.Call) -> bool | None:
    node = next((k.value for k in call.keywords if k.arg == "keepdims"), None)
    if node is None:
        return False
    try:
        value = _evaluate(node, _no_names)
    except _NotLiteral:
        return None
    return bool(value)


def _is_transposed(node: ast.AST | None, names: set[str]) -> bool:
    """Whether the array an expression computes is the transpose of the function's input."""
    if node is None:
        return False
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):
        return not _is_transposed(node.value, names) if node.attr == "T" else False
    if isinstance(node, (ast.UnaryOp,)):
        return _is_transposed(node.operand, names)
    if isinstance(node, ast.BinOp):
        return _is_transposed(node.left, names) or _is_transposed(node.right, names)
    if isinstance(node, ast.Subscript):
        return _is_transposed(node.value, names)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _MAX_FUNCTIONS | _SUM_FUNCTIONS | {"mean", "argmax", "logsumexp", "reshape", "ravel", "flatten"}:
            return False
        receiver_is_module = isinstance(func, ast.Attribute) and _is_module(func.value)
        if name == "transpose":
            if receiver_is_module:
                inner = node.args[0] if node.args else None
            else:
                inner = func.value if isinstance(func, ast.Attribute) else None
            return not _is_transposed(inner, names)
        if isinstance(func, ast.Attribute) and not receiver_is_module:
            return _is_transposed(func.value, names)  # x.copy(), x.astype(...)
        if node.args:
            return _is_transposed(node.args[0], names)  # np.exp(x), np.log(x)
    return False


def _mentions_exp(node: ast.AST | None, names: set[str]) -> bool:
    """Whether an expression holds exponentials: `np.exp(x)`, a name bound to one, `e * mask`...

    Stops at any other call (`np.log(e)`, `np.sum(e)`) and at indexing (`probs[range(N), y]`),
    so a loss summed from them is not taken for a normalisation.
    """
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.BinOp):
        return _mentions_exp(node.left, names) or _mentions_exp(node.right, names)
    if isinstance(node, ast.UnaryOp):
        return _mentions_exp(node.operand, names)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "exp":
            return True
        if name in ("copy", "astype") and isinstance(func, ast.Attribute):
            return _mentions_exp(func.value, names)
    return False


def _is_rank(node: ast.AST) -> bool:
    """`x.ndim`, `np.ndim(x)` or `len(x.shape)`."""
    if isinstance(node, ast.Attribute) and node.attr == "ndim":
        return True
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "ndim":
            return True
        if isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
            argument = node.args[0]
            return isinstance(argument, ast.Attribute) and argument.attr == "shape"
    return False


_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}  # fmt: skip


def _rank_branch(test: ast.AST) -> str | None:
    """"1d" when a test holds for 1-D input and not 2-D (`x.ndim == 1`), "2d" for the reverse."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return {"1d": "2d", "2d": "1d"}.get(_rank_branch(test.operand) or "")
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARE):
        return None
    compare = _COMPARE[type(test.ops[0])]
    left, right = test.left, test.comparators[0]
    if _is_rank(left) and isinstance(right, ast.Constant) and type(right.value) is int:
        holds = lambda n: compare(n, right.value)  # noqa: E731
    elif _is_rank(right) and isinstance(left, ast.Constant) and type(left.value) is int:
        holds = lambda n: compare(left.value, n)  # noqa: E731
    else:
        return None
    one, two = holds(1), holds(2)
    return "1d" if one and not two else "2d" if two and not one else None


def _softmax_candidates(function: FunctionNode, numpy: tuple[set[str], dict[str, str]]) -> list[_Candidate]:
    """The max and sum reductions of a softmax, with the flow facts each one needs."""
    found: list[_Candidate] = []
    parents = {id(child): parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}

    def normalises(call: ast.Call, operand: ast.expr | None, state: _SoftmaxState) -> bool:
        if _mentions_exp(operand, state.exp):
            return True
        parent = parents.get(id(call))
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Div) and parent.right is call:
            return True
        if isinstance(parent, ast.AugAssign) and isinstance(parent.op, ast.Div):
            return True
        if isinstance(parent, ast.Call):
            func = parent.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name == "log"
        return False

    def visit(expression: ast.AST, state: _SoftmaxState):
        for node in ast.walk(expression):
            if not isinstance(node, ast.Call):
                continue
            shape = _reduction_shape(node, numpy)
            if shape is None:
                continue
            kind, operand, axis_index = shape
            is_normalising = kind == "max" or normalises(node, operand, state)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "logsumexp":
                is_normalising = True
            if not is_normalising:
                continue
            transposed = _is_transposed(operand, state.transposed)
            found.append(_Candidate(node, kind, axis_index, transposed, state.one_d))

    def update(stmt: ast.stmt, state: _SoftmaxState):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            transposed = _is_transposed(stmt.value, state.transposed)
            exp = _mentions_exp(stmt.value, state.exp)
            for target in targets:
                if isinstance(target, ast.Name):
                    (state.transposed.add if transposed else state.transposed.discard)(target.id)
                    (state.exp.add if exp else state.exp.discard)(target.id)
                else:
                    for name in _target_names(target):
                        state.transposed.discard(name)
                        state.exp.discard(name)

    def walk(stmts: list[ast.stmt], state: _SoftmaxState) -> bool:
        for stmt in stmts:
            if isinstance(stmt, _DEFS):
                continue
            for expression in _own_expressions(stmt):
                visit(expression, state)
            if isinstance(stmt, ast.If):
                branch = _rank_branch(stmt.test)
                body, other = state.copy(), state.copy()
                if branch == "1d":
                    body.one_d = True
                elif branch == "2d":
                    other.one_d = True
                body_leaves = walk(stmt.body, body)
                other_leaves = walk(stmt.orelse, other)
                if body_leaves and other_leaves:
                    return True
                if body_leaves:
                    state.become(other)
                elif other_leaves:
                    state.become(body)
                else:
                    merged = _SoftmaxState(body.transposed | other.transposed, body.exp | other.exp)
                    merged.one_d = body.one_d and other.one_d
                    state.become(merged)
                continue
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                for name in _target_names(stmt.target):
                    state.transposed.discard(name)
                    state.exp.discard(name)
            for block in _child_blocks(stmt):
                walk(block, state)
            update(stmt, state)
            if isinstance(stmt, (ast.Return, ast.Raise)):
                return True
        return False

    walk(function.body, _SoftmaxState())
    return found


class _Rewriter:
    """Renders code with some reduction calls rewritten to reduce over a given axis, keepdims=True."""

    def __init__(self, plans: dict[tuple[int, int, int, int], tuple[int, int | None]], src: _Text | None):
        self.plans = plans  # position of a call -> (axis, index of a positional axis)
        self.src = src

    @staticmethod
    def key(node: ast.AST) -> tuple[int, int, int, int]:
        return (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def render(self, node: ast.AST) -> str:
        if self.src is None or getattr(node, "end_lineno", None) is None:
            return ast.unparse(self._transformed(node))
        if isinstance(node, ast.Call) and self.key(node) in self.plans:
            return self.fixed(node)
        return self._splice(node, *self.src.span(node))

    def render_lines(self, node: ast.AST, first_line: int) -> str:
        """Whole lines from `first_line` to the end of `node`, rewritten and dedented."""
        if self.src is None:
            return ast.unparse(self._transformed(node))
        start = self.src.starts[first_line - 1]
        end = self.src.span(node)[1]
        return textwrap.dedent(self._splice(node, start, end))

    def fixed(self, call: ast.Call) -> str:
        if self.src is None:
            return ast.unparse(self._transformed(call))
        axis, axis_index = self.plans[self.key(call)]
        parts = []
        axis_done = keep_done = False
        for index, argument in enumerate(call.args):
            if index == axis_index:
                parts.append(str(axis))
                axis_done = True
            else:
                parts.append(self.render(argument))
        for keyword in call.keywords:
            if keyword.arg == "axis":
                parts.append(f"axis={axis}")
                axis_done = True
            elif keyword.arg == "keepdims":
                parts.append("keepdims=True")
                keep_done = True
            else:
                parts.append(self.render(keyword))
        if not axis_done:
            parts.append(f"axis={axis}")
        if not keep_done:
            parts.append("keepdims=True")
        return f"{self.render(call.func)}({', '.join(parts)})"

    def _splice(self, container: ast.AST, start: int, end: int) -> str:
        assert self.src is not None
        inner: list[ast.Call] = []

        def collect(node: ast.AST):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Call) and self.key(child) in self.plans:
                    inner.append(child)
                else:
                    collect(child)

        collect(container)
        pieces, position = [], start
        for call in sorted(inner, key=lambda c: self.src.span(c)[0]):  # type: ignore[union-attr]
            call_start, call_end = self.src.span(call)
            pieces += [self.src.text[position:call_start], self.fixed(call)]
            position = call_end
        pieces.append(self.src.text[position:end])
        return "".join(pieces)

    def _transformed(self, node: ast.AST) -> ast.AST:
        plans, key = self.plans, self.key

        class Apply(ast.NodeTransformer):
            def visit_Call(self, call: ast.Call) -> ast.AST:
                plan = plans.get(key(call)) if getattr(call, "end_lineno", None) is not None else None
                self.generic_visit(call)
                if plan is None:
                    return call
                axis, axis_index = plan
                if axis_index is not None and axis_index < len(call.args):
                    call.args[axis_index] = ast.Constant(axis)
                    call.keywords = [k for k in call.keywords if k.arg != "axis"]
                else:
                    call.keywords = [k for k in call.keywords if k.arg != "axis"]
                    call.keywords.append(ast.keyword("axis", ast.Constant(axis)))
                call.keywords = [k for k in call.keywords if k.arg != "keepdims"] + [
                    ast.keyword("keepdims", ast.Constant(True))
                ]
                return call

        return Apply().visit(copy.deepcopy(node))


def _row_axis_convention(tree: ast.AST | None) -> int:
    """1 when the file writes `axis=1` for its (batch, classes) arrays and never `axis=-1`, else -1."""
    ones = minus_ones = 0
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.keyword) and node.arg == "axis":
            try:
                value = _evaluate(node.value, _no_names)
            except _NotLiteral:
                continue
            ones += value == 1 and type(value) is int
            minus_ones += value == -1 and type(value) is int
    return 1 if ones and not minus_ones else -1


def _axis_note(axis: int) -> str:
    if axis == 1:
        return (
            "The rewrite reduces with axis=1, keepdims=True, the axis=1 this file already uses for its "
            "(batch, classes) arrays; axis=-1 does the same for any number of batch axes. keepdims=True keeps "
            "an (N, 1) column that broadcasts across each row."
        )
    return (
        "The rewrite reduces with axis=-1, keepdims=True: the last axis holds the classes whatever the batch "
        "shape (for 2-D input it is axis=1), and keepdims=True keeps an (N, 1) column that broadcasts across "
        "each row."
    )


def softmax_diagnosis(
    function: FunctionNode,
    *,
    text: str | None = None,
    qualname: str | None = None,
    row_axis: int | None = None,
    tree: ast.AST | None = None,
) -> SoftmaxDiagnosis:
    """Judge every max and sum reduction of one softmax-like function.

    A reduction is per row when it runs over the class axis of each sample:
    `axis=-1` or `axis=1` (with keepdims, or reshaped, when it is broadcast back),
    or `axis=0` of an array the function transposed first (the book's 2-D
    softmax does `x = x.T` ... `return y.T`).  Code only 1-D input reaches
    (`if x.ndim == 1:`, or after `if x.ndim == 2: ... return`) is correct as it
    is.  Sums count when they normalise (they add up `np.exp(...)` or divide);
    a loss `np.sum(...)` is left alone.  A global `np.max(x)` shift is harmless
    while every normalising sum is per row (softmax ignores a constant shift),
    so it is listed as `harmless`, not `wrong`, then; it is still rewritten in
    `fixed_source` for clarity.  `row_axis` is the axis rewrites use; by default
    1 when the file (`tree`, else the function) writes `axis=1` and never
    `axis=-1`, as 2-D book code does, else -1.  `tree` also lets numpy imported
    under another name be found.
    """
    src = _source(text)
    if row_axis is None:
        row_axis = _row_axis_convention(tree if tree is not None else function)
    name = qualname or function.name
    numpy = _numpy_names(tree if tree is not None else function)
    candidates = _softmax_candidates(function, numpy)
    parents = {id(child): parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}

    judged = []
    for candidate in candidates:
        call = candidate.node
        known, axis, _node = _axis_of(call, candidate.axis_index or 0)
        keepdims = _keepdims_of(call)
        shown = _show(call, src)
        rows = {0} if candidate.transposed else {1, -1}
        if candidate.one_d:
            verdict, per_row = "correct", None
            reason = f"`{shown}` only runs for 1-D input, where it reduces the one row"
        elif not known:
            verdict, per_row, reason = "unknown", None, f"the axis of `{shown}` is not a literal"
        else:
            if axis is None:
                per_row = False
            elif isinstance(axis, int):
                per_row = axis in rows
            else:
                per_row = len(axis) == 1 and axis[0] in rows
            parent = parents.get(id(call))
            broadcast_back = (isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Sub, ast.Div))) or (
                isinstance(parent, ast.AugAssign) and isinstance(parent.op, (ast.Sub, ast.Div))
            )
            misaligned = per_row and not candidate.transposed and keepdims is not True and broadcast_back
            if misaligned:
                per_row = False
            verdict = "correct" if per_row else "wrong"
            reason = _reduction_reason(candidate, shown, axis, per_row, misaligned)
        judged.append([candidate, verdict, per_row, known, axis, keepdims, reason])

    sums_wrong = any(c.kind == "sum" and v == "wrong" for c, v, *_ in judged)
    for entry in judged:
        candidate, verdict, _per_row, known, axis, _keepdims, _reason = entry
        if candidate.kind == "max" and verdict == "wrong" and known and axis is None and not sums_wrong:
            entry[1] = "harmless"
            entry[6] = (
                f"`{_show(candidate.node, src)}` shifts by one maximum over the whole batch; softmax ignores a "
                "constant shift and the sums here are per row, so this is harmless (a per-row max is still safer: "
                "a row far below the batch maximum can underflow to 0/0)"
            )
        elif candidate.kind == "max" and verdict == "wrong" and known and axis is None:
            entry[6] += "; shifting by it is harmless only when the sum is per row, and here it is not"

    def plan_for(candidate: _Candidate) -> tuple[int, int | None]:
        index = candidate.axis_index if candidate.axis_index is not None else 0
        positional = len(candidate.node.args) > index and not any(k.arg == "axis" for k in candidate.node.keywords)
        return (0 if candidate.transposed else row_axis, index if positional else None)

    reductions: dict[str, list[Reduction]] = {"wrong": [], "harmless": [], "correct": [], "unknown": []}
    plans = {}
    for candidate, verdict, per_row, known, axis, keepdims, reason in judged:
        call = candidate.node
        plan = plan_for(candidate)
        fixed = _Rewriter({_Rewriter.key(call): plan}, src).fixed(call) if verdict != "correct" else _show(call, src)
        if verdict in ("wrong", "harmless"):
            plans[_Rewriter.key(call)] = plan
        col, end_col = _columns(call, src)
        reductions[verdict].append(
            Reduction(
                function=name,
                line=call.lineno,
                col=col,
                end_line=call.end_lineno or call.lineno,
                end_col=end_col,
                source=_show(call, src),
                kind=candidate.kind,
                axis=axis,
                axis_known=known,
                keepdims=keepdims,
                fixed=fixed,
                per_row=per_row,
                is_wrong=verdict == "wrong",
                is_harmless=verdict == "harmless",
                transposed=candidate.transposed,
                one_d_only=candidate.one_d,
                reason=reason,
            )
        )
    first_line = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    fixed_source = _Rewriter(plans, src).render_lines(function, first_line)
    return SoftmaxDiagnosis(
        wrong=reductions["wrong"],
        harmless=reductions["harmless"],
        fixed_source=fixed_source,
        function=name,
        line=function.lineno,
        correct=reductions["correct"],
        unknown=reductions["unknown"],
        axis=row_axis,
        note=_axis_note(row_axis),
    )


def _reduction_reason(candidate: _Candidate, shown: str, axis: Any, per_row: bool, misaligned: bool) -> str:
    if misaligned:
        return (
            f"`{shown}` reduces each row but drops the axis: its (N,) result lines up with the columns when it is "
            "broadcast back; keep the axis with keepdims=True"
        )
    if per_row:
        if candidate.transposed:
            return f"`{shown}` reduces axis 0 of the transposed input, that is over the classes of each sample"
        return f"`{shown}` reduces over the classes of each row"
    if axis is None:
        if candidate.kind == "sum":
            return f"`{shown}` adds up the whole batch, so all rows together sum to 1 instead of each row"
        return f"`{shown}` takes one maximum over the whole batch"
    if candidate.transposed:
        return f"`{shown}` reduces over the batch axis of the transposed input, not over each sample's classes"
    if axis == 0:
        if candidate.kind == "sum":
            return (
                f"`{shown}` sums down the columns (over the batch), so each class column sums to 1 instead of each row"
            )
        return f"`{shown}` subtracts a different maximum from each column, which changes every row's probabilities"
    return f"`{shown}` reduces over axis {axis}, not over the classes of each row"


def softmax_functions(tree: ast.AST) -> list[tuple[str, FunctionNode]]:
    """(qualname, def) of every softmax-like function: its name contains "softmax" (any case), or it is
    `forward`/`__call__` of a class whose name does."""
    found = []
    for qualname, node, cls in _walk_defs(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if "softmax" in node.name.lower() or (
            cls is not None and "softmax" in cls.name.lower() and node.name in ("forward", "__call__")
        ):
            found.append((qualname, node))
    return found


def softmax_reductions(
    tree: ast.AST, function: FunctionNode | None = None, *, text: str | None = None
) -> list[Reduction]:
    """Every max and sum reduction in the softmax-like functions of `tree` (or only in `function`).

    See `softmax_diagnosis` for how each is judged.  Rewrites use `axis=1` when
    the file writes `axis=1` and never `axis=-1` (2-D book code), else `axis=-1`.
    """
    axis = _row_axis_convention(tree)
    names = _qualnames(tree)
    targets = [(names.get(id(function), function.name), function)] if function is not None else softmax_functions(tree)
    found: list[Reduction] = []
    for qualname, node in targets:
        found += softmax_diagnosis(node, text=text, qualname=qualname, row_axis=axis, tree=tree).reductions
    return found


# ---------------------------------------------------------- parameter updates

_PARAM_CONTAINER = re.compile(r"param|weight", re.IGNORECASE)
_PARAM_NAME = re.compile(
    r"[Ww]\d*|b\d*|W[a-z]{1,2}\d*|b[a-z]\d*|weights?\d*|bias(?:es)?\d*|gamma\d*|beta\d*|kernel|embed\w*|params?|theta"
)
_LEARNING_RATE = re.compile(r"(?:lr|learning_?rate|eta|alpha|step_?size)(?:_\w*)?|\w*_lr", re.IGNORECASE)
_GRADIENT = re.compile(r"(?i:\w*grad\w*)|d[A-Z]\w*|d(?:w|b|gamma|beta|theta|params?)\d*|g")
_VELOCITY = re.compile(r"v|m|h|vel\w*|velocity|momentum|cache|moment\w*")


@dataclass(frozen=True)
class Update:
    """A statement that updates parameters, and its in-place form.

    `kind` is "in-place" (`p -= lr * g`, `p[...] = p - lr * g`), "rebind-entry"
    (`params[key] = params[key] - ...`: layers holding the old array keep it),
    "rebind-attribute" (`self.W = self.W - ...`), "rebind-loop-variable"
    (`for p, g in zip(params, grads): p = p - lr * g` changes nothing) or
    "rebind-name" (`W1 = W1 - lr * dW1`).
    """

    line: int
    col: int
    end_line: int
    end_col: int
    source: str  # the statement as written
    fix: str  # the in-place form, e.g. "network.params[key] -= learning_rate * grad[key]"
    in_place: bool
    kind: str
    target: str  # "network.params[key]"
    function: str | None = None  # qualname of the enclosing function, None at module level


def _chain(node: ast.AST) -> list[str]:
    """Identifiers along `a.b[c].d` (the subscripts themselves left out): a, b, d."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _identifiers(node: ast.AST) -> set[str]:
    found = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            found.add(inner.id)
        elif isinstance(inner, ast.Attribute):
            found.add(inner.attr)
    return found


def _loop_roles(loop: ast.For | ast.AsyncFor) -> dict[str, str]:
    """Loop variables that stand for parameters or gradients: `for p, g in zip(params, grads)`."""

    def role(expression: ast.AST) -> str | None:
        identifiers = _identifiers(expression)
        if any(_PARAM_CONTAINER.search(i) for i in identifiers):
            return "param"
        if any("grad" in i.lower() for i in identifiers):
            return "grad"
        return None

    target, iterable = loop.target, loop.iter
    pairs: list[tuple[ast.AST, ast.AST]] = []
    if isinstance(iterable, ast.Call) and isinstance(target, (ast.Tuple, ast.List)):
        func = iterable.func
        if isinstance(func, ast.Name) and func.id == "zip" and len(iterable.args) == len(target.elts):
            pairs = list(zip(target.elts, iterable.args))
        elif isinstance(func, ast.Name) and func.id == "enumerate" and iterable.args and len(target.elts) == 2:
            pairs = [(target.elts[1], iterable.args[0])]
        elif isinstance(func, ast.Attribute) and func.attr == "items" and len(target.elts) == 2:
            pairs = [(target.elts[1], func.value)]
    elif isinstance(target, ast.Name):
        func = iterable.func if isinstance(iterable, ast.Call) else None
        if not (isinstance(func, ast.Attribute) and func.attr == "keys"):
            pairs = [(target, iterable)]
    roles = {}
    for element, source in pairs:
        if isinstance(element, ast.Name) and (r := role(source)):
            roles[element.id] = r
    return roles


def _param_like(node: ast.AST, roles: Mapping[str, str]) -> bool:
    names = _chain(node)
    if not names:
        return False
    if len(names) == 1 and isinstance(node, ast.Name):
        return roles.get(node.id) == "param" or bool(_PARAM_NAME.fullmatch(node.id))
    if names[0] in roles and roles[names[0]] == "param":
        return True
    return any(_PARAM_CONTAINER.search(n) for n in names) or bool(_PARAM_NAME.fullmatch(names[-1]))


def _steps(node: ast.AST, roles: Mapping[str, str]) -> bool:
    """Whether an expression looks like an update step (mentions a learning rate, gradient or velocity)."""
    for identifier in _identifiers(node):
        if roles.get(identifier) == "grad":
            return True
        if _LEARNING_RATE.fullmatch(identifier) or _GRADIENT.fullmatch(identifier) or _VELOCITY.fullmatch(identifier):
            return True
    return False


def _same_expression(a: ast.AST, b: ast.AST) -> bool:
    return ast.unparse(a) == ast.unparse(b)


def _whole_array(index: ast.AST) -> bool:
    """`[...]` or `[:]`: a slice assignment that writes into the array itself."""
    if isinstance(index, ast.Constant) and index.value is Ellipsis:
        return True
    return isinstance(index, ast.Slice) and index.lower is None and index.upper is None and index.step is None


def parameter_updates(tree: ast.AST, *, text: str | None = None) -> list[Update]:
    """Statements anywhere in the file that update parameters with a step, in source order.

    A target counts as a parameter when its name path holds "param" or "weight"
    (`params[key]`, `network.params[key]`, `self.weights`), ends in a usual
    parameter name (`W`, `b1`, `self.W`, `gamma`), or is a loop variable over
    parameters; the step must mention a learning rate, a gradient or a velocity.
    """
    src = _source(text)
    names = _qualnames(tree)
    found: list[Update] = []

    def make(stmt: ast.stmt, target: ast.AST, op: ast.operator, step: ast.AST, kind: str, function: str | None):
        symbol = "-" if isinstance(op, ast.Sub) else "+"
        col, end_col = _columns(stmt, src)
        found.append(
            Update(
                line=stmt.lineno,
                col=col,
                end_line=stmt.end_lineno or stmt.lineno,
                end_col=end_col,
                source=_show(stmt, src),
                fix=f"{_show(target, src)} {symbol}= {_show(step, src)}",
                in_place=kind == "in-place",
                kind=kind,
                target=_show(target, src),
                function=function,
            )
        )

    def check(stmt: ast.stmt, roles: Mapping[str, str], function: str | None):
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Sub, ast.Add)):
            if _param_like(stmt.target, roles) and _steps(stmt.value, roles):
                make(stmt, stmt.target, stmt.op, stmt.value, "in-place", function)
            return
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return
        target, value = stmt.targets[0], stmt.value
        if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add))):
            return
        if not _steps(value.right, roles):
            return
        if isinstance(target, ast.Subscript) and _whole_array(target.slice) and _param_like(target.value, roles):
            if _same_expression(value.left, target.value) or _same_expression(value.left, target):
                make(stmt, target.value, value.op, value.right, "in-place", function)
            return
        if not (_param_like(target, roles) and _same_expression(value.left, target)):
            return
        if isinstance(target, ast.Subscript):
            kind = "rebind-entry"
        elif isinstance(target, ast.Attribute):
            kind = "rebind-attribute"
        elif isinstance(target, ast.Name) and roles.get(target.id) == "param":
            kind = "rebind-loop-variable"
        else:
            kind = "rebind-name"
        make(stmt, target, value.op, value.right, kind, function)

    def visit(body: list[ast.stmt], roles: Mapping[str, str], function: str | None):
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(stmt.body, {}, names.get(id(stmt), stmt.name))
                continue
            if isinstance(stmt, ast.ClassDef):
                visit(stmt.body, {}, function)
                continue
            check(stmt, roles, function)
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                visit(stmt.body, {**roles, **_loop_roles(stmt)}, function)
                visit(stmt.orelse, roles, function)
                continue
            for block in _child_blocks(stmt):
                visit(block, roles, function)

    visit(getattr(tree, "body", []), {}, None)
    return sorted(found, key=lambda u: (u.line, u.col))


# ------------------------------------------------------------- in-place writes

_MUTATING_ARRAY_METHODS = {"fill", "sort", "resize", "put", "itemset", "partition", "setfield"}
_MUTATING_FUNCTIONS = {"copyto", "put", "place", "putmask", "fill_diagonal", "shuffle"}  # change their 1st argument
_VIEW_METHODS = {"reshape", "view", "ravel", "transpose", "swapaxes", "squeeze", "T"}


def _is_alias(node: ast.AST, aliases: set[str]) -> bool:
    """Whether an expression is the array itself or a view of it (`x`, `x.T`, `x.reshape(...)`, `x[:, 0]`)."""
    if isinstance(node, ast.Name):
        return node.id in aliases
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return _is_alias(node.value, aliases)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _VIEW_METHODS:
        return _is_alias(node.func.value, aliases)
    if isinstance(node, ast.Subscript):
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        basic = all(
            isinstance(p, ast.Slice)
            or (isinstance(p, ast.Constant) and (p.value is Ellipsis or p.value is None or type(p.value) is int))
            for p in parts
        )
        return basic and _is_alias(node.value, aliases)
    return False


def _writes_target(target: ast.AST, aliases: set[str]) -> bool:
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_writes_target(e, aliases) for e in target.elts)
    if isinstance(target, ast.Starred):
        return _writes_target(target.value, aliases)
    return isinstance(target, (ast.Subscript, ast.Attribute)) and _root_name(target) in aliases


def _writes_through_call(expression: ast.AST, aliases: set[str]) -> bool:
    for node in ast.walk(expression):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "out":
                outs = keyword.value.elts if isinstance(keyword.value, ast.Tuple) else [keyword.value]
                if any(_root_name(o) in aliases for o in outs):
                    return True
        func = node.func
        if not isinstance(func, ast.Attribute):
            continue
        if func.attr in _MUTATING_ARRAY_METHODS and _root_name(func.value) in aliases and not _is_module(func.value):
            return True
        changes_first = func.attr in _MUTATING_FUNCTIONS or func.attr == "at"
        if changes_first and node.args and _root_name(node.args[0]) in aliases:
            return True
    return False


def _is_module(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in {"np", "numpy", "random"}


def _statement_text(stmt: ast.stmt, src: _Text | None) -> str:
    if isinstance(stmt, (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try, ast.Match)):
        if src is not None:
            return src.line(stmt.lineno).strip()
        return ast.unparse(stmt).splitlines()[0]
    return _show(stmt, src).strip()


def inplace_writes(function_node: FunctionNode, arg_name: str, *, text: str | None = None) -> list[tuple[int, str]]:
    """(line, statement) for every statement of a function that writes into its argument `arg_name`.

    Writes through `x[...] = `, `x.attr = `, `x -= `, `out=x`, `x.fill(...)`,
    `np.copyto(x, ...)`, `np.add.at(x, ...)`, also through an alias or view
    (`dx = dout` then `dx[mask] = 0`).  Rebinding the name (`x = x.copy()`)
    ends the tracking: later writes go to a new array.
    """
    src = _source(text)
    aliases = {arg_name}
    found: dict[int, str] = {}

    def record(stmt: ast.stmt):
        found.setdefault(stmt.lineno, _statement_text(stmt, src))

    def walk(stmts: list[ast.stmt]):
        for stmt in stmts:
            if isinstance(stmt, _DEFS):
                continue
            if any(_writes_through_call(e, aliases) for e in _own_expressions(stmt)):
                record(stmt)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(_writes_target(t, aliases) for t in targets):
                    record(stmt)
                alias = _is_alias(stmt.value, aliases)
                for target in targets:
                    if isinstance(target, ast.Name):
                        (aliases.add if alias else aliases.discard)(target.id)
                    else:
                        for name in _target_names(target):
                            aliases.discard(name)
            elif isinstance(stmt, ast.AugAssign):
                target = stmt.target
                if (isinstance(target, ast.Name) and target.id in aliases) or _writes_target(target, aliases):
                    record(stmt)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                for name in _target_names(stmt.target):
                    aliases.discard(name)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        for name in _target_names(item.optional_vars):
                            aliases.discard(name)
            for block in _child_blocks(stmt):
                walk(block)

    walk(function_node.body)
    return sorted(found.items())


def assigning_lines(function_node: FunctionNode, target_attr: str) -> list[int]:
    """Lines of a function that assign an attribute (`self.mask = ...`, `self.mask[i] = ...`, `self.W -= ...`).

    `target_attr` is the attribute name ("mask") or a dotted path ("self.mask").
    """

    def matches(node: ast.AST) -> bool:
        while isinstance(node, ast.Subscript):
            node = node.value
        if not isinstance(node, ast.Attribute):
            return False
        return ast.unparse(node) == target_attr if "." in target_attr else node.attr == target_attr

    def flatten(target: ast.AST) -> list[ast.AST]:
        if isinstance(target, (ast.Tuple, ast.List)):
            return [t for e in target.elts for t in flatten(e)]
        if isinstance(target, ast.Starred):
            return flatten(target.value)
        return [target]

    lines = set()
    for node in ast.walk(function_node):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(matches(t) for target in targets for t in flatten(target)):
            lines.add(node.lineno)
    return sorted(lines)


# ---------------------------------------------------------- special method typos

_OPERATOR_CORES = "add sub mul matmul truediv floordiv div mod divmod pow lshift rshift and xor or".split()
_REAL_DUNDERS = frozenset(
    f"__{core}__"
    for core in (
        "new init del repr str bytes format lt le eq ne gt ge hash bool getattr getattribute setattr delattr "
        "dir get set delete set_name init_subclass class_getitem call len length_hint getitem setitem delitem "
        "missing iter next reversed contains neg pos abs invert complex int float index round trunc floor ceil "
        "enter exit aenter aexit await aiter anext copy deepcopy getstate setstate reduce reduce_ex getnewargs "
        "getnewargs_ex getinitargs sizeof subclasshook instancecheck subclasscheck prepare mro_entries fspath "
        "post_init buffer release_buffer array array_ufunc array_function array_finalize array_wrap "
        "array_prepare array_interface array_priority array_namespace dlpack dlpack_device "
        "nonzero unicode cmp coerce long oct hex getslice setslice delslice rich rich_repr rich_console "
        "html signature"
    ).split()
    + _OPERATOR_CORES
    + [f"r{c}" for c in _OPERATOR_CORES]
    + [f"i{c}" for c in _OPERATOR_CORES]
)
# Single-underscore hooks of Enum and IPython: real names, never typos.
_SUNDERS = frozenset(
    "_missing_ _generate_next_value_ _ignore_ _order_ _name_ _value_ _numeric_repr_ _add_alias_ "
    "_add_value_alias_ _repr_html_ _repr_markdown_ _repr_svg_ _repr_png_ _repr_jpeg_ _repr_latex_ "
    "_repr_json_ _repr_javascript_ _repr_pdf_ _repr_mimebundle_ _repr_pretty_ _ipython_display_ "
    "_ipython_key_completions_".split()
)
# The protocols a near miss is most likely meant for; fuzzy matches are only tried against these.
_INTENDED = (
    "__init__", "__call__", "__repr__", "__len__", "__getitem__", "__setitem__", "__iter__", "__str__",
    "__eq__", "__hash__", "__enter__", "__exit__", "__del__", "__new__", "__post_init__", "__next__",
    "__contains__",
)  # fmt: skip


@dataclass(frozen=True)
class Typo:
    """A method whose name is a near miss of a special method, so Python never calls it."""

    class_name: str
    method: str  # as written: "__init"
    intended: str  # "__init__"
    line: int  # the def line
    col: int  # 0-based column of the method name on that line
    consequence: str  # what goes wrong, in full sentences
    reason: str = ""  # "Python never calls `__init`"
    effect: str = ""  # the clause after "so": "`self.mask` is never initialised"
    attributes: tuple[str, ...] = ()  # the self attributes the method assigns
    parameters: tuple[str, ...] = ()  # its parameters after self
    failing_calls: tuple[Call, ...] = ()  # constructor calls in the file that raise TypeError because of it
    fix: str = ""  # the corrected def line: "def __init__(self):"

    @property
    def raises_type_error(self) -> bool:
        return bool(self.failing_calls)


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance counting a swap of two neighbours as one edit (`inti` -> `init`)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _intended_dunder(name: str) -> str | None:
    """The special method a name misspells, or None (`__init` -> `__init__`, `__inti__` -> `__init__`)."""
    if name in _REAL_DUNDERS:
        return None
    core = name.strip("_")
    leading = len(name) - len(name.lstrip("_"))
    trailing = len(name) - len(name.rstrip("_"))
    if not core or leading == 0 or (leading == 1 and trailing == 0) or name in _SUNDERS:
        return None  # `init_` avoids a keyword, `_init` is a private helper, `_missing_` is Enum's
    lowered = core.lower()
    ordered = list(_INTENDED)
    if (leading, trailing) != (1, 1):  # `_name_` is how Enum and IPython spell their own hooks
        ordered += sorted(_REAL_DUNDERS - set(_INTENDED))
    for real in ordered:
        if real[2:-2] == lowered:
            return real  # the right letters with the wrong underscores or case
    if leading == 0 or trailing == 0:
        return None  # a private `__name` is only taken as a typo when its letters match exactly
    best: tuple[int, str] | None = None
    for real in _INTENDED:
        wanted = real[2:-2]
        limit = 0 if len(wanted) <= 2 else 1 if len(wanted) <= 4 else 2
        distance = _edit_distance(lowered, wanted)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, real)
    return best[1] if best else None


def _self_attributes(method: FunctionNode) -> tuple[str, ...]:
    arguments = [*method.args.posonlyargs, *method.args.args]
    if not arguments:
        return ()
    this = arguments[0].arg
    found: dict[str, None] = {}
    for node in ast.walk(method):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == this
        ):
            found.setdefault(node.attr)
    return tuple(found)


def _parameters_after_self(method: FunctionNode) -> tuple[str, ...]:
    args = method.args
    names = [a.arg for a in [*args.posonlyargs, *args.args][1:]]
    names += [f"*{args.vararg.arg}"] if args.vararg else []
    names += [a.arg for a in args.kwonlyargs]
    names += [f"**{args.kwarg.arg}"] if args.kwarg else []
    return tuple(names)


def _referenced_names(tree: ast.AST) -> set[str]:
    """Attribute names the file reads as the end of a path (`self.__init()`, `obj.init`), and string constants."""
    inner_values = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and id(node) not in inner_values:
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
    return found


def _phrase(attributes: tuple[str, ...]) -> str:
    shown = [f"`self.{a}`" for a in attributes]
    if len(shown) > 4:
        shown = shown[:3] + [f"{len(shown) - 3} more attributes"]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _never(attributes: tuple[str, ...], verb: str) -> str:
    """"`self.W` and `self.b` are never set"."""
    return f"{_phrase(attributes)} {'is' if len(attributes) == 1 else 'are'} never {verb}"


_EFFECTS = {
    "__call__": "calling a `{C}` instance raises TypeError: '{C}' object is not callable",
    "__repr__": "repr() shows the default `<{C} object at 0x...>`",
    "__str__": "print() and str() show the default `<{C} object at 0x...>`",
    "__len__": "len() of a `{C}` raises TypeError: object of type '{C}' has no len()",
    "__getitem__": "indexing a `{C}` raises TypeError: '{C}' object is not subscriptable",
    "__setitem__": "assigning to an item of a `{C}` raises TypeError: '{C}' object does not support item assignment",
    "__iter__": "iterating over a `{C}` raises TypeError: '{C}' object is not iterable",
    "__next__": "next() on a `{C}` raises TypeError: '{C}' object is not an iterator",
    "__contains__": "`in` falls back to iterating over the `{C}` (or raises TypeError)",
    "__eq__": "== compares `{C}` objects by identity, not by value",
    "__hash__": "hash() of a `{C}` uses its identity",
    "__enter__": "`with {C}(...):` raises TypeError: '{C}' object does not support the context manager protocol",
    "__exit__": "`with {C}(...):` raises TypeError: '{C}' object does not support the context manager protocol",
    "__del__": "it never runs when a `{C}` is garbage-collected",
    "__new__": "it is never used to create `{C}` objects",
}


def _is_dataclass(cls: ast.ClassDef) -> bool:
    for decorator in cls.decorator_list:
        node = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if name == "dataclass":
            return True
    return False


def _def_line_fix(method: FunctionNode, intended: str, src: _Text | None) -> tuple[str, int]:
    """(corrected def line, 0-based column of the method name)."""
    if src is not None:
        line = src.line(method.lineno)
        match = re.search(rf"\bdef\s+({re.escape(method.name)})(?!\w)", line)
        if match:
            fixed = line[: match.start(1)] + intended + line[match.end(1) :]
            return fixed.strip(), match.start(1)
    prefix = "async def" if isinstance(method, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(method.returns)}" if method.returns is not None else ""
    return f"{prefix} {intended}({ast.unparse(method.args)}){returns}:", method.col_offset + len(prefix) + 1


def special_method_typos(tree: ast.AST, *, text: str | None = None) -> list[Typo]:
    """Methods whose names are near misses of special methods, so Python never calls them.

    Caught: the right letters with the wrong underscores or case (`__init`,
    `_init_`, `__init_`, `_init__`, `___init__`, `__init___`, `__Init__`) for any
    special method (a single `_name_` only for the common ones below: Enum and
    IPython spell their own hooks that way, `_missing_`); small misspellings inside double underscores (`__inti__`,
    `__intit__`, `__ini__`, `__cal__`, `__get_item__`) of the common ones
    (`__init__`, `__call__`, `__len__`, `__getitem__`...); `__int__` (a real
    method, int conversion) when the class has no `__init__` and it takes
    arguments or sets attributes; and a method `init` that sets attributes in a
    class without `__init__` that nothing calls.  Real special methods, private
    helpers (`_init`), names the file calls or reads (`self.__init()`), and near
    misses in a class that also defines the intended method are never flagged.
    """
    src = _source(text)
    referenced = _referenced_names(tree)
    calls: dict[str, list[Call]] = {}
    found: list[Typo] = []
    for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
        methods = [s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        defined = {m.name for m in methods}
        for method in methods:
            attributes = _self_attributes(method)
            parameters = _parameters_after_self(method)
            reason = f"Python never calls `{method.name}`"
            intended: str | None = None
            if method.name == "__int__":
                if "__init__" not in defined and (parameters or attributes):
                    intended = "__init__"
                    reason = "`__int__` is the int() conversion hook, not the constructor"
            elif method.name == "init":
                if "__init__" not in defined and attributes and "init" not in referenced:
                    intended = "__init__"
                    reason = "Python calls `__init__` when an object is created, never `init`"
            else:
                intended = _intended_dunder(method.name)
                # Python mangles `__name` inside its class, so only the class itself can call it.
                mangled = method.name.startswith("__") and not method.name.endswith("__")
                used = method.name in (_referenced_names(cls) if mangled else referenced)
                if intended is not None and (intended in defined or used):
                    intended = None
            if intended is None:
                continue
            if intended == "__init__" and not calls and isinstance(tree, ast.Module):
                calls = constructor_calls(tree) or {"": []}  # only needed to name the calls that raise
            found.append(_typo(cls, method, intended, reason, attributes, parameters, calls, src))
    return sorted(found, key=lambda t: (t.line, t.col))


def _typo(
    cls: ast.ClassDef,
    method: FunctionNode,
    intended: str,
    reason: str,
    attributes: tuple[str, ...],
    parameters: tuple[str, ...],
    calls: dict[str, list[Call]],
    src: _Text | None,
) -> Typo:
    name = cls.name
    fix, col = _def_line_fix(method, intended, src)
    bases = [b for b in cls.bases if not (isinstance(b, ast.Name) and b.id == "object")]
    failing: tuple[Call, ...] = ()
    if intended == "__init__":
        if bases:
            default = f"the `__init__` inherited from `{ast.unparse(bases[0])}` runs instead"
        elif _is_dataclass(cls):
            default = "the dataclass-generated `__init__` runs instead"
        else:
            default = "Python's default `__init__` runs instead"
            if "__new__" not in {s.name for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}:
                failing = tuple(c for c in calls.get(name, []) if c.args or c.kwargs)
        set_part = _never(attributes, "set") if attributes else "its body never runs"
        never = "runs only for int(obj)" if method.name == "__int__" else "is never called"
        consequence = f"`{name}.{method.name}` {never}, so {set_part} when `{name}()` is created; {default}."
        type_error = f"TypeError: {name}() takes no arguments"
        if failing:
            consequence += f" `{failing[0].source}` (line {failing[0].line}) raises {type_error}."
        elif parameters and not bases and not _is_dataclass(cls):
            consequence += f" Creating it with arguments, as in `{name}({', '.join(parameters)})`, raises {type_error}."
        effects = []
        if attributes:
            effects.append(_never(attributes, "initialised"))
        if failing:
            effects.append(f"`{failing[0].source}` (line {failing[0].line}) raises {type_error}")
        effect = " and ".join(effects) or f"its body never runs when `{name}()` is created"
    elif intended == "__post_init__":
        set_part = _never(attributes, "set") if attributes else "its body never runs"
        effect = set_part
        consequence = (
            f"`{name}.{method.name}` is never called: a dataclass calls only `__post_init__` after `__init__`, "
            f"so {set_part}."
        )
    else:
        effect = _EFFECTS.get(intended, f"Python never uses it for `{intended}`").format(C=name)
        consequence = f"`{name}.{method.name}` is never called by Python, so {effect}."
    return Typo(
        class_name=name,
        method=method.name,
        intended=intended,
        line=method.lineno,
        col=col,
        consequence=consequence,
        reason=reason,
        effect=effect,
        attributes=attributes,
        parameters=parameters,
        failing_calls=failing,
        fix=fix,
    )
