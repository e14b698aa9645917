"""An inverse-time (or exponential) decay written as a factor of the rate it already decayed: `eta = eta /
(1 + k * it)` or `lr = lr * 0.5 ** (epoch / 5)`. The factor reads the loop's counter, so it is not one
factor applied every pass but a growing one, and the factors compound: the rate is gone within a few
dozen passes. `step-rate-vanishes` compounds it pass by pass, names the schedule's line and the fix (the
rate computed from its first value). The twins that compute it from the first value, and a factor that
halves the rate every twentieth epoch, stay clean.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, replayed, write

# One full-batch loop, a tanh layer, squared error.
FULL_BATCH = '''\
import numpy as np

gen = np.random.default_rng(23)
P = gen.uniform(-1, 1, (120, 3))
q = (np.cos(2 * P[:, 0]) + P[:, 1] * P[:, 2]).reshape(-1, 1)
U = gen.normal(0, 0.6, (3, 16))
u = np.zeros(16)
R = gen.normal(0, 0.2, (16, 1))
r = np.zeros(1)
eta0, k = 0.4, 0.01
eta = eta0
for it in range(800):
    hid = np.tanh(P @ U + u)
    out = hid @ R + r
    mse = np.mean((out - q) ** 2)
    g = 2 * (out - q) / len(q)
    gR = hid.T @ g
    gr = g.sum(axis=0)
    gh = g @ R.T * (1 - hid ** 2)
    gU = P.T @ gh
    gu = gh.sum(axis=0)
    eta = eta0 / (1 + k * it)
    U -= eta * gU
    u -= eta * gu
    R -= eta * gR
    r -= eta * gr
    if it % 200 == 0:
        print(it, mse)
'''

# Functions, mini-batches in an epoch loop, the rate set once per epoch.
EPOCHS = '''\
import numpy as np

rs = np.random.RandomState(8)
feats = rs.randn(300, 4)
labels = (feats @ np.array([1.0, -1.0, 0.5, 2.0]) > 0).astype(float)


def logistic_grads(w, c, xb, tb):
    pr = 1 / (1 + np.exp(-(xb @ w + c)))
    nll = -np.mean(tb * np.log(pr + 1e-12) + (1 - tb) * np.log(1 - pr + 1e-12))
    e = (pr - tb) / len(tb)
    return nll, xb.T @ e, e.sum()


w = np.zeros(4)
c = 0.0
base = 0.8
lr = base
for epoch in range(60):
    lr = base * 0.5 ** (epoch / 30)
    order = rs.permutation(300)
    for s in range(0, 300, 30):
        rows = order[s:s + 30]
        nll, gw, gc = logistic_grads(w, c, feats[rows], labels[rows])
        w -= lr * gw
        c -= lr * gc
    print(epoch, nll)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-vanishes"]


def test_an_inverse_time_decay_of_the_decayed_rate_compounds_to_nothing(tmp_path):
    path = planted(tmp_path, "full.py", FULL_BATCH, "eta = eta0 / (1 + k * it)", "eta = eta / (1 + k * it)")
    report = check(path)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"]) == ("BPD617", "warning")
    assert finding["line"] == line_of(path, "eta = eta / (1 + k * it)")
    assert "takes `eta` from 0.4 to a thousandth of that by `it` = " in finding["message"]
    assert "the factors compound" in finding["message"]
    assert "(`eta = eta0 / (1 + k * it)`)" in finding["message"]
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_an_exponential_factor_of_the_epoch_applied_to_the_decayed_rate_compounds(tmp_path):
    path = planted(tmp_path, "epochs.py", EPOCHS, "lr = base * 0.5 ** (epoch / 30)", "lr = lr * 0.5 ** (epoch / 3)")
    (finding,) = _ours(check(path))
    assert finding["line"] == line_of(path, "lr = lr * 0.5 ** (epoch / 3)")
    assert "by `epoch` = " in finding["message"] and "60 passes" in finding["message"]
    assert "(`lr = base * 0.5 ** (epoch / 3)`)" in finding["message"]


def test_rates_computed_from_their_first_value_and_a_step_factor_stay_clean(tmp_path):
    halving = EPOCHS.replace("lr = base * 0.5 ** (epoch / 30)", "lr = lr * (0.5 if epoch % 20 == 19 else 1.0)")
    for name, text in (("full.py", FULL_BATCH), ("epochs.py", EPOCHS), ("halving.py", halving)):
        report = check(write(tmp_path, name, text))
        assert replayed(report)["parameters"], name
        assert _ours(report) == [], name
