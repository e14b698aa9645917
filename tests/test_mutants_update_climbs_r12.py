"""update-climbs' newer optimizers, checked in this process (issue 15, twelfth round): cs231n's optim
functions (f6b6f6b), the course's updates over a parameter dictionary (ab1d292) and an optimizer stepping a
list of (parameter, gradient) pairs (df8531a), each stepped once and, when it climbs, named at the line that
adds the step, with its words. The programs are the CLI tests' own; every line from the file's text."""

from __future__ import annotations

import pytest

from inprocess import checked, edited, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_optimizer_functions import OPTIM
from test_parameter_dictionary_updates import ADAM, GD, MOMENTUM, PAIRS

ASCENDS = "up the loss: training with it makes the loss larger from the start; the step must be subtracted where it is added"
ADAM_STEP = 'next_x = x - config["learning_rate"] * mb / (np.sqrt(vb) + config["epsilon"])'
VELOCITY = 'v = config["momentum"] * v - config["learning_rate"] * dw'


def climbs(findings):
    return [f for f in findings if f.severity == "error"]


@pytest.mark.parametrize(
    ("right", "wrong", "function"),
    [(ADAM_STEP, ADAM_STEP.replace("x - config", "x + config"), "adam"), (VELOCITY, VELOCITY.replace("v - config", "v + config"), "sgd_momentum")],
    ids=["adam", "sgd_momentum"],
)
def test_an_optim_function_that_adds_its_step_climbs_at_that_line(tmp_path, right, wrong, function):
    path, findings = checked(tmp_path, "optim.py", edited(OPTIM, (right, wrong)))
    (finding,) = climbs(findings)
    assert (finding.name, finding.layer, finding.line, finding.pattern, finding.file) == ("update-climbs", function, line_of(path, wrong), "update-ascends", str(path))
    assert finding.message == f"`{function}(w, dw)` moves `w` along its gradient `dw`, {ASCENDS}"
    ((label, text),) = finding.evidence
    assert label == "w" and text.startswith(f"one call of `{function}` on a fresh array moved it with cosine +")


def test_the_right_optim_functions_are_clean(tmp_path):
    assert climbs(checked(tmp_path, "optim.py", OPTIM)[1]) == []


@pytest.mark.parametrize(
    ("text", "right", "wrong", "function"),
    [
        (GD, '] - learning_rate * grads["dW"', '] + learning_rate * grads["dW"', "update_parameters_with_gd"),
        (MOMENTUM, 'parameters["W" + str(l + 1)] -= learning_rate', 'parameters["W" + str(l + 1)] += learning_rate', "update_parameters_with_momentum"),
    ],
    ids=["gd", "momentum"],
)
def test_a_dictionary_update_that_adds_the_step_climbs_at_that_line(tmp_path, text, right, wrong, function):
    path, findings = checked(tmp_path, "update.py", edited(text, (right, wrong)))
    (finding,) = climbs(findings)
    assert (finding.layer, finding.line) == (function, line_of(path, wrong))
    assert finding.message == f"`{function}(parameters, grads, ...)` moves `W1`, `W2` along its gradient, {ASCENDS}"
    assert [label for label, _ in finding.evidence] == ["W1", "W2"]
    assert finding.evidence[0][1] == f"one call of `{function}` on a fresh dictionary moved it with cosine +1.000 to its gradient (descent moves it near −1)"


@pytest.mark.parametrize("text", [GD, MOMENTUM, ADAM], ids=["gd", "momentum", "adam"])
def test_the_right_dictionary_updates_are_clean(tmp_path, text):
    assert climbs(checked(tmp_path, "update.py", text)[1]) == []


def test_an_optimizer_of_pairs_that_adds_its_velocity_climbs_at_that_line(tmp_path):
    path, findings = checked(tmp_path, "optimizers.py", edited(PAIRS, ("param -= self.lr * v", "param += self.lr * v")))
    (finding,) = climbs(findings)
    assert (finding.layer, finding.line) == ("SGDMomentum", line_of(path, "param += self.lr * v"))
    assert finding.message == f"`SGDMomentum.step(params_and_grads)` moves every parameter along its gradient on its first step, {ASCENDS}"
    assert [label for label, _ in finding.evidence] == ["W1", "b1", "W2"]
    assert climbs(checked(tmp_path / "right", "optimizers.py", PAIRS)[1]) == []


def test_a_dictionary_update_whose_every_parameter_climbs_says_every_parameter(tmp_path):
    path, findings = checked(tmp_path, "update.py", edited(GD, ('] - learning_rate * grads["dW"', '] + learning_rate * grads["dW"'),
                                                           ('] - learning_rate * grads["db"', '] + learning_rate * grads["db"')))
    (finding,) = climbs(findings)
    assert finding.line == line_of(path, '+ learning_rate * grads["dW"')
    assert finding.message == f"`update_parameters_with_gd(parameters, grads, ...)` moves every parameter along its gradient, {ASCENDS}"
    assert [label for label, _ in finding.evidence] == ["W1", "b1", "W2", "b2"]
