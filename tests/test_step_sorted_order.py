"""A training loop that walks data sorted by label in its stored order (one sample, or one slice of a
batch, at a time) in a file that shuffles nothing: every update of a run pulls towards one class. The
gradients are right; a warning at the loop names the sorted labels. A shuffled order, labels that are
not sorted, and a full-batch step stay quiet.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, replayed, write

# A perceptron-like logistic unit trained one sample at a time over two blocks of points.
ONLINE = '''\
import numpy as np

gen = np.random.default_rng(40)
first = gen.normal(size=(60, 2)) + [1.5, 1.5]
second = gen.normal(size=(60, 2)) - [1.5, 1.5]
points = np.concatenate([first, second])
tags = np.concatenate([np.ones(60), np.zeros(60)])
w = np.zeros(2)
b = 0.0
for sweep in range(15):
    for j in range(len(points)):
        q = 1 / (1 + np.exp(-(points[j] @ w + b)))
        nll = -(tags[j] * np.log(q) + (1 - tags[j]) * np.log(1 - q))
        w -= 0.5 * (q - tags[j]) * points[j]
        b -= 0.5 * (q - tags[j])
print(nll)
'''

# Mini-batches cut by position out of one-hot targets stored class by class.
BATCHES = '''\
import numpy as np

gen = np.random.default_rng(41)
inputs = np.vstack([gen.normal(size=(50, 3)) + shift for shift in ([2, 0, 0], [0, 2, 0], [0, 0, 2])])
onehot = np.repeat(np.eye(3), 50, axis=0)
W = np.zeros((3, 3))
for epoch in range(20):
    for s in range(0, len(inputs), 25):
        xb, tb = inputs[s:s + 25], onehot[s:s + 25]
        z = xb @ W
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(tb * np.log(p), axis=1))
        W -= 0.2 * xb.T @ (p - tb) / len(xb)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-sorted-order"]


def test_one_sample_at_a_time_over_sorted_labels_is_a_warning_at_the_loop(tmp_path):
    path = write(tmp_path, "online.py", ONLINE)
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"]) == ("BPD620", "warning")
    assert finding["line"] == line_of(path, "for j in range(len(points)):")
    assert "`tags` is sorted by label: 2 runs" in finding["message"] and "120 samples" in finding["message"]
    assert errors(report) == []


def test_batches_cut_by_position_out_of_sorted_one_hot_targets_are_named_too(tmp_path):
    (finding,) = _ours(check(write(tmp_path, "batches.py", BATCHES), training=True))
    assert "`onehot` is sorted by label: 3 runs" in finding["message"]


def test_a_shuffled_order_mixed_labels_or_one_full_batch_stay_quiet(tmp_path):
    shuffled = ONLINE.replace("    for j in range(len(points)):", "    for j in gen.permutation(len(points)):")
    mixed = ONLINE.replace("tags = np.concatenate([np.ones(60), np.zeros(60)])", "tags = np.tile([1.0, 0.0], 60)")
    full = BATCHES.replace("range(0, len(inputs), 25)", "range(0, len(inputs), 150)").replace("s:s + 25", "s:s + 150")
    for name, text in (("shuffled.py", shuffled), ("mixed.py", mixed)):
        report = check(write(tmp_path, name, text), training=True)
        assert replayed(report)["parameters"] and _ours(report) == [], name
    # one batch of all 150 samples: the order cannot matter
    assert _ours(check(write(tmp_path, "full.py", full), training=True)) == []
