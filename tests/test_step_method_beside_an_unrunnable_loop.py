"""A class whose `train(features, targets)` makes one whole step (a forward and a backward per sample,
the gradients summed, then the weights moved, in the method itself or one it calls), beside a loop that
calls it and that the tool cannot run (a method walking data frames it was never handed, or a script
loop over a table that is not there): the step of `train` is replayed (driven on a synthetic batch, or
from the program's own call of it) instead of nothing being checked. The per-sample error is read where
the method computes it, also inside the backward method it calls."""

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

LIBRARY = """
    import numpy as np


    class TinyRegressor:
        def __init__(self, n_in, n_hidden, n_out, rate):
            self.w_in = np.random.normal(0.0, n_in ** -0.5, (n_in, n_hidden))
            self.w_out = np.random.normal(0.0, n_hidden ** -0.5, (n_hidden, n_out))
            self.rate = rate
            self.squash = lambda v: 1.0 / (1.0 + np.exp(-v))

        def forward_one(self, row):
            hidden = self.squash(np.dot(row, self.w_in))
            return np.dot(hidden, self.w_out), hidden

        def backward_one(self, out, hidden, row, target, grad_in, grad_out):
            miss = target - out
            hidden_term = np.dot(miss, self.w_out.T) * hidden * (1 - hidden)
            grad_in += hidden_term * row[:, None]
            grad_out += miss * hidden[:, None]
            return grad_in, grad_out

        def apply_step(self, grad_in, grad_out, count):
            self.w_out += self.rate * grad_out / count
            self.w_in += self.rate * grad_in / count

        def train(self, features, targets):
            grad_in = np.zeros(self.w_in.shape)
            grad_out = np.zeros(self.w_out.shape)
            for row, target in zip(features, targets):
                out, hidden = self.forward_one(row)
                grad_in, grad_out = self.backward_one(out, hidden, row, target, grad_in, grad_out)
            self.apply_step(grad_in, grad_out, features.shape[0])

        def predict(self, features):
            return np.dot(self.squash(np.dot(features, self.w_in)), self.w_out)

        def fit_frames(self, rounds, frame, labels):
            history = []
            for r in range(rounds):
                picked = frame.sample(n=64)
                self.train(picked.values, labels.loc[picked.index]["count"])
                history.append(np.mean((self.predict(frame.values).T - labels["count"].values) ** 2))
            return history
"""

SCRIPT = """
    import numpy as np
    import pandas as pd

    table = pd.read_csv("rentals/daily.csv")
    inputs = table.drop(columns=["total"])
    totals = table["total"]


    class Forecaster:
        def __init__(self, widths, lr):
            self.w_a = np.random.normal(0.0, 0.3, (widths[0], widths[1]))
            self.w_b = np.random.normal(0.0, 0.3, (widths[1], widths[2]))
            self.lr = lr

        def hidden_of(self, row):
            return np.tanh(np.dot(row, self.w_a))

        def train(self, features, targets):
            grad_a = np.zeros(self.w_a.shape)
            grad_b = np.zeros(self.w_b.shape)
            for row, target in zip(features, targets):
                hidden = self.hidden_of(row)
                out = np.dot(hidden, self.w_b)
                wrong = out - target
                back = np.dot(self.w_b, wrong) * (1 - hidden ** 2)
                grad_b += wrong * hidden[:, None]
                grad_a += back * row[:, None]
            self.w_b -= self.lr * grad_b / len(features)
            self.w_a -= self.lr * grad_a / len(features)

        def run(self, features):
            return np.dot(np.tanh(np.dot(features, self.w_a)), self.w_b)


    # a quick check on numbers of its own, as the course's unit tests do
    probe = Forecaster([3, 4, 1], 0.5)
    probe.train(np.array([[0.4, -0.1, 0.3], [0.2, 0.5, -0.6]]), np.array([[0.3], [-0.2]]))

    model = Forecaster([inputs.shape[1], 10, 1], 0.1)
    for epoch in range(100):
        chosen = np.random.choice(inputs.index, size=32)
        model.train(inputs.loc[chosen].values, totals.loc[chosen].values)
        print(epoch, np.mean((model.run(inputs.values).T - totals.values) ** 2))
"""


def test_the_correct_library_class_is_driven_clean(tmp_path):
    report = check(planted(tmp_path, "regressor.py", LIBRARY, "* hidden * (1 - hidden)", "* hidden * (1 - hidden)"))
    assert errors(report) == []
    replayed(report)
    assert step_verdicts(report) == {"self.w_out": "ok", "self.w_in": "ok"}


def test_a_wrong_slope_in_the_library_class_is_found(tmp_path):
    path = planted(tmp_path, "regressor.py", LIBRARY, "* hidden * (1 - hidden)", "* (1 - hidden)")
    report = check(path)
    found = errors(report)
    assert found and found[0]["code"] == "BPD108", found
    assert step_verdicts(report) == {"self.w_out": "ok", "self.w_in": "mismatch"}
    assert found[0]["line"] in (line_of(path, "hidden_term = "), line_of(path, "grad_in += "), line_of(path, "self.w_in += "))


def test_the_correct_script_class_is_replayed_from_its_own_call(tmp_path):
    report = check(planted(tmp_path, "forecast.py", SCRIPT, "* (1 - hidden ** 2)", "* (1 - hidden ** 2)"))
    assert errors(report) == []
    assert replayed(report)["driver"] is None  # the program's own `probe.train(...)`
    assert step_verdicts(report) == {"self.w_b": "ok", "self.w_a": "ok"}


def test_a_wrong_slope_in_the_script_class_is_found(tmp_path):
    path = planted(tmp_path, "forecast.py", SCRIPT, "* (1 - hidden ** 2)", "* (1 - hidden)")
    report = check(path)
    found = errors(report)
    assert found and found[0]["code"] == "BPD108", found
    assert step_verdicts(report) == {"self.w_b": "ok", "self.w_a": "mismatch"}
    assert found[0]["line"] in (line_of(path, "back = "), line_of(path, "grad_a += "), line_of(path, "self.w_a -= "))
