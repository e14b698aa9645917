"""A container handed layer objects (`Sequential(layers=[...])`, or `model.add(Dense(...))`) that
runs them forward in one method and backward, in reverse, in another, checked as one network.

The loss its training step computes is compared with the gradients its own backward leaves in
its layers: a wrong layer backward is found at the layer's line, a wrong container (layers run
backward in the forward order, the gradient not handed on, the step's seed with its sign flipped)
at the container's, and a correct container gets no error. The program's own container is used
when it builds one; a package module that only defines the container gets one built of the layer
classes beside it.
"""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

# A script in the style of a blog's "sequential model": each Dense layer divides its weight
# gradient by the batch, the softmax hands ŷ − y back unchanged, the loss is a mean.
SCRIPT = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            self._w = 0.5 * np.random.randn(n_out, n_in)
            self._b = 0.1 * np.random.randn(1, n_out)

        def forward_pass(self, a_prev, training):
            self._a_prev = np.array(a_prev, copy=True)
            return a_prev @ self._w.T + self._b

        def backward_pass(self, da_curr):
            n = self._a_prev.shape[0]
            self._dw = da_curr.T @ self._a_prev / n
            self._db = np.sum(da_curr, axis=0, keepdims=True) / n
            return da_curr @ self._w


    class Tanh:
        def forward_pass(self, a_prev, training):
            self._out = np.tanh(a_prev)
            return self._out

        def backward_pass(self, da_curr):
            return da_curr * (1.0 - self._out ** 2)


    class Softmax:
        def forward_pass(self, a_prev, training):
            e = np.exp(a_prev - a_prev.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        def backward_pass(self, da_curr):
            return da_curr


    class SGD:
        def __init__(self, lr):
            self.lr = lr

        def update(self, layers):
            for layer in layers:
                if hasattr(layer, "_dw"):
                    layer._w = layer._w - self.lr * layer._dw
                    layer._b = layer._b - self.lr * layer._db


    def cross_entropy(y_hat, y):
        return -np.sum(y * np.log(np.clip(y_hat, 1e-12, 1.0))) / y_hat.shape[0]


    class Sequential:
        def __init__(self, layers, optimizer):
            self._layers = layers
            self._optimizer = optimizer
            self.losses = []

        def train(self, x_train, y_train, epochs, bs=32):
            for epoch in range(epochs):
                for start in range(0, len(x_train), bs):
                    x_batch, y_batch = x_train[start:start + bs], y_train[start:start + bs]
                    y_hat = self._forward(x_batch, training=True)
                    grad = y_hat - y_batch
                    self._backward(grad)
                    self._optimizer.update(self._layers)
                self.losses.append(cross_entropy(self._forward(x_train, training=False), y_train))

        def _forward(self, x, training):
            activation = x
            for layer in self._layers:
                activation = layer.forward_pass(activation, training=training)
            return activation

        def _backward(self, x):
            activation = x
            for layer in reversed(self._layers):
                activation = layer.backward_pass(da_curr=activation)


    np.random.seed(0)
    X = np.random.randn(64, 4)
    Y = np.eye(4)[np.random.randint(0, 4, 64)]
    model = Sequential(layers=[Dense(4, 4), Tanh(), Dense(4, 4), Softmax()], optimizer=SGD(0.1))
    model.train(X, Y, epochs=20)
    print(model.losses[-1])
"""

# A package in the style of a from-scratch library: layers step their weights with a copy of
# the optimizer the network hands them, the loss is an object, and an example script trains it.
LAYERS = """\
    import copy

    import numpy as np


    class Dense:
        def __init__(self, units, input_shape=None):
            self.units, self.input_shape = units, input_shape

        def set_input_shape(self, shape):
            self.input_shape = shape

        def output_shape(self):
            return (self.units,)

        def initialize(self, optimizer):
            limit = 1.0 / np.sqrt(self.input_shape[0])
            self.W = np.random.uniform(-limit, limit, (self.input_shape[0], self.units))
            self.b = np.zeros((1, self.units))
            self.W_opt, self.b_opt = copy.copy(optimizer), copy.copy(optimizer)

        def forward_pass(self, X, training=True):
            self.X = X
            return X @ self.W + self.b

        def backward_pass(self, grad):
            W = self.W
            grad_W = self.X.T @ grad
            grad_b = np.sum(grad, axis=0, keepdims=True)
            self.W = self.W_opt.update(self.W, grad_W)
            self.b = self.b_opt.update(self.b, grad_b)
            return grad @ W.T


    class ReLU:
        def set_input_shape(self, shape):
            self.input_shape = shape

        def output_shape(self):
            return self.input_shape

        def forward_pass(self, X, training=True):
            self.X = X
            return np.maximum(X, 0.0)

        def backward_pass(self, grad):
            return grad * (self.X > 0)


    class Softmax:
        def set_input_shape(self, shape):
            self.input_shape = shape

        def output_shape(self):
            return self.input_shape

        def forward_pass(self, X, training=True):
            e = np.exp(X - X.max(axis=-1, keepdims=True))
            self.p = e / e.sum(axis=-1, keepdims=True)
            return self.p

        def backward_pass(self, grad):
            p = self.p
            return p * (grad - np.sum(grad * p, axis=-1, keepdims=True))
"""

LOSSES = """\
    import numpy as np


    class CrossEntropy:
        def loss(self, y, p):
            p = np.clip(p, 1e-12, 1.0)
            return -y * np.log(p)

        def gradient(self, y, p):
            p = np.clip(p, 1e-12, 1.0)
            return -y / p
"""

OPTIMIZERS = """\
    import numpy as np


    class Momentum:
        def __init__(self, learning_rate=0.05, momentum=0.9):
            self.learning_rate, self.momentum, self.velocity = learning_rate, momentum, None

        def update(self, w, grad_wrt_w):
            if self.velocity is None:
                self.velocity = np.zeros_like(w)
            self.velocity = self.momentum * self.velocity + grad_wrt_w
            return w - self.learning_rate * self.velocity
"""

MODEL = """\
    import numpy as np


    class Network:
        def __init__(self, optimizer, loss):
            self.optimizer = optimizer
            self.loss_function = loss()
            self.layers = []

        def add(self, layer):
            if self.layers:
                layer.set_input_shape(self.layers[-1].output_shape())
            if hasattr(layer, "initialize"):
                layer.initialize(self.optimizer)
            self.layers.append(layer)

        def _forward_pass(self, X, training=True):
            out = X
            for layer in self.layers:
                out = layer.forward_pass(out, training)
            return out

        def _backward_pass(self, loss_grad):
            for layer in reversed(self.layers):
                loss_grad = layer.backward_pass(loss_grad)

        def train_on_batch(self, X, y):
            y_pred = self._forward_pass(X)
            loss = np.mean(self.loss_function.loss(y, y_pred))
            loss_grad = self.loss_function.gradient(y, y_pred)
            self._backward_pass(loss_grad=loss_grad)
            return loss

        def fit(self, X, y, n_epochs, batch_size):
            history = []
            for _ in range(n_epochs):
                for start in range(0, len(X), batch_size):
                    history.append(self.train_on_batch(X[start:start + batch_size], y[start:start + batch_size]))
            return history
"""

EXAMPLE = """\
    import numpy as np

    from tinynet.layers import Dense, ReLU, Softmax
    from tinynet.losses import CrossEntropy
    from tinynet.model import Network
    from tinynet.optimizers import Momentum


    def main():
        np.random.seed(1)
        centers = np.random.randn(3, 5) * 3
        labels = np.random.randint(0, 3, 120)
        X = centers[labels] + np.random.randn(120, 5)
        y = np.eye(3)[labels]
        clf = Network(optimizer=Momentum(0.01), loss=CrossEntropy)
        clf.add(Dense(16, input_shape=(5,)))
        clf.add(ReLU())
        clf.add(Dense(3))
        clf.add(Softmax())
        history = clf.fit(X, y, n_epochs=30, batch_size=32)
        print(history[0], history[-1])


    if __name__ == "__main__":
        main()
"""


def _package(folder: Path, layers: str = LAYERS, model: str = MODEL, losses: str = LOSSES, example: str = EXAMPLE) -> Path:
    """The package `tinynet/` and its example script; the script's path."""
    write(folder, "tinynet/__init__.py", "")
    write(folder, "tinynet/layers.py", layers)
    write(folder, "tinynet/losses.py", losses)
    write(folder, "tinynet/optimizers.py", OPTIMIZERS)
    write(folder, "tinynet/model.py", model)
    return write(folder, "tinynet/examples/classify_blobs.py", example)


def _container(report: dict, name: str) -> dict:
    """The report's row for the container, which was checked."""
    (row,) = [b for b in report["built"] if b["what"] == name]
    assert row["skipped"] is None, row
    return row


def _verdicts(report: dict, name: str) -> dict[str, str]:
    """The container's parameters and the verdict on each."""
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == name}


