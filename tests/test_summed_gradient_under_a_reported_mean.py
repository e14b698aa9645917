"""A loop that only reports its loss (a mean over the data, printed now and then) while every gradient it
applies is the batch size times that mean's: the replay first takes the batch size for the program's own
scale (a summed loss is a convention). When the program's loss then rises at its own rate, the missing
division is what to change, named at the output error the gradients start from, not the learning rate;
the same gradients under a rate small enough for them stay a convention, and the correct twins are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

FUNCTIONS = '''\
import numpy as np

gen = np.random.default_rng(5)
inputs = gen.normal(size=(300, 4))
targets = inputs @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.7 + 0.1 * gen.normal(size=300)
weights = {"coef": np.zeros(4), "bias": np.zeros(1)}


def predict(weights, xs):
    pred = xs @ weights["coef"] + weights["bias"]
    return pred


def mse(pred, ys):
    return np.mean((pred - ys) ** 2)


def backprop(xs, pred, ys):
    dpred = 2.0 * (pred - ys) / xs.shape[0]
    return {"coef": xs.T @ dpred, "bias": np.array([dpred.sum()])}


alpha = 0.2
for epoch in range(20):
    shuffled = gen.permutation(300)
    for lo in range(0, 300, 25):
        rows = shuffled[lo:lo + 25]
        pred = predict(weights, inputs[rows])
        grads = backprop(inputs[rows], pred, targets[rows])
        for name in weights:
            weights[name] = weights[name] - alpha * grads[name]
    if epoch % 4 == 0:
        print(epoch, mse(predict(weights, inputs), targets))
'''

FUNCTIONS_DIVIDED = "    dpred = 2.0 * (pred - ys) / xs.shape[0]\n"
FUNCTIONS_SUMMED = "    dpred = 2.0 * (pred - ys)\n"

CLASS = '''\
import numpy as np


class Regressor:
    def __init__(self, n_in, n_hidden, seed=0):
        r = np.random.default_rng(seed)
        self.W1 = r.normal(scale=0.5, size=(n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = r.normal(scale=0.5, size=(n_hidden, 1))
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.H = np.tanh(X @ self.W1 + self.b1)
        return self.H @ self.W2 + self.b2

    def loss(self, X, Y):
        return float(((self.forward(X) - Y) ** 2).mean())

    def backward(self, out, Y):
        d_out = 2.0 * (out - Y) / out.shape[0]
        self.dW2 = self.H.T @ d_out
        self.db2 = d_out.sum(axis=0)
        d_pre = (d_out @ self.W2.T) * (1.0 - self.H ** 2)
        self.dW1 = self.X.T @ d_pre
        self.db1 = d_pre.sum(axis=0)

    def step(self, lr):
        for name in ("W1", "b1", "W2", "b2"):
            setattr(self, name, getattr(self, name) - lr * getattr(self, "d" + name))


r = np.random.default_rng(7)
X = r.uniform(-2, 2, size=(160, 3))
Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3]
net = Regressor(3, 12)
lr = 0.2
for epoch in range(40):
    for i in range(0, 160, 32):
        out = net.forward(X[i:i + 32])
        net.backward(out, Y[i:i + 32])
        net.step(lr)
    if epoch % 10 == 0:
        print(epoch, net.loss(X, Y))
'''

CLASS_DIVIDED = "        d_out = 2.0 * (out - Y) / out.shape[0]\n"
CLASS_SUMMED = "        d_out = 2.0 * (out - Y)\n"


def test_the_divided_functions_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "linreg.py", FUNCTIONS), training=True)) == []


def test_the_divided_class_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "regressor.py", CLASS), training=True)) == []


def test_a_summed_output_error_under_a_mean_is_named_not_the_rate(tmp_path):
    path = planted(tmp_path, "linreg.py", FUNCTIONS, FUNCTIONS_DIVIDED, FUNCTIONS_SUMMED)
    report = check(path, training=True)
    (finding,) = errors(report)
    assert (finding["name"], finding["line"], finding["pattern"]) == ("step-gradient-mismatch", line_of(path, "dpred = 2.0 * (pred - ys)"), "scaled-by-batch-size")
    assert "25 × the gradient of your loss (25 is the batch size)" in finding["message"]
    assert finding["message"].endswith("divide it by the batch size (25)")
    assert not any(f["name"] == "step-rate-too-high" for f in report["findings"])


def test_a_summed_output_error_in_a_method_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "regressor.py", CLASS, CLASS_DIVIDED, CLASS_SUMMED)
    report = check(path, training=True)
    (finding,) = errors(report)
    assert finding["code"].startswith("BPD1") and finding["line"] == line_of(path, "d_out = 2.0 * (out - Y)")
    assert not any(f["name"] in ("step-rate-too-high", "step-unstable") for f in report["findings"])


def test_the_summed_gradients_under_a_rate_small_enough_stay_the_programs_scale(tmp_path):
    functions = planted(tmp_path, "linreg.py", FUNCTIONS.replace("alpha = 0.2\n", "alpha = 0.004\n"), FUNCTIONS_DIVIDED, FUNCTIONS_SUMMED)
    assert errors(check(functions, training=True)) == []
    method = planted(tmp_path, "regressor.py", CLASS.replace("lr = 0.2\n", "lr = 0.005\n"), CLASS_DIVIDED, CLASS_SUMMED)
    assert errors(check(method, training=True)) == []
