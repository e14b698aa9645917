"""A backward pass that makes a gradient on one line and applies the ReLU's mask on the next
(`dh = dout @ W2.T`, then `dh[h <= 0] = 0`, the cs231n case study's way).

The replay measures an adjoint where its value is complete, after the last statement that changes it,
and the finding named that statement: the mask. Setting to zero the entries where the ReLU's output
is not positive is right whatever the other entries hold, so a gradient wrong after the mask was
already wrong before it; the finding names the line that made it (here a dropout mask the forward
function applies and the backward pass leaves out). A mask of the positive entries is no ReLU's and
stays named itself. The programs are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

np.random.seed(3)
X = np.random.randn(80, 5)
t = np.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3]
W1 = 0.5 * np.random.randn(5, 24)
b1 = np.zeros((1, 24))
W2 = 0.5 * np.random.randn(24, 1)
b2 = np.zeros((1, 1))
keep = 0.8
rate = 0.05


def run(X, train):
    h = np.maximum(0, X.dot(W1) + b1)
    mask = (np.random.rand(*h.shape) < keep) / keep if train else np.ones_like(h)
    h_kept = h * mask
    out = h_kept.dot(W2) + b2
    return h, mask, h_kept, out


for step in range(300):
    h, mask, h_kept, out = run(X, train=True)
    loss = 0.5 * np.mean(np.sum((out - t) ** 2, axis=1))
    dout = (out - t) / X.shape[0]
    dW2 = h_kept.T.dot(dout)
    db2 = np.sum(dout, axis=0, keepdims=True)
    dh = dout.dot(W2.T) * mask
    dh[h <= 0] = 0
    dW1 = X.T.dot(dh)
    db1 = np.sum(dh, axis=0, keepdims=True)
    W1 -= rate * dW1
    b1 -= rate * db1
    W2 -= rate * dW2
    b2 -= rate * db2
    if step % 50 == 0:
        print(step, loss)
'''

RIGHT = "dh = dout.dot(W2.T) * mask"
LEFT_OUT = "dh = dout.dot(W2.T)"


def test_a_gradient_wrong_before_the_relu_mask_is_named_where_it_is_made(tmp_path):
    path = planted(tmp_path, "dropout_net.py", PROGRAM, RIGHT, LEFT_OUT)
    report = check(path)
    wrong = [f for f in errors(report) if f["code"] == "BPD108"]
    assert wrong, report["findings"]
    made, masked = line_of(path, LEFT_OUT), line_of(path, "dh[h <= 0] = 0")
    assert wrong[0]["line"] == made, wrong[0]
    assert {made, masked} <= set(wrong[0]["highlight"])
    assert f"line {masked} only sets it to zero where `h` is not positive, the ReLU's mask: it is already wrong after line {made}" in wrong[0]["message"]


def test_a_mask_of_the_positive_entries_is_named_itself(tmp_path):
    path = planted(tmp_path, "dropout_net.py", PROGRAM, "dh[h <= 0] = 0", "dh[h > 0] = 0")
    report = check(path)
    wrong = [f for f in errors(report) if f["code"] == "BPD108"]
    assert wrong, report["findings"]
    assert wrong[0]["line"] == line_of(path, "dh[h > 0] = 0"), wrong[0]


def test_the_right_program_has_no_error(tmp_path):
    path = planted(tmp_path, "dropout_net.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert not errors(report), errors(report)
