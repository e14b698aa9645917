"""The softmax gradient's one-hot subtraction written over whole columns, `dscores[:, y] -= 1`, where one
entry per row is meant (`dscores[np.arange(N), y] -= 1`): every row loses 1 at the label of every sample of
the batch. The root finding names that statement with its row-by-row fix, not the gradient lines below it.
Two styles: a cs231n model class whose `loss(X, y)` returns the gradients (its trainer's momentum loop is not
replayed: the network check names it, `checks/gradient_mismatch._columns_subtracted`), and a cs231n
`softmax_loss_vectorized(W, X, y, reg)` function (the replay names it). The correct twins are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

MODEL = """\
import numpy as np


class ThreeWayNet:
    def __init__(self, d_in, hidden, classes, scale=0.1, reg=0.0):
        rng = np.random.RandomState(8)
        self.reg = reg
        self.params = {
            "W1": scale * rng.randn(d_in, hidden), "b1": np.zeros(hidden),
            "W2": scale * rng.randn(hidden, classes), "b2": np.zeros(classes),
        }

    def loss(self, X, y=None):
        p = self.params
        hid = np.maximum(0, X @ p["W1"] + p["b1"])
        scores = hid @ p["W2"] + p["b2"]
        if y is None:
            return scores
        N = X.shape[0]
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probs[np.arange(N), y])) + 0.5 * self.reg * np.sum(p["W1"] ** 2)
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W2": hid.T @ dscores, "b2": dscores.sum(axis=0)}
        dhid = dscores @ p["W2"].T
        dhid[hid <= 0] = 0
        grads["W1"] = X.T @ dhid + self.reg * p["W1"]
        grads["b1"] = dhid.sum(axis=0)
        return loss, grads


class Trainer:
    def __init__(self, model, X, y, lr=0.1, mu=0.9, batch=40, iters=150):
        self.model, self.X, self.y = model, X, y
        self.lr, self.mu, self.batch, self.iters = lr, mu, batch, iters
        self.vel = {k: np.zeros_like(v) for k, v in model.params.items()}

    def _one(self):
        pick = np.random.choice(len(self.X), self.batch)
        loss, grads = self.model.loss(self.X[pick], self.y[pick])
        for k, w in self.model.params.items():
            v = self.mu * self.vel[k] - self.lr * grads[k]
            self.model.params[k] = w + v
            self.vel[k] = v
        return loss

    def fit(self):
        for i in range(self.iters):
            loss = self._one()
        return loss


if __name__ == "__main__":
    np.random.seed(1)
    X = np.random.randn(400, 8)
    y = np.argmax(X @ np.random.randn(8, 3), axis=1)
    net = ThreeWayNet(8, 24, 3, reg=1e-3)
    print(Trainer(net, X, y).fit())
"""

FUNCTION = """\
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(300, 6))
y = np.argmax(X @ rng.normal(size=(6, 4)), axis=1)


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(num_train), y]).mean() + reg * np.sum(W * W)
    dscores = probs
    dscores[np.arange(num_train), y] -= 1
    dscores /= num_train
    dW = X.T.dot(dscores) + 2 * reg * W
    return loss, dW


W = 0.001 * rng.normal(size=(6, 4))
for it in range(200):
    idx = rng.choice(300, 32)
    loss, dW = softmax_loss_vectorized(W, X[idx], y[idx], 1e-4)
    W -= 0.5 * dW
print(loss)
"""


def _clean(report: dict) -> bool:
    return not [f for f in report["findings"] if f["severity"] in ("error", "warning")]

ROWS_M = "        dscores[np.arange(N), y] -= 1"
COLUMNS_M = "        dscores[:, y] -= 1"
ROWS_F = "    dscores[np.arange(num_train), y] -= 1"
COLUMNS_F = "    dscores[:, y] -= 1"


def test_the_correct_model_is_clean(tmp_path):
    assert _clean(check(planted(tmp_path, "model.py", MODEL, ROWS_M, ROWS_M)))


def test_columns_subtracted_in_a_model_are_named_there(tmp_path):
    path = planted(tmp_path, "model.py", MODEL, ROWS_M, COLUMNS_M)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error"
    assert root["line"] == line_of(path, COLUMNS_M)
    assert root["pattern"] == "one-hot-columns"
    assert "dscores[np.arange(N), y] -= 1" in root["message"]


def test_the_correct_function_is_clean(tmp_path):
    assert _clean(check(planted(tmp_path, "softmax.py", FUNCTION, ROWS_F, ROWS_F)))


def test_columns_subtracted_in_a_function_are_named_there(tmp_path):
    path = planted(tmp_path, "softmax.py", FUNCTION, ROWS_F, COLUMNS_F)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error"
    assert root["line"] == line_of(path, COLUMNS_F)
    assert {f["line"] for f in errors(report)} == {line_of(path, COLUMNS_F)}
