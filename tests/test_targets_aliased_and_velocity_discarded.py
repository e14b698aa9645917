"""Two training-procedure faults read from the source that were missed when written a common way.

Targets bound under a new name in their stored order (`y_shuf = y`) beside inputs shuffled each epoch
(`X_shuf = X[perm]`), the batches then taken by two statements: targets-not-shuffled passed any target
that was an alias over, and is now named at the alias, with `y_shuf = y[perm]` to write. A momentum step
function that returns the new weights beside the new velocity (`v = mu * v - lr * dw; return w + v, v`),
called in the loop by `params[k], _ = sgd_momentum(params[k], grads[k], velocity[k])`, throws the velocity
away: every call starts from the zeros it started as (velocity-reset's `velocity-discarded`, at the call).
Correct twins (the targets indexed by the permutation, the velocity stored back, a step that changes the
velocity in place, a velocity kept under another name) stay clean.
"""

from __future__ import annotations

import ast

import pytest

from backprop_doctor.static.shuffles import unshuffled_targets
from backprop_doctor.static.velocity_discarded import discarded_velocities
from tests.userfiles import check, line_of, planted, write

# a script: the inputs shuffled into a copy every epoch, the targets bound to the stored order
SHUFFLE_SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(60, 3))
y = (X[:, :1] > 0).astype(float)
w = np.zeros((3, 1))
for epoch in range(3):
    perm = rng.permutation(len(X))
    X_shuf = X[perm]
    y_shuf = y[perm]
    for start in range(0, 60, 20):
        xb = X_shuf[start:start + 20]
        yb = y_shuf[start:start + 20]
        p = 1 / (1 + np.exp(-(xb @ w)))
        w -= 0.5 * xb.T @ (p - yb) / len(xb)
'''

# a training function: the targets bound once before the loop, the inputs shuffled inside it
SHUFFLE_FUNCTION = '''\
import numpy as np


def fit(inputs, answers, epochs=3, size=10, step=0.3):
    weights = np.zeros((inputs.shape[1], 1))
    ordered = answers
    for epoch in range(epochs):
        order = np.random.permutation(len(inputs))
        shuffled = inputs[order]
        for s in range(0, len(inputs), size):
            batch = shuffled[s:s + size]
            target_batch = ordered[s:s + size]
            grad = batch.T @ (batch @ weights - target_batch) / len(batch)
            weights -= step * grad
    return weights


data = np.random.default_rng(1).normal(size=(40, 2))
fit(data, data[:, :1] * 2.0)
'''



def _unshuffled(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "targets-not-shuffled"]


def test_targets_bound_to_their_stored_order_are_named_at_the_alias(tmp_path):
    path = planted(tmp_path, "alias_script.py", SHUFFLE_SCRIPT, "    y_shuf = y[perm]\n", "    y_shuf = y\n")
    fix = "`y_shuf = y[perm]`"
    (finding,) = _unshuffled(check(path))
    assert (finding["code"], finding["severity"], finding["line"]) == ("BPD614", "error", line_of(path, "y_shuf = y")), finding
    assert fix in finding["message"] and "another input's target" in finding["message"], finding["message"]


def test_targets_aliased_before_the_loop_in_a_function_are_named(tmp_path):
    path = write(tmp_path, "alias_function.py", SHUFFLE_FUNCTION)
    (finding,) = _unshuffled(check(path))
    assert (finding["code"], finding["line"]) == ("BPD614", line_of(path, "ordered = answers")), finding
    assert "`ordered`" in finding["message"] and "stored order" in finding["message"], finding["message"]


def test_targets_indexed_with_the_inputs_permutation_are_clean(tmp_path):
    report = check(write(tmp_path, "alias_fixed.py", SHUFFLE_SCRIPT))
    assert _unshuffled(report) == [] and [f for f in report["findings"] if f["severity"] == "error"] == [], report["findings"]


@pytest.mark.parametrize(
    "program",
    [
        # the alias taken of the shuffled copy: moved with the inputs
        SHUFFLE_SCRIPT.replace("    y_shuf = y[perm]\n", "    y_both = y[perm]\n    y_shuf = y_both\n"),
        # the alias taken before the targets are shuffled in place with the same order
        SHUFFLE_FUNCTION.replace("        shuffled = inputs[order]\n", "        shuffled = inputs[order]\n        answers[:] = answers[order]\n"),
        # an alias beside inputs nothing shuffles
        SHUFFLE_SCRIPT.replace("    X_shuf = X[perm]\n    y_shuf = y[perm]\n", "    X_shuf = X\n    y_shuf = y\n"),
    ],
    ids=["alias-of-shuffled", "shuffled-in-place", "nothing-shuffled"],
)
def test_aliases_that_move_with_their_inputs_are_not_read(program):
    found = unshuffled_targets(ast.parse(program))
    assert found is None or found.alias is None, found


# a script: the step function returns the new velocity, the loop drops it
MOMENTUM_SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(40, 2))
y = X @ np.array([[1.0], [-2.0]])
params = {"w": np.zeros((2, 1)), "b": np.zeros(1)}
velocity = {k: np.zeros_like(v) for k, v in params.items()}


def sgd_momentum(w, dw, v, lr=0.05, mu=0.9):
    v = mu * v - lr * dw
    return w + v, v


for step in range(5):
    err = X @ params["w"] + params["b"] - y
    grads = {"w": X.T @ err / len(X), "b": err.mean(axis=0)}
    for k in params:
        params[k], velocity[k] = sgd_momentum(params[k], grads[k], velocity[k])
'''

