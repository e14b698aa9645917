"""Momentum written as an exponential average (`v[k] = beta * v[k] + (1 - beta) * grads[k]`, then
`W -= lr * v[k]`, as in deeplearning.ai's course 2), with the cost only summed over the epoch's
minibatches for printing (`cost_total += compute_cost(A2, Yb) * Xb.shape[1]`). The first step moves by
lr·(1 − beta)·g: the replay reads the gradient through the velocity's statement, weight and all, so a
right program is clean; a step that skips the velocity is still named by the momentum check.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

PROGRAM = '''\
import numpy as np


def init(sizes, gen):
    return {f"W{i}": gen.normal(size=(sizes[i], sizes[i - 1])) * 0.5 for i in (1, 2)} | {f"b{i}": np.zeros((sizes[i], 1)) for i in (1, 2)}


def forward(X, p):
    A1 = np.tanh(p["W1"] @ X + p["b1"])
    A2 = 1 / (1 + np.exp(-(p["W2"] @ A1 + p["b2"])))
    return A1, A2


def compute_cost(A2, Y):
    return float(-np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)))


def backward(X, Y, p, A1, A2):
    m = X.shape[1]
    dZ2 = (A2 - Y) / m
    dZ1 = (p["W2"].T @ dZ2) * (1 - A1 ** 2)
    return {"dW2": dZ2 @ A1.T, "db2": dZ2.sum(axis=1, keepdims=True), "dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True)}


def update_with_momentum(parameters, grads, v, beta, lr):
    for i in (1, 2):
        v["dW" + str(i)] = beta * v["dW" + str(i)] + (1 - beta) * grads["dW" + str(i)]
        v["db" + str(i)] = beta * v["db" + str(i)] + (1 - beta) * grads["db" + str(i)]
        parameters["W" + str(i)] = parameters["W" + str(i)] - lr * v["dW" + str(i)]
        parameters["b" + str(i)] = parameters["b" + str(i)] - lr * v["db" + str(i)]
    return parameters, v


gen = np.random.default_rng(14)
X = gen.normal(size=(2, 256))
Y = (X[0:1] * X[1:2] > 0).astype(float)
parameters = init([2, 10, 1], gen)
v = {"d" + k: np.zeros_like(val) for k, val in parameters.items()}
for epoch in range(40):
    cost_total = 0.0
    for start in range(0, 256, 32):
        Xb, Yb = X[:, start:start + 32], Y[:, start:start + 32]
        A1, A2 = forward(Xb, parameters)
        cost_total += compute_cost(A2, Yb) * Xb.shape[1]
        grads = backward(Xb, Yb, parameters, A1, A2)
        parameters, v = update_with_momentum(parameters, grads, v, 0.9, 0.5)
    print(epoch, cost_total / X.shape[1])
'''


def test_a_right_exponential_average_momentum_is_clean(tmp_path):
    report = check(write(tmp_path, "ema.py", PROGRAM))
    assert replayed(report)["parameters"]
    assert errors(report) == [], errors(report)


def test_a_wrong_gradient_under_it_is_still_found(tmp_path):
    path = planted(tmp_path, "ema_bug.py", PROGRAM, "* (1 - A1 ** 2)", "* (1 - A1)")
    assert any(f["name"] == "step-gradient-mismatch" for f in errors(check(path)))
