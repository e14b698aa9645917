"""A gradient's own L2 term whose factor disagrees with the penalty the loss adds (`2 * reg * W` beside
`0.5 * reg * np.sum(W ** 2)`, or `reg * W` beside `reg * np.sum(W ** 2)`) is a wrong gradient, named at
the term's line: the replayed update follows the loss's gradient plus a multiple of the parameter, yet
that is no weight decay the loss leaves out (`step-penalty-mismatch`), because the loss does hold a
penalty on it, at another strength than the term's. Before, the update was taken for weight decay the
loss leaves out (a warning), and the network's own wrong gradient was judged right in training.

Two styles: a classifier class whose `loss` method returns (loss, grads) with the strength an attribute
(`self.lam`), and a script whose function returns the loss and the gradients, the strength a module
setting and the term added on its own line (`dW1 += 2 * wd * W1`). Correct twins are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

CLASSIFIER = '''\
import numpy as np


class ScoreNet:
    def __init__(self, n_in, n_hidden, n_out, lam=0.0, seed=0):
        r = np.random.default_rng(seed)
        self.lam = lam
        self.params = {
            "W_in": 0.3 * r.standard_normal((n_in, n_hidden)),
            "b_in": np.zeros(n_hidden),
            "W_out": 0.3 * r.standard_normal((n_hidden, n_out)),
            "b_out": np.zeros(n_out),
        }

    def loss(self, X, y):
        W_in, b_in = self.params["W_in"], self.params["b_in"]
        W_out, b_out = self.params["W_out"], self.params["b_out"]
        hid = np.tanh(X @ W_in + b_in)
        scores = hid @ W_out + b_out
        scores = scores - scores.max(axis=1, keepdims=True)
        prob = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        m = X.shape[0]
        data = -np.log(prob[np.arange(m), y]).mean()
        loss = data + 0.5 * self.lam * np.sum(W_in ** 2) + 0.5 * self.lam * np.sum(W_out ** 2)
        dscores = prob.copy()
        dscores[np.arange(m), y] -= 1
        dscores /= m
        grads = {}
        grads["W_out"] = hid.T @ dscores + self.lam * W_out
        grads["b_out"] = dscores.sum(axis=0)
        dhid = dscores @ W_out.T * (1 - hid ** 2)
        grads["W_in"] = X.T @ dhid + self.lam * W_in
        grads["b_in"] = dhid.sum(axis=0)
        return loss, grads


rng = np.random.default_rng(5)
X = rng.standard_normal((150, 4))
y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
net = ScoreNet(4, 12, 3, lam=0.05)
for i in range(150):
    batch = rng.integers(0, 150, 32)
    loss, grads = net.loss(X[batch], y[batch])
    for name in net.params:
        net.params[name] -= 0.3 * grads[name]
print(loss)
'''

CLASS_TERM = 'grads["W_in"] = X.T @ dhid + self.lam * W_in'
CLASS_DOUBLED = 'grads["W_in"] = X.T @ dhid + 2 * self.lam * W_in'

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(12)
X = rng.uniform(-1, 1, size=(100, 3))
T = np.sin(X.sum(axis=1, keepdims=True))
wd = 0.02


def loss_and_gradients(W1, c1, W2, c2):
    z = X @ W1 + c1
    a = np.maximum(z, 0)
    out = a @ W2 + c2
    r = out - T
    loss = np.mean(r ** 2) + 0.5 * wd * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dout = 2 * r / len(X)
    dW2 = a.T @ dout
    dW2 += wd * W2
    dc2 = dout.sum(axis=0)
    dz = (dout @ W2.T) * (z > 0)
    dW1 = X.T @ dz
    dW1 += wd * W1
    dc1 = dz.sum(axis=0)
    return loss, dW1, dc1, dW2, dc2


W1 = 0.5 * rng.normal(size=(3, 10))
c1 = 0.1 * np.ones(10)
W2 = 0.5 * rng.normal(size=(10, 1))
c2 = np.zeros(1)
for epoch in range(200):
    loss, dW1, dc1, dW2, dc2 = loss_and_gradients(W1, c1, W2, c2)
    W1 -= 0.1 * dW1
    c1 -= 0.1 * dc1
    W2 -= 0.1 * dW2
    c2 -= 0.1 * dc2
print(loss)
'''

SCRIPT_TERM = "dW1 += wd * W1"
SCRIPT_DOUBLED = "dW1 += 2 * wd * W1"


def _factor_finding(report: dict) -> dict:
    found = [f for f in errors(report) if f["pattern"] == "penalty-factor"]
    assert len(found) == 1, report["findings"]
    assert not [f for f in report["findings"] if f["code"] == "BPD109"], report["findings"]
    return found[0]


def test_the_correct_classifier_is_clean(tmp_path):
    report = check(planted(tmp_path, "scorenet.py", CLASSIFIER, CLASS_TERM, CLASS_TERM))
    assert report["findings"] == []


def test_a_doubled_term_in_the_classifier_is_a_wrong_gradient_at_its_line(tmp_path):
    path = planted(tmp_path, "scorenet.py", CLASSIFIER, CLASS_TERM, CLASS_DOUBLED)
    report = check(path)
    finding = _factor_finding(report)
    assert finding["line"] == line_of(path, CLASS_DOUBLED)
    assert "write `self.lam * W_in`" in finding["message"]
    # the network's own gradient check is not judged right in training any more
    assert not [f for f in report["findings"] if f["pattern"] == "right-in-training"]


def test_the_correct_script_is_clean(tmp_path):
    report = check(planted(tmp_path, "ridge_relu.py", SCRIPT, SCRIPT_TERM, SCRIPT_TERM))
    assert report["findings"] == []


def test_a_doubled_term_added_on_its_own_line_is_named_there(tmp_path):
    path = planted(tmp_path, "ridge_relu.py", SCRIPT, SCRIPT_TERM, SCRIPT_DOUBLED)
    finding = _factor_finding(check(path))
    assert finding["line"] == line_of(path, SCRIPT_DOUBLED)
    assert "`wd` = 0.02" in finding["message"] and "write `wd * W1`" in finding["message"]


def test_a_halved_term_under_a_penalty_without_its_half_is_named_too(tmp_path):
    # `wd * Σp²` asks for `2 * wd * p`; the correct twin writes it for both weights
    squared = SCRIPT.replace("0.5 * wd * (", "wd * (").replace("dW2 += wd * W2", "dW2 += 2 * wd * W2")
    assert errors(check(planted(tmp_path, "ok.py", squared, SCRIPT_TERM, SCRIPT_DOUBLED))) == []
    path = planted(tmp_path, "halved.py", squared, SCRIPT_TERM, SCRIPT_TERM)
    finding = _factor_finding(check(path))
    assert finding["line"] == line_of(path, SCRIPT_TERM)
    assert "write `2 * wd * W1`" in finding["message"]


def test_weight_decay_the_printed_loss_leaves_out_is_still_a_warning(tmp_path):
    # no penalty in the loss at all: the term is weight decay, the loss watched leaves it out
    unpenalised = SCRIPT.replace(" + 0.5 * wd * (np.sum(W1 ** 2) + np.sum(W2 ** 2))", "")
    report = check(planted(tmp_path, "decay.py", unpenalised, SCRIPT_TERM, SCRIPT_TERM))
    assert errors(report) == []
    assert {f["code"] for f in report["findings"]} == {"BPD109"}
