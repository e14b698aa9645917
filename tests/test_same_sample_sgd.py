"""Per-sample SGD whose loop over the samples takes the same sample at every pass (`xs, ts = X[0], t[0]`
under `for i in rng.permutation(n):`, inside the epochs' loop): every update trains on one sample only.
Its gradients are right, so only `step-same-batch` names it, at the index. The same loops that take the
sample at the loop's variable (`X[i]`), in a shuffled or a stored order, stay quiet.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

# A flat script: a shuffled order of positions each epoch, one tanh layer, a logistic output.
SHUFFLED = '''\
import numpy as np

rng = np.random.default_rng(4)
count = 80
feats = rng.normal(size=(count, 2))
truth = (feats[:, 0] * feats[:, 1] > 0).astype(float)
A = rng.normal(size=(2, 8)) * 0.6
a0 = np.zeros(8)
v = rng.normal(size=8) * 0.6
v0 = 0.0
eta = 0.1
for sweep in range(30):
    for k in rng.permutation(count):
        xs, ts = feats[k], truth[k]
        hid = np.tanh(xs @ A + a0)
        out = 1 / (1 + np.exp(-(hid @ v + v0)))
        nll = -(ts * np.log(out) + (1 - ts) * np.log(1 - out))
        err = out - ts
        gv = err * hid
        gv0 = err
        gh = err * v * (1 - hid ** 2)
        A -= eta * np.outer(xs, gh)
        a0 -= eta * gh
        v -= eta * gv
        v0 -= eta * gv0
    print(sweep, nll)
'''

# Functions over a stored order: linear regression, one sample per update through `sgd_step`.
STORED = '''\
import numpy as np

np.random.seed(17)
rows = 60
inputs = np.random.uniform(-1, 1, (rows, 3))
outputs = inputs @ np.array([1.5, -2.0, 0.5]) + 0.3


def sgd_step(w, c, x, t, rate):
    guess = x @ w + c
    diff = guess - t
    return w - rate * diff * x, c - rate * diff, 0.5 * diff ** 2


w = np.zeros(3)
c = 0.0
for rnd in range(20):
    total = 0.0
    for j in range(rows):
        sample = inputs[j]
        aim = outputs[j]
        w, c, part = sgd_step(w, c, sample, aim, 0.05)
        total += part
    print(rnd, total / rows)
'''

# Several steps on each sample: the sample is taken at the variable of the loop around the step's.
REPEATED = '''\
import numpy as np

rs = np.random.RandomState(3)
X = rs.randn(50, 3)
y = X @ np.array([1.0, -2.0, 0.5])
w = np.zeros(3)
lr = 0.05
for epoch in range(10):
    for j in rs.permutation(50):
        for k in range(3):
            xj = X[j]
            err = xj @ w - y[j]
            loss = 0.5 * err ** 2
            w -= lr * err * xj
    print(epoch, loss)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-same-batch"]


def test_a_shuffled_loop_that_takes_the_first_sample_every_time_is_named_at_the_index(tmp_path):
    path = planted(tmp_path, "first.py", SHUFFLED, "xs, ts = feats[k], truth[k]", "xs, ts = feats[0], truth[0]")
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"], finding["pattern"]) == ("BPD619", "warning", "same-sample")
    assert finding["line"] == line_of(path, "xs, ts = feats[0], truth[0]")
    assert "same sample at every pass: `feats[0]`" in finding["message"]
    assert "the first sample of the 80 of `feats`" in finding["message"]
    assert "`feats[k]`" in finding["message"]
    assert errors(report) == []


def test_a_loop_over_a_range_that_takes_the_last_sample_every_time_is_named(tmp_path):
    path = planted(tmp_path, "last.py", STORED, "        sample = inputs[j]\n", "        sample = inputs[-1]\n")
    path.write_text(path.read_text().replace("aim = outputs[j]", "aim = outputs[-1]"))
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert finding["line"] == line_of(path, "sample = inputs[-1]")
    assert "the last sample of the 60 of `inputs`" in finding["message"]
    assert "(`inputs[j]`)" in finding["message"]


def test_the_loops_that_take_the_sample_at_their_variable_are_quiet(tmp_path):
    for name, text in (("shuffled.py", SHUFFLED), ("stored.py", STORED), ("repeated.py", REPEATED)):
        report = check(write(tmp_path, name, text), training=True)
        assert replayed(report)["parameters"], name
        assert _ours(report) == [], name
