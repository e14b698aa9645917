"""An activation's derivative computed and never used: the factor a gradient leaves out.

A student writes `slope = sigmoid_grad(a1)` and then `da1 = dz1`, forgetting to multiply: the gradient
check sees a wrong gradient of `W1`, and the report names the unused value, where it was computed,
and the line that must use it, instead of "re-derive it".
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

NETWORK = """
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)


def cross_entropy_error(y, t):
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        a1 = np.dot(x, self.params['W1']) + self.params['b1']
        z1 = sigmoid(a1)
        a2 = np.dot(z1, self.params['W2']) + self.params['b2']
        return softmax(a2)

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def gradient(self, x, t):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        grads = {}
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        dy = (y - t) / batch_num
        grads['W2'] = np.dot(z1.T, dy)
        grads['b2'] = np.sum(dy, axis=0)
        dz1 = np.dot(dy, W2.T)
        slope = sigmoid_grad(a1)
        da1 = dz1 * slope
        grads['W1'] = np.dot(x.T, da1)
        grads['b1'] = np.sum(da1, axis=0)
        return grads


if __name__ == "__main__":
    np.random.seed(0)
    x = np.random.randn(100, 20)
    t = np.eye(5)[np.random.randint(5, size=100)]
    net = TwoLayerNet(20, 10, 5, weight_init_std=1.0)
    for i in range(50):
        grad = net.gradient(x, t)
        for key in ('W1', 'b1', 'W2', 'b2'):
            net.params[key] -= 0.1 * grad[key]
"""

USED = "da1 = dz1 * slope"


def test_the_network_that_uses_its_slope_gets_no_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "two_layer_net.py", NETWORK, USED, USED)
    assert errors(check(path)) == []


def test_the_slope_left_unused_is_named_at_the_line_that_must_use_it(tmp_path: Path) -> None:
    path = planted(tmp_path, "two_layer_net.py", NETWORK, USED, "da1 = dz1")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["param"], root["pattern"]) == ("BPD101", "W1", "missing-activation-derivative")
    assert root["line"] == line_of(path, "da1 = dz1")
    assert (
        f"`slope = sigmoid_grad(a1)` (line {line_of(path, 'slope = sigmoid_grad(a1)')}) is computed and never used, "
        f"so the activation's derivative is left out of line {root['line']}: multiply the gradient there by `slope`"
    ) in root["message"]


def test_a_slope_applied_inline_as_well_is_not_called_left_out(tmp_path: Path) -> None:
    """The same derivative written again in the statement (`dz1 * sigmoid_grad(a1)`) is not missing: a
    gradient wrong for another reason (`W2` where `W2.T` belongs) keeps its own advice."""
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "dz1 = np.dot(dy, W2.T)", "dz1 = np.dot(dy, W2[:, ::-1].T)")
    path.write_text(path.read_text(encoding="utf-8").replace(USED, "da1 = dz1 * sigmoid_grad(a1)"), encoding="utf-8")
    found = errors(check(path))
    assert found and all(f["pattern"] != "missing-activation-derivative" for f in found)
    assert all("never used" not in f["message"] for f in found)
