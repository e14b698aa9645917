"""An embedding's gradient added with an indexed `+=` (`dE[ids] += dvec`) loses the repeats of an
id: NumPy adds once per distinct index. The update `E -= lr * dE` is found by its `d` prefix, and
the wrong gradient is named with `np.add.at` as the fix."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = '''\
import numpy as np

rng = np.random.RandomState(11)
vocab, width, length = 20, 5, 4
ids = rng.randint(0, vocab, size=(120, length))
ids[:, 2] = ids[:, 0]  # every sentence says its first word twice
targets = (ids[:, :1] < vocab // 2).astype(float)
table = rng.randn(vocab, width) * 0.1
w = rng.randn(width, 1) * 0.1
lr = 1.0
for epoch in range(300):
    rows = table[ids]
    pooled = rows.sum(axis=1)
    out = 1 / (1 + np.exp(-(pooled @ w)))
    loss = -np.mean(targets * np.log(out) + (1 - targets) * np.log(1 - out))
    dz = (out - targets) / len(ids)
    dw = pooled.T @ dz
    dpooled = dz @ w.T
    drows = np.repeat(dpooled[:, None, :], length, axis=1)
    dtable = np.zeros_like(table)
    np.add.at(dtable, ids, drows)
    table -= lr * dtable
    w -= lr * dw
'''


def test_an_embedding_updated_by_its_d_named_gradient_is_checked(tmp_path):
    report = check(write(tmp_path, "train.py", SCRIPT))
    assert not errors(report)
    assert {p["name"] for p in replayed(report)["parameters"]} == {"table", "w"}


def test_an_indexed_add_that_drops_repeated_ids_is_named_with_add_at(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "np.add.at(dtable, ids, drows)", "dtable[ids] += drows")
    (finding,) = errors(check(path))
    assert finding["param"] == "table" and finding["pattern"] == "repeated-index-add"
    assert finding["line"] == line_of(path, "dtable[ids] += drows")
    assert "np.add.at(dtable, ids, drows)" in finding["message"]
