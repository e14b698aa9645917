"""A training loop that is found but whose step cannot be replayed (here: the output error comes from a
loss-gradient function handed in as an argument, and the loss itself is only tallied sample by sample in
a report every few epochs) gets an info note naming the loop and why, so that "no problems found" is not
read as a checked step; the same program computing its loss in the pass, before the update, is replayed
and gets no note.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted

PROGRAM = '''\
import numpy as np


def half_squared(out, t):
    return 0.5 * float(np.sum((out - t) ** 2))


def half_squared_grad(out, t):
    return out - t


def train(X, T, loss, loss_grad, lr=0.05, epochs=120):
    rng = np.random.default_rng(3)
    W1, b1 = rng.normal(0, 0.5, (5, X.shape[1])), np.zeros((5, 1))
    W2, b2 = rng.normal(0, 0.5, (T.shape[1], 5)), np.zeros((T.shape[1], 1))
    for epoch in range(epochs):
        for x, t in zip(X, T):
            x, t = x.reshape(-1, 1), t.reshape(-1, 1)
            h = np.tanh(W1 @ x + b1)
            out = W2 @ h + b2
            d_out = loss_grad(out, t)
            d_h = (W2.T @ d_out) * (1 - h ** 2)
            W2 -= lr * d_out @ h.T
            b2 -= lr * d_out
            W1 -= lr * d_h @ x.T
            b1 -= lr * d_h
        if epoch % 40 == 0:
            tally = []
            for x, t in zip(X, T):
                tally.append(loss(W2 @ np.tanh(W1 @ x.reshape(-1, 1) + b1) + b2, t.reshape(-1, 1)))
            print(epoch, np.mean(tally))
    return W1, b1, W2, b2


rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
T = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
train(X, T, half_squared, half_squared_grad)
'''


def test_a_loop_whose_step_cannot_be_replayed_is_named_in_a_note(tmp_path):
    path = planted(tmp_path, "fit.py", PROGRAM, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    (note,) = [f for f in report["findings"] if f["name"] == "step-not-replayed"]
    assert note["code"] == "BPD636" and note["severity"] == "info"
    assert note["line"] == line_of(path, "for x, t in zip(X, T):")
    assert "no loss that could be read" in note["message"]


def test_the_same_loop_computing_its_loss_in_the_pass_gets_no_note(tmp_path):
    path = planted(
        tmp_path, "fit.py", PROGRAM,
        "            d_out = loss_grad(out, t)\n",
        "            step_loss = loss(out, t)\n            d_out = loss_grad(out, t)\n",
    )  # fmt: skip
    report = check(path, training=True)
    assert [f for f in report["findings"] if f["name"] == "step-not-replayed"] == []
    assert report["extras"]["replay"] and all(r["not_replayed"] is None for r in report["extras"]["replay"])
