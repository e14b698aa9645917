"""A learning-rate schedule that takes the rate to nothing within the program's own loop: a factor applied
every epoch (`lr *= 0.6` over 300 epochs), or a formula of the counter (`base_rate / 3.0 ** it`, which
overflows long before the loop's end). Every gradient is right; a warning at the schedule's line says by
which pass the rate is a thousandth of its first value and how many passes at that rate training amounts to.
Slow decays (`lr *= 0.99`, `base_rate / (1 + 0.001 * it)`) and one applied every tenth epoch stay clean.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

EPOCHS = '''\
import numpy as np

gen = np.random.default_rng(6)
Z = gen.normal(size=(256, 4))
target = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] * Z[:, 2]
W = gen.normal(size=(4, 24)) * 0.3
bh = np.zeros(24)
V = gen.normal(size=24) * 0.1
bo = 0.0
lr = 0.1
for epoch in range(300):
    for s in range(0, 256, 64):
        zb, tb = Z[s:s + 64], target[s:s + 64]
        a = np.tanh(zb @ W + bh)
        o = a @ V + bo
        cost = 0.5 * np.mean((o - tb) ** 2)
        do = (o - tb) / len(tb)
        dV = a.T @ do
        dbo = do.sum()
        da = np.outer(do, V) * (1 - a ** 2)
        dW = zb.T @ da
        dbh = da.sum(axis=0)
        W -= lr * dW
        bh -= lr * dbh
        V -= lr * dV
        bo -= lr * dbo
    lr *= 0.99
    if epoch % 50 == 0:
        print(epoch, cost)
'''

ITERATIONS = '''\
import numpy as np

gen = np.random.default_rng(9)
inp = gen.normal(size=(150, 3))
cls = (inp[:, 0] ** 2 + inp[:, 1] > 0.5).astype(float)
Wa = gen.normal(size=(3, 12)) * 0.5
ba = np.zeros(12)
Wb = gen.normal(size=12) * 0.2
bb = 0.0
base_rate = 0.8
for it in range(1500):
    step_size = base_rate / (1.0 + 0.001 * it)
    hh = np.maximum(inp @ Wa + ba, 0)
    pr = 1 / (1 + np.exp(-(hh @ Wb + bb)))
    bce = -np.mean(cls * np.log(pr) + (1 - cls) * np.log(1 - pr))
    e = (pr - cls) / len(cls)
    gWb = hh.T @ e
    gbb = e.sum()
    eh = np.outer(e, Wb) * (hh > 0)
    gWa = inp.T @ eh
    gba = eh.sum(axis=0)
    Wa -= step_size * gWa
    ba -= step_size * gba
    Wb -= step_size * gWb
    bb -= step_size * gbb
    if it % 300 == 0:
        print(it, bce)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-vanishes"]


def test_a_factor_applied_every_epoch_that_takes_the_rate_to_nothing(tmp_path):
    path = planted(tmp_path, "epochs.py", EPOCHS, "    lr *= 0.99\n", "    lr *= 0.6\n")
    report = check(path)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"], finding["line"]) == ("BPD617", "warning", line_of(path, "lr *= 0.6"))
    assert finding["highlight"] == [line_of(path, "for epoch in range(300):"), finding["line"]]
    assert "by `epoch` = 14" in finding["message"] and "300 passes" in finding["message"]
    assert abs(finding["measured"] - 2.5) < 0.01  # 1 / (1 - 0.6) passes at the first rate
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_a_formula_of_the_counter_that_overflows_is_read_up_to_its_overflow(tmp_path):
    path = planted(tmp_path, "iterations.py", ITERATIONS, "base_rate / (1.0 + 0.001 * it)", "base_rate / 3.0 ** it")
    (finding,) = _ours(check(path))
    assert finding["line"] == line_of(path, "step_size = base_rate / 3.0 ** it")
    assert "by `it` = 7" in finding["message"] and "to 0 by the last" in finding["message"]


def test_slow_decays_and_a_decay_every_tenth_epoch_stay_clean(tmp_path):
    every_tenth = EPOCHS.replace("    lr *= 0.99\n", "    if epoch % 10 == 9:\n        lr *= 0.6\n")
    for name, text in (("epochs.py", EPOCHS), ("iterations.py", ITERATIONS), ("tenth.py", every_tenth)):
        report = check(write(tmp_path, name, text))
        assert report["findings"] == [], name
