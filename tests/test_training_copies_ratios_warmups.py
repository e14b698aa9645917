"""Training-procedure bugs whose gradients are all right: an update that moves a copy of some parameters
while the others train (the loss still moves, so the whole-step `update-lost` never fires), a learning
rate computed by dividing by a batch ratio the linear scaling rule multiplies by (a mini-batch loss that
only scatters around where it starts), and a warm-up that never reaches its target rate within the
loop (an epoch counter read where the warm-up counts steps, or a length longer than the run). Each is
named at its line; the correct twins are clean."""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

COPY_LAYERS = '''\
import numpy as np

rng = np.random.default_rng(3)


class Dense:
    def __init__(self, n_in, n_out):
        self.W = rng.normal(0, n_in ** -0.5, (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.gW = self.x.T @ g
        self.gb = g.sum(axis=0)
        return g @ self.W.T


def apply_sgd(layers, rate):
    for layer in layers:
        layer.W -= rate * layer.gW
        layer.b -= rate * layer.gb


X = rng.normal(size=(128, 3))
Y = np.stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])], axis=1)
first, second = Dense(3, 16), Dense(16, 2)
for epoch in range(150):
    h = first.forward(X)
    a = np.tanh(h)
    out = second.forward(a)
    err = out - Y
    loss = 0.5 * np.mean(np.sum(err ** 2, axis=1))
    g = second.backward(err / len(X))
    first.backward(g * (1 - a ** 2))
    apply_sgd([first, second], 0.2)
    if epoch % 50 == 0:
        print(epoch, loss)
print(loss)
'''

COPY_DICT = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(200, 4))
labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
T = np.eye(2)[labels]
params = {"W1": rng.normal(size=(4, 12)) * 0.5, "b1": np.zeros(12), "W2": rng.normal(size=(12, 2)) * 0.5, "b2": np.zeros(2)}
lr = 0.5
for it in range(200):
    batch = rng.choice(200, 32, replace=False)
    x, t = X[batch], T[batch]
    z = x @ params["W1"] + params["b1"]
    h = np.maximum(z, 0)
    s = h @ params["W2"] + params["b2"]
    e = np.exp(s - s.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(t * np.log(p), axis=1))
    ds = (p - t) / len(x)
    dh = ds @ params["W2"].T * (z > 0)
    grads = {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}
    for name in ("W1", "W2"):
        params[name] -= lr * grads[name]
    for name in ("b1", "b2"):
        params[name] -= lr * grads[name]
print(loss)
'''

RATIO_FN = '''\
import numpy as np

REF_LR = 0.02
REF_BATCH = 8
BATCH = 256


def forward_backward(params, x, t):
    W, b, V, c = params
    a = np.tanh(x @ W + b)
    q = 1.0 / (1.0 + np.exp(-(a @ V + c)))
    loss = -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))
    dq = (q - t) / len(t)
    da = dq @ V.T * (1 - a ** 2)
    return loss, [x.T @ da, da.sum(0), a.T @ dq, dq.sum(0)]


def train(seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(1000, 3))
    T = (np.abs(X[:, :1]) + 0.5 * X[:, 1:2] > 0.8).astype(float)
    params = [rng.normal(size=(3, 16)) * 0.5, np.zeros(16), rng.normal(size=(16, 1)) * 0.3, np.zeros(1)]
    step_size = REF_LR * (BATCH / REF_BATCH)
    for it in range(200):
        pick = rng.integers(0, len(X), BATCH)
        loss, grads = forward_backward(params, X[pick], T[pick])
        for p, g in zip(params, grads):
            p -= step_size * g
    return loss


if __name__ == "__main__":
    print(train())
'''

RATIO_MOD = '''\
import numpy as np

rng = np.random.default_rng(11)
centers = rng.normal(size=(3, 4)) * 2.0
cls = rng.integers(0, 3, 900)
X = centers[cls] + rng.normal(size=(900, 4))
onehot = np.eye(3)[cls]

base_lr = 0.01
ref_batch = 2
batch_size = 256
batch_ratio = batch_size / ref_batch
lr = base_lr * batch_ratio

W = rng.normal(size=(4, 3)) * 0.01
b = np.zeros(3)
for step in range(120):
    rows = rng.integers(0, 900, batch_size)
    xb, tb = X[rows], onehot[rows]
    logits = xb @ W + b
    logits -= logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    prob /= prob.sum(axis=1, keepdims=True)
    loss = -np.sum(tb * np.log(prob)) / batch_size
    dlogits = (prob - tb) / batch_size
    W -= lr * (xb.T @ dlogits)
    b -= lr * dlogits.sum(axis=0)
print(loss)
'''

WARM_EPOCHS = '''\
import numpy as np

rng = np.random.default_rng(21)
X = rng.uniform(-2, 2, size=(480, 2))
Y = np.sin(X[:, :1]) * np.cos(X[:, 1:])
P = {"A": rng.normal(size=(2, 20)) * 0.7, "a": np.zeros(20), "B": rng.normal(size=(20, 1)) * 0.1, "c": np.zeros(1)}
peak_lr = 0.2
batch = 32
n_batches = len(X) // batch
warmup = 2 * n_batches
count = 0
for epoch in range(15):
    order = rng.permutation(len(X))
    for k in range(n_batches):
        sel = order[k * batch:(k + 1) * batch]
        x, y = X[sel], Y[sel]
        lr = peak_lr * min(1.0, (count + 1) / warmup)
        hid = np.tanh(x @ P["A"] + P["a"])
        out = hid @ P["B"] + P["c"]
        loss = np.mean((out - y) ** 2)
        dout = 2 * (out - y) / len(y)
        dhid = dout @ P["B"].T * (1 - hid ** 2)
        G = {"A": x.T @ dhid, "a": dhid.sum(0), "B": hid.T @ dout, "c": dout.sum(0)}
        for key in P:
            P[key] -= lr * G[key]
        count += 1
    print(epoch, lr, loss)
