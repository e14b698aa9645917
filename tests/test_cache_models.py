"""A whole model whose forward returns `(scores, cache)` and whose backward returns `(loss, grads)`.

A course's three-layer classifier keeps its weights in `self.params`, hands its cache from
`forward(X)` to `backward(logits, labels, cache, reg)`, and computes the softmax cross-entropy
and the L2 penalty there. It is checked as the loss that backward returns, as a function of
`self.params`, built small whatever its default sizes; its forward's tuple is not a bad return.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

MODEL = """\
    import numpy as np

    class MLP:
        def __init__(self, input_dim=3072, hidden_dim=128, output_dim=10):
            self.params = {
                "W1": np.random.randn(input_dim, hidden_dim) * np.sqrt(2.0 / input_dim),
                "b1": np.zeros((1, hidden_dim)),
                "W2": np.random.randn(hidden_dim, output_dim) * np.sqrt(2.0 / hidden_dim),
                "b2": np.zeros((1, output_dim)),
            }

        def forward(self, X):
            Z1 = X @ self.params["W1"] + self.params["b1"]
            A1 = np.tanh(Z1)
            Z2 = A1 @ self.params["W2"] + self.params["b2"]
            return Z2, (X, Z1, A1)

        def backward(self, logits, labels, cache, reg):
            X, Z1, A1 = cache
            m = X.shape[0]
            shifted = logits - logits.max(axis=1, keepdims=True)
            probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            loss = -np.mean(np.log(probs[np.arange(m), labels]))
            loss += 0.5 * reg * (np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))
            dZ2 = probs.copy()
            dZ2[np.arange(m), labels] -= 1
            dZ2 /= m
            dW2 = A1.T @ dZ2 + reg * self.params["W2"]
            db2 = dZ2.sum(axis=0, keepdims=True)
            dZ1 = (dZ2 @ self.params["W2"].T) * (1 - A1 ** 2)
            dW1 = X.T @ dZ1 + reg * self.params["W1"]
            db1 = dZ1.sum(axis=0, keepdims=True)
            return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
"""


def test_the_model_is_checked_as_the_loss_its_backward_returns(tmp_path):
    report = check(write(tmp_path, "model.py", MODEL))
    assert errors(report) == []
    assert {(m["param"], m["verdict"]) for m in report["measurements"] if m["layer"] == "MLP"} == {
        ("W1", "ok"), ("b1", "ok"), ("W2", "ok"), ("b2", "ok"),
    }  # fmt: skip
    (built,) = [b for b in report["built"] if b["what"] == "MLP"]
    assert built["shapes"] == "x (6, 5), integer labels (6,), reg 0.1"  # built small: 5 inputs, not 3072


def test_a_penalty_the_gradient_forgets_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "model.py", MODEL, 'dW1 = X.T @ dZ1 + reg * self.params["W1"]', "dW1 = X.T @ dZ1")
    (error,) = errors(check(path))
    assert (error["name"], error["param"], error["line"]) == ("gradient-mismatch", "W1", line_of(path, "dW1 = X.T @ dZ1"))


def test_a_wrong_tanh_derivative_is_the_hidden_layers(tmp_path):
    path = planted(tmp_path, "model.py", MODEL, "* (1 - A1 ** 2)", "* (1 - A1)")
    found = errors(check(path))
    assert {f["param"] for f in found} == {"W1", "b1"}
