"""A loss that is a mean over every entry of a multi-output prediction (`np.mean(err ** 2)` over rows ×
outputs) with its output gradient divided by the rows alone: every update is as many times too large as
there are outputs. Not a scale the program chose, as a factor of the batch size can be: an error at the
gradient where the factor enters. The same step with the gradient divided by every entry, or with a
loss that sums over the outputs before its mean over the rows, is left alone; so is a cross-entropy
averaged over classes too (a likelihood's scale of its own), which stays the step's scale."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(120, 5))
T = np.column_stack([X[:, 0] * X[:, 1], np.tanh(X[:, 2]), X[:, 3] - X[:, 4], X[:, 0] ** 2])
W1 = rng.normal(scale=0.4, size=(5, 16))
b1 = np.zeros(16)
W2 = rng.normal(scale=0.4, size=(16, 4))
b2 = np.zeros(4)
lr = 0.1
for epoch in range(500):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    diff = out - T
    loss = np.mean(diff ** 2)
    dout = 2 * diff / diff.size
    dW2 = h.T @ dout
    db2 = dout.sum(axis=0)
    dh = dout @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
"""

RIGHT = "dout = 2 * diff / diff.size"
ROWS_ONLY = "dout = 2 * diff / X.shape[0]"

# the parameters in one list, the loss and its gradients returned by one function
LISTED = """\
import numpy as np

gen = np.random.RandomState(11)
m, d, k = 200, 3, 3
inputs = gen.uniform(-1, 1, (m, d))
targets = np.stack([inputs[:, 0] * inputs[:, 2], np.sin(2 * inputs[:, 1]), inputs.sum(axis=1)], axis=1)


def forward_backward(weights, inputs, targets):
    A, a, B, c = weights
    hidden = np.tanh(inputs @ A + a)
    pred = hidden @ B + c
    resid = pred - targets
    cost = 0.5 * np.square(resid).mean()
    dpred = resid / resid.size
    dB = hidden.T @ dpred
    dc = dpred.sum(axis=0)
    dz = (dpred @ B.T) * (1 - hidden ** 2)
    return cost, [inputs.T @ dz, dz.sum(axis=0), dB, dc]


weights = [gen.randn(d, 12) * 0.5, np.zeros(12), gen.randn(12, k) * 0.3, np.zeros(k)]
for it in range(2000):
    cost, grads = forward_backward(weights, inputs, targets)
    weights = [w - 0.3 * g for w, g in zip(weights, grads)]
    if it % 400 == 0:
        print(it, cost)
"""


def test_divided_by_every_entry_is_clean(tmp_path):
    report = check(write(tmp_path, "multi.py", SCRIPT))
    assert errors(report) == []
    assert [f for f in report["findings"] if f["code"] == "BPD108"] == []


def test_divided_by_the_rows_alone_is_an_error_where_the_factor_enters(tmp_path):
    path = planted(tmp_path, "multi.py", SCRIPT, RIGHT, ROWS_ONLY)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"], finding["pattern"]) == ("BPD108", "dout", line_of(path, ROWS_ONLY), "scaled-by-outputs")
    assert finding["message"].startswith(
        f"`dout` (line {line_of(path, ROWS_ONLY)}) is 4 × the gradient of your loss with respect to `out` (4 is the number of outputs): "
        f"`np.mean(diff ** 2)` (line {line_of(path, 'loss = np.mean')}) is a mean over all 480 entries (120 rows × 4 outputs), "
        "while `dout` is divided by the 120 rows alone"
    )
    assert "divide `dout` by the number of entries (480" in finding["message"]


def test_a_loss_summed_over_the_outputs_before_its_mean_is_clean(tmp_path):
    path = planted(tmp_path, "multi.py", planted(tmp_path, "multi.py", SCRIPT, RIGHT, ROWS_ONLY).read_text(), "np.mean(diff ** 2)", "np.mean(np.sum(diff ** 2, axis=1))")
    report = check(path)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["code"] == "BPD108"] == []


def test_the_mean_computed_by_a_loss_function_of_the_file(tmp_path):
    text = SCRIPT.replace("lr = 0.1\n", "lr = 0.1\n\n\ndef mse(pred, target):\n    return ((pred - target) ** 2).mean()\n\n\n")
    path = planted(tmp_path, "multi.py", text.replace("np.mean(diff ** 2)", "mse(out, T)"), RIGHT, ROWS_ONLY)
    (finding,) = errors(check(path))
    assert (finding["line"], finding["pattern"]) == (line_of(path, ROWS_ONLY), "scaled-by-outputs")
    assert f"`mse(out, T)` (line {line_of(path, 'loss = mse')}: `((pred - target) ** 2).mean()`) is a mean over all 480 entries" in finding["message"]


def test_inside_a_function_returning_the_loss_and_a_list_of_gradients(tmp_path):
    path = write(tmp_path, "listed.py", LISTED)
    assert errors(check(path)) == []
    wrong = planted(tmp_path, "listed.py", LISTED, "dpred = resid / resid.size", "dpred = resid / len(inputs)")
    (finding,) = errors(check(wrong))
    assert (finding["param"], finding["line"], finding["pattern"]) == ("dpred", line_of(wrong, "dpred = resid / len"), "scaled-by-outputs")
    assert "(200 rows × 3 outputs)" in finding["message"]


CROSS_ENTROPY = """\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(90, 4))
y = rng.integers(0, 5, 90)
Y = np.eye(5)[y]
W = rng.normal(scale=0.1, size=(4, 5))
b = np.zeros(5)
lr = 0.5
for it in range(300):
    z = X @ W + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(Y * np.log(P))
    dz = (P - Y) / len(X)
    W -= lr * X.T @ dz
    b -= lr * dz.sum(axis=0)
"""


def test_a_cross_entropy_averaged_over_the_classes_too_stays_the_steps_scale(tmp_path):
    report = check(write(tmp_path, "softmax.py", CROSS_ENTROPY))
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["code"] == "BPD108"]
    assert finding["severity"] == "warning" and "as if the learning rate were multiplied by 5" in finding["message"]
