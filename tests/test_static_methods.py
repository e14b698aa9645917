"""Facts of one method read from its own source (`static.methods`), as the conventions ask them."""

from __future__ import annotations

import ast
import textwrap

from backprop_doctor.static.methods import (
    assigned_attributes,
    does_nothing,
    grads_aliases,
    layer_loops,
    only_sampled_from,
    parse_function,
    passed_to,
    plain_calls,
    returned_names,
    returns_value,
    self_name,
    stepped_operand,
    update_operands,
)

NNFS_FORWARD = '''\
    def forward(this, inputs):
        this.inputs = inputs
        this.output = np.dot(inputs, this.weights) + this.biases
        def helper():
            return 1
        return None
'''

SGD_BACKWARD = '''\
def backward(self, output_gradient, learning_rate):
    weights_gradient = np.dot(output_gradient, self.input.T)
    self.weights -= learning_rate * weights_gradient
    self.bias -= learning_rate * output_gradient
    return np.dot(self.weights.T, output_gradient)
'''


def test_a_forward_that_stores_its_output_under_another_instance_name():
    node = parse_function(NNFS_FORWARD)
    assert self_name(node) == "this"
    assert not returns_value(node)  # `return None` and a nested def's return do not count
    assert assigned_attributes(node) == {"inputs", "output"}


def test_the_gradient_an_update_in_backward_subtracts():
    node = parse_function(SGD_BACKWARD)
    assert update_operands(node, "weights", "learning_rate") == ("weights_gradient",)
    assert update_operands(node, "bias", "learning_rate") == ("output_gradient",)
    assert update_operands(node, "gamma", "learning_rate") == ()
    assert returns_value(node)


def test_dlfs2_gradient_aliases_abstract_bodies_and_returned_names():
    node = parse_function("def backward(self, dout):\n    dW, db = self.grads\n    g = self.grads[1]\n    return dW, db, 2\n")
    assert grads_aliases(node, "self", 0) == ("dW",)
    assert grads_aliases(node, "self", 1) == ("db", "g")
    assert returned_names(node) == ["dW", "db", ""]
    assert does_nothing(parse_function('def forward(self, x):\n    """Abstract."""\n    raise NotImplementedError\n'))
    assert not does_nothing(node)
    assert parse_function("def broken(:\n") is None


def test_a_softmax_is_only_sampled_from_when_every_caller_draws_from_it():
    sampler = textwrap.dedent('''\
        def sample(logits, temperature):
            probs = softmax(logits / temperature)
            return np.random.choice(len(probs), p=probs)

        def top_k(logits, k):
            best = np.argsort(logits)[-k:]
            return best[rng.choice(k, p=softmax(logits[best]))]
        ''')
    assert only_sampled_from(ast.parse(sampler), "softmax")
    in_a_loss = sampler + "\ndef loss(scores, t):\n    p = softmax(scores)\n    return -np.log(p[np.arange(len(t)), t]).mean()\n"
    assert not only_sampled_from(ast.parse(in_a_loss), "softmax")
    at_top_level = sampler + "\nprobs = softmax(np.zeros((4, 3)))\n"
    assert not only_sampled_from(ast.parse(at_top_level), "softmax")
    assert not only_sampled_from(ast.parse("def softmax(x):\n    return x\n"), "softmax")  # never called


CONTAINER_STEP = '''\
def train_on_batch(self, X, y):
    y_pred = self._forward_pass(X)
    loss = np.mean(softmax_cross_entropy(y_pred, y))
    loss_grad = self.loss_function.gradient(y, y_pred)
    self._backward_pass(loss_grad=loss_grad)
    for i, layer in enumerate(self.layers[::-1]):
        grad = layer.backward_pass(grad)
    for layer, activation in self.pairs:
        activation.gradient(layer.output)
    for layer in reversed(self.blocks):
        layer.update()
    self.W = self.W_opt.update(self.W, grad_w)
    return loss
'''


def test_the_loops_of_a_container_over_its_layers():
    node = parse_function(CONTAINER_STEP)
    loops = {(loop.attribute, loop.backwards, loop.methods, loop.passed) for loop in layer_loops(node)}
    # a loop over pairs holds no layers; `enumerate` is no reversal, `[::-1]` is
    assert loops == {("layers", True, ("backward_pass",), ("grad",)), ("blocks", True, ("update",), ())}


def test_what_a_training_step_hands_its_backward_and_calls_by_name():
    node = parse_function(CONTAINER_STEP)
    assert passed_to(node, "_backward_pass") == ("loss_grad",)
    assert ("softmax_cross_entropy", 2) in plain_calls(node)
    assert stepped_operand(node, "W") == "grad_w"
    assert stepped_operand(node, "b") is None
