"""The training-step replay: programs of every shape, one planted bug each and a correct twin.

Each program is written to a temporary folder and checked by the real CLI in a
subprocess. The bug must be reported at its own line (the adjoint that goes
wrong first, or the gradient the update uses); the twin must get no error.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = """
import numpy as np

np.random.seed(3)
X = np.random.randn(48, 3)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = np.random.randn(3, 6) * 0.5
b1 = np.zeros(6)
W2 = np.random.randn(6, 1) * 0.5
b2 = np.zeros(1)
lr = 0.2
history = []
for it in range(3000):
    z1 = X @ W1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    p = 1 / (1 + np.exp(-z2))
    loss = np.mean((p - y) ** 2)
    history.append(loss)
    print("iteration", it, "loss", loss)
    dp = 2 * (p - y) / len(X)
    dz2 = dp * p * (1 - p)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    da1 = dz2 @ W2.T
    dz1 = da1 * (1 - a1 ** 2)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
"""

MAIN_BLOCK = """
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def train(X, labels, hidden=16, reg=0.05, lr=0.5, epochs=200):
    rng = np.random.default_rng(7)
    N, D = X.shape
    K = labels.max() + 1
    W1 = 0.1 * rng.standard_normal((D, hidden))
    b1 = np.zeros(hidden)
    W2 = 0.1 * rng.standard_normal((hidden, K))
    b2 = np.zeros(K)
    for epoch in range(epochs):
        batch = rng.choice(N, 32, replace=False)
        xb, yb = X[batch], labels[batch]
        h = relu(xb @ W1 + b1)
        keep = (rng.random(h.shape) > 0.2) / 0.8
        hd = h * keep
        scores = hd @ W2 + b2
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        num_train = xb.shape[0]
        data_loss = -np.log(probs[np.arange(num_train), yb]).mean()
        loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(num_train), yb] -= 1
        dscores /= num_train
        dW2 = hd.T @ dscores + reg * W2
        db2 = dscores.sum(axis=0)
        dhd = dscores @ W2.T
        dh = dhd * keep
        dh[h <= 0] = 0
        dW1 = xb.T @ dh + reg * W1
        db1 = dh.sum(axis=0)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    return W1, b1, W2, b2


if __name__ == "__main__":
    data = np.random.default_rng(0)
    X = data.standard_normal((200, 5))
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    train(X, labels)
"""

SCALARS = """
import math

def sigmoid(v):
    return 1 / (1 + math.exp(-v))

x1, x2 = 0.05, 0.10
target1, target2 = 0.01, 0.99
w1, w2, w3, w4 = 0.15, 0.20, 0.25, 0.30
w5, w6, w7, w8 = 0.40, 0.45, 0.50, 0.55
bias1, bias2 = 0.35, 0.60
eta = 0.5

for step in range(5000):
    net_h1 = w1 * x1 + w2 * x2 + bias1
    net_h2 = w3 * x1 + w4 * x2 + bias1
    out_h1 = sigmoid(net_h1)
    out_h2 = sigmoid(net_h2)
    net_o1 = w5 * out_h1 + w6 * out_h2 + bias2
    net_o2 = w7 * out_h1 + w8 * out_h2 + bias2
    out_o1 = sigmoid(net_o1)
    out_o2 = sigmoid(net_o2)
    E_total = 0.5 * (target1 - out_o1) ** 2 + 0.5 * (target2 - out_o2) ** 2
    d_out_o1 = -(target1 - out_o1)
    d_out_o2 = -(target2 - out_o2)
    d_net_o1 = d_out_o1 * out_o1 * (1 - out_o1)
    d_net_o2 = d_out_o2 * out_o2 * (1 - out_o2)
    d_out_h1 = d_net_o1 * w5 + d_net_o2 * w7
    d_out_h2 = d_net_o1 * w6 + d_net_o2 * w8
    d_net_h1 = d_out_h1 * out_h1 * (1 - out_h1)
    d_net_h2 = d_out_h2 * out_h2 * (1 - out_h2)
    w5 -= eta * d_net_o1 * out_h1
    w6 -= eta * d_net_o1 * out_h2
    w7 -= eta * d_net_o2 * out_h1
    w8 -= eta * d_net_o2 * out_h2
    w1 -= eta * d_net_h1 * x1
    w2 -= eta * d_net_h1 * x2
    w3 -= eta * d_net_h2 * x1
    w4 -= eta * d_net_h2 * x2
