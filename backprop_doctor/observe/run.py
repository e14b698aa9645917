"""Run the user's whole file, main block included, under the recorder (in the child process).

The file runs as a fresh module `__bpd_run__` whose `__name__` is "__main__",
after the definitions-only load (`loading.namespace`) that discovery uses, so
a program that stops early never hides a class defined further down. NumPy's
and Python's global random generators are seeded first, `sys.argv` holds only
the file (`loading.arguments`), prints are captured (the tail kept, see `loading.namespace`), and the
sandbox is whatever the worker installed. The run ends when the program does,
when the recorder has seen enough (see `tracer`), when the budget is spent
(also inside a long library call: a timer raises `StopRun` in the main
thread), or when the program raises or exits; every ending is a normal one.
"""

from __future__ import annotations

import ast
import contextlib
import os
import random
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor import global_random
from backprop_doctor.context import SourceFile
from backprop_doctor.loading.arguments import Arguments
from backprop_doctor.loading.package import package_of
from backprop_doctor.observe.budget import Deadline
from backprop_doctor.observe.record import Record
from backprop_doctor.observe.tracer import Recorder, StopRun

RUN_MODULE = "__bpd_run__"


def run_program(source: SourceFile, budget: float, seed: int = 0, recorder: Any = None) -> tuple[Record, dict[str, Any], str]:
    """Run `source` as a program under the recorder; returns the record, its namespace and its output tail.

    `recorder` replaces the observed run's `tracer.Recorder` (the replay's capture uses this): it
    needs `trace`, `record`, `stop` and `finished`, and ends the run by raising `StopRun`.
    """
    from backprop_doctor.locate import is_user_file
    from backprop_doctor.loading.namespace import OutputTail, _no_stdin, _Tee, echo_streams, user_builtins

    path = os.path.abspath(source.path)
    module = types.ModuleType(RUN_MODULE)
    module.__file__ = path
    module.__builtins__ = user_builtins(source)  # type: ignore[attr-defined]  (Python 2's `zip` in a Python 2 file)
    namespace = module.__dict__
    namespace["__name__"] = "__main__"
    package, _root = package_of(path, source.tree)  # the definitions load put its root on sys.path
    if package is not None:
        module.__package__ = package
    sys.modules[RUN_MODULE] = module
    if recorder is None:
        loops = tuple((path, step.loop_line, getattr(step.loop, "end_lineno", None) or step.update_end_line) for step in source.facts.training_steps)
        recorder = Recorder(lambda f: f == path or is_user_file(f), budget, loops)
    record = recorder.record
    if source.tree is None:
        return record, namespace, ""
    sink = OutputTail()
    echo_out, echo_err = echo_streams()
    saved_argv, saved_exit = sys.argv, os._exit
    try:
        cwd: str | None = os.getcwd()
    except OSError:
        cwd = None
    np.random.seed(seed)
    random.seed(seed)
    sys.argv = Arguments([path])  # a read past the file's own path gets a stand-in (`loading.arguments`)
    os._exit = _exit  # type: ignore[assignment]
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(_Tee(sink, echo_out)), contextlib.redirect_stderr(_Tee(sink, echo_err)), _no_stdin(), _timer(recorder, budget):
            sys.settrace(recorder.trace)
            try:
                _run_statements(source.tree, path, namespace, record)
            except StopRun as stop:
                record.stopped = stop.why
                if stop.why == "exited":
                    record.stack = record.stack or _stack(stop)
            except SystemExit as stop:
                record.stopped = "exited"
                record.stack = _stack(stop)
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: BLE001 - anything the user's program does
                record.stopped = "raised"
                record.error = _where(error)
                record.stack = _stack(error)
                record.standin = _standin_held(error)
                record.standin_file = _standin_file_held(error) if record.standin is None else None
                record.shapes = _shapes_where_raised(error)
            finally:
                sys.settrace(None)
                recorder.finished = True
    except StopRun as stop:  # the timer fired between the program's end and the timer's
        record.stopped = record.stopped if record.stopped != "finished" else stop.why
    finally:
        sys.argv, os._exit = saved_argv, saved_exit  # type: ignore[assignment]
        if cwd is not None:
            with contextlib.suppress(OSError):
                os.chdir(cwd)
    record.seconds = time.perf_counter() - started
    namespace["__name__"] = RUN_MODULE
    for value in list(namespace.values()):
        if isinstance(value, type) and value.__module__ == "__main__":
            with contextlib.suppress(TypeError, AttributeError):
                value.__module__ = RUN_MODULE  # so deepcopy and pickle find the class
    global_random.register_users(namespace)  # the run's own `rng = np.random.default_rng(3)`, which its layers draw from
    return record, namespace, sink.getvalue()


