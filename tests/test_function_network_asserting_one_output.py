"""A course's deep network written as functions whose forward asserts its own output shape.

`L_model_forward` ends in `assert AL.shape == (1, X.shape[1])`: a binary classifier. The file's
test calls hand the initialiser other widths (`initialize_parameters_deep([5, 4, 3])`), from which
backprop-doctor guessed three output units, and the forward's own assert then rejected the network
it built: an error blamed on a line that is right. The network is built again with one output
unit, so the assert is kept and the gradients are compared.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

PROGRAM = """\
    import numpy as np


    def initialize_parameters_deep(layer_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layer_dims)):
            parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.5
            parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
        return parameters


    def sigmoid(Z):
        return 1 / (1 + np.exp(-Z)), Z


    def relu(Z):
        return np.maximum(0, Z), Z


    def L_model_forward(X, parameters):
        caches = []
        A = X
        L = len(parameters) // 2
        for l in range(1, L):
            Z = parameters["W" + str(l)] @ A + parameters["b" + str(l)]
            caches.append((A, parameters["W" + str(l)], Z))
            A, _ = relu(Z)
        Z = parameters["W" + str(L)] @ A + parameters["b" + str(L)]
        caches.append((A, parameters["W" + str(L)], Z))
        AL, _ = sigmoid(Z)
        assert AL.shape == (1, X.shape[1])
        return AL, caches


    def compute_cost(AL, Y):
        m = Y.shape[1]
        return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


    def L_model_backward(AL, Y, caches):
        grads = {}
        L = len(caches)
        m = AL.shape[1]
        dZ = AL - Y
        for l in reversed(range(1, L + 1)):
            A_prev, W, Z = caches[l - 1]
            if l < L:
                dZ = dA * (Z > 0)
            grads["dW" + str(l)] = dZ @ A_prev.T / m
            grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
            dA = W.T @ dZ
        return grads


    # the notebook's shape test, with widths of its own
    test = initialize_parameters_deep([5, 4, 3])
    print(test["W1"].shape, test["W2"].shape)
"""


def test_a_forward_asserting_one_output_is_checked_and_clean(tmp_path):
    path = planted(tmp_path, "deep.py", PROGRAM, "assert AL.shape == (1, X.shape[1])", "assert AL.shape == (1, X.shape[1])")
    report = check(path)
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "layer-raised"]
    rows = [m for m in report["measurements"] if m["layer"] == "L_model_forward/L_model_backward"]
    assert rows and all(m["verdict"].startswith("ok") for m in rows)


def test_a_wrong_weight_gradient_behind_the_assert_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "deep.py", PROGRAM, 'grads["dW" + str(l)] = dZ @ A_prev.T / m', 'grads["dW" + str(l)] = dZ @ A_prev.T')
    report = check(path)
    found = errors(report)
    assert found and found[0]["name"] == "gradient-mismatch"
    assert found[0]["line"] == line_of(path, 'grads["dW" + str(l)] = dZ @ A_prev.T')
    assert not [f for f in report["findings"] if f["name"] == "layer-raised"]
