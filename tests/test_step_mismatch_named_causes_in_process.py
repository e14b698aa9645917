"""step-gradient-mismatch's named causes, replayed in this process (issue 15, fourteenth round): the
activation applied again to its output, a derivative helper given the wrong side, an activation's
slope multiplied into a gradient that holds it already, a dropout mask the backward leaves out, an
L2 penalty the gradient leaves out, a gradient accumulated across steps, a backward through time
truncated on purpose, a parameter drawn again every pass, and a read through a view of a row the
step already moved. Each program is its CLI test's own; every line is read from the file's text,
every measured value from the replay the finding came from."""

from __future__ import annotations

import pytest

from backprop_doctor.checks import step_gradient_mismatch
from inprocess import line_of, replayed, restored_interpreter  # noqa: F401 - fixture used by name
from test_activation_applied_again import CASES as AGAIN, _script as again_script
from test_activation_derivative_twice import SCRIPT as LOGISTIC, TWICE
from test_batch_factor_when_the_loss_rises import DIVIDED, SCRIPT as UNDIVIDED_MEAN
from test_derivative_given_wrong_side import FROM_INPUT, FROM_OUTPUT
from test_dormant_errors_and_the_step import PROGRAM as SUMMED_LOSS
from test_dropout_mask_left_out import SCRIPT as DROPOUT
from test_embedding_rows import SKIP_GRAM
from test_gradients_accumulated_across_steps import PROGRAM as ACCUMULATING, ZEROED_BEFORE, ZEROED_IN_THE_STEP
from test_penalty_left_out_of_the_gradient import SCRIPT as PENALISED
from test_recurrent_model_methods import MODEL as RNN
from test_stale_weights import D_H_FIRST, INTERLEAVED, W2_FIRST
from test_step_gradient_findings import SCRIPT as TANH_SIGMOID
from test_training_loop_broken_by_its_own_lines import SCRIPT as TWO_LAYER


def found(tmp_path, text, *edits):
    """(path, the replay's result, its one finding), which must be this check's."""
    path, result, findings = replayed(tmp_path, step_gradient_mismatch, text, *edits)
    (finding,) = findings
    assert (finding.name, finding.file) == ("step-gradient-mismatch", str(path))
    return path, result, finding


def culprit_error(result):
    """The measured value of a finding about one adjoint: that adjoint's error."""
    return result.first_wrong_adjoint[1].error


def largest_error(result, *names):
    """The measured value a finding reports: the largest error of the named parameters (all wrong ones by default)."""
    return max(m.error for _, m in result.wrong if not names or m.name in names)


@pytest.mark.parametrize("kind", sorted(AGAIN))
def test_an_activation_applied_again_to_its_output_is_named_with_the_derivative_from_the_output(tmp_path, kind):
    activation, right, wrong, fix = AGAIN[kind]
    path, result, finding = found(tmp_path, again_script(activation, right), (right, wrong))
    line, output, loss = line_of(path, "dz1 = da1 *"), line_of(path, "a1 = "), line_of(path, "loss = -np.mean(")
    updates = (line_of(path, "W1 -= lr * dW1"), line_of(path, "b1 -= lr * db1"))
    call = {"tanh": "np.tanh(a1)", "sigmoid": "sigmoid(a1)"}[kind]
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "dz1", "derivative-of-output", line, (line, *updates))
    assert finding.message == (
        f"`dz1` (line {line}) is wrong because `{call}` applies {kind} again to `a1`, which is already {kind}'s output "
        f"(line {output}), so the updates of `W1`, `b1` in your training step do not follow the gradient of `loss` "
        f"(line {loss}): {kind}'s derivative from its output is `{fix}`: write that in place of the derivative at line {line}"
    )
    assert finding.measured == culprit_error(result)


