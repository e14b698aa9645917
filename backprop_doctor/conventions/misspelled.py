"""Layer classes whose forward or backward method name is misspelled.

`backword`, `backwards`, `bakward`, `foward`, `forwad`, `fwd`... Python calls
methods by their exact names, so a network that calls `layer.backward(dout)`
raises AttributeError; the layer itself is still checked under the names it
has, and the `misspelled-method` rule names the line to rename.

Example:
    class Relu:
        def foward(self, x):
            self.mask = x <= 0
            return np.where(self.mask, 0, x)

        def backword(self, dout):
            return np.where(self.mask, 0, dout)

Recognised by: a class with no `forward`/`backward` pair but methods whose names
are within two letters of them (taking the closest), and a trial forward in
`build`. Gradients live where the book's layers keep them.
"""

from __future__ import annotations

import difflib
import inspect
import os
from typing import TYPE_CHECKING

from backprop_doctor.conventions._base import parameters
from backprop_doctor.conventions._classlayer import Methods
from backprop_doctor.conventions.renamed import stored
from backprop_doctor.conventions.sgd_in_backward import RATES
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.methods import calls_method

if TYPE_CHECKING:
    import ast

NAME = "misspelled"
ORDER = 60
MEANT = ("forward", "backward")


def near_miss(name: str, meant: str) -> bool:
    """`backword`, `backwards` for backward; never the name itself, a dunder or a `_private` helper."""
    if name == meant or name.startswith("_"):
        return False
    if name.lower() in (meant + "s", meant.lower()):
        return True
    return len(name) >= 5 and difflib.SequenceMatcher(None, name.lower(), meant).ratio() >= 0.8


def misspellings(cls: type) -> dict[str, str]:
    """meant → written, for `forward`/`backward` missing from `cls` but nearly spelled; never a method that
    is the user's own under its own name (`own_name`)."""
    names = [n for n, v in inspect.getmembers(cls) if callable(v)]
    found = {}
    for meant in MEANT:
        if meant in names:
            continue
        close = [n for n in names if near_miss(n, meant) and not own_name(cls, n, meant)]
        if close:
            found[meant] = max(close, key=lambda n: difflib.SequenceMatcher(None, n.lower(), meant).ratio())
    return found


def own_name(cls: type, written: str, meant: str) -> bool:
    """Whether `written` is a method of its own, not a misspelled `meant`: it takes only a learning rate
    (`backwards(self, learning_rate=0.001)`, the user's update step: no upstream gradient), or the class's
    own module calls it by that name and never calls `.meant(...)`."""
    method = getattr(cls, written, None)
    taken = [p.name for p in parameters(method).values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)] if callable(method) else []
    if taken and all(name.lower() in RATES for name in taken):
        return True
    return calls_by_own_name(_module_tree(cls), written, meant)


def calls_by_own_name(tree: ast.AST | None, written: str, meant: str) -> bool:
    """A file that calls `.written(...)` and never `.meant(...)`: the name is the one its code uses."""
    return calls_method(tree, written) and not calls_method(tree, meant)


def _module_tree(cls: type) -> ast.Module | None:
    try:
        file = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None
    return source_tree(os.path.abspath(file))[1] if file else None


def _line(cls: type, name: str) -> int | None:
    try:
        return inspect.getsourcelines(getattr(cls, name))[1]
    except (TypeError, OSError):
        return None


def layer_methods(cls: type) -> Methods | None:
    wrong = misspellings(cls)
    if not wrong:
        return None
    forward, backward = wrong.get("forward", "forward"), wrong.get("backward", "backward")
    if not (callable(getattr(cls, forward, None)) and callable(getattr(cls, backward, None))):
        return None
    output, dx = stored(cls, forward, backward)
    typos = tuple((written, meant, _line(cls, written)) for meant, written in wrong.items())
    return Methods(convention=NAME, forward=forward, backward=backward, output=output, dx=dx, misspelled=typos)
