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

from backprop_doctor.conventions._classlayer import Methods
from backprop_doctor.conventions.renamed import stored

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
    """meant → written, for `forward`/`backward` missing from `cls` but nearly spelled."""
    names = [n for n, v in inspect.getmembers(cls) if callable(v)]
    found = {}
    for meant in MEANT:
        if meant in names:
            continue
        close = [n for n in names if near_miss(n, meant)]
        if close:
            found[meant] = max(close, key=lambda n: difflib.SequenceMatcher(None, n.lower(), meant).ratio())
    return found


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