def test_a_derivative_of_the_input_given_the_output_is_worded_with_both_lines(tmp_path):
    path, result, finding = found(tmp_path, FROM_INPUT, ("sigmoid_prime(z_o)", "sigmoid_prime(o)"))
    line, output, loss = line_of(path, "delta_o = "), line_of(path, "o = sigmoid(z_o)"), line_of(path, "E = 0.5")
    updates = (line_of(path, "W2 -= 0.1"), line_of(path, "W1 -= 0.1"))
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "delta_o", "derivative-of-output", line, (line, *updates))
    assert finding.message == (
        f"`delta_o` (line {line}) is wrong because `sigmoid_prime(o)` is given `o`, the output of sigmoid (line {output}), "
        "while `sigmoid_prime` computes the derivative from sigmoid's input (it applies sigmoid itself), applying it twice, "
        f"so the updates of `W2`, `W1` in your training step do not follow the gradient of `E` (line {loss}): "
        "write `o * (1 - o)` in place of `sigmoid_prime(o)`"
    )
    assert finding.measured == culprit_error(result)


def test_a_derivative_of_the_output_given_the_input_is_worded_with_both_lines(tmp_path):
    path, result, finding = found(tmp_path, FROM_OUTPUT, ("sigmoid_derivative(a1)", "sigmoid_derivative(z1)"))
    line, given, loss = line_of(path, "dz1 = "), line_of(path, "z1 = X @ W1"), line_of(path, "E = 0.5")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == (
        "dz1", "derivative-of-input", line, (line, line_of(path, "W1 -= 0.1")))
    assert finding.message == (
        f"`dz1` (line {line}) is wrong because `sigmoid_derivative(z1)` is given `z1`, the input of sigmoid (line {given}), "
        "while `sigmoid_derivative` computes the derivative from sigmoid's output, so the updates of `W1` in your training "
        f"step do not follow the gradient of `E` (line {loss}): write `sigmoid_derivative(a1)` in place of `sigmoid_derivative(z1)`"
    )


def test_the_sigmoids_slope_applied_again_under_a_cross_entropy_says_what_already_holds_it(tmp_path):
    path, result, finding = found(tmp_path, LOGISTIC, ("dz = (p - y) / len(X)", TWICE))
    line, loss = line_of(path, TWICE), line_of(path, "loss = -np.mean(")
    updates = (line_of(path, "W -= lr"), line_of(path, "b -= lr"))
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "dz", "extra-activation-derivative", line, (line, *updates))
    assert finding.message == (
        f"`dz` (line {line}) multiplies by `p * (1 - p)`, the sigmoid's derivative, a gradient that already holds it "
        "(with a cross-entropy, `p - y` is the gradient with respect to the sigmoid's input), so the updates of `W`, `b` "
        f"in your training step do not follow the gradient of `loss` (line {loss}): remove the factor `p * (1 - p)`"
    )
    assert finding.measured == culprit_error(result)


@pytest.mark.parametrize(("kind", "slope"), [("tanh", "1 - a1 ** 2"), ("sigmoid", "a1 * (1 - a1)")])
def test_a_hidden_layers_slope_applied_twice_names_the_factor_and_no_cross_entropy(tmp_path, kind, slope):
    """A hidden activation's slope multiplied in twice: the gradient of its input holds the slope once,
    and no output error `a1 - y` is involved, so the words say nothing of a cross-entropy."""
    activation, right, _, _ = AGAIN[kind]
    twice = f"({slope}) * ({slope})" if kind == "tanh" else f"{slope} * {slope}"
    path, _, finding = found(tmp_path, again_script(activation, right), (right, twice))
    line, loss = line_of(path, "dz1 = da1 *"), line_of(path, "loss = -np.mean(")
    name = "tanh" if kind == "tanh" else "the sigmoid"
    assert (finding.param, finding.pattern, finding.line) == ("dz1", "extra-activation-derivative", line)
    assert finding.message == (
        f"`dz1` (line {line}) multiplies by `{slope}`, {name}'s derivative, a gradient that already holds it, so the "
        f"updates of `W1`, `b1` in your training step do not follow the gradient of `loss` (line {loss}): "
        f"remove the factor `{slope}`"
    )


