"""Reach into the frames of the functions a replayed step calls.

`Hooks` is a tracer for one replay: it turns on line events only in the code of
the functions it is given, counts their calls, and acts right after a given
statement of a function has run (on the next line event of that frame, or its
return): it can copy a local (`dZ1` as `backward` computed it) or replace one
(`Z1` in `forward`, moved by `h * v`, before the rest of the function reads
it). The tracer that was running before (a coverage tool, a debugger) is put
back afterwards.
"""

from __future__ import annotations

import ctypes
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.static.step_functions import CALLER, REVERSED, Site


def code_of(namespace: dict[str, Any], site: Site) -> types.CodeType | None:
    """The code object of `site.function` ("backward", "Net.backprop") as the program defined it."""
    owner, _, name = site.function.rpartition(".")
    holder: Any = namespace.get(owner) if owner else None
    if owner and name.startswith("__") and not name.endswith("__"):
        name = f"_{owner.lstrip('_')}{name}"  # a private method, as its class stores it
    value = getattr(holder, name, None) if owner else namespace.get(name)
    value = getattr(value, "__func__", value)
    code = getattr(value, "__code__", None)
    return code if isinstance(code, types.CodeType) and code.co_firstlineno == site.first_line else None


_ITEM = object()  # `each` reads `name[index]`, not `name`


def _copy(value: Any) -> Any:
    return value.copy() if hasattr(value, "copy") else value


def _write_local(frame: types.FrameType, name: str, value: Any) -> None:
    frame.f_locals[name] = value
    if sys.version_info < (3, 13):  # before PEP 667 f_locals is a snapshot: push it back into the frame
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


@dataclass
class _Action:
    site: Site
    name: str  # a local, or the container of a series (`hs`)
    change: Callable[[Any], Any] | None  # None: read the value
    index: str | None = None  # the series' index variable (`t`): act on `name[t]`
    key: Any = None  # act only when the index has this value (None: at every run of the statement)
    done: bool = False
    local: bool = False  # `at_step` on the local `name` itself (`f` at step t), not on `name[t]`
    runs: int = 0  # how often it has acted on a step counted down a list (`REVERSED`)
    before: bool = False  # evaluate `name`, an expression, as the statement starts (`-ddiff` of `backward(-ddiff, cache2)`)


