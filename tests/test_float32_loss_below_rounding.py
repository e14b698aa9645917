"""A model whose arrays are float32 and whose forward makes float32 arrays inside, with a first layer so small
and so far from the loss that moving it changes the float32 loss by less than float32 rounds it to (the second
book's encoder behind its decoder, with `dtype='f'` hard-coded): its numerical gradient comes out exactly 0, or
a few units in the last place, at the usual step. The check probes such an array again with steps up to 1000
times larger, compares it where the loss then moves by more than its rounding, and otherwise says in the
float32 note that it could not be compared; it no longer says "the numerical gradient is zero ... make forward
compute with this very array". A wrong gradient of an array the loss does show is still an error at its line.
The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# the second book's convention: lists of float32 parameters and gradients, states made in float32 inside
LIST_MODEL = '''\
import numpy as np


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


class SmallEncoderNet:
    def __init__(self, D, H, C):
        rn = np.random.randn
        self.params = [(0.01 * rn(D, H)).astype('f'), (0.01 * rn(H, C)).astype('f')]
        self.grads = [np.zeros_like(p) for p in self.params]

    def forward(self, x, t):
        W1, W2 = self.params
        n = x.shape[0]
        self.x = x.astype('f')
        self.h = np.empty((n, W1.shape[1]), dtype='f')
        self.h[...] = np.tanh(self.x @ W1)
        self.y = np.empty((n, W2.shape[1]), dtype='f')
        self.y[...] = softmax(self.h @ W2)
        self.t = t
        return -np.sum(np.log(self.y[np.arange(n), t] + 1e-7)) / n

    def backward(self, dout=1):
        W1, W2 = self.params
        n = self.x.shape[0]
        ds = self.y.copy()
        ds[np.arange(n), self.t] -= 1
        ds = ds * dout / n
        self.grads[1][...] = self.h.T @ ds
        dh = (ds @ W2.T) * (1 - self.h ** 2)
        self.grads[0][...] = self.x.T @ dh
        return None


if __name__ == "__main__":
    np.random.seed(0)
    model = SmallEncoderNet(20, 32, 10)
    x = np.random.randn(64, 20).astype('f')
    t = np.random.randint(0, 10, size=64)
    for step in range(30):
        loss = model.forward(x, t)
        model.backward()
        for p, g in zip(model.params, model.grads):
            p -= 0.1 * g
    print(loss)
'''

# the first book's convention: a dict of float32 parameters, `gradient(x, t)` computing it all in float32
DICT_MODEL = '''\
import numpy as np


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = (weight_init_std * np.random.randn(input_size, hidden_size)).astype(np.float32)
        self.params['b1'] = np.zeros(hidden_size, dtype=np.float32)
        self.params['W2'] = (weight_init_std * np.random.randn(hidden_size, output_size)).astype(np.float32)
        self.params['b2'] = np.zeros(output_size, dtype=np.float32)

    def predict(self, x):
        a1 = np.empty((x.shape[0], self.params['W1'].shape[1]), dtype=np.float32)
        a1[...] = np.dot(x, self.params['W1']) + self.params['b1']
        z1 = np.tanh(a1)
        a2 = np.empty((x.shape[0], self.params['W2'].shape[1]), dtype=np.float32)
        a2[...] = np.dot(z1, self.params['W2']) + self.params['b2']
        return softmax(a2)

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        W1, b1, W2, b2 = self.params['W1'], self.params['b1'], self.params['W2'], self.params['b2']
        n = x.shape[0]
        a1 = np.empty((n, W1.shape[1]), dtype=np.float32)
        a1[...] = np.dot(x, W1) + b1
        z1 = np.tanh(a1)
        a2 = np.empty((n, W2.shape[1]), dtype=np.float32)
        a2[...] = np.dot(z1, W2) + b2
        y = softmax(a2)
        dy = (y - t) / n
        grads = {}
        grads['W2'] = np.dot(z1.T, dy)
        grads['b2'] = np.sum(dy, axis=0)
        dz1 = np.dot(dy, W2.T) * (1 - z1 ** 2)
        grads['W1'] = np.dot(x.T, dz1)
        grads['b1'] = np.sum(dz1, axis=0)
        return grads


if __name__ == "__main__":
    np.random.seed(0)
    net = TwoLayerNet(input_size=20, hidden_size=32, output_size=10)
    x = np.random.randn(64, 20).astype(np.float32)
    t = np.eye(10, dtype=np.float32)[np.random.randint(0, 10, size=64)]
    for i in range(30):
        grads = net.gradient(x, t)
        for key in ('W1', 'b1', 'W2', 'b2'):
            net.params[key] -= 0.1 * grads[key]
    print(net.loss(x, t))
'''

ZERO_ADVICE = "make forward compute with this very array"


def _below_rounding_notes(report: dict, layer: str) -> list[str]:
    return [f["message"] for f in report["findings"] if f["code"] == "BPD103" and f["layer"] == layer and "rounding lets" in f["message"]]


def test_a_float32_list_model_whose_first_layer_moves_its_loss_below_rounding_is_not_a_mismatch(tmp_path):
    report = check(write(tmp_path, "model.py", LIST_MODEL))
    assert not errors(report)
    assert not any(ZERO_ADVICE in f["message"] for f in report["findings"])
    (note,) = _below_rounding_notes(report, "SmallEncoderNet")
    assert "computes in float32" in note and "not compared" in note
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "SmallEncoderNet"}
    assert "float32" in verdicts.values() and set(verdicts.values()) <= {"ok", "float32"}


def test_a_wrong_gradient_the_float32_loss_shows_is_still_found_at_its_line(tmp_path):
    bug = planted(tmp_path, "model.py", LIST_MODEL, "self.grads[1][...] = self.h.T @ ds", "self.grads[1][...] = 2 * self.h.T @ ds")
    found = [f for f in errors(check(bug)) if f["name"] == "gradient-mismatch" and f["layer"] == "SmallEncoderNet"]
    assert found and found[0]["line"] == line_of(bug, "2 * self.h.T @ ds")
    assert not any(ZERO_ADVICE in f["message"] for f in found)


def test_a_float32_dict_model_is_compared_with_larger_steps_where_its_loss_moves_too_little(tmp_path):
    report = check(write(tmp_path, "net.py", DICT_MODEL))
    assert not errors(report)
    assert not any(ZERO_ADVICE in f["message"] or f["name"] == "gradient-mismatch" for f in report["findings"])
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "TwoLayerNet"}
    assert verdicts["W1"] == verdicts["W2"] == "ok"  # compared, at a step where the float32 loss moves


def test_a_wrong_gradient_of_the_float32_dict_model_is_still_found_at_its_line(tmp_path):
    bug = planted(tmp_path, "net.py", DICT_MODEL, "grads['W2'] = np.dot(z1.T, dy)", "grads['W2'] = 2 * np.dot(z1.T, dy)")
    found = [f for f in errors(check(bug)) if f["name"] == "gradient-mismatch" and f["layer"] == "TwoLayerNet"]
    assert [f["param"] for f in found] == ["W2"] and found[0]["line"] == line_of(bug, "grads['W2'] = 2 * np.dot(")
