"""The power rule applied without lowering the exponent (`-0.5 * (var + eps) ** -0.5` for the derivative of
`(var + eps) ** -0.5`) in a normalisation's backward: named at that line with the exponent to write, in a
batch-norm class and in a cs231n layer-norm pair; with `** -1.5`, clean."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

BATCHNORM = """\
    import numpy as np

    class BN:
        def __init__(self, num_features, eps=1e-5):
            self.gamma, self.beta, self.eps = np.ones(num_features), np.zeros(num_features), eps

        def forward(self, x):
            self.mu = x.mean(axis=0)
            self.xc = x - self.mu
            self.var = (self.xc ** 2).mean(axis=0)
            self.xh = self.xc / np.sqrt(self.var + self.eps)
            return self.gamma * self.xh + self.beta

        def backward(self, dout):
            m = dout.shape[0]
            self.dgamma = (dout * self.xh).sum(axis=0)
            self.dbeta = dout.sum(axis=0)
            dxh = dout * self.gamma
            dvar = (dxh * self.xc).sum(axis=0) * -0.5 * (self.var + self.eps) ** -1.5
            dmu = -(dxh / np.sqrt(self.var + self.eps)).sum(axis=0) + dvar * (-2.0 * self.xc).mean(axis=0)
            return dxh / np.sqrt(self.var + self.eps) + dvar * 2.0 * self.xc / m + dmu / m
"""

LAYERNORM = """\
    import numpy as np

    def layernorm_forward(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=1, keepdims=True)
        xc = x - mu
        var = (xc ** 2).mean(axis=1, keepdims=True)
        xh = xc * (var + eps) ** -0.5
        return gamma * xh + beta, (xc, var, xh, gamma, eps)

    def layernorm_backward(dout, cache):
        xc, var, xh, gamma, eps = cache
        d = xc.shape[1]
        dgamma = (dout * xh).sum(axis=0)
        dbeta = dout.sum(axis=0)
        dxh = dout * gamma
        dvar = (dxh * xc).sum(axis=1, keepdims=True) * (-0.5) * (var + eps) ** (-1.5)
        dmu = -(dxh * (var + eps) ** -0.5).sum(axis=1, keepdims=True) - 2.0 * dvar * xc.mean(axis=1, keepdims=True)
        dx = dxh * (var + eps) ** -0.5 + dvar * 2.0 * xc / d + dmu / d
        return dx, dgamma, dbeta
"""

CASES = [
    pytest.param(BATCHNORM, "* -0.5 * (self.var + self.eps) ** -1.5", "* -0.5 * (self.var + self.eps) ** -0.5", id="batch-norm-class"),
    pytest.param(LAYERNORM, "* (-0.5) * (var + eps) ** (-1.5)", "* (-0.5) * (var + eps) ** (-0.5)", id="layer-norm-pair"),
]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_an_exponent_left_unlowered_is_named_with_the_one_to_write(tmp_path, program, correct, wrong):
    path = planted(tmp_path, "norm.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["line"] == line_of(path, wrong), report["findings"]
    assert "** -1.5`" in head["message"], head["message"]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_the_lowered_exponent_is_clean(tmp_path, program, correct, wrong):
    report = check(planted(tmp_path, "norm.py", program, correct, correct))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]
