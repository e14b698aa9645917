"""layer-raised, checked in this process (issue 15, twelfth round): a raise on the `None` an exercise left as
its placeholder is a warning that the function is not written yet, naming the placeholder's last assignment
before the line; any other `None` stays the engine's error; `float(b)` of a size-1 array gets NumPy 2's
spelling. The files are the CLI tests' own; lines from their text."""

from __future__ import annotations


from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_pair_forward_errors_named import FLOAT_OF_BIAS, NUMPY_2_ONLY
from test_regularization_notebook import NOTEBOOK

WRITTEN = "L2_regularization_cost = lambd / (2 * m) * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))"
PLACEHOLDER = NOTEBOOK.replace(WRITTEN, "L2_regularization_cost = None")


def raised(findings):
    (finding,) = [f for f in findings if f.name == "layer-raised"]
    return finding


def test_a_cost_still_the_none_placeholder_is_not_written_yet_at_the_line_that_uses_it(tmp_path):
    path, findings = checked(tmp_path, "Regularization.py", PLACEHOLDER)
    finding = raised(findings)
    placeholder, used = line_of(path, "L2_regularization_cost = None"), line_of(path, "return cross_entropy_cost + L2_regularization_cost")
    assert (finding.severity, finding.pattern, finding.fix, finding.line) == ("warning", "not-written", None, used)
    assert finding.message == (
        f"`compute_cost_with_regularization` is not written yet: `L2_regularization_cost` is still the `None` placeholder "
        f"it started as (line {placeholder}) when line {used} uses it; write it"
    )


def test_the_placeholders_last_assignment_before_the_line_is_named(tmp_path):
    text = PLACEHOLDER.replace("L2_regularization_cost = None", "L2_regularization_cost = None\n        cross_entropy_cost = cross_entropy_cost * 1.0\n        L2_regularization_cost = None")
    path, findings = checked(tmp_path, "Regularization.py", text)
    second = line_of(path, "L2_regularization_cost = None", after=line_of(path, "cross_entropy_cost = cross_entropy_cost * 1.0"))
    assert f"placeholder it started as (line {second}) when" in raised(findings).message


def test_a_none_that_is_no_placeholder_stays_the_engines_error(tmp_path):
    """The name's last assignment before the line is a call that returned None: a bug, not an unwritten exercise."""
    text = PLACEHOLDER.replace("L2_regularization_cost = None", "L2_regularization_cost = None\n        L2_regularization_cost = print('L2')")
    _, findings = checked(tmp_path, "Regularization.py", text)
    finding = raised(findings)
    assert (finding.severity, finding.pattern) == ("error", None)
    assert "not written yet" not in finding.message


def test_only_the_names_the_failing_line_reads_are_taken_for_the_placeholder(tmp_path):
    """`A_note` is a None read elsewhere (and sorts first); a module constant the line reads is bound nowhere in it."""
    text = PLACEHOLDER.replace("L2_regularization_cost = None", "L2_regularization_cost = None\n        A_note = None\n        notes = [A_note]").replace(
        "return cross_entropy_cost + L2_regularization_cost", "return cross_entropy_cost + L2_regularization_cost + EPS").replace(
        "import numpy as np\n", "import numpy as np\n    EPS = 1e-8\n", 1)
    path, findings = checked(tmp_path, "Regularization.py", text)
    finding = raised(findings)
    assert (finding.severity, finding.line) == ("warning", line_of(path, "+ L2_regularization_cost + EPS"))
    assert f"`L2_regularization_cost` is still the `None` placeholder it started as (line {line_of(path, 'L2_regularization_cost = None')})" in finding.message


def test_a_placeholder_scaled_in_place_is_named_at_its_none(tmp_path):
    """The failing line assigns the name it reads: the assignment before it is the placeholder's."""
    text = PLACEHOLDER.replace("        return cross_entropy_cost + L2_regularization_cost",
                               "        L2_regularization_cost = lambd * L2_regularization_cost\n        return cross_entropy_cost + L2_regularization_cost")
    path, findings = checked(tmp_path, "Regularization.py", text)
    finding = raised(findings)
    used = line_of(path, "L2_regularization_cost = lambd * L2_regularization_cost")
    assert (finding.severity, finding.line) == ("warning", used)
    assert f"placeholder it started as (line {line_of(path, 'L2_regularization_cost = None')}) when line {used} uses it" in finding.message




@NUMPY_2_ONLY
def test_float_of_a_size_one_array_gets_numpy_2s_spelling_once(tmp_path):
    path, findings = checked(tmp_path, "conv.py", FLOAT_OF_BIAS)
    finding = raised(findings)
    assert (finding.severity, finding.line) == ("error", line_of(path, "+ float(b)"))
    assert finding.message.endswith(
        "; NumPy 2 turns only a 0-dimensional array into a number: write `b.item()` (the one number of a size-1 array) "
        "where the line has `float(b)` or `int(b)`"
    )
    assert finding.message.count("b.item()") == 1
