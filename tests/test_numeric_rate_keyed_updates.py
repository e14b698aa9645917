"""A parameter dict under any name updated key by key with the learning rate written as a number
(`for k in P: P[k] -= 0.05 * g[k]`) is a training step: the file used to be "nothing to check"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = """\
import numpy as np

np.random.seed(0)
X = np.random.randn(120, 5)
Y = (X[:, :1] - X[:, 1:2]) ** 2 * 0.1
P = {"W1": np.random.randn(5, 16) * 0.3, "b1": np.zeros(16), "W2": np.random.randn(16, 1) * 0.3, "b2": np.zeros(1)}
for step in range(200):
    h = np.tanh(X @ P["W1"] + P["b1"])
    out = h @ P["W2"] + P["b2"]
    loss = np.mean((out - Y) ** 2)
    d = 2 * (out - Y) / len(X)
    g = {"W2": h.T @ d, "b2": d.sum(0)}
    dh = d @ P["W2"].T * (1 - h ** 2)
    g["W1"] = X.T @ dh
    g["b1"] = dh.sum(0)
    for k in P:
        P[k] -= 0.05 * g[k]
"""


def test_the_correct_script_is_replayed_and_passes(tmp_path):
    report = check(write(tmp_path, "dict_p.py", SCRIPT))
    assert not [f for f in report["findings"] if f["code"] == "BPD007"]
    assert replayed(report)["loss"] == "loss"
    assert errors(report) == []


def test_an_update_that_climbs_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "dict_p_up.py", SCRIPT, "P[k] -= 0.05 * g[k]", "P[k] += 0.05 * g[k]")
    report = check(path)
    assert [f["line"] for f in errors(report) if f["code"] == "BPD108"][:1] == [line_of(path, "P[k] += 0.05 * g[k]")]
