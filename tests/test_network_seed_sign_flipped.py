"""A deep network written as functions, whose backward computes its seed (the loss's gradient with respect
to the output, `dAL`) and then calls a per-layer helper that stores each layer's gradients. With the seed's
sign flipped every gradient comes out negated, the network's check finds each one flipped at the helper's
lines, and the training step's replay finds the seed itself: the root cause is the seed's line, not the
helper's, and not a statement of the loop over the layers that negates what it hands on (which would put the
first layer right and leave every other one as wrong as before)."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

DICTS = """\
import numpy as np


def init_params(dims):
    np.random.seed(2)
    params = {}
    for l in range(1, len(dims)):
        params["W" + str(l)] = np.random.randn(dims[l], dims[l - 1]) * np.sqrt(2.0 / dims[l - 1])
        params["b" + str(l)] = np.zeros((dims[l], 1))
    return params


def dense_forward(A_prev, W, b, kind):
    Z = W @ A_prev + b
    A = np.maximum(0, Z) if kind == "relu" else 1 / (1 + np.exp(-Z))
    return A, (A_prev, W, b, Z)


def model_forward(X, params):
    caches = []
    A = X
    L = len(params) // 2
    for l in range(1, L):
        A, cache = dense_forward(A, params["W" + str(l)], params["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = dense_forward(A, params["W" + str(L)], params["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def cross_entropy(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def affine_backward(dZ, cache):
    A_prev, W, b, Z = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dA_prev, dW, db


def dense_backward(dA, cache, kind):
    Z = cache[3]
    if kind == "relu":
        dZ = dA * (Z > 0)
    else:
        s = 1 / (1 + np.exp(-Z))
        dZ = dA * s * (1 - s)
    return affine_backward(dZ, cache)


def model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dAL = -(Y / AL - (1 - Y) / (1 - AL))
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = dense_backward(dAL, caches[L - 1], "sigmoid")
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = dense_backward(grads["dA" + str(l + 1)], caches[l], "relu")
        grads["dA" + str(l)] = dA_prev
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


def update(params, grads, lr):
    for l in range(1, len(params) // 2 + 1):
        params["W" + str(l)] = params["W" + str(l)] - lr * grads["dW" + str(l)]
        params["b" + str(l)] = params["b" + str(l)] - lr * grads["db" + str(l)]
    return params


np.random.seed(0)
X = np.random.randn(3, 40)
Y = (X[0:1] + X[1:2] * X[2:3] > 0).astype(float)
params = init_params([3, 5, 4, 1])
for i in range(100):
    AL, caches = model_forward(X, params)
    cost = cross_entropy(AL, Y)
    grads = model_backward(AL, Y, caches)
    params = update(params, grads, 0.1)
    if i % 20 == 0:
        print(i, cost)
"""

SEED_DICTS = ("dAL = -(Y / AL - (1 - Y) / (1 - AL))", "dAL = (Y / AL - (1 - Y) / (1 - AL))")

TWO_LAYER = """\
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(5)
    return {"W1": np.random.randn(n_h, n_x) * 0.5, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.5, "b2": np.zeros((n_y, 1))}


def forward_propagation(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    A2 = parameters["W2"] @ A1 + parameters["b2"]
    return A2, {"A1": A1, "A2": A2}


def compute_cost(A2, Y):
    m = Y.shape[1]
    return float(np.sum((A2 - Y) ** 2) / (2 * m))


def dense_grads(dZ, A_prev, W):
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    return dW, db, W.T @ dZ


def backward_propagation(parameters, cache, X, Y):
    A1, A2 = cache["A1"], cache["A2"]
    dA2 = A2 - Y
    dW2, db2, dA1 = dense_grads(dA2, A1, parameters["W2"])
    dZ1 = dA1 * (1 - A1 ** 2)
    dW1, db1, _ = dense_grads(dZ1, X, parameters["W1"])
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


np.random.seed(1)
X = np.random.randn(3, 50)
Y = np.sin(X[0:1]) + 0.5 * X[1:2] * X[2:3]
parameters = initialize_parameters(3, 6, 1)
for i in range(150):
    A2, cache = forward_propagation(X, parameters)
    cost = compute_cost(A2, Y)
    grads = backward_propagation(parameters, cache, X, Y)
    for key in ("W1", "b1", "W2", "b2"):
        parameters[key] = parameters[key] - 0.2 * grads["d" + key]
    if i % 30 == 0:
        print(i, cost)
"""

SEED_TWO_LAYER = ("dA2 = A2 - Y", "dA2 = Y - A2")

STYLES = {"parameter-dicts": (DICTS, SEED_DICTS), "two-layer-helper": (TWO_LAYER, SEED_TWO_LAYER)}


@pytest.mark.parametrize("style", list(STYLES))
def test_the_correct_network_is_clean(tmp_path, style):
    program, _ = STYLES[style]
    assert errors(check(write(tmp_path, "net.py", program), training=True)) == []


@pytest.mark.parametrize("style", list(STYLES))
def test_a_flipped_seed_is_the_root_at_its_line(tmp_path, style):
    program, (correct, wrong) = STYLES[style]
    path = planted(tmp_path, "net.py", program, correct, wrong)
    report = check(path, training=True)
    found = errors(report)
    root = found[0]
    assert root["line"] == line_of(path, wrong), [(f["code"], f["line"], f["message"][:120]) for f in found]
    assert not any(f["line"] and f["line"] > root["line"] and f["fix"] and "-" in (f["fix"] or "") and "dA" in (f["fix"] or "") for f in found)