'''

WARM_ITERS = '''\
import numpy as np


def make_data(rng):
    X = rng.normal(size=(256, 6))
    t = (X @ rng.normal(size=6) > 0).astype(float)
    return X, t


def train(iterations=150, warmup_iters=15, target_lr=0.5):
    rng = np.random.default_rng(4)
    X, t = make_data(rng)
    w = rng.normal(size=6) * 0.01
    b = 0.0
    for it in range(iterations):
        lr = target_lr * min((it + 1) / warmup_iters, 1)
        z = X @ w + b
        p = 1 / (1 + np.exp(-z))
        loss = -np.mean(t * np.log(p + 1e-9) + (1 - t) * np.log(1 - p + 1e-9))
        g = (p - t) / len(t)
        w -= lr * (X.T @ g)
        b -= lr * g.sum()
    return loss


print(train())
'''


TWINS = {
    "copy_layers.py": COPY_LAYERS,
    "copy_dict.py": COPY_DICT,
    "ratio_fn.py": RATIO_FN,
    "ratio_mod.py": RATIO_MOD,
    "warm_epochs.py": WARM_EPOCHS,
    "warm_iters.py": WARM_ITERS,
}


def flagged(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def named(report: dict, rule: str) -> dict:
    (found,) = [f for f in report["findings"] if f["name"] == rule]
    return found


@pytest.mark.parametrize("name", sorted(TWINS))
def test_the_correct_twins_are_clean(tmp_path, name):
    report = check(write(tmp_path, name, TWINS[name]), training=True)
    assert flagged(report) == [], [f["message"] for f in flagged(report)]


def test_a_layer_weight_copied_before_its_update_is_named_while_the_biases_train(tmp_path):
    path = planted(tmp_path, "copy_layers.py", COPY_LAYERS, "        layer.W -= rate * layer.gW\n",
                   "        W = np.copy(layer.W)\n        W -= rate * layer.gW\n")  # fmt: skip
    found = named(check(path, training=True), "step-update-lost")
    assert found["severity"] == "error" and found["line"] == line_of(path, "W = np.copy(layer.W)")
    assert f"the update (line {line_of(path, 'W -= rate')}) moves `W`, a copy of `layer.W`" in found["message"]
    assert "only `first.b`, `second.b` train" in found["message"]
    assert found["fix"] == "layer.W -= rate * layer.gW"


def test_a_dict_entry_copied_before_its_update_is_named_in_a_module_loop(tmp_path):
    path = planted(tmp_path, "copy_dict.py", COPY_DICT, "        params[name] -= lr * grads[name]\n",
                   "        weights = params[name].copy()\n        weights -= lr * grads[name]\n")  # fmt: skip
    found = named(check(path, training=True), "step-update-lost")
    assert found["line"] == line_of(path, "weights = params[name].copy()")
    assert "a copy of `params[name]`" in found["message"] and found["fix"] == "params[name] -= lr * grads[name]"


def test_a_rate_divided_by_the_batch_ratio_in_a_function_is_named_with_the_product(tmp_path):
    path = planted(tmp_path, "ratio_fn.py", RATIO_FN, "step_size = REF_LR * (BATCH / REF_BATCH)", "step_size = REF_LR / (BATCH / REF_BATCH)")
    found = named(check(path, training=True), "step-rate-too-low")
    assert found["line"] == line_of(path, "step_size = REF_LR /")
    assert "its batches' noise aside" in found["message"] and "it divides by `(BATCH / REF_BATCH)` (32)" in found["message"]
    assert found["fix"] == "step_size = REF_LR * (BATCH / REF_BATCH)"


def test_a_rate_divided_by_a_named_ratio_at_module_level_is_named(tmp_path):
    path = planted(tmp_path, "ratio_mod.py", RATIO_MOD, "lr = base_lr * batch_ratio", "lr = base_lr / batch_ratio")
    found = named(check(path, training=True), "step-rate-too-low")
    assert found["line"] == line_of(path, "lr = base_lr /")
    assert found["fix"] == "lr = base_lr * batch_ratio" and "(128)" in found["message"]


def test_a_warmup_read_from_the_epoch_counter_is_named_with_the_step_counter(tmp_path):
    path = planted(tmp_path, "warm_epochs.py", WARM_EPOCHS, "(count + 1) / warmup)", "(epoch + 1) / warmup)")
    found = named(check(path, training=True), "step-warmup-unfinished")
    assert found["code"] == "BPD641" and found["severity"] == "warning"
    assert found["line"] == line_of(path, "lr = peak_lr * min(")
    assert "climbs only to 0.5" in found["message"] and "`warmup` = 30 is more than the 15 passes" in found["message"]
    assert found["fix"] == "lr = peak_lr * min(1.0, (count + 1) / warmup)"


def test_a_warmup_longer_than_the_loop_is_named(tmp_path):
    path = planted(tmp_path, "warm_iters.py", WARM_ITERS, "warmup_iters=15,", "warmup_iters=1500,")
    found = named(check(path, training=True), "step-warmup-unfinished")
    assert found["line"] == line_of(path, "lr = target_lr * min(")
    assert "climbs only to 0.1" in found["message"] and found["fix"] is None
