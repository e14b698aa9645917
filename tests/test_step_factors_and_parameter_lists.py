"""Two shapes of a per-sample or minibatch script that the replay misread (held-out probe, Q&A
style): a step written `lr * do * self.h`, whose last factor is the hidden activation `h`, not an
AdaGrad accumulator of that name; and a function given the parameters as one list of arrays of
different shapes (`loss_and_grads([W1, b1, W2, b2], xb, yb)`), which the softmax check read as an
array. The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

ONLINE = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Net:
    def __init__(self, n_in, n_hidden):
        rng = np.random.RandomState(5)
        self.W1 = rng.randn(n_hidden, n_in) * 0.5
        self.b1 = np.zeros(n_hidden)
        self.w2 = rng.randn(n_hidden) * 0.5
        self.b2 = 0.0

    def forward(self, x):
        self.h = sigmoid(self.W1 @ x + self.b1)
        return sigmoid(self.w2 @ self.h + self.b2)

    def train(self, X, y, epochs, lr):
        for epoch in range(epochs):
            for x, t in zip(X, y):
                o = self.forward(x)
                loss = -(t * np.log(o) + (1 - t) * np.log(1 - o))
                do = o - t
                dh = do * self.w2 * self.h * (1 - self.h)
                self.w2 -= lr * do * self.h
                self.b2 -= lr * do
                self.W1 -= lr * np.outer(dh, x)
                self.b1 -= lr * dh


rs = np.random.RandomState(1)
X = rs.randn(120, 3)
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(float)
Net(3, 5).train(X, y, epochs=20, lr=0.1)
'''

LISTED = '''\
import numpy as np

rng = np.random.RandomState(2)
X = np.vstack([rng.randn(60, 2) + c for c in ([0, 2], [-2, -1], [2, -1])])
Y = np.eye(3)[np.repeat(np.arange(3), 60)]


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_and_grads(params, xb, yb):
    W1, b1, W2, b2 = params
    h = np.tanh(xb @ W1 + b1)
    p = softmax(h @ W2 + b2)
    loss = -np.mean(np.sum(yb * np.log(p + 1e-12), axis=1))
    d2 = (p - yb) / len(xb)
    d1 = d2 @ W2.T * (1 - h ** 2)
    return loss, [xb.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]


params = [rng.randn(2, 8) * 0.5, np.zeros(8), rng.randn(8, 3) * 0.5, np.zeros(3)]
for epoch in range(20):
    perm = rng.permutation(len(X))
    for i in range(0, len(X), 30):
        loss, grads = loss_and_grads(params, X[perm][i:i + 30], Y[perm][i:i + 30])
        for p, g in zip(params, grads):
            p -= 0.2 * g
'''


def test_a_step_times_the_hidden_activation_h_is_a_gradient_not_an_accumulator(tmp_path):
    report = check(write(tmp_path, "online.py", ONLINE), training=True)
    assert not errors(report)


def test_a_sign_flipped_step_times_h_is_named_at_its_update(tmp_path):
    bug = planted(tmp_path, "online.py", ONLINE, "self.w2 -= lr * do * self.h", "self.w2 += lr * do * self.h")
    assert line_of(bug, "self.w2 += lr * do * self.h") in {f["line"] for f in errors(check(bug, training=True))}


def test_a_function_given_a_list_of_parameters_leaves_the_softmax_check_whole(tmp_path):
    report = check(write(tmp_path, "minibatch.py", LISTED), training=True)
    assert not [f for f in report["findings"] if f["code"] == "BPD009"] and not errors(report)


def test_a_whole_batch_softmax_beside_it_is_still_found(tmp_path):
    bug = planted(tmp_path, "minibatch.py", LISTED, "return e / e.sum(axis=1, keepdims=True)", "return e / e.sum()")
    report = check(bug, training=True)
    assert not [f for f in report["findings"] if f["code"] == "BPD009"]
    assert any(f["code"] == "BPD301" and f["line"] == line_of(bug, "return e / e.sum()") for f in errors(report))
