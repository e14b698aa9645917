"""The book's `MultiLayerNet` with weight decay: `loss` adds `0.5 * weight_decay_lambda * ΣW²` and
`gradient` must add `weight_decay_lambda * W` to each weight's gradient. Left out, every layer's own
gradient is right and the network's is not: the report names the penalty and where its gradient
belongs, not "fix the layer whose gradient is wrong" (comments in Japanese, as the book's)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
# coding: utf-8
# 荷重減衰（Weight decay）付きの多層ネット（ゼロから作る6章より簡略化）
import numpy as np


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class IdentityWithLoss:
    def forward(self, y, t):
        self.y, self.t = y, t
        return 0.5 * np.sum((y - t) ** 2) / y.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.y.shape[0]


class MultiLayerNet:
    def __init__(self, sizes, weight_decay_lambda=0.1):
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        self.layers = []
        for i in range(1, len(sizes)):
            self.params['W' + str(i)] = np.random.randn(sizes[i - 1], sizes[i]) * np.sqrt(1.0 / sizes[i - 1])
            self.params['b' + str(i)] = np.zeros(sizes[i])
            self.layers.append(Affine(self.params['W' + str(i)], self.params['b' + str(i)]))
            if i < len(sizes) - 1:
                self.layers.append(Sigmoid())
        self.last_layer = IdentityWithLoss()
        self.n = len(sizes) - 1

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        weight_decay = 0
        for idx in range(1, self.n + 1):
            W = self.params['W' + str(idx)]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)
        return self.last_layer.forward(y, t) + weight_decay

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        affines = [l for l in self.layers if isinstance(l, Affine)]
        for idx in range(1, self.n + 1):
            # 荷重減衰の勾配も加える
            grads['W' + str(idx)] = affines[idx - 1].dW + self.weight_decay_lambda * self.params['W' + str(idx)]
            grads['b' + str(idx)] = affines[idx - 1].db
        return grads


np.random.seed(0)
x_train = np.random.randn(100, 5)
t_train = np.tanh(x_train[:, :2])
net = MultiLayerNet([5, 20, 2], weight_decay_lambda=0.01)
for i in range(300):
    grads = net.gradient(x_train, t_train)
    for key in net.params:
        net.params[key] -= 0.3 * grads[key]
    if i % 60 == 0:
        print(i, net.loss(x_train, t_train))
'''

RIGHT = "grads['W' + str(idx)] = affines[idx - 1].dW + self.weight_decay_lambda * self.params['W' + str(idx)]"
LEFT_OUT = "grads['W' + str(idx)] = affines[idx - 1].dW"


def test_the_decayed_gradient_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "multi.py", PROGRAM, RIGHT, RIGHT))) == []


def test_the_penalty_left_out_of_the_gradient_is_named_where_the_weights_gradient_is_stored(tmp_path):
    path = planted(tmp_path, "multi.py", PROGRAM, RIGHT, LEFT_OUT)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["line"], root["pattern"]) == (line_of(path, LEFT_OUT), "penalty-left-out")
    assert "adds a penalty scaled by `self.weight_decay_lambda`" in root["message"]
    assert root["message"].endswith("add `self.weight_decay_lambda * W` to each weight's gradient")
