"""A momentum buffer made zeros again at every pass of the training loop, before the pass decays it, carries
nothing from one update to the next (`checks/velocity_reset.py`, `static/velocity_reset.py`): named at the
line that makes the zeros. The same programs with the buffer made once before the loop are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

# weights in a tuple, the velocity a tuple rebuilt by a comprehension
TUPLES = '''\
import numpy as np


def loss(w, X, y):
    W, c = w
    return np.mean((X @ W + c - y) ** 2)


def grad(w, X, y):
    W, c = w
    r = 2.0 * (X @ W + c - y) / len(X)
    return X.T @ r, r.sum(axis=0)


def fit(w, X, y, lr=0.02, mu=0.85, steps=200):
    {outside}
    for i in range(steps):
        {inside}
        g = grad(w, X, y)
        buf = tuple(mu * b - lr * d for b, d in zip(buf, g))
        w = tuple(p + b for p, b in zip(w, buf))
    return w


rng = np.random.default_rng(4)
X = rng.normal(size=(64, 3))
y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1
w = fit((np.zeros((3, 1)), np.zeros(1)), X, y)
print(loss(w, X, y))
'''

# a flat script over a dict of weights, the velocity a dict walked by key
DICTS = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(50, 2))
t = (X[:, :1] > X[:, 1:]).astype(float)
net = {{"W": rng.normal(0, 0.1, (2, 1)), "b": np.zeros(1)}}
{outside}
for epoch in range(150):
    {inside}
    p = 1 / (1 + np.exp(-(X @ net["W"] + net["b"])))
    grads = {{"W": X.T @ (p - t) / len(X), "b": (p - t).mean(axis=0)}}
    for k in net:
        velocity[k] = 0.9 * velocity[k] + grads[k]
        net[k] -= 0.1 * velocity[k]
    if epoch % 50 == 0:
        print(epoch, -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))
'''

TUPLE_BUFFER = "buf = tuple(np.zeros_like(p) for p in w)"
DICT_BUFFER = "velocity = {k: np.zeros_like(v) for k, v in net.items()}"


def _program(template: str, buffer: str, inside: bool) -> str:
    return template.format(outside="" if inside else buffer, inside=buffer if inside else "pass")


def test_tuple_velocity_made_in_the_loop_is_named_there(tmp_path):
    path = write(tmp_path, "tuples.py", _program(TUPLES, TUPLE_BUFFER, inside=True))
    found = [f for f in errors(check(path)) if f["code"] == "BPD640"]
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, TUPLE_BUFFER)
    assert "momentum" in found[0]["message"] and "`buf`" in found[0]["message"]


def test_tuple_velocity_made_once_is_clean(tmp_path):
    report = check(write(tmp_path, "tuples.py", _program(TUPLES, TUPLE_BUFFER, inside=False)))
    assert [f for f in report["findings"] if f["code"] == "BPD640"] == []


def test_dict_velocity_made_in_the_epoch_loop_is_named_there(tmp_path):
    path = write(tmp_path, "dicts.py", _program(DICTS, DICT_BUFFER, inside=True))
    found = [f for f in errors(check(path)) if f["code"] == "BPD640"]
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, DICT_BUFFER)


def test_dict_velocity_made_once_is_clean(tmp_path):
    report = check(write(tmp_path, "dicts.py", _program(DICTS, DICT_BUFFER, inside=False)))
    assert errors(report) == []


def test_a_buffer_made_for_each_setting_of_a_search_is_not_named(tmp_path):
    # one fresh velocity per learning rate tried, decayed by the inner loop's steps: right
    program = _program(TUPLES, TUPLE_BUFFER, inside=False).replace(
        "w = fit((np.zeros((3, 1)), np.zeros(1)), X, y)",
        "for lr in (0.01, 0.02):\n    buf = (np.zeros((3, 1)), np.zeros(1))\n    for i in range(50):\n        buf = tuple(0.9 * b - lr * d for b, d in zip(buf, grad(w0, X, y)))\n        w0 = tuple(p + b for p, b in zip(w0, buf))\nw = fit((np.zeros((3, 1)), np.zeros(1)), X, y)",
    ).replace("rng = np.random.default_rng(4)", "w0 = (np.zeros((3, 1)), np.zeros(1))\nrng = np.random.default_rng(4)")
    report = check(write(tmp_path, "search.py", program))
    assert [f for f in report["findings"] if f["code"] == "BPD640"] == []
