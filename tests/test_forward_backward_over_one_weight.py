"""A forward and a backward function handed one weight matrix (no parameter dictionary), beside a loss
of the prediction: a skip-gram's `forward_propagation(x_batch, weights)` / `back_propagation(y_batch,
probs, weights, x_batch)` returning `(d_weights, d_embeddings)` with a sample per row, its training
function never called; and a softmax classifier's `forward_pass(X, W)` / `backward_pass(X, Y, A, W)`
returning `dW` alone with a sample per column. The weight's gradient is checked against the file's
loss and a wrong one named at its line; the correct twins are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SKIP_GRAM = """\
    import numpy as np


    def forward_propagation(x_batch, weights):
        z = x_batch @ weights
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


    def back_propagation(y_batch, probs, weights, x_batch):
        d_z = (probs - y_batch) / len(x_batch)
        d_weights = x_batch.T @ d_z
        d_embeddings = d_z @ weights.T
        return d_weights, d_embeddings


    def calculate_loss(probs, y):
        return -np.sum(y * np.log(probs)) / len(y)


    def train(pairs, vocab_size, dim=8, epochs=5, lr=0.5, batch=16):
        emb = np.random.randn(vocab_size, dim) * 0.1
        weights = np.random.randn(dim, vocab_size) * 0.1
        for epoch in range(epochs):
            for start in range(0, len(pairs), batch):
                centre, context = pairs[start:start + batch, 0], pairs[start:start + batch, 1]
                x_batch = emb[centre]
                y_batch = np.eye(vocab_size)[context]
                probs = forward_propagation(x_batch, weights)
                loss = calculate_loss(probs, y_batch)
                d_weights, d_emb = back_propagation(y_batch, probs, weights, x_batch)
                weights -= lr * d_weights
                np.add.at(emb, centre, -lr * d_emb)
        return emb
"""

COLUMNS = """\
    import numpy as np


    def forward_pass(X, W):
        Z = W @ X
        Z = Z - Z.max(axis=0, keepdims=True)
        return np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)


    def cross_entropy_loss(A, Y):
        m = Y.shape[1]
        return -np.sum(Y * np.log(A)) / m


    def backward_pass(X, Y, A, W):
        m = X.shape[1]
        dZ = A - Y
        dW = dZ @ X.T / m
        return dW


    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        X = rng.standard_normal((3, 50))
        Y = np.eye(4)[rng.integers(0, 4, 50)].T
        W = rng.standard_normal((4, 3)) * 0.01
        for i in range(200):
            A = forward_pass(X, W)
            W -= 0.5 * backward_pass(X, Y, A, W)
        print(cross_entropy_loss(forward_pass(X, W), Y))
"""


def measured(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if "/" in m["layer"]}


def wrong(report: dict) -> set[tuple[str, int]]:
    return {(f["param"], f["line"]) for f in errors(report) if f["code"] == "BPD101"}


def test_a_skip_gram_pair_over_one_matrix_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "skipgram.py", SKIP_GRAM))
    assert errors(report) == [], errors(report)
    assert measured(report) == {"weights": "ok"}, report["built"]


def test_a_skip_gram_gradient_not_averaged_over_the_batch_is_named(tmp_path):
    path = planted(tmp_path, "skipgram.py", SKIP_GRAM, "d_z = (probs - y_batch) / len(x_batch)", "d_z = probs - y_batch  # BUG: a sum")
    report = check(path)
    assert wrong(report) == {("weights", line_of(path, "d_z = probs - y_batch"))}, errors(report)  # the planted line itself
    assert "batch size" in errors(report)[0]["message"]


def test_a_column_major_classifier_returning_its_gradient_alone_is_clean(tmp_path):
    report = check(write(tmp_path, "classifier.py", COLUMNS))
    assert errors(report) == [], errors(report)
    assert measured(report) == {"W": "ok"}, report["built"]


def test_a_classifier_gradient_of_the_wrong_sign_is_named(tmp_path):
    path = planted(tmp_path, "classifier.py", COLUMNS, "dZ = A - Y", "dZ = Y - A  # BUG: sign")
    report = check(path)
    lines = {line for _, line in wrong(report)}
    assert {param for param, _ in wrong(report)} == {"W"}, errors(report)
    assert lines <= {line_of(path, "# BUG"), line_of(path, "dW = dZ @ X.T / m")}, errors(report)
