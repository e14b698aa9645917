"""An update that adds the gradient (gradient ascent) in a program whose output error is the summed
loss's (`dZ2 = A2 - Y`, the 1/m taken in each parameter's gradient): every parameter climbs, and the
report names the update lines, not a batch-size factor on `dZ2` (which is right in that convention).

Three styles: the course's function set whose `update_parameters` moves copies of the entries
(`W1 = copy.deepcopy(parameters["W1"])`, then `W1 = W1 + learning_rate * dW1`, handed back in a new
dict: the replay must measure every entry through the copy), a plain script of globals stepped in place
in its own loop, and a rows-as-samples script whose step function moves `.copy()`s of a dict's entries.
The twins subtract and are clean.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.userfiles import check, line_of, step_verdicts, write

COURSE = '''\
import copy
import numpy as np


def make_data(m=240, seed=2):
    rng = np.random.RandomState(seed)
    angle = rng.uniform(0, 2 * np.pi, m)
    radius = np.where(np.arange(m) % 2 == 0, 1.0, 2.2) + rng.randn(m) * 0.15
    X = np.vstack([radius * np.cos(angle), radius * np.sin(angle)])
    Y = (np.arange(m) % 2).reshape(1, m).astype(float)
    return X, Y


def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(4)
    return {"W1": np.random.randn(n_h, n_x) * 0.3, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.3, "b2": np.zeros((n_y, 1))}


def forward_propagation(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = 1.0 / (1.0 + np.exp(-Z2))
    return A2, (Z1, A1, Z2, A2)


def compute_cost(A2, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    Z1, A1, Z2, A2 = cache
    dZ2 = A2 - Y
    dW2 = (1 / m) * dZ2 @ A1.T
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = (1 / m) * dZ1 @ X.T
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=0.8):
    W1 = copy.deepcopy(parameters["W1"])
    b1 = copy.deepcopy(parameters["b1"])
    W2 = copy.deepcopy(parameters["W2"])
    b2 = copy.deepcopy(parameters["b2"])
    W1 = W1 - learning_rate * grads["dW1"]
    b1 = b1 - learning_rate * grads["db1"]
    W2 = W2 - learning_rate * grads["dW2"]
    b2 = b2 - learning_rate * grads["db2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def nn_model(X, Y, n_h, num_iterations=3000):
    parameters = initialize_parameters(X.shape[0], n_h, Y.shape[0])
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
        if i % 1000 == 0:
            print("cost after iteration %i: %f" % (i, cost))
    return parameters


X, Y = make_data()
parameters = nn_model(X, Y, n_h=5)
'''
COURSE_UPDATES = [f"{p} = {p} - learning_rate * grads[\"d{p}\"]" for p in ("W1", "b1", "W2", "b2")]

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(7)
n = 300
X = rng.normal(size=(3, n))
Y = (X[0:1] * X[1:2] + 0.3 * X[2:3] > 0).astype(float)

W1 = rng.normal(size=(6, 3)) * 0.5
b1 = np.zeros((6, 1))
W2 = rng.normal(size=(1, 6)) * 0.5
b2 = np.zeros((1, 1))
alpha = 0.5
for it in range(2000):
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    J = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / n
    db2 = dZ2.sum(axis=1, keepdims=True) / n
    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / n
    db1 = dZ1.sum(axis=1, keepdims=True) / n
    W1 -= alpha * dW1
    b1 -= alpha * db1
    W2 -= alpha * dW2
    b2 -= alpha * db2
    if it % 500 == 0:
        print(it, J)
'''
SCRIPT_UPDATES = [f"{p} -= alpha * d{p}" for p in ("W1", "b1", "W2", "b2")]

ROWS = '''\
import numpy as np


def backward(net, x, t, cache):
    h, p = cache
    err = p - t                      # the summed loss's gradient; the mean's 1/N is taken below
    n = x.shape[0]
    g = {"w2": h.T @ err / n, "c2": err.sum(0) / n}
    dh = (err @ net["w2"].T) * (h > 0)
    g["w1"] = x.T @ dh / n
    g["c1"] = dh.sum(0) / n
    return g


def sgd_step(net, g, lr):
    w1 = net["w1"].copy()
    c1 = net["c1"].copy()
    w2 = net["w2"].copy()
    c2 = net["c2"].copy()
    w1 = w1 - lr * g["w1"]
    c1 = c1 - lr * g["c1"]
    w2 = w2 - lr * g["w2"]
    c2 = c2 - lr * g["c2"]
    return {"w1": w1, "c1": c1, "w2": w2, "c2": c2}


rng = np.random.default_rng(11)
x = rng.normal(size=(256, 4))
labels = (x[:, 0] + x[:, 1] ** 2 > 1).astype(int) + (x[:, 2] > 0.8).astype(int)
t = np.eye(3)[labels]
net = {"w1": rng.normal(size=(4, 24)) * 0.4, "c1": np.zeros(24),
       "w2": rng.normal(size=(24, 3)) * 0.4, "c2": np.zeros(3)}
for epoch in range(400):
    h = np.maximum(0, x @ net["w1"] + net["c1"])
    s = h @ net["w2"] + net["c2"]
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(t * np.log(p + 1e-12), axis=1))
    g = backward(net, x, t, (h, p))
    net = sgd_step(net, g, 0.3)
    if epoch % 100 == 0:
        print(epoch, loss)
'''
ROWS_UPDATES = [f"{p} = {p} - lr * g[\"{p}\"]" for p in ("w1", "c1", "w2", "c2")]

CASES = [(COURSE, COURSE_UPDATES), (SCRIPT, SCRIPT_UPDATES), (ROWS, ROWS_UPDATES)]
IDS = ["course-deepcopy", "script-in-place", "rows-copies"]


def _ascending(text: str, updates: list[str]) -> str:
    source = textwrap.dedent(text)
    for update in updates:
        assert update in source, update
        source = source.replace(update, update.replace(" -= ", " += ").replace(" - ", " + "), 1)
    return source


@pytest.mark.parametrize("text, updates", CASES, ids=IDS)
def test_every_update_adding_its_gradient_is_named_at_the_updates(tmp_path, text, updates):
    path = write(tmp_path, "train.py", _ascending(text, updates))
    report = check(path, training=True)
    lines = {line_of(path, u.replace(" -= ", " += ").replace(" - ", " + ")) for u in updates}
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] in lines, [(f["name"], f["line"], f["message"][:120]) for f in report["findings"]]
    assert "climbs" in root["message"] and "subtract" in root["message"], root["message"]
    # the output error is right in this convention: never blamed by the batch size
    assert not [f for f in report["findings"] if f.get("pattern") == "scaled-by-batch-size"]
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning") and f["line"] not in lines and f["file"] == root["file"]]


@pytest.mark.parametrize("text, updates", CASES, ids=IDS)
def test_the_descending_twin_is_clean_and_every_entry_is_measured(tmp_path, text, updates):
    path = write(tmp_path, "train.py", text)
    report = check(path, training=True)
    assert [(f["name"], f["line"]) for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    # each of the four parameters measured in the replayed step, the copied entries too
    verdicts = step_verdicts(report)
    assert len(verdicts) == 4 and set(verdicts.values()) == {"ok"}, verdicts
