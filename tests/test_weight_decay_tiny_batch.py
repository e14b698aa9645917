"""A weight decay puts a floor under the loss: `step-cannot-overfit` (BPD615) asks whether the program's own
step can fit five samples, and an L2 penalty (`0.5 * lam * sum(W ** 2)` in the loss, `lam * W` in the
gradient) keeps the weights from growing far enough to drive the loss towards 0 on them, however right
every gradient is. So the five samples are fitted with the penalty's strength set to 0 where the tool can
reach it: a name of the loop's state (`reg`, read only by the loss function the loop calls), or an
attribute of the object the loop trains (`self.weight_decay_lambda` of a network built of book-style
Affine/Relu/SoftmaxWithLoss layers). Where it cannot (a default argument, `reg=0.1`), the penalty's value
at the end of the passes, ½·λ·Σ‖W‖² over the weights its gradient terms scale, is weighed against the
loss it stops at. Both programs train correctly and are clean; their twins whose inputs cannot tell the
samples apart (two features standardised per sample: every row ±1), or whose hidden units are all dead,
are still warned, with the penalty on. The book twin's message names the inputs `X`, not the one-hot
targets `T` of more columns.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

BOOK = '''\
import numpy as np
from collections import OrderedDict


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

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
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class SoftmaxWithLoss:
    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.t = t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self, sizes, weight_decay_lambda=0.0):
        rng = np.random.default_rng(3)
        self.params = {}
        self.layers = OrderedDict()
        for i in range(1, len(sizes)):
            self.params['W%d' % i] = rng.standard_normal((sizes[i - 1], sizes[i])) * 0.1
            self.params['b%d' % i] = np.zeros(sizes[i])
            self.layers['Affine%d' % i] = Affine(self.params['W%d' % i], self.params['b%d' % i])
            if i < len(sizes) - 1:
                self.layers['Relu%d' % i] = Relu()
        self.depth = len(sizes) - 1
        self.weight_decay_lambda = weight_decay_lambda
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        penalty = 0.0
        for i in range(1, self.depth + 1):
            penalty += 0.5 * self.weight_decay_lambda * np.sum(self.params['W%d' % i] ** 2)
        return self.last_layer.forward(self.predict(x), t) + penalty

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.depth + 1):
            grads['W%d' % i] = self.layers['Affine%d' % i].dW + self.weight_decay_lambda * self.params['W%d' % i]
            grads['b%d' % i] = self.layers['Affine%d' % i].db
        return grads


rng = np.random.default_rng(11)
n = 400
classes = rng.integers(0, 4, n)
angle = classes * np.pi / 2 + rng.normal(0, 0.4, n)
raw = np.c_[np.cos(angle), np.sin(angle)] * rng.uniform(0.5, 1.5, (n, 1))
X = (raw - raw.mean(axis=0)) / raw.std(axis=0)
T = np.eye(4)[classes]

net = Net([2, 16, 4], weight_decay_lambda=0.2)
lr = 0.1
for it in range(400):
    idx = rng.choice(n, 32)
    grads = net.gradient(X[idx], T[idx])
    for key in net.params:
        net.params[key] -= lr * grads[key]
    if it % 100 == 0:
        print(it, net.loss(X, T))
'''

MLP = '''\
import numpy as np

rng = np.random.default_rng(5)
n = 300
raw = rng.normal(0, 1, (n, 2)) * [3.0, 0.5] + [10.0, -4.0]
y = ((raw[:, 0] - 10.0) * (raw[:, 1] + 4.0) > 0).astype(int)
X = (raw - raw.mean(axis=0)) / raw.std(axis=0)
reg = 0.1


def init(sizes):
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        params[f"W{i}"] = rng.normal(0, 0.3, (a, b))
        params[f"b{i}"] = np.zeros(b)
    return params


def loss_and_grads(params, Xb, yb):
    h = np.maximum(0, Xb @ params["W1"] + params["b1"])
    s = h @ params["W2"] + params["b2"]
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    m = Xb.shape[0]
    loss = -np.log(p[np.arange(m), yb]).mean() + 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    d = p.copy()
    d[np.arange(m), yb] -= 1
    d /= m
    grads = {"W2": h.T @ d + reg * params["W2"], "b2": d.sum(axis=0)}
    dh = d @ params["W2"].T * (h > 0)
    grads["W1"] = Xb.T @ dh + reg * params["W1"]
    grads["b1"] = dh.sum(axis=0)
    return loss, grads


params = init([2, 20, 2])
for epoch in range(1500):
    loss, grads = loss_and_grads(params, X, y)
    for k in params:
        params[k] -= 0.3 * grads[k]
print(loss)
'''

PER_FEATURE = "X = (raw - raw.mean(axis=0)) / raw.std(axis=0)"
PER_SAMPLE = "X = (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True)"
MLP_DEFAULT = MLP.replace("reg = 0.1\n", "").replace("def loss_and_grads(params, Xb, yb):", "def loss_and_grads(params, Xb, yb, reg=0.1):")


def _overfit(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD615"]


def _tiny(report: dict) -> dict:
    (result,) = report["extras"]["replay"]
    return result["tiny"]


def test_book_layers_with_weight_decay_fit_five_samples_with_the_decay_off(tmp_path):
    report = check(write(tmp_path, "book_decay.py", BOOK), training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    assert _tiny(report)["undecayed"] == ["net.weight_decay_lambda"]


def test_a_global_reg_read_by_the_loss_function_is_set_to_0_for_the_five_samples(tmp_path):
    report = check(write(tmp_path, "mlp_decay.py", MLP), training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    assert _tiny(report)["undecayed"] == ["reg"]


def test_a_penalty_the_tool_cannot_set_to_0_is_weighed_against_the_loss_it_leaves(tmp_path):
    report = check(write(tmp_path, "mlp_default.py", MLP_DEFAULT), training=True)
    assert _overfit(report) == []
    tiny = _tiny(report)
    assert tiny["undecayed"] == [] and tiny["penalty"] > 0.25 * tiny["losses"][-1]


def test_book_inputs_that_tell_nothing_apart_are_still_warned_with_the_decay_on(tmp_path):
    path = planted(tmp_path, "book_alike.py", BOOK, PER_FEATURE, PER_SAMPLE)
    (found,) = _overfit(check(path, training=True))
    assert found["line"] == line_of(path, "X = (raw - raw.mean(axis=1")
    assert "weight decay (`net.weight_decay_lambda`) set to 0" in found["message"]
    assert "the 400 samples of `X` hold only 2 distinct rows" in found["message"]


def test_book_hidden_units_all_dead_are_still_warned_with_the_decay_on(tmp_path):
    net = "net = Net([2, 16, 4], weight_decay_lambda=0.2)"
    report = check(planted(tmp_path, "book_dead.py", BOOK, net, f"{net}\nnet.params['b1'] -= 20.0"), training=True)
    assert _overfit(report)
    assert any(f["code"] == "BPD605" for f in report["findings"])  # relu-dead


def test_mlp_inputs_that_tell_nothing_apart_are_still_warned_with_the_decay_on(tmp_path):
    (found,) = _overfit(check(planted(tmp_path, "mlp_alike.py", MLP, PER_FEATURE, PER_SAMPLE), training=True))
    assert "weight decay (`reg`) set to 0" in found["message"]


def test_mlp_inputs_that_tell_nothing_apart_are_still_warned_with_a_penalty_left_on(tmp_path):
    report = check(planted(tmp_path, "mlp_default_alike.py", MLP_DEFAULT, PER_FEATURE, PER_SAMPLE), training=True)
    assert _overfit(report)
    assert _tiny(report)["penalty"] < 0.01 * _tiny(report)["losses"][-1]


def test_without_weight_decay_the_book_twin_is_warned_and_no_decay_is_named(tmp_path):
    alike = planted(tmp_path, "book_alike.py", BOOK, PER_FEATURE, PER_SAMPLE)
    source = alike.read_text(encoding="utf-8").replace("weight_decay_lambda=0.2)", "weight_decay_lambda=0.0)")
    path = write(tmp_path, "book_alike_no_decay.py", source)
    (found,) = _overfit(check(path, training=True))
    assert "weight decay" not in found["message"]
    assert "the 400 samples of `X` hold only 2 distinct rows" in found["message"]


def test_without_weight_decay_the_mlp_is_clean(tmp_path):
    report = check(planted(tmp_path, "mlp_no_decay.py", MLP, "reg = 0.1", "reg = 0.0"), training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
