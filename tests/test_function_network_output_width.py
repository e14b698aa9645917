"""A network written as the course's functions (`initialize_parameters_deep(layer_dims)`,
`L_model_forward`, `L_model_backward`) is built small for its gradient check, with as many output
units as the program's own list of layer sizes ends with: a softmax over the single unit a guess
would give is the constant 1, whose cost no parameter moves, and every correct gradient would read
as wrong against a numerical zero.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted

PROGRAM = '''\
import numpy as np

np.random.seed(2)


def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.5
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def L_model_forward(X, parameters):
    L = len(parameters) // 2
    A, caches = X, []
    for l in range(1, L):
        Z = parameters["W" + str(l)] @ A + parameters["b" + str(l)]
        caches.append((A, Z, parameters["W" + str(l)]))
        A = np.tanh(Z)
    Z = parameters["W" + str(L)] @ A + parameters["b" + str(L)]
    caches.append((A, Z, parameters["W" + str(L)]))
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True), caches


def compute_cost(AL, Y):
    return -np.sum(Y * np.log(AL)) / Y.shape[1]


def L_model_backward(AL, Y, caches):
    grads, L = {}, len(caches)
    dZ = (AL - Y) / Y.shape[1]
    for l in reversed(range(1, L + 1)):
        A_prev, Z, W = caches[l - 1]
        grads["dW" + str(l)] = dZ @ A_prev.T
        grads["db" + str(l)] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (W.T @ dZ) * (1 - np.tanh(caches[l - 2][1]) ** 2)
    return grads


X = np.random.randn(2, 150)
labels = (X[0] > 0).astype(int) + (X[1] > 0.5)
Y = np.eye(3)[labels].T
layers_dims = [2, 8, 3]
PARAMS = initialize_parameters_deep(layers_dims)
for i in range(300):
    AL, caches = L_model_forward(X, PARAMS)
    cost = compute_cost(AL, Y)
    grads = L_model_backward(AL, Y, caches)
    for l in range(1, len(layers_dims)):
        PARAMS["W" + str(l)] -= 0.5 * grads["dW" + str(l)]
        PARAMS["b" + str(l)] -= 0.5 * grads["db" + str(l)]
    if i % 100 == 0:
        print(i, cost)
'''


def test_a_softmax_network_of_the_course_is_built_with_its_own_output_width(tmp_path):
    report = check(planted(tmp_path, "deep.py", PROGRAM, "layers_dims = [2, 8, 3]\n", "layers_dims = [2, 8, 3]\n"))
    assert errors(report) == []
    built = [b for b in report["built"] if "L_model_forward" in b["what"]]
    assert built and all("Y (3," in b["shapes"] for b in built)
