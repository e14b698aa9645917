"""Early stopping whose best-so-far is overwritten with the current value just before the improvement test
(`best_val = val` then `if val < best_val:`, `best = min(best, val)` then `if val < best:`): the test can
never be true, the count of passes without improvement grows at every pass, and the loop stops after
`patience` passes with barely trained weights. Named at the overwriting line (BPD647) in a script, a
trainer class (`self.best = val`) and a function that returns on patience; the correct twins (the
assignment inside the improvement branch, or after the test) and the harmless directions (`<=`, always
true; `prev = loss` before a test of a rise, never true and never counting) are clean."""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(100, 3))
y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
Xtr, ytr, Xva, yva = X[:75], y[:75], X[75:], y[75:]
W1 = 0.4 * rng.normal(size=(3, 12))
b1 = np.zeros(12)
w2 = 0.4 * rng.normal(size=12)
b2 = 0.0
lr = 0.1


def predict(X):
    return np.tanh(X @ W1 + b1) @ w2 + b2


best_val = np.inf
patience, waited = 6, 0
for epoch in range(200):
    h = np.tanh(Xtr @ W1 + b1)
    err = h @ w2 + b2 - ytr
    d = 2 * err / len(ytr)
    dh = np.outer(d, w2) * (1 - h ** 2)
    w2 -= lr * h.T @ d
    b2 -= lr * d.sum()
    W1 -= lr * Xtr.T @ dh
    b1 -= lr * dh.sum(axis=0)
    val = np.mean((predict(Xva) - yva) ** 2)
    if val < best_val:
        best_val = val
        waited = 0
    else:
        waited += 1
        if waited >= patience:
            break
print("epochs", epoch + 1, "validation", val)
'''

SCRIPT_RIGHT = '''\
    if val < best_val:
        best_val = val
        waited = 0
'''

SCRIPT_WRONG = '''\
    best_val = val
    if val < best_val:
        waited = 0
'''

TRAINER = '''\
import numpy as np


class Logistic:
    def __init__(self, d, seed=0):
        self.w = 0.01 * np.random.default_rng(seed).normal(size=d)
        self.b = 0.0

    def prob(self, X):
        return 1.0 / (1.0 + np.exp(-(X @ self.w + self.b)))

    def loss(self, X, y):
        p = np.clip(self.prob(X), 1e-9, 1 - 1e-9)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    def grads(self, X, y):
        g = (self.prob(X) - y) / len(y)
        return X.T @ g, g.sum()


class Trainer:
    def __init__(self, model, lr=0.5, patience=4, epochs=120):
        self.model, self.lr, self.patience, self.epochs = model, lr, patience, epochs
        self.best = float("inf")
        self.bad = 0
        self.history = []

    def fit(self, X, y, Xv, yv):
        for epoch in range(self.epochs):
            loss = self.model.loss(X, y)
            gw, gb = self.model.grads(X, y)
            self.model.w -= self.lr * gw
            self.model.b -= self.lr * gb
            val = self.model.loss(Xv, yv)
            self.history.append(val)
            if val < self.best:
                self.best = val
                self.bad = 0
            else:
                self.bad += 1
                if self.bad >= self.patience:
                    break
        return self.history


if __name__ == "__main__":
    rng = np.random.default_rng(9)
    X = rng.normal(size=(150, 4))
    y = (X @ np.array([1.0, -1.0, 0.5, 2.0]) > 0).astype(float)
    print(len(Trainer(Logistic(4)).fit(X[:100], y[:100], X[100:], y[100:])))
'''

TRAINER_RIGHT = '''\
            self.history.append(val)
            if val < self.best:
                self.best = val
                self.bad = 0
'''

TRAINER_WRONG = '''\
            self.best = val
            self.history.append(val)
            if val < self.best:
                self.bad = 0
'''

FUNCTION = '''\
import numpy as np


def mse(w, X, y):
    return 0.5 * np.mean((X @ w - y) ** 2)


def train(X, y, Xv, yv, lr=0.05, patience=5, epochs=150):
    w = np.zeros(X.shape[1])
    best = np.inf
    bad = 0
    for epoch in range(epochs):
        loss = mse(w, X, y)
        w -= lr * X.T @ (X @ w - y) / len(y)
        val = mse(w, Xv, yv)
        if val < best:
            bad = 0
        else:
            bad += 1
            if bad >= patience:
                return w, epoch
        best = min(best, val)
    return w, epochs


rng = np.random.default_rng(12)
true = np.array([2.0, -1.0, 0.5, 1.5])
X = rng.normal(size=(80, 4))
y = X @ true + 0.05 * rng.normal(size=80)
Xv = rng.normal(size=(40, 4))
yv = Xv @ true
print(train(X, y, Xv, yv))
'''

FUNCTION_RIGHT = '''\
        val = mse(w, Xv, yv)
        if val < best:
'''

FUNCTION_WRONG = '''\
        val = mse(w, Xv, yv)
        best = min(best, val)
        if val < best:
