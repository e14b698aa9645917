"""The training probe does only the runs (and steps) whose outcome can still change a finding:
a tiny batch stops once fitted, a reference stops once it clearly learns, and the tiny batch is
not trained again with the reference when the full run with it already learned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_doctor import build, reference, training
from backprop_doctor.context import CheckContext, SourceFile
from backprop_doctor.findings import Finding
from backprop_doctor.loading.namespace import load_namespace
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options
from backprop_doctor.rules import all_rules
from backprop_doctor.training.run import MIN_FALL_STEPS, _sgd_step

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SEED_NET = {"input_size": 784, "hidden_size": 50, "output_size": 10}
SOFTMAX = Finding("softmax-not-per-row", "BPD301", "error", "softmax sums over the whole batch", layer="softmax")


def probed(name: str, findings: tuple[Finding, ...] = ()):
    """The probe and the training findings of the sample's TwoLayerNet, built as its script builds it."""
    source, _ = read_source(SAMPLES / name)
    namespace, _ = load_namespace(source, False)
    np.random.seed(0)
    net = namespace["TwoLayerNet"](**SEED_NET)
    x, t = build.network_inputs(net, SEED_NET, np.random.default_rng(0), 5, True)
    made = build.Built("TwoLayerNet", net, "TwoLayerNet(...)", [(f"x {x.shape}", x, t)], line=None)
    context = CheckContext(
        options=Options(), source=SourceFile(str(SAMPLES / name), source.text, source.tree), networks=[made], findings=list(findings)
    )
    found = [f for rule in all_rules().values() if rule.stage == "training" and rule.run for f in rule.run(context)]
    (probe,) = training.probe_for(context)
    return probe, found


def test_a_correct_network_fits_the_tiny_batch_in_fewer_than_all_its_steps_and_gets_no_finding():
    probe, found = probed("two_layer_net_fixed.py")
    assert training.fitted(probe.overfit)
    assert len(probe.overfit.losses) < training.OVERFIT_STEPS
    assert probe.overfit_reference is None
    assert not [f for f in found if f.severity in ("error", "warning")]


def test_the_batch_softmax_reference_stops_once_it_learns_and_the_tiny_batch_is_not_trained_with_it_again():
    probe, found = probed("two_layer_net_batch_softmax.py", (SOFTMAX,))
    assert probe.yours.trend == "rises" and len(probe.yours.losses) == probe.settings.steps
    assert MIN_FALL_STEPS <= len(probe.reference.losses) < probe.settings.steps
    assert training.falls_clearly(probe.reference)
    assert not training.fitted(probe.overfit) and probe.overfit_reference is None
    overfit = next(f for f in found if f.name == "cannot-overfit")
    assert "with per-row softmax swapped in it does learn (the full run:" in overfit.message
    assert {f.name for f in found} == {"loss-rises", "cannot-overfit"}


@pytest.mark.parametrize("lr", [0.1, 1e-3, 7.5])
def test_the_probe_update_is_bit_identical_to_the_reference_sgd_update(lr):
    rng = np.random.default_rng(1)
    params = {"W1": rng.standard_normal((30, 20)), "b1": rng.standard_normal(20), "W2": rng.standard_normal((20, 3))}
    grads = {"W1": rng.standard_normal((30, 20)), "b1": rng.standard_normal(20).astype(np.float32), "W2": np.ones((3, 20))}
    ours = {k: v.copy() for k, v in params.items()}
    theirs = {k: v.copy() for k, v in params.items()}
    buffers: dict = {}
    for _ in range(3):
        skipped = _sgd_step(ours, grads, lr, buffers)
        assert skipped == reference.sgd_update(theirs, grads, lr) == ["W2"]  # the transposed gradient is left alone
    assert all(ours[k].tobytes() == theirs[k].tobytes() for k in params)
