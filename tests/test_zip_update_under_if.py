"""A zip update loop whose update sits under an `if` (`if g is not None: p -= lr * g`), or after a norm clip
written out in the loop (`n = np.linalg.norm(s)`, `if n > max_norm: s = s * max_norm / n`, `t -= 0.2 * s`).
The containers' names say nothing (`net`, `moves`, `model.tensors()`); the body's move says they are
parameters and gradients, so the loop around the zip is the training loop and its step is replayed. A clip
that rescales a gradient to the threshold's norm is the program's own scale for it (a clipped parameter is
right at that factor), whether the clip fires at the first step or not. A step written with `+` climbs and
is named at its line; a gradient left without its activation's derivative is named where it is formed.
The correct programs are clean."""

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
        if g is not None:
            p -= lr * g
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
max_norm = 5.0
for epoch in range(250):
    out = net.run(X)
    cost = 0.5 * np.mean((out - T) ** 2)
    moves = net.slopes(out, T)
    for t, s in zip(net.tensors(), moves):
        n = np.linalg.norm(s)
        if n > max_norm:
            s = s * max_norm / n
        t -= 0.2 * s
print(cost)
"""

TIGHT = MODEL.replace("max_norm = 5.0", "max_norm = 0.05")  # every gradient is clipped, from the first step on


def _clean(report: dict, names: set[str]) -> None:
    assert errors(report) == []
    step = replayed(report)
    assert {p["name"] for p in step["parameters"]} == names
    assert not any(p["wrong"] for p in step["parameters"])


def test_an_update_under_a_test_of_its_gradient_is_replayed_and_clean(tmp_path):
    _clean(check(write(tmp_path, "train.py", SCRIPT)), {"W1", "b1", "W2", "b2"})


def test_an_update_after_a_norm_clip_is_replayed_and_clean(tmp_path):
    _clean(check(write(tmp_path, "model.py", MODEL)), {"net.A", "net.a", "net.B", "net.c"})


def test_a_clip_that_rescales_every_gradient_is_the_programs_own_scale(tmp_path):
    report = check(write(tmp_path, "model.py", TIGHT))
    _clean(report, {"net.A", "net.a", "net.B", "net.c"})
    assert replayed(report)["clipped"] == "s = s * max_norm / n"


def test_a_step_that_adds_the_gradient_is_named_at_its_line(tmp_path):
    for name, text, correct, wrong in (
        ("train.py", SCRIPT, "p -= lr * g", "p += lr * g"),
        ("model.py", MODEL, "t -= 0.2 * s", "t += 0.2 * s"),
        ("tight.py", TIGHT, "t -= 0.2 * s", "t += 0.2 * s"),
    ):
        path = planted(tmp_path, name, text, correct, wrong)
        found = errors(check(path))
        # under the tight clip, a gradient the walk followed to where it is formed is worded apart: same line, same cause
        assert found and {f["name"] for f in found} == {"step-gradient-mismatch"}, (name, found)
        assert {f["line"] for f in found} == {line_of(path, wrong)}, name
        assert all("climbs" in f["message"] for f in found)


def test_a_missing_derivative_is_named_where_it_is_left_out(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)", "dZ1 = dZ2 @ W2.T")
    assert [f["line"] for f in errors(check(path))] == [line_of(path, "dZ1 = dZ2 @ W2.T")]
    path = planted(tmp_path, "model.py", MODEL, "eh = (e @ self.B.T) * (1 - self.H ** 2)", "eh = e @ self.B.T")
    report = check(path)
    assert sorted(f["line"] for f in errors(report)) == [line_of(path, "dA = self.X.T @ eh"), line_of(path, "da = eh.sum(axis=0)")]
    assert {p["name"] for p in replayed(report)["parameters"] if p["wrong"]} == {"net.A", "net.a"}


def test_a_clip_written_upside_down_is_named_at_its_line(tmp_path):
    # `s * n / max_norm` grows each clipped gradient past the threshold, which no clip lets out
    path = planted(tmp_path, "model.py", TIGHT, "s = s * max_norm / n", "s = s * n / max_norm")
    found = errors(check(path))
    assert found and {f["line"] for f in found} == {line_of(path, "s = s * n / max_norm")}, found
