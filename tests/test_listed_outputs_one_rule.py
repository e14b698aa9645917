"""Which local lists hold an activation's outputs, read one way by the step replay (`sigmoid_prime(acts[k])`
on a line the training step runs) and by the network check (`derivative_given_output`): every value
appended is that activation's output, a name read where it was assigned (`h = np.tanh(z) if ... else z`,
then `post.append(h)`), a conditional append at its activation's branch, the network's input (`post = [X]`
or `post.append(X)`) no layer's; a list that is also handed pre-activations (`cache.append(z)`,
`cache.append(a)`) is no list of outputs. Each buggy program is named at its call, its correct twin clean."""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

# a script whose lists are appended names: `h` is the tanh's output on the hidden layers, the input first
SCRIPT = """\
    import numpy as np

    def tanh_deriv(v):
        t = np.tanh(v)
        return 1 - t ** 2

    rng = np.random.default_rng(8)
    X = rng.standard_normal((64, 3))
    Y = np.sin(X[:, :1] + X[:, 1:2])
    Ws = [rng.standard_normal((3, 10)) * 0.5, rng.standard_normal((10, 10)) * 0.3, rng.standard_normal((10, 1)) * 0.3]

    for it in range(300):
        pre, post = [], []
        h = X
        post.append(h)
        for i, W in enumerate(Ws):
            z = h @ W
            pre.append(z)
            h = np.tanh(z) if i < len(Ws) - 1 else z
            post.append(h)
        loss = 0.5 * np.mean((post[-1] - Y) ** 2)
        g = (post[-1] - Y) / len(X)
        grads = [None] * len(Ws)
        for i in range(len(Ws) - 1, -1, -1):
            grads[i] = post[i].T @ g
            if i > 0:
                g = (g @ Ws[i].T) * tanh_deriv(pre[i - 1])
        for i in range(len(Ws)):
            Ws[i] -= 0.1 * grads[i]
        if it % 100 == 0:
            print(it, loss)
"""

# a class network whose list of outputs is appended a conditional value: sigmoid on the hidden layers,
# the linear output last
CONDITIONAL = """\
    import numpy as np

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def sigmoid_prime(z):
        return sigmoid(z) * (1 - sigmoid(z))

    def softmax(z):
        e = np.exp(z - z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    class Network:
        def __init__(self, sizes):
            rng = np.random.default_rng(2)
            self.num_layers = len(sizes)
            self.weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
            self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]

        def feedforward(self, a):
            for i, (w, b) in enumerate(zip(self.weights, self.biases)):
                z = w @ a + b
                a = sigmoid(z) if i < len(self.weights) - 1 else z
            return a

        def backprop(self, x, y):
            nabla_b = [np.zeros(b.shape) for b in self.biases]
            nabla_w = [np.zeros(w.shape) for w in self.weights]
            activations = [x]
            zs = []
            for i, (w, b) in enumerate(zip(self.weights, self.biases)):
                z = w @ activations[-1] + b
                zs.append(z)
                activations.append(sigmoid(z) if i < len(self.weights) - 1 else z)
            delta = activations[-1] - y
            nabla_b[-1] = delta
            nabla_w[-1] = delta @ activations[-2].T
            for l in range(2, self.num_layers):
                sp = sigmoid_prime(zs[-l])
                delta = (self.weights[-l + 1].T @ delta) * sp
                nabla_b[-l] = delta
                nabla_w[-l] = delta @ activations[-l - 1].T
            return nabla_b, nabla_w

        def cost(self, x, y):
            return 0.5 * np.sum((self.feedforward(x) - y) ** 2)

    net = Network([4, 7, 5, 3])
"""

