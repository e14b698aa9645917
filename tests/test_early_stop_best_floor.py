"""Early stopping whose best loss starts at a floor no loss goes below (`best_val = 0.0` before
`if val_loss < best_val:`): no pass ever improves, and the loop stops after `patience` passes with the
first parameters it saved. `step-early-stop-reversed` (BPD643) names the start, with an infinity as the
fix, in a script and in a trainer class; the same loops starting at an infinity, or at the first pass's
loss, are clean."""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

SCRIPT = '''\
import numpy as np

gen = np.random.default_rng(21)
A = gen.normal(size=(200, 4))
t = A @ np.array([0.7, -1.2, 0.4, 2.0]) + 0.3 * gen.normal(size=200)
A_val = gen.normal(size=(60, 4))
t_val = A_val @ np.array([0.7, -1.2, 0.4, 2.0]) + 0.3 * gen.normal(size=60)



def mse(coef, A, t):
    resid = A @ coef - t
    return np.mean(resid ** 2), 2 * A.T @ resid / len(t)


coef = np.zeros(4)
lowest_val_loss = np.inf
kept = coef.copy()
misses, patience = 0, 6
for epoch in range(120):
    loss, grad = mse(coef, A, t)
    coef -= 0.05 * grad
    val_loss, _ = mse(coef, A_val, t_val)
    if val_loss < lowest_val_loss:
        lowest_val_loss = val_loss
        kept = coef.copy()
        misses = 0
    else:
        misses += 1
        if misses >= patience:
            print("early stop", epoch)
            break
coef = kept
print("val mse", np.mean((A_val @ coef - t_val) ** 2))
'''

CLASSY = '''\
import math
import numpy as np


class Logistic:
    def __init__(self, d, seed=3):
        self.w = np.random.default_rng(seed).normal(0, 0.01, d)

    def loss_and_grad(self, X, y):
        p = 1 / (1 + np.exp(-X @ self.w))
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        return loss, X.T @ (p - y) / len(y)


class Trainer:
    def __init__(self, model, rate=0.3, patience=4, epochs=90):
        self.model, self.rate, self.patience, self.epochs = model, rate, patience, epochs
        self.best_loss = math.inf
        self.since_best = 0

    def run(self, X, y, Xv, yv):
        for ep in range(self.epochs):
            _, g = self.model.loss_and_grad(X, y)
            self.model.w -= self.rate * g
            val_err, _ = self.model.loss_and_grad(Xv, yv)
            if val_err < self.best_loss:
                self.best_loss = val_err
                self.since_best = 0
            else:
                self.since_best += 1
                if self.since_best >= self.patience:
                    return ep
        return self.epochs


if __name__ == "__main__":
    r = np.random.default_rng(8)
    X = r.normal(size=(150, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)
    Xv = r.normal(size=(50, 3))
    yv = (Xv @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)
    print(Trainer(Logistic(3)).run(X, y, Xv, yv))
'''


def _loud(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_a_best_loss_starting_at_zero_in_a_script_is_named_at_its_start(tmp_path):
    path = planted(tmp_path, "floor.py", SCRIPT, "lowest_val_loss = np.inf", "lowest_val_loss = 0.0")
    report = check(path, training=True)
    found = [f for f in _loud(report) if f["pattern"] == "early-stop-best-floor"]
    assert len(found) == 1, report["findings"]
    assert (found[0]["code"], found[0]["line"]) == ("BPD643", line_of(path, "lowest_val_loss = 0.0"))
    assert found[0]["fix"] == "lowest_val_loss = np.inf"
    assert "`val_loss < lowest_val_loss`" in found[0]["message"] and "`patience` = 6 passes" in found[0]["message"]


def test_a_best_loss_attribute_starting_at_zero_in_a_trainer_class_is_named_at_its_start(tmp_path):
    path = planted(tmp_path, "trainer.py", CLASSY, "self.best_loss = math.inf", "self.best_loss = 0")
    report = check(path, training=True)
    found = [f for f in _loud(report) if f["pattern"] == "early-stop-best-floor"]
    assert len(found) == 1, report["findings"]
    assert (found[0]["code"], found[0]["line"]) == ("BPD643", line_of(path, "self.best_loss = 0"))
    assert found[0]["fix"] == "self.best_loss = np.inf"
    assert "the `return` at line" in found[0]["message"]


def test_a_best_loss_starting_at_an_infinity_is_clean(tmp_path):
    assert _loud(check(write(tmp_path, "floor.py", SCRIPT), training=True)) == []
    assert _loud(check(write(tmp_path, "trainer.py", CLASSY), training=True)) == []


def test_a_best_loss_starting_at_the_first_pass_loss_is_clean(tmp_path):
    first = SCRIPT.replace("lowest_val_loss = np.inf\n", "lowest_val_loss = mse(coef, A_val, t_val)[0]\n")
    assert first != SCRIPT
    assert _loud(check(write(tmp_path, "first.py", first), training=True)) == []


def test_a_best_accuracy_starting_at_zero_is_clean(tmp_path):
    """An accuracy that must rise above a best starting at 0 is the right start."""
    acc = CLASSY.replace("val_err, _ = self.model.loss_and_grad(Xv, yv)", "val_acc = np.mean((Xv @ self.model.w > 0) == yv)")
    acc = acc.replace("if val_err < self.best_loss:", "if val_acc > self.best_loss:").replace("self.best_loss = val_err", "self.best_loss = val_acc")
    acc = acc.replace("self.best_loss = math.inf", "self.best_loss = 0.0")
    assert _loud(check(write(tmp_path, "acc.py", acc), training=True)) == []
