"""Max pooling fed by a ReLU sees windows of exact ties (several zeros): central differences
there are not the derivative. A correct Conv→ReLU→Pool network is clean; a pooling backward
that routes the gradient to the wrong element, or an average pooling that forgets to divide,
is still an error."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import gradcheck

CONV_POOL_NET = '''
import numpy as np
from collections import OrderedDict


class Conv:
    """3x3 convolution, zero padding 1, stride 1, written with one einsum per kernel offset."""

    def __init__(self, W, b, pad=1):
        self.W = W
        self.b = b
        self.pad = pad

    def forward(self, x):
        p = self.pad
        self.shape = x.shape
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        F, C, kh, kw = self.W.shape
        N, _, H, W = x.shape
        self.out_hw = (H + 2 * p - kh + 1, W + 2 * p - kw + 1)
        Ho, Wo = self.out_hw
        out = np.zeros((N, F, Ho, Wo))
        for i in range(kh):
            for j in range(kw):
                out += np.einsum("nchw,fc->nfhw", self.xp[:, :, i:i + Ho, j:j + Wo], self.W[:, :, i, j])
        return out + self.b[None, :, None, None]

    def backward(self, dout):
        p = self.pad
        F, C, kh, kw = self.W.shape
        Ho, Wo = self.out_hw
        self.db = dout.sum(axis=(0, 2, 3))
        self.dW = np.zeros_like(self.W)
        dxp = np.zeros_like(self.xp)
        for i in range(kh):
            for j in range(kw):
                self.dW[:, :, i, j] = np.einsum("nfhw,nchw->fc", dout, self.xp[:, :, i:i + Ho, j:j + Wo])
                dxp[:, :, i:i + Ho, j:j + Wo] += np.einsum("nfhw,fc->nchw", dout, self.W[:, :, i, j])
        N, C, H, W = self.shape
        return dxp[:, :, p:p + H, p:p + W]


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class MaxPool:
    """2x2 max pooling with stride 2: each window becomes the last axis of length 4."""

    def forward(self, x):
        N, C, H, W = x.shape
        self.shape = x.shape
        windows = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
        self.arg = windows.argmax(axis=-1)
        return windows.max(axis=-1)

    def backward(self, dout):
        N, C, H, W = self.shape
        dwin = np.zeros((N, C, H // 2, W // 2, 4))
        np.put_along_axis(dwin, self.arg[..., None], dout[..., None], axis=-1)
        return dwin.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


class Flatten:
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / len(x)

    def backward(self, dout=1):
        return dout * (self.y - self.t) / len(self.t)


class ConvPoolNet:
    def __init__(self, input_dim=(1, 28, 28), filters=16, output_size=3):
        channels, side, _ = input_dim
        classes = output_size
        he = lambda fan_in: np.sqrt(2.0 / fan_in)
        self.params = {
            "W1": he(channels * 9) * np.random.randn(filters, channels, 3, 3),
            "b1": np.zeros(filters),
            "W2": he(filters * 9) * np.random.randn(filters, filters, 3, 3),
            "b2": np.zeros(filters),
            "W3": 0.01 * np.random.randn(filters * (side // 2) ** 2, classes),
            "b3": np.zeros(classes),
        }
        self.layers = OrderedDict()
        self.layers["Conv1"] = Conv(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Conv2"] = Conv(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Pool"] = MaxPool()
        self.layers["Flatten"] = Flatten()
        self.layers["Affine"] = Affine(self.params["W3"], self.params["b3"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Conv1"].dW, self.layers["Conv1"].db
        grads["W2"], grads["b2"] = self.layers["Conv2"].dW, self.layers["Conv2"].db
        grads["W3"], grads["b3"] = self.layers["Affine"].dW, self.layers["Affine"].db
        return grads
'''

# The routing of the gradient through the pooling windows, written wrong in two ways.
WRONG_ROUTING = CONV_POOL_NET.replace("self.arg = windows.argmax(axis=-1)", "self.arg = windows.argmin(axis=-1)")

AVERAGE_POOL = '''

class AvgPool:
    def forward(self, x):
        N, C, H, W = x.shape
        self.shape = x.shape
        return x.reshape(N, C, H // 2, 2, W // 2, 2).mean(axis=(3, 5))

    def backward(self, dout):
        # forgets the 1/4 of the mean
        return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
'''
UNDIVIDED_AVERAGE = (CONV_POOL_NET + AVERAGE_POOL).replace(
    'self.layers["Pool"] = MaxPool()', 'self.layers["Pool"] = AvgPool()'
)


def load(tmp_path: Path, text: str, name: str = "convpool"):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(module, seed: int, batch: int = 4):
    np.random.seed(seed)
    net = module.ConvPoolNet()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 1, 28, 28))
    t = np.eye(3)[rng.integers(0, 3, batch)]
    return bd.check_network(net, x, t)


@pytest.mark.parametrize("seed", [1, 2, 4])  # seeds where a step crossed a near-tie after jitter
def test_a_correct_conv_relu_pool_network_has_no_error(tmp_path, seed):
    report = check(load(tmp_path, CONV_POOL_NET), seed)
    assert not [f for f in report.findings if f.severity == "error"], [f.message for f in report.findings]
    pool = [m for m in report.measurements if m.layer == "MaxPool"]
    assert pool and all(m.verdict.startswith("ok") or m.verdict == "kink" for m in pool), pool


@pytest.mark.parametrize("seed", [0, 1])
def test_max_pooling_that_routes_the_gradient_to_the_wrong_element_is_an_error(tmp_path, seed):
    report = check(load(tmp_path, WRONG_ROUTING, "wrong_routing"), seed)
    wrong = {(f.layer, f.param) for f in report.findings if f.code == "BPD101"}
    assert ("MaxPool", "x") in wrong, [f.message for f in report.findings]


def test_average_pooling_that_forgets_to_divide_is_an_error_that_names_the_factor(tmp_path):
    report = check(load(tmp_path, UNDIVIDED_AVERAGE, "undivided"), 0, batch=5)  # 4 is the window's size
    pool = [f for f in report.findings if f.code == "BPD101" and f.layer == "AvgPool"]
    assert pool and pool[0].severity == "error", [f.message for f in report.findings]
    assert pool[0].pattern == "scaled" and "4 ×" in pool[0].message


def cli(path: Path, seed: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["files"][0]


def test_the_cli_passes_the_correct_network_and_blames_the_wrong_pooling(tmp_path):
    good = tmp_path / "good" / "convnet.py"
    bad = tmp_path / "bad" / "convnet.py"
    for path, text in ((good, CONV_POOL_NET), (bad, WRONG_ROUTING)):
        path.parent.mkdir()
        path.write_text(text)
    clean = cli(good, 2)
    assert clean["ok"], [f["message"] for f in clean["findings"]]
    assert not [f for f in clean["findings"] if f["severity"] == "error"]
    wrong = cli(bad, 2)
    assert not wrong["ok"]
    assert any(f["code"] == "BPD101" and f["layer"] == "MaxPool" and f["param"] == "x" for f in wrong["findings"])
    assert (bad.read_text(), good.read_text()) == (WRONG_ROUTING, CONV_POOL_NET)  # the files are left alone


# -- the numerics: a kink within the step against a wrong gradient ------------------------


def window(a: np.ndarray):
    """f(a) = max(a0, a1) + 2·a2: a pooling window of two entries, plus a smooth part."""
    return lambda: float(max(a[0], a[1]) + 2 * a[2])


def test_a_probe_that_crossed_a_near_tie_passes_with_a_smaller_step():
    a = np.array([0.0, 3e-7, 1.0])  # a1 is the max, a0 within one step of it
    f = window(a)
    probe = gradcheck.refined_probe(f, f(), [a], [np.array([0.0, 1.0, 2.0])], [np.array([1.0, -1.0, 1.0])], 1e-6, tol=1e-5)
    assert probe.error <= 1e-5 and probe.step < 1e-6
    assert a.tolist() == [0.0, 3e-7, 1.0]


def test_a_gradient_routed_to_the_wrong_entry_fails_at_every_step():
    a = np.array([0.0, 3e-7, 1.0])
    f = window(a)
    probe = gradcheck.refined_probe(f, f(), [a], [np.array([1.0, 0.0, 2.0])], [np.array([1.0, -1.0, 1.0])], 1e-6, tol=1e-5)
    assert probe.error > 0.1  # the smaller steps do not rescue it: 3 against 1 there


def test_an_exact_tie_is_a_kink_at_every_step_even_when_it_moves_the_output_little():
    a = np.zeros(2002)
    a[2:] = np.linspace(1.0, 2.0, 2000)  # a0 and a1 tie at 0; the rest is smooth and large
    grad = np.concatenate([[1.0, 0.0], 2 * a[2:]])  # the first of the tie, as np.argmax picks
    f = lambda: float(max(a[0], a[1]) + np.sum(a[2:] ** 2))  # noqa: E731
    v = np.ones(2002)
    v[:2] = [-1.0, 1.0]
    probe = gradcheck.refined_probe(f, f(), [a], [grad], [v], 1e-6, tol=1e-5)
    assert probe.error > 1e-5 and probe.kinked


def hinges(w: np.ndarray):
    """f(w) = Σ max(0, w0 - d_i) + w1²: 1,000 hinges active at w0 = 1, one more 3e-7 above it and
    one of the active ones 6e-7 below: a step of 1e-6 crosses both, with little asymmetry."""
    d = np.concatenate([np.linspace(-5.0, 0.5, 999), [1 - 6e-7, 1 + 3e-7]])
    return lambda: float(np.maximum(0.0, w[0] - d).sum() + w[1] ** 2)


@pytest.mark.parametrize("narrow", [False, True])
def test_an_element_whose_step_crossed_hinges_on_both_sides_is_a_kink_not_a_wrong_element(narrow):
    w = np.array([1.0, 0.5])
    f = hinges(w)
    grad = np.array([1000.0, 1.0])  # right: 999 + the one just below are active
    result = gradcheck.elementwise(f, f(), w, grad, 1e-6, np.random.default_rng(0), tol=1e-5 if narrow else None)
    errors = result.errors(result.floor(f(), 1e-6, 1e-10))
    if narrow:
        assert result.kinked[0] and errors[0] <= 1e-5
    else:  # what the check saw before: a smooth-looking element off by 1.5e-4
        assert not result.kinked[0] and errors[0] > 1e-5
    assert w.tolist() == [1.0, 0.5]


def test_an_element_with_a_wrong_gradient_stays_wrong_after_the_finer_steps():
    w = np.array([1.0, 0.5])
    f = hinges(w)
    result = gradcheck.elementwise(f, f(), w, np.array([1001.0, 1.0]), 1e-6, np.random.default_rng(0), tol=1e-5)
    assert not result.kinked[0] and result.errors(1e-10)[0] > 5e-4
