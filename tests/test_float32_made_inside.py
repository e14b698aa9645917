"""A layer made of layers whose forward makes float32 arrays whatever its weights are (the second
book's `hs = np.empty((N, T, H), dtype='f')` inside its time layers, reached from a `Decoder` or a
`Seq2seq` that holds them). The check runs on float64 copies of the weights, so the model's output
is float64 (a float64 weight after the float32 states) while its numbers went through float32: it
is checked with float32's step and tolerance, as its float32 parts are, not as a float64 model
whose gradients are off by a factor of 3 to 5 (the book's Seq2seq got seven BPD101 errors). The
programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

MODEL = '''\
import numpy as np


class TimeTanh:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        hs = np.empty((N, T, H), dtype='f')
        h = np.zeros((N, H), dtype='f')
        for t in range(T):
            h = np.tanh(np.dot(xs[:, t, :], Wx) + np.dot(h, Wh) + b)
            hs[:, t, :] = h
        self.xs, self.hs = xs, hs
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        dxs = np.empty((N, T, Wx.shape[0]), dtype='f')
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        dh = 0
        for t in reversed(range(T)):
            h = self.hs[:, t, :]
            h_prev = self.hs[:, t - 1, :] if t > 0 else np.zeros_like(h)
            dt = (dhs[:, t, :] + dh) * (1 - h ** 2)
            dWx += np.dot(self.xs[:, t, :].T, dt)
            dWh += np.dot(h_prev.T, dt)
            db += dt.sum(axis=0)
            dxs[:, t, :] = np.dot(dt, Wx.T)
            dh = np.dot(dt, Wh.T)
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        return dxs


class Readout:
    def __init__(self, D, H, V):
        rn = np.random.randn
        self.rnn = TimeTanh((rn(D, H) / np.sqrt(D)).astype('f'), (rn(H, H) / np.sqrt(H)).astype('f'), np.zeros(H).astype('f'))
        self.W = (rn(H, V) / np.sqrt(H)).astype('f')
        self.params = self.rnn.params + [self.W]
        self.grads = self.rnn.grads + [np.zeros_like(self.W)]

    def forward(self, xs):
        self.hs = self.rnn.forward(xs)
        return np.dot(self.hs[:, -1, :], self.W)

    def backward(self, dout):
        self.grads[3][...] = np.dot(self.hs[:, -1, :].T, dout)
        dhs = np.zeros_like(self.hs)
        dhs[:, -1, :] = np.dot(dout, self.W.T)
        return self.rnn.backward(dhs)


if __name__ == "__main__":
    np.random.seed(0)
    model = Readout(3, 8, 2)
    xs = np.random.randn(4, 5, 3).astype('f')
    target = np.random.randn(4, 2).astype('f')
    for step in range(50):
        out = model.forward(xs)
        model.backward((out - target) / len(xs))
        for p, g in zip(model.params, model.grads):
            p -= 0.1 * g
'''


def test_a_model_whose_time_layer_stores_float32_states_is_float32_rounding_not_a_mismatch(tmp_path):
    report = check(write(tmp_path, "model.py", MODEL))
    assert not errors(report)
    notes = {f["layer"]: f["message"] for f in report["findings"] if f["code"] == "BPD103"}
    assert "computes in float32" in notes["Readout"] and "computes in float32" in notes["TimeTanh"]


def test_a_wrong_gradient_of_such_a_model_is_still_found(tmp_path):
    bug = planted(tmp_path, "model.py", MODEL, "self.grads[3][...] = np.dot(", "self.grads[3][...] = 2 * np.dot(")
    assert any(f["layer"] == "Readout" and "params[3]" in f["message"] for f in errors(check(bug)))


def test_a_time_layer_missing_its_tanh_derivative_is_still_found(tmp_path):
    bug = planted(tmp_path, "model.py", MODEL, "dt = (dhs[:, t, :] + dh) * (1 - h ** 2)", "dt = dhs[:, t, :] + dh")
    assert {f["layer"] for f in errors(check(bug))} >= {"TimeTanh"}