@pytest.mark.parametrize("reread", ["", "    kept = mask.mean()\n"], ids=["mask-read-once", "mask-read-again-before-the-loss"])
def test_a_dropout_mask_the_backward_leaves_out_is_named_with_where_it_is_drawn_and_applied(tmp_path, reread):
    """The mask read again in the forward pass (a kept fraction worked out before the loss) is still
    never read by the backward pass: only what follows the loss counts."""
    path, result, finding = found(
        tmp_path, DROPOUT, ("dh = ds @ W2.T * mask", "dh = ds @ W2.T"), ("    hd = h * mask\n", "    hd = h * mask\n" + reread)
    )
    line, drawn, applied = line_of(path, "dh[h <= 0] = 0"), line_of(path, "mask = (np.random.rand"), line_of(path, "hd = h * mask")
    loss, updates = line_of(path, "loss = -np.log("), (line_of(path, "W1 -= lr * dW1"), line_of(path, "b1 -= lr * db1"))
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "dh", "mask-left-out", line, (line, *updates))
    assert finding.message == (
        f"`dh` (line {line}) is not the gradient of your loss with respect to `h`: the forward pass multiplies `h` by the "
        f"mask `mask` drawn at line {drawn} (`hd`, line {applied}), and the backward pass never multiplies by it again, so "
        f"the updates of `W1`, `b1` in your training step do not follow the gradient of `loss` (line {loss}): multiply the "
        "gradient coming back from `hd` by `mask` before `dh` goes on"
    )
    assert finding.measured == culprit_error(result)


@pytest.mark.parametrize(("half", "rate", "strength"), [("0.5 * reg * ", "reg", "0.01"), ("reg * ", "2 * reg", "0.02")])
def test_a_penalty_the_gradient_leaves_out_is_named_with_its_strength_as_the_loss_writes_it(tmp_path, half, rate, strength):
    path, result, finding = found(
        tmp_path, PENALISED, ("dW1 = X.T @ dh + reg * W1\n", "dW1 = X.T @ dh\n"), ("0.5 * reg * ", half), ("+ reg * W2", f"+ {rate} * W2")
    )
    line, update, loss = line_of(path, "dW1 = X.T @ dh"), line_of(path, "W1 -= lr * dW1"), line_of(path, "loss = -np.log(")
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "W1", "penalty-left-out", line, (line, update))
    assert finding.message == (
        f"`loss` (line {loss}) holds an L2 penalty on `W1` whose gradient, λ·p with λ = {strength}, `dW1` (line {line}) "
        f"leaves out, so the update (line {update}) does not follow the gradient of the loss you compute: add `{rate} * W1` to `dW1`"
    )
    assert finding.measured == largest_error(result)


def test_a_doubled_gradient_under_a_penalised_loss_is_not_called_a_left_out_penalty(tmp_path):
    """The loss names a penalty, but the gradient holds it: what is wrong is a factor of the data term."""
    path, _, finding = found(tmp_path, PENALISED, ("dW1 = X.T @ dh + reg * W1", "dW1 = 2 * X.T @ dh + reg * W1"))
    assert (finding.param, finding.line) == ("W1", line_of(path, "dW1 = 2 * X.T @ dh + reg * W1"))
    assert finding.pattern != "penalty-left-out" and "penalty" not in finding.message


def test_gradients_added_to_across_steps_are_named_with_the_line_that_zeroes_them_once(tmp_path):
    never_reset = (ZEROED_IN_THE_STEP, ""), (ZEROED_BEFORE, ZEROED_BEFORE + "dW1 = np.zeros_like(W1)\ndW2 = np.zeros_like(W2)\n")
    path, result, findings = replayed(tmp_path, step_gradient_mismatch, ACCUMULATING, *never_reset)
    loss = line_of(path, "loss = -np.mean(")
    assert [(f.param, f.pattern, f.severity) for f in findings] == [("W1", "accumulated-across-steps", "error"), ("W2", "accumulated-across-steps", "error")]
    for finding, (weight, adds) in zip(findings, [("W1", "dW1 += xb.T @ dz1"), ("W2", "dW2 += a1.T @ dz2")]):
        line, update, zeroed = line_of(path, adds), line_of(path, f"{weight} -= lr * d{weight}"), line_of(path, f"d{weight} = np.zeros_like")
        assert (finding.line, finding.highlight) == (line, (line, update))
        assert finding.message == (
            f"the update of `{weight}` in your training step (line {update}) uses `d{weight}` (line {line}), which the step "
            f"adds this step's gradient to without resetting (set to zero only once, before the loop, at line {zeroed}): "
            f"each update moves by the sum of every gradient so far of `loss` (line {loss}), not by this step's; set "
            f"`d{weight} = np.zeros_like({weight})` at the start of each step, or assign `d{weight} = ...` instead of adding to it"
        )
        assert finding.measured == largest_error(result, weight)


