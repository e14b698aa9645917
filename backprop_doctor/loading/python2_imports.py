"""The user's own modules written in Python 2 import as Python 3.

The cs231n assignments of 2015 and 2016 are Python 2 throughout: a notebook's
`from cs231n.fast_layers import *` reaches `print 'run the following ...'`
in a sibling module and the import fails with SyntaxError before one layer is
defined. `source.read_source` already reads the checked file itself as
Python 3, line for line (`python2_rescue`); `Python2Finder` does the same for
each module the user's code imports from the user's own folders, and only
when Python 3 rejects it, so a module that parses is loaded as it always was;
the user's modules that `stubs.StubFinder` finds where the usual finders do not
look (a relative `sys.path` entry, a folder above) are read the same way (`adopt`).
Each module read that way is recorded for the `python2` warning.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import sys
from collections.abc import Callable, Sequence
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.loading import past_builtins
from backprop_doctor.loading.source import python2_finding, python2_rescue


class Python2Loader(importlib.machinery.SourceFileLoader):
    """A user's module that compiles as Python 3 if it can, else as its Python 3 reading."""

    def __init__(self, fullname: str, path: str, rescued: list[tuple[str, list[tuple[int, str]], str]]):
        super().__init__(fullname, path)
        self._rescued = rescued

    def source_to_code(self, data: Any, path: Any, *, _optimize: int = -1) -> Any:  # type: ignore[override]
        try:
            return super().source_to_code(data, path, _optimize=_optimize)
        except SyntaxError:
            text = importlib.util.decode_source(data).replace("\r\n", "\n").replace("\r", "\n")
            rescued = python2_rescue(text, path)
            if rescued is None:
                raise  # not Python 2: the user's syntax error, reported as it is
            fixed, tree, changed = rescued
            if not self._rescued:
                from backprop_doctor.loading.namespace import python2_names

                python2_names()  # `xrange` and the other names Python 3 dropped, given back
            self._rescued.append((path, changed, fixed))
            lines = [line + "\n" for line in fixed.split("\n")]
            linecache.cache[path] = (len(fixed), None, lines, path)  # `inspect` reads what ran, not the Python 2
            return compile(tree, path, "exec", dont_inherit=True)

    def exec_module(self, module: Any) -> None:
        """Run the module; one that is Python 2 code (read as Python 3 above, or one that parses but
        reads `xrange` or imports `cPickle`) runs with Python 2's builtins (`zip` returning a list)."""
        code = self.get_code(module.__name__)
        if code is None:
            raise ImportError(f"cannot load {module.__name__!r}", name=module.__name__)
        if self._reads_python2():
            module.__builtins__ = past_builtins.python2_builtins()
        exec(code, module.__dict__)  # noqa: S102 - what `SourceFileLoader.exec_module` does

    def _reads_python2(self) -> bool:
        if any(path == self.path for path, _, _ in self._rescued):
            return True
        try:
            tree = ast.parse(self.get_source(self.name) or "", self.path)
        except (SyntaxError, ValueError, ImportError, RecursionError, MemoryError):
            return False
        return past_builtins.is_python2(tree)


class Python2Finder(importlib.abc.MetaPathFinder):
    """First on `sys.meta_path`: the user's own `.py` modules load through `Python2Loader`."""

    def __init__(self, is_user_file: Callable[[str], bool]):
        self._is_user_file = is_user_file
        self.rescued: list[tuple[str, list[tuple[int, str]], str]] = []  # (path, changed lines, text read)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader or not spec.origin:
            return None  # a namespace package, an extension, a library's module: the usual finders decide
        if not self._is_user_file(spec.origin):
            return None
        return self.adopt(spec)

    def adopt(self, spec: importlib.machinery.ModuleSpec) -> importlib.machinery.ModuleSpec:
        """`spec` loading through `Python2Loader` when it is a plain `.py` module's: one another
        finder found where this one does not look (`sys.path.append("../src/")` taken from the
        user's folder, a package in a folder above it)."""
        if type(spec.loader) is importlib.machinery.SourceFileLoader and spec.origin:
            spec.loader = Python2Loader(spec.name, spec.origin, self.rescued)
        return spec

    def findings(self) -> list[Finding]:
        """A `python2` warning for each imported module that was read as Python 3."""
        return [python2_finding(path, changed, text, imported=True) for path, changed, text in self.rescued]


def adopted(spec: importlib.machinery.ModuleSpec | None) -> importlib.machinery.ModuleSpec | None:
    """`spec` as the installed `Python2Finder` would load it (unchanged when none is installed)."""
    finder = next((f for f in sys.meta_path if isinstance(f, Python2Finder)), None)
    return finder.adopt(spec) if finder is not None and spec is not None else spec


def install(is_user_file: Callable[[str], bool]) -> Python2Finder:
    """Put a fresh `Python2Finder` just before the standard `PathFinder` on `sys.meta_path`
    (replacing an earlier one): finders that wrap the user's modules (the book's `dataset/mnist.py`)
    still come first and wrap the loader it hands them."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, Python2Finder)]
    finder = Python2Finder(is_user_file)
    at = next((i for i, f in enumerate(sys.meta_path) if f is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(at, finder)
    return finder
