"""A loss the file's own function returns beside its gradients, one batch or sample at a time, which a
loop of the pass adds into a running total (`c, dW, db = cost_and_grads(...)`, `epoch_sum += c`): that
total is the pass's loss, read where the prefix ends, and the updates (the summed gradients over the
count of terms) are judged against it, not reported as following no loss or as a step not replayed.

The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, planted, write

MODULE_MINIBATCHES = '''\
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(36, 3))
T = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.1


def cost_and_grads(Wt, bt, xb, tb):
    diff = xb @ Wt + bt - tb
    cost = np.sum(diff ** 2) / len(xb)
    return cost, 2.0 * xb.T @ diff / len(xb), 2.0 * diff.sum(axis=0) / len(xb)


Wt = np.zeros((3, 1))
bt = np.zeros(1)
for epoch in range(100):
    epoch_sum = 0.0
    gW, gb = np.zeros_like(Wt), np.zeros_like(bt)
    for s in range(0, 36, 9):
        c, dW, db = cost_and_grads(Wt, bt, X[s:s + 9], T[s:s + 9])
        epoch_sum += c
        gW += dW
        gb += db
    Wt -= 0.05 * gW / 4
    bt -= 0.05 * gb / 4
    if epoch % 25 == 0:
        print(epoch, epoch_sum / 4)
print("final", epoch_sum / 4)
'''

TRAIN_FUNCTION = '''\
import numpy as np


def squared_error_and_grads(params, xb, yb):
    A, c = params
    pred = xb @ A + c
    resid = pred - yb
    cost = np.sum(resid ** 2) / len(xb)
    dA = 2.0 * xb.T @ resid / len(xb)
    dc = 2.0 * resid.mean(axis=0)
    return cost, dA, dc


def train(X, Y, epochs=60, lr=0.05, batch=10):
    rng = np.random.default_rng(5)
    A = rng.normal(0, 0.1, (X.shape[1], Y.shape[1]))
    c = np.zeros(Y.shape[1])
    for ep in range(epochs):
        acc_total = 0.0
        gA, gc = np.zeros_like(A), np.zeros_like(c)
        nb = 0
        for s in range(0, len(X), batch):
            j, dA, dc = squared_error_and_grads((A, c), X[s:s + batch], Y[s:s + batch])
            acc_total += j
            gA += dA
            gc += dc
            nb += 1
        A -= lr * gA / nb
        c -= lr * gc / nb
        if ep % 20 == 0:
            print(ep, acc_total / nb)
    return A, c


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    Y = X @ rng.normal(size=(4, 2)) + 0.3
    train(X, Y)


if __name__ == "__main__":
    main()
'''

PER_SAMPLE = '''\
import numpy as np

rs = np.random.RandomState(3)
feats = rs.randn(24, 3)
labels = (feats[:, 0] - 0.5 * feats[:, 2] > 0).astype(float)
weights = rs.randn(3) * 0.1
bias = 0.0
alpha = 0.5


def sample_step(x, t):
    z = x @ weights + bias
    p = 1.0 / (1.0 + np.exp(-z))
    loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    g = p - t
    return loss, g * x, g


for epoch in range(200):
    running = 0.0
    sum_w, sum_b = 0, 0
    for i in range(len(feats)):
        lo, gw, gb = sample_step(feats[i], labels[i])
        running += lo
        sum_w, sum_b = sum_w + gw, sum_b + gb
    count = len(feats)
    weights -= alpha * sum_w / count
    bias -= alpha * sum_b / count
    if epoch % 50 == 0:
        print(epoch, running / count)
print("final", running / count)
'''


def _unclean(report):
    return [f for f in report["findings"] if f["severity"] in ("error", "warning") or f["code"] in ("BPD108", "BPD636")]


def test_a_module_loop_totalling_returned_batch_costs_is_clean(tmp_path):
    report = check(write(tmp_path, "batches.py", MODULE_MINIBATCHES), training=True)
    assert not _unclean(report), report["findings"]
    assert report["extras"]["replay"][0]["loss"] == "epoch_sum"


def test_a_train_function_totalling_returned_batch_costs_is_clean(tmp_path):
    report = check(write(tmp_path, "train_fn.py", TRAIN_FUNCTION), training=True)
    assert not _unclean(report), report["findings"]


def test_per_sample_losses_totalled_with_summed_gradients_are_clean(tmp_path):
    assert not _unclean(check(write(tmp_path, "per_sample.py", PER_SAMPLE), training=True))


def test_a_wrong_bias_gradient_is_still_found_against_the_total(tmp_path):
    bug = planted(tmp_path, "batches_bug.py", MODULE_MINIBATCHES, ", 2.0 * diff.sum(axis=0) / len(xb)", ", diff.sum(axis=0) / len(xb)")
    found = [f for f in check(bug, training=True)["findings"] if f["severity"] == "error"]
    assert found and any("`bt`" in f["message"] for f in found)


def test_a_sign_flipped_bias_gradient_in_the_train_function_is_found(tmp_path):
    bug = planted(tmp_path, "train_fn_bug.py", TRAIN_FUNCTION, "dc = 2.0 * resid.mean(axis=0)", "dc = -2.0 * resid.mean(axis=0)")
    assert [f for f in check(bug, training=True)["findings"] if f["severity"] == "error"]
