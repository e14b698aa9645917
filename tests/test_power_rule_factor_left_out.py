"""The power rule with the exponent not brought down: `0.044715 * x ** 2` for the derivative of
`0.044715 * x ** 3`. Named at that line, with the factor, in an activation pair and in a layer.

The GELU pair also reads a module-level constant computed by NumPy (`C = np.sqrt(2.0 / np.pi)`),
which the definitions backprop-doctor runs used to leave out, so the pair raised NameError and was
never checked: a call of NumPy's or `math`'s number functions on numbers is kept.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

GELU = """\
    import numpy as np

    C = np.sqrt(2.0 / np.pi)


    def gelu(x):
        return 0.5 * x * (1.0 + np.tanh(C * (x + 0.044715 * x ** 3)))


    def gelu_grad(x):
        t = np.tanh(C * (x + 0.044715 * x ** 3))
        dinner = C * (1.0 + 3 * 0.044715 * x ** 2)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t ** 2) * dinner
"""

CUBIC = """\
    import numpy as np


    class Cubic:
        def forward(self, x):
            self.x = x
            return x + 0.25 * x ** 3

        def backward(self, dout):
            return dout * (1.0 + 0.75 * self.x ** 2)
"""


def test_a_gelu_pair_reading_a_numpy_constant_is_checked_and_clean(tmp_path):
    path = planted(tmp_path, "act.py", GELU, "dinner = C * (1.0 + 3 * 0.044715 * x ** 2)", "dinner = C * (1.0 + 3 * 0.044715 * x ** 2)")
    report = check(path)
    assert errors(report) == []
    (pair,) = [b for b in report["built"] if b["what"] == "gelu/gelu_grad"]
    assert pair["skipped"] is None
    assert any(m["layer"] == "gelu/gelu_grad" and m["verdict"] == "ok" for m in report["measurements"])


def test_the_factor_left_out_of_a_gelu_derivative_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "act.py", GELU, "dinner = C * (1.0 + 3 * 0.044715 * x ** 2)", "dinner = C * (1.0 + 0.044715 * x ** 2)")
    report = check(path)
    (error,) = errors(report)
    assert error["line"] == line_of(path, "dinner = C * (1.0 + 0.044715 * x ** 2)")
    assert error["pattern"] == "power-rule" and "`3 * 0.044715 * x ** 2`" in error["message"]


def test_a_cubic_layer_is_clean(tmp_path):
    path = planted(tmp_path, "layer.py", CUBIC, "return dout * (1.0 + 0.75 * self.x ** 2)", "return dout * (1.0 + 0.75 * self.x ** 2)")
    assert errors(check(path)) == []


def test_a_cubic_layer_whose_derivative_keeps_the_coefficient_is_named(tmp_path):
    path = planted(tmp_path, "layer.py", CUBIC, "return dout * (1.0 + 0.75 * self.x ** 2)", "return dout * (1.0 + 0.25 * self.x ** 2)")
    (error,) = errors(check(path))
    assert error["layer"] == "Cubic" and error["line"] == line_of(path, "return dout * (1.0 + 0.25 * self.x ** 2)")
    assert "`3 * 0.25 * self.x ** 2`" in error["message"]
