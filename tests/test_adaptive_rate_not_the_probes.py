"""A rate the script gives an adaptive optimizer (`Adam(lr=0.001)`, the book's `Trainer(...,
optimizer='Adam', optimizer_param={'lr': 0.001})`) is no rate for the training probe's plain SGD: at
0.001 SGD barely moves a network Adam trains well, and the probe would say the network cannot fit five
samples, or that the rate is too small, of a program that trains. The probe takes its own rate then;
a rate given to SGD is still the script's.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, write

PROGRAM = '''\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class SoftmaxWithLoss:
    def forward(self, x, t):
        x = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        self.t = t
        return -np.mean(np.log(self.y[np.arange(len(t)), t] + 1e-7))

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx / len(self.t)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.layers = [Affine(self.params["W1"], self.params["b1"]), Relu(), Affine(self.params["W2"], self.params["b2"])]
        self.last = SoftmaxWithLoss()

    def loss(self, x, t):
        for layer in self.layers:
            x = layer.forward(x)
        return self.last.forward(x, t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return {"W1": self.layers[0].dW, "b1": self.layers[0].db, "W2": self.layers[2].dW, "b2": self.layers[2].db}


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


rng = np.random.default_rng(0)
centres = rng.normal(size=(4, 20)) * 2
labels = rng.integers(0, 4, 600)
x_train = centres[labels] + rng.normal(size=(600, 20))
t_train = labels

np.random.seed(0)
network = TwoLayerNet(20, 30, 4)
{OPTIMIZER}
for i in range(300):
    batch = np.random.choice(600, 50)
    grads = network.gradient(x_train[batch], t_train[batch])
    optimizer.update(network.params, grads)
    if i % 100 == 0:
        print(network.loss(x_train, t_train))
'''


def codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


@pytest.mark.parametrize("optimizer", ["optimizer = Adam(lr=0.001)", "learning_rate = 0.001\noptimizer = Adam(lr=learning_rate)"])
def test_an_adaptive_rate_is_not_the_probes(tmp_path, optimizer):
    report = check(write(tmp_path, "train.py", PROGRAM.replace("{OPTIMIZER}", optimizer)), training=True)
    assert not codes(report) & {"BPD603", "BPD607"}
    assert report["training"]["lr"] != 0.001


def test_a_rate_given_to_sgd_is_still_the_scripts(tmp_path):
    program = PROGRAM.replace("{OPTIMIZER}", "optimizer = Adam(lr=0.001)").replace("class Adam:", "class SGD:").replace("Adam(lr=", "SGD(lr=")
    report = check(write(tmp_path, "train.py", program), training=True)
    assert report["training"]["lr"] == 0.001
