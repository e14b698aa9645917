"""Bad entries in a folder, bad settings and bad option values through the real CLI: each gets a clear
message and an exit code, and one bad entry never costs the other files their reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from test_cli import AFFINE_OK, run, write


def files_in(result) -> dict[str, list[str]]:
    return {Path(f["file"]).name: [x["code"] for x in f["findings"]] for f in json.loads(result.stdout)["files"]}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_and_a_dangling_link_in_a_folder_are_reported_and_the_folder_goes_on(tmp_path):
    write(tmp_path, "affine.py", AFFINE_OK)
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    result = run("check", str(tmp_path), "--format", "json", "--no-training", timeout=60)
    assert result.returncode == 1, result.stderr
    found = files_in(result)
    assert found == {"affine.py": [], "gone.py": ["BPD004"], "pipe.py": ["BPD004"]}
    messages = {Path(f["file"]).name: f["findings"][0]["message"] for f in json.loads(result.stdout)["files"] if f["findings"]}
    assert "a link to a file that does not exist" in messages["gone.py"]
    assert "not a regular file" in messages["pipe.py"]


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ("[tool]\nbackprop-doctor = 5\n", "tool.backprop-doctor = 5 must be a table"),
        ("[tool.backprop-doctor]\nselect = [1, 2]\n", "select = [1, 2] must be a list of codes"),
        ('[tool.backprop-doctor]\nselect = "BPD1"\n', "select = 'BPD1' must be a list of codes"),
        ('[tool.backprop-doctor]\nexec-module = "no"\n', "exec-module = 'no' must be true or false"),
        ("[tool.backprop-doctor]\nseed = true\n", "seed = True must be a whole number"),
        ('[tool.backprop-doctor]\ntimeout = "30"\n', "timeout = '30' must be a number"),
    ],
    ids=["not-a-table", "select-ints", "select-string", "bool-as-string", "bool-as-int", "string-as-number"],
)
def test_a_mistyped_setting_is_named_with_its_value(tmp_path, config, says):
    write(tmp_path, "pyproject.toml", config)
    model = write(tmp_path, "affine.py", AFFINE_OK)
    result = run("check", str(model), "--no-training")
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_a_timeout_too_large_for_the_timers_is_refused(tmp_path):
    model = write(tmp_path, "affine.py", AFFINE_OK)
    result = run("check", str(model), "--timeout", "1e10")
    assert result.returncode == 2
    assert "timeout=10000000000.0: must be a number of seconds > 0 and <= 86400" in result.stderr


def test_the_largest_timeout_allowed_still_checks_the_file(tmp_path):
    model = write(tmp_path, "affine.py", AFFINE_OK)
    result = run("check", str(model), "--timeout", "86400", "--no-training", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert files_in(result) == {"affine.py": []}


@pytest.mark.parametrize("option", ["--html", "--svg"])
def test_a_report_file_in_a_missing_folder_is_refused_before_any_work(tmp_path, option):
    model = write(tmp_path, "affine.py", AFFINE_OK)
    target = tmp_path / "no-such-folder" / "report.out"
    result = run("check", str(model), option, str(target), "--no-training")
    assert result.returncode == 2
    assert f"{option} {target}: the folder {target.parent} does not exist" in result.stderr
    assert result.stdout == ""


def test_missing_data_file_is_an_error_not_silence(tmp_path):
    model = write(tmp_path, "affine.py", AFFINE_OK)
    result = run("check", str(model), "--data", str(tmp_path / "absent.npz"))
    assert result.returncode == 2
    assert "absent.npz: cannot be read (No such file or directory)" in result.stderr


def test_data_file_that_is_not_an_npz_is_named(tmp_path):
    model = write(tmp_path, "affine.py", AFFINE_OK)
    junk = write(tmp_path, "data.npz", "not numbers\n")
    result = run("check", str(model), "--data", str(junk))
    assert result.returncode == 2
    assert "data.npz: is not an .npz archive; write one with np.savez(path, x=x, t=t)" in result.stderr


def test_data_file_without_t_says_which_array_is_missing(tmp_path):
    model = write(tmp_path, "affine.py", AFFINE_OK)
    data = tmp_path / "data.npz"
    np.savez(data, x=np.zeros((4, 3)))
    result = run("check", str(model), "--data", str(data))
    assert result.returncode == 2
    assert "data.npz: has no array t" in result.stderr


ZERO_SIZED_NET = '''
import numpy as np

class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T

class MeanSquare:
    def forward(self, y, t):
        self.diff = y - t
        return 0.5 * np.sum(self.diff ** 2) / len(y)

    def backward(self, dout=1):
        return dout * self.diff / len(self.diff)

class Net:
    def __init__(self, input_size, output_size):
        self.params = {"W": np.random.randn(input_size, output_size), "b": np.zeros(output_size)}
        self.layers = {"Affine": Affine(self.params["W"], self.params["b"])}
        self.lastLayer = MeanSquare()

    def loss(self, x, t):
        return self.lastLayer.forward(self.layers["Affine"].forward(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers["Affine"].backward(self.lastLayer.backward())
        return {"W": self.layers["Affine"].dW, "b": self.layers["Affine"].db}

net = Net(input_size=0, output_size=3)
'''


def test_a_zero_size_in_the_users_constructor_is_a_finding_and_other_files_still_report(tmp_path):
    write(tmp_path, "a_zero.py", ZERO_SIZED_NET)
    write(tmp_path, "b_affine.py", AFFINE_OK)
    result = run("check", str(tmp_path), "--format", "json", "--no-training")
    assert result.returncode in (0, 1), result.stderr
    reports = {Path(f["file"]).name: f for f in json.loads(result.stdout)["files"]}
    assert [x["code"] for x in reports["b_affine.py"]["findings"]] == []
    zero = [x for x in reports["a_zero.py"]["findings"] if x["code"] == "BPD008"]
    assert len(zero) == 1
    assert zero[0]["message"].startswith("`Net` was built from your file")
    assert "shape (5, 0)" in zero[0]["message"]
