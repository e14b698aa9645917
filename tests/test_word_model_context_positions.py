"""A word model that scores one centre word against the words on either side of it (skip-gram's
`forward(contexts, target)`) sums one loss per context position over the same scores. Where the positions
hold different words the sum cannot reach 0 (two ln 2 for two different words, whatever the network
learns), and the training probe's tiny batch, its contexts Gaussian cluster vectors whose largest entries
differ from one position to the next, ended near that floor: `cannot-overfit` (BPD607) was reported on a
correct model. The probe now reads the fixed positions the network's `forward` or `loss` takes from its
first input (`contexts[:, 0]`, `contexts[:, 1]`: `static.positions`) and, when its tiny batch is not fitted,
fits it once more with one value at every position (`Probe.overfit_agreeing`); fitted so, nothing is reported.
The replay of a program that trains such a model (`step-cannot-overfit`, BPD615) does the same with the array
of context windows its loop hands first to a method reading fixed positions of it (`replay.curve._read_by_position`,
`Tiny.agreeing`).

Two styles: a model of layer objects with a params list (`forward(contexts, target)`, `backward(dout)`), and
a model holding a dict of weights with `loss(contexts, target)` and `gradient(contexts, target)`, each alone and
trained on a short sentence. All are clean; a rate far too small is still `step-cannot-overfit`; a loss layer whose backward has its sign flipped is still `cannot-overfit` (and wrong), and a
gradient that counts the scores' softmax once for two positions is still wrong.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        self.x = x
        return x @ self.params[0]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        return dout @ self.params[0].T


class SoftmaxCE:
    def forward(self, s, t):
        if t.ndim == s.ndim:
            t = t.argmax(axis=1)
        self.t = t
        z = s - s.max(axis=1, keepdims=True)
        self.p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        n = len(t)
        return -np.log(self.p[np.arange(n), t] + 1e-7).sum() / n

    def backward(self, dout=1):
        n = len(self.t)
        d = self.p.copy()
        d[np.arange(n), self.t] -= 1
        return dout * d / n


class WordWindow:
    def __init__(self, vocab_size, hidden_size):
        rng = np.random.default_rng(0)
        self.embed = Dense(0.01 * rng.standard_normal((vocab_size, hidden_size)))
        self.project = Dense(0.01 * rng.standard_normal((hidden_size, vocab_size)))
        self.left_loss = SoftmaxCE()
        self.right_loss = SoftmaxCE()
        layers = [self.embed, self.project]
        self.params = [p for layer in layers for p in layer.params]
        self.grads = [g for layer in layers for g in layer.grads]

    def forward(self, contexts, target):
        s = self.project.forward(self.embed.forward(target))
        return self.left_loss.forward(s, contexts[:, 0]) + self.right_loss.forward(s, contexts[:, 1])

    def backward(self, dout=1):
        ds = self.left_loss.backward(dout) + self.right_loss.backward(dout)
        self.embed.backward(self.project.backward(ds))
        return None
'''

WEIGHTS = '''\
import numpy as np


def softmax(s):
    z = s - s.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def as_labels(t):
    return t.argmax(axis=1) if t.ndim == 2 else t


class PairSkipGram:
    def __init__(self, vocab_size, hidden_size):
        rng = np.random.default_rng(1)
        self.params = {
            "W_in": 0.01 * rng.standard_normal((vocab_size, hidden_size)),
            "W_out": 0.01 * rng.standard_normal((hidden_size, vocab_size)),
        }

    def loss(self, contexts, target):
        p = softmax(target @ self.params["W_in"] @ self.params["W_out"])
        n = len(target)
        a, b = as_labels(contexts[:, 0]), as_labels(contexts[:, 1])
        return -(np.log(p[np.arange(n), a] + 1e-7).sum() + np.log(p[np.arange(n), b] + 1e-7).sum()) / n

    def gradient(self, contexts, target):
        h = target @ self.params["W_in"]
        p = softmax(h @ self.params["W_out"])
        n = len(target)
        ds = 2 * p
        ds[np.arange(n), as_labels(contexts[:, 0])] -= 1
        ds[np.arange(n), as_labels(contexts[:, 1])] -= 1
        ds /= n
        return {"W_out": h.T @ ds, "W_in": target.T @ (ds @ self.params["W_out"].T)}
'''


TRAINED = '''\
words = [0, 1, 2, 3, 4, 1, 5, 6]
V = 7
centre = np.eye(V)[words[1:-1]]
around = np.stack([np.eye(V)[words[:-2]], np.eye(V)[words[2:]]], axis=1)
model = WordWindow(V, 5)
for epoch in range(300):
    loss = model.forward(around, centre)
    model.backward()
    for p, g in zip(model.params, model.grads):
        p -= 1.0 * g
print(loss)
'''

TRAINED_WEIGHTS = '''\
sentence = [2, 0, 3, 1, 0, 4, 5, 1]
V = 6
centre = np.eye(V)[sentence[1:-1]]
around = np.stack([np.eye(V)[sentence[:-2]], np.eye(V)[sentence[2:]]], axis=1)
model = PairSkipGram(V, 4)
for epoch in range(400):
    loss = model.loss(around, centre)
    grads = model.gradient(around, centre)
    for k in model.params:
        model.params[k] -= 1.0 * grads[k]
print(loss)
'''


def _warned(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] != "info"]


def test_a_model_of_layer_objects_scoring_two_context_positions_is_clean(tmp_path):
    assert _warned(check(write(tmp_path, "window_model.py", LAYERS), training=True)) == []


def test_a_model_of_a_weight_dict_scoring_two_context_positions_is_clean(tmp_path):
    assert _warned(check(write(tmp_path, "pair_skip_gram.py", WEIGHTS), training=True)) == []


def test_a_loss_layer_with_its_backward_negated_still_cannot_fit(tmp_path):
    path = planted(tmp_path, "window_model_wrong.py", LAYERS, "        return dout * d / n\n", "        return -dout * d / n\n")
    report = check(path, training=True)
    assert any(f["code"] == "BPD607" for f in report["findings"])
    assert any(f["code"] == "BPD101" for f in errors(report))


def test_a_softmax_counted_once_for_two_positions_is_still_wrong(tmp_path):
    path = planted(tmp_path, "pair_skip_gram_wrong.py", WEIGHTS, "        ds = 2 * p\n", "        ds = p.copy()\n")
    found = errors(check(path, training=True))
    assert {f["code"] for f in found} == {"BPD101"} and len(found) == 2


def test_the_positions_are_read_from_the_first_argument():
    import ast

    from backprop_doctor.static.positions import constant_positions

    forward = next(n for n in ast.walk(ast.parse(LAYERS)) if isinstance(n, ast.FunctionDef) and n.name == "forward" and n.args.args[1].arg == "contexts")
    assert constant_positions(forward) == (0, 1)
    one = ast.parse("def forward(self, x, t):\n    return x[:, 0] + t[:, 1]\n").body[0]
    assert constant_positions(one) == ()


def test_the_replayed_step_of_a_layer_model_trained_on_a_sentence_is_clean(tmp_path):
    report = check(write(tmp_path, "window_trained.py", LAYERS + "\n\n" + TRAINED), training=True)
    assert _warned(report) == []
    (step,) = report["extras"]["replay"]
    assert step["tiny"]["samples"] == 5


def test_the_replayed_step_of_a_weight_dict_model_trained_on_a_sentence_is_clean(tmp_path):
    assert _warned(check(write(tmp_path, "pair_trained.py", WEIGHTS + "\n\n" + TRAINED_WEIGHTS), training=True)) == []


def test_a_rate_far_too_small_still_cannot_fit_five_windows(tmp_path):
    path = write(tmp_path, "window_slow.py", LAYERS + "\n\n" + TRAINED.replace("p -= 1.0 * g", "p -= 1e-6 * g"))
    report = check(path, training=True)
    assert [f["code"] for f in _warned(report)] == ["BPD615"]
