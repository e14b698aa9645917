"""Dropout on two or more hidden layers, written by hand: the scale of inverted dropout (`/ keep`) and the mask
must be in the backward pass wherever the forward pass has them.

A Nielsen-style network whose `backprop(x, y, masks)` computes no loss and leaves `/ keep` out of the statement
its loop over the layers runs once per hidden layer makes the last hidden layer's gradients 0.7 × the loss's and
the one before it 0.49 ×: only the output layer's gradients are at the program's own scale (1/batch), a
minority, so the replay used to find no usual loss that fits ("follow none of the losses its output error
implies", a warning without a line). The output layer's exact 1/batch is now the program's scale, and the
factors, powers of one, are named at the adjoint's statement. Where the update divides by the batch
(`w - lr / len(pick) * g`, Nielsen's own way), the gradients are located where the list's entries are stored, not
at the update (which used to name `pick = idx[start:start + batch]`, read by `len(pick)`, even with one hidden layer).

A function-style script (`forward(X, params, keep)` drawing its masks, `backward(cache, y, params)`) that keeps
the scale and leaves the mask out of the backward (`dh2 = dh2 / keep` beside the forward's `h2 = h2 * m2 / keep`)
used to be blamed on the statement before it (`dh2 = dz3 @ W3.T`, "line 51 only rescales it"); a mask the
backward function never reads (unpacked from the cache, then left) was a wrong derivative to re-derive. Both are
now named as the mask left out, at the statement that should apply it.

Book-style layer classes (a `Dropout` used twice in the layer list) were already named at `Dropout.backward`.
Correct twins, inverted or plain dropout scaled at test time, are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, write

NIELSEN = '''\
import numpy as np


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class DropNet:
    def __init__(self, layers, keep_prob=0.7):
        self.layers = layers
        self.keep_prob = keep_prob
        self.biases = [np.zeros((n, 1)) for n in layers[1:]]
        self.weights = [np.random.randn(n, m) * np.sqrt(1.0 / m) for m, n in zip(layers[:-1], layers[1:])]

    def predict(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sig(w @ a + b)
        return a

    def draw(self, count):
        return [(np.random.rand(n, count) < self.keep_prob).astype(float) for n in self.layers[1:-1]]

    def run(self, x, masks):
        outs = [x]
        pre = []
        a = x
        for i, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ a + b
            pre.append(z)
            a = sig(z)
            if i < len(self.weights) - 1:
                a = a * masks[i] / self.keep_prob
            outs.append(a)
        return pre, outs

    def backprop(self, x, y, masks):
        grad_b = [None] * len(self.biases)
        grad_w = [None] * len(self.weights)
        pre, outs = self.run(x, masks)
        n = x.shape[1]
        d = (outs[-1] - y) / n
        grad_b[-1] = d.sum(axis=1, keepdims=True)
        grad_w[-1] = d @ outs[-2].T
        for k in range(2, len(self.layers)):
            s = sig(pre[-k])
            d = (self.weights[-k + 1].T @ d) * masks[-k + 1] / self.keep_prob * s * (1 - s)
            grad_b[-k] = d.sum(axis=1, keepdims=True)
            grad_w[-k] = d @ outs[-k - 1].T
        return grad_b, grad_w

    def train(self, X, Y, epochs, batch, lr):
        count = X.shape[1]
        for e in range(epochs):
            idx = np.random.permutation(count)
            for start in range(0, count, batch):
                pick = idx[start:start + batch]
                masks = self.draw(len(pick))
                grad_b, grad_w = self.backprop(X[:, pick], Y[:, pick], masks)
                self.weights = [w - lr * g for w, g in zip(self.weights, grad_w)]
                self.biases = [b - lr * g for b, g in zip(self.biases, grad_b)]
            if e % 10 == 0:
                print(e, np.mean(np.argmax(self.predict(X), axis=0) == np.argmax(Y, axis=0)))


np.random.seed(7)
X = np.random.randn(6, 240)
Y = np.eye(2)[:, (X[0] * X[1] + X[2] > 0).astype(int)]
net = DropNet([6, 16, 12, 2], keep_prob=0.7)
net.train(X, Y, 40, 24, 1.5)
'''

NIELSEN_BACKWARD = "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] / self.keep_prob * s * (1 - s)"

# plain dropout: no scale while training, the activations scaled by keep at test time
NIELSEN_PLAIN = [
    ("a = a * masks[i] / self.keep_prob", "a = a * masks[i]"),
    (NIELSEN_BACKWARD, "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] * s * (1 - s)"),
    (
        "        for b, w in zip(self.biases, self.weights):\n            a = sig(w @ a + b)\n        return a",
        "        for i, (b, w) in enumerate(zip(self.biases, self.weights)):\n            a = sig(w @ a + b)\n"
        "            if i < len(self.weights) - 1:\n                a = a * self.keep_prob\n        return a",
    ),
]

FUNCTIONS = '''\
import numpy as np


def relu(z):
    return np.maximum(0, z)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def init_params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for i in range(1, len(sizes)):
        params["W" + str(i)] = rng.normal(0, np.sqrt(2.0 / sizes[i - 1]), (sizes[i - 1], sizes[i]))
        params["b" + str(i)] = np.zeros(sizes[i])
    return params


def forward(X, params, keep):
    z1 = X @ params["W1"] + params["b1"]
    h1 = relu(z1)
    m1 = (np.random.rand(*h1.shape) < keep).astype(float)
    h1 = h1 * m1 / keep
    z2 = h1 @ params["W2"] + params["b2"]
    h2 = relu(z2)
    m2 = (np.random.rand(*h2.shape) < keep).astype(float)
    h2 = h2 * m2 / keep
    z3 = h2 @ params["W3"] + params["b3"]
    probs = softmax(z3)
    cache = (X, z1, h1, m1, z2, h2, m2, probs)
    return probs, cache


def cross_entropy(probs, y):
    return -np.mean(np.log(probs[np.arange(len(y)), y] + 1e-12))


def backward(cache, y, params):
    X, z1, h1, m1, z2, h2, m2, probs = cache
    n = len(y)
    dz3 = probs.copy()
    dz3[np.arange(n), y] -= 1
    dz3 /= n
    grads = {}
    grads["W3"] = h2.T @ dz3
    grads["b3"] = dz3.sum(axis=0)
    dh2 = dz3 @ params["W3"].T
    dh2 = dh2 * m2 / keep
    dz2 = dh2 * (z2 > 0)
    grads["W2"] = h1.T @ dz2
    grads["b2"] = dz2.sum(axis=0)
    dh1 = dz2 @ params["W2"].T
    dh1 = dh1 * m1 / keep
    dz1 = dh1 * (z1 > 0)
    grads["W1"] = X.T @ dz1
    grads["b1"] = dz1.sum(axis=0)
    return grads


np.random.seed(3)
X = np.random.randn(400, 8)
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 0.8).astype(int)
params = init_params([8, 32, 32, 3])
keep = 0.8
lr = 0.1
for epoch in range(200):
    idx = np.random.choice(len(X), 64, replace=False)
    probs, cache = forward(X[idx], params, keep)
    loss = cross_entropy(probs, y[idx])
    grads = backward(cache, y[idx], params)
    for k in params:
        params[k] -= lr * grads[k]
    if epoch % 50 == 0:
        print(epoch, loss)
'''

# the scale folded into the mask where it is drawn: `dh * m` is all the backward needs
FUNCTIONS_FOLDED = [
    ("m1 = (np.random.rand(*h1.shape) < keep).astype(float)", "m1 = (np.random.rand(*h1.shape) < keep) / keep"),
    ("m2 = (np.random.rand(*h2.shape) < keep).astype(float)", "m2 = (np.random.rand(*h2.shape) < keep) / keep"),
    ("h1 = h1 * m1 / keep", "h1 = h1 * m1"),
    ("h2 = h2 * m2 / keep", "h2 = h2 * m2"),
    ("dh2 = dh2 * m2 / keep", "dh2 = dh2 * m2"),
    ("dh1 = dh1 * m1 / keep", "dh1 = dh1 * m1"),
]

# plain dropout: `forward(X, params, keep, train=False)` scales by keep instead of masking
FUNCTIONS_PLAIN = [
    ("def forward(X, params, keep):", "def forward(X, params, keep, train=True):"),
    ("    m1 = (np.random.rand(*h1.shape) < keep).astype(float)\n    h1 = h1 * m1 / keep",
     "    m1 = (np.random.rand(*h1.shape) < keep).astype(float) if train else np.full(h1.shape, keep)\n    h1 = h1 * m1"),
    ("    m2 = (np.random.rand(*h2.shape) < keep).astype(float)\n    h2 = h2 * m2 / keep",
     "    m2 = (np.random.rand(*h2.shape) < keep).astype(float) if train else np.full(h2.shape, keep)\n    h2 = h2 * m2"),
    ("dh2 = dh2 * m2 / keep", "dh2 = dh2 * m2"),
    ("dh1 = dh1 * m1 / keep", "dh1 = dh1 * m1"),
    ("        print(epoch, loss)", "        print(epoch, loss, cross_entropy(forward(X, params, keep, train=False)[0], y))"),
]

LAYERS = '''\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x, train_flg=True):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x, train_flg=True):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Dropout:
    def __init__(self, keep_ratio=0.8):
        self.keep_ratio = keep_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) < self.keep_ratio
            return x * self.mask / self.keep_ratio
        return x

    def backward(self, dout):
        return dout * self.mask / self.keep_ratio


class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        return -np.mean(np.log(self.y[np.arange(len(t)), t] + 1e-7))

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx * dout / len(self.t)


class Net:
    def __init__(self, sizes, keep_ratio=0.8):
        rng = np.random.default_rng(0)
        self.layers = []
        for i in range(len(sizes) - 1):
            W = rng.normal(0, np.sqrt(2.0 / sizes[i]), (sizes[i], sizes[i + 1]))
            self.layers.append(Affine(W, np.zeros(sizes[i + 1])))
            if i < len(sizes) - 2:
                self.layers.append(Relu())
                self.layers.append(Dropout(keep_ratio))
        self.last = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            x = layer.forward(x, train_flg)
        return x

    def loss(self, x, t, train_flg=False):
        return self.last.forward(self.predict(x, train_flg), t)

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        dout = self.last.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = []
        for layer in self.layers:
            if isinstance(layer, Affine):
                grads.append((layer.dW, layer.db))
        return grads


np.random.seed(1)
X = np.random.randn(300, 6)
t = (X[:, 0] * X[:, 1] > 0).astype(int)
net = Net([6, 24, 24, 2], keep_ratio=0.8)
lr = 0.1
for it in range(300):
    idx = np.random.choice(300, 32)
    grads = net.gradient(X[idx], t[idx])
    affines = [l for l in net.layers if isinstance(l, Affine)]
    for layer, (dW, db) in zip(affines, grads):
        layer.W -= lr * dW
        layer.b -= lr * db
    if it % 100 == 0:
        print(it, net.loss(X, t))
'''

# the book's own dropout: no scale while training, `x * (1 - ratio)` at test time
LAYERS_PLAIN = [
    ("            return x * self.mask / self.keep_ratio\n        return x",
     "            return x * self.mask\n        return x * self.keep_ratio"),
    ("return dout * self.mask / self.keep_ratio", "return dout * self.mask"),
]


def _edited(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


# Nielsen's own way: the output error summed over the batch, the update dividing by its size
NIELSEN_SUMMED = [
    ("        d = (outs[-1] - y) / n\n", "        d = outs[-1] - y\n"),
    ("self.weights = [w - lr * g for", "self.weights = [w - lr / len(pick) * g for"),
    ("self.biases = [b - lr * g for", "self.biases = [b - lr / len(pick) * g for"),
]

CLEAN = {
    "nielsen-inverted": NIELSEN,
    "nielsen-plain": _edited(NIELSEN, NIELSEN_PLAIN),
    "nielsen-summed": _edited(NIELSEN, NIELSEN_SUMMED),
    "nielsen-three-hidden": NIELSEN.replace("DropNet([6, 16, 12, 2], keep_prob=0.7)", "DropNet([6, 16, 12, 10, 2], keep_prob=0.5)"),
    "functions-inverted": FUNCTIONS,
    "functions-folded-mask": _edited(FUNCTIONS, FUNCTIONS_FOLDED),
    "functions-plain": _edited(FUNCTIONS, FUNCTIONS_PLAIN),
    "layers-inverted": LAYERS,
    "layers-plain": _edited(LAYERS, LAYERS_PLAIN),
}


@pytest.mark.parametrize("name", list(CLEAN))
def test_right_dropout_on_two_hidden_layers_is_clean(tmp_path, name):
    report = check(write(tmp_path, "drop.py", CLEAN[name]), training=True)
    assert errors(report) == []


@pytest.mark.parametrize(
    "text, wrong, factors",
    [
        (NIELSEN, "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] * s * (1 - s)", ("0.7 ×", "0.49 ×")),
        (NIELSEN.replace("DropNet([6, 16, 12, 2], keep_prob=0.7)", "DropNet([6, 16, 12, 10, 2], keep_prob=0.5)"),
         "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] * s * (1 - s)", ("0.5 ×", "0.25 ×", "0.125 ×")),
        (_edited(NIELSEN, NIELSEN_SUMMED), "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] * s * (1 - s)", ("0.7 ×", "0.49 ×")),
        # one hidden layer, the update dividing: was named at `pick = idx[start:start + batch]`, which `len(pick)` reads
        (_edited(NIELSEN, NIELSEN_SUMMED).replace("DropNet([6, 16, 12, 2]", "DropNet([6, 16, 2]"),
         "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] * s * (1 - s)", ("0.7 ×",)),
    ],
    ids=["two-hidden", "three-hidden", "divided-in-the-update", "one-hidden-divided-in-the-update"],
)
def test_nielsen_keep_left_out_of_the_backward_is_named_with_its_compounded_factors(tmp_path, text, wrong, factors):
    path = write(tmp_path, "drop.py", _edited(text, [(NIELSEN_BACKWARD, wrong)]))
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, wrong), "scaled")], found
    assert all(factor in found[0]["message"] for factor in factors), found[0]["message"]


def test_nielsen_keep_left_out_of_the_forward_is_named_at_the_backward_that_keeps_it(tmp_path):
    path = write(tmp_path, "drop.py", _edited(NIELSEN, [("a = a * masks[i] / self.keep_prob", "a = a * masks[i]")]))
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"]) for f in found] == [("BPD108", line_of(path, NIELSEN_BACKWARD))], found
    assert "1.43 ×" in found[0]["message"] and "2.04 ×" in found[0]["message"]


def test_nielsen_mask_left_out_of_the_backward_is_named(tmp_path):
    wrong = "d = (self.weights[-k + 1].T @ d) / self.keep_prob * s * (1 - s)"
    path = write(tmp_path, "drop.py", _edited(NIELSEN, [(NIELSEN_BACKWARD, wrong)]))
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, wrong), "mask-left-out")], found
    forward = "a = a * masks[i] / self.keep_prob"
    assert f"multiplies by `masks[i]` as well as by the scale (`{forward}`, line {line_of(path, forward)})" in found[0]["message"]


@pytest.mark.parametrize(
    "pairs, wrong, words",
    [
        ([("dh2 = dh2 * m2 / keep", "dh2 = dh2 * m2"), ("dh1 = dh1 * m1 / keep", "dh1 = dh1 * m1")], "dh2 = dh2 * m2", "0.8 ×"),
        ([("h2 = h2 * m2 / keep", "h2 = h2 * m2"), ("h1 = h1 * m1 / keep", "h1 = h1 * m1")], "dh2 = dh2 * m2 / keep", "1.25 ×"),
    ],
    ids=["backward", "forward"],
)
def test_functions_keep_left_out_on_one_side_is_named_at_the_last_hidden_layer(tmp_path, pairs, wrong, words):
    path = write(tmp_path, "drop.py", _edited(FUNCTIONS, pairs))
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"]) for f in found] == [("BPD108", line_of(path, wrong))], found
    assert words in found[0]["message"]


def test_functions_scale_without_its_mask_is_named_at_the_scale(tmp_path):
    path = write(tmp_path, "drop.py", _edited(FUNCTIONS, [("dh2 = dh2 * m2 / keep", "dh2 = dh2 / keep"), ("dh1 = dh1 * m1 / keep", "dh1 = dh1 / keep")]))
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, "dh2 = dh2 / keep"), "mask-left-out")], found
    assert f"(`h2 = h2 * m2 / keep`, line {line_of(path, 'h2 = h2 * m2 / keep')})" in found[0]["message"]
    assert found[0]["message"].endswith("`dh2 = dh2 * m2 / keep`")


def test_functions_mask_the_backward_never_reads_is_named(tmp_path):
    path = write(tmp_path, "drop.py", _edited(_edited(FUNCTIONS, FUNCTIONS_FOLDED), [("    dh2 = dh2 * m2\n", ""), ("    dh1 = dh1 * m1\n", "")]))
    found = errors(check(path, training=True))
    wrong = 'dh2 = dz3 @ params["W3"].T'
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, wrong), "mask-left-out")], found
    assert f"the mask `m2` drawn at line {line_of(path, 'm2 = (np.random.rand')}" in found[0]["message"]


@pytest.mark.parametrize(
    "wrong, words",
    [
        ("return dout * self.mask", "0.8 ×"),
        ("return dout / self.keep_ratio", "`self.mask`"),
    ],
    ids=["keep", "mask"],
)
def test_a_dropout_layer_used_twice_is_named_at_its_backward(tmp_path, wrong, words):
    path = write(tmp_path, "drop.py", _edited(LAYERS, [("return dout * self.mask / self.keep_ratio", wrong)]))
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"]) for f in found] == [("BPD101", line_of(path, wrong))], found
    assert "Dropout" in found[0]["message"] and words in found[0]["message"]


def test_a_dropout_layer_scaling_only_its_backward_is_named(tmp_path):
    path = write(tmp_path, "drop.py", _edited(LAYERS, [("return x * self.mask / self.keep_ratio", "return x * self.mask")]))
    found = errors(check(path, training=True))
    backward = "return dout * self.mask / self.keep_ratio"
    assert [(f["code"], f["line"]) for f in found] == [("BPD101", line_of(path, backward))], found
    assert "1.25 ×" in found[0]["message"]
