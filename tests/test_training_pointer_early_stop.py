"""Two training-procedure bugs whose gradients are all right: a mini-batch pointer that never moves (moved with
`//` where a wrap-around `%` was meant, so every step trains on the same first rows of a much larger data set),
and early stopping whose improvement test is the wrong way round against a best that starts at an infinity
(`val > best` with `best = np.inf`: no pass ever improves, and the loop stops after `patience` passes). Each
is named at its line, in a script and in a class; the correct twins and the usual loops (shuffled batches,
a full batch, a batch repeated for some steps on purpose, early stopping the right way round) are clean."""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

POINTER_SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(0)
N = 96
X = rng.normal(size=(N, 3))
Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.normal(size=(N, 1))
W = 0.1 * rng.normal(size=(3, 1))
b = np.zeros(1)
bs = 8
ptr = 0
for it in range(25):
    xb, yb = X[ptr:ptr + bs], Y[ptr:ptr + bs]
    err = xb @ W + b - yb
    loss = np.mean(err ** 2)
    dW = 2 * xb.T @ err / len(xb)
    db = 2 * err.mean(axis=0)
    W -= 0.1 * dW
    b -= 0.1 * db
    ptr = (ptr + bs) % N
print("loss", np.mean((X @ W + b - Y) ** 2))
'''

POINTER_CLASS = '''\
import numpy as np


class Regressor:
    def __init__(self, d, seed=1):
        rng = np.random.default_rng(seed)
        self.W1 = 0.5 * rng.normal(size=(d, 8))
        self.b1 = np.zeros(8)
        self.w2 = 0.5 * rng.normal(size=8)

    def loss_and_grads(self, x, y):
        h = np.tanh(x @ self.W1 + self.b1)
        out = h @ self.w2
        e = out - y
        loss = 0.5 * np.mean(e ** 2)
        d = e / len(y)
        dh = np.outer(d, self.w2) * (1 - h ** 2)
        return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "w2": h.T @ d}


class Trainer:
    def __init__(self, model, X, y, batch=10, lr=0.2):
        self.model, self.X, self.y = model, X, y
        self.batch, self.lr = batch, lr
        self.pos = 0

    def fit(self, steps):
        for step in range(steps):
            xb = self.X[self.pos:self.pos + self.batch]
            yb = self.y[self.pos:self.pos + self.batch]
            loss, grads = self.model.loss_and_grads(xb, yb)
            for name, g in grads.items():
                setattr(self.model, name, getattr(self.model, name) - self.lr * g)
            self.pos = (self.pos + self.batch) % len(self.X)
        return loss


if __name__ == "__main__":
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, size=(120, 2))
    y = np.sin(X[:, 0]) * X[:, 1]
    print(Trainer(Regressor(2), X, y).fit(30))
'''

SHUFFLED_EPOCHS = '''\
import numpy as np

rng = np.random.default_rng(5)
N = 64
X = rng.normal(size=(N, 2))
Y = np.tanh(X @ np.array([[1.5], [-1.0]]))
W = np.zeros((2, 1))
bs = 8
step = 0
for epoch in range(6):
    order = rng.permutation(N)
    for start in range(0, N, bs):
        idx = order[start:start + bs]
        xb, yb = X[idx], Y[idx]
        err = xb @ W - yb
        loss = np.mean(err ** 2)
        W -= 0.2 * 2 * xb.T @ err / bs
        step += 1
print(loss)
'''

FULL_BATCH_POINTER = '''\
import numpy as np

rng = np.random.default_rng(6)
N = 50
X = rng.normal(size=(N, 3))
Y = X @ np.array([[0.5], [1.0], [-1.0]])
W = np.zeros((3, 1))
bs = N
ptr = 0
for it in range(30):
    xb, yb = X[ptr:ptr + bs], Y[ptr:ptr + bs]
    err = xb @ W - yb
    loss = np.mean(err ** 2)
    W -= 0.1 * 2 * xb.T @ err / len(xb)
    ptr = (ptr + bs) % N
