"""Layer classes whose two methods are spelled otherwise: `feedforward`/`backprop`,
`forwardPass`/`backwardPass(grad, learning_rate)`. They are checked like the book's layers, and
every message names the methods as the file spells them, never a `.backward` the class lacks.
A network's `feedforward(a)`/`backprop(x, y)` (Nielsen's) stays a network, not a layer."""

from __future__ import annotations

from userfiles import check, errors, line_of, planted, write

FEEDFORWARD = """\
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            rng = np.random.default_rng(0)
            self.w = rng.normal(0, 0.3, (n_in, n_out))
            self.b = np.zeros(n_out)

        def feedforward(self, x):
            self.x = x
            return x @ self.w + self.b

        def backprop(self, grad):
            self.dw = self.x.T @ grad
            self.db = grad.sum(axis=0)
            return grad @ self.w.T

    class Tanh:
        def feedforward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backprop(self, grad):
            return grad * (1 - self.y ** 2)

    layers = [Dense(6, 6), Tanh(), Dense(6, 6)]
"""

CAMEL = """\
    import numpy as np

    class Linear:
        def __init__(self, n_in, n_out):
            self.weights = np.random.randn(n_in, n_out) * 0.2
            self.bias = np.zeros((1, n_out))

        def forwardPass(self, inputs):
            self.inputs = inputs
            return inputs @ self.weights + self.bias

        def backwardPass(self, grad, learning_rate):
            d_inputs = grad @ self.weights.T
            self.weights -= learning_rate * self.inputs.T @ grad
            self.bias -= learning_rate * grad.sum(axis=0, keepdims=True)
            return d_inputs

    class Sigmoid:
        def forwardPass(self, inputs):
            self.out = 1 / (1 + np.exp(-inputs))
            return self.out

        def backwardPass(self, grad, learning_rate):
            return grad * self.out * (1 - self.out)
"""


def test_feedforward_backprop_layer_with_a_wrong_dx_is_named_by_its_own_method(tmp_path):
    path = planted(tmp_path, "layers.py", FEEDFORWARD, "return grad @ self.w.T", "return grad @ self.w")
    report = check(path)
    found = errors(report)
    assert found, report["findings"]
    head = report["findings"][report["root_cause"]]
    assert head["layer"] == "Dense" and head["line"] == line_of(path, "return grad @ self.w"), head
    messages = " ".join(f["message"] for f in report["findings"])
    assert "`Dense.backward`" not in messages and "`Dense.forward`" not in messages, messages


def test_feedforward_backprop_layers_written_right_are_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", FEEDFORWARD))
    assert not errors(report), errors(report)
    checked = {m["layer"] for m in report["measurements"]}
    assert {"Dense", "Tanh"} <= checked, checked


def test_camel_case_pass_methods_with_a_learning_rate_find_the_wrong_derivative(tmp_path):
    path = planted(tmp_path, "net.py", CAMEL, "grad * self.out * (1 - self.out)", "grad * self.out * (1 + self.out)")
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["layer"] == "Sigmoid", report["findings"]
    assert head["line"] == line_of(path, "(1 + self.out)"), head
    assert "Sigmoid.backward`" not in " ".join(f["message"] for f in report["findings"])


def test_camel_case_pass_methods_written_right_are_clean(tmp_path):
    report = check(write(tmp_path, "net.py", CAMEL))
    assert not errors(report), errors(report)
    assert {"Linear", "Sigmoid"} <= {m["layer"] for m in report["measurements"]}


def test_a_method_named_backprop_returning_none_on_purpose_is_named_as_written(tmp_path):
    path = write(
        tmp_path,
        "first.py",
        """\
        import numpy as np

        class Scale:
            def __init__(self):
                self.w = np.random.randn(4) * 0.5

            def forward(self, x):
                self.x = x
                return x * self.w

            def backprop(self, grad, learn_rate):
                dw = (grad * self.x).sum(axis=0)
                self.w -= learn_rate * dw
                # the first layer: nothing to hand back
                return None
        """,
    )
    report = check(path)
    words = [f["message"] for f in report["findings"] if f["layer"] == "Scale"]
    assert any("`Scale.backprop`" in m for m in words), report["findings"]
    assert not any("`Scale.backward`" in m for m in words), words


def test_a_network_with_feedforward_and_backprop_of_x_and_y_is_no_layer(tmp_path):
    path = write(
        tmp_path,
        "nielsen_like.py",
        """\
        import numpy as np

        def sigmoid(z):
            return 1.0 / (1.0 + np.exp(-z))

        class Network:
            def __init__(self, sizes):
                rng = np.random.default_rng(1)
                self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
                self.weights = [rng.standard_normal((n, m)) for m, n in zip(sizes[:-1], sizes[1:])]

            def feedforward(self, a):
                for b, w in zip(self.biases, self.weights):
                    a = sigmoid(w @ a + b)
                return a

            def backprop(self, x, y):
                nabla_b = [np.zeros(b.shape) for b in self.biases]
                nabla_w = [np.zeros(w.shape) for w in self.weights]
                activation, activations, zs = x, [x], []
                for b, w in zip(self.biases, self.weights):
                    z = w @ activation + b
                    zs.append(z)
                    activation = sigmoid(z)
                    activations.append(activation)
                delta = (activations[-1] - y) * activations[-1] * (1 - activations[-1])
                nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T
                for l in range(2, len(self.weights) + 1):
                    s = sigmoid(zs[-l])
                    delta = (self.weights[-l + 1].T @ delta) * s * (1 - s)
                    nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
                return nabla_b, nabla_w

        net = Network([3, 4, 2])
        """,
    )
    report = check(path)
    assert not errors(report), errors(report)
    assert all(b["kind"] != "layer" for b in report["built"] if b["what"] == "Network"), report["built"]
    assert report["measurements"], report["findings"]
