"""A step made by a function or method the loop calls, which cuts its own minibatch by an index it draws
(`idx = self.rng.choice(...)`, then `self.model.loss(self.X[idx], self.y[idx])` in a solver's `_step()`), beside
a loss the loop only prints over the whole data set (`full_loss, _ = self.model.loss(self.X, self.y)`): the
updates follow the minibatch's loss, not the printed one, so no adjoint of the step is named wrong against it
(a false step-gradient-mismatch on correct code); a wrong gradient is still found by the layer checks."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

SOLVER = """\
    import numpy as np


    def hinge(scores, y):
        n = scores.shape[0]
        correct = scores[np.arange(n), y]
        margins = np.maximum(0, scores - correct[:, None] + 1.0)
        margins[np.arange(n), y] = 0
        loss = margins.sum() / n
        d = (margins > 0).astype(float)
        d[np.arange(n), y] -= d.sum(axis=1)
        return loss, d / n


    class Linear(object):
        def __init__(self, dim, classes):
            r = np.random.RandomState(0)
            self.params = {"W": 0.1 * r.randn(dim, classes), "b": np.zeros(classes)}

        def loss(self, X, y):
            scores = X.dot(self.params["W"]) + self.params["b"]
            data_loss, dscores = hinge(scores, y)
            return data_loss, {"W": X.T.dot(dscores), "b": dscores.sum(axis=0)}


    class Trainer(object):
        def __init__(self, model, X, y, batch=20, iters=60):
            self.model, self.X, self.y = model, X, y
            self.batch, self.iters = batch, iters
            self.rng = np.random.RandomState(2)

        def _step(self):
            pick = self.rng.choice(self.X.shape[0], self.batch, replace=False)
            loss, grads = self.model.loss(self.X[pick], self.y[pick])
            for k in self.model.params:
                self.model.params[k] = self.model.params[k] - 0.05 * grads[k]

        def train(self):
            for t in range(self.iters):
                self._step()
                if t % 20 == 0:
                    whole, _ = self.model.loss(self.X, self.y)
                    print(t, whole)


    if __name__ == "__main__":
        r = np.random.RandomState(7)
        y = np.repeat(np.arange(3), 30)
        X = 2.0 * r.randn(3, 5)[y] + r.randn(90, 5)
        Trainer(Linear(5, 3), X, y).train()
"""

FUNCTION_STEP = """\
    import numpy as np


    def hinge(scores, y):
        n = scores.shape[0]
        correct = scores[np.arange(n), y]
        margins = np.maximum(0, scores - correct[:, None] + 1.0)
        margins[np.arange(n), y] = 0
        loss = margins.sum() / n
        d = (margins > 0).astype(float)
        d[np.arange(n), y] -= d.sum(axis=1)
        return loss, d / n


    def model_loss(p, X, y):
        h = np.maximum(0, X @ p["W1"] + p["b1"])
        scores = h @ p["W2"]
        data_loss, dscores = hinge(scores, y)
        dh = (dscores @ p["W2"].T) * (h > 0)
        return data_loss, {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dscores}


    def sgd_step(p, X, y, rng, size=16):
        rows = rng.choice(len(X), size, replace=False)
        loss, g = model_loss(p, X[rows], y[rows])
        for name in p:
            p[name] -= 0.1 * g[name]


    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(3), 40)
    X = 2.0 * rng.standard_normal((3, 4))[y] + rng.standard_normal((120, 4))
    p = {"W1": 0.3 * rng.standard_normal((4, 8)), "b1": np.zeros(8), "W2": 0.3 * rng.standard_normal((8, 3))}
    for it in range(80):
        sgd_step(p, X, y, rng)
        if it % 20 == 0:
            full, _ = model_loss(p, X, y)
            print(it, full)
"""

WRONG = ("d[np.arange(n), y] -= d.sum(axis=1)", "d[np.arange(n), y] -= 1")


def _mismatch(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD108" and f["severity"] != "info"]


def test_a_solver_drawing_its_batch_in_its_step_method_is_clean(tmp_path):
    report = check(write(tmp_path, "solver.py", SOLVER))
    assert errors(report) == [] and _mismatch(report) == []


def test_a_step_function_drawing_its_batch_is_clean(tmp_path):
    report = check(write(tmp_path, "fn.py", FUNCTION_STEP))
    assert errors(report) == [] and _mismatch(report) == []


def test_a_wrong_hinge_gradient_in_the_solver_is_still_found(tmp_path):
    path = planted(tmp_path, "solver.py", SOLVER, *WRONG)
    assert errors(check(path))


def test_a_wrong_hinge_gradient_in_the_step_function_is_still_found(tmp_path):
    path = planted(tmp_path, "fn.py", FUNCTION_STEP, *WRONG)
    assert errors(check(path))
