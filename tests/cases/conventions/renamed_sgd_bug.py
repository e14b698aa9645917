# Layers with *_propagation methods; backward gets the learning rate and updates the layer itself.
import numpy as np


class FullyConnected:
    def __init__(self, input_size, output_size):
        self.weights = np.random.rand(input_size, output_size) - 0.5
        self.bias = np.random.rand(1, output_size) - 0.5

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = np.dot(self.input, self.weights) + self.bias
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error) / len(output_error)  # BUG
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * np.sum(output_error, axis=0, keepdims=True)
        return input_error


class TanhLayer:
    def forward_propagation(self, input_data):
        self.input = input_data
        return np.tanh(input_data)

    def backward_propagation(self, output_error, learning_rate):
        return (1 - np.tanh(self.input) ** 2) * output_error
