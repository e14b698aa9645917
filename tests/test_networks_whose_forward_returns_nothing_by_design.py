"""A stateful network whose forward fills lists on the instance and returns nothing by design
(`self.acts.append(np.tanh(z))`; its backward reads `self.acts[-1]`), called by its program only as a
statement of its own (`net.forward(x)`), is no layer that forgot `return out`: no bad-return error.
A layer whose caller uses what its forward returns and gets None is still reported."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# style 1: a network over lists of weights, column vectors, an update method
LISTS = '''\
import numpy as np


class ListNet:
    def __init__(self, sizes, lr=0.1):
        rng = np.random.default_rng(0)
        self.W = [rng.normal(0, 0.5, (m, n)) for n, m in zip(sizes[:-1], sizes[1:])]
        self.lr = lr
        self.zs, self.acts = [], []

    def forward(self, x):
        self.zs, self.acts = [], [x]
        for W in self.W:
            z = W @ self.acts[-1]
            self.zs.append(z)
            self.acts.append(np.tanh(z))

    def backward(self, goal):
        delta = (self.acts[-1] - goal) * (1 - self.acts[-1] ** 2)
        self.grads = [None] * len(self.W)
        for i in reversed(range(len(self.W))):
            self.grads[i] = delta @ self.acts[i].T
            if i:
                delta = (self.W[i].T @ delta) * (1 - self.acts[i] ** 2)

    def update(self):
        for W, g in zip(self.W, self.grads):
            W -= self.lr * g


if __name__ == "__main__":
    net = ListNet([2, 3, 1])
    x = np.array([[1.0], [-1.0]])
    for step in range(5):
        net.forward(x)
        net.backward(np.array([[0.5]]))
        net.update()
        print(step, float(net.acts[-1][0, 0]))
'''

# style 2: a model that runs layer objects and keeps every activation in a trace
TRACE = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        rng = np.random.default_rng(2)
        self.W = rng.normal(0, 0.3, (n_in, n_out))
        self.dW = np.zeros_like(self.W)

    def forward(self, x):
        self.x = x
        self.result = np.tanh(x @ self.W)
        return self.result

    def backward(self, dout):
        dz = dout * (1 - self.result ** 2)
        self.dW = self.x.T @ dz
        return dz @ self.W.T


class Recorder:
    """Runs its layers and keeps every activation; the caller reads `trace[-1]`."""

    def __init__(self):
        self.layers = [Dense(4, 5), Dense(5, 2)]
        self.trace = []

    def forward(self, x):
        self.trace = [x]
        for layer in self.layers:
            self.trace.append(layer.forward(self.trace[-1]))

    def backward(self, wanted):
        grad = (self.trace[-1] - wanted) / len(wanted)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


if __name__ == "__main__":
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2)) * 0.3
    model = Recorder()
    for epoch in range(4):
        model.forward(X)
        loss = 0.5 * np.sum((model.trace[-1] - Y) ** 2) / len(Y)
        model.backward(Y)
        for layer in model.layers:
            layer.W -= 0.1 * layer.dW
        print(epoch, loss)
'''


def _bad_returns(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "bad-return"]


def test_a_list_network_whose_forward_returns_nothing_by_design_is_no_bad_return(tmp_path):
    report = check(write(tmp_path, "net.py", LISTS))
    assert errors(report) == [] and _bad_returns(report) == []
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"ok"}


def test_a_tracing_model_whose_forward_returns_nothing_by_design_is_no_bad_return(tmp_path):
    report = check(write(tmp_path, "model.py", TRACE))
    assert errors(report) == [] and _bad_returns(report) == []
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "Dense"} == {"ok"}


def test_a_layer_whose_returned_value_its_caller_uses_still_gets_bad_return(tmp_path):
    path = planted(tmp_path, "model.py", TRACE, "        return self.result\n", "        self.out = self.result\n")
    assert "Dense" in {f["layer"] for f in errors(check(path)) if f["name"] == "bad-return"}


def test_a_network_whose_caller_reads_what_forward_returns_still_gets_bad_return(tmp_path):
    path = planted(tmp_path, "net.py", LISTS, "        net.forward(x)\n", "        out = net.forward(x)\n")
    assert "ListNet" in {f["layer"] for f in errors(check(path)) if f["name"] == "bad-return"}
