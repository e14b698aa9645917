"""An adaptive step written on a line of its own and added by name (AdaDelta's `delta = -np.sqrt(avg
of steps' squares + eps) / np.sqrt(avg of gradients' squares + eps) * g`, then `w += delta`) whose
ratio is upside down grows from update to update until a number leaves the float range on a line
that reads the step (its square averaged in, or the update). step-non-finite named that line; it now
names the line that makes the step, and says the root of the gradient's running square is multiplied
where an adaptive step divides by it; so does step-rate-too-high when the loss climbs by orders of
magnitude without leaving the float range within the replayed steps (it named the loop). Two styles:
a flat script stepping a dict of parameters, and an optimizer class with an `apply(weights, grads)`
method over dicts. The correct twins are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

FLAT = """\
    import numpy as np

    rs = np.random.RandomState(4)
    X = rs.uniform(-1, 1, (100, 2))
    y = np.sin(2 * X[:, :1]) - X[:, 1:] ** 2
    params = {"U": rs.randn(2, 10) * 0.5, "u": np.zeros(10), "V": rs.randn(10, 1) * 0.3, "v": np.zeros(1)}
    sq_g = {k: np.zeros_like(p) for k, p in params.items()}
    sq_d = {k: np.zeros_like(p) for k, p in params.items()}
    rho, eps = 0.9, 1e-6

    for it in range(200):
        h = np.tanh(X @ params["U"] + params["u"])
        pred = h @ params["V"] + params["v"]
        r = pred - y
        loss = np.mean(r ** 2)
        dpred = 2 * r / len(X)
        grads = {"V": h.T @ dpred, "v": dpred.sum(axis=0)}
        dh = (dpred @ params["V"].T) * (1 - h ** 2)
        grads["U"] = X.T @ dh
        grads["u"] = dh.sum(axis=0)
        for k in params:
            g = grads[k]
            sq_g[k] = rho * sq_g[k] + (1 - rho) * g ** 2
            delta = -np.sqrt(sq_d[k] + eps) / np.sqrt(sq_g[k] + eps) * g
            sq_d[k] = rho * sq_d[k] + (1 - rho) * delta ** 2
            params[k] += delta
        if it % 50 == 0:
            print(it, loss)
"""

CLASS = """\
    import numpy as np


    class Zeiler:
        def __init__(self, decay=0.95, eps=1e-6):
            self.decay, self.eps = decay, eps
            self.avg_grad_sq, self.avg_step_sq = {}, {}

        def apply(self, weights, grads):
            for name in weights:
                grad = grads[name]
                if name not in self.avg_grad_sq:
                    self.avg_grad_sq[name] = np.zeros_like(grad)
                    self.avg_step_sq[name] = np.zeros_like(grad)
                self.avg_grad_sq[name] = self.decay * self.avg_grad_sq[name] + (1 - self.decay) * grad * grad
                delta = np.sqrt(self.avg_step_sq[name] + self.eps) / np.sqrt(self.avg_grad_sq[name] + self.eps) * grad
                self.avg_step_sq[name] = self.decay * self.avg_step_sq[name] + (1 - self.decay) * delta * delta
                weights[name] -= delta


    def forward_backward(weights, X, labels):
        a = np.maximum(0, X @ weights["W1"] + weights["c1"])
        q = a @ weights["W2"] + weights["c2"]
        cost = np.mean((q - labels) ** 2)
        dlogit = 2 * (q - labels) / len(X)
        grads = {"W2": a.T @ dlogit, "c2": dlogit.sum(axis=0)}
        da = (dlogit @ weights["W2"].T) * (a > 0)
        grads["W1"] = X.T @ da
        grads["c1"] = da.sum(axis=0)
        return cost, grads


    rs = np.random.RandomState(1)
    X = rs.randn(80, 3)
    labels = 4 * np.tanh(X[:, :1] * X[:, 1:2]) + 2 * X[:, 2:]
    weights = {"W1": rs.randn(3, 8) * 0.5, "c1": np.zeros(8), "W2": rs.randn(8, 1) * 0.5, "c2": np.zeros(1)}
    opt = Zeiler()
    for epoch in range(150):
        cost, grads = forward_backward(weights, X, labels)
        opt.apply(weights, grads)
        if epoch % 50 == 0:
            print(epoch, cost)
"""


def test_the_flat_script_stepping_as_zeiler_is_clean(tmp_path):
    report = check(write(tmp_path, "fit.py", FLAT), training=True)
    assert errors(report) == [], report["findings"]


def test_the_flat_ratio_upside_down_is_named_where_the_step_is_made(tmp_path):
    path = planted(
        tmp_path, "fit.py", FLAT,
        "delta = -np.sqrt(sq_d[k] + eps) / np.sqrt(sq_g[k] + eps) * g",
        "delta = -np.sqrt(sq_g[k] + eps) / np.sqrt(sq_d[k] + eps) * g",
    )  # fmt: skip
    report = check(path, training=True)
    (finding,) = errors(report)
    assert finding["line"] == line_of(path, "delta = -np.sqrt"), finding
    assert f"the running average of the gradient's square (line {line_of(path, 'sq_g[k] = rho')})" in finding["message"], finding["message"]
    assert "put the root of `sq_g[k]` under the division" in finding["message"], finding["message"]


def test_the_optimizer_class_is_clean(tmp_path):
    report = check(write(tmp_path, "opt.py", CLASS), training=True)
    assert errors(report) == [], report["findings"]


def test_the_class_ratio_upside_down_is_named_where_the_step_is_made(tmp_path):
    path = planted(
        tmp_path, "opt.py", CLASS,
        "delta = np.sqrt(self.avg_step_sq[name] + self.eps) / np.sqrt(self.avg_grad_sq[name] + self.eps) * grad",
        "delta = np.sqrt(self.avg_grad_sq[name] + self.eps) / np.sqrt(self.avg_step_sq[name] + self.eps) * grad",
    )  # fmt: skip
    report = check(path, training=True)
    (finding,) = errors(report)
    assert finding["line"] == line_of(path, "delta = np.sqrt"), finding
    assert "put the root of `self.avg_grad_sq[name]` under the division" in finding["message"], finding["message"]
