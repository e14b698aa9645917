"""The training checks on real user files: the samples and the seed question.

Each file's definitions are loaded (classes, functions and imports only; its
module-level training loop never runs), the network is built with the
constructor call its own script makes, and the seven training checks run on a
hand-made `CheckContext`, with the findings that earlier stages would have made.
"""

import ast
import functools
import inspect
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor import build, training
from backprop_doctor.context import CheckContext, SourceFile
from backprop_doctor.findings import Finding
from backprop_doctor.loading.namespace import load_namespace
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options
from backprop_doctor.rules import all_rules

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "two_layer_net_question.py"

SOFTMAX = Finding("softmax-not-per-row", "BPD301", "error", "softmax sums over the whole batch", layer="softmax")
UNSHARED = Finding("unshared-parameter", "BPD401", "error", "the layers hold copies", layer="TwoLayerNet")
SIGMOID = Finding("gradient-mismatch", "BPD101", "error", "wrong dx", layer="Sigmoid", param="x")


def load_definitions(path: Path) -> tuple[str, ast.Module, dict]:
    """The file's definitions, through the tool's own loader (its training loop never runs)."""
    source, found = read_source(path)
    assert source.tree is not None, found
    namespace, _ = load_namespace(source, False)
    return source.text, source.tree, namespace


def constructor_line(tree: ast.Module, name: str) -> int | None:
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name]
    return calls[0].lineno if calls else None


@functools.cache
def checked(path: Path, cls: str, findings: tuple[Finding, ...] = (), **kwargs) -> tuple[CheckContext, list[Finding]]:
    text, tree, namespace = load_definitions(path)
    np.random.seed(0)
    net = namespace[cls](**kwargs)
    x, t = build.network_inputs(net, kwargs, np.random.default_rng(0), 5, True)
    line = constructor_line(tree, cls)
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    made = build.Built(cls, net, f"{cls}({args}) from line {line} of your script", [(f"x {x.shape}", x, t)], line=line)
    context = CheckContext(options=Options(), source=SourceFile(str(path), text, tree), networks=[made], findings=list(findings))
    found = [f for rule in all_rules().values() if rule.stage == "training" and rule.run for f in rule.run(context)]
    return context, found


def names(found: list[Finding]) -> set[str]:
    return {f.name for f in found}


def one(found: list[Finding], name: str) -> Finding:
    matches = [f for f in found if f.name == name]
    assert len(matches) == 1, [f.name for f in found]
    return matches[0]


SEED_NET = {"input_size": 784, "hidden_size": 50, "output_size": 10}


@pytest.mark.skipif(not SEED.exists(), reason="the seed question is not beside this repository")
def test_the_seed_models_loss_rises_and_the_per_row_softmax_reference_falls():
    context, found = checked(SEED, "TwoLayerNet", (SOFTMAX,), **SEED_NET)
    rises = one(found, "loss-rises")
    assert rises.severity == "error" and rises.line == 166  # network.params[key] -= learning_rate * grad[key]
    assert "confirms the cause" in rises.message and rises.fix and "keepdims=True" in rises.fix
    drawn = context.extras["training"]
    yours, ref = drawn["yours"], drawn["reference"]
    assert drawn["reference_label"] == "per-row softmax" and drawn["lr"] == 0.1 and drawn["batch_size"] == 100
    assert yours[-1] > 2 * yours[0] > 10  # starts at ln(1000) = 6.9, climbs to about 16
    assert ref[0] == pytest.approx(np.log(10), abs=0.05) and ref[-1] < 0.1 * ref[0]
    evidence = dict(rises.evidence)
    assert evidence["yours"].startswith("6.91 → ") and evidence["with per-row softmax"].startswith("2.30 → ")
    assert "lr 0.1 (line 148 of your script), batch 100 (line 147)" in evidence["probe"]
    assert "loss-diverges" not in names(found) and "learning-rate-too-high" not in names(found)


@pytest.mark.skipif(not SEED.exists(), reason="the seed question is not beside this repository")
def test_without_the_softmax_finding_the_seed_gets_no_reference_and_no_blame_on_the_learning_rate():
    _, found = checked(SEED, "TwoLayerNet", **SEED_NET)
    rises = one(found, "loss-rises")
    assert dict(rises.evidence)["reference"].startswith("No earlier finding points at a standard layer")
    assert "learning-rate-too-high" not in names(found)


def test_the_batch_softmax_sample_rises_and_cannot_fit_five_samples_until_the_softmax_is_per_row():
    _, found = checked(SAMPLES / "two_layer_net_batch_softmax.py", "TwoLayerNet", (SOFTMAX,), **SEED_NET)
    assert names(found) == {"loss-rises", "cannot-overfit"}
    overfit = one(found, "cannot-overfit")
    assert overfit.severity == "warning" and overfit.line == 136  # the constructor call
    assert "with per-row softmax swapped in it does" in overfit.message
    assert overfit.measured > overfit.threshold


def test_a_learning_rate_of_50_diverges_and_is_named_at_its_line():
    _, found = checked(SAMPLES / "lr_too_high.py", "TwoLayerNet", input_size=20, hidden_size=50, output_size=10)
    high = one(found, "learning-rate-too-high")
    assert high.severity == "warning" and high.line == 103
    assert high.measured > high.threshold == training.RATIO_RANGE[1]
    assert high.fix == "learning_rate = 5"
    assert one(found, "loss-diverges").severity == "error"
    nan = one(found, "non-finite")
    assert nan.line == 103 and "lower the learning rate" in nan.message


