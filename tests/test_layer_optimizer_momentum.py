"""A momentum optimizer object that steps one layer at a time (`optimizer.update_params(dense1)`), as nnfs's
`Optimizer_SGD` does, or a `Momentum.apply(layer)` keeping its velocity on the layer. Its method sets the
step in branches told apart only when it runs (`if self.momentum: ... else: ...`), or through a local
the replay does not read, so the replay finds the gradients right and the update unjudged. The program's
own optimizer (with its momentum) is run on copies of its layers with one constant gradient:

- the velocity's sign flipped (`v = mu * v + lr * g`, then `w += v`): the first move goes with the gradient,
  an error at the velocity's line;
- the velocity stored under a misspelled name nothing reads (`layer.weight_momentum = ...` beside
  `layer.weight_momentums`): the moves never grow, a warning at that store naming both spellings.

The correct programs are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NNFS = '''\
import numpy as np

np.random.seed(0)


def spiral_data(samples, classes):
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        ix = range(samples * class_number, samples * (class_number + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(class_number * 4, (class_number + 1) * 4, samples) + np.random.randn(samples) * 0.2
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = class_number
    return X, y


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def forward(self, inputs, y_true):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        return np.mean(-np.log(clipped[range(len(clipped)), y_true]))

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class Optimizer_SGD:
    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.momentum = momentum

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (1.0 / (1.0 + self.decay * self.iterations))

    def update_params(self, layer):
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = self.momentum * layer.weight_momentums - self.current_learning_rate * layer.dweights
            layer.weight_momentums = weight_updates
            bias_updates = self.momentum * layer.bias_momentums - self.current_learning_rate * layer.dbiases
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -self.current_learning_rate * layer.dweights
            bias_updates = -self.current_learning_rate * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates

    def post_update_params(self):
        self.iterations += 1


X, y = spiral_data(samples=100, classes=3)
dense1 = Layer_Dense(2, 64)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(64, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
optimizer = Optimizer_SGD(learning_rate=0.1, decay=1e-3, momentum=0.9)

for epoch in range(3001):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    loss = loss_activation.forward(dense2.output, y)
    predictions = np.argmax(loss_activation.output, axis=1)
    accuracy = np.mean(predictions == y)
    if not epoch % 500:
        print(f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f}")
    loss_activation.backward(loss_activation.output, y)
    dense2.backward(loss_activation.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    optimizer.pre_update_params()
    optimizer.update_params(dense1)
    optimizer.update_params(dense2)
    optimizer.post_update_params()
'''

LAYERS = '''\
import numpy as np


class Linear:
    def __init__(self, fan_in, fan_out, rng):
        self.W = rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out))
        self.b = np.zeros(fan_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.gW = self.x.T @ grad
        self.gb = grad.sum(axis=0)
        return grad @ self.W.T


class Momentum:
    def __init__(self, lr, beta=0.9):
        self.lr = lr
        self.beta = beta

    def apply(self, layer):
        if not hasattr(layer, "vel_W"):
            layer.vel_W = np.zeros_like(layer.W)
            layer.vel_b = np.zeros_like(layer.b)
        v = self.beta * layer.vel_W - self.lr * layer.gW
        layer.vel_W = v
        layer.W += v
        layer.vel_b = self.beta * layer.vel_b - self.lr * layer.gb
        layer.b += layer.vel_b


rng = np.random.default_rng(4)
inputs = rng.uniform(-2, 2, size=(256, 2))
targets = (np.sin(inputs[:, :1]) * np.cos(inputs[:, 1:]))
l1, l2 = Linear(2, 32, rng), Linear(32, 1, rng)
opt = Momentum(lr=0.02)
for step in range(800):
    h_pre = l1.forward(inputs)
    h = np.maximum(h_pre, 0)
    out = l2.forward(h)
    mse = np.mean((out - targets) ** 2)
    g = 2 * (out - targets) / len(inputs)
    g = l2.backward(g) * (h_pre > 0)
    l1.backward(g)
    opt.apply(l1)
    opt.apply(l2)
    if step % 200 == 0:
        print(step, mse)
print("final", mse)
'''

NNFS_VELOCITY = "weight_updates = self.momentum * layer.weight_momentums - self.current_learning_rate * layer.dweights"
LAYERS_VELOCITY = "v = self.beta * layer.vel_W - self.lr * layer.gW"


def _named(report: dict, name: str) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == name]


def test_nnfs_optimizer_whose_velocity_climbs(tmp_path):
    path = planted(tmp_path, "nnfs.py", NNFS, NNFS_VELOCITY, NNFS_VELOCITY.replace(" - self.current", " + self.current"))
    report = check(path, training=True)
    (finding,) = _named(report, "update-climbs")
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "weight_updates = self.momentum"))
    assert "`dense1.weights`, `dense2.weights`" in finding["message"] and "momentum 0.9" in finding["message"]
    assert errors(report)[0]["name"] == "update-climbs"


def test_nnfs_optimizer_storing_its_velocity_under_a_misspelled_name(tmp_path):
    path = planted(tmp_path, "nnfs.py", NNFS, "            layer.weight_momentums = weight_updates\n", "            layer.weight_momentum = weight_updates\n")
    report = check(path, training=True)
    (finding,) = _named(report, "momentum-not-kept")
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "layer.weight_momentum = weight_updates"))
    assert "`weight_momentum`, which nothing reads" in finding["message"] and "spell it `weight_momentums`" in finding["message"]
    assert errors(report) == []


def test_layer_momentum_whose_velocity_climbs(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, LAYERS_VELOCITY, LAYERS_VELOCITY.replace(" - self.lr", " + self.lr"))
    report = check(path, training=True)
    (finding,) = _named(report, "update-climbs")
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "v = self.beta * layer.vel_W"))
    assert "`l1.W`, `l2.W`" in finding["message"]
    assert errors(report)[0]["name"] == "update-climbs"


def test_layer_momentum_storing_its_velocity_under_a_misspelled_name(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "        layer.vel_W = v\n", "        layer.vel_w = v\n")
    report = check(path, training=True)
    (finding,) = _named(report, "momentum-not-kept")
    assert finding["line"] == line_of(path, "layer.vel_w = v")
    assert "spell it `vel_W`" in finding["message"]
    assert errors(report) == []


def test_the_correct_optimizers_are_clean(tmp_path):
    for name, text in (("nnfs.py", NNFS), ("layers.py", LAYERS)):
        report = check(write(tmp_path, name, text), training=True)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], name
