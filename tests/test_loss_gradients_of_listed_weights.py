"""One function that runs a network's forward and backward pass over weights handed in a list
(`[W1, b1, W2, b2] = params`) and returns the gradients as a list beside the loss
(`return grads, loss`), called only by the file's training function, which takes no argument and
is never run: checked on the arguments of the first call that training function makes, the run
stopped there; a wrong gradient is found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: the gradients returned in a list bound to a name, an optimiser over the batch in between
BATCHED = '''\
import numpy as np


def network(x, label, params, slope):
    [W1, W2, b1, b2] = params
    z = W1.dot(x) + b1
    h = np.where(z > 0, z, slope * z)
    out = W2.dot(h) + b2
    e = np.exp(out - out.max())
    probs = e / e.sum()
    loss = -np.sum(label * np.log(probs))
    dout = probs - label
    dW2 = dout.dot(h.T)
    db2 = dout
    dh = W2.T.dot(dout)
    dz = dh * np.where(z > 0, 1.0, slope)
    dW1 = dz.dot(x.T)
    db1 = dz
    grads = [dW1, dW2, db1, db2]
    return grads, loss


def sgd_batch(batch_x, batch_y, params, lr):
    total = [np.zeros_like(p) for p in params]
    cost = 0.0
    for x, y in zip(batch_x, batch_y):
        grads, loss = network(x.reshape(-1, 1), y.reshape(-1, 1), params, 0.1)
        total = [t + g for t, g in zip(total, grads)]
        cost += loss
    params = [p - lr * t / len(batch_x) for p, t in zip(params, total)]
    return params, cost / len(batch_x)


def train(epochs=3, batch=8, lr=0.1):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6))
    Y = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)]
    params = [rng.normal(size=(10, 6)) * 0.3, rng.normal(size=(3, 10)) * 0.3, np.zeros((10, 1)), np.zeros((3, 1))]
    for epoch in range(epochs):
        for k in range(0, len(X), batch):
            params, cost = sgd_batch(X[k:k + batch], Y[k:k + batch], params, lr)
    return params
'''

# style 2: rows of samples, the gradients returned as a tuple written in the return, the loss first
ROWS = '''\
import numpy as np


def forward_backward(X, T, weights):
    W1, b1, W2, b2 = weights
    n = X.shape[0]
    A = np.tanh(X @ W1 + b1)
    Y = A @ W2 + b2
    loss = 0.5 * np.sum((Y - T) ** 2) / n
    dY = (Y - T) / n
    dW2 = A.T @ dY
    db2 = dY.sum(axis=0)
    dA = dY @ W2.T
    dZ = dA * (1 - A ** 2)
    dW1 = X.T @ dZ
    db1 = dZ.sum(axis=0)
    return loss, (dW1, db1, dW2, db2)


def main():
    rng = np.random.RandomState(1)
    X = rng.randn(50, 4)
    T = np.sin(X[:, :2])
    weights = [0.5 * rng.randn(4, 7), np.zeros(7), 0.5 * rng.randn(7, 2), np.zeros(2)]
    for step in range(100):
        loss, grads = forward_backward(X, T, weights)
        weights = [w - 0.05 * g for w, g in zip(weights, grads)]
    print(loss)
'''


def _verdicts(report: dict) -> dict[tuple[str, str], str]:
    return {(m["layer"], m["param"]): m["verdict"] for m in report["measurements"]}


def _built(report: dict) -> dict[str, dict]:
    return {b["what"]: b for b in report["built"]}


def test_weights_in_a_list_are_checked_on_the_training_functions_first_call(tmp_path):
    path = write(tmp_path, "cnn_like.py", BATCHED)
    report = check(path)
    assert errors(report) == [], errors(report)
    assert _verdicts(report) == {("network", p): "ok" for p in ("W1", "W2", "b1", "b2")}
    assert f"as `train()` first calls it (line {line_of(path, 'grads, loss = network(')})" in _built(report)["network"]["shapes"]


def test_a_wrong_gradient_of_a_listed_weight_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "cnn_like.py", BATCHED, "dW2 = dout.dot(h.T)", "dW2 = dout.dot(z.T)")
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found == [("network", line_of(path, "dW2 = dout.dot(z.T)"))], found


def test_weights_in_a_list_returned_as_a_tuple_are_checked(tmp_path):
    report = check(write(tmp_path, "rows.py", ROWS))
    assert errors(report) == [], errors(report)
    assert _verdicts(report) == {("forward_backward", p): "ok" for p in ("W1", "b1", "W2", "b2")}


def test_a_wrong_gradient_returned_in_a_tuple_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "rows.py", ROWS, "db1 = dZ.sum(axis=0)", "db1 = dA.sum(axis=0)")
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found == [("forward_backward", line_of(path, "db1 = dA.sum(axis=0)"))], found
