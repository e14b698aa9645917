"""A loss object written for one column of predictions (`__call__(y, y_pred)` the mean squared error,
`grad(y, y_pred) = -2 / len(y) * (y - y_pred)`) is exact on 1-d arrays, and k times the mean's gradient
on (n, k) arrays. Its inputs are built as the file's own callers pass them (one column,
`loss.grad(Y[:, k], F[:, k])`), or, where no caller says, as one column when its gradient follows its
loss there and not on (n, k) arrays; a wrong gradient is still found either way."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: a library of loss classes, no caller
LIBRARY = '''\
import numpy as np


class SquaredError:
    def __call__(self, y, y_pred):
        return np.mean((y - y_pred) ** 2)

    def grad(self, y, y_pred):
        return -2 / len(y) * (y - y_pred)


class AbsoluteError:
    def __call__(self, y, y_pred):
        return np.mean(np.abs(y - y_pred))

    def grad(self, y, y_pred):
        return -np.sign(y - y_pred) / y.shape[0]
'''

# style 2: a boosting loop that hands the losses one column at a time
BOOSTING = '''\
import numpy as np


class HalfSquare:
    def loss(self, target, pred):
        return 0.5 * np.mean((pred - target) ** 2)

    def gradient(self, target, pred):
        return (pred - target) / target.shape[0]


class RowSquare:
    def loss(self, target, pred):
        return np.mean(np.sum((pred - target) ** 2, axis=-1))

    def gradient(self, target, pred):
        return 2 * (pred - target) / pred.shape[0]


def boost(Y, rounds=5, rate=0.5):
    half = HalfSquare()
    F = np.zeros_like(Y)
    for r in range(rounds):
        for k in range(Y.shape[1]):
            col, fit = Y[:, k], F[:, k]
            F[:, k] -= rate * len(col) * half.gradient(col, fit)
    return F
'''


def _shapes(report: dict) -> dict[str, str]:
    return {b["what"]: b["shapes"] for b in report["built"]}


def test_losses_written_for_one_column_are_checked_on_one_column(tmp_path):
    report = check(write(tmp_path, "losses.py", LIBRARY))
    assert errors(report) == []
    shapes = _shapes(report)
    assert shapes["SquaredError"].startswith("prediction (5,)") and "written for one column" in shapes["SquaredError"]
    assert {m["layer"]: m["verdict"] for m in report["measurements"]}["SquaredError"] == "ok"


def test_a_wrong_factor_in_a_one_column_loss_is_still_found(tmp_path):
    path = planted(tmp_path, "losses.py", LIBRARY, "return -2 / len(y) * (y - y_pred)", "return -1 / len(y) * (y - y_pred)")
    assert "SquaredError" in {f["layer"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}


def test_a_loss_the_program_calls_on_one_column_is_checked_as_called(tmp_path):
    path = write(tmp_path, "boost.py", BOOSTING)
    report = check(path)
    assert errors(report) == []
    assert f"as line {line_of(path, 'half.gradient(col, fit)')} calls it" in _shapes(report)["HalfSquare"]
    assert _shapes(report)["RowSquare"].startswith("prediction (5, 4)")  # no caller: on (n, k) arrays, where it is right


def test_a_wrong_sign_in_a_loss_called_on_one_column_is_found(tmp_path):
    path = planted(tmp_path, "boost.py", BOOSTING, "return (pred - target) / target.shape[0]", "return (target - pred) / target.shape[0]")
    assert "HalfSquare" in {f["layer"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}


def test_a_loss_right_on_rows_but_called_on_one_column_is_wrong_for_that_call(tmp_path):
    path = planted(tmp_path, "boost.py", BOOSTING, "half = HalfSquare()", "half = RowSquare()")
    report = check(path)
    assert "RowSquare" in {f["layer"] for f in errors(report) if f["name"] == "gradient-mismatch"}
    assert "calls it" in _shapes(report)["RowSquare"]
