"""A loss function named for what it does rather than as a loss (`xent_and_grad(scores, targets)`,
`score_grad(S, y)`) that returns its loss beside the gradient of the scores (`return loss, grad`,
`return J, dS`): found by what it returns and checked as a loss function, so a gradient not divided by
the batch, or divided twice, is the root cause at the line that returns or divides it, not the step's
update of every weight. The right programs are clean. Style 1 imports its layers from a package of its
own beside it."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PACKAGE_INIT = """\
from .core import Linear, Tanh

__all__ = ["Linear", "Tanh"]
"""

PACKAGE_CORE = """\
import numpy as np


class Linear:
    def __init__(self, fan_in, fan_out, rng):
        self.W = rng.normal(0.0, 1.0 / np.sqrt(fan_in), (fan_in, fan_out))
        self.b = np.zeros(fan_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.gW = self.x.T @ grad
        self.gb = grad.sum(axis=0)
        return grad @ self.W.T

    def pairs(self):
        return [(self.W, self.gW), (self.b, self.gb)]


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad):
        return grad * (1.0 - self.y ** 2)

    def pairs(self):
        return []
"""

# style 1: layers from a package beside the file, a list of them, the loss and its gradient in the main file
PACKAGED = """\
import numpy as np

from blocks import Linear, Tanh


def xent_and_grad(scores, targets):
    m = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(m), targets]).mean()
    probs[np.arange(m), targets] -= 1.0
    grad = probs / m
    return loss, grad


rng = np.random.default_rng(4)
X = rng.normal(size=(40, 3))
y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
model = [Linear(3, 12, rng), Tanh(), Linear(12, 3, rng)]

for step in range(150):
    h = X
    for part in model:
        h = part.forward(h)
    loss, grad = xent_and_grad(h, y)
    for part in reversed(model):
        grad = part.backward(grad)
    for part in model:
        for w, gw in part.pairs():
            w -= 0.3 * gw
    if step % 50 == 0:
        print(step, loss)
"""

# style 2: module-level arrays, a leaky ReLU written inline, the loss's gradient scaled on its own line
INLINE = """\
import numpy as np


def softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def score_grad(S, y):
    N = len(y)
    P = softmax_rows(S)
    J = -np.sum(np.log(P[range(N), y])) / N
    dS = P.copy()
    dS[range(N), y] -= 1
    dS /= N
    return J, dS


np.random.seed(9)
data = np.random.randn(36, 4)
target = np.argmax(data[:, :3] + 0.3 * np.random.randn(36, 3), axis=1)
W = np.random.randn(4, 8) * 0.5
c = np.zeros(8)
V = np.random.randn(8, 3) * 0.5
d = np.zeros(3)
for epoch in range(120):
    pre = data @ W + c
    act = np.maximum(pre, 0.01 * pre)
    S = act @ V + d
    J, dS = score_grad(S, target)
    dV = act.T @ dS
    dd = dS.sum(axis=0)
    dact = dS @ V.T
    dpre = dact * np.where(pre > 0, 1.0, 0.01)
    dW = data.T @ dpre
    dc = dpre.sum(axis=0)
    W -= 0.5 * dW
    c -= 0.5 * dc
    V -= 0.5 * dV
    d -= 0.5 * dd
    if epoch % 40 == 0:
        print(epoch, J)
"""


def _packaged(folder):
    write(folder, "blocks/__init__.py", PACKAGE_INIT)
    write(folder, "blocks/core.py", PACKAGE_CORE)
    return folder


def test_loss_functions_returning_their_gradient_are_checked_and_clean(tmp_path):
    for name, text, loss in (("packaged.py", PACKAGED, "xent_and_grad"), ("inline.py", INLINE, "score_grad")):
        folder = _packaged(tmp_path / "a") if name == "packaged.py" else tmp_path / "b"
        report = check(planted(folder, name, text, "", ""), training=True)
        flagged = [(f["code"], f["line"]) for f in report["findings"] if f["severity"] in ("error", "warning")]
        assert flagged == [], (name, flagged)
        assert any(m["layer"] == loss and m["verdict"] == "ok" for m in report["measurements"]), (name, report["measurements"])


def test_a_loss_gradient_divided_wrong_is_named_at_its_line(tmp_path):
    for name, text, right, wrong in (
        ("packaged.py", PACKAGED, "    grad = probs / m\n", "    grad = probs\n"),
        ("inline.py", INLINE, "    dS /= N\n", "    dS /= N * N\n"),
    ):
        folder = _packaged(tmp_path / "a") if name == "packaged.py" else tmp_path / "b"
        path = planted(folder, name, text, right, wrong)
        report = check(path, training=True)
        assert report["root_cause"] is not None, (name, report["findings"])
        root = report["findings"][report["root_cause"]]
        assert root["line"] == line_of(path, wrong.strip()), (name, errors(report))
