"""A training pass that updates the parameters before it computes their gradient: the forward runs,
then the update applies the gradient name as the previous pass left it, then the backward sets it
for the next pass. Every gradient function is right; the order is wrong. Named at the update, with
the line that computes the gradient, not as a wrong gradient of the update's own statement. The
correct twins (backward before update, and a pass that starts with its update and computes the
next pass's gradient at its end) get no error."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

FUNCTIONAL = """
import numpy as np


def forward(theta, inputs, targets):
    pre = inputs @ theta["U"] + theta["u"]
    act = np.tanh(pre)
    pred = act @ theta["V"] + theta["v"]
    return np.mean((pred - targets) ** 2), (inputs, act, pred, targets)


def backward(theta, saved):
    inputs, act, pred, targets = saved
    dpred = 2 * (pred - targets) / pred.size
    dpre = (dpred @ theta["V"].T) * (1 - act ** 2)
    return {"U": inputs.T @ dpre, "u": dpre.sum(0), "V": act.T @ dpred, "v": dpred.sum(0)}


def apply(theta, gradients, step_size):
    for key in theta:
        theta[key] -= step_size * gradients[key]


rs = np.random.default_rng(17)
data = rs.uniform(-1, 1, (160, 4))
goal = np.sin(data[:, :1] * 2) + data[:, 1:2] * data[:, 3:4]
theta = {"U": rs.normal(0, 0.5, (4, 24)), "u": np.zeros(24), "V": rs.normal(0, 0.5, (24, 1)), "v": np.zeros(1)}
gradients = {key: np.zeros_like(value) for key, value in theta.items()}
for it in range(200):
    start = (it * 16) % 160
    cost, saved = forward(theta, data[start:start + 16], goal[start:start + 16])
    gradients = backward(theta, saved)
    apply(theta, gradients, 0.3)
print(cost)
"""

SCRIPT = """
import numpy as np

rs = np.random.RandomState(4)
X = rs.randn(120, 3)
Y = (X[:, :1] ** 2 - X[:, 1:2] + 0.5 * X[:, 2:3])
W1 = rs.randn(3, 20) * 0.4
c1 = np.zeros(20)
W2 = rs.randn(20, 1) * 0.4
c2 = np.zeros(1)
gW1, gc1, gW2, gc2 = np.zeros_like(W1), np.zeros_like(c1), np.zeros_like(W2), np.zeros_like(c2)
rate = 0.2
for epoch in range(150):
    rows = rs.choice(120, 30, replace=False)
    xb, yb = X[rows], Y[rows]
    hid = np.maximum(0, xb @ W1 + c1)
    out = hid @ W2 + c2
    loss = 0.5 * np.mean((out - yb) ** 2)
    err = (out - yb) / len(xb)
    gW2 = hid.T @ err
    gc2 = err.sum(0)
    dhid = (err @ W2.T) * (hid > 0)
    gW1 = xb.T @ dhid
    gc1 = dhid.sum(0)
    W1 -= rate * gW1
    c1 -= rate * gc1
    W2 -= rate * gW2
    c2 -= rate * gc2
print(loss)
"""

# the functional loop with `apply` moved above `backward`
FUNCTIONAL_RIGHT = "    gradients = backward(theta, saved)\n    apply(theta, gradients, 0.3)\n"
FUNCTIONAL_EARLY = "    apply(theta, gradients, 0.3)\n    gradients = backward(theta, saved)\n"
# the script with its four updates moved above the backward statements
BACKWARD = "    err = (out - yb) / len(xb)\n    gW2 = hid.T @ err\n    gc2 = err.sum(0)\n    dhid = (err @ W2.T) * (hid > 0)\n    gW1 = xb.T @ dhid\n    gc1 = dhid.sum(0)\n"
UPDATES = "    W1 -= rate * gW1\n    c1 -= rate * gc1\n    W2 -= rate * gW2\n    c2 -= rate * gc2\n"
SCRIPT_RIGHT = BACKWARD + UPDATES
SCRIPT_EARLY = UPDATES + BACKWARD

# a pass that starts with its update and computes the next pass's gradient after it (the whole data set): right
AHEAD = FUNCTIONAL.replace(
    "for it in range(200):\n    start = (it * 16) % 160\n    cost, saved = forward(theta, data[start:start + 16], goal[start:start + 16])\n"
    "    gradients = backward(theta, saved)\n    apply(theta, gradients, 0.3)\n",
    "cost, saved = forward(theta, data, goal)\ngradients = backward(theta, saved)\nfor it in range(200):\n"
    "    apply(theta, gradients, 0.3)\n    cost, saved = forward(theta, data, goal)\n    gradients = backward(theta, saved)\n",
)


def early(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["pattern"] == "applied-before-computed"]


def test_backward_before_the_update_is_clean(tmp_path: Path) -> None:
    for name, text, right in (("functional.py", FUNCTIONAL, FUNCTIONAL_RIGHT), ("script.py", SCRIPT, SCRIPT_RIGHT)):
        report = check(planted(tmp_path, name, text, right, right), training=True)
        assert errors(report) == [], (name, report["findings"])


def test_a_pass_that_updates_first_and_computes_the_next_gradient_at_its_end_is_clean(tmp_path: Path) -> None:
    assert AHEAD != FUNCTIONAL
    report = check(planted(tmp_path, "ahead.py", AHEAD, "apply(", "apply("), training=True)
    assert errors(report) == [] and early(report) == [], report["findings"]


def test_an_update_function_called_before_backward_is_named_at_the_call(tmp_path: Path) -> None:
    path = planted(tmp_path, "functional.py", FUNCTIONAL, FUNCTIONAL_RIGHT, FUNCTIONAL_EARLY)
    (finding,) = early(check(path, training=True))
    update, computed = line_of(path, "    apply(theta, gradients, 0.3)"), line_of(path, "gradients = backward(theta, saved)")
    assert (finding["code"], finding["severity"], finding["line"], finding["highlight"]) == ("BPD108", "error", update, [update, computed])
    assert f"line {update} (`apply(theta, gradients, 0.3)`) applies `gradients` before line {computed}" in finding["message"]
    assert "the gradient the previous pass left in `gradients`" in finding["message"]
    assert f"move line {update} below line {computed}" in finding["message"]


def test_inline_updates_before_the_backward_statements_are_named_at_the_first_update(tmp_path: Path) -> None:
    path = planted(tmp_path, "script.py", SCRIPT, SCRIPT_RIGHT, SCRIPT_EARLY)
    (finding,) = early(check(path, training=True))
    update = line_of(path, "W1 -= rate * gW1")
    assert (finding["code"], finding["line"]) == ("BPD108", update)
    assert f"line {update} (`W1 -= rate * gW1`) applies `gW1` before line {line_of(path, 'gW1 = xb.T @ dhid')}" in finding["message"]
