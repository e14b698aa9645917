"""A whole model whose `backward(dout)` returns its parameters' gradients in a dict (`grads["W%d" %
i] = ...`, `return grads`), its parameters in a dict too (`self.params`), built from a list of
widths (`Model(sizes)`): it is no layer, so it gets no "the gradient of `x` is a dict" error; its
training step is what is checked, and a wrong gradient in it is found there.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

MODEL = '''\
import numpy as np


class Model:
    def __init__(self, sizes, seed=3):
        rng = np.random.default_rng(seed)
        self.depth = len(sizes) - 1
        self.params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.params["W%d" % i] = rng.normal(0, np.sqrt(1.0 / a), (a, b))
            self.params["b%d" % i] = np.zeros(b)

    def forward(self, x):
        self.outs = [x]
        for i in range(self.depth):
            x = x @ self.params["W%d" % i] + self.params["b%d" % i]
            if i < self.depth - 1:
                x = np.tanh(x)
            self.outs.append(x)
        return x

    def backward(self, dout):
        grads = {}
        for i in reversed(range(self.depth)):
            if i < self.depth - 1:
                dout = dout * (1.0 - self.outs[i + 1] ** 2)
            grads["W%d" % i] = self.outs[i].T @ dout
            grads["b%d" % i] = dout.sum(axis=0)
            dout = dout @ self.params["W%d" % i].T
        return grads


def softmax_xent(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(p[np.arange(n), labels]).mean()
    p[np.arange(n), labels] -= 1.0
    return loss, p / n


rng = np.random.default_rng(0)
X = rng.normal(size=(90, 2))
y = (np.arctan2(X[:, 1], X[:, 0]) > 0).astype(int) + (X[:, 0] > 0.5).astype(int)
model = Model([2, 16, 3])
for epoch in range(300):
    loss, dlogits = softmax_xent(model.forward(X), y)
    grads = model.backward(dlogits)
    for k in model.params:
        model.params[k] -= 0.5 * grads[k]
'''


def test_the_model_is_not_a_layer_and_its_training_step_is_clean(tmp_path):
    report = check(planted(tmp_path, "model.py", MODEL, "dout.sum(axis=0)", "dout.sum(axis=0)"))
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert len(verdicts) == 4 and set(verdicts.values()) == {"ok"}, verdicts
    skipped = [b for b in report["built"] if b["what"].startswith("model") or b["what"].startswith("Model")]
    assert any("returns its parameters' gradients by name (`return grads`)" in (b["skipped"] or "") for b in skipped), report["built"]


def test_the_definitions_alone_build_the_model_from_a_list_of_widths(tmp_path):
    """`--no-run`: `Model(sizes)` is built from a guessed list of widths and its first weight sizes the
    input; it is then named as a whole model, not a layer with a wrong return."""
    report = check(planted(tmp_path, "model.py", MODEL, "dout.sum(axis=0)", "dout.sum(axis=0)"), "--no-run")
    assert not [f for f in errors(report) if f["code"] == "BPD107"]
    (built,) = [b for b in report["built"] if b["what"] == "Model"]
    assert "returns its parameters' gradients by name" in built["skipped"]


def test_a_wrong_bias_gradient_is_found_in_the_training_step(tmp_path):
    path = planted(tmp_path, "model.py", MODEL, "dout.sum(axis=0)", "dout.mean(axis=0)")
    report = check(path)
    codes = {(f["code"], f["line"]) for f in errors(report)}
    assert codes == {("BPD108", line_of(path, 'grads["b%d" % i] = dout.mean'))}
