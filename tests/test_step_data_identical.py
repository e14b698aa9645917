"""Data that carries no information while every gradient is right: inputs whose every sample is the same
(`X = raw // 255` on 8-bit pixels makes every value 0) are `step-inputs-identical` (BPD637) at the line that
binds them; targets whose every row is the same (a label smoothing of 1, a one-hot of one label) are
`step-targets-identical` (BPD638) at theirs, with the setting that makes them so. The correct twins, an
autoencoder, one-hot input rows, a constant column and a data set of one sample stay quiet.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# A script with functions: 6x6 grey images of a bright square in one of four corners, a two-layer network.
PIXELS = '''\
import numpy as np

gen = np.random.default_rng(7)


def corner_images(count):
    """uint8 images: the class is the corner holding a bright 3x3 square."""
    classes = gen.integers(0, 4, count)
    images = gen.uniform(0, 40, (count, 6, 6))
    for k, c in enumerate(classes):
        r, q = divmod(int(c), 2)
        images[k, 3 * r:3 * r + 3, 3 * q:3 * q + 3] += 200
    return images.astype(np.uint8), classes


def step(xb, tb, A, a, B, b):
    m = xb.shape[0]
    pre = xb @ A + a
    act = np.maximum(pre, 0.0)
    z = act @ B + b
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    cost = -np.sum(tb * np.log(p)) / m
    dz = (p - tb) / m
    dB = act.T @ dz
    db = dz.sum(axis=0)
    dpre = (dz @ B.T) * (pre > 0)
    dA = xb.T @ dpre
    da = dpre.sum(axis=0)
    return cost, (dA, da, dB, db)


pics, classes = corner_images(200)
inputs = pics.reshape(len(pics), -1) / 255.0
onehot = np.eye(4)[classes]
A = gen.normal(0.0, 0.1, (36, 16))
a = np.zeros(16)
B = gen.normal(0.0, 0.1, (16, 4))
b = np.zeros(4)
rate = 0.5
for epoch in range(30):
    order = gen.permutation(len(inputs))
    for s in range(0, len(inputs), 20):
        pick = order[s:s + 20]
        cost, (dA, da, dB, db) = step(inputs[pick], onehot[pick], A, a, B, b)
        A -= rate * dA
        a -= rate * da
        B -= rate * dB
        b -= rate * db
    print(epoch, cost)
'''

# A class network trained full-batch on smoothed labels.
SMOOTHED = '''\
import numpy as np

np.random.seed(3)
n_classes = 3
pts = np.random.randn(300, 2)
tags = (np.arctan2(pts[:, 1], pts[:, 0]) + np.pi) * n_classes // (2 * np.pi)
tags = np.minimum(tags.astype(int), n_classes - 1)
eps = 0.1
soft = np.eye(n_classes)[tags] * (1.0 - eps) + eps / n_classes


class Net:
    def __init__(self, d, h, k):
        self.W1 = np.random.randn(d, h) * 0.5
        self.b1 = np.zeros(h)
        self.W2 = np.random.randn(h, k) * 0.1
        self.b2 = np.zeros(k)

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        s = self.h @ self.W2 + self.b2
        s = s - s.max(axis=1, keepdims=True)
        self.p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        return self.p

    def loss(self, t):
        return -np.sum(t * np.log(self.p)) / len(t)

    def backward(self, t):
        ds = (self.p - t) / len(t)
        self.dW2 = self.h.T @ ds
        self.db2 = ds.sum(axis=0)
        dz = (ds @ self.W2.T) * (1 - self.h ** 2)
        self.dW1 = self.x.T @ dz
        self.db1 = dz.sum(axis=0)


net = Net(2, 20, n_classes)
for it in range(200):
    net.forward(pts)
    value = net.loss(soft)
    net.backward(soft)
    net.W1 -= 1.0 * net.dW1
    net.b1 -= 1.0 * net.db1
    net.W2 -= 1.0 * net.dW2
    net.b2 -= 1.0 * net.db2
    if it % 50 == 0:
        print(it, value)
'''


def _ours(report: dict, name: str) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == name]


def test_pixels_floored_to_zero_are_named_at_the_line_that_scales_them(tmp_path):
    path = planted(tmp_path, "pixels.py", PIXELS, "inputs = pics.reshape(len(pics), -1) / 255.0", "inputs = pics.reshape(len(pics), -1) // 255")
    report = check(path, training=True)
    (finding,) = _ours(report, "step-inputs-identical")
    assert (finding["code"], finding["severity"]) == ("BPD637", "warning")
    assert finding["line"] == line_of(path, "inputs = pics.reshape")
    assert "every value of `inputs` is 0" in finding["message"]
    assert "`//`" in finding["message"] and "divide with `/`" in finding["message"]
    assert _ours(report, "step-targets-identical") == []
    assert errors(report) == []


def test_the_pixels_divided_with_a_slash_are_quiet(tmp_path):
    report = check(write(tmp_path, "pixels_ok.py", PIXELS), training=True)
    assert _ours(report, "step-inputs-identical") == [] and _ours(report, "step-targets-identical") == []


def test_a_label_smoothing_of_one_is_named_with_its_setting(tmp_path):
    path = planted(tmp_path, "smoothed.py", SMOOTHED, "eps = 0.1", "eps = 1.0")
    report = check(path, training=True)
    (finding,) = _ours(report, "step-targets-identical")
    assert (finding["code"], finding["severity"]) == ("BPD638", "warning")
    assert finding["line"] == line_of(path, "soft = np.eye")
    assert line_of(path, "eps = 1.0") in finding["highlight"]
    assert "`eps = 1.0`" in finding["message"] and "`(1 - eps)` 0" in finding["message"]
    assert _ours(report, "step-inputs-identical") == []


def test_a_smoothing_below_one_is_quiet(tmp_path):
    report = check(write(tmp_path, "smoothed_ok.py", SMOOTHED), training=True)
    assert _ours(report, "step-inputs-identical") == [] and _ours(report, "step-targets-identical") == []


def test_a_one_hot_of_one_constant_label_is_a_generic_warning(tmp_path):
    path = planted(tmp_path, "constant.py", PIXELS, "onehot = np.eye(4)[classes]", "onehot = np.eye(4)[np.zeros(len(classes), dtype=int)]")
    report = check(path, training=True)
    (finding,) = _ours(report, "step-targets-identical")
    assert finding["line"] == line_of(path, "onehot = np.eye")
    assert "`onehot`" in finding["message"] and "[1. 0. 0. 0.]" in finding["message"]


QUIET = {
    # an autoencoder: the targets are the inputs, and they vary
    "autoencoder.py": '''\
        import numpy as np

        rng = np.random.default_rng(1)
        X = rng.normal(size=(120, 5))
        E = rng.normal(0, 0.3, (5, 2))
        D = rng.normal(0, 0.3, (2, 5))
        for t in range(100):
            code = X @ E
            out = code @ D
            err = out - X
            loss = np.mean(err ** 2)
            dout = 2 * err / err.size
            dD = code.T @ dout
            dE = X.T @ (dout @ D.T)
            D -= 0.5 * dD
            E -= 0.5 * dE
        ''',
    # inputs that are one-hot rows (a word's index), targets that vary
    "one_hot_inputs.py": '''\
        import numpy as np

        rng = np.random.default_rng(2)
        words = rng.integers(0, 6, 90)
        X = np.eye(6)[words]
        y = np.sin(words)[:, None] + 0.1 * rng.normal(size=(90, 1))
        W = rng.normal(0, 0.1, (6, 1))
        for t in range(100):
            pred = X @ W
            loss = np.mean((pred - y) ** 2)
            W -= 0.5 * X.T @ (2 * (pred - y) / len(y))
        ''',
    # a constant column beside varying ones: rows still differ
    "constant_column.py": '''\
        import numpy as np

        rng = np.random.default_rng(3)
        X = np.c_[np.ones(80), rng.normal(size=(80, 2))]
        y = X @ np.array([[0.5], [1.0], [-2.0]])
        w = np.zeros((3, 1))
        for t in range(100):
            r = X @ w - y
            loss = np.mean(r ** 2)
            w -= 0.1 * X.T @ (2 * r / len(r))
        ''',
    # a data set of one sample
    "one_sample.py": '''\
        import numpy as np

        X = np.zeros((1, 3))
        X[0] = [0.2, -0.4, 0.9]
        y = np.array([[1.0]])
        w = np.full((3, 1), 0.1)
        for t in range(50):
            r = X @ w - y
            loss = np.mean(r ** 2)
            w -= 0.3 * X.T @ (2 * r / len(r))
        ''',
}


def test_varying_data_one_hot_inputs_a_constant_column_and_one_sample_are_quiet(tmp_path):
    for name, text in QUIET.items():
        report = check(write(tmp_path, name, text), training=True)
        assert _ours(report, "step-inputs-identical") == [], name
        assert _ours(report, "step-targets-identical") == [], name


# A class whose `fit` holds the loop, handed the module's arrays under names of its own.
FITTED = '''\
import numpy as np

rng = np.random.default_rng(0)


class Regressor:
    def __init__(self):
        self.W1 = rng.normal(0, 0.5, (3, 8))
        self.W2 = rng.normal(0, 0.5, (8, 1))

    def fit(self, data, target, epochs=100):
        for e in range(epochs):
            h = np.tanh(data @ self.W1)
            out = h @ self.W2
            loss = np.mean((out - target) ** 2)
            d = 2 * (out - target) / len(target)
            dW2 = h.T @ d
            dW1 = data.T @ ((d @ self.W2.T) * (1 - h ** 2))
            self.W1 -= 0.1 * dW1
            self.W2 -= 0.1 * dW2


feats = rng.normal(size=(50, 3))
ys = np.sin(feats[:, :1]) + 0.1 * rng.normal(size=(50, 1))
Regressor().fit(feats, ys)
'''


def test_one_row_repeated_for_every_sample_is_named_where_the_caller_binds_it(tmp_path):
    path = planted(tmp_path, "fitted.py", FITTED, "feats = rng.normal(size=(50, 3))", "feats = np.tile(rng.normal(size=3), (50, 1))")
    report = check(path, training=True)
    (finding,) = _ours(report, "step-inputs-identical")
    assert finding["line"] == line_of(path, "feats = np.tile")
    assert "every sample of `feats` is the same" in finding["message"] and "for all 50 samples" in finding["message"]


def test_the_regressor_fitted_on_varying_rows_is_quiet(tmp_path):
    report = check(write(tmp_path, "fitted_ok.py", FITTED), training=True)
    assert _ours(report, "step-inputs-identical") == [] and _ours(report, "step-targets-identical") == []
