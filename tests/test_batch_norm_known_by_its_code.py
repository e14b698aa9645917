"""Batch normalisation whose names the tool does not know (`norm_forward(z, gamma, beta)` over a params
dict, a `Norm` class with `scale`/`shift` and its own running averages) is recognised by its code: a mean
over the batch axis, a division by the square root of a variance, and a scale and shift. It couples the
samples by design, so no batch-coupling error; a softmax or a centring over the batch is still reported."""

from __future__ import annotations

from userfiles import check, errors, line_of, planted, write

FUNCTIONS = """\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(64, 4)) * 2.0 + 1.0
y = (X[:, 0] - X[:, 2] > 0).astype(float).reshape(-1, 1)
net = {"A": rng.normal(size=(4, 6)) * 0.4, "s": np.ones(6), "o": np.zeros(6), "B": rng.normal(size=(6, 1)) * 0.4}


def norm_forward(z, gamma, beta, tiny=1e-5):
    centre = np.mean(z, axis=0)
    spread = np.mean((z - centre) ** 2, axis=0)
    zn = (z - centre) / np.sqrt(spread + tiny)
    return gamma * zn + beta, (zn, spread, tiny)


def norm_backward(dout, gamma, cache):
    zn, spread, tiny = cache
    gzn = dout * gamma
    gz = (gzn - gzn.mean(axis=0) - zn * (gzn * zn).mean(axis=0)) / np.sqrt(spread + tiny)
    return gz, (dout * zn).sum(axis=0), dout.sum(axis=0)


def grads_of(p):
    z = X @ p["A"]
    u, saved = norm_forward(z, p["s"], p["o"])
    r = np.tanh(u)
    out = r @ p["B"]
    loss = 0.5 * np.mean((out - y) ** 2)
    dout = (out - y) / len(X)
    g = {"B": r.T @ dout}
    du = (dout @ p["B"].T) * (1 - r ** 2)
    dz, g["s"], g["o"] = norm_backward(du, p["s"], saved)
    g["A"] = X.T @ dz
    return loss, g


for step in range(100):
    loss, g = grads_of(net)
    for k in net:
        net[k] -= 0.2 * g[k]
"""

CLASS = """\
import numpy as np


class Norm:
    def __init__(self, width, keep=0.9):
        self.scale, self.shift = np.ones(width), np.zeros(width)
        self.avg_mu, self.avg_sd2, self.keep = np.zeros(width), np.ones(width), keep

    def forward(self, x, training=True):
        if training:
            mu, sd2 = x.mean(axis=0), x.var(axis=0)
            self.avg_mu = self.keep * self.avg_mu + (1 - self.keep) * mu
            self.avg_sd2 = self.keep * self.avg_sd2 + (1 - self.keep) * sd2
        else:
            mu, sd2 = self.avg_mu, self.avg_sd2
        self.root = np.sqrt(sd2 + 1e-5)
        self.xn = (x - mu) / self.root
        return self.scale * self.xn + self.shift

    def backward(self, dout):
        m = dout.shape[0]
        self.dscale = (dout * self.xn).sum(axis=0)
        self.dshift = dout.sum(axis=0)
        dxn = dout * self.scale
        return (m * dxn - dxn.sum(axis=0) - self.xn * (dxn * self.xn).sum(axis=0)) / (m * self.root)


rng = np.random.default_rng(1)
x = rng.normal(size=(32, 5)) * 3 + 2
target = rng.normal(size=(32, 5))
layer = Norm(5)
for it in range(60):
    out = layer.forward(x)
    loss = 0.5 * np.mean((out - target) ** 2)
    layer.backward((out - target) / out.size)
    layer.scale -= 1.0 * layer.dscale
    layer.shift -= 1.0 * layer.dshift
"""

