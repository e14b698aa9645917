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


ADAM_LAYER = '''\
import numpy as np


class AdamDense:
    def __init__(self, n_in=4, n_out=3):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.1
        self.b = np.zeros(n_out)
        self.mW, self.vW = np.zeros_like(self.W), np.zeros_like(self.W)
        self.t = 0

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T

    def update(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.t += 1
        self.mW = beta1 * self.mW + (1 - beta1) * self.dW
        self.vW = beta2 * self.vW + (1 - beta2) * self.dW ** 2
        m_hat = self.mW / (1 - beta1 ** self.t)
        v_hat = self.vW / (1 - beta2 ** self.t)
        self.W -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        self.b -= lr * self.db
'''


def test_a_layers_adam_step_is_named_at_the_parameter_it_adds_to_not_at_its_step_count(tmp_path):
    """`self.t += 1` adds to an attribute too, but not to a parameter that climbed."""
    wrong = "self.W += lr * m_hat / (np.sqrt(v_hat) + 1e-8)"
    path, findings = checked(tmp_path, "adam.py", edited(ADAM_LAYER, ("self.W -= lr * m_hat", "self.W += lr * m_hat")))
    (finding,) = [f for f in findings if f.name == "update-climbs"]
    line = line_of(path, wrong)
    assert (finding.layer, finding.line, finding.highlight) == ("AdamDense", line, (line,))
    assert finding.message.startswith("`AdamDense.update` moves `W` along its gradient, up the loss")
    assert [label for label, _ in finding.evidence] == ["W"]
    assert [f for f in checked(tmp_path / "right", "adam.py", ADAM_LAYER)[1] if f.name == "update-climbs"] == []


def test_an_optim_functions_step_with_no_rate_named_is_found_by_its_gradient_argument(tmp_path):
    """No name of the added step reads as a rate (`size`): the line is the one adding a term holding `dw`,
    the function's second argument, not one that mentions its third (`config`)."""
    path, findings = checked(tmp_path, "optim.py", edited(OPTIM, ('    w -= config["learning_rate"] * dw\n', '    size = config["learning_rate"]\n    w += size * dw\n')))
    (finding,) = [f for f in findings if f.name == "update-climbs"]
    line = line_of(path, "w += size * dw")
    assert (finding.layer, finding.line, finding.highlight) == ("sgd", line, (line,))


LOSS_LAYER = '''\
import numpy as np


class SoftmaxRegression:
    def __init__(self, n_in=4, n_classes=3):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_classes)) * 0.1

    def forward(self, x, t):
        if t.ndim == 1:  # class labels
            t = np.eye(self.W.shape[1])[t]
        self.x, self.t = x, t
        scores = x @ self.W
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        self.probs = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.probs + 1e-12)) / len(x)

    def backward(self, dout=1):
        dscores = (self.probs - self.t) / len(self.x) * dout
        self.dW = self.x.T @ dscores
        return dscores @ self.W.T

    def update(self, lr=0.1):
        self.W -= lr * self.dW
'''


def test_a_loss_layer_with_its_own_update_is_stepped_with_its_targets(tmp_path):
    """A loss layer's forward needs its targets: the update is judged after a forward and backward on the
    case's own labels, both times."""
    path, findings = checked(tmp_path, "regression.py", edited(LOSS_LAYER, ("self.W -= lr * self.dW", "self.W += lr * self.dW")))
    (finding,) = [f for f in findings if f.name == "update-climbs"]
    line = line_of(path, "self.W += lr * self.dW")
    assert (finding.severity, finding.layer, finding.line, finding.highlight) == ("error", "SoftmaxRegression", line, (line,))
    assert finding.evidence == (("W", "`update()` after backward moved it with cosine +1.000 to its gradient (descent moves it near −1)"),)
    assert [f for f in checked(tmp_path / "right", "regression.py", LOSS_LAYER)[1] if f.severity == "error"] == []


LISTED = '''\
import numpy as np


class Affine:
    def __init__(self, n_in=4, n_out=3):
        W = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.1
        b = np.zeros(n_out)
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        W, b = self.params
        self.x = x
        return x @ W + b

    def backward(self, dout):
        W, b = self.params
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ W.T

    def update(self, lr=0.01):
        for param, grad in zip(self.params, self.grads):
            param -= lr * grad
'''


def test_a_layer_keeping_its_parameters_in_a_list_is_judged_on_the_arrays_its_update_moved(tmp_path):
    """DLFS-2's `self.params` list: no attribute holds the parameters by name, so the moved arrays are the
    ones the update changed in place; both climb."""
    _, findings = checked(tmp_path, "affine.py", edited(LISTED, ("param -= lr * grad", "param += lr * grad")))
    (finding,) = [f for f in findings if f.name == "update-climbs"]
    assert (finding.severity, finding.layer) == ("error", "Affine")
    assert finding.message.startswith("`Affine.update` moves ") and "along their gradients" in finding.message
    assert [text.split(" moved it with cosine ")[1][:6] for _, text in finding.evidence] == ["+1.000", "+1.000"]
    assert [f for f in checked(tmp_path / "right", "affine.py", LISTED)[1] if f.name == "update-climbs"] == []
