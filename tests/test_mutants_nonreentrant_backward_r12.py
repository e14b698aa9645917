"""nonreentrant-backward, checked in this process (issue 15, twelfth round): a backward that updates its
layer's parameters itself is an info at its first update, its probes' kink note put down to the update,
and a network whose second backward differs only through such a layer an info naming that layer; a
backward that accumulates by mistake stays an error. The files are the CLI tests' own."""

from __future__ import annotations

import textwrap

import pytest

from inprocess import checked, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_backward_that_updates import LAYER
from test_layer_updating_in_backward_notes import DENSE
from test_networks_holding_batch_norm import NETWORK

SELF_UPDATE = "        self.dbeta = np.sum(dout, axis=0)\n"
BN_UPDATES = SELF_UPDATE + "        self.gamma -= 0.01 * self.dgamma\n        self.beta -= 0.01 * self.dbeta\n"


def named(findings, name, layer=None):
    return [f for f in findings if f.name == name and (layer is None or f.layer == layer)]


def test_a_momentum_step_in_backward_is_an_info_at_the_update_that_moves_the_weights(tmp_path):
    path, findings = checked(tmp_path, "dense.py", LAYER)
    (finding,) = named(findings, "nonreentrant-backward")
    update = line_of(path, "self.weights += self.velocity")
    assert (finding.severity, finding.line, finding.highlight) == ("info", update, (update,))
    assert finding.message == (
        f"`Dense.backward` updates the layer's parameters itself (line {update}), so a second call computes with other "
        "weights: its gradients could not be compared twice; keep the update out of backward (an optimizer's step after "
        "it) to have them checked"
    )


def test_every_update_is_highlighted_and_the_kink_note_is_the_updates(tmp_path):
    path, findings = checked(tmp_path, "layer.py", DENSE)
    (finding,) = named(findings, "nonreentrant-backward")
    first, second = line_of(path, "self.W -= 0.1 * self.dW"), line_of(path, "self.b -= 0.1 * self.db")
    assert (finding.severity, finding.line, finding.highlight) == ("info", first, (first, second))
    (kink,) = named(findings, "gradient-at-kink")
    assert (kink.line, kink.pattern, kink.layer) == (first, "weights-moved-by-backward", "Dense")
    assert kink.message == (
        f"the numerical gradient of `Dense`.x was measured at the weights `Dense.backward` had already moved (line {first}), "
        "so it differs from the one backward returned: that is the update, not a kink; keep the update out of backward "
        "to have it checked"
    )


def test_gradients_accumulated_by_mistake_stay_an_error_with_the_engines_words(tmp_path):
    text = textwrap.dedent(LAYER).replace(
        "        self.velocity = self.momentum * self.velocity - self.learning_rate * grad_weights\n        self.weights += self.velocity\n",
        "        self.dweights += grad_weights\n",
    ).replace("        self.learning_rate, self.momentum = learning_rate, momentum\n", "        self.dweights = np.zeros_like(self.weights)\n")
    _, findings = checked(tmp_path, "dense.py", text)
    (finding,) = named(findings, "nonreentrant-backward")
    assert finding.severity == "error"
    assert "updates the layer's parameters itself" not in finding.message


def test_a_network_whose_batch_norm_steps_itself_in_backward_is_an_info_naming_that_layer(tmp_path, program_runs):
    path, findings = checked(tmp_path, "bn_net.py", textwrap.dedent(NETWORK).replace(SELF_UPDATE, BN_UPDATES))
    update = line_of(path, "self.gamma -= 0.01 * self.dgamma")
    (layer,) = named(findings, "nonreentrant-backward", "BatchNormal")
    assert (layer.severity, layer.line, layer.highlight) == ("info", update, (update, update + 1))
    (net,) = named(findings, "nonreentrant-backward", "Net")
    assert net.severity == "info"
    assert net.message == (
        f"`Net.backward` calls its layers' backward, and `BatchNormal.backward` updates that layer's parameters itself "
        f"(line {update}), so a second call computes with other weights: the network's gradients could not be compared "
        "twice; keep the update out of backward to have them checked"
    )


def test_a_network_stays_an_error_when_no_layer_of_it_was_seen_updating_itself(tmp_path):
    """Without the program's run, and with no literal width in the file's own call of it, the batch-norm
    layer cannot be built, so nothing says it updates itself."""
    text = textwrap.dedent(NETWORK).replace(SELF_UPDATE, BN_UPDATES)
    assert "BatchNormal(8)" in text
    _, findings = checked(tmp_path, "bn_net.py", text.replace("BatchNormal(8)", "BatchNormal(len(range(8)))"))
    (net,) = named(findings, "nonreentrant-backward", "Net")
    assert net.severity == "error"
    assert named(findings, "nonreentrant-backward", "BatchNormal") == []


