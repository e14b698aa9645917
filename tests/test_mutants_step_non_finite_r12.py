"""step-non-finite, replayed in this process (issue 15, twelfth round): a script whose loss is NaN or infinite
with every gradient right is named at the first line that overflowed or divided by zero, before any update or
after some steps, with the advice for that kind and its own curve as evidence. The scripts are
`test_step_non_finite.py`'s; the growing-input one multiplies its data each step, so no smaller rate helps."""

from __future__ import annotations

import math

from inprocess import line_of, replayed, restored_interpreter  # noqa: F401 - fixtures used by name
from test_step_non_finite import SATURATED_LOG, UNSHIFTED_SOFTMAX

from backprop_doctor.checks import step_non_finite

LOG_ZERO = ("it divides by 0 or takes `log` of 0 there: keep the value away from 0 (`np.log(np.clip(p, 1e-12, None))`, "
            "or add a small epsilon to the divisor)")
OVERFLOW = ("a number grew past the float range there (`exp` of a large value, or weights that keep growing): "
            "subtract the maximum before `exp`, or scale the inputs")
GROWING = (("* 300.0", "* 1.0"), ("    scores = X @ W + b\n", "    X = X * 2.0\n    scores = X @ W + b\n"))


def test_a_loss_that_is_nan_before_any_update_is_named_at_the_first_division_by_zero(tmp_path):
    path, _, found = replayed(tmp_path, step_non_finite, SATURATED_LOG)
    (finding,) = found
    line = line_of(path, "cost = -np.mean(Y * np.log(A)")
    # raw features times weights drawn at 5: the sigmoid's output is exactly 0 or 1 for some samples, which is named
    assert finding.message.startswith(
        f"your program's loss is nan from its first step, before any update: the first divide by zero in its loop is at line {line}; "
        "26 of 64 entries of `A` are exactly 0 or 1 at the first step: a sigmoid's output rounds to exactly 1.0 in float64"
    )
    assert "weights initialised too large or inputs left unscaled" in finding.message
    assert finding.message.endswith(f"and {LOG_ZERO.partition('there: ')[2]}")
    assert (finding.name, finding.severity, finding.file, finding.line) == ("step-non-finite", "error", str(path), line)
    assert finding.evidence == (("your loop", "the first step's loss: nan"),)


def test_an_overflow_before_any_update_gets_the_overflows_advice(tmp_path):
    path, _, found = replayed(tmp_path, step_non_finite, UNSHIFTED_SOFTMAX)
    (finding,) = found
    assert finding.line == line_of(path, "exp_scores = np.exp(scores)")
    assert finding.message.endswith(f"the first overflow in its loop is at line {finding.line}; {OVERFLOW}")


def test_a_loss_that_stops_being_a_number_after_some_steps_counts_them_and_shows_its_curve(tmp_path):
    path, result, found = replayed(tmp_path, step_non_finite, UNSHIFTED_SOFTMAX, *GROWING)
    (finding,) = found
    line = line_of(path, "loss = -np.mean(np.log(probs[np.arange(50), y]))")
    first_bad = next(i for i, v in enumerate(result.curve) if not math.isfinite(v))
    assert finding.message == (
        f"your program's own loss stops being a number after {first_bad + 1} of its steps although every gradient it computes "
        f"is right, and a smaller learning rate does not help: the first divide by zero in its loop is at line {line} "
        f"(step {result.non_finite.step + 1}); {LOG_ZERO}"
    )
    assert finding.line == line
    assert finding.evidence == (("your loop", f"{len(result.curve)} steps: " + " → ".join(f"{v:.4g}" for v in result.curve[:6])),)
    assert len(result.curve) > 6  # the evidence shows the first six


def test_the_program_with_its_probabilities_clipped_is_clean(tmp_path):
    _, result, found = replayed(tmp_path, step_non_finite, SATURATED_LOG,
                                ("A = 1 / (1 + np.exp(-Z))", "A = np.clip(1 / (1 + np.exp(-Z)), 1e-12, 1 - 1e-12)"))
    assert result.non_finite is None and found == []