'''


def named(report: dict, name: str) -> dict:
    found = [f for f in report["findings"] if f["name"] == name]
    assert len(found) == 1, report["findings"]
    return found[0]


def flagged(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_a_best_overwritten_before_its_test_in_a_script_is_named(tmp_path):
    path = planted(tmp_path, "overwrite_script.py", SCRIPT, SCRIPT_RIGHT, SCRIPT_WRONG)
    report = check(path, training=True)
    found = named(report, "step-early-stop-overwritten")
    assert found["code"] == "BPD647" and found["severity"] == "warning"
    assert found["line"] == line_of(path, "    best_val = val")
    assert f"`best_val = val` (line {found['line']}) runs just before `if val < best_val` (line {found['line'] + 1})" in found["message"]
    assert "compares `val` with itself and can never be true" in found["message"]
    assert f"the `break` at line {line_of(path, 'break')} (under `if waited >= patience`)" in found["message"]
    assert "`patience` = 6 passes of the 200 it plans" in found["message"]
    assert "(replayed, your loop at line 20 stopped itself at its pass " in found["message"]
    assert found["fix"] == "move `best_val = val` into the improvement branch"
    assert len(flagged(report)) == 1, report["findings"]


def test_a_trainer_overwriting_self_best_is_named(tmp_path):
    path = planted(tmp_path, "overwrite_trainer.py", TRAINER, TRAINER_RIGHT, TRAINER_WRONG)
    found = named(check(path, training=True), "step-early-stop-overwritten")
    assert found["line"] == line_of(path, "            self.best = val")
    assert "`if val < self.best`" in found["message"] and "`self.bad` grows at every pass" in found["message"]
    assert "`self.patience` = 4 passes of the 120 it plans" in found["message"]
    assert found["fix"] == "move `self.best = val` into the improvement branch"


def test_a_function_taking_the_minimum_before_its_test_and_returning_on_patience_is_named(tmp_path):
    path = planted(tmp_path, "overwrite_function.py", FUNCTION, FUNCTION_RIGHT, FUNCTION_WRONG)
    found = named(check(path, training=True), "step-early-stop-overwritten")
    assert found["line"] == line_of(path, "        best = min(best, val)")
    assert "compares `val` with the smaller of it and the previous best" in found["message"]
    assert f"the `return` at line {line_of(path, 'return w, epoch')} (under `if bad >= patience`)" in found["message"]
    assert "`patience` = 5 passes of the 150 it plans" in found["message"]
    assert found["fix"] == "move `best = val` into the improvement branch"


def test_the_overwrite_is_named_whatever_the_loop_and_the_side_of_the_comparison(tmp_path):
    wrong = SCRIPT.replace(SCRIPT_RIGHT, SCRIPT_WRONG.replace("if val < best_val:", "if best_val > val:"))
    wrong = wrong.replace("for epoch in range(200):", "epoch = 0\nwhile waited < patience and epoch < 200:")
    wrong = wrong.replace("        if waited >= patience:\n            break\n", "    epoch += 1\n")
    path = write(tmp_path, "overwrite_while.py", wrong)
    found = named(check(path, training=True), "step-early-stop-overwritten")
    assert found["line"] == line_of(path, "    best_val = val")
    assert "the loop's own test `while waited < patience and epoch < 200`" in found["message"]


def test_a_long_patience_is_not_also_blamed_on_its_settings(tmp_path):
    text = SCRIPT.replace(SCRIPT_RIGHT, SCRIPT_WRONG).replace("patience, waited = 6, 0", "patience, waited = 12, 0")
    report = check(write(tmp_path, "overwrite_patient.py", text), training=True)
    found = named(report, "step-early-stop-overwritten")
    assert "`patience` = 12 passes of the 200 it plans (replayed, your loop at line 20 stopped itself at its pass 12)" in found["message"]
    assert [f["name"] for f in flagged(report)] == ["step-early-stop-overwritten"], report["findings"]  # not stopped-early too


def test_a_stop_in_the_else_of_the_test_ends_the_first_pass(tmp_path):
    text = SCRIPT.replace(SCRIPT_RIGHT, SCRIPT_WRONG).replace("        waited += 1\n        if waited >= patience:\n            break\n", "        break\n")
    path = write(tmp_path, "overwrite_else.py", text)
    found = named(check(path, training=True), "step-early-stop-overwritten")
    assert f"the `break` at line {line_of(path, 'break')} in its `else` ends training after the first pass" in found["message"]
    assert "stopped itself at its pass 1)" in found["message"]


@pytest.mark.parametrize(
    "name, text",
    [("script_ok.py", SCRIPT), ("trainer_ok.py", TRAINER), ("function_ok.py", FUNCTION)],
)
def test_the_correct_twins_are_clean(tmp_path, name, text):
    report = check(write(tmp_path, name, text), training=True)
    assert not flagged(report), report["findings"]
    assert report["extras"]["replay"], "the training loop must be replayed for the twin to say anything"


RISING = SCRIPT.replace("best_val = np.inf\n", "prev_val = np.inf\n").replace(
    SCRIPT_RIGHT + "    else:\n        waited += 1\n        if waited >= patience:\n            break\n",
    "    prev_val = val\n    if val > prev_val:\n        waited += 1\n        if waited >= patience:\n            break\n    else:\n        waited = 0\n",
)


@pytest.mark.parametrize(
    "name, text",
    [
        ("always_true.py", SCRIPT.replace(SCRIPT_RIGHT, SCRIPT_WRONG.replace("val < best_val", "val <= best_val"))),
        ("rising.py", RISING),
        ("minimum_then_at_most.py", FUNCTION.replace(FUNCTION_RIGHT, FUNCTION_WRONG.replace("val < best", "val <= best"))),
        ("val_recomputed.py", SCRIPT.replace(SCRIPT_RIGHT, "    best_val = val\n    val = np.mean((predict(Xtr) - ytr) ** 2)\n" + SCRIPT_RIGHT)),
    ],
)
def test_comparisons_that_never_stop_the_loop_or_see_a_new_value_are_clean(tmp_path, name, text):
    assert text not in (SCRIPT, FUNCTION)
    report = check(write(tmp_path, name, text), training=True)
    assert not [f for f in report["findings"] if f["name"] == "step-early-stop-overwritten"], report["findings"]
    assert not flagged(report), report["findings"]
