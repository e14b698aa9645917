"""False alarms on correct code, three of them:

1. A function pair whose backward takes the forward's cache first and the upstream gradient second
   (`pool_backward(hr, dpooled)`, `layernorm_backward(cache, dout)`): the pair's check handed them in
   cs231n's order `(dout, cache)`, the backward raised on it, and `layer-raised` (BPD105) blamed the user.
   The order is read from the two arguments' names (`cs231n.cache_first`); and a backward the program's
   own run called without an error that raises on what the check hands it is a note, not an error.
2. Labels smoothed by the program itself (`onehot * (1 - eps) + eps / k`, `np.full(shape, s / K)` with
   `1 - s` at the label): the cross-entropy has a floor at the targets' entropy, so the tiny-batch fit
   (`step-cannot-overfit`, BPD615) is not asked to go below a fifth of its start (`static.smoothing`).
3. A global-norm clip without `min(1, .)` (`step-clip-always-rescales`, BPD628) scales every gradient up
   to the threshold: the updates are the gradient times one factor above 1, which is the clip's
   (`replay.gradients._rescaled_together`), not a wrong gradient (`step-gradient-mismatch`, BPD108).

Programs written for these tests, two styles each; correct twins are clean, and a planted gradient bug
is still found."""

from __future__ import annotations

import ast

from tests.userfiles import check, errors, line_of, planted, write

POOL_FUNCTIONS = 'import numpy as np\n\n\ndef dense_forward(x, W, b):\n    return x @ W + b, (x, W)\n\n\ndef dense_backward(dout, cache):\n    x, W = cache\n    return dout @ W.T, x.T @ dout, dout.sum(axis=0)\n\n\ndef pool_forward(h):\n    n, d = h.shape\n    hr = h.reshape(n, d // 2, 2)\n    return hr.max(axis=2), hr\n\n\ndef pool_backward(hr, dpooled):\n    mask = hr == hr.max(axis=2, keepdims=True)\n    return (mask * dpooled[:, :, None]).reshape(hr.shape[0], -1)\n\n\ndef model(params, x, y):\n    z, c1 = dense_forward(x, params["W1"], params["b1"])\n    pooled, hr = pool_forward(z)\n    s, c2 = dense_forward(pooled, params["W2"], params["b2"])\n    s = s - s.max(axis=1, keepdims=True)\n    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)\n    loss = -np.log(p[np.arange(len(y)), y]).mean()\n    ds = p.copy()\n    ds[np.arange(len(y)), y] -= 1\n    ds /= len(y)\n    dpooled, dW2, db2 = dense_backward(ds, c2)\n    dz = pool_backward(hr, dpooled)\n    _, dW1, db1 = dense_backward(dz, c1)\n    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}\n\n\nrng = np.random.default_rng(7)\nX = rng.normal(size=(200, 5))\nY = (X[:, 0] * X[:, 1] > 0).astype(int)\nparams = {"W1": rng.normal(0, 0.5, (5, 12)), "b1": np.zeros(12), "W2": rng.normal(0, 0.5, (6, 2)), "b2": np.zeros(2)}\nfor it in range(120):\n    rows = rng.choice(200, 20, replace=False)\n    loss, grads = model(params, X[rows], Y[rows])\n    for k in params:\n        params[k] -= 0.2 * grads[k]\n    if it % 40 == 0:\n        print(it, loss)\n'

LAYERNORM_SCRIPT = 'import numpy as np\n\n\ndef layernorm_forward(x, gamma, beta):\n    mu = x.mean(axis=1, keepdims=True)\n    std = np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)\n    xhat = (x - mu) / std\n    return gamma * xhat + beta, (xhat, std, gamma)\n\n\ndef layernorm_backward(cache, dout):\n    xhat, std, gamma = cache\n    dgamma = (dout * xhat).sum(axis=0)\n    dbeta = dout.sum(axis=0)\n    dxhat = dout * gamma\n    dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / std\n    return dx, dgamma, dbeta\n\n\nrs = np.random.RandomState(2)\nX = rs.randn(160, 6) * 3 + 1\nT = np.sin(X[:, :1]) + 0.1 * X[:, 1:2]\nW1, c1 = rs.randn(6, 10) * 0.4, np.zeros(10)\ng, bt = np.ones(10), np.zeros(10)\nW2, c2 = rs.randn(10, 1) * 0.3, np.zeros(1)\nlr = 0.05\nfor epoch in range(40):\n    for s in range(0, 160, 32):\n        xb, tb = X[s:s + 32], T[s:s + 32]\n        a = xb @ W1 + c1\n        n, cache = layernorm_forward(a, g, bt)\n        h = np.tanh(n)\n        out = h @ W2 + c2\n        err = out - tb\n        loss = np.mean(err ** 2)\n        dout = 2 * err / len(tb)\n        dW2, dc2 = h.T @ dout, dout.sum(axis=0)\n        dn = dout @ W2.T * (1 - h ** 2)\n        da, dg, dbt = layernorm_backward(cache, dn)\n        dW1, dc1 = xb.T @ da, da.sum(axis=0)\n        for P, G in ((W1, dW1), (c1, dc1), (g, dg), (bt, dbt), (W2, dW2), (c2, dc2)):\n            P -= lr * G\n    if epoch % 10 == 0:\n        print(epoch, loss)\n'

