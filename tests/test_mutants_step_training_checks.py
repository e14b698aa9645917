"""The replay's training checks, in this process: step-dead-relu (BPD612), symmetric-init (BPD611),
step-rate-too-high (BPD608), step-rate-too-low (BPD609) and step-penalty-mismatch (BPD109).

The scripts of `test_step_dead_relu.py` and `test_step_penalty_mismatch.py` (CLI tests, in a child
process where a mutation run cannot see them) are replayed here with `replay_file`, their loss
curves kept, and each check run on the result. Every line comes from the script's text, every number
in a message from the replay the finding came from; the dead share (more than half the units) is
met from just below and just above.
"""

from __future__ import annotations

import pytest
from inprocess import line_of, replayed, restored_interpreter  # noqa: F401 - fixtures used by name
from test_step_dead_relu import SCRIPT, SVM
from test_step_penalty_mismatch import DECAY, PENALISED_LOSS

from backprop_doctor.checks import step_dead_relu, step_penalty_mismatch, step_rate_too_high, step_rate_too_low, symmetric_init


def steps(curve: list[float]) -> str:
    return f"{len(curve)} steps: loss {curve[0]:.4g} → {curve[-1]:.4g}"


# --- step-dead-relu ---


def test_a_relu_layer_dead_from_the_first_step_is_an_error_at_its_line(tmp_path):
    path, result, (f,) = replayed(tmp_path, step_dead_relu, SCRIPT, ("b1 = np.zeros((1, 32))", "b1 = np.full((1, 32), -20.0)"))
    relu, n = line_of(path, "a1 = np.maximum(0, z1)"), len(result.curve)
    bias = line_of(path, "b1 = np.full((1, 32), -20.0)")  # the bias below every unit's input is the line to change
    assert (f.severity, f.code, f.file, f.line, f.highlight, f.param, f.fix) == (
        "error", "BPD612", str(path), bias, tuple(sorted({bias, relu})), "a1", "b1 = np.zeros_like(b1)"
    )
    assert (f.measured, f.threshold) == (1.0, 0.5)
    assert f.message == (
        f"32 of 32 units of `a1` (line {relu}) output 0 for every sample from your program's first step on: `b1` starts at -20 "
        f"(line {bias}), below every unit's input, so no unit fires, no gradient flows back through them and the weights that "
        "feed them never learn; start the biases at 0"
    )
    assert f.evidence == (
        ("activity", f"units of `a1` that fire on no sample: 32 of 32 at the first step, 32 after {n} steps"),
        ("your loop", steps(result.curve)),
    )


@pytest.mark.parametrize("dead, found", [(16, False), (17, True)])
def test_more_than_half_the_units_dead_is_reported_and_half_is_not(tmp_path, dead, found):
    bias = f"b1 = np.where(np.arange(32) < {dead}, -20.0, 0.0).reshape(1, 32)"
    path, result, findings = replayed(tmp_path, step_dead_relu, SCRIPT, ("b1 = np.zeros((1, 32))", bias))
    (layer,) = result.dead
    assert (layer.dead_first, layer.dead_last, layer.units) == (dead, dead, 32)
    assert len(findings) == found
    if found:
        (f,) = findings
        assert (f.severity, f.measured) == ("warning", dead / 32)
        assert f.message.startswith(f"{dead} of 32 units of `a1`") and "from your program's first step on" in f.message


def test_units_dying_during_training_point_at_the_learning_rate(tmp_path):
    edits = (("b1 = np.zeros((1, 32))", "b1 = np.full((1, 32), -0.5)"), ("lr = 0.1", "lr = 0.5"))
    path, result, (f,) = replayed(tmp_path, step_dead_relu, SCRIPT, *edits)
    (layer,) = result.dead
    relu, rate, n = line_of(path, "a1 = np.maximum(0, z1)"), line_of(path, "lr = 0.5"), len(result.curve)
    assert layer.dead_first <= 16 < layer.dead_last < 32
    assert (f.severity, f.line, f.highlight, f.fix, f.measured) == ("warning", rate, (rate, relu), "lr = 0.05", layer.dead_last / 32)
    assert f.message == (
        f"{layer.dead_last} of 32 units of `a1` (line {relu}) output 0 for every sample after {n} steps of your training loop, "
        f"{layer.dead_first} at its first: they stop firing during training at `lr = 0.5` (line {rate}); lower the learning rate"
    )


def test_units_dying_under_a_literal_rate_point_at_the_layer(tmp_path):
    edits = (("b1 = np.zeros((1, 32))", "b1 = np.full((1, 32), -0.5)"),) + tuple(
        (f"    {p} -= lr * d{p}\n", f"    {p} -= 0.5 * d{p}\n") for p in ("W1", "b1", "W2", "b2"))
    path, result, (f,) = replayed(tmp_path, step_dead_relu, SCRIPT, *edits)
    (layer,) = result.dead
    relu = line_of(path, "a1 = np.maximum(0, z1)")
    assert (f.line, f.highlight, f.fix) == (relu, (relu,), None)
    assert f.message.endswith(f"{layer.dead_first} at its first: they stop firing during training; lower the learning rate")


