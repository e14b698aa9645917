"""A model whose backward adds into the gradients it holds (`self.grads["W"] += ...`) and whose `zero_grad()` is called
once, before the training loop, instead of at every step.

The update sits in a method the loop calls (`model.step(lr)`: `self.params[k] -= lr * self.grads[k]`), so the replay
could not find `self` among the loop's variables, and the summed gradients were called wrong derivatives at the lines
of backward. `self` is now the object the loop's frame holds the parameter under (`model` of `model.params['W']`): the
gradients are read as accumulated across steps and named at the `zero_grad()` call before the loop, to move into it.
Correct twins (`zero_grad()` at the start of every step) stay clean.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

MODEL = '''\
import numpy as np


class Linear:
    def __init__(self, n_in, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.normal(0, 0.5, (n_in, 1)), "b": np.zeros(1)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def zero_grad(self):
        for k in self.grads:
            self.grads[k][...] = 0.0

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] += self.x.T @ dout
        self.grads["b"] += dout.sum(axis=0)
        return dout @ self.params["W"].T

    def step(self, lr):
        for k in self.params:
            self.params[k] -= lr * self.grads[k]

'''

# a script: the loop at module level
SCRIPT = MODEL + '''
rng = np.random.default_rng(1)
X = rng.normal(size=(40, 3))
y = X @ np.array([[1.0], [-1.0], [0.5]])
model = Linear(3)
lr = 0.1
for it in range(6):
    model.zero_grad()
    diff = model.forward(X) - y
    loss = np.mean(diff ** 2)
    model.backward(2 * diff / diff.size)
    model.step(lr)
'''

# a function: the loop inside a training function
FUNCTION = MODEL + '''
def train(model, X, y, steps=6, lr=0.1):
    for it in range(steps):
        model.zero_grad()
        diff = model.forward(X) - y
        loss = np.mean(diff ** 2)
        model.backward(2 * diff / diff.size)
        model.step(lr)
    return loss


data = np.random.default_rng(2).normal(size=(40, 3))
train(Linear(3), data, data @ np.array([[0.5], [2.0], [-1.0]]))
'''

CASES = {
    "script": (SCRIPT, "model = Linear(3)\nlr = 0.1\nfor it in range(6):\n    model.zero_grad()\n",
               "model = Linear(3)\nmodel.zero_grad()\nlr = 0.1\nfor it in range(6):\n"),
    "function": (FUNCTION, "    for it in range(steps):\n        model.zero_grad()\n", "    model.zero_grad()\n    for it in range(steps):\n"),
}


def test_zero_grad_called_once_before_the_loop_is_named_there(tmp_path):
    for name, (program, right, wrong) in CASES.items():
        path = planted(tmp_path, f"once_{name}.py", program, right, wrong)
        report = check(path, training=True)
        errors = [f for f in report["findings"] if f["severity"] == "error"]
        assert errors and {(f["code"], f["line"], f["pattern"]) for f in errors} == {("BPD108", line_of(path, "model.zero_grad()"), "accumulated-across-steps")}, (name, errors)
        assert "runs once, before the loop" in errors[0]["message"], errors[0]["message"]


def test_zero_grad_at_every_step_is_clean(tmp_path):
    for name, (program, _, _) in CASES.items():
        report = check(write(tmp_path, f"every_{name}.py", program), training=True)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], (name, report["findings"])