SMOOTH_HELPER = 'import numpy as np\n\nEPS = 0.2\n\n\ndef smooth(onehot, eps):\n    k = onehot.shape[1]\n    return onehot * (1 - eps) + eps / k\n\n\ndef loss_and_grads(P, x, y):\n    h = np.maximum(x @ P["W1"] + P["b1"], 0)\n    z = h @ P["W2"] + P["b2"]\n    z = z - z.max(axis=1, keepdims=True)\n    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n    q = smooth(np.eye(z.shape[1])[y], EPS)\n    loss = -(q * logp).sum(axis=1).mean()\n    dz = (np.exp(logp) - q) / len(x)\n    dh = dz @ P["W2"].T * (h > 0)\n    return loss, {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}\n\n\nrng = np.random.default_rng(3)\nX = rng.normal(size=(300, 4))\ny = np.argmax(X[:, :3], axis=1)\nP = {"W1": rng.normal(0, 0.5, (4, 16)), "b1": np.zeros(16), "W2": rng.normal(0, 0.3, (16, 3)), "b2": np.zeros(3)}\nfor it in range(200):\n    rows = rng.choice(300, 30, replace=False)\n    loss, G = loss_and_grads(P, X[rows], y[rows])\n    for k in P:\n        P[k] -= 0.5 * G[k]\n    if it % 50 == 0:\n        print(it, loss)\n'

SMOOTH_INLINE = 'import numpy as np\n\nrng = np.random.RandomState(5)\nn_cls, smoothing = 4, 0.2\nX = rng.randn(240, 6)\nlabels = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0)\nW1, b1 = rng.randn(6, 16) * 0.3, np.zeros(16)\nW2, b2 = rng.randn(16, n_cls) * 0.3, np.zeros(n_cls)\nlr = 0.3\nfor epoch in range(30):\n    for s in range(0, 240, 40):\n        xb, yb = X[s:s + 40], labels[s:s + 40]\n        h = np.tanh(xb @ W1 + b1)\n        z = h @ W2 + b2\n        z -= z.max(axis=1, keepdims=True)\n        p = np.exp(z)\n        p /= p.sum(axis=1, keepdims=True)\n        soft = np.full(p.shape, smoothing / n_cls)\n        soft[np.arange(len(yb)), yb] += 1 - smoothing\n        loss = -(soft * np.log(p)).sum() / len(yb)\n        dz = (p - soft) / len(yb)\n        dW2, db2 = h.T @ dz, dz.sum(axis=0)\n        dh = dz @ W2.T * (1 - h ** 2)\n        dW1, db1 = xb.T @ dh, dh.sum(axis=0)\n        for P, G in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):\n            P -= lr * G\n    if epoch % 10 == 0:\n        print(epoch, loss)\n'

CLIP_LIST = 'import numpy as np\n\n\ndef clip_norm(grads, limit):\n    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))\n    factor = min(1.0, limit / (norm + 1e-9))\n    return [g * factor for g in grads]\n\n\nrs = np.random.RandomState(8)\nX = rs.uniform(-1, 1, (300, 3))\nt = np.sin(2 * X[:, :1]) + X[:, 1:2] * X[:, 2:3]\nW1, c1 = rs.randn(3, 20) * 0.5, np.zeros(20)\nW2, c2 = rs.randn(20, 1) * 0.3, np.zeros(1)\nfor it in range(300):\n    idx = rs.randint(0, 300, 50)\n    xb, tb = X[idx], t[idx]\n    a = np.tanh(xb @ W1 + c1)\n    out = a @ W2 + c2\n    loss = np.mean((out - tb) ** 2)\n    d = 2 * (out - tb) / len(tb)\n    dW2, dc2 = a.T @ d, d.sum(axis=0)\n    da = d @ W2.T * (1 - a ** 2)\n    dW1, dc1 = xb.T @ da, da.sum(axis=0)\n    gs = clip_norm([dW1, dc1, dW2, dc2], 2.0)\n    for w, g in zip((W1, c1, W2, c2), gs):\n        w -= 0.1 * g\n    if it % 100 == 0:\n        print(it, loss)\n'

