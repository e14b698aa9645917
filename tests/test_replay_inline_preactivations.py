"""A compact script computes a layer in one statement, `a1 = np.tanh(X @ W1 + b1)`, and names
the gradient of the tanh's input `dz1` all the same. The adjoint walk now measures `dz1` against
that inline input, so a wrong activation derivative is reported at its own line, not at the
`dW1` line that reads it."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from backprop_doctor.static.inline import named_inputs
from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
    import numpy as np

    np.random.seed(0)
    X = np.random.randn(40, 3)
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    W1 = np.random.randn(3, 8) * 0.5
    b1 = np.zeros((1, 8))
    W2 = np.random.randn(8, 1) * 0.5
    b2 = np.zeros((1, 1))
    lr = 0.5
    for epoch in range(200):
        a1 = np.tanh(X @ W1 + b1)
        out = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
        loss = np.mean((out - y) ** 2)
        dout = 2 * (out - y) / len(X)
        dz2 = dout * out * (1 - out)
        dW2 = a1.T @ dz2
        db2 = dz2.sum(axis=0, keepdims=True)
        da1 = dz2 @ W2.T
        dz1 = da1 * (1 - a1 ** 2)
        dW1 = X.T @ dz1
        db1 = dz1.sum(axis=0, keepdims=True)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
        if epoch % 50 == 0:
            print(loss)
"""

RELU_DELTAS = """\
    import numpy as np


    def relu(x):
        return np.maximum(x, 0)


    def train():
        rng = np.random.default_rng(1)
        X = rng.standard_normal((30, 4))
        Y = np.eye(3)[rng.integers(0, 3, 30)]
        W1 = rng.standard_normal((4, 16)) * 0.3
        W2 = rng.standard_normal((16, 3)) * 0.3
        for step in range(100):
            h1 = relu(X.dot(W1))
            scores = h1.dot(W2)
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            cost = -np.sum(Y * np.log(p)) / len(X)
            delta2 = (p - Y) / len(X)
            dh1 = delta2.dot(W2.T)
            delta1 = dh1 * (h1 > 0)
            W2 -= 0.1 * h1.T.dot(delta2)
            W1 -= 0.1 * X.T.dot(delta1)
        return cost


    if __name__ == "__main__":
        print(train())
"""


def test_the_correct_compact_script_is_clean_with_every_adjoint_measured(tmp_path: Path) -> None:
    report = check(write(tmp_path, "compact.py", SCRIPT))
    assert errors(report) == []
    (step,) = report["extras"]["replay"]
    assert step["not_replayed"] is None


@pytest.mark.parametrize(("correct", "wrong"), [("(1 - a1 ** 2)", "(1 - a1)"), ("dout * out * (1 - out)", "dout * (1 - out)")])
def test_a_wrong_activation_derivative_is_reported_at_its_own_line_with_the_inline_input(tmp_path: Path, correct: str, wrong: str) -> None:
    path = planted(tmp_path, "compact.py", SCRIPT, correct, wrong)
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch"
    assert finding["line"] == line_of(path, wrong)
    inline = "X @ W1 + b1" if "a1" in wrong else "a1 @ W2 + b2"
    assert f"with respect to `{inline}`" in finding["message"]


def test_a_relu_written_as_a_function_call_with_delta_names(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "deltas.py", RELU_DELTAS))) == []
    path = planted(tmp_path, "deltas.py", RELU_DELTAS, "delta1 = dh1 * (h1 > 0)", "delta1 = dh1 * h1")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "delta1 = dh1 * h1")
    assert "with respect to `X.dot(W1)`" in finding["message"]


def _prefix(text: str) -> tuple[ast.stmt, ...]:
    loop = next(n for n in ast.walk(ast.parse(textwrap.dedent(text))) if isinstance(n, ast.For))
    return tuple(loop.body)


def test_a_name_the_file_already_uses_is_never_given_and_the_statements_keep_their_lines() -> None:
    prefix = _prefix(SCRIPT)
    split, given = named_inputs(prefix, {"X", "W1", "b1"})
    assert given == {"z1": "X @ W1 + b1", "z2": "a1 @ W2 + b2"}
    assert len(split) == len(prefix) + 2
    assert [s.lineno for s in split[:2]] == [prefix[0].lineno] * 2
    assert ast.unparse(split[0]) == "z1 = X @ W1 + b1" and ast.unparse(split[1]) == "a1 = np.tanh(z1)"
    kept, none = named_inputs(prefix, {"z1", "z2"})
    assert kept == prefix and none == {}