def _run_statements(tree: Any, path: str, namespace: dict[str, Any], record: Record) -> None:
    """Run the program's top-level statements one by one; a statement that fails on a stand-in is skipped.

    A notebook converted to a script prints a scikit-learn baseline or plots before it trains:
    with `sklearn` missing those lines fail on backprop-doctor's stand-in, not on the user's code,
    and the program goes on to what it trains, as the user's own run would. Any other error
    stops the program where it stops for the user.
    """
    from backprop_doctor.loading.stubs import is_stub
    from backprop_doctor.locate import describe
    from backprop_doctor.static.imports import future_flags
    from backprop_doctor.static.script import names_bound_by
    from backprop_doctor.static.steps import reads

    flags = future_flags(tree)
    starred = [s.module for s in tree.body if isinstance(s, ast.ImportFrom) and s.module and any(a.name == "*" for a in s.names)]
    unbound: dict[str, tuple[int, Exception]] = {}  # a name a skipped statement did not bind -> its line, what it raised
    for stmt in _top_level(tree.body, namespace):
        statement = compile(ast.Module(body=[stmt], type_ignores=[]), path, "exec", flags=flags, dont_inherit=True)
        try:
            exec(statement, namespace)  # noqa: S102
        except (StopRun, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:
            names = reads(stmt)
            star = isinstance(error, NameError) and any(is_stub(sys.modules.get(m)) for m in starred)  # `from testCases import *`
            if star or any(is_stub(namespace.get(n)) for n in names) or "Stub" in str(error):
                record.skipped.append((stmt.lineno, f"{type(error).__name__}: {error}"))
                # a statement skipped for a name an earlier skipped one left unbound (`dnn_l2 = dnn_l2.fit(X)` after
                # `dnn_l2 = DeepNeuralNetwork(...)` failed on the stand-in) leaves its names unbound for that first one
                cause = unbound.get(getattr(error, "name", None) or "") if isinstance(error, NameError) else None
                for name in names_bound_by(stmt):
                    unbound.setdefault(name, cause or (stmt.lineno, error))
                continue
            if isinstance(error, NameError) and error.name in unbound:
                # `Xtrain, ... = get_data()` was skipped, so `D = Xtrain.shape[1]` fails: the program
                # stops at the statement the stand-in stopped, with its error, not at the name it left unbound
                line, cause = unbound[error.name]
                record.error = (describe(cause), path, line)
                record.stack = _stack(cause)
                record.standin = _standin_held(cause)
                raise StopRun("raised") from None
            raise


def _top_level(body: list[ast.stmt], namespace: dict[str, Any]) -> Iterator[ast.stmt]:
    """The program's statements as it runs them, one by one: those of an `if __name__ ==
    "__main__":` block too, which is the program's top level written inside a block (skipped
    whole on a stand-in, it would end the run as if the program had finished)."""
    from backprop_doctor.static.script import is_main_guard

    for stmt in body:
        if isinstance(stmt, ast.If) and is_main_guard(stmt.test) and namespace.get("__name__") == "__main__":
            yield from _top_level(stmt.body, namespace)
        else:
            yield stmt


def _exit(status: int = 0) -> None:
    raise StopRun("exited")


def _stack(error: BaseException) -> tuple[tuple[str, int], ...]:
    """The user's frames the program was in when it stopped, outermost first: where a loader that
    exits or raises was called from (`replay.standin` gives that call synthetic data)."""
    import traceback

    from backprop_doctor.locate import is_user_file

    return tuple((frame.f_code.co_filename, line) for frame, line in traceback.walk_tb(error.__traceback__) if is_user_file(frame.f_code.co_filename))


def _shapes_where_raised(error: BaseException) -> dict[str, tuple[int, ...]]:
    """The shape of every array the innermost frame of the user's held when it raised (`out` (100, 1),
    `y` (100,), `dout` (100, 100)): what a shape error is read against (`checks/layer_raised.py`)."""
    import traceback

    import numpy as np

    from backprop_doctor.locate import is_user_file

    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__) if is_user_file(frame.f_code.co_filename)]
    if not frames:
        return {}
    scope = {**frames[-1].f_globals, **frames[-1].f_locals} if frames[-1].f_code.co_name == "<module>" else dict(frames[-1].f_locals)
    return {name: value.shape for name, value in scope.items() if isinstance(value, np.ndarray) and not name.startswith("__")}


# modules that draw: a figure's stand-in on the line that raised holds no data (`ax.plot(X[:, 5])`)
_DRAWING = ("matplotlib", "seaborn", "plotly", "bokeh", "pylab")


