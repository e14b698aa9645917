# A recurrent language model one time step at a time: the weights are passed to each step.
import numpy as np


class Step:
    def forward(self, x, prev_s, U, W, V):
        self.z = U.dot(x) + W.dot(prev_s)
        self.s = np.tanh(self.z)
        self.out = V.dot(self.s)

    def backward(self, x, prev_s, U, W, V, diff_s, dout):
        self.forward(x, prev_s, U, W, V)
        dV = np.outer(dout, self.s)
        ds = V.T.dot(dout) + diff_s
        dz = ds * (1 - self.s ** 2)
        dU = np.outer(dz, x)
        dW = np.outer(ds, prev_s)  # BUG
        dprev_s = W.T.dot(dz)
        return (dprev_s, dU, dW, dV)
