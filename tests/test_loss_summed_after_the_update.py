"""An embedding model trained one (word, context) pair at a time, as word2vec tutorials write it:
the error over the context is called `EI` (a vector, the gradient of the scores, not a loss), the
updates come first, and the loss is summed after them from the prediction made before
(`loss += -np.sum(np.log(p[ctx]))`). The step is replayed with that term as its loss: a model
written right is clean, and one whose two embeddings both start at zero, where every gradient is a
product with the other embedding, is told that nothing can move, at the line that zeroes them."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

MODEL = """\
    import numpy as np


    class SkipGram:
        def __init__(self, text, dim=6, window=1, lr=0.05, epochs=30):
            words = text.split()
            self.vocab = sorted(set(words))
            self.ids = [self.vocab.index(w) for w in words]
            self.window, self.lr, self.epochs = window, lr, epochs
            rs = np.random.RandomState(1)
            self.W_in = rs.uniform(-0.5, 0.5, (len(self.vocab), dim))
            self.W_out = rs.uniform(-0.5, 0.5, (dim, len(self.vocab)))

        def pairs(self):
            out = []
            for i, c in enumerate(self.ids):
                ctx = [self.ids[j] for j in range(i - self.window, i + self.window + 1) if j != i and 0 <= j < len(self.ids)]
                out.append((c, ctx))
            return out

        def train(self):
            for epoch in range(self.epochs):
                loss = 0.0
                for c, ctx in self.pairs():
                    h = self.W_in[c]
                    u = h @ self.W_out
                    e = np.exp(u - u.max())
                    p = e / e.sum()
                    EI = len(ctx) * p
                    np.subtract.at(EI, ctx, 1.0)
                    dW_out = np.outer(h, EI)
                    dh = self.W_out @ EI
                    self.W_in[c] -= self.lr * dh
                    self.W_out -= self.lr * dW_out
                    loss += -np.sum(np.log(p[ctx]))
                if epoch % 10 == 0:
                    print(epoch, loss)


    model = SkipGram("the cat sat on the mat the dog sat on the log " * 2)
    model.train()
"""


def test_the_pass_is_replayed_with_the_term_it_adds_after_its_updates(tmp_path):
    report = check(write(tmp_path, "skipgram.py", MODEL))
    assert errors(report) == []
    assert set(step_verdicts(report).values()) == {"ok"}
    (replay,) = report["extras"]["replay"]
    assert replay["loss"] == "loss" and replay["loss_line"] == line_of(tmp_path / "skipgram.py", "loss += -np.sum(np.log(p[ctx]))")


def test_two_embeddings_started_at_zero_are_named_where_they_are_made(tmp_path):
    zeros = MODEL.replace("rs.uniform(-0.5, 0.5, (len(self.vocab), dim))", "np.zeros((len(self.vocab), dim))").replace(
        "rs.uniform(-0.5, 0.5, (dim, len(self.vocab)))", "np.zeros((dim, len(self.vocab)))"
    )
    path = planted(tmp_path, "skipgram.py", zeros, "self.ids = [", "self.ids = [")
    report = check(path)
    (found,) = [f for f in report["findings"] if f["name"] == "step-frozen-parameters"]
    assert (found["severity"], found["line"]) == ("warning", line_of(path, "self.W_in = np.zeros("))
    assert "is zero where the loop starts, and so is every gradient" in found["message"]


def test_one_embedding_at_zero_is_not_a_frozen_state(tmp_path):
    # the output embedding at zero, the input one random: the first step moves the output embedding
    path = planted(tmp_path, "skipgram.py", MODEL, "rs.uniform(-0.5, 0.5, (dim, len(self.vocab)))", "np.zeros((dim, len(self.vocab)))")
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "step-frozen-parameters"] == []
