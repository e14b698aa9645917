"""A gradient-norm clip whose threshold is a hundredth of the gradients' norm or less at every replayed pass
(`max_norm = 0.05` where the gradients' norm is about 60) holds each step to a sliver of the gradient: the loss
creeps, or stalls, while the same loop with the threshold lifted falls many times as far. It is named at the
threshold's setting (BPD635, `replay.clip_tight.norm_clip_tight`), with the clip, the gradients' norm, the factor
and what the loss does with a larger threshold. A clip that binds moderately (at 1 or 2 with gradients of 30 to 70,
a factor of 0.015 to 0.06) is deliberate and stays clean. Programs written for these tests, in two styles: a
function-style script with a `clip_by_global_norm` helper, and a class trainer that clips each array by its own norm."""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

GLOBAL_NORM = '''\
import numpy as np

rng = np.random.default_rng(11)
X = rng.normal(size=(200, 5))
w_true = rng.normal(size=(5, 1)) * 4.0
Y = np.tanh(X @ w_true) * 20.0 + X[:, :1] * 6.0


def init(n_in, n_hid, n_out):
    return {
        "W1": rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hid)),
        "b1": np.zeros(n_hid),
        "W2": rng.normal(0, 1 / np.sqrt(n_hid), (n_hid, n_out)),
        "b2": np.zeros(n_out),
    }


def loss_and_grads(params, xb, yb):
    h = np.tanh(xb @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    diff = out - yb
    loss = np.mean(diff ** 2)
    dout = 2 * diff / diff.size
    dh = dout @ params["W2"].T * (1 - h ** 2)
    grads = {"W1": xb.T @ dh, "b1": dh.sum(0), "W2": h.T @ dout, "b2": dout.sum(0)}
    return loss, grads


def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    scale = min(1.0, max_norm / (total + 1e-8))
    return {k: g * scale for k, g in grads.items()}, total


params = init(5, 32, 1)
max_norm = 1.0
lr = 0.05
for step in range(300):
    loss, grads = loss_and_grads(params, X, Y)
    grads, gnorm = clip_by_global_norm(grads, max_norm)
    for k in params:
        params[k] -= lr * grads[k]
    if step % 30 == 0:
        print(step, round(float(loss), 4), round(float(gnorm), 3), round(min(1.0, max_norm / gnorm), 4))
'''

EACH_NORM = '''\
import numpy as np


class TwoLayer:
    def __init__(self, sizes, seed=0):
        r = np.random.RandomState(seed)
        self.params = {
            "A": r.randn(sizes[0], sizes[1]) * 0.5,
            "a": np.zeros((1, sizes[1])),
            "B": r.randn(sizes[1], sizes[2]) * 0.3,
            "b": np.zeros((1, sizes[2])),
        }

    def forward(self, x):
        self.x = x
        self.z = x @ self.params["A"] + self.params["a"]
        self.r = np.maximum(self.z, 0.0)
        return self.r @ self.params["B"] + self.params["b"]

    def backward(self, dy):
        dr = dy @ self.params["B"].T
        dz = dr * (self.z > 0)
        return {"A": self.x.T @ dz, "a": dz.sum(axis=0, keepdims=True), "B": self.r.T @ dy, "b": dy.sum(axis=0, keepdims=True)}


class Trainer:
    def __init__(self, model, lr):
        self.model = model
        self.lr = lr

    def clip_each(self, grads, limit):
        for name in grads:
            n = np.linalg.norm(grads[name])
            if n > limit:
                grads[name] = grads[name] * (limit / n)
        return grads

    def apply(self, grads):
        for name, g in grads.items():
            self.model.params[name] -= self.lr * g


r = np.random.RandomState(3)
inputs = r.uniform(-2, 2, (160, 3))
targets = 15.0 * np.sin(inputs[:, :1] * inputs[:, 1:2]) + 10.0 * inputs[:, 2:3] + 25.0
net = TwoLayer((3, 24, 1))
trainer = Trainer(net, lr=0.02)
CLIP = 2.0
for epoch in range(250):
    pred = net.forward(inputs)
    err = pred - targets
    mse = float(np.mean(err ** 2))
    grads = net.backward(2.0 * err / len(inputs))
    norms = {k: float(np.linalg.norm(g)) for k, g in grads.items()}
    grads = trainer.clip_each(grads, CLIP)
    trainer.apply(grads)
    if epoch % 25 == 0:
        print(epoch, round(mse, 3), {k: round(min(1, CLIP / v), 4) for k, v in norms.items()})
'''


def _flagged(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def _tight(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-clip-too-tight"]


def test_a_global_norm_clip_a_hundred_times_below_the_gradients_is_named_at_its_threshold(tmp_path):
    clean = check(write(tmp_path, "fit.py", GLOBAL_NORM), training=True)
    assert _flagged(clean) == []  # clipped at 1 with gradients of about 66: a factor of 0.015, deliberate
    bug = planted(tmp_path, "fit_bug.py", GLOBAL_NORM, "max_norm = 1.0", "max_norm = 0.05")
    (found,) = _tight(check(bug, training=True))
    assert found["severity"] == "warning"
    assert found["line"] == line_of(bug, "max_norm = 0.05")
    message = found["message"]
    assert f"line {line_of(bug, 'grads, gnorm = clip_by_global_norm(grads, max_norm)')}" in message
    assert "`max_norm = 0.05`" in message and "norm is about 66" in message and "0.00075 of the gradient" in message
    assert "with `max_norm = " in message and found["fix"].startswith("max_norm = ")


def test_each_array_clipped_by_its_own_norm_in_a_trainer_method_is_named_at_its_threshold(tmp_path):
    clean = check(write(tmp_path, "trainer.py", EACH_NORM), training=True)
    assert _flagged(clean) == []  # clipped at 2 with gradients of 30 to 90: factors of 0.02 to 0.06, deliberate
    bug = planted(tmp_path, "trainer_bug.py", EACH_NORM, "CLIP = 2.0", "CLIP = 0.005")
    (found,) = _tight(check(bug, training=True))
    assert found["severity"] == "warning"
    assert found["line"] == line_of(bug, "CLIP = 0.005")
    message = found["message"]
    assert f"line {line_of(bug, 'grads = trainer.clip_each(grads, CLIP)')}" in message
    assert "each array's gradient to norm 0.005" in message and "or more" in message
    assert "with `CLIP = " in message and found["fix"].startswith("CLIP = ")
