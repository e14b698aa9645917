"""An update of the file called twice in a row in one pass of the training loop, with nothing between the calls that
computes new gradients, moves the parameters twice along one gradient (`checks/update_called_twice.py`,
`static/doubled_step.py`): named at the second call. The same programs calling it once are clean."""

from __future__ import annotations

from tests.userfiles import check, line_of, write

# an optimizer class over parameter objects, its step and zero_grad called by a flat script
OPTIMIZER = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(48, 3))
y = X @ np.array([[1.0], [-1.0], [2.0]])


class Weight:
    def __init__(self, value):
        self.value = value
        self.grad = np.zeros_like(value)


class SGD:
    def __init__(self, params, lr=0.05):
        self.params, self.lr = params, lr

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        for p in self.params:
            p.value -= self.lr * p.grad


W, c = Weight(np.zeros((3, 1))), Weight(np.zeros(1))
opt = SGD([W, c])
for it in range(40):
    opt.zero_grad()
    r = X @ W.value + c.value - y
    loss = np.mean(r ** 2)
    W.grad += 2 * X.T @ r / len(X)
    c.grad += 2 * r.mean(axis=0)
    opt.step()
    {second}
print(loss)
'''

# a function that updates a dict of weights, called in a training function
FUNCTION = '''\
import numpy as np


def sgd(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]


def train(X, t, epochs=30, lr=0.1):
    params = {{"w": np.zeros((2, 1)), "b": np.zeros(1)}}
    for epoch in range(epochs):
        p = 1 / (1 + np.exp(-(X @ params["w"] + params["b"])))
        loss = -np.mean(t * np.log(p + 1e-9) + (1 - t) * np.log(1 - p + 1e-9))
        grads = {{"w": X.T @ (p - t) / len(X), "b": (p - t).mean(axis=0)}}
        sgd(params, grads, lr)
        {second}
    return params, loss


rng = np.random.default_rng(5)
X = rng.normal(size=(40, 2))
t = (X[:, :1] + X[:, 1:] > 0).astype(float)
print(train(X, t)[1])
'''


def _named(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD646"]


def test_optimizer_step_called_twice_is_named_at_the_second_call(tmp_path):
    path = write(tmp_path, "optimizer.py", OPTIMIZER.format(second="opt.step()"))
    found = _named(check(path))
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, "opt.step()") + 1
    assert found[0]["severity"] == "error" and "twice" in found[0]["message"]


def test_optimizer_step_called_once_is_clean(tmp_path):
    report = check(write(tmp_path, "optimizer.py", OPTIMIZER.format(second="pass")))
    assert _named(report) == []


def test_update_function_called_twice_is_named_at_the_second_call(tmp_path):
    path = write(tmp_path, "function.py", FUNCTION.format(second="sgd(params, grads, lr)"))
    found = _named(check(path))
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, "        sgd(params, grads, lr)") + 1


def test_update_function_called_once_is_clean(tmp_path):
    report = check(write(tmp_path, "function.py", FUNCTION.format(second="pass")))
    assert _named(report) == []


def test_two_steps_each_after_its_own_gradients_are_not_named(tmp_path):
    # two updates per pass, each on gradients computed just before it: right
    program = FUNCTION.format(second='p = 1 / (1 + np.exp(-(X @ params["w"] + params["b"])))\n        '
                              'grads = {"w": X.T @ (p - t) / len(X), "b": (p - t).mean(axis=0)}\n        sgd(params, grads, lr)')
    report = check(write(tmp_path, "function.py", program))
    assert _named(report) == []
