"""Training loops wrapped in `tqdm` run when `tqdm` is missing (a stand-in hands back the iterable),
so the network they train is observed and its step replayed; and a network built at a large initial
scale, whose loss (with the usual `log(y + 1e-7)`) parts from its gradient where the softmax
saturates, is not called wrong when the training step shows its updates follow the loss."""

from __future__ import annotations

import importlib.util

from tests.userfiles import check, errors, line_of, planted, replayed, write

HAS_TQDM = importlib.util.find_spec("tqdm") is not None

PROGRAM = '''\
import numpy as np
from tqdm import tqdm


def softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    def __init__(self, n_in, n_hidden, n_out, scale=0.01):
        rng = np.random.default_rng(7)
        self.params = {"W1": scale * rng.normal(size=(n_in, n_hidden)), "b1": np.zeros(n_hidden),
                       "W2": scale * rng.normal(size=(n_hidden, n_out)), "b2": np.zeros(n_out)}

    def predict(self, x):
        h = 1 / (1 + np.exp(-(x @ self.params["W1"] + self.params["b1"])))
        return softmax(h @ self.params["W2"] + self.params["b2"])

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / len(x)

    def gradient(self, x, t):
        a = x @ self.params["W1"] + self.params["b1"]
        h = 1 / (1 + np.exp(-a))
        y = softmax(h @ self.params["W2"] + self.params["b2"])
        dy = (y - t) / len(x)
        dh = dy @ self.params["W2"].T * h * (1 - h)
        return {"W2": h.T @ dy, "b2": dy.sum(axis=0), "W1": x.T @ dh, "b1": dh.sum(axis=0)}


rng = np.random.default_rng(0)
x_train = rng.random((200, 64))
t_train = np.eye(10)[rng.integers(0, 10, 200)]
for scale in tqdm([2.0]):
    net = Classifier(64, 30, 10, scale=scale)
    for i in tqdm(range(100)):
        mask = np.random.choice(200, 50)
        grads = net.gradient(x_train[mask], t_train[mask])
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grads[key]
        loss = net.loss(x_train[mask], t_train[mask])
'''


def test_a_loop_wrapped_in_tqdm_is_replayed(tmp_path):
    report = check(write(tmp_path, "train.py", PROGRAM))
    assert errors(report) == []
    assert len(replayed(report)["parameters"]) == 4
    if not HAS_TQDM:
        (note,) = [f for f in report["findings"] if f["name"] == "missing-module"]
        assert "`tqdm`, `trange`" in note["message"]


def test_a_saturated_networks_mismatches_become_one_info(tmp_path):
    report = check(write(tmp_path, "train.py", PROGRAM))
    (note,) = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    assert (note["severity"], note["pattern"]) == ("info", "saturated-loss")
    assert "with the classes it predicts as targets every gradient agrees" in note["message"]
    assert errors(report) == []  # nor is the training step, whose loss saturates the same way


def test_the_same_network_at_a_small_scale_has_nothing_to_say(tmp_path):
    report = check(write(tmp_path, "train.py", PROGRAM.replace("tqdm([2.0])", "tqdm([0.1])")))
    assert [f for f in report["findings"] if f["name"] == "gradient-mismatch"] == [] and errors(report) == []


def test_a_wrong_gradient_under_tqdm_is_still_found(tmp_path):
    path = planted(tmp_path, "train.py", PROGRAM, "dy @ self.params[\"W2\"].T * h * (1 - h)", "dy @ self.params[\"W2\"].T * h")
    found = errors(check(path))
    assert found and {f["line"] for f in found} & {line_of(path, "dh = dy @"), line_of(path, '"W1": x.T @ dh')}


def test_a_saturated_network_that_normalises_its_batch_is_asked_in_training_mode(tmp_path):
    """Its predictions at inference (running statistics, here the untrained 0 and 1) are not those
    its gradient is taken at: the targets it is checked again with come from `predict(x,
    train_flg=True)`, so its saturation is told from a wrong gradient."""
    program = (
        PROGRAM.replace("    def predict(self, x):\n        h = 1 / (1 + np.exp(-(x @ self.params[\"W1\"] + self.params[\"b1\"])))\n",
                        "    def predict(self, x, train_flg=False):\n        h = 1 / (1 + np.exp(-(x @ self.params[\"W1\"] + self.params[\"b1\"])))\n"
                        "        h = (h - h.mean(axis=0)) if train_flg else (h - 0.5)\n")
        .replace("    def loss(self, x, t):\n        y = self.predict(x)\n", "    def loss(self, x, t, train_flg=False):\n        y = self.predict(x, train_flg)\n")
        .replace("        h = 1 / (1 + np.exp(-a))\n        y = softmax", "        h = 1 / (1 + np.exp(-a))\n        h = h - h.mean(axis=0)\n        y = softmax")
        .replace("dh = dy @ self.params[\"W2\"].T * h * (1 - h)", "dc = dy @ self.params[\"W2\"].T\n        s = 1 / (1 + np.exp(-a))\n        dh = (dc - dc.mean(axis=0)) * s * (1 - s)")
        .replace("net.loss(x_train[mask], t_train[mask])", "net.loss(x_train[mask], t_train[mask], train_flg=True)")
        .replace("tqdm([2.0])", "tqdm([6.0])")
    )
    assert "train_flg=False" in program and "h - h.mean(axis=0)" in program
    report = check(write(tmp_path, "train.py", program))
    notes = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    assert errors(report) == [], errors(report)
    assert all(f["pattern"] == "saturated-loss" for f in notes)
