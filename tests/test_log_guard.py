"""A guard inside the loss's log (`np.log(p + 1e-7)`), which the gradient `p - onehot` leaves out.

Where a sample's probability of its own class is far below the guard (a confident mistake: data not
scaled, weights drawn wide), the guarded loss no longer moves with that sample while its gradient
is whole, and the replay would call a right gradient wrong. The replay measures the loss with the
guard taken out, so a right step is clean and a wrong one is still named."""

from __future__ import annotations

import sys

import numpy as np

from backprop_doctor.replay.log_guard import Guards, guard_of, watched
from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(p, y):
    return -np.mean(np.log(p[np.arange(len(y)), y] + 1e-7))


gen = np.random.default_rng(4)
means = gen.normal(0, 3, (3, 8))
y_all = gen.integers(0, 3, 600)
X_all = means[y_all] + gen.normal(0, 1, (600, 8))
W = gen.normal(0, 1.5, (8, 16))
c = np.zeros(16)
V = gen.normal(0, 1.5, (16, 3))
d = np.zeros(3)
for it in range(300):
    rows = gen.integers(0, 600, 32)
    xb, yb = X_all[rows], y_all[rows]
    h = np.maximum(0, xb @ W + c)
    p = softmax(h @ V + d)
    loss = cross_entropy(p, yb)
    dz = p.copy()
    dz[np.arange(32), yb] -= 1
    dz /= 32
    dV = h.T @ dz
    dd = dz.sum(axis=0)
    dh = dz @ V.T * (h > 0)
    dW = xb.T @ dh
    dc = dh.sum(axis=0)
    W -= 0.01 * dW
    c -= 0.01 * dc
    V -= 0.01 * dV
    d -= 0.01 * dd
    if it % 50 == 0:
        print(it, loss)
'''

MASKED = "    dh = dz @ V.T * (h > 0)"


def test_a_right_step_with_confident_mistakes_is_clean(tmp_path):
    report = check(planted(tmp_path, "confident.py", PROGRAM, MASKED, MASKED))
    assert errors(report) == []
    step = replayed(report)
    assert step["guard_lifted"] and len(step["parameters"]) == 4 and not any(p["wrong"] for p in step["parameters"])


def test_the_relu_mask_left_out_is_still_named(tmp_path):
    path = planted(tmp_path, "confident.py", PROGRAM, MASKED, "    dh = dz @ V.T")
    (found,) = errors(check(path))
    assert found["line"] == line_of(path, "dh = dz @ V.T")
    assert "ReLU" in found["message"]


def test_a_bias_gradient_five_percent_off_is_still_named(tmp_path):
    path = planted(tmp_path, "confident.py", PROGRAM, "    dd = dz.sum(axis=0)", "    dd = dz.sum(axis=0) * 1.05")
    (found,) = errors(check(path))
    assert found["line"] == line_of(path, "dd = dz.sum(axis=0) * 1.05")
    assert "1.05" in found["message"]


def test_guards_are_read_from_the_line_that_calls_log():
    names = {"delta": 1e-7, "eps": 1e-10, "one": 1.0}.get
    assert guard_of("return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n") == (1e-7, True)
    assert guard_of("loss = -np.mean(np.log(1e-8 + p))") == (1e-8, True)
    assert guard_of("np.log(p + delta)", names) == (1e-7, True)
    assert guard_of("np.log(np.clip(p, 1e-12, 1.0))") == (1e-12, False)
    assert guard_of("np.log(np.maximum(p, eps))", names) == (1e-10, False)
    assert guard_of("np.log(p)") == (0.0, False)
    assert guard_of("np.log(x + 1)") == (0.0, False)  # a constant this large is part of the loss
    assert guard_of("np.log(x + one)", names) == (0.0, False)


def _module(tmp_path, name, text):
    """A module of the test's own, imported from a file: `Guards` reads the calling line from it."""
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_watching_measures_the_guard_and_lifting_takes_it_out(tmp_path):
    losses = _module(tmp_path, "guarded_losses", "import numpy as np\n\ndef nll(p):\n    return -np.mean(np.log(p + 1e-7))\n")
    p = np.array([0.5, 1e-30])
    numpy_log = np.log
    seen = watched(lambda: losses.nll(p))
    assert seen.effect == 1.0  # the second sample's share of the slope is gone entirely
    assert list(seen.constants.values()) == [1e-7]
    lifted = Guards(lift=True, constants=seen.constants)
    with lifted.active():
        value = losses.nll(p)
    assert value == -np.mean(np.log(p))  # the guard taken out where it is written: exact, however small p is
    assert lifted.effect == 0.0
    assert losses.nll(p) == -np.mean(np.log(p + 1e-7))  # and put back afterwards
    assert np.log is numpy_log


def test_an_unguarded_loss_is_left_alone(tmp_path):
    losses = _module(tmp_path, "plain_losses", "import numpy as np\n\ndef nll(p):\n    return -np.mean(np.log(p))\n")
    seen = watched(lambda: losses.nll(np.array([0.5, 1e-30])))
    assert seen.effect == 0.0 and seen.constants == {}
