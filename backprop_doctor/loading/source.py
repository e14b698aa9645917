"""Read a user's file into a `SourceFile` without running or changing it.

Three things go wrong with files people paste from web pages and books:

* the encoding: GBK or Shift-JIS saved without a coding cookie;
* invisible characters: a no-break space (U+00A0) where a space was, an
  ideographic space from a Chinese input method, a zero-width space. Python
  rejects them outside strings and comments, so an otherwise correct file
  does not parse;
* Python 2 code (`print x`), or typographic quotes where code quotes belong.

`read_source` repairs the first two in memory, only where the compiler
rejects the character, and says so with a `text-normalised` finding; the
third becomes a `syntax-error` finding with the fix. The file on disk is
never written.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import os
import re
import tokenize
import unicodedata
from dataclasses import dataclass

from backprop_doctor.context import SourceFile
from backprop_doctor.errors import UsageError
from backprop_doctor.findings import Finding
from backprop_doctor.loading import notebook
from backprop_doctor.rules import rule
from backprop_doctor.static import packed

# Invisible characters that web pages and input methods put where a space was.
# Spaces become an ASCII space; zero-width characters disappear.
PASTED = {
    "\u00a0": " ",  # NO-BREAK SPACE
    "\u3000": " ",  # IDEOGRAPHIC SPACE
    **{chr(c): " " for c in range(0x2002, 0x200B)},  # EN SPACE .. HAIR SPACE
    "\u202f": " ",  # NARROW NO-BREAK SPACE
    "\u200b": "",  # ZERO WIDTH SPACE
    "\ufeff": "",  # ZERO WIDTH NO-BREAK SPACE (a byte-order mark inside the file)
}
_PASTED_RE = re.compile("[" + "".join(PASTED) + "]")
_NON_PRINTABLE = re.compile(r"invalid non-printable character U\+([0-9A-Fa-f]{4,6})")

# Encodings tried, in order, for a file that is not valid in the encoding it declares
# (UTF-8 when it declares none); UTF-8 itself is tried first when it declares another.
FALLBACK_ENCODINGS = ("shift_jis", "gb18030", "big5", "cp1252")
_KANA = re.compile("[\u3040-\u30ff]")
_TWO_LINES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?[^\r\n]*(?:\r\n|\r|\n)?")
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


def read_source(path: str | os.PathLike[str]) -> tuple[SourceFile, list[Finding]]:
    """Read, decode, normalise and parse `path`.

    Returns the `SourceFile` (its `tree` is None when the file does not parse)
    and the loading findings: `text-normalised` (info) when characters were
    replaced or the encoding had to be guessed, `syntax-error` when it does not
    parse. Raises `UsageError` only when the file cannot be read at all.
    """
    shown = os.fspath(path)
    try:
        with open(shown, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror or exc}") from exc

    findings: list[Finding] = []
    text, decoding = decode(data, shown)
    if decoding is not None:
        findings.append(decoding)
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    filename = os.path.abspath(shown)
    if "\x00" in text:
        lineno = text.count("\n", 0, text.index("\x00")) + 1
        findings.append(
            rule("syntax-error").finding(
                f"`{os.path.basename(shown)}` contains a NUL byte at line {lineno}; "
                "is it a Python source file?",
                file=shown,
                line=lineno,
                highlight=(lineno,),
            )
        )
        return SourceFile(path=shown, text=text, tree=None), findings

    try:
        result = normalise(text, filename)
    except (RecursionError, MemoryError) as exc:  # the compiler's own limits, not a bug of ours
        return SourceFile(path=shown, text=text, tree=None), [*findings, _too_deep(exc, shown)]
    if result.replaced:
        findings.append(_normalised_finding(shown, result))
    tree = result.tree
    error = result.error
    if tree is not None:
        try:  # errors the parser lets through: `return` outside a function, ...
            with packed.emptied(tree):  # the statements matter here, not a data literal's numbers
                compile(tree, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            tree, error = None, exc
        except (RecursionError, MemoryError) as exc:
            return SourceFile(path=shown, text=result.text, tree=None), [*findings, _too_deep(exc, shown)]
    original = result.text
    magic = notebook.rescue(result.text, filename, tree, error)
    commands = list(magic.lines) if magic is not None else []  # `%matplotlib inline` of a notebook, read as a comment
    if magic is not None:
        result.text, tree, error = magic.text, magic.tree, magic.error
    if error is not None and str(error.msg).startswith("f-string"):
        from backprop_doctor.loading import fstrings  # Python 3.12's quotes inside an f-string's braces

        newer = fstrings.rescue(result.text, filename)
        if newer is not None:
            findings.append(fstrings.finding(shown, newer, result.text))  # type: ignore[arg-type]
            return SourceFile(path=shown, text=newer.text, tree=newer.tree), findings
    rescued = python2_rescue(result.text, filename, commands=commands) if error is not None else None
    if commands:
        findings.append(notebook.finding(shown, sorted(commands), original))
    if rescued is not None:
        text, tree, changed = rescued
        findings.append(python2_finding(shown, changed, text))
        return SourceFile(path=shown, text=text, tree=tree, python2=True), findings
    if error is not None:
        findings.append(syntax_error_finding(error, shown, result.text))
    return SourceFile(path=shown, text=result.text, tree=tree), findings


def python2_rescue(
    text: str, filename: str, limit: int = 500, commands: list[int] | None = None
) -> tuple[str, ast.Module, list[tuple[int, str]]] | None:
    """The text with each line Python 3 rejects as Python 2 syntax in its Python 3 spelling (one
    line for one line), its tree and the (line, what Python 3 needs) changed; None when another
    error remains. With `commands`, an IPython command met on the way (a Python 2 notebook's
    `%matplotlib inline` after its first `print x`) is read as a comment and its line added there."""
    lines = text.split("\n")
    changed: list[tuple[int, str]] = []
    found: list[int] = []
    for _ in range(limit):
        try:
            tree = ast.parse("\n".join(lines), filename)
            compile(tree, filename, "exec", dont_inherit=True)
        except SyntaxError as error:
            lineno = error.lineno or 0
            if not 0 < lineno <= len(lines):
                return None
            msg = (error.msg or "invalid syntax").rstrip(".")
            end = _logical_end(lines, lineno)
            if end > lineno and "Missing parentheses in call to 'print'" in msg:
                # `print "Epoch {0}: {1}".format(` over several lines: the parentheses go round all of them
                first, last = lines[lineno - 1], lines[end - 1]
                body, comment = _split_comment(last)
                lines[lineno - 1] = re.sub(r"\bprint\s*", "print(", first, count=1)
                lines[end - 1] = body.rstrip() + ")" + (comment if comment else "") if lineno != end else lines[end - 1]
                changed.append((lineno, "print(...) as a function call"))
                continue
            if commands is not None and notebook.is_command(lines[lineno - 1]):
                lines[lineno - 1] = notebook.commented(lines[lineno - 1])
                found.append(lineno)
                continue
            fix = _python2_fix(msg, lines[lineno - 1])
            if fix is None or fix[1] is None or fix[1] == lines[lineno - 1]:
                return None
            lines[lineno - 1] = fix[1]
            changed.append((lineno, fix[0]))
            continue
        except (RecursionError, MemoryError):
            return None
        if not changed:
            return None
        if _python2_methods(lines, changed):
            tree = ast.parse("\n".join(lines), filename)
        if commands is not None:
            commands.extend(found)
        return "\n".join(lines), tree, changed
    return None


PYTHON2_METHODS = {"iteritems": "items", "itervalues": "values", "iterkeys": "keys"}
_PYTHON2_METHOD_CALL = re.compile(r"\.(" + "|".join(PYTHON2_METHODS) + r")\(\)")


def _python2_methods(lines: list[str], changed: list[tuple[int, str]]) -> bool:
    """In a file already read as Python 2, `d.iteritems()` and its kin as Python 3 spells them, line by
    line and outside comments: Python 3 dicts lack them, so a network's `__init__` looping over
    `self.params.iteritems()` would stop there. True when a line changed."""
    found = False
    for i, line in enumerate(lines):
        code, comment = _split_comment(line)
        call = _PYTHON2_METHOD_CALL.search(code)
        if call is None:
            continue
        lines[i] = _PYTHON2_METHOD_CALL.sub(lambda m: f".{PYTHON2_METHODS[m[1]]}()", code) + comment
        changed.append((i + 1, f"`.{PYTHON2_METHODS[call[1]]}()` instead of `.{call[1]}()`"))
        found = True
    return found


def _logical_end(lines: list[str], lineno: int) -> int:
    """The last line of the logical line that starts at `lineno` (brackets left open continue it)."""
    import io
    import tokenize

    try:
        for token in tokenize.generate_tokens(io.StringIO("\n".join(lines[lineno - 1 :]) + "\n").readline):
            if token.type == tokenize.NEWLINE:
                return lineno + token.start[0] - 1
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return lineno


def python2_finding(shown: str, changed: list[tuple[int, str]], text: str, *, imported: bool = False) -> Finding:
    """The `python2` finding: the lines read as Python 3, each with its new spelling, and the other
    Python 2 idioms (`xrange`) the file uses; `imported` for a module the checked file imports."""
    lines = sorted(n for n, _ in changed)
    kinds = list(dict.fromkeys(what for _, what in sorted(changed)))
    at = ", ".join(map(str, lines[:8])) + (", ..." if len(lines) > 8 else "")
    read = text.split("\n")
    others = [f"line {n}: {what}" for n, what in python2_signs(text) if n not in lines]
    evidence = [("read as", "; ".join(f"line {n}: {read[n - 1].strip()}" for n in lines[:6]))]
    if others:
        evidence.append(("also Python 2", "; ".join(others[:6])))
    return rule("python2").finding(
        f"{f'`{os.path.basename(shown)}`, which your file imports,' if imported else 'this file'} looks like Python 2; Python 3 needs {'; '.join(kinds)} (line{'s' if len(lines) > 1 else ''} {at}): "
        f"backprop-doctor read {'those lines' if len(lines) > 1 else 'that line'} that way to check the file; change "
        "them in the file, or run `2to3 -w` on it",
        file=shown,
        line=lines[0],
        highlight=tuple(lines[:20]),
        fix=read[lines[0] - 1],
        evidence=tuple(evidence),
    )


def _too_deep(error: BaseException, shown: str) -> Finding:
    """Python itself cannot compile the file: an expression nested beyond the compiler's limits."""
    return rule("syntax-error").finding(
        f"Python cannot compile `{os.path.basename(shown)}` ({type(error).__name__} in the compiler): an "
        "expression is nested too deeply (a very long chain of `+`, of unary minus or of brackets); "
        "split it into smaller statements or load the numbers from a file",
        file=shown,
    )


