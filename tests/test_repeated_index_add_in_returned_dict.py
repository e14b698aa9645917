"""An embedding's gradient added at token indices with NumPy's indexed `+=` inside a loss function
that returns its gradients in a dict (`g["emb"][tokens[:, pos]] += d`): a token that appears twice
in a column is added once. Named at that line with `np.add.at`, the index read over the function's
own loop variable from the step's token array.

Two styles of update: a loop over the dict's keys, and one statement per parameter.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(12)
V, D, L, N = 6, 4, 5, 40
tokens = rng.integers(0, V, size=(N, L))
labels = (np.sum(tokens == 2, axis=1) > 1).astype(int)


def loss_and_grads(p, tokens, labels):
    n, length = tokens.shape
    pooled = np.zeros((n, D))
    for pos in range(length):
        pooled += p["emb"][tokens[:, pos]]
    pooled /= length
    h = np.tanh(pooled @ p["W"] + p["b"])
    z = h @ p["v"]
    prob = 1 / (1 + np.exp(-z))
    loss = -np.mean(labels * np.log(prob + 1e-12) + (1 - labels) * np.log(1 - prob + 1e-12))
    dz = (prob - labels) / n
    g = {"v": h.T @ dz}
    dh = np.outer(dz, p["v"]) * (1 - h ** 2)
    g["W"] = pooled.T @ dh
    g["b"] = dh.sum(axis=0)
    dpooled = dh @ p["W"].T / length
    g["emb"] = np.zeros_like(p["emb"])
    for pos in range(length):
        np.add.at(g["emb"], tokens[:, pos], dpooled)
    return loss, g


params = {"emb": rng.normal(size=(V, D)) * 0.5, "W": rng.normal(size=(D, 6)) * 0.5, "b": np.zeros(6), "v": rng.normal(size=6) * 0.5}
for step in range(150):
    loss, grads = loss_and_grads(params, tokens, labels)
    for name in params:
        params[name] -= 0.5 * grads[name]
    if step % 30 == 0:
        print(step, loss)
'''

BY_NAME = (
    "    for name in params:\n        params[name] -= 0.5 * grads[name]\n",
    "    params['emb'] -= 0.5 * grads['emb']\n    params['W'] -= 0.5 * grads['W']\n"
    "    params['b'] -= 0.5 * grads['b']\n    params['v'] -= 0.5 * grads['v']\n",
)
CORRECT = "        np.add.at(g[\"emb\"], tokens[:, pos], dpooled)"
WRONG = "        g[\"emb\"][tokens[:, pos]] += dpooled"


@pytest.mark.parametrize("updates", [None, BY_NAME], ids=["loop-over-keys", "one-per-parameter"])
def test_an_indexed_add_at_repeated_tokens_is_named_with_add_at(tmp_path, updates):
    text = PROGRAM if updates is None else PROGRAM.replace(*updates)
    path = planted(tmp_path, "bow.py", text, CORRECT, WRONG)
    found = errors(check(path, training=True))
    assert found and found[0]["pattern"] == "repeated-index-add"
    assert found[0]["line"] == line_of(path, WRONG.strip())
    assert "np.add.at(g['emb'], tokens[:, pos], dpooled)" in found[0]["message"]


@pytest.mark.parametrize("updates", [None, BY_NAME], ids=["loop-over-keys", "one-per-parameter"])
def test_add_at_is_clean(tmp_path, updates):
    text = PROGRAM if updates is None else PROGRAM.replace(*updates)
    path = planted(tmp_path, "bow.py", text, CORRECT, CORRECT)
    assert errors(check(path, training=True)) == []
