"""A bug of backprop-doctor's own code while it replays a training step is reported as one
(`check-crashed`), never passed off as a step that "cannot be replayed"; the program's own
errors stay the program's."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file
from backprop_doctor.replay import gradients
from backprop_doctor.replay.gradients import own_fault
from tests.inprocess import program_runs, restored_interpreter  # noqa: F401 - fixtures

SCRIPT = """\
import numpy as np

np.random.seed(0)
X = np.random.randn(40, 3)
y = X @ np.array([[1.0], [-2.0], [0.5]])
W = np.zeros((3, 1))
lr = 0.1
for step in range(100):
    pred = X @ W
    loss = np.mean((pred - y) ** 2)
    dW = 2 * X.T @ (pred - y) / len(X)
    W -= lr * dW
"""


def _raised(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error itself is what is tested
        return error
    raise AssertionError("did not raise")


def test_an_error_of_the_users_statements_is_the_users(tmp_path):
    user = str(tmp_path / "train.py")
    code = compile("x = np.zeros(2) @ np.zeros(3)", user, "exec")
    assert not own_fault(_raised(lambda: exec(code, {"np": np})))  # NumPy raised, called from the user's line
    raising = compile("def f():\n    raise KeyError('W1')\n", user, "exec")
    namespace: dict = {}
    exec(raising, namespace)
    assert not own_fault(_raised(namespace["f"]))


def test_an_error_raised_in_the_package_is_its_own():
    assert own_fault(_raised(lambda: gradients._batch_like(1.0, None)))  # iterating None inside the package
    assert not own_fault(ValueError("never raised: no traceback"))


@pytest.mark.usefixtures("program_runs")
def test_a_crash_of_the_replay_is_reported_with_its_traceback(tmp_path, monkeypatch):
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    clean = check_file(path, Options(training=False))
    assert not [f for f in clean.findings if f.name == "check-crashed"]

    # a planted bug: one of the package's helpers handed what it cannot take, raising inside the package
    monkeypatch.setattr(gradients, "_clipped", lambda *args: gradients._batch_like(1.0, None))
    report = check_file(path, Options(training=False))
    (crashed,) = [f for f in report.findings if f.name == "check-crashed"]
    assert "training-step replay" in crashed.message and "TypeError" in crashed.message
    (trace,) = report.extras["internal_errors"]
    assert "_batch_like" in trace
