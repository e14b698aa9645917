"""A Nielsen network whose loop only reports a cost over the whole training set
(`self.total_cost(training_data)`) while each update follows one minibatch: the reported cost is
replayed on the first minibatch, so a correct network is clean through it, and a backward pass that
starts from the quadratic cost's output error under a cross-entropy cost is named as the gradient
of another loss, at the cost derivative it returns."""

from tests.userfiles import check, errors, line_of, planted, replayed

NETWORK = """
    import random
    import numpy as np


    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))


    def sigmoid_prime(z):
        return sigmoid(z) * (1 - sigmoid(z))


    class Net:
        def __init__(self, sizes):
            self.sizes = sizes
            self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
            self.weights = [np.random.randn(n, m) for m, n in zip(sizes[:-1], sizes[1:])]

        def feedforward(self, a):
            for b, w in zip(self.biases, self.weights):
                a = sigmoid(w @ a + b)
            return a

        def SGD(self, training_data, epochs, size, eta):
            for epoch in range(epochs):
                random.shuffle(training_data)
                batches = [training_data[k:k + size] for k in range(0, len(training_data), size)]
                for batch in batches:
                    self.learn(batch, eta)
                print(epoch, self.total_cost(training_data))

        def learn(self, batch, eta):
            gb = [np.zeros(b.shape) for b in self.biases]
            gw = [np.zeros(w.shape) for w in self.weights]
            for x, y in batch:
                db, dw = self.backprop(x, y)
                gb = [a + b for a, b in zip(gb, db)]
                gw = [a + b for a, b in zip(gw, dw)]
            self.weights = [w - eta / len(batch) * g for w, g in zip(self.weights, gw)]
            self.biases = [b - eta / len(batch) * g for b, g in zip(self.biases, gb)]

        def backprop(self, x, y):
            db = [None] * len(self.biases)
            dw = [None] * len(self.weights)
            activations, zs = [x], []
            for b, w in zip(self.biases, self.weights):
                zs.append(w @ activations[-1] + b)
                activations.append(sigmoid(zs[-1]))
            delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
            db[-1], dw[-1] = delta, delta @ activations[-2].T
            for l in range(2, len(self.sizes)):
                delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
                db[-l], dw[-l] = delta, delta @ activations[-l - 1].T
            return db, dw

        def total_cost(self, data):
            return sum(float(np.sum(-y * np.log(self.feedforward(x)) - (1 - y) * np.log(1 - self.feedforward(x)))) for x, y in data) / len(data)

        def cost_derivative(self, a, y):
            return (a - y) / (a * (1 - a))


    if __name__ == "__main__":
        random.seed(1)
        np.random.seed(1)
        data = [(x, np.array([[float(x[0, 0] > x[1, 0])]])) for x in np.random.rand(60, 2, 1)]
        Net([2, 5, 1]).SGD(data, 5, 10, 1.0)
"""


def test_the_reported_cost_is_replayed_on_the_first_minibatch_and_fits(tmp_path):
    report = check(planted(tmp_path, "net.py", NETWORK, "return (a - y) / (a * (1 - a))", "return (a - y) / (a * (1 - a))"))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "self.total_cost"
    assert step["parameters"] and not any(m["wrong"] for m in step["parameters"]), step["parameters"]


def test_the_quadratic_cost_derivative_under_a_cross_entropy_cost_is_named(tmp_path):
    path = planted(tmp_path, "net.py", NETWORK, "return (a - y) / (a * (1 - a))", "return a - y")
    (found,) = errors(check(path))
    assert (found["code"], found["pattern"]) == ("BPD108", "gradient-of-another-loss")
    assert found["line"] == line_of(path, "return a - y")
    assert line_of(path, "delta = self.cost_derivative(") in found["highlight"]
    assert "quadratic cost" in found["message"] and "`self.total_cost`" in found["message"]


def _regularised(text: str) -> str:
    """network2's L2 form: `(1 - eta * lmbda / n) * w` in the update, `0.5 * lmbda / len(data) * Σ w²` in
    the reported cost, over 400 samples in minibatches of 10."""
    edits = [
        ("def SGD(self, training_data, epochs, size, eta):", "def SGD(self, training_data, epochs, size, eta, lmbda):"),
        ("self.learn(batch, eta)", "self.learn(batch, eta, lmbda, len(training_data))"),
        ("print(epoch, self.total_cost(training_data))", "print(epoch, self.total_cost(training_data, lmbda))"),
        ("def learn(self, batch, eta):", "def learn(self, batch, eta, lmbda, n):"),
        ("self.weights = [w - eta / len(batch) * g for", "self.weights = [(1 - eta * lmbda / n) * w - eta / len(batch) * g for"),
        (
            "def total_cost(self, data):\n            return sum(",
            "def total_cost(self, data, lmbda):\n            penalty = 0.5 * lmbda / len(data) * sum(float(np.sum(w ** 2)) for w in self.weights)\n            return penalty + sum(",
        ),
        ("np.random.rand(60, 2, 1)", "np.random.rand(400, 2, 1)"),
        ("Net([2, 5, 1]).SGD(data, 5, 10, 1.0)", "Net([2, 16, 16, 1]).SGD(data, 30, 10, 3.0, 0.05)"),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_curve_of_a_regularised_cost_is_the_cost_the_program_reports(tmp_path):
    # on the first minibatch, `lmbda / len(data)` weighs the penalty forty times as much as over the
    # 400 samples, and the weights grow as the network learns: that curve rose (a BPD608 error on
    # correct code) while the cost the program prints falls
    path = planted(tmp_path, "net.py", _regularised(NETWORK), "return (a - y) / (a * (1 - a))", "return (a - y) / (a * (1 - a))")
    report = check(path, training=True)
    assert errors(report) == []
    curve = replayed(report)["curve"]
    assert curve[-1] < 0.5 * curve[0]
