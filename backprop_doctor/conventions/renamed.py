"""Layer classes whose two methods have other names than forward and backward.

`forward_pass`/`backward_pass`, `fprop`/`bprop`, `forward_prop`/`backward_prop`,
`forward_propagation`/`backward_propagation`, `forward`/`backprop` or `back`, and a
`__call__` of the class's own with `backward` or `back`, as methods of a layer object; the
output may be returned or stored (`self.output`), the input gradient returned
or stored (`self.dinputs`), and the parameters' gradients are stored as
attributes named after them (`self.dW`, `self.grad_W`).

Example:
    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.1
            self.b = np.zeros(n_out)

        def forward_pass(self, X):
            self.X = X
            return X @ self.W + self.b

        def backward_pass(self, grad):
            self.dW = self.X.T @ grad
            self.db = grad.sum(axis=0)
            return grad @ self.W.T

Recognised by: a class with one of those pairs of methods (and a trial forward
in `build`). Gradients live where the book's layers keep them.
"""

from __future__ import annotations

import ast
import inspect

from backprop_doctor.conventions._classlayer import Methods, function_node
from backprop_doctor.conventions._through_call import _user_call
from backprop_doctor.conventions.sgd_in_backward import rate_argument
from backprop_doctor.static.methods import assigned_attributes, returns_value
from backprop_doctor.conventions.nnfs import OUTPUTS, kept_input_gradient

NAME = "renamed"
ORDER = 50
PAIRS = (
    ("forward_pass", "backward_pass"),
    ("fprop", "bprop"),
    ("forward_prop", "backward_prop"),
    ("forward_propagation", "backward_propagation"),
    ("forward", "backprop"),
    ("forward", "backpropagate"),
    ("forward", "back"),
    ("__call__", "backward"),
    ("__call__", "back"),
)
# Other spellings of the two, asked after `PAIRS` in every combination (`feedforward`/`backprop`,
# `forwardPass`/`backwardPass`): a backward of these names must take one gradient (and maybe a learning rate),
# so a network's `backprop(x, y)` is no layer's.
FORWARD_SPELLINGS = (
    "forward", "forward_pass", "forwardPass", "fprop", "forward_prop", "forwardProp", "forward_propagation",
    "forward_propagate", "feedforward", "feed_forward", "feedForward", "__call__",
)  # fmt: skip
BACKWARD_SPELLINGS = (
    "backward", "backward_pass", "backwardPass", "bprop", "backward_prop", "backwardProp", "backward_propagation",
    "backward_propagate", "backprop", "backProp", "back_prop", "backpropagate", "backPropagate",
    "back_propagate", "backpropagation", "back_propagation", "back",
)  # fmt: skip


def stored(cls: type, forward: str, backward: str) -> tuple[str | None, str | None]:
    """Where a forward that returns nothing keeps its output, and a backward its dx."""
    fnode, bnode = function_node(getattr(cls, forward)), function_node(getattr(cls, backward))
    output = None
    if fnode is not None and not returns_value(fnode):
        output = next((a for a in OUTPUTS if a in assigned_attributes(fnode)), None)
    return output, kept_input_gradient(bnode)


def _own_call(cls: type) -> bool:
    """Whether a class of the user's (not `object` or the metaclass) defines `__call__`, one that is not
    a template of its subclasses' (`return self.forward(*args).mean()` in a base with no `forward`)."""
    call = _user_call(cls)
    if call is None:
        return False
    node = function_node(call)
    if node is None:
        return True
    me = node.args.args[0].arg if node.args.args else "self"
    called = {
        n.func.attr for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == me
    }  # fmt: skip
    if all(hasattr(cls, name) for name in called):
        return True
    # `self.fc1(x)` of a block holding the layers it calls (`self.fc1 = Linear(...)`): a layer when its backward takes one
    # gradient (`back(self, dy)`); a model's `backward(self)` that starts from the loss it kept is no layer's
    init = function_node(getattr(cls, "__init__", None)) if inspect.isfunction(getattr(cls, "__init__", None)) else None
    held = assigned_attributes(init) if init is not None else set()
    backward = next((getattr(cls, b) for f, b in PAIRS if f == "__call__" and callable(getattr(cls, b, None))), None)
    return all(hasattr(cls, name) or name in held for name in called) and backward is not None and _one_gradient(backward)


def _one_gradient(method: object) -> bool:
    """Whether `method` takes one argument besides `self` (the upstream gradient), or two when
    the second is a learning rate (`rate_argument`)."""
    try:
        params = list(inspect.signature(method).parameters.values())[1:]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 1 or (len(required) == 2 and rate_argument(method) is not None)


def _spelled(cls: type) -> list[tuple[str, str]]:
    """The (forward, backward) pairs of other spellings `cls` has, the pairs of `PAIRS` left out."""
    if callable(getattr(cls, "forward", None)) and callable(getattr(cls, "backward", None)):
        return []  # the book's names: its convention's
    return [
        (f, b)
        for f in FORWARD_SPELLINGS
        for b in BACKWARD_SPELLINGS
        if (f, b) not in PAIRS and (f, b) != ("forward", "backward") and callable(getattr(cls, f, None)) and callable(getattr(cls, b, None))
        and _one_gradient(getattr(cls, b))
    ]  # fmt: skip


def layer_methods(cls: type) -> Methods | None:
    for forward, backward in (*PAIRS, *_spelled(cls)):
        if callable(getattr(cls, forward, None)) and callable(getattr(cls, backward, None)):
            if forward == "forward" and backward != "backward" and callable(getattr(cls, "backward", None)):
                continue  # a book layer with a helper called backprop
            if forward == "__call__" and (not _own_call(cls) or callable(getattr(cls, "forward", None))):
                continue  # every class is callable; one with a forward is run through it (`book`, `_through_call`)
            output, dx = stored(cls, forward, backward)
            # `backward_propagation(output_error, learning_rate)` applies SGD itself (see sgd_in_backward)
            rate = rate_argument(getattr(cls, backward))
            return Methods(convention=NAME, forward=forward, backward=backward, output=output, dx=dx, learning_rate=rate)
    return None
