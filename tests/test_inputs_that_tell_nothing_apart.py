"""Inputs standardised over the wrong axis: two features scaled per sample (`X.std(axis=1)`) leave
every row at (1, -1) or (-1, 1), and the network, every gradient right, cannot fit even five samples.
`step-cannot-overfit` (BPD615) says why, at the line that makes the inputs: few distinct rows, the
same inputs with different targets. An output weight kept as a vector (`W2` of 12 entries after `W1`
(2, 12)) is a hidden layer's, so the few samples are tried at all. Standardised per feature, clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(9)
n = 400
angle = rng.uniform(0, 2 * np.pi, n)
ring = np.where(rng.random(n) < 0.5, 1.0, 2.0)
raw = np.c_[ring * np.cos(angle), ring * np.sin(angle)] * 10 + np.array([60.0, -25.0]) + rng.normal(0, 1, (n, 2))
label = (ring < 1.5).astype(float)
X = (raw - raw.mean(axis=0)) / raw.std(axis=0)
W1 = rng.normal(0, 1, (2, 12))
b1 = np.zeros(12)
W2 = rng.normal(0, 0.3, 12)
b2 = 0.0
for epoch in range(600):
    H = np.tanh(X @ W1 + b1)
    p = 1 / (1 + np.exp(-(H @ W2 + b2)))
    loss = -np.mean(label * np.log(p + 1e-12) + (1 - label) * np.log(1 - p + 1e-12))
    g = (p - label) / n
    gW2 = H.T @ g
    gb2 = g.sum()
    gZ = np.outer(g, W2) * (1 - H ** 2)
    gW1 = X.T @ gZ
    gb1 = gZ.sum(axis=0)
    W1 -= 0.5 * gW1
    b1 -= 0.5 * gb1
    W2 -= 0.5 * gW2
    b2 -= 0.5 * gb2
'''

PER_FEATURE = "X = (raw - raw.mean(axis=0)) / raw.std(axis=0)"
PER_SAMPLE = "X = (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True)"


def test_inputs_standardised_per_sample_are_named_where_they_are_made(tmp_path):
    path = planted(tmp_path, "rings.py", SCRIPT, PER_FEATURE, PER_SAMPLE)
    report = check(path, training=True)
    assert errors(report) == []
    (found,) = [f for f in report["findings"] if f["code"] == "BPD615"]
    assert found["line"] == line_of(path, "X = (raw - raw.mean(axis=1")
    assert "the 400 samples of `X` hold only 1 distinct row" in found["message"]
    assert "different `label`" in found["message"]


def test_inputs_standardised_per_feature_are_clean(tmp_path):
    report = check(planted(tmp_path, "rings.py", SCRIPT, PER_FEATURE, PER_FEATURE), training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
