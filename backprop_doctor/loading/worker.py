"""The child process that checks one file: `python -m backprop_doctor.loading.worker`.

    python -m backprop_doctor.loading.worker FILE --options OPTIONS.json --result RESULT.json
        --dump DUMP.txt [--timeout SECONDS] [--call package.module:function] [--parent PID] [--ready FILE]

It calls `function(FILE, options)` (by default `backprop_doctor.pipeline:check_file`),
which returns a `Report`, and writes `report.to_dict()` as JSON to RESULT.json; stdout
belongs to the user's prints. If the call raises, RESULT.json holds
`{"internal_error": {...}}` instead. `faulthandler` writes to DUMP.txt where the code
was when the time limit passed (and then ends the process) or when it crashed; a call
to `os._exit` writes its stack there too. `child.run_isolated` reads all three.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO

DEFAULT_TARGET = "backprop_doctor.pipeline:check_file"
_REAL_EXIT = os._exit
WATCHDOG_MARGIN = 0.5  # seconds past the time limit; the parent waits at least 2 s past it


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    dump = open(args.dump, "w", encoding="utf-8")  # noqa: SIM115 - open until the process ends
    faulthandler.enable(file=dump, all_threads=True)
    _trace_exit(dump)
    start_clock = _watch_parent(dump, args.timeout, args.parent)
    _preload()  # the tool's own start-up, before the user's time starts
    if args.ready:
        open(args.ready, "w").close()  # the parent's clock for the time limit starts now
    start_clock()
    if args.timeout and args.timeout > 0:
        faulthandler.dump_traceback_later(args.timeout, exit=True, file=dump)

    from backprop_doctor.loading import datasets, namespace, sandbox

    # Before the user's folder is reachable: a `random.py` of the user's beside the file must not
    # stand in for the standard library's when NumPy loads its random module lazily.
    import random  # noqa: F401
    import secrets  # noqa: F401

    import numpy.random  # noqa: F401

    sandbox.install(args.file)  # before any user code runs; for the rest of this process
    datasets.install_missing_files()  # a missing mnist.pkl.gz reads as synthetic data
    datasets.install_book_loaders()  # the book's own dataset/mnist.py, with no mnist.pkl beside it
    from backprop_doctor.loading import arguments

    arguments.install(args.file)  # the user's code sees its own path alone in sys.argv, not the worker's
    from backprop_doctor.loading import breakpoints

    breakpoints.install()  # a `pdb.set_trace()` left in the code does nothing
    from backprop_doctor.loading import numpy_compat, python_compat

    numpy_compat.install()  # `np.float`, `np.asfarray` of old tutorials, with their old meaning
    python_compat.install()  # `time.clock` of old notebooks, as `time.perf_counter`

    namespace.ECHO = True
    try:
        with open(args.options, encoding="utf-8") as handle:
            options = _options(json.load(handle))
        import numpy

        numpy.random.seed(options.seed % 2**32)  # the user's unseeded draws repeat from run to run (--seed)
        report = resolve(args.call)(args.file, options)
        data = report.to_dict()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, never raised
        data = {
            "internal_error": {
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": "".join(traceback.format_exception(exc)),
            }
        }
    _write_json(args.result, data)
    faulthandler.cancel_dump_traceback_later()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the user may have replaced or closed them
            pass
    # Skip interpreter shutdown: threads or atexit handlers left by the user's code could hang it.
    _REAL_EXIT(0)
    return 0  # pragma: no cover


# Not needed in the child: they render, or serve the test-suite doors.
_NOT_PRELOADED = ("backprop_doctor.report", "backprop_doctor.plugin", "backprop_doctor.cli", "backprop_doctor.__main__",
                  "backprop_doctor.strategies", "backprop_doctor.assertions")


_PRELOADED: list[bool] = []  # set once `_preload` has run in this process (or in the fork server it was forked from)


def _preload() -> None:
    """Import everything the check imports, before the user's folder is on `sys.path`.

    A user's `secrets.py` or `random.py` beside the model must not replace a module
    that numpy (whose submodules load lazily) or backprop-doctor imports later.
    Once per process: a fork server's child has it all from the server (walking the
    package's folders again cost a child 1.5 % of its time).
    """
    if _PRELOADED:
        return
    import pkgutil

    import numpy
    import numpy.linalg
    import numpy.random  # noqa: F401 - imports `secrets`

    import backprop_doctor

    for module in pkgutil.walk_packages(backprop_doctor.__path__, "backprop_doctor."):
        if not module.name.startswith(_NOT_PRELOADED):
            importlib.import_module(module.name)
    from backprop_doctor.rules import all_rules

    all_rules()  # the registry, from the checks just imported (a fork server's children inherit it)
    _PRELOADED.append(True)


def resolve(target: str) -> Callable[..., Any]:
    """`package.module:function` -> the function."""
    module_name, _, attr = target.partition(":")
    function: Any = importlib.import_module(module_name)
    for part in (attr or "check_file").split("."):
        function = getattr(function, part)
    return function


def _options(data: dict[str, Any]) -> Any:
    from backprop_doctor.options import Options

    for key in ("select", "ignore"):
        if isinstance(data.get(key), list):
            data[key] = tuple(data[key])
    return Options.from_kwargs(**data)


def _write_json(path: str, data: dict[str, Any]) -> None:
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(data, handle, default=_jsonable)
    os.replace(partial, path)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def _watch_parent(dump: TextIO, timeout: float | None, parent: int | None) -> Callable[[], None]:
    """End this process when the parent is gone, or when the time limit has passed and the
    user's code cancelled faulthandler's timer: a check never outlives the tool."""
    import threading
    import time

    parent = parent or os.getppid()  # given: the parent may be gone before this line runs
    deadline: list[float] = []  # set by the returned function, when the user's time starts

    def start_clock() -> None:
        if timeout and timeout > 0:  # past faulthandler's own timer, before the parent's grace ends
            deadline.append(time.monotonic() + timeout + WATCHDOG_MARGIN)

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                _REAL_EXIT(3)
            if deadline and time.monotonic() > deadline[0]:
                try:
                    dump.write(f"Timeout ({timeout:g} s, watchdog)!\n")
                    faulthandler.dump_traceback(file=dump, all_threads=True)
                    dump.flush()
                finally:
                    _REAL_EXIT(1)

    threading.Thread(target=watch, name="backprop-doctor-watchdog", daemon=True).start()
    return start_clock


def _trace_exit(dump: TextIO) -> None:
    """Make `os._exit` in the user's code leave its stack in the dump, as faulthandler would."""
    pid = os.getpid()

    def traced_exit(status: int) -> None:
        if os.getpid() == pid:
            try:
                dump.write(f"Exit (os._exit({status!r}))!\n\nCurrent thread (most recent call first):\n")
                for frame in reversed(traceback.extract_stack(sys._getframe(1))):
                    dump.write(f'  File "{frame.filename}", line {frame.lineno} in {frame.name}\n')
                dump.flush()
            except Exception:  # noqa: BLE001 - exiting matters more than the record
                pass
        _REAL_EXIT(status)

    os._exit = traced_exit


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backprop_doctor.loading.worker")
    parser.add_argument("file")
    parser.add_argument("--options", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--dump", required=True)
    parser.add_argument("--timeout", type=float, default=0.0)
    parser.add_argument("--call", default=DEFAULT_TARGET)
    parser.add_argument("--parent", type=int, default=None, help="pid of the process that waits for the result")
    parser.add_argument("--ready", default=None, help="file created when start-up is done and the user's time starts")
    return parser


if __name__ == "__main__":
    sys.exit(main())
