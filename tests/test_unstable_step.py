"""A rate set for the whole batch, used on batches of one sample, takes the loss up by orders of
magnitude, every gradient right: `step-rate-too-high` (BPD608). Where the loss the replay reads is
the data set's (`mse(P, q)`, printed each epoch) no smaller rate makes it fall within the replayed
steps, and the finding is at `batch_size = 1`; where it is the batch's own, implied by the error the
pass writes out in place (`err = 2 * (h @ B + c - tb) / len(xb)`, not itself a loss), a smaller rate
is found. The same programs on the whole batch are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

gen = np.random.RandomState(2)
inputs = gen.uniform(-3, 3, (160, 2))
target = (np.cos(inputs[:, 0]) + 0.4 * inputs[:, 1] ** 2).reshape(-1, 1)
A = gen.randn(2, 24) * 0.5
a = np.zeros(24)
B = gen.randn(24, 1) * 0.2
c = np.zeros(1)
step_size = 0.1
batch_size = 160


def full_error():
    return float(np.mean((np.tanh(inputs @ A + a) @ B + c - target) ** 2))


for epoch in range(60):
    order = gen.permutation(len(inputs))
    for start in range(0, len(inputs), batch_size):
        rows = order[start:start + batch_size]
        xb, tb = inputs[rows], target[rows]
        h = np.tanh(xb @ A + a)
        err = 2 * (h @ B + c - tb) / len(xb)
        dh = err @ B.T * (1 - h ** 2)
        A -= step_size * xb.T @ dh
        a -= step_size * dh.sum(0)
        B -= step_size * h.T @ err
        c -= step_size * err.sum(0)
    print(epoch, full_error())
'''


DATA_SET_LOSS = '''\
import numpy as np

gen = np.random.RandomState(5)
P = gen.uniform(-3, 3, (180, 2))
q = (np.sin(P[:, 1]) + 0.3 * P[:, 0] ** 2).reshape(-1, 1)
U = gen.randn(2, 16) * 0.5
u = np.zeros(16)
V = gen.randn(16, 1) * 0.2
v = np.zeros(1)
lr = 0.1
batch_size = 1


def model(P):
    return np.tanh(P @ U + u) @ V + v


def mse(P, q):
    return float(np.mean((model(P) - q) ** 2))


def gradients(Pb, qb):
    hid = np.tanh(Pb @ U + u)
    d = 2 * (hid @ V + v - qb) / len(Pb)
    dhid = (d @ V.T) * (1 - hid ** 2)
    return Pb.T @ dhid, dhid.sum(0), hid.T @ d, d.sum(0)


for epoch in range(50):
    perm = gen.permutation(len(P))
    for i in range(0, len(P), batch_size):
        idx = perm[i:i + batch_size]
        gU, gu, gV, gv = gradients(P[idx], q[idx])
        U -= lr * gU; u -= lr * gu
        V -= lr * gV; v -= lr * gv
    print(epoch, mse(P, q))
'''


def test_batches_of_one_against_the_batchs_own_loss_get_a_smaller_rate(tmp_path):
    path = planted(tmp_path, "fit.py", PROGRAM, "batch_size = 160", "batch_size = 1")
    (found,) = errors(check(path, training=True))
    assert (found["code"], found["line"]) == ("BPD608", line_of(path, "step_size = 0.1"))
    assert "`step_size = 0.01`" in found["message"]


def test_batches_of_one_against_the_data_sets_loss_are_named_at_the_batch_size(tmp_path):
    path = planted(tmp_path, "fit.py", DATA_SET_LOSS, "batch_size = 1\n", "batch_size = 1\n")
    (found,) = errors(check(path, training=True))
    assert (found["code"], found["line"]) == ("BPD608", line_of(path, "batch_size = 1"))
    assert "not even a learning rate a thousand times smaller" in found["message"]


def test_the_whole_batch_is_clean(tmp_path):
    for text, one, whole in ((PROGRAM, "batch_size = 160", "batch_size = 160"), (DATA_SET_LOSS, "batch_size = 1\n", "batch_size = 180\n")):
        report = check(planted(tmp_path / str(len(text)), "fit.py", text, one, whole), training=True)
        assert [f for f in report["findings"] if f["severity"] != "info"] == [], report["findings"]
