"""The tiny-batch probe comes to the same verdict on a slower or busier machine.

CI once failed `test_initial_weights_too_small`: the script's 2,000 tiny-batch passes took a little
more than the probe's four seconds there, so the probe ran out of time before its last pass, left
the curve unjudged, and the warning about weights drawn too small was gone. A run whose passes all
fit in three times its seconds, at the pace it has kept so far, is now let finish them
(`own_curve(stretch=...)`); one that needs more still stops at its seconds.

The clock here is a pass counter, not the machine's: every pass of a run costs the same number of
budget seconds, so the machine's own speed plays no part.
"""

from __future__ import annotations

import pytest

from backprop_doctor.checks import step_cannot_overfit
from backprop_doctor.observe.budget import Deadline
from backprop_doctor.replay import curve
from inprocess import replayed, restored_interpreter  # noqa: F401 - fixture used by name
from test_initial_weights_too_small import SCRIPT


def _paced(monkeypatch, seconds_per_pass: float) -> None:
    """Every run's budget is spent at `seconds_per_pass` for each time a pass asks whether it is over."""

    class PassClock(Deadline):
        def __init__(self, seconds: float):
            super().__init__(seconds)
            self.asked = 0

        def spent(self) -> float:
            return self.asked * seconds_per_pass

        def passed(self) -> bool:
            self.asked += 1
            return self.spent() > self.seconds

    monkeypatch.setattr(curve, "Deadline", PassClock)


def _tiny(tmp_path):
    path, result, findings = replayed(tmp_path, step_cannot_overfit, SCRIPT, ("scale = 0.15", "scale = 0.01"))
    return path, result.tiny, findings


def test_passes_a_little_slower_than_the_seconds_allow_are_let_finish_and_judged(tmp_path, monkeypatch):
    _paced(monkeypatch, curve.TINY_SECONDS / 1500)  # 2,000 passes asked, 1,500 fit in the seconds
    path, tiny, findings = _tiny(tmp_path)
    assert tiny is not None and tiny.asked == 2000
    assert len(tiny.losses) >= tiny.asked - 1 and tiny.judged and not tiny.fitted
    (finding,) = [f for f in findings if f.name == "step-cannot-overfit"]
    assert finding.message.startswith("your initial weights are too small")


def test_passes_far_slower_than_the_seconds_allow_still_stop_at_them(tmp_path, monkeypatch):
    _paced(monkeypatch, curve.TINY_SECONDS / 500)  # 2,000 passes would take 4 x the seconds: more than the stretch
    _, tiny, findings = _tiny(tmp_path)
    assert tiny is not None and len(tiny.losses) == pytest.approx(500, abs=2)
    assert not tiny.judged
    assert [f for f in findings if f.name == "step-cannot-overfit"] == []

