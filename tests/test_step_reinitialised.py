"""Parameters initialised again at the start of every epoch: every gradient is right, but each epoch
starts over. The report names the statement that rebinds them; an initialisation before the epochs,
or a search that starts a fresh model for each setting it tries, stays clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(5)


def make_params(seed):
    r = np.random.default_rng(seed)
    return r.normal(0, 1.0, (2, 12)), np.zeros(12), r.normal(0, 1.0, 12), 0.0


X = rng.normal(size=(200, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(float)
W1, b1, w2, b2 = make_params(seed=1)
lr = 0.5
for epoch in range(30):
    order = rng.permutation(len(X))
    for start in range(0, 200, 25):
        idx = order[start:start + 25]
        xb, yb = X[idx], y[idx]
        h = np.tanh(xb @ W1 + b1)
        p = 1 / (1 + np.exp(-(h @ w2 + b2)))
        loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
        dz = (p - yb) / len(yb)
        dh = np.outer(dz, w2) * (1 - h ** 2)
        W1 = W1 - lr * xb.T @ dh
        b1 = b1 - lr * dh.sum(axis=0)
        w2 = w2 - lr * h.T @ dz
        b2 = b2 - lr * dz.sum()
    if epoch % 10 == 0:
        print(epoch, loss)
'''

CLASSES = '''\
import numpy as np


class MLP:
    def __init__(self, n_in, n_hidden, n_out, seed=0):
        r = np.random.default_rng(seed)
        self.W1 = r.normal(0, 0.5, (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = r.normal(0, 0.5, (n_hidden, n_out))
        self.b2 = np.zeros(n_out)

    def loss_and_grads(self, X, Y):
        h = np.tanh(X @ self.W1 + self.b1)
        out = h @ self.W2 + self.b2
        err = out - Y
        loss = 0.5 * np.mean(np.sum(err ** 2, axis=1))
        d = err / len(X)
        dh = d @ self.W2.T * (1 - h ** 2)
        return loss, {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ d, "b2": d.sum(axis=0)}


rng = np.random.default_rng(2)
X = rng.normal(size=(160, 3))
Y = np.c_[np.sin(X[:, 0]), X[:, 1] * X[:, 2]]
model = MLP(3, 20, 2)
lr = 0.2
for epoch in range(40):
    for start in range(0, 160, 32):
        loss, grads = model.loss_and_grads(X[start:start + 32], Y[start:start + 32])
        for name, g in grads.items():
            setattr(model, name, getattr(model, name) - lr * g)
    print(f"epoch {epoch}: {loss:.4f}")
'''

SEARCH = CLASSES.replace(
    "model = MLP(3, 20, 2)\nlr = 0.2\nfor epoch in range(40):\n",
    "for hidden in (8, 20):\n    model = MLP(3, hidden, 2)\n    lr = 0.2\n    for epoch in range(40):\n",
).replace(
    "    for start in range(0, 160, 32):\n        loss, grads = model.loss_and_grads(X[start:start + 32], Y[start:start + 32])\n"
    "        for name, g in grads.items():\n            setattr(model, name, getattr(model, name) - lr * g)\n    print(f\"epoch {epoch}: {loss:.4f}\")\n",
    "        for start in range(0, 160, 32):\n            loss, grads = model.loss_and_grads(X[start:start + 32], Y[start:start + 32])\n"
    "            for name, g in grads.items():\n                setattr(model, name, getattr(model, name) - lr * g)\n    print(hidden, loss)\n",
)


def _named(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-reinitialised"]


def test_parameters_made_once_before_the_epochs_are_clean(tmp_path):
    report = check(write(tmp_path, "moons.py", SCRIPT), training=True)
    assert errors(report) == [] and _named(report) == []


def test_parameters_made_again_in_the_epoch_loop_are_named_there(tmp_path):
    path = planted(tmp_path, "moons.py", SCRIPT, "    order = rng.permutation(len(X))\n",
                   "    W1, b1, w2, b2 = make_params(seed=1)\n    order = rng.permutation(len(X))\n")  # fmt: skip
    (finding,) = errors(check(path, training=True))
    assert (finding["name"], finding["line"]) == ("step-reinitialised", line_of(path, "    W1, b1, w2, b2 = make_params(seed=1)"))
    assert "re-initialised at the start of every epoch" in finding["message"] and "same seed" in finding["message"]
    assert line_of(path, "for epoch in range(30):") in finding["highlight"]


def test_a_model_built_once_is_clean(tmp_path):
    report = check(write(tmp_path, "regress.py", CLASSES), training=True)
    assert errors(report) == [] and _named(report) == []


def test_a_model_built_again_every_epoch_is_named_at_its_constructor(tmp_path):
    path = planted(tmp_path, "regress.py", CLASSES, "for epoch in range(40):\n",
                   "for epoch in range(40):\n    model = MLP(3, 20, 2)\n")  # fmt: skip
    (finding,) = errors(check(path, training=True))
    assert (finding["name"], finding["line"]) == ("step-reinitialised", line_of(path, "    model = MLP(3, 20, 2)"))
    assert "`MLP(3, 20, 2)`" in finding["message"]


def test_a_fresh_model_for_each_setting_of_a_search_is_clean(tmp_path):
    assert "for hidden in (8, 20):" in SEARCH and "            setattr" in SEARCH
    report = check(write(tmp_path, "search.py", SEARCH), training=True)
    assert _named(report) == []