def _root(report: dict) -> dict:
    """The error the report names as its root cause."""
    assert errors(report), report["findings"]
    return report["findings"][report["root_cause"]]


# --------------------------------------------------------------------------- the script


def test_a_correct_container_in_a_script_gets_no_error(tmp_path):
    report = check(write(tmp_path, "sequential.py", SCRIPT))
    assert errors(report) == []
    assert "loss `cross_entropy`" in _container(report, "Sequential")["shapes"]
    assert _verdicts(report, "Sequential") == {"_layers[0]._w": "ok", "_layers[0]._b": "ok", "_layers[2]._w": "ok", "_layers[2]._b": "ok"}


def test_a_weight_gradient_left_undivided_is_found_at_the_layer_line(tmp_path):
    wrong = "self._dw = da_curr.T @ self._a_prev"
    path = planted(tmp_path, "sequential.py", SCRIPT, "self._dw = da_curr.T @ self._a_prev / n", wrong)
    root = _root(check(path))
    assert (root["name"], root["layer"], root["line"]) == ("gradient-mismatch", "Sequential", line_of(path, wrong))


def test_a_wrong_activation_derivative_is_found_at_its_line(tmp_path):
    wrong = "return da_curr * (1.0 - self._out)"
    path = planted(tmp_path, "sequential.py", SCRIPT, "return da_curr * (1.0 - self._out ** 2)", wrong)
    report = check(path)
    assert {f["line"] for f in errors(report) if f["layer"] == "Sequential"} == {line_of(path, wrong)}


