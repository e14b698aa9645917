"""A step whose first wrong adjoint only applies a ReLU's mask (`dz = dg * (z > 0)`) to a value a helper
of the file returns (`dg = spread_back(dpool)`): the mask is right whatever the factor, so the finding is
at the helper's return, where the factor is made.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = '''\
import numpy as np

gen = np.random.default_rng(50)
X = gen.normal(size=(120, 6))
y = np.digitize(X[:, :3].sum(axis=1), [-1.0, 1.0])
W = gen.normal(size=(6, 12)) * 0.4
c = np.zeros(12)
V = gen.normal(size=(3, 3)) * 0.4


def pool_pairs(a):
    return a.reshape(len(a), 3, 4).mean(axis=2)


def spread_back(dpool):
    return np.repeat(dpool, 4, axis=1) / 4.0


for it in range(200):
    z = X @ W + c
    g = np.maximum(z, 0)
    pooled = pool_pairs(g)
    s = pooled @ V
    e = np.exp(s - s.max(axis=1, keepdims=True))
    prob = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(prob[np.arange(len(y)), y]))
    ds = prob.copy()
    ds[np.arange(len(y)), y] -= 1
    ds /= len(y)
    dV = pooled.T @ ds
    dpool = ds @ V.T
    dg = spread_back(dpool)
    dz = dg * (z > 0)
    W -= 0.5 * X.T @ dz
    c -= 0.5 * dz.sum(axis=0)
    V -= 0.5 * dV
'''


def test_a_factor_made_in_a_helper_behind_a_relu_mask_is_named_at_the_helper(tmp_path):
    path = planted(tmp_path, "pooled.py", PROGRAM, "return np.repeat(dpool, 4, axis=1) / 4.0", "return np.repeat(dpool, 4, axis=1)")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "return np.repeat(dpool, 4, axis=1)")
    assert "`spread_back`" in finding["message"] and "4 × the gradient" in finding["message"]


# The ReLU's output never named: `dg` has no forward value to be measured by, and `dz`, the first wrong
# adjoint, only masks it.
INLINE = PROGRAM.replace("    g = np.maximum(z, 0)\n    pooled = pool_pairs(g)", "    pooled = pool_pairs(np.maximum(z, 0))")


def test_behind_a_mask_the_helper_that_makes_the_masked_value_is_named(tmp_path):
    assert "pool_pairs(np.maximum(z, 0))" in INLINE
    path = planted(tmp_path, "inline.py", INLINE, "return np.repeat(dpool, 4, axis=1) / 4.0", "return np.repeat(dpool, 4, axis=1)")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "return np.repeat(dpool, 4, axis=1)")
    assert "only masks `dg`, which `spread_back` returns" in finding["message"]


def test_the_right_helper_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "pooled_ok.py", PROGRAM))) == []
    assert errors(check(write(tmp_path, "inline_ok.py", INLINE))) == []
