"""Batch normalisation without the name or running statistics the tool knew it by (`class BN`, a
`Normalizer` with a scale and shift after a mean and variance over the batch axis) couples the samples
by design: no batch-coupling error. A layer that only centres on the batch mean, with no scale and
shift, is still reported."""

from __future__ import annotations

import pytest

from userfiles import check, errors, write

LAYER = """\
    import numpy as np

    class {name}:
        def __init__(self, num_features):
            self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)

        def forward(self, x):
            self.xc = x - x.mean(axis=0)
            self.inv = 1.0 / np.sqrt(np.var(x, axis=0) + 1e-5)
            self.xh = self.xc * self.inv
            return self.gamma * self.xh + self.beta

        def backward(self, dout):
            m = dout.shape[0]
            self.dgamma = (dout * self.xh).sum(axis=0)
            self.dbeta = dout.sum(axis=0)
            dxh = dout * self.gamma
            return self.inv / m * (m * dxh - dxh.sum(axis=0) - self.xh * (dxh * self.xh).sum(axis=0))
"""


@pytest.mark.parametrize("name", ["BN", "Normalizer"])
def test_a_batch_norm_known_by_its_shape_is_not_a_coupling_error(tmp_path, name):
    report = check(write(tmp_path, "norm.py", LAYER.format(name=name)))
    assert not errors(report), errors(report)
    assert any(m["layer"] == name for m in report["measurements"]), report["measurements"]


def test_a_layer_centring_on_the_batch_mean_alone_is_still_reported(tmp_path):
    report = check(write(tmp_path, "center.py", """\
        import numpy as np

        class Center:
            def forward(self, x):
                return x - x.mean(axis=0)

            def backward(self, dout):
                return dout
        """))
    assert any(f["name"] == "batch-coupling" for f in errors(report)), report["findings"]
