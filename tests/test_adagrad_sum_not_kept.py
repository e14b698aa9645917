"""An AdaGrad optimizer that overwrites its sum of squared gradients instead of adding to it.

`h[key] = grads[key] * grads[key]` where `+=` belongs: every step is then the learning rate along
the gradient's sign. The gradients are right and the loss still falls at first, so no gradient
check sees it; given one constant gradient four times, AdaGrad's steps shrink as 1/√k and these
stay the same. Named at the assignment, as a class (the book's `AdaGrad.update(params, grads)`)
and as a function over the network's dictionary.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

CLASS = """\
    import numpy as np


    class AdaGrad:
        def __init__(self, lr=0.01):
            self.lr = lr
            self.h = None

        def update(self, params, grads):
            if self.h is None:
                self.h = {key: np.zeros_like(val) for key, val in params.items()}
            for key in params.keys():
                self.h[key] += grads[key] * grads[key]
                params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    params = {"w": np.zeros(3), "b": np.zeros(1)}
    opt = AdaGrad(lr=0.5)
    for step in range(200):
        err = X @ params["w"] + params["b"] - y
        loss = np.mean(err ** 2)
        grads = {"w": 2 * X.T @ err / len(X), "b": np.array([2 * err.mean()])}
        opt.update(params, grads)
        if step % 50 == 0:
            print(step, loss)
"""

FUNCTION = """\
    import numpy as np


    def adagrad_update(params, grads, cache, lr=0.1):
        for k in params:
            cache[k] += np.square(grads[k])
            params[k] -= lr * grads[k] / (np.sqrt(cache[k]) + 1e-8)


    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 2))
    t = (X[:, 0] * X[:, 1] > 0).astype(float).reshape(-1, 1)
    params = {"W1": rng.standard_normal((2, 8)) * 0.5, "b1": np.zeros(8), "W2": rng.standard_normal((8, 1)) * 0.5, "b2": np.zeros(1)}
    cache = {k: np.zeros_like(v) for k, v in params.items()}
    for it in range(300):
        h = np.tanh(X @ params["W1"] + params["b1"])
        p = 1 / (1 + np.exp(-(h @ params["W2"] + params["b2"])))
        loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        d = (p - t) / len(X)
        grads = {"W2": h.T @ d, "b2": d.sum(axis=0)}
        dh = (d @ params["W2"].T) * (1 - h ** 2)
        grads["W1"] = X.T @ dh
        grads["b1"] = dh.sum(axis=0)
        adagrad_update(params, grads, cache)
        if it % 100 == 0:
            print(it, loss)
"""


def test_the_books_adagrad_is_clean(tmp_path):
    path = planted(tmp_path, "opt.py", CLASS, "self.h[key] += grads[key] * grads[key]", "self.h[key] += grads[key] * grads[key]")
    report = check(path, training=True)
    assert errors(report) == []


def test_an_adagrad_class_that_overwrites_its_sum_is_named_there(tmp_path):
    path = planted(tmp_path, "opt.py", CLASS, "self.h[key] += grads[key] * grads[key]", "self.h[key] = grads[key] * grads[key]")
    report = check(path, training=True)
    named = [f for f in errors(report) if f["name"] == "adagrad-sum-not-kept"]
    assert named and named[0]["line"] == line_of(path, "self.h[key] = grads[key] * grads[key]")
    assert named[0]["fix"] == "self.h[key] += grads[key] * grads[key]"


def test_an_adagrad_function_over_the_dictionary_is_clean(tmp_path):
    path = planted(tmp_path, "fit.py", FUNCTION, "cache[k] += np.square(grads[k])", "cache[k] += np.square(grads[k])")
    report = check(path, training=True)
    assert errors(report) == []


def test_an_adagrad_function_that_overwrites_its_sum_is_named_there(tmp_path):
    path = planted(tmp_path, "fit.py", FUNCTION, "cache[k] += np.square(grads[k])", "cache[k] = np.square(grads[k])")
    report = check(path, training=True)
    named = [f for f in errors(report) if f["name"] == "adagrad-sum-not-kept"]
    assert named and named[0]["line"] == line_of(path, "cache[k] = np.square(grads[k])")
    assert named[0] == errors(report)[0]  # the headline
