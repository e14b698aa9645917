"""A squared hinge whose backward leaves out the `max(0, .)` of its slack (`dout = -2 * T * (1 - T * out) / n`
where the loss squares `np.maximum(0, 1 - T * out)`): the adjoint of the scores is wrong only in the few
entries that already meet the margin, so it agrees with the loss's gradient up to a factor of 1 along its
own direction, and the biases computed from it by a sum over the batch still agree. The weights' gradients
computed from it disagree, and the finding names the adjoint of the scores, where the mistake is, not the
adjoint of the hidden layer below it. A factor of 1 is no batch size left out either (2 / 2 with a
feature axis of 2).

Two styles: a script whose loss function takes the weights and returns named gradients, and a class
whose method returns them to a loop that updates the instance's attributes.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(19)
n, d, hdim, k = 160, 2, 10, 3
X = rng.normal(size=(n, d))
label = np.argmax(X @ rng.normal(size=(d, k)), axis=1)
T = -np.ones((n, k))
T[np.arange(n), label] = 1.0

W1 = rng.normal(scale=0.5, size=(d, hdim))
b1 = np.zeros(hdim)
W2 = rng.normal(scale=0.3, size=(hdim, k))
b2 = np.zeros(k)


def l2svm(W1, b1, W2, b2):
    a = np.tanh(X @ W1 + b1)
    out = a @ W2 + b2
    slack = np.maximum(0.0, 1.0 - T * out)
    loss = np.sum(slack ** 2) / n
    dout = -2.0 * T * slack / n
    dW2 = a.T @ dout
    db2 = dout.sum(axis=0)
    da = dout @ W2.T
    dpre = da * (1 - a ** 2)
    dW1 = X.T @ dpre
    db1 = dpre.sum(axis=0)
    return loss, dW1, db1, dW2, db2


for epoch in range(300):
    loss, dW1, db1, dW2, db2 = l2svm(W1, b1, W2, b2)
    W1 -= 0.1 * dW1
    b1 -= 0.1 * db1
    W2 -= 0.1 * dW2
    b2 -= 0.1 * db2
print(loss)
'''

CLASS = '''\
import numpy as np


class SquaredHingeNet:
    def __init__(self, rng, n_in, n_hidden, n_out):
        self.W1 = rng.normal(scale=0.5, size=(n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(scale=0.3, size=(n_hidden, n_out))
        self.b2 = np.zeros(n_out)

    def loss_and_grads(self, X, T):
        n = len(X)
        a = np.tanh(X @ self.W1 + self.b1)
        out = a @ self.W2 + self.b2
        slack = np.maximum(0.0, 1.0 - T * out)
        loss = np.sum(slack ** 2) / n
        dout = -2.0 * T * slack / n
        dW2 = a.T @ dout
        db2 = dout.sum(axis=0)
        da = dout @ self.W2.T
        dpre = da * (1 - a ** 2)
        dW1 = X.T @ dpre
        db1 = dpre.sum(axis=0)
        return loss, dW1, db1, dW2, db2


rng = np.random.default_rng(19)
X = rng.normal(size=(160, 2))
label = np.argmax(X @ rng.normal(size=(2, 3)), axis=1)
T = -np.ones((160, 3))
T[np.arange(160), label] = 1.0
net = SquaredHingeNet(rng, 2, 10, 3)
for epoch in range(300):
    loss, dW1, db1, dW2, db2 = net.loss_and_grads(X, T)
    net.W1 -= 0.1 * dW1
    net.b1 -= 0.1 * db1
    net.W2 -= 0.1 * dW2
    net.b2 -= 0.1 * db2
print(loss)
'''

SLACK = "dout = -2.0 * T * slack / n"
NO_MAX = "dout = -2.0 * T * (1.0 - T * out) / n"


def test_the_correct_script_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "svm.py", SCRIPT, SLACK, SLACK))) == []


def test_the_scores_adjoint_without_its_max_is_named_in_a_script(tmp_path):
    path = planted(tmp_path, "svm.py", SCRIPT, SLACK, NO_MAX)
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, NO_MAX)
    assert "`dout`" in finding["message"]


def test_the_correct_class_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "svm_net.py", CLASS, SLACK, SLACK))) == []


def test_the_scores_adjoint_without_its_max_is_named_in_a_class(tmp_path):
    path = planted(tmp_path, "svm_net.py", CLASS, SLACK, NO_MAX)
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, NO_MAX)
    assert "`dout`" in finding["message"]
