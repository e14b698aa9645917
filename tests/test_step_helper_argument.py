"""A derivative helper handed the wrong side of its activation (`dz1 = da1 * logistic(a1)` where
`a1 = softplus(z1)` and softplus's derivative is the logistic function of its INPUT, or
`sigmoid_grad(z1)` where `sigmoid_grad(s) = s * (1 - s)` takes the sigmoid's OUTPUT): the helper is
right, its argument is not. The replay computes the adjoint's statement again with the helper handed
the other side, finds it right then, and the finding is at the adjoint's line, not in the helper's
body. A helper that is itself wrong (handed the right value) is still named at its own line."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

SCRIPT = """
import numpy as np


def softplus(v):
    return np.log1p(np.exp(v))


def logistic(v):
    return 1.0 / (1.0 + np.exp(-v))


rng = np.random.default_rng(11)
X = rng.normal(size=(64, 3))
t = (X[:, :1] - X[:, 1:2] > 0).astype(float)
W1 = rng.normal(scale=0.7, size=(3, 10))
b1 = np.zeros((1, 10))
W2 = rng.normal(scale=0.4, size=(10, 1))
b2 = np.zeros((1, 1))
step = 0.3
for epoch in range(400):
    z1 = X @ W1 + b1
    a1 = softplus(z1)
    out = a1 @ W2 + b2
    loss = 0.5 * np.mean((out - t) ** 2)
    dout = (out - t) / len(X)
    gW2 = a1.T @ dout
    gb2 = dout.sum(axis=0, keepdims=True)
    da1 = dout @ W2.T
    dz1 = da1 * logistic(z1)
    gW1 = X.T @ dz1
    gb1 = dz1.sum(axis=0, keepdims=True)
    W1 -= step * gW1
    b1 -= step * gb1
    W2 -= step * gW2
    b2 -= step * gb2
"""

RIGHT = "    dz1 = da1 * logistic(z1)"
OUTPUT_GIVEN = "    dz1 = da1 * logistic(a1)"

PROGRAM = """
import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def sigmoid_grad(s):
    return s * (1.0 - s)


def forward(params, X):
    h = X @ params["W1"] + params["b1"]
    s = sigmoid(h)
    y_hat = s @ params["W2"] + params["b2"]
    return h, s, y_hat


def main():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 2))
    Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:]
    params = {"W1": rng.normal(size=(2, 7)), "b1": np.zeros(7), "W2": rng.normal(scale=0.5, size=(7, 1)), "b2": np.zeros(1)}
    for it in range(300):
        h, s, y_hat = forward(params, X)
        cost = np.sum((y_hat - Y) ** 2) / (2 * len(X))
        d_y = (y_hat - Y) / len(X)
        grads = {"W2": s.T @ d_y, "b2": d_y.sum(axis=0)}
        d_s = d_y @ params["W2"].T
        d_h = d_s * sigmoid_grad(s)
        grads["W1"] = X.T @ d_h
        grads["b1"] = d_h.sum(axis=0)
        for key in params:
            params[key] -= 0.5 * grads[key]


if __name__ == "__main__":
    main()
"""

GIVEN_OUTPUT = "        d_h = d_s * sigmoid_grad(s)"
INPUT_GIVEN = "        d_h = d_s * sigmoid_grad(h)"
HELPER = "    return s * (1.0 - s)"
HELPER_WRONG = "    return s * (1.0 + s)"


def _step_error(path: Path) -> dict:
    (found,) = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    return found


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "script.py", SCRIPT, RIGHT, RIGHT))) == []
    assert errors(check(planted(tmp_path, "program.py", PROGRAM, GIVEN_OUTPUT, GIVEN_OUTPUT))) == []


def test_a_helper_of_the_input_handed_the_output_is_named_at_the_adjoint(tmp_path: Path) -> None:
    path = planted(tmp_path, "script.py", SCRIPT, RIGHT, OUTPUT_GIVEN)
    found = _step_error(path)
    assert (found["param"], found["line"], found["pattern"]) == ("dz1", line_of(path, OUTPUT_GIVEN.strip()), "helper-argument")
    assert "write `logistic(z1)`" in found["message"]
    assert "computes it" not in found["message"]


def test_a_helper_of_the_output_handed_the_input_is_named_at_the_adjoint(tmp_path: Path) -> None:
    path = planted(tmp_path, "program.py", PROGRAM, GIVEN_OUTPUT, INPUT_GIVEN)
    found = _step_error(path)
    assert (found["param"], found["line"], found["pattern"]) == ("d_h", line_of(path, INPUT_GIVEN.strip()), "helper-argument")
    assert "write `sigmoid_grad(s)`" in found["message"]


def test_a_wrong_helper_handed_the_right_value_is_still_named_in_the_helper(tmp_path: Path) -> None:
    path = planted(tmp_path, "program.py", PROGRAM, HELPER, HELPER_WRONG)
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, HELPER_WRONG.strip())  # the pair's own check, or the step's
    assert all(f.get("pattern") != "helper-argument" for f in found)


def test_a_wrong_helper_of_the_input_is_still_named_in_the_helper(tmp_path: Path) -> None:
    source = SCRIPT.replace("    return 1.0 / (1.0 + np.exp(-v))", "    return 1.0 / (1.0 + np.exp(v))")
    path = planted(tmp_path, "script.py", source, RIGHT, RIGHT)
    found = _step_error(path)
    assert found["line"] == line_of(path, "return 1.0 / (1.0 + np.exp(v))")
    assert found["pattern"] != "helper-argument"
    assert f"`logistic` computes it (line {found['line']})" in found["message"]
