"""activation-forward-wrong (BPD111), eleventh mutation round: what the first in-process file left
open, checked in this process by `check_file` (a CLI test's child process kills no mutant).

The links the check makes before the ranking reach the wrong activation's own mismatches and no
other layer's or function's; a layer with a train flag is called in the mode the check runs in;
a name is an activation's only once its leading underscores, and nothing else, are stripped.
"""

from __future__ import annotations

import pytest
import inprocess
from inprocess import edited, line_of, restored_interpreter, unranked  # noqa: F401 - fixtures used by name
from test_activation_forward_wrong import COURSE_HELPERS, LAYERS

RULE = "activation-forward-wrong"


def mismatches(findings: list) -> list:
    return [f for f in findings if f.name == "gradient-mismatch"]


def test_a_wrong_relu_layer_links_its_own_mismatches_and_leaves_another_layers_alone(tmp_path, unranked):
    """The sigmoid layer's backward is wrong on its own account (its forward is right): its
    mismatch has no cause before the ranking, whatever the wrong ReLU beside it links."""
    text = edited(
        LAYERS,
        ("out[self.mask] = 0", "out[~self.mask] = 0"),
        ("return dout * (1.0 - self.out) * self.out", "return dout * (1.0 - self.out)"),
    )
    path, found = inprocess.checked(tmp_path, "layers.py", text)
    (root,) = [f for f in found if f.name == RULE]
    assert root.key() == f"BPD111:Relu::{line_of(path, 'out[~self.mask] = 0')}"
    relu = [f for f in mismatches(found) if f.layer == "Relu"]
    sigmoid = [f for f in mismatches(found) if f.layer == "SigmoidLayer"]
    assert relu and all(f.caused_by == root.key() for f in relu)
    assert sigmoid and all(f.caused_by is None for f in sigmoid)
    assert all(f.caused_by is None for f in found if f.name not in (RULE, "gradient-mismatch"))


def test_a_wrong_sigmoid_function_links_its_own_mismatches_and_leaves_relus_alone(tmp_path, unranked):
    """`relu_backward` keeps the wrong side of the kink while `relu` is right: its mismatch is its own."""
    text = edited(COURSE_HELPERS, ("A = 1 / (1 + np.exp(-Z))", "A = 1 / (1 + np.exp(Z))"), ("dZ[cache <= 0] = 0", "dZ[cache > 0] = 0"))
    path, found = inprocess.checked(tmp_path, "dnn_utils.py", text)
    (root,) = [f for f in found if f.name == RULE]
    assert root.key() == f"BPD111:sigmoid::{line_of(path, 'A = 1 / (1 + np.exp(Z))')}"
    own = [f for f in mismatches(found) if f.layer.split("/")[0] == "sigmoid"]
    other = [f for f in mismatches(found) if f.layer.split("/")[0] == "relu"]
    assert own and all(f.caused_by == root.key() for f in own)
    assert other and all(f.caused_by is None for f in other)


TRAIN_FLAG = """\
import numpy as np


class Relu:
    def forward(self, x, train_flg=False):
        if train_flg:
            return np.maximum(x, 0)
        return x * 1.0

    def backward(self, dout):
        return dout
"""


@pytest.mark.parametrize("train, found", [(True, []), (False, ["Relu"])])
def test_a_layer_with_a_train_flag_is_compared_in_the_mode_the_check_runs_it(tmp_path, train, found):
    """A ReLU only in training mode: right as the check runs layers by default (`train=True`),
    wrong when it is told to run them for inference."""
    _, findings = inprocess.checked(tmp_path, "layers.py", TRAIN_FLAG, train=train)
    assert [f.layer for f in findings if f.name == RULE] == found


def test_only_leading_underscores_are_stripped_from_a_functions_name(tmp_path):
    """`Xsigmoid` is not named after the sigmoid, whatever it computes; `_sigmoid` is."""
    text = "import numpy as np\n\n\ndef Xsigmoid(x):\n    return np.exp(x)\n"
    assert [f for f in inprocess.checked(tmp_path, "act.py", text)[1] if f.name == RULE] == []
    _, found = inprocess.checked(tmp_path, "private.py", text.replace("Xsigmoid", "_sigmoid"))
    assert [f.layer for f in found if f.name == RULE] == ["sigmoid"]
