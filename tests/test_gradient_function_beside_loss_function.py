"""A regression whose parameters are called `coef` and `shift` and whose loss and gradient come from a
pair of functions of its own, `loss = logcosh_loss(res)` and `gres = logcosh_grad(res)`: the updates
are found (a learning rate times a gradient function's result), the step is replayed, and a wrong
derivative in the gradient function is named at its `return`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

gen = np.random.default_rng(17)
A = gen.normal(size=(150, 3))
target = A @ np.array([1.5, -0.5, 2.0]) - 0.3 + 0.1 * gen.normal(size=150)


def logcosh_loss(res):
    return np.mean(np.log(np.cosh(res)))


def logcosh_grad(res):
    return np.tanh(res) / len(res)


coef = np.zeros(3)
shift = 0.0
lr = 0.5
for it in range(400):
    res = A @ coef + shift - target
    loss = logcosh_loss(res)
    gres = logcosh_grad(res)
    coef -= lr * (A.T @ gres)
    shift -= lr * gres.sum()
    if it % 50 == 0:
        print(it, loss)
'''

RIGHT = "    return np.tanh(res) / len(res)"


def test_the_updates_of_oddly_named_parameters_are_found_and_right(tmp_path):
    report = check(planted(tmp_path, "logcosh.py", PROGRAM, RIGHT, RIGHT))
    assert report["findings"] == []
    step = replayed(report)
    assert sorted(p["name"] for p in step["parameters"]) == ["coef", "shift"]
    assert not any(p["wrong"] for p in step["parameters"])


def test_a_wrong_derivative_in_the_gradient_function_is_named_at_its_return(tmp_path):
    path = planted(tmp_path, "logcosh.py", PROGRAM, RIGHT, "    return np.sinh(res) / len(res)")
    (found,) = errors(check(path))
    assert found["line"] == line_of(path, "return np.sinh(res)")
    assert "`gres`" in found["message"] and "`res`" in found["message"]