COUPLED = """\
import numpy as np


class Mix:
    def __init__(self, width):
        self.w, self.b = np.ones(width), np.zeros(width)

    def forward(self, x):
        e = np.exp(x - x.max(axis=0))
        self.p = e / e.sum(axis=0)
        return self.w * self.p + self.b

    def backward(self, dout):
        self.dw = (dout * self.p).sum(axis=0)
        self.db = dout.sum(axis=0)
        gp = dout * self.w
        return self.p * (gp - (gp * self.p).sum(axis=0))


rng = np.random.default_rng(2)
x = rng.normal(size=(16, 3))
target = rng.normal(size=(16, 3))
layer = Mix(3)
for it in range(30):
    out = layer.forward(x)
    loss = 0.5 * np.mean((out - target) ** 2)
    layer.backward((out - target) / out.size)
    layer.w -= 0.5 * layer.dw
    layer.b -= 0.5 * layer.db
"""


def _coupling_errors(report):
    return [f for f in errors(report) if f["name"] == "batch-coupling"]


def test_a_batch_norm_over_a_params_dict_is_not_a_coupling_error(tmp_path):
    report = check(write(tmp_path, "net.py", FUNCTIONS), training=True)
    assert errors(report) == [], errors(report)


def test_a_wrong_scale_gradient_of_that_batch_norm_is_still_an_error(tmp_path):
    path = planted(tmp_path, "net.py", FUNCTIONS, "(dout * zn).sum(axis=0), dout.sum", "dout.sum(axis=0), dout.sum")
    found = errors(check(path, training=True))
    assert found and not _coupling_errors({"findings": found}), found


def test_a_backward_that_takes_the_scale_before_its_cache_is_checked_as_a_pair(tmp_path):
    # `norm_backward(dout, gamma, cache)`: the pair is checked on its own, so the wrong scale
    # gradient is named where it is computed, not at the training loop's call
    path = planted(tmp_path, "net.py", FUNCTIONS, "(dout * zn).sum(axis=0), dout.sum", "dout.sum(axis=0), dout.sum")
    (found,) = errors(check(path, training=True))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "return gz, dout.sum(axis=0), dout.sum")), found


def test_a_batch_norm_class_with_its_own_running_names_is_not_a_coupling_error(tmp_path):
    report = check(write(tmp_path, "norm.py", CLASS))
    assert errors(report) == [], errors(report)


def test_a_batch_norm_class_with_a_wrong_dx_is_still_an_error(tmp_path):
    path = planted(tmp_path, "norm.py", CLASS, "(m * dxn - dxn.sum(axis=0)", "(m * dxn - dxn.sum(axis=1, keepdims=True)")
    found = errors(check(path))
    assert found and not _coupling_errors({"findings": found}), found


def test_a_softmax_over_the_batch_with_a_scale_and_shift_is_still_coupling(tmp_path):
    path = write(tmp_path, "soft.py", COUPLED)
    found = _coupling_errors(check(path))
    assert found, errors(check(path))
    assert found[0]["line"] in (line_of(path, "e = np.exp"), line_of(path, "self.p = e / e.sum")), found


LAYER_NORM_BY_TRANSPOSE = """\
import numpy as np


def norm_forward(x, gamma, beta, eps=1e-5):
    xt = x.T
    mu = xt.mean(axis=0)
    var = xt.var(axis=0)
    xhat = ((xt - mu) / np.sqrt(var + eps)).T
    return gamma * xhat + beta, (xhat, var, eps)
"""


def test_a_norm_of_the_transposed_input_is_not_taken_for_batch_norm(tmp_path):
    import importlib.util

    from backprop_doctor.checks.batch_coupling import batch_norm_shape

    path = write(tmp_path, "ln.py", LAYER_NORM_BY_TRANSPOSE)
    spec = importlib.util.spec_from_file_location("ln_by_transpose", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not batch_norm_shape(module.norm_forward)
    bn = write(tmp_path, "bn.py", LAYER_NORM_BY_TRANSPOSE.replace("xt = x.T", "xt = x").replace(").T\n", ")\n"))
    spec = importlib.util.spec_from_file_location("bn_by_shape", bn)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert batch_norm_shape(module.norm_forward)