def test_a_backward_through_time_cut_short_on_purpose_is_one_warning_for_the_updates_it_feeds(tmp_path):
    path, result, finding = found(tmp_path, RNN, ("model = TinyRNN(vocab)", "model = TinyRNN(vocab, bptt_truncate=2)"))
    cut = line_of(path, "for step in reversed(range(max(0, t - self.bptt_truncate)")
    computed = sorted((line_of(path, "dU[:, x[step]] += delta_t"), line_of(path, "dW += np.outer(delta_t")))
    updates = line_of(path, "self.U -= learning_rate * dU"), line_of(path, "self.W -= learning_rate * dW")
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "warning", "model.U", "truncated-bptt", cut, (cut, *computed))
    assert finding.message == (
        f"the updates of `model.U` and `model.W` in your training step (lines {updates[0]}, {updates[1]}) follow gradients "
        f"computed at lines {computed[0]}, {computed[1]}, inside a backward loop through time cut short after `self.bptt_truncate` = 2 steps "
        f"(line {cut}): truncated backpropagation through time, close to the gradient of `model.calculate_total_loss` "
        f"(line {line_of(path, 'def calculate_total_loss')}) but not equal to it, by design; set `self.bptt_truncate` to the "
        "sequence length to check the full gradient"
    )
    assert finding.measured == largest_error(result, "model.U", "model.W")
    assert [label for label, _ in finding.evidence] == ["replayed", "model.U", "model.V", "model.W"]


def test_a_parameter_drawn_again_every_pass_is_named_at_the_line_that_draws_it(tmp_path):
    drawn_again = ("for it in range(100):\n", "for it in range(100):\n    W2 = 0.1 * np.random.randn(32, 3)\n")
    path, result, finding = found(tmp_path, TWO_LAYER, drawn_again)
    line, update, drawn = line_of(path, "dW2 = h.T @ ds"), line_of(path, "W2 -= lr * dW2"), line_of(path, "    W2 = 0.1 * np.random.randn")
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "W2", "not-used", line, (line, update))
    assert finding.message == (
        f"the update of your training step (line {update}) moves `W2`, but `loss` (line {line_of(path, 'loss = -np.log(')}) "
        f"does not change when it does: `W2` is given new values at line {drawn} at the start of every pass "
        "(`W2 = 0.1 * np.random.randn(32, 3)`), so each update is thrown away before the next forward pass: "
        "initialise it once, before the loop"
    )
    assert finding.measured == largest_error(result)


def test_a_row_read_through_its_view_after_the_update_names_the_array_it_is_a_view_into(tmp_path):
    path, result, finding = found(
        tmp_path, SKIP_GRAM, ("W_in[c].copy()", "W_in[c]"), ("W_out[o].copy()", "W_out[o]"),
        ("        grad_out = g * h\n", ""), ("W_out[o] -= lr * grad_out", "W_out[o] -= lr * g * h"),
    )
    read, moved = line_of(path, "W_out[o] -= lr * g * h"), line_of(path, "W_in[c] -= lr * grad_in")
    (wrong,) = [m.name for _, m in result.wrong]
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == (wrong, "stale-weights", read, (moved, read))
    assert finding.message == (
        f"the update of `{wrong}` in your training step (line {read}) uses `g * h`, which is computed from `h` at line {read}, "
        f"after line {moved} has already updated `W_in`, which `h` is a view into: compute every gradient of the step before "
        f"updating any parameter (move the update at line {moved} below line {read})"
    )


NESTED = """\
    import numpy as np

    np.random.seed(5)
    W_in = np.random.randn(6, 3) * 0.3
    W_out = np.random.randn(6, 3) * 0.3
    lr = 0.1
    for epoch in range(20):
        for c in range(5):
            center = W_in[c]
            for o in (c + 1,):
                s = 1 / (1 + np.exp(-center @ W_out[o]))
                loss = -np.log(s)
                grad = (s - 1) * W_out[o]
                W_in[c] -= lr * grad
                W_out[o] -= lr * (s - 1) * center
"""


