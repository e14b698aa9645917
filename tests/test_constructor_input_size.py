"""Networks whose input size is fixed by their own constructor: inputs of that shape, cheaply.

A convolution network written as `ConvNet(input_channels=3, input_size=64)` takes images of
side `input_size` (not 64 features), and its first affine layer is sized from it
(`flat = C * (input_size // 2) ** 2`): the check feeds images, on the smallest side the
network accepts, instead of failing on a flat guess or running for minutes on 64 × 64.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONVNET = '''\
import numpy as np
from collections import OrderedDict


class Conv3x3:
    """3x3 convolution, stride 1, padding 1, on (N, C, H, W)."""

    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        n, c, h, w = x.shape
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        out = np.zeros((n, self.W.shape[0], h, w))
        for i in range(3):
            for j in range(3):
                out += np.einsum("nchw,fc->nfhw", padded[:, :, i:i + h, j:j + w], self.W[:, :, i, j])
        return out + self.b[None, :, None, None]

    def backward(self, dout):
        n, c, h, w = self.x.shape
        padded = np.pad(self.x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        dpadded = np.zeros_like(padded)
        self.dW = np.zeros_like(self.W)
        for i in range(3):
            for j in range(3):
                self.dW[:, :, i, j] = np.einsum("nchw,nfhw->fc", padded[:, :, i:i + h, j:j + w], dout)
                dpadded[:, :, i:i + h, j:j + w] += np.einsum("nfhw,fc->nchw", dout, self.W[:, :, i, j])
        self.db = dout.sum(axis=(0, 2, 3))
        return dpadded[:, :, 1:-1, 1:-1]


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


class AvgPool2:
    def forward(self, x):
        self.shape = x.shape
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))

    def backward(self, dout):
        return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / {pool_scale}


class Flatten:
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

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
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]


class SmallConvNet:
    def __init__(self, input_channels=3, input_size=64, output_size=4):
        flat = 2 * (input_size // 2) * (input_size // 2)
        self.params = {{
            "W1": 0.3 * np.random.randn(2, input_channels, 3, 3),
            "b1": np.zeros(2),
            "W2": 0.1 * np.random.randn(flat, output_size),
            "b2": np.zeros(output_size),
        }}
        self.layers = OrderedDict()
        self.layers["Conv1"] = Conv3x3(self.params["W1"], self.params["b1"])
        self.layers["Tanh1"] = Tanh()
        self.layers["Pool1"] = AvgPool2()
        self.layers["Flatten"] = Flatten()
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {{
            "W1": self.layers["Conv1"].dW, "b1": self.layers["Conv1"].db,
            "W2": self.layers["Affine1"].dW, "b2": self.layers["Affine1"].db,
        }}
'''


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training", "--timeout", "120"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def test_conv_network_is_fed_small_images_its_constructor_accepts(tmp_path):
    path = tmp_path / "convnet.py"
    path.write_text(CONVNET.format(pool_scale=4))
    code, report = check(path)
    assert errors(report) == [], [(f["code"], f["message"]) for f in errors(report)]
    built = next(b for b in report["built"] if b["what"] == "SmallConvNet")
    assert "input_size=8" in built["how"], built
    assert "(5, 3, 8, 8)" in built["shapes"], built
    assert "SmallConvNet" in {m["layer"] for m in report["measurements"]}
    assert code == 0


def test_conv_network_bug_is_reported_at_its_line(tmp_path):
    path = tmp_path / "convnet.py"
    path.write_text(CONVNET.format(pool_scale="2  # BUG: each of the 4 inputs gets a quarter"))
    code, report = check(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    found = errors(report)
    assert line in {f["line"] for f in found}, [(f["code"], f["line"], f["message"]) for f in found]
    assert code == 1


FIXED = '''

class FixedConvNet(SmallConvNet):
    """Its affine layer is sized for its default image: 2 channels x 5 x 5 after pooling."""

    def __init__(self, input_dim=(3, 10, 10), output_size=4):
        super().__init__(input_channels=input_dim[0], input_size=10, output_size=output_size)
        assert self.params["W2"].shape[0] == 2 * 5 * 5


network = FixedConvNet()
'''


def test_network_built_without_arguments_gets_its_default_input_dim(tmp_path):
    path = tmp_path / "fixed.py"
    path.write_text(CONVNET.format(pool_scale=4).replace("class SmallConvNet:", "class SmallConvNet:  # base") + FIXED)
    code, report = check(path)
    assert errors(report) == [], [(f["code"], f["message"]) for f in errors(report)]
    built = [b for b in report["built"] if b["what"].startswith("FixedConvNet")]
    assert built and any("x (5, 3, 10, 10)" in b["shapes"] for b in built), report["built"]
    assert code == 0
