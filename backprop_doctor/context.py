"""What a check module's `run(context)` gets to look at."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from backprop_doctor.findings import Finding
from backprop_doctor.options import Options
from backprop_doctor.static.facts import SourceFacts

if TYPE_CHECKING:
    import ast


@dataclass
class SourceFile:
    """A user's file as the tool read it (never written back)."""

    path: str
    text: str  # the text that was compiled, after normalising pasted characters
    tree: ast.Module | None = None  # None when the file does not parse
    python2: bool = False  # read as Python 3 from Python 2 (`print x` -> `print(x)`): the names Python 3 dropped are given back

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")  # read_source normalised line endings; splitlines() would also split on \f, \x1c, U+2028...

    @cached_property
    def text_lines(self) -> list[str]:
        """The lines of `text` with their "\n", split on "\n" only, as the compiler counts lines (for `linecache`)."""
        return io.StringIO(self.text).readlines()

    def line(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    @cached_property
    def facts(self) -> SourceFacts:
        """What the source says without running it, read from `tree` (parsed once, by the loader)."""
        return SourceFacts(self.tree, self.text, self.path)


@dataclass
class CheckContext:
    options: Options
    source: SourceFile | None = None
    namespace: dict[str, Any] | None = None
    layers: list[Any] = field(default_factory=list)  # conventions: ClassLayer, FunctionPair, ... (Adapter)
    networks: list[Any] = field(default_factory=list)  # conventions.networks.NetworkAdapter
    findings: list[Finding] = field(default_factory=list)  # found so far by earlier stages
    measurements: list[Any] = field(default_factory=list)  # the report's gradient rows so far (right ones too)
    extras: dict[str, Any] = field(default_factory=dict)
