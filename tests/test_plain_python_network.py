"""A network in plain Python lists and floats, trained one sample at a time, its updates made entry
by entry inside loops over the units (`for j in range(n_hid): w2[j] -= lr * dy * h[j]`), its loss
summed in a name that says nothing (`total += 0.5 * (y - t) ** 2`): the training step is the loop
over samples, not the loop over units; `h[j]` beside the gradient is an activation, not an
Adagrad cache; every entry is measured; a missing derivative is named through `dh`."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

PROGRAM = """\
import math
import random

random.seed(1)
data = [([0, 0], 0), ([0, 1], 1), ([1, 0], 1), ([1, 1], 0)]
n_in, n_hid = 2, 3
w1 = [[random.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_hid)]
b1 = [0.0] * n_hid
w2 = [random.uniform(-1, 1) for _ in range(n_hid)]
b2 = 0.0
lr = 0.5


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


for epoch in range(5000):
    total = 0.0
    for x, t in data:
        h = [sigmoid(sum(w1[j][i] * x[i] for i in range(n_in)) + b1[j]) for j in range(n_hid)]
        y = sigmoid(sum(w2[j] * h[j] for j in range(n_hid)) + b2)
        total += 0.5 * (y - t) ** 2
        dy = (y - t) * y * (1 - y)
        for j in range(n_hid):
            dh = dy * w2[j] * h[j] * (1 - h[j])
            w2[j] -= lr * dy * h[j]
            for i in range(n_in):
                w1[j][i] -= lr * dh * x[i]
            b1[j] -= lr * dh
        b2 -= lr * dy
"""


def test_every_entry_of_a_plain_python_network_is_measured(tmp_path):
    report = check(write(tmp_path, "xor.py", PROGRAM))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "total"
    names = {p["name"] for p in step["parameters"]}
    assert {"w2[0]", "w2[2]", "w1[1][0]", "b1[2]", "b2"} <= names and not any(p["wrong"] for p in step["parameters"])


def test_a_missing_derivative_in_the_units_loop_is_found_through_dh(tmp_path):
    path = planted(tmp_path, "xor.py", PROGRAM, "dh = dy * w2[j] * h[j] * (1 - h[j])", "dh = dy * w2[j] * h[j]")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and all("dh" in f["message"] for f in found)
    assert not any("`dy`" in f["message"] for f in found)  # the updates made from dy are right: dy is not blamed
