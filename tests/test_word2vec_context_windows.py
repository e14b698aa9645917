"""Word2vec models whose layers run side by side, fed one-hot context windows.

A CBOW model's `forward(contexts, target)` takes contexts of shape (N, 2, V): it sends
each context word through its own `MatMul` (the two share `W_in`) and averages them; a
skip-gram model feeds the target word to its first layer and each context word to a loss
layer of its own. The check builds them on one-hot windows, checks each layer on what the
model itself feeds it (not on the previous layer's output), and sums the gradients of the
weight the `params` list holds twice, as the book's optimiser does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import backprop_doctor

LAYERS = '''\
import numpy as np


class MatMul:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        W, = self.params
        self.x = x
        return np.dot(x, W)

    def backward(self, dout):
        W, = self.params
        dx = np.dot(dout, W.T)
        dW = np.dot(self.x.T, dout)
        self.grads[0][...] = dW
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        x = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        if self.t.size == self.y.size:
            self.t = self.t.argmax(axis=1)
        n = self.y.shape[0]
        return -np.sum(np.log(self.y[np.arange(n), self.t] + 1e-7)) / n

    def backward(self, dout=1):
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx * dout / n


'''

CBOW = '''\
class CBOW:
    def __init__(self, vocab_size, hidden_size):
        W_in = 0.01 * np.random.randn(vocab_size, hidden_size)
        W_out = 0.01 * np.random.randn(hidden_size, vocab_size)
        self.in_layer0 = MatMul(W_in)
        self.in_layer1 = MatMul(W_in)
        self.out_layer = MatMul(W_out)
        self.loss_layer = SoftmaxWithLoss()
        self.params, self.grads = [], []
        layers = [self.in_layer0, self.in_layer1, self.out_layer]
        for layer in layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, contexts, target):
        h0 = self.in_layer0.forward(contexts[:, 0])
        h1 = self.in_layer1.forward(contexts[:, 1])
        h = (h0 + h1) * 0.5
        score = self.out_layer.forward(h)
        return self.loss_layer.forward(score, target)

    def backward(self, dout=1):
        ds = self.loss_layer.backward(dout)
        da = self.out_layer.backward(ds)
        {scale}
        self.in_layer1.backward(da)
        self.in_layer0.backward(da)
'''

SKIP_GRAM = '''\
class SkipGram:
    def __init__(self, vocab_size, hidden_size):
        W_in = 0.01 * np.random.randn(vocab_size, hidden_size)
        W_out = 0.01 * np.random.randn(hidden_size, vocab_size)
        self.in_layer = MatMul(W_in)
        self.out_layer = MatMul(W_out)
        self.loss_layer1 = SoftmaxWithLoss()
        self.loss_layer2 = SoftmaxWithLoss()
        layers = [self.in_layer, self.out_layer]
        self.params, self.grads = [], []
        for layer in layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, contexts, target):
        h = self.in_layer.forward(target)
        s = self.out_layer.forward(h)
        l1 = self.loss_layer1.forward(s, contexts[:, 0])
        l2 = self.loss_layer2.forward(s, contexts[:, 1])
        return l1 + l2

    def backward(self, dout=1):
        dl1 = self.loss_layer1.backward(dout)
        dl2 = self.loss_layer2.backward(dout)
        {ds}
        dh = self.out_layer.backward(ds)
        self.in_layer.backward(dh)
'''


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def built(report: dict, what: str) -> dict:
    return next(b for b in report["built"] if b["what"] == what)


def test_a_correct_cbow_is_checked_on_one_hot_context_windows_without_errors(tmp_path):
    path = tmp_path / "cbow.py"
    path.write_text(LAYERS + "\n\n" + CBOW.format(scale="da *= 0.5"), encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert built(report, "CBOW")["shapes"] == "x (5, 2, 6), t (5, 6)"
    # each side-by-side layer gets one context word (N, V), not the other layer's output (N, H)
    assert built(report, "in_layer1")["shapes"] == "input (5, 6)"
    assert built(report, "out_layer")["shapes"] == "input (5, 8)"


def test_a_cbow_that_forgets_to_average_the_context_gradients_is_reported_at_its_backward(tmp_path):
    path = tmp_path / "cbow.py"
    path.write_text(LAYERS + "\n\n" + CBOW.format(scale="da *= 1.0  # BUG: forward averaged the two words"), encoding="utf-8")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD101"]
    assert found, report["findings"]
    assert "in_layer0.W" in found[0]["message"] and "2 ×" in found[0]["message"]
    lines = (LAYERS + "\n\n" + CBOW).splitlines()
    backward = len(lines) - lines[::-1].index("    def backward(self, dout=1):")  # CBOW's, the last one
    assert found[0]["line"] in range(backward, backward + 6)
    assert not [f for f in report["findings"] if f["code"] in ("BPD102", "BPD105")]


def test_a_skip_gram_feeds_each_context_word_to_its_own_loss_layer(tmp_path):
    path = tmp_path / "skip_gram.py"
    path.write_text(LAYERS + "\n\n" + SKIP_GRAM.format(ds="ds = dl1 + dl2"), encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert built(report, "loss_layer2")["shapes"] == "input (5, 6)"
    assert built(report, "SkipGram")["shapes"] == "x (5, 2, 6), t (5, 6)"


def test_a_skip_gram_that_drops_the_second_context_word_gradient_is_reported(tmp_path):
    path = tmp_path / "skip_gram.py"
    path.write_text(LAYERS + "\n\n" + SKIP_GRAM.format(ds="ds = dl1  # BUG: dl2 left out"), encoding="utf-8")
    report = check(path)
    assert any(f["code"] == "BPD101" and "SkipGram" in f["message"] for f in errors(report)), report["findings"]


CONTEXT_SUM = '''\
import numpy as np


class MatMul:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]

    def forward(self, x):
        self.x = x
        return x @ self.params[0]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        return dout @ self.params[0].T


class ContextSum:
    """Sums the projections of the two context words; both share one weight matrix."""

    def __init__(self, W):
        self.layers = [MatMul(W), MatMul(W)]
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, contexts):
        return self.layers[0].forward(contexts[:, 0]) + self.layers[1].forward(contexts[:, 1])

    def backward(self, dout):
        dx0 = self.layers[0].backward(dout)
        dx1 = self.layers[1].backward(dout)
        return np.stack([dx0, dx1], axis=1)
'''


def context_sum(tmp_path: Path, text: str):
    path = tmp_path / "context_sum.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("context_sum", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    return module.ContextSum(rng.standard_normal((6, 4))), np.eye(6)[rng.integers(0, 6, (5, 2))]


def test_a_layer_listing_one_weight_twice_in_params_gets_the_sum_of_both_gradients(tmp_path):
    layer, x = context_sum(tmp_path, CONTEXT_SUM)
    report = backprop_doctor.check_layer(layer, x)
    assert report.errors == [], [f.message for f in report.findings]
    assert {(m.param, m.verdict) for m in report.measurements} == {("params[0]", "ok"), ("x", "ok")}


def test_a_layer_that_forgets_the_second_words_gradient_is_reported(tmp_path):
    right = "        dx1 = self.layers[1].backward(dout)\n"
    assert right in CONTEXT_SUM
    text = CONTEXT_SUM.replace(right, "        dx1 = dout @ self.params[1].T  # BUG: the second MatMul's dW is never computed\n")
    layer, x = context_sum(tmp_path, text)
    report = backprop_doctor.check_layer(layer, x)
    assert [f.param for f in report.errors if f.code == "BPD101"] == ["params[0]"], [f.message for f in report.findings]


def test_discovering_the_parameters_again_counts_each_entry_of_a_shared_array_once(tmp_path):
    from backprop_doctor.conventions import ClassLayer

    layer, x = context_sum(tmp_path, CONTEXT_SUM)
    adapter = ClassLayer(layer)
    before = adapter.attribute_ids()
    out = adapter.forward(x)
    adapter.backward(np.ones_like(out))
    for _ in range(2):  # once per case the layer is checked on (a batch, a single sample)
        adapter.discover_params(before)
    assert list(adapter.params()) == ["params[0]"]
    expected = layer.grads[0] + layer.grads[1]
    np.testing.assert_allclose(adapter.gradients_from(adapter.gradient_snapshot())["params[0]"], expected)
