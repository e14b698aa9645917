# backprop-doctor sample: correct book-style 3-layer MLP (Affine-Relu-Affine-Relu-Affine-SoftmaxWithLoss)
# expected: no error findings
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
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        if t.ndim == 2:
            t = np.argmax(t, axis=1)  # one-hot -> labels
        self.t = t
        z = x - np.max(x, axis=1, keepdims=True)
        log_y = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        self.y = np.exp(log_y)
        n = x.shape[0]
        self.loss = -np.sum(log_y[np.arange(n), t]) / n
        return self.loss

    def backward(self, dout=1):
        n = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dout * dx / n


class ThreeLayerNet:
    def __init__(self, input_size, hidden_size1, hidden_size2, output_size):
        sizes = [input_size, hidden_size1, hidden_size2, output_size]
        self.params = {}
        for i in range(1, 4):
            # He initialisation for ReLU
            scale = np.sqrt(2.0 / sizes[i - 1])
            self.params['W%d' % i] = scale * np.random.randn(sizes[i - 1], sizes[i])
            self.params['b%d' % i] = np.zeros(sizes[i])

        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.layers['Relu2'] = Relu()
        self.layers['Affine3'] = Affine(self.params['W3'], self.params['b3'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
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
        for i in range(1, 4):
            grads['W%d' % i] = self.layers['Affine%d' % i].dW
            grads['b%d' % i] = self.layers['Affine%d' % i].db
        return grads


if __name__ == '__main__':
    x_train = np.random.randn(400, 16)
    t_train = (x_train[:, 0] * x_train[:, 1] > 0).astype(int)  # XOR-like labels

    network = ThreeLayerNet(input_size=16, hidden_size1=32, hidden_size2=32, output_size=2)
    learning_rate = 0.1
    for i in range(300):
        idx = np.random.choice(400, 64)
        grads = network.gradient(x_train[idx], t_train[idx])
        for key in network.params:
            network.params[key] -= learning_rate * grads[key]
        if i % 100 == 0:
            print(i, network.loss(x_train, t_train), network.accuracy(x_train, t_train))
