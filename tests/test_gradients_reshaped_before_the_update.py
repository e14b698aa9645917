"""A network whose `loss` returns bias gradients with `keepdims=True` ((1, H) for a bias of (H,)) and
whose own `train` flattens them before the update trains right: the shapes differ, the training
does not. The shape is an info there; where the update uses the (1, H) gradient as it is, an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

NETWORK = """\
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=0.1):
        rng = np.random.default_rng(2)
        self.params = {"W1": std * rng.standard_normal((input_size, hidden_size)), "b1": np.zeros(hidden_size),
                       "W2": std * rng.standard_normal((hidden_size, output_size)), "b2": np.zeros(output_size)}

    def loss(self, X, y, reg=0.0):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        hidden = np.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.mean(np.log(probs[np.arange(n), y]))
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        grads = {"W2": hidden.T @ dscores, "b2": np.sum(dscores, axis=0, keepdims=True)}
        dhidden = dscores @ W2.T
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T @ dhidden
        grads["b1"] = np.sum(dhidden, axis=0, keepdims=True)
        return loss, grads

    def train(self, X, y, learning_rate=0.5, num_iters=50):
        for it in range(num_iters):
            loss, grads = self.loss(X, y)
            for key in ("b1", "b2"):
                grads[key] = grads[key].reshape(-1)
            for key in self.params:
                self.params[key] -= learning_rate * grads[key]
        return loss
"""


def _shapes(report: dict) -> dict[str, dict]:
    return {f["param"]: f for f in report["findings"] if f["name"] == "gradient-shape-mismatch"}


def test_bias_gradients_the_training_reshapes_are_an_info_at_their_lines(tmp_path):
    path = write(tmp_path, "neural_net.py", NETWORK)
    report = check(path)
    assert errors(report) == []
    found = _shapes(report)
    assert set(found) == {"b1", "b2"}
    assert {f["severity"] for f in found.values()} == {"info"}
    assert found["b1"]["line"] == line_of(path, 'grads["b1"] = np.sum')
    assert "has shape (1, " in found["b1"]["message"] and "applies it right" in found["b1"]["message"]


def test_the_same_gradients_used_as_they_are_stay_errors(tmp_path):
    unreshaped = NETWORK.replace('            for key in ("b1", "b2"):\n                grads[key] = grads[key].reshape(-1)\n', "")
    report = check(write(tmp_path, "neural_net.py", unreshaped))
    found = _shapes(report)
    assert set(found) == {"b1", "b2"}
    assert {f["severity"] for f in found.values()} == {"error"}
    assert "reshape it to the parameter's shape" in found["b1"]["message"]


def test_a_wrong_weight_gradient_beside_them_is_still_found_at_its_line(tmp_path):
    path = write(tmp_path, "neural_net.py", NETWORK.replace('grads["W1"] = X.T @ dhidden', 'grads["W1"] = 2 * X.T @ dhidden'))
    report = check(path)
    assert any(f["line"] == line_of(path, 'grads["W1"] = 2 * X.T') for f in errors(report))
