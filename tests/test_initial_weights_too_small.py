"""Weights drawn so small (std 0.01 over layers of 48, 0.003 over 40) that each tanh layer shrinks what it
passes on: the activations and the gradients vanish through the layers and the loss stays where it
began, although every gradient is right. The step cannot fit a few samples, and once every weight
matrix is drawn at the usual size (std 1/sqrt(fan_in)) it does: the warning leads with the initial
weights and points at the number that scales them, a script's `scale = 0.01` that its draw multiplies
by, or the `std=` a class's layers are built with. The same programs at a workable scale are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(5)
data = rng.uniform(-1, 1, size=(400, 4))
labels = (np.sin(3 * data[:, 0]) + data[:, 1] * data[:, 2] > 0).astype(float)[:, None]

widths = [4, 48, 48, 48, 48, 1]
scale = 0.15
params = {}
for i in range(len(widths) - 1):
    params[f"W{i}"] = rng.standard_normal((widths[i], widths[i + 1])) * scale
    params[f"b{i}"] = np.zeros(widths[i + 1])
depth = len(widths) - 1
lr = 0.5
for it in range(1500):
    hs = [data]
    for i in range(depth - 1):
        hs.append(np.tanh(hs[-1] @ params[f"W{i}"] + params[f"b{i}"]))
    z = hs[-1] @ params[f"W{depth - 1}"] + params[f"b{depth - 1}"]
    prob = 1 / (1 + np.exp(-z))
    bce = -np.mean(labels * np.log(prob + 1e-12) + (1 - labels) * np.log(1 - prob + 1e-12))
    d = (prob - labels) / len(data)
    grads = {}
    for i in reversed(range(depth)):
        grads[f"W{i}"] = hs[i].T @ d
        grads[f"b{i}"] = d.sum(axis=0)
        if i > 0:
            d = (d @ params[f"W{i}"].T) * (1 - hs[i] ** 2)
    for k in params:
        params[k] -= lr * grads[k]
    if it % 300 == 0:
        print(it, bce)
print("final", bce)
'''

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, std):
        self.W = np.random.normal(0.0, std, (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y ** 2)


def softmax_xent(z, t):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(t)
    loss = -np.log(p[np.arange(n), t]).mean()
    g = p.copy()
    g[np.arange(n), t] -= 1
    return loss, g / n


np.random.seed(0)
pts = np.random.randn(600, 2)
cls = (np.arctan2(pts[:, 1], pts[:, 0]) > 0).astype(int) + (np.hypot(pts[:, 0], pts[:, 1]) > 1).astype(int)
net = [Dense(2, 40, std=0.3), Tanh(), Dense(40, 40, std=0.3), Tanh(), Dense(40, 40, std=0.3), Tanh(), Dense(40, 3, std=0.3)]
eta = 0.2
for epoch in range(60):
    order = np.random.permutation(len(pts))
    for s in range(0, len(pts), 30):
        idx = order[s:s + 30]
        out = pts[idx]
        for layer in net:
            out = layer.forward(out)
        loss, g = softmax_xent(out, cls[idx])
        for layer in reversed(net):
            g = layer.backward(g)
        for layer in net:
            if isinstance(layer, Dense):
                layer.W -= eta * layer.dW
                layer.b -= eta * layer.db
    if epoch % 10 == 0:
        print(epoch, loss)
print("final", loss)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]


def test_a_script_drawing_its_weights_at_a_scale_of_one_hundredth(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "scale = 0.15", "scale = 0.01")
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "scale = 0.01"))
    drawn = line_of(path, "rng.standard_normal(")
    assert finding["highlight"] == [finding["line"], drawn]
    message = finding["message"]
    assert message.startswith("your initial weights are too small")
    assert f"line {drawn}" in message and "`scale = 0.01`" in message and "vanish" in message
    assert errors(report) == []


def test_layer_objects_built_with_a_tiny_std(tmp_path):
    path = write(tmp_path, "layers.py", LAYERS.replace("std=0.3", "std=0.003"))  # every layer's
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert finding["line"] == line_of(path, "net = [Dense(")
    message = finding["message"]
    assert message.startswith("your initial weights are too small")
    assert f"line {line_of(path, 'np.random.normal(0.0, std')}" in message and "`std=0.003`" in message
    assert errors(report) == []


def test_the_same_programs_at_a_workable_scale_are_clean(tmp_path):
    for name, text in (("script.py", SCRIPT), ("layers.py", LAYERS)):
        report = check(write(tmp_path, name, text), training=True)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], name
