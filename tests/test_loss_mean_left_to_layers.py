"""A loss function that returns its mean loss beside each sample's own gradient (`p - onehot`, N × the
gradient of the mean it returns) is right by design where the layers it feeds take the batch mean of
their parameters' gradients (`self.gw = self.a.T @ up / m`, `grads["b2"] = dscores.sum(axis=0) / n`):
the training step's updates follow the gradient of the mean loss, so the loss function's check is an
info naming both places (`gradient_mismatch._mean_left_to_layers`), not an error. A layer that leaves
out the mean in one gradient (the bias's sum) is named at that statement; layers that never divide
leave the loss function's gradient the error it is, and its loss-not-mean finding then names the same
batch size as its gradient check. Three styles of program: a `__call__` network of layer objects,
functions over a dict of parameters, and layers beside a loss layer object whose `backward()` hands the
gradient on."""

import re

import pytest

from tests.userfiles import check, line_of, planted, write

# layer objects called as functions, a network looping over them, the update reading each layer's gradients
CALL_NET = """
    import numpy as np


    class Dense:
        def __init__(self, fan_in, fan_out, rng):
            self.w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in)
            self.c = np.zeros(fan_out)

        def __call__(self, a):
            self.a = a
            return a @ self.w + self.c

        def backprop(self, up):
            m = up.shape[0]
            self.gw = self.a.T @ up / m
            self.gc = np.mean(up, axis=0)
            return up @ self.w.T


    class Tanh:
        def __call__(self, a):
            self.t = np.tanh(a)
            return self.t

        def backprop(self, up):
            return up * (1.0 - self.t ** 2)


    class Net:
        def __init__(self, rng):
            self.layers = [Dense(3, 10, rng), Tanh(), Dense(10, 4, rng)]

        def __call__(self, a):
            for layer in self.layers:
                a = layer(a)
            return a

        def backprop(self, up):
            for layer in self.layers[::-1]:
                up = layer.backprop(up)


    def softmax_xent(logits, labels):
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        rows = np.arange(labels.shape[0])
        cost = -np.log(p[rows, labels]).mean()
        p[rows, labels] -= 1.0
        return cost, p


    gen = np.random.default_rng(7)
    data = gen.standard_normal((240, 3))
    target = (data[:, 0] * 2 + data[:, 1] > 0).astype(int) + 2 * (data[:, 2] > 0.3).astype(int)
    net = Net(gen)
    for epoch in range(200):
        pick = gen.integers(0, 240, 24)
        logits = net(data[pick])
        cost, grad = softmax_xent(logits, target[pick])
        net.backprop(grad)
        for layer in net.layers:
            if isinstance(layer, Dense):
                layer.w -= 0.2 * layer.gw
                layer.c -= 0.2 * layer.gc
        if epoch % 50 == 0:
            print(epoch, cost)
"""
CALL_BIAS = ("self.gc = np.mean(up, axis=0)", "self.gc = np.sum(up, axis=0)")
CALL_NO_MEAN = (("self.gw = self.a.T @ up / m", "self.gw = self.a.T @ up"), CALL_BIAS)

# functions over a dict of parameters, the backward dividing each gradient by the batch size
DICT_NET = """
    import numpy as np


    def init(sizes, gen):
        params = {}
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
            params[f"W{k}"] = gen.standard_normal((n_in, n_out)) / np.sqrt(n_in)
            params[f"b{k}"] = np.zeros(n_out)
        return params


    def forward(params, X):
        z1 = X @ params["W1"] + params["b1"]
        h1 = np.maximum(z1, 0.0)
        scores = h1 @ params["W2"] + params["b2"]
        return scores, (X, z1, h1)


    def backward(params, cache, dscores):
        X, z1, h1 = cache
        n = len(X)
        grads = {}
        grads["W2"] = h1.T @ dscores / n
        grads["b2"] = dscores.sum(axis=0) / n
        dh1 = dscores @ params["W2"].T
        dz1 = dh1 * (z1 > 0)
        grads["W1"] = X.T @ dz1 / n
        grads["b1"] = dz1.sum(axis=0) / n
        return grads


    def nll_loss(scores, y):
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        n = len(y)
        loss = -np.mean(log_probs[np.arange(n), y])
        dscores = np.exp(log_probs)
        dscores[np.arange(n), y] -= 1
        return loss, dscores


    gen = np.random.default_rng(11)
    X = gen.standard_normal((300, 4))
    y = np.argmax(X @ gen.standard_normal((4, 3)), axis=1)
    params = init([4, 12, 3], gen)
    for step in range(300):
        batch = gen.choice(300, 20, replace=False)
        scores, cache = forward(params, X[batch])
        loss, dscores = nll_loss(scores, y[batch])
        grads = backward(params, cache, dscores)
        for key in params:
            params[key] -= 0.1 * grads[key]
        if step % 100 == 0:
            print(step, loss)
"""
DICT_BIAS = ('grads["b1"] = dz1.sum(axis=0) / n', 'grads["b1"] = dz1.sum(axis=0)')
DICT_NO_MEAN = tuple((f"{g} / n", g) for g in ('grads["W2"] = h1.T @ dscores', 'grads["b2"] = dscores.sum(axis=0)', 'grads["W1"] = X.T @ dz1', 'grads["b1"] = dz1.sum(axis=0)'))

