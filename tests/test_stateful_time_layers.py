"""A time layer made stateful (the second book's `TimeRNN(..., stateful=True)` in its RNN language
model) starts each forward from the hidden state the last one left: every evaluation of a check
started from another state, so no two agreed and every gradient of the layer and of the model was
"wrong" (relative error 1) on correct code. The check's working copy turns the flag off, so each
forward starts from zeros, as after the program's `reset_state()`. The programs here are written
for these tests.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

RNNLM = '''\
import numpy as np


class TimeTanh:
    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.h = None
        self.stateful = stateful

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        hs = np.empty((N, T, H), dtype=DTYPE)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=DTYPE)
        self.xs, self.h0 = xs, self.h
        for t in range(T):
            self.h = np.tanh(xs[:, t, :] @ Wx + self.h @ Wh + b)
            hs[:, t, :] = self.h
        self.hs = hs
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        dxs = np.empty_like(self.xs)
        grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        dh = 0
        for t in reversed(range(T)):
            h_prev = self.hs[:, t - 1, :] if t > 0 else self.h0
            dt = (dhs[:, t, :] + dh) * (1 - self.hs[:, t, :] ** 2)
            grads[0] += self.xs[:, t, :].T @ dt
            grads[1] += h_prev.T @ dt
            grads[2] += dt.sum(axis=0)
            dxs[:, t, :] = dt @ Wx.T
            dh = dt @ Wh.T
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        return dxs


class TimeAffine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        V = dout.shape[-1]
        self.grads[0][...] = self.x.reshape(-1, self.x.shape[-1]).T @ dout.reshape(-1, V)
        self.grads[1][...] = dout.reshape(-1, V).sum(axis=0)
        return dout @ self.params[0].T


class TimeSquaredError:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, ys, ts):
        self.diff = ys - ts
        return 0.5 * np.sum(self.diff ** 2) / ys.shape[0]

    def backward(self, dout=1):
        return dout * self.diff / self.diff.shape[0]


class Model:
    def __init__(self, D, H, V):
        rn = np.random.randn
        self.layers = [
            TimeTanh((rn(D, H) / np.sqrt(D)).astype(DTYPE), (rn(H, H) / np.sqrt(H)).astype(DTYPE), np.zeros(H, dtype=DTYPE), stateful=True),
            TimeAffine((rn(H, V) / np.sqrt(H)).astype(DTYPE), np.zeros(V, dtype=DTYPE)),
        ]
        self.loss_layer = TimeSquaredError()
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, xs, ts):
        for layer in self.layers:
            xs = layer.forward(xs)
        return self.loss_layer.forward(xs, ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout


if __name__ == "__main__":
    np.random.seed(0)
    model = Model(3, 8, 2)
    xs = np.random.randn(4, 5, 3).astype(DTYPE)
    ts = np.random.randn(4, 5, 2).astype(DTYPE) * 0.3
    for step in range(30):
        loss = model.forward(xs, ts)
        model.backward()
        for p, g in zip(model.params, model.grads):
            p -= 0.1 * g
'''


def _typed(dtype: str) -> str:
    return RNNLM.replace("import numpy as np\n", f"import numpy as np\n\nDTYPE = {dtype}\n", 1)


@pytest.mark.parametrize("dtype", ["'f'", "np.float64"])
def test_a_stateful_time_layer_and_its_model_are_clean(tmp_path, dtype):
    report = check(write(tmp_path, "rnnlm.py", _typed(dtype)))
    assert not errors(report)
    if dtype == "np.float64":  # no "kink" where nothing has one (float32 states inside a model still read as kinks: a note)
        assert not [f for f in report["findings"] if f["code"] == "BPD104"]


def test_a_stateful_layer_whose_gradients_are_rebound_is_still_found(tmp_path):
    bug = planted(tmp_path, "rnnlm.py", _typed("np.float64"), "self.grads[i][...] = grad", "self.grads[i] = grad")
    found = errors(check(bug))
    assert found and all("`TimeTanh.backward` binds a new array to `self.grads[" in f["message"] for f in found)
    # named at the statement that rebinds the entry (in a loop over the gradients), not at the `return`
    assert {f["line"] for f in found} == {line_of(bug, "self.grads[i] = grad")}
