"""The Python 2 names Python 3 dropped, and stand-ins for the packages that give them back.

cs231n's 2017 assignments open with `from past.builtins import xrange` and loop with
`for it in xrange(num_iters):`. With the `future` package missing, an inert stand-in made
`xrange(n)` an empty iterable: the training loop ran zero times and a file that trains a
network had "nothing to check". `past.builtins` and `six.moves` now give each name its Python 3
meaning, from the same table `namespace.python2_names` puts into `builtins` for a file read as
Python 2.
"""

from __future__ import annotations

import functools
import importlib
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


def __getattr__(name: str) -> Any:  # `getattr(past_builtins, "xrange")`, as `datasets.standin` asks
    if name in PYTHON2_NAMES:
        return meaning(name)
    raise AttributeError(name)
