"""A training step whose update moves several parameters in one statement that walks them in step
with their gradients, written any of the ways students write it: a list comprehension or a generator
unpacked into the names (`W1, W2 = [p - lr * g for p, g in zip((W1, W2), (gW1, gW2))]`), `map` of a
lambda, rows of literal pairs, NumPy writing into the parameter (`np.subtract(W1, lr * gW1, out=W1)`,
`np.add(W, -lr * dW, out=W)`), and a dict of parameters rebound by a comprehension over its own entries
(`P = {k: v - lr * G[k] for k, v in P.items()}`, `{k: P[k] - lr * G["d" + k] for k in P}`, or refilled by
`P.update({...})`).

Each is read as the working spellings are (`W1, W2 = W1 - lr * gW1, W2 - lr * gW2`, `W1 -= lr * gW1`,
`for k in P: P[k] -= lr * G[k]`): the step is replayed and each parameter's gradient measured, so a
correct program gets no error and no warning (before, each got "nothing to check", BPD007), and a
planted gradient bug is an error at its line. The planted line is the one that computes the shared
hidden-layer adjoint (`dz1 = ... * (1 - a1)`): the gradients of W1 and b1 are both wrong and both are
computed from it, so the finding points there rather than at `gW1 = X.T @ dz1`, which is right given
its input; in the scripts without a bias the planted line is `gW1`'s own.

Momentum and Adam written the same ways behave as their tuple spellings do (measured, clean when right,
the bug found when wrong).
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

# a plain script: tanh hidden layer, mean squared error, no biases
SCRIPT = """\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(64, 3))
y = np.sin(X @ np.array([[1.0], [-0.5], [0.25]]))
W1 = rng.normal(0, 0.5, (3, 8))
W2 = rng.normal(0, 0.5, (8, 1))
gain = 0.05

for epoch in range(400):
    h = np.tanh(X @ W1)
    out = h @ W2
    err = out - y
    loss = np.mean(err ** 2)
    dout = 2 * err / len(X)
    gW2 = h.T @ dout
    dh = dout @ W2.T
    gW1 = X.T @ (dh * (1 - h ** 2))
    UPDATE
    if epoch % 100 == 0:
        print(epoch, loss)
"""
SCRIPT_RIGHT, SCRIPT_WRONG = "gW1 = X.T @ (dh * (1 - h ** 2))", "gW1 = X.T @ (dh * (1 - h))"

SCRIPT_UPDATES = {
    "list comprehension": "W1, W2 = [p - gain * g for p, g in zip((W1, W2), (gW1, gW2))]",
    "generator": "W1, W2 = (p - gain * g for p, g in zip((W1, W2), (gW1, gW2)))",
    "map of a lambda": "W1, W2 = map(lambda p, g: p - gain * g, (W1, W2), (gW1, gW2))",
    "np.subtract out=": "np.subtract(W1, gain * gW1, out=W1)\n    np.subtract(W2, gain * gW2, out=W2)",
    "lists in list(map)": "W1, W2 = list(map(lambda p, g: p - gain * g, [W1, W2], [gW1, gW2]))",
    "rows of pairs": "W1, W2 = [w - gain * g for w, g in ((W1, gW1), (W2, gW2))]",
    "np.add out= of minus": "np.add(W1, -gain * gW1, out=W1)\n    np.add(W2, -gain * gW2, out=W2)",
    "output given third": "np.subtract(W1, gain * gW1, W1)\n    np.subtract(W2, gain * gW2, W2)",
    "gradients by name": "grads = [gW1, gW2]\n    W1, W2 = [p - gain * g for p, g in zip((W1, W2), grads)]",
}

# a function holding the loop, with biases
FUNCTION = """\
import numpy as np


def train(X, y, hidden=12, lr=0.1, epochs=300):
    rng = np.random.default_rng(7)
    W1 = rng.normal(0, 0.3, (X.shape[1], hidden))
    b1 = np.zeros(hidden)
    W2 = rng.normal(0, 0.3, (hidden, 1))
    b2 = np.zeros(1)
    for epoch in range(epochs):
        a1 = np.tanh(X @ W1 + b1)
        pred = a1 @ W2 + b2
        loss = ((pred - y) ** 2).mean()
        d_pred = 2 * (pred - y) / y.size
        gW2 = a1.T @ d_pred
        gb2 = d_pred.sum(axis=0)
        dz1 = (d_pred @ W2.T) * (1 - a1 ** 2)
        gW1 = X.T @ dz1
        gb1 = dz1.sum(axis=0)
        UPDATE
    return W1, b1, W2, b2


