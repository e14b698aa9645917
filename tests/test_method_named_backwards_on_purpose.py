"""A method named `backwards` that is the user's own update step, not a misspelled `backward`: one that
takes only a learning rate (`backwards(self, learning_rate=0.01)`), or one the file calls by that name
(`model.backwards()`) while nothing calls `.backward`, gets no `misspelled-method` warning. A layer's
`backwards(self, dout)` that a network calls as `.backward(dout)`, or that nothing calls, still does."""

from __future__ import annotations

from tests.userfiles import check, write

# An embedding trainer: gradients gathered by `accumulate`, the step taken by `backwards(learning_rate)`.
RATE_ONLY = '''\
import numpy as np


class Embeddings:
    def __init__(self, vocab, dim):
        rng = np.random.RandomState(0)
        self.inp = rng.randn(vocab, dim) * 0.1
        self.out = rng.randn(dim, vocab) * 0.1
        self.g_inp = np.zeros_like(self.inp)
        self.g_out = np.zeros_like(self.out)

    def forward(self, word):
        self.h = self.inp[word]
        scores = self.h @ self.out
        e = np.exp(scores - scores.max())
        return e / e.sum()

    def accumulate(self, probs, target, word):
        err = probs.copy()
        err[target] -= 1.0
        self.g_out += np.outer(self.h, err)
        self.g_inp[word] += self.out @ err

    def backwards(self, learning_rate=0.05):
        self.inp -= learning_rate * self.g_inp
        self.out -= learning_rate * self.g_out
        self.g_inp[...] = 0.0
        self.g_out[...] = 0.0


pairs = [(0, 1), (1, 2), (2, 3), (3, 0), (1, 0)]
model = Embeddings(4, 3)
for epoch in range(30):
    for word, target in pairs:
        model.accumulate(model.forward(word), target, word)
    model.backwards()
'''

# No argument at all: the rate is held, and the file calls the step by its own name.
CALLED_SO = '''\
import numpy as np


class Regressor:
    def __init__(self, n_in, lr=0.1):
        self.w = np.zeros(n_in)
        self.lr = lr

    def forward(self, x):
        self.x = x
        return x @ self.w

    def gradients(self, pred, y):
        self.dw = self.x.T @ (pred - y) / len(y)

    def backwards(self):
        self.w -= self.lr * self.dw


rng = np.random.RandomState(1)
X = rng.randn(50, 3)
y = X @ np.array([1.0, -2.0, 0.5])
reg = Regressor(3)
for step in range(200):
    reg.gradients(reg.forward(X), y)
    reg.backwards()
print(reg.w)
'''

# A real misspelling: the layer's backward is `backwards(dout)`, and the network calls `.backward`.
MISSPELLED = '''\
import numpy as np


class Sigmoid:
    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backwards(self, dout):
        return dout * self.out * (1.0 - self.out)


def run(layers, x, dout):
    for layer in layers:
        x = layer.forward(x)
    for layer in reversed(layers):
        dout = layer.backward(dout)
    return dout
'''


def _misspelled(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "misspelled-method"]


def test_a_step_taking_only_a_learning_rate_is_no_misspelling(tmp_path):
    assert _misspelled(check(write(tmp_path, "embeddings.py", RATE_ONLY))) == []


def test_a_step_the_file_calls_by_its_own_name_is_no_misspelling(tmp_path):
    assert _misspelled(check(write(tmp_path, "regressor.py", CALLED_SO))) == []


def test_a_layers_backwards_called_as_backward_is_still_a_misspelling(tmp_path):
    found = _misspelled(check(write(tmp_path, "sigmoid.py", MISSPELLED)))
    assert [f["layer"] for f in found] == ["Sigmoid"]


def test_a_layers_backwards_nothing_calls_is_still_a_misspelling(tmp_path):
    text = MISSPELLED.split("def run(")[0]
    found = _misspelled(check(write(tmp_path, "sigmoid_alone.py", text)))
    assert [f["layer"] for f in found] == ["Sigmoid"]
