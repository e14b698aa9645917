"""The user's code never outlives the tool: SIGTERM and a killed parent end every child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")

HANGS_IN_FORWARD = """
import numpy as np

class Stuck:
    def __init__(self):
        self.W = np.ones((3, 2))

    def forward(self, x):
        import faulthandler
        faulthandler.cancel_dump_traceback_later()   # the tool's own timer is gone too
        while True:
            pass

    def backward(self, dout):
        return dout @ self.W.T
"""


def workers_for(model: Path) -> dict[int, list[str]]:
    """pid -> argv of every backprop-doctor worker checking `model`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "backprop_doctor.loading.worker" in argv and str(model) in argv:
            found[int(entry.name)] = argv
    return found


def wait_until(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_check(model: Path, temp: Path) -> subprocess.Popen:
    """The CLI checking `model`, its temporary folders under `temp`."""
    return subprocess.Popen(
        [sys.executable, "-m", "backprop_doctor", "check", str(model), "--no-training", "--timeout", "600"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(temp)},
    )


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_ending_the_cli_ends_the_users_code_and_its_temp_folder(tmp_path, how):
    model = tmp_path / "stuck.py"
    model.write_text(HANGS_IN_FORWARD, encoding="utf-8")
    temp = tmp_path / "temp"
    temp.mkdir()
    cli = start_check(model.resolve(), temp)
    try:
        assert wait_until(lambda: workers_for(model.resolve()), 60), "the worker never started"
        (argv,) = workers_for(model.resolve()).values()
        workdir = Path(argv[argv.index("--options") + 1]).parent
        os.kill(cli.pid, how)
        cli.wait(timeout=30)
        assert wait_until(lambda: not workers_for(model.resolve()), 15), "the user's code outlived the CLI"
        if how == signal.SIGTERM:  # a terminated parent cleans up
            assert wait_until(lambda: not workdir.exists(), 15)
        else:  # a killed one cannot: the next run removes what it left behind
            assert workdir.exists()
            clean = tmp_path / "clean.py"
            clean.write_text("import numpy as np\n", encoding="utf-8")
            after = subprocess.run(
                [sys.executable, "-m", "backprop_doctor", "check", str(clean), "--no-training"],
                capture_output=True, text=True, env={**os.environ, "TMPDIR": str(temp)}, timeout=120,
            )  # fmt: skip
            assert "Traceback" not in after.stderr
            assert not workdir.exists()
    finally:
        if cli.poll() is None:
            cli.kill()
        for pid in workers_for(model.resolve()):
            os.kill(pid, signal.SIGKILL)


def test_a_run_removes_the_folders_of_runs_that_were_killed_and_nothing_else(tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    left_behind = temp / f"backprop-doctor-{ended.pid}-k1ll3d"  # its run was killed with SIGKILL
    still_running = temp / f"backprop-doctor-{os.getpid()}-runn1ng"  # a run under way in this process
    not_ours = [temp / "backprop-doctor-pluginc4che", temp / f"other-tool-{ended.pid}-x"]
    for folder in (left_behind, still_running, *not_ours):
        folder.mkdir()
        (folder / "options.json").write_text("{}", encoding="utf-8")
    model = tmp_path / "model.py"
    model.write_text("import numpy as np\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(model), "--no-training"],
        capture_output=True, text=True, env={**os.environ, "TMPDIR": str(temp)}, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    assert not left_behind.exists()
    assert still_running.exists() and all(folder.exists() for folder in not_ours)
    # and the run removed its own folder
    assert sorted(p.name for p in temp.iterdir()) == sorted(p.name for p in (still_running, *not_ours))
