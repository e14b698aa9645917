"""update-climbs, thirteenth round (issue 15): every finding highlights the line it names, as the other checks
highlight the statement they point at: the step an optimizer stepped once adds (cs231n's optim functions, the
course's parameter-dictionary updates, an optimizer of pairs, an optimizer class) and a layer's own update,
or the update's `def` when no statement of it adds a step. Real files checked in this process; every line
from the file's text."""

from __future__ import annotations

import pytest

from inprocess import checked, edited, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_optimizer_classes import OPTIMIZERS
from test_optimizer_functions import OPTIM
from test_parameter_dictionary_updates import GD, PAIRS
from test_update_climbs import DENSE

ADAM_STEP = 'next_x = x - config["learning_rate"] * mb / (np.sqrt(vb) + config["epsilon"])'

CASES = [
    ("optim.py", OPTIM, ADAM_STEP, ADAM_STEP.replace("x - config", "x + config"), "adam"),
    ("update.py", GD, '] - learning_rate * grads["dW"', '] + learning_rate * grads["dW"', "update_parameters_with_gd"),
    ("optimizers.py", PAIRS, "param -= self.lr * v", "param += self.lr * v", "SGDMomentum"),
    ("optimizers.py", OPTIMIZERS, "params[key] -= self.lr * grads[key]", "params[key] += self.lr * grads[key]", "SGD"),
    ("dense.py", DENSE, "self.W -= lr * self.mW", "self.W += lr * self.mW", "Dense"),
]


@pytest.mark.parametrize(("name", "text", "right", "wrong", "owner"), CASES, ids=[c[4] for c in CASES])
def test_a_climbing_update_highlights_the_line_that_adds_its_step(tmp_path, name, text, right, wrong, owner):
    path, findings = checked(tmp_path, name, edited(text, (right, wrong)))
    (finding,) = [f for f in findings if f.name == "update-climbs"]
    line = line_of(path, wrong)
    assert (finding.layer, finding.file, finding.line, finding.highlight) == (owner, str(path), line, (line,))


def test_an_update_that_rebinds_its_weight_is_highlighted_at_its_def(tmp_path):
    """`self.W = self.W + lr * self.mW` is no `+=` of a parameter: the finding falls back to the update's `def`."""
    path, findings = checked(tmp_path, "dense.py", edited(DENSE, ("self.W -= lr * self.mW", "self.W = self.W + lr * self.mW")))
    (finding,) = [f for f in findings if f.name == "update-climbs"]
    line = line_of(path, "def update(")
    assert (finding.line, finding.highlight) == (line, (line,))
