"""`step-frozen-parameters` (BPD622): a batch norm trained on batches of one sample normalises every
value to zero (`z - z.mean(axis=0)`), so the weights before it and its own scale get a gradient of
exactly zero and never learn, every gradient right. Named at `batch_size = 1`; the same program on
batches of eight is clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(3)
N = 96
X = rng.normal(size=(N, 4))
Y = X[:, :1] - 0.5 * X[:, 1:2] + 0.1 * rng.normal(size=(N, 1))
prm = {"A": rng.normal(0, 0.5, (4, 10)), "scale": np.ones(10), "shift": np.zeros(10),
       "B": rng.normal(0, 0.3, (10, 1)), "c": np.zeros(1)}


def step(prm, xb, yb, eps=1e-5):
    z = xb @ prm["A"]
    mean, var = z.mean(axis=0), z.var(axis=0)
    zn = (z - mean) / np.sqrt(var + eps)
    s = prm["scale"] * zn + prm["shift"]
    h = np.tanh(s)
    out = h @ prm["B"] + prm["c"]
    loss = np.mean((out - yb) ** 2)
    d_out = 2 * (out - yb) / len(xb)
    grads = {"B": h.T @ d_out, "c": d_out.sum(axis=0)}
    d_s = d_out @ prm["B"].T * (1 - h ** 2)
    grads["scale"] = (d_s * zn).sum(axis=0)
    grads["shift"] = d_s.sum(axis=0)
    d_zn = d_s * prm["scale"]
    d_z = (d_zn - d_zn.mean(axis=0) - zn * (d_zn * zn).mean(axis=0)) / np.sqrt(var + eps)
    grads["A"] = xb.T @ d_z
    return loss, grads


batch_size = 8
for epoch in range(20):
    order = rng.permutation(N)
    for start in range(0, N, batch_size):
        rows = order[start:start + batch_size]
        loss, grads = step(prm, X[rows], Y[rows])
        for key in prm:
            prm[key] -= 0.05 * grads[key]
'''


def test_batches_of_one_sample_freeze_everything_before_the_batch_norm(tmp_path):
    path = planted(tmp_path, "bn.py", PROGRAM, "batch_size = 8", "batch_size = 1")
    report = check(path, training=True)
    assert errors(report) == []
    (found,) = [f for f in report["findings"] if f["code"] == "BPD622"]
    assert found["line"] == line_of(path, "batch_size = 1")
    assert "`prm['A']`" in found["message"] and "`prm['scale']`" in found["message"] and "`prm['c']`" not in found["message"]
    assert "batches hold one sample" in found["message"]


def test_batches_of_eight_are_clean(tmp_path):
    report = check(planted(tmp_path, "bn.py", PROGRAM, "batch_size = 8", "batch_size = 8"), training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []


def test_a_part_switched_off_is_no_frozen_parameter(tmp_path):
    """An array of zeros that gets a zero gradient (`prm["peep"]`, a connection a flag leaves off) is
    no parameter that cannot learn: not named."""
    text = PROGRAM.replace('"c": np.zeros(1)}', '"c": np.zeros(1), "peep": np.zeros(10)}').replace(
        '    grads = {"B": h.T @ d_out, "c": d_out.sum(axis=0)}', '    grads = {"B": h.T @ d_out, "c": d_out.sum(axis=0), "peep": np.zeros(10)}'
    )
    assert '"peep": np.zeros(10)}' in text and text.count("peep") == 2
    report = check(planted(tmp_path, "bn.py", text, "batch_size = 8", "batch_size = 8"), training=True)
    assert [f for f in report["findings"] if f["code"] == "BPD622"] == []
