"""step-update-lost (BPD613): updates that never reach the arrays the forward pass reads, in this process.

The scripts of `test_step_update_lost.py` (CLI tests, in a child process where a mutation run
cannot see them) are replayed here with `replay_file`, their loss curve kept, and the check run on
the result: a copy moved instead of the parameter (made by `.copy()`, `np.copy`, `np.array`,
`copy.deepcopy`; stepped with `-=`, `+=` or a new binding), an update
function that rebinds its argument, and an update the check cannot explain.
Every line comes from the script's text, every number from the replayed curve.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inprocess import line_of, replayed, replayed_findings, restored_interpreter  # noqa: F401 - fixtures used by name
from test_step_update_lost import BY_A_FUNCTION, IN_A_DICT

from backprop_doctor.checks import step_update_lost

UPDATE = "        params[k] -= 0.5 * grads[k]\n"


def lost(tmp_path: Path, text: str, old: str = "", new: str = ""):
    """(path, the replayed curve, the findings) of the script with `old` replaced by `new`."""
    path, result, found = replayed(tmp_path, step_update_lost, text, (old, new))
    return path, result.curve, found


def opening(curve: list[float], line: int) -> str:
    return (
        f"your training loop's loss stays at exactly {curve[0]:.6g} over {len(curve)} replayed steps although its gradients "
        f"are not zero: the update (line {line}) "
    )


def test_updates_in_place_lose_nothing(tmp_path):
    assert lost(tmp_path, IN_A_DICT)[2] == []
    assert lost(tmp_path, BY_A_FUNCTION)[2] == []


@pytest.mark.parametrize(
    "copy, original",
    [
        ("params[k].copy()", "params[k]"),
        ("np.copy(params[k])", "params[k]"),
        ("np.array(params[k])", "params[k]"),
        ("copy.deepcopy(params[k])", "params[k]"),
    ],
    ids=["method", "np-copy", "np-array", "deepcopy"],
)
def test_a_copy_moved_instead_of_the_parameter_is_named_with_the_copy(tmp_path, copy, original):
    text = IN_A_DICT.replace("import numpy as np\n", "import copy\n\nimport numpy as np\n", 1)
    path, curve, (f,) = lost(tmp_path, text, UPDATE, f"        w = {copy}\n        w -= 0.5 * grads[k]\n")
    made, moved = line_of(path, "        w = "), line_of(path, "w -= 0.5")
    assert (f.severity, f.code, f.file, f.line, f.highlight, f.pattern) == ("error", "BPD613", str(path), made, (made, moved), "update-lost")
    assert f.message == opening(curve, moved) + (
        f"moves `w`, a copy of `{original}` made at line {made}, so `{original}` never changes; update `{original}` itself: "
        f"`{original} -= 0.5 * grads[k]`"
    )
    assert f.evidence == (("replayed", f"loss after each of {len(curve)} steps: {curve[0]:.10g} every time"),)
    assert len(curve) > 1 and len(set(curve)) == 1


def test_the_last_copy_before_the_update_is_the_one_named(tmp_path):
    new = "        w = params[k].copy()\n        w = np.copy(params[k])\n        w -= 0.5 * grads[k]\n"
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, new)
    assert f.line == line_of(path, "w = np.copy(params[k])")


@pytest.mark.parametrize(
    "step, fix",
    [
        ("w += -0.5 * grads[k]", "params[k] -= 0.5 * grads[k]"),
        ("w -= -0.5 * grads[k]", "params[k] += 0.5 * grads[k]"),
        ("w += 0.5 * grads[k]", "params[k] += 0.5 * grads[k]"),
    ],
    ids=["adds-a-negative-step", "subtracts-a-negative-step", "adds"],
)
def test_the_original_is_told_to_move_the_way_the_copy_moved(tmp_path, step, fix):
    """The fix keeps the update's direction: `w += -0.5 * g` descends, and so must its fix."""
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, f"        w = params[k].copy()\n        {step}\n")
    assert f.message.endswith(f"update `params[k]` itself: `{fix}`")


def test_a_copy_bound_again_is_told_to_update_the_original_in_place(tmp_path):
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, "        w = params[k].copy()\n        w = w - 0.5 * grads[k]\n")
    made = line_of(path, "w = params[k].copy()")
    assert f.line == made
    assert f.message.endswith(f"moves `w`, a copy of `params[k]` made at line {made}, so `params[k]` never changes; update `params[k]` itself, in place")


def test_an_update_function_that_rebinds_its_argument_is_named_at_the_binding(tmp_path):
    path, curve, (f,) = lost(tmp_path, BY_A_FUNCTION, "    W -= lr * dW\n", "    W = W - lr * dW\n")
    line = line_of(path, "W = W - lr * dW")
    assert (f.line, f.highlight) == (line, (line,))
    assert f.message == opening(curve, line) + (
        "binds a new array to `W`, `sgd`'s own name for the array it was given, so the caller's array never changes; write "
        "`W -= lr * dW` to change the array in place, or return `W` and assign what `sgd` returns"
    )


def test_an_update_of_a_name_that_is_no_copy_gets_the_general_words_at_the_update(tmp_path):
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, "        w = params[k] * 1.0\n        w -= 0.5 * grads[k]\n")
    moved = line_of(path, "w -= 0.5")
    assert (f.line, f.highlight) == (moved, (moved,))
    assert f.message == opening(curve, moved) + (
        "moves arrays the forward pass never reads (a copy, or a name rebound to a new array); update the arrays the forward "
        "pass computes with, in place"
    )


def test_a_copy_of_a_computed_value_is_not_a_copy_of_the_parameter(tmp_path):
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, "        w = np.copy(params[k] + 0)\n        w -= 0.5 * grads[k]\n")
    assert "moves arrays the forward pass never reads" in f.message


def test_a_copy_made_by_an_unbound_method_of_the_array_type_is_a_copy(tmp_path):
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, "        w = np.ndarray.copy(params[k])\n        w -= 0.5 * grads[k]\n")
    assert f.line == line_of(path, "w = np.ndarray.copy(params[k])") and "a copy of `params[k]`" in f.message


def test_a_name_rebound_at_module_level_gets_the_general_words_at_the_update(tmp_path):
    path, curve, (f,) = lost(tmp_path, IN_A_DICT, UPDATE, "        w = params[k] * 1.0\n        w = w - 0.5 * grads[k]\n")
    moved = line_of(path, "w = w - 0.5")
    assert (f.line, f.highlight) == (moved, (moved,)) and "moves arrays the forward pass never reads" in f.message


def test_the_second_of_two_training_loops_is_checked_after_a_first_that_loses_nothing(tmp_path):
    second = IN_A_DICT.split("t = np.eye(3)[rng.integers(0, 3, 64)]\n", 1)[1].replace(UPDATE, "        w = params[k].copy()\n        w -= 0.5 * grads[k]\n")
    path = tmp_path / "train.py"
    path.write_text(IN_A_DICT + second, encoding="utf-8")
    results, (f,) = replayed_findings(path, step_update_lost)
    assert [r.lost for r in results] == [False, True]
    assert f.line == line_of(path, "w = params[k].copy()")