def test_a_view_bound_before_the_pass_and_read_after_its_row_moved_is_a_stale_read(tmp_path):
    path, result, finding = found(tmp_path, NESTED)
    read, moved = line_of(path, "W_out[o] -= lr * (s - 1) * center"), line_of(path, "W_in[c] -= lr * grad")
    (wrong,) = [m.name for _, m in result.wrong]
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == (wrong, "stale-weights", read, (moved, read))
    assert finding.message == (
        f"the update of `{wrong}` in your training step (line {read}) uses `(s - 1) * center`, which is computed from "
        f"`center` at line {read}, after line {moved} has already updated `W_in`, which `center` is a view into: compute "
        f"every gradient of the step before updating any parameter (move the update at line {moved} below line {read})"
    )


def test_two_updates_on_one_line_that_climb_their_loss_are_told_together(tmp_path):
    path, _, finding = found(tmp_path, TANH_SIGMOID, ("    W2 -= lr * dW2\n    b2 -= lr * db2\n", "    W2 += lr * dW2; b2 += lr * db2\n"))
    update = line_of(path, "W2 += lr * dW2; b2 += lr * db2")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == ("W2", "sign-flipped", update, (update,))
    assert finding.message == (
        f"the updates of `W2` and `b2` in your training step (line {update}) add `dW2` and `db2`, which are the gradient of "
        f"`loss` (line {line_of(path, 'loss = ')}) itself, so every step climbs it (gradient ascent): subtract the step instead of adding it"
    )


def test_an_ascent_whose_gradient_is_off_by_the_batch_size_is_told_the_factor_not_that_it_climbs(tmp_path):
    """`W += lr * X.T @ (y - p)` climbs the log-likelihood, as it should: only its scale is wrong."""
    path, _, finding = found(tmp_path, LOGISTIC, ("    W -= lr * X.T @ dz\n", "    W += lr * X.T @ (y - p)\n"))
    update = line_of(path, "W += lr * X.T @ (y - p)")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == ("W", "scaled-by-batch-size", update, (update,))
    assert finding.message == (
        f"the update of `W` in your training step (line {update}) uses `X.T @ (y - p)`, which is 40 × the gradient of your "
        "loss (40 is the batch size): divide it by the batch size (40)"
    )


def test_two_updates_on_one_line_reading_weights_already_moved_are_told_together(tmp_path):
    path, _, finding = found(
        tmp_path, INTERLEAVED, (D_H_FIRST, W2_FIRST),
        ("W2 = rng.normal(scale=0.5, size=(10, 1))\n", "W2 = rng.normal(scale=0.5, size=(10, 1))\nb1 = np.zeros(10)\n"),
        ("h = np.tanh(X @ W1)", "h = np.tanh(X @ W1 + b1)"),
        ("    dW1 = X.T @ d_h\n    W1 -= lr * dW1\n", "    dW1 = X.T @ d_h\n    db1 = d_h.sum(axis=0)\n    W1 -= lr * dW1; b1 -= lr * db1\n"),
    )
    moved, read, updates = line_of(path, "W2 -= lr * dW2"), line_of(path, "d_h = (d_out @ W2.T)"), line_of(path, "W1 -= lr * dW1; b1")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == ("W1", "stale-weights", read, (moved, read, updates))
    assert finding.message == (
        f"the updates of `W1` and `b1` in your training step (line {updates}) use `dW1` and `db1`, which are computed from "
        f"`W2` at line {read}, after line {moved} has already updated `W2`: compute every gradient of the step before "
        f"updating any parameter (move the update at line {moved} below line {read})"
    )