# --------------------------------------------------------------------------- decoding


def decode(data: bytes, shown: str = "") -> tuple[str, Finding | None]:
    """Decode source bytes the way Python would, guessing when Python would fail.

    Honours a byte-order mark or a PEP 263 coding cookie. A file that is not
    valid in its declared (or the default UTF-8) encoding is read with the first
    fallback that decodes it, and an info finding says which.
    """
    declared: str | None = None
    head = _TWO_LINES.match(data).group()  # type: ignore[union-attr]  # a cookie counts only there
    try:
        declared, _ = tokenize.detect_encoding(iter(head.splitlines(keepends=True)[:2]).__next__)
    except (SyntaxError, StopIteration):
        declared = None  # unknown encoding in the cookie, or a cookie that contradicts the BOM
    explicit = data.startswith(codecs.BOM_UTF8) or bool(_COOKIE.search(b"\n".join(head.splitlines()[:2])))
    if declared is None:
        declared = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return data.decode(declared), None
    except (UnicodeDecodeError, LookupError) as exc:
        bad = exc.start if isinstance(exc, UnicodeDecodeError) else 0
    lineno = data.count(b"\n", 0, bad) + 1

    chosen = None
    candidates = FALLBACK_ENCODINGS if declared.startswith("utf-8") else ("utf-8", *FALLBACK_ENCODINGS)
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "shift_jis" and not _KANA.search(text):
            continue  # Chinese bytes often decode as Shift-JIS too; Japanese text has kana
        chosen = encoding
        break
    if chosen is None:
        text = data.decode("utf-8", errors="replace")
    what = f"declares {declared}" if explicit else "declares no encoding"
    name = os.path.basename(shown) or "the file"
    if chosen is None:
        message = (
            f"`{name}` is not valid {declared} ({what}) and no common encoding fits; undecodable "
            f"bytes from line {lineno} on were replaced by U+FFFD. Save the file as UTF-8."
        )
        fix = None
    else:
        message = (
            f"`{name}` is not valid {declared} ({what}); it was read as {chosen}. "
            f"Save it as UTF-8, or declare the encoding on its first line."
        )
        fix = f"# -*- coding: {chosen} -*-"
    finding = rule("text-normalised").finding(
        message, file=shown or None, line=lineno, highlight=(lineno,), fix=fix
    )
    return text, finding


