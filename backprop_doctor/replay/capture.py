"""Run the user's program up to its first parameter update and keep what one step needs.

The program runs as in the observed run (`observe.run.run_program`: its own
module, seeded, sandboxed, output captured), under a tracer that only ever
turns on line events in two places: the code holding the training loop, and
the functions holding its updates. When the loop body starts for the first time
the state is taken (`state.State`); at each update line, before it runs, the
parameter it moves and the gradient it moves it by (`step / rate`, see
`static.steps.UpdateSite`) are read in the frame that runs it; once the loop
has gone past its updates the program is stopped. Nothing here changes what the
program computes.
"""

from __future__ import annotations

import ast

import dataclasses
import os
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.observe.budget import Deadline

from backprop_doctor.observe.record import Record, number
from backprop_doctor.observe.tracer import StopRun
from backprop_doctor.replay.state import Path, State
from backprop_doctor.scalar_autograd import node_number
from backprop_doctor.static.steps import TrainingStep, UpdateSite, update_guard


@dataclass
class Moved:
    """One parameter an update moved in the first step: where it lives and the gradient used."""

    site: UpdateSite
    path: Path | None  # where the parameter is found in the loop frame's variables; None: not found
    gradient: Any  # the program's gradient (`step / rate`, sign folded in: descent follows +gradient)
    value: Any  # the parameter's value just before the update (a copy)
    gradient_name: str | None = None  # the loop frame's name for the gradient array (`dWxh` for a loop's `dparam`)
    holders: int = 0  # how many places of the loop's variables hold the parameter array (a layer and `params`: 2)
    rate: float | None = None  # the learning rate's value where the update ran
    penalised: bool = False  # a penalty's own statement (`W -= lr * lam * np.sign(W)`) is added in (`penalty_steps.folded`)
    live: Any = field(default=None, repr=False, compare=False)  # the object the gradient expression gave (not a copy): held, so its id is its own


@dataclass
class Scaled:
    """A statement that scaled a parameter the step updates (`P *= wd`, `static.scalings`), as the first pass ran it."""

    scaling: Any  # static.scalings.Scaling
    path: Path  # the parameter, in the state
    factor: float  # its value after the statement over before it (least squares over its entries)


@dataclass
class Capture:
    step: TrainingStep
    state: State | None = None
    namespace: dict[str, Any] | None = None  # the dict the loop's statements run in
    module_level: bool = True
    moved: list[Moved] = field(default_factory=list)
    scaled: list[Scaled] = field(default_factory=list)  # parameters scaled in place beside their step (`P *= wd`)
    program_loss: float | None = None  # the loss the program itself computed in that step (in the prefix)
    reached_update: bool = False
    why: str = ""  # why nothing was captured
    pass_number: int = 0  # which pass of the loop the state was taken at (the second, when there is one)
    earlier: Capture | None = None  # the first pass, kept when the second is taken (its loss may already be lost)
    raised: tuple[str, str, int] | None = None  # (description, file, line): the loop's frame left by this error before an update
    starts: int = 0  # how many times the loop's body started while the capture watched
    repeated: int = 0  # updates of a place one update statement had already moved in the pass (kept once, the first)
    first_update: int | None = None  # the pass whose update statements ran first, when the passes taken ran none
    window: list[dict[str, Any]] = field(default_factory=list)  # the passes after the state's that run no update, each the names the loop rebound (below)
    window_losses: list[float] = field(default_factory=list)  # the program's loss in each pass of the window
    last_pass_only: bool = False  # the window read as its last pass's step alone (an update that skips passes, summing nothing)
    # a function's loop: the module's own globals (not a copy) and the names of them the loop reads (`X`, `y`, `reg`),
    # which the functions it calls (`calculate_loss(model)`) read there too (`replay.curve.globals_rebound`)
    module_globals: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    globals_read: frozenset[str] = frozenset()


# A guarded update (`if step % k == 0:`) that runs once every k passes reads what those k passes
# accumulated (`acc[name] += g[name]`, then `params[name] -= lr * acc[name] / k`): its step is the k
# passes from the one after the update ran before, a window. The state is taken where the window
# starts; each later pass of it is the names of `static.steps.pass_inputs` the loop rebound since the
# pass before (`start`, a new epoch's `order`), copied; the loss is their mean (`replay.runner`).


