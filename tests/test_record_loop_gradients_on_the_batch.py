"""A training step that trains on a minibatch cut from the data set (`xb, tb = data[pick], labels[pick]`) while
the loop reports its loss over the whole data set now and then (`mse(model.predict(data).T, labels.T)`, the data
read inside the loss call's arguments), its gradients summed record by record through a function that adds into
the sums it is handed and returns them (`g_in, g_out = self._accumulate(..., g_in, g_out)`), as the Udacity
course's `NeuralNetwork` does. The replay measures the updates against the reported loss put on the step's own
batch, so a wrong hidden slope is found (it was read as a loss computed on other samples and let go), and names
the line of the function that adds the wrong term into the sum, not the line that set the sum to zeros. The
correct programs update for half the mean squared error while they print the mean itself: they stay clean."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

CLASS = """\
import numpy as np


class TwoLayerRegressor:
    def __init__(self, n_in, n_hidden, lr):
        self.w_in = np.random.normal(0.0, n_in ** -0.5, (n_in, n_hidden))
        self.w_out = np.random.normal(0.0, n_hidden ** -0.5, (n_hidden, 1))
        self.lr = lr

    def fit_batch(self, inputs, outputs):
        count = inputs.shape[0]
        g_in = np.zeros(self.w_in.shape)
        g_out = np.zeros(self.w_out.shape)
        for x, t in zip(inputs, outputs):
            out, hid = self._forward(x)
            g_in, g_out = self._accumulate(out, hid, x, t, g_in, g_out)
        self._apply(g_in, g_out, count)

    def _forward(self, x):
        hid = np.tanh(x @ self.w_in)
        return hid @ self.w_out, hid

    def _accumulate(self, out, hid, x, t, g_in, g_out):
        err = t - out
        back = self.w_out @ err
        hid_term = back * (1 - hid ** 2)
        g_in += hid_term * x[:, None]
        g_out += err * hid[:, None]
        return g_in, g_out

    def _apply(self, g_in, g_out, count):
        self.w_out += self.lr * g_out / count
        self.w_in += self.lr * g_in / count

    def predict(self, data):
        return np.tanh(data @ self.w_in) @ self.w_out


def mse(a, b):
    return np.mean((a - b) ** 2)


np.random.seed(3)
data = np.random.randn(80, 4)
labels = (np.cos(data[:, 0]) + 0.3 * data[:, 1] * data[:, 3])[:, None]
model = TwoLayerRegressor(4, 6, 0.3)
for it in range(150):
    pick = np.random.choice(data.shape[0], size=20)
    xb, tb = data[pick], labels[pick]
    model.fit_batch(xb, tb)
    if it % 25 == 0:
        print(it, mse(model.predict(data).T, labels.T))
"""

CLASS_BUG = ("hid_term = back * (1 - hid ** 2)", "hid_term = back * hid")
CLASS_ADD = "g_in += hid_term * x[:, None]"

FUNCTIONS = """\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def add_record(W1, W2, x, t, dW1, dW2):
    h = sigmoid(W1 @ x)
    y = W2 @ h
    e = y - t
    dh = (W2.T @ e) * h * (1 - h)
    dW1 += np.outer(dh, x)
    dW2 += np.outer(e, h)
    return dW1, dW2


def train_batch(W1, W2, xs, ts, lr):
    dW1 = np.zeros_like(W1)
    dW2 = np.zeros_like(W2)
    for x, t in zip(xs, ts):
        dW1, dW2 = add_record(W1, W2, x, t, dW1, dW2)
    W1 -= lr * dW1 / len(xs)
    W2 -= lr * dW2 / len(xs)


def predict(W1, W2, X):
    return (W2 @ sigmoid(W1 @ X.T)).T


rng = np.random.default_rng(8)
X_all = rng.normal(size=(100, 3))
Y_all = np.stack([np.sin(X_all[:, 0]), X_all[:, 1] * X_all[:, 2]], axis=1)
W1 = rng.normal(0.0, 0.6, (7, 3))
W2 = rng.normal(0.0, 0.4, (2, 7))
for i in range(200):
    idx = rng.choice(len(X_all), size=25, replace=False)
    xs, ts = X_all[idx], Y_all[idx]
    train_batch(W1, W2, xs, ts, 0.5)
    if i % 40 == 0:
        print(i, np.mean(np.sum((predict(W1, W2, X_all) - Y_all) ** 2, axis=1)))
"""

FUNCTIONS_BUG = ("dh = (W2.T @ e) * h * (1 - h)", "dh = (W2.T @ e) * h")
FUNCTIONS_ADD = "dW1 += np.outer(dh, x)"

STYLES = {"class-methods": (CLASS, CLASS_BUG, CLASS_ADD), "functions": (FUNCTIONS, FUNCTIONS_BUG, FUNCTIONS_ADD)}


@pytest.mark.parametrize("style", list(STYLES))
def test_the_correct_program_is_clean(tmp_path, style):
    program, _, _ = STYLES[style]
    assert errors(check(write(tmp_path, "train.py", program), training=True)) == []


@pytest.mark.parametrize("style", list(STYLES))
def test_a_wrong_hidden_slope_is_found_where_the_record_loop_adds_it(tmp_path, style):
    program, (correct, wrong), added = STYLES[style]
    path = planted(tmp_path, "train.py", program, correct, wrong)
    found = errors(check(path, training=True))
    assert found, "nothing found"
    root = found[0]
    assert root["line"] == line_of(path, added), [(f["code"], f["line"], f["message"][:200]) for f in found]
    assert line_of(path, added) == line_of(path, wrong) + 1
