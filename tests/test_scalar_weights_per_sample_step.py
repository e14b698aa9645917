"""A network whose every weight is a module-level number (the hand-worked XOR example: `w1`..`w6`,
`b1`..`b3`), trained one sample at a time (`for x1, x2, t in data:` inside an epoch loop), that computes
no loss in its step. The loss its output error implies (`(o - t) * o * (1 - o)`: the half squared error
through a sigmoid) is read where that error is written: in the loop itself, or in a function the loop
calls for its gradients, whose output comes from another function reading the module's weights as globals
(`h1, h2, o = forward(x1, x2)`). When the epoch loop prints a cost function of the whole data set
(`mse()` reading `samples`), that cost on the pass's one sample is the loss. A hidden delta computed with
the wrong outgoing weight is named at its line; the correct twin is clean.

Two styles: a `gradients()` function returning a dict of scalar gradients, the updates reading it one
per line; and a loop body that computes its deltas and updates inline.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

GRADIENT_DICT = '''\
import numpy as np

rng = np.random.RandomState(7)
a, b, c, d = rng.uniform(-1, 1, 4)
e, f = rng.uniform(-1, 1, 2)
c1, c2, c3 = 0.1, -0.1, 0.0

samples = [(0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 0.0, 1.0), (0.0, 0.0, 0.0)]


def squash(v):
    return 1.0 / (1.0 + np.exp(-v))


def predict(p, q):
    u = squash(a * p + b * q + c1)
    v = squash(c * p + d * q + c2)
    out = squash(e * u + f * v + c3)
    return u, v, out


def backprop(p, q, target):
    u, v, out = predict(p, q)
    delta_out = (out - target) * out * (1 - out)
    delta_u = delta_out * e * u * (1 - u)
    delta_v = delta_out * f * v * (1 - v)
    return {"a": delta_u * p, "b": delta_u * q, "c1": delta_u,
            "c": delta_v * p, "d": delta_v * q, "c2": delta_v,
            "e": delta_out * u, "f": delta_out * v, "c3": delta_out}


def mse():
    return sum((predict(p, q)[2] - target) ** 2 for p, q, target in samples) / len(samples)


rate = 1.5
for epoch in range(800):
    if epoch % 200 == 0:
        print(epoch, mse())
    for p, q, target in samples:
        grads = backprop(p, q, target)
        a -= rate * grads["a"]
        b -= rate * grads["b"]
        c -= rate * grads["c"]
        d -= rate * grads["d"]
        e -= rate * grads["e"]
        f -= rate * grads["f"]
        c1 -= rate * grads["c1"]
        c2 -= rate * grads["c2"]
        c3 -= rate * grads["c3"]
'''

INLINE = '''\
import math
import random

random.seed(3)
w1, w2, w3, w4, w5, w6 = (random.uniform(-1, 1) for _ in range(6))
b1 = b2 = b3 = 0.0
table = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]


def logistic(z):
    return 1 / (1 + math.exp(-z))


lr = 0.8
for sweep in range(1000):
    for i1, i2, want in table:
        u = logistic(w1 * i1 + w2 * i2 + b1)
        v = logistic(w3 * i1 + w4 * i2 + b2)
        out = logistic(w5 * u + w6 * v + b3)
        delta_out = (out - want) * out * (1 - out)
        delta_u = delta_out * w5 * u * (1 - u)
        delta_v = delta_out * w6 * v * (1 - v)
        w5 -= lr * delta_out * u
        w6 -= lr * delta_out * v
        b3 -= lr * delta_out
        w1 -= lr * delta_u * i1
        w2 -= lr * delta_u * i2
        b1 -= lr * delta_u
        w3 -= lr * delta_v * i1
        w4 -= lr * delta_v * i2
        b2 -= lr * delta_v

for i1, i2, want in table:
    print(i1, i2, want, logistic(w5 * logistic(w1 * i1 + w2 * i2 + b1) + w6 * logistic(w3 * i1 + w4 * i2 + b2) + b3))
'''

CASES = [
    (GRADIENT_DICT, "delta_v = delta_out * f * v", "delta_v = delta_out * e * v"),
    # the same with no loss printed: the loss is the one the error in `backprop` implies
    (GRADIENT_DICT.replace("print(epoch, mse())", "print(epoch)"), "delta_v = delta_out * f * v", "delta_v = delta_out * e * v"),
    (INLINE, "delta_v = delta_out * w6 * v", "delta_v = delta_out * w5 * v"),
]
IDS = ["gradients-dict-function", "gradients-dict-no-loss", "inline-loop"]


@pytest.mark.parametrize("text, correct, wrong", CASES, ids=IDS)
def test_a_hidden_delta_with_the_wrong_weight_is_named_at_its_line(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "xor.py", text, correct, wrong)
    report = check(path, training=True)
    found = errors(report)
    assert found, report["verdict"]
    assert found[0]["line"] == line_of(path, wrong), found[0]
    assert "delta_v" in found[0]["message"]
    # one sample's loss a pass goes up and down with the samples: no trend is claimed from it
    assert "the loss rises" not in report["verdict"]
    (replayed,) = report["extras"]["replay"]
    assert replayed["not_replayed"] is None


@pytest.mark.parametrize("text, correct, wrong", CASES, ids=IDS)
def test_the_correct_network_is_replayed_and_clean(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "xor.py", text, correct, correct)
    report = check(path, training=True)
    assert errors(report) == []
    (replayed,) = report["extras"]["replay"]
    assert replayed["not_replayed"] is None
    measured = {m["param"] for m in report["measurements"] if m["layer"] == "training step"}
    assert len(measured) == 9  # every scalar weight and bias judged
