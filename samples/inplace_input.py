# backprop-doctor sample: the softmax in SoftmaxWithLoss.forward subtracts the row max IN PLACE, overwriting the caller's scores
# expected: input-mutated in SoftmaxWithLoss at line 45
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
        self.y = None
        self.t = None

    def forward(self, x, t):
        # subtract the max for numerical stability (saves a copy)
        x -= x.max(axis=1, keepdims=True)
        exp_x = np.exp(x)
        self.y = exp_x / exp_x.sum(axis=1, keepdims=True)
        self.t = t
        batch_size = x.shape[0]
        return -np.sum(t * np.log(self.y + 1e-7)) / batch_size

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        return dout * (self.y - self.t) / batch_size


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        return np.mean(y == np.argmax(t, axis=1))

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
    x = np.random.randn(100, 20)
    t = np.eye(4)[np.argmax(x[:, :4], axis=1)]
    network = TwoLayerNet(input_size=20, hidden_size=32, output_size=4)

    scores = network.predict(x)
    before = scores.copy()
    network.lastLayer.forward(scores, t)
    print('scores changed by the loss layer:', not np.allclose(before, scores))

    for i in range(100):
        grad = network.gradient(x, t)
        for key in network.params:
            network.params[key] -= 0.5 * grad[key]
    print(network.loss(x, t), network.accuracy(x, t))
