"""A network's cost function over unrolled weights, checked part by part.

The course's `nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y,
lambda_)` takes both weight matrices as one vector and returns the gradient unrolled the same way.
The vector is checked as the two matrices it holds, `Theta1` (hidden × inputs + 1) then `Theta2`
(labels × hidden + 1), so a wrong hidden-layer gradient is told apart from a right output layer
and found where `Theta1_grad` is computed, not at the `np.concatenate` that unrolls it.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NN_COST = """\
    import numpy as np

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def sigmoid_gradient(z):
        g = sigmoid(z)
        return g * (1 - g)

    def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
        Theta1 = np.reshape(nn_params[: hidden_layer_size * (input_layer_size + 1)], (hidden_layer_size, input_layer_size + 1))
        Theta2 = np.reshape(nn_params[hidden_layer_size * (input_layer_size + 1):], (num_labels, hidden_layer_size + 1))
        m = y.size
        a1 = np.concatenate([np.ones((m, 1)), X], axis=1)
        z2 = a1 @ Theta1.T
        a2 = np.concatenate([np.ones((m, 1)), sigmoid(z2)], axis=1)
        a3 = sigmoid(a2 @ Theta2.T)
        Y = np.eye(num_labels)[y]
        J = -np.sum(Y * np.log(a3) + (1 - Y) * np.log(1 - a3)) / m
        J += lambda_ / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
        delta3 = a3 - Y
        delta2 = (delta3 @ Theta2)[:, 1:] * sigmoid_gradient(z2)
        Theta1_grad = delta2.T @ a1 / m
        Theta2_grad = delta3.T @ a2 / m
        Theta1_grad[:, 1:] += lambda_ / m * Theta1[:, 1:]
        Theta2_grad[:, 1:] += lambda_ / m * Theta2[:, 1:]
        grad = np.concatenate([Theta1_grad.ravel(), Theta2_grad.ravel()])
        return J, grad
"""


def test_a_correct_network_cost_is_checked_as_its_two_weight_matrices(tmp_path):
    report = check(write(tmp_path, "nn_cost.py", NN_COST))
    assert errors(report) == []
    assert {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"] if m["layer"] == "nnCostFunction"} == {
        ("nnCostFunction", "Theta1", "ok"), ("nnCostFunction", "Theta2", "ok"),
    }  # fmt: skip


def test_a_missing_sigmoid_gradient_is_the_hidden_layers_and_found_where_theta1_grad_is_computed(tmp_path):
    path = planted(tmp_path, "nn_cost.py", NN_COST, "[:, 1:] * sigmoid_gradient(z2)", "[:, 1:]")
    (error,) = errors(check(path))
    assert (error["name"], error["param"]) == ("gradient-mismatch", "Theta1")
    assert error["line"] == line_of(path, "Theta1_grad = delta2.T @ a1 / m")


def test_a_gradient_left_as_zeros_is_found_at_the_zeros(tmp_path):
    text = NN_COST.replace("Theta2_grad = delta3.T @ a2 / m", "Theta2_grad = np.zeros(Theta2.shape)").replace(
        "        Theta2_grad[:, 1:] += lambda_ / m * Theta2[:, 1:]\n", ""
    )
    path = write(tmp_path, "nn_cost.py", text)
    (error,) = errors(check(path))
    assert (error["param"], error["pattern"], error["line"]) == ("Theta2", "not-computed", line_of(path, "Theta2_grad = np.zeros"))