# --------------------------------------------------------------------------- pasted characters


@dataclass
class Normalised:
    """The outcome of `normalise`."""

    text: str
    tree: ast.Module | None
    error: SyntaxError | None
    replaced: list[tuple[int, str]]  # (line, character) for every character replaced


def normalise(text: str, filename: str = "<unknown>") -> Normalised:
    """Replace pasted invisible characters where the compiler rejects them, then parse.

    The compiler decides: nothing changes in a file that parses. After the first
    rejection, every such character outside string literals and comments is
    replaced at once (the compiler rejects all of those, and one pass stays fast
    on a page of pasted code); what the scanner cannot see, such as a character
    inside an f-string's braces, is then fixed one compiler rejection at a time.
    Characters inside strings and comments are never touched.
    """
    tree = packed.parse(text, filename)  # a long data literal without a node per number
    if tree is not None:
        return Normalised(text, tree, None, [])
    try:
        return Normalised(text, ast.parse(text, filename), None, [])
    except SyntaxError as exc:
        error = exc
    if _rejected_index(text, error) is None:
        return Normalised(text, None, error, [])

    original = text
    code_positions = [i for i, kind in classify_pasted(text) if kind == "code"]
    text, replaced = _replace_at(text, code_positions)
    if not _agrees_with_tokenize(text, original, code_positions):
        text, replaced = original, []  # the scanner misread a literal: let the compiler lead
    tree, error = None, None
    for _ in range(len(_PASTED_RE.findall(original)) + 1):
        try:
            tree, error = ast.parse(text, filename), None
            break
        except SyntaxError as exc:
            error = exc
        index = _rejected_index(text, error)
        if index is None:
            break
        text, more = _replace_at(text, [index])
        replaced += more
    return Normalised(text, tree, error, sorted(replaced))