"""

DICTS = """
import numpy as np


def init(n_x, n_h, n_y):
    np.random.seed(1)
    return {"W1": np.random.randn(n_h, n_x) * 0.1, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.1, "b2": np.zeros((n_y, 1))}


def forward(X, params):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, (Z1, A1, Z2, A2)


def cost(A2, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def backward(params, cache, X, Y):
    m = X.shape[1]
    Z1, A1, Z2, A2 = cache
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (params["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    for key in params:
        params[key] = params[key] - learning_rate * grads["d" + key]
    return params


def model(X, Y, iterations=3000, learning_rate=1.0):
    params = init(X.shape[0], 5, 1)
    for i in range(iterations):
        A2, cache = forward(X, params)
        J = cost(A2, Y)
        grads = backward(params, cache, X, Y)
        params = update(params, grads, learning_rate)
    return params


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    X = rng.randn(2, 120)
    Y = (X[:1] ** 2 + X[1:] ** 2 < 1).astype(float)
    model(X, Y)
"""

CLASSES = """
import numpy as np


class Dense:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class Net:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {}
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.params[f"W{i}"] = rng.standard_normal((n_in, n_out)) * 0.3
            self.params[f"b{i}"] = np.zeros(n_out)
            self.layers.append(Dense(self.params[f"W{i}"], self.params[f"b{i}"]))
            self.layers.append(Sigmoid())

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return 0.5 * np.sum((y - t) ** 2) / len(x)

    def gradient(self, x, t):
        y = self.predict(x)
        dout = (y - t) / len(x)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, layer in enumerate(self.layers[::2]):
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads


rng = np.random.default_rng(1)
x_train = rng.standard_normal((100, 4))
t_train = (x_train[:, :2].sum(axis=1, keepdims=True) > 0).astype(float)
net = Net([4, 8, 1])
learning_rate = 0.5
for i in range(1000):
    mask = np.random.choice(100, 20)
    x_batch, t_batch = x_train[mask], t_train[mask]
    grads = net.gradient(x_batch, t_batch)
    for key in net.params:
        net.params[key] -= learning_rate * grads[key]
    loss = net.loss(x_batch, t_batch)
"""


def step_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]


# ------------------------------------------------------------------ correct twins: no error at all


@pytest.mark.parametrize("name, text", [("script.py", SCRIPT), ("main_block.py", MAIN_BLOCK), ("scalars.py", SCALARS), ("dicts.py", DICTS), ("classes.py", CLASSES)])
def test_a_correct_program_of_each_shape_is_replayed_and_gets_no_error(tmp_path, name, text):
    path = write(tmp_path, name, text)
    report = check(path)
    assert errors(report) == []
    assert step_findings(report) == []
    result = replayed(report)
    assert result["parameters"], result
    assert not any(p["wrong"] for p in result["parameters"])
    assert result["loss_value"] is not None


def test_the_replay_repeats_the_program_exactly_with_its_minibatch_and_dropout_draws(tmp_path):
    """MAIN_BLOCK draws a minibatch and a dropout mask inside the step: every replay draws the same."""
    path = write(tmp_path, "main_block.py", MAIN_BLOCK)
    result = replayed(check(path))
    assert result["loss_value"] is not None
    assert result["runs"] >= 2 * len(result["parameters"]) + 2
    assert {p["name"] for p in result["parameters"]} == {"W1", "b1", "W2", "b2"}


# ------------------------------------------------------------------ one planted bug per shape


def test_a_module_level_script_with_a_wrong_activation_derivative_is_blamed_at_that_adjoint(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "dz1 = da1 * (1 - a1 ** 2)", "dz1 = da1 * (1 - a1)")
    report = check(path)
    (finding,) = step_findings(report)
    assert finding["severity"] == "error"
    assert finding["line"] == line_of(path, "dz1 = da1 * (1 - a1)")
    assert finding["pattern"] == "wrong-derivative"
    assert "`da1`" in finding["message"] and "`a1`" in finding["message"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"W1", "b1"}


def test_a_gradient_never_divided_by_the_batch_size_is_named_in_a_function_loop(tmp_path):
    path = planted(tmp_path, "main_block.py", MAIN_BLOCK, "        dscores /= num_train\n", "")
    report = check(path)
    (finding,) = step_findings(report)
    assert finding["severity"] == "error"
    assert finding["line"] == line_of(path, "dscores[np.arange(num_train), yb] -= 1")
    assert finding["pattern"] == "scaled-by-batch-size"
    assert "32" in finding["message"]


def test_scalar_weights_with_a_wrong_weight_in_one_adjoint_are_blamed_at_that_line(tmp_path):
    path = planted(tmp_path, "scalars.py", SCALARS, "d_out_h2 = d_net_o1 * w6 + d_net_o2 * w8", "d_out_h2 = d_net_o1 * w6 + d_net_o2 * w7")
    report = check(path)
    (finding,) = step_findings(report)
    assert finding["line"] == line_of(path, "d_out_h2 = d_net_o1 * w6 + d_net_o2 * w7")
    assert "`d_net_o1` and `d_net_o2`" in finding["message"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"w3", "w4"}


def test_dictionary_functions_with_a_gradient_not_divided_by_m_are_reported_at_that_line(tmp_path):
    path = planted(tmp_path, "dicts.py", DICTS, "dW1 = dZ1 @ X.T / m", "dW1 = dZ1 @ X.T")
    report = check(path)
    line = line_of(path, "dW1 = dZ1 @ X.T")
    assert any(f["line"] == line for f in errors(report)), errors(report)
    (w1,) = [p for p in replayed(report)["parameters"] if p["name"] == "params['W1']"]
    assert w1["wrong"] and w1["proportional"]
    assert w1["factor"] == pytest.approx(120, rel=1e-3)
    assert not any(p["wrong"] for p in replayed(report)["parameters"] if p["name"] != "params['W1']")


def test_a_regularisation_term_in_the_loss_but_not_in_the_gradient_is_found_by_the_replay(tmp_path):
    path = planted(tmp_path, "main_block.py", MAIN_BLOCK, "dW1 = xb.T @ dh + reg * W1", "dW1 = xb.T @ dh")
    report = check(path)
    (finding,) = step_findings(report)
    assert finding["line"] == line_of(path, "dW1 = xb.T @ dh")
    assert "`W1`" in finding["message"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"W1"}


def test_a_class_based_program_whose_update_climbs_the_gradient_is_named_sign_flipped(tmp_path):
    path = planted(tmp_path, "classes.py", CLASSES, "net.params[key] -= learning_rate * grads[key]", "net.params[key] += learning_rate * grads[key]")
    report = check(path)
    findings = step_findings(report)
    assert findings, report["findings"]
    assert findings[0]["pattern"] == "sign-flipped"
    result = replayed(report)
    assert all(p["wrong"] and p["factor"] == pytest.approx(-1, rel=1e-3) for p in result["parameters"])


# ------------------------------------------------------------------ what the replay must not do


def test_the_replay_does_not_run_with_no_run_and_never_writes_the_users_file(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "dz1 = da1 * (1 - a1 ** 2)", "dz1 = da1 * (1 - a1)")
    before = path.read_bytes()
    report = check(path, "--no-run")
    assert "replay" not in report["extras"]
    assert step_findings(report) == []
    check(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]


RNN = """
import numpy as np

text = "abcde fghij abcde fghij klmno " * 10
symbols = sorted(set(text))
V, H, T = len(symbols), 10, 8
index = {c: i for i, c in enumerate(symbols)}
gen = np.random.default_rng(4)
Wxh = gen.standard_normal((H, V)) * 0.1
Whh = gen.standard_normal((H, H)) * 0.1
Why = gen.standard_normal((V, H)) * 0.1
bh = np.zeros((H, 1))
by = np.zeros((V, 1))


def step_loss(inputs, targets, hprev):
    xs, hs, ps = {}, {-1: hprev}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.sum(np.exp(y - y.max()))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


memory = [np.zeros_like(p) for p in (Wxh, Whh, Why, bh, by)]
smooth_loss = -np.log(1.0 / V) * T
n, p = 0, 0
learning_rate = 0.1
while n < 3000:
    if p + T + 1 >= len(text) or n == 0:
        hprev = np.zeros((H, 1))
        p = 0
    inputs = [index[c] for c in text[p:p + T]]
    targets = [index[c] for c in text[p + 1:p + T + 1]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = step_loss(inputs, targets, hprev)
    smooth_loss = smooth_loss * 0.999 + loss * 0.001
    for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], memory):
        mem += dparam * dparam
        param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
    p += T
    n += 1
"""


def test_a_recurrent_script_with_adagrad_is_replayed_through_time_and_gets_no_error(tmp_path):
    path = write(tmp_path, "rnn.py", RNN)
    report = check(path)
    assert errors(report) == []
    result = replayed(report)
    assert result["loss"] == "loss"  # not the smoothed loss made of it
    assert {p["name"] for p in result["parameters"]} == {"Wxh", "Whh", "Why", "bh", "by"}
    assert not any(p["wrong"] for p in result["parameters"])


def test_a_script_shows_its_own_loss_curve_replayed_from_its_first_step(tmp_path):
    path = write(tmp_path, "script.py", SCRIPT)
    report = check(path, training=True)
    curve = report["training"]["yours"]
    assert len(curve) >= 10
    assert curve[0] == pytest.approx(replayed(report)["loss_value"])  # the first pass is the step replayed
    assert curve[-1] < curve[0]  # a correct program's own update lowers its loss


def test_a_script_climbing_its_gradient_is_shown_beside_the_same_loop_with_correct_gradients(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "W1 -= lr * dW1", "W1 += lr * dW1")
    report = check(path, training=True)
    training = report["training"]
    assert training["reference_label"] == "with correct gradients"
    yours, corrected = training["yours"], training["reference"]
    assert yours[0] == pytest.approx(corrected[0])  # both start from the program's own state
    assert yours[-1] > yours[0] and corrected[-1] < corrected[0]  # W1 climbs in the program, descends when right


BARE = """
import numpy as np

np.random.seed(5)
inputs = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 1, 0], [1, 0, 0]])
outputs = np.array([[0, 1, 1, 0, 1, 1]]).T
w0 = 2 * np.random.random((3, 5)) - 1
w1 = 2 * np.random.random((5, 1)) - 1
for epoch in range(20000):
    hidden = 1 / (1 + np.exp(-np.dot(inputs, w0)))
    guess = 1 / (1 + np.exp(-np.dot(hidden, w1)))
    miss = outputs - guess
    guess_delta = miss * guess * (1 - guess)
    hidden_delta = guess_delta.dot(w1.T) * hidden * (1 - hidden)
    w1 += hidden.T.dot(guess_delta)
    w0 += inputs.T.dot(hidden_delta)
    if epoch % 5000 == 0:
        print("mean abs miss", np.mean(np.abs(miss)))
