"""The recorder of an observed run: one small `sys.settrace` function, plain data out.

The global trace function sees every Python call. For code outside the user's
files it returns at once (no line events); for the user's code it records

* each instance of a user class when its `__init__` starts, with the creating line;
* the first `CALLS_KEPT` calls of each forward/backward/loss/gradient/predict-like
  method per instance, and of each module-level function given arrays (copies
  of the arguments, and of the result when the call returns);
* every loss-like value returned, for the user's own loss curve.

It never changes what the program does, except to stop it: once every
backward-like call has run `ENOUGH_CALLS` times (and the loss curve has
`CURVE_POINTS` points, or `CURVE_SECONDS` passed), or when the time budget is
spent, the next call into the user's code raises `StopRun`, a BaseException the
run catches.
"""

from __future__ import annotations

import re
import sys
import time
import types
from typing import Any

import numpy as np

from backprop_doctor.observe.budget import Deadline

from backprop_doctor.observe.record import Call, FunctionCalls, Instance, LossValue, Record, copy_arguments, copy_value, scalar

CALLS_KEPT = 3  # calls recorded per method (per instance) or function
ENOUGH_CALLS = 2  # a backward-like call that ran this often has been seen enough
LOOP_PASSES = 3  # a training loop that made this many passes has been seen enough
CURVE_POINTS = 30  # loss values wanted for the curve once the record is complete
CURVE_SECONDS = 0.15  # ... or this long after it was complete
COPY_ELEMENTS = 2_000_000  # array elements copied per call at most
INSTANCES_KEPT = 8  # instances recorded per class (a cell made anew at every time step is seen enough)

BACKWARD = re.compile(r"backward|backprop|gradient|^grads?$|^grad_|_grads?$|bptt|^numerical_gradient$", re.IGNORECASE)
FORWARD = re.compile(r"forward|predict|loss|cost|^__call__$|^step$|^error$|_error$|^evaluate$|^inference$|^output$", re.IGNORECASE)
LOSS = re.compile(r"loss|cost|error|criterion", re.IGNORECASE)
# a training step's calls are recorded too (`train_on_batch(X, y)`, `train(x_train, y_train, ...)`):
# the batch and targets a container of layers was trained on (`conventions/containers.py`)
TRAINING = re.compile(r"^_?(train|fit)(_on_batch|_batch|_step|_epoch)?$|^train_?step$", re.IGNORECASE)


