"""step-gradient-mismatch: the exact finding for each shape of a wrong training step, in-process.

One module-level script (a tanh hidden layer, a sigmoid output, a mean squared error) with one
planted bug at a time. Its first training step is replayed in this process (`replay_file`, as the
pipeline does in its child process) and the check runs on that replay, so mutmut sees every line
of the check; each message names the lines of the file, found here by their text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_doctor.checks import step_gradient_mismatch
from backprop_doctor.context import CheckContext
from backprop_doctor.findings import Finding
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options
from backprop_doctor.replay import replay_file

SCRIPT = """\
import numpy as np

np.random.seed(3)
X = np.random.randn(48, 3)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = np.random.randn(3, 6) * 0.5
b1 = np.zeros(6)
W2 = np.random.randn(6, 1) * 0.5
b2 = np.zeros(1)
lr = 0.2
for it in range(30):
    z1 = X @ W1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    p = 1 / (1 + np.exp(-z2))
    loss = np.mean((p - y) ** 2)
    dp = 2 * (p - y) / len(X)
    dz2 = dp * p * (1 - p)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    da1 = dz2 @ W2.T
    dz1 = da1 * (1 - a1 ** 2)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
"""

LOSS = "`loss` (line 16)"


@pytest.fixture(autouse=True)
def numpy_state_kept():
    state = np.random.get_state()  # the replayed script seeds NumPy's global generator
    yield
    np.random.set_state(state)


def replayed(tmp_path: Path, *edits: tuple[str, str], findings: list[Finding] = ()) -> tuple[str, list[Finding]]:
    text = SCRIPT
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    source, _ = read_source(str(path))
    context = CheckContext(options=Options(training=False), source=source)
    context.extras["replay"] = replay_file(source, 10.0, seed=0, curve=False, measure=True)
    context.findings = list(findings)
    return text, list(step_gradient_mismatch.run(context))


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


UPDATES = ("W2 -= lr", "b2 -= lr", "W1 -= lr", "b1 -= lr")


def test_the_correct_script_gets_nothing(tmp_path):
    assert replayed(tmp_path)[1] == []
    assert line_of(SCRIPT, "loss = np.mean") == 16


def test_a_wrong_activation_derivative_is_the_first_wrong_adjoint_and_the_advice_is_the_chain_rule(tmp_path):
    text, [finding] = replayed(tmp_path, ("dz1 = da1 * (1 - a1 ** 2)", "dz1 = da1 * (1 - a1)"))
    line = line_of(text, "dz1 = da1")
    assert (finding.severity, finding.param, finding.file, finding.line, finding.pattern) == (
        "error", "dz1", str(tmp_path / "train.py"), line, "wrong-derivative"
    )
    assert finding.highlight == (line, line_of(text, "W1 -= lr"), line_of(text, "b1 -= lr"))
    assert finding.message == (
        f"`dz1` (line {line}) is not the gradient of your loss with respect to `z1`, although `da1`, which it is "
        f"computed from, is right, so the updates of `W1`, `b1` in your training step do not follow the gradient "
        f"of {LOSS}: `a1` is the tanh of `z1` (line {line_of(text, 'a1 = np.tanh')}), so `dz1` must be `da1` × the tanh's "
        "derivative, `1 - a1 ** 2`"
    )
    evidence = dict(finding.evidence)
    assert evidence["dz1"].startswith("wrong (× ") and evidence["dz1"].endswith(f" as the gradient with respect to `z1` (line {line})")
    assert evidence["da1"] == f"ok as the gradient with respect to `a1` (line {line_of(text, 'da1 = ')})"
    assert evidence["W2"].startswith("ok: d loss along the update: numerical ")
    assert evidence["W1"].startswith("wrong: d loss along the update: numerical ")
    assert evidence["replayed"].startswith(f"your first training step (loop at line {line_of(text, 'for it in')}), ")


@pytest.mark.parametrize(
    "edit, words, advice",
    [
        (("dp = 2 * (p - y) / len(X)", "dp = 2 * (p - y)"), "48 × the gradient of your loss (48 is the batch size)",
         "divide it by the batch size (48)"),
        (("loss = np.mean((p - y) ** 2)", "loss = np.sum((p - y) ** 2)"),
         "1/48 of the gradient of your loss (48 is the batch size)", "divide by the batch size (48) only once"),
    ],
)  # fmt: skip
def test_a_batch_size_factor_in_the_first_adjoint_is_named_with_the_batch_size(tmp_path, edit, words, advice):
    """Every update carries the factor (`b2`, of one entry, too): the program's scale, a warning at the
    adjoint where the factor enters, while the loss is not seen to rise with it."""
    text, [finding] = replayed(tmp_path, edit)
    line = line_of(text, "dp = 2 * (p - y)")
    first = line_of(text, UPDATES[0])
    assert (finding.severity, finding.line, finding.pattern) == ("warning", line, "scaled-by-batch-size")
    assert finding.highlight == (line, first)
    assert finding.message.startswith(
        f"every update of your training step (`W2`, `b2`, `W1`, `b1`, line {first}) follows {words}, {LOSS}, "
        f"from `dp` (line {line}) on: training works as if the learning rate were multiplied by "
    )
    assert finding.message.endswith(f"; {advice}, or compute the loss the gradients belong to")


def test_updates_that_climb_each_get_a_sign_flipped_finding_at_their_own_line(tmp_path):
    """`W2 += lr * dW2` with a right `dW2`: turning `+=` into `-=` is the one-line fix, so each
    finding is at the update's line."""
    edits = [(u, u.replace("-=", "+=")) for u in UPDATES]
    text, found = replayed(tmp_path, *edits)
    assert [(f.param, f.pattern) for f in found] == [("W2", "sign-flipped"), ("b2", "sign-flipped"),
                                                     ("W1", "sign-flipped"), ("b1", "sign-flipped")]  # fmt: skip
    w2 = found[0]
    update = line_of(text, "W2 += lr")
    assert (w2.line, w2.highlight) == (update, (update,))
    assert w2.message == (
        f"the update of `W2` in your training step (line {update}) adds `dW2`, which is the "
        f"gradient of `loss` (line {line_of(text, 'loss = ')}) itself, so every step climbs it (gradient ascent): subtract the step instead of adding it"
    )
    assert w2.measured == pytest.approx(2.0, rel=1e-3)