CLIP_DICT = 'import numpy as np\n\n\ndef clip_gradients(grads, limit):\n    total = np.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))\n    scale = min(1.0, limit / (total + 1e-12))\n    for key in grads:\n        grads[key] *= scale\n\n\nclass Net:\n    def __init__(self, rng):\n        self.params = {"U": rng.normal(0, 0.5, (2, 24)), "u": np.zeros(24), "V": rng.normal(0, 0.2, (24, 1)), "v": np.zeros(1)}\n\n    def gradients(self, x, y):\n        p = self.params\n        z = x @ p["U"] + p["u"]\n        h = np.maximum(z, 0)\n        pred = h @ p["V"] + p["v"]\n        r = pred - y\n        dpred = 2 * r / len(y)\n        dh = dpred @ p["V"].T * (z > 0)\n        return float(np.mean(r ** 2)), {"U": x.T @ dh, "u": dh.sum(axis=0), "V": h.T @ dpred, "v": dpred.sum(axis=0)}\n\n\nrng = np.random.default_rng(31)\nX = rng.uniform(-2, 2, (320, 2))\nY = np.abs(X[:, :1]) - 0.5 * X[:, 1:] ** 2\nnet = Net(rng)\nfor it in range(250):\n    rows = rng.integers(0, 320, 64)\n    mse, grads = net.gradients(X[rows], Y[rows])\n    clip_gradients(grads, 3.0)\n    for name in net.params:\n        net.params[name] -= 0.1 * grads[name]\n    if it % 50 == 0:\n        print(it, mse)\n'



def _warnings_and_errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def _named(report: dict, name: str) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == name]


# --------------------------------------------------------------------------- 1. the cache handed first


def test_a_pool_pair_whose_backward_takes_its_cache_first_is_checked_in_that_order(tmp_path):
    report = check(write(tmp_path, "pool.py", POOL_FUNCTIONS), training=True)
    assert _warnings_and_errors(report) == []
    assert any(b["what"] == "pool_forward/pool_backward" and not b.get("skipped") for b in report["built"])

    bug = planted(tmp_path, "pool_bug.py", POOL_FUNCTIONS, "hr.max(axis=2, keepdims=True)", "hr.max(axis=1, keepdims=True)")
    found = [f for f in errors(check(bug, training=True)) if f["name"] == "gradient-mismatch" and f["layer"] == "pool"]
    assert found and found[0]["line"] == line_of(bug, "hr.max(axis=1, keepdims=True)")


def test_a_layer_norm_pair_with_weights_and_its_cache_first_is_checked_in_that_order(tmp_path):
    report = check(write(tmp_path, "ln.py", LAYERNORM_SCRIPT), training=True)
    assert _warnings_and_errors(report) == []
    assert _named(report, "layer-raised") == []

    wrong = "dx = (dxhat - dxhat.mean(axis=1, keepdims=True)) / std"
    bug = planted(tmp_path, "ln_bug.py", LAYERNORM_SCRIPT, "dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / std", wrong)
    found = [f for f in errors(check(bug, training=True)) if f["name"] == "gradient-mismatch"]
    assert found and found[0]["layer"] == "layernorm" and found[0]["line"] == line_of(bug, wrong)


def test_a_backward_the_program_ran_that_fails_on_the_checks_rows_is_a_note(tmp_path):
    # a backward that reshapes to the program's batch size (a global): the program runs it on its batch of 20,
    # the pair's check on fewer rows, where it raises: the check's doing, not the program's
    source = POOL_FUNCTIONS.replace("rng = np.random.default_rng(7)", "BATCH = 20\nrng = np.random.default_rng(7)")
    source = source.replace("rows = rng.choice(200, 20, replace=False)", "rows = rng.choice(200, BATCH, replace=False)")
    path = planted(
        tmp_path, "pool_global.py", source,
        "return (mask * dpooled[:, :, None]).reshape(hr.shape[0], -1)", "return (mask * dpooled.reshape(BATCH, -1, 1)).reshape(BATCH, -1)",
    )
    report = check(path, training=True)
    assert _warnings_and_errors(report) == []
    (note,) = _named(report, "layer-raised")
    assert note["severity"] == "info" and f"your program's own call (line {line_of(path, 'dz = pool_backward(')})" in note["message"]


