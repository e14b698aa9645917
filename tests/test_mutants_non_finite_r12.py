"""non-finite's words, cause, fix and place, for probes written out by hand (issue 15, twelfth round).

The probes, the model file and the helpers are `test_training_findings.py`'s: each probe is the
curve a run would measure, and `non_finite.run` is called on it in this process, where a mutation
run sees the check's code run. Lines come from the model's text.
"""

from __future__ import annotations

import math

from test_training_findings import MODEL, curve, found, line_of, model, only, probe, run, softmax_reference  # noqa: F401 - model is a fixture

from backprop_doctor.checks import non_finite
from backprop_doctor.training import NonFinite, Probe
from backprop_doctor.training.swaps import SWAP_FIXES

CLIMB = [2.0] * 100 + [3.0] * 50 + [math.nan]  # the finite part rises: the updates overflow
FALL = [2.0] * 100 + [1.0] * 50 + [math.nan]  # the finite part falls: the arithmetic overflows


def test_a_nan_after_a_climb_a_smaller_rate_cures_points_at_the_rate_with_its_fix(model):
    nan = NonFinite(step=150, what="gradient", params=("W1", "b1"))
    smaller = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    finding = only(non_finite, model, probe(model, run(CLIMB, non_finite=nan), smaller=smaller, update_line=30))
    assert finding.message == (
        "Training `TwoLayerNet` produces NaN or infinity: the gradient of `W1`, `b1` holds NaN or inf at step 150 "
        "at lr 0.5 (line 20); the loss was climbing before, so the updates overflow; "
        "at lr 0.05 it falls 2.00 → 0.50: lower the learning rate."
    )
    assert (finding.severity, finding.fix, finding.line, finding.highlight) == ("error", "learning_rate = 0.05", 20, (20,))
    assert (finding.layer, finding.param, finding.measured) == ("TwoLayerNet", "W1", 150.0)
    assert finding.file == model[0].path
    assert finding.evidence[0] == ("first non-finite", "the gradient of `W1`, `b1` holds NaN or inf at step 150")
    assert [label for label, _ in finding.evidence] == ["first non-finite", "yours", "probe"]


def test_a_climb_nothing_cures_asks_for_a_lower_rate_at_the_update(model):
    nan = NonFinite(step=150, what="loss", value=math.inf, layer="Affine2")
    finding = only(non_finite, model, probe(model, run(CLIMB, non_finite=nan), update_line=30))
    assert finding.message.endswith("at lr 0.5 (line 20); the loss was climbing before, so the updates overflow; lower the learning rate.")
    assert "the loss is inf at step 150 (first in the output of `Affine2`)" in finding.message
    assert (finding.fix, finding.line, finding.layer, finding.param) == (None, 30, "Affine2", None)


def test_a_diverging_climb_is_a_climb_too_and_the_constructor_is_shown_without_an_update_line(model):
    nan = NonFinite(step=150, what="parameter", params=("W2",))
    diverging = [2.0] * 100 + [10.0] * 50 + [math.nan]
    finding = only(non_finite, model, probe(model, run(diverging, non_finite=nan)))
    assert "the loss was climbing before, so the updates overflow" in finding.message
    assert (finding.line, finding.param, finding.measured) == (19, "W2", 150.0)


def test_a_nan_while_falling_that_a_smaller_rate_does_not_explain_blames_the_arithmetic(model):
    """A smaller rate that falls says nothing when the reference (the per-row softmax) falls too."""
    source, module = model
    nan = NonFinite(step=150, what="loss", layer="Relu1", layer_cls=module.Relu)
    smaller = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    finding = only(non_finite, model, probe(model, run(FALL, non_finite=nan), smaller=smaller, **softmax_reference(curve(2.0, 0.5))))
    assert finding.message == (
        "Training `TwoLayerNet` produces NaN or infinity: the loss is nan at step 150 (first in the output of `Relu1`) "
        "at lr 0.5 (line 20); while the loss was falling, so the arithmetic overflows: "
        "subtract the row maximum before `exp` and keep `log` away from 0."
    )
    assert finding.fix == SWAP_FIXES["softmax"]
    forward = line_of(source, "def forward(self, x):")
    assert (finding.line, finding.highlight, finding.layer) == (forward, (forward,), "Relu1")
    assert finding.file.endswith("two_layer_net.py")


def test_a_smaller_rate_that_falls_with_no_reference_makes_a_flat_nan_the_rates(model):
    nan = NonFinite(step=150, what="loss")
    flat = [2.0] * 150 + [math.nan]
    smaller = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    finding = only(non_finite, model, probe(model, run(flat, non_finite=nan), smaller=smaller, update_line=30))
    assert "the loss was climbing before, so the updates overflow; at lr 0.05 it falls 2.00 → 0.50" in finding.message
    assert (finding.fix, finding.line) == ("learning_rate = 0.05", 20)
    no_rate_line = probe(model, run(flat, non_finite=nan), smaller=smaller, update_line=30, lr_line=None)
    assert only(non_finite, model, no_rate_line).line == 30


def test_a_nan_before_any_update_is_the_forward_pass_at_the_layer_class_or_its_call(model):
    source, module = model
    nan = NonFinite(step=0, what="loss", layer="CallableRelu", layer_cls=module.CallableRelu)
    finding = only(non_finite, model, probe(model, run([math.nan], non_finite=nan)))
    assert "at lr 0.5 (line 20); before any update, so the forward pass itself overflows or takes log(0): subtract" in finding.message
    assert finding.line == line_of(source, "class CallableRelu:")
    assert finding.measured == 0.0


def test_a_layer_whose_code_cannot_be_found_is_shown_at_the_update_else_the_constructor(model):
    nan = NonFinite(step=0, what="loss", layer="dict", layer_cls=dict)
    unfound = only(non_finite, model, probe(model, run([math.nan], non_finite=nan), update_line=30))
    assert (unfound.file, unfound.line) == (model[0].path, 30)
    without = NonFinite(step=3, what="loss", layer=None)
    finding = only(non_finite, model, probe(model, run([2.0, 1.9, 1.8, math.nan], non_finite=without)))
    assert (finding.file, finding.line, finding.layer) == (model[0].path, 19, "TwoLayerNet")
    assert "while the loss was falling" in finding.message


def test_only_the_networks_that_went_non_finite_are_reported_each_under_its_name(model):
    finite = probe(model, run(curve(2.0, 1.0)))
    nan = NonFinite(step=150, what="loss")
    blows_up = Probe(**{**probe(model, run(CLIMB, non_finite=nan)).__dict__, "network": "Deep"})
    [finding] = found(non_finite, model, finite, blows_up)
    assert finding.layer == "Deep" and finding.message.startswith("Training `Deep` produces NaN or infinity")