def classify_pasted(text: str) -> list[tuple[int, str]]:
    """Each pasted character's index and where it sits: "code", "string", "fstring" or "comment"."""
    spans: list[tuple[int, int, str]] = []
    for match in _LITERAL.finditer(text):
        if match.group("comment") is not None:
            kind = "comment"
        else:
            prefix = match.group("prefix") or ""
            kind = "fstring" if "f" in prefix.lower() else "string"
        spans.append((match.start(), match.end(), kind))
    starts = [s for s, _, _ in spans]
    found = []
    for match in _PASTED_RE.finditer(text):
        i = match.start()
        k = bisect.bisect_right(starts, i) - 1
        kind = spans[k][2] if k >= 0 and spans[k][0] <= i < spans[k][1] else "code"
        found.append((i, kind))
    return found


# Comments and string literals (any prefix, single or triple quoted; an unterminated
# one runs to the end of its line, or of the file when triple quoted).
_LITERAL = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?:(?<![\w])(?P<prefix>[rRbBuUfF]{1,2}))?
    (?P<string>
        '''(?:\\.|[^\\])*?(?:'''|\Z)
      | \"\"\"(?:\\.|[^\\])*?(?:\"\"\"|\Z)
      | '(?:\\.|[^\\'\n])*(?:'|$)
      | "(?:\\.|[^\\"\n])*(?:"|$)
    )
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)


