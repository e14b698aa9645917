"""A whole model whose backward returns its parameters' gradients, and no input gradient, as one list or
tuple in the order its `params()` method (or `self.params` list) gives the parameters, for a training loop
that zips the two (`for p, g in zip(net.params(), grads): p -= lr * g`): each entry is the gradient of the
parameter at the same place (matched by count, order and shape), compared with that parameter's numerical
gradient; the list is no "list of values" bad return, nor a wrongly shaped input gradient. A model with no
`params` is matched to what its training loop zips the gradients with and steps: a method of another name
(`zip(m.trainable(), m.backward(d))`) or the attributes written out (`zip([net.U, net.u0, net.V], grads)`)."""

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

MLP = """\
    import numpy as np


    class TwoLayer:
        def __init__(self, d, h, k, seed=0):
            g = np.random.RandomState(seed)
            self.W1 = g.randn(d, h) / np.sqrt(d)
            self.b1 = np.zeros(h)
            self.W2 = g.randn(h, k) / np.sqrt(h)
            self.b2 = np.zeros(k)
            self.params = [self.W1, self.b1, self.W2, self.b2]

        def forward(self, X):
            self.X = X
            self.Z = X @ self.W1 + self.b1
            self.A = np.maximum(self.Z, 0)
            return self.A @ self.W2 + self.b2

        def backward(self, dY):
            gW2 = self.A.T @ dY
            gb2 = dY.sum(axis=0)
            dA = dY @ self.W2.T
            dZ = dA * (self.Z > 0)
            gW1 = self.X.T @ dZ
            gb1 = dZ.sum(axis=0)
            return gW1, gb1, gW2, gb2


    rng = np.random.RandomState(5)
    X = rng.randn(60, 4)
    Y = np.c_[X[:, 0] - X[:, 1], np.abs(X[:, 2])]
    model = TwoLayer(4, 10, 2)
    for it in range(200):
        P = model.forward(X)
        loss = np.mean((P - Y) ** 2)
        grads = model.backward(2 * (P - Y) / P.size)
        for p, g in zip(model.params, grads):
            p -= 0.1 * g
    print("loss", loss)
"""

ZIPPED_METHOD = """\
    import numpy as np


    class Squash:
        def __init__(self, d, k, seed=1):
            r = np.random.RandomState(seed)
            self.A = r.randn(d, k) * 0.1
            self.c = np.zeros(k)
            self.velocity = [np.zeros((d, k)), np.zeros(k)]

        def trainable(self):
            return self.A, self.c

        def forward(self, X):
            self.X = X
            return np.tanh(X @ self.A + self.c)

        def backward(self, dout):
            out = np.tanh(self.X @ self.A + self.c)
            dpre = dout * (1 - out ** 2)
            return self.X.T @ dpre, dpre.sum(axis=0)


    rng = np.random.RandomState(2)
    X = rng.randn(50, 6)
    T = np.tanh(X[:, :3] * 0.5)
    m = Squash(6, 3)
    for step in range(100):
        out = m.forward(X)
        loss = np.mean((out - T) ** 2)
        for p, g in zip(m.trainable(), m.backward(2 * (out - T) / out.size)):
            p -= 0.5 * g
    print(loss)
"""

ZIPPED_LIST = """\
    import numpy as np


    class Net:
        def __init__(self):
            r = np.random.RandomState(0)
            self.U = r.randn(3, 7) * 0.5
            self.u0 = np.zeros(7)
            self.V = r.randn(7, 1) * 0.5

        def forward(self, X):
            self.X = X
            self.H = 1 / (1 + np.exp(-(X @ self.U + self.u0)))
            return self.H @ self.V

        def backward(self, dout):
            gV = self.H.T @ dout
            dH = dout @ self.V.T
            dZ = dH * self.H * (1 - self.H)
            return self.X.T @ dZ, dZ.sum(axis=0), gV


    rng = np.random.RandomState(4)
    X = rng.randn(30, 3)
    y = X[:, :1] * X[:, 1:2]
    net = Net()
    for step in range(100):
        pred = net.forward(X)
        loss = 0.5 * np.mean((pred - y) ** 2)
        grads = net.backward((pred - y) / len(X))
        for w, g in zip([net.U, net.u0, net.V], grads):
            w -= 0.2 * g
    print(loss)
"""


def _verdicts(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def _input_findings(report: dict, layer: str) -> list[dict]:
    """Findings about the model's input gradient, which it does not compute (a bad return, a wrong shape)."""
    return [f for f in report["findings"] if f.get("param") == "x" or f"{layer}.x" in f["message"]]


def test_a_list_of_gradients_in_params_order_is_the_parameters(tmp_path):
    report = check(write(tmp_path, "rnn.py", RNN))
    assert errors(report) == []
    assert _input_findings(report, "TinyRNN") == []
    assert _verdicts(report, "TinyRNN") == {p: "ok" for p in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}


def test_a_wrong_entry_of_the_list_is_found_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "rnn.py", RNN, "dbh += dz.sum(axis=0)", "dbh += dz.sum(axis=1).sum()")
    report = check(path)
    assert _input_findings(report, "TinyRNN") == []
    verdicts = _verdicts(report, "TinyRNN")
    assert {p for p, v in verdicts.items() if v != "ok"} == {"b_h"}
    assert line_of(path, "dbh += dz.sum(axis=1).sum()") in {f["line"] for f in errors(report)}


def test_a_tuple_of_gradients_in_the_order_of_a_params_list_is_the_parameters(tmp_path):
    report = check(write(tmp_path, "mlp.py", MLP))
    assert errors(report) == []
    assert _input_findings(report, "TwoLayer") == []
    assert _verdicts(report, "TwoLayer") == {p: "ok" for p in ("W1", "b1", "W2", "b2")}


def test_a_wrong_entry_of_the_tuple_is_found_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "mlp.py", MLP, "gb1 = dZ.sum(axis=0)", "gb1 = dA.sum(axis=0)")
    report = check(path)
    assert _input_findings(report, "TwoLayer") == []
    verdicts = _verdicts(report, "TwoLayer")
    assert {p for p, v in verdicts.items() if v != "ok"} == {"b1"}
    assert line_of(path, "gb1 = dA.sum(axis=0)") in {f["line"] for f in errors(report)}


def test_gradients_matched_to_what_the_training_loop_zips_them_with(tmp_path):
    for name, program, layer, params in (("squash.py", ZIPPED_METHOD, "Squash", ("A", "c")), ("net.py", ZIPPED_LIST, "Net", ("U", "u0", "V"))):
        report = check(write(tmp_path, name, program))
        assert errors(report) == [], name
        assert _input_findings(report, layer) == [], name
        assert _verdicts(report, layer) == {p: "ok" for p in params}, name


def test_a_wrong_gradient_zipped_by_the_training_loop_is_found(tmp_path):
    for name, program, layer, correct, wrong, param in (
        ("squash.py", ZIPPED_METHOD, "Squash", "dpre, dpre.sum(axis=0)", "dpre, dout.sum(axis=0)", "c"),
        ("net.py", ZIPPED_LIST, "Net", "dZ, dZ.sum(axis=0), gV", "dZ, dH.sum(axis=0), gV", "u0"),
    ):
        path = planted(tmp_path, name, program, correct, wrong)
        report = check(path)
        assert _input_findings(report, layer) == [], name
        assert {p for p, v in _verdicts(report, layer).items() if v != "ok"} == {param}, name
        assert line_of(path, wrong) in {f["line"] for f in errors(report)}, name
