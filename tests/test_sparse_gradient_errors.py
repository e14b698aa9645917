"""A joint probe that disagrees while every sampled element agrees, and ties told from rounding.

A large weight array is compared element by element only on a sample. When the joint probe
misses by less than `outcomes.BORDERLINE` tolerances and no compared element is wrong, the
difference is kinks spread over a deep ReLU / max-pool network (a VGG with batch norm was a
false gradient mismatch at 8e-4): the finding is a kink, not an error. A wrong element large
enough to move the joint probe past that margin is still an error, even when the sample
misses it. And the one-sided slopes of such a layer differ only by the rounding of a sum of
many terms: that is not a tie at the point (which used to turn this bug into a "kink").
"""

from __future__ import annotations

import numpy as np

import backprop_doctor as bd
from backprop_doctor.outcomes import BORDERLINE


class Wide:
    """y = x @ W over a (200, 300) weight, with a gradient that is wrong in one element."""

    def __init__(self, rng, wrong_by: float):
        self.W = rng.standard_normal((200, 300)) / 15
        self.wrong_by = wrong_by

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.dW[7, 11] += self.wrong_by * np.abs(self.dW).max()
        return dout @ self.W.T


def _findings(wrong_by: float) -> list:
    rng = np.random.default_rng(0)
    report = bd.check_layer(Wide(rng, wrong_by), rng.standard_normal((4, 200)))
    return [f for f in report.findings if f.param == "W"]


def test_one_element_wrong_by_far_is_an_error_although_the_sample_misses_it():
    (finding,) = _findings(100.0)
    assert finding.code == "BPD101" and finding.severity == "error"
    assert finding.measured > BORDERLINE * finding.threshold


def test_the_same_layer_with_its_gradient_right_has_no_finding():
    assert _findings(0.0) == []


def test_a_joint_probe_within_the_margin_with_every_sampled_element_right_is_a_kink_not_an_error():
    # the trade-off, pinned: an error this small that no sampled element shows is read as the
    # kinks of a deep network; past BORDERLINE tolerances it is an error again (the test above)
    (finding,) = _findings(1e-3)
    assert finding.code == "BPD104" and finding.severity == "info"
    assert finding.threshold < finding.measured < BORDERLINE * finding.threshold
    (finding,) = _findings(3e-3)
    assert finding.code == "BPD101" and finding.measured > BORDERLINE * finding.threshold
