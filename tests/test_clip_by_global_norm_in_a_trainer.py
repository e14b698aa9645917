"""Gradient clipping by the global norm, called inside a trainer's `step` method.

The loop only calls `trainer.step(X, y)`; the method computes the gradients, clips them with the
file's `clip_by_global_norm(grads, max_norm)` and updates. Where the first steps' gradients are above
the threshold, every update is the gradient times `max_norm / norm`, and the replay called that a
constant factor to remove (a false alarm): the clip was looked for only in the loop's statements
before the update, not in the method the update starts in. A clip whose scale is never compared
with 1 (`scale = max_norm / total`) rescales every gradient, also the small ones, and is named.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

TRAINER = """\
    import numpy as np


    class Net:
        def __init__(self, rng):
            self.params = {"W0": rng.normal(0, 1.0, (1, 16)), "b0": np.zeros(16),
                           "W1": rng.normal(0, 0.25, (16, 1)), "b1": np.zeros(1)}

        def loss_and_grads(self, X, y):
            h = np.tanh(X @ self.params["W0"] + self.params["b0"])
            r = h @ self.params["W1"] + self.params["b1"] - y
            loss = 0.5 * np.mean(np.sum(r ** 2, axis=1))
            g = r / len(X)
            grads = {"W1": h.T @ g, "b1": g.sum(axis=0)}
            dz = (g @ self.params["W1"].T) * (1 - h ** 2)
            grads["W0"] = X.T @ dz
            grads["b0"] = dz.sum(axis=0)
            return loss, grads


    def clip_by_global_norm(grads, max_norm):
        total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
        scale = min(1.0, max_norm / (total + 1e-12))
        return {k: g * scale for k, g in grads.items()}


    class Trainer:
        def __init__(self, model, lr, max_norm):
            self.model, self.lr, self.max_norm = model, lr, max_norm

        def step(self, X, y):
            loss, grads = self.model.loss_and_grads(X, y)
            grads = clip_by_global_norm(grads, self.max_norm)
            for k, g in grads.items():
                self.model.params[k] -= self.lr * g
            return loss


    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, (128, 1))
    y = 3.0 * np.sin(X) + 2.0
    trainer = Trainer(Net(rng), lr=0.1, max_norm=0.5)
    for it in range(400):
        loss = trainer.step(X, y)
        if it % 100 == 0:
            print(it, loss)
"""

SCRIPT = """\
    import numpy as np

    rng = np.random.default_rng(4)
    X = rng.standard_normal((100, 3)) * 4
    y = X @ np.array([[1.5], [-2.0], [0.5]]) + 1.0
    W = rng.standard_normal((3, 1)) * 0.1
    b = np.zeros(1)


    def clip(grads, limit):
        norm = np.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
        factor = limit / norm
        if norm > limit:
            return [g * factor for g in grads]
        return grads


    for epoch in range(300):
        err = X @ W + b - y
        loss = np.mean(err ** 2)
        dW = 2 * X.T @ err / len(X)
        db = 2 * err.mean(axis=0)
        dW, db = clip([dW, db], 1.0)
        W -= 0.05 * dW
        b -= 0.05 * db
        if epoch % 50 == 0:
            print(epoch, loss)
"""


def test_a_clip_inside_the_trainers_step_is_no_constant_factor(tmp_path):
    path = planted(tmp_path, "train.py", TRAINER, "scale = min(1.0, max_norm / (total + 1e-12))", "scale = min(1.0, max_norm / (total + 1e-12))")
    report = check(path, training=True)
    assert errors(report) == []


def test_a_clip_that_always_rescales_is_named_at_its_scale(tmp_path):
    path = planted(tmp_path, "train.py", TRAINER, "scale = min(1.0, max_norm / (total + 1e-12))", "scale = max_norm / (total + 1e-12)")
    report = check(path, training=True)
    (error,) = errors(report)
    assert error["name"] == "step-clip-always-rescales"
    assert error["line"] == line_of(path, "scale = max_norm / (total + 1e-12)")
    assert error["fix"] == "scale = min(1.0, max_norm / (total + 1e-12))"


def test_a_clip_under_an_if_is_clean(tmp_path):
    path = planted(tmp_path, "fit.py", SCRIPT, "factor = limit / norm", "factor = limit / norm")
    report = check(path, training=True)
    assert errors(report) == []


def test_a_clip_without_its_condition_is_named(tmp_path):
    source = SCRIPT.replace("        if norm > limit:\n            return [g * factor for g in grads]\n        return grads\n", "        return [g * factor for g in grads]\n")
    assert source != SCRIPT
    path = planted(tmp_path, "fit.py", source, "factor = limit / norm", "factor = limit / norm")
    report = check(path, training=True)
    named = [f for f in errors(report) if f["name"] == "step-clip-always-rescales"]
    assert named and named[0]["line"] == line_of(path, "factor = limit / norm")
