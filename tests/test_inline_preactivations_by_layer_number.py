"""`H = np.tanh(X @ W1 + b1)` with the adjoint of its input named `dZ1`: nothing but the layer's
number ties `dZ1` to that input (the hidden output is `H`, not `a1`), and a `dZ1` that leaves the
tanh's derivative out does not even read `H`. The weights the inline input reads (`W1`) say which
layer it is, so the missing derivative is found at `dZ1`'s line, not at `dW1`'s."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(5)
X = rng.standard_normal((20, 3))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
m = X.shape[0]
W1 = 0.5 * rng.standard_normal((3, 6)); b1 = np.zeros((1, 6))
W2 = 0.5 * rng.standard_normal((6, 1)); b2 = np.zeros((1, 1))
for epoch in range(200):
    H = np.tanh(X @ W1 + b1)
    A = 1 / (1 + np.exp(-(H @ W2 + b2)))
    loss = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ2 = (A - Y) / m
    dW2 = H.T @ dZ2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0, keepdims=True)
    W1 -= 0.5 * dW1; b1 -= 0.5 * db1
    W2 -= 0.5 * dW2; b2 -= 0.5 * db2
"""

RELU = SCRIPT.replace("H = np.tanh(X @ W1 + b1)", "H = np.maximum(0, X @ W1 + b1)").replace("* (1 - H ** 2)", "* (H > 0)")


@pytest.mark.parametrize("text", [SCRIPT, RELU], ids=["tanh", "relu"])
def test_the_correct_scripts_are_clean(tmp_path, text):
    assert errors(check(write(tmp_path, "train.py", text))) == []


@pytest.mark.parametrize(
    "text, derivative, advice",
    [(SCRIPT, "* (1 - H ** 2)", "multiply `dZ1` by tanh's derivative"), (RELU, "* (H > 0)", "(H > 0)")],
    ids=["tanh", "relu"],
)
def test_a_left_out_derivative_is_found_at_the_adjoint_named_by_its_layer(tmp_path, text, derivative, advice):
    path = planted(tmp_path, "train.py", text, f"dZ1 = (dZ2 @ W2.T) {derivative}", "dZ1 = dZ2 @ W2.T")
    (finding,) = errors(check(path))
    assert (finding["line"], finding["pattern"]) == (line_of(path, "dZ1 = dZ2 @ W2.T"), "missing-activation-derivative")
    assert advice in finding["message"]


def test_an_adjoint_of_another_layers_number_is_not_paired(tmp_path):
    """`dZ3` reads nothing and no activation reads `W3`: it stays unpaired, and the script is clean."""
    text = SCRIPT.replace("    dW1 = X.T @ dZ1\n", "    dZ3 = dZ1 * 1.0\n    dW1 = X.T @ dZ3\n")
    assert errors(check(write(tmp_path, "train.py", text))) == []
