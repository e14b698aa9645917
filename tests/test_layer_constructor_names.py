"""Layers whose constructors take what the tool used to give up on: a 1-D convolution's
`in_channels`/`out_channels`/`kernel_size` (or `input_channel`, `output_channel`, `kernel`) and
its (out, in, k) or (k, in, out) kernel, fed a sequence of channels; and any layer built from the
user's own `--build 'Layer(...)'`, which used to be refused as "not a network class". Correct
layers are clean, a planted wrong gradient is named at its line."""

import subprocess
import sys

import pytest

from tests.userfiles import check, line_of, planted, write

# channels first, the kernel (out, in, k), one einsum a position
CHANNELS_FIRST = """
    import numpy as np


    class Conv1D:
        def __init__(self, in_channels, out_channels, kernel_size):
            self.W = np.random.randn(out_channels, in_channels, kernel_size) * 0.1
            self.b = np.zeros(out_channels)
            self.k = kernel_size

        def forward(self, x):
            self.x = x
            steps = x.shape[2] - self.k + 1
            out = np.zeros((x.shape[0], self.W.shape[0], steps))
            for i in range(steps):
                out[:, :, i] = np.einsum("nck,ock->no", x[:, :, i:i + self.k], self.W) + self.b
            return out

        def backward(self, dout):
            self.dW = np.zeros_like(self.W)
            self.db = dout.sum(axis=(0, 2))
            dx = np.zeros_like(self.x)
            for i in range(dout.shape[2]):
                self.dW += np.einsum("no,nck->ock", dout[:, :, i], self.x[:, :, i:i + self.k])
                dx[:, :, i:i + self.k] += np.einsum("no,ock->nck", dout[:, :, i], self.W)
            return dx
"""

# channels last (N, L, C), the kernel (k, in, out), singular argument names
CHANNELS_LAST = """
    import numpy as np


    class TemporalConv:
        def __init__(self, input_channel, output_channel, kernel=3):
            self.weight = np.random.randn(kernel, input_channel, output_channel) / np.sqrt(kernel * input_channel)
            self.bias = np.zeros(output_channel)

        def forward(self, x):
            self.x = x
            k = self.weight.shape[0]
            self.windows = np.stack([x[:, i:i + k, :] for i in range(x.shape[1] - k + 1)], axis=1)
            return np.einsum("ntkc,kco->nto", self.windows, self.weight) + self.bias

        def backward(self, grad):
            k = self.weight.shape[0]
            self.dweight = np.einsum("ntkc,nto->kco", self.windows, grad)
            self.dbias = grad.sum(axis=(0, 1))
            dwindows = np.einsum("nto,kco->ntkc", grad, self.weight)
            dx = np.zeros_like(self.x)
            for i in range(grad.shape[1]):
                dx[:, i:i + k, :] += dwindows[:, i]
            return dx
"""

CASES = [
    pytest.param(CHANNELS_FIRST, "self.db = dout.sum(axis=(0, 2))", "self.db = dout.sum(axis=0).sum(axis=0) / dout.shape[2]", id="channels-first"),
    pytest.param(CHANNELS_LAST, "self.dbias = grad.sum(axis=(0, 1))", "self.dbias = grad.sum(axis=(0, 1)) * 0.5", id="channels-last"),
]


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_correct_1d_convolution_with_channel_arguments_is_checked_and_clean(tmp_path, source, correct, wrong):
    report = check(write(tmp_path, "conv.py", source))
    assert report["verdict"].startswith("✓"), report["verdict"]
    checked = {m["param"] for m in report["measurements"] if m["verdict"] == "ok"}
    assert "x" in checked and len(checked) == 3, report["measurements"]


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_wrong_bias_gradient_of_a_1d_convolution_is_named_at_its_line(tmp_path, source, correct, wrong):
    path = planted(tmp_path, "conv.py", source, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, wrong), root


# a layer whose sizes no name tells: built only from the user's own --build
UNGUESSABLE = """
    import numpy as np


    class Mixer:
        def __init__(self, alpha_width, beta_width):
            self.P = np.random.randn(alpha_width, beta_width) * 0.3
            self.q = np.zeros(beta_width)

        def forward(self, x):
            self.x = x
            return np.tanh(x @ self.P + self.q)

        def backward(self, dout):
            self.out = np.tanh(self.x @ self.P + self.q)
            da = dout * (1 - self.out ** 2)
            self.dP = self.x.T @ da
            self.dq = da.sum(axis=0)
            return da @ self.P.T
"""


