"""loss-sign-flipped (BPD503): a printed cost that rises while the network learns, in this process.

The programs of `test_loss_sign_flipped.py` (CLI tests, in a child process where a mutation run
cannot see them) are replayed here with `replay_file` and the check run on the result: the exact
words, line, parameter and measured start of a cost without its minus sign, computed in a method
or a function the loop calls; and the programs it must leave alone (a correct cost, an ascent on
purpose, a value named like what one climbs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inprocess import line_of, replayed, replayed_findings, restored_interpreter  # noqa: F401 - fixtures used by name
from test_loss_sign_flipped import LOGISTIC, SCRIPT

from backprop_doctor.checks import loss_sign_flipped


def flipped(tmp_path: Path, text: str, *edits: tuple[str, str]):
    """(path, the replay's one result, the findings) of the program with every `old` of `edits`
    replaced (a program's two gradients or two updates are edited alike)."""
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return replayed(tmp_path, loss_sign_flipped, text, curve=False)


def test_correct_costs_are_not_flipped(tmp_path):
    assert flipped(tmp_path, LOGISTIC)[2] == []
    assert flipped(tmp_path, SCRIPT)[2] == []


def test_a_cost_computed_in_a_method_is_found_where_it_is_computed_and_read(tmp_path):
    path, result, (f,) = flipped(tmp_path, LOGISTIC, ("cost = -np.sum(", "cost = np.sum("))
    computed, read, first = line_of(path, "cost = np.sum("), line_of(path, "cost = self._cost(A, Y)"), line_of(path, "self.w -= learning_rate * dw")
    start = -result.loss_value
    assert start < 0
    assert (f.severity, f.code, f.file, f.line, f.param, f.measured) == ("error", "BPD503", str(path), computed, "cost", start)
    assert f.message == (
        f"your `cost` (computed at line {computed}, read at line {read}), {start:.4g} at the start, rises while your network "
        f"learns: it is the negative of the loss your gradients belong to, since every update (the first at line {first}: "
        "`self.w -= learning_rate * dw`) descends along its gradient and climbs `cost`; put a minus sign in front of it"
    )


def test_a_cost_returned_by_a_function_is_found_at_the_return_and_the_first_update_named(tmp_path):
    path, result, (f,) = flipped(tmp_path, SCRIPT, ("return -np.sum(", "return np.sum("))
    computed, read, first = line_of(path, "return np.sum("), line_of(path, "cost = compute_cost(A2, Y)"), line_of(path, "W1 = W1 - 0.5 * dW1")
    assert (f.line, f.param) == (computed, "cost")
    assert f.message.startswith(f"your `cost` (computed at line {computed}, read at line {read}), {-result.loss_value:.4g} at the start, rises")
    assert f"(the first at line {first}: `W1 = W1 - 0.5 * dW1`)" in f.message


def test_a_cost_computed_in_the_loop_itself_is_found_at_its_line(tmp_path):
    inline = ("    cost = compute_cost(A2, Y)\n", "    cost = np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / Y.shape[1]\n")
    path, result, (f,) = flipped(tmp_path, SCRIPT, inline)
    line = line_of(path, "    cost = np.sum(")
    assert f.line == line and f.message.startswith(f"your `cost` (line {line}), {-result.loss_value:.4g} at the start, rises")


def test_an_ascent_on_purpose_is_not_reported(tmp_path):
    ascent = (("cost = -np.sum(", "cost = np.sum("), ("(A - Y)", "(Y - A)"), ("-= learning_rate * d", "+= learning_rate * d"))
    _, result, found = flipped(tmp_path, LOGISTIC, *ascent)
    assert result.maximised and found == []


@pytest.mark.parametrize(
    "name",
    ["log_likelihood", "ll", "ll_total", "avg_ll", "log_prob", "logprob", "reward", "score", "objective", "gain", "utility",
     "fitness", "accuracy", "LIK"],
)
def test_a_value_named_like_what_one_climbs_is_not_called_a_loss(tmp_path, name):
    text = SCRIPT.replace("return -np.sum(", "return np.sum(").replace("cost", name).replace("compute_" + name, "compute_cost")
    _, result, found = flipped(tmp_path, text)
    assert result.maximised and found == []


@pytest.mark.parametrize("name", ["cell", "all_loss", "loss"])
def test_a_value_named_like_a_loss_is_reported(tmp_path, name):
    text = SCRIPT.replace("return -np.sum(", "return np.sum(").replace("cost", name).replace("compute_" + name, "compute_cost")
    _, result, (f,) = flipped(tmp_path, text)
    assert f.param == name


def test_the_second_of_two_loops_is_checked_after_a_first_with_a_right_cost(tmp_path):
    second = SCRIPT.split("W1, b1 = rng", 1)[1].replace("compute_cost(A2, Y)", "compute_cost2(A2, Y)")
    text = SCRIPT + "\n\ndef compute_cost2(A2, Y):\n    return np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / Y.shape[1]\n\n\nW1, b1 = rng" + second
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    results, (f,) = replayed_findings(path, loss_sign_flipped, curve=False)
    assert [r.maximised for r in results] == [False, True]
    assert f.line == line_of(path, "return np.sum(Y * np.log(A2)")
