"""A wrong gradient comes with its corrected line, written with the user's own names.

Each case is a small file as a student writes it, checked by the real pipeline (no training
probe); the fix must name the user's variables, never the tool's probe batch.
"""

from __future__ import annotations

import textwrap

import pytest

from backprop_doctor.pipeline import check_file

LAYERS = {
    "sigmoid": (
        """
        class Sigmoid:
            def forward(self, x):
                y = 1 / (1 + np.exp(-x))
                self.y = y
                return y

            def backward(self, grad_output):
                return grad_output * self.y          # forgot (1 - y)
        """,
        "return grad_output * (1.0 - self.y) * self.y",
    ),
    "tanh": (
        """
        class Tanh:
            def forward(self, x):
                self.out = np.tanh(x)
                return self.out

            def backward(self, dout):
                dx = dout * (1 - self.out)
                return dx
        """,
        "dx = dout * (1.0 - self.out ** 2)",
    ),
    "relu": (
        """
        class ReLU:
            def forward(self, x):
                self.off = x <= 0
                out = x.copy()
                out[self.off] = 0
                return out

            def backward(self, dout):
                dx = dout * self.off
                return dx
        """,
        "dx = np.where(self.off, 0, dout)",
    ),
    "affine-dW": (
        """
        class Dense:
            def __init__(self, W, b):
                self.W = W
                self.b = b

            def forward(self, x):
                self.inp = x
                return np.dot(x, self.W) + self.b

            def backward(self, dout):
                dx = np.dot(dout, self.W.T)
                self.dW = np.dot(self.inp.T, dout) * 0.5
                self.db = np.sum(dout, axis=0)
                return dx
        """,
        "self.dW = np.dot(self.inp.T, dout)",
    ),
    "affine-db": (
        """
        class Dense:
            def __init__(self, W, b):
                self.W = W
                self.b = b

            def forward(self, x):
                self.inp = x
                return np.dot(x, self.W) + self.b

            def backward(self, dout):
                dx = np.dot(dout, self.W.T)
                self.dW = np.dot(self.inp.T, dout)
                self.db = np.mean(dout, axis=0)
                return dx
        """,
        "self.db = np.sum(dout, axis=0)",
    ),
    "sign": (
        """
        class Dense:
            def __init__(self, W, b):
                self.W = W
                self.b = b

            def forward(self, x):
                self.inp = x
                return np.dot(x, self.W) + self.b

            def backward(self, dout):
                dx = -np.dot(dout, self.W.T)
                self.dW = np.dot(self.inp.T, dout)
                self.db = np.sum(dout, axis=0)
                return dx
        """,
        "dx = np.dot(dout, self.W.T)",
    ),
    "batch-size": (
        """
        def softmax(x):
            x = x - x.max(axis=1, keepdims=True)
            e = np.exp(x)
            return e / e.sum(axis=1, keepdims=True)


        class SoftmaxWithLoss:
            def forward(self, x, t):
                self.t = t
                self.y = softmax(x)
                return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

            def backward(self, dout=1):
                n = self.t.shape[0]
                dx = dout * (self.y - self.t)
                return dx
        """,
        "dx = dout * (self.y - self.t) / n",
    ),
}


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_a_wrong_gradient_comes_with_the_corrected_line_in_the_users_names(tmp_path, case):
    body, expected = LAYERS[case]
    path = tmp_path / f"{case.replace('-', '_')}.py"
    path.write_text("import numpy as np\n" + textwrap.dedent(body), encoding="utf-8")
    report = check_file(path, training=False)
    wrong = [f for f in report.findings if f.name == "gradient-mismatch" and f.fix]
    assert wrong, [(f.name, f.message, f.line) for f in report.findings]
    assert wrong[0].fix == expected
    assert "5" not in wrong[0].fix  # never the probe's batch of 5


def test_the_fix_is_shown_as_code_in_the_report(tmp_path):
    import io

    from rich.console import Console

    from backprop_doctor.report.rich_report import render

    body, expected = LAYERS["tanh"]
    path = tmp_path / "tanh.py"
    path.write_text("import numpy as np\n" + textwrap.dedent(body), encoding="utf-8")
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render(check_file(path, training=False), console)
    lines = console.file.getvalue().splitlines()
    fix_at = next(i for i, line in enumerate(lines) if line.strip("┃│ ") == "Fix")
    assert lines[fix_at + 1].strip("┃│ ") == expected
