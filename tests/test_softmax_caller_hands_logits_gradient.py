"""A softmax layer whose backward takes the gradient with respect to the softmax's input (or passes what it is
given on unchanged) is right only when its caller hands it `y_hat - y` with a cross-entropy loss. When the
checked file's own loop does that (`delta = (out - target) / len(X)` beside `model.loss(out, labels)` taking a
log; `grad = probs.copy()`, `grad[np.arange(n), y] -= 1` beside `cross_entropy(probs, y)`), the warning that
asks the user to check the caller is settled: an info names the line. With a squared error instead of the
cross-entropy, the same difference is the wrong gradient and the warning stays.
The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# a model of two layers whose backward hands its argument to its softmax head; its loop passes (out - target) / N
COMPOSITE = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Readout:
    def __init__(self, n_in, n_out):
        rng = np.random.RandomState(4)
        self.W = rng.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, h):
        self.h = h
        return softmax(h @ self.W + self.b)

    def backward(self, delta):
        self.dW = self.h.T @ delta
        self.db = delta.sum(axis=0)
        return delta @ self.W.T


class Hidden:
    def __init__(self, n_in, n_out):
        rng = np.random.RandomState(7)
        self.W = rng.randn(n_in, n_out) * 0.3

    def forward(self, x):
        self.x = x
        self.a = np.tanh(x @ self.W)
        return self.a

    def backward(self, dout):
        dz = dout * (1 - self.a ** 2)
        self.dW = self.x.T @ dz
        return dz @ self.W.T


class Classifier:
    def __init__(self, n_in, n_hidden, n_classes):
        self.hidden = Hidden(n_in, n_hidden)
        self.head = Readout(n_hidden, n_classes)

    def forward(self, x):
        return self.head.forward(self.hidden.forward(x))

    def backward(self, delta):
        dh = self.head.backward(delta)
        return self.hidden.backward(dh)

    def loss(self, probs, labels):
        return -np.mean(np.log(probs[np.arange(len(labels)), labels]))

    def step(self, lr):
        for layer in (self.hidden, self.head):
            layer.W -= lr * layer.dW
        self.head.b -= lr * self.head.db


def main():
    rng = np.random.RandomState(0)
    X = rng.randn(64, 5)
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    target = np.eye(3)[labels]
    model = Classifier(5, 8, 3)
    for epoch in range(30):
        out = model.forward(X)
        loss = model.loss(out, labels)
        delta = (out - target) / len(X)
        model.backward(delta)
        model.step(0.5)
    print(loss)


if __name__ == "__main__":
    main()
'''

# a softmax layer whose backward returns its argument; the loop takes 1 at the labels from a copy of the probabilities
PASS_THROUGH = '''\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out):
        rng = np.random.RandomState(1)
        self.W = rng.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SoftmaxOut:
    def forward(self, z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p

    def backward(self, dout):
        return dout


def cross_entropy(p, y):
    return -np.mean(np.log(p[np.arange(len(y)), y]))


rng = np.random.RandomState(0)
X = rng.randn(40, 4)
y = (X[:, 0] + X[:, 2] > 0).astype(int) + (X[:, 1] > 1).astype(int)
fc = Linear(4, 3)
sm = SoftmaxOut()
for it in range(50):
    probs = sm.forward(fc.forward(X))
    loss = cross_entropy(probs, y)
    grad = probs.copy()
    grad[np.arange(len(y)), y] -= 1
    grad /= len(y)
    fc.backward(sm.backward(grad))
    fc.W -= 0.5 * fc.dW
    fc.b -= 0.5 * fc.db
print(loss)
'''


def _contract(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["pattern"] in ("takes-logits-gradient", "softmax-pass-through", "logits-gradient-given")]


def test_a_model_whose_loop_hands_its_backward_y_hat_minus_y_with_a_cross_entropy_gets_an_info(tmp_path):
    path = write(tmp_path, "model_a.py", COMPOSITE)
    report = check(path)
    assert not errors(report)
    (note,) = _contract(report)
    assert (note["severity"], note["pattern"], note["layer"]) == ("info", "logits-gradient-given", "Classifier")
    assert f"line {line_of(path, 'delta = (out - target) / len(X)')}" in note["message"]


def test_a_pass_through_softmax_whose_loop_takes_one_at_the_labels_gets_an_info(tmp_path):
    path = write(tmp_path, "passthru.py", PASS_THROUGH)
    report = check(path)
    assert not errors(report)
    (note,) = _contract(report)
    assert (note["severity"], note["pattern"]) == ("info", "logits-gradient-given")
    assert f"line {line_of(path, 'grad = probs.copy()')}" in note["message"]


def test_the_same_difference_with_a_squared_error_keeps_the_warning(tmp_path):
    path = planted(tmp_path, "model_a.py", COMPOSITE, "loss = model.loss(out, labels)", "loss = np.mean((out - target) ** 2)")
    report = check(path)
    found = _contract(report)
    assert "Classifier" in {f["layer"] for f in found}
    assert {(f["severity"], f["pattern"]) for f in found} == {("warning", "takes-logits-gradient")}
    # the step follows the cross-entropy, not the squared error the loop computes: still the root cause
    assert report["findings"][report["root_cause"]]["line"] == line_of(path, "loss = np.mean((out - target) ** 2)")


def test_a_pass_through_softmax_with_a_squared_error_keeps_the_warning(tmp_path):
    path = planted(tmp_path, "passthru.py", PASS_THROUGH, "loss = cross_entropy(probs, y)", "loss = np.mean((probs - np.eye(3)[y]) ** 2)")
    (warning,) = _contract(check(path))
    assert (warning["severity"], warning["pattern"]) == ("warning", "softmax-pass-through")
