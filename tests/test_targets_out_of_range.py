"""Targets a squashing output cannot reach: a tanh output (in (-1, 1)) trained on prices of 18 to 50, a
sigmoid output (in (0, 1)) on labels of -1 and +1. Every gradient is right and the loss cannot fall below
what the nearest reachable outputs leave: an error at the line that binds the targets (a batch followed back
to the array it is drawn from), naming the output's line. Scaled targets stay clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PRICES = '''\
import numpy as np

gen = np.random.default_rng(17)
area = gen.uniform(30, 200, 300)
rooms = gen.integers(1, 6, 300)
price = 0.2 * area + 3.0 * rooms + gen.normal(0, 2, 300)
feats = np.c_[(area - 115) / 50, (rooms - 3) / 1.5]
T = price / 60.0

w_a = gen.normal(size=(2, 10)) * 0.4
c_a = np.zeros(10)
w_b = gen.normal(size=(10, 1)) * 0.4
c_b = np.zeros(1)
for epoch in range(40):
    perm = gen.permutation(300)
    for k in range(0, 300, 25):
        idx = perm[k:k + 25]
        fb, tb = feats[idx], T[idx][:, None]
        hid = np.maximum(fb @ w_a + c_a, 0)
        pred = np.tanh(hid @ w_b + c_b)
        mse = np.mean((pred - tb) ** 2)
        g_pred = 2 * (pred - tb) / len(tb) * (1 - pred ** 2)
        g_wb = hid.T @ g_pred
        g_cb = g_pred.sum(axis=0)
        g_hid = g_pred @ w_b.T * (hid > 0)
        g_wa = fb.T @ g_hid
        g_ca = g_hid.sum(axis=0)
        w_a -= 0.2 * g_wa
        c_a -= 0.2 * g_ca
        w_b -= 0.2 * g_wb
        c_b -= 0.2 * g_cb
    print(epoch, mse)
'''

SIGNS = '''\
import numpy as np

gen = np.random.default_rng(2)
P = gen.normal(size=(200, 2))
L = np.where(P[:, 0] - 0.5 * P[:, 1] > 0, 1.0, 0.0)
w = np.zeros(2)
b = 0.0


def squash(u):
    return 1.0 / (1.0 + np.exp(-u))


lr = 2.0
for t in range(300):
    q = squash(P @ w + b)
    err = np.mean((q - L) ** 2)
    gq = 2 * (q - L) / len(L) * q * (1 - q)
    gw = P.T @ gq
    w -= lr * gw
    b -= lr * gq.sum()
    if t % 100 == 0:
        print(t, err)
'''


def test_prices_under_a_tanh_output_are_named_where_the_array_the_batch_comes_from_is_bound(tmp_path):
    path = planted(tmp_path, "prices.py", PRICES, "T = price / 60.0\n", "T = price\n")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["name"], finding["line"]) == ("BPD618", "step-targets-out-of-range", line_of(path, "T = price"))
    assert finding["highlight"] == [finding["line"], line_of(path, "pred = np.tanh(hid @ w_b + c_b)")]
    assert "`tb`, drawn from `T`" in finding["message"] and "a tanh's, which lies in (-1, 1)" in finding["message"]
    assert finding["measured"] > 100  # the lowest mean squared error outputs in (-1, 1) can reach


def test_labels_of_minus_one_under_a_sigmoid(tmp_path):
    path = planted(tmp_path, "signs.py", SIGNS, "1.0, 0.0)", "1.0, -1.0)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD618", line_of(path, "L = np.where("))
    assert "(L + 1) / 2" in finding["message"]


def test_targets_inside_the_output_s_range_stay_clean(tmp_path):
    for name, text in (("prices.py", PRICES), ("signs.py", SIGNS)):
        report = check(write(tmp_path, name, text))
        assert report["findings"] == [], name


# As many samples as features (40 and 40): the weights have the targets' size, and the loss reads them
# in its penalty. They are what the step updates, not what the sigmoid's output is compared with.
PENALISED = '''\
import numpy as np

gen = np.random.default_rng(17)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


n = 40
X = gen.uniform(-3, 3, (n, n))
labels = (X[:, 0] - X[:, 1] > 0).astype(float)
w = gen.normal(size=n) / np.sqrt(n)
rate, strength = 0.002, 2.0
history = []
for t in range(800):
    p = sigmoid(X @ w)
    w = w - rate * (X.T @ (p - labels) + strength * np.sign(w))
    cost = -(labels * np.log(p) + (1 - labels) * np.log(1 - p)).mean() + strength * np.abs(w).mean()
    history.append(cost)
'''


def test_weights_the_loss_reads_in_a_penalty_are_not_its_targets(tmp_path):
    report = check(write(tmp_path, "penalised.py", PENALISED), training=True)
    assert replayed(report)["parameters"]
    assert not [f for f in report["findings"] if f["name"] == "step-targets-out-of-range"]
