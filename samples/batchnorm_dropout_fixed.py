# backprop-doctor sample: correct book-style BatchNormalization and Dropout layers in a small network
# expected: no error findings
import numpy as np
from collections import OrderedDict


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None
        self.running_mean = running_mean
        self.running_var = running_var
        self.eps = 1e-7
        self.train_flg = True
        self.xn = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        if x.ndim != 2:
            x = x.reshape(x.shape[0], -1)  # (N, C, H, W) -> (N, C*H*W)
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.ones(x.shape[1])

        if train_flg:
            mu = x.mean(axis=0)
            var = np.mean((x - mu) ** 2, axis=0)
            self.std = np.sqrt(var + self.eps)
            self.xn = (x - mu) / self.std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            self.std = np.sqrt(self.running_var + self.eps)
            self.xn = (x - self.running_mean) / self.std
        self.train_flg = train_flg

        out = self.gamma * self.xn + self.beta
        return out.reshape(*self.input_shape)

    def backward(self, dout):
        if dout.ndim != 2:
            dout = dout.reshape(dout.shape[0], -1)
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        if self.train_flg:
            dx = (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std
        else:
            dx = dxn / self.std
        return dx.reshape(*self.input_shape)


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        self.mask = None
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        if self.mask is None:
            return dout * (1.0 - self.dropout_ratio)
        return dout * self.mask


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x.dot(self.W) + self.b

    def backward(self, dout):
        self.dW = self.x.T.dot(dout)
        self.db = dout.sum(axis=0)
        return dout.dot(self.W.T)


class Relu:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class SoftmaxWithLoss:
    def forward(self, x, t):
        if t.ndim == 2:
            t = t.argmax(axis=1)
        z = x - x.max(axis=1, keepdims=True)
        log_y = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        self.y = np.exp(log_y)
        self.t = t
        return -np.mean(log_y[np.arange(len(t)), t])

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dout * dx / len(self.t)


class BNNet:
    def __init__(self, input_size, hidden_size, output_size, use_dropout=True, dropout_ratio=0.5):
        self.params = {
            'W1': np.random.randn(input_size, hidden_size) * np.sqrt(2.0 / input_size),
            'b1': np.zeros(hidden_size),
            'gamma1': np.ones(hidden_size),
            'beta1': np.zeros(hidden_size),
            'W2': np.random.randn(hidden_size, output_size) * np.sqrt(2.0 / hidden_size),
            'b2': np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['BatchNorm1'] = BatchNormalization(self.params['gamma1'], self.params['beta1'])
        self.layers['Relu1'] = Relu()
        if use_dropout:
            self.layers['Dropout1'] = Dropout(dropout_ratio)
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers.values():
            if isinstance(layer, (BatchNormalization, Dropout)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        return self.lastLayer.forward(self.predict(x, train_flg), t)

    def accuracy(self, x, t):
        return np.mean(np.argmax(self.predict(x), axis=1) == t)

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in (1, 2):
            grads['W%d' % i] = self.layers['Affine%d' % i].dW
            grads['b%d' % i] = self.layers['Affine%d' % i].db
        grads['gamma1'] = self.layers['BatchNorm1'].dgamma
        grads['beta1'] = self.layers['BatchNorm1'].dbeta
        return grads


if __name__ == '__main__':
    x_train = np.random.randn(300, 10) * 5 + 3
    t_train = np.argmax(x_train[:, :4], axis=1)
    network = BNNet(input_size=10, hidden_size=40, output_size=4, dropout_ratio=0.2)
    for i in range(200):
        idx = np.random.choice(300, 50)
        grads = network.gradient(x_train[idx], t_train[idx])
        for key in network.params:
            network.params[key] -= 0.1 * grads[key]
    print('train acc', network.accuracy(x_train, t_train))
