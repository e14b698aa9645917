"""A loss computed by a function whose name says nothing (`contrast(a, b, same)`), reported only by a
print that labels it (`print("step", i, "loss", contrast(...))`, `f"cost {contrast(...):.3f}"`): it is
the loss the training step is replayed against, so a correct program is checked and clean and a
wrong derivative is found, rather than "nothing was checked". (Where: the adjoint walk reads the
first adjoint wrong against a loss that recomputes its forward pass, one line above the bug.)
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

np.random.seed(2)
A = np.random.randn(128, 5)
B = A + 0.3 * np.random.randn(128, 5)
same = (np.random.rand(128) < 0.5).astype(float)
B[same == 0] = np.random.randn(int((same == 0).sum()), 5)
W = np.random.randn(5, 3) * 0.3


def embed(x):
    return np.tanh(x @ W)


def contrast(a, b, same):
    gap = np.sum((embed(a) - embed(b)) ** 2, axis=1)
    return np.mean(same * gap + (1 - same) * np.maximum(0.0, 1.5 - gap))


for i in range(300):
    ea, eb = embed(A), embed(B)
    diff = ea - eb
    gap = np.sum(diff ** 2, axis=1)
    g = (same - (1 - same) * (gap < 1.5)) / len(A)
    dea = 2 * diff * g[:, None]
    dza = dea * (1 - ea ** 2)
    dzb = -dea * (1 - eb ** 2)
    W -= 0.3 * (A.T @ dza + B.T @ dzb)
    if i % 50 == 0:
        PRINT
'''

PRINTS = {
    "label then value": 'print("step", i, "loss", contrast(A, B, same))',
    "f-string": 'print(f"{i}: cost {contrast(A, B, same):.3f}")',
}


@pytest.mark.parametrize("style", PRINTS)
def test_the_labelled_loss_is_replayed_against(tmp_path, style):
    text = PROGRAM.replace("PRINT", PRINTS[style])
    report = check(planted(tmp_path / "ok", "siamese.py", text, "(1 - eb ** 2)", "(1 - eb ** 2)"))
    assert errors(report) == []
    assert any(m["layer"] == "training step" and m["verdict"] == "ok" for m in report["measurements"])
    path = planted(tmp_path / "bug", "siamese.py", text, "(1 - eb ** 2)", "(1 - ea ** 2)")
    found = errors(check(path))
    assert [f["code"] for f in found] == ["BPD108"]
    assert found[0]["line"] in range(line_of(path, "dea = 2 * diff"), line_of(path, "W -= 0.3") + 1)
