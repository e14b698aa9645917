"""A backward loop over time steps that counts down and stops before step 0 (`range(T - 1, 0, -1)`,
`reversed(range(1, T))`) never adds the first step's part of the gradients it adds up: the gradient
finding names the loop's line, with the loop written to reach step 0. A countdown from 1 that reads an
earlier step by `t - 1` (a list holding the initial state first) is counted that way on purpose: a
wrong gradient in it keeps its own line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

RNN = """\
    import numpy as np


    class TinyRNN:
        def __init__(self, n_in, n_h, n_out, seed=3):
            r = np.random.RandomState(seed)
            self.W_xh = r.randn(n_in, n_h) * 0.4
            self.W_hh = r.randn(n_h, n_h) * 0.4
            self.b_h = np.zeros(n_h)
            self.W_hy = r.randn(n_h, n_out) * 0.4
            self.b_y = np.zeros(n_out)

        def params(self):
            return [self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y]

        def forward(self, seq):
            n, steps, _ = seq.shape
            h = np.zeros((n, self.W_hh.shape[0]))
            self.hs = [h]
            self.xs = []
            for s in range(steps):
                x = seq[:, s, :]
                h = np.tanh(x @ self.W_xh + h @ self.W_hh + self.b_h)
                self.xs.append(x)
                self.hs.append(h)
            return h @ self.W_hy + self.b_y

        def backward(self, dout):
            dWxh = np.zeros_like(self.W_xh)
            dWhh = np.zeros_like(self.W_hh)
            dbh = np.zeros_like(self.b_h)
            dWhy = self.hs[-1].T @ dout
            dby = dout.sum(axis=0)
            dh = dout @ self.W_hy.T
            for s in reversed(range(len(self.xs))):
                dz = dh * (1 - self.hs[s + 1] ** 2)
                dWxh += self.xs[s].T @ dz
                dWhh += self.hs[s].T @ dz
                dbh += dz.sum(axis=0)
                dh = dz @ self.W_hh.T
            return [dWxh, dWhh, dbh, dWhy, dby]


    rng = np.random.RandomState(7)
    seq = rng.randn(40, 5, 3)
    target = seq[:, :, :2].sum(axis=1) * 0.3
    net = TinyRNN(3, 8, 2)
    for epoch in range(120):
        out = net.forward(seq)
        loss = 0.5 * np.mean(np.sum((out - target) ** 2, axis=1))
        grads = net.backward((out - target) / len(seq))
        for p, g in zip(net.params(), grads):
            p -= 0.05 * g
    print("loss", loss)
"""

ELMAN = """\
    import numpy as np


    class Elman:
        def __init__(self, d, h, seed=0):
            r = np.random.RandomState(seed)
            self.U = r.randn(d, h) * 0.5
            self.W = r.randn(h, h) * 0.5
            self.c = np.zeros(h)

        def forward(self, xs):
            N, T, _ = xs.shape
            h = np.ones((N, self.W.shape[0])) * 0.5
            self.cache = []
            for t in range(T):
                h_new = np.tanh(xs[:, t, :] @ self.U + h @ self.W + self.c)
                self.cache.append((xs[:, t, :], h, h_new))
                h = h_new
            return h

        def backward(self, dh):
            self.dU = np.zeros_like(self.U)
            self.dW = np.zeros_like(self.W)
            self.dc = np.zeros_like(self.c)
            T = len(self.cache)
            for t in range(T - 1, -1, -1):
                x, h_prev, h_new = self.cache[t]
                dz = dh * (1 - h_new ** 2)
                self.dU += x.T @ dz
                self.dW += h_prev.T @ dz
                self.dc += dz.sum(axis=0)
                dh = dz @ self.W.T


    rng = np.random.RandomState(3)
    xs = rng.randn(20, 4, 2)
    y = np.tanh(xs.sum(axis=1) @ rng.randn(2, 5))
    m = Elman(2, 5)
    for it in range(100):
        out = m.forward(xs)
        loss = np.mean((out - y) ** 2)
        m.backward(2 * (out - y) / out.size)
        for name in ("U", "W", "c"):
            getattr(m, name)[...] -= 0.3 * getattr(m, "d" + name)
    print(loss)