def test_layers_run_backward_in_the_forward_order_are_the_container_line(tmp_path):
    path = planted(tmp_path, "sequential.py", SCRIPT, "for layer in reversed(self._layers):", "for layer in self._layers:")
    report = check(path)
    assert {f["line"] for f in errors(report) if f["layer"] == "Sequential"} == {line_of(path, "activation = layer.backward_pass(da_curr=activation)")}


def test_a_seed_with_its_sign_flipped_is_found_where_the_step_computes_it(tmp_path):
    path = planted(tmp_path, "sequential.py", SCRIPT, "grad = y_hat - y_batch", "grad = y_batch - y_hat")
    report = check(path)
    assert {f["line"] for f in errors(report) if f["layer"] == "Sequential"} == {line_of(path, "grad = y_batch - y_hat")}


# --------------------------------------------------------------------------- the package and its example


def test_a_correct_package_trained_by_its_example_gets_no_error(tmp_path):
    report = check(_package(tmp_path))
    assert errors(report) == []
    assert "loss `loss_function.loss`" in _container(report, "Network")["shapes"]
    assert _verdicts(report, "Network") == {"layers[0].W": "ok", "layers[0].b": "ok", "layers[2].W": "ok", "layers[2].b": "ok"}


def test_a_softmax_derivative_without_its_cross_terms_is_found_at_its_line(tmp_path):
    wrong = "return grad * p * (1 - p)"
    layers = LAYERS.replace("return p * (grad - np.sum(grad * p, axis=-1, keepdims=True))", wrong)
    report = check(_package(tmp_path, layers=layers))
    found = [f for f in errors(report) if f["layer"] == "Network"]
    assert found and {(Path(f["file"]).name, f["line"]) for f in found} == {("layers.py", line_of(tmp_path / "tinynet/layers.py", wrong))}


