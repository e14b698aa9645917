"""momentum-not-kept (BPD209): a momentum optimizer whose moves never grow under a constant gradient.

A `Momentum` class that computes its velocity into a local (lost when `update` returns), and a
deeplearning.ai-style `update_parameters_with_momentum` that moves the parameters by the gradient
instead of the velocity, are plain gradient descent: each is named at its line. Their correct
twins, and a Nesterov class, get no finding."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, line_of, planted, write

CLASS = """
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
"""

KEPT = "            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]\n            params[key] += self.v[key]"
LOST = "            velocity = self.momentum * self.v[key] - self.lr * grads[key]\n            params[key] += velocity"

FUNCTION = """
import numpy as np


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        v["dW" + str(l)] = beta * v["dW" + str(l)] + (1 - beta) * grads["dW" + str(l)]
        v["db" + str(l)] = beta * v["db" + str(l)] + (1 - beta) * grads["db" + str(l)]
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * v["dW" + str(l)]
        parameters["b" + str(l)] = parameters["b" + str(l)] - learning_rate * v["db" + str(l)]
    return parameters, v
"""

BY_VELOCITY = 'parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * v["dW" + str(l)]'
BY_GRADIENT = 'parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]'

NESTEROV = """
import numpy as np


class Nesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
"""


def kept(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD209"]


def test_a_momentum_class_that_keeps_its_velocity_gets_no_finding(tmp_path: Path) -> None:
    assert kept(check(planted(tmp_path, "optim.py", CLASS, KEPT, KEPT))) == []


def test_a_velocity_computed_into_a_local_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "optim.py", CLASS, KEPT, LOST)
    (finding,) = kept(check(path))
    assert (finding["line"], finding["severity"], finding["pattern"]) == (line_of(path, "velocity = self.momentum"), "warning", "velocity-lost")
    assert "the velocity it computes goes into the local `velocity`" in finding["message"]
    assert "`Momentum.update` keeps no velocity" in finding["message"]


def test_a_momentum_function_that_moves_by_the_velocity_gets_no_finding(tmp_path: Path) -> None:
    assert kept(check(planted(tmp_path, "optim.py", FUNCTION, BY_VELOCITY, BY_VELOCITY))) == []


def test_a_momentum_function_that_moves_by_the_gradient_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "optim.py", FUNCTION, BY_VELOCITY, BY_GRADIENT)
    (finding,) = kept(check(path))
    assert (finding["line"], finding["pattern"]) == (line_of(path, BY_GRADIENT), "gradient-step")
    assert "its parameters move by the gradient, not by the velocity" in finding["message"]


def test_nesterov_momentum_gets_no_finding(tmp_path: Path) -> None:
    assert kept(check(write(tmp_path, "optim.py", NESTEROV))) == []


STORED_WHOLE = "            velocity = self.momentum * self.v[key] - self.lr * grads[key]\n            self.v[key] = velocity\n            params[key] -= self.lr * grads[key]"


def test_a_velocity_stored_back_whole_while_the_parameters_move_by_the_gradient_is_named_at_the_step(tmp_path: Path) -> None:
    """`self.v[key] = velocity` keeps the velocity; the fault is the step by `grads[key]`, not the local."""
    path = planted(tmp_path, "optim.py", CLASS, KEPT, STORED_WHOLE)
    (finding,) = kept(check(path))
    assert (finding["line"], finding["pattern"]) == (line_of(path, "params[key] -= self.lr * grads[key]"), "gradient-step")
    assert "its parameters move by the gradient, not by the velocity" in finding["message"]
    assert "goes into the local" not in finding["message"]
