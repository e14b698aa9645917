"""A dict of gradients applied in a loop over the parameters' keys (`weights[name] = weights[name] - rate *
grads[name]`, `params[k] -= lr * grads["d" + k]`), the dict made by a closure: the replay cannot trace the
update to the statement that forms one entry's gradient, so a wrong one was named at the update, or at the call
that returns the dict. The one statement that writes that entry (`grads["b1"] = ...`, or under the gradient's
own key, `grads["db1"] = ...`; not its zeros) is where it goes wrong."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

CLOSURE = """
import numpy as np

settings = {"hidden": 8, "rate": 0.1, "steps": 300, "seed": 5}


def build(settings):
    rng = np.random.default_rng(settings["seed"])
    weights = {
        "W1": rng.normal(0, 0.4, (2, settings["hidden"])),
        "b1": np.zeros((1, settings["hidden"])),
        "W2": rng.normal(0, 0.4, (settings["hidden"], 1)),
        "b2": np.zeros((1, 1)),
    }

    def grads_of(X, y):
        h = np.tanh(X @ weights["W1"] + weights["b1"])
        out = h @ weights["W2"] + weights["b2"]
        n = len(X)
        cost = np.sum((out - y) ** 2) / (2 * n)
        d_out = (out - y) / n
        grads = {}
        grads["W2"] = h.T @ d_out
        grads["b2"] = d_out.sum(axis=0, keepdims=True)
        d_h = (d_out @ weights["W2"].T) * (1 - h ** 2)
        grads["W1"] = X.T @ d_h
        grads["b1"] = d_h.sum(axis=0, keepdims=True)
        return cost, grads

    def apply(grads):
        for name in weights:
            weights[name] = weights[name] - settings["rate"] * grads[name]

    return weights, grads_of, apply


rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, (80, 2))
y = (X[:, :1] * X[:, 1:]) + 0.3 * X[:, :1]
weights, grads_of, apply = build(settings)
for step in range(settings["steps"]):
    cost, grads = grads_of(X, y)
    apply(grads)
print(cost)
"""

RENAMED = """
import numpy as np


def make_network(n_in, n_hidden, seed=9):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(0, 0.5, (n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0, 0.5, (n_hidden, 1)),
        "b2": np.zeros(1),
    }

    def gradients(X, y):
        z1 = X @ params["W1"] + params["b1"]
        a1 = 1.0 / (1.0 + np.exp(-z1))
        p = 1.0 / (1.0 + np.exp(-(a1 @ params["W2"] + params["b2"])))
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        dlogit = (p - y) / len(X)
        grads = {}
        grads["dW2"] = a1.T @ dlogit
        grads["db2"] = dlogit.sum(axis=0)
        dz1 = (dlogit @ params["W2"].T) * a1 * (1 - a1)
        grads["dW1"] = X.T @ dz1
        grads["db1"] = dz1.sum(axis=0)
        return loss, grads

    return params, gradients


def train(X, y, lr=0.5, epochs=300):
    params, gradients = make_network(X.shape[1], 8)
    for epoch in range(epochs):
        loss, grads = gradients(X, y)
        for k in params:
            params[k] -= lr * grads["d" + k]
    return loss


rng = np.random.default_rng(13)
X = rng.normal(size=(110, 2))
y = ((X[:, :1] ** 2 + X[:, 1:] ** 2) < 1.2).astype(float)
print(train(X, y))
"""

CLOSURE_BIAS = '        grads["b1"] = d_h.sum(axis=0, keepdims=True)'
CLOSURE_BIAS_WRONG = '        grads["b1"] = (d_out @ weights["W2"].T).sum(axis=0, keepdims=True)'
CLOSURE_WEIGHT = '        grads["W1"] = X.T @ d_h'
CLOSURE_WEIGHT_WRONG = '        grads["W1"] = X.T @ (d_h * h)'
RENAMED_BIAS = '        grads["db1"] = dz1.sum(axis=0)'
RENAMED_BIAS_WRONG = '        grads["db1"] = (dlogit @ params["W2"].T).sum(axis=0)'
RENAMED_WEIGHT = '        grads["dW1"] = X.T @ dz1'
RENAMED_WEIGHT_WRONG = '        grads["dW1"] = X.T @ (dz1 * a1)'


def _step_errors(path: Path) -> list[dict]:
    return [f for f in errors(check(path)) if f["code"] == "BPD108"]


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "closure.py", CLOSURE, CLOSURE_BIAS, CLOSURE_BIAS))) == []
    assert errors(check(planted(tmp_path, "renamed.py", RENAMED, RENAMED_BIAS, RENAMED_BIAS))) == []


def test_an_entry_applied_by_the_dicts_keys_is_named_where_it_is_written(tmp_path: Path) -> None:
    for correct, wrong in ((CLOSURE_BIAS, CLOSURE_BIAS_WRONG), (CLOSURE_WEIGHT, CLOSURE_WEIGHT_WRONG)):
        path = planted(tmp_path, "closure.py", CLOSURE, correct, wrong)
        found = _step_errors(path)
        assert [f["line"] for f in found] == [line_of(path, wrong.strip())], found
        assert f"formed at line {found[0]['line']}" in found[0]["message"], found[0]["message"]


def test_an_entry_under_the_gradients_own_key_is_named_where_it_is_written(tmp_path: Path) -> None:
    for correct, wrong in ((RENAMED_BIAS, RENAMED_BIAS_WRONG), (RENAMED_WEIGHT, RENAMED_WEIGHT_WRONG)):
        path = planted(tmp_path, "renamed.py", RENAMED, correct, wrong)
        found = _step_errors(path)
        assert [f["line"] for f in found] == [line_of(path, wrong.strip())], found
        assert f"formed at line {found[0]['line']}" in found[0]["message"], found[0]["message"]


def test_an_entry_written_twice_stays_at_the_update(tmp_path: Path) -> None:
    twice = CLOSURE_BIAS_WRONG + '\n        grads["b1"] += 0.0 * weights["b1"]'
    path = planted(tmp_path, "closure.py", CLOSURE, CLOSURE_BIAS, twice)
    found = _step_errors(path)
    assert [f["line"] for f in found] == [line_of(path, 'weights[name] = weights[name] - settings["rate"]')], found
