"""A minibatch loop that computes no loss, inside an epoch loop that computes the program's cost once a
pass (on the whole data set): the step's loss is that cost, computed on the step's minibatch. Without
it, the replay measured the updates against the losses the output error implies, and a quadratic
cost's delta missing the sigmoid's slope (`a2 - yb`, a cross-entropy's) fitted one of them."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(21)
X = rng.uniform(0, 1, (300, 6))
Y = np.column_stack([(X[:, 0] + X[:, 1] > 1.0), (X[:, 2] * X[:, 3] > 0.25)]).astype(float)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def quadratic_cost(W1, b1, W2, b2, inputs, targets):
    out = sigmoid(sigmoid(inputs @ W1 + b1) @ W2 + b2)
    return 0.5 * np.sum((out - targets) ** 2) / len(inputs)


W1 = rng.normal(0, 1 / np.sqrt(6), (6, 10))
b1 = np.zeros(10)
W2 = rng.normal(0, 1 / np.sqrt(10), (10, 2))
b2 = np.zeros(2)
eta, batch = 3.0, 20
for epoch in range(30):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch):
        xb = X[order[start:start + batch]]
        yb = Y[order[start:start + batch]]
        z1 = xb @ W1 + b1
        a1 = sigmoid(z1)
        z2 = a1 @ W2 + b2
        a2 = sigmoid(z2)
        delta2 = (a2 - yb) * sigmoid_prime(z2)
        delta1 = (delta2 @ W2.T) * sigmoid_prime(z1)
        W2 -= eta / len(xb) * (a1.T @ delta2)
        b2 -= eta / len(xb) * delta2.sum(axis=0)
        W1 -= eta / len(xb) * (xb.T @ delta1)
        b1 -= eta / len(xb) * delta1.sum(axis=0)
    cost = quadratic_cost(W1, b1, W2, b2, X, Y)
    print("epoch", epoch, "cost", round(cost, 4))
"""

RIGHT = "delta2 = (a2 - yb) * sigmoid_prime(z2)"


def test_the_correct_loop_is_clean_and_measured_against_the_epoch_cost(tmp_path):
    path = write(tmp_path, "epochs.py", SCRIPT)
    report = check(path)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["code"] == "BPD108"] == []
    (replay,) = report["extras"]["replay"]
    assert (replay["loss"], replay["loss_line"]) == ("cost", line_of(path, "cost = quadratic_cost"))


def test_a_delta_without_the_sigmoids_slope_is_wrong_for_the_printed_quadratic_cost(tmp_path):
    path = planted(tmp_path, "epochs.py", SCRIPT, RIGHT, "delta2 = (a2 - yb)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "delta2", line_of(path, "delta2 = (a2 - yb)"))
    assert f"not of `cost` (line {line_of(path, 'cost = quadratic_cost')})" in finding["message"]


def test_a_cost_printed_on_held_out_data_is_not_the_steps_loss(tmp_path):
    """The epoch loop's cost on a test set is no loss of the step's batch: the implied losses stay."""
    text = SCRIPT.replace("eta, batch = 3.0, 20\n", "eta, batch = 3.0, 20\nX_test, Y_test = X[:50], Y[:50]\n")
    path = planted(tmp_path, "epochs.py", text.replace("X, Y)\n", "X_test, Y_test)\n"), RIGHT, "delta2 = (a2 - yb)")
    assert errors(check(path)) == []