def _replace_at(text: str, positions: list[int]) -> tuple[str, list[tuple[int, str]]]:
    """Replace the pasted characters at `positions`; report (line, character) of each."""
    if not positions:
        return text, []
    parts, replaced, last, lineno = [], [], 0, 1
    for i in sorted(positions):
        lineno += text.count("\n", last, i)
        parts.append(text[last:i])
        parts.append(PASTED[text[i]])
        replaced.append((lineno, text[i]))
        last = i + 1
    parts.append(text[last:])
    return "".join(parts), replaced


def _rejected_index(text: str, error: SyntaxError) -> int | None:
    """The index of the pasted character that `error` complains about, if it is one."""
    if not error.lineno or error.offset is None:
        return None
    lines = text.split("\n")
    if not 0 < error.lineno <= len(lines):
        return None
    line = lines[error.lineno - 1]
    line_start = sum(len(x) + 1 for x in lines[: error.lineno - 1])
    named = _NON_PRINTABLE.search(error.msg or "")
    wanted = chr(int(named.group(1), 16)) if named else None
    col = error.offset - 1
    if 0 <= col < len(line) and line[col] in PASTED and wanted in (None, line[col]):
        return line_start + col
    # An error inside an f-string's braces is placed relative to "(expression)".
    shown = (error.text or "").rstrip("\n")
    if shown.startswith("(") and shown.endswith(")") and len(shown) > 2:
        at = line.find(shown[1:-1])
        col = at + error.offset - 2 if at >= 0 else -1
        if 0 <= col < len(line) and line[col] in PASTED and wanted in (None, line[col]):
            return line_start + col
    return None


def _agrees_with_tokenize(text: str, original: str, positions: list[int]) -> bool:
    """True unless Python's tokenizer puts a replaced position inside a string or comment."""
    if not positions:
        return True
    # Map original indices to indices in `text` (zero-width characters were removed).
    removed = 0
    mapped = []
    for i in sorted(positions):
        mapped.append(i - removed)
        if PASTED[original[i]] == "":
            removed += 1
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    literal: list[tuple[int, int]] = []
    try:
        readline = iter(text.splitlines(keepends=True)).__next__
        for tok in tokenize.generate_tokens(readline):
            if tok.type in (tokenize.STRING, tokenize.COMMENT):
                start = line_starts[tok.start[0] - 1] + tok.start[1]
                end = line_starts[tok.end[0] - 1] + tok.end[1]
                literal.append((start, end))
    except (tokenize.TokenError, SyntaxError, IndexError):
        return True  # the file has another syntax error; the compiler will report it
    starts = [s for s, _ in literal]
    for i in mapped:
        k = bisect.bisect_right(starts, i) - 1
        if k >= 0 and literal[k][0] < i < literal[k][1]:
            return False
    return True


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'character')}"


