"""A zip update loop that writes each step into the whole array: `for p, g in zip(net, moves): p[:] = p - lr * g`,
`for t, s in zip(model.tensors(), moves): t[...] = t - 0.2 * s`. Neither container is named for what it holds;
the body says it (one loop variable written from itself minus a rate times the other), so the loop walks
parameters, the loop around it is the training loop, and its step is replayed. The same step written with
`+` climbs the loss and is named at its line; a gradient left without its activation's derivative is named
where it is computed. The correct programs are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(2)
X = rng.standard_normal((12, 3))
Y = (X[:, :1] > 0).astype(float)
m = X.shape[0]
W1 = 0.5 * rng.standard_normal((3, 5)); b1 = np.zeros((1, 5))
W2 = 0.5 * rng.standard_normal((5, 1)); b2 = np.zeros((1, 1))
net = [W1, b1, W2, b2]
lr = 0.5
for epoch in range(300):
    Z1 = X @ W1 + b1
    H = np.tanh(Z1)
    Z2 = H @ W2 + b2
    A = 1 / (1 + np.exp(-Z2))
    loss = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ2 = (A - Y) / m
    dW2 = H.T @ dZ2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0, keepdims=True)
    moves = [dW1, db1, dW2, db2]
    for p, g in zip(net, moves):
        p[:] = p - lr * g
"""

MODEL = """\
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
        dA = self.X.T @ eh
        da = eh.sum(axis=0)
        return [dA, da, self.H.T @ e, e.sum(axis=0)]


rng = np.random.default_rng(4)
X = rng.normal(size=(40, 3))
T = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
net = TwoLayer(3, 6)
for epoch in range(250):
    out = net.run(X)
    cost = 0.5 * np.mean((out - T) ** 2)
    moves = net.slopes(out, T)
    for t, s in zip(net.tensors(), moves):
        t[...] = t - 0.2 * s
print(cost)
"""


def _clean(report: dict, names: set[str]) -> None:
    assert errors(report) == []
    step = replayed(report)
    assert {p["name"] for p in step["parameters"]} == names
    assert not any(p["wrong"] for p in step["parameters"])


def test_a_script_writing_each_step_into_the_array_is_replayed_and_clean(tmp_path):
    _clean(check(write(tmp_path, "train.py", SCRIPT)), {"W1", "b1", "W2", "b2"})


def test_the_ellipsis_form_is_the_same_update(tmp_path):
    text = SCRIPT.replace("p[:] = p - lr * g", "p[...] = p - lr * g")
    _clean(check(write(tmp_path, "train.py", text)), {"W1", "b1", "W2", "b2"})


def test_a_model_whose_tensors_are_written_in_place_is_replayed_and_clean(tmp_path):
    _clean(check(write(tmp_path, "model.py", MODEL)), {"net.A", "net.a", "net.B", "net.c"})


def test_a_step_that_adds_the_gradient_is_named_at_its_line(tmp_path):
    for name, text, correct, wrong in (
        ("train.py", SCRIPT, "p[:] = p - lr * g", "p[:] = p + lr * g"),
        ("model.py", MODEL, "t[...] = t - 0.2 * s", "t[...] = t + 0.2 * s"),
    ):
        path = planted(tmp_path, name, text, correct, wrong)
        report = check(path)
        found = errors(report)
        assert [f["name"] for f in found] == ["step-gradient-mismatch"], found
        assert found[0]["line"] == line_of(path, wrong)
        assert "climbs" in found[0]["message"]


def test_a_missing_derivative_is_named_where_it_is_left_out(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)", "dZ1 = dZ2 @ W2.T")
    assert [f["line"] for f in errors(check(path))] == [line_of(path, "dZ1 = dZ2 @ W2.T")]
    path = planted(tmp_path, "model.py", MODEL, "eh = (e @ self.B.T) * (1 - self.H ** 2)", "eh = e @ self.B.T")
    report = check(path)
    # the gradients are handed back in a list the zip walks: each wrong one is named where it is formed
    assert sorted(f["line"] for f in errors(report)) == [line_of(path, "dA = self.X.T @ eh"), line_of(path, "da = eh.sum(axis=0)")]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"net.A", "net.a"}


def test_a_zip_that_adds_a_multiple_by_another_name_is_no_update(tmp_path):
    # `t[...] = t + tau * s`: a factor that is neither a number nor named as a rate moves nothing down
    text = SCRIPT.replace("lr = 0.5", "lr = 0.5\ntau = 0.5").replace("p[:] = p - lr * g", "p[:] = p + tau * g")
    report = check(write(tmp_path, "train.py", text))
    assert errors(report) == []
    assert not report["extras"].get("replay")