def test_one_gradient_twice_too_large_is_a_factor_of_two(tmp_path):
    text, [finding] = replayed(tmp_path, ("dW1 = X.T @ dz1", "dW1 = 2 * X.T @ dz1"))
    line, update = line_of(text, "dW1 = "), line_of(text, "W1 -= lr")
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == ("W1", line, (line, update), "factor-of-two")
    assert finding.message == (
        f"the update of `W1` in your training step (line {update}) uses `dW1`, computed at line {line}, which is "
        "2 × the gradient of your loss: look for a missing or extra factor 2 (the derivative of a square)"
    )
    assert finding.measured == pytest.approx(0.5, rel=1e-3)


def test_two_gradients_wrong_on_one_line_are_one_finding_in_the_plural(tmp_path):
    text, [finding] = replayed(
        tmp_path, ("dW1 = X.T @ dz1\n    db1 = dz1.sum(axis=0)", "dW1, db1 = 2 * X.T @ dz1, 2 * dz1.sum(axis=0)")
    )
    line = line_of(text, "dW1, db1 = ")
    updates = (line_of(text, "W1 -= lr"), line_of(text, "b1 -= lr"))
    assert (finding.param, finding.line, finding.highlight) == ("W1", line, (line, *updates))
    assert finding.message == (
        f"the updates of `W1` and `b1` in your training step (lines {updates[0]}, {updates[1]}) use `dW1` and `db1`, "
        f"computed at line {line}, which are 2 × the gradients of your loss: look for a missing or extra factor 2 "
        "(the derivative of a square)"
    )


def test_a_parameter_the_forward_pass_never_reads_is_not_used(tmp_path):
    text, [finding] = replayed(tmp_path, ("z1 = X @ W1 + b1", "z1 = X @ W1 + 0.0"))
    update, gradient = line_of(text, "b1 -= lr"), line_of(text, "db1 = ")
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == ("b1", gradient, (gradient, update), "not-used")
    assert finding.message == (
        f"the update of your training step (line {update}) moves `b1`, but {LOSS} does not change when it does: "
        "your training step never reads `b1` before updating it; look for another weight typed in its place in "
        "the forward pass"
    )


def test_an_error_already_found_stops_the_finding_unless_the_replay_names_a_statement(tmp_path):
    mismatch = Finding("gradient-mismatch", "BPD101", "error", "W1 is wrong", param="W1", line=23)
    wrong_derivative = ("dz1 = da1 * (1 - a1 ** 2)", "dz1 = da1 * (1 - a1)")
    # a first wrong adjoint says more than the gradient check: still reported
    assert [f.param for f in replayed(tmp_path, wrong_derivative, findings=[mismatch])[1]] == ["dz1"]
    # a wrong gradient with no wrong adjoint: the gradient check has said it
    assert replayed(tmp_path, ("dW1 = X.T @ dz1", "dW1 = 2 * X.T @ dz1"), findings=[mismatch])[1] == []
    # a structural error (BPD3xx) explains the step: nothing more
    softmax = Finding("softmax-not-per-row", "BPD301", "error", "softmax over the batch", line=3)
    assert replayed(tmp_path, wrong_derivative, findings=[softmax])[1] == []
    # warnings and this rule's own earlier findings do not count
    own = Finding("step-gradient-mismatch", "BPD108", "error", "an earlier step", line=3)
    note = Finding("gradient-at-kink", "BPD104", "warning", "a kink", line=3)
    assert [f.param for f in replayed(tmp_path, ("dW1 = X.T @ dz1", "dW1 = 2 * X.T @ dz1"), findings=[own, note])[1]] == ["W1"]