def _normalised_finding(shown: str, result: Normalised) -> Finding:
    per_line: dict[int, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for lineno, ch in result.replaced:
        counts[ch] = counts.get(ch, 0) + 1
        line_counts = per_line.setdefault(lineno, {})
        line_counts[ch] = line_counts.get(ch, 0) + 1
    lines = sorted(per_line)
    total = sum(counts.values())
    what = ", ".join(f"{n} × {_char_name(ch)}" for ch, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    listed = ", ".join(str(n) for n in lines[:5]) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    where = f"line {listed}" if len(lines) == 1 else f"lines {listed}"
    held, it = ("an invisible character", "it") if total == 1 else (f"{total} invisible characters", "them")
    message = (
        f"{where} {'hold' if len(lines) > 1 else 'holds'} {held} pasted from a web page ({what}), which Python "
        "rejects outside strings: "
        f"replace {it} with ordinary spaces. backprop-doctor read {it} as spaces; the file is unchanged."
    )
    first = lines[0]
    fixed = result.text.split("\n")[first - 1]
    evidence = tuple(
        (f"line {n}", ", ".join(f"{c} × U+{ord(ch):04X}" for ch, c in per_line[n].items())) for n in lines[:5]
    )
    return rule("text-normalised").finding(
        message,
        file=shown,
        line=first,
        highlight=tuple(lines[:5]),
        fix=fixed if fixed.strip() else None,
        evidence=evidence,
    )


# --------------------------------------------------------------------------- syntax errors

_TYPOGRAPHIC = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\uff02": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\uff07": "'",
    "\uff08": "(", "\uff09": ")", "\uff3b": "[", "\uff3d": "]", "\uff5b": "{", "\uff5d": "}",
    "\uff0c": ",", "\u3001": ",", "\uff1a": ":", "\uff1b": ";", "\uff1d": "=", "\uff0b": "+",
    "\uff0d": "-", "\uff0a": "*", "\uff0f": "/", "\u3002": ".", "\uff0e": ".", "\uff1c": "<",
    "\uff1e": ">", "\uff05": "%", "\uff01": "!", "\uff1f": "?", "\u2014": "-", "\u2013": "-", "\u2212": "-", "\u00d7": "*",
}
_INVALID_CHAR = re.compile(r"invalid character '(.)' \(U\+([0-9A-Fa-f]{4,6})\)")


def syntax_error_finding(error: SyntaxError, shown: str, text: str) -> Finding:
    """A `syntax-error` finding for `error`, with a Python 2 or typing hint when one applies."""
    lines = text.split("\n")
    lineno = error.lineno or 1
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else (error.text or "").rstrip("\n")
    column = error.offset if error.offset and error.offset > 0 else None
    msg = (error.msg or "invalid syntax").rstrip(".")
    where = f"line {lineno}" + (f", column {column}" if column else "")
    diagnosis = f"{where} does not parse ({msg.replace(': ', ' - ')})"
    advice = ""
    fix = None
    evidence: list[tuple[str, str]] = []

    py2 = _python2_fix(msg, line)
    if py2 is not None:
        hint, fix = py2
        advice = f"this file looks like Python 2; Python 3 needs {hint}"
        others = python2_signs(text, skip=lineno)
        if others:
            evidence.append(("also Python 2", "; ".join(f"line {n}: {what}" for n, what in others[:6])))
    elif (bad := _INVALID_CHAR.search(msg)) and bad.group(1) in _TYPOGRAPHIC:
        ch = bad.group(1)
        advice = (
            f"{_char_name(ch)} is a typographic or full-width character; type the plain ASCII "
            f"`{_TYPOGRAPHIC[ch]}` (switch the input method to half-width)"
        )
        fix = _ascii_line(line, quotes=_TYPOGRAPHIC[ch] in "'\"")
    elif isinstance(error, TabError) or "inconsistent use of tabs" in msg:
        advice = "indent with spaces only"
        fix = line.expandtabs(4)
    end_line = error.end_lineno if error.end_lineno and error.end_lineno > lineno else None
    message = f"{diagnosis}: {advice or 'fix that line'}"
    return rule("syntax-error").finding(
        message,
        file=shown,
        line=lineno,
        column=column,
        end_line=end_line,
        highlight=(lineno,),
        fix=fix,
        evidence=tuple(evidence),
    )


def _ascii_line(line: str, quotes: bool) -> str:
    """`line` with typographic quotes (when they are the problem) and full-width punctuation
    outside string literals and comments turned into ASCII."""
    if quotes:
        line = "".join(_TYPOGRAPHIC[c] if c in _TYPOGRAPHIC and _TYPOGRAPHIC[c] in "'\"" else c for c in line)
    kept = [(m.start(), m.end()) for m in _LITERAL.finditer(line)]
    out = []
    for i, c in enumerate(line):
        inside = any(start <= i < end for start, end in kept)
        out.append(c if inside else _TYPOGRAPHIC.get(c, c))
    return "".join(out)


def _python2_fix(msg: str, line: str) -> tuple[str, str | None] | None:
    """(what Python 3 needs, the repaired line) when the error is Python 2 syntax."""
    indent = line[: len(line) - len(line.lstrip())]
    body, comment = _split_comment(line.strip())
    header = _CLAUSE_PRINT.match(body)
    if header and ("Missing parentheses in call to 'print'" in msg or msg == "invalid syntax"):
        # `if verbose: print k, v.shape`: the statement after the clause's colon is the print
        return "print(...) as a function call", indent + header[1] + " " + _print_call(header[2]) + comment
    if "Missing parentheses in call to 'print'" in msg or re.match(r"print\s*(>>|$)", body):
        return "print(...) as a function call", indent + _print_call(body) + comment
    if "Missing parentheses in call to 'exec'" in msg:
        return "exec(...) as a function call", indent + f"exec({body[4:].strip()})" + comment
    match = re.match(r"except\s+(.+?)\s*,\s*(\w+)\s*:(.*)$", body)
    if match and "must be parenthesized" in msg:
        return "`except E as e:`", indent + f"except {match[1]} as {match[2]}:{match[3]}" + comment
    if msg != "invalid syntax" and "invalid decimal literal" not in msg and "leading zeros" not in msg:
        return None
    match = re.match(r"raise\s+([\w.]+)\s*,\s*(.+)$", body)
    if match:
        return "`raise E(message)`", indent + f"raise {match[1]}({match[2]})" + comment
    if "<>" in body:
        return "`!=` instead of `<>`", indent + body.replace("<>", "!=") + comment
    if "leading zeros in decimal integer literals" in msg:
        return "octal numbers written `0o777`", indent + re.sub(r"\b0+(\d+)\b", r"0o\1", body) + comment
    if re.search(r"\b\d+[lL]\b", body) and "invalid decimal literal" in msg:
        return "integers without the `L` suffix", indent + re.sub(r"\b(\d+)[lL]\b", r"\1", body) + comment
    if re.search(r"\b[uU][rR]['\"]", body):
        return "`r'...'` instead of `ur'...'`", indent + re.sub(r"\b[uU]([rR]['\"])", r"\1", body) + comment
    if "`" in body:
        return "`repr(x)` instead of backquotes", indent + re.sub(r"`([^`]*)`", r"repr(\1)", body) + comment
    return None


# A one-line compound statement whose body is a print statement: `if verbose: print x`.
_CLAUSE_PRINT = re.compile(r"^((?:if|elif|else|for|while|with|try|except|finally)\b.*?:)\s*(print\b(?!\s*\().*)$")


def _split_comment(code: str) -> tuple[str, str]:
    for match in _LITERAL.finditer(code):
        if match.group("comment") is not None:
            return code[: match.start()].rstrip(), "  " + match.group("comment")
    return code, ""


def _print_call(body: str) -> str:
    args = body[len("print") :].strip()
    extra = []
    match = re.match(r">>\s*([^,]+)\s*(?:,\s*(.*))?$", args)
    if match:
        args = match[2] or ""
        extra.append(f"file={match[1].strip()}")
    if args.endswith(","):
        args = args[:-1].rstrip()
        extra.append('end=" "')
    return "print(" + ", ".join(p for p in [args, *extra] if p) + ")"


_PY2_SIGNS = (
    (re.compile(r"^\s*print(\s+[^\s(=]|\s*$)"), "`print x` → `print(x)`"),
    (re.compile(r"\bxrange\s*\("), "`xrange` → `range`"),
    (re.compile(r"\braw_input\s*\("), "`raw_input` → `input`"),
    (re.compile(r"\.iteritems\s*\("), "`.iteritems()` → `.items()`"),
    (re.compile(r"\.has_key\s*\("), "`d.has_key(k)` → `k in d`"),
    (re.compile(r"^\s*except\s+[^:]+,\s*\w+\s*:"), "`except E, e:` → `except E as e:`"),
    (re.compile(r"\bimport\s+cPickle\b"), "`cPickle` → `pickle`"),
    (re.compile(r"\bunicode\s*\("), "`unicode` → `str`"),
)


def python2_signs(text: str, skip: int = 0) -> list[tuple[int, str]]:
    """Lines of `text` that use Python 2 idioms, with the Python 3 replacement."""
    found = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if lineno == skip:
            continue
        code, _ = _split_comment(line)
        for pattern, what in _PY2_SIGNS:
            if pattern.search(code):
                found.append((lineno, what))
                break
    return found
