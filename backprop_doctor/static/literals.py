"""The value of literal expressions: numbers, strings, containers of them, simple arithmetic."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from backprop_doctor.static.text import _clip
from backprop_doctor.static.tree import is_data, walk


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
    if is_data(node):  # a pasted data set is not an argument anyone writes by hand
        raise _NotLiteral(f"a data literal of {len(_items(node))} elements is not evaluated")
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


def _items(node: ast.AST) -> list[ast.AST]:
    return node.values if isinstance(node, ast.Dict) else node.elts  # type: ignore[attr-defined]


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


def list_of_index_arrays(tree: ast.AST | None, line: int) -> tuple[str, str] | None:
    """`coef[[y, np.arange(N)]]` on `line`: a list of index arrays, which NumPy before 1.23 read as the
    tuple `coef[y, np.arange(N)]` (one array per axis) and NumPy 1.23 on reads as one index array on
    the first axis. (the subscript as written, as the tuple), or None. A list of plain numbers
    (`x[[0, 2]]`, two rows) is an ordinary index and not named."""
    for node in walk(tree) if tree is not None else ():
        if not (isinstance(node, ast.Subscript) and getattr(node, "lineno", None) == line and isinstance(node.slice, ast.List)):
            continue
        elements = node.slice.elts
        if len(elements) >= 2 and not all(isinstance(e, ast.Constant) for e in elements) and not any(isinstance(e, ast.Starred) for e in elements):
            written = ast.unparse(node)
            as_tuple = f"{ast.unparse(node.value)}[{', '.join(ast.unparse(e) for e in elements)}]"
            return written, as_tuple
    return None
