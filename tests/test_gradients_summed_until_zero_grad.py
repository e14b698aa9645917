"""A layer that sums its gradients over the samples of a mini-batch by design (`self.grad_w +=
np.outer(...)` in backward) and has its own `zero_grad()` that sets them again: between two resets
it is re-entrant, so calling backward twice is compared after its `zero_grad()` (as its training
calls it), not reported as nonreentrant-backward. Without a reset of that attribute (no
`zero_grad`, or one that resets something else) the sum still grows across calls: the error stays,
at the `+=` line; a wrong summed gradient is found at its line.

Two styles: a base class whose `zero_grad()` makes fresh arrays, used by a dense layer written for
one sample of a shape (`Dense(shape_in, shape_out)`); a stand-alone layer on a batch whose `zero_grads()` fills its sums with zeros."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

BASE_STYLE = """\
import numpy as np


class Layer:
    def __init__(self, shape_in, shape_out, shape_w):
        self.shape_in = shape_in
        self.shape_out = shape_out
        self.w = np.random.normal(0.0, 0.3, shape_w)
        self.wb = np.zeros(shape_out)
        self.zero_grad()

    def zero_grad(self):
        self.grad_w = np.zeros_like(self.w)
        self.grad_wb = np.zeros_like(self.wb)


class Dense(Layer):
    def __init__(self, shape_in, shape_out):
        super().__init__(shape_in, shape_out, (int(np.prod(shape_out)), int(np.prod(shape_in))))

    def forward(self, x):
        self.x = x.ravel()
        return (self.w @ self.x).reshape(self.shape_out) + self.wb

    def backward(self, grad_y):
        self.grad_wb += grad_y
        g = grad_y.ravel()
        self.grad_w += np.outer(g, self.x)
        return (g @ self.w).reshape(self.shape_in)
"""

BATCH_STYLE = """\
import numpy as np


class Affine:
    def __init__(self, input_size, output_size):
        self.W = np.random.randn(input_size, output_size) * 0.1
        self.b = np.zeros(output_size)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def zero_grads(self):
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW += self.x.T @ dout
        self.db += dout.sum(axis=0)
        return dout @ self.W.T
"""


def _nonreentrant(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD203"]


def test_a_one_sample_layer_summing_until_its_base_zero_grad_is_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "layers.py", BASE_STYLE))
    assert not errors(report), errors(report)
    assert not _nonreentrant(report), report["findings"]
    assert {("Dense", "w"), ("Dense", "wb")} <= {(m["layer"], m["param"]) for m in report["measurements"]}


def test_a_zero_grad_that_leaves_the_summed_weight_gradient_is_still_nonreentrant(tmp_path: Path) -> None:
    path = planted(tmp_path, "layers.py", BASE_STYLE, "        self.grad_w = np.zeros_like(self.w)\n", "")
    path.write_text(path.read_text().replace("        self.zero_grad()\n", "        self.zero_grad()\n        self.grad_w = np.zeros_like(self.w)\n"))
    found = [f for f in _nonreentrant(check(path)) if f["severity"] == "error"]
    assert found and found[0]["line"] == line_of(path, "self.grad_wb += grad_y"), found


def test_a_wrong_summed_gradient_of_a_one_sample_layer_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "layers.py", BASE_STYLE, "self.grad_w += np.outer(g, self.x)", "self.grad_w += np.outer(g, np.abs(self.x))")
    found = [f for f in errors(check(path)) if f["layer"] == "Dense" and f["param"] == "w"]
    assert found and found[0]["line"] == line_of(path, "np.abs(self.x)"), found


def test_a_batch_layer_summing_until_its_zero_grads_is_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "affine.py", BATCH_STYLE))
    assert not errors(report), errors(report)
    assert not _nonreentrant(report), report["findings"]


def test_a_batch_layer_summing_with_no_reset_is_nonreentrant_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "affine.py", BATCH_STYLE, "    def zero_grads(self):", "    def clear_cache(self):")
    found = [f for f in _nonreentrant(check(path)) if f["severity"] == "error"]
    assert found and found[0]["line"] == line_of(path, "self.dW += self.x.T @ dout"), found
