# Activation helpers with their local derivatives, as used by a hand-written MLP.
import numpy as np


class Sigmoid:
    def __call__(self, x):
        return 1 / (1 + np.exp(-x))

    def gradient(self, x):
        return self.__call__(x) * (1 + self.__call__(x))  # BUG: the sign inside is wrong


class ReLU:
    def fn(self, z):
        return np.maximum(0, z)

    def grad(self, x):
        return np.where(x > 0, 1.0, 0.0)


class Tanh:
    # the derivative is written in terms of the output: backward(tanh(x))
    def forward(self, x):
        return np.tanh(x)

    def backward(self, output):
        return 1 - output ** 2


class Softmax:
    def __call__(self, x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    def gradient(self, x):
        p = self.__call__(x)
        return p * (1 - p)


def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, alpha * z)


def leaky_relu_prime(z, alpha=0.01):
    return np.where(z > 0, 1.0, alpha)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_derivative(s):
    # s is sigmoid(z), as the training loop passes the activation
    return s * (1.0 - s)
