"""A script keeps its weights as module-level arrays, lists them in a `params` dict, and has a loss
function add each step's gradient into a module-level `grads` dict (`grads["W1"] += ...`, as
min-char-rnn does); the update reads `grads[k]` for each key of `params`. Reset once, above the
loop (`grads[k].fill(0.0)`), the sums grow step after step: the report says they are summed across
steps, at the line of the reset, and tells to move it into the loop. Reset inside the loop, the
same program is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

SCRIPT = """\
    import numpy as np

    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    y = np.tanh(X @ np.array([[0.5], [-1.0], [0.25]]))

    W1 = rng.standard_normal((3, 8)) * 0.5
    b1 = np.zeros((1, 8))
    W2 = rng.standard_normal((8, 1)) * 0.5
    params = {"W1": W1, "b1": b1, "W2": W2}
    grads = {k: np.zeros_like(v) for k, v in params.items()}


    def loss_and_grads(X, y):
        h = np.tanh(X @ W1 + b1)
        out = h @ W2
        loss = 0.5 * np.mean((out - y) ** 2)
        dout = (out - y) / len(X)
        grads["W2"] += h.T @ dout
        dh = (dout @ W2.T) * (1 - h ** 2)
        grads["W1"] += X.T @ dh
        grads["b1"] += dh.sum(axis=0, keepdims=True)
        return loss


    lr = 0.2
    for k in grads:
        grads[k].fill(0.0)
    for step in range(300):
        loss = loss_and_grads(X, y)
        for k in params:
            params[k] -= lr * grads[k]
        if step % 50 == 0:
            print(step, loss)
"""

# the same reset, inside the loop
RESET_EACH_STEP = SCRIPT.replace(
    "    for k in grads:\n        grads[k].fill(0.0)\n    for step in range(300):\n",
    "    for step in range(300):\n        for k in grads:\n            grads[k].fill(0.0)\n",
)


def test_sums_reset_once_above_the_loop_are_named_at_the_reset(tmp_path):
    path = write(tmp_path, "script.py", SCRIPT)
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    reset = line_of(path, "grads[k].fill(0.0)")
    assert finding["line"] == reset
    assert line_of(path, "params[k] -= lr * grads[k]") in finding["highlight"]
    assert f"set to zero only once, before the loop, at line {reset}" in finding["message"]
    assert f"the reset at line {reset} runs once, before the loop: move it to the start of the loop's body" in finding["message"]


def test_sums_reset_at_every_step_are_the_gradients(tmp_path):
    assert RESET_EACH_STEP != SCRIPT
    report = check(write(tmp_path, "script.py", RESET_EACH_STEP))
    assert errors(report) == []
    assert step_verdicts(report) == {"W1": "ok", "b1": "ok", "W2": "ok"}  # the step was replayed: the loss is `loss_and_grads`'s


def test_a_sum_never_reset_is_named_at_its_update(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "for k in grads:\n    grads[k].fill(0.0)\n", "")
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, "params[k] -= lr * grads[k]")
    assert "which the step adds this step's gradient to without resetting" in finding["message"]
    assert "runs once, before the loop" not in finding["message"]
