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
        f"`Net.backward` calls its layers' backward, and `Scale.backward` updates that layer's parameters itself "
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
