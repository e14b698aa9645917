"""Check a file in a child process, so nothing the user's code does can hang or kill the caller.

`run_isolated` starts `python -m backprop_doctor.loading.worker` in an empty
temporary folder (nothing is written next to the user's file), with a
non-interactive matplotlib backend, no bytecode, UTF-8 output, no stdin, and
its own process group. The worker writes the report as JSON to a file; what the
user's code prints goes to the child's stdout, which is kept (the tail of it) in
`report.extras["stdout"]`. If the child runs past the time limit, it is stopped
and the report holds one `load-timeout` finding naming the line the code was
on; if it dies without a report (a segfault in a C extension, `os._exit`, the
kernel's OOM killer), a `load-crash` finding with where and the last lines of
stderr.

Within `warm_workers` (the CLI's runs of several files) the worker is forked from
one warm server instead (`forkserver`): the same worker with the same arguments,
files and limits, without the interpreter's start-up and imports.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sysconfig
import threading
import time
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from backprop_doctor.loading.bytecode import compile_package
from backprop_doctor.errors import UsageError
from backprop_doctor.loading import forkserver
from backprop_doctor.findings import Finding, Report
from backprop_doctor.options import Options
from backprop_doctor.rules import rule

DEFAULT_TARGET = "backprop_doctor.pipeline:check_file"
STARTUP = 120.0  # most seconds the worker may take to import itself before the time limit starts
GRACE = 5.0  # most seconds the parent waits past the limit: interpreter start-up and the dump
TAIL_CHARS = 4000  # how much of the child's stdout and stderr is kept
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_PYTHON_DIRS = tuple(
    os.path.realpath(d) + os.sep
    for d in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *(sysconfig.get_paths().get(k, "") for k in ("stdlib", "platstdlib"))}
    if d and os.path.dirname(os.path.realpath(d)) != os.path.realpath(d)
)  # the interpreter and its standard library (never the root folder)
_FRAME = re.compile(r'^\s*File "(?P<file>.+?)", line (?P<line>\d+),? in (?P<func>.+?)\s*$', re.MULTILINE)


def run_isolated(path: str | os.PathLike[str], options: Options, *, target: str = DEFAULT_TARGET) -> Report:
    """Run `target(path, options)` (a `module:function` returning a Report) in a child process.

    Never raises and never hangs because of what the user's code does (a
    non-positive or infinite `options.timeout` means no limit). Raises
    `UsageError` when `path` is not a file or the check itself reports a usage
    error (a bad --build, say), and OSError when the child cannot be started.
    """
    shown = os.fspath(path)
    absolute = os.path.abspath(shown)
    if not os.path.isfile(absolute):
        raise UsageError(f"cannot read {shown}: no such file")
    limit = options.timeout if options.timeout and math.isfinite(options.timeout) and options.timeout > 0 else None
    compile_package()  # the child then loads the tool's own bytecode instead of compiling it
    workdir = _workdir()
    files = {name: os.path.join(workdir, name) for name in ("options.json", "result.json", "dump.txt", "ready")}
    try:
        with open(files["options.json"], "w", encoding="utf-8") as handle:
            json.dump(options.to_dict(), handle, default=repr)
        command = [
            sys.executable, "-m", "backprop_doctor.loading.worker", absolute,
            "--options", files["options.json"], "--result", files["result.json"],
            "--dump", files["dump.txt"], "--call", target, "--parent", str(os.getpid()), "--ready", files["ready"],
        ]  # fmt: skip
        if limit is not None:
            command += ["--timeout", repr(limit - min(1.0, 0.1 * limit))]
        deadline = None if limit is None else limit + min(GRACE, max(2.0, limit / 2))
        outcome = _run(command, workdir, deadline, files["ready"])
        report = _report(outcome, files, shown, absolute, limit, options)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if outcome.stdout.strip():
        report.extras.setdefault("stdout", outcome.stdout)
    return report


_WORKDIR_PREFIX = "backprop-doctor-"
_SWEPT = False  # whether this process has looked for folders left behind yet


def _workdir() -> str:
    """A fresh temporary folder for one child's files, named after this process (`backprop-doctor-PID-...`)
    so that a later run can tell it was left behind: a parent killed with SIGKILL cannot remove it."""
    global _SWEPT
    if not _SWEPT:
        _SWEPT = True
        _sweep_left_behind(tempfile.gettempdir())
    return tempfile.mkdtemp(prefix=f"{_WORKDIR_PREFIX}{os.getpid()}-")


def _sweep_left_behind(root: str) -> None:
    """Remove the child folders under `root` whose parent process no longer exists.

    Only on POSIX, where `os.kill(pid, 0)` asks without sending anything. A folder whose PID was
    reused by another process stays until that one ends; a folder without a PID in its name
    (another tool, or the plugin's cache) is never touched."""
    if os.name != "posix":
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        owner = re.fullmatch(rf"{_WORKDIR_PREFIX}(\d+)-\w+", entry.name)
        if owner is None or not entry.is_dir(follow_symlinks=False) or _alive(int(owner[1])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user's counts: it cannot be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


_LIVE: set[subprocess.Popen[bytes] | forkserver.Forked] = set()  # children running now, for `stop_all`
_LIVE_LOCK = threading.Lock()


def stop_all() -> None:
    """Kill every running child and its process group (the CLI calls this on SIGTERM)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for process in live:
        _kill(process)
    server = _SERVER
    if server is not None:
        server.kill()


@dataclass
class _Outcome:
    returncode: int | None  # None when the parent had to kill it
    stdout: str
    stderr: str


def worker_env() -> dict[str, str]:
    """The environment of a worker (and of the fork server, which passes it on to its children)."""
    env = dict(os.environ)
    env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    # The checks use small matrices: one BLAS thread is faster and lets `-j N` scale.
    for threads in _BLAS_THREADS:
        env.setdefault(threads, "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
    return env


_SERVER: forkserver.Server | None = None  # the fork server of the folder run under way, if any


@contextlib.contextmanager
def warm_workers(files: int) -> Iterator[None]:
    """Within this block, `run_isolated` forks its workers from one warm server, when `files` > 1
    and fork is available (`forkserver.available`); otherwise, and should the server fail, each
    file gets a fresh interpreter. Start it before any thread of the caller runs `run_isolated`."""
    global _SERVER
    env = worker_env()
    # More than one BLAS thread would start threads in the server before it forks (and a
    # thread count changes the sums' rounding): then every file gets a fresh worker.
    one_thread = all(env.get(name) == "1" for name in _BLAS_THREADS)
    if files < 2 or _SERVER is not None or not one_thread or not forkserver.available():
        yield
        return
    folder = tempfile.mkdtemp(prefix="backprop-doctor-server-")
    try:
        server = forkserver.Server(env, folder, STARTUP)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        yield
        return
    _SERVER = server
    try:
        yield
    finally:
        _SERVER = None
        server.close()
        shutil.rmtree(folder, ignore_errors=True)


def _run(command: list[str], workdir: str, deadline: float | None, ready: str | None = None) -> _Outcome:
    """Run the worker; `deadline` counts from when it says it is `ready` (its imports done),
    so a slow start on a busy machine never eats into the user's time."""
    out_path, err_path = os.path.join(workdir, "stdout.txt"), os.path.join(workdir, "stderr.txt")
    group = {"start_new_session": True} if os.name == "posix" else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    }
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        # Files, not pipes: a chatty child can never block on a full pipe.
        process: subprocess.Popen[bytes] | forkserver.Forked | None = None
        server = _SERVER
        if server is not None:  # a warm worker: forked from the server, then the same as below
            try:
                process = server.start(command[3:], workdir, out_path, err_path)
            except OSError:
                process = None  # the server is gone: a fresh worker for this file
        if process is None:
            process = subprocess.Popen(
                command, cwd=workdir, env=worker_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=err, **group
            )
        with _LIVE_LOCK:
            _LIVE.add(process)
        returncode: int | None
        try:
            if deadline is not None and ready is not None:
                _wait_ready(process, ready)
            returncode = process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:  # also on KeyboardInterrupt in the parent
            _kill(process)
            with _LIVE_LOCK:
                _LIVE.discard(process)
    return _Outcome(returncode, _tail(out_path), _tail(err_path))


def _wait_ready(process: subprocess.Popen[bytes] | forkserver.Forked, ready: str) -> None:
    """Return once the worker created `ready` or ended; raise TimeoutExpired after STARTUP."""
    end = time.monotonic() + STARTUP
    while not os.path.exists(ready):
        try:
            process.wait(timeout=0.02)
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() > end:
                raise


def _kill(process: subprocess.Popen[bytes] | forkserver.Forked) -> None:
    """End the child and anything it started in its process group."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if process.poll() is None:  # a forked child not yet in its own group
                process.kill()
    elif process.poll() is None:
        process.kill()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process the kernel will not reap
        pass


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4 * TAIL_CHARS))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return text[-TAIL_CHARS:]


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _report(
    outcome: _Outcome, files: dict[str, str], shown: str, absolute: str, limit: float | None, options: Options
) -> Report:
    data = None
    raw = _read(files["result.json"])
    if raw:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
    dump = _read(files["dump.txt"])
    if isinstance(data, dict) and "internal_error" not in data:
        try:
            report = Report.from_dict(data)
        except (TypeError, KeyError, ValueError) as exc:
            return _single(_crash(outcome, dump, absolute, shown, f"its report could not be read ({exc})"), shown, options)
        root = report.root_cause.key() if report.root_cause is not None else None
        report.findings = [_shown_path(f, absolute, shown) for f in report.findings]
        report.root_cause = next((f for f in report.findings if f.key() == root), None)
        if report.file in (None, absolute):
            report.file = shown
        return report
    if isinstance(data, dict):
        if data["internal_error"].get("type") == "UsageError":
            raise UsageError(data["internal_error"].get("message", "usage error"))
        return _single(_internal_error(data["internal_error"], absolute, shown), shown, options)
    if outcome.returncode is None or dump.lstrip().startswith("Timeout"):
        return _single(_timeout(dump, absolute, shown, limit), shown, options)
    return _single(_crash(outcome, dump, absolute, shown), shown, options)


def _single(finding: Finding, shown: str, options: Options) -> Report:
    return Report(findings=[finding], seed=options.seed, file=shown)


def _shown_path(finding: Finding, absolute: str, shown: str) -> Finding:
    return finding.replace(file=shown) if finding.file == absolute else finding


def _timeout(dump: str, absolute: str, shown: str, limit: float | None) -> Finding:
    name = os.path.basename(shown)
    seconds = f"{limit:g} s" if limit is not None else "the time limit"
    frames = _frames(dump)
    frame = _user_frame(frames, absolute)
    if frame is None and frames:  # a dump, but not one frame of the user's: the tool's own checks took the time
        return rule("load-timeout").finding(
            f"backprop-doctor's own checks of `{name}` were still running after {seconds}, with no line of your code "
            "running, so it stopped them; raise --timeout to give them more time.",
            file=shown,
        )
    if frame is None:
        return rule("load-timeout").finding(
            f"`{name}` was still running after {seconds}, so backprop-doctor stopped it; "
            "it could not tell where. Make the code finish sooner, or raise --timeout.",
            file=shown,
        )
    file, line, func = frame
    at_module_level = func == "<module>"
    where = f"line {line}" + (" (module level)" if at_module_level else f" in `{func}`")
    if file != absolute:
        where += f" of {os.path.basename(file)}"
    advice = (
        'move long-running module-level code under `if __name__ == "__main__":`, or raise --timeout'
        if at_module_level
        else f"make `{func}` finish sooner, or raise --timeout"
    )
    return rule("load-timeout").finding(
        f"`{name}` was still running {where} after {seconds}, so backprop-doctor stopped it; {advice}.",
        file=shown if file == absolute else file,
        line=line,
        highlight=(line,),
        fix='if __name__ == "__main__":' if at_module_level else None,
    )


def _crash(outcome: _Outcome, dump: str, absolute: str, shown: str, why: str | None = None) -> Finding:
    name = os.path.basename(shown)
    code = outcome.returncode
    exit_call = re.match(r"\s*Exit \((os\._exit\(.*?\))\)!", dump)
    if why is not None:
        how = why
    elif code is not None and code < 0:
        try:
            signame = signal.Signals(-code).name
        except ValueError:
            signame = f"signal {-code}"
        how = {"SIGSEGV": "segmentation fault", "SIGBUS": "bus error", "SIGABRT": "abort", "SIGKILL": "killed"}.get(
            signame, "killed by a signal"
        ) + f", {signame}"
    elif exit_call:
        how = f"{exit_call.group(1)} was called"
    else:
        how = f"exit status {code}"
    frame = _user_frame(_frames(dump), absolute)
    fields: dict[str, object] = {"file": shown}
    where = ""
    if frame is not None:
        file, line, func = frame
        where = f" at line {line}" + ("" if func == "<module>" else f" in `{func}`")
        if file != absolute:
            where += f" of {os.path.basename(file)}"
        fields = {"file": shown if file == absolute else file, "line": line, "highlight": (line,)}
    evidence = []
    stderr = _last_lines(outcome.stderr, 15)
    if stderr:
        evidence.append(("stderr", stderr))
    if dump.strip():
        evidence.append(("stack", _first_lines(dump, 20)))
    if exit_call:
        advice = 'remove the os._exit call or put it under `if __name__ == "__main__":`'
    elif code is not None and code < 0:
        advice = "run the file on its own to see the crash (a C extension, ctypes, or memory running out)"
    else:
        advice = "run the file on its own to see why it exits"
    return rule("load-crash").finding(
        f"The process checking `{name}` died without a report ({how}){where}; {advice}.",
        evidence=tuple(evidence),
        **fields,  # type: ignore[arg-type]
    )


def _internal_error(error: dict[str, str], absolute: str, shown: str) -> Finding:
    text = error.get("traceback", "")
    frames = list(reversed(_frames(text)))  # a traceback lists the most recent call last
    frame = _user_frame(frames, absolute)
    fields: dict[str, object] = {"file": shown}
    where = ""
    if frame is not None:
        file, line, func = frame
        where = f" at line {line}" + ("" if func == "<module>" else f" in `{func}`")
        fields = {"file": shown if file == absolute else file, "line": line, "highlight": (line,)}
    if frame is not None and frames and _user_frame(frames[:1], absolute) is not None:
        return _raised_by_user(error, frame, fields, text)
    return rule("load-crash").finding(
        f"backprop-doctor stopped with {error.get('type', 'an error')}: {error.get('message', '')}{where} "
        "while checking this file; please report it with the traceback below.",
        evidence=(("traceback", _last_lines(text, 25)),),
        **fields,  # type: ignore[arg-type]
    )


def _raised_by_user(error: dict[str, str], frame: tuple[str, int, str], fields: dict[str, object], text: str) -> Finding:
    """The exception started in the user's own code (e.g. `sys.exit()` or `raise KeyboardInterrupt`
    inside a forward or a constructor): the user's finding, at the user's line, not the tool's."""
    _, line, func = frame
    kind = error.get("type", "an exception")
    detail = error.get("message", "")
    said = f"{kind}: {detail}" if detail else kind
    where = f"`{func}` (line {line})" if func != "<module>" else f"line {line}"
    if kind in ("SystemExit", "KeyboardInterrupt"):
        advice = (
            "a layer, network or function must return to its caller; remove the call that ends the program "
            'or move it under `if __name__ == "__main__":`'
        )
    else:
        advice = "run that code on its own to see why it raises"
    name = "layer-raised" if func != "<module>" else "load-error"
    return rule(name).finding(
        f"{where} raised {said} while backprop-doctor was running it: {advice}",
        evidence=(("raised here", _innermost_frame(text)),),
        **fields,  # type: ignore[arg-type]
    )


