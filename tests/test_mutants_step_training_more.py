"""The replay's training checks, eleventh mutation round: what `test_mutants_step_training_checks.py`
left open, replayed in this process with `replay_file` (a CLI test's child kills no mutant).

symmetric-init (BPD611): weights assigned with an annotation, weights one statement makes for both (named
there), weights unpacked from a list (named at the unpacking), and a second loop's weights after a first
loop's random ones.
step-rate-too-low (BPD609): a second loop's rate after a first loop's good one, a rate set with no
literal (quoted at the loop), and the loss quoted from its first value when the first step already
moves it at the fourth digit.
"""

from __future__ import annotations

from inprocess import line_of, replayed, replayed_findings, restored_interpreter  # noqa: F401 - fixtures used by name
from test_step_dead_relu import SCRIPT, SVM

from backprop_doctor.checks import step_rate_too_low, symmetric_init

W1, W2 = "W1 = np.random.randn(5, 32) * np.sqrt(2.0 / 5)", "W2 = np.random.randn(32, 1) * np.sqrt(2.0 / 32)"
ZEROS = "W1 = np.zeros((5, 32))\nb1 = np.zeros((1, 32))\nW2 = np.zeros((32, 1))\nb2 = np.zeros((1, 1))\n"


def second_loop(text: str, start: str) -> str:
    """`text` followed by its own training loop again, from the weights `start` sets."""
    return text + "\n" + start + "for " + text.split("\nfor ", 1)[1]


# --- symmetric-init ---


def test_weights_assigned_with_an_annotation_are_named_at_that_line(tmp_path):
    path, result, (f,) = replayed(tmp_path, symmetric_init, SCRIPT, (W1, "W1: np.ndarray = np.zeros((5, 32))"), (W2, "W2: np.ndarray = np.zeros((32, 1))"))
    assert result.symmetric == ["W1", "W2"] and f.line == line_of(path, "W1: np.ndarray")


def test_weights_made_equal_by_one_statement_for_both_are_named_there(tmp_path):
    """`W1, W2 = np.zeros(...), np.zeros(...)` makes both equal in one statement: named there (it was the loop's line)."""
    path, result, (f,) = replayed(tmp_path, symmetric_init, SCRIPT, (W1, "W1, W2 = np.zeros((5, 32)), np.zeros((32, 1))"), (W2 + "\n", ""))
    assert result.symmetric == ["W1", "W2"] and f.line == line_of(path, "W1, W2 = np.zeros") != result.step.loop_line


def test_weights_no_statement_of_their_own_makes_equal_are_named_where_they_are_unpacked(tmp_path):
    """Weights made equal by a loop over both (`for w in (W1, W2): w.fill(0.1)`): no statement makes one of them
    equal by its name, and the finding names the statement that binds them (`W1, W2 = [...]`)."""
    made = "W1, W2 = [np.empty(s) for s in ((5, 32), (32, 1))]\nfor w in (W1, W2):\n    w.fill(0.1)"
    path, result, (f,) = replayed(tmp_path, symmetric_init, SCRIPT, (W1, made), (W2 + "\n", ""))
    assert result.symmetric == ["W1", "W2"] and f.line == line_of(path, "W1, W2 = [np.empty")


def test_a_second_loop_from_equal_weights_is_named_after_a_first_from_random_ones(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(second_loop(SCRIPT, ZEROS), encoding="utf-8")
    (first, second), (f,) = replayed_findings(path, symmetric_init)
    assert (first.symmetric, second.symmetric) == ([], ["W1", "W2"])
    assert f.line == line_of(path, "W1 = np.zeros")  # the statement that makes the equal weights, not the random W1's


# --- step-rate-too-low ---


def test_a_second_loop_too_slow_is_told_after_a_first_that_learns(tmp_path):
    path = tmp_path / "train.py"
    fast = SVM.replace("lr = 0.5", "lr = 50.0")
    path.write_text(second_loop(fast, "W = np.array([[-5.0, 5.0], [-5.0, 5.0]]) + rng.standard_normal((2, 2)) * 0.01\nlr = 0.5\n"), encoding="utf-8")
    (first, second), found = replayed_findings(path, step_rate_too_low)
    assert first.larger_rate is None and second.larger_rate is not None
    assert [(f.param, f.measured, f.line) for f in found] == [("lr", 0.5, line_of(path, "lr = 0.5"))]


def test_the_loss_is_quoted_from_its_first_value_when_the_first_step_moves_it(tmp_path):
    """A penalty 1.0005e-4 puts the start at 0.010027, the loss after one step at 0.010025: the
    message's start is the first, to its fourth digit, and so is the evidence's."""
    path, result, (f,) = replayed(tmp_path, step_rate_too_low, SVM, ("reg = 1e-4", "reg = 1.0005e-4"))
    own = result.curve
    assert f"{own[0]:.4g}" != f"{own[1]:.4g}"
    assert f.message.startswith(f"your program's own loss stays at {own[0]:.4g} (it ends at {own[-1]:.4g}) over its first {len(own)} steps")
    assert f.evidence[0] == ("your loop", f"{len(own)} steps at lr = 0.5: {own[0]:.4g} → {own[-1]:.4g}")


def test_a_rate_the_file_sets_with_no_literal_is_quoted_with_its_value_at_the_statement_that_sets_it(tmp_path):
    """No number to point at: the one statement before the loop that computes the rate is named
    (`_training_words.rate_statement`), with the value the loop ran with."""
    path, result, (f,) = replayed(tmp_path, step_rate_too_low, SVM, ("lr = 0.5", "lr = [0.5][0]"))
    assert f.line == line_of(path, "lr = [0.5][0]") != result.step.loop_line
    assert f"`lr = [0.5][0]` (0.5, line {f.line}) is too small" in f.message
