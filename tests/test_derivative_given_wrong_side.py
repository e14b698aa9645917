"""An activation's derivative helper given the wrong side of the activation: `sigmoid_prime(o)` that
applies the sigmoid itself, handed the sigmoid's output `o`; `sigmoid_derivative(z1)` written as
`s * (1 - s)`, handed the input `z1`. The training-step replay finds the first wrong adjoint and
the report names the call, what it is given and what to write; the right twins are clean."""

from __future__ import annotations

import ast

from backprop_doctor.static.derivatives import misapplied
from tests.userfiles import check, errors, line_of, planted, write

FROM_INPUT = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_prime(x):
    return sigmoid(x) * (1 - sigmoid(x))


np.random.seed(1)
X = np.random.rand(50, 2)
y = ((X[:, :1] + X[:, 1:]) > 1).astype(float)
W1 = np.random.randn(2, 6)
W2 = np.random.randn(6, 1)
for i in range(3000):
    z_h = X @ W1
    h = sigmoid(z_h)
    z_o = h @ W2
    o = sigmoid(z_o)
    E = 0.5 * np.sum((o - y) ** 2)
    delta_o = (o - y) * sigmoid_prime(z_o)
    delta_h = delta_o @ W2.T * sigmoid_prime(z_h)
    W2 -= 0.1 * h.T @ delta_o
    W1 -= 0.1 * X.T @ delta_h
'''

FROM_OUTPUT = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(s):
    return s * (1 - s)


np.random.seed(1)
X = np.random.rand(50, 2)
y = ((X[:, :1] + X[:, 1:]) > 1).astype(float)
W1 = np.random.randn(2, 6)
W2 = np.random.randn(6, 1)
for i in range(3000):
    z1 = X @ W1
    a1 = sigmoid(z1)
    a2 = sigmoid(a1 @ W2)
    E = 0.5 * np.sum((a2 - y) ** 2)
    dz2 = (a2 - y) * sigmoid_derivative(a2)
    dz1 = dz2 @ W2.T * sigmoid_derivative(a1)
    W2 -= 0.1 * a1.T @ dz2
    W1 -= 0.1 * X.T @ dz1
'''


def test_both_ways_of_writing_the_derivative_are_clean_when_given_their_side(tmp_path):
    assert errors(check(write(tmp_path, "from_input.py", FROM_INPUT))) == []
    assert errors(check(write(tmp_path, "from_output.py", FROM_OUTPUT))) == []


def test_a_derivative_of_the_input_given_the_output_is_named_with_its_fix(tmp_path):
    path = planted(tmp_path, "net.py", FROM_INPUT, "sigmoid_prime(z_o)", "sigmoid_prime(o)")
    (found,) = errors(check(path))
    assert (found["name"], found["pattern"], found["line"]) == ("step-gradient-mismatch", "derivative-of-output", line_of(path, "delta_o = "))
    assert f"`sigmoid_prime(o)` is given `o`, the output of sigmoid (line {line_of(path, 'o = sigmoid(z_o)')})" in found["message"]
    assert found["message"].endswith("write `o * (1 - o)` in place of `sigmoid_prime(o)`")


def test_a_derivative_of_the_output_given_the_input_is_named_with_its_fix(tmp_path):
    path = planted(tmp_path, "net.py", FROM_OUTPUT, "sigmoid_derivative(a1)", "sigmoid_derivative(z1)")
    (found,) = errors(check(path))
    assert (found["pattern"], found["line"]) == ("derivative-of-input", line_of(path, "dz1 = "))
    assert "`sigmoid_derivative(z1)` is given `z1`, the input of sigmoid" in found["message"]
    assert found["message"].endswith("write `sigmoid_derivative(a1)` in place of `sigmoid_derivative(z1)`")


def test_tanh_helpers_are_read_the_same_way():
    source = (
        "import numpy as np\n"
        "def tanh_prime(x):\n    return 1 - np.tanh(x) ** 2\n"
        "def tanh_grad(y):\n    return 1 - y ** 2\n"
        "z = X @ W\n"
        "a = np.tanh(z)\n"
        "d1 = g * tanh_prime(a)\n"
        "d2 = g * tanh_grad(z)\n"
        "d3 = g * tanh_prime(z) + g * tanh_grad(a)\n"
    )
    tree = ast.parse(source)
    first, second = misapplied(tree, 8), misapplied(tree, 9)
    assert (first.call, first.wants, first.activation, first.fix) == ("tanh_prime(a)", "input", "tanh", "1 - a ** 2")
    assert (second.call, second.wants, second.fix) == ("tanh_grad(z)", "output", "tanh_grad(a)")
    assert misapplied(tree, 10) is None
