"""DeZero-style functions (*Deep Learning from Scratch 3*): a base `Function` whose `__call__` runs
`self.forward`, wraps the results in `Variable`s and keeps its inputs and outputs, and subclasses
that write only `forward(x)` and `backward(gy)`, reading `self.inputs` in backward. They are called
through `__call__`, as they are meant to be, so a correct one is clean (`Neg`'s `backward(gy)` is a
layer's, not an activation's derivative; `Exp` finds its output through the weak reference DeZero
keeps) and a wrong one is a gradient mismatch at its line. A backward that computes on `Variable`s
whose operators the file does not set up (DeZero's package `__init__` does) is a note, not an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

FUNCTIONS = '''\
import weakref

import numpy as np


class Variable:
    def __init__(self, data):
        self.data = data
        self.grad = None


class Function:
    def __call__(self, *inputs):
        xs = [x.data for x in inputs]
        ys = self.forward(*xs)
        outputs = [Variable(np.asarray(y)) for y in (ys if isinstance(ys, tuple) else (ys,))]
        self.inputs = inputs
        self.outputs = [weakref.ref(y) for y in outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        raise NotImplementedError()

    def backward(self, gy):
        raise NotImplementedError()


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x = self.inputs[0].data
        return 2 * x * gy


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return y.data * gy


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        return gy * x1, gy * x0
'''

STEP = '''\
import numpy as np


class Variable:
    def __init__(self, data):
        self.data = data
        self.grad = None


class Function:
    def __call__(self, input):
        x = input.data
        y = self.forward(x)
        output = Variable(y)
        self.input = input
        return output


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x = self.input.data
        return 2 * x * gy


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.input.data
        return np.exp(x) * gy


A, B, C = Square(), Exp(), Square()
x = Variable(np.array(0.5))
a = A(x)
b = B(a)
y = C(b)
b.grad = C.backward(np.array(1.0))
a.grad = B.backward(b.grad)
x.grad = A.backward(a.grad)
print(x.grad)
'''

OPERATORS = '''\
import numpy as np


class Variable:
    __array_priority__ = 200

    def __init__(self, data):
        self.data = np.asarray(data)

    def __mul__(self, other):
        return Mul()(self, as_variable(other))

    __rmul__ = __mul__


def as_variable(value):
    return value if isinstance(value, Variable) else Variable(value)


class Function:
    def __call__(self, *inputs):
        inputs = [as_variable(x) for x in inputs]
        y = self.forward(*[x.data for x in inputs])
        self.inputs = inputs
        return Variable(y)


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return gy * x1, gy * x0


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x, = self.inputs
        return 2 * x * gy
'''


def _mismatches(report: dict) -> list[tuple[str, str, int]]:
    return [(f["code"], f["layer"], f["line"]) for f in errors(report)]


def _checked(report: dict) -> set[tuple[str, str]]:
    """(layer, array) of every gradient compared and found right."""
    return {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_correct_dezero_functions_are_called_through_call_and_clean(tmp_path):
    report = check(write(tmp_path, "functions.py", FUNCTIONS))
    assert errors(report) == []
    assert {("Square", "x"), ("Exp", "x"), ("Neg", "x"), ("Mul", "x")} <= _checked(report)


def test_a_wrong_square_backward_is_a_gradient_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "functions.py", FUNCTIONS, "return 2 * x * gy", "return x * gy")
    assert _mismatches(check(path)) == [("BPD101", "Square", line_of(path, "return x * gy"))]


def test_neg_backward_is_a_layers_not_a_derivative_and_a_wrong_one_is_found(tmp_path):
    path = planted(tmp_path, "functions.py", FUNCTIONS, "        return -gy", "        return gy")
    assert _mismatches(check(path)) == [("BPD101", "Neg", line_of(path, "        return gy"))]


def test_a_wrong_gradient_of_muls_second_input_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "functions.py", FUNCTIONS, "return gy * x1, gy * x0", "return gy * x1, gy * x1")
    report = check(path)
    assert _mismatches(report) == [("BPD101", "Mul", line_of(path, "return gy * x1, gy * x1"))]
    assert ("Mul", "x") in _checked(report)


def test_a_first_step_script_on_numbers_is_checked_as_it_runs(tmp_path):
    report = check(write(tmp_path, "step.py", STEP))
    assert errors(report) == []
    assert {("Square", "x"), ("Exp", "x")} <= _checked(report)


def test_a_wrong_backward_in_a_first_step_script_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "step.py", STEP, "return np.exp(x) * gy", "return np.exp(x) * x * gy")
    assert _mismatches(check(path)) == [("BPD101", "Exp", line_of(path, "return np.exp(x) * x * gy"))]


def test_a_backward_that_computes_on_variables_is_read_through_their_data(tmp_path):
    report = check(write(tmp_path, "operators.py", OPERATORS))
    assert errors(report) == []
    assert {("Square", "x"), ("Mul", "x")} <= _checked(report)


def test_a_wrong_backward_on_variables_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "operators.py", OPERATORS, "return 2 * x * gy", "return 3 * x * gy")
    assert _mismatches(check(path)) == [("BPD101", "Square", line_of(path, "return 3 * x * gy"))]


OPERATORS_SET_UP = "    def __mul__(self, other):\n        return Mul()(self, as_variable(other))\n\n    __rmul__ = __mul__\n"


def test_variables_whose_operators_are_set_up_elsewhere_are_a_note_not_an_error(tmp_path):
    path = planted(tmp_path, "operators.py", OPERATORS, OPERATORS_SET_UP, "")
    report = check(path)
    assert errors(report) == []
    notes = {(f["code"], f["layer"], f["line"]) for f in report["findings"] if f["severity"] == "info" and "Variable" in f["message"]}
    assert notes == {("BPD008", "Square", line_of(path, "return 2 * x * gy")), ("BPD008", "Mul", line_of(path, "return gy * x1, gy * x0"))}

MODULE = '''\
import numpy as np


class Module:
    def __call__(self, *inputs):
        self.inputs = inputs
        return self.forward(*inputs)


class Dropout(Module):
    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > 0.5
            return x * self.mask
        return x

    def backward(self, dout):
        return dout * self.mask
'''


def test_a_base_call_that_takes_no_train_flag_runs_forward_with_its_own_default(tmp_path):
    report = check(write(tmp_path, "module.py", MODULE))
    assert errors(report) == []
    assert ("Dropout", "x") in _checked(report)


def test_a_wrong_backward_behind_a_base_call_without_a_train_flag_is_found(tmp_path):
    path = planted(tmp_path, "module.py", MODULE, "return dout * self.mask", "return dout")
    assert _mismatches(check(path)) == [("BPD101", "Dropout", line_of(path, "        return dout"))]

SWITCHED_OFF = '''\
import numpy as np


class Config:
    enable_backprop = False  # inference only


class Variable:
    def __init__(self, data):
        self.data = data


class Function:
    def __call__(self, *inputs):
        y = self.forward(*[x.data for x in inputs])
        if Config.enable_backprop:
            self.inputs = inputs
        return Variable(y)


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        return 2 * self.inputs[0].data * gy
'''


def test_functions_that_keep_nothing_because_backprop_is_off_are_a_note_not_an_error(tmp_path):
    report = check(write(tmp_path, "inference.py", SWITCHED_OFF))
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f["layer"] == "Square"]
    assert (note["code"], note["severity"]) == ("BPD008", "info") and "kept none of inputs" in note["message"]


def test_functions_with_backprop_on_are_checked_and_a_wrong_one_is_found(tmp_path):
    path = planted(tmp_path, "inference.py", SWITCHED_OFF, "enable_backprop = False", "enable_backprop = True")
    assert ("Square", "x") in _checked(check(path))
    wrong = planted(tmp_path, "wrong.py", path.read_text(), "return 2 * self.inputs", "return self.inputs")
    assert _mismatches(check(wrong)) == [("BPD101", "Square", line_of(wrong, "return self.inputs"))]
