"""A batch norm's backward written in stages (`dxhat`, `dvar`, `dmean`, then `dx`) with one stage wrong: the
wrong input gradient is named at that stage, the first intermediate gradient that disagrees with the gradient
of the forward value it is named after (measured through the forward), when putting the measured one in its
place makes dx right (`injections.first_wrong`); a wrong `dx` line itself stays named there. Two styles, a
class layer and a cs231n pair with train and test modes, and cs231n's staged graph (`divar`, `dsqrtvar`,
`dsq`, with `dxmu1`, `dx1` named after no forward value). The correct twins are clean, and so is a `dmean`
without its `dvar * np.mean(-2.0 * xmu, axis=0)` term: the mean of `xmu` is 0, so the term is too."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

CLASS = """\
    import numpy as np

    class BatchNorm:
        def __init__(self, num_features, eps=1e-5):
            self.gamma = np.ones(num_features)
            self.beta = np.zeros(num_features)
            self.eps = eps

        def forward(self, x):
            self.x = x
            self.mean = x.mean(axis=0)
            self.xmu = x - self.mean
            self.var = (self.xmu ** 2).mean(axis=0)
            self.std = np.sqrt(self.var + self.eps)
            self.xhat = self.xmu / self.std
            return self.gamma * self.xhat + self.beta

        def backward(self, dout):
            N = dout.shape[0]
            self.dgamma = np.sum(dout * self.xhat, axis=0)
            self.dbeta = np.sum(dout, axis=0)
            dxhat = dout * self.gamma
            dvar = np.sum(dxhat * self.xmu, axis=0) * -0.5 * (self.var + self.eps) ** -1.5
            dmean = np.sum(-dxhat / self.std, axis=0) + dvar * np.mean(-2.0 * self.xmu, axis=0)
            dx = dxhat / self.std + dvar * 2.0 * self.xmu / N + dmean / N
            return dx
"""

PAIR = """\
    import numpy as np

    def batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        N, D = x.shape
        running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))
        if mode == "train":
            mean = np.mean(x, axis=0)
            xmu = x - mean
            var = np.mean(xmu ** 2, axis=0)
            std = np.sqrt(var + eps)
            xhat = xmu / std
            out = gamma * xhat + beta
            cache = (xhat, gamma, xmu, std, var, eps)
            running_mean = momentum * running_mean + (1 - momentum) * mean
            running_var = momentum * running_var + (1 - momentum) * var
        elif mode == "test":
            xhat = (x - running_mean) / np.sqrt(running_var + eps)
            out = gamma * xhat + beta
            cache = None
        else:
            raise ValueError("Invalid forward batchnorm mode %s" % mode)
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        return out, cache

    def batchnorm_backward(dout, cache):
        xhat, gamma, xmu, std, var, eps = cache
        N, D = dout.shape
        dbeta = np.sum(dout, axis=0)
        dgamma = np.sum(dout * xhat, axis=0)
        dxhat = dout * gamma
        dvar = np.sum(dxhat * xmu, axis=0) * -0.5 * (var + eps) ** (-1.5)
        dmean = np.sum(-dxhat / std, axis=0) + dvar * np.mean(-2.0 * xmu, axis=0)
        dx = dxhat / std + dvar * 2.0 * xmu / N + dmean / N
        return dx, dgamma, dbeta
"""

STAGED = """\
    import numpy as np

    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        N, D = x.shape
        mu = 1.0 / N * np.sum(x, axis=0)
        xmu = x - mu
        sq = xmu ** 2
        var = 1.0 / N * np.sum(sq, axis=0)
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        out = gamma * xhat + beta
        return out, (xhat, gamma, xmu, ivar, sqrtvar, var, eps)

    def batchnorm_backward(dout, cache):
        xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
        N, D = dout.shape
        dbeta = np.sum(dout, axis=0)
        dgamma = np.sum(dout * xhat, axis=0)
        dxhat = dout * gamma
        divar = np.sum(dxhat * xmu, axis=0)
        dxmu1 = dxhat * ivar
        dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
        dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
        dsq = 1.0 / N * np.ones((N, D)) * dvar
        dxmu2 = 2 * xmu * dsq
        dx1 = dxmu1 + dxmu2
        dmu = -1 * np.sum(dx1, axis=0)
        dx2 = 1.0 / N * np.ones((N, D)) * dmu
        dx = dx1 + dx2
        return dx, dgamma, dbeta
