"""The *Neural Networks from Scratch* layers beside the per-sample softmax, each with one planted slip, on
spiral data the file makes itself, trained by Adam through `pre_update_params`/`update_params`/
`post_update_params`: each wrong gradient is named at the line that is wrong. A backward that writes its
gradient in several statements (`self.dinputs = dvalues.copy()`, then `self.dinputs[range(samples), y_true]
-= 1`, then `self.dinputs = self.dinputs / samples`) is found wrong at its last one; the statement before it
whose one change makes every compared element agree is named instead, with that change."""

from __future__ import annotations

import textwrap

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = '''\
import numpy as np


def spiral_data(samples, classes):
    rng = np.random.default_rng(0)
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        ix = range(samples * class_number, samples * (class_number + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(class_number * 4, (class_number + 1) * 4, samples) + rng.normal(size=samples) * 0.2
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = class_number
    return X, y


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)
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


class Activation_Softmax:
    def forward(self, inputs):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        probabilities = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        self.output = probabilities

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            single_output = single_output.reshape(-1, 1)
            jacobian_matrix = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)


class Loss:
    def calculate(self, output, y):
        sample_losses = self.forward(output, y)
        data_loss = np.mean(sample_losses)
        return data_loss


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        elif len(y_true.shape) == 2:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        negative_log_likelihoods = -np.log(correct_confidences)
        return negative_log_likelihoods

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])
        if len(y_true.shape) == 1:
            y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues
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


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def __init__(self):
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs, y_true):
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
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
optimizer = Optimizer_Adam(learning_rate=0.05, decay=5e-7)

for epoch in range(10001):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    loss = loss_activation.forward(dense2.output, y)
    predictions = np.argmax(loss_activation.output, axis=1)
    accuracy = np.mean(predictions == y)
    if not epoch % 100:
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

COMBINED = "class Activation_Softmax_Loss_CategoricalCrossentropy:"


def planted_in_combined(tmp_path, correct, wrong):
    """The program with `correct` replaced by `wrong` inside the combined softmax/loss class only."""
    source = textwrap.dedent(PROGRAM)
    head, tail = source.split(COMBINED)
    assert correct in tail, correct
    return write(tmp_path, "nnfs_adam.py", head + COMBINED + tail.replace(correct, wrong, 1))


def _error_of(path, layer):
    found = [f for f in errors(check(path)) if f["layer"] == layer and f["name"] == "gradient-mismatch"]
    assert len(found) == 1, found
    return found[0]


def test_the_book_program_gets_no_error(tmp_path):
    assert errors(check(write(tmp_path, "nnfs_adam.py", PROGRAM))) == []


def test_the_target_added_instead_of_subtracted_is_named_at_its_line(tmp_path):
    wrong = "self.dinputs[range(samples), y_true] += 1"
    path = planted_in_combined(tmp_path, "self.dinputs[range(samples), y_true] -= 1", wrong)
    f = _error_of(path, "Activation_Softmax_Loss_CategoricalCrossentropy")
    assert (f["line"], f["fix"]) == (line_of(path, wrong), "self.dinputs[range(samples), y_true] -= 1")
    assert "before line" in f["message"]


def test_a_division_too_many_in_the_copy_is_named_at_the_copy(tmp_path):
    wrong = "self.dinputs = dvalues.copy() / samples"
    path = planted_in_combined(tmp_path, "self.dinputs = dvalues.copy()", wrong)
    f = _error_of(path, "Activation_Softmax_Loss_CategoricalCrossentropy")
    assert (f["line"], f["fix"]) == (line_of(path, wrong), "self.dinputs = dvalues.copy()")


def test_a_sign_left_out_of_the_loss_gradient_is_named_before_the_division(tmp_path):
    wrong = "self.dinputs = y_true / dvalues"
    path = planted(tmp_path, "nnfs_adam.py", PROGRAM, "self.dinputs = -y_true / dvalues", wrong)
    f = _error_of(path, "Loss_CategoricalCrossentropy")
    assert (f["line"], f["pattern"], f["fix"]) == (line_of(path, wrong), "sign-flipped", "self.dinputs = -y_true / dvalues")


def test_the_division_by_the_samples_left_out_stays_at_its_line(tmp_path):
    wrong = "self.dinputs = self.dinputs * 1"
    path = planted_in_combined(tmp_path, "self.dinputs = self.dinputs / samples", wrong)
    f = _error_of(path, "Activation_Softmax_Loss_CategoricalCrossentropy")
    assert f["line"] == line_of(path, wrong)


def test_the_dense_layers_gradients_are_named_at_their_lines(tmp_path):
    wrong = "self.dweights = np.dot(self.inputs.T, self.output)"
    path = planted(tmp_path, "nnfs_adam.py", PROGRAM, "self.dweights = np.dot(self.inputs.T, dvalues)", wrong)
    f = _error_of(path, "Layer_Dense")
    assert (f["param"], f["line"]) == ("weights", line_of(path, wrong))
    wrong = "self.dinputs = np.dot(dvalues, self.dweights.T)"
    path = planted(tmp_path, "nnfs_adam.py", PROGRAM, "self.dinputs = np.dot(dvalues, self.weights.T)", wrong)
    f = _error_of(path, "Layer_Dense")
    assert (f["param"], f["line"]) == ("x", line_of(path, wrong))


def test_a_mask_taken_from_the_upstream_gradient_is_named_at_the_mask(tmp_path):
    wrong = "self.dinputs[dvalues <= 0] = 0"
    path = planted(tmp_path, "nnfs_adam.py", PROGRAM, "self.dinputs[self.inputs <= 0] = 0", wrong)
    assert _error_of(path, "Activation_ReLU")["line"] == line_of(path, wrong)


def test_every_column_indexed_instead_of_each_samples_is_found_on_class_sorted_data(tmp_path):
    # the spiral data is made class by class: its first samples are all of class 0, where `[:, y_true]` and
    # `[range(samples), y_true]` agree, so the recorded batch is cut at samples spread over it
    wrong = "self.dinputs[:, y_true] -= 1"
    path = planted_in_combined(tmp_path, "self.dinputs[range(samples), y_true] -= 1", wrong)
    report = check(path)
    (f,) = [f for f in errors(report) if f["layer"] == "Activation_Softmax_Loss_CategoricalCrossentropy" and f["name"] == "gradient-mismatch"]
    assert f["line"] == line_of(path, wrong)
    assert "only scales it by one number" in f["message"]
    (built,) = [b for b in report["built"] if b["what"].startswith("Activation_Softmax_Loss_CategoricalCrossentropy")]
    assert "spread over it" in built["shapes"]


def test_a_relu_that_masks_the_upstream_gradient_itself_is_named_at_the_mask(tmp_path):
    path = planted(tmp_path, "nnfs_adam.py", PROGRAM, "self.dinputs = dvalues.copy()", "self.dinputs = dvalues")
    (f,) = [f for f in check(path)["findings"] if f["name"] == "upstream-grad-mutated"]
    assert (f["layer"], f["line"]) == ("Activation_ReLU", line_of(path, "self.dinputs[self.inputs <= 0] = 0"))