def test_dead_relus_point_at_the_negative_bias():
    _, found = checked(SAMPLES / "dead_relu.py", "TwoLayerNet", input_size=2, hidden_size=50, output_size=3, weight_init_std=10)
    dead = one(found, "dead-relu")
    assert (dead.line, dead.layer, dead.param) == (62, "Relu1", "b1")
    assert dead.measured == 1.0 and "-100" in dead.message
    assert "line 102" in dict(dead.evidence)["built"]
    stagnant = one(found, "loss-stagnant")
    assert "never fire" in stagnant.message and "zero at every step" in stagnant.message


def test_parameters_copied_into_the_layers_stall_the_loss_and_sharing_them_fixes_it():
    _, found = checked(SAMPLES / "unshared_params.py", "TwoLayerNet", (UNSHARED,), input_size=10, hidden_size=20, output_size=3)
    stagnant = one(found, "loss-stagnant")
    assert stagnant.line == 122 and "with layers sharing params swapped in it falls" in stagnant.message
    assert "no .copy()" in stagnant.fix
    assert "with layers sharing params swapped in it does" in one(found, "cannot-overfit").message


def test_a_wrong_sigmoid_backward_is_retrained_with_the_reference_sigmoid():
    context, found = checked(SAMPLES / "sigmoid_backward_wrong.py", "TwoLayerNet", (SIGMOID,), input_size=20, hidden_size=30, output_size=3)
    probe = training.probe_for(context)[0]
    assert probe.reference_label == "reference Sigmoid" and probe.reference.error is None
    assert probe.reference_falls
    assert not [f for f in found if f.severity == "error"]


@pytest.mark.parametrize(
    "file, cls, kwargs",
    [
        ("two_layer_net_fixed.py", "TwoLayerNet", SEED_NET),
        ("multilayer_relu_fixed.py", "ThreeLayerNet", {"input_size": 16, "hidden_size1": 32, "hidden_size2": 32, "output_size": 2}),
        ("dlfs2_style.py", "TwoLayerNet", {"input_size": 2, "hidden_size": 10, "output_size": 3}),
        ("rebinding_update.py", "TwoLayerNet", {"input_size": 8, "hidden_size": 16, "output_size": 4}),
        ("batchnorm_dropout_fixed.py", "BNNet", {"input_size": 10, "hidden_size": 40, "output_size": 4, "dropout_ratio": 0.2}),
        ("float32_model.py", "TwoLayerNet", {"input_size": 20, "hidden_size": 64, "output_size": 10, "weight_init_std": 0.1}),
    ],
)
def test_correct_networks_train_without_a_training_error(file, cls, kwargs):
    context, found = checked(SAMPLES / file, cls, **kwargs)
    assert not [f for f in found if f.severity == "error"], [f.message for f in found]
    assert found == [], [f.message for f in found]
    assert training.probe_for(context)[0].yours.trend == "falls"


def test_every_training_rule_is_registered_with_its_code_severity_and_documentation():
    expected = {
        "loss-rises": ("BPD601", "error"),
        "loss-diverges": ("BPD602", "error"),
        "loss-stagnant": ("BPD603", "warning"),
        "learning-rate-too-high": ("BPD604", "warning"),
        "dead-relu": ("BPD605", "warning"),
        "non-finite": ("BPD606", "error"),
        "cannot-overfit": ("BPD607", "warning"),
        "step-rate-too-high": ("BPD608", "error"),
        "step-rate-too-low": ("BPD609", "warning"),
        "step-non-finite": ("BPD610", "error"),
        "symmetric-init": ("BPD611", "error"),
        "step-dead-relu": ("BPD612", "warning"),
        "step-update-lost": ("BPD613", "error"),
        "targets-not-shuffled": ("BPD614", "error"),
        "step-cannot-overfit": ("BPD615", "warning"),
        "stopped-early": ("BPD616", "warning"),
        "step-rate-vanishes": ("BPD617", "warning"),
        "step-targets-out-of-range": ("BPD618", "error"),
        "step-same-batch": ("BPD619", "warning"),
        "step-sorted-order": ("BPD620", "warning"),
        "step-saturated-units": ("BPD621", "warning"),
        "step-frozen-parameters": ("BPD622", "warning"),
        "step-update-skipped": ("BPD623", "warning"),
        "step-loop-left-early": ("BPD624", "error"),
        "step-stale-output": ("BPD625", "error"),
        "step-clips-weights": ("BPD626", "error"),
        "step-clip-does-not-clip": ("BPD627", "error"),
        "step-clip-always-rescales": ("BPD628", "error"),
        "step-penalty-dominates": ("BPD632", "error"),
        "step-stale-gradient": ("BPD633", "error"),
        "step-gradient-unapplied": ("BPD634", "error"),
        "step-clip-too-tight": ("BPD635", "warning"),
        "step-not-replayed": ("BPD636", "info"),
        "step-inputs-identical": ("BPD637", "warning"),
        "step-targets-identical": ("BPD638", "warning"),
        "step-decay-wrong": ("BPD639", "error"),
        "step-dropout-noise": ("BPD629", "warning"),
        "step-reinitialised": ("BPD630", "error"),
        "step-softmax-twice": ("BPD631", "error"),
        "velocity-reset": ("BPD640", "error"),
        "step-warmup-unfinished": ("BPD641", "warning"),
        "step-batch-never-moves": ("BPD642", "warning"),
        "step-early-stop-reversed": ("BPD643", "warning"),
        "step-inputs-collapsed": ("BPD645", "warning"),
        "update-called-twice": ("BPD646", "error"),
        "step-early-stop-overwritten": ("BPD647", "warning"),
    }
    rules = {r.name: r for r in all_rules().values() if r.stage == "training"}
    assert {name: (r.code, r.severity) for name, r in rules.items()} == expected
    for r in rules.values():
        assert r.run is not None and inspect.isfunction(r.run)
        assert all(section in r.doc for section in ("What it finds:", "Why it matters:", "Example:", "Fix:"))
