"""The activation's derivative in functions that compute a network's gradients with no layers: left out
altogether (`dh = d @ W2.T`, then `g["W1"] = X.T @ dh`, for `h = np.maximum(0, ...)`) or written wrong
(`* (1 - A1)` for `A1 = np.tanh(Z1)`). Either is named at its own line, not as "re-derive it"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

RELU = '''\
import numpy as np


def forward(params, X):
    h = np.maximum(0, X @ params["W1"] + params["b1"])
    return h, h @ params["W2"] + params["b2"]


def grads(params, X, y):
    h, out = forward(params, X)
    d = 2 * (out - y) / len(X)
    g = {"W2": h.T @ d, "b2": d.sum(0)}
    dh = (d @ params["W2"].T) * (h > 0)
    g["W1"] = X.T @ dh
    g["b1"] = dh.sum(0)
    return np.mean((out - y) ** 2), g


rng = np.random.default_rng(0)
X = rng.normal(size=(300, 5))
y = np.sin(X[:, :1]) + 0.1 * rng.normal(size=(300, 1))
X_train, X_val, y_train, y_val = X[:240], X[240:], y[:240], y[240:]
params = {"W1": rng.normal(0, 0.4, (5, 32)), "b1": np.zeros(32), "W2": rng.normal(0, 0.4, (32, 1)), "b2": np.zeros(1)}
best, patience, wait = np.inf, 20, 0
for epoch in range(500):
    train_loss, g = grads(params, X_train, y_train)
    for name in params:
        params[name] -= 0.05 * g[name]
    val_loss = np.mean((forward(params, X_val)[1] - y_val) ** 2)
    if val_loss < best - 1e-5:
        best, wait = val_loss, 0
    else:
        wait += 1
        if wait >= patience:
            print("early stop at", epoch)
            break
    if epoch % 50 == 0:
        print(epoch, train_loss, val_loss)
'''

TANH = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(2)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return parameters


def forward_propagation(X, parameters):
    W1 = parameters["W1"]; b1 = parameters["b1"]
    W2 = parameters["W2"]; b2 = parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    cost = -np.sum(logprobs) / m
    return float(np.squeeze(cost))


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    W2 = parameters["W2"]
    A1 = cache["A1"]; A2 = cache["A2"]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return grads


def update_parameters(parameters, grads, learning_rate=1.2):
    W1 = parameters["W1"] - learning_rate * grads["dW1"]
    b1 = parameters["b1"] - learning_rate * grads["db1"]
    W2 = parameters["W2"] - learning_rate * grads["dW2"]
    b2 = parameters["b2"] - learning_rate * grads["db2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def nn_model(X, Y, n_h, num_iterations=1000, print_cost=False):
    parameters = initialize_parameters(X.shape[0], n_h, Y.shape[0])
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
        if print_cost and i % 100 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
    return parameters


if __name__ == "__main__":
    rng = np.random.RandomState(1)
    X = rng.randn(2, 300)
    Y = ((X[0] * X[1]) > 0).astype(float).reshape(1, -1)
    nn_model(X, Y, n_h=4, num_iterations=1000, print_cost=True)
'''

MASKED = 'dh = (d @ params["W2"].T) * (h > 0)'
SQUARED = "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))"


def test_the_right_functions_get_no_error(tmp_path):
    assert errors(check(planted(tmp_path / "relu", "net.py", RELU, MASKED, MASKED))) == []
    assert errors(check(planted(tmp_path / "tanh", "net.py", TANH, SQUARED, SQUARED))) == []


def test_a_relu_mask_left_out_is_named_where_the_output_gradient_is_computed(tmp_path):
    wrong = 'dh = (d @ params["W2"].T)'
    path = planted(tmp_path, "net.py", RELU, MASKED, wrong)
    root = check(path)
    f = root["findings"][root["root_cause"]]
    used = line_of(path, 'g["W1"] = X.T @ dh')
    assert (f["line"], f["pattern"]) == (line_of(path, wrong), "missing-activation-derivative")
    assert f["message"].endswith(
        f"`dh` (line {line_of(path, wrong)}) is the gradient with respect to `h`, the ReLU's output, but line "
        f"{used} uses it as the gradient with respect to the ReLU's input: the ReLU's "
        "derivative is left out; multiply `dh` by `(h > 0)`"
    )


def test_a_tanh_derivative_written_as_one_minus_the_output_is_named_with_the_right_one(tmp_path):
    wrong = "dZ1 = np.dot(W2.T, dZ2) * (1 - A1)"
    path = planted(tmp_path, "net.py", TANH, SQUARED, wrong)
    report = check(path)
    assert report["findings"][report["root_cause"]]["line"] == line_of(path, wrong)  # the replayed step's walk, or this
    (f,) = {x["message"]: x for x in report["findings"] if x["code"] == "BPD101" and x["param"] == "W1"}.values()
    assert (f["line"], f["pattern"]) == (line_of(path, wrong), "wrong-activation-derivative")
    assert "multiplies by `1 - A1` as the derivative of `A1 = tanh(...)`, but the tanh's derivative is `1 - A1 ** 2`" in f["message"]


GRU = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class GRUCell:
    def __init__(self, D, H, rng):
        self.Wz = rng.normal(0, 0.2, (D + H, H))
        self.Wr = rng.normal(0, 0.2, (D + H, H))
        self.Wh = rng.normal(0, 0.2, (D + H, H))

    def forward(self, x, h_prev):
        xh = np.concatenate([x, h_prev], axis=1)
        z = sigmoid(xh @ self.Wz)
        r = sigmoid(xh @ self.Wr)
        xrh = np.concatenate([x, r * h_prev], axis=1)
        hc = np.tanh(xrh @ self.Wh)
        h = (1 - z) * h_prev + z * hc
        self.cache = (x, h_prev, xh, z, r, xrh, hc)
        return h

    def backward(self, dh):
        x, h_prev, xh, z, r, xrh, hc = self.cache
        D = x.shape[1]
        dz = dh * (hc - h_prev)
        dhc = dh * z
        dh_prev = dh * (1 - z)
        dhc_raw = dhc * (1 - hc ** 2)
        self.dWh = xrh.T @ dhc_raw
        dxrh = dhc_raw @ self.Wh.T
        dx = dxrh[:, :D]
        drh = dxrh[:, D:]
        dr = drh * h_prev
        dh_prev += drh * r
        dz_raw = dz * z * (1 - z)
        dr_raw = dr * r * (1 - r)
        self.dWz = xh.T @ dz_raw
        self.dWr = xh.T @ dr_raw
        dxh = dz_raw @ self.Wz.T + dr_raw @ self.Wr.T
        dx += dxh[:, :D]
        dh_prev += dxh[:, D:]
        return dx, dh_prev


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    cell = GRUCell(3, 5, rng)
    x = rng.normal(size=(8, 3))
    h0 = rng.normal(size=(8, 5))
    target = rng.normal(size=(8, 5)) * 0.5
    for it in range(100):
        h = cell.forward(x, h0)
        loss = 0.5 * np.sum((h - target) ** 2) / 8
        cell.backward((h - target) / 8)
        for name in ("Wz", "Wr", "Wh"):
            setattr(cell, name, getattr(cell, name) - 0.5 * getattr(cell, "d" + name))
        if it % 20 == 0:
            print(it, loss)
'''


def test_a_gate_coefficient_is_not_taken_for_a_wrong_sigmoid_derivative(tmp_path):
    """`dh_prev = dh * (1 - z)` is the GRU's update gate weighting `h_prev`, not the derivative of
    `z = sigmoid(...)`: a wrong `dz` elsewhere must not be worded as a derivative written wrong there."""
    right = "dz = dh * (hc - h_prev)"
    assert errors(check(planted(tmp_path / "right", "gru.py", GRU, right, right))) == []
    found = errors(check(planted(tmp_path / "wrong", "gru.py", GRU, right, "dz = dh * (h_prev - hc)")))
    assert found and all(f["pattern"] != "wrong-activation-derivative" for f in found)
