"""momentum-never-decays: a momentum optimizer that adds each step to its velocity without multiplying
the old velocity by its coefficient (`v = v - lr * g` for `v = mu * v - lr * g`). Given one constant
gradient four times its moves grow 1, 2, 3, 4 times the first (momentum's level off: 1, 1 + mu, ...);
the statement that updates the velocity is named, an error, and the loop's `cannot fit` is not said.

Three styles: an optimizer class stepping a dict of parameters (`step(params, grads)`), one handed
a list of parameters when made (`MomentumSGD(params).step(grads)`, a velocity decayed in place in the
twin), and cs231n's `sgd_momentum(w, dw, config)` function. Their twins decay the velocity and are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

# an optimizer class over a dict of parameters, a softmax classifier with one hidden layer
DICT_CLASS = '''\
import numpy as np


class HeavyBall:
    def __init__(self, learning_rate=0.05, momentum=0.8):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity = {}

    def step(self, params, grads):
        for name, value in params.items():
            if name not in self.velocity:
                self.velocity[name] = np.zeros_like(value)
            vel = self.velocity
            vel[name] = self.momentum * vel[name] + self.learning_rate * grads[name]
            value -= vel[name]


def forward_backward(params, X, onehot):
    z = X @ params["W1"] + params["c1"]
    h = np.maximum(z, 0)
    s = h @ params["W2"] + params["c2"]
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(onehot * np.log(p), axis=1))
    ds = (p - onehot) / X.shape[0]
    dh = ds @ params["W2"].T
    dz = dh * (z > 0)
    return loss, {"W1": X.T @ dz, "c1": dz.sum(axis=0), "W2": h.T @ ds, "c2": ds.sum(axis=0)}


gen = np.random.default_rng(21)
X = gen.normal(size=(180, 5))
cls = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5).astype(int)
onehot = np.eye(3)[cls]
params = {"W1": gen.normal(size=(5, 20)) * 0.4, "c1": np.zeros(20), "W2": gen.normal(size=(20, 3)) * 0.2, "c2": np.zeros(3)}
opt = HeavyBall(learning_rate=0.05, momentum=0.8)
for it in range(200):
    loss, grads = forward_backward(params, X, onehot)
    opt.step(params, grads)
    if it % 40 == 0:
        print(it, round(loss, 4))
'''
DICT_CLASS_WRONG = ("vel[name] = self.momentum * vel[name] + self.learning_rate * grads[name]",
                    "vel[name] = vel[name] + self.learning_rate * grads[name]")

# an optimizer handed the parameter list when made; the twin decays its velocity in place
HELD = '''\
import numpy as np


class MomentumSGD:
    def __init__(self, params, lr=0.03, mu=0.9):
        self.params = params
        self.lr = lr
        self.mu = mu
        self.buf = [np.zeros_like(p) for p in params]

    def step(self, grads):
        for p, g, b in zip(self.params, grads, self.buf):
            b *= self.mu
            b -= self.lr * g
            p += b


rs = np.random.default_rng(8)
X = rs.uniform(-1, 1, size=(160, 3))
t = (np.tanh(X @ np.array([1.5, -2.0, 0.7])) + 0.3 * X[:, 1] * X[:, 2])[:, None]
A = rs.normal(size=(3, 10)) * 0.5
a = np.zeros(10)
B = rs.normal(size=(10, 1)) * 0.3
bb = np.zeros(1)
opt = MomentumSGD([A, a, B, bb], lr=0.03, mu=0.9)
for epoch in range(300):
    u = np.tanh(X @ A + a)
    out = u @ B + bb
    err = out - t
    loss = 0.5 * np.mean(err ** 2)
    d = err / len(X)
    du = d @ B.T * (1 - u ** 2)
    opt.step([X.T @ du, du.sum(axis=0), u.T @ d, d.sum(axis=0)])
    if epoch % 60 == 0:
        print(epoch, loss)
'''
HELD_WRONG = ("            b *= self.mu\n", "")

# cs231n's optimizer function, its config handed back at each call
CONFIG = '''\
import numpy as np


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 0.05)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


rng = np.random.default_rng(2)
X = rng.normal(size=(140, 4))
y = (X[:, 0] * X[:, 1] - X[:, 2] > 0).astype(float)[:, None]
model = {"W": rng.normal(size=(4, 12)) * 0.5, "b": np.zeros(12), "V": rng.normal(size=(12, 1)) * 0.3, "c": np.zeros(1)}
configs = {k: {"learning_rate": 0.05, "momentum": 0.9} for k in model}
for i in range(250):
    h = np.tanh(X @ model["W"] + model["b"])
    q = 1 / (1 + np.exp(-(h @ model["V"] + model["c"])))
    loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    dq = (q - y) / len(X)
    dh = dq @ model["V"].T * (1 - h ** 2)
    grads = {"W": X.T @ dh, "b": dh.sum(axis=0), "V": h.T @ dq, "c": dq.sum(axis=0)}
    for k in model:
        model[k], configs[k] = sgd_momentum(model[k], grads[k], configs[k])
    if i % 50 == 0:
        print(i, loss)
'''
CONFIG_WRONG = ('v = config["momentum"] * v - config["learning_rate"] * dw', 'v = v - config["learning_rate"] * dw')

STYLES = [(DICT_CLASS, DICT_CLASS_WRONG, "vel[name] = vel[name]", "HeavyBall"),
          (HELD, HELD_WRONG, "b -= self.lr * g", "MomentumSGD"),
          (CONFIG, CONFIG_WRONG, "v = v - config", "sgd_momentum")]  # fmt: skip


def _named(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "momentum-never-decays"]


@pytest.mark.parametrize("text, swap, at, owner", STYLES, ids=["dict-class", "held-params", "cs231n-config"])
def test_a_velocity_never_decayed_is_named_at_its_update(tmp_path, text, swap, at, owner):
    path = planted(tmp_path, "train.py", text, *swap)
    report = check(path, training=True)
    (finding,) = _named(report)
    assert finding["severity"] == "error" and finding["layer"] == owner
    assert finding["line"] == line_of(path, at), finding
    assert "1, 2, 3, 4" in finding["message"] and "never decays" in finding["message"]
    assert not [f for f in report["findings"] if f["name"] in ("momentum-not-kept", "step-cannot-overfit")], report["findings"]


def test_the_fix_names_the_coefficient(tmp_path):
    path = planted(tmp_path, "train.py", DICT_CLASS, *DICT_CLASS_WRONG)
    (finding,) = _named(check(path, training=True))
    assert finding["fix"] == "vel[name] = self.momentum * vel[name] + self.learning_rate * grads[name]"
    assert "`self.momentum`" in finding["message"]


@pytest.mark.parametrize("text", [DICT_CLASS, HELD, CONFIG], ids=["dict-class", "held-params", "cs231n-config"])
def test_a_decayed_velocity_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert _named(report) == [] and errors(report) == [], [(f["name"], f["line"], f["message"][:120]) for f in report["findings"]]
