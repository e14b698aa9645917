"""A flat training script that steps with momentum and writes the gradient out inside the velocity's
own line (`v = mu * v - lr * (X.T @ err) / n`, then `W += v`), the way it would write `W -= lr * (X.T @
err) / n` without momentum. The replay reads the gradient through the velocity (`static.steps`: a matrix
product of the pass's values counts as a gradient, whatever its operands are called), compares it with
the derivative of the loss, and names a wrong one at the velocity's line. Before, such a script got
"nothing was checked" (one layer), or its second parameter was left out of the check without a word."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

# one sigmoid unit, the loss computed, the velocity holding minus the step
ONE_LAYER = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(48, 4))
Y = (X[:, :1] - X[:, 1:2] > 0).astype(float)

W = rng.normal(scale=0.3, size=(4, 1))
velocity = np.zeros_like(W)
learning_rate, momentum = 0.5, 0.9


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


for it in range(300):
    out = sigmoid(X @ W)
    cost = 0.5 * np.mean((out - Y) ** 2)
    velocity = momentum * velocity - learning_rate * (X.T @ ((out - Y) * out * (1 - out))) / len(X)
    W += velocity
    if it % 100 == 0:
        print(it, cost)
'''

ONE_RIGHT = "(X.T @ ((out - Y) * out * (1 - out)))"

# two layers in the style of the classic eleven-line network: the error written target minus
# output, the slopes inline, no loss computed (the output error implies it), the velocities added
TWO_LAYERS = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
y = np.array([[0], [1], [1], [0]], dtype=float)

np.random.seed(1)
syn0 = 2 * np.random.random((3, 4)) - 1
syn1 = 2 * np.random.random((4, 1)) - 1
v0 = np.zeros_like(syn0)
v1 = np.zeros_like(syn1)

for j in range(3000):
    l1 = sigmoid(np.dot(X, syn0))
    l2 = sigmoid(np.dot(l1, syn1))
    l2_error = y - l2
    l2_slope = l2_error * l2 * (1 - l2)
    l1_error = l2_slope.dot(syn1.T)
    v1 = 0.9 * v1 + 0.5 * np.dot(l1.T, l2_slope)
    v0 = 0.9 * v0 + 0.5 * np.dot(X.T, l1_error * l1 * (1 - l1))
    syn1 += v1
    syn0 += v0
    if j % 1000 == 0:
        print(j, np.mean(np.abs(l2_error)))
'''

TWO_RIGHT = "v0 = 0.9 * v0 + 0.5 * np.dot(X.T, l1_error * l1 * (1 - l1))"


def test_one_layer_with_the_gradient_in_the_velocity_is_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "momentum_script.py", ONE_LAYER, ONE_RIGHT, ONE_RIGHT))
    assert errors(report) == []
    assert step_verdicts(report) == {"W": "ok"}


def test_one_layer_slope_left_out_of_the_velocity_is_named_there(tmp_path):
    path = planted(tmp_path, "momentum_script.py", ONE_LAYER, ONE_RIGHT, "(X.T @ ((out - Y) * out))")
    (found,) = errors(check(path))
    assert (found["code"], found["param"]) == ("BPD108", "W")
    assert found["line"] == line_of(path, "velocity = momentum * velocity")
    assert "X.T @ ((out - Y) * out)" in found["message"]


def test_two_layers_with_gradients_in_the_velocities_are_both_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "momentum_script.py", TWO_LAYERS, TWO_RIGHT, TWO_RIGHT))
    assert errors(report) == []
    assert step_verdicts(report) == {"syn1": "ok", "syn0": "ok"}


def test_two_layers_slope_left_out_of_a_velocity_is_found(tmp_path):
    # the first layer's slope forgotten in its velocity: that parameter is no longer dropped from the check
    path = planted(tmp_path, "momentum_script.py", TWO_LAYERS, TWO_RIGHT, "v0 = 0.9 * v0 + 0.5 * np.dot(X.T, l1_error)")
    report = check(path)
    (found,) = errors(report)
    assert (found["code"], found["param"]) == ("BPD108", "syn0")
    assert step_verdicts(report) == {"syn1": "ok", "syn0": "mismatch"}
    assert line_of(path, "v0 = 0.9 * v0") in found["highlight"]


def test_two_layers_velocity_with_its_sign_flipped_is_named_there(tmp_path):
    path = planted(tmp_path, "momentum_script.py", TWO_LAYERS, TWO_RIGHT, TWO_RIGHT.replace("+ 0.5", "- 0.5"))
    (found,) = errors(check(path))
    assert (found["code"], found["param"]) == ("BPD108", "syn0")
    assert found["line"] == line_of(path, "v0 = 0.9 * v0")
    assert "sign flipped" in found["message"]