def test_a_softmax_derivative_that_halves_every_gradient_is_still_the_softmax_line(tmp_path):
    # over two classes under a per-element binary cross-entropy, the diagonal-only derivative is
    # exactly half the right one for every parameter: a factor the seed could have had, but the
    # softmax is the layer whose input gradient is wrong
    wrong = "return grad * p * (1 - p)"
    layers = LAYERS.replace("return p * (grad - np.sum(grad * p, axis=-1, keepdims=True))", wrong)
    binary = LOSSES.replace("return -y * np.log(p)", "return -y * np.log(p) - (1 - y) * np.log(1 - p)").replace(
        "p = np.clip(p, 1e-12, 1.0)", "p = np.clip(p, 1e-12, 1 - 1e-12)").replace("return -y / p", "return -y / p + (1 - y) / (1 - p)")
    two = EXAMPLE.replace("randn(3, 5)", "randn(2, 5)").replace("randint(0, 3, 120)", "randint(0, 2, 120)").replace("np.eye(3)", "np.eye(2)").replace("Dense(3)", "Dense(2)")
    report = check(_package(tmp_path, layers=layers, losses=binary, example=two))
    found = [f for f in errors(report) if f["layer"] == "Network"]
    assert found and {(Path(f["file"]).name, f["line"]) for f in found} == {("layers.py", line_of(tmp_path / "tinynet/layers.py", wrong))}


def test_a_bias_gradient_not_summed_over_the_batch_is_found_at_its_line(tmp_path):
    layers = LAYERS.replace("grad_b = np.sum(grad, axis=0, keepdims=True)", "grad_b = grad")
    report = check(_package(tmp_path, layers=layers))
    found = [f for f in errors(report) if f["layer"] == "Network" and f["param"] == "layers[0].b"]
    assert [(f["name"], f["line"]) for f in found] == [("gradient-shape-mismatch", line_of(tmp_path / "tinynet/layers.py", "grad_b = grad"))]


def test_a_container_whose_layers_run_out_of_order_and_raise_is_its_loop_line(tmp_path):
    model = MODEL.replace("for layer in reversed(self.layers):", "for layer in self.layers:")
    report = check(_package(tmp_path, model=model))
    (raised,) = [f for f in errors(report) if f["layer"] == "Network"]
    assert (raised["name"], Path(raised["file"]).name) == ("layer-raised", "model.py")
    assert raised["line"] == line_of(tmp_path / "tinynet/model.py", "loss_grad = layer.backward_pass(loss_grad)")
    assert "not in the reverse of the forward order" in raised["message"]


def test_a_gradient_not_handed_on_is_the_container_line(tmp_path):
    model = MODEL.replace("loss_grad = layer.backward_pass(loss_grad)", "layer.backward_pass(loss_grad)")
    report = check(_package(tmp_path, model=model))
    (raised,) = [f for f in errors(report) if f["layer"] == "Network"]
    assert raised["line"] == line_of(tmp_path / "tinynet/model.py", "layer.backward_pass(loss_grad)")
    assert "something other than what the layer after it returned" in raised["message"]


def test_the_package_module_alone_gets_a_container_built_of_its_layers(tmp_path):
    _package(tmp_path)
    report = check(tmp_path / "tinynet/model.py")
    assert errors(report) == []
    row = _container(report, "Network")
    assert row["shapes"].startswith("`Network` of Dense(") and "ReLU()" in row["shapes"] and "Softmax()" in row["shapes"]


def test_the_package_module_alone_finds_a_wrong_layer_at_its_line(tmp_path):
    wrong = "return grad * p * (1 - p)"
    _package(tmp_path, layers=LAYERS.replace("return p * (grad - np.sum(grad * p, axis=-1, keepdims=True))", wrong))
    report = check(tmp_path / "tinynet/model.py")
    found = [f for f in errors(report) if f["layer"] == "Network"]
    assert found and {(Path(f["file"]).name, f["line"]) for f in found} == {("layers.py", line_of(tmp_path / "tinynet/layers.py", wrong))}


# --------------------------------------------------------------------------- a container with forward and backward