@dataclass
class Hooks:
    """Line events in the given functions only; act after a statement, count calls."""

    codes: dict[str, types.CodeType]  # function name -> code
    actions: list[_Action] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[Any, Any]] = field(default_factory=dict)  # name -> time step -> value, for `each`
    order: list[tuple[str, Any]] = field(default_factory=list)  # (name, time step) in the order they were read

    def after(self, site: Site, name: str, change: Callable[[Any], Any] | None = None) -> None:
        """Read (or replace) the local `name` once, right after `site` first runs."""
        self.actions.append(_Action(site, name, change))

    def before(self, site: Site, expression: str) -> None:
        """Read the value of `expression` once, in the frame, as `site` starts to run."""
        self.actions.append(_Action(site, expression, None, before=True))

    def each(self, site: Site, name: str, index: str, item: bool = False) -> None:
        """Read `name` (or `name[index]` when `item`) after every run of `site`, under the value of `index`."""
        self.actions.append(_Action(site, name, None, index, None if not item else _ITEM))

    def at_step(self, site: Site, name: str, index: str, key: Any, change: Callable[[Any], Any], local: bool = False) -> None:
        """Replace `name[key]` (the local `name`, when `local`) right after the run of `site` where `index` is `key`."""
        self.actions.append(_Action(site, name, change, index, key, local=local))

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event != "call":
            return None
        for name, code in self.codes.items():
            if frame.f_code is code:
                self.calls[name] = self.calls.get(name, 0) + 1
                return self._local(name)
        return None

    def _local(self, function: str) -> Callable[..., Any]:
        pending = [a for a in self.actions if a.site.function == function and not a.done]
        # an argument's value, whose site is the function's first line (no line event runs there): acted on
        # at the first line event, before any statement of the function reads it
        inside: list[_Action] = [a for a in pending if a.site.line == a.site.first_line]

        def trace(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event not in ("line", "return"):
                return trace
            line = frame.f_lineno
            for action in list(inside):
                if event == "return" or not (action.site.line <= line <= action.site.end_line):
                    inside.remove(action)
                    self._act(frame, action, event)
            if event == "line":
                for action in [a for a in pending if a.before and a.site.line == line and not a.done]:
                    action.done = True
                    try:
                        self.read[action.name] = _copy(eval(action.name, frame.f_globals, dict(frame.f_locals)))  # noqa: S307 - the user's own expression, in its own frame
                    except Exception:  # noqa: BLE001 - an expression that does not evaluate is not read
                        pass
                inside.extend(a for a in pending if a.site.line == line and not a.done and not a.before and a not in inside)
            return trace

        return trace

    def _act(self, frame: types.FrameType, action: _Action, event: str) -> None:
        local = frame.f_locals
        if action.name.partition(".")[0] not in local:
            return
        if action.index is not None:
            self._act_at_step(frame, local, action)
            return
        action.done = True
        holder, _, attribute = action.name.partition(".")
        if action.change is None:
            self.read[action.name] = _copy(_container(local, action.name))
        elif event == "line" and attribute:  # `self.z1`: the instance's attribute, which the rest of the step reads
            setattr(local[holder], attribute, action.change(getattr(local[holder], attribute)))
            self.read[action.name] = True
        elif event == "line":  # at a return the function has used its values already
            _write_local(frame, action.name, action.change(local[action.name]))
            self.read[action.name] = True

    def _act_at_step(self, frame: types.FrameType, local: dict[str, Any], action: _Action) -> None:
        index = action.index or ""
        if index.startswith(CALLER):  # a step function's time step: the variable of the loop that called it
            caller = frame.f_back
            step = _step(caller.f_locals, index[len(CALLER) :], action) if caller is not None else None
        else:
            step = _step(local, index, action)
        if step is None:
            return
        if action.change is None:  # `each`: every time step
            value = _container(local, action.name)[step] if action.key is _ITEM else local[action.name]
            self.steps.setdefault(action.name, {})[step] = _copy(value)
            self.order.append((action.name, step))
        elif step == action.key and action.local:
            _write_local(frame, action.name, action.change(local[action.name]))
            self.read[action.name] = True
            action.done = True
        elif step == action.key:
            container = _container(local, action.name)
            stored, changed = container[step], action.change(container[step])
            if isinstance(stored, np.ndarray) and stored.dtype.kind == "f" and np.shape(changed) == stored.shape:
                stored[...] = changed  # the array itself: `h`, which the loop goes on with, is the one stored (`hs[i + 1] = h`)
            else:
                container[step] = changed  # the series is a dict or list: changed in place
            self.read[action.name] = True
            action.done = True

    def __enter__(self) -> Hooks:
        self._previous = sys.gettrace()
        sys.settrace(self)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.settrace(self._previous)


def _container(local: dict[str, Any], name: str) -> Any:
    """The local `hs`, or `self.last_hs`: an attribute of a local."""
    holder, _, attribute = name.partition(".")
    return getattr(local[holder], attribute) if attribute else local[holder]


def _step(local: dict[str, Any], index: str, action: _Action | None = None) -> Any:
    """The value of a series' index: the loop variable `t`, or it shifted (`i + 1`, the series' key); for a loop
    walking a list backwards (`~self.cache`), the list's length less one less the passes the action has seen."""
    if index.startswith(REVERSED):
        try:
            size = len(_container(local, index[len(REVERSED) :]))
        except (KeyError, AttributeError, TypeError):
            return None
        if action is None:
            return None
        step, action.runs = size - 1 - action.runs, action.runs + 1
        return step if step >= 0 else None
    variable, _, shift = index.partition(" ")
    value = local.get(variable)
    if not shift or value is None:
        return value
    sign, _, amount = shift.partition(" ")
    try:
        return value + int(amount) if sign == "+" else value - int(amount)
    except (TypeError, ValueError):
        return None


__all__ = ["Hooks", "code_of"]
