"""A softmax over the whole array (`np.exp(z) / np.sum(np.exp(z))`) is right on one sample and wrong
on a batch. When the program's run never calls it (a module of functions, a script that stops
before its network), its calls in the file say which:

- a per-sample loop over column vectors (`X[:, i:i + 1]`, a loss that reshapes its scores to
  `(-1, 1)` first) hands it one sample at a time: nothing to report;
- a loop over the rows of an array (`for x in X`, `X[i] @ W`) hands it a 1-D vector: nothing;
- the same softmax handed the scores of a whole (N, K) batch (`softmax(X @ W + b)` with X the
  caller's batch) is still an error at the reduction.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, write

SOFTMAX = '''\
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def relu_derivative(z):
    return (z > 0).astype(float)


def softmax(z):
    z = z - np.max(z)
    return np.exp(z) / np.sum(np.exp(z))

'''

COLUMNS = SOFTMAX + '''
def cross_entropy(scores, target):
    scores = scores.reshape(-1, 1)
    p = softmax(scores)
    return -np.sum(target.reshape(-1, 1) * np.log(p + 1e-12))


def train_epoch(X, T, model, lr=0.1):
    """X (features, samples), T (classes, samples), model [hidden weights, output weights]: one
    column at a time, gradients averaged."""
    grads = [np.zeros_like(m) for m in model]
    for i in range(X.shape[1]):
        x = X[:, i:i + 1]
        z = model[0].dot(x)
        h = relu(z)
        p = softmax(model[1].dot(h))
        dout = p - T[:, i:i + 1]
        grads[1] += dout.dot(h.T)
        grads[0] += (model[1].T.dot(dout) * relu_derivative(z)).dot(x.T)
    for m, g in zip(model, grads):
        m -= lr * g / X.shape[1]
    return cross_entropy(model[1].dot(relu(model[0].dot(X[:, :1]))), T[:, :1])
'''

VECTORS = SOFTMAX + '''
def predict(X, W1, W2):
    return np.array([softmax(relu(x @ W1) @ W2) for x in X])


def average_loss(X, W, labels):
    total = 0.0
    for i in range(len(X)):
        p = softmax(X[i] @ W)
        total -= np.log(p[labels[i]])
    return total / len(X)


def sgd(X, W, labels, lr=0.1):
    for x, label in zip(X, labels):
        p = softmax(np.dot(x, W))
        p[label] -= 1
        W -= lr * np.outer(x, p)
'''

BATCH = SOFTMAX + '''
def loss_and_grad(X, W, b, labels):
    """X (N, features): the whole batch at once."""
    probs = softmax(relu(X) @ W + b)
    n = X.shape[0]
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, X.T @ dscores / n
'''


def _softmax_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "softmax-not-per-row"]


def test_a_per_sample_loop_over_column_vectors_is_not_a_batch_softmax(tmp_path):
    assert _softmax_findings(check(write(tmp_path, "columns.py", COLUMNS))) == []


def test_one_row_vector_per_call_is_not_a_batch_softmax(tmp_path):
    assert _softmax_findings(check(write(tmp_path, "vectors.py", VECTORS))) == []


def test_the_same_softmax_on_the_callers_batch_is_still_an_error_at_its_sum(tmp_path):
    path = write(tmp_path, "batch.py", BATCH)
    (finding,) = _softmax_findings(check(path))
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "np.sum(np.exp(z))"))


def test_a_batch_call_beside_single_sample_calls_is_still_an_error(tmp_path):
    path = write(tmp_path, "mixed.py", VECTORS + BATCH[len(SOFTMAX):])
    (finding,) = _softmax_findings(check(path))
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "np.sum(np.exp(z))"))


def test_a_batch_the_program_runs_is_still_an_error_though_the_file_also_calls_it_per_sample(tmp_path):
    program = VECTORS + '''
scores = np.random.default_rng(0).normal(size=(8, 3))
print(softmax(scores).sum(axis=1))
'''
    path = write(tmp_path, "ran.py", program)
    (finding,) = _softmax_findings(check(path))
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "np.sum(np.exp(z))"))


def test_the_batch_programs_per_row_twin_is_clean(tmp_path):
    correct = BATCH.replace("np.max(z)", "np.max(z, axis=-1, keepdims=True)").replace("np.sum(np.exp(z))", "np.sum(np.exp(z), axis=-1, keepdims=True)")
    assert _softmax_findings(check(write(tmp_path, "batch_fixed.py", correct))) == []
