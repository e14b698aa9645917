"""Update functions over a parameter dictionary, in files of their own.

Course assignments split a network into one function per file; the optimizer's are
`update_parameters_with_gd(parameters, grads, learning_rate)`,
`update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)` and
`update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, ...)`. Each is called once
on a fresh two-layer dictionary (`W1`, `b1`, `W2`, `b2`), gradients keyed `dW1`, ..., and zeroed
state; a parameter it moves up its gradient is `update-climbs` at the statement that adds the step.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

GD = """\
    def update_parameters_with_gd(parameters, grads, learning_rate):
        L = len(parameters) // 2
        for l in range(L):
            parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
            parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
        return parameters
"""

MOMENTUM = """\
    def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
        L = len(parameters) // 2
        for l in range(L):
            v["dW" + str(l + 1)] = beta * v["dW" + str(l + 1)] + (1 - beta) * grads["dW" + str(l + 1)]
            v["db" + str(l + 1)] = beta * v["db" + str(l + 1)] + (1 - beta) * grads["db" + str(l + 1)]
            parameters["W" + str(l + 1)] -= learning_rate * v["dW" + str(l + 1)]
            parameters["b" + str(l + 1)] -= learning_rate * v["db" + str(l + 1)]
        return parameters, v
"""

ADAM = """\
    import numpy as np

    def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
        L = len(parameters) // 2
        for l in range(1, L + 1):
            for p in ("W", "b"):
                g = grads["d" + p + str(l)]
                v["d" + p + str(l)] = beta1 * v["d" + p + str(l)] + (1 - beta1) * g
                s["d" + p + str(l)] = beta2 * s["d" + p + str(l)] + (1 - beta2) * g ** 2
                v_hat = v["d" + p + str(l)] / (1 - beta1 ** t)
                s_hat = s["d" + p + str(l)] / (1 - beta2 ** t)
                parameters[p + str(l)] = parameters[p + str(l)] - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
        return parameters, v, s
"""


@pytest.mark.parametrize("text", [GD, MOMENTUM, ADAM], ids=["gd", "momentum", "adam"])
def test_each_correct_update_is_stepped_and_clean(tmp_path, text):
    report = check(write(tmp_path, "update.py", text))
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "nothing-to-check"]
    rows = {(m["param"], m["verdict"]) for m in report["measurements"]}
    assert rows == {(f"{name} step", "ok (update)") for name in ("W1", "b1", "W2", "b2")}


def test_a_gradient_descent_that_adds_the_step_climbs_at_that_line(tmp_path):
    path = planted(tmp_path, "update.py", GD, '] - learning_rate * grads["dW"', '] + learning_rate * grads["dW"')
    (error,) = errors(check(path))
    assert (error["name"], error["line"]) == ("update-climbs", line_of(path, '+ learning_rate * grads["dW"'))
    assert "moves `W1`, `W2` along its gradient" in error["message"]  # the biases still descend


def test_a_momentum_that_adds_its_velocity_climbs_at_that_line(tmp_path):
    path = planted(
        tmp_path, "update.py", MOMENTUM, 'parameters["W" + str(l + 1)] -= learning_rate', 'parameters["W" + str(l + 1)] += learning_rate'
    )
    (error,) = errors(check(path))
    assert (error["name"], error["line"]) == ("update-climbs", line_of(path, 'parameters["W" + str(l + 1)] += learning_rate'))


def test_a_function_needing_what_an_update_is_not_given_is_not_taken_for_one(tmp_path):
    text = GD.replace("update_parameters_with_gd(parameters, grads, learning_rate)", "update_parameters_with_gd(parameters, grads, learning_rate, X)")
    report = check(write(tmp_path, "update.py", text))
    assert [f["name"] for f in report["findings"] if f["severity"] != "info"] == ["nothing-to-check"]


PAIRS = """\
    import numpy as np

    class SGDMomentum:
        def __init__(self, lr=0.1, beta=0.9):
            self.lr, self.beta, self.velocities = lr, beta, None

        def step(self, params_and_grads):
            if self.velocities is None:
                self.velocities = [np.zeros_like(p) for p, _ in params_and_grads]
            for i, (param, grad) in enumerate(params_and_grads):
                v = self.velocities[i]
                v[:] = self.beta * v + grad
                param -= self.lr * v
"""


def test_an_optimizer_stepping_a_list_of_pairs_is_stepped_and_clean(tmp_path):
    report = check(write(tmp_path, "optimizers.py", PAIRS))
    assert errors(report) == []
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "SGDMomentum"} == {"ok (update)"}
    (built,) = [b for b in report["built"] if b["what"] == "SGDMomentum"]
    assert built["shapes"].startswith("pairs of ")


def test_one_that_adds_its_velocity_climbs_at_that_line(tmp_path):
    path = planted(tmp_path, "optimizers.py", PAIRS, "param -= self.lr * v", "param += self.lr * v")
    (error,) = errors(check(path))
    assert (error["name"], error["line"]) == ("update-climbs", line_of(path, "param += self.lr * v"))
    assert error["message"].startswith("`SGDMomentum.step(params_and_grads)` moves every parameter along its gradient")
