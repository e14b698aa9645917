"""A folder run forks its workers from one warm server, and each file is still checked on its own.

What one file's code changes in its process (builtins, `sys.modules`, `sys.path`, a
monkeypatched numpy, print options, the global seed, the environment) must not reach the
next file's check; the reports must be those of a fresh interpreter per file
(`BACKPROP_DOCTOR_NO_FORK=1`); hangs and crashes are findings as before; and ending the
CLI ends the server and every check under way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="no fork server here")

# Run first (names sort): changes everything a module can change in its process.
LEAVES_STATE = """\
import builtins
import os
import sys
import types

import numpy as np

builtins.LEFT_BY_FIRST = True
sys.modules["left_by_first"] = types.ModuleType("left_by_first")
sys.path.insert(0, "/nonexistent/left-by-first")
np.LEFT_BY_FIRST = True
np.hanning = lambda n: "patched by the first file"
np.set_printoptions(precision=3)
np.random.seed(1234)
os.environ["LEFT_BY_FIRST"] = "1"


class Affine:
    def __init__(self):
        self.W = np.random.randn(4, 3)
        self.b = np.zeros(3)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""

# Run second: a correct layer whose weight gradient doubles when it sees any of that.
SEES_STATE = """\
import builtins
import os
import sys

import numpy as np

FIRST_DRAW = np.random.random_sample()


def leftovers():
    return [what for what, seen in (
        ("a builtin", hasattr(builtins, "LEFT_BY_FIRST")),
        ("a module", "left_by_first" in sys.modules),
        ("a sys.path entry", "/nonexistent/left-by-first" in sys.path),
        ("a numpy attribute", hasattr(np, "LEFT_BY_FIRST")),
        ("a patched numpy function", isinstance(np.hanning(3), str)),
        ("print options", np.get_printoptions()["precision"] == 3),
        ("the global seed", FIRST_DRAW == np.random.RandomState(1234).random_sample()),
        ("an environment variable", "LEFT_BY_FIRST" in os.environ),
    ) if seen]


class Affine:
    def __init__(self):
        self.W = np.random.randn(4, 3)
        self.b = np.zeros(3)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        scale = 2.0 if leftovers() else 1.0
        self.dW = scale * (self.x.T @ dout)
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""


def check(*paths: Path, cwd: Path, fork: bool = True, extra: tuple[str, ...] = ()) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("BACKPROP_DOCTOR_NO_FORK", None)
    if not fork:
        env["BACKPROP_DOCTOR_NO_FORK"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", *map(str, paths), "--format", "json", *extra],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return {Path(r["file"]).name: r for r in json.loads(done.stdout)["files"]}


def without_clock(value):
    """A report field without the curves of the user's own program (`training.program`,
    `training.corrected`): they run for a stretch of the clock, and differ between any two runs."""
    if isinstance(value, dict) and "steps" in value:
        return {k: v for k, v in value.items() if k not in ("program", "corrected")}
    return value


def codes(report: dict) -> list[str]:
    return sorted(f["code"] for f in report["findings"])


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("fork", [True, False], ids=["warm", "fresh"])
def test_state_one_file_leaves_in_its_process_never_reaches_the_next_files_check(tmp_path, fork):
    write(tmp_path, "a_leaves_state.py", LEAVES_STATE)
    write(tmp_path, "b_sees_state.py", SEES_STATE)
    reports = check(tmp_path, cwd=tmp_path, fork=fork, extra=("--exec-module", "-j", "1", "--no-training"))
    assert "BPD101" not in codes(reports["a_leaves_state.py"])
    assert "BPD101" not in codes(reports["b_sees_state.py"]), reports["b_sees_state.py"]["findings"]


def test_the_same_state_set_in_the_file_itself_is_seen_so_the_test_above_can_fail(tmp_path):
    first = LEAVES_STATE.split("\n\nclass")[0]
    write(tmp_path, "a_correct.py", LEAVES_STATE.replace(first, "import numpy as np\n"))
    write(tmp_path, "b_sees_own_state.py", first + "\n" + SEES_STATE)
    reports = check(tmp_path, cwd=tmp_path, extra=("--exec-module", "-j", "1", "--no-training"))
    mismatches = [f for f in reports["b_sees_own_state.py"]["findings"] if f["code"] == "BPD101"]
    assert mismatches and mismatches[0]["param"] == "W"
    assert "BPD101" not in codes(reports["a_correct.py"])


def test_a_folder_of_samples_gets_the_reports_of_a_fresh_interpreter_per_file(tmp_path):
    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    warm = check(folder, cwd=tmp_path, extra=("-j", "2"))
    fresh = check(folder, cwd=tmp_path, fork=False, extra=("-j", "2"))
    assert sorted(warm) == sorted(fresh) == sorted(p.name for p in SAMPLES.glob("*.py"))
    for name in sorted(fresh):
        for key in ("findings", "root_cause", "verdict", "ok", "built", "measurements", "training"):
            assert without_clock(warm[name][key]) == without_clock(fresh[name][key]), (name, key)
    assert any(codes(r) for r in fresh.values())  # the samples do hold findings


HANGS = """\
import numpy as np

class Relu:
    def forward(self, x):
        return np.maximum(x, 0)

step = 0
while True:
    step += 1
"""

SEGFAULTS = """\
import ctypes

