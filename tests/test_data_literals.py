"""Files that paste a data set into the source: the code around it is still checked, line for line."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from backprop_doctor import static
from backprop_doctor.static.tree import walk

ENTRIES = 50_000


def pasted_data(name: str = "DATA", n: int = ENTRIES) -> str:
    """`DATA = [...]` as a notebook export writes it: one measured value per line."""
    values = "".join(f"    {((i * 7919) % 10007) / 10007:.6f},\n" for i in range(n))
    return f"{name} = [\n{values}]\n"


LAYERS = '''

class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "layers_with_data.py"
    path.write_text(text, encoding="utf-8")
    return path


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=600,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def test_correct_layers_next_to_a_pasted_data_set_pass(tmp_path):
    path = write(tmp_path, "import numpy as np\n\n# measured responses\n" + pasted_data() + LAYERS)
    code, report = check(path)
    assert code == 0
    assert report["findings"] == []
    assert [b["what"] for b in report["built"]] == ["Relu", "Affine"]


def test_bugs_after_a_pasted_data_set_point_at_their_lines(tmp_path):
    text = "import numpy as np\n\n" + pasted_data() + LAYERS
    text = text.replace("        self.db = np.sum(dout, axis=0)", "        self.db = np.sum(dout, axis=1)")
    text = text.replace("class Relu:\n    def __init__(self):", "class Relu:\n    def __init(self):")
    path = write(tmp_path, text)
    lines = text.splitlines()
    db_line = lines.index("        self.db = np.sum(dout, axis=1)") + 1
    init_line = lines.index("    def __init(self):") + 1
    code, report = check(path)
    found = {(f["name"], f.get("line")) for f in report["findings"]}
    assert code == 1
    assert ("misspelled-dunder", init_line) in found
    assert ("gradient-shape-mismatch", db_line) in found  # db summed over the wrong axis


def test_the_walk_skips_the_elements_of_a_data_literal_and_nothing_else():
    tree = ast.parse(pasted_data() + "small = [1, 2, 3]\nnet = Net(784, hidden_size=50)\n")
    nodes = list(walk(tree))
    constants = [n for n in nodes if isinstance(n, ast.Constant)]
    assert [c.value for c in constants] == [1, 2, 3, 784, 50]  # the small list and the call are walked
    assert sum(isinstance(n, ast.List) for n in nodes) == 2  # the data literal itself is still met
    (call,) = static.constructor_calls(tree)["Net"]
    assert call.literal and call.args == (784,) and call.kwargs == {"hidden_size": 50}


def test_names_bound_to_a_data_literal_are_not_literal_arguments():
    tree = ast.parse(pasted_data("SAMPLES", 2_000) + "model = Model(SAMPLES, 10)\n")
    (call,) = static.constructor_calls(tree)["Model"]
    assert not call.literal
    assert "`SAMPLES` is bound to a data literal" in call.reason
    assert call.args[1] == 10