def test_live_units_are_not_reported(tmp_path):
    assert replayed(tmp_path, step_dead_relu, SCRIPT)[2] == []


# --- symmetric-init ---


@pytest.mark.parametrize("start", ["np.zeros(({shape}))", "np.ones(({shape})) * 0.1"])
def test_weights_starting_equal_are_named_at_the_first_of_them(tmp_path, start):
    edits = (("W1 = np.random.randn(5, 32) * np.sqrt(2.0 / 5)", "W1 = " + start.format(shape="5, 32")),
             ("W2 = np.random.randn(32, 1) * np.sqrt(2.0 / 32)", "W2 = " + start.format(shape="32, 1")))
    path, result, (f,) = replayed(tmp_path, symmetric_init, SCRIPT, *edits)
    assert result.symmetric == ["W1", "W2"]
    assert (f.severity, f.code, f.file, f.line, f.param, f.fix) == ("error", "BPD611", str(path), line_of(path, "W1 = np."), "W1", None)
    assert f.message == (
        "every weight matrix of your program (`W1`, `W2`) starts with all its units equal, so each hidden unit computes the "
        "same value and gets the same gradient at every step: they never become different units. Initialise the weights "
        "with small random values (`np.random.randn(...) * 0.1`) instead"
    )


def test_the_first_assignment_of_a_weight_by_its_own_name_is_the_line(tmp_path):
    """`W1 = p['W1']` names the weight the replay found equal; `p['W1'] = np.zeros(...)` before it does not."""
    text = SCRIPT.replace("W1 = np.random.randn(5, 32) * np.sqrt(2.0 / 5)\n", "W1 = np.zeros((5, 32))\n").replace(
        "W2 = np.random.randn(32, 1) * np.sqrt(2.0 / 32)\n", "W2 = np.zeros((32, 1))\n")
    text = text.replace("W1 = np.zeros((5, 32))\n", "p = {}\np['W1'] = np.zeros((5, 32))\nW1 = p['W1']\n")
    path, result, (f,) = replayed(tmp_path, symmetric_init, text)
    assert result.symmetric == ["W1", "W2"] and f.line == line_of(path, "W1 = p['W1']")


def test_random_weights_are_not_symmetric(tmp_path):
    assert replayed(tmp_path, symmetric_init, SCRIPT)[2] == []


# --- step-rate-too-high and step-rate-too-low ---


