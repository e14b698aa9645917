# Losses as objects: the loss and its gradient, both called with (target, prediction)
# or (prediction, target); the gradient is taken with respect to the prediction.
import numpy as np


class MeanSquaredError:
    def __call__(self, y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2)

    def gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / y_true.size


class BinaryCrossEntropy:
    def loss(self, y, p):
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))

    def derivative(self, y, p):
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return (p - y) / (p * (1 - p))


class HalfSquaredCost:
    def cost(self, output, target):
        return 0.5 * np.sum((output - target) ** 2)

    def prime(self, output, target):
        return output - target
