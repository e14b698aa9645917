"""One activation object listed twice in a network's layers (`act2 = act1`, or `relu` named twice in
the list): the second forward overwrites the mask the first kept, so the first use's backward masks
with the second use's. Named at the line that binds the second name (or at the list), in the file
that builds the network, also when the network and its layers live in modules of a package beside
the training script. Two objects, or an activation that keeps nothing, are not named."""

from __future__ import annotations

import textwrap

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
    import numpy as np


    class Linear:
        def __init__(self, n_in, n_out, rng):
            self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T


    class ReLU:
        def forward(self, x):
            self.mask = x > 0
            return x * self.mask

        def backward(self, dout):
            return dout * self.mask


    class Tanh:  # keeps nothing: its backward takes the output it is handed back
        def forward(self, x):
            return np.tanh(x)


    class SoftmaxCrossEntropy:
        def forward(self, scores, y):
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            self.p = e / e.sum(axis=1, keepdims=True)
            self.y = y
            return -np.mean(np.log(self.p[np.arange(len(y)), y]))

        def backward(self):
            d = self.p.copy()
            d[np.arange(len(self.y)), self.y] -= 1
            return d / len(self.y)
"""

NET = """\
    class Net:
        def __init__(self, n_in, n_hidden, n_out, rng):
            act1 = ReLU()
            act2 = ReLU()
            self.layers = [Linear(n_in, n_hidden, rng), act1, Linear(n_hidden, n_hidden, rng), act2, Linear(n_hidden, n_out, rng)]
            self.loss_fn = SoftmaxCrossEntropy()

        def loss(self, x, y):
            for layer in self.layers:
                x = layer.forward(x)
            return self.loss_fn.forward(x, y)

        def backward(self):
            g = self.loss_fn.backward()
            for layer in reversed(self.layers):
                g = layer.backward(g)

        def step(self, lr):
            for layer in self.layers:
                if isinstance(layer, Linear):
                    layer.W -= lr * layer.dW
                    layer.b -= lr * layer.db
"""

TRAIN = """\
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = Net(2, 12, 2, rng)
    for epoch in range(200):
        loss = net.loss(X, y)
        net.backward()
        net.step(0.3)
    print(loss)
"""

ONE_FILE = textwrap.dedent(LAYERS) + "\n\n" + textwrap.dedent(NET) + "\n\n" + textwrap.dedent(TRAIN)


def _shared(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "shared-layer"]


def test_a_second_name_bound_to_the_same_relu_is_named_at_that_line(tmp_path):
    path = planted(tmp_path, "net.py", ONE_FILE, "act2 = ReLU()", "act2 = act1")
    (found,) = _shared(check(path))
    assert (found["code"], found["severity"], found["line"]) == ("BPD402", "error", line_of(path, "act2 = act1"))
    assert "`act1` and `act2` are one `ReLU` object" in found["message"]
    assert f"put in the list at line {line_of(path, 'self.layers = [')} twice" in found["message"]
    assert found["fix"] == "act2 = ReLU()"


def test_one_name_listed_twice_is_named_at_the_list(tmp_path):
    text = ONE_FILE.replace("act1 = ReLU()\n        act2 = ReLU()\n", "relu = ReLU()\n").replace("act1", "relu").replace("act2", "relu")
    path = write(tmp_path, "net.py", text)
    (found,) = _shared(check(path))
    assert found["line"] == line_of(path, "self.layers = [")
    assert "`relu` is one `ReLU` object" in found["message"]


def test_two_objects_are_not_named_and_the_network_is_clean(tmp_path):
    report = check(write(tmp_path, "net.py", ONE_FILE))
    assert _shared(report) == [] and errors(report) == []


def test_an_activation_that_keeps_nothing_may_be_listed_twice(tmp_path):
    text = ONE_FILE.replace("act1 = ReLU()\n        act2 = ReLU()\n", "act1 = Tanh()\n        act2 = act1\n")
    assert text != ONE_FILE
    assert _shared(check(write(tmp_path, "net.py", text))) == []


def test_in_a_package_the_finding_is_in_the_networks_module(tmp_path):
    package = tmp_path / "mini"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(textwrap.dedent(LAYERS))
    net = "from .layers import Linear, ReLU, SoftmaxCrossEntropy\n\n\n" + textwrap.dedent(NET).replace("act2 = ReLU()", "act2 = act1")
    (package / "net.py").write_text(net)
    train = "import numpy as np\n\nfrom .net import Net\n\n\ndef main():\n" + textwrap.indent(textwrap.dedent(TRAIN), "    ") + "\n\nmain()\n"
    path = write(package, "train.py", train)
    (found,) = _shared(check(path))
    assert found["file"].endswith("net.py") and found["line"] == line_of(package / "net.py", "act2 = act1")
