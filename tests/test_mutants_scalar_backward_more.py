"""scalar-backward-wrong (BPD110), eleventh mutation round: an operation the check builds twice
(`a ** 2` and `a ** 3`, both `__pow__`) is one finding, and a closure setting both gradients on one
line gets both made `+=` in its fix. Checked in this process by `check_file`.
"""

from __future__ import annotations

from inprocess import line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_mutants_scalar_backward_check import MUL, checked

RULE = "scalar-backward-wrong"
POW = "            self.grad += k * self.data ** (k - 1) * out.grad\n"


def test_a_wrong_power_derivative_is_one_finding_though_both_powers_are_wrong(tmp_path):
    _, found = checked(tmp_path, POW, POW.replace("k - 1", "k"))
    assert [(f.layer, f.pattern) for f in found] == [("Value.__pow__", "wrong-derivative")]


def test_a_power_setting_its_gradient_is_one_finding_though_both_powers_set_it(tmp_path):
    path, found = checked(tmp_path, POW, POW.replace("self.grad +=", "self.grad ="))
    assert [(f.layer, f.pattern, f.line) for f in found] == [("Value.__pow__", "gradient-assigned", line_of(path, "self.grad = k * self.data"))]


def test_two_gradients_set_on_one_line_are_both_made_additions(tmp_path):
    """`self.grad = ...; other.grad = ...`: the fix adds to both, not only to the first."""
    path, (f,) = checked(tmp_path, MUL, "            self.grad = other.data * out.grad; other.grad = self.data * out.grad\n")
    assert (f.layer, f.pattern, f.line) == ("Value.__mul__", "gradient-assigned", line_of(path, "self.grad = other.data"))
    assert f.fix == "self.grad += other.data * out.grad; other.grad += self.data * out.grad"
