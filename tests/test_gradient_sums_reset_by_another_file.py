"""A layer file whose backward adds each call's gradient into what the last call left (`self.gW[...] += ...`)
by design, checked alone: the network that steps it lives in another file of the project (a course
handout's `nets/` beside its `layers/`, or a training script beside the layer module), imports the
layer's module, and empties the sums before each step with a reset named for it (`zero_grads()`,
`clear_grads(model)`). That is a framework's `.grad`, not a non-reentrant backward: an info naming the
reset, the first call's gradients compared. A reset that leaves one of the sums alone, or one in a file
that does not import the layer, excuses nothing: the error stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, write

# style 1: a handout package, the layer in layers/, the network that resets it in nets/ (a star import)
HANDOUT_LAYER = """\
    import numpy as np


    class Conv1dUnit:
        def __init__(self, in_channels, out_channels, kernel_size):
            self.k = kernel_size
            self.W = np.random.normal(0, 0.5, (out_channels, in_channels, kernel_size))
            self.b = np.zeros(out_channels)
            self.gW = np.zeros(self.W.shape)
            self.gb = np.zeros(self.b.shape)

        def forward(self, A):
            self.A = A
            n, _, width = A.shape
            span = width - self.k + 1
            Z = np.zeros((n, self.W.shape[0], span))
            for j in range(span):
                Z[:, :, j] = np.tensordot(A[:, :, j:j + self.k], self.W, axes=([1, 2], [1, 2]))
            return Z + self.b[None, :, None]

        def backward(self, dZ):
            span = dZ.shape[2]
            dA = np.zeros(self.A.shape)
            for j in range(span):
                self.gW[...] += np.tensordot(dZ[:, :, j], self.A[:, :, j:j + self.k], axes=([0], [0]))
                dA[:, :, j:j + self.k] += np.tensordot(dZ[:, :, j], self.W, axes=([1], [0]))
            self.gb = dZ.sum(axis=(0, 2))
            return dA
"""

HANDOUT_NET = """\
    import sys

    sys.path.append('layers')
    from unit import *


    class Net:
        def __init__(self, lr):
            self.units = [Conv1dUnit(2, 3, 2), Conv1dUnit(3, 1, 2)]
            self.lr = lr

        def zero_grads(self):
            for unit in self.units:
                unit.gW.fill(0.0)
                unit.gb.fill(0.0)

        def step(self):
            for unit in self.units:
                unit.W = unit.W - self.lr * unit.gW
                unit.b = unit.b - self.lr * unit.gb
"""

# style 2: a flat project, the layer module beside the training script, a reset function (not a method)
FLAT_LAYER = """\
    import numpy as np

    rng = np.random.default_rng(4)


    class Affine:
        def __init__(self, n_in, n_out):
            self.weight = rng.normal(0.0, 0.4, (n_in, n_out))
            self.grad_weight = np.zeros_like(self.weight)

        def forward(self, x):
            self.x = x
            return np.tanh(x @ self.weight)

        def backward(self, up):
            local = up * (1.0 - np.tanh(self.x @ self.weight) ** 2)
            self.grad_weight += self.x.T @ local
            return local @ self.weight.T
"""

FLAT_TRAIN = """\
    import numpy as np

    import affine


    def clear_grads(model):
        for layer in model:
            layer.grad_weight[...] = 0.0


    def fit(model, X, Y, lr=0.1, epochs=5):
        for _ in range(epochs):
            clear_grads(model)
            h = X
            for layer in model:
                h = layer.forward(h)
            up = 2 * (h - Y) / len(X)
            for layer in reversed(model):
                up = layer.backward(up)
            for layer in model:
                layer.weight -= lr * layer.grad_weight


    if __name__ == "__main__":
        fit([affine.Affine(3, 4), affine.Affine(4, 1)], np.ones((8, 3)), np.zeros((8, 1)))
"""

PROJECTS = {
    "handout": ({"layers/unit.py": HANDOUT_LAYER, "nets/net.py": HANDOUT_NET}, "layers/unit.py", "Net.zero_grads", "../nets/net.py"),
    "flat": ({"affine.py": FLAT_LAYER, "train.py": FLAT_TRAIN}, "affine.py", "clear_grads", "train.py"),
}
ADDED = {"handout": "self.gW[...] += np.tensordot", "flat": "self.grad_weight += self.x.T @ local"}


def project(tmp_path: Path, name: str, replace: tuple[str, str, str] | None = None) -> Path:
    files, checked, _, _ = PROJECTS[name]
    for file, text in files.items():
        if replace is not None and replace[0] == file:
            assert replace[1] in text, replace
            text = text.replace(replace[1], replace[2], 1)
        write(tmp_path, file, text)
    return tmp_path / checked


@pytest.mark.parametrize("name", PROJECTS)
def test_a_layer_whose_sums_a_reset_of_its_project_empties_gets_a_note(tmp_path: Path, name: str) -> None:
    path = project(tmp_path, name)
    report = check(path)
    assert errors(report) == [], errors(report)
    (note,) = [f for f in report["findings"] if f["name"] == "nonreentrant-backward"]
    _, _, reset, where = PROJECTS[name]
    assert (note["severity"], note["pattern"], note["line"]) == ("info", "accumulated-by-design", line_of(path, ADDED[name]))
    assert f"`{reset}` ({where}, line " in note["message"], note["message"]
    assert [m for m in report["measurements"] if m["param"] not in ("x",) and m["verdict"] == "ok"], report["measurements"]


PLANTED = {
    # the reset empties the bias only: the weight's sum grows step after step
    "handout": ("nets/net.py", "                unit.gW.fill(0.0)\n", ""),
    # the reset rebinds its loop name (no array emptied)
    "flat": ("train.py", "            layer.grad_weight[...] = 0.0\n", "            layer = None\n"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_a_reset_that_misses_a_sum_leaves_the_error(tmp_path: Path, name: str) -> None:
    path = project(tmp_path, name, PLANTED[name])
    found = [f for f in errors(check(path)) if f["name"] == "nonreentrant-backward"]
    assert found and found[0]["line"] == line_of(path, ADDED[name]), found


@pytest.mark.parametrize("name", PROJECTS)
def test_a_reset_in_a_file_that_does_not_import_the_layer_excuses_nothing(tmp_path: Path, name: str) -> None:
    imports = {"handout": ("nets/net.py", "from unit import *", "from other_unit import *"), "flat": ("train.py", "import affine\n", "import other\n")}
    path = project(tmp_path, name, imports[name])
    found = [f for f in errors(check(path)) if f["name"] == "nonreentrant-backward"]
    assert found, check(path)["findings"]


def test_a_layer_file_that_steps_its_own_layers_without_a_reset_stays_an_error(tmp_path: Path) -> None:
    """The checked file trains the layer itself, never emptying the sums: its own program decides, whatever
    another file of the project does."""
    loop = """

    if __name__ == '__main__':
        layer = Affine(3, 1)
        X = rng.normal(size=(16, 3))
        for _ in range(5):
            out = layer.forward(X)
            layer.backward(2 * (out - 1.0) / len(X))
            layer.weight -= 0.1 * layer.grad_weight
"""
    path = project(tmp_path, "flat", ("affine.py", "        return local @ self.weight.T\n", "        return local @ self.weight.T\n" + loop))
    found = [f for f in errors(check(path)) if f["name"] == "nonreentrant-backward"]
    assert found and found[0]["line"] == line_of(path, ADDED["flat"]), found