# a loss layer object (the course's `forward(A, Y)` returning the mean, `backward()` each sample's gradient)
LAYER_LOSS = """
    import numpy as np


    class Linear:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_out, n_in) * 0.3
            self.b = np.zeros((n_out, 1))

        def forward(self, A):
            self.A = A
            self.N = A.shape[0]
            return A @ self.W.T + self.b.T

        def backward(self, dLdZ):
            self.dLdW = dLdZ.T @ self.A / self.N
            self.dLdb = dLdZ.sum(axis=0, keepdims=True).T / self.N
            return dLdZ @ self.W


    class ReLU:
        def forward(self, Z):
            self.A = np.maximum(Z, 0)
            return self.A

        def backward(self, dLdA):
            return dLdA * (self.A > 0)


    class CrossEntropyLoss:
        def forward(self, A, Y):
            self.Y = Y
            e = np.exp(A - A.max(axis=1, keepdims=True))
            self.softmax = e / e.sum(axis=1, keepdims=True)
            return -np.sum(Y * np.log(self.softmax)) / A.shape[0]

        def backward(self):
            return self.softmax - self.Y


    np.random.seed(3)
    X = np.random.randn(200, 5)
    labels = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    Y = np.eye(2)[labels]
    layers = [Linear(5, 16), ReLU(), Linear(16, 2)]
    criterion = CrossEntropyLoss()
    for it in range(150):
        idx = np.random.choice(200, 25, replace=False)
        A = X[idx]
        for layer in layers:
            A = layer.forward(A)
        loss = criterion.forward(A, Y[idx])
        dLdA = criterion.backward()
        for layer in reversed(layers):
            dLdA = layer.backward(dLdA)
        for layer in layers:
            if isinstance(layer, Linear):
                layer.W -= 0.1 * layer.dLdW
                layer.b -= 0.1 * layer.dLdb
        if it % 50 == 0:
            print(it, loss)
"""
LAYER_BIAS = ("self.dLdb = dLdZ.sum(axis=0, keepdims=True).T / self.N", "self.dLdb = dLdZ.sum(axis=0, keepdims=True).T")
LAYER_NO_MEAN = (("self.dLdW = dLdZ.T @ self.A / self.N", "self.dLdW = dLdZ.T @ self.A"), LAYER_BIAS)

STYLES = [
    pytest.param(CALL_NET, "softmax_xent", CALL_BIAS, CALL_NO_MEAN, id="call-objects"),
    pytest.param(DICT_NET, "nll_loss", DICT_BIAS, DICT_NO_MEAN, id="dict-functions"),
    pytest.param(LAYER_LOSS, "CrossEntropyLoss", LAYER_BIAS, LAYER_NO_MEAN, id="loss-layer"),
]


def _replaced(source: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for right, wrong in pairs:
        assert right in source, right
        source = source.replace(right, wrong, 1)
    return source


@pytest.mark.parametrize(("source", "loss", "bias", "no_mean"), STYLES)
def test_the_correct_program_is_clean_with_an_info_naming_the_convention(tmp_path, source, loss, bias, no_mean):
    path = write(tmp_path, "train.py", source)
    report = check(path)
    assert not [f for f in report["findings"] if f["severity"] != "info"], report["findings"]
    (note,) = [f for f in report["findings"] if f["pattern"] == "mean-left-to-layers"]
    assert note["layer"] == loss and note["severity"] == "info", note
    mean_line = line_of(path, bias[0])
    assert f"{mean_line}" in re.search(r"mean of their parameters' gradients \(lines? ([\d, ]+)\)", note["message"])[1], note
    assert {v for p, v in _step(report).items()} == {"ok"}, report["measurements"]


@pytest.mark.parametrize(("source", "loss", "bias", "no_mean"), STYLES)
def test_a_bias_gradient_left_as_the_sum_is_named_at_its_line(tmp_path, source, loss, bias, no_mean):
    path = planted(tmp_path, "train.py", source, *bias)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, bias[1]), root
    assert root["pattern"] == "scaled-by-batch-size", root
    assert not [f for f in report["findings"] if f["severity"] == "error" and f["layer"] == loss], report["findings"]


@pytest.mark.parametrize(("source", "loss", "bias", "no_mean"), STYLES)
def test_a_loss_gradient_no_layer_divides_stays_an_error_with_one_batch_size(tmp_path, source, loss, bias, no_mean):
    path = write(tmp_path, "train.py", _replaced(source, no_mean))
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["layer"] == loss and root["pattern"] == "scaled-by-batch-size", root
    assert not [f for f in report["findings"] if f["pattern"] == "mean-left-to-layers"], report["findings"]
    sizes = {int(n) for f in report["findings"] if f["layer"] == loss for pair in re.findall(r"(\d+) (?:×|times) too large|N = (\d+)", f["message"]) for n in pair if n}
    assert len(sizes) == 1, [f["message"] for f in report["findings"]]


def _step(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
