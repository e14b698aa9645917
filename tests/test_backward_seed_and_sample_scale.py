"""Where the backward pass starts, and adjoints of each sample beside a step that folds its rate in.

Every update exactly sign-flipped means the backward pass starts from the wrong error: the error
written target minus output is named where it is made, also when it sits in a helper a per-sample
backward calls from inside the step's own loop (a Nielsen-like class's `output_error(a, t)`, a
function style's `error_of(out, target)` called from `backward` once per sample).

A backward of each sample's error (`d_out = out - y`, N × the mean loss's gradient) whose
parameter gradients take the mean later, in a step that folds an unnamed rate into its update
(`params = [p - gain * g ...]`, every gradient then `gain` × the loss's), is walked past that
sample scale: the first adjoint wrong beyond it is named (a dropped path of a scalar network written
`dE_dhid1` for `hid_1`, a wrong slope in a small array network), not the per-sample one.
Correct twins are clean. Real files, real CLI.
"""

from __future__ import annotations

from userfiles import check, line_of, planted, write

NET_CLASS = """
import random
import numpy as np


class Net:
    def __init__(self, sizes):
        self.sizes = sizes
        self.bs = [np.random.randn(n, 1) for n in sizes[1:]]
        self.ws = [np.random.randn(m, n) / np.sqrt(n) for n, m in zip(sizes[:-1], sizes[1:])]

    def run(self, a):
        for b, w in zip(self.bs, self.ws):
            a = squash(w @ a + b)
        return a

    def fit(self, samples, rounds, size, step):
        for r in range(rounds):
            random.shuffle(samples)
            groups = [samples[k:k + size] for k in range(0, len(samples), size)]
            for group in groups:
                self.learn(group, step)
            print("cost", self.cost(samples))

    def learn(self, group, step):
        sum_b = [np.zeros(b.shape) for b in self.bs]
        sum_w = [np.zeros(w.shape) for w in self.ws]
        for a, t in group:
            gb, gw = self.grads_for(a, t)
            sum_b = [s + g for s, g in zip(sum_b, gb)]
            sum_w = [s + g for s, g in zip(sum_w, gw)]
        self.ws = [w - (step / len(group)) * g for w, g in zip(self.ws, sum_w)]
        self.bs = [b - (step / len(group)) * g for b, g in zip(self.bs, sum_b)]

    def grads_for(self, a, t):
        gb = [np.zeros(b.shape) for b in self.bs]
        gw = [np.zeros(w.shape) for w in self.ws]
        acts, pres = [a], []
        for b, w in zip(self.bs, self.ws):
            pre = w @ acts[-1] + b
            pres.append(pre)
            acts.append(squash(pre))
        err = self.output_error(acts[-1], t) * slope(pres[-1])
        gb[-1] = err
        gw[-1] = err @ acts[-2].T
        for k in range(2, len(self.sizes)):
            err = (self.ws[-k + 1].T @ err) * slope(pres[-k])
            gb[-k] = err
            gw[-k] = err @ acts[-k - 1].T
        return gb, gw

    def cost(self, samples):
        return sum(0.5 * np.sum((self.run(a) - t) ** 2) for a, t in samples) / len(samples)

    def output_error(self, a, t):
        return (a - t)


def squash(z):
    return 1.0 / (1.0 + np.exp(-z))


def slope(z):
    return squash(z) * (1 - squash(z))


if __name__ == "__main__":
    random.seed(1)
    np.random.seed(1)
    points = np.random.uniform(-1, 1, size=(24, 2))
    samples = []
    for p in points:
        t = np.zeros((2, 1))
        t[int(p[0] * p[1] > 0)] = 1.0
        samples.append((p.reshape(2, 1), t))
    net = Net([2, 4, 2])
    net.fit(samples, rounds=6, size=8, step=2.0)
"""

DICT_FUNCTIONS = """
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(params, x):
    h = np.tanh(params["W1"] @ x + params["b1"])
    out = sigmoid(params["W2"] @ h + params["b2"])
    return h, out


def error_of(out, target):
    return out - target


def backward(params, x, target):
    h, out = forward(params, x)
    d_net = error_of(out, target) * out * (1 - out)
    grads = {"W2": d_net @ h.T, "b2": d_net}
    d_pre = (params["W2"].T @ d_net) * (1 - h ** 2)
    grads["W1"] = d_pre @ x.T
    grads["b1"] = d_pre
    return grads


def batch_cost(params, xs, ts):
    return np.mean([0.5 * np.sum((forward(params, x)[1] - t) ** 2) for x, t in zip(xs, ts)])


def train_on(params, xs, ts, lr):
    total = {k: np.zeros_like(v) for k, v in params.items()}
    for x, t in zip(xs, ts):
        g = backward(params, x, t)
        for k in total:
            total[k] += g[k]
    for k in params:
        params[k] -= lr * total[k] / len(xs)


rng = np.random.default_rng(3)
params = {"W1": rng.normal(0, 0.5, (3, 2)), "b1": np.zeros((3, 1)), "W2": rng.normal(0, 0.5, (1, 3)), "b2": np.zeros((1, 1))}
xs = [rng.uniform(-1, 1, (2, 1)) for _ in range(16)]
ts = [np.array([[float(x[0, 0] > x[1, 0])]]) for x in xs]
for epoch in range(30):
    train_on(params, xs, ts, 1.0)
    if epoch % 10 == 0:
        print("cost", batch_cost(params, xs, ts))
"""

