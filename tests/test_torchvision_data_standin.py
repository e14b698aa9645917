"""NumPy networks whose data comes from torchvision: `datasets.MNIST(root, train=True, download=True,
transform=...)`, then `torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)` and `for images,
labels in loader: x = images.view(-1, 784).numpy()`, or `np.array(ds.data)` read once.

torchvision is not installed here: its data sets and transforms are synthetic stand-ins of the real
shapes (`loading/torchdata.py`, recorded for `synthetic-data`), so the NumPy network trains and its
step is checked. Each program is checked twice: with this machine's torch (its own DataLoader collates
the stand-ins' real tensors) and with torch hidden as well (the stand-in DataLoader and tensors)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

# A `sitecustomize` on PYTHONPATH that makes torch unfindable in every process of the check.
HIDE_TORCH = """\
import importlib.machinery as _machinery

_find = _machinery.PathFinder.find_spec


def _find_spec(cls, name, path=None, target=None):
    if name.split(".")[0] == "torch":
        return None
    return _find(name, path, target)


_machinery.PathFinder.find_spec = classmethod(_find_spec)
"""

LOADER_MLP = """\
import numpy as np
import torch
import torchvision
import torchvision.transforms as transforms

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = torchvision.datasets.MNIST(root='./data', train=True, download=True, transform=transform)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)

rng = np.random.default_rng(0)
W1 = rng.normal(0, 0.05, (784, 64))
b1 = np.zeros(64)
W2 = rng.normal(0, 0.05, (64, 10))
b2 = np.zeros(10)
lr = 0.1

for epoch in range(2):
    for images, labels in train_loader:
        x = images.view(-1, 784).numpy()
        y = labels.numpy()
        n = x.shape[0]
        h = np.maximum(0, x @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        dz = p.copy()
        dz[np.arange(n), y] -= 1
        dz /= n
        dW2 = h.T @ dz
        db2 = dz.sum(axis=0)
        dh = dz @ W2.T
        dh[h <= 0] = 0
        dW1 = x.T @ dh
        db1 = dh.sum(axis=0)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    print(epoch, loss)
"""

DATA_AUTOENCODER = """\
import numpy as np
from torchvision import datasets, transforms

train = datasets.FashionMNIST(root="./data", train=True, download=True, transform=transforms.ToTensor())
X = np.array(train.data).reshape(len(train), -1) / 255.0
labels = train.targets.numpy()
first, label = train[0]
assert first.shape == (1, 28, 28) and isinstance(label, int) and labels.shape == (len(X),)

rng = np.random.default_rng(1)
w1 = rng.normal(0, 0.05, (784, 32))
b1 = np.zeros(32)
w2 = rng.normal(0, 0.05, (32, 784))
b2 = np.zeros(784)


def forward(x):
    h = np.tanh(x @ w1 + b1)
    out = 1 / (1 + np.exp(-(h @ w2 + b2)))
    return h, out


lr = 0.5
for epoch in range(3):
    for start in range(0, len(X), 100):
        x = X[start:start + 100]
        h, out = forward(x)
        loss = np.mean((out - x) ** 2)
        d_out = 2 * (out - x) / out.size
        d_z2 = d_out * out * (1 - out)
        d_w2 = h.T @ d_z2
        d_b2 = d_z2.sum(axis=0)
        d_h = d_z2 @ w2.T
        d_z1 = d_h * (1 - h ** 2)
        d_w1 = x.T @ d_z1
        d_b1 = d_z1.sum(axis=0)
        w1 -= lr * d_w1
        b1 -= lr * d_b1
        w2 -= lr * d_w2
        b2 -= lr * d_b2
    print(epoch, loss)
"""

# CIFAR10 as torchvision keeps it (a NumPy array and a list), a flattening Lambda, drop_last, size()
CIFAR_SOFTMAX = """\
import numpy as np
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

flat = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    transforms.Lambda(lambda t: t.reshape(-1)),
])
cifar = datasets.CIFAR10("./data", train=True, download=True, transform=flat)
assert cifar.data.shape[1:] == (32, 32, 3) and cifar.data.dtype == np.uint8 and isinstance(cifar.targets, list)
loader = DataLoader(cifar, batch_size=50, shuffle=True, drop_last=True)
assert len(loader) == len(cifar) // 50

rng = np.random.default_rng(2)
W = rng.normal(0, 0.01, (3072, 10))
b = np.zeros(10)
for epoch in range(2):
    for images, targets in loader:
        assert tuple(images.shape) == (50, 3072) and targets.size(0) == 50
        x = images.float().numpy().astype(np.float64)
        y = targets.numpy()
        s = x @ W + b
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(y)), y]))
        g = p.copy()
        g[np.arange(len(y)), y] -= 1
        g /= len(y)
        W -= 0.01 * (x.T @ g)
        b -= 0.01 * g.sum(axis=0)
