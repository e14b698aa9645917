"""A sample's second axis is not its batch: the tokens of a row-layout array of word ids.

    ids (150, 5) beside labels (150,)   # 150 samples, 5 tokens each
    pooled = E[ids].mean(axis=1)        # a mean over the tokens
    demb = np.repeat(dpooled[:, None, :], SEQ, axis=1)   # its gradient, the 1/SEQ left out

A 2-D array whose first axis is as long as the 1-D targets the step reads holds one sample a
row, so its second axis (5) is no batch size: a backward pass that leaves the mean's 1/5 out is
not "a mean taken later" (the deeplearning.ai `dAL` of a summed loss, divided by the batch in
another function), and the finding names the statement that leaves it out, with what 5 is (the
module constant bound to it, or the array's axis), not the scatter into the table after it."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

FUNCTIONS = """
import numpy as np

VOCAB = 30
WIDTH = 8
WINDOW = 4


def make_data(rng, count):
    tokens = rng.integers(0, VOCAB, size=(count, WINDOW))
    target = (np.sum(tokens < 10, axis=1) >= 2).astype(float)
    return tokens, target


def predict(table, V, c, tokens):
    vecs = table[tokens]
    bag = vecs.mean(axis=1)
    z = bag @ V + c
    p = 1.0 / (1.0 + np.exp(-z[:, 0]))
    return bag, p


def gradients(table, V, tokens, target, bag, p):
    dz = ((p - target) / len(target))[:, None]
    dV = bag.T @ dz
    dc = dz.sum(axis=0)
    dbag = dz @ V.T
    dvecs = np.tile(dbag[:, None, :], (1, WINDOW, 1))
    dtable = np.zeros_like(table)
    np.add.at(dtable, tokens, dvecs)
    return dtable, dV, dc


rng = np.random.default_rng(5)
tokens, target = make_data(rng, 120)
table = rng.normal(0, 0.3, size=(VOCAB, WIDTH))
V = rng.normal(0, 0.3, size=(WIDTH, 1))
c = np.zeros(1)
for step in range(200):
    bag, p = predict(table, V, c, tokens)
    loss = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    dtable, dV, dc = gradients(table, V, tokens, target, bag, p)
    table -= 0.5 * dtable
    V -= 0.5 * dV
    c -= 0.5 * dc
print(loss)
"""

CLASS = """
import numpy as np


class BagClassifier:
    def __init__(self, vocab, dim, classes, rng):
        self.emb = rng.normal(0, 0.4, size=(vocab, dim))
        self.W = rng.normal(0, 0.4, size=(dim, classes))
        self.b = np.zeros(classes)

    def forward(self, words):
        self.words = words
        self.looked = self.emb[words]
        self.avg = self.looked.sum(axis=1) / words.shape[1]
        scores = self.avg @ self.W + self.b
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, probs, labels):
        m = len(labels)
        g = probs.copy()
        g[np.arange(m), labels] -= 1.0
        g = g / m
        self.dW = self.avg.T @ g
        self.db = g.sum(axis=0)
        d_avg = g @ self.W.T
        d_looked = np.broadcast_to(d_avg[:, None, :], self.looked.shape).copy()
        self.demb = np.zeros_like(self.emb)
        np.add.at(self.demb, self.words, d_looked)


rng = np.random.default_rng(11)
words = rng.integers(0, 16, size=(90, 6))
labels = (words % 3 == 0).sum(axis=1) % 3
model = BagClassifier(16, 5, 3, rng)
for epoch in range(150):
    probs = model.forward(words)
    loss = -np.log(probs[np.arange(len(labels)), labels]).mean()
    model.backward(probs, labels)
    model.emb -= 0.8 * model.demb
    model.W -= 0.8 * model.dW
    model.b -= 0.8 * model.db
print(loss)
"""

TILED = "dvecs = np.tile(dbag[:, None, :], (1, WINDOW, 1))"
TILED_MEAN = "dvecs = np.tile(dbag[:, None, :], (1, WINDOW, 1)) / WINDOW"
SPREAD = "d_looked = np.broadcast_to(d_avg[:, None, :], self.looked.shape).copy()"
SPREAD_MEAN = "d_looked = np.broadcast_to(d_avg[:, None, :], self.looked.shape) / self.words.shape[1]"


def _step_error(report: dict) -> dict:
    (error,) = [f for f in errors(report) if f["code"] == "BPD108"]
    return error


def test_functions_leaving_out_the_tokens_mean_are_told_at_the_spreading_statement(tmp_path: Path) -> None:
    path = planted(tmp_path, "bag_functions.py", FUNCTIONS, TILED, TILED)
    error = _step_error(check(path))
    assert error["line"] == line_of(path, TILED)
    assert "4 is `WINDOW`" in error["message"], error["message"]
    assert "batch size" not in error["message"], error["message"]


def test_a_class_leaving_out_the_tokens_mean_is_told_at_the_spreading_statement(tmp_path: Path) -> None:
    path = planted(tmp_path, "bag_class.py", CLASS, SPREAD, SPREAD)
    error = _step_error(check(path))
    assert error["line"] == line_of(path, SPREAD)
    assert "length of axis 1 of `words`" in error["message"], error["message"]
    assert "batch size" not in error["message"], error["message"]


def test_functions_dividing_by_the_tokens_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "bag_functions_ok.py", FUNCTIONS, TILED, TILED_MEAN))) == []


def test_a_class_dividing_by_the_tokens_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "bag_class_ok.py", CLASS, SPREAD, SPREAD_MEAN))) == []