print(loss)
'''

REPEATED_BATCHES = '''\
import numpy as np

rng = np.random.default_rng(7)
N = 80
X = rng.normal(size=(N, 2))
Y = X @ np.array([[2.0], [-1.0]])
W = np.zeros((2, 1))
bs = 16
for it in range(100):
    start = ((it // 20) * bs) % N
    xb, yb = X[start:start + bs], Y[start:start + bs]
    err = xb @ W - yb
    loss = np.mean(err ** 2)
    W -= 0.05 * 2 * xb.T @ err / bs
print(loss)
'''

STOP_SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(80, 2))
y = (X[:, 0] + X[:, 1] > 0).astype(float)
Xv = rng.normal(size=(40, 2))
yv = (Xv[:, 0] + Xv[:, 1] > 0).astype(float)
w = np.zeros(2)
b = 0.0


def bce(w, b, X, y):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9)), p


best = float("inf")
wait = 0
for epoch in range(60):
    loss, p = bce(w, b, X, y)
    w -= 0.5 * X.T @ (p - y) / len(y)
    b -= 0.5 * np.mean(p - y)
    val, _ = bce(w, b, Xv, yv)
    if val < best:
        best = val
        wait = 0
    else:
        wait += 1
    if wait > 3:
        break
print("stopped at", epoch, "val", best)
'''

STOP_CLASS = '''\
import numpy as np


class Softmax:
    def __init__(self, d, k, seed=0):
        self.W = 0.01 * np.random.default_rng(seed).normal(size=(d, k))

    def probs(self, X):
        z = X @ self.W
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def loss_grad(self, X, y):
        p = self.probs(X)
        loss = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
        p[np.arange(len(y)), y] -= 1
        return loss, X.T @ p / len(y)


class Fitter:
    def __init__(self, model, epochs=50, patience=4, lr=0.5):
        self.model, self.epochs, self.patience, self.lr = model, epochs, patience, lr
        self.best_acc = -np.inf
        self.stale = 0

    def fit(self, X, y, Xv, yv):
        for epoch in range(self.epochs):
            loss, g = self.model.loss_grad(X, y)
            self.model.W -= self.lr * g
            acc = np.mean(self.model.probs(Xv).argmax(axis=1) == yv)
            if acc > self.best_acc:
                self.best_acc = acc
                self.stale = 0
            else:
                self.stale += 1
                if self.stale >= self.patience:
                    return epoch
        return self.epochs


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    C = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.0]])
    y = rng.integers(0, 3, 90)
    X = C[y] + rng.normal(size=(90, 2))
    yv = rng.integers(0, 3, 30)
    Xv = C[yv] + rng.normal(size=(30, 2))
    print(Fitter(Softmax(2, 3)).fit(X, y, Xv, yv))
'''


STOP_WHILE = '''\
import numpy as np


def train(X, y, Xv, yv, lr=0.3, patience=3, max_epochs=80):
    w = np.zeros(X.shape[1])
    best_loss = np.inf
    wait, epoch = 0, 0
    while wait < patience and epoch < max_epochs:
        err = X @ w - y
        loss = 0.5 * np.mean(err ** 2)
        w -= lr * X.T @ err / len(y)
        val = 0.5 * np.mean((Xv @ w - yv) ** 2)
        if val < best_loss:
            best_loss, wait = val, 0
        else:
            wait += 1
        epoch += 1
    return w, epoch


rng = np.random.default_rng(8)
true = np.array([1.0, -0.5, 2.0])
X = rng.normal(size=(60, 3))
y = X @ true + 0.1 * rng.normal(size=60)
Xv = rng.normal(size=(30, 3))
yv = Xv @ true
print(train(X, y, Xv, yv))
'''


def named(report: dict, name: str) -> dict:
    found = [f for f in report["findings"] if f["name"] == name]
    assert len(found) == 1, report["findings"]
    return found[0]


def flagged(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_a_pointer_moved_by_floor_division_in_a_script_is_named(tmp_path):
    path = planted(tmp_path, "ptr_script.py", POINTER_SCRIPT, "ptr = (ptr + bs) % N", "ptr = (ptr + bs) // N")
    found = named(check(path, training=True), "step-batch-never-moves")
    assert found["code"] == "BPD642" and found["severity"] == "warning"
    assert found["line"] == line_of(path, "ptr = (ptr + bs) //")
    assert "the same 8 samples (rows 0 to 7) of the 96 of `X`" in found["message"] and "never see the other 88" in found["message"]
    assert found["fix"] == "ptr = (ptr + bs) % N"


def test_a_pointer_attribute_moved_by_floor_division_in_a_class_is_named(tmp_path):
    path = planted(
        tmp_path, "ptr_class.py", POINTER_CLASS,
        "self.pos = (self.pos + self.batch) % len(self.X)", "self.pos = (self.pos + self.batch) // len(self.X)",
    )
    found = named(check(path, training=True), "step-batch-never-moves")
    assert found["line"] == line_of(path, "self.pos = (self.pos + self.batch) //")
    assert "of the 120 of `self.X`" in found["message"] and "the pointer `self.pos` never advances" in found["message"]


@pytest.mark.parametrize(
    "name, text",
    [("ptr_script_ok.py", POINTER_SCRIPT), ("ptr_class_ok.py", POINTER_CLASS), ("shuffled.py", SHUFFLED_EPOCHS),
     ("full_batch.py", FULL_BATCH_POINTER), ("repeated.py", REPEATED_BATCHES)],
)
def test_batches_that_move_or_hold_all_the_data_are_clean(tmp_path, name, text):
    report = check(write(tmp_path, name, text), training=True)
    assert not flagged(report), report["findings"]
    assert report["extras"]["replay"], "the training loop must be replayed for the twin to say anything"


def test_a_reversed_early_stop_in_a_script_is_named(tmp_path):
    path = planted(tmp_path, "stop_script.py", STOP_SCRIPT, "    if val < best:", "    if val >= best:")
    found = named(check(path, training=True), "step-early-stop-reversed")
    assert found["code"] == "BPD643" and found["severity"] == "warning"
    assert found["line"] == line_of(path, "if val >= best:")
    assert "`best` starts at `float('inf')`" in found["message"] and "the `break` at line" in found["message"]
    assert "of the 60 it plans" in found["message"] and found["fix"] == "if val <= best:"


def test_a_reversed_accuracy_stop_in_a_class_is_named(tmp_path):
    path = planted(tmp_path, "stop_class.py", STOP_CLASS, "if acc > self.best_acc:", "if acc < self.best_acc:")
    found = named(check(path, training=True), "step-early-stop-reversed")
    assert found["line"] == line_of(path, "if acc < self.best_acc:")
    assert "`-np.inf`" in found["message"] and "the `return` at line" in found["message"]
    assert "`self.patience` = 4 passes of the 50 it plans" in found["message"]


def test_a_reversed_stop_ending_a_while_loop_by_its_own_test_is_named(tmp_path):
    path = planted(tmp_path, "stop_while.py", STOP_WHILE, "if val < best_loss:", "if val > best_loss:")
    found = named(check(path, training=True), "step-early-stop-reversed")
    assert found["line"] == line_of(path, "if val > best_loss:")
    assert "the loop's own test `while wait < patience and epoch < max_epochs`" in found["message"]
    assert "`patience` = 3 passes" in found["message"]


@pytest.mark.parametrize(
    "name, text", [("stop_script_ok.py", STOP_SCRIPT), ("stop_class_ok.py", STOP_CLASS), ("stop_while_ok.py", STOP_WHILE)]
)
def test_early_stopping_the_right_way_round_is_clean(tmp_path, name, text):
    report = check(write(tmp_path, name, text), training=True)
    assert not flagged(report), report["findings"]
