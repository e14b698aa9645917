"""The Python 2 names Python 3 dropped, and stand-ins for the packages that give them back.

cs231n's 2017 assignments open with `from past.builtins import xrange` and loop with
`for it in xrange(num_iters):`. With the `future` package missing, an inert stand-in made
`xrange(n)` an empty iterable: the training loop ran zero times and a file that trains a
network had "nothing to check". `past.builtins` and `six.moves` now give each name its Python 3
meaning, from the same table `namespace.python2_names` puts into `builtins` for a file read as
Python 2.

A file that is Python 2 code (Python 3 rejects its syntax, or it reads a name Python 3 dropped, or
imports a module Python 3 renamed, such as `cPickle`) also gets Python 2's list results
(`python2_builtins`): `zip`, `map`, `filter` and `range` return lists there, so Nielsen's
`mnist_loader` (`training_data = zip(inputs, results)`, then `len(training_data)`,
`random.shuffle(training_data)` and `full_td[:1000]` in the code that uses it) runs as it was
written. A module Python 3 renamed (`cPickle`, `Queue`, `StringIO`) imports as its Python 3 namesake
(`renamed_module`); `cPickle.load` reads the pickles Python 2 wrote (their `str` as latin-1).
A Python 3 file keeps Python 3's meanings.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import types
from typing import Any

PYTHON2_NAMES = {  # name -> its Python 3 spelling
    "xrange": "range", "raw_input": "input", "unicode": "str", "basestring": "str", "long": "int",
    "unichr": "chr", "reduce": "functools.reduce", "file": "open", "reload": "importlib.reload",
    "cmp": "(a > b) - (a < b)",
}
MODULES = {  # the missing module -> the names of it stood in for
    "past.builtins": tuple(PYTHON2_NAMES),
    "past": tuple(PYTHON2_NAMES),
    "six.moves": ("xrange", "reduce", "raw_input", "reload"),
}


def meaning(name: str) -> Any:
    """The Python 3 object a Python 2 name stands for (`xrange` -> `range`)."""
    if name == "cmp":
        return cmp
    return eval(PYTHON2_NAMES[name], {"functools": functools, "importlib": importlib})  # noqa: S307 - our own table


def cmp(a: Any, b: Any) -> int:
    """Python 2's three-way comparison."""
    return (a > b) - (a < b)


def functions_of(module: str) -> tuple[str, ...]:
    """The names of the missing `module` stood in for here (`datasets.standin` asks every such module)."""
    return MODULES.get(module, ())


PYTHON2_MODULES = {  # a Python 2 module -> its Python 3 name
    "cPickle": "pickle", "Queue": "queue", "ConfigParser": "configparser", "StringIO": "io",
    "cStringIO": "io", "urllib2": "urllib.request", "httplib": "http.client", "Tkinter": "tkinter",
    "__builtin__": "builtins", "urlparse": "urllib.parse", "HTMLParser": "html.parser",
}
# those whose Python 3 namesake offers what Python 2 code calls on them, under the same names (not
# the network modules: a download is the sandbox's to refuse, not a stand-in's)
RENAMED = ("cPickle", "Queue", "ConfigParser", "StringIO", "cStringIO", "__builtin__", "urlparse", "HTMLParser")


def renamed_module(name: str) -> types.ModuleType | None:
    """A fresh module named `name` (`cPickle`) holding what its Python 3 namesake (`pickle`) holds,
    or None for any other name. `cPickle.load`/`loads` read a Python 2 pickle's `str` as latin-1
    bytes, the way NumPy arrays pickled by Python 2 load in Python 3."""
    if name not in RENAMED:
        return None
    real = importlib.import_module(PYTHON2_MODULES[name])
    module = types.ModuleType(name, real.__doc__)
    module.__dict__.update({k: v for k, v in vars(real).items() if not (k.startswith("__") and k.endswith("__"))})
    if name == "cPickle":
        module.load = functools.partial(real.load, encoding="latin1")  # type: ignore[attr-defined]
        module.loads = functools.partial(real.loads, encoding="latin1")  # type: ignore[attr-defined]
    return module


def _zip(*iterables: Any) -> list[Any]:
    return list(builtins.zip(*iterables))


def _map(function: Any, *iterables: Any) -> list[Any]:
    return list(builtins.map(function, *iterables))


def _filter(function: Any, iterable: Any) -> list[Any]:
    return list(builtins.filter(function, iterable))


def _range(*bounds: Any) -> list[int]:
    return list(builtins.range(*bounds))


LISTS = {"zip": _zip, "map": _map, "filter": _filter, "range": _range}  # Python 2's, which returned lists


def python2_builtins() -> dict[str, Any]:
    """The builtins a Python 2 file runs with, as its module's `__builtins__`: Python 3's, the names it
    dropped given back (`xrange` is `range`), and `zip`, `map`, `filter`, `range` returning lists.
    A dict of the module's own: a `from module import *` never carries them into a Python 3 file."""
    names = dict(vars(builtins))
    names.update({n: meaning(n) for n in PYTHON2_NAMES if n not in names})
    names.update(LISTS)
    return names


def dropped_names(tree: ast.AST) -> list[tuple[str, int]]:
    """(name, first line) of the Python 2 builtins a file that parses as Python 3 still reads
    (`for i in xrange(num_train):` in a loss function), and never binds itself."""
    bound: set[str] = set()
    read: list[ast.Name] = []  # in the order of the walk
    for n in ast.walk(tree):  # one walk (it was five: a tenth of a folder's file's loading)
        kind = type(n)
        if kind is ast.Name:
            if type(n.ctx) is not ast.Load:
                bound.add(n.id)
            elif n.id in PYTHON2_NAMES:
                read.append(n)
        elif kind is ast.arg:
            bound.add(n.arg)
        elif kind is ast.Import or kind is ast.ImportFrom:
            bound.update(a.asname or a.name.split(".")[0] for a in n.names)
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            bound.add(n.name)
    first: dict[str, int] = {}
    for n in read:
        if n.id not in bound:
            first[n.id] = min(first.get(n.id, n.lineno), n.lineno)
    return sorted(first.items(), key=lambda item: item[1])


def python2_imports(tree: ast.AST) -> list[tuple[str, int]]:
    """(module, line) of the imports of Python 2 modules (`import cPickle`) that run whatever the
    Python: not one under an `if` (`if sys.version_info[0] < 3:`) or a `try` (`except ImportError:
    import pickle`), which code written for both Pythons uses."""
    found: list[tuple[str, int]] = []
    statements = list(getattr(tree, "body", []))
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            statements.extend(node.body)
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] in PYTHON2_MODULES]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in PYTHON2_MODULES:
            found.append((node.module or "", node.lineno))
    return sorted(found, key=lambda item: item[1])


def is_python2(tree: ast.AST | None) -> bool:
    """A file that parses as Python 3 but is Python 2 code: it reads a builtin Python 3 dropped
    (`xrange`) or imports a module Python 3 renamed (`cPickle`), which no Python 3 run gets past."""
    return tree is not None and bool(dropped_names(tree) or python2_imports(tree))


def __getattr__(name: str) -> Any:  # `getattr(past_builtins, "xrange")`, as `datasets.standin` asks
    if name in PYTHON2_NAMES:
        return meaning(name)
    raise AttributeError(name)
