"""A mini-batch loop that cuts the same batch at every pass (`xb = X[:bs]` inside
`for i in range(0, len(X), bs):`): every update sees the first few samples only. Its gradients are
right, so only this warning names it, at the cut. A batch cut at the loop's variable, from a shuffled
order, or a slice the whole data set fits in stay quiet.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

# Data stored class by class, a linear model with a softmax output, batches by position.
ORDERED = '''\
import numpy as np

gen = np.random.default_rng(30)
A = gen.normal(size=(90, 2)) + [2.0, 0.0]
B = gen.normal(size=(90, 2)) + [-2.0, 0.0]
C = gen.normal(size=(90, 2)) + [0.0, 2.5]
data = np.vstack([A, B, C])
labels = np.repeat(np.arange(3), 90)
W = np.zeros((2, 3))
c = np.zeros(3)
size = 30
for sweep in range(40):
    for start in range(0, len(data), size):
        chunk, tags = data[start:start + size], labels[start:start + size]
        scores = chunk @ W + c
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        ce = -np.log(probs[np.arange(len(tags)), tags]).mean()
        g = probs.copy()
        g[np.arange(len(tags)), tags] -= 1
        g /= len(tags)
        W -= 0.3 * (chunk.T @ g)
        c -= 0.3 * g.sum(axis=0)
    print(sweep, ce)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-same-batch"]


def test_the_same_batch_at_every_pass_is_a_warning_at_the_cut(tmp_path):
    path = planted(
        tmp_path, "first_only.py", ORDERED,
        "chunk, tags = data[start:start + size], labels[start:start + size]",
        "chunk, tags = data[:size], labels[:size]",
    )  # fmt: skip
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"]) == ("BPD619", "warning")
    assert finding["line"] == line_of(path, "chunk, tags = data[:size]")
    assert "30 of the 270 samples of `data`" in finding["message"]
    assert "`data[start:start + size]`" in finding["message"]
    assert errors(report) == []


def test_a_batch_cut_at_the_loop_s_variable_or_the_whole_data_is_quiet(tmp_path):
    report = check(write(tmp_path, "ordered.py", ORDERED), training=True)
    assert replayed(report)["parameters"] and _ours(report) == []
    whole = planted(
        tmp_path, "whole.py", ORDERED,
        "chunk, tags = data[start:start + size], labels[start:start + size]",
        "chunk, tags = data[:len(data)], labels[:len(data)]",
    )  # fmt: skip
    assert _ours(check(whole, training=True)) == []


def test_a_batch_from_a_shuffled_order_the_epoch_draws_is_quiet(tmp_path):
    shuffled = ORDERED.replace("    for start in range(0, len(data), size):", "    order = gen.permutation(len(data))\n    for start in range(0, len(data), size):").replace(
        "chunk, tags = data[start:start + size], labels[start:start + size]", "rows = order[start:start + size]\n        chunk, tags = data[rows], labels[rows]"
    )
    report = check(write(tmp_path, "shuffled.py", shuffled), training=True)
    assert replayed(report)["parameters"] and _ours(report) == []
