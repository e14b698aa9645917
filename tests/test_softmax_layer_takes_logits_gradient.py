"""A layer whose forward ends in a softmax (it returns probabilities) and whose backward takes the gradient
with respect to the logits, not the probabilities: its caller hands it `y_hat - y`, the gradient of a
cross-entropy through its softmax, as the softmax-with-loss layers of the books do with the loss kept apart.
The check feeds a backward the gradient of its objective with respect to the layer's output; given the
softmax's backward of it instead, such a layer's gradients agree. That is a warning about the contract (right
only with that caller), not "dx is wrong". A backward wrong under either reading is still an error at its line.
The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# a class layer, its gradients in attributes, trained by a loop that passes y_hat - y
LAYER = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class SoftmaxClassifier:
    """A readout whose forward gives probabilities; its backward is handed y_hat - y by the caller."""

    def __init__(self, n_in, n_out):
        rng = np.random.RandomState(1)
        self.W = rng.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return softmax(x @ self.W + self.b)

    def backward(self, deltas):
        # deltas is the gradient of the cross-entropy with respect to the scores: y_hat - y
        self.dW = self.x.T @ deltas
        self.db = deltas.sum(axis=0)
        dx = deltas @ self.W.T
        return dx


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    x = rng.randn(32, 6)
    labels = rng.randint(0, 4, size=32)
    y = np.eye(4)[labels]
    layer = SoftmaxClassifier(6, 4)
    for step in range(50):
        y_hat = layer.forward(x)
        loss = -np.mean(np.sum(y * np.log(y_hat), axis=1))
        layer.backward((y_hat - y) / len(x))
        layer.W -= 0.5 * layer.dW
        layer.b -= 0.5 * layer.db
    print(loss)
'''

# a forward/backward pair of functions with a cache, the loop computing dscores = probs - one_hot
PAIR = '''\
import numpy as np


def output_forward(x, w, b):
    scores = x.dot(w) + b
    e = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = e / np.sum(e, axis=1, keepdims=True)
    cache = (x, w, b)
    return probs, cache


def output_backward(dscores, cache):
    """dscores: the gradient of the loss with respect to the scores (probs - one_hot) / N."""
    x, w, b = cache
    dx = dscores.dot(w.T)
    dw = x.T.dot(dscores)
    db = np.sum(dscores, axis=0)
    return dx, dw, db


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(40, 5)
    y = np.random.randint(0, 3, size=40)
    w = 0.1 * np.random.randn(5, 3)
    b = np.zeros(3)
    for it in range(100):
        probs, cache = output_forward(X, w, b)
        loss = -np.mean(np.log(probs[np.arange(40), y]))
        dscores = probs.copy()
        dscores[np.arange(40), y] -= 1
        dscores /= 40
        dx, dw, db = output_backward(dscores, cache)
        w -= 1.0 * dw
        b -= 1.0 * db
    print(loss)
'''


def _logits_warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["pattern"] == "takes-logits-gradient"]


def test_a_softmax_layer_whose_backward_takes_the_logits_gradient_is_not_a_wrong_dx(tmp_path):
    path = write(tmp_path, "layer.py", LAYER)
    report = check(path)
    assert not errors(report)
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "SoftmaxClassifier"}
    assert verdicts == {"x": "ok", "W": "ok", "b": "ok"}
    # the program's own loop, replayed, hands it that gradient: the contract is settled, an info says so
    (note,) = [f for f in report["findings"] if f["layer"] == "SoftmaxClassifier"]
    assert (note["severity"], note["pattern"]) == ("info", "right-in-training")
    assert note["line"] in (line_of(path, "self.dW = "), line_of(path, "self.db = "))


def test_a_wrong_dx_of_such_a_layer_is_still_found_at_its_line(tmp_path):
    bug = planted(tmp_path, "layer.py", LAYER, "dx = deltas @ self.W.T", "dx = 2 * deltas @ self.W.T")
    report = check(bug)
    assert not _logits_warnings(report)
    (found,) = [f for f in errors(report) if f["layer"] == "SoftmaxClassifier"]
    assert found["param"] == "x" and found["line"] == line_of(bug, "dx = 2 * deltas @ self.W.T")


def test_a_softmax_function_pair_whose_loop_hands_it_the_logits_gradient_is_an_info(tmp_path):
    # the loop's `dscores = probs.copy()`, `dscores[np.arange(40), y] -= 1` beside the log loss settles the contract
    path = write(tmp_path, "pair.py", PAIR)
    report = check(path)
    assert not errors(report) and not _logits_warnings(report)
    (note,) = [f for f in report["findings"] if f["pattern"] == "logits-gradient-given"]
    assert note["severity"] == "info" and f"line {line_of(path, 'dscores = probs.copy()')}" in note["message"]


def test_a_softmax_function_pair_whose_loop_takes_no_log_is_a_warning(tmp_path):
    path = planted(tmp_path, "pair.py", PAIR, "loss = -np.mean(np.log(probs[np.arange(40), y]))", "loss = np.mean((probs - np.eye(3)[y]) ** 2)")
    (warning,) = _logits_warnings(check(path))
    assert warning["severity"] == "warning"


def test_a_wrong_dx_of_such_a_pair_is_still_found_at_its_line(tmp_path):
    bug = planted(tmp_path, "pair.py", PAIR, "dx = dscores.dot(w.T)", "dx = dscores.dot(w.T) * 2")
    report = check(bug)
    assert not _logits_warnings(report)
    found = {f["param"]: f["line"] for f in errors(report)}
    assert found["x"] == line_of(bug, "dx = dscores.dot(w.T) * 2")
