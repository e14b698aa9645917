"""Stand-ins for the data path of "NumPy network, torchvision for the data" programs.

A network written in NumPy often gets MNIST from torchvision:
`datasets.MNIST(root, train=True, download=True, transform=transforms.ToTensor())`, then
`DataLoader(ds, batch_size=64, shuffle=True)` and `for images, labels in loader:
x = images.view(-1, 784).numpy()`, or `ds.data.numpy()` / `ds.targets.numpy()` once. With
torchvision missing, `stubs` reaches the names here through `datasets.standin`:

- `MNIST`, `FashionMNIST`, `KMNIST`, `CIFAR10`: synthetic samples of the real shapes and dtypes
  (`datasets._samples`, recorded for the `synthetic-data` finding): `.data` uint8 (N, 28, 28) as a
  tensor (CIFAR10: a NumPy (N, 32, 32, 3) array), `.targets` int64 (CIFAR10: a list), `len()`, and
  `ds[i]` giving (image, label) through the transform; without one the image is the uint8 array
  `np.array(pil_image)` would give.
- `transforms.ToTensor`, `Compose`, `Normalize`, `Lambda`, applied as torchvision applies them.
- `torch.utils.data.DataLoader` (torch missing too) over any data set with `len()` and indexing,
  and `TensorDataset`: batches collated as torch collates them.

The tensors are real torch tensors when the user's program has imported a real torch (only
torchvision is missing: torch's own DataLoader then collates them), else `Tensor`: a NumPy array
with the tensor methods these programs call (`.numpy()`, `.view(-1, 784)`, `.float()`, `.size()`).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.loading import datasets


class _Size(int):
    """`tensor.size` both ways: NumPy's element count, and torch's `size()` / `size(dim)`."""

    _shape: tuple[int, ...]

    def __call__(self, dim: int | None = None) -> Any:
        return self._shape if dim is None else self._shape[dim]


class Tensor(np.ndarray):
    """A torch tensor for a program that turns it into NumPy: arithmetic on it gives plain arrays."""

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        plain = np.ndarray.view(array, np.ndarray)
        return plain[()] if return_scalar else plain

    def numpy(self, *_: Any, **__: Any) -> np.ndarray:
        return np.ndarray.view(self, np.ndarray)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        """torch's `view(-1, 784)` reshapes; NumPy's `view(dtype)` / `view(type)` still works."""
        shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        if shape and not kwargs and all(isinstance(n, (int, np.integer)) for n in shape):
            return self.reshape(tuple(int(n) for n in shape))
        return np.ndarray.view(self, *args, **kwargs)

    @property
    def size(self) -> Any:  # type: ignore[override]
        count = _Size(int(np.prod(self.shape)))
        count._shape = tuple(self.shape)
        return count

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(np.prod(self.shape))

    def detach(self) -> Tensor:
        return self

    def cpu(self) -> Tensor:
        return self

    def to(self, *args: Any, **__: Any) -> Tensor:
        return self

    def clone(self) -> Tensor:
        return self.copy()

    def unsqueeze(self, dim: int) -> Tensor:
        return np.expand_dims(self, dim)

    def permute(self, *dims: Any) -> Tensor:
        return self.transpose(*dims)


def tensor(array: Any) -> Any:
    """`array` as the user's program would have it from torch: a real tensor when a real torch is imported."""
    array = np.ascontiguousarray(array)
    torch = sys.modules.get("torch")
    if torch is not None and not _is_stub(torch) and callable(getattr(torch, "from_numpy", None)):
        return torch.from_numpy(array)
    return np.ndarray.view(array, Tensor)


def _is_stub(module: Any) -> bool:
    from backprop_doctor.loading.stubs import is_stub

    return is_stub(module)


def _array(value: Any) -> np.ndarray:
    """A tensor (ours or torch's), an array or a number as a plain NumPy array."""
    if not isinstance(value, np.ndarray) and callable(getattr(value, "numpy", None)):
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else value.numpy()
    return np.ndarray.view(np.asarray(value), np.ndarray)


# --------------------------------------------------------------------------- data sets


# More than the other loaders' 600: these programs draw batches of their own size from the data set, up
# to 1,024 (`ITERATIONS = len(X) // BATCH_SIZE`), and a loop of no full batch would never run.
SAMPLES = 2048


