"""What the user's file does wrong is a finding on the user's line, never "please report it"."""

from __future__ import annotations

import json

import pytest

from test_cli import AFFINE_OK, run, write


def only_file(result) -> dict:
    assert "Traceback" not in result.stderr, result.stderr
    (report,) = json.loads(result.stdout)["files"]
    return report


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


@pytest.mark.parametrize(
    ("edit", "needle", "raised"),
    [
        (("self.x = x\n", "self.x = x\n        import sys; sys.exit(3)\n"), "sys.exit(3)", "SystemExit: 3"),
        (("self.W = W\n", "self.W = W\n        raise KeyboardInterrupt\n"), "raise KeyboardInterrupt", "KeyboardInterrupt"),
    ],
    ids=["sys-exit-in-forward", "keyboard-interrupt-in-init"],
)
def test_code_that_ends_the_program_is_the_users_finding_at_its_line(tmp_path, edit, needle, raised):
    text = AFFINE_OK.replace(*edit, 1)
    model = write(tmp_path, "model.py", text)
    result = run("check", str(model), "--format", "json", "--no-training")
    assert result.returncode == 1
    (finding,) = only_file(result)["findings"]
    assert finding["code"] == "BPD105"
    assert finding["line"] == line_of(model.read_text(), needle)
    assert f"raised {raised} while backprop-doctor was running it" in finding["message"]
    assert "please report" not in result.stdout


@pytest.mark.parametrize(
    "prefix",
    ["x = " + "+".join(["1"] * 200_000) + "\n", "x = " + "-" * 100_000 + "1\n"],
    ids=["200000-terms", "nested-unary-minus"],
)
def test_a_file_the_compiler_cannot_handle_is_a_syntax_finding(tmp_path, prefix):
    model = write(tmp_path, "model.py", prefix + AFFINE_OK)
    result = run("check", str(model), "--format", "json", "--no-training")
    assert result.returncode == 1
    (finding,) = only_file(result)["findings"]
    assert finding["code"] == "BPD001"
    assert finding["message"].startswith("Python cannot compile `model.py`")
    assert "nested too deeply" in finding["message"]


@pytest.mark.parametrize("shadow", ["secrets.py", "random.py"])
def test_a_standard_library_name_beside_the_model_does_not_break_the_tool(tmp_path, shadow):
    write(tmp_path, shadow, "raise RuntimeError('this is the user folder, not the standard library')\n")
    model = write(tmp_path, "model.py", AFFINE_OK)
    result = run("check", str(model), "--format", "json", "--no-training")
    assert result.returncode == 0, result.stdout
    report = only_file(result)
    assert report["findings"] == []
    assert [b["what"] for b in report["built"]] == ["Affine"]


INT_WEIGHTS = """
import numpy as np

class Affine:
    def __init__(self):
        self.W = np.array([[1, 2], [3, 4], [5, 6]])
        self.b = np.array([0, 1])

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)
"""


def test_a_layer_with_integer_weights_is_fed_inputs_of_its_weights_width(tmp_path):
    model = write(tmp_path, "model.py", INT_WEIGHTS)
    result = run("check", str(model), "--format", "json", "--no-training", "--no-run")
    report = only_file(result)
    assert result.returncode == 0, report["findings"]
    assert report["findings"] == []
    assert report["built"][0]["shapes"].startswith("x (5, 3)")


LOWERS_THE_RECURSION_LIMIT = """
import sys
sys.setrecursionlimit(50)
import numpy as np

def relu_forward(x):
    return np.maximum(0, x), x

def relu_backward(dout, cache):
    return dout * (cache > 0.5)
"""


def test_a_program_that_lowers_the_recursion_limit_still_gets_its_finding(tmp_path):
    model = write(tmp_path, "model.py", LOWERS_THE_RECURSION_LIMIT)
    result = run("check", str(model), "--format", "json", "--no-training")
    assert result.returncode == 1
    report = only_file(result)
    assert "please report" not in result.stdout
    wrong = [f for f in report["findings"] if f["code"] == "BPD101"]
    assert [f["line"] for f in wrong] == [line_of(model.read_text(), "cache > 0.5")]
