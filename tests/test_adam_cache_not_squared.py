"""An Adam step whose second moment averages the gradient itself, not its square
(`cache = b2 * cache + (1 - b2) * g`): the average goes negative where the gradient is, the square root of
its corrected value is NaN, and the loss stops being a number. The first NaN is made at the update's
`np.sqrt`, but the mistake is the average's line: `step-non-finite` follows what the square root reads back
through the assignments before it (the bias-corrected copy) to that average and names it, in nnfs's
`Optimizer_Adam.update_params(layer)` and in a script's loop over a dict of parameters. The correct
programs are clean.
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


class Optimizer_Adam:
    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (1.0 / (1.0 + self.decay * self.iterations))

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_momentums = self.beta_1 * layer.weight_momentums + (1 - self.beta_1) * layer.dweights
        layer.bias_momentums = self.beta_1 * layer.bias_momentums + (1 - self.beta_1) * layer.dbiases
        weight_momentums_corrected = layer.weight_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        bias_momentums_corrected = layer.bias_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        layer.weight_cache = self.beta_2 * layer.weight_cache + (1 - self.beta_2) * layer.dweights ** 2
        layer.bias_cache = self.beta_2 * layer.bias_cache + (1 - self.beta_2) * layer.dbiases ** 2
        weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
        bias_cache_corrected = layer.bias_cache / (1 - self.beta_2 ** (self.iterations + 1))
        layer.weights += -self.current_learning_rate * weight_momentums_corrected / (np.sqrt(weight_cache_corrected) + self.epsilon)
        layer.biases += -self.current_learning_rate * bias_momentums_corrected / (np.sqrt(bias_cache_corrected) + self.epsilon)

    def post_update_params(self):
        self.iterations += 1


X, y = spiral_data(samples=100, classes=3)
dense1 = Layer_Dense(2, 64)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(64, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
optimizer = Optimizer_Adam(learning_rate=0.02, decay=1e-5)

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

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(7)
xs = rng.normal(size=(300, 5))
ys = (xs[:, 0] - 2 * xs[:, 1] * xs[:, 2] + 0.3 * rng.normal(size=300))[:, None]
params = {
    "W1": rng.normal(0, 1 / np.sqrt(5), (5, 24)),
    "b1": np.zeros(24),
    "W2": rng.normal(0, 1 / np.sqrt(24), (24, 1)),
    "b2": np.zeros(1),
}
m = {k: np.zeros_like(v) for k, v in params.items()}
s = {k: np.zeros_like(v) for k, v in params.items()}
alpha, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
t = 0
for epoch in range(400):
    z = xs @ params["W1"] + params["b1"]
    h = np.tanh(z)
    pred = h @ params["W2"] + params["b2"]
    cost = np.mean((pred - ys) ** 2)
    dpred = 2 * (pred - ys) / len(xs)
    grads = {"W2": h.T @ dpred, "b2": dpred.sum(axis=0)}
    dz = (dpred @ params["W2"].T) * (1 - h ** 2)
    grads["W1"] = xs.T @ dz
    grads["b1"] = dz.sum(axis=0)
    t += 1
    for k in params:
        m[k] = beta1 * m[k] + (1 - beta1) * grads[k]
        s[k] = beta2 * s[k] + (1 - beta2) * grads[k] ** 2
        m_hat = m[k] / (1 - beta1 ** t)
        s_hat = s[k] / (1 - beta2 ** t)
        params[k] -= alpha * m_hat / (np.sqrt(s_hat) + eps)
    if epoch % 100 == 0:
        print(epoch, cost)
print("final", cost)
'''


def _non_finite(report: dict) -> dict:
    (finding,) = [f for f in report["findings"] if f["name"] == "step-non-finite"]
    return finding


def test_nnfs_adam_cache_of_the_gradient_itself(tmp_path):
    path = planted(tmp_path, "nnfs.py", NNFS, "(1 - self.beta_2) * layer.dweights ** 2", "(1 - self.beta_2) * layer.dweights")
    report = check(path, training=True)
    finding = _non_finite(report)
    cache = line_of(path, "layer.weight_cache = self.beta_2")
    root = line_of(path, "np.sqrt(weight_cache_corrected)")
    assert (finding["severity"], finding["line"]) == ("error", cache)
    assert finding["highlight"] == [cache, root]
    assert f"line {root}" in finding["message"] and "not of its square" in finding["message"]
    assert errors(report)[0]["name"] == "step-non-finite"


def test_script_adam_second_moment_of_the_gradient_itself(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "(1 - beta2) * grads[k] ** 2", "(1 - beta2) * grads[k]")
    report = check(path, training=True)
    finding = _non_finite(report)
    assert finding["line"] == line_of(path, "s[k] = beta2 * s[k]")
    assert "`s[k]`" in finding["message"] and "not of its square" in finding["message"]


def test_the_correct_adam_steps_are_clean(tmp_path):
    # `beta1` is also a momentum's name: Adam's constant lr * sign(g) under a constant gradient is no momentum not kept
    beta1 = NNFS.replace("beta_1", "beta1").replace("beta_2", "beta2")
    for name, text in (("nnfs.py", NNFS), ("script.py", SCRIPT), ("beta1.py", beta1)):
        report = check(write(tmp_path, name, text), training=True)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], name
