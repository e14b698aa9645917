# backprop-doctor sample: a custom Center layer subtracts the mean of the WHOLE batch (not per row) and its backward ignores the mean
# expected: batch-coupling in Center at line 14; gradient-mismatch in Center at line 18
import numpy as np
from collections import OrderedDict


class Center:
    """zero-centre the features before the activation"""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = x - np.mean(x)
        return self.out

    def backward(self, dout):
        dx = dout
        return dx


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


class Tanh:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class CenteredNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.1):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Center1'] = Center()
        self.layers['Tanh1'] = Tanh()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        return np.mean(np.argmax(self.predict(x), axis=1) == np.argmax(t, axis=1))

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in (1, 2):
            grads['W%d' % i] = self.layers['Affine%d' % i].dW
            grads['b%d' % i] = self.layers['Affine%d' % i].db
        return grads


if __name__ == '__main__':
    x_train = np.random.randn(300, 6) + 2.0
    t_train = np.eye(3)[np.argmax(x_train[:, :3], axis=1)]
    network = CenteredNet(input_size=6, hidden_size=12, output_size=3)
    for i in range(300):
        idx = np.random.choice(300, 32)
        grad = network.gradient(x_train[idx], t_train[idx])
        for key in network.params:
            network.params[key] -= 0.5 * grad[key]
    # a single test example is centred on itself, so predictions change with batch size
    print(network.accuracy(x_train, t_train), network.predict(x_train[:1]))
