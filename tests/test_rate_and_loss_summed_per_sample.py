"""A plain script that adds its loss up one sample at a time and steps at a rate of any name.

`gain = 1.5`, then per epoch `total = 0.0`, a loop `for x, t in zip(X, Y)` that adds `total += 0.5 * err ** 2`
and the sample's gradients, and `w = [wi - gain * g / len(X) for wi, g in zip(w, grads)]`. Two things went
wrong: the step's factor `gain` (a number the file sets once) was read as a rate only when the step was
`gain * g` itself, not `gain * g / n` nor in a list rebuilt over `zip(w, grads)`, so the replay measured
`gain * g / n` as the gradient, 1.5 times too large; and `total`, added to in the loop over the samples,
was never read as the program's loss, so step-gradient-mismatch said "your program computes no loss ...
follow none of the losses its output error implies" (a warning on correct code). The rate is now read
wherever the factor sits (`static.steps._setting_as_rate`), the total is the pass's loss
(`static.steps._totalled_losses`), with the usual losses the per-sample error implies beside it, and the
replayed curve reads it after that loop (`replay.curve.own_curve`). A program whose gradients follow
another loss than the total it prints, and one with a wrong derivative, are still errors, at their lines.
"""

from __future__ import annotations

import ast
import math

import pytest

from backprop_doctor.static.steps import training_steps
from tests.userfiles import check, line_of, planted, replayed, write

# a list of weights rebuilt by a list comprehension over zip(w, grads); the loss a reduced sum per sample
LISTED = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 2))
Y = (X[:, :1] * X[:, 1:] > 0).astype(float)

W1 = rng.normal(scale=0.5, size=(2, 8))
W2 = rng.normal(scale=0.5, size=(8, 1))
w = [W1, W2]

gain = 1.5
for epoch in range(200):
    total = 0.0
    grads = [np.zeros_like(wi) for wi in w]
    for x, t in zip(X, Y):
        h = np.tanh(x @ w[0])
        out = 1 / (1 + np.exp(-(h @ w[1])))
        err = out - t
        total += (0.5 * err ** 2).sum()
        dz2 = err * out * (1 - out)
        grads[1] += np.outer(h, dz2)
        dh = (w[1] @ dz2) * (1 - h ** 2)
        grads[0] += np.outer(x, dh)
    w = [wi - gain * g / len(X) for wi, g in zip(w, grads)]
    if epoch % 20 == 0:
        print(epoch, total)
'''

# separate names with biases, `W1 = W1 - gain * dW1 / n`; the loss a (1,) array per sample
NAMED = '''\
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(30, 3))
Y = np.sin(X.sum(axis=1, keepdims=True))

W1 = rng.normal(scale=0.4, size=(3, 6))
b1 = np.zeros(6)
W2 = rng.normal(scale=0.4, size=(6, 1))
b2 = np.zeros(1)

gain = 1.5
n = len(X)
for epoch in range(300):
    total = 0.0
    dW1 = np.zeros_like(W1)
    db1 = np.zeros_like(b1)
    dW2 = np.zeros_like(W2)
    db2 = np.zeros_like(b2)
    for x, t in zip(X, Y):
        a = np.tanh(x @ W1 + b1)
        out = a @ W2 + b2
        err = out - t
        total += 0.5 * err ** 2
        dW2 += np.outer(a, err)
        db2 += err
        da = (W2 @ err) * (1 - a ** 2)
        dW1 += np.outer(x, da)
        db1 += da
    W1 = W1 - gain * dW1 / n
    b1 = b1 - gain * db1 / n
    W2 = W2 - gain * dW2 / n
    b2 = b2 - gain * db2 / n
    if epoch % 30 == 0:
        print(epoch, total)
'''

# `step = 0.8`, no word of a rate anywhere; lists of weights and biases; the loss a float per sample
STEPPED = '''\
import numpy as np

rng = np.random.default_rng(2)
inputs = rng.normal(size=(25, 2))
targets = (inputs[:, 0] - inputs[:, 1]).reshape(-1, 1)

weights = [rng.normal(scale=0.3, size=(2, 5)), rng.normal(scale=0.3, size=(5, 1))]
biases = [np.zeros(5), np.zeros(1)]

