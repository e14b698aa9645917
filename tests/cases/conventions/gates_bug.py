# Gates that keep nothing between calls: backward gets forward's inputs again, then the
# upstream gradient (the style of RNN tutorials built from multiply and add gates).
import numpy as np


class SigmoidGate:
    def forward(self, x):
        return 1.0 / (1.0 + np.exp(-x))

    def backward(self, x, top_diff):
        out = self.forward(x)
        return out * top_diff  # BUG: the derivative of the sigmoid is out * (1 - out)


class TanhGate:
    def forward(self, x):
        return np.tanh(x)

    def backward(self, x, top_diff):
        out = self.forward(x)
        return (1.0 - out ** 2) * top_diff


class AddGate:
    def forward(self, a, b):
        return a + b

    def backward(self, a, b, dz):
        return dz * np.ones_like(a), dz * np.ones_like(b)


class ScaleGate:
    def forward(self, a, b):
        return a * b

    def backward(self, a, b, dz):
        return dz * b, dz * a
