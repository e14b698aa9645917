"""One function that runs the forward and backward pass and returns the loss and the gradients among
other values, the training loop unpacking them all and keeping only the gradients: the probabilities
and the gradients in a nested tuple (`_, _, (dW1, db1, dW2, db2) = forward_backward(...)`, where `_` is
bound twice, the second time to the probabilities), the gradients' dictionary first with the loss and
an accuracy after it (`grads, _, _ = train_step(...)`, where the last `_` is the accuracy, a number
that is not the loss), and a flat tuple whose loss has no loss's name (`nlp`, a reduction) before the
probabilities and the hidden activations, and the loss in a pair with a fit measure beside a
dictionary of gradients (`(_, fit), grads = step(...)`). The replay reads the loss at its place in the returned tuple
(calling the function again when the pass's own name for it is bound to something else): the correct
programs are clean, a wrong gradient inside the function is named at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

NESTED = """\
    import numpy as np

    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 10))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    Y = np.eye(3)[labels]

    W1 = rng.normal(0.0, 0.3, (10, 16))
    b1 = np.zeros(16)
    W2 = rng.normal(0.0, 0.3, (16, 3))
    b2 = np.zeros(3)


    def forward_backward(X, Y, W1, b1, W2, b2):
        n = len(X)
        z1 = X @ W1 + b1
        h = np.maximum(z1, 0.0)
        s = h @ W2 + b2
        s = s - s.max(axis=1, keepdims=True)
        P = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.sum(Y * np.log(P)) / n
        ds = (P - Y) / n
        dW2 = h.T @ ds
        db2 = ds.sum(axis=0)
        dz1 = (ds @ W2.T) * (z1 > 0)
        dW1 = X.T @ dz1
        db1 = dz1.sum(axis=0)
        return loss, P, (dW1, db1, dW2, db2)


    lr = 0.5
    for epoch in range(20):
        perm = rng.permutation(len(X))
        for i in range(0, len(X), 20):
            idx = perm[i:i + 20]
            _, _, (dW1, db1, dW2, db2) = forward_backward(X[idx], Y[idx], W1, b1, W2, b2)
            W1 -= lr * dW1
            b1 -= lr * db1
            W2 -= lr * dW2
            b2 -= lr * db2
        if epoch % 5 == 0:
            loss, P, _ = forward_backward(X, Y, W1, b1, W2, b2)
            print(f"epoch {epoch}  loss {loss:.4f}  acc {np.mean(P.argmax(axis=1) == labels):.3f}")
"""

DICT_FIRST = """\
    import numpy as np

    np.random.seed(0)
    X = np.random.randn(90, 4)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    T = np.eye(2)[y]

    W1 = np.random.randn(4, 12) * 0.5
    b1 = np.zeros((1, 12))
    W2 = np.random.randn(12, 2) * 0.5
    b2 = np.zeros((1, 2))


    def train_step(X, T, W1, b1, W2, b2):
        n = X.shape[0]
        h = np.tanh(X @ W1 + b1)
        scores = h @ W2 + b2
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(T * np.log(probs), axis=1))
        acc = np.mean(probs.argmax(axis=1) == T.argmax(axis=1))
        delta = probs - T
        dW2 = h.T @ delta / n
        db2 = delta.sum(axis=0, keepdims=True) / n
        dh = delta @ W2.T / n
        dpre = dh * (1 - h ** 2)
        dW1 = X.T @ dpre
        db1 = dpre.sum(axis=0, keepdims=True)
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        return grads, loss, acc


    lr = 0.3
    for it in range(200):
        grads, _, _ = train_step(X, T, W1, b1, W2, b2)
        W1 -= lr * grads["W1"]
        b1 -= lr * grads["b1"]
        W2 -= lr * grads["W2"]
        b2 -= lr * grads["b2"]
        if it % 50 == 0:
            print("iteration", it, "accuracy", train_step(X, T, W1, b1, W2, b2)[2])
