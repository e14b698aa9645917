"""Layer objects a program first calls with Python numbers are gradient-checked.

A chapter-5 demo of the book's computational graph runs two-input layers (`forward(a, b)`
returning `a * b` or `a + b`, `backward(dout)` returning one gradient per input) on prices
and counts, and tries an activation object on `0` or `2` before (or instead of) an array.
The observed run used to skip every such layer, its forward "also needs arguments that are
not arrays", and say nothing was checked. Now each is checked: on a later call of the
program's that gives it arrays, else on arrays of normal draws in place of the numbers
(each input's gradient against what backward returns for it), else, for a forward written
for numbers only (`math.exp(x)`, `if x > 0:`), at the program's numbers as 0-d arrays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RECEIPT = '''\
class Times:
    def __init__(self):
        self.a = None
        self.b = None

    def forward(self, a, b):
        self.a = a
        self.b = b
        return a * b

    def backward(self, grad):
        da = grad * self.b
        db = grad * self.a
        return da, db


class Plus:
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Scale:
    """Stores its inputs under names of its own: `cost`, `count` kept as `self.p`, `self.q`."""

    def forward(self, cost, count):
        self.p, self.q = cost, count
        return cost * count

    def backward(self, dout):
        dp = dout * self.q
        dq = dout * self.p
        return dp, dq


if __name__ == "__main__":
    pencil, pencils = 0.8, 12
    eraser, erasers = 1.5, 3
    vat = 1.2
    pencil_layer, eraser_layer, sum_layer, vat_layer = Times(), Scale(), Plus(), Times()
    subtotal = sum_layer.forward(pencil_layer.forward(pencil, pencils), eraser_layer.forward(eraser, erasers))
    total = vat_layer.forward(subtotal, vat)
    dsubtotal, dvat = vat_layer.backward(1.0)
    dpencil_cost, deraser_cost = sum_layer.backward(dsubtotal)
    dpencil, dpencils = pencil_layer.backward(dpencil_cost)
    deraser, derasers = eraser_layer.backward(deraser_cost)
    print(round(total, 2), dpencil, dpencils, deraser, derasers, dvat)
'''

ACTIVATIONS = '''\
import numpy as np


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


class ReLU:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


if __name__ == "__main__":
    squash = Sigmoid()
    print(squash.forward(0), squash.backward(1))
    gate = ReLU()
    print(gate.forward(2), gate.backward(1))
    print(gate.forward(np.array([-1.5, -0.25, 0.5, 2.0])))
    print(gate.backward(np.ones(4)))
'''

SCALAR_ONLY = '''\
import math


class Logistic:
    def forward(self, x):
        self.y = 1.0 / (1.0 + math.exp(-x))
        return self.y

    def backward(self, dy):
        return dy * self.y * (1.0 - self.y)


class Square:
    def forward(self, x):
        if isinstance(x, float) or isinstance(x, int) or x.ndim == 0:
            self.x = x
            return x * x
        raise TypeError("one number at a time")

    def backward(self, dy):
        return 2.0 * self.x * dy


unit = Logistic()
print(unit.forward(0.7), unit.backward(1.0))
sq = Square()
print(sq.forward(1.5), sq.backward(1.0))
'''

PLANTED = {
    # the receipt's multiplication hands back its own input: db should be grad * self.a
    "receipt_db": (RECEIPT, "        db = grad * self.a\n", "        db = grad * self.b\n", "Times", "b"),
    # the renamed inputs of Scale, their gradients swapped
    "receipt_dq": (RECEIPT, "        dq = dout * self.p\n", "        dq = dout * self.q\n", "Scale", "count"),
    "sigmoid_slope": (ACTIVATIONS, "dout * self.out * (1.0 - self.out)", "dout * self.out * self.out", "Sigmoid", "x"),
    "relu_mask": (ACTIVATIONS, "np.where(self.mask, 0.0, dout)", "np.where(self.mask, dout, 0.0)", "ReLU", "x"),
    "scalar_slope": (SCALAR_ONLY, "dy * self.y * (1.0 - self.y)", "dy * (1.0 - self.y)", "Logistic", "x"),
}


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def observed(report: dict, name: str) -> list[dict]:
    return [b for b in report["built"] if b["what"].split(" ")[0] == name and b["origin"] == "observed"]


def compared(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_two_input_layers_driven_with_prices_are_checked_for_each_input(tmp_path):
    path = tmp_path / "receipt.py"
    path.write_text(RECEIPT, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert not any(f["code"] == "BPD007" for f in report["findings"]), report["findings"]
    for name in ("Times", "Plus", "Scale"):
        built = observed(report, name)
        assert built and all(b["skipped"] is None for b in built), report["built"]
        assert "Python numbers" in built[0]["shapes"], built
    # every input's gradient, the second ones included (Scale's by the attributes it keeps them in)
    # (the first input's row is `x` whatever forward calls it)
    assert {("Times", "x"), ("Times", "b"), ("Plus", "x"), ("Plus", "b"), ("Scale", "x"), ("Scale", "count")} <= compared(report), report["measurements"]


def test_activation_objects_tried_on_numbers_are_checked_on_arrays(tmp_path):
    path = tmp_path / "activations.py"
    path.write_text(ACTIVATIONS, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert not any(f["code"] == "BPD007" for f in report["findings"]), report["findings"]
    assert {("Sigmoid", "x"), ("ReLU", "x")} <= compared(report), report["measurements"]
    sigmoid, relu = observed(report, "Sigmoid")[0], observed(report, "ReLU")[0]
    assert "x (4, 5)" in sigmoid["shapes"], sigmoid  # arrays in place of the number 0
    assert "x (4,)" in relu["shapes"] and "later call" in relu["shapes"], relu  # the program's own array


def test_a_forward_written_for_one_number_is_checked_at_the_programs_numbers(tmp_path):
    path = tmp_path / "scalar_only.py"
    path.write_text(SCALAR_ONLY, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert {("Logistic", "x"), ("Square", "x")} <= compared(report), report["measurements"]
    assert "0-d" in observed(report, "Logistic")[0]["shapes"]


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_wrong_gradient_is_reported(tmp_path, case):
    program, right, wrong, layer, param = PLANTED[case]
    assert right in program
    path = tmp_path / f"{case}.py"
    path.write_text(program.replace(right, wrong), encoding="utf-8")
    report = check(path)
    found = [f for f in errors(report) if f["name"] == "gradient-mismatch" and f["layer"] == layer]
    assert found, report["findings"]
    assert any(f["param"] == param for f in found), found
