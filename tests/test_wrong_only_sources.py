"""Some of one loss-and-gradients function's gradients wrong and the others right: the mistake sits in
a statement only the wrong ones are computed from (an adjoint between the layers), and the root
finding names that statement, not the gradient lines where the mistake only shows."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

CLASSIFIER = """\
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=1e-1):
        rng = np.random.RandomState(0)
        self.params = {
            "W1": std * rng.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * rng.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N = X.shape[0]
        h = np.maximum(0, X @ W1 + b1)
        scores = h @ W2 + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = h.T @ dscores + 2 * reg * W2
        grads["b2"] = dscores.sum(axis=0)
        dh = dscores @ W2.T
        dz = dh * (h > 0)
        grads["W1"] = X.T @ dz + 2 * reg * W1
        grads["b1"] = dz.sum(axis=0)
        return loss, grads

    def train(self, X, y, learning_rate=1e-1, num_iters=60):
        for it in range(num_iters):
            idx = np.random.choice(X.shape[0], 20)
            loss, grads = self.loss(X[idx], y[idx], reg=1e-3)
            for k in self.params:
                self.params[k] -= learning_rate * grads[k]
        return loss


if __name__ == "__main__":
    np.random.seed(1)
    X = np.random.randn(100, 4)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    net = TwoLayerNet(4, 10, 3)
    print(net.train(X, y))
"""

# three tanh layers in one function over a params dict, a regression loss
FUNCTIONS = """\
import numpy as np


def init(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0, 0.5, (sizes[0], sizes[1])), "b1": np.zeros(sizes[1]),
        "W2": rng.normal(0, 0.5, (sizes[1], sizes[2])), "b2": np.zeros(sizes[2]),
        "W3": rng.normal(0, 0.5, (sizes[2], sizes[3])), "b3": np.zeros(sizes[3]),
    }


def loss_and_grads(p, X, Y):
    A1 = np.tanh(X @ p["W1"] + p["b1"])
    A2 = np.tanh(A1 @ p["W2"] + p["b2"])
    out = A2 @ p["W3"] + p["b3"]
    m = X.shape[0]
    loss = 0.5 * np.sum((out - Y) ** 2) / m
    g = {}
    dout = (out - Y) / m
    g["W3"] = A2.T @ dout
    g["b3"] = dout.sum(axis=0)
    dA2 = dout @ p["W3"].T
    dZ2 = dA2 * (1 - A2 ** 2)
    g["W2"] = A1.T @ dZ2
    g["b2"] = dZ2.sum(axis=0)
    dA1 = dZ2 @ p["W2"].T
    dZ1 = dA1 * (1 - A1 ** 2)
    g["W1"] = X.T @ dZ1
    g["b1"] = dZ1.sum(axis=0)
    return loss, g


rng = np.random.default_rng(7)
X = rng.normal(size=(64, 3))
Y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]
params = init([3, 8, 6, 1])
for step in range(80):
    loss, grads = loss_and_grads(params, X, Y)
    for key in params:
        params[key] -= 0.1 * grads[key]
print(loss)
"""

PLANTS = {
    "classifier-factor": (CLASSIFIER, "dz = dh * (h > 0)", "dz = dh * 0.5 * (h > 0)"),
    "classifier-no-mask": (CLASSIFIER, "dz = dh * (h > 0)", "dz = dh * (h >= h)"),
    "functions-derivative": (FUNCTIONS, "dZ1 = dA1 * (1 - A1 ** 2)", "dZ1 = dA1 * (1 - A1)"),
    "functions-factor-earlier": (FUNCTIONS, 'dA1 = dZ2 @ p["W2"].T', 'dA1 = dZ2 @ p["W2"].T / 2'),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_the_statement_only_the_wrong_gradients_read_is_named(tmp_path, plant):
    text, correct, wrong = PLANTS[plant]
    path = planted(tmp_path, "net.py", text, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["line"] == line_of(path, wrong), root
    if root["code"] == "BPD101":  # the step replay may name the same statement first, from the adjoint it measures
        assert "are right" in root["message"], root["message"]
        if "factor" in plant:
            assert "factor is in this line" in root["message"], root["message"]
    else:
        assert root["code"] == "BPD108", root


@pytest.mark.parametrize("text", [CLASSIFIER, FUNCTIONS], ids=["classifier", "functions"])
def test_the_correct_programs_are_clean(tmp_path, text):
    report = check(write(tmp_path, "net.py", text))
    assert not errors(report), errors(report)
    assert report["measurements"], report
