"""Warm workers for folder runs: one clean process that has imported the check forks a child per file.

A fresh worker (`python -m backprop_doctor.loading.worker`) spends most of a small file's
check starting an interpreter and importing numpy and the checks. For a run of more
than one file, `Server` starts this module once, with the environment a worker gets
(one BLAS thread, set before numpy loads), in an empty temporary folder. It imports
what the worker imports (`worker._preload`), starts no thread and installs no audit
hook (it also imports the few modules every child would import for itself, `CHILD_IMPORTS`),
and then, for each file, forks a child that does exactly what a fresh worker
does: its own session (process group), its own working directory, standard input
from /dev/null, stdout and stderr into the files `child.run_isolated` reads, and then
`worker.main` with the same arguments, which installs the sandbox after the fork. The
user's module state, `sys.modules` entries, `sys.path` edits, monkeypatches, numpy
seeds and print options live in that child and end with it: the next file's child is
forked from the untouched server.

    parent (CLI)  --- {"id", "argv", "cwd", "stdout", "stderr"} --->  server  --fork-->  child
                  <-- {"id", "pid"}, later {"pid", "status"} --------

The parent kills a child's process group itself at the deadline, as it does a spawned
worker; the server reaps its children and reports each exit status, which the parent
reads as a `Popen.returncode` (negative: the signal). The server ends when its standard
input closes (the CLI ended, however it ended), killing the children it still has;
each child also ends when the server is gone (`worker._watch_parent`).

There is no fork on Windows; on macOS forking after numpy has loaded Accelerate is not
safe. There, and when `BACKPROP_DOCTOR_NO_FORK=1` is set, every file gets a fresh worker.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from typing import IO, Any

DISABLE = "BACKPROP_DOCTOR_NO_FORK"  # set to 1 for a fresh interpreter per file
# Modules a child imported for itself after the fork, imported by the server instead (none of them
# starts a thread): every child's `breakpoints.install` imports pdb (and with it cmd, code, bdb,
# glob, pprint), its `datasets.install_missing_files` gzip; numpy loads `numpy.ma` (0.1 s) at the
# first `np.unique`, `np.setdiff1d` or `np.median`, which half the children of a folder reach.
CHILD_IMPORTS = ("pdb", "gzip", "glob", "pprint", "numpy.ma")
_KILLED = -signal.SIGKILL


def available() -> bool:
    """Whether folder runs fork their workers here."""
    if os.environ.get(DISABLE, "").strip() not in ("", "0"):
        return False
    return hasattr(os, "fork") and os.name == "posix" and sys.platform != "darwin"


# --------------------------------------------------------------------------- the parent's side


class Forked:
    """One child of the server, as the parent sees it: the part of `Popen` that `child._run` uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._done = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout or 0.0)
        return self.returncode

    def kill(self) -> None:
        if not self._done.is_set():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _finish(self, returncode: int | None) -> None:
        self.returncode = returncode
        self._done.set()


