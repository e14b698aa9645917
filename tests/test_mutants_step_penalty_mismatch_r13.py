"""step-penalty-mismatch, thirteenth round (issue 15; 93571b4 never measured): a step that computes no loss gets no
penalty warning (it watches none), and the warning about a decayed parameter survives a parameter before it updated
without decay. The CLI tests' program (`test_step_penalty_mismatch.py`), replayed in this process; every line from the
file's text."""

from __future__ import annotations

from inprocess import line_of, replayed, restored_interpreter  # noqa: F401 - fixtures used by name
from test_step_penalty_mismatch import DECAY

from backprop_doctor.checks import step_penalty_mismatch

PRINTED = "    if i % 50 == 0:\n        print(cross_entropy(T, Y))\n"


def test_a_step_that_computes_no_loss_gets_no_penalty_warning(tmp_path):
    """Without the printed loss the replay watches none: the decay in the update is the program's own choice."""
    _, result, found = replayed(tmp_path, step_penalty_mismatch, DECAY, (PRINTED, ""))
    assert result.loss is None and [measured.decay for _, measured in result.parameters] != [None]
    assert found == []


def test_a_decayed_weight_after_a_bias_updated_without_decay_is_still_warned_about(tmp_path):
    path, result, found = replayed(
        tmp_path, step_penalty_mismatch, DECAY,
        ("w = rng.normal(size=3)\n", "w = rng.normal(size=3)\nb = 0.0\n"),
        ("Y = sigmoid(X.dot(w))\nfor", "Y = sigmoid(X.dot(w) + b)\nfor"),
        ("    w += 0.01 * (X.T.dot(T - Y) - 0.1 * w)\n", "    b += 0.01 * np.sum(T - Y)\n    w += 0.01 * (X.T.dot(T - Y) - 0.1 * w)\n"),
        ("    Y = sigmoid(X.dot(w))\n", "    Y = sigmoid(X.dot(w) + b)\n"),
    )
    (finding,) = found
    assert (finding.param, finding.line, finding.highlight) == ("w", line_of(path, "w += 0.01"), (line_of(path, "w += 0.01"),))
    assert [measured.name for _, measured in result.parameters][0] == "b"
