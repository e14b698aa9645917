"""Parsing a file whose data literal holds hundreds of thousands of numbers.

`DATA = [0.1, 0.2, ...]` with 700,000 numbers costs Python one syntax node per
number: parsing it takes seconds, and compiling the tree again as long. Nothing
the tool reads from the source needs those nodes (`tree.walk` skips them), and
the program needs only their values. So `parse` finds each long run of plain
numbers in the text (`1.5, -2, 3e-4, ...`, at least `tree.DATA_MIN` of them),
reads its values with `int`/`float` (what the compiler does for a literal),
and parses the text with the run replaced by one placeholder name of the same
place. In the tree the placeholder becomes `*(values...)`, a starred constant:
`[*(0.1, 0.2, ...)]` builds the same list as the literal (CPython compiles a
long constant list that way itself), a tuple, a set and a call's arguments
alike. Lines and columns of every other node are the file's own.

When anything is in doubt (a run inside a string or a comment, a run that is
not a container's elements, a number Python would reject, a syntax error),
`parse` returns None and the caller parses the text as it is.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager

from backprop_doctor.static.tree import DATA_MIN, packed_size, walk


# A stretch of characters numbers and their separators are made of, starting where a token may start.
_STRETCH = re.compile(r"(?<![\w.])[-+.0-9][-+0-9._eE, \t\f\n]{%d,}" % (2 * DATA_MIN))
_PLACEHOLDER = "__bpd_packed_{}__"
_FLOAT_MARKS = re.compile("[.eE]")


def parse(text: str, filename: str = "<unknown>") -> ast.Module | None:
    """The tree of `text` with its long runs of numbers packed into starred constants, or None.

    None when the text holds no run of at least `DATA_MIN` numbers, or when the
    packed text cannot stand for the original (the caller then parses `text` itself).
    Raises nothing: a syntax error of the packed text is a None too.
    """
    if len(text) < 2 * DATA_MIN or "__bpd_packed_" in text:
        return None
    runs: list[tuple[int, str]] = []  # (start, text up to and with the last comma)
    values: list[tuple[object, ...]] = []
    for match in _STRETCH.finditer(text):
        run = match.group()[: match.group().rfind(",") + 1]
        if run.count(",") < DATA_MIN:
            continue
        numbers = _values(run)
        if numbers is not None:
            runs.append((match.start(), run))
            values.append(numbers)
    if not runs:
        return None
    parts: list[str] = []
    last = 0
    for index, (start, run) in enumerate(runs):
        placeholder = _PLACEHOLDER.format(index) + ","
        if "\n" in run:  # only the run's last line holds code after it: keep that line's columns
            blank = placeholder + "\n" * run.count("\n") + " " * len(run.rpartition("\n")[2])
        else:
            blank = placeholder + " " * max(0, len(run) - len(placeholder))
        parts += [text[last:start], blank]
        last = start + len(run)
    parts.append(text[last:])
    try:
        tree = ast.parse("".join(parts), filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not _unpack_placeholders(tree, [run for _, run in runs], values):
        return None
    return tree


def _values(run: str) -> tuple[object, ...] | None:
    """The numbers of a run (each followed by a comma) as the compiler reads them, or None if one is no number literal.

    `float` and `int` skip the spaces around each number and reject what is no
    number; what they accept beyond Python's literals (`007`, `0_7`) is refused here.
    """
    tokens = run.split(",")[:-1]
    try:
        if run.count(".") == len(tokens):  # one point in every number (two in one would leave another without)
            return tuple(map(float, tokens))
        if _FLOAT_MARKS.search(run) is None:
            numbers = tuple(map(int, tokens))
            return None if any(_leading_zero(token) for token in tokens if "0" in token) else numbers
        found = []
        for token in tokens:
            if _FLOAT_MARKS.search(token):
                found.append(float(token))
            elif _leading_zero(token):
                return None
            else:
                found.append(int(token))
        return tuple(found)
    except ValueError:  # no number, or an integer longer than Python converts
        return None


def _leading_zero(token: str) -> bool:
    """`007`: an integer Python's syntax refuses (and `int` accepts)."""
    digits = token.strip(" \t\f\n+-")
    return digits.startswith("0") and digits.strip("0_") != ""


_CONTAINERS = (ast.List, ast.Tuple, ast.Set)


def _unpack_placeholders(tree: ast.Module, runs: list[str], values: list[tuple[object, ...]]) -> bool:
    """Put each run's values where its placeholder stands; False unless every placeholder is one element."""
    names = {_PLACEHOLDER.format(index): index for index in range(len(runs))}
    found = 0
    for node in ast.walk(tree):
        if isinstance(node, _CONTAINERS):
            items = node.elts
        elif isinstance(node, ast.Call):
            items = node.args
        else:
            if isinstance(node, ast.Name) and node.id in names:
                return False  # a placeholder outside any container's elements (`x = -__bpd_packed_0__`)
            continue
        for position, item in enumerate(items):
            if isinstance(item, ast.Name) and item.id in names:
                if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
                    return False  # `[1, 2, ...] = x` does not parse; its placeholder would
                index = names.pop(item.id)
                items[position] = _starred(item, runs[index], values[index])
                found += 1
    return found == len(runs) and not names


def _starred(name: ast.Name, run: str, values: tuple[object, ...]) -> ast.Starred:
    """`*(values...)` spanning the run's numbers, from the placeholder's first character."""
    core = run.rstrip(" \t\f\n,")
    end_lineno = name.lineno + core.count("\n")
    end_col = len(core) - core.rfind("\n") - 1 if "\n" in core else name.col_offset + len(core)
    where = {"lineno": name.lineno, "col_offset": name.col_offset, "end_lineno": end_lineno, "end_col_offset": end_col}
    return ast.Starred(value=ast.Constant(value=values, **where), ctx=ast.Load(), **where)


@contextmanager
def emptied(tree: ast.Module) -> Iterator[None]:
    """`tree` with its packed runs holding no numbers, for a compile that only checks the statements.

    Compiling a constant of 700,000 numbers costs half a second (the compiler
    merges equal constants one by one); a syntax check does not need them.
    """
    packed = list(_packed_constants(tree))
    kept = [node.value for node in packed]
    for node in packed:
        node.value = ()
    try:
        yield
    finally:
        for node, value in zip(packed, kept):
            node.value = value


def _packed_constants(tree: ast.Module) -> Iterator[ast.Constant]:
    for node in walk(tree):  # a packed run's container is data: `walk` yields it, not its elements
        items = node.elts if isinstance(node, _CONTAINERS) else node.args if isinstance(node, ast.Call) else ()
        for item in items:
            if packed_size(item):
                yield item.value  # type: ignore[attr-defined]