def sketch(curve: list[float]) -> str:
    return " → ".join(f"{v:.4g}" for v in (curve[0], curve[len(curve) // 2], curve[-1]))


def test_a_rate_that_turns_the_loss_into_nan_is_too_high_at_its_line(tmp_path):
    path, result, (f,) = replayed(tmp_path, step_rate_too_high, SCRIPT, ("lr = 0.1", "lr = 3.0"))
    name, yours, tried, curve = result.smaller_rate
    own, line = result.curve, line_of(path, "lr = 3.0")
    assert (name, yours, tried) == ("lr", 3.0, 0.03)
    assert (f.severity, f.code, f.file, f.line, f.fix, f.param, f.measured) == ("error", "BPD608", str(path), line, "lr = 0.03", "lr", 3.0)
    assert f.message == (
        f"your program's own loss turns into NaN over its first {len(own)} steps although every gradient it computes is right, "
        f"so its learning rate `lr = 3` (line {line}) is too high: with `lr = 0.03` the same program, from the same state, "
        f"goes from {curve[0]:.4g} to {curve[-1]:.4g}"
    )
    assert f.evidence == (("your loop", f"{len(own)} steps at lr = 3: {sketch(own)}"), ("smaller rate", f"{len(curve)} steps at lr = 0.03: {sketch(curve)}"))


def test_a_rate_computed_before_the_loop_is_quoted_with_its_value_at_its_line(tmp_path):
    path, result, (f,) = replayed(tmp_path, step_rate_too_high, SCRIPT, ("lr = 0.1", "lr = 30 / 10"))
    line = line_of(path, "lr = 30 / 10")
    assert f.line == line and f"so its learning rate `lr = 3` (line {line}) is too high" in f.message


def test_a_good_rate_is_neither_too_high_nor_too_low(tmp_path):
    assert replayed(tmp_path, step_rate_too_high, SCRIPT)[2] == []
    assert replayed(tmp_path, step_rate_too_low, SCRIPT)[2] == []


def test_a_rate_too_small_to_move_the_loss_is_told_a_larger_one(tmp_path):
    path, result, (f,) = replayed(tmp_path, step_rate_too_low, SVM)
    name, yours, tried, curve = result.larger_rate
    own, line = result.curve, line_of(path, "lr = 0.5")
    assert (f.severity, f.code, f.file, f.line, f.fix, f.param, f.measured) == ("warning", "BPD609", str(path), line, f"lr = {tried:g}", "lr", 0.5)
    assert f.message == (
        f"your program's own loss stays at {own[0]:.4g} (it ends at {own[-1]:.4g}) over its first {len(own)} steps although "
        f"every gradient it computes is right, so its learning rate `lr = 0.5` (line {line}) is too small: with `lr = {tried:g}` "
        f"the same program, from the same state, goes from {curve[0]:.4g} to {curve[-1]:.4g}"
    )
    assert f.evidence == (
        ("your loop", f"{len(own)} steps at lr = 0.5: {own[0]:.4g} → {own[-1]:.4g}"),
        ("larger rate", f"{len(curve)} steps at lr = {tried:g}: {curve[0]:.4g} → {curve[-1]:.4g}"),
    )


# --- step-penalty-mismatch ---


def test_a_decay_the_printed_loss_leaves_out_is_a_warning_with_its_lambda(tmp_path):
    path, result, (f,) = replayed(tmp_path, step_penalty_mismatch, DECAY)
    line, loss_line = line_of(path, "w += 0.01"), line_of(path, "print(cross_entropy(T, Y))")
    (moved, measured) = result.parameters[0]
    assert (f.severity, f.code, f.param, f.file, f.line, f.highlight, f.pattern) == (
        "warning", "BPD109", "w", str(path), line, (line,), "penalty-only-in-gradient"
    )
    assert f.measured == measured.decay and abs(f.measured - 0.1) < 1e-6
    loss = result.loss
    words = f"`{loss.name}` (line {loss.line})" if not loss.implied else f"the {loss.implied} {loss.name}"
    assert f.message == (
        f"the update of `w` (line {line}) follows the gradient of {words} plus {measured.decay:.3g} × `w`, an L2 penalty "
        f"(weight decay) that {words} leaves out: the loss you watch is not the one training lowers; add "
        f"{measured.decay / 2:.3g} · Σ `w`² to it to watch the whole objective"
    )
    assert loss_line >= 1


def test_the_same_penalty_in_the_loss_and_the_update_is_no_finding(tmp_path):
    assert replayed(tmp_path, step_penalty_mismatch, PENALISED_LOSS)[2] == []


def test_a_few_units_dead_from_the_start_and_more_during_training_point_at_the_rate(tmp_path):
    """2 of 32 units dead at the first step (under half), 20 after the replayed steps: they died
    during training, so the rate is blamed, and the evidence shows both counts and the curve."""
    edits = (("b1 = np.zeros((1, 32))", "b1 = np.where(np.arange(32) < 2, -20.0, -0.5).reshape(1, 32)"), ("lr = 0.1", "lr = 0.5"))
    path, result, (f,) = replayed(tmp_path, step_dead_relu, SCRIPT, *edits)
    (layer,) = result.dead
    n = len(result.curve)
    assert (layer.dead_first, layer.units) == (2, 32) and layer.dead_last > 16
    assert f.line == line_of(path, "lr = 0.5") and "they stop firing during training" in f.message
    assert f.evidence == (
        ("activity", f"units of `a1` that fire on no sample: 2 of 32 at the first step, {layer.dead_last} after {n} steps"),
        ("your loop", steps(result.curve)),
    )


def test_dead_units_of_a_loop_with_a_wrong_gradient_are_left_to_the_gradient_finding(tmp_path):
    edits = (("b1 = np.zeros((1, 32))", "b1 = np.full((1, 32), -20.0)"), ("db2 = dout.sum(axis=0, keepdims=True)", "db2 = 2 * dout.sum(axis=0, keepdims=True)"))
    path, result, found = replayed(tmp_path, step_dead_relu, SCRIPT, *edits)
    assert result.wrong and result.curve and found == []


OBJECT_HELD = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(200, 5)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)


class Net:
    def __init__(self):
        self.W1 = np.full((5, 32), 0.1)
        self.b1 = np.zeros((1, 32))
        self.W2 = np.full((32, 1), 0.1)
        self.b2 = np.zeros((1, 1))


net = Net()
lr = 0.1
for epoch in range(100):
    z1 = X @ net.W1 + net.b1
    a1 = np.maximum(0, z1)
    out = a1 @ net.W2 + net.b2
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / len(X)
    dW2 = a1.T @ dout
    db2 = dout.sum(axis=0, keepdims=True)
    dz1 = dout @ net.W2.T * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0, keepdims=True)
    net.W1 -= lr * dW1
    net.b1 -= lr * db1
    net.W2 -= lr * dW2
    net.b2 -= lr * db2
'''


def test_weights_an_object_holds_are_found_where_its_constructor_assigns_them(tmp_path):
    """The replay names them `net.W1`, `net.W2`; the file assigns them as `self.W1 = ...`."""
    path, result, (f,) = replayed(tmp_path, symmetric_init, OBJECT_HELD)
    assert result.symmetric == ["net.W1", "net.W2"]
    assert (f.line, f.param, f.file) == (line_of(path, "self.W1 = np.full((5, 32), 0.1)"), "net.W1", str(path))
    assert f.message.startswith("every weight matrix of your program (`net.W1`, `net.W2`) starts with all its units equal")
