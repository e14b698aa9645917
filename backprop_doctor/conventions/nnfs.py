"""*Neural Networks from Scratch* (NNFS) layers: results stored, not returned.

`forward(inputs[, training])` returns nothing and stores `self.output`;
`backward(dvalues)` returns nothing and stores `self.dinputs`, and the
parameters' gradients in `self.dweights` and `self.dbiases`. A loss class has
`forward(y_pred, y_true)` returning one loss per sample, `calculate(output, y)`
for their mean (the check takes the mean of `forward` itself: `calculate` may
keep running sums that need `new_pass()`), and `backward(dvalues, y_true)` that starts again from the
prediction; the combined softmax/cross-entropy class's `backward` gets
its own `self.output`.

Example:
    class Layer_Dense:
        def __init__(self, n_inputs, n_neurons):
            self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)
            self.biases = np.zeros((1, n_neurons))

        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.dot(inputs, self.weights) + self.biases

        def backward(self, dvalues):
            self.dweights = np.dot(self.inputs.T, dvalues)
            self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
            self.dinputs = np.dot(dvalues, self.weights.T)

A layer of another style may keep its input gradient the same way while its backward returns
its parameters' gradients by name, `self.grad_in = g @ self.W.T` then `return {"W": dW, "b": db}`
(a dataclass layer's): dx is read from the attribute, each parameter's gradient from the entry under
its name (or a gradient's name for it, `"dW"`), as `ClassLayer` reads a returned dict.

Recognised by: `forward`/`backward` methods where forward returns no value and
assigns `self.output`, or backward returns no value (or only a dict of gradients by name) and
assigns `self.dinputs` (or another name of `INPUT_GRADIENTS`);
confirmed by a trial forward that leaves an array in `self.output`. Gradients
live in `self.dinputs` and `self.d<parameter>`.
"""

from __future__ import annotations

from backprop_doctor.conventions._classlayer import Methods, function_node, required_inputs
from backprop_doctor.static.methods import assigned_attributes, returned_gradient_dict, returns_value
from backprop_doctor.static.tree import FunctionNode

NAME = "nnfs"
ORDER = 40
OUTPUTS = ("output", "outputs")  # not `out`: book layers cache `self.out` and return it
# the attributes a backward keeps its input's gradient in (one tuple, shared by every convention that reads one)
INPUT_GRADIENTS = (
    "dinputs", "dinput", "d_inputs", "d_input", "dX", "dx", "d_x", "d_in", "grad_input", "grad_inputs", "grad_in",
    "grad_x", "grad_X", "input_grad", "input_gradient", "delta_in", "dL_dx", "dLdx",
)  # fmt: skip


def kept_input_gradient(bnode: FunctionNode | None) -> str | None:
    """The attribute of `INPUT_GRADIENTS` a backward keeps its input's gradient in: one that returns
    nothing, or returns only its parameters' gradients by name (`return {"W": dW, "b": db}` after
    `self.grad_in = g @ self.W.T`, `static.methods.returned_gradient_dict`); None otherwise."""
    if bnode is None or (returns_value(bnode) and returned_gradient_dict(bnode) is None):
        return None
    assigned = assigned_attributes(bnode)
    exact = next((a for a in INPUT_GRADIENTS if a in assigned), None)
    # `self.dInputs`, `self.dInput`, `self.Grad_Input`: the same names in another case
    return exact or next((a for a in sorted(assigned) if a.lower() in _FOLDED), None)


_FOLDED = frozenset(a.lower() for a in INPUT_GRADIENTS)


def layer_methods(cls: type) -> Methods | None:
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)):
        return None
    fnode, bnode = function_node(forward), function_node(backward)
    if fnode is None or bnode is None:
        return None
    stored = next((a for a in OUTPUTS if a in assigned_attributes(fnode)), None)
    output = stored if not returns_value(fnode) else None
    dx = kept_input_gradient(bnode)
    if output is None and dx is None:
        return None
    loss = len(required_inputs(forward)) >= 2 and len(required_inputs(backward)) >= 2
    output = output or (stored if loss else None)  # a loss returns its value and keeps its softmax output
    return Methods(
        convention=NAME,
        mean_of_forward=loss,
        output=output or "output",
        dx=dx,
        backward_gets_prediction=loss,
    )