def test_truncated_gradients_computed_on_lines_of_their_own_get_one_warning_for_the_loop(tmp_path):
    """One loop cut short is one cause: its warning lists every line its gradients are added at."""
    zeros = "dU, dV, dW = np.zeros(self.U.shape), np.zeros(self.V.shape), np.zeros(self.W.shape)"
    apart = "dU = np.zeros(self.U.shape)\n        dV = np.zeros(self.V.shape)\n        dW = np.zeros(self.W.shape)"
    path, result, findings = replayed(
        tmp_path, step_gradient_mismatch, RNN, ("model = TinyRNN(vocab)", "model = TinyRNN(vocab, bptt_truncate=2)"), (zeros, apart)
    )
    cut, loss = line_of(path, "for step in reversed(range(max(0, t - self.bptt_truncate)"), line_of(path, "def calculate_total_loss")
    # `dU[:, x[step]] += delta_t` fills the zeros `dU` starts as: the gradient is computed there
    computed = sorted((line_of(path, "dU[:, x[step]] += delta_t"), line_of(path, "dW += np.outer(delta_t")))
    updates = line_of(path, "self.U -= learning_rate * dU"), line_of(path, "self.W -= learning_rate * dW")
    (finding,) = findings
    assert (finding.param, finding.severity, finding.pattern, finding.line, finding.highlight) == (
        "model.U", "warning", "truncated-bptt", cut, (cut, *computed)
    )
    assert finding.message == (
        f"the updates of `model.U` and `model.W` in your training step (lines {updates[0]}, {updates[1]}) follow gradients "
        f"computed at lines {computed[0]}, {computed[1]}, inside a backward loop through time cut short after "
        f"`self.bptt_truncate` = 2 steps (line {cut}): truncated backpropagation through time, close to the gradient of "
        f"`model.calculate_total_loss` (line {loss}) but not equal to it, by design; set `self.bptt_truncate` to the "
        "sequence length to check the full gradient"
    )
    assert finding.measured == largest_error(result, "model.U", "model.W")


def test_a_batch_size_factor_that_makes_the_programs_loss_rise_is_an_error_at_its_adjoint(tmp_path):
    path, result, finding = found(tmp_path, UNDIVIDED_MEAN, (DIVIDED, ""))
    line, loss = line_of(path, "grad_scores[np.arange(N), y] -= 1"), line_of(path, "loss = -np.log(")
    updates = tuple(line_of(path, f"{p} -= lr * d{p}") for p in ("W1", "b1", "W2", "b2"))
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.highlight) == (
        "error", "grad_scores", "scaled-by-batch-size", line, (line, *updates))
    assert finding.message == (
        f"`grad_scores` (line {line}) is 64 × the gradient of your loss (64 is the batch size) with respect to `scores`, so "
        "the updates of `W1`, `b1`, `W2`, `b2` in your training step do not follow the gradient of `loss` "
        f"(line {loss}): divide it by the batch size (64)"
    )
    assert finding.measured == culprit_error(result)


def test_the_same_factor_under_a_rate_small_enough_for_the_loss_to_fall_is_a_warning(tmp_path):
    path, result, finding = found(tmp_path, UNDIVIDED_MEAN, (DIVIDED, ""), ("lr = 0.5", "lr = 0.005"))
    update, loss = line_of(path, "W1 -= lr * dW1"), line_of(path, "loss = -np.log(")
    enters = line_of(path, "grad_scores[np.arange(N), y] -= 1")  # where the factor enters the step
    assert (finding.severity, finding.param, finding.pattern, finding.line, finding.measured) == (
        "warning", "W1", "scaled-by-batch-size", enters, result.wrong[0][1].factor)
    assert finding.message == (
        f"every update of your training step (`W1`, `b1`, `W2`, `b2`, line {update}) follows 64 × the gradient of your loss "
        f"(64 is the batch size), `loss` (line {loss}), from `grad_scores` (line {enters}) on: training works as if the "
        "learning rate were multiplied by 64; divide it by the batch size (64), or compute the loss the gradients belong to"
    )


def test_an_adjoint_after_a_summed_losss_adjoint_is_judged_at_that_adjoints_scale(tmp_path):
    """`dZ2 = A2 - Y` is m × the mean loss's gradient, and right at that scale (`dW2 = dZ2 @ A1.T / m`):
    a `dZ1` doubled on top of it is 2 × the gradient, not 2m ×."""
    path, result, finding = found(tmp_path, SUMMED_LOSS, ("dZ1 = relu_backward(W2.T @ dZ2, Z1)", "dZ1 = relu_backward(2 * W2.T @ dZ2, Z1)"))
    line, loss = line_of(path, "dZ1 = relu_backward(2 * W2.T"), line_of(path, "cost = -np.mean(")
    updates = line_of(path, "W1 -= 0.5 * dW1"), line_of(path, "b1 -= 0.5 * db1")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == ("dZ1", "factor-of-two", line, (line, *updates))
    assert finding.message == (
        f"`dZ1` (line {line}) is 2 × the gradient of your loss with respect to `Z1`, so the updates of `W1`, `b1` in your "
        f"training step do not follow the gradient of `cost` (line {loss}): look for a missing or extra factor 2 (the "
        "derivative of a square)"
    )


