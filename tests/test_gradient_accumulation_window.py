"""Gradient accumulation: each pass adds its micro-batch's gradient to a sum (`acc[k] += g[k]`) and the
update runs once every K passes (`if step % ACCUM == 0:`), reading the sum divided by K. The replay
measures that update over its window of K passes, against the mean of their losses: the correct
twins are replayed and clean, a wrong gradient in the function that computes a micro-batch's is named
at its line, and an accumulator the loop never empties (the reset zeroes another array, or is missing)
is an error at that reset or at the line that adds, in two styles: a dict of parameters in a flat
script, and a class whose method adds into a list of gradient buffers."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

FLAT = '''\
import numpy as np

rng = np.random.default_rng(0)
N, D, H = 240, 4, 12
X = rng.normal(size=(N, D))
y = (X @ rng.normal(size=(D, 1)) > 0).astype(float)
params = {"W1": rng.normal(size=(D, H)) * 0.5, "b1": np.zeros(H),
          "W2": rng.normal(size=(H, 1)) * 0.5, "b2": np.zeros(1)}


def grads_of(params, xb, yb):
    h = np.tanh(xb @ params["W1"] + params["b1"])
    p = 1 / (1 + np.exp(-(h @ params["W2"] + params["b2"])))
    loss = -np.mean(yb * np.log(p + 1e-12) + (1 - yb) * np.log(1 - p + 1e-12))
    dz2 = (p - yb) / len(xb)
    dW2 = h.T @ dz2
    db2 = dz2.sum(axis=0)
    dh = dz2 @ params["W2"].T
    dz1 = dh * (1 - h ** 2)
    dW1 = xb.T @ dz1
    db1 = dz1.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


MICRO, ACCUM, lr = 16, 4, 0.5
acc = {k: np.zeros_like(v) for k, v in params.items()}
step = 0
for epoch in range(12):
    order = rng.permutation(N)
    for start in range(0, N, MICRO):
        idx = order[start:start + MICRO]
        loss, g = grads_of(params, X[idx], y[idx])
        for k in acc:
            acc[k] += g[k]
        step += 1
        if step % ACCUM == 0:
            for k in params:
                params[k] -= lr * acc[k] / ACCUM
                acc[k][...] = 0.0
    print(epoch, loss)
'''

RESET = "                acc[k][...] = 0.0\n"


def _accumulated(report):
    (finding,) = errors(report)
    assert finding["name"] == "step-gradient-mismatch" and finding["pattern"] == "accumulated-across-steps", finding
    assert "never empties them" in finding["message"], finding["message"]
    assert "every update applies the sum of all the gradients so far" in finding["message"], finding["message"]
    return finding


def test_flat_accumulation_is_replayed_over_its_window_and_clean(tmp_path):
    report = check(write(tmp_path, "accumulate.py", FLAT))
    assert errors(report) == []
    assert "1 training step" in report["verdict"], report["verdict"]
    assert replayed(report)["window"] == 4
    assert set(step_verdicts(report).values()) == {"ok"} and len(step_verdicts(report)) == 4


def test_flat_reset_of_the_micro_batch_gradient_is_named_there(tmp_path):
    path = planted(tmp_path, "accumulate.py", FLAT, RESET, "                g[k][...] = 0.0\n")
    finding = _accumulated(check(path))
    assert finding["line"] == line_of(path, "g[k][...] = 0.0")
    assert line_of(path, "acc[k] += g[k]") in finding["highlight"]
    assert "`acc['W1']`" in finding["message"] and "sets `g[k][...]` to zero, which empties none of them" in finding["message"]


def test_flat_missing_reset_is_named_at_the_line_that_adds(tmp_path):
    path = planted(tmp_path, "accumulate.py", FLAT, RESET, "")
    finding = _accumulated(check(path))
    assert finding["line"] == line_of(path, "acc[k] += g[k]")
    assert "once every 4 passes" in finding["message"]


def test_flat_wrong_micro_batch_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "accumulate.py", FLAT, "    dW1 = xb.T @ dz1\n", "    dW1 = xb.T @ dz1 * 2\n")
    report = check(path)
    found = errors(report)
    assert found and {f["line"] for f in found} == {line_of(path, "dW1 = xb.T @ dz1")}, found
    assert step_verdicts(report) == {"params['W1']": "mismatch", "params['b1']": "ok", "params['W2']": "ok", "params['b2']": "ok"}


ADAGRAD_STEP = """\
                mean_grad = acc[k] / ACCUM
                cache[k] += mean_grad ** 2
                params[k] -= 0.1 * mean_grad / (np.sqrt(cache[k]) + 1e-8)
