"""A gradient made as zeros and then filled element by element at the rows a batch used
(`dE = np.zeros_like(E); dE[ids] += dvec`) is wrong there when an id repeats: fancy-index `+=`
counts a repeated row once (`np.add.at` adds each). The finding names the line that fills the
gradient, not the line that made it zero, which cannot be wrong."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

# a bag-of-words classifier: the embedding's gradient is a dict entry
DICT_ENTRY = """\
    import numpy as np

    rs = np.random.RandomState(4)
    VOCAB, DIM, LENGTH = 12, 6, 5
    sentences = rs.randint(0, VOCAB, size=(300, LENGTH))
    targets = (np.isin(sentences, [1, 2, 3]).sum(axis=1) > 1).astype(int)

    net = {"E": rs.randn(VOCAB, DIM) * 0.3, "V": rs.randn(DIM, 2) * 0.3, "c": np.zeros(2)}


    def loss_and_grads(net, batch, y):
        n = len(batch)
        bag = net["E"][batch].mean(axis=1)
        logits = bag @ net["V"] + net["c"]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        dlogits = p.copy()
        dlogits[np.arange(n), y] -= 1
        dlogits /= n
        grads = {"V": bag.T @ dlogits, "c": dlogits.sum(axis=0)}
        dbag = dlogits @ net["V"].T
        dwords = np.repeat(dbag[:, None, :] / LENGTH, LENGTH, axis=1)
        grads["E"] = np.zeros_like(net["E"])
        np.add.at(grads["E"], batch, dwords)
        return loss, grads


    for it in range(300):
        pick = rs.randint(0, len(sentences), 32)
        loss, grads = loss_and_grads(net, sentences[pick], targets[pick])
        for key in net:
            net[key] -= 0.5 * grads[key]
"""

# a skip-gram-like model in plain names, one centre word and its context per step
PLAIN_NAMES = """\
    import numpy as np

    np.random.seed(1)
    words, width = 10, 4
    corpus = np.random.randint(0, words, size=400)
    W_in = np.random.randn(words, width) * 0.1
    W_out = np.random.randn(width, words) * 0.1


    def step(context, centre):
        h = W_in[context].sum(axis=0)
        s = h @ W_out
        s = s - s.max()
        q = np.exp(s) / np.exp(s).sum()
        loss = -np.log(q[centre])
        ds = q.copy()
        ds[centre] -= 1
        dW_out = np.outer(h, ds)
        dh = W_out @ ds
        dW_in = np.zeros_like(W_in)
        np.add.at(dW_in, context, dh)
        return loss, dW_in, dW_out


    for epoch in range(3):
        for i in range(2, len(corpus) - 2):
            context = corpus[[i - 2, i - 1, i + 1, i + 2]]
            loss, dW_in, dW_out = step(context, corpus[i])
            W_in -= 0.05 * dW_in
            W_out -= 0.05 * dW_out
"""


def test_right_scatters_are_clean(tmp_path: Path) -> None:
    for name, program in (("bag.py", DICT_ENTRY), ("skipgram.py", PLAIN_NAMES)):
        report = check(planted(tmp_path, name, program, "import numpy as np", "import numpy as np"))
        assert errors(report) == [], (name, errors(report))
        replayed = [m for m in report["measurements"] if m["layer"] == "training step"]
        assert replayed and all(m["verdict"] == "ok" for m in replayed), (name, replayed)


def test_a_dict_entry_filled_with_fancy_index_add_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "bag.py", DICT_ENTRY, 'np.add.at(grads["E"], batch, dwords)', 'grads["E"][batch] += dwords')
    found = errors(check(path))
    assert found and found[0]["param"] == "net['E']", found
    assert found[0]["line"] == line_of(path, 'grads["E"][batch] += dwords'), found[0]
    assert found[0]["pattern"] == "repeated-index-add" and "np.add.at(grads['E'], batch, dwords)" in found[0]["message"], found[0]


def test_a_plain_name_filled_with_fancy_index_add_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "skipgram.py", PLAIN_NAMES, "np.add.at(dW_in, context, dh)", "dW_in[context] += dh")
    found = errors(check(path))
    assert found and found[0]["param"] == "W_in", found
    assert found[0]["line"] == line_of(path, "dW_in[context] += dh"), found[0]
    assert found[0]["pattern"] == "repeated-index-add" and "np.add.at(dW_in, context, dh)" in found[0]["message"], found[0]


# a token table kept in a class: its backward keeps the gradient in an attribute it starts at zero
ATTRIBUTE = """\
    import numpy as np

    gen = np.random.default_rng(8)
    TOKENS, WIDTH, SPAN = 9, 5, 6
    docs = gen.integers(0, TOKENS, size=(240, SPAN))
    score = (docs == 2).sum(axis=1) - (docs == 5).sum(axis=1) + 0.0


    class TokenTable:
        def __init__(self, count, width):
            self.W = gen.normal(0, 0.4, size=(count, width))

        def forward(self, tok):
            self.tok = tok
            return self.W[tok]

        def backward(self, g):
            self.dW = np.zeros_like(self.W)
            np.add.at(self.dW, self.tok, g)


    class Regressor:
        def __init__(self):
            self.table = TokenTable(TOKENS, WIDTH)
            self.v = gen.normal(0, 0.3, size=WIDTH)

        def forward(self, tok):
            self.pooled = self.table.forward(tok).sum(axis=1)
            return self.pooled @ self.v

        def backward(self, dout):
            self.dv = self.pooled.T @ dout
            self.table.backward(np.repeat((dout[:, None] * self.v)[:, None, :], SPAN, axis=1))

        def step(self, lr):
            self.v -= lr * self.dv
            self.table.W -= lr * self.table.dW


    model = Regressor()
    for epoch in range(40):
        for start in range(0, len(docs), 40):
            tok, y = docs[start:start + 40], score[start:start + 40]
            pred = model.forward(tok)
            loss = 0.5 * np.mean((pred - y) ** 2)
            model.backward((pred - y) / len(y))
            model.step(0.05)
"""


def test_a_class_attribute_gradient_started_at_zero_is_clean_when_added_with_add_at(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "table.py", ATTRIBUTE, "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    replayed = [m for m in report["measurements"] if m["layer"] == "training step"]
    assert replayed and all(m["verdict"] == "ok" for m in replayed), replayed


def test_a_class_attribute_gradient_filled_with_fancy_index_add_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "table.py", ATTRIBUTE, "np.add.at(self.dW, self.tok, g)", "self.dW[self.tok] += g")
    found = errors(check(path))
    assert found, found
    root = found[0]
    assert root["line"] == line_of(path, "self.dW[self.tok] += g"), root
    assert root["pattern"] == "repeated-index-add" and "np.add.at(self.dW, self.tok, g)" in root["message"], root
