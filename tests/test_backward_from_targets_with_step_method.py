"""A model whose `backward(targets)` starts from the targets and the output its forward kept, keeps
its gradients as attributes, and whose `step(lr)` applies them; the script computes its loss only to
print it now and then. No loss is computed every pass, and the model has no `loss` method: the
training step is checked against the losses its output error implies (`(self.out - targets) / n`
is the gradient of a mean binary cross-entropy), not left as "nothing was checked".
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

SCRIPT = '''\
import numpy as np


class Classifier:
    def __init__(self, n_in, n_hid, seed=5):
        rng = np.random.default_rng(seed)
        self.U = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hid))
        self.u = np.zeros(n_hid)
        self.V = rng.normal(0, 1 / np.sqrt(n_hid), (n_hid, 1))
        self.v = np.zeros(1)

    def forward(self, inputs):
        self.inputs = inputs
        self.hidden = np.tanh(inputs @ self.U + self.u)
        self.out = 1 / (1 + np.exp(-(self.hidden @ self.V + self.v)))
        return self.out

    def backward(self, targets):
        n = len(targets)
        g_out = (self.out - targets) / n
        self.gV = self.hidden.T @ g_out
        self.gv = g_out.sum(axis=0)
        g_hid = g_out @ self.V.T * (1 - self.hidden ** 2)
        self.gU = self.inputs.T @ g_hid
        self.gu = g_hid.sum(axis=0)

    def step(self, lr):
        self.U -= lr * self.gU
        self.u -= lr * self.gu
        self.V -= lr * self.gV
        self.v -= lr * self.gv


def log_loss(p, t):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


rng = np.random.default_rng(1)
X = rng.normal(size=(120, 3))
T = (np.sum(X ** 2, axis=1, keepdims=True) > 3).astype(float)
clf = Classifier(3, 10)
for epoch in range(400):
    P = clf.forward(X)
    clf.backward(T)
    clf.step(lr=0.8)
    if epoch % 100 == 0:
        print(epoch, log_loss(P, T))
'''


def test_the_correct_model_is_checked_through_its_implied_loss(tmp_path):
    report = check(planted(tmp_path, "clf.py", SCRIPT, "(1 - self.hidden ** 2)", "(1 - self.hidden ** 2)"))
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert set(verdicts) == {"clf.U", "clf.u", "clf.V", "clf.v"} and set(verdicts.values()) == {"ok"}, verdicts


def test_a_wrong_derivative_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "clf.py", SCRIPT, "(1 - self.hidden ** 2)", "self.hidden * (1 - self.hidden)")
    report = check(path)
    lines = {f["line"] for f in errors(report)}
    assert lines == {line_of(path, "g_hid = g_out @ self.V.T")}, errors(report)