def _standin_file_held(error: BaseException) -> tuple[str, str] | None:
    """(name, what it stands for) of a file object a frame of the user's on the error's way held that
    `open` handed out for a missing data file (`for line in f:` of `with open(glove_file) as f`, the
    parse failing on the stand-in's lines): the program stopped on the stand-in's content."""
    import traceback

    from backprop_doctor.loading.datasets import OPENED
    from backprop_doctor.locate import is_user_file

    if not OPENED:
        return None
    opened = {id(file): what for file, what in OPENED}
    for frame, _line in reversed(list(traceback.walk_tb(error.__traceback__))):
        if is_user_file(frame.f_code.co_filename):
            for name, value in frame.f_locals.items():  # not a comprehension's `.0`: the frame around it holds the file by its name
                if name.isidentifier() and id(value) in opened and any(value is file for file, _ in OPENED):
                    return name, opened[id(value)]
    return None


def _standin_held(error: BaseException) -> tuple[str, str] | None:
    """A name on the line the program stopped at, in the user's frame, whose value a stand-in for a
    missing module made (`df = pd.read_csv(url)` without pandas) or is that module (`mnist.load_data()`),
    and the module: the user's code stopped on the stand-in's data, not on its own. NumPy wraps a
    stand-in in an array of one object (`X = np.copy(df.values)`), whose `X.shape[1]` raises in `fit`."""
    import linecache
    import re
    import traceback

    import numpy as np

    from backprop_doctor.loading.stubs import Stub, StubModule
    from backprop_doctor.locate import is_user_file

    frames = [(frame, line) for frame, line in traceback.walk_tb(error.__traceback__) if is_user_file(frame.f_code.co_filename)]
    if not frames:
        return None

    def dotted_of(value: Any) -> str:
        if isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
            value = value.item()
        return object.__getattribute__(value, "_bpd_name") if isinstance(value, Stub) else value.__name__ if isinstance(value, StubModule) else ""

    # the innermost frame's line first; then, for an error that names the stand-in (`'Stub' object cannot be
    # interpreted as an integer` in `np.random.randn(layers_dim[l], ...)`), the outer lines too and the lists
    # they hand on (`layers_dims = [train_X.shape[0], 20, 3, 1]` of a stand-in's `train_X`)
    named = "Stub" in str(error)
    for depth, (frame, line) in enumerate(reversed(frames)):
        if depth and not named:
            break
        text = linecache.getline(frame.f_code.co_filename, line)
        for name, value in {**frame.f_globals, **frame.f_locals}.items():  # a module's name read in a function is a global
            dotted = dotted_of(value)
            if not dotted and named and isinstance(value, (list, tuple)) and len(value) <= 64:
                dotted = next((d for d in map(dotted_of, value) if d), "")
            module = _stubbed_module(dotted)
            if module and module.split(".")[0] not in _DRAWING and re.search(rf"\b{re.escape(name)}\b", text):  # on the line that raised, not only in scope
                return name, module
    return None


def _stubbed_module(dotted: str) -> str:
    """The missing module a stand-in's dotted name starts with: `pandas` of `pandas.read_csv.values`,
    `urllib.urlretrieve` of Python 2's `from urllib import urlretrieve`; "" when none."""
    from backprop_doctor.loading.stubs import StubModule

    parts = dotted.split(".")
    return next((m for m in (".".join(parts[:n]) for n in range(len(parts), 0, -1)) if isinstance(sys.modules.get(m), StubModule)), "")


def _where(error: BaseException) -> tuple[str, str | None, int | None]:
    from backprop_doctor.locate import describe, user_frame

    location = user_frame(error)
    return describe(error), location.file, location.line


@contextlib.contextmanager
def _timer(recorder: Recorder, budget: float) -> Any:
    """Raise `StopRun` in the main thread when the budget is spent, even inside library code."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        if not recorder.finished:
            recorder.stop = recorder.stop or "budget"
            raise StopRun("budget")

    # the tracer stops it first, if it can, on the budget clock (`observe.budget`); these two timers
    # stop a program that spends its budget in library code (CPU seconds) or waiting (wall-clock
    # seconds, at a third of their rate, and never into the check's last seconds: `Deadline.wall_seconds`)
    wall = Deadline(budget).wall_seconds()
    timers = ((signal.SIGPROF, signal.ITIMER_PROF, budget + 0.25), (signal.SIGALRM, signal.ITIMER_REAL, wall + 0.25))
    previous = [signal.signal(signum, expired) for signum, _, _ in timers]
    for _, which, seconds in timers:
        signal.setitimer(which, seconds, 0.25)
    try:
        yield
    finally:
        for (signum, which, _), handler in zip(timers, previous):
            signal.setitimer(which, 0, 0)
            signal.signal(signum, handler)