"""

WRONG_STAGE = [
    pytest.param(CLASS, "* -0.5 * (self.var + self.eps) ** -1.5", "* (self.var + self.eps) ** -1.5", "dvar = ", id="class-dvar-factor"),
    pytest.param(CLASS, "dmean = np.sum(-dxhat / self.std", "dmean = np.sum(dxhat / self.std", "dmean = ", id="class-dmean-sign"),
    pytest.param(CLASS, "dxhat = dout * self.gamma", "dxhat = -dout * self.gamma", "dxhat = ", id="class-dxhat-sign"),
    pytest.param(PAIR, "* -0.5 * (var + eps) ** (-1.5)", "* (var + eps) ** (-1.5)", "dvar = ", id="pair-dvar-factor"),
    pytest.param(PAIR, "dmean = np.sum(-dxhat / std", "dmean = np.sum(dxhat / std", "dmean = ", id="pair-dmean-sign"),
    pytest.param(PAIR, "dxhat = dout * gamma", "dxhat = -dout * gamma", "dxhat = ", id="pair-dxhat-sign"),
    pytest.param(STAGED, "dsq = 1.0 / N * np.ones((N, D)) * dvar", "dsq = np.ones((N, D)) * dvar", "dsq = ", id="staged-dsq-factor"),
    pytest.param(STAGED, "dsqrtvar = -1.0 / (sqrtvar ** 2)", "dsqrtvar = 1.0 / (sqrtvar ** 2)", "dsqrtvar = ", id="staged-dsqrtvar-sign"),
]


@pytest.mark.parametrize(("program", "correct", "wrong", "stage"), WRONG_STAGE)
def test_the_first_wrong_intermediate_gradient_is_named(tmp_path, program, correct, wrong, stage):
    path = planted(tmp_path, "bn.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    name = stage.split(" ")[0]
    assert head["severity"] == "error" and head["line"] == line_of(path, stage), report["findings"]
    assert head["pattern"] in ("wrong-intermediate-gradient", "sign-flipped"), head
    assert f"`{name}` is not the gradient with respect to" in head["message"] and "every compared element agrees" in head["message"], head["message"]


@pytest.mark.parametrize(
    ("program", "correct", "wrong"),
    [
        pytest.param(CLASS, "dx = dxhat / self.std + dvar * 2.0 * self.xmu / N + dmean / N", "dx = dxhat / self.std + dvar * 2.0 * self.xmu / N", id="class"),
        pytest.param(PAIR, "dx = dxhat / std + dvar * 2.0 * xmu / N + dmean / N", "dx = dxhat / std + dvar * 2.0 * xmu / N", id="pair"),
    ],
)
def test_a_wrong_dx_line_with_right_stages_is_named_at_dx(tmp_path, program, correct, wrong):
    path = planted(tmp_path, "bn.py", program, correct, wrong)
    found = errors(check(path))
    assert found and {f["line"] for f in found} == {line_of(path, wrong)}, found
    assert not any("is not the gradient with respect to" in f["message"] for f in found), found


@pytest.mark.parametrize(
    ("program", "term"),
    [
        pytest.param(CLASS, " + dvar * np.mean(-2.0 * self.xmu, axis=0)", id="class"),
        pytest.param(PAIR, " + dvar * np.mean(-2.0 * xmu, axis=0)", id="pair"),
    ],
)
def test_dmean_without_its_zero_term_is_clean(tmp_path, program, term):
    report = check(planted(tmp_path, "bn.py", program, term, ""))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]


@pytest.mark.parametrize("program", [pytest.param(CLASS, id="class"), pytest.param(PAIR, id="pair"), pytest.param(STAGED, id="staged")])
def test_the_correct_batch_norms_are_clean(tmp_path, program):
    report = check(planted(tmp_path, "bn.py", program, "import numpy as np", "import numpy as np"))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]


def test_a_stage_that_is_one_paths_gradient_blames_nothing(tmp_path):
    """`dxmu = dxhat * ivar` is the gradient through `xhat` alone, not the whole gradient with respect to `xmu`:
    with the whole one in its place dx is wrong again, so a slip in a later stage (`dsq` without its 1 / N) is
    not blamed on `dxmu`, and the finding stays at the returned gradient."""
    program = STAGED.replace("dxmu1", "dxmu")
    path = planted(tmp_path, "bn.py", program, "dsq = 1.0 / N * np.ones((N, D)) * dvar", "dsq = np.ones((N, D)) * dvar")
    found = errors(check(path))
    assert found and {f["line"] for f in found} == {line_of(path, "dx = dx1 + dx2")}, found
    assert not any("`dxmu`" in f["message"] for f in found), found
    clean = check(planted(tmp_path / "twin", "bn.py", program, "import numpy as np", "import numpy as np"))
    assert not errors(clean), errors(clean)