# one list holding both sides, `z` then `a` for each layer: `sigmoid_prime(cache[-2 * l - 2])` reads a `z`
MIXED = """\
    import numpy as np

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def sigmoid_prime(z):
        return sigmoid(z) * (1 - sigmoid(z))

    class Network:
        def __init__(self, sizes):
            rng = np.random.default_rng(2)
            self.num_layers = len(sizes)
            self.weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
            self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]

        def feedforward(self, a):
            for w, b in zip(self.weights, self.biases):
                a = sigmoid(w @ a + b)
            return a

        def backprop(self, x, y):
            nabla_b = [np.zeros(b.shape) for b in self.biases]
            nabla_w = [np.zeros(w.shape) for w in self.weights]
            cache = []
            a = x
            for w, b in zip(self.weights, self.biases):
                z = w @ a + b
                cache.append(z)
                a = sigmoid(z)
                cache.append(a)
            delta = (cache[-1] - y) * sigmoid_prime(cache[-2])
            for l in range(1, self.num_layers):
                nabla_b[-l] = delta
                before = cache[-2 * l - 1] if 2 * l < len(cache) else x
                nabla_w[-l] = delta @ before.T
                if l < self.num_layers - 1:
                    delta = (self.weights[-l].T @ delta) * sigmoid_prime(cache[-2 * l - 2])
            return nabla_b, nabla_w

        def cost(self, x, y):
            return 0.5 * np.sum((self.feedforward(x) - y) ** 2)

    net = Network([4, 7, 5, 3])
"""


def _head(report: dict) -> dict:
    return report["findings"][report["root_cause"]]


def test_a_script_appending_named_outputs_is_named_at_the_call(tmp_path):
    wrong = "tanh_deriv(post[i])"
    path = planted(tmp_path, "train.py", SCRIPT, "tanh_deriv(pre[i - 1])", wrong)
    head = _head(check(path))
    assert head["severity"] == "error" and head["line"] == line_of(path, wrong), head
    assert f"`{wrong}`" in head["message"] and "1 - post[i] ** 2" in head["message"], head["message"]


def test_the_script_with_the_pre_activations_is_clean(tmp_path):
    report = check(planted(tmp_path, "train.py", SCRIPT, "tanh_deriv(pre[i - 1])", "tanh_deriv(pre[i - 1])"))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]


def test_a_conditional_append_of_outputs_is_named_at_the_call(tmp_path):
    wrong = "sigmoid_prime(activations[-l])"
    path = planted(tmp_path, "net.py", CONDITIONAL, "sigmoid_prime(zs[-l])", wrong)
    report = check(path)
    found = errors(report)
    assert found and all(f["line"] == line_of(path, wrong) for f in found), found
    assert all(f"`{wrong}`" in f["message"] and "pre-activation" in f["message"] and "`zs`" in f["message"] for f in found), found


def test_the_conditional_network_with_the_pre_activations_is_clean(tmp_path):
    report = check(planted(tmp_path, "net.py", CONDITIONAL, "sigmoid_prime(zs[-l])", "sigmoid_prime(zs[-l])"))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]


def test_a_list_of_both_sides_is_not_blamed_for_another_lines_error(tmp_path):
    """The output layer's delta multiplies by the sigmoid itself, not its slope: every gradient is wrong, and the
    correct `sigmoid_prime(cache[-2 * l - 2])` of the hidden layers, on a pre-activation, is not the cause."""
    path = planted(tmp_path, "net.py", MIXED, "(cache[-1] - y) * sigmoid_prime(cache[-2])", "(cache[-1] - y) * sigmoid(cache[-2])")
    found = errors(check(path))
    assert found, "the wrong delta goes unnoticed"
    assert not any("sigmoid_prime(cache[-2 * l - 2])" in f["message"] for f in found), found
    assert line_of(path, "sigmoid_prime(cache[-2 * l - 2])") not in {f["line"] for f in found if "derivative" in f["message"]}, found


def test_the_list_of_both_sides_is_clean_when_correct(tmp_path):
    report = check(planted(tmp_path, "net.py", MIXED, "sigmoid_prime(cache[-2])", "sigmoid_prime(cache[-2])"))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]
