"""A program that stops before its training runs (its data file is not here) has its training
function driven on a synthetic batch, after the file's definitions alone.

The batch's layout is not written anywhere: samples in rows or in columns, labels, one-hot or 0/1
targets. A layout the code does not expect can still run, with the targets broadcast against the
output, and then gives gradients of another loss; so a wrong gradient is told only when no layout
that runs has the updates follow the gradient."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PROGRAM = '''\
import numpy as np

X_train = np.loadtxt(r"C:\\\\Users\\\\student\\\\Desktop\\\\train_x.csv", delimiter=",").T
Y_train = np.loadtxt(r"C:\\\\Users\\\\student\\\\Desktop\\\\train_label.csv", delimiter=",").T


def initialize(n_x, n_h, n_y):
    return {"w1": np.random.randn(n_h, n_x) * 0.1, "b1": np.zeros((n_h, 1)),
            "w2": np.random.randn(n_y, n_h) * 0.1, "b2": np.zeros((n_y, 1))}


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def forward(x, params):
    z1 = params["w1"] @ x + params["b1"]
    a1 = np.tanh(z1)
    z2 = params["w2"] @ a1 + params["b2"]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": softmax(z2)}


def cost_function(a2, y):
    m = y.shape[1]
    return -np.sum(y * np.log(a2)) / m


def backward(x, y, params, f):
    m = x.shape[1]
    dz2 = f["a2"] - y
    dz1 = (params["w2"].T @ dz2) * (1 - f["a1"] ** 2)
    return {"dw2": dz2 @ f["a1"].T / m, "db2": dz2.sum(axis=1, keepdims=True) / m,
            "dw1": dz1 @ x.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def train(x, y, n_h, learning_rate, iterations):
    params = initialize(x.shape[0], n_h, y.shape[0])
    for i in range(iterations):
        f = forward(x, params)
        cost = cost_function(f["a2"], y)
        grads = backward(x, y, params, f)
        for k in ("w1", "b1", "w2", "b2"):
            params[k] = params[k] - learning_rate * grads["d" + k]
    return params


parameters = train(X_train, Y_train, 100, 0.01, 50)
'''


def test_a_correct_training_function_is_driven_in_the_layout_it_expects_and_clean(tmp_path):
    path = write(tmp_path, "ann.py", PROGRAM)
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert {p["name"] for p in step["parameters"]} == {"params['w1']", "params['b1']", "params['w2']", "params['b2']"}
    assert "one-hot Y (3, 32)" in step["driver"] and "X (12, 32)" in step["driver"]
    (built,) = [b for b in report["built"] if b["what"].startswith("training step")]
    assert f"your program stopped at line {line_of(path, 'X_train = np.loadtxt')}, before its training ran" in built["how"]


def test_a_hidden_gradient_without_the_tanh_derivative_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "ann.py", PROGRAM, 'dz1 = (params["w2"].T @ dz2) * (1 - f["a1"] ** 2)', 'dz1 = params["w2"].T @ dz2')
    found = errors(check(path))
    assert {f["line"] for f in found} == {line_of(path, 'dz1 = params["w2"].T @ dz2')}