data = np.random.default_rng(1).uniform(-1, 1, (100, 2))
target = (data[:, :1] * data[:, 1:]) + 0.1
train(data, target)
"""
FUNCTION_RIGHT, FUNCTION_WRONG = "dz1 = (d_pred @ W2.T) * (1 - a1 ** 2)", "dz1 = (d_pred @ W2.T) * (1 - a1)"

FUNCTION_UPDATES = {
    "list comprehension": "W1, b1, W2, b2 = [p - lr * g for p, g in zip((W1, b1, W2, b2), (gW1, gb1, gW2, gb2))]",
    "generator": "W1, b1, W2, b2 = (p - lr * g for p, g in zip((W1, b1, W2, b2), (gW1, gb1, gW2, gb2)))",
    "map of a lambda": "W1, b1, W2, b2 = map(lambda p, g: p - lr * g, (W1, b1, W2, b2), (gW1, gb1, gW2, gb2))",
    "np.subtract out= in a loop": "for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):\n            np.subtract(p, lr * g, out=p)",
}

# cs231n-style: a dict of parameters the forward pass reads by name
DICT_SCRIPT = """\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(80, 4))
y = np.cos(X[:, :1] - X[:, 1:2])
P = {'W1': rng.normal(0, 0.4, (4, 10)), 'b1': np.zeros(10), 'W2': rng.normal(0, 0.4, (10, 1)), 'b2': np.zeros(1)}
gain = 0.1
for it in range(300):
    h = np.tanh(X @ P['W1'] + P['b1'])
    out = h @ P['W2'] + P['b2']
    err = out - y
    loss = np.mean(err ** 2)
    dout = 2 * err / len(X)
    G = {'W2': h.T @ dout, 'b2': dout.sum(axis=0)}
    dz = dout @ P['W2'].T * (1 - h ** 2)
    G['W1'] = X.T @ dz
    G['b1'] = dz.sum(axis=0)
    UPDATE
"""
DICT_SCRIPT_RIGHT, DICT_SCRIPT_WRONG = "dz = dout @ P['W2'].T * (1 - h ** 2)", "dz = dout @ P['W2'].T * (1 - h)"

DICT_FUNCTION = """\
import numpy as np


def fit(X, y, hidden=16, step=0.2, iters=250):
    rng = np.random.default_rng(11)
    P = {"W1": 0.3 * rng.standard_normal((X.shape[1], hidden)), "b1": np.zeros(hidden),
         "W2": 0.3 * rng.standard_normal((hidden, 1)), "b2": np.zeros(1)}
    for it in range(iters):
        hid = np.tanh(X @ P["W1"] + P["b1"])
        out = hid @ P["W2"] + P["b2"]
        loss = 0.5 * np.mean((out - y) ** 2)
        dout = (out - y) / len(X)
        G = {"W2": hid.T @ dout, "b2": dout.sum(axis=0)}
        dhid = dout @ P["W2"].T * (1 - hid ** 2)
        G["W1"] = X.T @ dhid
        G["b1"] = dhid.sum(axis=0)
        UPDATE
    return P


