"""The verdict reads the program's curve by its first and last fifths, and a factor is called the batch
size only when it is one. A curve of one sample per step is noisy: its last point can sit above
its first while it falls."""

from __future__ import annotations

from backprop_doctor.findings import Report
from backprop_doctor.report.text import _loss_trend


def trend(curve: list[float]) -> str | None:
    report = Report(seed=0)
    report.extras["training"] = {"program": curve}
    return _loss_trend(report)


def test_a_noisy_falling_curve_whose_last_point_is_high_falls():
    assert trend([0.70, 0.65, 0.60, 0.55, 0.50, 0.45, 0.40, 0.35, 0.30, 0.72]) == "falls"


def test_a_rising_curve_rises_and_a_flat_one_is_flat():
    assert trend([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]) == "rises"
    assert trend([1.0, 1.0, 0.99, 1.0, 1.01, 1.0, 0.99, 1.0, 1.0, 0.995]) == "flat"
    assert trend([1.0, 2.0, float("nan")]) == "rises"


def test_a_factor_equal_to_the_number_of_features_is_not_called_the_batch_size(tmp_path):
    from tests.userfiles import check

    text = (
        "import numpy as np\n\nrng = np.random.default_rng(0)\nX = rng.normal(size=(40, 3))\n"
        "y = X @ np.array([[1.0], [-1.0], [0.5]])\nW = np.zeros((3, 1))\nfor i in range(100):\n"
        "    out = X @ W\n    loss = np.mean((out - y) ** 2)\n    dW = 2 * X.T @ (out - y) / len(X) * 3\n    W -= 0.01 * dW\n"
    )
    path = tmp_path / "regression.py"
    path.write_text(text, encoding="utf-8")
    (finding,) = [f for f in check(path)["findings"] if f["name"] == "step-gradient-mismatch"]
    assert "3 × the gradient of your loss" in finding["message"] and "batch size" not in finding["message"]


def test_a_curve_that_is_never_a_number_or_too_short_has_no_trend():
    nan = float("nan")
    assert trend([nan, nan, nan, nan, nan, nan]) is None  # not "rises": it never was a loss
    assert trend([1.0, 1.0, 1.0]) is None  # three replayed steps cannot show a stall
    assert trend([1.0, 1.0, 1.0, 1.0, 1.0]) == "flat"  # five can
    assert trend([1.0, 1.5, 2.0]) == "rises"  # a short curve can still be seen to rise


def _with(curve: list[float], **reference: list[float]) -> str | None:
    report = Report(seed=0)
    report.extras["training"] = {**reference, **({"program": curve} if "corrected" in reference else {"yours": curve})}
    return _loss_trend(report)


SLOW = [0.856, 0.85, 0.84, 0.83, 0.82, 0.81, 0.80, 0.795, 0.79, 0.785]  # the early plateau of a small sigmoid net


def test_a_slow_curve_the_correct_gradients_do_no_better_on_is_not_said_not_to_fall():
    """The program's curve falls by less than a tenth over the replayed steps, and so does the same
    program with correct gradients: the plateau, not the finding, holds it up."""
    assert _with(SLOW, corrected=[0.856, 0.85, 0.84, 0.83, 0.82, 0.81, 0.80, 0.79, 0.785, 0.78]) is None
    assert _with(SLOW, reference=[0.856, 0.85, 0.84, 0.83, 0.82, 0.81, 0.80, 0.79, 0.785, 0.78]) is None


def test_a_slow_curve_the_correct_gradients_leave_behind_does_not_fall():
    falling = [0.856, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2]
    assert _with(SLOW, corrected=falling) == "flat"
    assert _with(SLOW, reference=falling) == "flat"
    assert _with(SLOW, corrected=[0.856, 0.85, 0.84, 0.83, 0.82, 0.81, 0.80, 0.79, 0.71, 0.70]) == "flat"  # just below 90 %


def test_a_reference_of_the_other_curve_is_not_read():
    """The probe's reference goes with the probe's curve, the corrected replay with the program's."""
    falling = [0.856, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2]
    report = Report(seed=0)
    report.extras["training"] = {"program": SLOW, "reference": SLOW, "corrected": falling}
    assert _loss_trend(report) == "flat"
