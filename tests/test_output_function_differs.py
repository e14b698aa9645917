"""A network without layer objects whose loss reads `predict` and whose `gradient` runs the forward
pass again by hand: when the two end in different output functions, every gradient is off for that
one reason, and the report names both lines. A gradient wrong in such a network is never blamed on
"the layers' backward passes", which it does not have."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NET = '''\
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=1, keepdims=True)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.1):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        h = sigmoid(x @ self.params["W1"] + self.params["b1"])
        y = softmax(h @ self.params["W2"] + self.params["b2"])
        return y

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        p = self.params
        n = x.shape[0]
        z1 = sigmoid(x @ p["W1"] + p["b1"])
        y = softmax(z1 @ p["W2"] + p["b2"])
        dy = (y - t) / n
        grads = {"W2": z1.T @ dy, "b2": dy.sum(axis=0)}
        dz1 = (dy @ p["W2"].T) * z1 * (1 - z1)
        grads["W1"] = x.T @ dz1
        grads["b1"] = dz1.sum(axis=0)
        return grads


np.random.seed(0)
net = TwoLayerNet(6, 5, 3)
x = np.random.randn(8, 6)
t = np.eye(3)[np.random.randint(0, 3, 8)]
for step in range(50):
    grads = net.gradient(x, t)
    for k in net.params:
        net.params[k] -= 0.5 * grads[k]
print(net.loss(x, t))
'''

SOFTMAX_END = 'y = softmax(h @ self.params["W2"] + self.params["b2"])'
SIGMOID_END = 'y = sigmoid(h @ self.params["W2"] + self.params["b2"])'


def test_the_network_whose_two_passes_agree_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "net.py", NET))) == []


def test_a_predict_that_ends_in_another_output_function_is_named_once_with_both_lines(tmp_path):
    path = planted(tmp_path, "net.py", NET, SOFTMAX_END, SIGMOID_END)
    (finding,) = errors(check(path))
    assert (finding["name"], finding["pattern"]) == ("gradient-mismatch", "output-function-differs")
    gradient_output = line_of(path, 'y = softmax(z1 @ p["W2"]')
    assert finding["line"] == gradient_output
    assert set(finding["highlight"]) == {line_of(path, SIGMOID_END), gradient_output, line_of(path, "dy = (y - t) / n")}
    assert "for a softmax output" in finding["message"] and "ends in a sigmoid" in finding["message"]
    assert "(`W1`, `W2`, `b1`, `b2`)" in finding["message"]


def test_a_wrong_gradient_of_a_network_without_layers_is_not_blamed_on_layers(tmp_path):
    path = planted(tmp_path, "net.py", NET, "dz1 = (dy @ p[\"W2\"].T) * z1 * (1 - z1)", "dz1 = (dy @ p[\"W2\"].T) * z1")
    found = errors(check(path))
    assert {f["param"] for f in found if f["layer"] == "TwoLayerNet"} >= {"W1"}
    for finding in found:
        assert "layers' backward passes" not in finding["message"]
    assert any("the network computes it itself, with no layers" in f["message"] for f in found)