xs = np.random.default_rng(2).normal(size=(90, 3))
fit(xs, np.tanh(xs @ np.array([[0.5], [-1.0], [0.3]])))
"""
DICT_FUNCTION_RIGHT, DICT_FUNCTION_WRONG = 'dhid = dout @ P["W2"].T * (1 - hid ** 2)', 'dhid = dout @ P["W2"].T * (1 - hid)'

MOMENTUM = "vW1 = mu * vW1 - gain * gW1\n    vW2 = mu * vW2 - gain * gW2\n    "
ADAM = (
    "m1 = 0.9 * m1 + 0.1 * gW1\n    m2 = 0.9 * m2 + 0.1 * gW2\n"
    "    s1 = 0.999 * s1 + 0.001 * gW1 ** 2\n    s2 = 0.999 * s2 + 0.001 * gW2 ** 2\n    "
)
OPTIMISER_STATE = "gain = 0.05\nmu = 0.9\nvW1, vW2 = np.zeros_like(W1), np.zeros_like(W2)\nm1, m2, s1, s2 = 0 * W1, 0 * W2, 0 * W1, 0 * W2\n"
OPTIMISER_UPDATES = {
    "momentum, list comprehension": MOMENTUM + "W1, W2 = [p + v for p, v in zip((W1, W2), (vW1, vW2))]",
    "momentum, np.add out=": MOMENTUM + "np.add(W1, vW1, out=W1)\n    np.add(W2, vW2, out=W2)",
    "Adam, list comprehension": ADAM + "W1, W2 = [p - gain * m / (np.sqrt(s) + 1e-8) for p, m, s in zip((W1, W2), (m1, m2), (s1, s2))]",
    "Adam, np.subtract out=": ADAM + "np.subtract(W1, gain * m1 / (np.sqrt(s1) + 1e-8), out=W1)\n    np.subtract(W2, gain * m2 / (np.sqrt(s2) + 1e-8), out=W2)",
}


def _program(template: str, update: str) -> str:
    return template.replace("UPDATE", update)


def _assert_clean_and_measured(report: dict, parameters: set[str]) -> None:
    bad = [(f["code"], f["severity"], f["line"], f["message"]) for f in report["findings"] if f["severity"] in ("error", "warning")]
    assert bad == [], bad
    verdicts = step_verdicts(report)
    assert set(verdicts) == parameters and set(verdicts.values()) == {"ok"}, verdicts


def _assert_found_at(report: dict, line: int) -> None:
    found = errors(report)
    assert found and {f["line"] for f in found} == {line}, [(f["code"], f["line"], f["message"]) for f in found]
    assert any(v == "mismatch" for v in step_verdicts(report).values()), step_verdicts(report)


@pytest.mark.parametrize("update", list(SCRIPT_UPDATES.values()), ids=list(SCRIPT_UPDATES))
def test_a_plain_script_is_replayed_clean_and_its_wrong_gradient_found(tmp_path, update):
    program = _program(SCRIPT, update)
    _assert_clean_and_measured(check(planted(tmp_path, "right.py", program, SCRIPT_RIGHT, SCRIPT_RIGHT), training=True), {"W1", "W2"})
    wrong = planted(tmp_path, "wrong.py", program, SCRIPT_RIGHT, SCRIPT_WRONG)
    _assert_found_at(check(wrong), line_of(wrong, SCRIPT_WRONG))


@pytest.mark.parametrize("update", list(FUNCTION_UPDATES.values()), ids=list(FUNCTION_UPDATES))
def test_a_training_function_is_replayed_clean_and_its_wrong_gradient_found(tmp_path, update):
    program = _program(FUNCTION, update)
    _assert_clean_and_measured(check(planted(tmp_path, "right.py", program, FUNCTION_RIGHT, FUNCTION_RIGHT), training=True), {"W1", "b1", "W2", "b2"})
    wrong = planted(tmp_path, "wrong.py", program, FUNCTION_RIGHT, FUNCTION_WRONG)
    _assert_found_at(check(wrong), line_of(wrong, FUNCTION_WRONG))


@pytest.mark.parametrize(
    ("template", "right", "wrong", "update"),
    [
        (DICT_SCRIPT, DICT_SCRIPT_RIGHT, DICT_SCRIPT_WRONG, "P = {k: v - gain * G[k] for k, v in P.items()}"),
        (DICT_SCRIPT, DICT_SCRIPT_RIGHT, DICT_SCRIPT_WRONG, "P = {k: P[k] - gain * G[k] for k in P}"),
        (DICT_FUNCTION, DICT_FUNCTION_RIGHT, DICT_FUNCTION_WRONG, "P = {k: v - step * G[k] for k, v in P.items()}"),
        (DICT_FUNCTION, DICT_FUNCTION_RIGHT, DICT_FUNCTION_WRONG, "P = {name: P[name] - step * G[name] for name in P}"),
    ],
    ids=["script, items", "script, keys", "function, items", "function, keys"],
)
def test_a_dict_of_parameters_rebound_by_a_comprehension_is_replayed(tmp_path, template, right, wrong, update):
    program = _program(template, update)
    names = {"P['W1']", "P['b1']", "P['W2']", "P['b2']"}
    _assert_clean_and_measured(check(planted(tmp_path, "right.py", program, right, right), training=True), names)
    path = planted(tmp_path, "wrong.py", program, right, wrong)
    report = check(path)
    _assert_found_at(report, line_of(path, wrong))
    assert {p for p, v in step_verdicts(report).items() if v == "mismatch"} == {"P['W1']", "P['b1']"}, step_verdicts(report)


@pytest.mark.parametrize("update", list(OPTIMISER_UPDATES.values()), ids=list(OPTIMISER_UPDATES))
def test_momentum_and_adam_written_these_ways_are_read_as_their_tuple_spellings(tmp_path, update):
    program = _program(SCRIPT, update).replace("gain = 0.05\n", OPTIMISER_STATE)
    _assert_clean_and_measured(check(planted(tmp_path, "right.py", program, SCRIPT_RIGHT, SCRIPT_RIGHT)), {"W1", "W2"})
    wrong = planted(tmp_path, "wrong.py", program, SCRIPT_RIGHT, SCRIPT_WRONG)
    _assert_found_at(check(wrong), line_of(wrong, SCRIPT_WRONG))


@pytest.mark.parametrize(
    ("template", "right", "wrong", "update", "keys"),
    [
        (DICT_SCRIPT, DICT_SCRIPT_RIGHT, DICT_SCRIPT_WRONG, "P.update({k: v - gain * G[k] for k, v in P.items()})", None),
        (DICT_FUNCTION, DICT_FUNCTION_RIGHT, DICT_FUNCTION_WRONG, "P = {k: P[k] - step * G['d' + k] for k in P}", 'G["d{}"]'),
        (DICT_FUNCTION, DICT_FUNCTION_RIGHT, DICT_FUNCTION_WRONG, "P = {k: v - step * G[f'd{k}'] for k, v in P.items()}", 'G["d{}"]'),
    ],
    ids=["refilled by update()", "gradients keyed 'd' + k", "gradients keyed f'd{k}'"],
)
def test_a_dict_refilled_in_place_or_read_under_the_gradients_own_keys(tmp_path, template, right, wrong, update, keys):
    program = _program(template, update)
    if keys is not None:  # the Coursera course's keys: `G["dW1"]` for `P["W1"]`
        program = program.replace('G = {"W2": hid.T @ dout, "b2": dout.sum(axis=0)}', 'G = {"dW2": hid.T @ dout, "db2": dout.sum(axis=0)}')
        program = program.replace('G["W1"] =', keys.format("W1") + " =").replace('G["b1"] =', keys.format("b1") + " =")
        assert '"dW1"' in program and '"db2"' in program
    names = {"P['W1']", "P['b1']", "P['W2']", "P['b2']"}
    _assert_clean_and_measured(check(planted(tmp_path, "right.py", program, right, right), training=True), names)
    path = planted(tmp_path, "wrong.py", program, right, wrong)
    _assert_found_at(check(path), line_of(path, wrong))


def test_a_dict_moved_by_its_velocity_is_not_read_as_a_plain_step(tmp_path):
    """`P = {k: v + V[k] ...}` adds a velocity the gradient went into earlier: no rate times a gradient
    to read, so it is not taken for a plain step (no gradient judged wrong, no error on the correct program)."""
    program = _program(DICT_SCRIPT, "V = {k: 0.9 * V[k] - gain * G[k] for k in V}\n    P = {k: v + V[k] for k, v in P.items()}")
    program = program.replace("gain = 0.1\n", "gain = 0.1\nV = {k: np.zeros_like(v) for k, v in P.items()}\n")
    report = check(write(tmp_path, "momentum.py", program))
    assert errors(report) == [] and "mismatch" not in step_verdicts(report).values(), (errors(report), step_verdicts(report))
