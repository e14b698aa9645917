"""The file is Python 2; it was read as Python 3 to check it.

What it finds:
    A file that does not parse as Python 3 only because of Python 2 syntax
    (`print x`, `print >>f, x`, `except E, e:`, `raise E, "text"`, `<>`,
    `0777`, `10L`, backquotes). Each such line is read with its Python 3
    spelling (`print(x)`), every line keeping its number, and the names
    Python 3 dropped (`xrange`, `raw_input`, `unicode`, `reduce`, ...) are
    given back while the program runs, so the network it defines is checked.
    The lines read differently are listed.

Why it matters:
    Python 3 stops at the first of these lines, before anything runs. Many
    well-known tutorials (Nielsen's `network.py` among them) were written in
    Python 2; copied as they are, they do not run. Beware also of `/`: in
    Python 2 it rounds down between integers, in Python 3 it does not: a
    program that stops on a float used as an index or a count (`x[:N/2]`,
    TypeError) made by such a `/` is told so at the division, with the line
    written with `//` as its fix.

Example:
    for j in xrange(epochs):
        print "Epoch {0} complete".format(j)

Fix:
    for j in range(epochs):
        print("Epoch {0} complete".format(j))
"""

import os
import re
from collections.abc import Iterator
from typing import Any

from backprop_doctor.build import says_float_shape
from backprop_doctor.findings import Finding
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.tree import walk as tree_walk

NAME = "python2"
CODE = "BPD012"
SEVERITY = "warning"
STAGE = "load"


_PRINT_STATEMENT = re.compile(r"\s*print\s+[^\s(=]")  # `print x`: the file (or the module it imports) is Python 2


def run(context: Any) -> Iterator[Finding]:
    """Complete in place, in `context.findings`, an error that Python 3's `/` causes (in a file read as
    Python 2, or one that parses as Python 3 but was written for Python 2's `/`): a size computed with
    `/` between two ints is a float in Python 3, an int in Python 2."""
    for i, finding in enumerate(context.findings):
        if finding.severity != "error" or not says_float_shape(finding.message) or not finding.file or not finding.line:
            continue
        lines = source_tree(os.path.abspath(finding.file))[0]
        here = context.source is not None and os.path.abspath(context.source.path) == os.path.abspath(finding.file)
        python2 = (here and context.source.python2) or any(_PRINT_STATEMENT.match(line) for line in lines)
        division = _division_feeding(source_tree(os.path.abspath(finding.file))[1], lines, finding.line)
        if division is not None:
            why = (
                "this is Python 2 code, where `/` between two integers rounded down"
                if python2 else "`/` between two integers gives a float in Python 3 (Python 2 rounded it down)"
            )
            context.findings[i] = finding.replace(
                message=finding.message + f"; {why}: write `//` at line {division}",
                pattern="python2-division",
                highlight=tuple(sorted({finding.line, division})),
            )
    stop = _stopped_on_division(context)
    if stop is not None:
        yield stop


# Python's and NumPy's words for a float where an index must be a whole number: `x[:N/2]`, `x[N/2]`, `range(N/2)`
_FLOAT_INDEX = re.compile(
    r"slice indices must be integers|list indices must be integers or slices, not float|"
    r"only integers, slices \(`:`\), ellipsis|'float' object cannot be interpreted as an integer"
)


def _stopped_on_division(context: Any) -> Finding | None:
    """The observed run stopped on a float used as an index or a count (`wordVectors[:N/2, :]`,
    TypeError) that a `/` between two integers made, on the line that stopped or in a name it reads:
    the program stops there in Python 3 and nowhere in Python 2. The finding is at the division,
    with that line written with `//` as its fix."""
    from backprop_doctor.rules import rule

    record = (getattr(context, "extras", None) or {}).get("observed_record")
    error = getattr(record, "error", None)
    if getattr(record, "stopped", None) != "raised" or error is None:
        return None
    what, file, line = error
    if not file or not line or not (_FLOAT_INDEX.search(what) or says_float_shape(what)):
        return None
    path = os.path.abspath(file)
    lines, tree = source_tree(path)
    division = _division_feeding(tree, lines, line) if tree is not None else None
    if division is None:
        return None
    fixed, nodes = _floored(tree, lines, division)
    quotients = [q for q in (_col_segment(lines[division - 1], n) for n in nodes) if q]
    if any(f.name == NAME and f.pattern == "python2-division" and f.file and os.path.abspath(f.file) == path and division in f.highlight for f in context.findings):
        return None  # a build error already named this division
    here = context.source is not None and os.path.abspath(context.source.path) == path
    python2 = (here and context.source.python2) or any(_PRINT_STATEMENT.match(text) for text in lines)
    written = ", ".join(f"`{q}`" for q in quotients) or "`/`"
    why = "this is Python 2 code, where `/` between two integers rounded down" if python2 else "Python 2 rounded it down"
    same = _same_divisions(tree, division, nodes)
    also = f"; line{'s' if len(same) > 1 else ''} {', '.join(map(str, same))} divide{'' if len(same) > 1 else 's'} the same way" if same else ""
    where = "there" if division == line else f"at line {line}"
    return rule(NAME).finding(
        f"{written} (line {division}) is a float in Python 3 ({why}), and your program stopped {where} on it "
        f"({what.split(' (', 1)[0]}: {_detail(what)}) while backprop-doctor watched it run: write `//` for a whole-number quotient{also}",
        file=path,
        line=division,
        highlight=tuple(sorted({division, line})),
        fix=fixed,
        pattern="python2-division",
    )