"""

FLAT_UNNAMED = """\
    import numpy as np

    rng = np.random.RandomState(1)
    X = rng.rand(64, 5)
    y = (X[:, 0] > X[:, 1]).astype(int) + (X[:, 2] > 0.5).astype(int)

    W1 = rng.randn(5, 8) * 0.4
    b1 = np.zeros(8)
    W2 = rng.randn(8, 3) * 0.4
    b2 = np.zeros(3)


    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))


    def fwd_bwd(X, y, W1, b1, W2, b2):
        m = X.shape[0]
        a1 = sigmoid(X @ W1 + b1)
        scores = a1 @ W2 + b2
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        nlp = -np.log(probs[np.arange(m), y]).sum() / m
        dscores = probs.copy()
        dscores[np.arange(m), y] -= 1
        dscores /= m
        dW2 = a1.T @ dscores
        db2 = dscores.sum(axis=0)
        da1 = dscores @ W2.T
        dz1 = da1 * a1 * (1 - a1)
        dW1 = X.T @ dz1
        db1 = dz1.sum(axis=0)
        return nlp, probs, a1, dW1, db1, dW2, db2


    step = 1.0
    for epoch in range(300):
        _, _, _, dW1, db1, dW2, db2 = fwd_bwd(X, y, W1, b1, W2, b2)
        W1 -= step * dW1
        b1 -= step * db1
        W2 -= step * dW2
        b2 -= step * db2
        if epoch % 100 == 0:
            print(epoch, np.mean(fwd_bwd(X, y, W1, b1, W2, b2)[1].argmax(axis=1) == y))
"""

LOSS_IN_A_PAIR = """\
    import numpy as np

    np.random.seed(4)
    X = np.random.randn(80, 3)
    t = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * np.random.randn(80)).reshape(-1, 1)

    W1 = np.random.randn(3, 6) * 0.5
    b1 = np.zeros(6)
    W2 = np.random.randn(6, 1) * 0.5
    b2 = np.zeros(1)


    def step(X, t, W1, b1, W2, b2):
        n = len(X)
        h = np.maximum(0, X @ W1 + b1)
        out = h @ W2 + b2
        mse = np.mean((out - t) ** 2)
        r2 = 1 - np.sum((out - t) ** 2) / np.sum((t - t.mean()) ** 2)
        g = 2 * (out - t) / n
        dW2 = h.T @ g
        db2 = g.sum(axis=0)
        dh = g @ W2.T
        dh[h <= 0] = 0
        dW1 = X.T @ dh
        db1 = dh.sum(axis=0)
        return (mse, r2), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


    for it in range(300):
        (_, fit), grads = step(X, t, W1, b1, W2, b2)
        W1 -= 0.05 * grads["W1"]
        b1 -= 0.05 * grads["b1"]
        W2 -= 0.05 * grads["W2"]
        b2 -= 0.05 * grads["b2"]
        if it % 100 == 0:
            print(it, fit)
"""

# style: (program, correct statement, its wrong twin, the parameters whose updates it breaks, the loss replayed)
BUGS = {
    "nested": (NESTED, "db1 = dz1.sum(axis=0)", "db1 = dz1.mean(axis=0)", {"b1"}, "forward_backward(...)[0]"),
    "dict-first": (DICT_FIRST, "dW2 = h.T @ delta / n", "dW2 = h.T @ delta", {"W2"}, "train_step(...)[1]"),
    "flat-unnamed": (FLAT_UNNAMED, "dz1 = da1 * a1 * (1 - a1)", "dz1 = da1 * a1", {"W1", "b1"}, "fwd_bwd(...)[0]"),
    "loss-in-a-pair": (LOSS_IN_A_PAIR, "dW1 = X.T @ dh\n", "dW1 = X.T @ dh / n\n", {"W1"}, "step(...)[0][0]"),
}


@pytest.mark.parametrize("style", sorted(BUGS))
def test_the_correct_step_is_replayed_and_clean(tmp_path: Path, style: str) -> None:
    program, correct, _, _, loss = BUGS[style]
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    assert replayed(report)["loss"] == loss  # the program's own loss, at its place among the returned values
    assert errors(report) == [], report["findings"]
    assert not [f for f in report["findings"] if f["name"] in ("nothing-to-check", "step-not-replayed")], report["findings"]
    verdicts = step_verdicts(report)
    assert set(verdicts) == {"W1", "b1", "W2", "b2"} and set(verdicts.values()) == {"ok"}, verdicts


@pytest.mark.parametrize("style", sorted(BUGS))
def test_a_wrong_gradient_is_named_at_its_line(tmp_path: Path, style: str) -> None:
    program, correct, wrong, broken, _ = BUGS[style]
    path = planted(tmp_path, "train.py", program, correct, wrong)
    report = check(path)
    found = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert found, report["findings"]
    assert found[0]["line"] == line_of(path, wrong.strip()), found
    verdicts = step_verdicts(report)
    assert {p for p, v in verdicts.items() if v != "ok"} == broken, verdicts
