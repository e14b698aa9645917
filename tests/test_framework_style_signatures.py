"""Signatures written the way small NumPy frameworks write them.

- A base class's template method: `Loss.backward(self, *args, **kwargs)` hands what it is given to
  `self.backward_impl(x, y)`, which each loss writes, and scales for the reduction; `__call__(*args)`
  does the same with `forward(x, y)`. The arguments are read through the delegation, so the loss is
  checked as a loss of `x` with target `y`, not called with one upstream gradient.
- An activation kept in a list with layers that take the rate, `backward(self, delta, _)`: the
  unused place is given the rate like theirs, not left out (which raised a TypeError of ours).
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LOSSES = """\
    import numpy as np

    class Loss:
        def __call__(self, *args, **kwargs):
            return self.forward(*args, **kwargs).mean()

        def backward(self, *args, **kwargs):
            grad = self.backward_impl(*args, **kwargs)
            return grad / grad.shape[0]

    class SoftmaxCrossEntropy(Loss):
        def forward(self, x, y):
            shifted = x - x.max(axis=-1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            return -(y * log_probs).sum(axis=-1)

        def backward_impl(self, x, y):
            probs = np.exp(x - x.max(axis=-1, keepdims=True))
            probs /= probs.sum(axis=-1, keepdims=True)
            return probs - y
"""

ACTIVATIONS = """\
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.1
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, delta, learning_rate):
            dx = delta @ self.W.T
            self.W -= learning_rate * self.x.T @ delta
            self.b -= learning_rate * delta.sum(axis=0)
            return dx

    class Tanh:
        def forward(self, x):
            self.out = np.tanh(x)
            return self.out

        def backward(self, delta, _):
            return delta * (1 - self.out ** 2)
"""


def test_a_loss_written_through_a_template_method_is_checked_as_a_loss(tmp_path):
    report = check(write(tmp_path, "losses.py", LOSSES))
    assert errors(report) == []
    assert ("SoftmaxCrossEntropy", "x", "ok") in {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"]}


def test_its_wrong_gradient_is_found_in_the_method_the_subclass_writes(tmp_path):
    path = planted(tmp_path, "losses.py", LOSSES, "return probs - y", "return y - probs")
    (error,) = errors(check(path))
    assert (error["name"], error["layer"], error["param"]) == ("gradient-mismatch", "SoftmaxCrossEntropy", "x")
    assert error["pattern"] == "sign-flipped"


def test_an_activation_that_leaves_the_rate_unnamed_is_checked(tmp_path):
    report = check(write(tmp_path, "layers.py", ACTIVATIONS))
    assert errors(report) == []
    assert ("Tanh", "x", "ok") in {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"]}
    path = planted(tmp_path, "wrong/layers.py", ACTIVATIONS, "delta * (1 - self.out ** 2)", "delta * (1 - self.out)")
    (error,) = errors(check(path))
    assert (error["layer"], error["line"]) == ("Tanh", line_of(path, "return delta * (1 - self.out)"))



def test_a_networks_loss_and_gradient_of_its_input_are_not_a_loss_of_a_prediction():
    """`loss(x, t)` and `gradient(x, t)` take a network's input, not a prediction: the pair is no loss
    object (taken for one, an image network was fed a prediction-shaped array, and raised). A loss's
    own `__call__(x, y)` and `backward(x, y)` are one."""
    from backprop_doctor.conventions import loss_objects

    class Network:
        def loss(self, x, t):
            return 0.0

        def gradient(self, x, t):
            return {}

    class Loss:
        def __call__(self, x, y):
            return 0.0

        def backward(self, x, y):
            return x - y

    assert not loss_objects.recognise(Network, {})
    assert loss_objects.recognise(Loss, {})
