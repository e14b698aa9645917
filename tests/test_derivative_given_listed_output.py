"""A derivative helper that applies the activation itself through a local (`s = sigmoid(z)`, then
`return s * (1 - s)`) handed an entry of a list the backward pass fills with the activation's outputs
(`acts.append(sigmoid(z))`): the wrong gradient is named at that call, however far after the line the
gradient check points at; with the pre-activations handed over, clean."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

NETWORK = """\
    import numpy as np

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def sigmoid_prime(z):
        s = sigmoid(z)
        return s * (1.0 - s)

    class Network:
        def __init__(self, sizes):
            rng = np.random.default_rng(5)
            self.weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
            self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]

        def feedforward(self, a):
            for w, b in zip(self.weights, self.biases):
                a = sigmoid(w @ a + b)
            return a

        def backprop(self, x, y):
            grads_b = [None] * len(self.biases)
            grads_w = [None] * len(self.weights)
            outs, zs = [x], []
            for w, b in zip(self.weights, self.biases):
                zs.append(w @ outs[-1] + b)
                outs.append(sigmoid(zs[-1]))
            delta = (outs[-1] - y) * sigmoid_prime(zs[-1])
            for k in range(len(self.weights) - 1, -1, -1):
                grads_b[k] = delta
                grads_w[k] = delta @ outs[k].T
                if k > 0:
                    delta = (self.weights[k].T @ delta) * sigmoid_prime(zs[k - 1])
            return grads_b, grads_w

    net = Network([4, 6, 5, 2])
"""

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
        pre, post = [], [X]
        for i, W in enumerate(Ws):
            pre.append(post[-1] @ W)
            post.append(np.tanh(pre[-1]) if i < len(Ws) - 1 else pre[-1])
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

CASES = [
    pytest.param(NETWORK, "sigmoid_prime(zs[k - 1])", "sigmoid_prime(outs[k])", id="nielsen-style-network"),
    pytest.param(SCRIPT, "tanh_deriv(pre[i - 1])", "tanh_deriv(post[i])", id="script-with-lists-of-layers"),
]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_a_derivative_helper_handed_the_activations_output_is_named_at_the_call(tmp_path, program, correct, wrong):
    path = planted(tmp_path, "net.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["line"] == line_of(path, wrong), report["findings"]
    assert wrong in head["message"] and "pre-activation" in head["message"].replace("input", "pre-activation"), head["message"]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_handed_the_pre_activation_it_is_clean(tmp_path, program, correct, wrong):
    report = check(planted(tmp_path, "net.py", program, correct, correct))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]
