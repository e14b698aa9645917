"""nonreentrant-backward, thirteenth round (issue 15): a network whose layer updates its own parameters in
backward is excused whatever name the network calls that backward by (`backprop`, `bprop`...: the renamed
pairs), and the network's own gradient-at-kink note is put down to the layer's update, at its line, not to
a ReLU the network does not have. Real files checked in this process; every line from the file's text."""

from __future__ import annotations

import textwrap

import pytest

from inprocess import checked, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_mutants_nonreentrant_backward_r12 import BN_UPDATES, SELF_UPDATE, named
from test_networks_holding_batch_norm import NETWORK

SCALED = '''\
import numpy as np


class Scale:
    def __init__(self, gain=1.5):
        self.W = np.full(1, gain)

    def forward(self, x):
        self.x = x
        return x * self.W

    def backward(self, dout):
        self.dW = np.sum(dout * self.x, keepdims=True).reshape(1)
        dx = dout * self.W
        self.W -= 0.01 * self.dW
        return dx


class Net:
    def __init__(self):
        self.layers = [Scale(1.5), Scale(0.5)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad
'''


def moved(network: str, layer: str, line: int) -> str:
    return (
        f"the numerical gradient of `{network}`.x was measured at the weights `{layer}.backward` had already moved "
        f"(line {line}), so it differs from the one backward returned: that is the update, not a kink; keep the update "
        "out of backward to have it checked"
    )


def renamed(forward: str, backward: str) -> str:
    return SCALED.replace("forward(", f"{forward}(").replace("backward(", f"{backward}(")


@pytest.mark.parametrize(
    ("forward", "backward"),
    [("forward", "backward"), ("forward", "backprop"), ("fprop", "bprop"), ("forward_pass", "backward_pass"),
     ("forward_propagation", "backward_propagation")],
)
def test_a_network_calling_its_layers_backward_by_any_name_is_excused_by_a_layer_that_steps_itself(tmp_path, forward, backward):
    """`layer.backprop(grad)` and `layer.bprop(grad)` are the layers' backward as much as `layer.backward(grad)`
    (only `backward` was counted: the network stayed an error that called the update an accumulation)."""
    path, findings = checked(tmp_path, "net.py", renamed(forward, backward))
    update = line_of(path, "self.W -= 0.01 * self.dW")
    (net,) = named(findings, "nonreentrant-backward", "Net")
    assert net.severity == "info"
    assert net.message == (
        f"`Net.{backward}` calls its layers' backward, and `Scale.{backward}` updates that layer's parameters itself "
        f"(line {update}), so a second call computes with other weights: the network's gradients could not be compared "
        "twice; keep the update out of backward to have them checked"
    )
    (layer,) = named(findings, "nonreentrant-backward", "Scale")
    assert (layer.severity, layer.line) == ("info", update)


def test_the_kink_note_of_a_network_without_a_relu_is_put_down_to_its_layers_update(tmp_path):
    path, findings = checked(tmp_path, "net.py", SCALED)
    update = line_of(path, "self.W -= 0.01 * self.dW")
    notes = {f.layer: f for f in named(findings, "gradient-at-kink")}
    assert sorted(notes) == ["Net", "Scale"]
    for name, note in notes.items():
        assert (note.severity, note.file, note.line, note.pattern, note.param) == ("info", str(path), update, "weights-moved-by-backward", "x")
        assert note.message == moved(name, "Scale", update)


def test_a_network_calling_no_layers_backward_keeps_its_error_and_its_kink_note(tmp_path):
    """A method under a name no convention checks as a backward (`gradient`, which calls the layer's backward
    itself) does not make the network's backward a caller of its layers' backward."""
    text = SCALED.replace("grad = layer.backward(grad)", "grad = layer.gradient(grad)").replace(
        "        return dx\n", "        return dx\n\n    def gradient(self, dout):\n        return self.backward(dout)\n", 1
    )
    path, findings = checked(tmp_path, "net.py", text)
    assert [f.severity for f in named(findings, "nonreentrant-backward", "Scale")] == ["info"]
    (net,) = named(findings, "nonreentrant-backward", "Net")
    assert net.severity == "error"
    (kink,) = named(findings, "gradient-at-kink", "Net")
    assert kink.pattern != "weights-moved-by-backward" and "crossed a kink" in kink.message


def test_the_batch_norm_networks_kink_note_names_the_batch_norm_update(tmp_path, program_runs):
    """The twelfth round's network (two dense layers around a batch-norm layer that steps gamma and beta in
    backward, no ReLU anywhere) kept "crossed a kink (ReLU at 0, a max tie)" for `Net`.x."""
    path, findings = checked(tmp_path, "bn_net.py", textwrap.dedent(NETWORK).replace(SELF_UPDATE, BN_UPDATES))
    update = line_of(path, "self.gamma -= 0.01 * self.dgamma")
    (kink,) = named(findings, "gradient-at-kink", "Net")
    assert (kink.file, kink.line, kink.pattern, kink.message) == (str(path), update, "weights-moved-by-backward", moved("Net", "BatchNormal", update))


SEVEN = """\
import numpy as np


class Sum7:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.W1, self.W2, self.W3, self.W4, self.W5, self.W6, self.W7 = (rng.normal(size=(4, 3)) * 0.1 for _ in range(7))

    def forward(self, x):
        self.x = x
        return x @ (self.W1 + self.W2 + self.W3 + self.W4 + self.W5 + self.W6 + self.W7)

    def backward(self, dout):
        dx = dout @ (self.W1 + self.W2 + self.W3 + self.W4 + self.W5 + self.W6 + self.W7).T
        self.dW1 = self.dW2 = self.dW3 = self.dW4 = self.dW5 = self.dW6 = self.dW7 = self.x.T @ dout
""" + "".join(f"        self.W{i} -= 0.01 * self.dW{i}\n" for i in range(1, 8)) + "        return dx\n"


def test_at_most_six_updates_are_highlighted(tmp_path):
    path, findings = checked(tmp_path, "sum7.py", SEVEN)
    (finding,) = named(findings, "nonreentrant-backward")
    updates = [line_of(path, f"self.W{i} -= 0.01") for i in range(1, 8)]
    assert (finding.severity, finding.line, finding.highlight) == ("info", updates[0], tuple(updates[:6]))


ADAM_IN_BACKWARD = """\
import numpy as np


class AdamDense:
    def __init__(self):
        self.W = np.random.default_rng(0).normal(size=(4, 3)) * 0.1
        self.m = np.zeros_like(self.W)
        self.t = 0

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        dx = dout @ self.W.T
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * self.dW
        self.W -= 0.01 * self.m / (1 - 0.9 ** self.t)
        return dx
"""


def test_the_info_is_at_the_update_of_a_parameter_not_at_the_first_state_backward_changes(tmp_path):
    """`self.t += 1` and the moment change state first; the weights move at `self.W -= ...`."""
    path, findings = checked(tmp_path, "adam.py", ADAM_IN_BACKWARD)
    (finding,) = named(findings, "nonreentrant-backward")
    update = line_of(path, "self.W -= 0.01 * self.m")
    assert (finding.severity, finding.line, finding.highlight) == ("info", update, (update,))