"""


def test_a_script_with_no_loss_and_no_learning_rate_is_checked_against_the_loss_its_error_implies(tmp_path):
    path = write(tmp_path, "bare.py", BARE)
    report = check(path)
    assert errors(report) == []
    result = replayed(report)
    assert result["loss"] == "0.5·Σ(guess − outputs)²"
    assert {p["name"] for p in result["parameters"]} == {"w0", "w1"}
    assert not any(p["wrong"] for p in result["parameters"])


def test_a_missing_activation_derivative_in_a_script_with_no_loss_is_reported_at_its_line(tmp_path):
    path = planted(tmp_path, "bare.py", BARE, "hidden_delta = guess_delta.dot(w1.T) * hidden * (1 - hidden)", "hidden_delta = guess_delta.dot(w1.T)")
    report = check(path)
    (finding,) = step_findings(report)
    assert finding["line"] == line_of(path, "hidden_delta = guess_delta.dot(w1.T)")
    assert "`w0`" in finding["message"] and "squared error" in finding["message"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"w0"}


def test_a_gradient_that_accumulates_across_steps_is_found_at_the_second_step(tmp_path):
    """Right at the first step, twice too large at the second: the replay takes the second."""
    text = textwrap.dedent(CLASSES)
    text = text.replace("        self.dW = self.x.T @ dout\n", "        self.dW = getattr(self, 'dW', 0) + self.x.T @ dout\n")
    path = write(tmp_path, "classes.py", text)
    report = check(path)
    assert report["extras"]["replay"][0]["not_replayed"] is None
    assert any(f["severity"] == "error" for f in report["findings"]), report["findings"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"net.params['W0']", "net.params['W1']"}


def test_the_programs_own_training_is_shown_beside_the_probe_and_decides_the_verdict(tmp_path):
    """A rebinding update: the probe's in-place SGD learns, the program itself never does."""
    path = planted(tmp_path, "classes.py", CLASSES, "net.params[key] -= learning_rate * grads[key]", "net.params[key] = net.params[key] - learning_rate * grads[key]")
    report = check(path, training=True)
    own = report["training"].get("program") or report["training"]["yours"]
    assert len(own) >= 20
    first, last = sum(own[:10]) / 10, sum(own[-10:]) / 10
    assert abs(last - first) <= 0.15 * first  # its layers keep the old arrays: the loss stays where it was
    assert {p["unused"] for p in replayed(report)["parameters"]} == {True}  # at the second step, `params` is not what the layers use
    assert "does not fall" in report["verdict"] or "rises" in report["verdict"]
    assert "falls" not in report["verdict"].replace("does not fall", "")


