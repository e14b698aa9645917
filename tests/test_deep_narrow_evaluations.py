"""Issue 14: a correct 5×100 ReLU network at the book's 0.01 initial scale costs at most twice the
forward evaluations of the same network at He init (the benchmark's network, `benchmarks/nets.py`).

At 0.01 the loss moves in its last digits, so the network's forward differences are skipped and its
central probes take a wider step where rounding hides the slope. The wider step is tried on one side
first: where that side alone shows it is not straight, the other side is never evaluated, and the
second direction does not try it again (`gradcheck._bent`, `refined_probe`'s `bent`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import backprop_doctor as bd
from backprop_doctor import gradcheck

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import nets  # noqa: E402


@pytest.fixture(scope="module")
def steps():
    """Each init's report, and the steps (relative to the first) of the network's central probes'
    evaluations, one list per probe."""
    seen: dict = {}
    original = gradcheck._along

    def along(f, arrays, directions, steps, saved, restore=True):
        seen.setdefault("points", []).append(list(steps))
        return original(f, arrays, directions, steps, saved, restore)

    patched = pytest.MonkeyPatch()
    patched.setattr(gradcheck, "_along", along)
    try:
        out = {}
        for init in (0.01, "he"):
            seen.clear()
            report = bd.check_network(*nets.deep_net(init))
            out[init] = (report, [[round(s / gradcheck.STEP["float64"]) for s in call] for call in seen.get("points", [])])
        return out
    finally:
        patched.undo()


def test_the_deep_net_at_0_01_costs_six_evaluations_and_he_three(steps):
    narrow, he = steps[0.01][0], steps["he"][0]
    assert narrow.findings == [] and he.findings == []
    assert he.extras["forward_evaluations"] == 1 + 2  # the first loss, two forward differences
    assert narrow.extras["forward_evaluations"] == 1 + 3 + 2
    assert narrow.extras["forward_evaluations"] <= 2 * he.extras["forward_evaluations"]


def test_the_wider_step_is_evaluated_on_one_side_and_not_tried_again_along_the_second_direction(steps):
    # the first direction: ten times the step on its positive side (its forward slope is off the
    # analytic one and off the central slope at the step: not straight), then the step itself, kept;
    # the second direction: the step alone. Before: both sides of the wider step along each direction
    assert steps[0.01][1] == [[10], [1, -1], [1, -1]]
    # the first layer's own probe is read off the network's, as before
    assert {m.verdict for m in steps[0.01][0].measurements if m.layer == "Affine1"} == {"ok"}