def _cli(path, *args):
    return subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--no-training", *args],
        capture_output=True, text=True, encoding="utf-8", cwd=path.parent, timeout=300, env={"NO_COLOR": "1", "PATH": ""},
    )  # fmt: skip


def test_build_names_a_layer_class_and_builds_it(tmp_path):
    path = write(tmp_path, "mixer.py", UNGUESSABLE)
    unbuilt = check(path)
    assert "nothing was checked" in unbuilt["verdict"] and "--build 'Mixer(...)'" in unbuilt["verdict"], unbuilt["verdict"]
    built = check(path, "--build", "Mixer(alpha_width=4, beta_width=3)")
    assert built["verdict"].startswith("✓"), built["verdict"]
    assert {m["param"] for m in built["measurements"] if m["verdict"] == "ok"} == {"x", "P", "q"}


def test_a_wrong_gradient_is_found_in_a_layer_built_from_build(tmp_path):
    path = planted(tmp_path, "mixer.py", UNGUESSABLE, "self.dq = da.sum(axis=0)", "self.dq = dout.sum(axis=0)")
    report = check(path, "--build", "Mixer(alpha_width=4, beta_width=3)")
    root = report["findings"][report["root_cause"]]
    assert root["line"] == line_of(path, "self.dq = dout.sum(axis=0)"), root


def test_build_that_does_not_construct_the_layer_says_so_without_a_traceback(tmp_path):
    path = write(tmp_path, "mixer.py", UNGUESSABLE)
    report = check(path, "--build", "Mixer(alpha_width=4)")
    (failed,) = [f for f in report["findings"] if f["code"] == "BPD008"]
    assert "--build `Mixer(...)` does not construct it" in failed["message"], failed
    result = _cli(path, "--build", "Blender(width=3)")
    assert result.returncode == 2 and "not a network or layer class in this file (found: Mixer)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# weightless 1-D layers whose forward's docstring gives its input three axes under its own name
DOWNSAMPLE = """
    import numpy as np


    class Downsample1d:
        def __init__(self, downsampling_factor):
            self.factor = downsampling_factor

        def forward(self, A):
            \"\"\"
            A (np.array): (batch_size, in_channels, input_width)
            \"\"\"
            self.width = A.shape[2]
            return A[:, :, ::self.factor]

        def backward(self, dLdZ):
            dLdA = np.zeros((dLdZ.shape[0], dLdZ.shape[1], self.width))
            dLdA[:, :, ::self.factor] = dLdZ
            return dLdA
"""

UPSAMPLE = """
    import numpy as np


    class Stretch:
        def __init__(self, upsampling_factor=2):
            self.k = upsampling_factor

        def forward(self, signal):
            \"\"\"signal: (N, C, W) -> (N, C, k * (W - 1) + 1)\"\"\"
            n, c, w = signal.shape
            out = np.zeros((n, c, self.k * (w - 1) + 1))
            out[:, :, ::self.k] = signal
            return out

        def backward(self, grad):
            return grad[:, :, ::self.k]
"""

RESAMPLING = [
    pytest.param(DOWNSAMPLE, "dLdA[:, :, ::self.factor] = dLdZ", "dLdA[:, :, ::self.factor] = 2 * dLdZ", id="downsample"),
    pytest.param(UPSAMPLE, "return grad[:, :, ::self.k]", "return grad[:, :, ::self.k] * self.k", id="upsample"),
]


@pytest.mark.parametrize(("source", "correct", "wrong"), RESAMPLING)
def test_a_1d_resampling_layer_is_fed_the_three_axes_its_docstring_gives(tmp_path, source, correct, wrong):
    report = check(write(tmp_path, "resampling.py", source))
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert any("(5, 2, 8)" in b["shapes"] for b in report["built"]), report["built"]
    path = planted(tmp_path / "bad", "resampling.py", source, correct, wrong)
    root = check(path)["findings"]
    assert any(f["severity"] == "error" and f["line"] == line_of(path, wrong) for f in root), root
