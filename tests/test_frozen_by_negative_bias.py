"""Hidden ReLU units that a large negative starting bias switches off for every sample: the gradients
of everything before them are exactly zero. The replay must not call the one parameter that still
learns (the output bias) wrong because its factor is the program's mean over the batch, and the
finding names the bias, at the line that sets it, as the reason. With biases started at 0 the same
programs are clean.

Units whose bias gets no gradient at all are off for every sample: an error, as a layer of dead units is."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

LISTS = """\
    import numpy as np

    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 3))
    y = (X[:, :1] * X[:, 1:2] + np.cos(X[:, 2:3]))
    y = (y - y.mean()) / y.std()

    class Net:
        def __init__(self, widths):
            self.Ws = [rng.standard_normal((a, b)) * np.sqrt(2.0 / a) for a, b in zip(widths[:-1], widths[1:])]
            self.bs = [np.zeros(b) for b in widths[1:]]

        def forward(self, x):
            self.acts, self.pre = [x], []
            for k, (W, b) in enumerate(zip(self.Ws, self.bs)):
                z = self.acts[-1] @ W + b
                self.pre.append(z)
                self.acts.append(z if k == len(self.Ws) - 1 else np.maximum(z, 0.0))
            return self.acts[-1]

        def backward(self, g):
            dWs, dbs = [], []
            for k in range(len(self.Ws) - 1, -1, -1):
                if k < len(self.Ws) - 1:
                    g = g * (self.pre[k] > 0)
                dWs.insert(0, self.acts[k].T @ g)
                dbs.insert(0, g.sum(axis=0))
                g = g @ self.Ws[k].T
            return dWs, dbs

    net = Net([3, 32, 32, 1])
    for k in range(2):
        net.bs[k] = np.zeros(32)
    step = 0.05
    for epoch in range(40):
        order = rng.permutation(len(X))
        for s in range(0, len(X), 40):
            rows = order[s:s + 40]
            out = net.forward(X[rows])
            dWs, dbs = net.backward(2 * (out - y[rows]) / len(rows))
            for k in range(len(net.Ws)):
                net.Ws[k] -= step * dWs[k]
                net.bs[k] -= step * dbs[k]
        print(epoch, float(np.mean((net.forward(X) - y) ** 2)))
"""

DICTS = """\
    import numpy as np

    np.random.seed(2)
    data = np.random.randn(300, 5)
    target = np.tanh(data @ np.random.randn(5, 1))

    def init(n_in, n_hidden):
        return {
            "W1": np.random.randn(n_in, n_hidden) * 0.4,
            "b1": np.zeros((1, n_hidden)),
            "W2": np.random.randn(n_hidden, 1) * 0.4,
            "b2": np.zeros((1, 1)),
        }

    def forward(p, x):
        z1 = x @ p["W1"] + p["b1"]
        a1 = np.maximum(0, z1)
        return a1 @ p["W2"] + p["b2"], (x, z1, a1)

    def backward(p, dout, cache):
        x, z1, a1 = cache
        grads = {"W2": a1.T @ dout, "b2": dout.sum(axis=0, keepdims=True)}
        dz1 = (dout @ p["W2"].T) * (z1 > 0)
        grads["W1"] = x.T @ dz1
        grads["b1"] = dz1.sum(axis=0, keepdims=True)
        return grads

    params = init(5, 16)
    for it in range(300):
        pred, cache = forward(params, data)
        grads = backward(params, (pred - target) / len(data), cache)
        for key in params:
            params[key] -= 0.1 * grads[key]
        if it % 50 == 0:
            print(it, 0.5 * float(np.mean((pred - target) ** 2)))
"""

CASES = [
    pytest.param(LISTS, "net.bs[k] = np.zeros(32)", "net.bs[k] = np.full(32, -6.0)", "net.bs[", id="list-of-biases-in-a-class"),
    pytest.param(DICTS, '"b1": np.zeros((1, n_hidden)),', '"b1": np.full((1, n_hidden), -8.0),', None, id="dict-of-parameters"),
]


@pytest.mark.parametrize(("program", "correct", "wrong", "named"), CASES)
def test_units_switched_off_by_a_negative_bias_are_named_at_the_bias_and_nothing_is_called_wrong(tmp_path, program, correct, wrong, named):
    path = planted(tmp_path, "train.py", program, correct, wrong)
    report = check(path, training=True)
    (head,) = errors(report)  # no gradient is called wrong: the one parameter still learning follows the program's mean
    assert report["findings"][report["root_cause"]] == head
    assert head["name"] == "step-frozen-parameters" and "dead" in head["message"] and "start the biases at 0" in head["message"], head
    assert head["line"] == line_of(path, wrong), head
    if named:
        assert f"`{named}" in head["message"], head["message"]


@pytest.mark.parametrize(("program", "correct", "wrong", "named"), CASES)
def test_the_same_programs_with_biases_started_at_zero_are_clean(tmp_path, program, correct, wrong, named):
    path = planted(tmp_path, "train.py", program, correct, correct)
    report = check(path, training=True)
    assert not errors(report), errors(report)
    assert not any("dead" in f["message"] or f["name"] == "step-frozen-parameters" for f in report["findings"]), report["findings"]