"""

# the states kept with the initial one first, the countdown stopping at 1 on purpose (`hs[t - 1]`)
ELMAN_FROM_ONE = """\
    import numpy as np


    class Elman:
        def __init__(self, d, h, seed=0):
            r = np.random.RandomState(seed)
            self.U = r.randn(d, h) * 0.5
            self.W = r.randn(h, h) * 0.5
            self.c = np.zeros(h)

        def forward(self, xs):
            N, T, _ = xs.shape
            h = np.ones((N, self.W.shape[0])) * 0.5
            self.xs = xs
            self.hs = [h]
            for t in range(T):
                h = np.tanh(xs[:, t, :] @ self.U + h @ self.W + self.c)
                self.hs.append(h)
            return h

        def backward(self, dh):
            self.dU = np.zeros_like(self.U)
            self.dW = np.zeros_like(self.W)
            self.dc = np.zeros_like(self.c)
            for t in range(len(self.hs) - 1, 0, -1):
                dz = dh * (1 - self.hs[t] ** 2)
                self.dU += self.xs[:, t - 1, :].T @ dz
                self.dW += self.hs[t - 1].T @ dz
                self.dc += dz.sum(axis=0)
                dh = dz @ self.W.T


    rng = np.random.RandomState(3)
    xs = rng.randn(20, 4, 2)
    y = np.tanh(xs.sum(axis=1) @ rng.randn(2, 5))
    m = Elman(2, 5)
    for it in range(100):
        out = m.forward(xs)
        loss = np.mean((out - y) ** 2)
        m.backward(2 * (out - y) / out.size)
        for name in ("U", "W", "c"):
            getattr(m, name)[...] -= 0.3 * getattr(m, "d" + name)
    print(loss)
"""


def _verdicts(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def test_correct_countdowns_are_clean(tmp_path):
    assert "range(len(self.hs) - 1, 0, -1)" in ELMAN_FROM_ONE
    for name, program, layer, params in (
        ("rnn.py", RNN, "TinyRNN", ("W_xh", "W_hh", "b_h", "W_hy", "b_y")),
        ("elman.py", ELMAN, "Elman", ("U", "W", "c")),
        ("elman1.py", ELMAN_FROM_ONE, "Elman", ("U", "W", "c")),
    ):
        report = check(write(tmp_path, name, program))
        assert errors(report) == [], name
        assert _verdicts(report, layer) == {p: "ok" for p in params}, name


def test_a_countdown_that_stops_before_the_first_step_is_named_at_the_loop(tmp_path):
    for name, program, correct, wrong, right_loop, params in (
        ("rnn.py", RNN, "for s in reversed(range(len(self.xs))):", "for s in reversed(range(1, len(self.xs))):",
         "for s in reversed(range(len(self.xs))):", {"W_xh", "b_h"}),
        ("elman.py", ELMAN, "for t in range(T - 1, -1, -1):", "for t in range(T - 1, 0, -1):",
         "for t in range(T - 1, -1, -1):", {"U", "W", "c"}),
    ):  # fmt: skip
        path = planted(tmp_path, name, program, correct, wrong)
        report = check(path)
        wrong_ones = {p for p, v in _verdicts(report, "TinyRNN" if name == "rnn.py" else "Elman").items() if v != "ok"}
        assert wrong_ones == params, name
        loop = line_of(path, wrong)
        named = [f for f in errors(report) if f["line"] == loop]
        assert named and all(f["pattern"] == "first-step-skipped" for f in named), (name, errors(report))
        assert any(f["fix"] == right_loop for f in named), name
        assert any("stops before" in f["message"] and f"line {loop}" in f["message"] for f in named), name


def test_a_wrong_gradient_in_a_countdown_from_one_on_purpose_keeps_its_line(tmp_path):
    path = planted(tmp_path, "elman1.py", ELMAN_FROM_ONE, "self.dc += dz.sum(axis=0)", "self.dc += dh.sum(axis=0)")
    report = check(path)
    assert {p for p, v in _verdicts(report, "Elman").items() if v != "ok"} == {"c"}
    assert line_of(path, "self.dc += dh.sum(axis=0)") in {f["line"] for f in errors(report)}
    assert [f for f in report["findings"] if f.get("pattern") == "first-step-skipped"] == []