class StopRun(BaseException):
    """Raised into the user's program to end an observed run; never escapes `run.run_program`."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _loss_and_gradients(value: Any) -> bool:
    """`(loss, grads)`: a number, then a dict or list of arrays."""
    if not (isinstance(value, tuple) and len(value) >= 2 and scalar(value[0]) is not None):
        return False
    grads = value[1]
    items = grads.values() if isinstance(grads, dict) else grads if isinstance(grads, (list, tuple)) else ()
    return any(isinstance(g, np.ndarray) for g in items)


def _copy(obj: Any) -> Any:
    import copy

    try:
        return copy.deepcopy(obj)
    except Exception:  # noqa: BLE001 - an object that will not copy is checked through copies later
        return None


class Recorder:
    def __init__(self, is_user_file: Any, budget: float, loops: tuple[tuple[str, int, int], ...] = ()):
        self.record = Record()
        self.loops = loops  # training loops (file, first line, last line): calls made from them count the passes
        self._loop_calls: dict[tuple[str, int], int] = {}
        self.is_user_file = is_user_file
        self.budget = budget
        self.deadline = Deadline(budget)  # on the budget clock (`observe.budget`): a busy machine does not cut the run short
        self.complete_at: float | None = None
        self.stop: str | None = None
        self.finished = False
        self._files: dict[str, bool] = {}
        self._user_types: dict[type, bool] = {}
        self._loss_types: dict[type, bool] = {}
        self._per_class: dict[type, int] = {}
        self._instances: dict[int, int] = {}  # id(obj) -> index in record.instances
        self._functions: dict[Any, FunctionCalls] = {}
        self._backward_counts: dict[tuple[int, str], int] = {}  # (id of the class or function, name) -> calls
        self._active_loss = 0  # loss-like or gradient-like calls on the stack
        self._heads: dict[types.CodeType, frozenset[int]] = {}  # code -> the training-loop lines it runs

    # -- the trace functions ------------------------------------------------------------

    def trace(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event != "call" or self.finished:
            return None  # a run that is over: a trace put back after it (a helper restoring what it found) is inert
        code = frame.f_code
        filename = code.co_filename
        user = self._files.get(filename)
        if user is None:
            user = self._files[filename] = self.is_user_file(filename)
        if not user:
            return None
        self._check_stop()
        inner = None
        if self.loops:
            self._count_pass(frame)
        name = code.co_name
        nargs = code.co_argcount + code.co_kwonlyargcount
        if not name.startswith("<") and nargs:
            local = frame.f_locals
            first = local.get(code.co_varnames[0])
            if self._is_user_instance(first):
                inner = self._method(frame, first, name, code.co_varnames[1:nargs], local)
            else:
                func = frame.f_globals.get(name)
                if getattr(func, "__code__", None) is code:
                    inner = self._function(frame, func, code.co_varnames[:nargs], local)
        heads = self._loop_heads(code) if self.loops else ()
        if not heads:
            return inner
        frame.f_trace_lines = True  # the method's own tracer wants its return only; the loop's head is a line
        return self._counting(heads, inner)

    def _loop_heads(self, code: types.CodeType) -> frozenset[int]:
        """The training loops' first lines that `code` itself runs (a script's module, `main()`)."""
        heads = self._heads.get(code)
        if heads is None:
            lines = {line for _, _, line in code.co_lines() if line is not None}
            heads = self._heads[code] = frozenset(first for f, first, _ in self.loops if f == code.co_filename and first in lines)
        return heads

    def _counting(self, heads: frozenset[int], inner: Any) -> Any:
        """A local tracer counting the passes of a loop that calls nothing of the user's own
        (`for epoch in range(60000): l1 = sigmoid(X @ syn0) ...`), around the method's own tracer."""

        def local(frame: types.FrameType, event: str, arg: Any) -> Any:
            nonlocal inner
            if event == "line" and frame.f_lineno in heads:
                site = (frame.f_code.co_filename, frame.f_lineno)
                self._loop_calls[site] = self._loop_calls.get(site, 0) + 1
                if self._loop_calls[site] > 1:  # back at its head: its body ran (`for sentence in sentences` over none never does)
                    self.record.loops_reached.add(frame.f_lineno)
                if self.complete_at is None and self._loop_calls[site] > LOOP_PASSES + 1:  # the head runs once more than the body
                    self.complete_at = time.perf_counter()
                self._check_stop()
            if inner is not None:
                inner = inner(frame, event, arg)
            return local

        return local

    def _check_stop(self) -> None:
        now = time.perf_counter()
        if self.stop is None:
            if self.deadline.passed():
                self.stop = "budget"
            elif self.complete_at is not None:
                top = sum(1 for v in self.record.losses if v.top_level)
                if top >= CURVE_POINTS or now - self.complete_at > CURVE_SECONDS or not self._loss_expected():
                    self.stop = "enough"
        if self.stop is not None:
            raise StopRun(self.stop)

    def _count_pass(self, frame: types.FrameType) -> None:
        """A call made from a training loop: once one call site of it ran a few times, the loop has
        made a few passes, whatever its functions are called (`propagate`, `step`, `train_batch`)."""
        back = frame.f_back
        if back is None:
            return
        file, line = back.f_code.co_filename, back.f_lineno
        loop = next((first for f, first, last in self.loops if file == f and first <= line <= last), None)
        if loop is None:
            return
        self.record.loops_reached.add(loop)
        site = (file, line)
        self._loop_calls[site] = self._loop_calls.get(site, 0) + 1
        if self.complete_at is None and self._loop_calls[site] > LOOP_PASSES:
            self.complete_at = time.perf_counter()

    def _loss_expected(self) -> bool:
        return bool(self.record.losses)

    # -- methods --------------------------------------------------------------------------

    def _is_user_instance(self, obj: Any) -> bool:
        if obj is None or isinstance(obj, (type, types.ModuleType, np.ndarray, int, float, str, list, dict, tuple)):
            return False
        cls = type(obj)
        known = self._user_types.get(cls)
        if known is None:
            known = False
            for klass in cls.__mro__[:-1]:
                module = sys.modules.get(klass.__module__)
                file = getattr(module, "__file__", None)
                if klass.__module__ == "__main__" or (file and self.is_user_file(file)):
                    known = True
                    break
            self._user_types[cls] = known
        return known

    def _instance(self, frame: types.FrameType, obj: Any, creating: bool, local: dict[str, Any], names: tuple[str, ...]) -> Instance:
        index = self._instances.get(id(obj))
        if index is not None and self.record.instances[index].obj is obj:
            return self.record.instances[index]
        file, line, owner = self._caller(frame)
        instance = Instance(type(obj), obj, file, line, owner=owner, created=creating)
        if creating:
            budget = [COPY_ELEMENTS]
            instance.args, instance.kwargs = self._arguments(names, local, frame.f_code, budget)
        self._instances[id(obj)] = len(self.record.instances)
        self.record.instances.append(instance)
        self._per_class[type(obj)] = self._per_class.get(type(obj), 0) + 1
        return instance

    def _caller(self, frame: types.FrameType) -> tuple[str | None, int | None, int | None]:
        back = frame.f_back
        while back is not None and not self._files.get(back.f_code.co_filename, False):
            back = back.f_back
        if back is None:
            return None, None, None
        owner = None
        code = back.f_code
        if code.co_argcount:
            index = self._instances.get(id(back.f_locals.get(code.co_varnames[0])))
            owner = index
        return back.f_code.co_filename, back.f_lineno, owner

    @staticmethod
    def _arguments(names: tuple[str, ...], local: dict[str, Any], code: types.CodeType, budget: list[int]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The constructor's arguments by name (`names` excludes `self`), then any `*args`."""
        kwargs = {n: copy_value(local.get(n), budget) for n in names}
        args: tuple[Any, ...] = ()
        if code.co_flags & 0x04:  # *args
            extra = local.get(code.co_varnames[code.co_argcount + code.co_kwonlyargcount])
            if isinstance(extra, tuple):
                args = tuple(copy_value(v, budget) for v in extra)
        return args, kwargs

    def _method(self, frame: types.FrameType, obj: Any, name: str, names: tuple[str, ...], local: dict[str, Any]) -> Any:
        known = id(obj) in self._instances and self.record.instances[self._instances[id(obj)]].obj is obj
        if not known and self._per_class.get(type(obj), 0) >= INSTANCES_KEPT:
            return None
        creating = name == "__init__" and not known
        instance = self._instance(frame, obj, creating, local, names)
        training = not (BACKWARD.search(name) or FORWARD.search(name))
        if creating or training and not TRAINING.search(name):
            return None
        if not training and not any(BACKWARD.search(n) or FORWARD.search(n) for n in instance.calls) and instance.state is None:
            instance.state = _copy(obj)  # the object as the program first used it, before training moved it
        calls = instance.calls.setdefault(name, [])
        call = None
        if len(calls) < CALLS_KEPT:
            file, line, _ = self._caller(frame)
            args = tuple(local.get(n) for n in names)
            budget = [COPY_ELEMENTS]
            call = Call(name, copy_arguments(args, budget), {}, file, line)
            calls.append(call)
        key = (id(type(obj)), name) if BACKWARD.search(name) else None
        return self._returning(frame, call, key, name, owner=id(type(obj)), lossy=bool(LOSS.search(name)) or (name == "forward" and self._loss_layer(obj)))

    # -- functions ------------------------------------------------------------------------

    def _function(self, frame: types.FrameType, func: Any, names: tuple[str, ...], local: dict[str, Any]) -> Any:
        values = [local.get(n) for n in names]
        if not any(isinstance(v, np.ndarray) for v in values) and not LOSS.search(func.__name__):
            return None
        calls = self._functions.get(func)
        if calls is None:
            calls = self._functions[func] = FunctionCalls(func)
            self.record.functions.append(calls)
        call = None
        if len(calls.calls) < CALLS_KEPT:
            file, line, _ = self._caller(frame)
            budget = [COPY_ELEMENTS]
            call = Call(func.__name__, copy_arguments(tuple(values), budget), {}, file, line)
            calls.calls.append(call)
        key = (id(func), func.__name__) if BACKWARD.search(func.__name__) else None
        return self._returning(frame, call, key, func.__name__, owner=id(func), lossy=bool(LOSS.search(func.__name__)))

    # -- returns --------------------------------------------------------------------------

    def _loss_layer(self, obj: Any) -> bool:
        """A layer whose forward takes a target: `forward(x, t)` returns the loss."""
        cls = type(obj)
        known = self._loss_types.get(cls)
        if known is None:
            from backprop_doctor.conventions._classlayer import is_loss_layer

            try:
                known = is_loss_layer(obj)
            except Exception:  # noqa: BLE001 - a __getattr__ of the user's that raises
                known = False
            self._loss_types[cls] = known
        return known

    def _returning(
        self, frame: types.FrameType, call: Call | None, key: tuple[int, str] | None, name: str, owner: int, lossy: bool
    ) -> Any:
        nested = lossy or key is not None  # loss values inside these are not the driver's own
        if call is None and not nested:
            return None
        top_level = self._active_loss == 0
        if nested:
            self._active_loss += 1
        if key is not None:
            self._backward_counts.setdefault(key, 0)
        caller = self._caller(frame) if nested else (None, None, None)

        def local(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event != "return":
                return local
            if nested:
                self._active_loss -= 1
            if call is not None and not call.returned:
                call.result = copy_value(arg, [COPY_ELEMENTS])
                call.returned = True
            if lossy:
                value = scalar(arg)
                if value is not None:
                    self.record.losses.append(LossValue(value, caller[0], caller[1], top_level))
            counted = key
            if counted is None and lossy and _loss_and_gradients(arg):
                counted = (owner, name)  # `loss, grads = model.loss(X, y)` is a backward pass too
                self._backward_counts.setdefault(counted, 0)
            if counted is not None:
                self._backward_counts[counted] += 1
                counts = self._backward_counts.values()
                if self.complete_at is None and (min(counts) >= ENOUGH_CALLS or max(counts) >= 5 * ENOUGH_CALLS):
                    self.complete_at = time.perf_counter()
            return local

        frame.f_trace_lines = False
        return local
