"""Minibatches drawn from inputs shuffled without their targets: every gradient is right for the
data the step is handed, yet each input is trained on another input's label and the loss stays
where it starts. The report names the batch line, the shuffle and the target to shuffle with it."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(200, 4)
y = (X[:, :1] * 2 - X[:, 1:2] > 0).astype(float)
W = np.random.randn(4, 1) * 0.01
b = 0.0
lr = 0.1
for epoch in range(50):
    idx = np.random.permutation(200)
    Xs = X[idx]
    ys = y[idx]
    for k in range(0, 200, 20):
        xb, yb = Xs[k:k + 20], ys[k:k + 20]
        p = 1 / (1 + np.exp(-(xb @ W + b)))
        loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
        dz = (p - yb) / len(xb)
        W -= lr * xb.T @ dz
        b -= lr * dz.sum()
'''


def test_inputs_and_targets_shuffled_together_are_clean(tmp_path):
    report = check(write(tmp_path, "sgd.py", SCRIPT))
    assert errors(report) == []


def test_targets_left_in_order_are_named_at_the_batch(tmp_path):
    path = planted(tmp_path, "sgd.py", SCRIPT, "    ys = y[idx]\n", "    ys = y\n")
    (finding,) = errors(check(path))
    assert (finding["name"], finding["param"], finding["line"]) == ("targets-not-shuffled", "ys", line_of(path, "xb, yb = Xs[k:k + 20]"))
    assert finding["highlight"] == [line_of(path, "Xs = X[idx]"), line_of(path, "xb, yb = Xs[k:k + 20]")]
    assert finding["message"].endswith("shuffle the targets with the inputs (`ys = y[idx]`)")


@pytest.mark.parametrize(
    "shuffle",
    ["    np.random.shuffle(X)\n    Xs = X\n", "    perm = np.random.choice(200, 200, replace=False)\n    Xs = X[perm]\n"],
)
def test_other_ways_to_shuffle_the_inputs_alone_are_found_too(tmp_path, shuffle):
    source = SCRIPT.replace("    idx = np.random.permutation(200)\n    Xs = X[idx]\n    ys = y[idx]\n", shuffle + "    ys = y\n")
    path = write(tmp_path, "sgd.py", source)
    (finding,) = errors(check(path))
    assert (finding["name"], finding["line"]) == ("targets-not-shuffled", line_of(path, "xb, yb = Xs[k:k + 20]"))


def test_targets_made_from_shuffled_labels_are_shuffled_too(tmp_path):
    source = SCRIPT.replace("    ys = y[idx]\n", "    ys = y[idx]\n    Ys = 1 - (1 - ys)\n").replace("ys[k:k + 20]", "Ys[k:k + 20]")
    report = check(write(tmp_path, "sgd.py", source))
    assert [f for f in report["findings"] if f["name"] == "targets-not-shuffled"] == []


@pytest.mark.parametrize("together", ["    Xs, ys = X[idx], y[idx]\n", "    Xs, ys = X[idx], y[idx]\n    order = np.random.permutation(200)\n"])
def test_inputs_and_targets_unpacked_together_are_clean(tmp_path, together):
    source = SCRIPT.replace("    Xs = X[idx]\n    ys = y[idx]\n", together)
    assert errors(check(write(tmp_path, "sgd.py", source))) == []


def test_targets_shuffled_by_a_permutation_of_their_own_are_named_at_it(tmp_path):
    source = SCRIPT.replace("    Xs = X[idx]\n    ys = y[idx]\n", "    Xs, ys = X[idx], y[np.random.permutation(200)]\n")
    path = write(tmp_path, "sgd.py", source)
    (finding,) = errors(check(path))
    assert (finding["name"], finding["param"], finding["line"]) == ("targets-not-shuffled", "ys", line_of(path, "Xs, ys = X[idx]"))
    assert "shuffled by another permutation" in finding["message"] and "`ys = y[np.random.permutation(200)]`" in finding["message"]
    assert finding["message"].endswith("shuffle the targets with the inputs (`ys = y[idx]`)")
