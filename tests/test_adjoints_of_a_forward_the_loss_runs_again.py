"""A class whose gradient method runs the forward pass (`self.yHat = self.forward(X)` inside
`costFunctionPrime`), beside a cost method that runs it again for the loss the loop prints
(`NN.costFunction(X, y)`), the style of a well-known video series. The adjoints `delta3` and `delta2`
belong to `self.z3` and `self.z2`, set in `forward`: the forward values are read where the gradient
method's call of `forward` sets them, and moved in the loss's own run of `forward`, so the walk
reaches `delta2` and names its line rather than the weight gradient computed from it.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

np.random.seed(3)
X = np.array(([3, 5], [5, 1], [10, 2], [6, 1.5], [8, 3]), dtype=float)
y = np.array(([75], [82], [93], [70], [88]), dtype=float)
X = X / np.amax(X, axis=0)
y = y / 100


class Neural_Network(object):
    def __init__(self):
        self.W1 = np.random.randn(2, 4)
        self.W2 = np.random.randn(4, 1)

    def forward(self, X):
        self.z2 = np.dot(X, self.W1)
        self.a2 = self.sigmoid(self.z2)
        self.z3 = np.dot(self.a2, self.W2)
        return self.sigmoid(self.z3)

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def sigmoidPrime(self, z):
        return np.exp(-z) / ((1 + np.exp(-z)) ** 2)

    def costFunction(self, X, y):
        self.yHat = self.forward(X)
        return 0.5 * sum((y - self.yHat) ** 2)

    def costFunctionPrime(self, X, y):
        self.yHat = self.forward(X)
        delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.z3))
        dJdW2 = np.dot(self.a2.T, delta3)
        delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.z2)
        dJdW1 = np.dot(X.T, delta2)
        return dJdW1, dJdW2


NN = Neural_Network()
for i in range(1000):
    dJdW1, dJdW2 = NN.costFunctionPrime(X, y)
    NN.W1 = NN.W1 - 2 * dJdW1
    NN.W2 = NN.W2 - 2 * dJdW2
    if i % 250 == 0:
        print(NN.costFunction(X, y))
'''

RIGHT = "        delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.z2)\n"
WRONG = "        delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.a2)\n"


def test_the_hidden_adjoint_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "bug.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["delta3"]["wrong"] is False
    assert walked["delta2"]["wrong"] is True
    assert errors(report)[0]["line"] == line_of(path, "delta2 = np.dot(")


def test_the_correct_program_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "ok.py", PROGRAM, RIGHT, RIGHT))) == []
