"""A deep network written as functions whose per-layer backward negates the gradient it hands to the
layer before (`dA_prev = -W.T.dot(dZ)`): every other layer's gradients come out with their signs
flipped, two negations cancelling. The finding names that statement, not the flipped gradients."""

from __future__ import annotations


import pytest

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """\
import numpy as np


def initialize_parameters_deep(layer_dims):
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters['W' + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.1
        parameters['b' + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A_prev = A
        Z = parameters['W' + str(l)].dot(A_prev) + parameters['b' + str(l)]
        A = np.maximum(0, Z)
        caches.append((A_prev, parameters['W' + str(l)], Z))
    ZL = parameters['W' + str(L)].dot(A) + parameters['b' + str(L)]
    AL = 1 / (1 + np.exp(-ZL))
    caches.append((A, parameters['W' + str(L)], ZL))
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    return -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m


def backward_step(dZ, cache):
    A_prev, W, Z = cache
    m = A_prev.shape[1]
    dW = dZ.dot(A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T.dot(dZ)
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dZ = AL - Y
    dA_prev, grads['dW' + str(L)], grads['db' + str(L)] = backward_step(dZ, caches[L - 1])
    for l in reversed(range(L - 1)):
        A_prev, W, Z = caches[l]
        dZ = dA_prev * (Z > 0)
        dA_prev, grads['dW' + str(l + 1)], grads['db' + str(l + 1)] = backward_step(dZ, caches[l])
    return grads


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        parameters['W' + str(l + 1)] -= learning_rate * grads['dW' + str(l + 1)]
        parameters['b' + str(l + 1)] -= learning_rate * grads['db' + str(l + 1)]
    return parameters


if __name__ == '__main__':
    np.random.seed(1)
    X = np.random.randn(4, 50)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    parameters = initialize_parameters_deep(LAYERS)
    for i in range(200):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, 0.1)
        if i % 50 == 0:
            print(cost)
"""


@pytest.mark.parametrize("layers", ["[4, 6, 5, 1]", "[4, 6, 5, 3, 1]"], ids=["three-layers", "four-layers"])
def test_a_correct_deep_network_has_no_error(tmp_path, layers):
    assert errors(check(write(tmp_path, "deep.py", PROGRAM.replace("LAYERS", layers)))) == []


@pytest.mark.parametrize("layers", ["[4, 6, 5, 1]", "[4, 6, 5, 3, 1]"], ids=["three-layers", "four-layers"])
def test_a_negated_passed_back_gradient_is_the_root_at_its_line(tmp_path, layers):
    path = planted(tmp_path, "deep.py", PROGRAM.replace("LAYERS", layers), "dA_prev = W.T.dot(dZ)", "dA_prev = -W.T.dot(dZ)")
    report = check(path)
    found = errors(report)
    (root,) = [f for f in found if not f["caused_by"]]
    assert (root["pattern"], root["param"], root["line"]) == ("passed-back-negated", "dA_prev", line_of(path, "dA_prev = -W.T.dot(dZ)"))
    # in the network the check built, the mismatches are every other layer's, counted from the output
    rows = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == root["layer"]}
    depth = {p: int(p[1:]) for p in rows}
    top = max(depth.values())
    assert top >= 3 and all((rows[p] == "mismatch") == ((top - d) % 2 == 1) for p, d in depth.items())
    assert all(f["caused_by"] == f"BPD101:{root['layer']}:dA_prev:{root['line']}" for f in found if f is not root)


def test_a_sign_flipped_in_one_layers_gradient_is_not_taken_for_it(tmp_path):
    program = PROGRAM.replace("LAYERS", "[4, 6, 5, 1]")
    path = planted(tmp_path, "deep.py", program, "dZ = AL - Y", "dZ = Y - AL")
    assert all(f["pattern"] != "passed-back-negated" for f in errors(check(path)))
