"""A learning-rate schedule that makes the rate grow without bound over the loop's passes: a decay
written with its operation turned round (`lr = lr0 / 0.9 ** epoch`) or a factor above 1 applied every
pass (`eta *= 1.02`). Every gradient is right; `step-rate-too-high` names the schedule's line with a
warning (how far the rate grows, and the decay meant when turning the operation round gives one). The
decays (`lr0 * 0.9 ** epoch`, `eta *= 0.995`) and a warm-up that climbs to its rate and stays there
stay clean.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, replayed, write

# Softmax regression, shuffled mini-batches, an exponential decay per epoch.
EPOCHS = '''\
import numpy as np

rs = np.random.RandomState(31)
centres = rs.randn(4, 6) * 1.5
kinds = rs.randint(0, 4, 400)
data = centres[kinds] + rs.randn(400, 6)
onehot = np.eye(4)[kinds]
W = np.zeros((6, 4))
c = np.zeros(4)


def softmax_step(W, c, xb, yb):
    s = xb @ W + c
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    ce = -np.sum(yb * np.log(p + 1e-12)) / len(xb)
    d = (p - yb) / len(xb)
    return ce, xb.T @ d, d.sum(axis=0)


lr0 = 0.4
for epoch in range(50):
    lr = lr0 * 0.9 ** epoch
    order = rs.permutation(400)
    for s in range(0, 400, 40):
        rows = order[s:s + 40]
        ce, dW, dc = softmax_step(W, c, data[rows], onehot[rows])
        W -= lr * dW
        c -= lr * dc
    print(epoch, ce)
'''

# One full-batch loop, a ReLU layer, squared error, the rate changed by a factor every pass.
ITERATIONS = '''\
import numpy as np

gen = np.random.default_rng(77)
inp = gen.uniform(-1, 1, (100, 2))
out = (inp[:, :1] * inp[:, 1:]) + 0.2 * inp[:, :1]
A = gen.normal(0, 0.5, (2, 12))
a = np.zeros(12)
B = gen.normal(0, 0.3, (12, 1))
b = np.zeros(1)
eta = 0.05
for it in range(400):
    z = inp @ A + a
    h = np.maximum(z, 0)
    guess = h @ B + b
    sq = np.mean((guess - out) ** 2)
    g = 2 * (guess - out) / len(out)
    gB = h.T @ g
    gb = g.sum(axis=0)
    gz = (g @ B.T) * (z > 0)
    gA = inp.T @ gz
    ga = gz.sum(axis=0)
    A -= eta * gA
    a -= eta * ga
    B -= eta * gB
    b -= eta * gb
    eta *= 0.995
    if it % 100 == 0:
        print(it, sq)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-too-high"]


def test_a_decay_written_with_its_operation_turned_round_grows_the_rate(tmp_path):
    path = planted(tmp_path, "turned.py", EPOCHS, "lr = lr0 * 0.9 ** epoch", "lr = lr0 / 0.9 ** epoch")
    report = check(path)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"], finding["pattern"]) == ("BPD608", "warning", "schedule-grows")
    assert finding["line"] == line_of(path, "lr = lr0 / 0.9 ** epoch")
    assert "makes `lr` grow instead of decay: from 0.4 at the first pass" in finding["message"]
    assert "the loop's 50 passes" in finding["message"]
    assert finding["fix"] == "lr = lr0 * 0.9 ** epoch"
    assert [f for f in report["findings"] if f["name"] == "step-rate-vanishes"] == []


def test_a_factor_above_one_applied_every_pass_grows_the_rate(tmp_path):
    path = planted(tmp_path, "factor.py", ITERATIONS, "    eta *= 0.995\n", "    eta *= 1.02\n")
    (finding,) = _ours(check(path))
    assert finding["line"] == line_of(path, "eta *= 1.02")
    assert "makes `eta` grow instead of decay: from 0.05" in finding["message"] and "the loop's 400 passes" in finding["message"]
    assert "check `1.02`" in finding["message"]


def test_decays_and_a_warm_up_that_levels_off_stay_clean(tmp_path):
    warm = EPOCHS.replace("lr = lr0 * 0.9 ** epoch", "lr = lr0 * min(1.0, (epoch + 1) / 10)")
    linear = ITERATIONS.replace("    eta *= 0.995\n", "").replace("    z = inp @ A + a\n", "    eta = 0.2 * (it + 1) / 400\n    z = inp @ A + a\n")
    for name, text in (("epochs.py", EPOCHS), ("iterations.py", ITERATIONS), ("warm.py", warm), ("linear.py", linear)):
        report = check(write(tmp_path, name, text))
        assert replayed(report)["parameters"], name
        assert _ours(report) == [], name