SCALARS = """
import numpy as np


def logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


rng = np.random.default_rng(5)
A = rng.uniform(-1.0, 1.0, size=(16, 2))
Y = np.column_stack([logistic(1.5 * A[:, 0] - A[:, 1]), logistic(A[:, 1] - 0.5 * A[:, 0])])
ws = [0.1, -0.2, 0.3, 0.25, -0.35, 0.45, 0.5, -0.15, 0.2, -0.1]


def gradients(ws, a1, a2, y1, y2):
    v1, v2, v3, v4, v5, v6, v7, v8, c1, c2 = ws
    net_1 = v1 * a1 + v2 * a2 + c1
    net_2 = v3 * a1 + v4 * a2 + c1
    hid_1 = logistic(net_1)
    hid_2 = logistic(net_2)
    net_a = v5 * hid_1 + v6 * hid_2 + c2
    net_b = v7 * hid_1 + v8 * hid_2 + c2
    out_a = logistic(net_a)
    out_b = logistic(net_b)
    L = np.mean(0.5 * (out_a - y1) ** 2 + 0.5 * (out_b - y2) ** 2)
    d_a = (out_a - y1) * out_a * (1 - out_a)
    d_b = (out_b - y2) * out_b * (1 - out_b)
    g5 = np.mean(d_a * hid_1)
    g6 = np.mean(d_a * hid_2)
    g7 = np.mean(d_b * hid_1)
    g8 = np.mean(d_b * hid_2)
    gc2 = np.mean(d_a + d_b)
    dL_dhid1 = d_a * v5 + d_b * v7
    dL_dhid2 = d_a * v6 + d_b * v8
    e1 = dL_dhid1 * hid_1 * (1 - hid_1)
    e2 = dL_dhid2 * hid_2 * (1 - hid_2)
    g1 = np.mean(e1 * a1)
    g2 = np.mean(e1 * a2)
    g3 = np.mean(e2 * a1)
    g4 = np.mean(e2 * a2)
    gc1 = np.mean(e1 + e2)
    return L, [g1, g2, g3, g4, g5, g6, g7, g8, gc1, gc2]


gain = 0.5
for it in range(200):
    L, gs = gradients(ws, A[:, 0], A[:, 1], Y[:, 0], Y[:, 1])
    ws = [w - gain * g for w, g in zip(ws, gs)]
    if it % 50 == 0:
        print(it, L)
print("final loss", L)
"""

ARRAYS = """
import numpy as np

rng = np.random.default_rng(7)
X = rng.normal(size=(20, 3))
y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
ps = [rng.normal(0, 0.5, (3, 5)), np.zeros(5), rng.normal(0, 0.5, (5, 1)), np.zeros(1)]


def step_grads(ps, X, y):
    W1, b1, W2, b2 = ps
    n = X.shape[0]
    pre = X @ W1 + b1
    hid = np.tanh(pre)
    out = hid @ W2 + b2
    loss = 0.5 * np.mean((out - y) ** 2)
    d_out = out - y
    gW2 = hid.T @ d_out / n
    gb2 = d_out.mean(axis=0)
    d_hid = d_out @ W2.T
    d_pre = d_hid * (1 - hid ** 2)
    gW1 = X.T @ d_pre / n
    gb1 = d_pre.mean(axis=0)
    return loss, [gW1, gb1, gW2, gb2]


gain = 0.5
for it in range(150):
    loss, gs = step_grads(ps, X, y)
    ps = [p - gain * g for p, g in zip(ps, gs)]
    if it % 50 == 0:
        print(it, loss)
print("final loss", loss)
"""


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


def _clean(report: dict) -> None:
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")], report["findings"]


def test_a_flipped_error_a_per_sample_method_makes_is_named_in_the_helper_making_it(tmp_path):
    path = planted(tmp_path, "net_class.py", NET_CLASS, "return (a - t)", "return (t - a)")
    root = _root(check(path))
    assert root["severity"] == "error" and root["line"] == line_of(path, "return (t - a)")
    assert "`output_error`" in root["message"] and "write `a - t`" in root["message"]


def test_a_flipped_error_a_per_sample_function_calls_is_named_where_it_is_written(tmp_path):
    path = planted(tmp_path, "dict_functions.py", DICT_FUNCTIONS, "return out - target", "return target - out")
    root = _root(check(path))
    assert root["severity"] == "error" and root["line"] == line_of(path, "return target - out")
    assert "write `out - target`" in root["message"]


def test_the_sign_flip_twins_are_clean(tmp_path):
    _clean(check(write(tmp_path, "net_class.py", NET_CLASS)))
    _clean(check(write(tmp_path, "dict_functions.py", DICT_FUNCTIONS)))


def test_a_dropped_path_past_per_sample_deltas_is_named_in_a_scalar_network(tmp_path):
    path = planted(tmp_path, "scalars.py", SCALARS, "dL_dhid1 = d_a * v5 + d_b * v7", "dL_dhid1 = d_a * v5")
    root = _root(check(path))
    assert root["severity"] == "error" and root["line"] == line_of(path, "dL_dhid1 = d_a * v5")
    # the parameters the dropped path feeds are the wrong ones; those at the folded rate are right
    assert "`ws[0]`, `ws[1]`" in root["message"] and "`ws[4]`" not in root["message"]


def test_a_wrong_slope_past_per_sample_errors_is_named_in_an_array_network(tmp_path):
    path = planted(tmp_path, "arrays.py", ARRAYS, "d_pre = d_hid * (1 - hid ** 2)", "d_pre = d_hid * (1 - hid)")
    root = _root(check(path))
    assert root["severity"] == "error" and root["line"] == line_of(path, "d_pre = d_hid * (1 - hid)")


def test_the_per_sample_twins_are_clean(tmp_path):
    _clean(check(write(tmp_path, "scalars.py", SCALARS)))
    _clean(check(write(tmp_path, "arrays.py", ARRAYS)))
