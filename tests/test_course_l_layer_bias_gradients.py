"""deeplearning.ai's L-layer network differentiates the summed cost in `dAL` and divides by m only
in `linear_backward`: that `dAL` is the scale of the later adjoints, not a bug to divide by the
batch size. A bias gradient summed over the wrong axis is named where `linear_backward` computes it,
not where `L_model_backward` unpacks it; one missing its 1/m is named at its own line too."""

from tests.userfiles import check, errors, line_of, planted

COURSE = """
    import numpy as np


    def sigmoid(Z):
        return 1 / (1 + np.exp(-Z)), Z


    def relu(Z):
        return np.maximum(0, Z), Z


    def initialize_parameters_deep(layer_dims):
        parameters = {}
        for l in range(1, len(layer_dims)):
            parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
            parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
        return parameters


    def linear_activation_forward(A_prev, W, b, activation):
        Z = np.dot(W, A_prev) + b
        A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
        return A, ((A_prev, W, b), activation_cache)


    def L_model_forward(X, parameters):
        caches = []
        A = X
        L = len(parameters) // 2
        for l in range(1, L):
            A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
            caches.append(cache)
        AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
        caches.append(cache)
        return AL, caches


    def compute_cost(AL, Y):
        m = Y.shape[1]
        return np.squeeze(-1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


    def linear_backward(dZ, cache):
        A_prev, W, b = cache
        m = A_prev.shape[1]
        dW = 1. / m * np.dot(dZ, A_prev.T)
        db = 1. / m * np.sum(dZ, axis=1, keepdims=True)
        dA_prev = np.dot(W.T, dZ)
        return dA_prev, dW, db


    def linear_activation_backward(dA, cache, activation):
        linear_cache, Z = cache
        if activation == "relu":
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
        else:
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        return linear_backward(dZ, linear_cache)


    def L_model_backward(AL, Y, caches):
        grads = {}
        L = len(caches)
        dAL = - (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
        grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_activation_backward(dAL, caches[L - 1], "sigmoid")
        for l in reversed(range(L - 1)):
            dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], "relu")
            grads["dA" + str(l)] = dA_prev_temp
            grads["dW" + str(l + 1)] = dW_temp
            grads["db" + str(l + 1)] = db_temp
        return grads


    def update_parameters(parameters, grads, learning_rate):
        for l in range(len(parameters) // 2):
            parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
            parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
        return parameters


    np.random.seed(2)
    X = np.random.randn(2, 240)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    parameters = initialize_parameters_deep([2, 8, 4, 1])
    for i in range(300):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, 0.1)
"""


def test_the_correct_network_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "deep.py", COURSE, "axis=1, keepdims=True", "axis=1, keepdims=True"))) == []


def test_a_bias_gradient_over_the_wrong_axis_is_named_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "deep.py", COURSE, "np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ, axis=0, keepdims=True)")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD102", found
    assert found[0]["line"] == line_of(path, "db = 1. / m * np.sum(dZ, axis=0")
    assert not any("divide it by the batch size" in f["message"] for f in found)


def test_a_bias_gradient_missing_its_mean_is_named_at_its_line_not_at_dAL(tmp_path):
    path = planted(tmp_path, "deep.py", COURSE, "db = 1. / m * np.sum(dZ,", "db = np.sum(dZ,")
    found = errors(check(path))
    assert found, found
    assert found[0]["line"] == line_of(path, "db = np.sum(dZ,"), found[0]
    assert line_of(path, "dAL = ") not in {f["line"] for f in found}
