"""A script of module-level functions over a dictionary of parameters, trained full-batch with early
stopping on a held-out loss, whose loss function has a short name of its own (`bce`):

    grad = backprop(weights, X_tr, y_tr)
    for name in weights: weights[name] -= step_size * grad[name]
    held = bce(predict(weights, X_va)[1], y_va)           # held out: no update follows it
    ...
    if it % 50 == 0: print(it, "train", round(bce(predict(weights, X_tr)[1], y_tr), 4), ...)

The training loss the loop reports is the call of `bce` on the training data, so the step is replayed
against it (it was "nothing was checked": `bce` was not read as a loss function's name). The planted
bug divides the first layer's weight gradient by the batch size a second time."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

PROGRAM = """\
    import numpy as np

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = ((X[:, 0] * X[:, 1] + 0.5 * X[:, 2]) > 0).astype(float)[:, None]
    X_tr, y_tr, X_va, y_va = X[:240], y[:240], X[240:], y[240:]

    weights = {"W1": rng.normal(0, 0.5, (3, 12)), "b1": np.zeros(12),
               "W2": rng.normal(0, 0.5, (12, 1)), "b2": np.zeros(1)}


    def predict(w, X):
        h = np.tanh(X @ w["W1"] + w["b1"])
        p = 1.0 / (1.0 + np.exp(-(h @ w["W2"] + w["b2"])))
        return h, p


    def bce(p, y):
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


    def backprop(w, X, y):
        n = len(X)
        h, p = predict(w, X)
        dout = (p - y) / n
        grad = {"W2": h.T @ dout, "b2": dout.sum(axis=0)}
        dh = (dout @ w["W2"].T) * (1 - h ** 2)
        grad["W1"] = X.T @ dh
        grad["b1"] = dh.sum(axis=0)
        return grad


    step_size = 0.8
    best, bad, patience = np.inf, 0, 20
    for it in range(1000):
        grad = backprop(weights, X_tr, y_tr)
        for name in weights:
            weights[name] -= step_size * grad[name]
        held = bce(predict(weights, X_va)[1], y_va)
        if held < best:
            best, bad = held, 0
        else:
            bad += 1
            if bad >= patience:
                break
        if it % 50 == 0:
            print(it, "train", round(bce(predict(weights, X_tr)[1], y_tr), 4), "held out", round(held, 4))
"""

RIGHT = 'grad["W1"] = X.T @ dh\n'
WRONG = 'grad["W1"] = X.T @ dh / n\n'


def test_the_correct_script_is_replayed_against_its_training_loss_and_clean(tmp_path: Path) -> None:
    path = planted(tmp_path, "stop.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert (step["loss"], step["loss_line"]) == ("bce", line_of(path, 'print(it, "train"'))
    assert step_verdicts(report) == {"weights['W1']": "ok", "weights['b1']": "ok", "weights['W2']": "ok", "weights['b2']": "ok"}


def test_a_gradient_divided_by_the_batch_twice_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "stop.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["line"], finding["pattern"]) == ("BPD108", line_of(path, WRONG.strip()), "scaled-by-batch-size")
    assert "1/240 of the gradient of your loss (240 is the batch size)" in finding["message"]
    assert step_verdicts(report)["weights['b1']"] == "ok"
