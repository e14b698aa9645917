"""A convolution's backward that folds its column gradients back into the input through a helper
writing each window with `=` (`dx[:, i:i + k] = ...`): where windows overlap the cells they share
keep one window's gradient. The wrong dx is named at the helper's line, with `+=` as the fix."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYER = '''\
import numpy as np


def unfold(x, k):
    n, length = x.shape
    out = length - k + 1
    cols = np.zeros((n, out, k))
    for i in range(out):
        cols[:, i, :] = x[:, i:i + k]
    return cols


def fold(dcols, length, k):
    n, out, _ = dcols.shape
    dx = np.zeros((n, length))
    for i in range(out):
        dx[:, i:i + k] += dcols[:, i, :]
    return dx


class Conv1D:
    def __init__(self, k=3, seed=0):
        self.w = np.random.RandomState(seed).randn(k) * 0.5
        self.b = 0.1

    def forward(self, x):
        self.length = x.shape[1]
        self.cols = unfold(x, self.w.size)
        return self.cols @ self.w + self.b

    def backward(self, dout):
        self.dw = np.einsum("no,nok->k", dout, self.cols)
        self.db = dout.sum()
        dcols = dout[:, :, None] * self.w[None, None, :]
        return fold(dcols, self.length, self.w.size)


rng = np.random.RandomState(1)
x = rng.randn(16, 10)
target = np.cumsum(x, axis=1)[:, 2:] / 3
conv = Conv1D()
for step in range(200):
    out = conv.forward(x)
    loss = 0.5 * np.mean((out - target) ** 2)
    dout = (out - target) / out.size
    conv.backward(dout)
    conv.w -= 0.5 * conv.dw
    conv.b -= 0.5 * conv.db
'''


def test_windows_added_back_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "conv1d.py", LAYER))) == []


def test_windows_assigned_back_are_named_at_the_helper(tmp_path):
    path = planted(tmp_path, "conv1d.py", LAYER, "dx[:, i:i + k] += dcols[:, i, :]", "dx[:, i:i + k] = dcols[:, i, :]")
    found = [f for f in errors(check(path)) if f["param"] == "x"]
    assert found and found[0]["pattern"] == "overlap-overwritten"
    assert found[0]["line"] == line_of(path, "dx[:, i:i + k] = dcols")
    assert "dx[:, i:i + k] += ..." in found[0]["message"]


def test_a_helper_in_another_module_is_named_in_its_own_file(tmp_path):
    """The book's layout: the layer in `layers.py`, its `col2im` in `util.py`, the training script
    importing the layer. The finding moves to the helper's file and line, naming the call it came from."""
    helpers, rest = LAYER.split("class Conv1D:", 1)
    layer, script = ("class Conv1D:" + rest).split("\n\nrng = ", 1)
    (tmp_path / "util.py").write_text(helpers.replace("dx[:, i:i + k] += dcols", "dx[:, i:i + k] = dcols"), encoding="utf-8")
    (tmp_path / "layers.py").write_text("import numpy as np\n\nfrom util import fold, unfold\n\n\n" + layer + "\n", encoding="utf-8")
    path = write(tmp_path, "train.py", "import numpy as np\n\nfrom layers import Conv1D\n\nrng = " + script)
    found = [f for f in errors(check(path)) if f["param"] == "x"]
    assert found and found[0]["pattern"] == "overlap-overwritten"
    assert found[0]["file"].endswith("util.py") and found[0]["line"] == line_of(tmp_path / "util.py", "dx[:, i:i + k] = dcols")
    assert f"`fold` (util.py), which line {line_of(tmp_path / 'layers.py', 'return fold(')} of layers.py calls" in found[0]["message"]
