"""Stateless gates: backward takes forward's inputs again, then the upstream gradient.

The object keeps nothing between the two calls: `backward(x, top_diff)` gets
the input forward was given and recomputes what it needs from it (the RNN
tutorials that build a network from `MultiplyGate`, `AddGate` and activation
gates). A gate with one input is a layer; gates with two inputs
(`AddGate.forward(x1, x2)`) are two-input layers, which are not checked yet.

Example:
    class Tanh:
        def forward(self, x):
            return np.tanh(x)

        def backward(self, x, top_diff):
            output = self.forward(x)
            return (1.0 - np.square(output)) * top_diff

Recognised by: `forward`/`backward` methods where backward's positional
parameters are forward's, in the same order and with the same names, followed
by one more (the upstream gradient), and backward returns a value; confirmed by
the trial forward and backward of `build`. The input gradient is what backward
returns (the first array when it returns one per input).
"""

from __future__ import annotations

from backprop_doctor.conventions._classlayer import Methods, function_node, required_inputs
from backprop_doctor.static.methods import returns_value

NAME = "gates"
ORDER = 45


def layer_methods(cls: type) -> Methods | None:
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)):
        return None
    inputs, args = required_inputs(forward), required_inputs(backward)
    if not inputs or len(args) != len(inputs) + 1 or args[: len(inputs)] != inputs:
        return None
    node = function_node(backward)
    if node is None or not returns_value(node):
        return None
    return Methods(convention=NAME, backward_gets_inputs=True)
