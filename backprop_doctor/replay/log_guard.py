"""A guard inside a log (`np.log(y + 1e-7)`), and the loss without it.

The book's cross-entropy adds 1e-7 to every probability before its log, and its gradient,
`(y - t) / batch_size`, leaves the guard out: it is the gradient of the loss without the guard.
Where every probability is far above 1e-7 the two agree to 1e-4 or better, but a sample the
network puts at 1e-9 on its own class (a confident mistake early in training, a saturated
sigmoid) has a guarded loss that hardly moves with it, while its gradient is whole: the replay
would measure a right gradient as wrong.

`Guards` watches NumPy's `log` while the step runs. A call whose source line adds a constant c to
its argument (`np.log(x + c)`, `np.log(c + x)`, c a number or a name bound to one, at most
`LARGEST_GUARD`) is a guarded call. Watching, it records how far the guard moves the slope there,
c over the smallest argument (`effect`). Lifting, it takes c out again, `log(x - c)`, wherever
that leaves enough of x to be exact (`LIFTABLE`), so the loss measured is the one the gradient
belongs to. A guard that bounds from below (`np.log(np.maximum(x, c))`, `np.clip(x, c, ...)`)
cannot be taken out: where it is reached, the loss does not move with those entries at all, and
`effect` is 1. What lifting leaves is `effect` too: the disagreement a right gradient may still show.
"""

from __future__ import annotations

import contextlib
import gc
import linecache
import re
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_TERM = r"(\d+(?:\.\d*)?(?:[eE]-?\d+)?|[A-Za-z_]\w*)"  # a number, or a name bound to one (`delta`, `self.eps` read as `eps`)
_ADDED = (
    re.compile(rf"log\s*\(.*[+]\s*(?:self\.)?{_TERM}\s*\)"),  # np.log(y + 1e-7), np.log(y + delta)
    re.compile(rf"log\s*\(\s*(?:self\.)?{_TERM}\s*[+]"),  # np.log(1e-7 + y)
)
_BOUNDED = re.compile(rf"log\s*\(\s*(?:np\.|numpy\.)?(?:maximum|clip)\s*\(.*?,\s*(?:self\.)?{_TERM}\s*[,)]")  # np.log(np.clip(y, 1e-12, 1))
LARGEST_GUARD = 1e-3  # a constant larger than this added inside a log is part of the loss, not a guard
LIFTABLE = 1e-3  # x - c is taken as exact where it is at least this share of c (then its rounding is below 1e-12 of it)


def _value(term: str, names: Callable[[str], Any]) -> float:
    value = names(term) if term[0].isalpha() or term[0] == "_" else float(term)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= LARGEST_GUARD:
        return float(value)
    return 0.0


def guard_of(line: str, names: Callable[[str], Any] = lambda name: None) -> tuple[float, bool]:
    """(c, added) of the guard a line puts inside its log: c added to the argument (`added`), or a lower
    bound on it; (0.0, False) for none. `names` looks up a name the line uses instead of a number."""
    added = [_value(m.group(1), names) for pattern in _ADDED for m in pattern.finditer(line)]
    if any(added):
        return max(added), True
    bounded = [_value(m.group(1), names) for m in _BOUNDED.finditer(line)]
    return max(bounded, default=0.0), False


def _lookup(frame: Any) -> Callable[[str], Any]:
    """A name's value in `frame`: its locals, an attribute of its `self`, its globals."""

    def value(name: str) -> Any:
        if name in frame.f_locals:
            return frame.f_locals[name]
        owner = frame.f_locals.get("self")
        if owner is not None and name in getattr(owner, "__dict__", {}):
            return owner.__dict__[name]
        return frame.f_globals.get(name)

    return value


class Guards:
    """NumPy's `log` watched while a block runs (`active`), its guards recorded; with `lift`, taken out.

    A guard written as a constant of the code that calls `log` (`np.log(y + 1e-7)`, or `delta = 1e-7`
    in that function) is taken out where it is written: the function runs with that constant 0 (`code`
    for code the replay compiles itself), so `log(y)` is computed from y itself, however small. Any
    other added guard is subtracted again from the argument where that leaves y exact. `effect` is the
    largest share of a sample's slope a guard left in place takes away (0.0: none, or none reached)."""

    def __init__(self, lift: bool = False, constants: dict[Any, float] | None = None):
        self.lift = lift
        self.effect = 0.0
        self.constants: dict[Any, float] = dict(constants or {})  # code object -> the guard constant it holds
        self._lifted: dict[Any, Any] = {}  # code object -> the same code with the constant 0.0
        self._functions: list[tuple[Any, Any]] = []  # (function, its own code) running lifted code meanwhile

    def code(self, code: Any) -> Any:
        """`code` with its guard constant taken out, when the watched run saw it guard a log (else as it is)."""
        if not self.lift or code not in self.constants:
            return code
        if code not in self._lifted:
            guard = self.constants[code]
            self._lifted[code] = code.replace(co_consts=tuple(0.0 if type(k) is float and k == guard else k for k in code.co_consts))
        return self._lifted[code]

    @contextlib.contextmanager
    def active(self) -> Iterator[Guards]:
        original = np.log
        if self.lift and not self._functions:
            self._functions = [(f, f.__code__) for code in self.constants for f in gc.get_referrers(code) if isinstance(f, types.FunctionType) and f.__code__ is code]
        lifted = {self.code(code) for code in self.constants} if self.lift else set()

        def log(x: Any, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs:
                return original(x, *args, **kwargs)
            try:
                values = np.asarray(x)
                frame = sys._getframe(1)
                if frame.f_code in lifted:
                    if values.size and np.nanmin(values) <= 0:
                        self.effect = 1.0  # y itself is 0 (underflow): the loss is no number without its guard
                    return original(x)
                guard, added = guard_of(linecache.getline(frame.f_code.co_filename, frame.f_lineno), _lookup(frame)) if values.dtype.kind == "f" and values.size else (0.0, False)
            except Exception:  # noqa: BLE001 - an argument that is no array of numbers: no guarded probability
                guard, added = 0.0, False
            if guard == 0.0:
                return original(x)
            if not added:
                if np.nanmin(values) <= guard * (1 + 1e-12):
                    self.effect = 1.0  # entries held at the bound: the loss does not move with them
                return original(x)
            if not self.lift:
                if guard in frame.f_code.co_consts:
                    self.constants[frame.f_code] = guard
                smallest = float(np.nanmin(values))
                self.effect = max(self.effect, min(1.0, guard / smallest) if smallest > 0 else 1.0)
                return original(x)
            rest = values - guard
            exact = rest >= LIFTABLE * guard
            if not exact.all():
                self.effect = max(self.effect, min(1.0, guard / float(np.nanmin(values[~exact]))))
            out = original(np.where(exact, rest, values))
            return out if np.ndim(x) else out[()]

        np.log = log
        for function, code in self._functions:
            function.__code__ = self.code(code)
        try:
            yield self
        finally:
            np.log = original
            for function, code in self._functions:
                function.__code__ = code


def watched(evaluate: Callable[[], Any]) -> Guards:
    """The guards inside the logs `evaluate()` calls, watched: `effect` is how far they move the loss's slope
    from its gradient's (the largest c / min(argument), 0.0 for none), `constants` where they are written.
    `evaluate` is called once."""
    with Guards().active() as guards:
        evaluate()
    return guards
