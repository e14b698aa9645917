"""A gradient the loop unpacks from a function under a name of its own (`ga, gb, gc = compute_grads(...)`
of `return grad_a, grad_b, grad_c`): a wrong one is named at the line inside the function that computes
it, found by its place in the returned tuple, not at the loop's unpacking line, which computes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from userfiles import check, errors, line_of, planted

SCALAR_COEFFICIENTS = """
import numpy as np

rng = np.random.default_rng(5)
x = rng.uniform(-1.5, 1.5, 120)
y = 0.7 * x ** 3 - 1.2 * x ** 2 + 0.4 * x + 0.3 + 0.05 * rng.normal(size=x.shape)
a, b, c, d = 0.1, 0.1, 0.1, 0.1


def predict(x, a, b, c, d):
    # 예측값 (a cubic)
    return a * x ** 3 + b * x ** 2 + c * x + d


def compute_loss(a, b, c, d):
    err = predict(x, a, b, c, d) - y
    return np.mean(err ** 2)


def compute_grads(a, b, c, d):
    err = predict(x, a, b, c, d) - y
    grad_a = 2 * np.mean(err * x ** 3)
    grad_b = 2 * np.mean(err * x ** 2)
    grad_c = 2 * np.mean(err * x)
    grad_d = 2 * np.mean(err)
    return grad_a, grad_b, grad_c, grad_d


learning_rate = 0.02
for epoch in range(500):
    ga, gb, gc, gd = compute_grads(a, b, c, d)
    a -= learning_rate * ga
    b -= learning_rate * gb
    c -= learning_rate * gc
    d -= learning_rate * gd
    if epoch % 100 == 0:
        print(epoch, compute_loss(a, b, c, d))
"""

ARRAY_WEIGHTS = """
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(90, 4))
T = (X[:, :1] * X[:, 1:2] > 0).astype(float)
hidden = rng.normal(size=(4, 10)) * 0.5
output = rng.normal(size=(10, 1)) * 0.5


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def run_backprop(X, T, hidden, output):
    h = np.tanh(X @ hidden)
    p = sigmoid(h @ output)
    cost = -np.mean(T * np.log(p) + (1 - T) * np.log(1 - p))
    delta_out = (p - T) / len(X)
    change_output = h.T @ delta_out
    delta_hidden = (delta_out @ output.T) * (1 - h ** 2)
    change_hidden = X.T @ delta_hidden
    return cost, change_hidden, change_output


rate = 0.5
for epoch in range(300):
    cost, g_in, g_out = run_backprop(X, T, hidden, output)
    hidden -= rate * g_in
    output -= rate * g_out
    if epoch % 100 == 0:
        print(epoch, cost)
"""

CASES = {
    "scalar": (SCALAR_COEFFICIENTS, "    grad_b = 2 * np.mean(err * x ** 2)", "    grad_b = 2 * np.mean(err * x)"),
    "array": (ARRAY_WEIGHTS, "    delta_hidden = (delta_out @ output.T) * (1 - h ** 2)", "    delta_hidden = (delta_out @ output.T) * (1 - h)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_wrong_gradient_is_named_where_the_function_computes_it(tmp_path: Path, case: str) -> None:
    text, correct, wrong = CASES[case]
    path = planted(tmp_path, "train.py", text, correct, wrong)
    found = errors(check(path))
    assert found, f"no error for the wrong gradient in {case}"
    unpacked = line_of(path, " = compute_grads(" if case == "scalar" else " = run_backprop(")
    lines = {f["line"] for f in found}
    assert unpacked not in lines, found
    # the line that computes the wrong value (scalar: grad_b itself; array: the adjoint, or the gradient made from it)
    expected = {line_of(path, wrong.strip())} if case == "scalar" else {line_of(path, wrong.strip()), line_of(path, "change_hidden = X.T")}
    assert lines & expected, found


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_correct_program_is_clean(tmp_path: Path, case: str) -> None:
    text, _, _ = CASES[case]
    path = planted(tmp_path, "train.py", text, "rng", "rng")
    report = check(path)
    assert errors(report) == [], report["findings"]
    assert report["extras"]["replay"] and report["extras"]["replay"][0]["not_replayed"] is None
