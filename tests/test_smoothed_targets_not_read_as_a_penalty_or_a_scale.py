"""Label smoothing whose output error uses the one-hot targets (`(P - Y)` where the loss is the cross-entropy of
`T`), in a loss-and-gradients function whose softmax is written inline, so no usual loss is tried in its place.
Two readings of the numbers were false:
- from weights at zeros, after the first step the difference `X.T @ (T - Y) / n` is exactly a multiple of the
  weights, and it was read as an L2 penalty the gradients leave out, though the loss has no penalty term: a
  penalty is only read when the loss squares the parameter (or names a strength), in its own code or the code
  it calls;
- from small random weights, `P - Y` is near `(P - T) / (1 - ε)` and was read as a shared factor (a warning:
  "as if the learning rate were multiplied by 1.13"), or as a constant factor to remove: a factor only nearly
  one ratio across the entries, not exactly, is no scale of the gradient.
Both are errors that say the gradients are not the loss's."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, planted

INLINE = """
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(120, 4))
labels = (X[:, 0] - X[:, 2] > 0).astype(int) + (X[:, 1] > 1).astype(int)
Y = np.eye(3)[labels]


def loss_grad(W, b, X, Y, eps=0.1):
    T = Y * (1 - eps) + eps / Y.shape[1]
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    P = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
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

CLASS = """
import numpy as np


def objective(W, b, X, Y, eps):
    k = Y.shape[1]
    soft = (1 - eps) * Y + eps / k
    s = X @ W + b
    s = s - s.max(axis=1, keepdims=True)
    P = np.exp(s)
    P = P / P.sum(axis=1, keepdims=True)
    loss = -np.sum(soft * np.log(P)) / len(X)
    delta = (P - soft) / len(X)
    return loss, X.T @ delta, delta.sum(axis=0)


class LinearSoftmax:
    def __init__(self, d, k, eps=0.2, rate=0.5):
        self.W = np.zeros((d, k))
        self.b = np.zeros(k)
        self.eps = eps
        self.rate = rate

    def fit(self, X, Y, epochs=150):
        for epoch in range(epochs):
            loss, gW, gb = objective(self.W, self.b, X, Y, self.eps)
            self.W -= self.rate * gW
            self.b -= self.rate * gb
        return loss


rng = np.random.default_rng(30)
X = rng.normal(size=(130, 5))
Y = np.eye(4)[np.argmax(X[:, :4] + 0.5 * rng.normal(size=(130, 4)), axis=1)]
print(LinearSoftmax(5, 4).fit(X, Y))
"""

INLINE_RANDOM = "W = rng.normal(0, 0.1, (4, 3))"
INLINE_ZEROS = "W = np.zeros((4, 3))"
INLINE_RIGHT = "    dZ = (P - T) / n"
INLINE_WRONG = "    dZ = (P - Y) / n"
CLASS_ZEROS = "self.W = np.zeros((d, k))"
CLASS_RANDOM = "self.W = np.random.default_rng(1).normal(scale=0.1, size=(d, k))"
CLASS_RIGHT = "    delta = (P - soft) / len(X)"
CLASS_WRONG = "    delta = (P - Y) / len(X)"

ZEROS = {"inline": (INLINE_RANDOM, INLINE_ZEROS), "class": (CLASS_ZEROS, CLASS_ZEROS)}
RANDOM = {"inline": (INLINE_RANDOM, INLINE_RANDOM), "class": (CLASS_ZEROS, CLASS_RANDOM)}


def _program(folder: Path, style: str, start: tuple[str, str], right: bool) -> Path:
    text, (good, bad) = (INLINE, (INLINE_RIGHT, INLINE_WRONG)) if style == "inline" else (CLASS, (CLASS_RIGHT, CLASS_WRONG))
    return planted(folder, f"{style}.py", text.replace(*start), good, good if right else bad)


def _wrong_targets(folder: Path, style: str, start: tuple[str, str]) -> list[dict]:
    found = [f for f in check(_program(folder, style, start, right=False))["findings"] if f["code"] == "BPD108"]
    assert found and all(f["severity"] == "error" and f["pattern"] == "wrong-derivative" for f in found), (style, found)
    return found


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    for starts in (ZEROS, RANDOM):
        for style, start in starts.items():
            report = check(_program(tmp_path, style, start, right=True))
            assert errors(report) == [] and not [f for f in report["findings"] if f["code"] == "BPD108"], (style, start, report["findings"])


def test_from_zeros_the_difference_is_no_penalty_the_loss_does_not_hold(tmp_path: Path) -> None:
    for style, start in ZEROS.items():
        for finding in _wrong_targets(tmp_path, style, start):
            assert "penalty" not in finding["message"] and "λ" not in finding["message"], (style, finding["message"])


def test_from_small_weights_a_near_factor_is_no_scale(tmp_path: Path) -> None:
    for style, start in RANDOM.items():
        for finding in _wrong_targets(tmp_path, style, start):
            message = finding["message"]
            assert "× the gradient" not in message and "learning rate were multiplied" not in message, (style, message)
