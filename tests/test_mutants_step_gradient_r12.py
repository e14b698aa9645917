"""step-gradient-mismatch's newer paths, replayed in this process (issue 15, twelfth round): a gradient read
from weights the step already updated (5245068), an activation's derivative left out (_left_out, the slope's
advice), and a wrong step beside a wrong function the step never runs (aa12c97, _runs_in). The programs are
the CLI tests' own (`test_stale_weights.py`, `test_missing_activation_derivative.py`,
`test_dormant_errors_and_the_step.py`); every line from the file's text."""

from __future__ import annotations


import pytest

from inprocess import checked, edited, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_dormant_errors_and_the_step import PROGRAM
from test_missing_activation_derivative import RELU_LOOP, SIGMOID_LOOP
from test_stale_weights import D_H_FIRST, INTERLEAVED, W2_FIRST


def errors(findings):
    return [f for f in findings if f.severity == "error"]


def test_a_gradient_read_from_weights_the_step_already_moved_is_told_the_order(tmp_path, program_runs):
    path, findings = checked(tmp_path, "train.py", edited(INTERLEAVED, (D_H_FIRST, W2_FIRST)))
    (finding,) = errors(findings)
    moved, read, update = line_of(path, "W2 -= lr * dW2"), line_of(path, "d_h = (d_out @ W2.T)"), line_of(path, "W1 -= lr * dW1")
    assert (finding.name, finding.line, finding.highlight, finding.param, finding.pattern) == (
        "step-gradient-mismatch", read, (moved, read, update), "W1", "stale-weights")
    assert finding.message == (
        f"the update of `W1` in your training step (line {update}) uses `dW1`, which is computed from `W2` at line {read}, "
        f"after line {moved} has already updated `W2`: compute every gradient of the step before updating any parameter "
        f"(move the update at line {moved} below line {read})"
    )
    assert finding.file == str(path) and finding.fix is None


def test_a_sigmoids_derivative_left_out_of_the_pre_activations_adjoint_is_named_with_its_slope(tmp_path, program_runs):
    path, findings = checked(tmp_path, "train.py", edited(SIGMOID_LOOP, ("delta1 = delta2 @ W2.T * a1 * (1 - a1)", "delta1 = delta2 @ W2.T")))
    (finding,) = errors(findings)
    line, update, loss = line_of(path, "delta1 = delta2 @ W2.T"), line_of(path, "W1 -= lr * dW1"), line_of(path, "loss = np.mean(")
    assert (finding.line, finding.highlight, finding.param, finding.pattern) == (line, (line, update), "delta1", "missing-activation-derivative")
    assert finding.message == (
        f"`delta1` (line {line}) is the gradient with respect to `a1`, the sigmoid's output, where the gradient with respect "
        "to `z1`, its input, is needed: the derivative of the sigmoid is left out, so the updates of `W1` in your training "
        f"step do not follow the gradient of `loss` (line {loss}): multiply `delta1` by the sigmoid's derivative, `a1 * (1 - a1)`"
    )


def test_a_relus_derivative_left_out_of_its_outputs_adjoint_is_named_at_that_adjoint(tmp_path, program_runs):
    path, findings = checked(tmp_path, "train.py", edited(RELU_LOOP, ("d_hidden = (d_out @ W2.T) * (hidden > 0)", "d_hidden = d_out @ W2.T")))
    (finding,) = errors(findings)
    line, used, update = line_of(path, "d_hidden = d_out @ W2.T"), line_of(path, "grad_W1 = X.T @ d_hidden"), line_of(path, "W1 -= 0.05 * grad_W1")
    assert (finding.line, finding.highlight, finding.param, finding.pattern) == (line, (line, used, update), "d_hidden", "missing-activation-derivative")
    assert finding.message.startswith(
        f"`d_hidden` (line {line}) is the gradient with respect to `hidden`, the ReLU's output, but `grad_W1` uses it as the "
        "gradient with respect to the ReLU's input: the derivative of the ReLU is left out, so the update of `W1` in your "
        "training step does not follow the gradient of squared error"
    )
    assert finding.message.endswith(f"line {line_of(path, 'd_out = (out - Y)')} implies (your program computes none): "
                                    "multiply `d_hidden` by the ReLU's derivative, `(hidden > 0)`")
    assert finding.file == str(path) and finding.measured is not None and finding.measured > 0
    assert finding.evidence[0][0] == "replayed" and "W1" in [label for label, _ in finding.evidence]


@pytest.mark.parametrize("program", [INTERLEAVED, SIGMOID_LOOP, RELU_LOOP], ids=["stale", "sigmoid", "relu"])
def test_the_right_programs_are_clean(tmp_path, program_runs, program):
    assert errors(checked(tmp_path, "train.py", program)[1]) == []


def test_a_wrong_function_the_step_never_runs_leaves_the_steps_own_finding(tmp_path, program_runs):
    path, findings = checked(tmp_path, "net.py", edited(PROGRAM, ("dW2 = dZ2 @ A1.T / m", "dW2 = dZ2 @ A1.T")))
    found = {f.name: f for f in errors(findings)}
    assert set(found) == {"step-gradient-mismatch", "gradient-mismatch"}
    step = found["step-gradient-mismatch"]
    assert (step.line, step.param, step.pattern) == (line_of(path, "dW2 = dZ2 @ A1.T"), "W2", "scaled-by-batch-size")
    assert step.message.endswith("which is 40 × the gradient of your loss (40 is the batch size): divide it by the batch size (40)")
    assert found["gradient-mismatch"].line == line_of(path, "return 1 - t * t")
    _, right = checked(tmp_path / "right", "net.py", PROGRAM)
    assert [f.name for f in errors(right)] == ["gradient-mismatch"]


@pytest.mark.parametrize(("correct", "wrong", "inline"), [("(1 - a1 ** 2)", "(1 - a1)", "X @ W1 + b1"), ("dout * out * (1 - out)", "dout * (1 - out)", "a1 @ W2 + b2")])
def test_a_wrong_derivative_of_an_inline_pre_activation_is_worded_with_the_users_expression(tmp_path, program_runs, correct, wrong, inline):
    """`a1 = np.tanh(X @ W1 + b1)`: the replay names the tanh's input for itself, the report shows the user's expression."""
    from test_replay_inline_preactivations import SCRIPT

    path, findings = checked(tmp_path, "compact.py", edited(SCRIPT, (correct, wrong)))
    (finding,) = errors(findings)
    assert finding.line == line_of(path, wrong)
    assert f"with respect to `{inline}`" in finding.message and "`z1`" not in finding.message and "`z2`" not in finding.message
    assert any(f"as the gradient with respect to `{inline}` (line {line_of(path, wrong)})" in text for _, text in finding.evidence)