class _VisionDataset:
    _spec: Any = datasets.MNIST
    _name = "MNIST"
    classes = [str(k) for k in range(10)]

    def __init__(self, root: Any = None, train: bool = True, transform: Callable[..., Any] | None = None, target_transform: Callable[..., Any] | None = None, download: bool = False, **_: Any):
        n, seed = (SAMPLES, 0) if train else (datasets.TEST, 1)
        x, labels = datasets._samples(self._spec, n, seed)
        pixels = np.round(255 * x).astype(np.uint8)  # (N, C, H, W)
        self.root, self.train, self.transform, self.target_transform = root, train, transform, target_transform
        if self._spec.shape[0] == 1:
            self.data: Any = tensor(pixels[:, 0])
            self.targets: Any = tensor(labels.astype(np.int64))
        else:  # torchvision keeps CIFAR as a NumPy array and a list
            self.data = np.ascontiguousarray(pixels.transpose(0, 2, 3, 1))
            self.targets = [int(k) for k in labels]
        self._images = np.ascontiguousarray(pixels[:, 0] if self._spec.shape[0] == 1 else pixels.transpose(0, 2, 3, 1))
        self._labels = labels.astype(np.int64)
        datasets._record(
            f"torchvision.datasets.{self._name}",
            f"{n} {'training' if train else 'test'} samples, data {tuple(self.data.shape)} uint8, targets ({n},)",
        )

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        image: Any = self._images[int(index)]  # what `np.array(pil_image)` gives
        label: Any = int(self._labels[int(index)])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self) -> str:
        return f"Dataset {self._name} (synthetic stand-in)\n    Number of datapoints: {len(self)}"


def _dataset(name: str, spec: Any) -> type:
    return type(name, (_VisionDataset,), {"_spec": spec, "_name": name, "__module__": "torchvision.datasets"})


_DATASETS = {name: _dataset(name, spec) for name, spec in (("MNIST", datasets.MNIST), ("FashionMNIST", datasets.MNIST), ("KMNIST", datasets.MNIST), ("CIFAR10", datasets.CIFAR))}


class TensorDataset:
    """`torch.utils.data.TensorDataset(x, y)`: sample i is the i-th row of each."""

    def __init__(self, *tensors: Any):
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)


# --------------------------------------------------------------------------- transforms


class ToTensor:
    """An (H, W) or (H, W, C) image to a float32 (C, H, W) tensor, uint8 pixels scaled to [0, 1]."""

    def __call__(self, picture: Any) -> Any:
        array = _array(picture)
        if array.ndim == 2:
            array = array[:, :, None]
        scaled = array.astype(np.float32) / 255 if array.dtype == np.uint8 else array
        return tensor(scaled.transpose(2, 0, 1))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel of a (C, H, W) tensor."""

    def __init__(self, mean: Any, std: Any, inplace: bool = False):
        self.mean, self.std = mean, std

    def __call__(self, value: Any) -> Any:
        array = _array(value)
        shape = (-1,) + (1,) * (array.ndim - 1) if array.ndim else ()
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(shape)
        std = np.asarray(self.std, dtype=array.dtype).reshape(shape)
        return tensor((array - mean) / std)


class Lambda:
    def __init__(self, function: Callable[..., Any]):
        self.function = function

    def __call__(self, value: Any) -> Any:
        return self.function(value)


class Compose:
    def __init__(self, transforms: Any):
        self.transforms = list(transforms)

    def __call__(self, value: Any) -> Any:
        for transform in self.transforms:
            value = transform(value)
        return value


# --------------------------------------------------------------------------- the loader


class DataLoader:
    """torch's DataLoader over a data set with `len()` and indexing, batches collated as torch does:
    tensors and arrays stacked, numbers into a tensor; shuffled by its own generator, one order per epoch."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False, drop_last: bool = False, **_: Any):
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, bool(shuffle), bool(drop_last)
        self._epoch = 0

    def __len__(self) -> int:
        n, size = len(self.dataset), self.batch_size or 1
        return n // size if self.drop_last else math.ceil(n / size)

    def __iter__(self) -> Any:
        n = len(self.dataset)
        order = np.random.default_rng([7, self._epoch]).permutation(n) if self.shuffle else np.arange(n)
        self._epoch += 1
        if self.batch_size is None:
            for i in order:
                yield self.dataset[int(i)]
            return
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield _collate([self.dataset[int(i)] for i in order[start : start + self.batch_size]])


def _collate(samples: list[Any]) -> Any:
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return [_collate(list(field)) for field in zip(*samples)]
    if isinstance(first, dict):
        return {key: _collate([s[key] for s in samples]) for key in first}
    return tensor(np.stack([_array(s) for s in samples]))


# --------------------------------------------------------------------------- how `stubs` reaches them

_TRANSFORMS = {"ToTensor": ToTensor, "Normalize": Normalize, "Lambda": Lambda, "Compose": Compose}
_DATA = {"DataLoader": DataLoader, "TensorDataset": TensorDataset}
_PLACES = (
    (re.compile(r"^torchvision\.datasets(\.\w+)?\.(\w+)$"), _DATASETS),
    (re.compile(r"^torchvision\.transforms(\.transforms)?\.(\w+)$"), _TRANSFORMS),
    (re.compile(r"^torch\.utils\.data(\.dataloader|\.dataset)?\.(\w+)$"), _DATA),
)


def standin(qualified: str) -> Any:
    """The stand-in for `qualified`, a name reached through a missing torch or torchvision, or None."""
    for pattern, names in _PLACES:
        match = pattern.match(qualified)
        if match is not None and match[2] in names:
            return names[match[2]]
    return None
