"""step-rate-too-high, thirteenth round (issue 15): a rate too high whose loss rises without turning into NaN is
worded with the loss's first and last value. A least-squares loop of our own, replayed in this process; the line
from the file's text, the numbers from the finding's own replay."""

from __future__ import annotations

from inprocess import line_of, replayed, restored_interpreter  # noqa: F401 - fixtures used by name

from backprop_doctor.checks import step_rate_too_high

LEAST_SQUARES = """\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(50, 3))
y = X @ np.array([1.0, -2.0, 0.5])
w = np.zeros(3)
lr = 0.1
for i in range(100):
    pred = X @ w
    loss = np.mean((pred - y) ** 2)
    grad = 2 * X.T @ (pred - y) / len(X)
    w -= lr * grad
    if i % 10 == 0:
        print(loss)
"""


def test_a_loss_that_rises_without_overflowing_is_worded_with_its_first_and_last_value(tmp_path):
    """At `lr = 1.0` the loss grows by about 1.6 a step: large, never NaN, over the replay's steps."""
    path, result, (finding,) = replayed(tmp_path, step_rate_too_high, LEAST_SQUARES, ("lr = 0.1", "lr = 1.0"))
    own = result.curve
    name, yours, tried, curve = result.smaller_rate
    assert all(v == v for v in own) and own[-1] > 1e6 * own[0]
    line = line_of(path, "lr = 1.0")
    assert (finding.line, finding.fix, name, yours, tried) == (line, "lr = 0.1", "lr", 1.0, 0.1)
    assert finding.message == (
        f"your program's own loss rises from {own[0]:.4g} to {own[-1]:.4g} over its first {len(own)} steps although every "
        f"gradient it computes is right, so its learning rate `lr = 1` (line {line}) is too high: with `lr = 0.1` the same "
        f"program, from the same state, goes from {curve[0]:.4g} to {curve[-1]:.4g}"
    )
    right = tmp_path / "right"
    right.mkdir()
    assert replayed(right, step_rate_too_high, LEAST_SQUARES)[2] == []
