"""An LSTM written by hand whose forward loop keeps each step's gates as plain locals.

The forward pass computes `i`, `f`, `o`, `g` and `c` as locals of its loop over time and keeps
them in a list of tuples (`cache.append((x_t, h_prev, c_prev, i, f, o, g, tc))`); the backward
loop unpacks them again and names its gradients after them (`df`, `di`, `dg`, `da`). Each such
gradient is measured at each time step against the loss with the forward loop's local moved
right after the statement that computes it, at that step only. A gradient the backward loop
reads before it assigns it (`dh`, `dc`: carried over from the step after) is not measured at
its last assignment, which already belongs to the step before.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, step_verdicts

PROGRAM = """
import numpy as np

rng = np.random.default_rng(5)
steps, features, hidden, samples = 5, 3, 6, 24
X = rng.normal(size=(samples, steps, features))
y = X[:, :, 0].sum(axis=1, keepdims=True) * 0.3


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class SequenceRegressor:
    def __init__(self):
        self.Wx = rng.normal(scale=0.4, size=(features, 4 * hidden))
        self.Wh = rng.normal(scale=0.4, size=(hidden, 4 * hidden))
        self.b = np.zeros(4 * hidden)
        self.V = rng.normal(scale=0.4, size=(hidden, 1))

    def forward(self, X):
        h = np.zeros((X.shape[0], hidden))
        c = np.zeros((X.shape[0], hidden))
        self.cache = []
        for t in range(steps):
            a = X[:, t] @ self.Wx + h @ self.Wh + self.b
            i = sig(a[:, :hidden])
            f = sig(a[:, hidden:2 * hidden])
            o = sig(a[:, 2 * hidden:3 * hidden])
            g = np.tanh(a[:, 3 * hidden:])
            c_prev, h_prev = c, h
            c = f * c_prev + i * g
            tc = np.tanh(c)
            h = o * tc
            self.cache.append((X[:, t], h_prev, c_prev, i, f, o, g, tc))
        self.h_last = h
        return h @ self.V

    def backward(self, out, y):
        n = y.shape[0]
        grads = {"Wx": np.zeros_like(self.Wx), "Wh": np.zeros_like(self.Wh), "b": np.zeros_like(self.b)}
        dout = (out - y) / n
        grads["V"] = self.h_last.T @ dout
        dh = dout @ self.V.T
        dc = np.zeros_like(dh)
        for t in reversed(range(steps)):
            x_t, h_prev, c_prev, i, f, o, g, tc = self.cache[t]
            do = dh * tc
            dc = dc + dh * o * (1 - tc ** 2)
            di = dc * g
            df = dc * c_prev
            dg = dc * i
            da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
            grads["Wx"] += x_t.T @ da
            grads["Wh"] += h_prev.T @ da
            grads["b"] += da.sum(axis=0)
            dh = da @ self.Wh.T
            dc = dc * f
        return grads


model = SequenceRegressor()
for epoch in range(200):
    out = model.forward(X)
    loss = 0.5 * np.mean((out - y) ** 2)
    grads = model.backward(out, y)
    model.Wx -= 0.2 * grads["Wx"]
    model.Wh -= 0.2 * grads["Wh"]
    model.b -= 0.2 * grads["b"]
    model.V -= 0.2 * grads["V"]
"""

FORGET = "df = dc * c_prev"
FORGET_TIMES_ITSELF = "df = dc * f"
CARRY = "dc = dc * f"
CARRY_LEFT_OUT = "dc = dc * 1.0"
CANDIDATE = "dg = dc * i"
CANDIDATE_TIMES_GATE_OUTPUT = "dg = dc * o"


def test_the_correct_lstm_gets_no_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "lstm.py", PROGRAM, FORGET, FORGET)
    report = check(path)
    assert errors(report) == []
    assert step_verdicts(report) == {"model.Wx": "ok", "model.Wh": "ok", "model.b": "ok", "model.V": "ok"}


def test_a_wrong_forget_gate_gradient_is_named_at_its_line_and_its_last_time_step(tmp_path: Path) -> None:
    path = planted(tmp_path, "lstm.py", PROGRAM, FORGET, FORGET_TIMES_ITSELF)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "df", line_of(path, FORGET_TIMES_ITSELF))
    assert "time step 4 (the last one" in finding["message"]
    assert "the forget gate" in finding["message"]
    assert "`do` and `di` at that step are right" in finding["message"]
    assert f"the forward statement of `f` (line {line_of(path, 'f = sig(a[:, hidden:2 * hidden])')})" in finding["message"]


def test_a_wrong_candidate_gradient_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "lstm.py", PROGRAM, CANDIDATE, CANDIDATE_TIMES_GATE_OUTPUT)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["param"], finding["line"]) == ("dg", line_of(path, CANDIDATE_TIMES_GATE_OUTPUT))
    assert "the candidate cell" in finding["message"]


def test_a_cell_gradient_not_carried_through_the_forget_gate_is_named_at_the_carrying_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "lstm.py", PROGRAM, CARRY, CARRY_LEFT_OUT)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["pattern"], finding["line"]) == ("through-time", line_of(path, CARRY_LEFT_OUT))
    assert "carries the gradient from step 4 back to step 3" in finding["message"]
