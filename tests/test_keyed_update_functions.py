"""An update function over a dictionary whatever it is called: `p[k] -= lr * grads[k]`.

A script whose parameters live in a dictionary named `p` (or `net`, `model`) and whose update is
a small function looping over its keys used to be "nothing to check": the target `p[k]` did not
look like a parameter by its name. An entry moved by a rate times the gradient dictionary's
entry under the same key is one. When such an update adds what is the gradient (`+=`), the
update's line is the one to change.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.updates import parameter_updates
from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = '''\
import numpy as np


def init(n_in, n_h, n_out):
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((n_in, n_h)) * 0.5, "b1": np.zeros(n_h),
            "W2": rng.standard_normal((n_h, n_out)) * 0.5, "b2": np.zeros(n_out)}


def forward(X, p):
    h = np.tanh(X @ p["W1"] + p["b1"])
    return h @ p["W2"] + p["b2"], h


def backward(X, y, out, h, p):
    dout = 2 * (out - y) / len(X)
    grads = {"W2": h.T @ dout, "b2": dout.sum(axis=0)}
    dh = dout @ p["W2"].T * (1 - h ** 2)
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    return grads


def update(p, grads, lr):
    for k in p:
        p[k] -= lr * grads[k]
    return p


rng = np.random.default_rng(1)
X = rng.standard_normal((100, 4))
y = np.sin(X.sum(axis=1, keepdims=True))
net = init(4, 8, 1)
for step in range(300):
    out, h = forward(X, net)
    loss = np.mean((out - y) ** 2)
    grads = backward(X, y, out, h, net)
    net = update(net, grads, 0.05)
'''


def test_the_update_function_is_replayed_and_the_correct_script_is_clean(tmp_path):
    report = check(write(tmp_path, "train.py", SCRIPT))
    assert errors(report) == []
    wrong = {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}
    assert wrong == {"net['W1']": False, "net['b1']": False, "net['W2']": False, "net['b2']": False}


def test_an_update_that_adds_the_gradient_is_named_at_the_update(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "p[k] -= lr * grads[k]", "p[k] += lr * grads[k]")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD108", line_of(path, "p[k] += lr * grads[k]"))
    assert "climbs it (gradient ascent): subtract the step instead of adding it" in finding["message"]


def test_a_wrong_gradient_behind_the_same_update_is_named_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "grads[\"b1\"] = dh.sum(axis=0)", "grads[\"b1\"] = dh.sum(axis=0) * 3")
    found = {(f["code"], f["line"]) for f in errors(check(path))}
    assert found == {("BPD108", line_of(path, 'grads["b1"] = dh.sum(axis=0) * 3'))}


def test_an_optimiser_moment_moved_by_the_gradient_is_not_a_parameter():
    """Adam's `m[k] += (1 - beta1) * (grads[k] - m[k])` has no rate and `m` is the optimiser's
    state: only `p[k] -= lr * m[k]` moves a parameter."""
    text = SCRIPT.replace(
        "def update(p, grads, lr):\n    for k in p:\n        p[k] -= lr * grads[k]\n",
        "m = {}\n\n\ndef update(p, grads, lr, beta1=0.9):\n    for k in p:\n        m.setdefault(k, np.zeros_like(p[k]))\n"
        "        m[k] += (1 - beta1) * (grads[k] - m[k])\n        p[k] -= lr * m[k]\n",
    )
    assert [u.source for u in parameter_updates(ast.parse(text))] == ["p[k] -= lr * m[k]"]
    plain = SCRIPT.replace("p[k] -= lr * grads[k]", "p[k] -= grads[k]")  # no rate: not taken by its key alone
    assert parameter_updates(ast.parse(plain)) == []
    numbered = SCRIPT.replace("p[k] -= lr * grads[k]", "p[k] -= 0.5 * grads[k]")  # a rate written as a number
    assert [u.source for u in parameter_updates(ast.parse(numbered))] == ["p[k] -= 0.5 * grads[k]"]
