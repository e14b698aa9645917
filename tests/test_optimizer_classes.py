"""Optimizer classes of the book's chapter 6 (`update(params, grads)` over dicts, or lists as in its
sequel) are stepped once on fresh arrays: each must move every parameter against its gradient.
One that climbs is `update-climbs` at the line that adds the step."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

OPTIMIZERS = """\
import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
"""

LISTS = """\
class SGD:
    def __init__(self, lr):
        self.lr = lr

    def update(self, params, grads):
        for i in range(len(params)):
            params[i] -= self.lr * grads[i]


class Recorder:
    def update(self, x, y):
        self.last = (x, y)
"""


def rows(report: dict) -> dict[str, str]:
    return {(m["layer"] + " " + m["param"]): m["verdict"] for m in report["measurements"]}


def test_descending_optimizers_are_stepped_and_clean(tmp_path):
    report = check(write(tmp_path, "optimizer.py", OPTIMIZERS))
    assert errors(report) == []
    assert {b["what"] for b in report["built"]} == {"SGD", "Momentum", "Adam"}
    assert set(rows(report).values()) == {"ok (update)"} and len(rows(report)) == 9
    assert report["verdict"].endswith("no problems found in 3 optimizers (seed 0)")


def test_a_momentum_that_adds_its_step_is_found_at_the_velocity(tmp_path):
    path = planted(tmp_path, "optimizer.py", OPTIMIZERS, "self.momentum * self.v[key] - self.lr", "self.momentum * self.v[key] + self.lr")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("update-climbs", "Momentum", line_of(path, "self.momentum * self.v[key] + self.lr"))


def test_an_sgd_that_adds_its_step_is_found_at_that_line(tmp_path):
    path = planted(tmp_path, "optimizer.py", OPTIMIZERS, "params[key] -= self.lr * grads[key]", "params[key] += self.lr * grads[key]")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("update-climbs", "SGD", line_of(path, "params[key] += self.lr * grads[key]"))


def test_an_adam_whose_step_is_added_is_found(tmp_path):
    path = planted(tmp_path, "optimizer.py", OPTIMIZERS, "params[key] -= lr_t", "params[key] += lr_t")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("update-climbs", "Adam", line_of(path, "params[key] += lr_t"))


def test_an_optimizer_over_lists_with_a_required_rate_is_stepped_and_other_updates_are_not(tmp_path):
    report = check(write(tmp_path, "optimizer.py", LISTS))
    assert errors(report) == []
    (built,) = report["built"]
    assert built["what"] == "SGD" and built["shapes"].startswith("list of")


def test_a_class_whose_update_does_not_run_on_arrays_is_left_out_quietly(tmp_path):
    trainer = """\
    class Trainer:
        def update(self, params, grads):
            raise RuntimeError("needs a model first")
    """
    report = check(write(tmp_path, "trainer.py", trainer))
    assert errors(report) == [] and report["built"] == []
    assert [f["name"] for f in report["findings"]] == ["nothing-to-check"]
