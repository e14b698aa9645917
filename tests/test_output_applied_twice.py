"""Softmax (or sigmoid) applied to what is already its output in the forward pass: the loss is computed
from the function applied twice while the gradient (`p - onehot`) is through one. The replay finds the
updates wrong; the finding names the line that applies it again, and the one that already did.

A class whose one method returns the cost and the gradients (`cost, g_w, g_o = self.cost_and_grads(...)`)
has its wrong gradients reported: no inference mode can set a loss apart from gradients the same call
computes (a loss method beside a gradient method may, and stays silent).
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

CLASSIFIER = '''\
import numpy as np

gen = np.random.default_rng(8)
centers = np.array([[0.0, 2.0, -1.0], [2.0, -1.0, 0.5], [-2.0, -1.0, 1.0], [0.5, 0.5, -2.0]])
inputs = np.concatenate([gen.normal(c, 0.7, size=(40, 3)) for c in centers])
kinds = np.repeat(np.arange(4), 40)


def softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    ea = np.exp(a)
    return ea / ea.sum(axis=1, keepdims=True)


class Classifier:
    def __init__(self, d, k):
        self.weights = gen.normal(size=(d, k)) * 0.01
        self.offset = np.zeros(k)

    def class_probs(self, data):
        return softmax(data @ self.weights + self.offset)

    def cost_and_grads(self, data, kinds):
        count = data.shape[0]
        p = self.class_probs(data)
        cost = -np.mean(np.log(p[np.arange(count), kinds]))
        g = p.copy()
        g[np.arange(count), kinds] -= 1.0
        g = g / count
        return cost, data.T @ g, g.sum(axis=0)

    def train(self, data, kinds, rate=0.3, rounds=200):
        for r in range(rounds):
            cost, g_w, g_o = self.cost_and_grads(data, kinds)
            self.weights -= rate * g_w
            self.offset -= rate * g_o
            if r % 50 == 0:
                print(r, cost)


Classifier(3, 4).train(inputs, kinds)
'''

BINARY = '''\
import numpy as np

gen = np.random.default_rng(21)
pts = gen.normal(size=(120, 2))
lab = (pts[:, 0] * pts[:, 1] > 0).astype(float)[:, None]


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


w_in = gen.normal(size=(2, 8))
c_in = np.zeros((1, 8))
w_out = gen.normal(size=(8, 1))
c_out = np.zeros((1, 1))
for it in range(400):
    hid = np.tanh(pts @ w_in + c_in)
    z = hid @ w_out + c_out
    s = sigmoid(z)
    out = s
    cost = -np.mean(lab * np.log(out) + (1 - lab) * np.log(1 - out))
    dz = (out - lab) / len(pts)
    dw_out = hid.T @ dz
    dc_out = dz.sum(axis=0, keepdims=True)
    dhid = dz @ w_out.T * (1 - hid ** 2)
    dw_in = pts.T @ dhid
    dc_in = dhid.sum(axis=0, keepdims=True)
    w_in -= 0.5 * dw_in
    c_in -= 0.5 * dc_in
    w_out -= 0.5 * dw_out
    c_out -= 0.5 * dc_out
    if it % 100 == 0:
        print(it, cost)
'''


def test_softmax_of_a_method_returning_softmax_is_named_at_the_second_application(tmp_path):
    path = planted(tmp_path, "cls.py", CLASSIFIER, "        p = self.class_probs(data)\n", "        p = softmax(self.class_probs(data))\n")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["name"], finding["line"]) == ("BPD113", "step-output-applied-twice", line_of(path, "p = softmax(self.class_probs(data))"))
    assert finding["highlight"] == sorted([line_of(path, "return softmax(data @ self.weights + self.offset)"), finding["line"]])
    assert "already softmax's output" in finding["message"] and finding["fix"] == "p = self.class_probs(data)"


def test_sigmoid_of_a_name_bound_to_sigmoid_in_a_script_loop(tmp_path):
    path = planted(tmp_path, "sig.py", BINARY, "    out = s\n", "    out = sigmoid(s)\n")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD113", line_of(path, "out = sigmoid(s)"))
    assert "`s`, which is already sigmoid's output (line %d)" % line_of(path, "s = sigmoid(z)") in finding["message"]


def test_the_correct_programs_stay_clean(tmp_path):
    for name, text in (("cls.py", CLASSIFIER), ("sig.py", BINARY)):
        assert errors(check(write(tmp_path, name, text))) == [], name


def test_a_wrong_gradient_of_a_method_returning_cost_and_gradients_is_reported(tmp_path):
    path = planted(tmp_path, "cls.py", CLASSIFIER, "return cost, data.T @ g, g.sum(axis=0)", "return cost, data.T @ p, g.sum(axis=0)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"]) == ("BPD108", "self.weights")
