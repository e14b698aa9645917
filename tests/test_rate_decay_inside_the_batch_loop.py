"""A learning-rate decay meant once per epoch, indented into the mini-batch loop: it runs batches × epochs
times, and the rate is a thousandth of its first value within the first few epochs. The schedule counts
every loop the factor runs in (the product of their passes), whatever their shapes: a script's
`for ep in range(...)` around `for start in range(0, N, bs)`, and a function's counted `while epoch < epochs`
around a `for` over a list of batches. The warning is at the decay's line and names both loops; the
same programs with the decay once per epoch are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

rs = np.random.RandomState(3)
feats = rs.uniform(-1, 1, size=(640, 3))
goal = np.tanh(feats[:, :1] * 2) - feats[:, 1:2] * feats[:, 2:3]
W1 = rs.randn(3, 20) * 0.5
c1 = np.zeros(20)
W2 = rs.randn(20, 1) * 0.2
c2 = np.zeros(1)
step = 0.3
shrink = 0.96
bs = 32
for ep in range(50):
    for start in range(0, len(feats), bs):
        xb, yb = feats[start:start + bs], goal[start:start + bs]
        hid = np.tanh(xb @ W1 + c1)
        pred = hid @ W2 + c2
        err = pred - yb
        loss = 0.5 * np.mean(err ** 2)
        g = err / len(xb)
        gW2 = hid.T @ g
        gc2 = g.sum(axis=0)
        gh = (g @ W2.T) * (1 - hid ** 2)
        gW1 = xb.T @ gh
        gc1 = gh.sum(axis=0)
        W1 -= step * gW1
        c1 -= step * gc1
        W2 -= step * gW2
        c2 -= step * gc2
    step *= shrink
    if ep % 10 == 0 or ep == 49:
        print(ep, step, loss)
'''

FUNCTION = '''\
import numpy as np


def make_batches(x, t, size):
    return [(x[i:i + size], t[i:i + size]) for i in range(0, len(x), size)]


class Net:
    def __init__(self, n_in, n_hidden, n_out, seed=0):
        g = np.random.default_rng(seed)
        self.params = {
            "W1": g.normal(0, 1 / np.sqrt(n_in), (n_in, n_hidden)),
            "b1": np.zeros(n_hidden),
            "W2": g.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_out)),
            "b2": np.zeros(n_out),
        }

    def loss_and_grads(self, x, t):
        p = self.params
        a = np.maximum(x @ p["W1"] + p["b1"], 0)
        s = a @ p["W2"] + p["b2"]
        s = s - s.max(axis=1, keepdims=True)
        prob = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        n = len(x)
        loss = -np.log(prob[np.arange(n), t]).mean()
        ds = prob.copy()
        ds[np.arange(n), t] -= 1
        ds /= n
        grads = {"W2": a.T @ ds, "b2": ds.sum(axis=0)}
        da = (ds @ p["W2"].T) * (a > 0)
        grads["W1"] = x.T @ da
        grads["b1"] = da.sum(axis=0)
        return loss, grads


def train(net, x, t, rate=0.5, gamma=0.9, epochs=30, size=25):
    batches = make_batches(x, t, size)
    epoch = 0
    while epoch < epochs:
        for xb, tb in batches:
            loss, grads = net.loss_and_grads(xb, tb)
            for k in net.params:
                net.params[k] -= rate * grads[k]
        rate = rate * gamma
        epoch += 1
        print(epoch, rate, loss)
    return net


g = np.random.default_rng(1)
pts = g.normal(size=(500, 2))
lab = ((pts[:, 0] * pts[:, 1]) > 0).astype(int) + (np.abs(pts[:, 0]) > 1.2).astype(int)
train(Net(2, 32, 3), pts, lab)
'''


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-vanishes"]


def test_a_decay_in_the_batch_loop_of_a_script_counts_batches_times_epochs(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "    step *= shrink\n", "        step *= shrink\n")
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "step *= shrink"))
    message = finding["message"]
    assert "20 passes of the loop at line %d" % line_of(path, "for start in range") in message
    assert "50 passes of the loop at line %d" % line_of(path, "for ep in range") in message
    assert "1000 times" in message and "by `ep` = 8" in message
    assert "move it out of the loop at line %d" % line_of(path, "for start in range") in message
    assert errors(report) == []


def test_the_same_decay_once_per_epoch_is_clean(tmp_path):
    report = check(write(tmp_path, "script.py", SCRIPT), training=True)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []


def test_a_decay_in_a_loop_over_a_list_of_batches_inside_a_counted_while(tmp_path):
    path = planted(tmp_path, "function.py", FUNCTION, "        rate = rate * gamma\n", "            rate = rate * gamma\n")
    report = check(path, training=True)
    (finding,) = _ours(report)
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "rate = rate * gamma"))
    message = finding["message"]
    assert "20 passes of the loop at line %d" % line_of(path, "for xb, tb in batches") in message
    assert "30 passes of the loop at line %d" % line_of(path, "while epoch < epochs") in message
    assert "600 times" in message and "by `epoch` = 3" in message
    assert errors(report) == []


def test_the_function_decaying_once_per_epoch_is_clean(tmp_path):
    report = check(write(tmp_path, "function.py", FUNCTION), training=True)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
