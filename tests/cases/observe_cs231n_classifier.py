import numpy as np


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N, D = X.shape
        h = np.maximum(0, X.dot(W1) + b1)
        scores = h.dot(W2) + b2
        if y is None:
            return scores
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(N), y]).sum() / N + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dscores = p.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads['W2'] = h.T.dot(dscores) + 2 * reg * W2
        grads['b2'] = dscores.sum(axis=0)
        dh = dscores.dot(W2.T) * (h > 0)
        grads['W1'] = X.T.dot(dh) + 2 * reg * W1
        grads['b1'] = dh.sum(axis=0)
        return loss, grads

    def train(self, X, y, learning_rate=1e-3, reg=5e-6, num_iters=100, batch_size=200):
        loss_history = []
        for it in range(num_iters):
            idx = np.random.choice(X.shape[0], batch_size)
            loss, grads = self.loss(X[idx], y=y[idx], reg=reg)
            loss_history.append(loss)
            for k in self.params:
                self.params[k] -= learning_rate * grads[k]
        return loss_history


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(500, 10)
    y = np.random.randint(0, 3, 500)
    net = TwoLayerNet(10, 20, 3, std=1e-1)
    stats = net.train(X, y, learning_rate=1e-1, reg=1e-3, num_iters=1000, batch_size=50)
    print(stats[-1])