def test_two_gradients_on_one_line_leaving_out_the_penalty_are_told_together(tmp_path):
    one_line = ("    dW2 = h.T @ ds + reg * W2\n", ""), ("    dW1 = X.T @ dh + reg * W1\n", "    dW1 = X.T @ dh; dW2 = h.T @ ds\n")
    path, result, finding = found(tmp_path, PENALISED, *one_line)
    line, loss = line_of(path, "dW1 = X.T @ dh; dW2 = h.T @ ds"), line_of(path, "loss = -np.log(")
    updates = line_of(path, "W1 -= lr * dW1"), line_of(path, "W2 -= lr * dW2")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == ("W1", "penalty-left-out", line, (line, *updates))
    assert finding.message == (
        f"`loss` (line {loss}) holds an L2 penalty on `W1` and `W2` whose gradient, λ·p with λ = 0.01, `dW1` and `dW2` "
        f"(line {line}) leave out, so the updates (lines {updates[0]}, {updates[1]}) do not follow the gradient of the loss "
        "you compute: add `reg * W1` to each gradient, with its own parameter"
    )
    assert finding.measured == largest_error(result)


def test_two_gradients_added_to_on_one_line_are_told_together_with_both_zeroing_lines(tmp_path):
    never_reset = (ZEROED_IN_THE_STEP, ""), (ZEROED_BEFORE, ZEROED_BEFORE + "dW1 = np.zeros_like(W1)\ndW2 = np.zeros_like(W2)\n")
    one_line = ("        dW2 += a1.T @ dz2\n", ""), ("        dW1 += xb.T @ dz1\n", "        dW2 += a1.T @ dz2; dW1 += xb.T @ dz1\n")
    path, _, finding = found(tmp_path, ACCUMULATING, *never_reset, *one_line)
    line, loss = line_of(path, "dW2 += a1.T @ dz2; dW1"), line_of(path, "loss = -np.mean(")
    updates = line_of(path, "W1 -= lr * dW1"), line_of(path, "W2 -= lr * dW2")
    zeroed = line_of(path, "dW1 = np.zeros_like"), line_of(path, "dW2 = np.zeros_like")
    assert (finding.param, finding.pattern, finding.line, finding.highlight) == ("W1", "accumulated-across-steps", line, (line, *updates))
    assert finding.message == (
        f"the updates of `W1` and `W2` in your training step (lines {updates[0]}, {updates[1]}) use `dW1` (line {line}), "
        f"`dW2` (line {line}), which the step adds this step's gradient to without resetting (set to zero only once, before "
        f"the loop, at lines {zeroed[0]}, {zeroed[1]}): each update moves by the sum of every gradient so far of `loss` "
        f"(line {loss}), not by this step's; set `dW1 = np.zeros_like(W1)` at the start of each step, or assign `dW1 = ...` instead "
        "of adding to it"
    )


def test_a_penalty_written_with_a_number_is_named_by_the_squared_parameter_and_its_strength(tmp_path):
    """`0.005 * np.sum(W1 * W1)`: no strength is named, the loss squares the parameter itself, and the term
    to add is written with λ's value."""
    path, _, finding = found(
        tmp_path, PENALISED, ("0.5 * reg * (", "0.005 * ("), ("dW1 = X.T @ dh + reg * W1\n", "dW1 = X.T @ dh\n"), ("+ reg * W2", "+ 0.01 * W2")
    )
    line, update, loss = line_of(path, "dW1 = X.T @ dh"), line_of(path, "W1 -= lr * dW1"), line_of(path, "loss = -np.log(")
    assert (finding.param, finding.pattern, finding.line) == ("W1", "penalty-left-out", line)
    assert finding.message == (
        f"`loss` (line {loss}) holds an L2 penalty on `W1` whose gradient, λ·p with λ = 0.01, `dW1` (line {line}) leaves "
        f"out, so the update (line {update}) does not follow the gradient of the loss you compute: add 0.01 × `W1` to `dW1`"
    )
