"""Parameters updated together in one statement: a tuple assignment in the loop, or an update
function that returns the new values (`return W - lr * dW, b - lr * db`) for the loop to unpack.

Each part of such a statement is one parameter's update, seen at the statement's line.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.updates import parameter_updates
from tests.userfiles import check, errors, line_of, planted, replayed, write

IN_THE_LOOP = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = X @ np.array([[0.5], [-1.0], [2.0]])
W1 = rng.normal(size=(3, 6)) * 0.5
b1 = np.zeros((1, 6))
W2 = rng.normal(size=(6, 1)) * 0.5
lr = 0.05
for i in range(300):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2
    loss = np.mean((out - y) ** 2)
    e = 2 * (out - y) / len(X)
    dW2 = h.T @ e
    dh = e @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(0, keepdims=True)
    W1, b1, W2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2
'''

RETURNED = IN_THE_LOOP.replace(
    "    W1, b1, W2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2\n",
    "    W1, b1, W2 = descend(W1, b1, W2, dW1, db1, dW2, lr)\n",
).replace(
    "lr = 0.05\n",
    "lr = 0.05\n\n\ndef descend(W1, b1, W2, dW1, db1, dW2, rate):\n    return W1 - rate * dW1, b1 - rate * db1, W2 - rate * dW2\n\n\n",
)


def test_each_part_of_a_tuple_update_is_an_update_at_that_line():
    tree = ast.parse(IN_THE_LOOP)
    line = next(n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Tuple))
    assert [(u.line, u.target) for u in parameter_updates(tree)] == [(line, "W1"), (line, "b1"), (line, "W2")]


def test_a_returned_step_updates_only_the_functions_own_arguments():
    tree = ast.parse("def f(W, dW, rate):\n    return W - rate * dW, W_other - rate * dW\n")
    assert [u.target for u in parameter_updates(tree)] == ["W"]


def test_correct_programs_are_replayed_with_every_parameter(tmp_path):
    for name, text in (("loop.py", IN_THE_LOOP), ("returned.py", RETURNED)):
        report = check(write(tmp_path, name, text))
        assert errors(report) == [], name
        result = replayed(report)
        assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("W1", False), ("b1", False), ("W2", False)], name


def test_a_wrong_derivative_before_a_tuple_update_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "loop.py", IN_THE_LOOP, "(1 - h ** 2)", "(1 - h)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"], finding["param"]) == ("BPD108", line_of(path, "dh = e @ W2.T"), "dh")


def test_a_flipped_sign_in_a_returned_step_is_named_at_the_return(tmp_path):
    path = planted(tmp_path, "returned.py", RETURNED, "return W1 - rate * dW1", "return W1 + rate * dW1")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"], finding["param"]) == ("BPD108", line_of(path, "return W1 + rate"), "W1")
    assert "adds `dW1`, which is the gradient of `loss`" in finding["message"] and "subtract the step" in finding["message"]
