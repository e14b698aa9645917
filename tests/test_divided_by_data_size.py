"""Mini-batch gradients divided by the size of the whole data set (`/ m` with `m = X.shape[0]`, the
batch a slice of `X`): every update is B/N of the batch's mean gradient. The replay would take the one
factor they share for the program's own scale (a loss it infers from the output error is a sum); the
loss is over B samples and the step divides by a count holding N, so it is an error at the division.
Dividing by the batch's own size, or by N where the batch is the whole data set, stays clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SLICED = '''\
import numpy as np

gen = np.random.default_rng(11)
features = gen.normal(size=(600, 3))
labels = (features @ np.array([1.0, -2.0, 0.7]) + 0.3 > 0).astype(float)
m = features.shape[0]
weights = gen.normal(size=3) * 0.1
bias = 0.0
step_size = 0.5
chunk = 40

for sweep in range(25):
    order = gen.permutation(m)
    for start in range(0, m, chunk):
        rows = order[start:start + chunk]
        xs, ts = features[rows], labels[rows]
        probs = 1.0 / (1.0 + np.exp(-(xs @ weights + bias)))
        err = (probs - ts) / len(ts)
        g_weights = xs.T @ err
        g_bias = err.sum()
        weights -= step_size * g_weights
        bias -= step_size * g_bias
'''

COLUMNS = '''\
import numpy as np

gen = np.random.default_rng(4)
inputs = gen.normal(size=(2, 480))
outputs = (1.5 * inputs[0:1] - inputs[1:2] + 0.2).copy()
hidden_w = gen.normal(size=(6, 2)) * 0.5
hidden_b = np.zeros((6, 1))
out_w = gen.normal(size=(1, 6)) * 0.5
out_b = np.zeros((1, 1))
eta = 0.1

for sweep in range(20):
    for lo in range(0, inputs.shape[1], 32):
        xcols = inputs[:, lo:lo + 32]
        ycols = outputs[:, lo:lo + 32]
        act = np.tanh(hidden_w @ xcols + hidden_b)
        guess = out_w @ act + out_b
        cost = np.mean((guess - ycols) ** 2)
        dguess = 2 * (guess - ycols) / inputs.shape[1]
        dout_w = dguess @ act.T
        dout_b = dguess.sum(axis=1, keepdims=True)
        dact = out_w.T @ dguess * (1 - act ** 2)
        dhidden_w = dact @ xcols.T
        dhidden_b = dact.sum(axis=1, keepdims=True)
        hidden_w -= eta * dhidden_w
        hidden_b -= eta * dhidden_b
        out_w -= eta * dout_w
        out_b -= eta * dout_b
    print(sweep, cost)
'''

WHOLE = SLICED.replace("chunk = 40", "chunk = 600")


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-divided-by-data-size"]


def test_a_batch_gradient_divided_by_the_data_set_size_is_an_error_at_the_division(tmp_path):
    path = planted(tmp_path, "sliced.py", SLICED, "err = (probs - ts) / len(ts)", "err = (probs - ts) / m")
    report = check(path)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"], finding["line"]) == ("BPD112", "error", line_of(path, "err = (probs - ts) / m"))
    assert finding["measured"] == 40 / 600
    assert "`m` = 600" in finding["message"] and "`features` holds 600 samples" in finding["message"]
    assert "batch of 40" in finding["message"] and "divide by `len(ts)` (40) instead of `m`" in finding["message"]
    assert [f for f in errors(report) if f["name"] != "step-divided-by-data-size"] == []
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"mismatch"}


def test_the_batch_s_own_size_and_a_batch_that_is_the_whole_data_set_stay_clean(tmp_path):
    for name, text in (("sliced.py", SLICED), ("whole.py", WHOLE)):
        report = check(write(tmp_path, name, text))
        assert errors(report) == [], name
        assert replayed(report)["parameters"], name  # the step was replayed and judged
    whole = planted(tmp_path, "whole_m.py", WHOLE, "err = (probs - ts) / len(ts)", "err = (probs - ts) / m")
    assert errors(check(whole)) == []  # 600 of 600: dividing by m is the mean over the batch


def test_columns_with_a_mean_loss_and_the_count_read_off_the_data_s_shape(tmp_path):
    path = write(tmp_path, "columns.py", COLUMNS)
    report = check(path)
    (finding,) = _ours(report)
    assert finding["line"] == line_of(path, "dguess = 2 * (guess - ycols) / inputs.shape[1]")
    assert "`inputs.shape[1]` = 480" in finding["message"] and "divide by `ycols.shape[1]` (32)" in finding["message"]
    assert not [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]  # one finding, not two
    fixed = planted(tmp_path, "columns_ok.py", COLUMNS, "/ inputs.shape[1]", "/ ycols.shape[1]")
    assert errors(check(fixed)) == []


# 512 samples in batches of 32: N = B² / 2, so B/N (1/16) is also 2/B, the factor a loss summed with
# `0.5 *` carries against a mean gradient. The loss is only reported, over all the data, by a function.
SQUARE = '''\
import numpy as np

gen = np.random.RandomState(3)
N = 512
X = gen.randn(N, 4)
y = X @ np.array([1.0, -1.5, 0.5, 0.0]) + 0.1 * gen.randn(N)
W1 = gen.randn(4, 10) * 0.3
b1 = np.zeros(10)
w2 = gen.randn(10) * 0.3
b2 = 0.0


def forward(xs):
    hidden = np.maximum(xs @ W1 + b1, 0)
    return hidden @ w2 + b2, hidden


def mean_squared_error(xs, ys):
    return np.mean((forward(xs)[0] - ys) ** 2)


rate = 0.05
for epoch in range(20):
    for rows in np.array_split(gen.permutation(N), N // 32):
        xb, yb = X[rows], y[rows]
        out, hidden = forward(xb)
        d = 2 * (out - yb) / len(xb)
        g_w2 = hidden.T @ d
        g_b2 = d.sum()
        dh = np.outer(d, w2) * (hidden > 0)
        W1 -= rate * (xb.T @ dh)
        b1 -= rate * dh.sum(axis=0)
        w2 -= rate * g_w2
        b2 -= rate * g_b2
    print(epoch, mean_squared_error(X, y))
'''

# The same numbers the other way round: a loss summed with `0.5 *` over batches of 20 drawn from
# 400 = 20² samples, a mean gradient (its factor against the loss is 1/20, and so is B/N), and a
# division by N the updates never read (how far through the epoch the loop is).
HALF_SUM = '''\
import numpy as np

gen = np.random.default_rng(8)
N = 400
X = gen.normal(size=(N, 3))
y = X @ np.array([0.5, 2.0, -1.0]) + 0.05 * gen.normal(size=N)
w = np.zeros(3)
rate = 0.1
for epoch in range(10):
    done = 0.0
    for lo in range(0, N, 20):
        xb, yb = X[lo:lo + 20], y[lo:lo + 20]
        residual = xb @ w - yb
        loss = 0.5 * np.sum(residual ** 2)
        done += len(xb) / N
        w -= rate * (xb.T @ residual) / len(xb)
    print(epoch, done, loss)
'''


def test_n_equal_to_the_batch_squared_is_told_apart_by_the_division_the_gradients_are_made_of(tmp_path):
    path = planted(tmp_path, "square.py", SQUARE, "d = 2 * (out - yb) / len(xb)", "d = 2 * (out - yb) / N")
    report = check(path)
    (finding,) = _ours(report)
    assert finding["line"] == line_of(path, "d = 2 * (out - yb) / N")
    assert "`N` = 512" in finding["message"] and "batch of 32" in finding["message"]
    assert errors(check(write(tmp_path, "square_ok.py", SQUARE))) == []


def test_a_division_by_n_the_updates_do_not_read_is_no_finding_when_the_factor_is_the_convention_s(tmp_path):
    report = check(write(tmp_path, "half_sum.py", HALF_SUM))
    assert replayed(report)["parameters"]
    assert errors(report) == []