def test_a_layer_whose_width_has_no_name_to_guess_it_by_is_built_from_the_files_own_call(tmp_path):
    """`BatchNormal(8)` in the network's constructor builds the layer (`width` is no name a size is guessed
    from): it is seen updating itself without the program's run, as with it."""
    _, findings = checked(tmp_path, "bn_net.py", textwrap.dedent(NETWORK).replace(SELF_UPDATE, BN_UPDATES))
    (net,) = named(findings, "nonreentrant-backward", "Net")
    assert net.severity == "info"
    (layer,) = named(findings, "nonreentrant-backward", "BatchNormal")
    assert layer.severity == "info"


@pytest.mark.parametrize(
    ("forward", "backward"),
    [("forward", "backprop"), ("forward_pass", "backward_pass"), ("fprop", "bprop"), ("forward_prop", "backward_prop"),
     ("forward_propagation", "backward_propagation"), ("forward", "backpropagate")],
)
def test_a_renamed_backward_that_updates_its_layer_is_an_info_too(tmp_path, forward, backward):
    """Every pair of names the renamed-layer convention checks (`fprop`/`bprop` was an error that called
    the update an accumulation, beside a note that called it a kink)."""
    text = textwrap.dedent(DENSE).replace("def forward(", f"def {forward}(").replace("def backward(", f"def {backward}(")
    path, findings = checked(tmp_path, "layer.py", text)
    (finding,) = named(findings, "nonreentrant-backward")
    update = line_of(path, "self.W -= 0.1 * self.dW")
    assert (finding.severity, finding.line) == ("info", update)
    (kink,) = named(findings, "gradient-at-kink")
    assert (kink.line, kink.pattern) == (update, "weights-moved-by-backward")


ACCUMULATING = '''

class Acc:
    def __init__(self):
        self.W = np.ones((5, 3)) * 0.1
        self.dW = np.zeros_like(self.W)

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW += self.x.T @ dout
        return dout @ self.W.T
'''


def test_an_accumulating_layer_beside_one_that_updates_itself_stays_an_error(tmp_path):
    """Only a backward that calls other objects' backward is excused by a layer that updates itself."""
    path, findings = checked(tmp_path, "layers.py", textwrap.dedent(LAYER) + ACCUMULATING)
    (acc,) = named(findings, "nonreentrant-backward", "Acc")
    assert (acc.severity, acc.line) == ("error", line_of(path, "self.dW += self.x.T @ dout"))
    assert acc.message.startswith("calling `Acc.backward` twice with the same dout gives different gradients")
    assert named(findings, "nonreentrant-backward", "Dense")[0].severity == "info"


TANH = '''\
import numpy as np


class TanhDense:
    def __init__(self):
        self.W = np.random.default_rng(0).normal(size=(4, 3))

    def forward(self, x):
        self.x = x
        self.out = np.tanh(x @ self.W)
        return self.out

    def backward(self, dout):
        dz = dout * (1 - self.out ** 2)
        self.dW = self.x.T @ dz
        dx = dz @ self.W.T
        self.W -= 0.1 * self.dW
        return dx
'''


def test_each_kink_note_of_the_moved_weights_names_its_own_parameter(tmp_path):
    path, findings = checked(tmp_path, "tanh.py", TANH)
    update = line_of(path, "self.W -= 0.1 * self.dW")
    notes = sorted((f.param, f.line, f.pattern) for f in named(findings, "gradient-at-kink"))
    assert notes == [("W", update, "weights-moved-by-backward"), ("x", update, "weights-moved-by-backward")]
    (w,) = [f for f in named(findings, "gradient-at-kink") if f.param == "W"]
    assert w.message.startswith(f"the numerical gradient of `TanhDense`.W was measured at the weights `TanhDense.backward` had already moved (line {update})")


def test_another_rules_error_of_a_layer_that_updates_itself_keeps_its_words(tmp_path):
    path, findings = checked(tmp_path, "layer.py", textwrap.dedent(DENSE).replace("return x @ self.W + self.b", "return x @ self.W + self.b, x"))
    (bad,) = named(findings, "bad-return")
    assert (bad.severity, bad.line) == ("error", line_of(path, "def forward(self, x):"))
    assert bad.message == "`Dense.forward` returns a tuple, not an array: return the output array itself"


def test_a_layer_of_another_module_that_updates_itself_is_read_in_its_own_file(tmp_path):
    """The update is looked up in the file that defines the layer, not in the script that imports it."""
    layers = tmp_path / "layers.py"
    layers.write_text(textwrap.dedent(DENSE), encoding="utf-8")
    script = "import numpy as np\nfrom layers import Dense\n\nlayer = Dense(np.ones((4, 3)) * 0.1, np.zeros(3))\nprint(layer.forward(np.ones((2, 4))))\n"
    _, findings = checked(tmp_path, "train.py", script)
    (finding,) = named(findings, "nonreentrant-backward")
    assert (finding.severity, finding.file, finding.line) == ("info", str(layers), line_of(layers, "self.W -= 0.1 * self.dW"))
