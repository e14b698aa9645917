"""A sandbox for the user's code in the child process (PEP 578 audit hooks).

`install` is called once by the worker, before any user code runs. From then on
the user's code (any call with a frame of a user file on the stack, see
`locate.is_user_file`) may not:

* write, append to, truncate, delete, rename, chmod or create anything outside
  a private folder, also through absolute paths built from `__file__`;
* open network connections or resolve host names;
* start or signal processes (`subprocess`, `os.system`, `os.exec*`, `os.fork`,
  `os.posix_spawn`, `os.kill`);
* read standard input (`input()`).

The private folder becomes the working directory (and `TMPDIR`, and where
matplotlib keeps its cache); it holds links to the entries of the user's
folder, so relative reads such as `np.load("data.npz")` still work while a
write through such a link resolves to the user's folder and is refused.

A refused action raises `SandboxViolation` (a `PermissionError`, so code that
already copes with an unwritable disk goes on) inside the user's code and is
recorded with the user's line; the pipeline turns the records into
`sandbox-blocked` findings. Audit hooks cannot be removed, so this never runs
in the parent process: only `loading.worker` installs it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

LINKS_LIMIT = 500  # entries of the user's folder linked into the private folder
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class SandboxViolation(PermissionError):
    """Raised inside the user's code when the sandbox refuses an action."""


@dataclass(frozen=True)
class Blocked:
    """One refused action of the user's code, by the line that asked for it."""

    action: str  # "write", "delete", "rename", "network", "process", "stdin", ...
    target: str  # the path, address or command
    file: str | None  # innermost user frame
    line: int | None
    count: int = 1


@dataclass
class _State:
    folder: str  # the private folder
    allowed: tuple[str, ...]  # real paths under which writes are fine
    records: dict[tuple[str, str | None, int | None], Blocked]
    busy: threading.local


_STATE: _State | None = None
_USER_FILES: dict[str, bool] = {}


def install(user_file: str | None = None, folder: str | None = None) -> str:
    """Install the audit hook (once per process) and move into the private folder; returns it."""
    global _STATE
    if _STATE is not None:
        return _STATE.folder
    folder = os.path.realpath(folder or tempfile.mkdtemp(prefix="bpd-run-", dir=_parent_dir()))
    os.makedirs(folder, exist_ok=True)
    if user_file:
        _link_entries(os.path.dirname(os.path.abspath(user_file)), folder)
    allowed = [folder]
    if os.path.exists(os.devnull):
        allowed.append(os.path.realpath(os.devnull))
    _STATE = _State(folder, tuple(allowed), {}, threading.local())
    os.environ["TMPDIR"] = folder
    os.environ["MPLCONFIGDIR"] = os.path.join(folder, ".matplotlib")
    tempfile.tempdir = folder
    os.chdir(folder)
    sys.addaudithook(_hook)
    return folder


def active() -> bool:
    return _STATE is not None


def folder() -> str | None:
    return _STATE.folder if _STATE is not None else None


def blocked() -> list[Blocked]:
    """What the sandbox refused so far, one record per (action, line)."""
    return list(_STATE.records.values()) if _STATE is not None else []


def _parent_dir() -> str | None:
    """The worker runs in the parent's temporary folder, which the parent removes."""
    try:
        return os.getcwd()
    except OSError:
        return None


def _link_entries(source: str, folder: str) -> None:
    try:
        names = sorted(os.listdir(source))[:LINKS_LIMIT]
    except OSError:
        return
    for name in names:
        if name in ("__pycache__",):
            continue
        try:
            os.symlink(os.path.join(source, name), os.path.join(folder, name))
        except OSError:
            pass


# --------------------------------------------------------------------------- the hook


def _hook(event: str, args: tuple[Any, ...]) -> None:
    judge = _EVENTS.get(event)
    if judge is None or _STATE is None or getattr(_STATE.busy, "on", False):
        return
    _STATE.busy.on = True
    try:
        verdict = judge(args)
        if verdict is None:
            return
        where = _user_frame()
        if where is None:  # the tool's own action (writing its report, say)
            return
        action, target = verdict
        key = (action, where[0], where[1])
        old = _STATE.records.get(key)
        _STATE.records[key] = Blocked(action, old.target if old else target, where[0], where[1], (old.count + 1) if old else 1)
    finally:
        _STATE.busy.on = False
    raise SandboxViolation(f"backprop-doctor's sandbox refused: {_DESCRIBE[action]} {target}")