def test_cache_first_is_read_from_the_names():
    from backprop_doctor.conventions.cs231n import cache_first

    def pool_backward(hr, dpooled): ...
    def relu_backward(x, dout): ...
    def affine_backward(dout, cache): ...
    def sigmoid_backward(dA, cache): ...
    def odd_backward(data, dims): ...

    assert cache_first(pool_backward) and cache_first(relu_backward)
    assert not cache_first(affine_backward) and not cache_first(sigmoid_backward) and not cache_first(odd_backward)


# --------------------------------------------------------------------------- 2. labels smoothed by the program


def test_labels_smoothed_by_a_helper_leave_the_tiny_fit_unjudged(tmp_path):
    report = check(write(tmp_path, "smooth.py", SMOOTH_HELPER), training=True)
    assert _named(report, "step-cannot-overfit") == [] and _warnings_and_errors(report) == []

    bug = planted(tmp_path, "smooth_bug.py", SMOOTH_HELPER, 'dh = dz @ P["W2"].T * (h > 0)', 'dh = dz @ P["W2"].T')
    wrong = {f["param"] for f in errors(check(bug, training=True)) if f["name"] == "gradient-mismatch"}
    assert wrong == {"W1", "b1"}  # the layer before the ReLU whose slope was dropped


def test_labels_smoothed_inline_leave_the_tiny_fit_unjudged(tmp_path):
    report = check(write(tmp_path, "smooth2.py", SMOOTH_INLINE), training=True)
    assert _named(report, "step-cannot-overfit") == [] and _warnings_and_errors(report) == []

    bug = planted(tmp_path, "smooth2_bug.py", SMOOTH_INLINE, "dh = dz @ W2.T * (1 - h ** 2)", "dh = dz @ W2.T * (1 - h)")
    assert any(f["name"] == "step-gradient-mismatch" and f["line"] == line_of(bug, "dh = dz @ W2.T * (1 - h)") for f in errors(check(bug, training=True)))


def test_what_is_no_label_smoothing():
    from backprop_doctor.static.smoothing import smoothed_targets

    assert smoothed_targets(ast.parse(SMOOTH_HELPER)) == ("eps", 8)
    assert smoothed_targets(ast.parse(SMOOTH_INLINE))[0] == "smoothing"
    # a probability kept away from 0 and 1, an average's decay, an inverted dropout: no smoothing
    assert smoothed_targets(ast.parse("eps = 1e-7\ndef bce(p, y):\n    p = np.clip(p, eps, 1 - eps)\n    return -np.mean(y * np.log(p)) / eps\n")) is None
    assert smoothed_targets(ast.parse("beta = 0.9\nm = beta * m + (1 - beta) * g\nhalf = beta / 2\n")) is None
    assert smoothed_targets(ast.parse("p = 0.5\nmask = (r > p) / (1 - p)\n")) is None


# --------------------------------------------------------------------------- 3. a clip that always rescales


def test_a_list_clip_that_always_rescales_is_named_and_its_gradients_are_not(tmp_path):
    assert errors(check(write(tmp_path, "clip.py", CLIP_LIST), training=True)) == []

    bug = planted(tmp_path, "clip_bug.py", CLIP_LIST, "factor = min(1.0, limit / (norm + 1e-9))", "factor = limit / (norm + 1e-9)")
    report = check(bug, training=True)
    assert [f["name"] for f in errors(report)] == ["step-clip-always-rescales"]

    # one gradient wrong beside that clip is still found: it is not at the clip's factor
    both = planted(tmp_path, "clip_bug2.py", bug.read_text(), "da.sum(axis=0)", "da.mean(axis=0)")
    mismatch = _named(check(both, training=True), "step-gradient-mismatch")
    assert len(mismatch) == 1 and mismatch[0]["param"] == "c1" and "1/50" in mismatch[0]["message"]


def test_a_dict_clip_in_place_that_always_rescales_is_named_and_its_gradients_are_not(tmp_path):
    assert errors(check(write(tmp_path, "clip3.py", CLIP_DICT), training=True)) == []

    bug = planted(tmp_path, "clip3_bug.py", CLIP_DICT, "scale = min(1.0, limit / (total + 1e-12))", "scale = limit / (total + 1e-12)")
    report = check(bug, training=True)
    assert [f["name"] for f in errors(report)] == ["step-clip-always-rescales"]
