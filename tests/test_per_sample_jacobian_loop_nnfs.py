"""A per-sample loop in a backward pass (the *Neural Networks from Scratch* softmax: a Jacobian built for
each sample, then a row of `self.dinputs` stored) is found wrong at the row it stores, while the slip is
often in a statement before it: a row reshape where a column is meant, the outer product's transpose on the
wrong side, `np.diag` of a column. Each is named at its own line, with the change that makes every compared
element agree; the product written in the other order (right only because the Jacobian is symmetric) and the
correct program get no error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

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


X, y = spiral_data(samples=100, classes=3)

dense1 = Layer_Dense(2, 64)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(64, 3)
activation2 = Activation_Softmax()
loss_function = Loss_CategoricalCrossentropy()
optimizer = Optimizer_SGD(decay=1e-3, momentum=0.9)

for epoch in range(10001):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    activation2.forward(dense2.output)
    loss = loss_function.calculate(activation2.output, y)
    predictions = np.argmax(activation2.output, axis=1)
    accuracy = np.mean(predictions == y)
    if not epoch % 100:
        print(f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f}")
    loss_function.backward(activation2.output, y)
    activation2.backward(loss_function.dinputs)
    dense2.backward(activation2.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    optimizer.pre_update_params()
    optimizer.update_params(dense1)
    optimizer.update_params(dense2)
    optimizer.post_update_params()
'''

RESHAPE = "single_output = single_output.reshape(-1, 1)"
JACOBIAN = "jacobian_matrix = np.diagflat(single_output) - np.dot(single_output, single_output.T)"
PRODUCT = "self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)"


def _softmax_error(path):
    found = [f for f in errors(check(path)) if f["layer"] == "Activation_Softmax"]
    assert len(found) == 1, found
    return found[0]


def test_the_book_program_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "nnfs_spiral.py", PROGRAM, RESHAPE, RESHAPE))) == []


def test_the_product_in_the_other_order_is_right_for_a_symmetric_jacobian(tmp_path):
    path = planted(tmp_path, "nnfs_spiral.py", PROGRAM, PRODUCT, "self.dinputs[index] = np.dot(single_dvalues, jacobian_matrix)")
    assert errors(check(path)) == []


def test_a_row_reshape_is_named_at_its_line_not_at_the_stored_row(tmp_path):
    wrong = "single_output = single_output.reshape(1, -1)"
    path = planted(tmp_path, "nnfs_spiral.py", PROGRAM, RESHAPE, wrong)
    f = _softmax_error(path)
    assert (f["param"], f["line"], f["pattern"]) == ("x", line_of(path, wrong), "wrong-in-sample-loop")
    assert f["fix"] == RESHAPE
    assert line_of(path, PRODUCT) in f["highlight"]
    assert "computed for each sample before `self.dinputs[index]` stores its row" in f["message"]


def test_the_transpose_on_the_wrong_side_of_the_outer_product_is_named_at_the_jacobian(tmp_path):
    wrong = "jacobian_matrix = np.diagflat(single_output) - np.dot(single_output.T, single_output)"
    path = planted(tmp_path, "nnfs_spiral.py", PROGRAM, JACOBIAN, wrong)
    f = _softmax_error(path)
    assert (f["line"], f["fix"]) == (line_of(path, wrong), JACOBIAN)


def test_diag_of_a_column_is_named_at_the_jacobian_with_diagflat(tmp_path):
    wrong = "jacobian_matrix = np.diag(single_output) - np.dot(single_output, single_output.T)"
    path = planted(tmp_path, "nnfs_spiral.py", PROGRAM, JACOBIAN, wrong)
    f = _softmax_error(path)
    assert (f["line"], f["fix"]) == (line_of(path, wrong), JACOBIAN)


def test_a_wrong_stored_row_itself_stays_at_its_line(tmp_path):
    wrong = "self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues) * 2"
    path = planted(tmp_path, "nnfs_spiral.py", PROGRAM, PRODUCT, wrong)
    assert _softmax_error(path)["line"] == line_of(path, wrong)
