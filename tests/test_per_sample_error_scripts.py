"""Scripts that train on one sample at a time and compute no loss, only the error of that sample.

`delta = pred - goals[i]` is the gradient of the squared error of sample `i`: the replay measures
the update against the loss that error implies, so such a script is checked rather than
"nothing to check"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SGD = '''\
import numpy as np

X = np.array([
    [0.85, 0.65, 1.2],
    [0.95, 0.80, 1.3],
    [0.99, 0.80, 0.5],
    [0.90, 0.90, 1.0],
])
goals = np.array([1.0, 1.0, 0.0, 1.0])
weights_0_1 = np.array([[0.1, -0.4], [0.2, 0.1], [-0.1, -0.3]])
weights_1_2 = np.array([0.3, -0.2])
lr = 0.05

for epoch in range(20):
    for i in range(len(X)):
        h = np.maximum(0, X[i] @ weights_0_1)
        pred = h @ weights_1_2
        delta = pred - goals[i]
        layer_1_delta = delta * weights_1_2 * (h > 0)
        weights_1_2 = weights_1_2 - lr * delta * h
        weights_0_1 = weights_0_1 - lr * np.outer(X[i], layer_1_delta)
    print(epoch, np.sum((np.maximum(0, X @ weights_0_1) @ weights_1_2 - goals) ** 2))
'''


def test_a_correct_per_sample_script_is_checked_against_the_error_it_starts_from(tmp_path):
    path = write(tmp_path, "sgd.py", SGD)
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "0.5·Σ(pred − goals[i])²"
    assert {p["name"] for p in step["parameters"]} == {"weights_1_2", "weights_0_1"}
    assert all(not p["wrong"] for p in step["parameters"])


def test_a_hidden_delta_without_the_relu_mask_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "sgd.py", SGD, "layer_1_delta = delta * weights_1_2 * (h > 0)", "layer_1_delta = delta * weights_1_2")
    found = errors(check(path))
    assert found, "the missing ReLU mask went unnoticed"
    assert {f["line"] for f in found} == {line_of(path, "layer_1_delta = delta * weights_1_2")}


SYNAPSES = '''\
import numpy as np

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
y = np.array([[0, 1, 1, 0]]).T
np.random.seed(1)
syn0 = 2 * np.random.random((3, 4)) - 1
syn1 = 2 * np.random.random((4, 1)) - 1
for j in range(2000):
    l1 = 1 / (1 + np.exp(-(np.dot(X, syn0))))
    l2 = 1 / (1 + np.exp(-(np.dot(l1, syn1))))
    l2_delta = (y - l2) * (l2 * (1 - l2))
    l1_delta = l2_delta.dot(syn1.T) * (l1 * (1 - l1))
    syn1 += l1.T.dot(l2_delta)
    syn0 += X.T.dot(l1_delta)
'''


def test_synapse_matrices_trained_by_deltas_are_replayed(tmp_path):
    """`syn0`, `syn1`: the names of the eleven-line network that many first programs copy."""
    path = write(tmp_path, "xor.py", SYNAPSES)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"syn0", "syn1"}


def test_a_hidden_delta_without_its_sigmoid_derivative_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "xor.py", SYNAPSES, "l1_delta = l2_delta.dot(syn1.T) * (l1 * (1 - l1))", "l1_delta = l2_delta.dot(syn1.T)")
    found = errors(check(path))
    assert {f["line"] for f in found} == {line_of(path, "l1_delta = l2_delta.dot(syn1.T)")}
