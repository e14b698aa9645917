"""A whole network's backward written as one function (the course's `backward_propagation(X, Y,
cache)`), whose gradients below one layer are all wrong: the statement they are all computed from
(`dZ2 = ...`) is the root, whether they come out all zeros, negated or merely wrong."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = """\
import numpy as np


def initialize_parameters(layer_dims):
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters['W' + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.5
        parameters['b' + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def forward_propagation(X, parameters):
    W1, b1 = parameters['W1'], parameters['b1']
    W2, b2 = parameters['W2'], parameters['b2']
    W3, b3 = parameters['W3'], parameters['b3']
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = 1 / (1 + np.exp(-Z3))
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def compute_cost(A3, Y):
    m = Y.shape[1]
    return -np.sum(Y * np.log(A3) + (1 - Y) * np.log(1 - A3)) / m


def backward_propagation(X, Y, cache):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
            "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
"""

CORRECT = "dZ2 = np.multiply(dA2, np.int64(A2 > 0))"


def test_the_correct_network_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "net_utils.py", NETWORK))) == []


@pytest.mark.parametrize(
    ("wrong", "pattern"),
    [
        ("dZ2 = np.multiply(dA2, np.int64(A2 < 0))", "not-computed"),  # the mask keeps the wrong side: all zeros
        ("dZ2 = np.multiply(dA2, A2)", "shared-upstream"),  # the activation's value for its derivative
    ],
    ids=["mask-flipped", "wrong-derivative"],
)
def test_the_statement_every_wrong_gradient_comes_from_is_the_root(tmp_path, wrong, pattern):
    path = planted(tmp_path, "net_utils.py", NETWORK, CORRECT, wrong)
    found = errors(check(path))
    (root,) = [f for f in found if not f["caused_by"]]
    assert (root["pattern"], root["line"]) == (pattern, line_of(path, wrong))
    assert {f["param"] for f in found if f is not root} <= {"W1", "b1", "W2", "b2"} and len(found) == 4
