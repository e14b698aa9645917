"""A parameter whose name looks like a loss (an embedding table `E`, a lookup table `L`) is updated by
the training step (`E -= lr * gE`), so it is no loss: the step of a mini-batch loop that computes
no loss of its own is replayed against the loss the epoch loop prints, never against `E`. The bag of
words below is right and clean; its gradient written with an indexed `+=` over a batch of documents
that repeat a word (`gE[batch] += g_rows`, the batch handed over as `docs[pick]`) is named at that
line with `np.add.at` as the fix."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

BAG_OF_WORDS = """\
import numpy as np

rs = np.random.RandomState(3)
n_words, dim, width = 16, 6, 5
docs = rs.randint(0, n_words, size=(240, width))
docs[:, 3] = docs[:, 1]  # every document says one word twice
labels = (docs[:, 1] % 2).astype(float)

E = rs.normal(0.0, 0.2, size=(n_words, dim))
v = rs.normal(0.0, 0.2, size=dim)
c = 0.0


def scores(batch):
    pooled = E[batch].mean(axis=1)
    return pooled, 1.0 / (1.0 + np.exp(-(pooled @ v + c)))


def log_loss(prob, target):
    return -np.mean(target * np.log(prob) + (1 - target) * np.log(1 - prob))


def grads(batch, target):
    pooled, prob = scores(batch)
    g = (prob - target) / len(batch)
    g_pooled = np.outer(g, v)
    g_rows = np.broadcast_to(g_pooled[:, None, :] / width, (len(batch), width, dim))
    gE = np.zeros_like(E)
    np.add.at(gE, batch, g_rows)
    return gE, pooled.T @ g, g.sum()


lr = 1.5
for epoch in range(40):
    perm = rs.permutation(len(docs))
    for k in range(0, len(docs), 24):
        pick = perm[k:k + 24]
        gE, gv, gc = grads(docs[pick], labels[pick])
        E -= lr * gE
        v -= lr * gv
        c -= lr * gc
    if epoch % 10 == 0:
        print(epoch, log_loss(scores(docs)[1], labels))
"""


def renamed(table: str) -> str:
    return BAG_OF_WORDS.replace("E[batch]", f"{table}[batch]").replace("zeros_like(E)", f"zeros_like({table})").replace(
        "E = rs.normal", f"{table} = rs.normal"
    ).replace("E -= lr", f"{table} -= lr")


@pytest.mark.parametrize("table", ["E", "L"])
def test_a_table_named_like_a_loss_is_a_parameter_not_the_loss(tmp_path, table):
    report = check(planted(tmp_path, "bow.py", renamed(table), "np.add.at(gE, batch, g_rows)", "np.add.at(gE, batch, g_rows)"))
    assert errors(report) == []
    replay = replayed(report)
    assert replay["loss"] != table and "log_loss" in replay["loss"]
    assert {p["name"] for p in replay["parameters"]} == {table, "v", "c"}
    assert set(step_verdicts(report).values()) == {"ok"}


def test_an_indexed_add_over_a_batch_handed_as_an_expression_is_named(tmp_path):
    path = planted(tmp_path, "bow.py", BAG_OF_WORDS, "np.add.at(gE, batch, g_rows)", "gE[batch] += g_rows")
    found = errors(check(path))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, "gE[batch] += g_rows"), "repeated-index-add")], found
    assert "np.add.at(gE, batch, g_rows)" in found[0]["message"]
