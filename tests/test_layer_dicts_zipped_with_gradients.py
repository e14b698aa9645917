"""Layers kept as a list of dicts and updated in step with a list of gradient pairs
(`for layer, (gW, gb) in zip(layers, grads): layer["W"] -= lr * gW`): whatever the lists are called,
what a loop walks beside the gradients holds the parameters, and each name unpacked from a gradient's
entry is a gradient. The loop is replayed.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(21)
X = rng.normal(size=(80, 4))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
stack = [{"W": rng.normal(scale=0.6, size=(4, 10)), "b": np.zeros(10)},
         {"W": rng.normal(scale=0.6, size=(10, 1)), "b": np.zeros(1)}]


def pass_through(X, Y):
    h = np.tanh(X @ stack[0]["W"] + stack[0]["b"])
    p = 1 / (1 + np.exp(-(h @ stack[1]["W"] + stack[1]["b"])))
    loss = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    dz = (p - Y) / len(X)
    dh = dz @ stack[1]["W"].T * (1 - h ** 2)
    return loss, [(X.T @ dh, dh.sum(0)), (h.T @ dz, dz.sum(0))]


for it in range(300):
    loss, pairs = pass_through(X, Y)
    for layer, (gW, gb) in zip(stack, pairs):
        layer["W"] -= 0.5 * gW
        layer["b"] -= 0.5 * gb
    if it % 100 == 0:
        print(it, loss)
'''

SLOPE = '    dh = dz @ stack[1]["W"].T * (1 - h ** 2)\n'


def test_layer_dicts_updated_beside_their_gradients_are_replayed(tmp_path):
    report = check(planted(tmp_path, "ok.py", PROGRAM, SLOPE, SLOPE))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {
        "stack[0]['W']", "stack[0]['b']", "stack[1]['W']", "stack[1]['b']"
    }
    bug = planted(tmp_path, "bug.py", PROGRAM, SLOPE, '    dh = dz @ stack[1]["W"].T * (1 - h)\n')
    assert errors(check(bug))[0]["line"] == line_of(bug, "(1 - h)")