class Server:
    """The fork server of one folder run; `start` is thread-safe, `close` ends it and its children."""

    def __init__(self, env: dict[str, str], cwd: str, startup: float) -> None:
        self._startup = startup
        self._lock = threading.Lock()  # the state below; never held while writing to the server
        self._write = threading.Lock()
        self._ready = threading.Event()
        self._pending: dict[int, tuple[threading.Event, list[Any]]] = {}  # request id -> (answered, [reply])
        self._children: dict[int, Forked] = {}
        self._next = 0
        self._broken = False
        self._process = subprocess.Popen(
            [sys.executable, "-m", "backprop_doctor.loading.forkserver"],
            cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal reaches the CLI, which ends the run
        )  # fmt: skip
        assert self._process.stdin is not None and self._process.stdout is not None
        self._requests: IO[bytes] = self._process.stdin
        self._reader = threading.Thread(target=self._read, args=(self._process.stdout,), name="backprop-doctor-forkserver", daemon=True)
        self._reader.start()

    def start(self, argv: list[str], cwd: str, stdout: str, stderr: str) -> Forked:
        """Fork a child running `worker.main(argv)` in `cwd`; OSError when the server cannot."""
        if not self._ready.wait(self._startup) or self._broken:
            raise OSError("the fork server is not running")
        answered = threading.Event()
        reply: list[Any] = []
        with self._lock:
            if self._broken:
                raise OSError("the fork server is not running")
            self._next += 1
            ident = self._next
            self._pending[ident] = (answered, reply)
        line = json.dumps({"id": ident, "argv": argv, "cwd": cwd, "stdout": stdout, "stderr": stderr}) + "\n"
        try:
            with self._write:
                self._requests.write(line.encode("utf-8"))
                self._requests.flush()
        except (OSError, ValueError) as error:
            with self._lock:
                self._pending.pop(ident, None)
                self._broken = True
            raise OSError(f"the fork server is not running ({error})") from None
        if not answered.wait(self._startup) or not reply or not isinstance(reply[0], Forked):
            raise OSError(f"the fork server could not start a worker: {reply[0] if reply else 'no answer'}")
        return reply[0]

    def close(self) -> None:
        """End the server; it kills the children it still has. Safe to call twice."""
        with self._lock:
            self._broken = True
        with self._write:
            try:
                self._requests.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kill the server and every child it started, now (SIGTERM of the CLI)."""
        with self._lock:
            self._broken = True
            children = list(self._children.values())
        for child in children:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                child.kill()
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process the kernel will not reap
            pass

    def _read(self, replies: IO[bytes]) -> None:
        for raw in replies:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            with self._lock:
                if "ready" in message:
                    self._ready.set()
                elif "id" in message:
                    answered, reply = self._pending.pop(message["id"], (None, []))
                    if "pid" in message:
                        child = Forked(message["pid"])
                        self._children[child.pid] = child
                        reply.append(child)
                    else:
                        reply.append(message.get("error", "unknown error"))
                    if answered is not None:
                        answered.set()
                elif "status" in message:
                    child = self._children.pop(message["pid"], None)
                    if child is not None:
                        child._finish(message["status"])
        with self._lock:  # the server is gone, and with it every child (they watch it)
            self._broken = True
            for answered, reply in self._pending.values():
                reply.append("the fork server ended")
                answered.set()
            self._pending.clear()
            children, self._children = list(self._children.values()), {}
        self._ready.set()
        for child in children:
            child.kill()
            child._finish(_KILLED)


# --------------------------------------------------------------------------- the server's side


def serve() -> None:
    """The server's loop: requests on stdin, replies on stdout, one JSON object per line."""
    import gc
    import select

    requests, replies = os.dup(0), os.dup(1)
    quiet = os.open(os.devnull, os.O_RDWR)
    os.dup2(quiet, 0)  # a stray print or read can never touch the channel
    os.dup2(quiet, 1)
    os.close(quiet)

    from backprop_doctor.loading import worker

    worker._preload()  # numpy and the checks, once for every file
    for name in CHILD_IMPORTS:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # the children's collections leave the server's pages unwritten

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    channel = (requests, replies, wake_r, wake_w)
    children: set[int] = set()
    _send(replies, {"ready": os.getpid()})

    pending = b""
    try:
        while True:
            readable, _, _ = select.select([requests, wake_r], [], [])
            if wake_r in readable:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
            _reap(children, replies)
            if requests not in readable:
                continue
            chunk = os.read(requests, 65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    _fork(json.loads(line), children, replies, channel)
    finally:  # the parent is gone (or stopped reading): nothing of this run may outlive it
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        os._exit(0)


def _send(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data):]


def _reap(children: set[int], replies: int) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(replies, {"pid": pid, "status": os.waitstatus_to_exitcode(status)})


def _threads() -> int:
    """Threads of this process (Linux), 1 where it cannot tell."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _fork(request: dict[str, Any], children: set[int], replies: int, channel: tuple[int, ...]) -> None:
    server = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if _threads() > 1:  # a library started a thread: a fork would copy its locks mid-use
        _send(replies, {"id": request["id"], "error": "the fork server has started a thread"})
        return
    try:
        pid = os.fork()
    except OSError as error:
        _send(replies, {"id": request["id"], "error": str(error)})
        return
    if pid == 0:
        _child(request, server, channel)  # never returns
    children.add(pid)
    _send(replies, {"id": request["id"], "pid": pid})


def _child(request: dict[str, Any], server: int, channel: tuple[int, ...]) -> None:
    """In the forked child: become what a fresh `python -m backprop_doctor.loading.worker` is, then run it."""
    exit_now = os._exit
    code = 1
    try:
        os.setsid()  # its own process group, which the parent kills at the deadline
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in channel:
            os.close(fd)
        cwd = request["cwd"]
        os.chdir(cwd)
        stdin = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((stdin, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)

        from backprop_doctor.loading import worker

        argv = list(request["argv"])
        if "--parent" in argv:  # the worker watches its parent: here the server
            argv[argv.index("--parent") + 1] = str(server)
        sys.argv = [worker.__file__, *argv]
        sys.path[0] = cwd  # `python -m` puts its working directory first
        code = worker.main(argv)
    except SystemExit as stop:
        if isinstance(stop.code, int):
            code = stop.code
        else:
            if stop.code is not None:
                print(stop.code, file=sys.stderr)
            code = 0 if stop.code is None else 1
    except BaseException:  # noqa: BLE001 - the child must never return into the server's loop
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        exit_now(code)


if __name__ == "__main__":
    serve()
