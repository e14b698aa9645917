"""One-hot targets built from labels minus one (`np.eye(k)[labels - 1]`, `T[np.arange(n), y - 1] = 1`)
while the labels the program holds start at 0: label 0 becomes -1, NumPy's last class, and every
sample is trained one class off. `labels-shifted` names the line that builds the targets and the
labels' range. Not reported where the labels really run from 1 (MATLAB-style data), nor on the
correct twin that indexes by the labels themselves. Two styles: a flat script that encodes once
before its loop, and a helper function called on each mini-batch's labels."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

FLAT = '''\
import numpy as np

rng = np.random.default_rng(7)
n, k = 300, 3
centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
labels = rng.integers(0, k, n)
X = centres[labels] + 0.6 * rng.normal(size=(n, 2))
onehot = np.eye(k)[labels]

W = rng.normal(size=(2, k)) * 0.1
b = np.zeros(k)
lr = 0.3
for step in range(200):
    scores = X @ W + b
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(onehot * np.log(probs), axis=1))
    grad = (probs - onehot) / n
    W -= lr * X.T @ grad
    b -= lr * grad.sum(axis=0)
    if step % 50 == 0:
        print(step, loss, np.mean(probs.argmax(axis=1) == labels))
'''

HELPER = '''\
import numpy as np


def one_hot(y, classes):
    T = np.zeros((len(y), classes))
    T[np.arange(len(y)), y] = 1
    return T


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


np.random.seed(3)
N, D, H, C = 400, 4, 16, 4
X = np.random.randn(N, D)
y = np.argmax(X @ np.random.randn(D, C), axis=1)
W1 = np.random.randn(D, H) * 0.3
b1 = np.zeros(H)
W2 = np.random.randn(H, C) * 0.3
b2 = np.zeros(C)
lr = 0.5
for epoch in range(30):
    for i in range(0, N, 50):
        xb, yb = X[i:i + 50], y[i:i + 50]
        T = one_hot(yb, C)
        h = np.tanh(xb @ W1 + b1)
        P = softmax(h @ W2 + b2)
        loss = -np.sum(T * np.log(P)) / len(xb)
        dz = (P - T) / len(xb)
        dW2 = h.T @ dz
        db2 = dz.sum(axis=0)
        dh = dz @ W2.T * (1 - h ** 2)
        dW1 = xb.T @ dh
        db1 = dh.sum(axis=0)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    print(epoch, loss)
'''


def _shifted(report):
    (finding,) = errors(report)
    assert finding["name"] == "labels-shifted" and finding["code"] == "BPD504", finding
    assert "one-hot targets" in finding["message"] and "run from 0 to" in finding["message"], finding["message"]
    assert "-1, which NumPy reads as the last class" in finding["message"], finding["message"]
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)  # the gradients are right: the targets are not
    return finding


def test_flat_targets_indexed_by_the_labels_are_clean(tmp_path):
    report = check(write(tmp_path, "softmax.py", FLAT))
    assert errors(report) == [], errors(report)
    assert step_verdicts(report) == {"W": "ok", "b": "ok"}


def test_flat_eye_indexed_by_labels_minus_one_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "softmax.py", FLAT, "np.eye(k)[labels]", "np.eye(k)[labels - 1]")
    finding = _shifted(check(path))
    assert finding["line"] == line_of(path, "onehot = np.eye(k)[labels - 1]"), finding
    assert "`labels - 1`" in finding["message"] and "run from 0 to 2" in finding["message"], finding["message"]


def test_flat_labels_from_one_shifted_to_rows_are_not_reported(tmp_path):
    # MATLAB-style data: the labels run from 1 to k, and `labels - 1` makes them row numbers
    text = FLAT.replace("rng.integers(0, k, n)", "rng.integers(1, k + 1, n)").replace("centres[labels]", "centres[labels - 1]")
    text = text.replace("np.eye(k)[labels]", "np.eye(k)[labels - 1]").replace("argmax(axis=1) == labels", "argmax(axis=1) + 1 == labels")
    report = check(write(tmp_path, "softmax.py", text))
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["name"] == "labels-shifted"]


def test_helper_filling_ones_at_the_labels_is_clean(tmp_path):
    report = check(write(tmp_path, "net.py", HELPER))
    assert errors(report) == [], errors(report)
    assert set(step_verdicts(report).values()) == {"ok"}


def test_helper_filling_ones_at_labels_minus_one_is_named_in_the_helper(tmp_path):
    path = planted(tmp_path, "net.py", HELPER, "T[np.arange(len(y)), y] = 1", "T[np.arange(len(y)), y - 1] = 1")
    finding = _shifted(check(path))
    assert finding["line"] == line_of(path, "T[np.arange(len(y)), y - 1] = 1"), finding
    assert "`yb`" in finding["message"] and "run from 0 to 3" in finding["message"], finding["message"]


def test_helper_on_labels_that_start_at_one_is_not_reported(tmp_path):
    text = HELPER.replace("T[np.arange(len(y)), y] = 1", "T[np.arange(len(y)), y - 1] = 1")
    text = text.replace("axis=1)\nW1 =", "axis=1) + 1  # labels 1 .. C, as the data set numbers them\nW1 =")
    assert "+ 1  # labels 1" in text
    report = check(write(tmp_path, "net.py", text))
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["name"] == "labels-shifted"]


def test_per_sample_loop_of_labels_minus_one_is_named(tmp_path):
    # the targets filled one sample at a time, `int(y[i]) - 1`, from float labels 0.0 .. 3.0
    text = HELPER.replace(
        "    T[np.arange(len(y)), y] = 1\n", "    for i in range(len(y)):\n        T[i, int(y[i]) - 1] = 1\n"
    ).replace("axis=1)\nW1 =", "axis=1).astype(float)\nW1 =")
    path = write(tmp_path, "net.py", text)
    finding = _shifted(check(path))
    assert finding["line"] == line_of(path, "T[i, int(y[i]) - 1] = 1"), finding


IN_FUNCTION = '''\
import numpy as np


def train(X, y, epochs=100, lr=0.5):
    W = np.random.randn(X.shape[1], y.shape[1]) * 0.1
    for _ in range(epochs):
        S = X @ W
        P = np.exp(S - S.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(y * np.log(P), axis=1))
        W -= lr * X.T @ (P - y) / len(X)
    return W


np.random.seed(0)
y = np.random.randint(1, 4, 150)  # numbered 1 .. 3
X = np.random.randn(150, 2) + y[:, None]
Y = np.eye(3)[y - 1]
W = train(X, Y)
'''


def test_labels_from_one_encoded_before_a_training_function_are_not_reported(tmp_path):
    # the function's own `y` holds the one-hot rows (0 and 1): the labels are the module's `y`
    report = check(write(tmp_path, "train.py", IN_FUNCTION))
    assert errors(report) == [], errors(report)
    assert step_verdicts(report) == {"W": "ok"}


def test_labels_from_zero_encoded_before_a_training_function_are_named(tmp_path):
    path = planted(tmp_path, "train.py", IN_FUNCTION, "np.random.randint(1, 4, 150)  # numbered 1 .. 3", "np.random.randint(0, 3, 150)")
    finding = _shifted(check(path))
    assert finding["line"] == line_of(path, "Y = np.eye(3)[y - 1]"), finding
    assert "`y`" in finding["message"] and "run from 0 to 2" in finding["message"], finding["message"]