# a class: the optimizer's method returns the new state, the trainer's loop keeps the weights alone
MOMENTUM_CLASS = '''\
import numpy as np


class HeavyBall:
    def __init__(self, rate=0.05, beta=0.9):
        self.rate, self.beta = rate, beta

    def move(self, weight, grad, buf):
        new_buf = self.beta * buf + grad
        return weight - self.rate * new_buf, new_buf


class Trainer:
    def __init__(self):
        self.W = np.zeros((2, 1))
        self.buf = np.zeros((2, 1))
        self.opt = HeavyBall()

    def run(self, X, y, steps=5):
        for _ in range(steps):
            g = X.T @ (X @ self.W - y) / len(X)
            self.W, self.buf = self.opt.move(self.W, g, self.buf)


data = np.random.default_rng(4).normal(size=(30, 2))
Trainer().run(data, data @ np.array([[0.5], [1.5]]))
'''

MOMENTA = {
    "script": (MOMENTUM_SCRIPT, "params[k], velocity[k] = sgd_momentum", "params[k], _ = sgd_momentum", "params[k], velocity[k] = sgd_momentum"),
    "class": (MOMENTUM_CLASS, "self.W, self.buf = self.opt.move", "self.W, unused = self.opt.move", "self.buf"),
}


def _discarded(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f.get("pattern") == "velocity-discarded"]


@pytest.mark.parametrize("name", sorted(MOMENTA))
def test_a_velocity_thrown_away_by_the_loop_is_named_at_the_call(tmp_path, name):
    program, right, wrong, fix = MOMENTA[name]
    path = planted(tmp_path, f"momentum_{name}.py", program, right, wrong)
    (finding,) = _discarded(check(path))
    assert (finding["code"], finding["severity"], finding["line"]) == ("BPD640", "error", line_of(path, wrong)), finding
    assert fix in finding["message"] and "momentum does nothing" in finding["message"], finding["message"]


@pytest.mark.parametrize("name", sorted(MOMENTA))
def test_a_velocity_stored_back_is_clean(tmp_path, name):
    report = check(write(tmp_path, f"momentum_{name}_kept.py", MOMENTA[name][0]))
    assert _discarded(report) == [] and [f for f in report["findings"] if f["severity"] == "error"] == [], report["findings"]


@pytest.mark.parametrize(
    "program",
    [
        # the step changes the velocity in place: the caller's array is the state
        MOMENTUM_SCRIPT.replace("    v = mu * v - lr * dw\n    return w + v, v", "    v *= mu\n    v -= lr * dw\n    return w + v, v").replace(
            "params[k], velocity[k] = sgd_momentum", "params[k], _ = sgd_momentum"),
        # the velocity kept under another name and stored back on the next line
        MOMENTUM_SCRIPT.replace("params[k], velocity[k] = sgd_momentum(params[k], grads[k], velocity[k])",
                                "params[k], fresh = sgd_momentum(params[k], grads[k], velocity[k])\n        velocity[k] = fresh"),
        # a plain step function handed a gradient: its rate's product is no velocity
        MOMENTUM_SCRIPT.replace("    v = mu * v - lr * dw\n    return w + v, v", "    v = lr * dw\n    return w - v, v").replace(
            "params[k], velocity[k] = sgd_momentum", "params[k], _ = sgd_momentum"),
    ],
    ids=["in-place", "stored-by-name", "no-momentum"],
)
def test_velocities_kept_otherwise_are_not_read(program):
    assert discarded_velocities(ast.parse(program)) == []
