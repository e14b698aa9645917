"""A pass written as one call that runs forward, backward and the updates and returns the loss
(`l, acc = train(im, label)`, then `loss += l`): the loss the loop sums is what that call returns,
computed before its updates, so the replay reads it by making the call from the moved parameters.
Read as the name after the call instead, it never moved: a correct program had every parameter
reported as never read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, planted

# layer objects that update themselves in `backprop(grad, lr)`, one sample at a time, a tuple returned
OBJECTS = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            self.weights = np.random.randn(n_in, n_out) / n_in
            self.biases = np.zeros(n_out)

        def forward(self, x):
            self.last_input = x
            return x @ self.weights + self.biases

        def backprop(self, d_out, learn_rate):
            d_w = np.outer(self.last_input, d_out)
            d_in = self.weights @ d_out
            self.weights -= learn_rate * d_w
            self.biases -= learn_rate * d_out
            return d_in


    class Tanh:
        def forward(self, x):
            self.out = np.tanh(x)
            return self.out

        def backprop(self, d_out, learn_rate):
            return d_out * (1 - self.out ** 2)


    class SoftmaxCE:
        def forward(self, x, label):
            e = np.exp(x - x.max())
            self.p = e / e.sum()
            self.label = label
            return -np.log(self.p[label])

        def backprop(self):
            d = self.p.copy()
            d[self.label] -= 1
            return d


    np.random.seed(0)
    images = np.random.rand(80, 6) * 2 - 1
    labels = (images[:, 0] > images[:, 1]).astype(int) + (images[:, 2] > 0.5).astype(int)
    hidden, act, out, head = Dense(6, 10), Tanh(), Dense(10, 3), SoftmaxCE()


    def train(x, label, lr=0.05):
        loss = head.forward(out.forward(act.forward(hidden.forward(x))), label)
        acc = 1 if np.argmax(head.p) == label else 0
        grad = head.backprop()
        grad = out.backprop(grad, lr)
        grad = act.backprop(grad, lr)
        hidden.backprop(grad, lr)
        return loss, acc


    for epoch in range(5):
        loss = 0
        correct = 0
        for i, (x, label) in enumerate(zip(images, labels)):
            l, acc = train(x, label)
            loss += l
            correct += acc
        print("epoch", epoch, loss / len(images), correct)
"""

# plain arrays in the module, a step function returning the loss alone
FUNCTION = """\
    import numpy as np

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=120)
    w = np.zeros(3)
    b = 0.0


    def sgd_step(xb, yb, lr):
        global w, b
        err = xb @ w + b - yb
        mse = np.mean(err ** 2)
        grad_w = 2 * xb.T @ err / len(yb)
        grad_b = 2 * np.mean(err)
        w = w - lr * grad_w
        b = b - lr * grad_b
        return mse


    for epoch in range(30):
        epoch_loss = 0.0
        for start in range(0, 120, 20):
            batch_loss = sgd_step(X[start:start + 20], y[start:start + 20], 0.05)
            epoch_loss += batch_loss
        print(epoch, epoch_loss / 6)
"""

BUGS = {
    "objects": (OBJECTS, "return d_out * (1 - self.out ** 2)", "return d_out * (1 - self.out)"),
    "function": (FUNCTION, "err = xb @ w + b - yb", "err = yb - (xb @ w + b)"),
}


@pytest.mark.parametrize("style", sorted(BUGS))
def test_a_correct_pass_in_one_call_is_clean(tmp_path: Path, style: str) -> None:
    program, correct, _ = BUGS[style]
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    assert errors(report) == [], report["findings"]
    verdicts = [m["verdict"] for m in report["measurements"] if m["layer"] == "training step"]
    assert verdicts and set(verdicts) == {"ok"}


@pytest.mark.parametrize("style", sorted(BUGS))
def test_a_wrong_gradient_inside_that_call_is_found(tmp_path: Path, style: str) -> None:
    program, correct, wrong = BUGS[style]
    report = check(planted(tmp_path, "train.py", program, correct, wrong))
    assert errors(report), report["findings"]
    assert "mismatch" in {m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}


def test_a_module_number_the_call_moves_through_global_is_measured(tmp_path: Path) -> None:
    # `global w, b` in the step function: the float `b` is a parameter as much as the array `w`
    program, correct, _ = BUGS["function"]
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    measured = {m["param"] for m in report["measurements"] if m["layer"] == "training step"}
    assert measured == {"w", "b"}


def test_a_wrong_float_gradient_through_global_is_named(tmp_path: Path) -> None:
    program = FUNCTION.replace("grad_b = 2 * np.mean(err)", "grad_b = np.mean(err)")
    report = check(planted(tmp_path, "train.py", program, "import numpy as np", "import numpy as np"))
    wrong = [f for f in errors(report) if f.get("param") == "b"]
    assert wrong, report["findings"]
