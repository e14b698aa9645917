"""The bug students make most: the backward pass skips an activation's derivative.

`delta1 = delta2 @ W2.T` is the gradient of the hidden layer's *output*; the weights before the
activation need the gradient of its *input*, `delta1 * a1 * (1 - a1)` for a sigmoid. The replay
finds it either way the program names things:
- the adjoint is paired with the pre-activation (`delta1` of `z1`): it is wrong there, and right
  once multiplied by the slope of the activation computed from `z1`;
- the adjoint is paired with the activation's output (`delta_hidden` of `hidden`): it is right
  there, and the weights' gradient computed from it is right once it is multiplied by the slope.
Both are reported at the adjoint's line, with the derivative to multiply by.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

SIGMOID_LOOP = """\
    import numpy as np

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    W1 = rng.normal(scale=0.5, size=(3, 8))
    W2 = rng.normal(scale=0.5, size=(8, 1))
    lr = 0.5

    for epoch in range(300):
        z1 = X @ W1
        a1 = sigmoid(z1)
        z2 = a1 @ W2
        a2 = sigmoid(z2)
        loss = np.mean((a2 - y) ** 2)
        delta2 = 2 * (a2 - y) * a2 * (1 - a2) / len(X)
        dW2 = a1.T @ delta2
        delta1 = delta2 @ W2.T * a1 * (1 - a1)
        dW1 = X.T @ delta1
        W2 -= lr * dW2
        W1 -= lr * dW1
"""

RELU_LOOP = """\
    import numpy as np

    rng = np.random.default_rng(1)
    X = rng.normal(size=(32, 4))
    Y = np.sin(X.sum(axis=1, keepdims=True))
    W1 = rng.normal(scale=0.5, size=(4, 16))
    W2 = rng.normal(scale=0.5, size=(16, 1))
    for it in range(200):
        hidden = np.maximum(0, X @ W1)
        out = hidden @ W2
        d_out = (out - Y) / len(X)
        d_hidden = (d_out @ W2.T) * (hidden > 0)
        grad_W1 = X.T @ d_hidden
        grad_W2 = hidden.T @ d_out
        W1 -= 0.05 * grad_W1
        W2 -= 0.05 * grad_W2
"""


def test_an_adjoint_of_the_pre_activation_missing_the_sigmoids_slope_is_named_with_the_slope(tmp_path):
    path = planted(tmp_path, "train.py", SIGMOID_LOOP, "delta1 = delta2 @ W2.T * a1 * (1 - a1)", "delta1 = delta2 @ W2.T")
    (error,) = errors(check(path))
    assert error["name"] == "step-gradient-mismatch"
    assert error["pattern"] == "missing-activation-derivative"
    assert error["line"] == line_of(path, "delta1 = delta2")
    assert "`a1`, the sigmoid's output" in error["message"]
    assert "`a1 * (1 - a1)`" in error["message"]


def test_an_adjoint_of_the_relus_output_used_for_the_weights_before_it_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "train.py", RELU_LOOP, "d_hidden = (d_out @ W2.T) * (hidden > 0)", "d_hidden = d_out @ W2.T")
    (error,) = errors(check(path))
    assert error["pattern"] == "missing-activation-derivative"
    assert error["line"] == line_of(path, "d_hidden = d_out")  # not the line of `grad_W1`, computed from it
    assert "`hidden`, the ReLU's output" in error["message"]
    assert "`(hidden > 0)`" in error["message"]
    assert "`W1`" in error["message"] and "`W2`" not in error["message"]


@pytest.mark.parametrize("program", [SIGMOID_LOOP, RELU_LOOP], ids=["sigmoid", "relu"])
def test_the_correct_twins_are_clean(tmp_path, program):
    assert errors(check(write(tmp_path, "train.py", program))) == []


def test_a_slope_that_does_not_put_the_gradient_right_is_not_offered(tmp_path):
    """The hidden adjoint is multiplied by the ReLU's output instead of its slope: no activation's
    slope mends that, and no derivative is said to be left out."""
    path = planted(tmp_path, "train.py", RELU_LOOP, "d_hidden = (d_out @ W2.T) * (hidden > 0)", "d_hidden = (d_out @ W2.T) * hidden")
    (error,) = errors(check(path))
    assert error["line"] == line_of(path, "d_hidden = (d_out")
    assert error["pattern"] != "missing-activation-derivative"
    assert "left out" not in error["message"]
