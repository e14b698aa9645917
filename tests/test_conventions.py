"""Every calling convention (`backprop_doctor/conventions/`), through the real CLI on real files.

Each `tests/cases/conventions/<style>_bug.py` holds one gradient bug, marked `# BUG` on its
line; its twin `<style>_ok.py` is the same code, correct, and must get no error finding.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backprop_doctor.conventions import all_conventions

CASES = Path(__file__).parent / "cases" / "conventions"
BUGGY = sorted(p.name for p in CASES.glob("*_bug.py"))
CORRECT = sorted(p.name for p in CASES.glob("*_ok.py"))


def check(path: Path, *extra: str) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training", *extra],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def copy_case(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(CASES / name, tmp_path / name))


def bug_line(path: Path) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if "# BUG" in line)


def test_every_bug_case_has_a_correct_twin():
    assert BUGGY and {name.replace("_bug", "_ok") for name in BUGGY} <= set(CORRECT)


@pytest.mark.parametrize("name", BUGGY)
def test_reports_the_gradient_bug_at_its_line(name, tmp_path):
    path = copy_case(name, tmp_path)
    report = check(path)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors, report["findings"]
    assert bug_line(path) in {f["line"] for f in errors}, [(f["line"], f["message"]) for f in errors]
    assert all(f["file"].endswith(name) for f in errors if f["line"] == bug_line(path))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_twin_gets_no_error_finding(name, tmp_path):
    path = copy_case(name, tmp_path)
    report = check(path)
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
    assert report["built"], report
    assert not [f for f in report["findings"] if f["name"] == "build-failed" and f["severity"] != "info"], report["findings"]


def test_misspelled_method_names_are_reported_and_still_checked(tmp_path):
    path = copy_case("misspelled_ok.py", tmp_path)
    report = check(path)
    lines = path.read_text().splitlines()
    found = {(f["layer"], f["line"]) for f in report["findings"] if f["name"] == "misspelled-method"}
    expected = {
        ("Sigmoid", lines.index("    def foward(self, x):") + 1),
        ("Sigmoid", lines.index("    def backword(self, dout):") + 1),
        ("Linear", lines.index("    def backwards(self, dout):") + 1),
    }
    assert found == expected
    assert {b["what"] for b in report["built"]} == {"Sigmoid", "Linear"}


def test_layers_that_call_self_something_else_are_checked(tmp_path):
    path = tmp_path / "leaky.py"
    path.write_text(textwrap.dedent("""
        import numpy as np

        class LeakyReLU:
            def __init__(me, alpha=0.01):
                me.alpha = alpha

            def forward(me, x):
                me.x = x
                return np.where(x > 0, x, me.alpha * x)

            def backward(me, dout):
                return np.where(me.x > 0, dout, dout)  # BUG: the slope alpha is missing
    """))
    report = check(path)
    assert [f["line"] for f in report["findings"] if f["severity"] == "error"] == [bug_line(path)]
    assert report["built"][0]["shapes"].startswith("x (5, 6)")


@pytest.mark.parametrize("convention", all_conventions(), ids=lambda m: m.NAME)
def test_every_convention_documents_itself_with_an_example(convention):
    doc = inspect.cleandoc(convention.__doc__ or "")
    assert "Example:" in doc and "Recognised by" in doc
    example = textwrap.dedent(doc.split("Example:")[1].split("\n\n")[0])
    assert "def " in example or "class " in example


RAISES_IN_CONSTRUCTOR = """
import numpy as np

class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.dW = np.zeors_like(W)

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)
"""

PYTHON2_DIVISION = """
import numpy as np

class Network:
    def __init__(self, input_size, output_size):
        hidden = (input_size + output_size) / 2
        self.params = {"W1": np.random.randn(input_size, hidden), "b1": np.zeros(hidden)}

    def loss(self, x, t):
        return np.sum((np.dot(x, self.params["W1"]) + self.params["b1"]) ** 2)

    def gradient(self, x, t):
        return {}

net = Network(input_size=8, output_size=4)
"""


@pytest.mark.parametrize(
    ("text", "needle"),
    [(RAISES_IN_CONSTRUCTOR, "np.zeors_like"), (PYTHON2_DIVISION, "np.random.randn(input_size, hidden)")],
    ids=["attribute-typo", "python2-division"],
)
def test_a_constructor_that_raises_in_user_code_is_layer_raised_at_its_line(text, needle, tmp_path):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(text))
    report = check(path)
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if needle in l)
    raised = [f for f in report["findings"] if f["name"] == "layer-raised"]
    assert [f["line"] for f in raised] == [line], report["findings"]
    assert not [f for f in report["findings"] if f["name"] == "build-failed"]


LAYERS_MODULE = """
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        self.x = x
        return x[:, :, ::self.stride, ::self.stride] * self.W.sum() + self.b.sum()

    def backward(self, dout):
        dx = np.zeros_like(self.x)
        dx[:, :, ::self.stride, ::self.stride] = dout * self.W.sum()
        return dx


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w = pool_h, pool_w

    def forward(self, x):
        self.x = x
        return x[:, :, ::self.pool_h, ::self.pool_w]

    def backward(self, dout):
        dx = np.zeros_like(self.x)
        dx[:, :, ::self.pool_h, ::self.pool_w] = dout
        return dx


def softmax_loss(X, t):
    p = np.exp(X - X.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(t)), t] + 1e-7))
"""

NETWORK_USING_SOME = """
import numpy as np
from common.layers import *


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size):
        self.params = {
            "W1": 0.1 * np.random.randn(input_size, hidden_size), "b1": np.zeros(hidden_size),
            "W2": 0.1 * np.random.randn(hidden_size, output_size), "b2": np.zeros(output_size),
        }
        self.layers = [Affine(self.params["W1"], self.params["b1"]), Relu(), Affine(self.params["W2"], self.params["b2"])]

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return softmax_loss(self.predict(x), t)

    def gradient(self, x, t):
        scores = self.predict(x)
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(t)), t] -= 1
        dout = p / len(t)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return {"W1": self.layers[0].dW, "b1": self.layers[0].db, "W2": self.layers[2].dW, "b2": self.layers[2].db}


net = TwoLayerNet(input_size=6, hidden_size=5, output_size=3)
"""


def test_classes_imported_but_unused_are_listed_not_checked(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "layers.py").write_text(textwrap.dedent(LAYERS_MODULE))
    path = tmp_path / "two_layer_net.py"
    path.write_text(textwrap.dedent(NETWORK_USING_SOME))
    report = check(path)
    built = {b["what"] for b in report["built"]}
    assert "TwoLayerNet" in built and not {"Convolution", "Pooling"} & built
    notes = [f for f in report["findings"] if f["name"] == "imported-not-checked"]
    assert [f["message"] for f in notes] == [
        f"imported, not checked: Convolution, Pooling — run backprop-doctor {os.path.join('common', 'layers.py')}"
    ]
    assert notes[0]["severity"] == "info"
    # softmax_loss(X, t) returns the loss alone: a library function, not a cs231n (loss, dx) pair
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
