# backprop-doctor sample: correct TwoLayerNet that keeps its parameters and activations in float32 (to save memory)
# expected: no error findings (float32-precision info only)
import numpy as np
from collections import OrderedDict


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        self.t = t
        x = x - np.max(x, axis=1, keepdims=True)
        e = np.exp(x)
        self.y = e / np.sum(e, axis=1, keepdims=True)
        n = x.shape[0]
        return -np.sum(np.log(self.y[np.arange(n), t] + 1e-7)) / n

    def backward(self, dout=1):
        n = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx * (dout / n)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = (weight_init_std * np.random.randn(input_size, hidden_size)).astype(np.float32)
        self.params['b1'] = np.zeros(hidden_size, dtype=np.float32)
        self.params['W2'] = (weight_init_std * np.random.randn(hidden_size, output_size)).astype(np.float32)
        self.params['b2'] = np.zeros(output_size, dtype=np.float32)

        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        x = x.astype(np.float32, copy=False)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.mean(y == t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)

        grads = {}
        grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db
        return grads


if __name__ == '__main__':
    x_train = np.random.randn(600, 20).astype(np.float32)
    t_train = np.argmax(x_train[:, :10], axis=1)
    network = TwoLayerNet(input_size=20, hidden_size=64, output_size=10, weight_init_std=0.1)
    for i in range(300):
        idx = np.random.choice(600, 100)
        grad = network.gradient(x_train[idx], t_train[idx])
        for key in ('W1', 'b1', 'W2', 'b2'):
            network.params[key] -= np.float32(0.5) * grad[key]
        if i % 100 == 0:
            print(i, network.loss(x_train, t_train), network.params['W1'].dtype)
