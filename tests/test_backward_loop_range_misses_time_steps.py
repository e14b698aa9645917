"""A backward loop over time whose range stops one step short (`range(T - 1, 0, -1)`, `reversed(range(1, T))`):
every adjoint it computes is right at the steps it visits, the gradient it carries to step 0 included, but
step 0 never adds its terms to the input weights' and the bias's gradients. The loop's line is the one to
fix, not a statement inside it. The adjoint read before the pass assigns it again at its end (`da = dh * ...`
... `dh = da @ W.T`) is the gradient of the step the loop visits next (`TimeAdjoint.lag`), not of this one's."""

from tests.userfiles import check, errors, line_of, planted

FUNCTIONS = """
    import numpy as np

    rng = np.random.default_rng(4)
    N, T, D, H = 16, 5, 2, 6
    X = rng.normal(size=(N, T, D))
    Y = X[:, :, 0].sum(axis=1, keepdims=True) * 0.3

    params = {
        "U": rng.normal(0, 0.4, (D, H)),
        "W": rng.normal(0, 0.3, (H, H)),
        "b": np.zeros(H),
        "V": rng.normal(0, 0.3, (H, 1)),
        "c": np.zeros(1),
    }


    def forward(params, X):
        states = {-1: np.zeros((X.shape[0], H))}
        for t in range(X.shape[1]):
            states[t] = np.tanh(X[:, t] @ params["U"] + states[t - 1] @ params["W"] + params["b"])
        out = states[X.shape[1] - 1] @ params["V"] + params["c"]
        return out, states


    def backward(params, X, states, dout):
        g = {name: np.zeros_like(value) for name, value in params.items()}
        last = X.shape[1] - 1
        g["V"] = states[last].T @ dout
        g["c"] = dout.sum(axis=0)
        dh = dout @ params["V"].T
        for t in range(last, -1, -1):
            da = dh * (1 - states[t] ** 2)
            g["U"] += X[:, t].T @ da
            g["W"] += states[t - 1].T @ da
            g["b"] += da.sum(axis=0)
            dh = da @ params["W"].T
        return g


    for it in range(20):
        out, states = forward(params, X)
        loss = 0.5 * np.mean((out - Y) ** 2)
        dout = (out - Y) / len(Y)
        g = backward(params, X, states, dout)
        for name in params:
            params[name] -= 0.2 * g[name]
        if it % 5 == 0:
            print(it, loss)
"""

CLASS = """
    import numpy as np


    class Recurrent:
        def __init__(self, n_in, n_hidden, seed=0):
            r = np.random.RandomState(seed)
            self.Wxh = r.randn(n_in, n_hidden) * 0.4
            self.Whh = r.randn(n_hidden, n_hidden) * 0.3
            self.bh = np.zeros(n_hidden)
            self.Who = r.randn(n_hidden, 1) * 0.3
            self.bo = np.zeros(1)

        def forward(self, seq):
            self.seq = seq
            self.hs = {-1: np.zeros((seq.shape[0], self.Whh.shape[0]))}
            for t in range(seq.shape[1]):
                self.hs[t] = np.tanh(seq[:, t] @ self.Wxh + self.hs[t - 1] @ self.Whh + self.bh)
            self.T = seq.shape[1]
            return self.hs[self.T - 1] @ self.Who + self.bo

        def backward(self, grad_out):
            self.dWxh = np.zeros_like(self.Wxh)
            self.dWhh = np.zeros_like(self.Whh)
            self.dbh = np.zeros_like(self.bh)
            self.dWho = self.hs[self.T - 1].T @ grad_out
            self.dbo = grad_out.sum(axis=0)
            dh = grad_out @ self.Who.T
            for t in reversed(range(self.T)):
                draw = (1 - self.hs[t] ** 2) * dh
                self.dWxh += self.seq[:, t].T @ draw
                self.dWhh += self.hs[t - 1].T @ draw
                self.dbh += draw.sum(axis=0)
                dh = draw @ self.Whh.T

        def step(self, lr):
            for name in ("Wxh", "Whh", "bh", "Who", "bo"):
                setattr(self, name, getattr(self, name) - lr * getattr(self, "d" + name))


    r = np.random.RandomState(7)
    seqs = r.uniform(-1, 1, (24, 6, 1))
    targets = (seqs[:, :, 0] * 0.7 ** np.arange(6)).sum(axis=1, keepdims=True)
    net = Recurrent(1, 5)
    for epoch in range(15):
        pred = net.forward(seqs)
        loss = np.mean((pred - targets) ** 2)
        net.backward(2 * (pred - targets) / len(targets))
        net.step(0.1)
        print(epoch, loss)
"""


def _root(report: dict) -> dict:
    index = report["root_cause"]
    assert index is not None, report["findings"]
    return report["findings"][index]


def test_the_whole_loop_over_a_dict_of_parameters_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "rnn.py", FUNCTIONS, "range(last, -1, -1)", "range(last, -1, -1)"))) == []


def test_the_whole_loop_of_a_class_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "rnn.py", CLASS, "reversed(range(self.T))", "reversed(range(self.T))"))) == []


def test_a_range_stopping_before_step_0_is_named_at_the_loop(tmp_path):
    path = planted(tmp_path, "rnn.py", FUNCTIONS, "range(last, -1, -1)", "range(last, 0, -1)")
    report = check(path)
    root = _root(report)
    assert (root["code"], root["line"], root["pattern"]) == ("BPD108", line_of(path, "for t in range(last, 0, -1)"), "time-steps-skipped"), root
    assert "time step 0 never adds" in root["message"], root["message"]
    assert [f["line"] for f in errors(report)] == [root["line"]], errors(report)


def test_a_reversed_range_starting_at_1_in_a_class_is_named_at_the_loop(tmp_path):
    path = planted(tmp_path, "rnn.py", CLASS, "reversed(range(self.T))", "reversed(range(1, self.T))")
    report = check(path)
    root = _root(report)
    assert (root["code"], root["line"], root["pattern"]) == ("BPD108", line_of(path, "reversed(range(1, self.T))"), "time-steps-skipped"), root
    assert "`self.hs`'s 0..5" in root["message"], root["message"]
    # the layer check's wrong sums inside the loop follow from it
    assert all(f["caused_by"] == _root(report)["key"] for f in errors(report) if f is not root), errors(report)


def test_a_wrong_recurrent_derivative_is_still_named_at_its_statement(tmp_path):
    """Every step visited, one statement wrong: not the loop's range."""
    path = planted(tmp_path, "rnn.py", FUNCTIONS, "dh = da @ params[\"W\"].T", "dh = da @ params[\"W\"]")
    root = _root(check(path))
    assert root["code"] == "BPD108" and root["pattern"] != "time-steps-skipped", root
    assert root["line"] == line_of(path, "dh = da @ params[\"W\"]"), root