PASSES = 2  # the state is taken at the second pass: a gradient that accumulates across steps is wrong there
WATCHED = 2000  # passes watched on, counted only, when the passes taken ran no update statement
WINDOW = 16  # the most passes one accumulated update may read (one in more than this is `step-update-skipped`'s)
MOVED_KEPT = 256  # parameters (arrays, or numbers of a list of weights) read in one step at most


def _lines(code: types.CodeType) -> set[int]:
    return {line for _, _, line in code.co_lines() if line is not None}


class StepCapture:
    """The `recorder` handed to `run_program`: stops the program after its first step's updates."""

    def __init__(self, path: str, step: TrainingStep, budget: float, at_pass: int = PASSES, accept: Callable[[Capture], bool] | None = None, further: int = 0):
        """`at_pass`: the pass whose state is kept (the second by default; a later one to measure the
        gradients where the weights have moved, `replay._later`). The passes between the first and
        that one are only counted. `accept`: a pass taken there whose capture it refuses is replaced by
        the next one, `further` passes more at the most (`replay._unzeroed`: no row still zero)."""
        self.at_pass = at_pass
        self.accept = accept
        self.further = further
        self.record = Record()
        self.finished = False
        self.stop: str | None = None
        self.path = path
        self.step = step
        self.deadline = Deadline(budget)
        self._pending: tuple[str, str, int] | None = None
        self.capture = Capture(step)
        self.loop_frame: types.FrameType | None = None
        self.sites: dict[tuple[str, int], list[UpdateSite]] = {}  # by (file, line); an update may be in a file the loop imports
        for site in step.updates:
            self.sites.setdefault((os.path.abspath(site.file) if site.file else path, site.line), []).append(site)
        self.files = {file for file, _ in self.sites} | {path}
        self._codes: dict[types.CodeType, str | None] = {}
        self._moved: set[tuple[int, int]] = set()
        self.passes = 0
        self.watching = False  # past the passes taken, which ran no update statement: passes counted until one does
        self.guarded = update_guard(step) is not None  # a pass may well run none of the update (`if step % k == 0:`)
        self.window: dict[str, Any] | None = None  # in a window (above): the names `pass_inputs` held when the last pass started
        self._window_next = False  # the update ran while watched: the window starts with the next pass
        self._window_loss_read = False
        from backprop_doctor.static.scalings import scalings

        found = scalings(step.loop, [site.update.target for site in step.updates if site.update.file is None]) if not step.loopless else []
        found += _scalings_in_updating_functions(path, step)
        self.scalings = {s.line: s for s in found}
        self._scaling: tuple[types.FrameType, Any, int, np.ndarray] | None = None  # (frame, scaling, id, copy) of one running

    # -- the trace functions --------------------------------------------------------------

    def trace(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event != "call":
            return None
        code = frame.f_code
        if code.co_filename not in self.files:
            return None
        if self.deadline.passed():
            self.stop = "budget"
            raise StopRun("budget")
        role = self._codes.get(code, "")
        if role == "":
            role = self._codes[code] = self._role(code)
        if role == "loop" and (self.loop_frame is None or self.step.loopless):
            return self._in_loop  # a step with no loop around it runs as several top-level statements, each a frame
        if role == "update" and self.capture.state is not None:
            return self._in_update
        return None

    def _role(self, code: types.CodeType) -> str | None:
        lines = _lines(code)
        step = self.step
        at_top = step.loopless and step.function is None and code.co_name == "<module>"
        if (step.loop_line in lines and step.first_line in lines) or (at_top and any(step.first_line <= line <= step.update_end_line for line in lines)):
            if (step.function is None and code.co_name == "<module>") or (
                step.function is not None and code.co_name == step.function.rsplit(".", 1)[-1]
            ):
                return "loop"
        if any(file == code.co_filename and line in lines for file, line in self.sites):
            return "update"
        return None

    def _in_loop(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        step = self.step
        capture = self.capture
        if self.scalings and event in ("line", "return"):
            self._scaling_seen(frame, event)
        if event == "line":
            line = frame.f_lineno
            took = False
            if line == step.first_line and (frame is self.loop_frame or self.loop_frame is None):
                capture.starts += 1
                if self.watching and capture.starts > WATCHED:
                    self._done("enough")
                if self._window_next and frame is self.loop_frame:
                    self._open_window(frame)
                    return self._in_loop
            if self.window is not None and frame is self.loop_frame:
                self._in_window(frame, line)
                return self._in_loop
            if frame is self.loop_frame:
                self._pending = None  # the frame goes on: an error it raised was caught
            if step.loopless and capture.state is not None and frame is not self.loop_frame:
                self.loop_frame = frame  # the step's next top-level statement
            if capture.state is None:
                if line != step.first_line:
                    return self._in_loop
                self._take(frame)
                took = True
            elif frame is self.loop_frame and line == step.first_line and capture.reached_update and self.passes < self.at_pass:
                self._take(frame)  # the next pass: what accumulates across steps shows from here
                took = True
            if frame is self.loop_frame:
                # a pass may start with its update (`theta = theta - alpha / m * (X.T @ (X @ theta - y))`):
                # the state just taken and the update belong to the same pass
                if step.update_line <= line <= step.update_end_line:
                    if not capture.reached_update:
                        capture.reached_update = True
                        self._program_loss(frame)
                    self._at_update(frame, line)
                elif not took and capture.reached_update and (self.passes >= self.at_pass or step.loopless):
                    if self._scaling_later(line):
                        return self._in_loop  # a scaling after the update (`for k in params: params[k] *= decay`): read it first
                    if self.accept is not None and self.further > 0 and not step.loopless and capture.moved and not self.accept(capture):
                        self.further -= 1
                        self.at_pass += 1  # this pass will not do: the next one is taken at the loop's head
                        return self._in_loop
                    if capture.moved or step.loopless or self.at_pass != PASSES or not self.guarded:
                        self._done("enough")
                    self.watching = True  # the pass ran none of its update statements (`if step % k == 0:`): count on
            elif (frame.f_code.co_filename, line) in self.sites:
                self._at_update(frame, line)
        elif event == "exception" and frame is self.loop_frame and capture.state is not None and not capture.reached_update:
            from backprop_doctor.locate import describe

            self._pending = (describe(arg[1]), frame.f_code.co_filename, frame.f_lineno)  # caught in the frame, or its way out
        elif event == "return" and frame is self.loop_frame and capture.state is not None:
            if step.loopless and step.function is None and max(_lines(frame.f_code)) < step.update_end_line:
                return self._in_loop  # one top-level statement of the step done; the next runs as a frame of its own
            if not capture.reached_update and self._pending is not None:
                capture.raised = self._pending  # left by the error: `return` follows `exception` with no line between
            self._done("enough" if capture.reached_update else "returned")
        return self._in_loop

    def _in_update(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if self.scalings and event in ("line", "return"):
            self._scaling_seen(frame, event)
        if event == "line" and (frame.f_code.co_filename, frame.f_lineno) in self.sites and not self._elsewhere():
            self._at_update(frame, frame.f_lineno)
        return self._in_update

    def _elsewhere(self) -> bool:
        """Whether the loop's frame stands at a statement of its body outside the step's updates: a helper
        the step calls to update (`opt.update(small.params, g)`) called by another part of the body for
        another network (`opt_b.update(wide.params, g2)`, `static.steps._independent`), not by this step."""
        step, frame = self.step, self.loop_frame
        if frame is None or step.loopless or step.loop is None:
            return False
        line = frame.f_lineno
        body = step.loop.body
        inside = body[0].lineno <= line <= max(s.end_lineno or s.lineno for s in body)
        return inside and not step.update_line <= line <= step.update_end_line

    def _scaling_seen(self, frame: types.FrameType, event: str) -> None:
        """A scaling statement's parameter read as the statement starts, and again at the next event of its frame."""
        capture = self.capture
        if self._scaling is not None and self._scaling[0] is frame:
            _, scaling, before_id, before = self._scaling
            self._scaling = None
            try:
                after = eval(scaling.target, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
            except Exception:  # noqa: BLE001
                after = None
            path = capture.state.paths.get(before_id) if capture.state is not None else None
            if isinstance(after, np.ndarray) and after.shape == before.shape and path is not None and len(capture.scaled) < MOVED_KEPT:
                norm = float(np.sum(before * before))
                if norm > 0 and np.all(np.isfinite(after)):
                    factor = float(np.sum(after.astype(np.float64) * before)) / norm
                    if not any(s.path == path and s.scaling.line == scaling.line for s in capture.scaled):
                        capture.scaled.append(Scaled(scaling, path, factor))
        if event != "line" or capture.state is None or frame.f_code.co_filename != self.path:
            return
        scaling = self.scalings.get(frame.f_lineno)
        if scaling is None:
            return
        try:
            target = eval(scaling.target, frame.f_globals, frame.f_locals)  # noqa: S307
        except Exception:  # noqa: BLE001
            return
        try:
            factor = eval(scaling.factor, frame.f_globals, frame.f_locals)  # noqa: S307
        except Exception:  # noqa: BLE001
            factor = None
        if np.size(factor) > 1:
            return  # an array of factors (`self.W *= self.mask`): a mask, not a decay
        if isinstance(target, np.ndarray) and target.dtype.kind == "f" and target.size:
            self._scaling = (frame, scaling, id(target), target.astype(np.float64, copy=True))

    def _scaling_later(self, line: int) -> bool:
        """Whether `line` is in a statement of the loop's body, after its update, that holds a scaling statement."""
        loop = self.step.loop
        if loop is None or not self.scalings:
            return False
        for stmt in getattr(loop, "body", []):
            end = stmt.end_lineno or stmt.lineno
            if stmt.lineno > self.step.update_end_line and stmt.lineno <= line <= end:
                return any(stmt.lineno <= at <= end for at in self.scalings)
        return False

    def _done(self, why: str) -> None:
        self.stop = why
        raise StopRun(why)

    # -- what is kept ---------------------------------------------------------------------

    def _take(self, frame: types.FrameType) -> None:
        self.loop_frame = frame
        self.passes += 1
        capture = self.capture
        if capture.state is not None and self.passes < self.at_pass:  # a pass before the one kept: counted only
            capture.moved, capture.reached_update, capture.scaled, capture.repeated = [], False, [], 0
            self._moved.clear()
            return
        if capture.state is not None and self.at_pass > PASSES:
            capture.earlier = None  # the pass before was never kept
        elif capture.state is not None and capture.reached_update:
            capture.earlier = dataclasses.replace(capture, earlier=None)  # the pass before, as it was
        capture.moved, capture.reached_update, capture.program_loss, capture.pass_number = [], False, None, self.passes
        capture.scaled, capture.repeated = [], 0
        self._moved.clear()
        module_level = self.step.function is None
        capture.module_level = module_level
        from_module = {} if module_level else self._globals_read(frame)
        variables = frame.f_globals if module_level else {**from_module, **frame.f_locals}
        capture.state = State.take(variables, later=_inner_loop_names(self.step), shared_with=None if module_level else frame.f_globals)
        capture.namespace = frame.f_globals if module_level else dict(frame.f_globals)
        capture.module_globals = None if module_level else frame.f_globals
        capture.globals_read = frozenset(from_module)

    def _open_window(self, frame: types.FrameType) -> None:
        """The first pass after an update that ran once in several passes: the state is taken here."""
        from backprop_doctor.static.steps import pass_inputs

        self._window_next, self.watching = False, False
        self.passes = self.at_pass - 1
        self._take(frame)
        self.capture.earlier = None  # the passes before the window are not a step of their own
        self.capture.window, self.capture.window_losses = [], []
        self._window_loss_read = False
        self.window = {name: frame.f_locals.get(name, frame.f_globals.get(name)) for name in pass_inputs(self.step)}

    def _in_window(self, frame: types.FrameType, line: int) -> None:
        step, capture = self.step, self.capture
        if line == step.first_line:
            if capture.moved:  # the window's update has run: its step is complete
                capture.program_loss = sum(capture.window_losses) / len(capture.window_losses) if capture.window_losses else None
                self._done("enough")
            if len(capture.window) + 1 >= WINDOW:
                self._done("enough")
            assert self.window is not None
            rebound = {}
            for name, held in self.window.items():
                value = frame.f_locals.get(name, frame.f_globals.get(name))
                if value is not held:
                    rebound[name] = value.copy() if isinstance(value, np.ndarray) else _copied(value)
                    self.window[name] = value
            capture.window.append(rebound)
            self._window_loss_read = False
        elif step.update_line <= line <= step.update_end_line:
            if not self._window_loss_read:  # the pass's loss, read once where its update would start
                self._window_loss_read = True
                found = self._program_loss(frame)
                if found is not None:
                    capture.window_losses.append(found)
            capture.reached_update = True
            self._at_update(frame, line)

    def _globals_read(self, frame: types.FrameType) -> dict[str, Any]:
        """The module's objects a function's loop reads (`rnn` of `rnn.backprop(d)` in `processData`):
        part of its state, copied with it, so replays never move the program's own."""
        loop = self.step.loop
        if loop is None:
            return {}
        read = {n.id for n in ast.walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        found = {}
        for name in read - set(frame.f_locals):
            value = frame.f_globals.get(name)
            if value is not None and not isinstance(value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)):
                found[name] = value
        return found

    def _program_loss(self, frame: types.FrameType) -> float | None:
        for site in self.step.losses:
            if site.in_prefix:
                value = frame.f_locals.get(site.bound, frame.f_globals.get(site.bound))
                found = number(value)
                if found is None:
                    found = node_number(value)  # a loss node of an autograd engine (`loss.data`)
                if found is not None:
                    self.capture.program_loss = found
                return found
        return None

    def _at_update(self, frame: types.FrameType, line: int) -> None:
        state = self.capture.state
        if state is None:
            return
        if self.watching:
            if (frame.f_code.co_filename, line) in self.sites:  # an update statement ran at last: its pass is all we keep
                if self.capture.first_update is None:
                    self.capture.first_update = self.capture.starts
                if self.at_pass == PASSES and self.capture.starts < WINDOW and not self.step.loopless:
                    self._window_next = True  # it reads what the passes since the last update ran added up: the next window is the step
                    return
                self._done("enough")
            return
        if self._window_next:
            return  # the rest of the update that opens the window
        for site in self.sites.get((frame.f_code.co_filename, line), ()):
            if site.listwise is not None:
                self._at_list_update(frame, site)
                continue
            if site.keyed is not None:
                self._at_dict_update(frame, site)
                continue
            try:
                target = eval(site.update.target, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
                gradient = eval(site.gradient, frame.f_globals, frame.f_locals)  # noqa: S307
            except Exception:  # noqa: BLE001 - an expression that only runs as part of its statement
                continue
            path = state.paths.get(id(target)) if isinstance(target, np.ndarray) else None
            if path is None and isinstance(target, np.ndarray) and isinstance(target.base, np.ndarray) and target.base.shape == target.shape:
                path = state.paths.get(id(target.base))  # `layer[1][...] -= lr * g[0]`: a view of the whole array, written in place
            if path is None and isinstance(target, np.ndarray) and site.update.target.isidentifier() and frame is not self.loop_frame:
                path = self._copy_of(site, frame)  # `W1 = copy.deepcopy(parameters["W1"])`, then `W1 = W1 - lr * dW1`: the entry copied
            if path is None and frame is self.loop_frame and site.update.target.isidentifier():
                path = (("name", site.update.target),)  # a scalar weight: `w1 -= lr * d_w1`
            elif path is None and site.update.target.isidentifier() and site.update.target not in frame.f_locals and site.update.target in state.values:
                path = (("name", site.update.target),)  # a function's `global b` moved by `b = b - lr * grad_b`
            if path is None and site.container is not None and (number(target) is not None or isinstance(target, np.ndarray)):
                path = self._element(site, frame)  # `neuron.weights[i] -= lr * g`, `W_in[center] -= lr * g`: an entry, a row
            if path is None and number(target) is not None and "." in site.update.target:
                path = self._attribute(site, frame)  # `self.w1 -= learn_rate * d_w1`: a number held by an object
            key = (site.line, path if path is not None else id(target))
            if key in self._moved or len(self._moved) >= MOVED_KEPT:
                self.capture.repeated += key in self._moved  # `W_out[neg] -= ...` twice for a negative drawn twice: one row, two steps
                continue
            self._moved.add(key)
            name = self._name_of(gradient)
            live = gradient
            gradient = _copy(gradient)
            if gradient is None:
                continue
            holders = state.holders.get(id(target), 0) if isinstance(target, np.ndarray) else 0
            rate = None
            if site.rate is not None:
                try:
                    rate = number(eval(site.rate, frame.f_globals, frame.f_locals))  # noqa: S307 - the user's own expression
                except Exception:  # noqa: BLE001
                    rate = None
            self.capture.moved.append(Moved(site, path, -site.sign * gradient, _copy(target), name, holders, rate, live=live))

    def _at_list_update(self, frame: types.FrameType, site: UpdateSite) -> None:
        """`self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]`: one moved
        array per element, its gradient the comprehension's own expression for that element."""
        state = self.capture.state
        assert state is not None and site.listwise is not None
        element, variable, gradients = site.listwise
        try:
            targets = eval(site.update.target, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
            given = eval(gradients, frame.f_globals, frame.f_locals)  # noqa: S307
            rate = number(eval(site.rate, frame.f_globals, frame.f_locals)) if site.rate is not None else None  # noqa: S307
        except Exception:  # noqa: BLE001
            return
        if not isinstance(targets, (list, tuple)) or len(given) != len(targets):
            return
        where = state.paths.get(id(targets)) if isinstance(targets, list) else None
        for k, (target, value) in enumerate(zip(targets, given)):
            path = state.paths.get(id(target)) if isinstance(target, np.ndarray) else None
            if path is None and where is not None and number(target) is not None:
                path = (*where, ("item", k))  # `self.weights = [w - eta * d * i for w, i in zip(self.weights, self.inp)]`: plain floats
            key = (site.line, path if path is not None else id(target))
            if path is None or key in self._moved or len(self._moved) >= MOVED_KEPT:
                continue
            try:
                gradient = eval(site.gradient, frame.f_globals, {**frame.f_locals, element: target, variable: value})  # noqa: S307
            except Exception:  # noqa: BLE001
                continue
            gradient = _copy(gradient)
            if gradient is None:
                continue
            self._moved.add(key)
            holders = state.holders.get(id(target), 0)
            named = f"{gradients}[{k}]" if site.gradient == variable else None  # else the expression (`self.delta * x`) names it
            self.capture.moved.append(Moved(site, path, -site.sign * gradient, _copy(target), named, holders, rate))

    def _at_dict_update(self, frame: types.FrameType, site: UpdateSite) -> None:
        """`P = {k: v - lr * G[k] for k, v in P.items()}`: one moved array per entry, its gradient the
        comprehension's own expression under that entry's key."""
        state = self.capture.state
        assert state is not None and site.keyed is not None
        element, key_name = site.keyed
        try:
            targets = eval(site.update.target, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
            rate = number(eval(site.rate, frame.f_globals, frame.f_locals)) if site.rate is not None else None  # noqa: S307
        except Exception:  # noqa: BLE001
            return
        if not isinstance(targets, dict):
            return
        for k, target in targets.items():
            path = state.paths.get(id(target)) if isinstance(target, np.ndarray) else None
            key = (site.line, path if path is not None else id(target))
            if path is None or key in self._moved or len(self._moved) >= MOVED_KEPT:
                continue
            bound = {key_name: k, **({element: target} if element else {})}
            try:
                gradient = eval(site.gradient, frame.f_globals, {**frame.f_locals, **bound})  # noqa: S307
            except Exception:  # noqa: BLE001
                continue
            gradient = _copy(gradient)
            if gradient is None:
                continue
            self._moved.add(key)
            holders = state.holders.get(id(target), 0)
            self.capture.moved.append(Moved(site, path, -site.sign * gradient, _copy(target), None, holders, rate))

    def _copy_of(self, site: UpdateSite, frame: types.FrameType) -> Path | None:
        """The path of the array an updating function copied into the name its update moves
        (`W1 = copy.deepcopy(parameters["W1"])`, the course's `update_parameters`, which returns the moved
        copies in a new dictionary): the step moves that entry, so it is the parameter measured."""
        from backprop_doctor.static.files import source_tree
        from backprop_doctor.static.updates import copied_into

        state = self.capture.state
        assert state is not None
        tree = source_tree(os.path.abspath(site.update.file) if site.update.file else self.path)[1]
        expression = copied_into(tree, site.update.function, site.update.target, site.line)
        if expression is None:
            return None
        try:
            copied = eval(expression, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
        except Exception:  # noqa: BLE001
            return None
        target = frame.f_locals.get(site.update.target)
        if not isinstance(copied, np.ndarray) or not isinstance(target, np.ndarray) or copied.shape != target.shape or copied is target:
            return None
        return state.paths.get(id(copied))

    def _element(self, site: UpdateSite, frame: types.FrameType) -> Path | None:
        """The path of `container[index]` when the container is a list or dict the state indexed, or a
        float array it indexed and the index is one integer (`W_in[center]`: a row an embedding's step moves)."""
        state = self.capture.state
        assert state is not None and site.container is not None and site.index is not None
        try:
            container = eval(site.container, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
            index = eval(site.index, frame.f_globals, frame.f_locals)  # noqa: S307
        except Exception:  # noqa: BLE001
            return None
        where = state.paths.get(id(container)) if isinstance(container, (list, dict, np.ndarray)) else None
        if isinstance(container, np.ndarray) and isinstance(index, np.integer):
            index = int(index)
        if where is not None and isinstance(container, np.ndarray) and isinstance(index, slice):
            return (*where, ("slice", (index.start, index.stop, index.step)))  # `self.w_[1:]`: the part of the array the update moves
        if where is None or not isinstance(index, (int, str)) or isinstance(index, bool):
            return None
        if isinstance(container, np.ndarray) and (isinstance(index, str) or not -len(container) <= index < len(container)):
            return None
        return (*where, ("item", int(index) if isinstance(index, int) else index))

    def _attribute(self, site: UpdateSite, frame: types.FrameType) -> Path | None:
        """The path of `owner.attr` when `owner` is an object the state reaches (`self` of the loop's method)."""
        state = self.capture.state
        assert state is not None
        owner_text, _, attr = site.update.target.rpartition(".")
        if not attr.isidentifier():
            return None
        try:
            owner = eval(owner_text, frame.f_globals, frame.f_locals)  # noqa: S307 - the user's own expression
        except Exception:  # noqa: BLE001
            return None
        where = state.paths.get(id(owner))
        return (*where, ("attr", attr)) if where is not None else None

    def _name_of(self, value: Any) -> str | None:
        """The loop frame's own name for an array (`dWxh` for `dparam` of `zip(params, grads)`)."""
        frame = self.loop_frame
        if frame is None or not isinstance(value, np.ndarray):
            return None
        for name, bound in (*frame.f_locals.items(), *frame.f_globals.items()):
            if bound is value:
                return name
        return None


def _copied(value: Any) -> Any:
    """A copy of a value the loop rebound between passes (a shared object when it will not copy)."""
    import copy

    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - a file handle, a generator
        return value


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.astype(np.float64, copy=True) if value.dtype.kind in "fiu" else None
    return number(value)


def _inner_loop_names(step: TrainingStep) -> set[str]:
    """Names the loop's own inner loops bind (`layer` of `for layer in net:`), and the names their bodies
    bind to what such an element holds (`W = L.params["W"]`, then `W -= lr * L.grads["W"]`): a parameter
    they reach is named by the container that holds it (`net[2].W`, `layers[2].params['W']`), not by
    whichever element or alias they hold now (the last layer's, left from the pass before)."""
    from backprop_doctor.static.updates import split_assignment

    loop = step.loop
    if loop is None:
        return set()
    inner = [node for stmt in loop.body for node in ast.walk(stmt) if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension))]
    names = {n.id for node in inner for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    for node in inner:
        for stmt in getattr(node, "body", []):
            for assign in (a for a in ast.walk(stmt) if isinstance(a, ast.Assign)):
                for part in split_assignment(assign):
                    if len(part.targets) == 1 and isinstance(part.targets[0], ast.Name) and _held_by(part.value):
                        names.add(part.targets[0].id)
    return names


def _held_by(value: ast.expr) -> bool:
    """`L.params["W"]`, `layer.W`, `net[i].b`: an attribute or entry read as it is (an alias, no new array)."""
    if not isinstance(value, (ast.Attribute, ast.Subscript)):
        return False
    node: ast.expr = value
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name)


def _scalings_in_updating_functions(path: str, step: TrainingStep) -> list[Any]:
    """`static.scalings` of the file's functions that hold the step's updates (a layer's `update(self, lr)`
    decaying `self.W` before stepping it), beside the loop's own."""
    from backprop_doctor.static.definitions import find_function
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.scalings import scalings

    by_function: dict[str, list[str]] = {}
    for site in step.updates:
        if site.update.file is None and site.update.function:
            by_function.setdefault(site.update.function, []).append(site.update.target)
    if not by_function:
        return []
    tree = source_tree(path)[1]
    if tree is None:
        return []
    found = []
    for qualname, targets in by_function.items():
        node = find_function(tree, qualname)
        if node is not None and not (step.loop is not None and node.lineno <= step.loop.lineno <= (node.end_lineno or node.lineno)):
            found += scalings(node, targets)
    return found
