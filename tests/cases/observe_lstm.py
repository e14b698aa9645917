import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class LSTM:
    """An LSTM over a whole sequence: xs (N, T, D) -> hs (N, T, H)."""

    def __init__(self, input_dim, hidden_dim, seed=0):
        rng = np.random.RandomState(seed)
        self.Wx = rng.randn(input_dim, 4 * hidden_dim) / np.sqrt(input_dim)
        self.Wh = rng.randn(hidden_dim, 4 * hidden_dim) / np.sqrt(hidden_dim)
        self.b = np.zeros(4 * hidden_dim)
        self.H = hidden_dim

    def forward(self, xs):
        N, T, D = xs.shape
        H = self.H
        h = np.zeros((N, H))
        c = np.zeros((N, H))
        self.cache = []
        hs = np.empty((N, T, H))
        for t in range(T):
            a = xs[:, t] @ self.Wx + h @ self.Wh + self.b
            f, g, i, o = sigmoid(a[:, :H]), np.tanh(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c_next = f * c + g * i
            h_next = o * np.tanh(c_next)
            self.cache.append((xs[:, t], h, c, f, g, i, o, c_next))
            h, c = h_next, c_next
            hs[:, t] = h
        return hs

    def backward(self, dhs):
        N, T, H = dhs.shape
        D = self.Wx.shape[0]
        dxs = np.empty((N, T, D))
        self.dWx = np.zeros_like(self.Wx)
        self.dWh = np.zeros_like(self.Wh)
        self.db = np.zeros_like(self.b)
        dh = np.zeros((N, H))
        dc = np.zeros((N, H))
        for t in reversed(range(T)):
            x, h_prev, c_prev, f, g, i, o, c_next = self.cache[t]
            dh = dh + dhs[:, t]
            tanh_c = np.tanh(c_next)
            ds = dc + dh * o * (1 - tanh_c ** 2)
            dc = ds * f
            da = np.hstack((ds * c_prev * f * (1 - f), ds * i * (1 - g ** 2), ds * g * i * (1 - i), dh * tanh_c * o * (1 - o)))
            self.dWx += x.T @ da
            self.dWh += h_prev.T @ da
            self.db += da.sum(axis=0)
            dxs[:, t] = da @ self.Wx.T
            dh = da @ self.Wh.T
        return dxs


class Readout:
    def __init__(self, hidden_dim, out_dim):
        self.W = np.random.randn(hidden_dim, out_dim) * 0.1
        self.b = np.zeros(out_dim)

    def forward(self, hs):
        self.hs = hs
        return hs @ self.W + self.b

    def backward(self, dy):
        self.dW = np.einsum("nth,nto->ho", self.hs, dy)
        self.db = dy.sum(axis=(0, 1))
        return dy @ self.W.T


if __name__ == "__main__":
    np.random.seed(0)
    N, T, D, H = 8, 12, 2, 10
    lstm = LSTM(D, H)
    head = Readout(H, 1)
    for it in range(300):
        xs = np.random.randn(N, T, D)
        target = np.cumsum(xs[:, :, :1], axis=1) / T
        ys = head.forward(lstm.forward(xs))
        loss = np.mean((ys - target) ** 2)
        dy = 2 * (ys - target) / ys.size
        lstm.backward(head.backward(dy))
        for obj, names in ((lstm, ("Wx", "Wh", "b")), (head, ("W", "b"))):
            for name in names:
                setattr(obj, name, getattr(obj, name) - 0.5 * getattr(obj, "d" + name))
        if it % 50 == 0:
            print(it, loss)
