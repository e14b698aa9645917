"""An encoder and a decoder made together (`enc, dec = Enc(P, G), Dec(P, G)`) that share one dict of
parameters and one of gradients, tying a weight: the encoder's backward returns nothing (no layer
comes before it and every call throws its result away), which is no bad return; and the training
step, whose momentum keeps its velocity under a key of a settings dict (`opt["vel"][k]`), is
replayed, so an `=` where the tied weight's second use must add (`+=`) is found, and named at that
`=` (the write of the object whose backward runs second)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

TWO_CLASSES = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(40, 5))

P = {"W": rng.normal(0, 0.3, size=(5, 2)), "b1": np.zeros(2), "b2": np.zeros(5)}
G = {k: np.zeros_like(v) for k, v in P.items()}
opt = {"lr": 0.05, "mom": 0.9, "vel": {k: np.zeros_like(v) for k, v in P.items()}}


class Enc:
    def __init__(self, P, G):
        self.P, self.G = P, G

    def forward(self, x):
        self.x = x
        self.a = np.tanh(x @ self.P["W"] + self.P["b1"])
        return self.a

    def backward(self, da):
        dz = da * (1.0 - self.a ** 2)
        self.G["W"] += self.x.T @ dz
        self.G["b1"] = dz.sum(axis=0)


class Dec:
    def __init__(self, P, G):
        self.P, self.G = P, G

    def forward(self, a):
        self.a = a
        return a @ self.P["W"].T + self.P["b2"]

    def backward(self, dy):
        self.G["W"] = dy.T @ self.a
        self.G["b2"] = dy.sum(axis=0)
        return dy @ self.P["W"]


def momentum_step(P, G, opt):
    for k in P:
        opt["vel"][k] = opt["mom"] * opt["vel"][k] - opt["lr"] * G[k]
        P[k] += opt["vel"][k]


enc, dec = Enc(P, G), Dec(P, G)
for it in range(60):
    y = dec.forward(enc.forward(X))
    r = y - X
    loss = 0.5 * np.sum(r ** 2) / len(X)
    enc.backward(dec.backward(r / len(X)))
    momentum_step(P, G, opt)
print(loss)
'''

ZEROED_AND_ADDED = '''\
import numpy as np

rng = np.random.default_rng(5)
data = rng.normal(size=(30, 4))

net = {"We": rng.normal(0, 0.4, size=(4, 3)), "c": np.zeros(4)}
grad = {k: np.zeros_like(v) for k, v in net.items()}
mem = {"rate": 0.1, "beta": 0.8, "velocity": {k: np.zeros_like(v) for k, v in net.items()}}


class Encoder:
    def __init__(self, net, grad):
        self.net, self.grad = net, grad

    def forward(self, x):
        self.x = x
        self.s = x @ self.net["We"]
        return np.maximum(self.s, 0.0)

    def backward(self, dh):
        ds = dh * (self.s > 0)
        self.grad["We"] += self.x.T @ ds


class Decoder:
    def __init__(self, net, grad):
        self.net, self.grad = net, grad

    def forward(self, h):
        self.h = h
        return 1.0 / (1.0 + np.exp(-(h @ self.net["We"].T + self.net["c"])))

    def backward(self, out, dout):
        dz = dout * out * (1.0 - out)
        self.grad["We"] += dz.T @ self.h
        self.grad["c"] += dz.sum(axis=0)
        return dz @ self.net["We"]


[encoder, decoder] = [Encoder(net, grad), Decoder(net, grad)]
target = 1.0 / (1.0 + np.exp(-data))
for epoch in range(50):
    for name in grad:
        grad[name][...] = 0.0
    out = decoder.forward(encoder.forward(data))
    cost = np.mean(np.sum((out - target) ** 2, axis=1))
    dh = decoder.backward(out, 2.0 * (out - target) / len(data))
    encoder.backward(dh)
    for name in net:
        mem["velocity"][name] = mem["beta"] * mem["velocity"][name] - mem["rate"] * grad[name]
        net[name] += mem["velocity"][name]
print(cost)
'''


def _clean(path):
    report = check(path)
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["name"] == "bad-return"]
    verdicts = step_verdicts(report)
    assert verdicts and set(verdicts.values()) == {"ok"}, verdicts
    return report


def _tied_weight_wrong(path, param, overwrite):
    report = check(path)
    assert not [f for f in report["findings"] if f["name"] == "bad-return"]
    (found,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert step_verdicts(report)[param] != "ok", step_verdicts(report)
    assert found["line"] == line_of(path, overwrite), found
    assert "+=" in found["message"] and "runs second" in found["message"]


def test_two_classes_sharing_dicts_are_clean(tmp_path):
    _clean(write(tmp_path, "tied.py", TWO_CLASSES))


def test_two_classes_sharing_dicts_overwritten_tied_gradient_found(tmp_path):
    path = planted(tmp_path, "tied.py", TWO_CLASSES, 'self.G["W"] += self.x.T @ dz', 'self.G["W"] = self.x.T @ dz')
    _tied_weight_wrong(path, "P['W']", 'self.G["W"] = self.x.T @ dz')


def test_zeroed_and_added_autoencoder_is_clean(tmp_path):
    _clean(write(tmp_path, "ae.py", ZEROED_AND_ADDED))


def test_an_overwrite_that_runs_first_after_zeroing_is_clean(tmp_path):
    # the decoder's backward runs first, just after the zeroing: its `=` loses nothing
    _clean(planted(tmp_path, "ae.py", ZEROED_AND_ADDED, 'self.grad["We"] += dz.T @ self.h', 'self.grad["We"] = dz.T @ self.h'))


def test_zeroed_and_added_autoencoder_overwritten_tied_gradient_found(tmp_path):
    # the encoder's backward runs second: its `=` throws the decoder's share away
    path = planted(tmp_path, "ae.py", ZEROED_AND_ADDED, 'self.grad["We"] += self.x.T @ ds', 'self.grad["We"] = self.x.T @ ds')
    _tied_weight_wrong(path, "net['We']", 'self.grad["We"] = self.x.T @ ds')
