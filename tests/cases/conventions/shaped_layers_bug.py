# Layers for one sample at a time: each knows the shape of its input, and backward
# takes the learning rate and updates its own weights.
import numpy as np


class Layer:
    def __init__(self):
        self.input = None
        self.output = None

    def forward(self, input):
        pass

    def backward(self, output_gradient, learning_rate):
        pass


def correlate_valid(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = np.sum(image[r:r + kh, c:c + kw] * kernel)
    return out


def convolve_full(image, kernel):
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate_valid(padded, kernel[::-1, ::-1])


class Conv(Layer):
    def __init__(self, input_shape, kernel_size, depth):
        channels, height, width = input_shape
        self.depth = depth
        self.input_shape = input_shape
        self.channels = channels
        self.output_shape = (depth, height - kernel_size + 1, width - kernel_size + 1)
        self.kernels = np.random.randn(depth, channels, kernel_size, kernel_size)
        self.biases = np.random.randn(*self.output_shape)

    def forward(self, input):
        self.input = input
        self.output = np.copy(self.biases)
        for i in range(self.depth):
            for j in range(self.channels):
                self.output[i] += correlate_valid(self.input[j], self.kernels[i, j])
        return self.output

    def backward(self, output_gradient, learning_rate):
        kernels_gradient = np.zeros(self.kernels.shape)
        input_gradient = np.zeros(self.input_shape)
        for i in range(self.depth):
            for j in range(self.channels):
                kernels_gradient[i, j] = correlate_valid(self.input[i], output_gradient[i])  # BUG
                input_gradient[j] += convolve_full(output_gradient[i], self.kernels[i, j])
        self.kernels -= learning_rate * kernels_gradient
        self.biases -= learning_rate * output_gradient
        return input_gradient


class Flatten(Layer):
    def __init__(self, input_shape, output_shape):
        self.input_shape = input_shape
        self.output_shape = output_shape

    def forward(self, input):
        return np.reshape(input, self.output_shape)

    def backward(self, output_gradient, learning_rate):
        return np.reshape(output_gradient, self.input_shape)


class Activation(Layer):
    def __init__(self, activation, activation_prime):
        self.activation = activation
        self.activation_prime = activation_prime

    def forward(self, input):
        self.input = input
        return self.activation(self.input)

    def backward(self, output_gradient, learning_rate):
        return np.multiply(output_gradient, self.activation_prime(self.input))
