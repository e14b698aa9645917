"""A mini-batch step whose gradients are divided by the batch size twice (`delta = (P - T) / bs` and then
`gW = h.T @ delta / bs`), in a program that only reports its loss once an epoch, as a mean
(`-np.mean(...)` over the data). Against a loss the program only reports the replay takes a factor every
gradient shares for the program's own scale (a summed loss against a mean gradient); but 1/B against a
loss that is a mean is no convention: the mean's gradient divided by B once more, the learning rate cut by
the batch size. The same program reporting a summed loss (`-np.sum(...)`) has 1/B as its own scale."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

PROGRAM = '''\
import numpy as np


class TwoLayerSoftmax:
    def __init__(self, n_in, n_hidden, n_out, step_size=0.5, seed=1):
        rng = np.random.default_rng(seed)
        self.Wa = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden))
        self.ba = np.zeros(n_hidden)
        self.Wb = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_out))
        self.bb = np.zeros(n_out)
        self.step_size = step_size

    def probabilities(self, X):
        act = np.tanh(X @ self.Wa + self.ba)
        s = act @ self.Wb + self.bb
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return act, e / e.sum(axis=1, keepdims=True)

    def fit(self, X, T, epochs=40, bs=25):
        rng = np.random.default_rng(3)
        for epoch in range(epochs):
            order = rng.permutation(len(X))
            for k in range(0, len(X), bs):
                pick = order[k:k + bs]
                Xb, Tb = X[pick], T[pick]
                act, P = self.probabilities(Xb)
                delta = P - Tb
                gWb = act.T @ delta / bs
                gbb = delta.sum(axis=0) / bs
                back = (delta @ self.Wb.T) * (1 - act ** 2)
                gWa = Xb.T @ back / bs
                gba = back.sum(axis=0) / bs
                self.Wb -= self.step_size * gWb
                self.bb -= self.step_size * gbb
                self.Wa -= self.step_size * gWa
                self.ba -= self.step_size * gba
            _, P_all = self.probabilities(X)
            cost = -np.mean(np.sum(T * np.log(P_all), axis=1))
            if epoch % 10 == 0:
                print("epoch", epoch, "cost", round(float(cost), 4))


gen = np.random.default_rng(0)
centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
X = np.concatenate([c + gen.normal(size=(100, 2)) for c in centres])
labels = np.repeat(np.arange(3), 100)
T = np.eye(3)[labels]
model = TwoLayerSoftmax(2, 12, 3)
model.fit(X, T)
'''

RIGHT = "                delta = P - Tb\n"
TWICE = "                delta = (P - Tb) / bs\n"


def test_a_step_divided_by_its_batch_once_against_a_reported_mean_gets_no_error(tmp_path):
    report = check(planted(tmp_path, "twice.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert step_verdicts(report) and set(step_verdicts(report).values()) == {"ok"}


def test_a_step_divided_by_its_batch_twice_against_a_reported_mean_is_an_error_at_the_second_division(tmp_path):
    path = planted(tmp_path, "twice.py", PROGRAM, RIGHT, TWICE)
    report = check(path)
    assert set(step_verdicts(report).values()) == {"mismatch"}
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["severity"], root["line"]) == ("BPD108", "error", line_of(path, "delta = (P - Tb) / bs"))
    again = [line_of(path, text) for text in ("gWb = act.T @ delta / bs", "gbb = ", "gWa = ", "gba = ")]
    assert f"lines {again[0]}, {again[1]}, {again[2]} and {again[3]} divide by `bs` again" in root["message"], root["message"]
    assert "1/25 of the gradient of your loss" in root["message"] and "divide by `bs` only once" in root["message"]


def test_a_mean_gradient_against_a_reported_sum_is_the_programs_own_scale(tmp_path):
    summed = PROGRAM.replace("cost = -np.mean(np.sum(T * np.log(P_all), axis=1))", "cost = -np.sum(T * np.log(P_all))")
    report = check(planted(tmp_path, "summed.py", summed, RIGHT, RIGHT))
    assert errors(report) == []
    assert step_verdicts(report) and set(step_verdicts(report).values()) == {"ok"}
