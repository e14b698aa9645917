"""An activation's derivative function is judged the way the program calls it. `np.sign(z)` is the
step a ReLU's output gives (`sign(relu(z))` is 0 or 1) but not a derivative of the ReLU's input
(-1 for negative inputs): a program that hands `relu_grad` the pre-activation (`relu_grad(Z1)`, the
value it also hands `relu`) has it checked on inputs and reported at its line; one that hands it the
activation (`relu_grad(A1)`) is right as written.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

# 激活函数及其导数
def relu(z):
    return np.maximum(0, z)


def relu_grad(z):
    return (z > 0).astype(float)


rng = np.random.default_rng(17)
X = rng.normal(size=(100, 3))
Y = (X[:, :1] ** 2 + X[:, 1:2] > 0.5).astype(float)
W1, b1 = rng.normal(scale=0.7, size=(3, 12)), np.zeros(12)
W2, b2 = rng.normal(scale=0.7, size=(12, 1)), np.zeros(1)
for it in range(400):
    Z1 = X @ W1 + b1
    A1 = relu(Z1)
    P = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
    cost = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    dZ2 = (P - Y) / len(X)
    dZ1 = dZ2 @ W2.T * relu_grad(Z1)
    W2 -= 0.5 * A1.T @ dZ2
    b2 -= 0.5 * dZ2.sum(0)
    W1 -= 0.5 * X.T @ dZ1
    b1 -= 0.5 * dZ1.sum(0)
    if it % 100 == 0:
        print(it, cost)
'''

STEP = "    return (z > 0).astype(float)\n"
SIGN = "    return np.sign(z)\n"


def test_a_sign_handed_the_pre_activation_is_named_at_its_line(tmp_path):
    assert errors(check(planted(tmp_path, "ok.py", PROGRAM, STEP, STEP))) == []
    path = planted(tmp_path, "bug.py", PROGRAM, STEP, SIGN)
    assert errors(check(path))[0]["line"] == line_of(path, "np.sign(z)")


def test_a_sign_handed_the_activation_is_right(tmp_path):
    text = PROGRAM.replace("relu_grad(Z1)", "relu_grad(A1)")
    assert errors(check(planted(tmp_path, "output.py", text, STEP, SIGN))) == []


SIGMOID = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(s):
    return s * (1 - s)


rng = np.random.default_rng(19)
X = rng.normal(size=(120, 2))
y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
w, b = rng.normal(scale=0.1, size=2), 0.0
for it in range(300):
    z = X @ w + b
    s = sigmoid(z)
    loss = np.mean((s - y) ** 2)
    dz = 2 * (s - y) / len(X) * sigmoid_prime(s)
    w -= 1.0 * X.T @ dz
    b -= 1.0 * dz.sum()
    if it % 100 == 0:
        print(it, loss)
'''


def test_a_slope_written_for_the_output_and_handed_the_input_is_the_calls_mistake(tmp_path):
    """`sigmoid_prime(s)` names its argument as an output: right as written, so the call that hands
    it `z` is the line to fix."""
    path = planted(tmp_path, "call.py", SIGMOID, "sigmoid_prime(s)\n", "sigmoid_prime(z)\n")
    found = errors(check(path))
    assert found[0]["line"] == line_of(path, "sigmoid_prime(z)")
    assert line_of(path, "return s * (1 - s)") not in [f["line"] for f in found]  # the function itself is right
