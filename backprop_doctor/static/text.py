"""The file's text: `ast` positions turned into character columns and the code as the user wrote it."""

from __future__ import annotations

import ast
import functools
import io


class _Text:
    """The file's text, with `ast` positions (line, UTF-8 byte column) turned into offsets."""

    def __init__(self, text: str):
        self.text = text

    @functools.cached_property
    def lines(self) -> list[str]:
        # The same line breaks as the tokenizer: \n, \r\n and a lone \r.
        return io.StringIO(self.text, newline="").readlines()

    @functools.cached_property
    def starts(self) -> list[int]:
        starts = [0]
        for line in self.lines:
            starts.append(starts[-1] + len(line))
        return starts

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
    return _text(text) if text is not None else None


@functools.lru_cache(maxsize=8)
def _text(text: str) -> _Text:
    """One `_Text` per file text: the checks ask about the same file many times."""
    return _Text(text)


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
    return _text(text).segment(node)


def char_column(line: str, byte_col: int) -> int:
    """The character offset of `ast`'s UTF-8 byte offset `byte_col` in `line`."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def unparsed(node: ast.AST) -> str:
    """The node as `ast.unparse` spells it (for code that quotes a statement without the file's text)."""
    return ast.unparse(node)
