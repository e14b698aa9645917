"""A program that computes no loss, whose gradients all carry one factor it holds in a module
variable the step never reads itself (`m, n = data.shape` of the whole data, read by the
`backward_prop(...)` the loop calls while it trains on a part): the factor is the program's
own scale, not a wrong gradient, so what is really wrong (a bias gradient summed over the whole
array) is still named at its line, and a program with only that scale is clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# column-major functions, the data's row count taken before the split (a Kaggle notebook's shape)
COLUMNS = """\
    import numpy as np

    np.random.seed(3)
    table = np.random.rand(260, 33)
    table[:, 0] = np.random.randint(0, 6, 260)
    m, n = table.shape
    train = table[60:].T
    labels = train[0].astype(int)
    features = train[1:n]


    def init_params():
        W1 = np.random.rand(12, 32) - 0.5
        b1 = np.random.rand(12, 1) - 0.5
        W2 = np.random.rand(6, 12) - 0.5
        b2 = np.random.rand(6, 1) - 0.5
        return W1, b1, W2, b2


    def relu(Z):
        return np.maximum(Z, 0)


    def softmax(Z):
        return np.exp(Z) / sum(np.exp(Z))


    def forward_prop(W1, b1, W2, b2, X):
        Z1 = W1.dot(X) + b1
        A1 = relu(Z1)
        Z2 = W2.dot(A1) + b2
        return Z1, A1, Z2, softmax(Z2)


    def one_hot(Y):
        Y1 = np.zeros((Y.size, 6))
        Y1[np.arange(Y.size), Y] = 1
        return Y1.T


    def backward_prop(Z1, A1, A2, W2, X, Y):
        dZ2 = A2 - one_hot(Y)
        dW2 = 1 / m * dZ2.dot(A1.T)
        db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
        dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
        dW1 = 1 / m * dZ1.dot(X.T)
        db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
        return dW1, db1, dW2, db2


    def gradient_descent(X, Y, alpha, iterations):
        W1, b1, W2, b2 = init_params()
        for i in range(iterations):
            Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
            dW1, db1, dW2, db2 = backward_prop(Z1, A1, A2, W2, X, Y)
            W1 = W1 - alpha * dW1
            b1 = b1 - alpha * db1
            W2 = W2 - alpha * dW2
            b2 = b2 - alpha * db2
            if i % 50 == 0:
                print("iteration", i, np.mean(np.argmax(A2, 0) == Y))
        return W1, b1, W2, b2


    gradient_descent(features, labels, 0.1, 300)
"""

# row-major script, a sample count `N` of the whole array, the loop over a slice of it
ROWS = """\
    import numpy as np

    rng = np.random.default_rng(5)
    X_all = rng.normal(size=(180, 4))
    y_all = (X_all[:, 0] - X_all[:, 2] > 0).astype(float).reshape(-1, 1)
    N = X_all.shape[0]
    X, y = X_all[:120], y_all[:120]


    def sigmoid(z):
        return 1 / (1 + np.exp(-z))


    def grads(W1, c1, W2, c2):
        H = np.tanh(X @ W1 + c1)
        P = sigmoid(H @ W2 + c2)
        dS = (P - y) / N
        gW2 = H.T @ dS
        gc2 = dS.sum(axis=0)
        dH = dS @ W2.T * (1 - H ** 2)
        gW1 = X.T @ dH
        gc1 = dH.sum(axis=0)
        return gW1, gc1, gW2, gc2


    W1, c1 = rng.normal(scale=0.5, size=(4, 8)), np.zeros(8)
    W2, c2 = rng.normal(scale=0.5, size=(8, 1)), np.zeros(1)
    for epoch in range(400):
        gW1, gc1, gW2, gc2 = grads(W1, c1, W2, c2)
        W1 -= 0.5 * gW1
        c1 -= 0.5 * gc1
        W2 -= 0.5 * gW2
        c2 -= 0.5 * gc2
"""

BUGS = {
    "columns": (COLUMNS, "db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)", "db1 = 1 / m * np.sum(dZ1)"),
    "rows": (ROWS, "gc1 = dH.sum(axis=0)", "gc1 = dH.sum()"),
}


@pytest.mark.parametrize("style", sorted(BUGS))
def test_a_scale_the_program_holds_is_not_a_wrong_gradient(tmp_path: Path, style: str) -> None:
    program, correct, _ = BUGS[style]
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"], report["findings"]


@pytest.mark.parametrize("style", sorted(BUGS))
def test_the_wrong_gradient_beside_that_scale_is_named_at_its_line(tmp_path: Path, style: str) -> None:
    program, correct, wrong = BUGS[style]
    path = planted(tmp_path, "train.py", program, correct, wrong)
    report = check(path)
    first = errors(report)[0]
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, wrong), first
