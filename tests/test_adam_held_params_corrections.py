"""An Adam class handed the parameters when made (to size its moments) that still takes them at each
update (`Adam(params, lr).update(params, grads)`): stepped under a constant gradient like any other, and
a moment left without its bias correction beside a corrected one named at the statement that takes
it as it is (or the step that reads it). Correct twins get no Adam finding."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, line_of, planted

DICT_STYLE = """
import numpy as np

gen = np.random.default_rng(5)
features = gen.normal(size=(150, 4))
labels = (features[:, 0] - features[:, 2] > 0).astype(float)[:, None]
weights = {"A": gen.normal(scale=0.4, size=(4, 16)), "c": np.zeros(16),
           "B": gen.normal(scale=0.4, size=(16, 1)), "d": np.zeros(1)}


class Adam:
    def __init__(self, weights, lr=0.002, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = {name: np.zeros_like(w) for name, w in weights.items()}
        self.s = {name: np.zeros_like(w) for name, w in weights.items()}
        self.count = 0

    def update(self, params, grads):
        self.count += 1
        for name in params:
            self.m[name] = self.beta1 * self.m[name] + (1 - self.beta1) * grads[name]
            self.s[name] = self.beta2 * self.s[name] + (1 - self.beta2) * np.square(grads[name])
            first = self.m[name] / (1 - self.beta1 ** self.count)
            second = self.s[name] / (1 - self.beta2 ** self.count)
            params[name] -= self.lr * first / (np.sqrt(second) + self.eps)


def loss_and_gradients(w, x, t):
    hidden = np.maximum(0.0, x @ w["A"] + w["c"])
    prob = 1.0 / (1.0 + np.exp(-(hidden @ w["B"] + w["d"])))
    cost = -np.mean(t * np.log(prob + 1e-12) + (1 - t) * np.log(1 - prob + 1e-12))
    delta = (prob - t) / len(x)
    back = (delta @ w["B"].T) * (hidden > 0)
    return cost, {"A": x.T @ back, "c": back.sum(0), "B": hidden.T @ delta, "d": delta.sum(0)}


optimizer = Adam(weights, lr=0.02)
for step in range(120):
    cost, grads = loss_and_gradients(weights, features, labels)
    optimizer.update(weights, grads)
print(cost)
"""

LIST_STYLE = """
import numpy as np


class AdamOptimizer:
    def __init__(self, params, lr=0.001, b1=0.9, b2=0.999):
        self.lr, self.b1, self.b2 = lr, b1, b2
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            self.ms[i] = self.b1 * self.ms[i] + (1 - self.b1) * g
            self.vs[i] = self.b2 * self.vs[i] + (1 - self.b2) * g * g
            mc = self.ms[i] / (1 - self.b1 ** self.t)
            vc = self.vs[i] / (1 - self.b2 ** self.t)
            p -= self.lr * mc / (np.sqrt(vc) + 1e-8)


rs = np.random.RandomState(8)
inputs = rs.randn(90, 3)
targets = inputs @ np.array([[0.5], [-1.5], [2.0]]) + 0.25
W = rs.randn(3, 1) * 0.1
b = np.zeros(1)
opt = AdamOptimizer([W, b], lr=0.05)
for epoch in range(150):
    residual = inputs @ W + b - targets
    mse = np.mean(residual ** 2)
    dW = 2 * inputs.T @ residual / len(inputs)
    db = 2 * residual.mean(axis=0)
    opt.step([W, b], [dW, db])
print(mse)
"""

DICT_CORRECT = "second = self.s[name] / (1 - self.beta2 ** self.count)"
DICT_BARE = "second = self.s[name]"
LIST_CORRECT = "mc = self.ms[i] / (1 - self.b1 ** self.t)"
LIST_BARE = "mc = self.ms[i]"
# the step reads the second moment itself: no statement takes it as it is
READ_CORRECT = "            vc = self.vs[i] / (1 - self.b2 ** self.t)\n            p -= self.lr * mc / (np.sqrt(vc) + 1e-8)"
READ_BARE = "            p -= self.lr * mc / (np.sqrt(self.vs[i]) + 1e-8)"


def adam(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD208"]


def test_correct_twins_get_no_adam_finding(tmp_path: Path) -> None:
    assert adam(check(planted(tmp_path, "dict_adam.py", DICT_STYLE, DICT_CORRECT, DICT_CORRECT))) == []
    assert adam(check(planted(tmp_path, "list_adam.py", LIST_STYLE, LIST_CORRECT, LIST_CORRECT))) == []


def test_an_uncorrected_second_moment_of_a_dict_adam_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "dict_adam.py", DICT_STYLE, DICT_CORRECT, DICT_BARE)
    (finding,) = adam(check(path))
    line = line_of(path, DICT_BARE)
    assert (finding["line"], finding["severity"], finding["pattern"]) == (line, "error", "uniform")
    assert f"line {line} sets `second` to the second moment `self.s[name]` as it is, without its bias correction" in finding["message"]
    assert "31.6 × as far at update 1" in finding["message"]
    assert finding["fix"] == "second = self.s[name] / (1 - self.beta2 ** self.count)"


def test_an_uncorrected_first_moment_of_a_list_adam_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "list_adam.py", LIST_STYLE, LIST_CORRECT, LIST_BARE)
    (finding,) = adam(check(path))
    line = line_of(path, LIST_BARE)
    assert (finding["line"], finding["pattern"]) == (line, "uniform")
    assert f"line {line} sets `mc` to the first moment `self.ms[i]` as it is" in finding["message"]
    assert finding["fix"] == "mc = self.ms[i] / (1 - self.b1 ** self.t)"


def test_a_step_that_reads_the_uncorrected_moment_itself_is_named(tmp_path: Path) -> None:
    path = planted(tmp_path, "list_adam.py", LIST_STYLE, READ_CORRECT, READ_BARE)
    (finding,) = adam(check(path))
    line = line_of(path, "np.sqrt(self.vs[i])")
    assert finding["line"] == line
    assert f"line {line} reads the second moment `self.vs[i]` without its bias correction" in finding["message"]
