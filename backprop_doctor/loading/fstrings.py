"""f-strings that reuse their own quotes inside a replacement field, read by an older Python.

Python 3.12 (PEP 701) lets a replacement field hold the f-string's own quote,
`f"Missing: {f"{name}.npz"}"`, `f"{d["key"]}"`; Python 3.11 and older stop at such a
line with "f-string: expecting '}'". The file is right for the Python its author ran.
`rescue` rewrites each such line with the other quote inside its fields (one line for
one line, the file on disk unchanged), so the rest of the file can be read and checked.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_PREFIX = re.compile(r"(?i)(?<![\w'\"])(?:rf|fr|f)(['\"])")


@dataclass
class Rescued:
    text: str
    tree: ast.Module
    lines: list[int]  # the lines rewritten


def _swapped(line: str) -> str | None:
    """`line` with the quote of each single-quoted f-string swapped for the other one inside its
    replacement fields; None when nothing changes or the other quote is used there too."""
    out, i, changed = [], 0, False
    while i < len(line):
        start = _PREFIX.search(line, i)
        if start is None:
            out.append(line[i:])
            break
        quote = start.group(1)
        other = "'" if quote == '"' else '"'
        j = start.end()
        out.append(line[i:j])
        depth = 0
        while j < len(line):
            c = line[j]
            if depth == 0 and c == quote:
                break
            if c == "{":
                depth = depth + 1 if not (depth == 0 and line[j + 1 : j + 2] == "{") else depth
                if depth == 0:  # `{{`, a literal brace
                    out.append("{{")
                    j += 2
                    continue
            elif c == "}" and depth > 0:
                depth -= 1
            elif depth > 0 and c == quote:
                c, changed = other, True
            elif depth > 0 and c == other:
                return None  # both quotes inside one field: not this rewrite's to untangle
            out.append(c)
            j += 1
        if j >= len(line):
            return None  # the f-string does not end on this line
        out.append(line[j])
        i = j + 1
    return "".join(out) if changed else None


def rescue(text: str, filename: str, limit: int = 200) -> Rescued | None:
    """The text with every line Python rejects as "f-string: ..." rewritten by `_swapped`, and its tree;
    None when another error remains or a line cannot be rewritten."""
    lines = text.split("\n")
    changed: list[int] = []
    for _ in range(limit):
        try:
            tree = ast.parse("\n".join(lines), filename)
            compile(tree, filename, "exec", dont_inherit=True)
        except SyntaxError as error:
            lineno = error.lineno or 0
            if not str(error.msg).startswith("f-string") or not 0 < lineno <= len(lines) or lineno in changed:
                return None
            fixed = _swapped(lines[lineno - 1])
            if fixed is None:
                return None
            lines[lineno - 1] = fixed
            changed.append(lineno)
            continue
        return Rescued("\n".join(lines), tree, changed) if changed else None
    return None


def finding(shown: str, rescued: Rescued, original: str) -> object:
    """The `newer-python` note: which lines need Python 3.12's f-strings, the first quoted."""
    import sys

    from backprop_doctor.rules import rule

    lines = rescued.lines
    first = original.split("\n")[lines[0] - 1].strip()
    listed = ", ".join(map(str, lines[:8])) + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")
    one = len(lines) == 1
    return rule("newer-python").finding(
        f"line{'' if one else 's'} {listed} reuse{'s' if one else ''} an f-string's own quotes inside its braces (`{first}`), "
        f"which Python 3.12 accepts and this Python ({sys.version_info.major}.{sys.version_info.minor}) does not: "
        "backprop-doctor read the inner quotes as the other kind to check the file, which is unchanged; to run it "
        "here, write the inner quotes as the other kind",
        file=shown,
        line=lines[0],
        highlight=tuple(lines[:20]),
        fix=rescued.text.split("\n")[lines[0] - 1].strip(),
    )
