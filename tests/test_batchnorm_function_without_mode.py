"""Batch normalisation written as a function pair with no `bn_param` and so no test mode
(`batchnorm_forward(x, gamma, beta)`): it couples the samples of a batch by design. The
batch-coupling check has no inference mode to call, so it notes it and skips it (it told the student
to normalise each sample over its own features, a layer norm), and a wrong dx is still found."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, gamma, var, eps)


def batchnorm_backward(dout, cache):
    x_hat, gamma, var, eps = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * np.sqrt(var + eps))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


np.random.seed(0)
x = np.random.randn(16, 4) * 3 + 1
target = np.random.randn(16, 4)
g, b = np.ones(4), np.zeros(4)
for it in range(50):
    out, cache = batchnorm_forward(x, g, b)
    loss = 0.5 * np.mean((out - target) ** 2)
    _, dg, db = batchnorm_backward((out - target) / out.size, cache)
    g -= 1.0 * dg
    b -= 1.0 * db
'''

RIGHT = "dx = (N * dx_hat - dx_hat.sum(axis=0)"


def test_the_pair_is_noted_not_reported_as_mixing_the_samples(tmp_path):
    path = planted(tmp_path, "bn.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f["name"] == "batch-coupling"]
    assert (note["severity"], note["line"]) == ("info", line_of(path, "def batchnorm_forward"))
    assert "couples the samples by design" in note["message"]


def test_a_wrong_dx_of_the_pair_is_the_error(tmp_path):
    path = planted(tmp_path, "bn.py", PROGRAM, RIGHT, "dx = (dx_hat - dx_hat.sum(axis=0)")
    (found,) = errors(check(path))
    assert (found["name"], found["param"], found["line"]) == ("gradient-mismatch", "x", line_of(path, "dx = (dx_hat - dx_hat.sum(axis=0)"))
