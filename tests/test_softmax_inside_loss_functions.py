"""The seed's bug in cs231n's shapes: a softmax over the whole batch written inside a loss function
(`softmax_loss_vectorized(W, X, y, reg)`, `softmax_loss_naive`, `softmax_loss(x, y)`), not in a
function named softmax. It was a bare gradient mismatch at the `dW` line; now it is
softmax-not-per-row at the reduction, from the rows the function's own locals hold."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

VECTORIZED = """\
    import numpy as np


    def softmax_loss_vectorized(W, X, y, reg):
        num_train = X.shape[0]
        scores = X.dot(W)
        scores -= np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(scores)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train
        loss += reg * np.sum(W * W)
        probs[np.arange(num_train), y] -= 1
        dW = X.T.dot(probs) / num_train + 2 * reg * W
        return loss, dW
"""

NAIVE = """\
    import numpy as np


    def softmax_loss_naive(W, X, y, reg):
        loss = 0.0
        dW = np.zeros_like(W)
        num_train, num_classes = X.shape[0], W.shape[1]
        f = X.dot(W)
        f -= np.max(f, axis=1, keepdims=True)
        prob = np.exp(f) / np.sum(np.exp(f), axis=1, keepdims=True)
        for i in xrange(num_train):
            for j in xrange(num_classes):
                dW[:, j] += (prob[i, j] - (j == y[i])) * X[i]
            loss -= np.log(prob[i, y[i]])
        loss = loss / num_train + 0.5 * reg * np.sum(W * W)
        dW = dW / num_train + reg * W
        return loss, dW
"""

LAYERS = """\
    import numpy as np


    def softmax_loss(x, y):
        shifted = x - np.max(x, axis=1, keepdims=True)
        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
        N = x.shape[0]
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        dx = probs / N
        dx[np.arange(N), y] -= 1.0 / N
        return loss, dx
"""

CASES = [
    ("softmax.py", VECTORIZED, "np.sum(exp_scores, axis=1, keepdims=True)", "np.sum(exp_scores)"),
    ("softmax_naive.py", NAIVE, "np.sum(np.exp(f), axis=1, keepdims=True)", "np.sum(np.exp(f))"),
    ("layers.py", LAYERS, "np.sum(np.exp(shifted), axis=1, keepdims=True)", "np.sum(np.exp(shifted))"),
]


@pytest.mark.parametrize(("name", "text", "correct", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_a_softmax_over_the_batch_inside_a_loss_function_is_named_at_its_reduction(
    tmp_path: Path, name: str, text: str, correct: str, wrong: str
) -> None:
    assert errors(check(write(tmp_path, name, text))) == []  # the twin, `probs / N` included
    path = planted(tmp_path, name, text, correct, wrong)
    report = check(path)
    root = next(f for f in report["findings"] if f["severity"] == "error" and not f.get("caused_by"))
    assert root["name"] == "softmax-not-per-row"
    assert root["line"] == line_of(path, wrong)
    assert f"`{wrong}`" in root["message"] and "axis 1" in root["message"]


def test_python_2_names_in_a_file_python_3_parses_are_given_back_and_named(tmp_path: Path) -> None:
    path = write(tmp_path, "softmax_naive.py", NAIVE)
    report = check(path)
    assert [m["layer"] for m in report["measurements"]] == ["softmax_loss_naive"]
    (note,) = [f for f in report["findings"] if f["name"] == "python2"]
    assert note["severity"] == "warning" and note["line"] == line_of(path, "xrange(num_train)")
    assert "`xrange`" in note["message"] and "`range`" in note["message"]
    assert note["fix"] == "for i in range(num_train):"


TRAINING = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)


    def calculate_loss(model):
        W1, b1, W2, b2 = model["W1"], model["b1"], model["W2"], model["b2"]
        a1 = np.tanh(X.dot(W1) + b1)
        exp_scores = np.exp(a1.dot(W2) + b2)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        return -np.sum(np.log(probs[range(len(X)), y])) / len(X)


    def build_model(hidden, passes=100, epsilon=0.1):
        W1 = rng.standard_normal((2, hidden)) / np.sqrt(2)
        b1 = np.zeros((1, hidden))
        W2 = rng.standard_normal((hidden, 2)) / np.sqrt(hidden)
        b2 = np.zeros((1, 2))
        model = {}
        for i in range(passes):
            z1 = X.dot(W1) + b1
            a1 = np.tanh(z1)
            exp_scores = np.exp(a1.dot(W2) + b2)
            probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
            delta3 = probs
            delta3[range(len(X)), y] -= 1
            delta3 /= len(X)
            dW2 = a1.T.dot(delta3)
            db2 = np.sum(delta3, axis=0, keepdims=True)
            delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
            dW1 = X.T.dot(delta2)
            db1 = np.sum(delta2, axis=0)
            W1 += -epsilon * dW1
            b1 += -epsilon * db1
            W2 += -epsilon * dW2
            b2 += -epsilon * db2
            model = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
            if i % 10 == 0:
                print(calculate_loss(model))
        return model


    model = build_model(4)
"""


@pytest.mark.parametrize("where", ["the loss the program prints", "the training loop"])
def test_a_softmax_over_the_batch_in_a_training_program_is_named_from_the_replayed_step(tmp_path: Path, where: str) -> None:
    assert errors(check(write(tmp_path, "train.py", TRAINING))) == []
    source = textwrap.dedent(TRAINING)
    correct = "probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)"
    index = source.index(correct) if where == "the loss the program prints" else source.index(correct, source.index(correct) + 1)
    path = write(tmp_path, "train.py", source[:index] + "probs = exp_scores / np.sum(exp_scores)" + source[index + len(correct) :])
    report = check(path)
    root = next(f for f in report["findings"] if f["severity"] == "error" and not f.get("caused_by"))
    assert root["name"] == "softmax-not-per-row"
    assert root["line"] == line_of(path, "probs = exp_scores / np.sum(exp_scores)\n".strip())