"""


def _adagrad(source: str) -> str:
    return source.replace(
        "acc = {k: np.zeros_like(v) for k, v in params.items()}\n",
        "acc = {k: np.zeros_like(v) for k, v in params.items()}\ncache = {k: np.zeros_like(v) for k, v in params.items()}\n",
    ).replace("                params[k] -= lr * acc[k] / ACCUM\n", ADAGRAD_STEP)


def test_adagrad_cache_beside_the_accumulator_is_no_accumulated_gradient(tmp_path):
    report = check(write(tmp_path, "adagrad.py", _adagrad(FLAT)))
    assert errors(report) == [] and replayed(report)["window"] == 4
    path = write(tmp_path, "adagrad_bug.py", _adagrad(FLAT).replace(RESET, ""))
    finding = _accumulated(check(path))
    assert finding["line"] == line_of(path, "acc[k] += g[k]")
    assert "cache" not in finding["message"]


CLASS = '''\
import numpy as np


class TwoLayerNet:
    def __init__(self, n_in, n_hidden, n_out, seed=1):
        gen = np.random.default_rng(seed)
        self.weights = [gen.normal(size=(n_in, n_hidden)) * 0.4, gen.normal(size=(n_hidden, n_out)) * 0.4]
        self.grads = [np.zeros_like(w) for w in self.weights]

    def forward(self, x):
        self.x = x
        self.h = np.maximum(0.0, x @ self.weights[0])
        return self.h @ self.weights[1]

    def loss(self, out, target):
        return 0.5 * np.sum((out - target) ** 2) / len(target)

    def backward(self, out, target):
        d_out = (out - target) / len(target)
        self.grads[1] += self.h.T @ d_out
        d_h = (d_out @ self.weights[1].T) * (self.h > 0)
        self.grads[0] += self.x.T @ d_h

    def apply(self, lr, k):
        for w, g in zip(self.weights, self.grads):
            w -= lr * g / k
        for g in self.grads:
            g[...] = 0.0


data_rng = np.random.default_rng(7)
X = data_rng.normal(size=(192, 5))
Y = np.sin(X[:, :2]) + 0.1 * data_rng.normal(size=(192, 2))
net = TwoLayerNet(5, 10, 2)
accumulate = 3
count = 0
for epoch in range(15):
    for i in range(0, 192, 8):
        out = net.forward(X[i:i + 8])
        loss = net.loss(out, Y[i:i + 8])
        net.backward(out, Y[i:i + 8])
        count += 1
        if count % accumulate == 0:
            net.apply(0.2, accumulate)
    print(epoch, loss)
'''


def test_class_accumulating_into_a_list_of_buffers_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "net.py", CLASS))
    assert errors(report) == []
    assert "1 training step" in report["verdict"], report["verdict"]
    assert replayed(report)["window"] == 3
    assert step_verdicts(report) == {"net.weights[0]": "ok", "net.weights[1]": "ok"}


def test_class_reset_that_rebinds_the_loop_variable_is_named_there(tmp_path):
    path = planted(tmp_path, "net.py", CLASS, "            g[...] = 0.0\n", "            g = np.zeros_like(g)\n")
    finding = _accumulated(check(path))
    assert finding["line"] == line_of(path, "g = np.zeros_like(g)")
    assert {line_of(path, "self.grads[0] +="), line_of(path, "self.grads[1] +=")} <= set(finding["highlight"])
    assert "`net.grads[0]` and `net.grads[1]`" in finding["message"]


def test_class_wrong_gradient_is_named_where_it_is_added(tmp_path):
    path = planted(tmp_path, "net.py", CLASS, "        self.grads[0] += self.x.T @ d_h\n", "        self.grads[0] += self.x.T @ d_h * 3\n")
    report = check(path)
    (finding,) = errors(report)
    assert finding["line"] == line_of(path, "self.grads[0] += self.x.T @ d_h * 3")
    assert step_verdicts(report) == {"net.weights[0]": "mismatch", "net.weights[1]": "ok"}


def test_an_update_every_few_passes_that_sums_nothing_is_judged_by_its_own_pass(tmp_path):
    source = FLAT.replace("        for k in acc:\n            acc[k] += g[k]\n", "").replace(
        "                params[k] -= lr * acc[k] / ACCUM\n" + RESET, "                params[k] -= lr * g[k]\n"
    )
    report = check(write(tmp_path, "every_fourth.py", source))
    assert errors(report) == []
    assert replayed(report)["window"] == 1 and set(step_verdicts(report).values()) == {"ok"}


def test_class_without_a_reset_is_named_at_the_first_line_that_adds(tmp_path):
    path = planted(tmp_path, "net.py", CLASS, "        for g in self.grads:\n            g[...] = 0.0\n", "")
    finding = _accumulated(check(path))
    assert finding["line"] == line_of(path, "self.grads[1] +=")
    assert line_of(path, "self.grads[0] +=") in finding["highlight"]


def _with_momentum(source: str) -> str:
    return source.replace(
        "        self.grads = [np.zeros_like(w) for w in self.weights]\n",
        "        self.grads = [np.zeros_like(w) for w in self.weights]\n        self.velocity = [np.zeros_like(w) for w in self.weights]\n",
    ).replace(
        "        for w, g in zip(self.weights, self.grads):\n            w -= lr * g / k\n",
        "        for w, g, v in zip(self.weights, self.grads, self.velocity):\n            v *= 0.9\n            v += g / k\n            w -= lr * v\n",
    )


def test_a_momentum_velocity_beside_the_buffers_is_no_accumulated_gradient(tmp_path):
    report = check(write(tmp_path, "net.py", _with_momentum(CLASS)))
    assert errors(report) == [] and replayed(report)["window"] == 3
    assert step_verdicts(report) == {"net.weights[0]": "ok", "net.weights[1]": "ok"}
    path = write(tmp_path, "net_bug.py", _with_momentum(CLASS).replace("            g[...] = 0.0\n", "            v[...] = 0.0\n"))
    finding = _accumulated(check(path))
    assert finding["line"] == line_of(path, "v[...] = 0.0")
    assert "`net.grads[0]` and `net.grads[1]`" in finding["message"] and "velocity" not in finding["message"]
