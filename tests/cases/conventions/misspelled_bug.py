# Layers whose method names are misspelled; the gradients themselves are right.
import numpy as np


class Sigmoid:
    def foward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backword(self, dout):
        return dout * self.out * (1.0 - self.out)


class Linear:
    def __init__(self, in_dim, out_dim):
        self.W = 0.1 * np.random.randn(in_dim, out_dim)
        self.b = np.zeros(out_dim)

    def forward(self, x):
        self.x = x
        return x.dot(self.W) + self.b

    def backwards(self, dout):
        self.dW = self.x.T.dot(dout)
        self.db = dout.mean(axis=0)  # BUG: the bias gradient is a sum over the batch
        return dout.dot(self.W.T)
