"""A training step that max-pools ReLU outputs and routes the gradient back through a mask of the max's
winners found again (`mask = (a == a.max(axis=..., keepdims=True))`). A row of the ReLU's output that is all
zeros ties at its max, so a central difference across it is a kink: the walk used to call the adjoint right
there ("inconclusive") and blamed the next one (`dz = da * (z > 0)`). The tied entries are now left out of the
comparison, so the adjoint the mask makes is wrong at its own statement, and a mask taken over another axis
than the forward's max is named at the mask's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

# a convolution over time written with a loop, a ReLU, a global max over time, a linear read-out (a script)
CONV_SCRIPT = """\
    import numpy as np

    rs = np.random.RandomState(3)
    n, steps, width, maps = 12, 10, 3, 5
    seqs = rs.randn(n, steps)
    goal = np.abs(seqs[:, 1:] + seqs[:, :-1]).max(axis=1, keepdims=True)

    kern = rs.randn(maps, width) * 0.6
    kb = np.zeros(maps)
    head = rs.randn(maps, 1) * 0.6
    hb = np.zeros(1)


    def conv(x):
        outs = []
        for t in range(x.shape[1] - width + 1):
            outs.append(x[:, t:t + width] @ kern.T + kb)
        return np.stack(outs, axis=2)


    def conv_grads(g, x):
        gk = np.zeros_like(kern)
        for t in range(x.shape[1] - width + 1):
            gk += g[:, :, t].T @ x[:, t:t + width]
        return gk, g.sum(axis=(0, 2))


    for it in range(80):
        pre = conv(seqs)
        act = np.maximum(pre, 0)
        top = act.max(axis=2)
        yhat = top @ head + hb
        loss = 0.5 * np.mean((yhat - goal) ** 2)
        dyhat = (yhat - goal) / n
        dhead = top.T @ dyhat
        dhb = dyhat.sum(axis=0)
        dtop = dyhat @ head.T
        winners = (act == act.max(axis=2, keepdims=True))
        dact = winners * dtop[:, :, None]
        dpre = dact * (pre > 0)
        gk, gkb = conv_grads(dpre, seqs)
        kern -= 0.1 * gk
        kb -= 0.1 * gkb
        head -= 0.1 * dhead
        hb -= 0.1 * dhb
        if it % 20 == 0:
            print(it, loss)
"""

# the same max over time of a dense layer applied at every position, inside a training function
TIME_DENSE = """\
    import numpy as np


    def fit(epochs=60, rate=0.02):
        rng = np.random.default_rng(8)
        X = rng.normal(size=(20, 7, 3))
        y = X[:, :, 0].max(axis=1) - X[:, :, 1].min(axis=1)
        Wa = rng.normal(size=(3, 6)) * 0.5
        Wo = rng.normal(size=(6,)) * 0.5
        for epoch in range(epochs):
            feats = np.maximum(np.einsum("ntd,dh->nth", X, Wa), 0.0)
            peak = np.max(feats, axis=1)
            out = peak @ Wo
            cost = np.mean((out - y) ** 2)
            d_out = 2.0 * (out - y) / len(y)
            d_Wo = peak.T @ d_out
            d_peak = np.outer(d_out, Wo)
            hit = feats == np.max(feats, axis=1, keepdims=True)
            d_feats = hit * d_peak[:, None, :]
            d_feats = d_feats * (feats > 0)
            d_Wa = np.einsum("ntd,nth->dh", X, d_feats)
            Wa -= rate * d_Wa
            Wo -= rate * d_Wo
        return cost


    if __name__ == "__main__":
        print(fit())
"""

CASES = [
    ("conv_pool.py", CONV_SCRIPT, "winners = (act == act.max(axis=2, keepdims=True))", "winners = (act == act.max(axis=1, keepdims=True))"),
    ("time_dense.py", TIME_DENSE, "hit = feats == np.max(feats, axis=1, keepdims=True)", "hit = feats == np.max(feats, axis=2, keepdims=True)"),
]


@pytest.mark.parametrize(("name", "text", "correct", "wrong"), CASES)
def test_the_correct_max_pooling_step_is_clean(tmp_path: Path, name: str, text: str, correct: str, wrong: str) -> None:
    assert errors(check(write(tmp_path, name, text), training=True)) == []


@pytest.mark.parametrize(("name", "text", "correct", "wrong"), CASES)
def test_a_mask_over_another_axis_is_named_at_its_line(tmp_path: Path, name: str, text: str, correct: str, wrong: str) -> None:
    path = planted(tmp_path, name, text, correct, wrong)
    report = check(path, training=True)
    root = report["findings"][report["root_cause"]]
    assert root["name"] == "step-gradient-mismatch"
    assert root["line"] == line_of(path, wrong.split(" = ")[0] + " = ")
    assert root["pattern"] == "mask-axis"
