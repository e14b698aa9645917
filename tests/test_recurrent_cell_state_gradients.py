"""An LSTM cell in the second book's style (`forward(x, h_prev, c_prev)`, `backward(dh_next, dc_next)`
returning `dx, dh_prev, dc_prev`), called by the program: the gradients of the states it is handed are
checked beside the input's, so a `dc_prev` that leaves out the forget gate is found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class LSTM:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        N, H = h_prev.shape
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
        f = sigmoid(A[:, :H])
        g = np.tanh(A[:, H:2 * H])
        i = sigmoid(A[:, 2 * H:3 * H])
        o = sigmoid(A[:, 3 * H:])
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tanh_c_next = np.tanh(c_next)
        ds = dc_next + (dh_next * o) * (1 - tanh_c_next ** 2)
        dc_prev = ds * f
        di = ds * g
        df = ds * c_prev
        do = dh_next * tanh_c_next
        dg = ds * i
        di *= i * (1 - i)
        df *= f * (1 - f)
        do *= o * (1 - o)
        dg *= (1 - g ** 2)
        dA = np.hstack((df, dg, di, do))
        self.grads[0][...] = np.dot(x.T, dA)
        self.grads[1][...] = np.dot(h_prev.T, dA)
        self.grads[2][...] = dA.sum(axis=0)
        dx = np.dot(dA, Wx.T)
        dh_prev = np.dot(dA, Wh.T)
        return dx, dh_prev, dc_prev


if __name__ == "__main__":
    np.random.seed(0)
    N, D, H = 10, 4, 5
    cell = LSTM(np.random.randn(D, 4 * H) * 0.3, np.random.randn(H, 4 * H) * 0.3, np.zeros(4 * H))
    x = np.random.randn(N, D)
    h0, c0 = np.random.randn(N, H) * 0.5, np.random.randn(N, H) * 0.5
    target = np.random.randn(N, H) * 0.3
    for it in range(150):
        h, c = cell.forward(x, h0, c0)
        loss = 0.5 * np.sum((h - target) ** 2) / N
        cell.backward((h - target) / N, np.zeros_like(c))
        for p, g in zip(cell.params, cell.grads):
            p -= 0.5 * g
        if it % 30 == 0:
            print(it, loss)
'''

RIGHT = "dc_prev = ds * f"


def test_every_state_gradient_is_checked_and_right(tmp_path):
    report = check(planted(tmp_path, "lstm.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "LSTM"} >= {"x", "h_prev", "c_prev"}


def test_a_cell_state_gradient_without_the_forget_gate_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "lstm.py", PROGRAM, RIGHT, "dc_prev = ds")
    (found,) = errors(check(path))
    assert (found["layer"], found["param"], found["line"]) == ("LSTM", "c_prev", line_of(path, "dc_prev = ds"))
