"""A random layer run by the file's own demo on an integer array (`np.array([3, 1, 4, 1, 5, 9])`,
`np.arange(12).reshape(3, 4)`): its observed input is checked as floats, the layer computing the same
on them when both forwards draw the same numbers from NumPy's global generator (a dropout mask drawn
with `np.random.rand(*x.shape)` or `np.random.binomial`). Before, the two draws differed, the input
stayed integer, nothing could be compared and the file got an error asking for a float output. Two
styles: a dropout with a boolean mask on a 1-D demo, an inverted dropout with a binomial mask on a
2-D one; each correct layer is clean and a backward that drops the mask is still reported."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, planted, write

BOOLEAN_MASK = """\
    import numpy as np


    class Dropout:
        def __init__(self, ratio=0.5):
            self.ratio = ratio
            self.mask = None

        def forward(self, x, train=True):
            if train:
                self.mask = np.random.rand(*x.shape) > self.ratio
                return x * self.mask
            return x * (1.0 - self.ratio)

        def backward(self, dout):
            return dout * self.mask


    x = np.array([3, 1, 4, 1, 5, 9])
    layer = Dropout()
    y = layer.forward(x)
    print(y)
    print(layer.backward(y))
"""

BINOMIAL_MASK = """\
    import numpy as np


    class InvertedDropout:
        def __init__(self, keep):
            self.keep = keep

        def forward(self, inputs):
            self.kept = np.random.binomial(1, self.keep, size=inputs.shape) / self.keep
            return inputs * self.kept

        def backward(self, grad):
            return grad * self.kept


    demo = np.arange(12).reshape(3, 4)
    noisy = InvertedDropout(0.8)
    out = noisy.forward(demo)
    back = noisy.backward(np.ones_like(out))
    print(out, back)
"""


def _verdicts(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"]}


def test_a_dropout_demo_on_integers_is_checked_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "dropout.py", BOOLEAN_MASK))
    assert errors(report) == [], errors(report)
    assert _verdicts(report) == {"x": "ok"}


def test_a_dropout_backward_without_its_mask_is_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "dropout.py", BOOLEAN_MASK, "return dout * self.mask", "return dout")
    found = errors(check(path))
    assert found and all(f["code"] != "BPD007" for f in found), found
    assert any(f["code"] == "BPD101" for f in found), found


def test_an_inverted_dropout_demo_on_an_integer_matrix_is_checked_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "noise.py", BINOMIAL_MASK))
    assert errors(report) == [], errors(report)
    assert set(_verdicts(report).values()) == {"ok"}, _verdicts(report)


def test_an_inverted_dropout_backward_without_its_scale_is_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "noise.py", BINOMIAL_MASK, "return grad * self.kept", "return grad * self.kept * self.keep")
    found = errors(check(path))
    assert found and all(f["code"] != "BPD007" for f in found), found
    assert any(f["code"] == "BPD101" for f in found), found
