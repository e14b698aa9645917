"""A function pair whose backward takes some of its forward's weights again by their names, after the
upstream gradient and the cache (`skip_backward(dout, cache, U, V)` of `skip_forward(h, U, u, V, v)`,
a residual block's or a highway layer's): the pair is checked with those weights handed over as its
forward had them, not set aside with a warning that it takes other arguments. The right programs are
clean; a wrong statement of the backward is named at its line, by the pair's own check."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

# style 1: a residual block after a tanh layer, parameters in a dict, a step function that updates
RESIDUAL = """\
import numpy as np

rng = np.random.default_rng(21)
X = rng.standard_normal((24, 3))
Y = np.tanh(X @ rng.standard_normal((3, 2)))

params = {
    "A": rng.standard_normal((3, 6)) * 0.5, "a": np.zeros(6),
    "U": rng.standard_normal((6, 6)) * 0.3, "u": np.zeros(6),
    "V": rng.standard_normal((6, 6)) * 0.3, "v": np.zeros(6),
    "C": rng.standard_normal((6, 2)) * 0.4, "c": np.zeros(2),
}


def skip_forward(h, U, u, V, v):
    z = h @ U + u
    r = np.maximum(z, 0)
    return h + r @ V + v, (h, z, r)


def skip_backward(dout, cache, U, V):
    h, z, r = cache
    dV = r.T @ dout
    dv = dout.sum(axis=0)
    dz = (dout @ V.T) * (z > 0)
    dU = h.T @ dz
    du = dz.sum(axis=0)
    dh = dout + dz @ U.T
    return dh, dU, du, dV, dv


def step(params, X, Y, lr=0.05):
    h = np.tanh(X @ params["A"] + params["a"])
    s, cache = skip_forward(h, params["U"], params["u"], params["V"], params["v"])
    pred = s @ params["C"] + params["c"]
    loss = 0.5 * np.mean(np.sum((pred - Y) ** 2, axis=1))
    dpred = (pred - Y) / len(X)
    g = {"C": s.T @ dpred, "c": dpred.sum(axis=0)}
    ds = dpred @ params["C"].T
    dh, g["U"], g["u"], g["V"], g["v"] = skip_backward(ds, cache, params["U"], params["V"])
    dz0 = dh * (1 - h ** 2)
    g["A"] = X.T @ dz0
    g["a"] = dz0.sum(axis=0)
    for key in params:
        params[key] -= lr * g[key]
    return loss


for it in range(120):
    loss = step(params, X, Y)
    if it % 40 == 0:
        print(it, loss)
"""

# style 2: a highway layer over module-level arrays, a logistic output, updates in a zip loop
HIGHWAY = """\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def highway_forward(x, Wh, bh, Wt, bt):
    hcand = np.tanh(x @ Wh + bh)
    gate = sigmoid(x @ Wt + bt)
    out = gate * hcand + (1.0 - gate) * x
    return out, (x, hcand, gate)


def highway_backward(dout, cache, Wh, Wt):
    x, hcand, gate = cache
    dhcand = dout * gate
    dgate = dout * (hcand - x)
    dzh = dhcand * (1.0 - hcand ** 2)
    dzt = dgate * gate * (1.0 - gate)
    dWh = x.T @ dzh
    dbh = dzh.sum(axis=0)
    dWt = x.T @ dzt
    dbt = dzt.sum(axis=0)
    dx = dzh @ Wh.T + dzt @ Wt.T + dout * (1.0 - gate)
    return dx, dWh, dbh, dWt, dbt


np.random.seed(3)
N, D = 32, 5
x_train = np.random.randn(N, D)
y_train = (x_train[:, :1] * x_train[:, 1:2] > 0).astype(float)
Wh = np.random.randn(D, D) * 0.4
bh = np.zeros(D)
Wt = np.random.randn(D, D) * 0.4
bt = np.full(D, -1.0)
w_out = np.random.randn(D, 1) * 0.4
b_out = np.zeros(1)

for epoch in range(150):
    hw, cache = highway_forward(x_train, Wh, bh, Wt, bt)
    p = sigmoid(hw @ w_out + b_out)
    loss = -np.mean(y_train * np.log(p) + (1 - y_train) * np.log(1 - p))
    dlogit = (p - y_train) / N
    dw_out = hw.T @ dlogit
    db_out = dlogit.sum(axis=0)
    dhw = dlogit @ w_out.T
    _, dWh, dbh, dWt, dbt = highway_backward(dhw, cache, Wh, Wt)
    for param, grad in ((Wh, dWh), (bh, dbh), (Wt, dWt), (bt, dbt), (w_out, dw_out), (b_out, db_out)):
        param -= 0.5 * grad
    if epoch % 50 == 0:
        print(epoch, loss)
"""


def test_a_pair_whose_backward_takes_the_weights_again_is_checked_and_clean(tmp_path):
    for name, text, pair in (("residual.py", RESIDUAL, "skip"), ("highway.py", HIGHWAY, "highway")):
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""))
        flagged = [(f["code"], f["line"], f["message"][:80]) for f in report["findings"] if f["severity"] in ("error", "warning")]
        assert flagged == [], (name, flagged)
        assert any(m["layer"] == pair and m["verdict"] == "ok" for m in report["measurements"]), (name, report["measurements"])


def test_a_wrong_statement_of_such_a_pair_is_named_at_its_line_by_its_own_check(tmp_path):
    for name, text, pair, right, wrong in (
        ("residual.py", RESIDUAL, "skip", "    dh = dout + dz @ U.T\n", "    dh = dz @ U.T\n"),
        ("highway.py", HIGHWAY, "highway", "    dzt = dgate * gate * (1.0 - gate)\n", "    dzt = dgate * gate\n"),
    ):
        path = planted(tmp_path / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path)
        line = line_of(path, wrong.strip())
        assert report["root_cause"] is not None, (name, errors(report))
        assert report["findings"][report["root_cause"]]["line"] == line, (name, errors(report))
        own = [f for f in errors(report) if f["name"] == "gradient-mismatch" and (f["layer"] or "").startswith(pair)]
        assert own and any(f["line"] == line for f in own), (name, errors(report))
