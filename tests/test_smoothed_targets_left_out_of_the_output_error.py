"""Label smoothing whose output error uses the one-hot targets: the loss is the cross-entropy of the smoothed
targets `T`, the backward pass starts from `P - Y`. Every update then follows the plain cross-entropy of `Y`,
and the output error was found inside the loss-and-gradients function (`loss_grad`, `error_grads`) that the
training step calls. Such a function matches the names of a cost's derivative helper (`cost_derivative`), but it
is not one: the finding stays at the output error's own line, not at the call or the function's return.
With the weights starting at zeros, and at small random values, both."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

FUNCTION = """
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(120, 4))
labels = (X[:, 0] - X[:, 2] > 0).astype(int) + (X[:, 1] > 1).astype(int)
Y = np.eye(3)[labels]


def softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


def loss_grad(W, b, X, Y, eps=0.1):
    T = Y * (1 - eps) + eps / Y.shape[1]
    P = softmax(X @ W + b)
    n = len(X)
    loss = -np.sum(T * np.log(P)) / n
    dZ = (P - T) / n
    return loss, X.T @ dZ, dZ.sum(axis=0)


W = rng.normal(0, 0.1, (4, 3))
b = np.zeros(3)
for it in range(300):
    loss, dW, db = loss_grad(W, b, X, Y)
    W -= 0.5 * dW
    b -= 0.5 * db
print(loss)
"""

TRAINER = """
import numpy as np


def softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def error_grads(scores, onehot, smooth):
    n, k = onehot.shape
    target = onehot * (1.0 - smooth) + smooth / k
    probs = softmax(scores)
    loss = -np.sum(target * np.log(probs)) / n
    err = (probs - target) / n
    return loss, err


class Trainer:
    def __init__(self, n_in, n_out, lr=0.3, smooth=0.1):
        rng = np.random.default_rng(12)
        self.W = rng.normal(scale=0.1, size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.lr = lr
        self.smooth = smooth

    def fit(self, X, onehot, epochs=200):
        for epoch in range(epochs):
            scores = X @ self.W + self.b
            loss, err = error_grads(scores, onehot, self.smooth)
            dW = X.T @ err
            db = err.sum(axis=0)
            self.W -= self.lr * dW
            self.b -= self.lr * db
        return loss


rng = np.random.default_rng(6)
X = rng.normal(size=(150, 4))
onehot = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] + X[:, 2] > 1).astype(int)]
print(Trainer(4, 3).fit(X, onehot))
"""

FUNCTION_RANDOM = "W = rng.normal(0, 0.1, (4, 3))"
FUNCTION_ZEROS = "W = np.zeros((4, 3))"
FUNCTION_RIGHT = "    dZ = (P - T) / n"
FUNCTION_WRONG = "    dZ = (P - Y) / n"
TRAINER_RANDOM = "self.W = rng.normal(scale=0.1, size=(n_in, n_out))"
TRAINER_ZEROS = "self.W = np.zeros((n_in, n_out))"
TRAINER_RIGHT = "    err = (probs - target) / n"
TRAINER_WRONG = "    err = (probs - onehot) / n"


def _program(folder: Path, name: str, text: str, start: tuple[str, str], statement: tuple[str, str]) -> Path:
    return planted(folder, name, text.replace(*start), *statement)


def _step_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD108"]


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    for start in ((FUNCTION_RANDOM, FUNCTION_RANDOM), (FUNCTION_RANDOM, FUNCTION_ZEROS)):
        report = check(_program(tmp_path, "function.py", FUNCTION, start, (FUNCTION_RIGHT, FUNCTION_RIGHT)))
        assert errors(report) == [] and _step_findings(report) == [], report["findings"]
    for start in ((TRAINER_RANDOM, TRAINER_RANDOM), (TRAINER_RANDOM, TRAINER_ZEROS)):
        report = check(_program(tmp_path, "trainer.py", TRAINER, start, (TRAINER_RIGHT, TRAINER_RIGHT)))
        assert errors(report) == [] and _step_findings(report) == [], report["findings"]


def _at_the_output_error(path: Path, wrong: str, called: str) -> None:
    found = _step_findings(check(path))
    assert [f["severity"] for f in found] == ["error"], found
    (finding,) = found
    assert finding["line"] == line_of(path, wrong.strip()), finding
    assert finding["pattern"] == "gradient-of-another-loss", finding
    assert f"in `{called}`" in finding["message"], finding["message"]


def test_a_loss_and_gradients_function_is_named_at_its_output_error(tmp_path: Path) -> None:
    for start in ((FUNCTION_RANDOM, FUNCTION_RANDOM), (FUNCTION_RANDOM, FUNCTION_ZEROS)):
        path = _program(tmp_path, "function.py", FUNCTION, start, (FUNCTION_RIGHT, FUNCTION_WRONG))
        _at_the_output_error(path, FUNCTION_WRONG, "loss_grad")


def test_an_error_helper_of_a_trainer_is_named_at_its_output_error(tmp_path: Path) -> None:
    for start in ((TRAINER_RANDOM, TRAINER_RANDOM), (TRAINER_RANDOM, TRAINER_ZEROS)):
        path = _program(tmp_path, "trainer.py", TRAINER, start, (TRAINER_RIGHT, TRAINER_WRONG))
        _at_the_output_error(path, TRAINER_WRONG, "error_grads")
