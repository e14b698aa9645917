"""A program that runs its layers forward only, and whose layers' backward raises on what it feeds
them, has nothing checked, and says so as a warning, as every other file with nothing to compare
does: the backward it never calls (an early DeZero step whose `Function` subclasses write only
`forward`, the base class's `backward` raising NotImplementedError; two context layers sharing one
weight, fed one vector each) is no defect of how it trains. A backward the program does call, and
gets wrong, is still an error at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# a DeZero step: the book writes `backward` for `Add` a step later
STEP = '''\
import numpy as np


class Variable:
    def __init__(self, data):
        self.data = data
        self.grad = None


class Function:
    def __call__(self, *inputs):
        ys = self.forward(*[x.data for x in inputs])
        self.inputs = inputs
        self.outputs = [Variable(np.asarray(ys))]
        return self.outputs[0]

    def forward(self, *xs):
        raise NotImplementedError()

    def backward(self, gy):
        raise NotImplementedError()


class Add(Function):
    def forward(self, a, b):
        return a + b


class Square(Function):
    def forward(self, x):
        return x ** 2


s = Add()(Variable(np.array(2.0)), Variable(np.array(3.0)))
y = Square()(s)
print(y.data)
'''

# layers of a word model, two of them sharing the input weight, run forward on one vector each
SHARED = '''\
import numpy as np


class MatMul:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        W, = self.params
        self.x = x
        return np.dot(x, W)

    def backward(self, dout):
        W, = self.params
        self.grads[0][...] = np.dot(self.x.T, dout)
        return np.dot(dout, W.T)


class TwoContexts:
    def __init__(self, vocab, hidden):
        W_in = 0.01 * np.random.randn(vocab, hidden)
        self.left = MatMul(W_in)
        self.right = MatMul(W_in)
        self.params = self.left.params + self.right.params
        self.grads = self.left.grads + self.right.grads

    def forward(self, contexts):
        return 0.5 * (self.left.forward(contexts[:, 0]) + self.right.forward(contexts[:, 1]))

    def backward(self, dh):
        self.left.backward(0.5 * dh)
        self.right.backward(0.5 * dh)


model = TwoContexts(5, 3)
contexts = np.eye(5)[:, :2]
print(model.forward(contexts))
'''

def _nothing(report: dict) -> dict:
    (finding,) = [f for f in report["findings"] if f["code"] == "BPD007"]
    return finding


def test_a_dezero_step_whose_functions_have_no_backward_yet_is_a_warning(tmp_path):
    report = check(write(tmp_path, "step12.py", STEP))
    assert errors(report) == []
    finding = _nothing(report)
    assert finding["severity"] == "warning" and "not written yet" in finding["message"]


def test_shared_layers_run_forward_only_on_vectors_are_a_warning(tmp_path):
    report = check(write(tmp_path, "shared.py", SHARED))
    assert errors(report) == []
    assert _nothing(report)["severity"] == "warning"


SQUARE_BACKWARD = '''class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x = self.inputs[0].data
        return 2 * x * gy
'''
SQUARE_FORWARD = '''class Square(Function):
    def forward(self, x):
        return x ** 2
'''
RUN_BACKWARD = "print(y.data)\n"
RAN_BACKWARD = "f = Square()\ny = f(Variable(np.array([1.5, -0.5])))\nprint(f.backward(np.ones(2)))\n"


def test_a_step_that_calls_a_correct_backward_is_checked_and_clean(tmp_path):
    source = STEP.replace(SQUARE_FORWARD, SQUARE_BACKWARD).replace(RUN_BACKWARD, RAN_BACKWARD)
    report = check(write(tmp_path, "step13.py", source))
    assert errors(report) == []
    assert ("Square", "x") in {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_a_step_that_calls_a_wrong_backward_is_an_error_at_its_line(tmp_path):
    source = STEP.replace(SQUARE_FORWARD, SQUARE_BACKWARD).replace(RUN_BACKWARD, RAN_BACKWARD)
    path = planted(tmp_path, "step13.py", source, "return 2 * x * gy", "return x * gy")
    assert [(f["code"], f["layer"], f["line"]) for f in errors(check(path))] == [("BPD101", "Square", line_of(path, "return x * gy"))]


def test_shared_layers_trained_with_a_wrong_backward_are_an_error(tmp_path):
    source = SHARED.replace(
        "print(model.forward(contexts))\n",
        "h = model.forward(np.random.randn(4, 2, 5))\nmodel.backward(np.ones_like(h))\n",
    )
    path = planted(tmp_path, "shared.py", source, "np.dot(self.x.T, dout)", "np.dot(self.x.T, dout) * 2")
    assert "BPD101" in {f["code"] for f in errors(check(path))}
