"""`W -= lr * X.T @ dz` parses as `(lr * X.T) @ dz`: the rate sits inside the matrix product.

The replay read the whole step as the gradient, so a correct program's `W` was "0.5 x the
gradient of your loss" (a false step-gradient-mismatch at the learning rate). An update whose
gradient is an adjoint named `dz` with a literal rate (`b -= 0.5 * dz.sum(...)`) was not taken
for an update at all.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

LOGISTIC = """\
import numpy as np

np.random.seed(0)
X = np.random.randn(64, 3)
y = (X.sum(axis=1, keepdims=True) > 0).astype(float)
W = np.random.randn(3, 1) * 0.1
b = np.zeros((1, 1))
lr = 0.5
for i in range(100):
    p = 1 / (1 + np.exp(-(X @ W + b)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz = (p - y) / len(X)
    W -= lr * X.T @ dz
    b -= lr * dz.sum(axis=0, keepdims=True)
"""


def _parameters(report: dict) -> dict[str, bool]:
    return {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}


def test_a_rate_inside_the_matrix_product_is_taken_out_and_the_program_is_clean(tmp_path):
    report = check(write(tmp_path, "logistic.py", LOGISTIC))
    assert errors(report) == []
    assert _parameters(report) == {"W": False, "b": False}


def test_literal_rates_and_an_adjoint_named_dz_are_updates_too(tmp_path):
    text = LOGISTIC.replace("lr * X.T @ dz", "0.5 * X.T @ dz").replace("lr * dz.sum", "0.5 * dz.sum")
    report = check(write(tmp_path, "logistic.py", text))
    assert errors(report) == []
    assert _parameters(report) == {"W": False, "b": False}


def test_a_sign_flipped_update_through_the_product_is_still_found(tmp_path):
    path = planted(tmp_path, "logistic.py", LOGISTIC, "W -= lr * X.T @ dz", "W += lr * X.T @ dz")
    report = check(path)
    assert _parameters(report) == {"W": True, "b": False}
    (finding,) = errors(report)
    assert "adds `X.T @ dz`, which is the gradient of `loss`" in finding["message"] and "subtract the step" in finding["message"]
    # `b`'s update reads the same `dz` and is right, so the mistake is in `W`'s own update line
    assert finding["line"] == line_of(path, "W += lr * X.T @ dz")
