"""Loss classes whose methods are static (`@staticmethod def loss(y, y_pred)`), under an abstract base
class, whose loss insists on probabilities that sum to 1 over each row, and whose gradient is taken with
respect to the output's pre-activation, handed with the activation object that made the prediction
(`grad(y, y_pred, z, act_fn) = (y_pred - y) * act_fn.grad(z)`): each is checked, the abstract base is
listed as not checked, and a wrong gradient is found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: static methods under an abstract base, a cross-entropy that asserts its input is a distribution
STATIC = '''\
from abc import ABC, abstractmethod

import numpy as np


def is_distribution(p):
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0), "rows must sum to 1"


class Objective(ABC):
    @abstractmethod
    def loss(self, y, y_pred):
        pass

    @abstractmethod
    def grad(self, y, y_pred, **kwargs):
        pass


class HalfSquared(Objective):
    @staticmethod
    def loss(y, y_pred):
        return 0.5 * np.sum((y_pred - y) ** 2)

    @staticmethod
    def grad(y, y_pred, z, act_fn):
        return (y_pred - y) * act_fn.grad(z)


class SoftmaxCrossEntropy(Objective):
    @staticmethod
    def loss(y, y_pred):
        is_distribution(y_pred)
        return -np.sum(y * np.log(y_pred + 1e-12))

    @staticmethod
    def grad(y, y_pred):
        is_distribution(y_pred)
        return y_pred - y
'''

# style 2: plain methods, the activation object first and named otherwise, a mean over the batch
METHODS = '''\
import numpy as np


class MeanSquaredLoss:
    def loss(self, target, output):
        return 0.5 * np.mean(np.sum((output - target) ** 2, axis=1))

    def gradient(self, target, output, act, z):
        n = target.shape[0]
        return (output - target) * act.derivative(z) / n


class NLL:
    def loss(self, target, output):
        if not np.allclose(output.sum(axis=1), 1.0):
            raise ValueError("expected probabilities")
        return -np.mean(np.log(output[target.astype(bool)]))

    def gradient(self, target, output):
        return (output - target) / target.shape[0]
'''


def _built(report: dict) -> dict[str, str]:
    return {b["what"]: b["shapes"] for b in report["built"]}


def _verdicts(report: dict) -> dict[str, str]:
    return {m["layer"]: m["verdict"] for m in report["measurements"]}


def test_static_loss_methods_under_an_abstract_base_are_checked(tmp_path):
    report = check(write(tmp_path, "losses.py", STATIC))
    assert errors(report) == [], errors(report)
    assert _verdicts(report) == {"HalfSquared": "ok", "SoftmaxCrossEntropy": "ok"}
    assert "act_fn" in _built(report)["HalfSquared"] and "softmax" in _built(report)["SoftmaxCrossEntropy"]
    assert "nothing-to-check" not in {f["name"] for f in report["findings"]}
    assert "build-failed" not in {f["name"] for f in report["findings"]}  # the abstract base is skipped, not a failure


def test_a_gradient_that_leaves_out_the_activation_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "losses.py", STATIC, "return (y_pred - y) * act_fn.grad(z)", "return (y_pred - y) * act_fn.grad(y_pred)")
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found == [("HalfSquared", line_of(path, "act_fn.grad(y_pred)"))], found


def test_a_wrong_sign_in_a_static_cross_entropy_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "losses.py", STATIC, "return y_pred - y\n", "return y - y_pred\n")
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found == [("SoftmaxCrossEntropy", line_of(path, "return y - y_pred"))], found


def test_loss_methods_handed_an_activation_object_are_checked(tmp_path):
    report = check(write(tmp_path, "objectives.py", METHODS))
    assert errors(report) == [], errors(report)
    assert _verdicts(report) == {"MeanSquaredLoss": "ok", "NLL": "ok"}


def test_a_gradient_missing_its_mean_is_found_at_its_line(tmp_path):
    path = planted(
        tmp_path, "objectives.py", METHODS, "return (output - target) * act.derivative(z) / n", "return (output - target) * act.derivative(z)"
    )
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found == [("MeanSquaredLoss", line_of(path, "act.derivative(z)"))], found