def _user_frame() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        user = _USER_FILES.get(filename)
        if user is None:
            from backprop_doctor.locate import is_user_file

            user = _USER_FILES[filename] = is_user_file(filename)
        if user:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def _real(path: Any, dir_fd: Any = None) -> str | None:
    """The real absolute path an event names, or None for an open file descriptor."""
    if isinstance(path, int):
        try:
            return os.path.realpath(os.readlink(f"/proc/self/fd/{path}"))
        except OSError:
            return None
    try:
        text = os.fsdecode(path)
    except TypeError:
        text = str(path)
    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(text):
        try:
            text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
        except OSError:
            return text
    return os.path.realpath(os.path.abspath(text))


def _outside(path: Any, dir_fd: Any = None) -> bool:
    assert _STATE is not None
    real = _real(path, dir_fd)
    if real is None:
        return False
    return not any(real == root or real.startswith(root + os.sep) for root in _STATE.allowed)


def _shown(path: Any) -> str:
    try:
        return os.fsdecode(path)
    except TypeError:
        return str(path)


def _open(args: tuple[Any, ...]) -> tuple[str, str] | None:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, int):
        return None  # an already open descriptor (the file was judged when it was opened)
    writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
    if writes and _outside(path):
        return "write", _shown(path)
    return None


def _paths(action: str, *positions: int, dir_fd: int | None = None) -> Any:
    def judge(args: tuple[Any, ...]) -> tuple[str, str] | None:
        fd = args[dir_fd] if dir_fd is not None and dir_fd < len(args) else None
        for i in positions:
            if i < len(args) and args[i] is not None and _outside(args[i], fd):
                return action, _shown(args[i])
        return None

    return judge


def _always(action: str, position: int | None = 0) -> Any:
    def judge(args: tuple[Any, ...]) -> tuple[str, str]:
        target = args[position] if position is not None and position < len(args) else ""
        if isinstance(target, (list, tuple)):
            target = " ".join(_shown(a) for a in target)
        return action, _shown(target) if target is not None else ""

    return judge


def _connect(args: tuple[Any, ...]) -> tuple[str, str]:
    address = args[1] if len(args) > 1 else ""
    return "network", str(address)


_EVENTS: dict[str, Any] = {
    "open": _open,
    "os.remove": _paths("delete", 0, dir_fd=1),
    "os.rmdir": _paths("delete", 0, dir_fd=1),
    "shutil.rmtree": _paths("delete", 0, dir_fd=1),
    "os.rename": _paths("rename", 0, 1, dir_fd=2),
    "shutil.move": _paths("rename", 0, 1),
    "os.truncate": _paths("truncate", 0),
    "os.mkdir": _paths("create", 0, dir_fd=2),
    "os.mkfifo": _paths("create", 0, dir_fd=2),
    "os.mknod": _paths("create", 0, dir_fd=3),
    "os.link": _paths("create", 1, dir_fd=3),
    "os.symlink": _paths("create", 1, dir_fd=2),
    "os.chmod": _paths("change", 0, dir_fd=2),
    "os.chown": _paths("change", 0, dir_fd=3),
    "os.utime": _paths("change", 0, dir_fd=3),
    "os.setxattr": _paths("change", 0),
    "os.removexattr": _paths("change", 0),
    "shutil.copyfile": _paths("write", 1),
    "shutil.copytree": _paths("write", 1),
    "socket.connect": _connect,
    "socket.bind": _connect,
    "socket.sendto": _connect,
    "socket.sendmsg": _connect,
    "socket.getaddrinfo": _always("network", 0),
    "socket.gethostbyname": _always("network", 0),
    "socket.gethostbyaddr": _always("network", 0),
    "urllib.Request": _always("network", 0),
    "http.client.connect": _always("network", 1),
    "subprocess.Popen": _always("process", 1),
    "os.system": _always("process", 0),
    "os.exec": _always("process", 0),
    "os.posix_spawn": _always("process", 0),
    "os.spawn": _always("process", 1),
    "os.fork": _always("process", None),
    "os.forkpty": _always("process", None),
    "os.startfile": _always("process", 0),
    "os.kill": _always("signal", 0),
    "os.killpg": _always("signal", 0),
    "builtins.input": _always("stdin", None),
    "webbrowser.open": _always("network", 0),
}

_DESCRIBE = {
    "write": "writing to",
    "delete": "deleting",
    "rename": "renaming or moving",
    "truncate": "truncating",
    "create": "creating",
    "change": "changing the permissions or times of",
    "network": "a network connection to",
    "process": "starting the process",
    "signal": "signalling the process",
    "stdin": "reading standard input",
}
