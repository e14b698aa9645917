"""A script of module-level functions over a dictionary of parameters, trained full-batch with early
stopping on a held-out loss, whose loss function has a short name of its own (`bce`):

    grad = backprop(weights, X_tr, y_tr)
    for name in weights: weights[name] -= step_size * grad[name]
    held = bce(predict(weights, X_va)[1], y_va)           # held out: no update follows it
    ...
    if it % 50 == 0: print(it, "train", round(bce(predict(weights, X_tr)[1], y_tr), 4), ...)

The training loss the loop reports is the call of `bce` on the training data, so the step is replayed
against it (it was "nothing was checked": `bce` was not read as a loss function's name). The planted
bug divides the first layer's weight gradient by the batch size a second time.

Without that report, the loop's only loss is the held-out one: the same function on the training arrays
the gradient call reads (`X_va` -> `X_tr`, `y_va` -> `y_tr`) is the loss the step is replayed against.
A loop whose gradient reads a minibatch cut from them has no such twin, and gets no loss from it."""

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


REPORT = 'print(it, "train", round(bce(predict(weights, X_tr)[1], y_tr), 4), "held out", round(held, 4))'
SILENT = "pass"


def test_without_a_training_loss_the_held_out_loss_function_is_replayed_on_the_training_arrays(tmp_path: Path) -> None:
    path = planted(tmp_path, "stop.py", PROGRAM.replace(REPORT, SILENT), RIGHT, RIGHT)
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert (step["loss"], step["loss_line"]) == ("bce", line_of(path, "held = bce("))
    assert set(step_verdicts(report).values()) == {"ok"}


def test_without_a_training_loss_the_gradient_divided_twice_is_still_named(tmp_path: Path) -> None:
    path = planted(tmp_path, "stop.py", PROGRAM.replace(REPORT, SILENT), RIGHT, WRONG)
    (finding,) = errors(check(path))
    assert (finding["line"], finding["pattern"]) == (line_of(path, WRONG.strip()), "scaled-by-batch-size")


def test_a_held_out_loss_beside_a_minibatch_gradient_is_no_loss_of_the_step(tmp_path: Path) -> None:
    """`backprop(weights, xb, yb)` on a batch cut from `X_tr`: `X_va` has no twin the pass reads."""
    from backprop_doctor.loading.source import read_source

    text = PROGRAM.replace(REPORT, SILENT).replace(
        "        grad = backprop(weights, X_tr, y_tr)\n",
        "        pick = rng.choice(len(X_tr), 32)\n        xb, yb = X_tr[pick], y_tr[pick]\n        grad = backprop(weights, xb, yb)\n",
    )
    assert "backprop(weights, xb, yb)" in text
    source, _ = read_source(str(planted(tmp_path, "stop.py", text, RIGHT, RIGHT)))
    (step,) = source.facts.training_steps
    assert step.losses == ()
