"""A loop that trains on a minibatch cut inline in the call that updates (`net.train_step(data[idx],
labels[idx], lr)`, `gradients(params, data[idx], labels[idx])`) and prints a loss over all the data
(`net.loss(data, labels)`, `mse(net.forward(data), labels)`) every few epochs.

The printed loss is replayed on the step's own batch, each data set put back by the batch the step
cuts from it, also where it is read inside a call of the loss's arguments (`mse(forward(params,
data)[0], labels)`). Over all the data its gradient is not the update's: the squared error of the
batch, which every right update then follows at some scale, is not "another loss" the backward pass
starts from. A loss on samples the step never trains on, which cannot be put on the batch, is left as
the note about two functions, never an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

CLASS_PROGRAM = '''\
import numpy as np


class Net:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.W = [rng.normal(0, 1 / np.sqrt(a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(b) for b in sizes[1:]]

    def forward(self, x):
        self.hs = [x]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            x = x @ W + b
            if i < len(self.W) - 1:
                x = np.tanh(x)
            self.hs.append(x)
        return x

    def loss(self, x, y):
        return np.mean((self.forward(x) - y) ** 2)

    def train_step(self, x, y, lr):
        out = self.forward(x)
        g = 2 * (out - y) / out.size
        for i in reversed(range(len(self.W))):
            h = self.hs[i]
            dW = h.T @ g
            db = g.sum(axis=0)
            if i > 0:
                g = (g @ self.W[i].T) * (1 - h ** 2)
            self.W[i] -= lr * dW
            self.b[i] -= lr * db


def mse(pred, target):
    return np.mean((pred - target) ** 2)


rng = np.random.default_rng(1)
data = rng.normal(size=(120, 3))
mix = np.array([[1.0, 0.2, 0.1], [0.5, -1.0, 0.3], [-0.7, 0.4, 1.0]])
labels = np.sin(data @ mix)
others = rng.normal(size=(40, 3))
other_labels = np.sin(others @ mix)
net = Net([3, 10, 3])
for epoch in range(60):
    idx = rng.permutation(len(data))[:24]
    net.train_step(data[idx], labels[idx], 0.1)
    if epoch % 20 == 0:
        print(epoch, net.loss(data, labels))
'''

FUNCTION_PROGRAM = '''\
import numpy as np


def init(rng):
    return {"W1": rng.normal(0, 0.5, (3, 10)), "b1": np.zeros(10), "W2": rng.normal(0, 0.5, (10, 3)), "b2": np.zeros(3)}


def forward(params, X):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"], h


def loss(params, X, Y):
    out, _ = forward(params, X)
    return np.mean((out - Y) ** 2)


def mse(pred, target):
    return np.mean((pred - target) ** 2)


def gradients(params, X, Y):
    out, h = forward(params, X)
    d = 2 * (out - Y) / out.size
    dh = d @ params["W2"].T * (1 - h ** 2)
    return {"W2": h.T @ d, "b2": d.sum(0), "W1": X.T @ dh, "b1": dh.sum(0)}


rng = np.random.default_rng(1)
data = rng.normal(size=(120, 3))
mix = np.array([[1.0, 0.2, 0.1], [0.5, -1.0, 0.3], [-0.7, 0.4, 1.0]])
labels = np.sin(data @ mix)
others = rng.normal(size=(40, 3))
other_labels = np.sin(others @ mix)
params = init(rng)
for epoch in range(60):
    idx = rng.permutation(len(data))[:24]
    grads = gradients(params, data[idx], labels[idx])
    for k in params:
        params[k] -= 0.1 * grads[k]
    if epoch % 20 == 0:
        print(epoch, mse(forward(params, data)[0], labels))
'''

CLASS_PRINT = "print(epoch, net.loss(data, labels))"
CLASS_RIGHT = "g = 2 * (out - y) / out.size"
CLASS_ROWS = "g = 2 * (out - y) / len(y)"
FUNCTION_PRINT = "print(epoch, mse(forward(params, data)[0], labels))"
FUNCTION_RIGHT = "d = 2 * (out - Y) / out.size"


def _right(report: dict) -> None:
    assert errors(report) == []
    step = replayed(report)
    assert step["parameters"] and not any(p["wrong"] for p in step["parameters"])  # measured on the step's batch


def test_a_class_printing_its_loss_over_all_the_data_is_replayed_on_the_batch(tmp_path):
    _right(check(planted(tmp_path, "net.py", CLASS_PROGRAM, CLASS_RIGHT, CLASS_RIGHT)))


def test_a_free_loss_function_of_the_forward_over_all_the_data_is_replayed_on_the_batch(tmp_path):
    path = planted(tmp_path, "net.py", CLASS_PROGRAM, CLASS_PRINT, "print(epoch, mse(net.forward(data), labels))")
    _right(check(path))


def test_a_loss_computed_every_epoch_over_all_the_data_is_replayed_on_the_batch(tmp_path):
    path = planted(tmp_path, "net.py", CLASS_PROGRAM, f"    if epoch % 20 == 0:\n        {CLASS_PRINT}", "    cost = net.loss(data, labels)\n    print(epoch, cost)")
    _right(check(path))


def test_a_loss_on_samples_the_step_never_trains_on_is_a_note_not_an_error(tmp_path):
    # one output: the batch's squared error, at the program's scale, is the one the right updates follow
    one = CLASS_PROGRAM.replace("mix = np.array([[1.0, 0.2, 0.1], [0.5, -1.0, 0.3], [-0.7, 0.4, 1.0]])", "mix = np.array([[1.0], [0.5], [-0.7]])")
    path = planted(tmp_path, "net.py", one.replace("Net([3, 10, 3])", "Net([3, 10, 1])"), CLASS_PRINT, "print(epoch, net.loss(others, other_labels))")
    report = check(path)
    assert errors(report) == []
    assert all(f["pattern"] != "gradient-of-another-loss" for f in report["findings"])


def test_a_class_dividing_a_three_column_error_by_the_rows_alone_is_still_an_error(tmp_path):
    path = planted(tmp_path, "net.py", CLASS_PROGRAM, CLASS_RIGHT, CLASS_ROWS)
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, CLASS_ROWS)]


def test_functions_over_a_dict_printing_a_free_loss_over_all_the_data_are_replayed_on_the_batch(tmp_path):
    _right(check(planted(tmp_path, "fit.py", FUNCTION_PROGRAM, FUNCTION_RIGHT, FUNCTION_RIGHT)))


def test_functions_over_a_dict_dividing_by_the_rows_alone_are_still_an_error(tmp_path):
    wrong = "d = 2 * (out - Y) / len(Y)"
    path = planted(tmp_path, "fit.py", FUNCTION_PROGRAM, FUNCTION_RIGHT, wrong)
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, wrong)]


def test_functions_over_a_dict_missing_the_square_s_two_beside_their_own_loss_are_still_an_error(tmp_path):
    path = planted(tmp_path, "fit.py", FUNCTION_PROGRAM, FUNCTION_PRINT, "print(epoch, loss(params, data, labels))")
    wrong = "d = (out - Y) / out.size"
    path.write_text(path.read_text().replace(FUNCTION_RIGHT, wrong))
    assert errors(check(path)), "a gradient missing the square's 2 beside the loss function it pairs with must be found"


def test_functions_over_a_dict_printing_their_loss_on_samples_the_step_never_trains_on_are_a_note_not_an_error(tmp_path):
    path = planted(tmp_path, "fit.py", FUNCTION_PROGRAM, FUNCTION_PRINT, "print(epoch, loss(params, others, other_labels))")
    report = check(path)
    assert errors(report) == []
    assert [f["pattern"] for f in report["findings"] if f["code"] == "BPD108"] in ([], ["another-function"])
