"""A network whose layers live in lists or tuples of its own (`self.dense = [Dense(...), ...]`,
`self.stack = (Linear(...), ReLU(), Linear(...))`) beside a loss layer it holds under a loss
layer's name (`self.loss_layer`, `self.lastLayer`): the loss layer is the only layer the network's
attributes show, and it is checked on the prediction the network hands it, not on the network's
input (which made its forward raise, reported as the user's error). The right programs are clean; a
loss layer's gradient left undivided by the batch is named at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

# style 1: book-style params dict, layers in two lists (affine ones, activations), a squared error
LISTS = """\
import numpy as np


class Dense:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y ** 2)


class HalfSquaredError:
    def forward(self, pred, target):
        self.pred, self.target = pred, target
        return 0.5 * np.sum((pred - target) ** 2) / len(pred)

    def backward(self, dout=1.0):
        return dout * (self.pred - self.target) / len(self.pred)


class Regressor:
    def __init__(self, sizes, seed=3):
        rng = np.random.default_rng(seed)
        self.params = {}
        self.dense = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1):
            self.params["W%d" % i] = rng.normal(0, 0.6, (a, b))
            self.params["b%d" % i] = np.zeros(b)
            self.dense.append(Dense(self.params["W%d" % i], self.params["b%d" % i]))
        self.squash = [Tanh(), Tanh()]
        self.loss_layer = HalfSquaredError()

    def predict(self, x):
        for i in range(2):
            x = self.squash[i].forward(self.dense[i].forward(x))
        return self.dense[2].forward(x)

    def loss(self, x, t):
        return self.loss_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        g = self.loss_layer.backward()
        g = self.dense[2].backward(g)
        for i in (1, 0):
            g = self.dense[i].backward(self.squash[i].backward(g))
        return {"W%d" % (i + 1): d.dW for i, d in enumerate(self.dense)} | {"b%d" % (i + 1): d.db for i, d in enumerate(self.dense)}


rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, (40, 4))
T = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2], X[:, 3]], axis=1)
net = Regressor([4, 6, 6, 3])
for step in range(150):
    grads = net.gradient(X, T)
    for key in net.params:
        net.params[key] -= 0.5 * grads[key]
    if step % 50 == 0:
        print(step, net.loss(X, T))
"""

# style 2: one tuple of layers run in a loop, one-hot targets, softmax cross-entropy as `lastLayer`
TUPLE = """\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.inp = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.dW = self.inp.T @ grad
        self.db = grad.sum(0)
        return grad @ self.W.T


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask


class SoftmaxCrossEntropy:
    def forward(self, scores, onehot):
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        self.onehot = onehot
        return -np.sum(onehot * np.log(self.p + 1e-12)) / scores.shape[0]

    def backward(self, dout=1):
        return dout * (self.p - self.onehot) / self.p.shape[0]


class Classifier:
    def __init__(self, rng):
        self.stack = (Linear(5, 7, rng), ReLU(), Linear(7, 3, rng))
        self.params = {}
        for i in (0, 2):
            self.params["W%d" % i] = self.stack[i].W
            self.params["b%d" % i] = self.stack[i].b
        self.lastLayer = SoftmaxCrossEntropy()

    def predict(self, x):
        for part in self.stack:
            x = part.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        g = self.lastLayer.backward(1)
        for part in reversed(self.stack):
            g = part.backward(g)
        grads = {}
        for i in (0, 2):
            grads["W%d" % i] = self.stack[i].dW
            grads["b%d" % i] = self.stack[i].db
        return grads


rng = np.random.default_rng(5)
x = rng.standard_normal((60, 5))
labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
t = np.eye(3)[labels]
model = Classifier(rng)
for epoch in range(100):
    grads = model.gradient(x, t)
    for name in model.params:
        model.params[name] -= 0.3 * grads[name]
    if epoch % 25 == 0:
        print(epoch, model.loss(x, t))
"""


def test_a_loss_layer_beside_layer_lists_is_checked_on_the_prediction(tmp_path):
    for name, text in (("lists.py", LISTS), ("tuple.py", TUPLE)):
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""))
        flagged = [(f["code"], f["line"]) for f in report["findings"] if f["severity"] in ("error", "warning")]
        assert flagged == [], (name, flagged)


def test_a_loss_layer_beside_layer_lists_is_named_at_its_wrong_line(tmp_path):
    for name, text, right, wrong in (
        ("lists.py", LISTS, "return dout * (self.pred - self.target) / len(self.pred)", "return dout * (self.pred - self.target)"),
        ("tuple.py", TUPLE, "return dout * (self.p - self.onehot) / self.p.shape[0]", "return dout * (self.p - self.onehot)"),
    ):
        path = planted(tmp_path / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path)
        assert report["root_cause"] is not None, (name, errors(report))
        root = report["findings"][report["root_cause"]]
        assert root["line"] == line_of(path, wrong), (name, root)
