"""A script that steps once, twice over: a first demonstration (one sample: forward, backward, update),
then a second one that binds its weights afresh (`W1 = np.random.randn(3, 4)`), builds its layers again
from them and makes its own forward, backward and update. The script was read as one step from the first
forward to the last update, and the second section's gradient, computed from the fresh `W1`, was called
"computed after line N had already updated W1". `static.steps._new_section` ends the step where a
parameter the first run of updates moved is bound to a value of its own (not computed from itself), and
the second section, when its forward reads its fresh weights, is a step of its own.

Two styles: layer objects (`Linear(W1)`, a sigmoid, a squared error) built again for the batch, and plain
arrays with the forward and backward written out. Both are clean with a step for each section; a sigmoid
backward that leaves out its `1 - out` is still wrong, and so is a tanh derivative written `1 - h` in the
second section, named at that section's line.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

LAYERS = '''\
import numpy as np


class Linear:
    def __init__(self, W):
        self.W = W
        self.dW = None

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class SquaredError:
    def forward(self, y, t):
        self.diff = y - t
        return 0.5 * np.sum(self.diff ** 2) / len(y)

    def backward(self, dout=1):
        return dout * self.diff / len(self.diff)


np.random.seed(21)
X = np.random.rand(1, 3)
T = np.array([[0.5, -0.5]])
W1 = np.random.randn(3, 4)
W2 = np.random.randn(4, 2)
first, act, second, cost = Linear(W1), Sigmoid(), Linear(W2), SquaredError()
loss = cost.forward(second.forward(act.forward(first.forward(X))), T)
print("loss", loss)
g = cost.backward(1)
g = second.backward(g)
g = act.backward(g)
first.backward(g)
rate = 0.5
W1 -= rate * first.dW
W2 -= rate * second.dW
print("again", cost.forward(second.forward(act.forward(first.forward(X))), T))

print("--- a batch of four ---")
X = np.random.rand(4, 3)
T = np.random.rand(4, 2)
W1 = np.random.randn(3, 4)
W2 = np.random.randn(4, 2)
first, act, second = Linear(W1), Sigmoid(), Linear(W2)
loss = cost.forward(second.forward(act.forward(first.forward(X))), T)
g = cost.backward(1)
g = second.backward(g)
g = act.backward(g)
first.backward(g)
W1 -= rate * first.dW
W2 -= rate * second.dW
print("again", cost.forward(second.forward(act.forward(first.forward(X))), T))
'''

ARRAYS = '''\
import numpy as np

rng = np.random.default_rng(11)

# one sample
x = rng.random((1, 2))
y = np.array([[1.0]])
W1 = rng.standard_normal((2, 4))
W2 = rng.standard_normal((4, 1))
h = np.tanh(x @ W1)
out = h @ W2
loss = 0.5 * np.sum((out - y) ** 2)
print("loss", loss)
d_out = out - y
dW2 = h.T @ d_out
dW1 = x.T @ ((d_out @ W2.T) * (1 - h ** 2))
lr = 0.1
W1 -= lr * dW1
W2 -= lr * dW2
print("after", 0.5 * np.sum((np.tanh(x @ W1) @ W2 - y) ** 2))

# a mini-batch, with weights of its own
x = rng.random((6, 2))
y = rng.random((6, 1))
W1 = rng.standard_normal((2, 4))
W2 = rng.standard_normal((4, 1))
h = np.tanh(x @ W1)
out = h @ W2
loss = 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))
print("batch loss", loss)
d_out = (out - y) / len(x)
dW2 = h.T @ d_out
dW1 = x.T @ ((d_out @ W2.T) * (1 - h ** 2))
W1 -= lr * dW1
W2 -= lr * dW2
print("after", 0.5 * np.mean(np.sum((np.tanh(x @ W1) @ W2 - y) ** 2, axis=1)))
'''


def _steps(report: dict) -> list[tuple[int, list[str]]]:
    return [(step["loop_line"], [p["name"] for p in step["parameters"]]) for step in report["extras"]["replay"]]


def test_two_sections_of_layer_objects_are_two_clean_steps(tmp_path):
    path = write(tmp_path, "sections.py", LAYERS)
    report = check(path)
    assert errors(report) == []
    assert [names for _, names in _steps(report)] == [["W1", "W2"], ["W1", "W2"]]


def test_two_sections_of_plain_arrays_are_two_clean_steps(tmp_path):
    report = check(write(tmp_path, "arrays.py", ARRAYS))
    assert errors(report) == []
    assert [names for _, names in _steps(report)] == [["W1", "W2"], ["W1", "W2"]]


def test_a_sigmoid_backward_without_its_slope_is_still_wrong(tmp_path):
    path = planted(tmp_path, "sections_wrong.py", LAYERS, "return dout * self.out * (1 - self.out)", "return dout * self.out")
    assert errors(check(path))


def test_a_wrong_derivative_in_the_second_section_is_named_there(tmp_path):
    right = "dW1 = x.T @ ((d_out @ W2.T) * (1 - h ** 2))"
    head, _, tail = ARRAYS.rpartition(right)
    path = write(tmp_path, "arrays_wrong.py", head + "dW1 = x.T @ ((d_out @ W2.T) * (1 - h))" + tail)
    found = errors(check(path))
    assert found and all(f["code"] == "BPD108" for f in found)
    second = len(head.splitlines()) + 1
    assert any(f["line"] == second for f in found), [(f["line"], f["message"]) for f in found]
