"""IPython commands left in a `.py` exported from a notebook, read as comments.

A notebook saved as a script keeps its magics and shell escapes (`%matplotlib inline`, `%%time`,
`!pip install numpy`), which Python rejects, and an export by nbconvert spells them
`get_ipython().run_line_magic('matplotlib', 'inline')`, which parses but stops the program with a
NameError outside IPython. `rescue` reads each such line as a comment (`# %matplotlib inline`),
one line for one line so every line keeps its number; `finding` says which lines
(`checks/notebook_magic.py`). The file on disk is never written.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass

from backprop_doctor.findings import Finding
from backprop_doctor.static import packed
from backprop_doctor.static.tree import walk

# `%matplotlib inline`, `%%time`, `!pip install x`: a line IPython reads as a command, not Python.
_MAGIC = re.compile(r"\s*(%{1,2}[A-Za-z_]|!\s*[A-Za-z_./~$\"'])")
_LIMIT = 500  # rejected lines before giving up: a file of more is not Python with a few magics


@dataclass
class Rescued:
    """A text with its IPython lines read as comments: its tree (None while another error remains)."""

    text: str
    tree: ast.Module | None
    error: SyntaxError | None
    lines: list[int]  # the lines read as comments


def rescue(text: str, filename: str, tree: ast.Module | None, error: SyntaxError | None) -> Rescued | None:
    """`text` with every IPython command the compiler rejects (a magic, a shell escape) and every
    `get_ipython()...` statement read as a comment; None when the file has none. The compiler
    decides: a magic-looking line it accepts (`!` inside a string) is never touched."""
    lines = text.split("\n")
    done: list[int] = []  # the lines read as comments
    for _ in range(_LIMIT):
        if error is None:
            break
        lineno = error.lineno or 0
        if not (0 < lineno <= len(lines) and (is_command(lines[lineno - 1]) or _late_future(lines[lineno - 1], error))) or lineno in done:
            break
        lines[lineno - 1] = commented(lines[lineno - 1])
        done.append(lineno)
        tree, error = _parsed("\n".join(lines), filename)
    if tree is not None and "get_ipython" in text:
        calls = _ipython_statements(tree)
        if calls:
            for lineno in calls:
                lines[lineno - 1] = commented(lines[lineno - 1])
            again, again_error = _parsed("\n".join(lines), filename)
            if again is None:  # the call was a block's only statement: leave it, the run will say
                for lineno in calls:
                    lines[lineno - 1] = lines[lineno - 1].replace("# ", "", 1)
            else:
                tree, error, done = again, again_error, done + calls
    if not done:
        return None
    return Rescued("\n".join(lines), tree, error, sorted(done))


def _late_future(line: str, error: SyntaxError) -> bool:
    """`from __future__ import print_function` at the top of a later cell: a notebook compiles each
    cell on its own, a script only allows it first. In Python 3 it changes nothing."""
    return line.lstrip().startswith("from __future__ import") and "must occur at the beginning" in str(error.msg)


def is_command(line: str) -> bool:
    """Whether `line` reads as an IPython magic or shell escape (`%matplotlib inline`, `!pip install x`)."""
    return _MAGIC.match(line) is not None


def commented(line: str) -> str:
    """The line as a comment at its own indentation."""
    body = line.lstrip()
    return line[: len(line) - len(body)] + "# " + body


def _parsed(text: str, filename: str) -> tuple[ast.Module | None, SyntaxError | None]:
    """The tree of `text` (a long data literal packed, as `source.normalise` parses) after a
    compile that finds what the parser lets through, or the error."""
    try:
        tree = packed.parse(text, filename) or ast.parse(text, filename)
        with packed.emptied(tree):
            compile(tree, filename, "exec", dont_inherit=True)
        return tree, None
    except SyntaxError as exc:
        return None, exc


def _ipython_statements(tree: ast.Module) -> list[int]:
    """Lines of one-line statements that only call through `get_ipython()` (an nbconvert export's
    magics), in a file that defines no `get_ipython` of its own."""
    if any(isinstance(node, ast.FunctionDef) and node.name == "get_ipython" for node in walk(tree)):
        return []
    found = []
    for node in walk(tree):
        if isinstance(node, ast.Expr) and node.lineno == node.end_lineno and _through_get_ipython(node.value):
            found.append(node.lineno)
    return sorted(set(found))


def _through_get_ipython(node: ast.AST) -> bool:
    """`get_ipython().run_line_magic(...)`, `get_ipython().system(...)`: a call on what
    `get_ipython()` returns."""
    while isinstance(node, (ast.Call, ast.Attribute)):
        inner = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Call) and isinstance(inner, ast.Name) and inner.id == "get_ipython":
            return True
        node = inner
    return False


def finding(shown: str, lines: list[int], text: str) -> Finding:
    """The `notebook-magic` note: which lines were read as comments, the first of them quoted."""
    from backprop_doctor.rules import rule

    read = text.split("\n")
    listed = ", ".join(map(str, lines[:8])) + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")
    one = len(lines) == 1
    first = read[lines[0] - 1].strip()
    future = [read[n - 1].lstrip().startswith("from __future__ import") for n in lines]
    kind = (
        ("a cell's `from __future__` import", "cells' `from __future__` imports") if all(future)
        else ("an IPython command", "IPython commands and cells' `from __future__` imports") if any(future)
        else ("an IPython command", "IPython commands")
    )  # fmt: skip
    where = f"line {listed} holds {kind[0]}" if one else f"lines {listed} hold {kind[1]}"
    return rule("notebook-magic").finding(
        f"{where} (`{first}`{'' if one else ', ...'}) left from the notebook this file was exported from, which "
        f"plain Python rejects or cannot run: delete {'it' if one else 'them'} or make {'it a comment' if one else 'them comments'}. "
        f"backprop-doctor read {'it as a comment' if one else 'them as comments'}; the file is unchanged.",
        file=shown,
        line=lines[0],
        highlight=tuple(lines[:20]),
        fix=commented(read[lines[0] - 1]).rstrip(),
        evidence=tuple((f"line {n}", read[n - 1].strip()) for n in lines[:5]),
    )
