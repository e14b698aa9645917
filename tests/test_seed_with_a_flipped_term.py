"""A network's seed adjoint (`dAL`, the loss's derivative every gradient starts from) with one term's sign
flipped, where the outputs sit near 0 and 1 after a first step: its central differences at two step sizes
disagree (the loss's log curves steeply there), yet both are hundreds of times from the seed and of the other
sign, so the seed is wrong, not a kink; and it is named before the factor a column-layout network check reads
off a one-entry bias the seed feeds through the per-layer helper it calls. The correct twins are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

COLUMNS = '''\
import numpy as np


def init_net(sizes, seed=1):
    r = np.random.RandomState(seed)
    params = {}
    for k in range(1, len(sizes)):
        params["W" + str(k)] = r.randn(sizes[k], sizes[k - 1]) * np.sqrt(1.0 / sizes[k - 1])
        params["b" + str(k)] = np.zeros((sizes[k], 1))
    return params


def layer_forward(A_prev, W, b, kind):
    Z = np.dot(W, A_prev) + b
    A = np.tanh(Z) if kind == "tanh" else 1 / (1 + np.exp(-Z))
    return A, ((A_prev, W, b), A)


def model_forward(X, params):
    caches = []
    A = X
    depth = len(params) // 2
    for k in range(1, depth):
        A, c = layer_forward(A, params["W" + str(k)], params["b" + str(k)], "tanh")
        caches.append(c)
    AL, c = layer_forward(A, params["W" + str(depth)], params["b" + str(depth)], "sigmoid")
    caches.append(c)
    return AL, caches


def cross_entropy(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def layer_backward(dA, cache, kind):
    (A_prev, W, b), A = cache
    m = A_prev.shape[1]
    dZ = dA * (1 - A ** 2) if kind == "tanh" else dA * A * (1 - A)
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    return np.dot(W.T, dZ), dW, db


def model_backward(AL, Y, caches):
    grads = {}
    depth = len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads["dA" + str(depth - 1)], grads["dW" + str(depth)], grads["db" + str(depth)] = layer_backward(dAL, caches[depth - 1], "sigmoid")
    for k in reversed(range(depth - 1)):
        dA_prev, dW, db = layer_backward(grads["dA" + str(k + 1)], caches[k], "tanh")
        grads["dA" + str(k)] = dA_prev
        grads["dW" + str(k + 1)] = dW
        grads["db" + str(k + 1)] = db
    return grads


def update(params, grads, rate):
    for k in range(1, len(params) // 2 + 1):
        params["W" + str(k)] -= rate * grads["dW" + str(k)]
        params["b" + str(k)] -= rate * grads["db" + str(k)]
    return params


def fit(X, Y, sizes, rate=0.5, iterations=200):
    params = init_net(sizes)
    for i in range(iterations):
        AL, caches = model_forward(X, params)
        cost = cross_entropy(AL, Y)
        grads = model_backward(AL, Y, caches)
        params = update(params, grads, rate)
        if i % 50 == 0:
            print(i, cost)
    return params


r = np.random.RandomState(0)
X = r.randn(4, 120)
Y = (X[0:1] * X[1:2] + 0.5 * X[2:3] > 0).astype(float)
trained = fit(X, Y, [4, 6, 5, 1])
'''

COLUMNS_RIGHT = "    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))\n"
COLUMNS_WRONG = "    dAL = -(np.divide(Y, AL) + np.divide(1 - Y, 1 - AL))\n"

ROWS = '''\
import numpy as np

rs = np.random.RandomState(6)
data = rs.randn(180, 4)
target = ((data[:, :1] ** 2 + data[:, 1:2] ** 2) < 1.2).astype(float)


def dense(inp, W, b, out_layer):
    z = inp @ W + b
    a = 1.0 / (1.0 + np.exp(-z)) if out_layer else np.tanh(z)
    return a, (inp, W, a)


def run_forward(inp, theta, n_layers):
    memo = []
    a = inp
    for i in range(1, n_layers):
        a, c = dense(a, theta["W%d" % i], theta["b%d" % i], False)
        memo.append(c)
    prob, c = dense(a, theta["W%d" % n_layers], theta["b%d" % n_layers], True)
    memo.append(c)
    return prob, memo


def bce(prob, t):
    return -np.mean(t * np.log(prob) + (1 - t) * np.log(1 - prob))


def dense_back(d_out, c, out_layer):
    inp, W, a = c
    n = inp.shape[0]
    dz = d_out * a * (1 - a) if out_layer else d_out * (1 - a * a)
    return dz @ W.T, inp.T @ dz / n, dz.sum(axis=0) / n


def run_backward(prob, t, memo):
    n_layers = len(memo)
    d_prob = (1 - t) / (1 - prob) - t / prob
    g = {}
    d = d_prob
    for i in range(n_layers, 0, -1):
        d, g["W%d" % i], g["b%d" % i] = dense_back(d, memo[i - 1], i == n_layers)
    return g


theta = {"W1": rs.randn(4, 6) * 0.5, "b1": np.zeros(6), "W2": rs.randn(6, 3) * 0.5, "b2": np.zeros(3), "W3": rs.randn(3, 1) * 0.5, "b3": np.zeros(1)}
eta = 0.8
for it in range(250):
    prob, memo = run_forward(data, theta, 3)
    J = bce(prob, target)
    g = run_backward(prob, target, memo)
    for name in theta:
        theta[name] -= eta * g[name]
    if it % 50 == 0:
        print(it, J)
'''

ROWS_RIGHT = "    d_prob = (1 - t) / (1 - prob) - t / prob\n"
ROWS_WRONG = "    d_prob = (1 - t) / (1 - prob) + t / prob\n"


def test_the_right_seeds_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "columns.py", COLUMNS), training=True)) == []
    assert errors(check(write(tmp_path, "rows.py", ROWS), training=True)) == []


def test_a_seed_with_a_flipped_term_is_the_root_not_a_bias_factor(tmp_path):
    path = planted(tmp_path, "columns.py", COLUMNS, COLUMNS_RIGHT, COLUMNS_WRONG)
    report = check(path, training=True)
    root = errors(report)[0]
    assert (root["name"], root["param"], root["line"]) == ("step-gradient-mismatch", "dAL", line_of(path, "dAL = -(np.divide(Y, AL) +"))
    assert "`dAL`" in report["verdict"] and "is not the gradient of your loss with respect to `AL`" in root["message"]


def test_a_seed_with_a_flipped_term_in_a_row_layout_is_named(tmp_path):
    path = planted(tmp_path, "rows.py", ROWS, ROWS_RIGHT, ROWS_WRONG)
    root = errors(check(path, training=True))[0]
    assert (root["name"], root["param"], root["line"]) == ("step-gradient-mismatch", "d_prob", line_of(path, "d_prob = (1 - t) / (1 - prob) + t / prob"))
