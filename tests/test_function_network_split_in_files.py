"""A network written as plain functions over a parameter dictionary, one function per file beside
the training code (`from initialize import *`, `from forward import *`, `from compute_cost import *`):
its initialiser and its cost come from modules of their own, not from the forward's or the
backward's, and are found there (the cost, a squared error here, is the loss the backward is
checked against); the training function is never called in the file."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, write

INITIALIZE = '''\
import numpy as np


def initialize(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.3
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''

FORWARD = '''\
import numpy as np


def forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = W @ A + b
        caches.append((A, W, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(0, Z)
    return A, caches
'''

BACKWARD = '''\
import numpy as np


def backward(AL, Y, caches):
    grads = {}
    m = Y.shape[1]
    dZ = AL - Y
    for l in reversed(range(1, len(caches) + 1)):
        A_prev, W, Z = caches[l - 1]
        grads["dW" + str(l)] = dZ @ A_prev.T / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            dZ = (W.T @ dZ) * (caches[l - 2][2] > 0)
    return grads
'''

MODEL = '''\
from initialize import *
from forward import *
from backward import *


def model(X, Y, layer_dims, learning_rate=0.05, num_iterations=500):
    parameters = initialize(layer_dims)
    for i in range(num_iterations):
        AL, caches = forward(X, parameters)
        grads = backward(AL, Y, caches)
        for l in range(1, len(layer_dims)):
            parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
            parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters
'''

PARAMETERS = '''\
import numpy as np


def init_params(n_x, n_h, n_y):
    return {"W1": np.random.randn(n_h, n_x) * 0.5, "b1": np.random.randn(n_h, 1) * 0.1,
            "W2": np.random.randn(n_y, n_h) * 0.5, "b2": np.zeros((n_y, 1))}
'''

PROPAGATION = '''\
import numpy as np


def forward_prop(X, parameters):
    A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
    A2 = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
    return A2, {"A1": A1, "A2": A2}


def backward_prop(parameters, cache, X, Y):
    m = X.shape[1]
    dA2 = (cache["A2"] - Y) / m
    dZ2 = dA2 * cache["A2"] * (1 - cache["A2"])
    dW2 = dZ2 @ cache["A1"].T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = parameters["W2"].T @ dZ2 * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
'''

COST = '''\
import numpy as np


def compute_cost(A2, Y):
    m = Y.shape[1]
    return float(np.sum((A2 - Y) ** 2) / (2 * m))
'''

TRAIN = '''\
from init_params import *
from propagation import *
from cost import *


def nn_model(X, Y, n_h, num_iterations=1000, learning_rate=1.2):
    parameters = init_params(X.shape[0], n_h, Y.shape[0])
    for i in range(num_iterations):
        A2, cache = forward_prop(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_prop(parameters, cache, X, Y)
        for key in parameters:
            parameters[key] = parameters[key] - learning_rate * grads["d" + key]
    return parameters
'''


def layers_files(folder, backward=BACKWARD):
    write(folder, "initialize.py", INITIALIZE)
    write(folder, "forward.py", FORWARD)
    write(folder, "backward.py", backward)
    return write(folder, "model.py", MODEL)


def two_layer_files(folder, propagation=PROPAGATION):
    write(folder, "init_params.py", PARAMETERS)
    write(folder, "propagation.py", propagation)
    write(folder, "cost.py", COST)
    return write(folder, "train.py", TRAIN)


def measured(report: dict) -> set[str]:
    return {m["param"] for m in report["measurements"]}


def test_an_initialiser_in_a_file_of_its_own_builds_the_network(tmp_path):
    report = check(layers_files(tmp_path))
    assert errors(report) == [], errors(report)
    assert {"W1", "b1", "W2", "b2"} <= measured(report), report["built"]


def test_a_bias_gradient_left_undivided_is_found_in_its_file(tmp_path):
    wrong = BACKWARD.replace('np.sum(dZ, axis=1, keepdims=True) / m', 'np.sum(dZ, axis=1, keepdims=True)  # BUG: not / m')
    report = check(layers_files(tmp_path, backward=wrong))
    found = {(f["param"], f["file"], f["line"]) for f in errors(report) if f["param"]}
    assert found and {param[0] for param, _, _ in found} == {"b"}, errors(report)
    assert {(Path(file).name, line) for _, file, line in found} == {("backward.py", line_of(tmp_path / "backward.py", "# BUG"))}, errors(report)


def test_a_squared_error_cost_in_a_file_of_its_own_is_the_loss_checked(tmp_path):
    # not the cross-entropy a sigmoid output would otherwise be checked against
    report = check(two_layer_files(tmp_path))
    assert errors(report) == [], errors(report)
    assert measured(report) >= {"W1", "b1", "W2", "b2"}, report["built"]


def test_a_wrong_tanh_slope_is_found_two_layer_style(tmp_path):
    wrong = PROPAGATION.replace('(1 - cache["A1"] ** 2)', '(1 - cache["A1"])  # BUG: tanh slope')
    report = check(two_layer_files(tmp_path, propagation=wrong))
    params = {f["param"] for f in errors(report) if f["param"]}
    assert params and params <= {"W1", "b1"}, errors(report)


COURSE_UTILS = '''\
import numpy as np


def forward_propagation(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    A2 = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
    return A2, (Z1, A1, A2)


def backward_propagation(X, Y, cache, parameters):
    m = X.shape[1]
    Z1, A1, A2 = cache
    dZ2 = (A2 - Y) / m
    dZ1 = parameters["W2"].T @ dZ2 * (Z1 > 0)
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True), "dW2": dZ2 @ A1.T, "db2": dZ2.sum(axis=1, keepdims=True)}
'''

EXERCISE = '''\
import numpy as np
from course_utils import forward_propagation, backward_propagation


def initialize_parameters_zeros(layers_dims):
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters["W" + str(l)] = np.zeros((layers_dims[l], layers_dims[l - 1]))
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def initialize_parameters_he(layers_dims):
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters["W" + str(l)] = None  # write this
        parameters["b" + str(l)] = None
    return parameters


def model(X, Y, learning_rate=0.01, num_iterations=1000):
    parameters = initialize_parameters_zeros([X.shape[0], 10, 1])
    for i in range(num_iterations):
        a2, cache = forward_propagation(X, parameters)
        grads = backward_propagation(X, Y, cache, parameters)
        for key in parameters:
            parameters[key] -= learning_rate * grads["d" + key]
    return parameters
'''


def test_an_exercise_of_initialisers_beside_a_course_network_is_not_what_builds_it(tmp_path):
    # the forward reads W1..b2 by name: those keys build it, not the student's zero or unfinished initialisers
    write(tmp_path, "course_utils.py", COURSE_UTILS)
    report = check(write(tmp_path, "initialization.py", EXERCISE))
    assert errors(report) == [], errors(report)
    (built,) = [b for b in report["built"] if b["what"] == "forward_propagation/backward_propagation"]
    assert built["skipped"] is None, built
    assert measured(report) >= {"W1", "b1", "W2", "b2"}
