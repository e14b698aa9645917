"""Three readings h198 widened, kept to what they mean. A parameters dict recognised by the layer keys its forward
reads (`theta["W1"]`) is paired with its backward as the course's network only when that backward takes what the
convention hands it: `backward(X, Y, theta, H, P)` of a forward that returns `H, P` takes the forward's values by
their own names, and the first of them is no output to take a cross-entropy of (no false non-finite error). A
hidden-state gradient handed on at the end of a backward pass over time (`dh = Whh.T @ da`) is the gradient of the
state stored under the step's own key when the forward stores step i's state under i + 1 (`hs[i + 1] = ...`), and is
measured there. A setting bound only to a fraction (`tau = 0.2`) is read as a rate where it steps down, but adding it
times another loop variable in a zip loop (`t[...] = t + tau * s`) is no update. Correct twins are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

# a dict called `theta`, its forward returning the hidden layer before the output, its backward taking both by name
KEYED_NAMED = """\
import numpy as np


def make(sizes, seed):
    rng = np.random.default_rng(seed)
    return {f"W{i}": rng.normal(size=(sizes[i], sizes[i - 1])) * 0.5 for i in (1, 2)} | {f"b{i}": np.zeros((sizes[i], 1)) for i in (1, 2)}


def forward(X, theta):
    H = np.tanh(theta["W1"] @ X + theta["b1"])
    P = 1 / (1 + np.exp(-(theta["W2"] @ H + theta["b2"])))
    return H, P


def log_loss(P, Y):
    return float(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))


def backward(X, Y, theta, H, P):
    m = X.shape[1]
    d2 = (P - Y) / m
    d1 = (theta["W2"].T @ d2) * (1 - H ** 2)
    return {"dW2": d2 @ H.T, "db2": d2.sum(axis=1, keepdims=True), "dW1": d1 @ X.T, "db1": d1.sum(axis=1, keepdims=True)}


rng = np.random.default_rng(3)
X = rng.normal(size=(2, 64))
Y = (X[0:1] - X[1:2] > 0).astype(float)
theta = make([2, 6, 1], 5)
for epoch in range(50):
    H, P = forward(X, theta)
    loss = log_loss(P, Y)
    g = backward(X, Y, theta, H, P)
    for k in theta:
        theta[k] -= 0.5 * g["d" + k]
print(loss)
"""

# a recurrent script whose forward stores step i's state under i + 1 and whose backward hands `dh` on at its end
RNN_SCRIPT = """\
import numpy as np

rng = np.random.default_rng(7)
H, V = 8, 4
Wxh = rng.normal(size=(H, V)) * 0.3
Whh = rng.normal(size=(H, H)) * 0.3
Why = rng.normal(size=(1, H)) * 0.3
seqs = [rng.normal(size=(5, V, 1)) for _ in range(20)]
targets = [float(s.sum() > 0) for s in seqs]


def run(xs):
    hs = {0: np.zeros((H, 1))}
    for i in range(len(xs)):
        hs[i + 1] = np.tanh(Wxh @ xs[i] + Whh @ hs[i])
    return hs


for epoch in range(10):
    for xs, y in zip(seqs, targets):
        hs = run(xs)
        p = 1 / (1 + np.exp(-(Why @ hs[len(xs)])[0, 0]))
        loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        dWhy = (p - y) * hs[len(xs)].T
        dWxh = np.zeros_like(Wxh)
        dWhh = np.zeros_like(Whh)
        dh = Why.T * (p - y)
        for t in reversed(range(len(xs))):
            da = (1 - hs[t + 1] ** 2) * dh
            dWxh += da @ xs[t].T
            dWhh += da @ hs[t].T
            dh = Whh.T @ da
        Wxh -= 0.1 * dWxh
        Whh -= 0.1 * dWhh
        Why -= 0.1 * dWhy
"""

ZIP_MODEL = """\
import numpy as np


class TwoLayer:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.normal(0, 0.5, (n_in, n_hidden))
        self.a = np.zeros(n_hidden)
        self.B = rng.normal(0, 0.5, (n_hidden, 1))
        self.c = np.zeros(1)

    def tensors(self):
        return [self.A, self.a, self.B, self.c]

    def run(self, X):
        self.X = X
        self.H = np.tanh(X @ self.A + self.a)
        return self.H @ self.B + self.c

    def slopes(self, out, T):
        e = (out - T) / len(T)
        eh = (e @ self.B.T) * (1 - self.H ** 2)
        return [self.X.T @ eh, eh.sum(axis=0), self.H.T @ e, e.sum(axis=0)]


rng = np.random.default_rng(4)
X = rng.normal(size=(40, 3))
T = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
net = TwoLayer(3, 6)
tau = 0.2
for epoch in range(100):
    out = net.run(X)
    cost = 0.5 * np.mean((out - T) ** 2)
    moves = net.slopes(out, T)
    for t, s in zip(net.tensors(), moves):
        t[...] = t - tau * s
print(cost)
"""


def test_a_keyed_dict_whose_backward_takes_the_forwards_values_by_name_is_clean(tmp_path):
    report = check(write(tmp_path, "keyed.py", KEYED_NAMED))
    assert errors(report) == [], errors(report)
    assert replayed(report)["parameters"]


def test_a_wrong_derivative_under_it_is_found_by_the_step(tmp_path):
    path = planted(tmp_path, "keyed.py", KEYED_NAMED, "* (1 - H ** 2)", "* (1 - H)")
    found = errors(check(path))
    assert [f["name"] for f in found] == ["step-gradient-mismatch"] * len(found) and found, found
    # named in the backward that computes it (the statement, or the dict it returns)
    assert {f["line"] for f in found} & {line_of(path, "d1 = (theta"), line_of(path, '"dW1": d1 @ X.T')}, found


def test_a_right_rnn_script_handing_its_hidden_gradient_on_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "rnn.py", RNN_SCRIPT))) == []


def test_a_hidden_gradient_through_the_untransposed_weights_is_named_where_it_is_handed_on(tmp_path):
    path = planted(tmp_path, "rnn.py", RNN_SCRIPT, "dh = Whh.T @ da", "dh = Whh @ da")
    found = errors(check(path))
    assert [(f["param"], f["line"]) for f in found] == [("dh", line_of(path, "dh = Whh @ da"))], found


def test_a_zip_that_adds_a_setting_times_another_loop_variable_is_no_update(tmp_path):
    # `tau = 0.2` is bound only to a fraction, a rate where it steps down; adding it is no step of a rate
    report = check(planted(tmp_path, "model.py", ZIP_MODEL, "t[...] = t - tau * s", "t[...] = t + tau * s"))
    assert errors(report) == [], errors(report)
    assert not report["extras"].get("replay")
