"""scalar-backward-wrong (BPD110): a hand-written scalar autograd engine, checked in this process by
`check_file` (the CLI tests of `test_scalar_autograd_engine.py` run in a child process, where a
mutation run cannot see them).

Each finding's exact words, line, fix and evidence: a wrong local derivative (one input or both,
at a = 0.7 and b = −1.3, the values the check builds its operations on), a gradient set with `=`
(one input, both, and one that is also wrong), and a backward pass in the wrong order. The
numbers in the messages are computed here from the engine's own formulas.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import inprocess
from inprocess import line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_scalar_autograd_engine import ENGINE

from backprop_doctor.findings import Finding
from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "scalar-backward-wrong"
A, B = 0.7, -1.3  # the values the check's operations start from
MUL = "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad\n"


def checked(tmp_path: Path, old: str = "", new: str = "") -> tuple[Path, list[Finding]]:
    assert old in ENGINE, old
    path, found = inprocess.checked(tmp_path, "engine.py", ENGINE.replace(old, new, 1))
    return path, [f for f in found if f.name == RULE]


def test_a_right_engine_has_nothing_to_say(tmp_path):
    assert checked(tmp_path)[1] == []


def test_a_wrong_tanh_derivative_is_named_at_its_closure_with_the_values(tmp_path):
    path, found = checked(tmp_path, "self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - t) * out.grad")
    (f,) = found
    yours, slope = 1 - math.tanh(A), 1 - math.tanh(A) ** 2
    closure = line_of(path, "self.grad += (1 - t) * out.grad")  # the closure's statement that passes the gradient back
    assert (f.severity, f.code, f.layer, f.param, f.file, f.line, f.pattern, f.fix) == (
        "error", "BPD110", "Value.tanh", "a", str(path), closure, "wrong-derivative", None
    )
    assert f.message == (
        f"`Value.tanh` passes back a wrong gradient: for `a.tanh()` at a = 0.7, `a.grad` is {yours:.6g} where the slope is "
        f"{slope:.6g}: re-derive the local derivative its `_backward` multiplies `out.grad` by"
    )
    ((label, text),) = f.evidence
    assert label == "`a.tanh()`, a" and text.startswith(f"yours {yours:.10g}, numerical 0.634739")
    assert f.measured > 0.1


def test_both_inputs_of_a_product_wrong_are_both_told_and_the_first_is_its_parameter(tmp_path):
    wrong = "            self.grad += other.data * out.grad * 2\n            other.grad += self.data * out.grad * 3\n"
    path, (f,) = checked(tmp_path, MUL, wrong)
    assert (f.layer, f.param, f.line) == ("Value.__mul__", "a", line_of(path, "self.grad += other.data * out.grad * 2"))
    assert f.message == (
        f"`Value.__mul__` passes back a wrong gradient: for `a * b` at a = 0.7, b = -1.3, `a.grad` is {2 * B:.6g} where the "
        f"slope is {B:.6g}; `b.grad` is {3 * A:.6g} where the slope is {A:.6g}: re-derive the local derivative its "
        "`_backward` multiplies `out.grad` by"
    )
    assert [label for label, _ in f.evidence] == ["`a * b`, a", "`a * b`, b"]
    assert f.evidence[0][1] == f"yours {2 * B:.10g}, numerical {B:.10g}"


def test_one_input_of_a_product_wrong_names_only_that_one_with_both_inputs_shown(tmp_path):
    path, (f,) = checked(tmp_path, "            self.grad += other.data * out.grad\n", "            self.grad += 2 * other.data * out.grad\n")
    assert f.message.startswith(f"`Value.__mul__` passes back a wrong gradient: for `a * b` at a = 0.7, b = -1.3, `a.grad` is {2 * B:.6g} where the slope is {B:.6g}:")
    assert "`b.grad`" not in f.message and len(f.evidence) == 2


def test_a_gradient_set_instead_of_added_is_named_at_the_assignment_with_its_fix(tmp_path):
    path, (f,) = checked(tmp_path, "            self.grad += other.data * out.grad\n", "            self.grad = other.data * out.grad\n")
    line = line_of(path, "self.grad = other.data * out.grad")
    assert (f.layer, f.param, f.file, f.line, f.pattern, f.fix) == ("Value.__mul__", "a", str(path), line, "gradient-assigned", "self.grad += other.data * out.grad")
    assert f.message == (
        "`Value.__mul__` sets `a.grad` instead of adding to it: a value used more than once (`a * b + a`) keeps only the "
        "gradient of its last use: write `+=` in its `_backward`"
    )
    assert f.evidence == (("`a * b`", "with a.grad = 10 before its closure runs, it holds only the local gradient after"),)
    assert f.measured is None


def test_both_gradients_set_are_named_together_at_the_first(tmp_path):
    both = "            self.grad = other.data * out.grad\n            other.grad = self.data * out.grad\n"
    path, (f,) = checked(tmp_path, MUL, both)
    assert (f.line, f.fix) == (line_of(path, "self.grad = other.data * out.grad"), "self.grad += other.data * out.grad")
    assert f.message.startswith("`Value.__mul__` sets `a.grad` and `b.grad` instead of adding to them: ")


def test_the_second_input_set_is_named_with_its_own_line(tmp_path):
    old = "            self.grad += out.grad\n            other.grad += out.grad\n"
    path, (f,) = checked(tmp_path, old, "            self.grad += out.grad\n            other.grad = out.grad\n")
    assert (f.layer, f.param, f.line, f.fix) == ("Value.__add__", "b", line_of(path, "other.grad = out.grad"), "other.grad += out.grad")
    assert f.evidence == (("`a + b`", "with b.grad = 10 before its closure runs, it holds only the local gradient after"),)


def test_a_gradient_set_wrong_is_one_finding_for_its_wrong_derivative(tmp_path):
    path, found = checked(tmp_path, "            self.grad += other.data * out.grad\n", "            self.grad = 2 * other.data * out.grad\n")
    assert [(f.layer, f.pattern) for f in found] == [("Value.__mul__", "wrong-derivative")]


def test_a_backward_in_the_wrong_order_is_named_at_the_loop_that_calls_the_closures(tmp_path):
    path, (f,) = checked(tmp_path, "for node in reversed(topo):", "for node in topo:")
    assert (f.layer, f.param, f.file, f.line, f.pattern, f.fix, f.evidence) == ("Value.backward", "b", str(path), line_of(path, "for node in topo:"), "backward-order", None, ())
    assert f.message == (
        "every operation of `Value` passes back the right gradient alone, but `a - b` does not (`b.grad` is 0 where the slope "
        "is -1): `Value.backward` calls the `_backward` closures in an order where a node passes its gradient on before every "
        "use of it has added to it; sort the graph topologically and call them from the output back, after setting the "
        "output's gradient to 1"
    )
    assert f.measured == pytest.approx(1.0)


def test_a_wrong_operation_and_a_wrong_order_are_told_as_the_operation(tmp_path):
    text = ENGINE.replace("for node in reversed(topo):", "for node in topo:").replace(
        "self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - t) * out.grad")
    path = tmp_path / "engine.py"
    path.write_text(text, encoding="utf-8")
    found = [f for f in check_file(path, Options(training=False)).findings if f.name == RULE]
    assert [f.pattern for f in found] == ["wrong-derivative"]


def test_a_gradient_zeroed_then_added_is_named_at_its_closure_with_no_fix(tmp_path):
    """`self.grad = 0.0` then `+=`: the gradient is set (a constant is no passing back, so no
    statement is blamed), and the closure is where to look."""
    path, (f,) = checked(tmp_path, "            self.grad += other.data * out.grad\n", "            self.grad = 0.0\n            self.grad += other.data * out.grad\n")
    closure = line_of(path, "def _backward():", after=line_of(path, "def __mul__"))
    assert (f.layer, f.param, f.file, f.line, f.pattern, f.fix) == ("Value.__mul__", "a", str(path), closure, "gradient-assigned", None)


def test_an_engine_with_a_wrong_operation_does_not_stop_the_next_engines_check(tmp_path):
    """Two engines in one file: `Value`'s wrong tanh is its finding, and `Xnode` after it, whose
    operations are right but whose backward runs out of order, still gets its own."""
    value = ENGINE[ENGINE.index("class Value:"):ENGINE.index("class Neuron:")]
    xnode = value.replace("Value", "Xnode").replace("for node in reversed(topo):", "for node in topo:")
    text = ENGINE.replace("self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - t) * out.grad").replace("class Neuron:", xnode + "class Neuron:")
    path = tmp_path / "engine.py"
    path.write_text(text, encoding="utf-8")
    found = [f for f in check_file(path, Options(training=False)).findings if f.name == RULE]
    assert sorted((f.layer, f.pattern, f.file) for f in found) == [
        ("Value.tanh", "wrong-derivative", str(path)), ("Xnode.backward", "backward-order", str(path))
    ]


def test_a_backward_with_no_loop_over_the_closures_is_named_at_its_def(tmp_path):
    """`[node._backward() for node in topo]`: no `for` statement calls the closures, so the finding
    stays at `def backward`, where the order is chosen."""
    path, (f,) = checked(tmp_path, "for node in reversed(topo):\n            node._backward()", "[node._backward() for node in topo]")
    assert (f.pattern, f.line) == ("backward-order", line_of(path, "def backward(self):"))