def crash():
    ctypes.string_at(0)

crash()
"""


def test_a_hang_and_a_crash_in_a_folder_run_are_findings_and_the_other_files_are_checked(tmp_path):
    write(tmp_path, "a_hangs.py", HANGS)
    write(tmp_path, "b_exits.py", "import os, sys\nprint('bye', file=sys.stderr)\nos._exit(3)\n")
    write(tmp_path, "c_segfaults.py", SEGFAULTS)
    shutil.copyfile(SAMPLES / "dead_relu.py", tmp_path / "d_dead_relu.py")
    reports = check(tmp_path, cwd=tmp_path, extra=("--exec-module", "--timeout", "3", "-j", "2"))
    [hang] = reports["a_hangs.py"]["findings"]
    assert hang["name"] == "load-timeout" and hang["line"] in (8, 9) and "module level" in hang["message"]
    [exits] = reports["b_exits.py"]["findings"]
    assert exits["name"] == "load-crash" and exits["line"] == 3 and "os._exit(3)" in exits["message"]
    assert ["stderr", "bye"] in [[e["label"], e["text"]] for e in exits["evidence"]]
    [segfault] = reports["c_segfaults.py"]["findings"]
    assert segfault["name"] == "load-crash" and "segmentation fault" in segfault["message"] and segfault["line"] == 4
    assert "BPD605" in codes(reports["d_dead_relu.py"])


def test_the_sandbox_holds_every_file_of_a_folder_run(tmp_path):
    write(tmp_path, "a_appends_to_itself.py", LEAVES_STATE + 'open(__file__, "a").write("# trained\\n")\n')
    write(tmp_path, "b_sees_state.py", SEES_STATE + 'open(__file__, "a").write("# trained\\n")\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    reports = check(tmp_path, cwd=tmp_path, extra=("--exec-module", "--no-run", "--no-training", "-j", "1"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    lines = {name: LEAVES_STATE.count("\n") + 1 if name.startswith("a") else SEES_STATE.count("\n") + 1 for name in before}
    for name, report in reports.items():
        assert [f["line"] for f in report["findings"] if f["name"] == "sandbox-blocked"] == [lines[name]]
    assert "BPD101" not in codes(reports["b_sees_state.py"])


# --------------------------------------------------------------------------- ending the CLI

STUCK = """\
import numpy as np

class Stuck:
    def __init__(self):
        self.W = np.ones((3, 2))

    def forward(self, x):
        while True:
            pass

    def backward(self, dout):
        return dout @ self.W.T
"""


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            found[int(entry.name)] = (ppid, cmdline)
    return found


def server_and_workers(cli: int) -> tuple[list[int], list[int]]:
    """The fork server the CLI started and the workers it forked; else the workers the CLI spawned."""
    table = processes()
    servers = [pid for pid, (ppid, cmd) in table.items() if ppid == cli and "backprop_doctor.loading.forkserver" in cmd]
    workers = [pid for pid, (ppid, cmd) in table.items() if ppid in servers or (ppid == cli and "loading.worker" in cmd)]
    return servers, workers


def alive(pids: list[int]) -> list[int]:
    table = processes()
    return [pid for pid in pids if pid in table and "backprop_doctor" in table[pid][1]]


def quiet_env() -> dict[str, str]:
    """This environment with the fork server allowed and one BLAS thread."""
    env = {k: v for k, v in os.environ.items() if k != "BACKPROP_DOCTOR_NO_FORK"}
    return {**env, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def wait_until(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    "how, env",
    [(signal.SIGTERM, {}), (signal.SIGKILL, {}), (signal.SIGTERM, {"BACKPROP_DOCTOR_NO_FORK": "1"}), (signal.SIGTERM, {"OPENBLAS_NUM_THREADS": "2"})],
    ids=["sigterm", "sigkill", "sigterm-no-fork", "sigterm-two-blas-threads"],
)
def test_ending_a_folder_run_ends_the_server_and_every_check_under_way(tmp_path, how, env):
    for name in ("a_stuck.py", "b_stuck.py"):
        write(tmp_path, name, STUCK)
    temp = tmp_path / "temp"  # the run's temporary folders, which a killed run leaves behind
    temp.mkdir()
    forks = not env
    cli = subprocess.Popen(
        [sys.executable, "-m", "backprop_doctor", "check", str(tmp_path), "-j", "2", "--no-training", "--timeout", "600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**quiet_env(), **env, "TMPDIR": str(temp)},
    )  # fmt: skip
    try:
        assert wait_until(lambda: len(server_and_workers(cli.pid)[1]) == 2, 90), "the two workers never started"
        servers, workers = server_and_workers(cli.pid)
        # one fork server whose children check the files, or (no fork) a fresh worker per file
        assert len(servers) == (1 if forks else 0)
        table = processes()
        assert all(("loading.worker" in table.get(pid, (0, ""))[1]) != forks for pid in workers)
        os.kill(cli.pid, how)
        cli.wait(timeout=30)
        assert wait_until(lambda: not alive(servers + workers), 20), "the server or the user's code outlived the CLI"
    finally:
        if cli.poll() is None:
            cli.kill()
        for pid in alive(server_and_workers(cli.pid)[0] + server_and_workers(cli.pid)[1]):
            os.kill(pid, signal.SIGKILL)
