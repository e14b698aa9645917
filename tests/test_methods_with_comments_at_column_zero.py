"""Methods whose bodies hold a line commented out at column 0 (re-typed book code does this: the
editor's "comment line" puts `#` before the indentation). Their source still parses once dedented, so
a network whose `__init__` has such a line is read like any other, and nothing raises."""

from tests.userfiles import check, errors, planted, write

NETWORK = """
    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.params = [W, b]
            self.grads = [np.zeros_like(W), np.zeros_like(b)]

        def forward(self, x):
            W, b = self.params
            self.x = x
            return x @ W + b

        def backward(self, dout):
            W, b = self.params
            self.grads[0][...] = self.x.T @ dout
            self.grads[1][...] = dout.sum(axis=0)
            return dout @ W.T


    class Sigmoid:
        def __init__(self):
            self.params, self.grads = [], []

        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * (1.0 - self.out) * self.out


    class SoftmaxWithLoss:
        def __init__(self):
            self.params, self.grads = [], []

        def forward(self, x, t):
            x = x - x.max(axis=1, keepdims=True)
            self.y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
            self.t = t
            return -np.log(self.y[np.arange(len(t)), t]).mean()

        def backward(self, dout=1):
            dx = self.y.copy()
            dx[np.arange(len(self.t)), self.t] -= 1
            return dx * dout / len(self.t)


    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size):
            I, H, O = input_size, hidden_size, output_size
            W1 = 0.01 * np.random.randn(I, H)
            b1 = np.zeros(H)
    #        W1 = np.random.randn(I, H) / np.sqrt(I)
            W2 = 0.01 * np.random.randn(H, O)
            b2 = np.zeros(O)
            self.layers = [Affine(W1, b1), Sigmoid(), Affine(W2, b2)]
            self.loss_layer = SoftmaxWithLoss()
            self.params, self.grads = [], []
            for layer in self.layers:
                self.params += layer.params
                self.grads += layer.grads

        def predict(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def forward(self, x, t):
            return self.loss_layer.forward(self.predict(x), t)

        def backward(self, dout=1):
            dout = self.loss_layer.backward(dout)
            for layer in reversed(self.layers):
                dout = layer.backward(dout)
            return dout
"""


def test_a_network_with_a_line_commented_at_column_zero_is_checked(tmp_path):
    report = check(write(tmp_path, "two_layer_net.py", NETWORK))
    assert errors(report) == [], errors(report)
    assert any(m["layer"] == "TwoLayerNet" for m in report["measurements"]), report["measurements"]


def test_a_wrong_layer_inside_it_is_still_found(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "return dout * (1.0 - self.out) * self.out", "return dout * (1.0 - self.out)")
    assert any(f["code"] == "BPD101" for f in errors(check(path)))


def test_the_source_of_such_a_method_parses():
    from backprop_doctor.static.methods import parse_function, self_calls

    source = (
        "    def __init__(self, sizes):\n"
        "        self.layers = [\n"
        "            Affine(sizes[0], sizes[1]),\n"
        "#            Relu(),\n"
        "        ]\n"
        "        self.reset()\n"
    )
    node = parse_function(source)
    assert node is not None and node.name == "__init__"
    assert self_calls(node) == ["reset"]
    assert self_calls(None) == []
