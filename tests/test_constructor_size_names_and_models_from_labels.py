"""Constructor arguments named the way real layers name them, and whole models whose backward(labels)
computes its own loss through a criterion object they hold, are built and checked.

Before: `Dense(units_num, inputs_num=None)` was "nothing to check" (no rule for a `_num` suffix, and a
size whose default is None was passed None, which `1 / np.sqrt(self.inputs_num)` refuses); `Reshape(shape)`,
`RNNLayer(hidden_num, seq_length)` and `SequenceMean(seq_len)` likewise (no rule for a reshape's shape or
a sequence length). A container whose `backward(labels)` runs `self.criterion.forward(self.Z, labels)`,
then `self.criterion.backward()` and its layers in reverse, was named "not checked yet"; and a CMU-style
loss whose `forward(A, Y)` returns one loss per sample beside a `backward()` that takes nothing was, when
the program called it, checked as a layer of two inputs and reported wrong although it is right.
A reshape of the whole input (`np.reshape(x, self.new_shape)`) is tried on 12 numbers in all; a loss
whose forward takes the sequences' lengths (CTC) is named as not checked, its lengths not guessed.
A model whose backward(y) calls a loss function of the file (`cross_entropy(self.probs, y)`) is checked
the same way; when every layer is right for what it was handed, the finding points at the statement
before the layer loop that starts the gradient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_doctor import build

LAYERS_NUM = '''\
import numpy as np


class Dense:
    def __init__(self, units_num, inputs_num=None, use_bias=True):
        self.units_num = units_num
        self.inputs_num = inputs_num
        self.use_bias = use_bias
        self.build()

    def build(self):
        stdv = 1.0 / np.sqrt(self.inputs_num)
        self.w = np.random.uniform(-stdv, stdv, (self.inputs_num, self.units_num))
        self.b = np.zeros(self.units_num)

    def forward(self, X, training=True):
        self.input_data = X
        return np.dot(X, self.w) + self.b

    def backward(self, error):
        self.grad_w = np.sum(np.matmul(self.input_data.transpose(0, 2, 1), error), axis=0)
        self.grad_b = np.sum(error, axis=(0, 1))
        return np.dot(error, self.w.T)


class Reshape:
    def __init__(self, shape):
        self.shape = shape

    def forward_prop(self, X):
        self.prev_shape = X.shape
        return X.reshape(X.shape[0], *self.shape)

    def backward_prop(self, error):
        return error.reshape(self.prev_shape)
'''

STEPS = '''\
import numpy as np


class RNNLayer:
    def __init__(self, hidden_num, seq_length, inputs_num=None):
        self.seq_length = seq_length
        self.Wx = np.random.randn(inputs_num, hidden_num) / np.sqrt(inputs_num)
        self.Wh = np.random.randn(hidden_num, hidden_num) / np.sqrt(hidden_num)
        self.b = np.zeros(hidden_num)

    def forward(self, x):
        self.x = x
        self.hs = [np.zeros((x.shape[0], self.Wh.shape[0]))]
        for t in range(self.seq_length):
            self.hs.append(np.tanh(x[:, t] @ self.Wx + self.hs[-1] @ self.Wh + self.b))
        return np.stack(self.hs[1:], axis=1)

    def backward(self, dout):
        self.dWx = np.zeros_like(self.Wx)
        self.dWh = np.zeros_like(self.Wh)
        self.db = np.zeros_like(self.b)
        dx = np.zeros_like(self.x)
        dh_next = np.zeros_like(self.hs[0])
        for t in reversed(range(self.seq_length)):
            da = (dout[:, t] + dh_next) * (1 - self.hs[t + 1] ** 2)
            self.dWx += self.x[:, t].T @ da
            self.dWh += self.hs[t].T @ da
            self.db += da.sum(axis=0)
            dx[:, t] = da @ self.Wx.T
            dh_next = da @ self.Wh.T
        return dx


class SequenceMean:
    def __init__(self, seq_len):
        self.seq_len = seq_len

    def forward(self, x):
        self.shape = x.shape
        return x[:, : self.seq_len].mean(axis=1)

    def backward(self, dout):
        dx = np.zeros(self.shape)
        dx[:, : self.seq_len] = dout[:, None, :] / self.seq_len
        return dx
'''

MLP_CRITERION = '''\
import numpy as np


class Linear:
    def __init__(self, in_features, out_features):
        self.W = np.random.randn(out_features, in_features) * 0.5
        self.b = np.zeros((out_features, 1))

    def forward(self, A):
        self.A = A
        return A @ self.W.T + self.b.T

    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.sum(axis=0).reshape(-1, 1)
        return dLdZ @ self.W


class Tanh:
    def forward(self, Z):
        self.out = np.tanh(Z)
        return self.out

    def backward(self, dLdA):
        return dLdA * (1 - self.out ** 2)


class SoftmaxCrossEntropy:
    def forward(self, A, Y):
        e = np.exp(A - A.max(axis=1, keepdims=True))
        self.softmax = e / e.sum(axis=1, keepdims=True)
        self.Y = Y
        return -(Y * np.log(self.softmax)).sum(axis=1)

    def backward(self):
        return self.softmax - self.Y


class MLP:
    def __init__(self, criterion, lr=0.1):
        self.layers = [Linear(4, 6), Tanh(), Linear(6, 3)]
        self.criterion = criterion
        self.lr = lr

    def forward(self, A):
        for layer in self.layers:
            A = layer.forward(A)
        self.Z = A
        return A

    def backward(self, labels):
        self.loss = self.criterion.forward(self.Z, labels).sum()
        grad = self.criterion.backward()
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def step(self):
        for layer in self.layers:
            if isinstance(layer, Linear):
                layer.W -= self.lr * layer.dLdW
                layer.b -= self.lr * layer.dLdb


np.random.seed(0)
X = np.random.randn(8, 4)
Y = np.eye(3)[np.random.randint(0, 3, 8)]
model = MLP(SoftmaxCrossEntropy())
for epoch in range(3):
    model.forward(X)
    model.backward(Y)
    model.step()
    print(epoch, model.loss)
'''

NET_LOSS_FN = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.weights = np.random.randn(n_in, n_out) * 0.3
        self.bias = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.weights + self.bias

    def backprop(self, delta):
        self.grad_weights = self.x.T @ delta
        self.grad_bias = delta.sum(axis=0)
        return delta @ self.weights.T


class Sigmoid:
    def forward(self, x):
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backprop(self, delta):
        return delta * self.y * (1 - self.y)


class MeanSquaredError:
    def __call__(self, prediction, target):
        self.diff = prediction - target
        return 0.5 * np.mean(np.sum(self.diff ** 2, axis=1))

    def grad(self):
        return self.diff / len(self.diff)


class Net:
    def __init__(self, sizes, loss_fn):
        self.layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.layers += [Dense(a, b), Sigmoid()]
        self.loss_fn = loss_fn

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        self.out = x
        return x

    def backward(self, targets):
        self.loss_value = self.loss_fn(self.out, targets)
        delta = self.loss_fn.grad()
        for layer in self.layers[::-1]:
            delta = layer.backprop(delta)
        return delta


rng = np.random.default_rng(1)
X = rng.standard_normal((10, 3))
T = rng.random((10, 2))
net = Net([3, 5, 2], MeanSquaredError())
for i in range(3):
    net.forward(X)
    net.backward(T)
    for layer in net.layers:
        if isinstance(layer, Dense):
            layer.weights -= 0.5 * layer.grad_weights
            layer.bias -= 0.5 * layer.grad_bias
    print(i, net.loss_value)
'''

TARGET_CACHE = '''\
import numpy as np


class CharRNN:
    def __init__(self, vocab_size, hidden_size, cell_length):
        self.cell_length = cell_length
        self.Wx = np.random.randn(vocab_size, hidden_size) * 0.1
        self.Wy = np.random.randn(hidden_size, vocab_size) * 0.1

    def forward(self, X):
        hs, ps = {-1: np.zeros((X.shape[0], self.Wx.shape[1]))}, {}
        for t in range(self.cell_length):
            hs[t] = np.tanh(X[:, t] @ self.Wx + hs[t - 1])
            e = np.exp(hs[t] @ self.Wy)
            ps[t] = e / e.sum(axis=1, keepdims=True)
        return X, hs, ps

    def backward(self, Y, cache):
        X, hs, ps = cache
        self.loss = 0.0
        self.dWx, self.dWy = np.zeros_like(self.Wx), np.zeros_like(self.Wy)
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(self.cell_length)):
            self.loss -= np.log(ps[t][np.arange(len(Y)), Y[:, t]]).sum()
            dy = ps[t].copy()
            dy[np.arange(len(Y)), Y[:, t]] -= 1
            self.dWy += hs[t].T @ dy
            dh = (dy @ self.Wy.T + dh_next) * (1 - hs[t] ** 2)
            self.dWx += X[:, t].T @ dh
            dh_next = dh
'''

WHOLE_RESHAPE = '''\
import numpy as np


class Reshape:
    def __init__(self, new_shape):
        self.new_shape = new_shape

    def forward(self, x):
        self.x_shape = x.shape
        return np.reshape(x, self.new_shape)

    def backward(self, gy):
        return np.reshape(gy, self.x_shape)
'''

LENGTHS_LOSS = '''\
import numpy as np


class PaddedSequenceLoss:
    def forward(self, probs, target, input_lengths, target_lengths):
        self.probs, self.target, self.lengths = probs, target, input_lengths
        total = 0.0
        for b in range(probs.shape[1]):
            steps = probs[: input_lengths[b], b]
            total -= np.log(steps[np.arange(len(steps)), target[b, : len(steps)] % probs.shape[2]]).sum()
        return total / probs.shape[1]

    def backward(self):
        grad = np.zeros_like(self.probs)
        for b in range(self.probs.shape[1]):
            for t in range(self.lengths[b]):
                k = self.target[b, t] % self.probs.shape[2]
                grad[t, b, k] = -1.0 / self.probs[t, b, k]
        return grad / self.probs.shape[1]
'''

FUNCTION_LOSS = '''\
import numpy as np


def cross_entropy(probs, y):
    return -np.mean(np.log(probs[np.arange(len(y)), y]))


def cross_entropy_grad(probs, y):
    d = probs.copy()
    d[np.arange(len(y)), y] -= 1
    return d / len(y)


class Affine:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.2
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class SoftmaxOut:
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p

    def backward(self, dout):
        return self.p * (dout - (dout * self.p).sum(axis=1, keepdims=True))


class Classifier:
    def __init__(self):
        self.layers = [Affine(5, 7), ReLU(), Affine(7, 3), SoftmaxOut()]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        self.probs = x
        return x

    def backward(self, y):
        self.loss = cross_entropy(self.probs, y)
        grad = cross_entropy_grad(self.probs, y)
        grad = grad / self.probs  # through the softmax output: d loss / d p
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


np.random.seed(3)
X = np.random.randn(6, 5)
y = np.random.randint(0, 3, 6)
clf = Classifier()
clf.forward(X)
clf.backward(y)
print(clf.loss)
'''

CORRECT = {
    "function_loss": (FUNCTION_LOSS, ("Classifier",)),
    "whole_reshape": (WHOLE_RESHAPE, ("Reshape",)),
    "layers_num": (LAYERS_NUM, ("Dense", "Reshape")),
    "steps": (STEPS, ("RNNLayer", "SequenceMean")),
    "mlp_criterion": (MLP_CRITERION, ("MLP", "SoftmaxCrossEntropy", "Linear")),
    "net_loss_fn": (NET_LOSS_FN, ("Net",)),
}

PLANTED = {
    # a bias gradient averaged over the batch and the steps, not summed
    "dense_db": (LAYERS_NUM, "self.grad_b = np.sum(error, axis=(0, 1))", "self.grad_b = np.mean(error, axis=(0, 1))", "Dense"),
    "whole_reshape_scaled": (WHOLE_RESHAPE, "return np.reshape(gy, self.x_shape)", "return np.reshape(gy, self.x_shape) * 2", "Reshape"),
    "reshape_scaled": (LAYERS_NUM, "return error.reshape(self.prev_shape)", "return 0.5 * error.reshape(self.prev_shape)", "Reshape"),
    # the recurrent weight's gradient taken against the new state, not the one it multiplies
    "rnn_dWh": (STEPS, "self.dWh += self.hs[t].T @ da", "self.dWh += self.hs[t + 1].T @ da", "RNNLayer"),
    "mean_unscaled": (STEPS, "dout[:, None, :] / self.seq_len", "dout[:, None, :]", "SequenceMean"),
    # the model's backward scales the criterion's gradient of a summed loss by the batch
    "mlp_seed": (MLP_CRITERION, "grad = self.criterion.backward()", "grad = self.criterion.backward() / len(labels)", "MLP"),
    # the model's backward hands the softmax layer the gradient of its input, not of its output
    "function_loss_seed": (FUNCTION_LOSS, "        grad = grad / self.probs  # through the softmax output: d loss / d p\n", "", "Classifier"),
    # the criterion's own gradient: a per-sample mean loss without its 1/N
    "net_seed": (NET_LOSS_FN, "return self.diff / len(self.diff)", "return self.diff", "Net"),
    # a layer's bias gradient averaged over the batch: wrong inside the model too
    "net_layer_bias": (NET_LOSS_FN, "self.grad_bias = delta.sum(axis=0)", "self.grad_bias = delta.mean(axis=0)", "Net"),
    # the per-sample loss object's gradient divided by the batch although its samples' losses are summed
    "criterion_mean": (MLP_CRITERION, "return self.softmax - self.Y", "return (self.softmax - self.Y) / len(self.Y)", "SoftmaxCrossEntropy"),
}


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


def test_size_names_with_a_num_suffix_a_sequence_length_or_a_shape():
    assert build.integer_size("units_num") == build.CLASSES and build.integer_size("neurons_num") == build.CLASSES
    assert build.integer_size("inputs_num") == 12 and build.integer_size("input_node_num") == 12
    assert build.integer_size("heads_num") == 2 and build.integer_size("hidden_units_num") == 8
    for name in ("cell_length", "seq_len", "seq_length", "time_steps", "timesteps"):
        assert build.integer_size(name) == build.SEQUENCE_LENGTH, name
    # a bare count or a number is no size
    assert build.integer_size("num") is None and build.integer_size("count") is None


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_programs_are_built_checked_and_clean(tmp_path, case):
    program, names = CORRECT[case]
    path = tmp_path / f"{case}.py"
    path.write_text(program, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert not any(f["code"] in ("BPD007", "BPD008") for f in report["findings"]), report["findings"]
    for name in names:
        measured = [m for m in report["measurements"] if m["layer"].split(".")[0] == name]
        assert measured and all(m["verdict"] == "ok" for m in measured), report["measurements"]


def test_a_model_backward_from_labels_compares_its_input_gradient_too(tmp_path):
    path = tmp_path / "mlp.py"
    path.write_text(MLP_CRITERION, encoding="utf-8")
    report = check(path)
    params = {m["param"] for m in report["measurements"] if m["layer"] == "MLP"}
    assert {"x", "layers[0].W", "layers[0].b", "layers[2].W", "layers[2].b"} <= params, report["measurements"]


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_wrong_gradient_is_reported(tmp_path, case):
    program, right, wrong, layer = PLANTED[case]
    assert right in program
    path = tmp_path / f"{case}.py"
    path.write_text(program.replace(right, wrong), encoding="utf-8")
    report = check(path)
    assert any(f["layer"] and f["layer"].split(".")[0] == layer for f in errors(report)), report["findings"]


def test_a_model_whose_backward_takes_the_target_and_its_cache_is_named_not_checked(tmp_path):
    """`backward(Y, cache)` from integer targets (built now that `cell_length` has a size): named as not
    checked, never called as a layer's `backward(dout)` and reported as raising."""
    path = tmp_path / "char_rnn.py"
    path.write_text(TARGET_CACHE, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    skipped = [b["skipped"] for b in report["built"] if b["what"] == "CharRNN"]
    assert skipped and "backward(Y, cache)" in (skipped[0] or ""), report["built"]


def test_a_loss_taking_the_sequences_lengths_is_named_not_checked(tmp_path):
    """`forward(probs, target, input_lengths, target_lengths)` (a CTC loss): no length is guessed, and the
    reason is the lengths, not a forward that "raised on every input shape tried"."""
    path = tmp_path / "padded_loss.py"
    path.write_text(LENGTHS_LOSS, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    skipped = [b["skipped"] for b in report["built"] if b["what"] == "PaddedSequenceLoss"]
    assert skipped and "`input_lengths`, `target_lengths`" in (skipped[0] or ""), report["built"]


@pytest.mark.parametrize(
    ("program", "right", "wrong", "seed"),
    [
        (MLP_CRITERION, "grad = self.criterion.backward()", "grad = self.criterion.backward() / len(labels)", "grad = self.criterion.backward() / len(labels)"),
        (FUNCTION_LOSS, "        grad = grad / self.probs  # through the softmax output: d loss / d p\n", "", "grad = cross_entropy_grad(self.probs, y)"),
    ],
)
def test_a_wrong_start_of_the_models_backward_is_placed_there(tmp_path, program, right, wrong, seed):
    """Every layer right for the gradient it was handed: the statement before the layer loop that binds
    the gradient the loop starts from is where the finding points, not the loop's `grad = layer.backward(grad)`."""
    path = tmp_path / "seeded.py"
    text = program.replace(right, wrong)
    path.write_text(text, encoding="utf-8")
    report = check(path)
    line = next(i for i, written in enumerate(text.splitlines(), 1) if written.strip() == seed)
    model = [f for f in errors(report) if f["layer"] in ("MLP", "Classifier")]
    assert model and all(f["line"] == line for f in model), report["findings"]


def test_a_criterion_handed_another_array_than_the_forward_returns_is_named_not_checked(tmp_path):
    """forward returns probabilities while backward hands its criterion the logits it kept, and keeps no
    loss: which loss the gradients are of is not known, so the model is named as not checked, not judged."""
    text = MLP_CRITERION.replace("        self.Z = A\n        return A\n", "        self.Z = A\n        return np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)\n")
    text = text.replace("self.loss = self.criterion.forward(self.Z, labels).sum()", "self.criterion.forward(self.Z, labels)").replace("    print(epoch, model.loss)\n", "")
    assert "return np.exp(A)" in text and "self.loss =" not in text
    path = tmp_path / "other_prediction.py"
    path.write_text(text, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    skipped = [b["skipped"] for b in report["built"] if b["what"] == "MLP"]
    assert skipped and "handed something other than what its forward returns" in (skipped[0] or ""), report["built"]
