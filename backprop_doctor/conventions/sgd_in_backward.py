"""Layers whose backward applies the update itself: `backward(output_gradient, learning_rate)`.

The gradients are never stored: backward computes them, takes one SGD step
(`self.weights -= learning_rate * weights_gradient`) and returns the input
gradient. They are read off that step: backward is called with a learning rate
of 1, the gradient is the parameter before minus the parameter after, and the
step is undone.

Example:
    class Dense:
        def __init__(self, input_size, output_size):
            self.weights = np.random.randn(output_size, input_size)
            self.bias = np.random.randn(output_size, 1)

        def forward(self, input):
            self.input = input
            return np.dot(self.weights, self.input) + self.bias

        def backward(self, output_gradient, learning_rate):
            weights_gradient = np.dot(output_gradient, self.input.T)
            input_gradient = np.dot(self.weights.T, output_gradient)
            self.weights -= learning_rate * weights_gradient
            self.bias -= learning_rate * output_gradient
            return input_gradient

Recognised by: `forward`/`backward` methods where backward takes a second
argument named like a learning rate (`learning_rate`, `lr`, `eta`, `alpha`; or `_`, the
place an activation keeps for the rate its network hands every layer) and
its source has no optimiser state (momentum, Adam moments, square roots); a
trial forward in `build`. Gradients live in the update backward makes.

A whole model's `backward(grad_out)` that returns nothing and steps its lists of weights at a rate the
instance holds (`self.weights[i] -= self.lr * dW`) is read the same way: the held rate set to 1 for the
call, each entry of the lists (`weights[0]`) a parameter.
"""

from __future__ import annotations

import inspect
import re

from backprop_doctor.conventions._base import parameters
from backprop_doctor.conventions._classlayer import Methods, function_node, required_inputs
from backprop_doctor.static.methods import held_rate, returns_value

NAME = "sgd-in-backward"
ORDER = 30
RATES = ("learning_rate", "lr", "eta", "alpha", "learningrate", "step_size", "rate", "learn_rate", "l_rate", "lrate")
OPTIMISER_STATE = ("sqrt", "momentum", "velocity", "beta1", "beta2", "cache")
# Adam's `** 0.5` and bias correction `beta ** t`; not a derivative's `np.tanh(x) ** 2`
BIAS_CORRECTION = re.compile(r"\*\*\s*(\(?\s*0?\.5|\(?\s*(self\.)?(t|step|steps|iterations?|epoch)\b)")


def rate_argument(backward: object) -> str | None:
    """The learning rate a `backward(output_gradient, learning_rate)` takes to apply plain SGD
    itself (whatever the method is called), or None."""
    args = required_inputs(backward)
    if len(args) == 1:  # `backprop(d_out, learn_rate=2e-2)`: a rate left at its default still steps
        rated = [p.name for p in parameters(backward).values() if p.kind == p.POSITIONAL_OR_KEYWORD][1:3]
        args += [n for n in rated if n.lower() in RATES and n != args[0]][:1]
    if len(args) != 2 or not (args[1].lower() in RATES or args[1].startswith("_")):
        return None  # `backward(self, delta, _)`: an activation's place for the rate its layers take, unused
    try:
        source = inspect.getsource(backward)  # type: ignore[arg-type]
    except (TypeError, OSError):
        return None
    if any(word in source for word in OPTIMISER_STATE) or BIAS_CORRECTION.search(source):
        return None
    return args[1]


def layer_methods(cls: type) -> Methods | None:
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)):
        return None
    rate = rate_argument(backward)
    if rate is None:
        held = held_rate_attribute(backward)
        return None if held is None else Methods(convention=NAME, learning_rate=held, held_rate=True)
    return Methods(convention=NAME, learning_rate=rate)


def held_rate_attribute(backward: object) -> str | None:
    """The attribute holding the rate of a whole model's `backward(grad_out)` that takes the SGD step on
    its lists of weights itself (`self.weights[i] -= self.lr * dW`) and returns nothing, or None."""
    if len(required_inputs(backward)) != 1:
        return None
    node = function_node(backward)
    if node is None or returns_value(node):
        return None
    try:
        source = inspect.getsource(backward)  # type: ignore[arg-type]
    except (TypeError, OSError):
        return None
    if any(word in source for word in OPTIMISER_STATE) or BIAS_CORRECTION.search(source):
        return None
    return held_rate(node)
