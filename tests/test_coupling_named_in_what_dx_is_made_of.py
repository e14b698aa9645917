"""A backward that mixes the samples of a batch is named at the reduction the input gradient is made
of (`np.sum(dxhat, axis=0)` inside `dx = ...`), not at the first sum over the batch in the function,
which is a parameter's gradient and sums over the batch by design (`dgamma = np.sum(dout * xhat,
axis=0)`). The headline names the backward once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# one statement for dx, spread over lines
ONE_STATEMENT = """\
    import numpy as np


    def layer_norm_forward(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=1, keepdims=True)
        inv = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
        xhat = (x - mu) * inv
        return gamma * xhat + beta, (xhat, gamma, inv)


    def layer_norm_backward(dout, cache):
        xhat, gamma, inv = cache
        d = xhat.shape[1]
        dgamma = np.sum(dout * xhat, axis=0)
        dbeta = np.sum(dout, axis=0)
        dxhat = dout * gamma
        dx = (d * dxhat
              - np.sum(dxhat, axis=1, keepdims=True)
              - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) * inv / d
        return dx, dgamma, dbeta
"""

# dx through the staged derivation
STAGED = """\
    import numpy as np


    def norm_rows_forward(x, gamma, beta):
        m = x.mean(axis=1, keepdims=True)
        c = x - m
        v = (c ** 2).mean(axis=1, keepdims=True)
        s = np.sqrt(v + 1e-6)
        y = c / s
        return gamma * y + beta, (c, s, y, gamma)


    def norm_rows_backward(dout, cache):
        c, s, y, g = cache
        n = c.shape[1]
        dg = (dout * y).sum(axis=0)
        db = dout.sum(axis=0)
        dy = dout * g
        ds = -(dy * c).sum(axis=1, keepdims=True) / s ** 2
        dc = dy / s + ds * c / (n * s)
        dm = -dc.sum(axis=1, keepdims=True)
        dx = dc + dm / n
        return dx, dg, db
"""

CASES = {
    "one.py": (ONE_STATEMENT, "- np.sum(dxhat, axis=1, keepdims=True)", "- np.sum(dxhat, axis=0, keepdims=True)"),
    "staged.py": (STAGED, "dm = -dc.sum(axis=1, keepdims=True)", "dm = -dc.sum(axis=0, keepdims=True)"),
}


@pytest.mark.parametrize("name", CASES)
def test_right_backward_is_clean(tmp_path: Path, name: str) -> None:
    report = check(planted(tmp_path, name, CASES[name][0], "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    assert {m["param"] for m in report["measurements"] if m["verdict"] == "ok"} >= {"x", "gamma", "beta"}, report["measurements"]


@pytest.mark.parametrize("name", CASES)
def test_the_sum_over_the_batch_in_dx_is_named(tmp_path: Path, name: str) -> None:
    program, right, wrong = CASES[name]
    path = planted(tmp_path, name, program, right, wrong)
    coupling = [f for f in errors(check(path)) if f["name"] == "batch-coupling"]
    assert coupling and coupling[0]["line"] == line_of(path, wrong), coupling