REGRESSION = """
import numpy as np

gen = np.random.default_rng(2)
features = gen.standard_normal((64, 3))
targets = features @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * gen.standard_normal((64, 1))
W = gen.standard_normal((3, 1))
b = np.zeros(1)
step_size = 0.15
for step in range(500):
    pred = features @ W + b
    loss = np.mean((pred - targets) ** 2)
    dpred = 2 * (pred - targets) / len(features)
    dW = features.T @ dpred
    db = dpred.sum(axis=0)
    W -= step_size * dW
    b -= step_size * db
"""


def test_a_script_whose_gradients_are_right_but_whose_rate_is_too_high_is_told_the_rate(tmp_path):
    path = planted(tmp_path, "regression.py", REGRESSION, "step_size = 0.15", "step_size = 1.5")
    report = check(path, training=True)
    (finding,) = [f for f in report["findings"] if f["name"] == "step-rate-too-high"]
    assert finding["severity"] == "error"
    assert finding["line"] == line_of(path, "step_size = 1.5")
    assert finding["fix"] == "step_size = 0.15"
    assert step_findings(report) == []  # every gradient is right
    assert report["verdict"].startswith("✗") and "rises" in report["verdict"]


def test_a_script_whose_gradients_are_right_but_whose_rate_is_far_too_small_is_told_a_larger_one(tmp_path):
    path = planted(tmp_path, "regression.py", REGRESSION, "step_size = 0.15", "step_size = 0.000015")
    report = check(path, training=True)
    (finding,) = [f for f in report["findings"] if f["name"] == "step-rate-too-low"]
    assert finding["severity"] == "warning" and finding["code"] == "BPD609"
    assert finding["line"] == line_of(path, "step_size = 0.000015")
    assert finding["fix"] in ("step_size = 0.00015", "step_size = 0.0015")
    assert errors(report) == []


def test_the_same_script_at_a_good_rate_gets_no_rate_finding(tmp_path):
    path = write(tmp_path, "regression.py", REGRESSION)
    report = check(path, training=True)
    assert errors(report) == []
    assert not any(f["name"].startswith("step-rate") for f in report["findings"])
    curve = report["training"]["yours"]
    assert curve[-1] < curve[0]


def _lstm_program() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import bench_replay
    finally:
        sys.path.pop(0)
    return bench_replay.LSTM.replace("while n < 100000:", "while n < 50:")


def test_a_hand_written_lstm_over_a_sequence_is_replayed_and_gets_no_error(tmp_path):
    path = write(tmp_path, "lstm.py", _lstm_program())
    report = check(path)
    assert errors(report) == []
    result = replayed(report)
    assert len(result["parameters"]) == 10 and not any(p["wrong"] for p in result["parameters"])