NAMED = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            self.W = 0.5 * np.random.randn(n_in, n_out)
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, grad):
            self.dW = self.x.T @ grad
            self.db = grad.sum(axis=0)
            return grad @ self.W.T


    class Sigmoid:
        def forward(self, x):
            self.out = 1.0 / (1.0 + np.exp(-x))
            return self.out

        def backward(self, grad):
            return grad * self.out * (1.0 - self.out)


    def mse(prediction, target):
        return 0.5 * np.sum((prediction - target) ** 2)


    class Net:
        def __init__(self, layers, lr=0.5):
            self.layers, self.lr = layers, lr

        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def backward(self, grad):
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
            return grad

        def fit(self, X, Y, epochs):
            for epoch in range(epochs):
                out = self.forward(X)
                loss = mse(out, Y)
                self.backward(out - Y)
                for layer in self.layers:
                    if hasattr(layer, "W"):
                        layer.W -= self.lr * layer.dW
                        layer.b -= self.lr * layer.db
                print(epoch, loss)


    np.random.seed(0)
    X = np.random.randn(20, 3)
    Y = (X[:, :3] > 0).astype(float)
    net = Net([Dense(3, 3), Sigmoid(), Dense(3, 3), Sigmoid()])
    net.fit(X, Y, epochs=5)
"""


def test_a_container_with_forward_and_backward_is_checked_as_a_network_not_a_layer(tmp_path):
    report = check(write(tmp_path, "net.py", NAMED))
    assert errors(report) == []
    assert "loss `mse`" in _container(report, "Net")["shapes"]
    assert _verdicts(report, "Net") == {"layers[0].W": "ok", "layers[0].b": "ok", "layers[2].W": "ok", "layers[2].b": "ok"}


def test_its_layers_run_backward_in_the_forward_order_are_its_loop_line(tmp_path):
    path = planted(tmp_path, "net.py", NAMED, "for layer in reversed(self.layers):", "for layer in self.layers:")
    report = check(path)
    assert {f["line"] for f in errors(report) if f["layer"] == "Net"} == {line_of(path, "grad = layer.backward(grad)")}


def test_a_step_that_runs_one_sample_at_a_time_is_checked_on_one_sample(tmp_path):
    per_sample = NAMED.replace(
        """                out = self.forward(X)
                loss = mse(out, Y)
                self.backward(out - Y)""",
        """                for x, y in zip(X, Y):
                    out = self.forward(x[None, :])
                    loss = mse(out, y[None, :])
                    self.backward(out - y[None, :])""",
    )
    report = check(write(tmp_path, "net.py", per_sample))
    assert errors(report) == []
    assert "x (1, 3)" in _container(report, "Net")["shapes"]  # the first sample: the loss the step's backward is of
    assert set(_verdicts(report, "Net").values()) == {"ok"}


def _stops_before_training(folder: Path, layers: str = LAYERS) -> Path:
    """The package's example, which builds its network and stops on a data file it does not have."""
    path = _package(folder, layers=layers)
    text = path.read_text(encoding="utf-8")
    start, end = text.index("    centers ="), text.index("    clf = Network")
    text = text[:start] + text[end:]
    text = text.replace("history = clf.fit(X, y,", 'data = np.load("blobs.npz")\n    history = clf.fit(data["X"], data["y"],')
    path.write_text(text, encoding="utf-8")
    return path


def test_a_container_the_program_builds_and_never_trains_is_checked_at_its_own_sizes(tmp_path):
    report = check(_stops_before_training(tmp_path))
    assert errors(report) == []
    assert "x (8, 5), t (8, 3)" in _container(report, "Network")["shapes"]


def test_a_container_never_trained_still_finds_a_wrong_layer_at_its_line(tmp_path):
    wrong = "return grad * p * (1 - p)"
    report = check(_stops_before_training(tmp_path, layers=LAYERS.replace("return p * (grad - np.sum(grad * p, axis=-1, keepdims=True))", wrong)))
    found = [f for f in errors(report) if f["layer"] == "Network"]
    assert found and {f["line"] for f in found} == {line_of(tmp_path / "tinynet/layers.py", wrong)}
