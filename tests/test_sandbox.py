"""The sandbox around the user's code: the real CLI on programs that try to change their folder."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LAYER = '''
import os
import socket
import subprocess
import sys
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


'''

# (name, the user's statement, the action named in the finding)
PROGRAMS = [
    ("writes_through_file", 'open(os.path.join(os.path.dirname(__file__), "results.txt"), "w").write("0.1")', "write"),
    ("overwrites_neighbour", 'open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data.csv"), "w")', "write"),
    ("deletes_neighbour", 'os.remove(os.path.join(os.path.dirname(__file__), "data.csv"))', "delete"),
    ("appends_to_itself", 'open(__file__, "a").write("# trained\\n")', "write"),
    ("truncates_itself", 'os.truncate(__file__, 0)', "truncate"),
    ("renames_neighbour", 'os.rename(os.path.join(os.path.dirname(__file__), "data.csv"), "/tmp/stolen.csv")', "rename"),
    ("opens_a_socket", 'socket.create_connection(("127.0.0.1", 9), timeout=1)', "network"),
    ("spawns_a_process", 'subprocess.run(["touch", os.path.join(os.path.dirname(__file__), "spawned")])', "process"),
    ("calls_os_system", 'os.system("rm -f " + os.path.join(os.path.dirname(__file__), "data.csv"))', "process"),
    ("reads_stdin", 'name = input("your name? ")', "stdin"),
]


def folder_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def check(path: Path, *extra: str) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training", *extra],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


@pytest.mark.parametrize("name, statement, action", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_a_program_that_touches_its_folder_leaves_it_bit_identical_and_gets_a_finding(tmp_path, name, statement, action):
    user = tmp_path / "project"
    user.mkdir()
    (user / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    path = user / f"{name}.py"
    path.write_text(LAYER + statement + "\n", encoding="utf-8")
    line = LAYER.count("\n") + 1
    before = folder_hashes(user)
    report = check(path)  # the statement is driver code: the observed run executes it
    assert folder_hashes(user) == before
    blocked = [f for f in report["findings"] if f["name"] == "sandbox-blocked"]
    assert [(f["line"], f["evidence"][0]["text"].split(":")[0]) for f in blocked] == [(line, action)]
    assert blocked[0]["file"] == str(path)
    # The layer defined before the refused line is still checked.
    assert any(b["what"] == "Affine" and b.get("skipped") is None for b in report["built"])


def test_the_same_program_with_exec_module_is_held_by_the_sandbox_too(tmp_path):
    path = tmp_path / "appender.py"
    path.write_text(LAYER + 'open(__file__, "a").write("# trained\\n")\n', encoding="utf-8")
    before = folder_hashes(tmp_path)
    report = check(path, "--exec-module", "--no-run")
    assert folder_hashes(tmp_path) == before
    assert [f["line"] for f in report["findings"] if f["name"] == "sandbox-blocked"] == [LAYER.count("\n") + 1]


def test_a_default_argument_that_opens_the_file_for_writing_is_refused_in_definitions_mode(tmp_path):
    path = tmp_path / "logger.py"
    path.write_text(
        LAYER + textwrap.dedent('''
        def log(message, stream=open(os.path.join(os.path.dirname(__file__), "train.log"), "a")):
            stream.write(message)
        '''),
        encoding="utf-8",
    )
    before = folder_hashes(tmp_path)
    report = check(path)
    assert folder_hashes(tmp_path) == before
    assert [f["line"] for f in report["findings"] if f["name"] == "sandbox-blocked"] == [LAYER.count("\n") + 2]


def test_writes_to_relative_paths_go_to_a_private_folder_and_are_allowed(tmp_path):
    path = tmp_path / "saver.py"
    path.write_text(
        LAYER + 'np.save("weights.npy", np.ones(3))\nprint(np.load("weights.npy").sum(), open("data.csv").read())\n',
        encoding="utf-8",
    )
    (tmp_path / "data.csv").write_text("relative reads still work", encoding="utf-8")
    before = folder_hashes(tmp_path)
    report = check(path)
    assert folder_hashes(tmp_path) == before
    assert not [f for f in report["findings"] if f["name"] in ("sandbox-blocked", "load-error", "program-stopped")]
    assert "3.0 relative reads still work" in report["extras"]["stdout"]
