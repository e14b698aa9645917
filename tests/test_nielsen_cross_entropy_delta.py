"""A Nielsen-style network whose output delta is `a - y`, with no cost object or cost derivative.

`delta = a - y` at a sigmoid output is the cross-entropy's gradient with respect to the output
layer's weighted input (network2.py's `CrossEntropyCost.delta`); the quadratic cost would need
`(a - y) * a * (1 - a)`. A network that says nothing else about its cost (its loss method only
returns `a - y` when asked for a derivative) is checked against the cross-entropy then, so its
right gradients are not called wrong; a mistake in a hidden layer is still found.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = """\
    import numpy as np

    class Network:
        def __init__(self, sizes):
            self.sizes = sizes
            self.weights = [np.random.randn(k, j) for j, k in zip(sizes[:-1], sizes[1:])]
            self.biases = [np.random.randn(k, 1) for k in sizes[1:]]

        def sigmoid(self, z, prime=False):
            s = 1.0 / (1.0 + np.exp(-z))
            return s * (1 - s) if prime else s

        def feedforward(self, a):
            for w, b in zip(self.weights, self.biases):
                a = self.sigmoid(w @ a + b)
            return a

        def error(self, y, a, prime=False):
            if prime:
                return a - y
            return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))

        def backprop(self, x, y):
            nabla_w = [np.zeros(w.shape) for w in self.weights]
            nabla_b = [np.zeros(b.shape) for b in self.biases]
            activations, zs, a = [x], [], x
            for w, b in zip(self.weights, self.biases):
                z = w @ a + b
                zs.append(z)
                a = self.sigmoid(z)
                activations.append(a)
            delta = self.error(y, activations[-1], prime=True)
            nabla_b[-1] = delta
            nabla_w[-1] = delta @ activations[-2].T
            for i in range(2, len(self.sizes)):
                delta = (self.weights[-i + 1].T @ delta) * self.sigmoid(zs[-i], prime=True)
                nabla_b[-i] = delta
                nabla_w[-i] = delta @ activations[-i - 1].T
            return nabla_b, nabla_w
"""


def test_an_output_delta_of_a_minus_y_is_checked_against_the_cross_entropy(tmp_path):
    report = check(write(tmp_path, "network.py", NETWORK))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "Network"]
    assert "cross-entropy cost (your output delta is a − y)" in built["shapes"]


def test_a_hidden_delta_without_the_sigmoid_slope_is_still_found(tmp_path):
    path = planted(tmp_path, "network.py", NETWORK, "@ delta) * self.sigmoid(zs[-i], prime=True)", "@ delta)")
    found = errors(check(path))
    # the bias's delta is found where it is computed; the weights' where their own gradient is
    assert {(f["param"], f["line"]) for f in found} == {
        ("biases[0]", line_of(path, "delta = (self.weights[-i + 1].T @ delta)")),
        ("weights[0]", line_of(path, "nabla_w[-i] = delta")),
    }


def test_an_output_delta_with_its_sign_flipped_is_not_taken_for_a_cross_entropy(tmp_path):
    path = planted(tmp_path, "network.py", NETWORK, "            return a - y", "            return y - a")
    found = errors(check(path))
    assert {"weights[1]", "biases[1]"} <= {f["param"] for f in found}


def test_when_every_layer_is_wrong_the_root_is_the_layer_nearest_the_output(tmp_path):
    """A wrong output delta makes every earlier layer's gradient wrong too: the root cause is the last
    layer's, at the line that makes the output delta, not the first layer's."""
    path = planted(tmp_path, "network.py", NETWORK, "            return a - y", "            return 2 * (a - y) * a")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["param"] in ("weights[1]", "biases[1]")
    assert root["line"] in (line_of(path, "delta = self.error(y, activations[-1], prime=True)"), line_of(path, "nabla_b[-1] = delta"), line_of(path, "nabla_w[-1] = delta @ activations[-2].T"))
    assert {"weights[0]", "biases[0]"} <= {f["param"] for f in errors(report)}
