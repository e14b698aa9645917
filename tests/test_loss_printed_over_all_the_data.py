"""A loop that hands its minibatch over as it cuts it (`net.gradient(X[idx], T[idx])`) and prints
the loss over all the data (`net.loss(X, T)` every hundred passes): the update follows the
minibatch's loss, so that is the loss its gradients are measured against, as for a loop that names
its batch first (`xb = X[idx]`). Over all the data the gradient is not the update's, right or wrong."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
    import numpy as np

    class Net:
        def __init__(self, n_in, n_hidden, n_out, seed=5):
            g = np.random.RandomState(seed)
            self.params = {"W1": 0.5 * g.randn(n_in, n_hidden), "b1": np.zeros(n_hidden),
                           "W2": 0.5 * g.randn(n_hidden, n_out), "b2": np.zeros(n_out)}

        def _forward(self, x):
            h = np.tanh(x @ self.params["W1"] + self.params["b1"])
            s = h @ self.params["W2"] + self.params["b2"]
            p = np.exp(s - s.max(axis=1, keepdims=True))
            return h, p / p.sum(axis=1, keepdims=True)

        def loss(self, x, t):
            _, p = self._forward(x)
            return -np.mean(np.log(p[np.arange(len(t)), t]))

        def gradient(self, x, t):
            h, p = self._forward(x)
            ds = p.copy()
            ds[np.arange(len(t)), t] -= 1
            ds /= len(t)
            dh = ds @ self.params["W2"].T * (1 - h ** 2)
            return {"W2": h.T @ ds, "b2": ds.sum(axis=0), "W1": x.T @ dh, "b1": dh.sum(axis=0)}

    g = np.random.RandomState(7)
    X = g.randn(300, 4)
    T = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    net = Net(4, 9, 2)
    for i in range(400):
        idx = g.choice(300, 32, replace=False)
        grads = net.gradient(X[idx], T[idx])
        for key in net.params:
            net.params[key] -= 0.3 * grads[key]
        if i % 100 == 0:
            print(i, net.loss(X, T))
"""


def test_the_step_is_measured_on_the_minibatch_it_was_handed(tmp_path):
    report = check(write(tmp_path, "minibatch.py", SCRIPT))
    assert errors(report) == []
    steps = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert steps == {f"net.params['{k}']": "ok" for k in ("W1", "b1", "W2", "b2")}
    (replayed,) = report["extras"]["replay"]
    assert replayed["loss"] == "net.loss"


def test_a_wrong_gradient_is_still_found_on_the_minibatch(tmp_path):
    path = planted(tmp_path, "minibatch.py", SCRIPT, '"W2": h.T @ ds,', '"W2": h.T @ p,')
    report = check(path)
    steps = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert steps["net.params['W2']"] == "mismatch"
    assert {steps[f"net.params['{k}']"] for k in ("W1", "b1", "b2")} == {"ok"}
    assert line_of(path, '"W2": h.T @ p,') in {f["line"] for f in errors(report)}
