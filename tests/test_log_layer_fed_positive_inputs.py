"""A layer defined for positive inputs only (a logarithm, a square root) is checked on positive
inputs: its NaN where x < 0 is the right output, not an overflow to guard against. Whether that is
so is measured, not read from a name: forward gives NaN on the standard-normal input and finite
numbers on the same input made positive. A correct one is clean, a wrong backward is a gradient
mismatch at its line, and a forward that gives NaN or infinity on positive inputs too (a softmax
at a low temperature without the max taken off) is still a non-finite output."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# DeZero-style functions: `Function.__call__` unwraps `Variable`s and keeps them for backward
FRAMEWORK = '''\
import numpy as np


class Variable:
    def __init__(self, data):
        self.data = data


class Function:
    def __call__(self, x):
        y = self.forward(x.data)
        self.inputs = (x,)
        self.outputs = (Variable(y),)
        return self.outputs[0]


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy / x


class Sqrt(Function):
    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy):
        y = self.outputs[0].data
        return gy / (2 * y)
'''

# a layer class that caches its input, as the first book writes them
LAYERS = '''\
import numpy as np


class LogLayer:
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, dout):
        return dout / self.x
'''

# a softmax at a low temperature with no max taken off: exp overflows whatever the sign of x
HOT_SOFTMAX = '''\
import numpy as np


class SharpSoftmax:
    def __init__(self):
        self.temperature = 0.001

    def forward(self, x):
        e = np.exp(x / self.temperature)
        self.y = e / e.sum(axis=1, keepdims=True)
        return self.y

    def backward(self, dout):
        s = (dout * self.y).sum(axis=1, keepdims=True)
        return self.y * (dout - s) / self.temperature
'''


def _checked(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def _errors(report: dict) -> list[tuple[str, str, int]]:
    return [(f["code"], f["layer"], f["line"]) for f in errors(report)]


def test_correct_log_and_sqrt_functions_are_checked_on_positive_inputs_and_clean(tmp_path):
    report = check(write(tmp_path, "functions.py", FRAMEWORK))
    assert errors(report) == []
    assert {("Log", "x"), ("Sqrt", "x")} <= _checked(report)
    assert all("positive x" in b["shapes"] for b in report["built"] if b["what"] in ("Log", "Sqrt"))


def test_a_correct_log_layer_class_is_checked_on_positive_inputs_and_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert ("LogLayer", "x") in _checked(report)


def test_a_wrong_log_backward_is_a_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "functions.py", FRAMEWORK, "return gy / x", "return gy * x")
    assert _errors(check(path)) == [("BPD101", "Log", line_of(path, "return gy * x"))]


def test_a_wrong_log_layer_backward_is_a_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "return dout / self.x", "return dout / self.x ** 2")
    assert _errors(check(path)) == [("BPD101", "LogLayer", line_of(path, "return dout / self.x ** 2"))]


def test_a_forward_that_overflows_on_positive_inputs_too_is_still_a_non_finite_output(tmp_path):
    report = check(write(tmp_path, "softmax.py", HOT_SOFTMAX))
    assert "BPD106" in {code for code, _, _ in _errors(report)}