def _detail(what: str) -> str:
    return what.split(" (", 1)[1].rstrip(")") if " (" in what else what


def _quotients(tree: Any, line: int) -> list[Any]:
    """The `/` between integers written on `line` (not `2.0 / n`), outermost first."""
    import ast

    def floating(node: Any) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, float)

    return [
        n for n in tree_walk(tree)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) and n.lineno == line == n.end_lineno and not (floating(n.left) or floating(n.right))
    ]  # fmt: skip


def _floored(tree: Any, lines: list[str], line: int) -> tuple[str | None, list[Any]]:
    """`line` with its integer divisions written `//`, and those divisions (the outermost)."""
    found = _quotients(tree, line)
    text = lines[line - 1].rstrip("\n") if 0 < line <= len(lines) else ""
    spans = []
    for node in found:
        start, end = node.left.end_col_offset, node.right.col_offset
        at = text.encode()[start:end].decode(errors="replace").find("/") if start is not None and end is not None else -1
        if at >= 0:
            spans.append(len(text.encode()[: start].decode(errors="replace")) + at)
    if not spans:
        return None, []
    fixed = text
    for at in sorted(set(spans), reverse=True):
        fixed = fixed[:at] + "//" + fixed[at + 1 :]
    return fixed, _outermost(found)


def _col_segment(text: str, node: Any) -> str | None:
    """`node` as written on its one line `text` (offsets count UTF-8 bytes)."""
    raw = text.encode()
    if node.col_offset is None or node.end_col_offset is None:
        return None
    return raw[node.col_offset : node.end_col_offset].decode(errors="replace")


def _outermost(nodes: list[Any]) -> list[Any]:
    import ast

    inner = {id(c) for n in nodes for c in ast.walk(n) if c is not n}
    return [n for n in nodes if id(n) not in inner]


def _same_divisions(tree: Any, line: int, nodes: list[Any]) -> list[int]:
    """The other lines of the function holding `line` (or of the module) with one of the same
    divisions (`grad[:N/2, :]` after `wordVectors[:N/2, :]`)."""
    import ast

    scope: Any = tree
    for node in tree_walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            scope = node  # the innermost: walk reaches nested functions after the ones holding them
    wanted = {ast.dump(n) for n in nodes}
    return sorted({
        n.lineno for n in ast.walk(scope)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) and n.lineno != line and ast.dump(n) in wanted
    })  # fmt: skip


def _division_feeding(tree: Any, lines: list[str], line: int) -> int | None:
    """The line of a `/` that makes the failing line's size: on that line itself, or in the
    assignment of a name it reads (`hidden = input_dim / 2`, `oh, ow = h / s + 1, w / s + 1`),
    followed through names that only pass the size on (`shape = (n, c, out_h, out_w)`)."""
    import ast

    text = lines[line - 1].split("#", 1)[0] if 0 < line <= len(lines) else ""
    here = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == line] if tree is not None else []
    if any(_divides_integers(n) for n in here) or (not here and re.search(r"[^/]/[^/=]", text)):
        return line
    if tree is None:
        return None
    assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno < line]
    wanted, seen = set(re.findall(r"[A-Za-z_]\w*", text)), set()
    for _ in range(4):  # through a few names that only pass the size on
        feeding = [
            n for n in assignments
            if {t.id for target in _targets(n) for t in ast.walk(target) if isinstance(t, ast.Name)} & wanted and n.lineno not in seen
        ]  # fmt: skip
        divided = [n.lineno for n in feeding if _divides_integers(n)]
        if divided:
            return max(divided)
        seen |= {n.lineno for n in feeding}
        wanted = {t.id for n in feeding for t in ast.walk(n.value) if isinstance(t, ast.Name)}
        if not wanted:
            return None
    return None


def _targets(statement: Any) -> list[Any]:
    return statement.targets if hasattr(statement, "targets") else [statement.target]


def _divides_integers(statement: Any) -> bool:
    """Whether `statement` holds a `/` that Python 2 would have rounded down: `size /= 2`, `h / s`;
    not `2.0 / fan_in`, a float on either side, which is a float division in both."""
    import ast

    def floating(node: Any) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, float)

    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Div) and not floating(statement.value):
        return True
    return any(isinstance(b, ast.BinOp) and isinstance(b.op, ast.Div) and not (floating(b.left) or floating(b.right)) for b in ast.walk(statement))