step = 0.8
for epoch in range(150):
    running = 0.0
    gw = [np.zeros_like(m) for m in weights]
    gb = [np.zeros_like(v) for v in biases]
    for x, t in zip(inputs, targets):
        z = x @ weights[0] + biases[0]
        hid = np.maximum(z, 0)
        out = hid @ weights[1] + biases[1]
        err = out - t
        running += float(0.5 * np.sum(err ** 2))
        gw[1] += np.outer(hid, err)
        gb[1] += err
        dz = (weights[1] @ err) * (z > 0)
        gw[0] += np.outer(x, dz)
        gb[0] += dz
    weights = [m - step * g / len(inputs) for m, g in zip(weights, gw)]
    biases = [v - step * g / len(inputs) for v, g in zip(biases, gb)]
    if epoch % 15 == 0:
        print(epoch, running)
'''

# the same loop inside a training function, its forward pass a function of its own
FUNCTION = '''\
import numpy as np


def forward(x, W1, W2):
    h = np.tanh(x @ W1)
    return h, h @ W2


def fit(X, Y, W1, W2, epochs=150):
    gain = 0.3
    for epoch in range(epochs):
        total = 0.0
        gW1 = np.zeros_like(W1)
        gW2 = np.zeros_like(W2)
        for x, t in zip(X, Y):
            h, out = forward(x, W1, W2)
            err = out - t
            total += 0.5 * np.sum(err ** 2)
            gW2 += np.outer(h, err)
            gW1 += np.outer(x, (W2 @ err) * (1 - h ** 2))
        W1 = W1 - gain * gW1 / len(X)
        W2 = W2 - gain * gW2 / len(X)
        if epoch % 25 == 0:
            print(epoch, total)
    return W1, W2


