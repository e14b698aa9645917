"""A learning rate kept in a settings dict (`W -= config["lr"] * dW`) is the update's rate, not a
factor of its gradient, and the rate findings name the dict's entry."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = '''\
import numpy as np

settings = {
    "width": 12,
    "lr": 0.05,
    "steps": 300,
}

rng = np.random.RandomState(2)
X = rng.uniform(-1, 1, (120, 3))
y = (np.cos(X[:, :1]) + X[:, 1:2] * X[:, 2:3]).reshape(-1, 1)
W1 = rng.randn(3, settings["width"]) * 0.7
b1 = np.zeros(settings["width"])
W2 = rng.randn(settings["width"], 1) * 0.5
b2 = np.zeros(1)
for step in range(settings["steps"]):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    loss = np.mean((out - y) ** 2)
    g = 2 * (out - y) / len(X)
    dW2 = h.T @ g
    db2 = g.sum(axis=0)
    dh = g @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    W1 -= settings["lr"] * dW1
    b1 -= settings["lr"] * db1
    W2 -= settings["lr"] * dW2
    b2 -= settings["lr"] * db2
'''


def test_a_rate_from_a_settings_dict_is_no_factor_of_the_gradient(tmp_path):
    report = check(write(tmp_path, "train.py", SCRIPT))
    assert not errors(report)
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"W1": False, "b1": False, "W2": False, "b2": False}


def test_a_rate_too_high_in_a_settings_dict_is_named_at_its_entry(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, '"lr": 0.05,', '"lr": 8.0,')
    (finding,) = errors(check(path, training=True))
    assert finding["name"] == "step-rate-too-high"
    assert finding["line"] == line_of(path, '"lr": 8.0,')
    assert finding["fix"].startswith("settings['lr'] = ")
