"""`isinstance(layer, Dropout)` where `Dropout` comes from a module this machine lacks.

backprop-doctor puts a stand-in where a missing module's names were imported. A network whose
forward asks `isinstance(layer, Dropout)` (to pass a train flag to its dropout layers, as the book's
deeper networks do) raised TypeError on the stand-in ("isinstance() arg 2 must be a type"), and the
network could not be built. The stand-in now answers as the class it stands for: no object of the
user's own is an instance of it, but one of a class the user derived from it. Real CLI, in a
subprocess; the network is checked, and a wrong derivative in it is still named."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = '''\
import numpy as np
from course_common.layers import Dropout, BaseLayer


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


class Tanh(BaseLayer):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y ** 2)


class MeanSquared:
    def forward(self, y, t):
        self.diff = y - t
        return 0.5 * np.mean(np.sum(self.diff ** 2, axis=1))

    def backward(self, dout=1):
        return dout * self.diff / self.diff.shape[0]


class Net:
    def __init__(self, seed=0):
        r = np.random.RandomState(seed)
        self.layers = [Affine(r.randn(4, 8) * 0.5, np.zeros(8)), Tanh(), Affine(r.randn(8, 2) * 0.5, np.zeros(2))]
        self.last = MeanSquared()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            if isinstance(layer, Dropout):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last.forward(self.predict(x, True), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return {"W1": self.layers[0].dW, "b1": self.layers[0].db, "W2": self.layers[2].dW, "b2": self.layers[2].db}


if __name__ == "__main__":
    net = Net()
    x = np.random.RandomState(1).randn(40, 4)
    t = np.tanh(x[:, :2])
    for step in range(200):
        loss = net.loss(x, t)
        grads = net.gradient(x, t)
        for layer, key in ((net.layers[0], "1"), (net.layers[2], "2")):
            layer.W -= 0.2 * grads["W" + key]
            layer.b -= 0.2 * grads["b" + key]
        if step % 50 == 0:
            print(step, loss)
'''


def test_a_network_asking_isinstance_of_a_missing_class_runs_and_is_clean(tmp_path):
    report = check(write(tmp_path, "net.py", NETWORK), training=True)
    assert errors(report) == [], errors(report)
    codes = {f["code"] for f in report["findings"]}
    assert "BPD003" in codes  # the missing module is said, as a note
    assert "BPD021" not in codes  # the program ran: it did not stop on the stand-in
    layers = {m["layer"] for m in report["measurements"]}
    assert {"Affine", "Tanh", "training step"} <= layers, layers
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"ok"}


def test_a_layer_derived_from_a_missing_class_keeps_its_findings(tmp_path):
    path = planted(tmp_path, "net.py", NETWORK, "return dout * (1 - self.y ** 2)", "return dout * (1 - self.y)")
    report = check(path)
    tanh = [f for f in errors(report) if f["layer"] == "Tanh"]
    assert tanh and tanh[0]["line"] == line_of(path, "return dout * (1 - self.y)"), errors(report)
