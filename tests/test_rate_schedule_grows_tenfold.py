"""A decay turned round that grows the rate 10 to 100 times over a short loop.

`lr = lr0 / decay ** epoch` with decay 0.93 over 50 epochs multiplies the rate by 1.075 at every pass and ends
35 times its first value, 6 times what it was halfway: the schedule check wanted 100 times and 10 times, set to
pass a warm-up over, and said nothing while the loss diverged. A rate multiplied by one factor above 1 at every
pass, to ten times its first value or more, is named at the schedule's line (step-rate-too-high,
`schedule-grows`). The decays written the right way round, and a linear warm-up, stay clean.
"""

from __future__ import annotations

from backprop_doctor.replay.schedule import _grown
from tests.userfiles import check, line_of, planted, write

# a script: softmax regression, two names set on one line, the schedule computed per epoch
SCRIPT = '''\
import numpy as np

rs = np.random.RandomState(3)
X = rs.randn(60, 3)
T = np.eye(2)[(X[:, 0] > 0).astype(int)]
W = np.zeros((3, 2))
lr0, shrink = 0.5, 0.93
for epoch in range(50):
    lr = lr0 * shrink ** epoch
    for s in range(0, 60, 30):
        xb, tb = X[s:s + 30], T[s:s + 30]
        z = xb @ W
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(tb * np.log(p + 1e-12), axis=1))
        W -= lr * xb.T @ (p - tb) / len(xb)
    print(epoch, loss)
'''

# a function: the rate changed by a factor at the end of every epoch
FUNCTION = '''\
import numpy as np


def train(X, y, epochs=40):
    w = np.zeros((X.shape[1], 1))
    rate = 0.02
    for epoch in range(epochs):
        err = X @ w - y
        loss = 0.5 * np.mean(err ** 2)
        grad = X.T @ err / len(X)
        w -= rate * grad
        rate = rate * 0.94
        print(epoch, loss)
    return w


data = np.random.default_rng(5).normal(size=(40, 2))
train(data, data @ np.array([[1.0], [2.0]]))
'''

CASES = {
    "script": (SCRIPT, "    lr = lr0 * shrink ** epoch\n", "    lr = lr0 / shrink ** epoch\n", "lr = lr0 / shrink"),
    "function": (FUNCTION, "        rate = rate * 0.94\n", "        rate = rate / 0.94\n", "rate = rate / 0.94"),
}


def _grows(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f.get("pattern") == "schedule-grows"]


def test_a_decay_turned_round_is_named_though_the_rate_grows_less_than_a_hundredfold(tmp_path):
    for name, (program, right, wrong, at) in CASES.items():
        path = planted(tmp_path, f"grows_{name}.py", program, right, wrong)
        report = check(path, training=True)
        found = _grows(report)
        assert [(f["code"], f["line"]) for f in found] == [("BPD608", line_of(path, at))], (name, report["findings"])
        assert "grow instead of decay" in found[0]["message"], found[0]["message"]


def test_the_decays_written_the_right_way_round_stay_clean(tmp_path):
    for name, (program, *_) in CASES.items():
        report = check(write(tmp_path, f"decays_{name}.py", program), training=True)
        assert _grows(report) == [] and [f for f in report["findings"] if f["severity"] == "error"] == [], (name, report["findings"])


def test_only_one_factor_at_every_pass_to_tenfold_counts():
    passes = list(range(50))
    assert _grown(passes, [1 / 0.93 ** i for i in passes], 50) is not None  # 35 times, 1.075 each pass
    assert _grown(passes, [1 / 0.99 ** i for i in passes], 50) is None  # 1.6 times: no tenfold
    assert _grown(passes, [0.1 * (1 + i) for i in passes], 50) is None  # a linear warm-up: 50 times, not one factor
    assert _grown(passes, [min(1.0, 0.01 * 1.2 ** i) for i in passes], 50) is None  # climbs by a factor, then levels off