rng = np.random.default_rng(3)
X = rng.normal(size=(32, 3))
Y = np.stack([X[:, 0] * X[:, 1], np.cos(X[:, 2])], axis=1)
fit(X, Y, rng.normal(scale=0.4, size=(3, 7)), rng.normal(scale=0.4, size=(7, 2)))
'''

# the sample's loss bound under a loss's name first, then added: one sample's loss, a term of the total, not the pass's loss
TERMED = LISTED.replace("        total += (0.5 * err ** 2).sum()\n", "        loss = (0.5 * err ** 2).sum()\n        total += loss\n")

PROGRAMS = {"listed": LISTED, "named": NAMED, "stepped": STEPPED, "function": FUNCTION, "termed": TERMED}
RATES = {"listed": "gain", "named": "gain", "stepped": "step", "function": "gain", "termed": "gain"}
TOTALS = {"listed": "total", "named": "total", "stepped": "running", "function": "total", "termed": "total"}

# a wrong derivative planted in each: (right statement, wrong one, the line the finding names)
WRONG_DERIVATIVES = {
    "listed": ("dz2 = err * out * (1 - out)", "dz2 = err * (1 - out)", "dz2 = err * (1 - out)"),
    "named": ("da = (W2 @ err) * (1 - a ** 2)", "da = (W2 @ err) * (1 - a)", "da = (W2 @ err) * (1 - a)"),
    "stepped": ("dz = (weights[1] @ err) * (z > 0)", "dz = (weights[1] @ err) * (z < 0)", "dz = (weights[1] @ err) * (z < 0)"),
    "function": ("(W2 @ err) * (1 - h ** 2))", "(W2 @ err) * (1 - h))", "gW1 += np.outer(x, (W2 @ err) * (1 - h))"),
    "termed": ("dz2 = err * out * (1 - out)", "dz2 = err * (1 - out)", "dz2 = err * (1 - out)"),
}


def _serious(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_the_rate_and_the_per_sample_total_are_read_from_the_source():
    for name, program in PROGRAMS.items():
        (step,) = training_steps(ast.parse(program))
        assert {u.rate for u in step.updates} == {RATES[name]}, name
        assert all("gain" not in u.gradient and "step" not in u.gradient for u in step.updates), (name, step.updates)
        assert [s.name for s in step.losses] == [TOTALS[name]], (name, step.losses)
        # the usual losses its per-sample error implies stay beside it, summed over the samples
        assert {s.implied for s in step.other_losses} >= {"squared error"}, (name, step.other_losses)


def test_a_total_rebound_to_itself_plus_a_term_is_the_loss_too():
    rebound = LISTED.replace("total += (0.5 * err ** 2).sum()", "total = total + (0.5 * err ** 2).sum()")
    (step,) = training_steps(ast.parse(rebound))
    assert [(s.name, s.line) for s in step.losses] == [("total", 19)], step.losses


def test_a_factor_that_reads_the_parameter_it_updates_is_no_rate():
    decay = LISTED.replace("w = [wi - gain * g / len(X) for wi, g in zip(w, grads)]", "w = [wi - gain * wi / len(X) for wi, g in zip(w, grads)]")
    assert {u.rate for step in training_steps(ast.parse(decay)) for u in step.updates} <= {None}


def test_a_total_over_held_out_samples_of_gradients_or_of_absolute_errors_is_no_loss():
    held_out = NAMED.replace("for x, t in zip(X, Y):", "for x, t in zip(X_val, Y_val):").replace("n = len(X)", "n = len(X)\nX_val, Y_val = X, Y")
    assert "total" not in [s.name for step in training_steps(ast.parse(held_out)) for s in step.losses]
    gradient_sum = NAMED.replace("total += 0.5 * err ** 2", "total += err")
    assert "total" not in [s.name for step in training_steps(ast.parse(gradient_sum)) for s in step.losses]
    # a sum of absolute errors the loop only prints, beside a backward pass that starts from the error itself
    printed = NAMED.replace("total", "total_error").replace("total_error += 0.5 * err ** 2", "total_error += np.abs(err[0])")
    assert "total_error" not in [s.name for step in training_steps(ast.parse(printed)) for s in step.losses]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_correct_training_with_a_per_sample_total_is_clean(tmp_path, name):
    path = write(tmp_path, f"{name}.py", PROGRAMS[name])
    report = check(path, training=True)
    assert _serious(report) == [], report["findings"]
    result = replayed(report)
    assert result["loss"] == TOTALS[name], result
    assert result["loss_line"] == line_of(path, f"{TOTALS[name]} +="), result
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"ok"}, report["measurements"]


def test_the_replayed_curve_is_the_total_the_program_prints(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, "listed.py", LISTED)
    printed = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True).stdout.split()
    at_twenty = float(printed[printed.index("20") + 1])  # `print(epoch, total)` at epoch 20
    curve = replayed(check(path, training=True))["curve"]
    assert curve and all(v > 0 for v in curve), curve  # read after the loop over the samples, not at its zero
    assert any(math.isclose(v, at_twenty, rel_tol=1e-9) for v in curve), (at_twenty, curve)


@pytest.mark.parametrize("name", sorted(WRONG_DERIVATIVES))
def test_a_wrong_derivative_is_named_at_its_line(tmp_path, name):
    right, wrong, at = WRONG_DERIVATIVES[name]
    path = planted(tmp_path, f"wrong_{name}.py", PROGRAMS[name], right, wrong)
    report = check(path, training=True)
    found = [f for f in report["findings"] if f["code"] == "BPD108"]
    assert [(f["severity"], f["line"]) for f in found] == [("error", line_of(path, at))], report["findings"]
    assert TOTALS[name] in found[0]["message"], found[0]["message"]  # against the program's own loss


@pytest.mark.parametrize(
    ("printed", "gradient", "followed"),
    [
        # prints the squared error, steps by the cross-entropy's output error `out - t` at the sigmoid
        ("total += (0.5 * err ** 2).sum()", "dz2 = err\n", "binary cross-entropy"),
        # prints the cross-entropy, steps by the squared error's `err * out * (1 - out)`
        ("total += -(t * np.log(out) + (1 - t) * np.log(1 - out)).sum()", "dz2 = err * out * (1 - out)\n", "squared error"),
    ],
)
def test_a_printed_total_the_gradients_do_not_follow_is_an_error(tmp_path, printed, gradient, followed):
    program = LISTED.replace("total += (0.5 * err ** 2).sum()", printed).replace("dz2 = err * out * (1 - out)\n", gradient)
    path = write(tmp_path, "other_loss.py", program)
    report = check(path, training=True)
    found = [f for f in report["findings"] if f["code"] == "BPD108"]
    assert [f["severity"] for f in found] == ["error"], report["findings"]
    assert followed in found[0]["message"] and "`total`" in found[0]["message"], found[0]["message"]
    assert "computes no loss" not in found[0]["message"], found[0]["message"]