def _innermost_frame(text: str) -> str:
    """The last `File ...` entry of a traceback and the exception line: where the user's code raised."""
    lines = text.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith('File "')]
    return "\n".join(lines[starts[-1]:]) if starts else _last_lines(text, 4)


def _frames(text: str) -> list[tuple[str, int, str]]:
    """(file, line, function) of every frame in a faulthandler dump, most recent first."""
    return [(m["file"], int(m["line"]), m["func"]) for m in _FRAME.finditer(text)]


def _user_frame(frames: list[tuple[str, int, str]], absolute: str) -> tuple[str, int, str] | None:
    """The most recent frame of the user's code: in the user's file or a module of the user's
    project (its folder or one up to `ANCESTOR_LEVELS` above, where the loader finds the project's
    `common/`). Never a library's, this tool's, or Python's own machinery's: `<frozen runpy>` is
    no file, wherever the parent runs."""
    user = os.path.realpath(absolute)
    frames = [(file, line, func) for file, line, func in frames if not file.startswith("<")]
    mine = [(file, line, func) for file, line, func in frames if not _library_file(os.path.realpath(file))]
    folders = _project_folders(os.path.dirname(user))
    near, above = folders[:2], folders[2:]  # the file's folder and its parent; the ancestors only for its packages
    imported = _imported_tops(user) if above else set()
    for file, line, func in mine:
        real = os.path.realpath(file)
        if real == user:
            return absolute, line, func
        if real.startswith(near) or any(real.startswith(a) and real[len(a):].split(os.sep)[0] in imported for a in above):
            return file, line, func
    return None


def _imported_tops(path: str) -> set[str]:
    """The top-level names the file at `path` imports (`common` of `from common.layers import *`): a
    folder above the file's parent is the user's project only where it holds one of them."""
    import ast

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, ValueError):
        return set()
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level}


def _project_folders(folder: str) -> tuple[str, ...]:
    """`folder` and the folders above it, up to `ANCESTOR_LEVELS`, never the file system's root."""
    from backprop_doctor.static.imports import ANCESTOR_LEVELS

    found = [folder]
    while len(found) <= ANCESTOR_LEVELS and os.path.dirname(os.path.dirname(found[-1])) != os.path.dirname(found[-1]):
        found.append(os.path.dirname(found[-1]))
    return tuple(f + os.sep for f in found)


def _library_file(real: str) -> bool:
    """Whether the file at `real` is backprop-doctor's, Python's own or an installed package's."""
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts or real.startswith(_PACKAGE_DIR):
        return True
    return real.startswith(_PYTHON_DIRS)


def _first_lines(text: str, count: int) -> str:
    return "\n".join(text.strip().splitlines()[:count])


def _last_lines(text: str, count: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])
