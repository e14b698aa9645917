"""What the training checks say about measured loss curves: when each fires, its exact words and fields.

The training probe (`training.probe_for`) measures; the checks in `checks/` decide and word.
Here each probe is written out by hand (the curves a run would measure, with round numbers
so the expected sentences can be read off), kept where `probe_for` keeps it, and each check's
`run(context)` is called on it, for a model file written to `tmp_path`.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import types
from pathlib import Path

import pytest

from backprop_doctor import training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.checks import (
    cannot_overfit,
    dead_relu,
    learning_rate_too_high,
    loss_diverges,
    loss_rises,
    loss_stagnant,
)
from backprop_doctor.context import CheckContext
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options
from backprop_doctor.training import NonFinite, Probe, ReluActivity, Run, Setting, Settings
from backprop_doctor.training.swaps import SWAP_FIXES, Swap

MODEL = '''\
import numpy as np


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.maximum(x, 0)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size):
        self.params = {}
        self.params['W1'] = 0.01 * np.random.randn(input_size, hidden_size)
        self.params['b1'] = -2.0 * np.ones(hidden_size)
        self.params['W2'] = 0.01 * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)


net = TwoLayerNet(input_size=4, hidden_size=50, output_size=3)
learning_rate = 0.5
batch_size = 50


class CallableRelu:
    def __call__(self, x):
        return np.maximum(x, 0)
'''

HOW = "TwoLayerNet(input_size=4, hidden_size=50, output_size=3) from line 19"
DESCRIPTION = (
    HOW + "; plain SGD `params[k] -= lr * grads[k]` through its gradient(x, t) on 3 Gaussian clusters; "
    "lr 0.5 (line 20 of your script), batch 50 (line 21)"
)


def curve(first: float, last: float, steps: int = 200, tail: int = 20) -> list[float]:
    """A loss curve that starts at `first` and ends on a flat last tenth at `last` (its `tail`)."""
    return [first] * (steps - tail) + [last] * tail


def run(losses, lr: float = 0.5, label: str = "yours", batch: int = 50, **fields) -> Run:
    return Run(label, lr, batch, len(losses), list(losses), **fields)


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "two_layer_net.py"
    path.write_text(MODEL, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("two_layer_net_for_findings", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # as the loader keeps the user's module: classes findable
    spec.loader.exec_module(module)
    source, _ = read_source(path)
    return source, module


def line_of(source, text: str) -> int:
    return next(n for n, line in enumerate(source.text.splitlines(), 1) if text in line)


def probe(model, yours: Run, *, lr_line: int | None = 20, batch: float = 50, update_line=None, line=19, **fields) -> Probe:
    _, module = model
    settings = Settings(Setting(yours.lr, lr_line), Setting(batch, 21), update_line=update_line)
    return Probe("TwoLayerNet", HOW, line, module.TwoLayerNet, settings, "3 Gaussian clusters", yours, **fields)


def found(check, model, *probes: Probe) -> list:
    source, _ = model
    context = CheckContext(options=Options(), source=source)
    context.extras[training.PROBE_KEY] = list(probes)
    return list(check.run(context))


def only(check, model, *probes: Probe):
    [finding] = found(check, model, *probes)
    return finding


def softmax_reference(losses) -> dict:
    return {
        "reference": run(losses, label="per-row softmax"),
        "reference_label": "per-row softmax",
        "swaps": [Swap("softmax", "SoftmaxWithLoss", "per-row softmax", "softmax-not-per-row")],
    }


# --------------------------------------------------------------------------- the words


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.3, "2.30"),
        (0.01, "0.01"),
        (0.00999, "0.00999"),
        (9999.0, "9999.00"),
        (10000.0, "1e+04"),
        (-0.5, "-0.50"),
        (-0.001234, "-0.00123"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_a_loss_reads_with_two_decimals_in_the_usual_range_else_three_digits(value, text):
    assert words.loss_text(value) == text


def test_a_curve_reads_first_to_last_with_how_it_ended():
    assert words.curve_text(run([])) == "did not run"
    assert words.curve_text(run([], error="ValueError: shapes (5,4) and (3,50)")) == (
        "did not run (ValueError: shapes (5,4) and (3,50))"
    )
    assert words.curve_text(run([2.3, 1.5, 0.9])) == "2.30 → 0.90 in 3 steps"
    assert words.curve_text(run([2.3, 2.5], error="ZeroDivisionError", error_step=2)) == (
        "2.30 → 2.50 in 2 steps, then raised ZeroDivisionError"
    )
    assert words.curve_text(run([2.3, 2.1], truncated=True)) == "2.30 → 2.10 in 2 steps (stopped early: out of time)"
    nan = NonFinite(step=2, what="loss", value=math.nan, layer="Affine2")
    assert words.curve_text(run([2.3, 40.0, math.nan], non_finite=nan, error="never shown")) == (
        "2.30 → nan in 3 steps, the loss is nan at step 2 (first in the output of `Affine2`)"
    )


def test_the_first_non_finite_value_says_what_went_bad_and_where():
    assert words.describe_non_finite(NonFinite(0, "loss", math.inf)) == "the loss is inf at step 0"
    assert words.describe_non_finite(NonFinite(3, "loss")) == "the loss is nan at step 3"
    assert words.describe_non_finite(NonFinite(7, "gradient", params=("W1", "b1"))) == (
        "the gradient of `W1`, `b1` holds NaN or inf at step 7"
    )
    assert words.describe_non_finite(NonFinite(9, "parameter", params=("W2",))) == (
        "the update of step 9 made `W2` NaN or inf"
    )


def test_a_sentence_starts_with_a_capital_and_ends_with_one_full_stop():
    assert words.sentence("  no reference applies here ") == "No reference applies here."
    assert words.sentence("it ran.") == "It ran."
    assert words.sentence("   ") == ""


def test_the_probe_description_says_where_each_number_came_from(model):
    yours = run(curve(2.0, 1.0))
    assert words.probe_description(probe(model, yours)) == DESCRIPTION
    defaults = probe(model, yours, lr_line=None, note="--data net.npz could not be read")
    defaults = Probe(**{**defaults.__dict__, "settings": Settings(Setting(0.1), Setting(100.0))})
    assert words.probe_description(defaults) == (
        HOW + "; plain SGD `params[k] -= lr * grads[k]` through its gradient(x, t) on 3 Gaussian clusters; "
        "lr 0.1 (default: no literal learning rate in your script), batch 50 (default)"
        "; --data net.npz could not be read"
    )
    cut = probe(model, run(curve(2.0, 1.0), batch=50), batch=256)
    assert words.probe_description(cut).endswith("batch 50 (line 21, cut to 50 for speed)")
    same = probe(model, run(curve(2.0, 1.0), batch=50), batch=50)
    assert words.probe_description(same).endswith("batch 50 (line 21)")


def test_a_finding_points_at_the_given_line_else_the_update_else_the_constructor(model):
    source, _ = model
    context = CheckContext(options=Options(), source=source)
    yours = run(curve(2.0, 1.0))
    assert words.location(context, probe(model, yours, update_line=30), 20) == {
        "file": source.path, "line": 20, "highlight": (20,)
    }
    assert words.location(context, probe(model, yours, update_line=30)) == {"file": source.path, "line": 30, "highlight": (30,)}
    assert words.location(context, probe(model, yours)) == {"file": source.path, "line": 19, "highlight": (19,)}
    assert words.location(context, probe(model, yours, line=None)) == {"file": source.path}
    assert words.location(CheckContext(options=Options()), probe(model, yours, line=None)) == {"file": None}


def test_the_learning_rate_is_quoted_with_its_line_or_as_the_default(model):
    assert words.lr_text(probe(model, run([2.0, 1.0], lr=0.05))) == "lr 0.05 (line 20)"
    assert words.lr_text(probe(model, run([2.0, 1.0], lr=0.1), lr_line=None)) == "lr 0.1 (default)"
    assert words.span(run([])) == "no steps"
    assert words.span(run([2.3, 2.0, 1.0, 0.9])) == "2.30 → 0.90"  # the very first and the very last


def test_a_replayed_rate_is_quoted_where_the_script_sets_it_else_at_the_training_loop(model):
    source, _ = model
    assert words.rate_setting(source, None, "learning_rate", 0.5) == (20, "`learning_rate = 0.5` (line 20)")
    loop = types.SimpleNamespace(step=types.SimpleNamespace(loop_line=27, function=None))  # the replay's result: where its loop is
    assert words.rate_setting(source, loop, "eta", 0.5) == (27, "`eta` (0.5)")


# --------------------------------------------------------------------------- loss-rises


def test_a_loss_that_ends_more_than_ten_percent_up_rises(model):
    source, _ = model
    finding = only(loss_rises, model, probe(model, run(curve(2.0, 3.0))))
    assert finding.name == "loss-rises" and finding.severity == "error" and finding.code == "BPD601"
    assert finding.message == (
        "The loss of `TwoLayerNet` rises during training: 2.00 → 3.00 in 200 SGD steps at lr 0.5 (line 20); "
        "check the gradients and the learning rate."
    )
    assert finding.layer == "TwoLayerNet"
    assert finding.measured == 3.0 and finding.threshold == pytest.approx(2.2)
    assert finding.fix is None
    assert finding.evidence == (("yours", "2.00 → 3.00 in 200 steps (lr 0.5, batch 50)"), ("probe", DESCRIPTION))
    assert (finding.file, finding.line, finding.highlight) == (source.path, 19, (19,))


def test_a_loss_just_under_ten_percent_up_does_not_rise_and_a_falling_one_neither(model):
    assert found(loss_rises, model, probe(model, run(curve(2.0, 2.19)))) == []
    assert found(loss_rises, model, probe(model, run(curve(2.0, 1.0)))) == []
    assert found(loss_rises, model, probe(model, run(curve(2.0, 9.0)))) == []  # that one diverges


def test_a_rise_that_the_reference_softmax_cures_names_the_softmax_and_its_fix(model):
    rises = probe(model, run(curve(2.0, 3.0)), update_line=33, **softmax_reference(curve(2.0, 0.5)))
    finding = only(loss_rises, model, rises)
    assert finding.message == (
        "The loss of `TwoLayerNet` rises during training: 2.00 → 3.00 in 200 SGD steps at lr 0.5 (line 20); "
        "with per-row softmax swapped in it falls 2.00 → 0.50, which confirms the cause: fix that first."
    )
    assert finding.fix == SWAP_FIXES["softmax"]
    assert finding.evidence == (
        ("yours", "2.00 → 3.00 in 200 steps (lr 0.5, batch 50)"),
        ("with per-row softmax", "2.00 → 0.50 in 200 steps"),
        ("probe", DESCRIPTION),
    )
    assert finding.line == 33


def test_a_rise_the_reference_does_not_cure_says_so_and_offers_no_fix(model):
    finding = only(loss_rises, model, probe(model, run(curve(2.0, 3.0)), **softmax_reference(curve(2.0, 2.0))))
    assert finding.message.endswith("; with per-row softmax swapped in it does not fall either (2.00 → 2.00).")
    assert finding.fix is None


def test_a_rise_that_a_smaller_rate_cures_asks_for_that_rate(model):
    smaller = [run(curve(2.0, 1.8), lr=0.05, label="lr 0.05"), run(curve(2.0, 0.5), lr=0.005, label="lr 0.005")]
    finding = only(loss_rises, model, probe(model, run(curve(2.0, 3.0)), smaller=smaller, reference_note="no reference applies"))
    assert finding.message.endswith("; at lr 0.005 it falls 2.00 → 0.50: lower the learning rate.")
    assert finding.fix == "learning_rate = 0.005"
    assert finding.evidence[1] == ("reference", "No reference applies.")


def test_each_network_is_judged_on_its_own_curve(model):
    falls = probe(model, run(curve(2.0, 1.0)))
    rises = Probe(**{**probe(model, run(curve(1.0, 1.5))).__dict__, "network": "Deep"})
    [finding] = found(loss_rises, model, falls, rises)
    assert finding.layer == "Deep" and finding.message.startswith("The loss of `Deep` rises during training: 1.00 → 1.50")


# --------------------------------------------------------------------------- loss-diverges


def test_a_loss_that_ends_four_times_up_diverges(model):
    source, _ = model
    finding = only(loss_diverges, model, probe(model, run(curve(2.0, 10.0))))
    assert finding.name == "loss-diverges" and finding.severity == "error"
    assert finding.message == (
        "The loss of `TwoLayerNet` diverges: from 2.00 it climbs to 10.00 within 200 SGD steps at lr 0.5 (line 20); "
        "lower the learning rate and check the gradients."
    )
    assert finding.layer == "TwoLayerNet"
    assert finding.measured == 10.0 and finding.threshold == 8.0
    assert finding.fix is None
    assert finding.evidence == (("yours", "2.00 → 10.00 in 200 steps (lr 0.5, batch 50)"), ("probe", DESCRIPTION))
    assert (finding.file, finding.line) == (source.path, 19)
    assert found(loss_diverges, model, probe(model, run(curve(2.0, 7.9)))) == []  # rises, not diverges


def test_a_divergence_a_smaller_rate_cures_points_at_the_learning_rate(model):
    smaller = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    finding = only(loss_diverges, model, probe(model, run(curve(2.0, 10.0)), smaller=smaller))
    assert finding.message.endswith("; at lr 0.05 it falls 2.00 → 0.50: lower the learning rate.")
    assert finding.fix == "learning_rate = 0.05"
    assert finding.line == 20
    cured = probe(model, run(curve(2.0, 10.0)), smaller=smaller, **softmax_reference(curve(2.0, 0.5)))
    finding = only(loss_diverges, model, cured)
    assert "which confirms the cause" in finding.message and finding.line == 19


def test_a_climb_that_ends_in_nan_diverges_and_says_where_the_nan_came_from(model):
    losses = [2.0] * 100 + [3.0] * 50 + [math.nan]
    nan = NonFinite(step=150, what="loss", value=math.nan, layer="Affine2")
    finding = only(loss_diverges, model, probe(model, run(losses, non_finite=nan)))
    assert finding.message == (
        "The loss of `TwoLayerNet` diverges: from 2.00 it climbs to 3.00 within 151 SGD steps at lr 0.5 (line 20), "
        "then the loss is nan at step 150 (first in the output of `Affine2`); lower the learning rate and check the gradients."
    )
    assert finding.measured == 3.0
    falling = [2.0] * 100 + [1.0] * 50 + [math.nan]
    assert found(loss_diverges, model, probe(model, run(falling, non_finite=nan))) == []
    flat = [2.0] * 150 + [math.nan]
    assert found(loss_diverges, model, probe(model, run(flat, non_finite=nan))) == []


def test_a_divergence_that_ends_in_nan_is_still_a_divergence_and_each_network_is_judged_alone(model):
    nan = NonFinite(step=150, what="gradient", params=("W1",))
    falls = probe(model, run(curve(2.0, 1.0)))
    blows_up = Probe(**{**probe(model, run([2.0] * 100 + [10.0] * 50 + [math.nan], non_finite=nan)).__dict__, "network": "Deep"})
    [finding] = found(loss_diverges, model, falls, blows_up)
    assert finding.layer == "Deep"
    assert finding.message == (
        "The loss of `Deep` diverges: from 2.00 it climbs to 10.00 within 151 SGD steps at lr 0.5 (line 20), "
        "then the gradient of `W1` holds NaN or inf at step 150; lower the learning rate and check the gradients."
    )


# --------------------------------------------------------------------------- loss-stagnant


def test_a_flat_loss_with_nothing_to_blame_is_only_information(model):
    finding = only(loss_stagnant, model, probe(model, run(curve(2.0, 2.0))))
    assert finding.name == "loss-stagnant" and finding.severity == "info"
    assert finding.message == (
        "The loss of `TwoLayerNet` does not fall: 2.00 → 2.00 in 200 SGD steps at lr 0.5 (line 20); "
        "no other check finds a cause, so this network may simply need more steps or a larger "
        "learning rate than the probe gives it."
    )
    assert finding.measured == 2.0 and finding.threshold == pytest.approx(1.96)
    assert finding.evidence == (("yours", "2.00 → 2.00 in 200 steps (lr 0.5, batch 50)"), ("probe", DESCRIPTION))
    assert finding.line == 19


def test_a_loss_that_falls_two_percent_is_not_stagnant_and_one_that_falls_less_is(model):
    assert found(loss_stagnant, model, probe(model, run(curve(50.0, 49.0)))) == []  # exactly 2 % down
    [finding] = found(loss_stagnant, model, probe(model, run(curve(50.0, 49.5))))
    assert finding.threshold == 49.0


def test_a_flat_loss_names_every_reason_in_order(model):
    yours = run(
        curve(2.0, 2.0),
        skipped=["b2"],
        ratios={"W1": 0.0, "W2": 0.0, "b2": 3e-6},
        relu_start=[ReluActivity("Relu1", object, 50, 40, -1.5, 0.2)],
    )
    finding = only(loss_stagnant, model, probe(model, yours, smaller=[run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]))
    assert finding.severity == "warning"
    assert finding.message == (
        "The loss of `TwoLayerNet` does not fall: 2.00 → 2.00 in 200 SGD steps at lr 0.5 (line 20); "
        "at lr 0.05 it falls 2.00 → 0.50: lower the learning rate; "
        "`gradient` returns no gradient of the right shape for `b2`, so the update skips it; "
        "40 of 50 units of `Relu1` never fire at initialisation (see dead-relu); "
        "the gradients of `W1`, `W2` are zero at every step."
    )
    assert finding.fix == "learning_rate = 0.05"
    assert finding.evidence[-1] == ("update / weight", "median ||lr·g|| / ||W|| per step: W1 0.0e+00, W2 0.0e+00, b2 3.0e-06")


def test_tiny_steps_ask_for_a_larger_rate_below_a_ten_thousandth_of_the_weights(model):
    tiny = only(loss_stagnant, model, probe(model, run(curve(2.0, 2.0), ratios={"W1": 0.0, "W2": 9.9e-5, "b1": 2e-5})))
    assert tiny.severity == "warning"
    assert tiny.message.endswith(
        "; the gradient of `W1` is zero at every step; each step changes the weights by only 9.9e-05 of their size "
        "(healthy: 0.0001 to 0.1): raise the learning rate."
    )
    healthy = only(loss_stagnant, model, probe(model, run(curve(2.0, 2.0), ratios={"W1": 1e-4, "W2": 2e-5})))
    assert healthy.severity == "info"
    dead = [ReluActivity("Relu1", object, 50, 50, -1.5, 0.2)]
    blamed = only(loss_stagnant, model, probe(model, run(curve(2.0, 2.0), ratios={"W1": 2e-5}, relu_start=dead)))
    assert "raise the learning rate" not in blamed.message  # the dead layer explains the tiny steps


# --------------------------------------------------------------------------- learning-rate-too-high


def test_a_rate_whose_smaller_rate_learns_is_too_high(model):
    source, _ = model
    smaller = [run(curve(2.0, 1.9), lr=0.05, label="lr 0.05"), run(curve(2.0, 0.5), lr=0.005, label="lr 0.005")]
    yours = run(curve(2.0, 10.0), ratios={"W1": 0.35, "W2": 0.02})
    finding = only(learning_rate_too_high, model, probe(model, yours, smaller=smaller))
    assert finding.name == "learning-rate-too-high" and finding.severity == "warning"
    assert finding.message == (
        "the learning rate is too high for `TwoLayerNet`: at lr 0.5 (line 20) the loss goes 2.00 → 10.00, "
        "at lr 0.005 it falls 2.00 → 0.50; each step changes the weights by 0.35 times their size "
        "(healthy: 0.0001 to 0.1); lower it to 0.005."
    )
    assert finding.measured == 0.35 and finding.threshold == 0.1
    assert finding.fix == "learning_rate = 0.005"
    assert finding.evidence == (
        ("yours", "2.00 → 10.00 in 200 steps (lr 0.5)"),
        ("lr 0.05", "2.00 → 1.90 in 200 steps"),
        ("lr 0.005", "2.00 → 0.50 in 200 steps"),
        ("update / weight", "median ||lr·g|| / ||W|| per step at lr 0.5: W1 0.35, W2 0.02"),
        ("probe", DESCRIPTION),
    )
    assert (finding.file, finding.line, finding.highlight) == (source.path, 20, (20,))


def test_steps_of_a_tenth_of_the_weights_are_not_called_too_large(model):
    smaller = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    finding = only(learning_rate_too_high, model, probe(model, run(curve(2.0, 3.0), ratios={"W1": 0.1}), smaller=smaller))
    assert finding.message == (
        "the learning rate is too high for `TwoLayerNet`: at lr 0.5 (line 20) the loss goes 2.00 → 3.00, "
        "at lr 0.05 it falls 2.00 → 0.50; lower it to 0.05."
    )
    assert finding.measured == 0.1
    unmeasured = only(learning_rate_too_high, model, probe(model, run(curve(2.0, 3.0)), smaller=smaller))
    assert unmeasured.measured is None and unmeasured.threshold is None
    assert [label for label, _ in unmeasured.evidence] == ["yours", "lr 0.05", "probe"]


def test_no_rate_is_blamed_when_no_smaller_rate_learns_or_the_reference_does(model):
    barely = [run(curve(2.0, 1.6), lr=0.05, label="lr 0.05")]  # falls, but not clearly
    assert found(learning_rate_too_high, model, probe(model, run(curve(2.0, 3.0)), smaller=barely)) == []
    works = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    cured = probe(model, run(curve(2.0, 3.0)), smaller=works, **softmax_reference(curve(2.0, 0.5)))
    assert found(learning_rate_too_high, model, cured) == []


# --------------------------------------------------------------------------- cannot-overfit


def test_a_network_that_cannot_fit_five_samples_is_reported_at_its_constructor(model):
    source, _ = model
    tiny = run(curve(2.0, 1.0, steps=500, tail=50), label="tiny batch", batch=5)
    finding = only(cannot_overfit, model, probe(model, run(curve(2.0, 1.0)), overfit=tiny, reference_note="no reference applies"))
    assert finding.name == "cannot-overfit" and finding.severity == "warning"
    assert finding.message == (
        "`TwoLayerNet` cannot fit 5 samples: after 500 full-batch SGD steps at lr 0.5 (line 20) "
        "the loss goes 2.00 → 1.00, not below a fifth of where it began."
    )
    assert finding.measured == 1.0 and finding.threshold == pytest.approx(0.4)
    assert finding.evidence == (
        ("tiny batch", "2.00 → 1.00 in 500 steps"),
        ("reference", "No reference applies."),
        ("probe", DESCRIPTION),
    )
    assert (finding.file, finding.line) == (source.path, 19)


def test_a_tiny_batch_fitted_below_a_fifth_is_fine(model):
    fitted = run(curve(2.0, 0.4, steps=500, tail=50), batch=5)
    assert found(cannot_overfit, model, probe(model, run(curve(2.0, 1.0)), overfit=fitted)) == []
    close = run(curve(2.0, 0.41, steps=500, tail=50), batch=5)
    assert len(found(cannot_overfit, model, probe(model, run(curve(2.0, 1.0)), overfit=close))) == 1


def test_a_tiny_batch_cut_short_while_its_loss_still_falls_says_nothing(model):
    """A large network gets fewer tiny-batch steps (its share of the work): 125 steps from 2.52 to 1.44,
    still falling at the end, do not show it cannot fit; the same 125 steps flat at the end do."""
    falling = run([2.52 - 0.00864 * k for k in range(125)], batch=5)
    assert found(cannot_overfit, model, probe(model, run(curve(2.0, 1.0)), overfit=falling)) == []
    flat = run(curve(2.52, 1.44, steps=125, tail=40), batch=5)
    assert len(found(cannot_overfit, model, probe(model, run(curve(2.0, 1.0)), overfit=flat))) == 1


def test_a_tiny_batch_that_did_not_run_or_raised_early_says_nothing(model):
    yours = run(curve(2.0, 1.0))
    assert found(cannot_overfit, model, probe(model, yours)) == []
    assert found(cannot_overfit, model, probe(model, yours, overfit=run([2.0], batch=5))) == []
    early = run([2.0] * 249, batch=5, error="ValueError")
    assert found(cannot_overfit, model, probe(model, yours, overfit=early)) == []
    half = run([2.0] * 250, batch=5, error="ValueError")
    assert found(cannot_overfit, model, probe(model, yours, overfit=half))[0].message.startswith(
        "`TwoLayerNet` cannot fit 5 samples: after 250 full-batch SGD steps"
    )


def test_a_tiny_batch_the_reference_fits_blames_the_reference_piece(model):
    tiny = run(curve(2.0, 1.0, steps=500, tail=50), batch=5)
    ref = run(curve(2.0, 0.1, steps=500, tail=50), label="per-row softmax", batch=5)
    fits = probe(model, run(curve(2.0, 3.0)), overfit=tiny, overfit_reference=ref, **softmax_reference(curve(2.0, 0.5)))
    finding = only(cannot_overfit, model, fits)
    assert finding.message.endswith(
        "not below a fifth of where it began; with per-row softmax swapped in it does (2.00 → 0.10): fix that first."
    )
    assert finding.evidence[1] == ("with per-row softmax", "2.00 → 0.10 in 500 steps")
    assert finding.fix == SWAP_FIXES["softmax"]
    unfit = run(curve(2.0, 1.0, steps=500, tail=50), label="per-row softmax", batch=5)
    neither = probe(model, run(curve(2.0, 3.0)), overfit=tiny, overfit_reference=unfit, **softmax_reference(curve(2.0, 2.0)))
    finding = only(cannot_overfit, model, neither)
    assert finding.message.endswith("not below a fifth of where it began.")
    assert [label for label, _ in finding.evidence] == ["tiny batch", "with per-row softmax", "probe"]


def test_a_full_run_the_reference_learns_stands_in_for_the_tiny_batch_with_the_reference(model):
    tiny = run(curve(2.0, 1.0, steps=500, tail=50), batch=5)
    learns = probe(model, run(curve(2.0, 3.0)), overfit=tiny, **softmax_reference(curve(2.0, 0.5)))
    finding = only(cannot_overfit, model, learns)
    assert finding.message == (
        "`TwoLayerNet` cannot fit 5 samples: after 500 full-batch SGD steps at lr 0.5 (line 20) the loss goes "
        "2.00 → 1.00, not below a fifth of where it began; with per-row softmax swapped in it does learn "
        "(the full run: 2.00 → 0.50): fix that first."
    )
    assert finding.evidence[1] == ("with per-row softmax", "2.00 → 0.50 in 200 steps")
    slow = probe(model, run(curve(2.0, 3.0)), overfit=tiny, **softmax_reference(curve(2.0, 1.6)))
    assert only(cannot_overfit, model, slow).message.endswith("not below a fifth of where it began.")


# --------------------------------------------------------------------------- dead-relu


def relu(module, dead: int, *, bias_mean=-2.0, pre_mean=-1.5, weight="W1", bias="b1", units=50, layer="Relu1"):
    return ReluActivity(layer, module.Relu, units, dead, pre_mean, 0.2, weight, bias, bias_mean)


def test_relus_dead_at_initialisation_blame_a_negative_bias_at_its_line(model):
    source, module = model
    yours = run(curve(2.0, 2.0), relu_start=[relu(module, 40)])
    finding = only(dead_relu, model, probe(model, yours))
    assert finding.name == "dead-relu" and finding.severity == "warning"
    assert finding.message == (
        "40 of 50 units of `Relu1` never fire on 200 samples at initialisation: `b1` starts at -2, which pushes "
        "the pre-activations to -1.5 ± 0.2; start biases at 0 and scale the weights like He init, sqrt(2 / fan_in)."
    )
    assert (finding.layer, finding.param) == ("Relu1", "b1")
    assert finding.measured == 0.8 and finding.threshold == 0.5
    assert finding.fix == "self.params['b1'] = np.zeros(hidden_size)"
    assert finding.evidence == (
        ("activity", "10 of 50 units fire at least once at initialisation; pre-activations -1.5 ± 0.2"),
        ("built", HOW),
        ("yours", "2.00 → 2.00 in 200 steps (lr 0.5, batch 50)"),
    )
    line = line_of(source, "self.params['b1'] =")
    assert (Path(finding.file).name, finding.line, finding.highlight) == ("two_layer_net.py", line, (line,))


def test_a_bias_of_half_the_pre_activation_is_blamed_and_a_smaller_one_leaves_the_weights(model):
    source, module = model
    half = only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[relu(module, 40, bias_mean=-0.75)])))
    assert half.param == "b1"
    small = only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[relu(module, 40, bias_mean=-0.7)])))
    assert small.param == "W1"
    assert small.message == (
        "40 of 50 units of `Relu1` never fire on 200 samples at initialisation: the pre-activations are -1.5 ± 0.2: "
        "the scale of `W1` does not suit the inputs; start biases at 0 and scale the weights like He init, sqrt(2 / fan_in)."
    )
    assert small.fix == "self.params['W1'] = np.sqrt(2.0 / fan_in) * np.random.randn(fan_in, fan_out)   # He init"
    assert small.line == line_of(source, "self.params['W1'] =")
    positive = only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[relu(module, 40, bias_mean=0.8)])))
    assert positive.param == "W1"  # a positive bias is never blamed, however large
    for pre_mean in (0.0, 0.5):  # inputs that are not negative on average: the bias did not push them there
        centred = relu(module, 40, bias_mean=-2.0, pre_mean=pre_mean)
        assert only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[centred]))).param == "W1"


def test_parameters_that_are_not_plain_names_are_shown_as_w_and_b(model):
    _, module = model
    dotted = relu(module, 40, weight="fc1.weight", bias="fc1.bias")
    assert only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[dotted]))).fix == "b = np.zeros(hidden_size)"
    dotted = relu(module, 40, weight="fc1.weight", bias="fc1.bias", bias_mean=None)
    assert only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[dotted]))).fix.startswith(
        "W = np.sqrt(2.0 / fan_in)"
    )


def test_without_parameters_to_blame_the_relu_layer_itself_is_shown(model):
    source, module = model
    bare = relu(module, 50, weight=None, bias=None, bias_mean=None)
    finding = only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[bare])))
    assert finding.severity == "error"  # every unit dead
    assert finding.param is None and finding.fix is None
    assert finding.message == (
        "50 of 50 units of `Relu1` never fire on 200 samples at initialisation: the pre-activations are -1.5 ± 0.2; "
        "start biases at 0 and scale the weights like He init, sqrt(2 / fan_in)."
    )
    assert finding.line == line_of(source, "def forward(self, x):")


def test_relus_that_die_during_training_blame_the_learning_rate(model):
    source, module = model
    start, end = relu(module, 10), relu(module, 45)
    yours = run(curve(2.0, 2.0), relu_start=[start], relu_end=[end])
    finding = only(dead_relu, model, probe(model, yours))
    assert finding.message == (
        "45 of 50 units of `Relu1` never fire on 200 samples after training: they stop firing during training at "
        "lr 0.5 (line 20); lower the learning rate."
    )
    assert finding.param is None and finding.fix == "learning_rate = 0.05"
    assert finding.measured == 0.9
    assert finding.evidence[0] == ("activity", "5 of 50 units fire at least once after training; pre-activations -1.5 ± 0.2")
    assert (finding.file, finding.line) == (source.path, 20)


def test_a_layer_dead_after_training_is_an_error_at_the_programs_rate_and_a_warning_at_the_probes_default(model):
    _, module = model
    yours = run(curve(2.0, 2.0), lr=0.1, relu_start=[relu(module, 10)], relu_end=[relu(module, 50)])
    own = only(dead_relu, model, probe(model, yours, lr_line=20))
    assert own.severity == "error" and "lr 0.1 (line 20)" in own.message
    default = only(dead_relu, model, probe(model, yours, lr_line=None))
    assert default.severity == "warning" and "lr 0.1 (default)" in default.message
    dead_from_the_start = only(dead_relu, model, probe(model, run(curve(2.0, 2.0), lr=0.1, relu_start=[relu(module, 50)]), lr_line=None))
    assert dead_from_the_start.severity == "error"  # at initialisation the rate plays no part


def test_relus_the_reference_keeps_alive_blame_the_reference_piece(model):
    source, module = model
    yours = run(curve(2.0, 3.0), relu_start=[relu(module, 10)], relu_end=[relu(module, 45)])
    alive = softmax_reference(curve(2.0, 0.5))
    alive["reference"].relu_end = [relu(module, 25)]  # exactly half dead: alive
    finding = only(dead_relu, model, probe(model, yours, **alive))
    assert finding.message == (
        "45 of 50 units of `Relu1` never fire on 200 samples after training: they stop firing during training at "
        "lr 0.5 (line 20), but with per-row softmax swapped in they stay alive: fix that first."
    )
    assert finding.fix == SWAP_FIXES["softmax"]
    assert finding.line == 19
    dead_too = softmax_reference(curve(2.0, 0.5))
    dead_too["reference"].relu_end = [relu(module, 26), relu(module, 5, layer="Relu2")]
    assert only(dead_relu, model, probe(model, yours, **dead_too)).message.endswith("; lower the learning rate.")


def test_relus_alive_at_the_start_and_the_end_are_fine(model):
    _, module = model
    yours = run(curve(2.0, 1.0), relu_start=[relu(module, 25)], relu_end=[relu(module, 25)])
    assert found(dead_relu, model, probe(model, yours)) == []


# --------------------------------------------------------------------------- one finding per network, in its own name


def test_a_stalled_network_beside_a_learning_one_is_reported_alone_with_its_update_sizes(model):
    source, _ = model
    falls = probe(model, run(curve(2.0, 1.0)))
    stalled = Probe(**{**probe(model, run(curve(2.0, 2.0), ratios={"W1": 0.0}, skipped=["b1", "b2"])).__dict__, "network": "Deep"})
    [finding] = found(loss_stagnant, model, falls, stalled)
    assert finding.layer == "Deep" and finding.file == source.path
    assert finding.message == (
        "The loss of `Deep` does not fall: 2.00 → 2.00 in 200 SGD steps at lr 0.5 (line 20); "
        "`gradient` returns no gradient of the right shape for `b1`, `b2`, so the update skips it; "
        "the gradient of `W1` is zero at every step."
    )
    assert finding.evidence == (
        ("yours", "2.00 → 2.00 in 200 steps (lr 0.5, batch 50)"),
        ("probe", DESCRIPTION),
        ("update / weight", "median ||lr·g|| / ||W|| per step: W1 0.0e+00"),
    )


def test_a_rate_too_high_for_one_network_is_reported_for_that_one_at_its_constructor_without_a_rate_line(model):
    smaller = [run(curve(2.0, 0.5), lr=0.05, label="lr 0.05")]
    fine = probe(model, run(curve(2.0, 1.0)))
    high = Probe(**{**probe(model, run(curve(2.0, 3.0)), smaller=smaller, lr_line=None).__dict__, "network": "Deep"})
    [finding] = found(learning_rate_too_high, model, fine, high)
    assert finding.layer == "Deep" and finding.line == 19
    assert finding.message.startswith("the learning rate is too high for `Deep`: at lr 0.5 (default) the loss goes 2.00 → 3.00")


def test_a_network_that_cannot_overfit_beside_ones_that_can_is_reported_alone_at_its_constructor(model):
    source, _ = model
    yours = run(curve(2.0, 1.0))
    fits = probe(model, yours, overfit=run(curve(2.0, 0.1, steps=500, tail=50), batch=5))
    never_ran = probe(model, yours, overfit=run([], batch=5, error="ValueError"))
    stuck = run(curve(2.0, 1.0, steps=500, tail=50), batch=5)
    deep = Probe(**{**probe(model, yours, overfit=stuck, update_line=33).__dict__, "network": "Deep"})
    [finding] = found(cannot_overfit, model, never_ran, fits, deep)
    assert finding.layer == "Deep" and finding.message.startswith("`Deep` cannot fit 5 samples")
    assert (finding.file, finding.line) == (source.path, 19)  # the constructor call, not the update line
    unplaced = probe(model, yours, overfit=stuck, update_line=33, line=None)
    assert only(cannot_overfit, model, unplaced).line == 33


def test_a_relu_without_a_forward_method_is_shown_at_its_class(model):
    source, module = model
    called = ReluActivity("relu", module.CallableRelu, 50, 50, -1.5, 0.2)
    finding = only(dead_relu, model, probe(model, run(curve(2.0, 2.0), relu_start=[called])))
    assert finding.line == line_of(source, "class CallableRelu:")
