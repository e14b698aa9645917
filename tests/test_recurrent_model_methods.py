"""A recurrent model trained one sequence at a time through its own method (`model.sgd_step(x, y, lr)`),
whose parameters are named `U`, `V`, `W` and whose loss is a method of the model that the loop only
calls now and then (`calculate_total_loss(X, Y)` over a list of sequences): the step is measured
against that method on the one-sequence batch; a backward pass through time that is truncated on
purpose (`bptt_truncate`) is a warning that says so; a wrong derivative is an error."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

MODEL = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


class TinyRNN:
    def __init__(self, vocab, hidden=16, bptt_truncate=1000):
        self.vocab, self.hidden, self.bptt_truncate = vocab, hidden, bptt_truncate
        self.U = np.random.uniform(-0.3, 0.3, (hidden, vocab))
        self.V = np.random.uniform(-0.3, 0.3, (vocab, hidden))
        self.W = np.random.uniform(-0.3, 0.3, (hidden, hidden))

    def forward(self, x):
        s = np.zeros((len(x) + 1, self.hidden))
        o = np.zeros((len(x), self.vocab))
        for t in range(len(x)):
            s[t] = np.tanh(self.U[:, x[t]] + self.W.dot(s[t - 1]))
            o[t] = softmax(self.V.dot(s[t]))
        return o, s

    def calculate_total_loss(self, X, Y):
        total = 0.0
        for x, y in zip(X, Y):
            o, _ = self.forward(x)
            total += -np.sum(np.log(o[np.arange(len(y)), y]))
        return total

    def bptt(self, x, y):
        o, s = self.forward(x)
        dU, dV, dW = np.zeros(self.U.shape), np.zeros(self.V.shape), np.zeros(self.W.shape)
        delta_o = o.copy()
        delta_o[np.arange(len(y)), y] -= 1.0
        for t in reversed(range(len(y))):
            dV += np.outer(delta_o[t], s[t])
            delta_t = self.V.T.dot(delta_o[t]) * (1 - s[t] ** 2)
            for step in reversed(range(max(0, t - self.bptt_truncate), t + 1)):
                dW += np.outer(delta_t, s[step - 1])
                dU[:, x[step]] += delta_t
                delta_t = self.W.T.dot(delta_t) * (1 - s[step - 1] ** 2)
        return dU, dV, dW

    def sgd_step(self, x, y, learning_rate):
        dU, dV, dW = self.bptt(x, y)
        self.U -= learning_rate * dU
        self.V -= learning_rate * dV
        self.W -= learning_rate * dW


np.random.seed(10)
vocab = 12
X = [np.random.randint(0, vocab, size=np.random.randint(6, 10)) for _ in range(30)]
Y = [np.append(x[1:], 0) for x in X]
model = TinyRNN(vocab)
losses = []
for epoch in range(5):
    losses.append(model.calculate_total_loss(X, Y))
    for i in range(len(Y)):
        model.sgd_step(X[i], Y[i], 0.01)
"""


def test_the_models_own_loss_method_measures_every_parameter(tmp_path):
    report = check(write(tmp_path, "rnn.py", MODEL))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "model.calculate_total_loss"
    assert {p["name"]: p["wrong"] for p in step["parameters"]} == {"model.U": False, "model.V": False, "model.W": False}


def test_a_truncated_backward_through_time_is_a_warning_that_says_so(tmp_path):
    path = planted(tmp_path, "rnn.py", MODEL, "model = TinyRNN(vocab)", "model = TinyRNN(vocab, bptt_truncate=2)")
    report = check(path)
    assert errors(report) == []
    cut = [f for f in report["findings"] if f["pattern"] == "truncated-bptt"]
    assert cut and all(f["severity"] == "warning" and "`self.bptt_truncate` = 2 steps" in f["message"] for f in cut)


def test_a_missing_derivative_is_an_error_when_nothing_is_truncated(tmp_path):
    path = planted(tmp_path, "rnn.py", MODEL, "delta_t = self.V.T.dot(delta_o[t]) * (1 - s[t] ** 2)", "delta_t = self.V.T.dot(delta_o[t])")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and "truncated" not in " ".join(f["message"] for f in found)
