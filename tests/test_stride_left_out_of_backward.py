"""A loop-written convolution or pooling layer whose backward starts each window at the loop index
(`r0, c0 = i, j`) where its forward moves it by the stride (`i * self.stride`): every gradient of the
layer is wrong, and each gradient line only shows it. Named at the statement that starts the window."""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

CONV = """\
    import numpy as np


    class Conv2D:
        def __init__(self, c_in, c_out, k, stride):
            self.W = np.random.randn(c_out, c_in, k, k) * 0.3
            self.b = np.zeros(c_out)
            self.k, self.stride = k, stride

        def forward(self, x):
            self.x = x
            n, c, h, w = x.shape
            f = self.W.shape[0]
            ho, wo = (h - self.k) // self.stride + 1, (w - self.k) // self.stride + 1
            out = np.zeros((n, f, ho, wo))
            for i in range(ho):
                for j in range(wo):
                    r, s = i * self.stride, j * self.stride
                    patch = x[:, :, r:r + self.k, s:s + self.k]
                    for o in range(f):
                        out[:, o, i, j] = np.sum(patch * self.W[o], axis=(1, 2, 3)) + self.b[o]
            return out

        def backward(self, dout):
            x = self.x
            f, ho, wo = self.W.shape[0], dout.shape[2], dout.shape[3]
            self.dW = np.zeros_like(self.W)
            self.db = dout.sum(axis=(0, 2, 3))
            dx = np.zeros_like(x)
            for i in range(ho):
                for j in range(wo):
                    r0, c0 = self.stride * i, self.stride * j
                    window = x[:, :, r0:r0 + self.k, c0:c0 + self.k]
                    for o in range(f):
                        g = dout[:, o, i, j][:, None, None, None]
                        self.dW[o] += np.sum(g * window, axis=0)
                        dx[:, :, r0:r0 + self.k, c0:c0 + self.k] += g * self.W[o]
            return dx


    layer = Conv2D(2, 3, 3, 2)
    print(layer.forward(np.random.randn(2, 2, 7, 7)).shape)
"""

POOL = """\
    import numpy as np


    class AvgPool:
        def __init__(self, size=2, stride=2):
            self.size, self.stride = size, stride

        def forward(self, x):
            self.shape = x.shape
            n, c, h, w = x.shape
            ho, wo = (h - self.size) // self.stride + 1, (w - self.size) // self.stride + 1
            out = np.zeros((n, c, ho, wo))
            for i in range(ho):
                for j in range(wo):
                    out[:, :, i, j] = x[:, :, i * self.stride:i * self.stride + self.size, j * self.stride:j * self.stride + self.size].mean(axis=(2, 3))
            return out

        def backward(self, dout):
            dx = np.zeros(self.shape)
            share = 1.0 / (self.size * self.size)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    top, left = self.stride * i, self.stride * j
                    dx[:, :, top:top + self.size, left:left + self.size] += dout[:, :, i, j][:, :, None, None] * share
            return dx


    pool = AvgPool(2, 2)
    print(pool.forward(np.random.randn(2, 3, 6, 6)).shape)
"""


def test_a_strided_convolution_is_clean(tmp_path):
    path = planted(tmp_path, "conv.py", CONV, "r0, c0 = self.stride * i, self.stride * j", "r0, c0 = self.stride * i, self.stride * j")
    assert errors(check(path)) == []


def test_a_convolution_whose_backward_leaves_out_the_stride_is_named_where_the_window_starts(tmp_path):
    path = planted(tmp_path, "conv.py", CONV, "r0, c0 = self.stride * i, self.stride * j", "r0, c0 = i, j")
    report = check(path)
    root = errors(report)[0]
    assert root["layer"] == "Conv2D" and root["line"] == line_of(path, "r0, c0 = i, j")
    assert root["pattern"] == "stride-left-out" and "`self.stride`" in root["message"]


def test_a_strided_pool_is_clean(tmp_path):
    path = planted(tmp_path, "pool.py", POOL, "top, left = self.stride * i, self.stride * j", "top, left = self.stride * i, self.stride * j")
    assert errors(check(path)) == []


def test_a_pool_whose_backward_leaves_out_the_stride_is_named_where_the_window_starts(tmp_path):
    path = planted(tmp_path, "pool.py", POOL, "top, left = self.stride * i, self.stride * j", "top, left = i, j")
    report = check(path)
    root = errors(report)[0]
    assert root["layer"] == "AvgPool" and root["line"] == line_of(path, "top, left = i, j")


UPSAMPLE = """\
    import numpy as np


    class Upsample1d:
        def __init__(self, c_in, c_out, kernel, stride):
            self.W = np.random.randn(c_in, c_out, kernel) * 0.4
            self.stride = stride

        def forward(self, x):
            self.x = x
            n, _, length = x.shape
            K = self.W.shape[2]
            out = np.zeros((n, self.W.shape[1], (length - 1) * self.stride + K))
            for i in range(length):
                for k in range(K):
                    out[:, :, i * self.stride + k] += x[:, :, i] @ self.W[:, :, k]
            return out

        def backward(self, dout):
            K = self.W.shape[2]
            self.dW = np.zeros_like(self.W)
            dx = np.zeros_like(self.x)
            for i in range(self.x.shape[2]):
                for k in range(K):
                    g = dout[:, :, self.stride * i + k]
                    self.dW[:, :, k] += self.x[:, :, i].T @ g
                    dx[:, :, i] += g @ self.W[:, :, k].T
            return dx


    up = Upsample1d(3, 2, 4, 2)
    print(up.forward(np.random.randn(2, 3, 5)).shape)
"""


def test_a_transposed_convolution_is_clean(tmp_path):
    path = planted(tmp_path, "up.py", UPSAMPLE, "g = dout[:, :, self.stride * i + k]", "g = dout[:, :, self.stride * i + k]")
    assert errors(check(path)) == []


def test_a_transposed_convolution_reading_without_the_stride_is_named_at_that_read(tmp_path):
    path = planted(tmp_path, "up.py", UPSAMPLE, "g = dout[:, :, self.stride * i + k]", "g = dout[:, :, i + k]")
    root = errors(check(path))[0]
    assert root["layer"] == "Upsample1d" and root["line"] == line_of(path, "g = dout[:, :, i + k]")
    assert "`i * self.stride + k`" in root["message"]