"""


@pytest.fixture(params=["torch installed", "torch missing"])
def torch_mode(request, tmp_path, monkeypatch):
    if request.param == "torch installed" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed here (it is an optional extra, for the benchmarks)")
    if request.param == "torch missing":
        site = tmp_path / "site"
        write(site, "sitecustomize.py", HIDE_TORCH)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p))
    return request.param


def _user(tmp_path):
    return tmp_path / "user"


def _clean_and_trained(report, folder, name, loader, parameters):
    assert errors(report) == []
    assert [f for f in report["findings"] if f["severity"] == "warning"] == []
    assert not any(f["name"] == "program-stopped" for f in report["findings"]), report["findings"]
    said = " ".join(f["message"] for f in report["findings"] if f["name"] == "synthetic-data")
    assert f"torchvision.datasets.{loader}" in said
    assert {p["name"] for p in replayed(report)["parameters"]} == parameters
    assert set(step_verdicts(report).values()) == {"ok"}
    assert sorted(p.name for p in folder.iterdir()) == [name]  # no `./data` made beside the user's file


def test_an_mlp_fed_from_a_dataloader_is_trained_on_synthetic_digits_and_checked(tmp_path, torch_mode):
    path = write(_user(tmp_path), "mlp.py", LOADER_MLP)
    report = check(path)
    _clean_and_trained(report, path.parent, "mlp.py", "MNIST", {"W1", "b1", "W2", "b2"})
    missing = {f["message"].split("`")[1] for f in report["findings"] if f["name"] == "missing-module"}
    assert ("torch" in missing) == (torch_mode == "torch missing"), missing


def test_an_autoencoder_reading_the_data_set_once_is_trained_and_checked(tmp_path, torch_mode):
    path = write(_user(tmp_path), "autoencoder.py", DATA_AUTOENCODER)
    _clean_and_trained(check(path), path.parent, "autoencoder.py", "FashionMNIST", {"w1", "b1", "w2", "b2"})


def test_cifar10_through_normalize_and_a_flattening_lambda_is_trained_and_checked(tmp_path, torch_mode):
    path = write(_user(tmp_path), "softmax.py", CIFAR_SOFTMAX)
    _clean_and_trained(check(path), path.parent, "softmax.py", "CIFAR10", {"W", "b"})


def test_a_wrong_gradient_in_the_dataloader_mlp_is_found_at_its_line(tmp_path, torch_mode):
    path = planted(_user(tmp_path), "mlp.py", LOADER_MLP, "dW2 = h.T @ dz", "dW2 = h.T @ p")
    found = errors(check(path))
    assert found, "the wrong gradient of W2 was not found"
    assert line_of(path, "dW2 = h.T @ p") in {f["line"] for f in found}


def test_a_wrong_tanh_derivative_in_the_autoencoder_is_found_at_its_line(tmp_path, torch_mode):
    path = planted(_user(tmp_path), "autoencoder.py", DATA_AUTOENCODER, "d_z1 = d_h * (1 - h ** 2)", "d_z1 = d_h * (1 - h)")
    found = errors(check(path))
    assert {f["line"] for f in found} == {line_of(path, "d_z1 = d_h * (1 - h)")}


# images read one by one without a transform (`np.array(pil_image)`), then batches of 1,024
SAMPLE_BY_SAMPLE = """\
import numpy as np
import torchvision


def images_of(split):
    ds = torchvision.datasets.MNIST("./", train=split == "train", download=True)
    out = np.zeros((len(ds), 784))
    for i in range(len(ds)):
        picture, _ = ds[i]
        out[i] = np.array(picture).reshape(-1)
    return out / 255.0


data = images_of("train")
enc = np.random.normal(0.0, 0.01, (784, 48))
dec = np.random.normal(0.0, 0.01, (48, 784))
size = 1024
for epoch in range(4):
    for k in range(len(data) // size):
        batch = data[k * size:(k + 1) * size]
        code = np.maximum(batch @ enc, 0)
        recon = 1 / (1 + np.exp(-(code @ dec)))
        loss = np.mean((recon - batch) ** 2)
        g_recon = 2 * (recon - batch) / recon.size
        g_logits = g_recon * recon * (1 - recon)
        g_dec = code.T @ g_logits
        g_code = g_logits @ dec.T * (code > 0)
        g_enc = batch.T @ g_code
        enc -= 50.0 * g_enc
        dec -= 50.0 * g_dec
"""


def test_samples_read_one_by_one_fill_batches_of_1024(tmp_path):
    """More synthetic samples than the other loaders give: a loop of `len(data) // 1024` batches runs."""
    path = write(_user(tmp_path), "ae.py", SAMPLE_BY_SAMPLE)
    _clean_and_trained(check(path), path.parent, "ae.py", "MNIST", {"enc", "dec"})


def test_a_relu_gradient_without_its_mask_is_found_at_its_line(tmp_path):
    path = planted(_user(tmp_path), "ae.py", SAMPLE_BY_SAMPLE, "g_code = g_logits @ dec.T * (code > 0)", "g_code = g_logits @ dec.T")
    found = errors(check(path))
    assert {f["line"] for f in found} == {line_of(path, "g_code = g_logits @ dec.T")}
