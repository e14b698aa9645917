"""Small synthetic stand-ins, of the documented shapes and dtypes, for data loaders that are
missing (a `dataset/` folder not beside the file) or would download.

When `stubs.StubFinder` stands in for a missing module, a loader reached
through it (`dataset.mnist.load_mnist`, `keras.datasets.mnist.load_data`,
`sklearn.datasets.fetch_openml`, `input_data.read_data_sets`,
`mnist_loader.load_data_wrapper`, ...) is one of these functions instead of an
inert stub: it honours the loader's flags (one-hot or labels, flattened or
images, normalised or 0-255) and returns a few hundred samples with learnable
structure (each class is a noisy copy of its own prototype), so a program's
loss curve means something. A read of a well-known data file that is not
there (`mnist.pkl.gz` as Nielsen's `mnist_loader` opens it, `mnist.npz`)
gets synthetic content of the same layout (`install_missing_files`); a missing
word-vector file (`glove.6B.50d.txt`, `wiki.en.vec`) reads as one word and its
numbers a line, the words those of the text beside the program. Each
replacement is recorded in `REPLACED` for the `synthetic-data` finding, and
each file object handed out in `OPENED`, so a program that stops while it holds
one is told the stop is the stand-in's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

TRAIN, TEST = 600, 100  # samples per split
REPLACED: list[tuple[str, str, str | None, int | None]] = []  # (loader, what it returned, file, line)
# the file objects `open` handed out for missing data files, with what each stands for ("the text file input.txt"):
# a program that stops while a frame of its holds one stopped on the stand-in's content (`observe.run`)
OPENED: list[tuple[Any, str]] = []


@dataclass(frozen=True)
class _Spec:
    shape: tuple[int, ...]  # one image, channels first
    classes: int = 10


MNIST = _Spec((1, 28, 28))
CIFAR = _Spec((3, 32, 32))
DIGITS = _Spec((1, 8, 8))
IRIS = _Spec((4,), classes=3)
CANCER = _Spec((30,), classes=2)


def _samples(spec: _Spec, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images in (0, 1) (float64) and integer labels; class k is prototype k plus noise."""
    rng = np.random.default_rng([spec.classes, int(np.prod(spec.shape)), seed])
    prototypes = rng.random((spec.classes, *spec.shape))
    labels = np.arange(n) % spec.classes
    rng.shuffle(labels)
    x = prototypes[labels] + 0.25 * rng.standard_normal((n, *spec.shape))
    # Squashed, not clipped: clipping makes runs of exact 0s and 1s, whose ties put every
    # max-pooling window on a kink of the numerical gradient.
    return 1.0 / (1.0 + np.exp(-4.0 * (x - 0.5))), labels


def _pixels(x: np.ndarray, normalize: bool) -> np.ndarray:
    return x.astype(np.float32) if normalize else np.round(255 * x).astype(np.uint8)


def _one_hot(labels: np.ndarray, classes: int, dtype: Any = np.float64) -> np.ndarray:
    return np.eye(classes, dtype=dtype)[labels]


def _user_frame(frame: Any) -> Any:
    """`frame`, or the nearest frame under it on the stack that runs the user's own code; None when none does."""
    from backprop_doctor.locate import is_user_file

    while frame is not None and not is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def _record(name: str, what: str) -> None:
    frame = _user_frame(sys._getframe(2))
    REPLACED.append((name, what, frame.f_code.co_filename if frame else None, frame.f_lineno if frame else None))


# --------------------------------------------------------------------------- the loaders


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False, **_: Any) -> Any:
    """The book's `dataset.mnist.load_mnist`: ((x_train, t_train), (x_test, t_test))."""
    return _book("load_mnist", MNIST, normalize, flatten, one_hot_label)


def load_cifar10(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False, **_: Any) -> Any:
    return _book("load_cifar10", CIFAR, normalize, flatten, one_hot_label)


def _book(name: str, spec: _Spec, normalize: bool, flatten: bool, one_hot_label: bool) -> Any:
    splits = []
    for n, seed in ((TRAIN, 0), (TEST, 1)):
        x, labels = _samples(spec, n, seed)
        x = _pixels(x, normalize)
        if flatten:
            x = x.reshape(n, -1)
        t = _one_hot(labels, spec.classes, np.uint8) if one_hot_label else labels.astype(np.uint8)
        splits.append((x, t))
    (x, t), _ = splits
    _record(name, f"{TRAIN} training and {TEST} test samples, x {x.shape} {x.dtype}, t {t.shape} {t.dtype}")
    return tuple(splits)


def keras_load_data(spec: _Spec, name: str) -> Callable[..., Any]:
    """`keras.datasets.<name>.load_data()`: uint8 images (N, H, W[, C]) and uint8 labels."""

    def raw() -> Any:
        splits = []
        for n, seed in ((TRAIN, 0), (TEST, 1)):
            x, labels = _samples(spec, n, seed)
            x = _pixels(x, False)
            x = x[:, 0] if spec.shape[0] == 1 else x.transpose(0, 2, 3, 1)
            y = labels.astype(np.uint8).reshape(-1, 1) if spec is CIFAR else labels.astype(np.uint8)
            splits.append((x, y))
        return tuple(splits)

    def load_data(*_: Any, **__: Any) -> Any:
        splits = raw()
        _record(f"keras.datasets.{name}.load_data", f"x {splits[0][0].shape} uint8, y {splits[0][1].shape} uint8")
        return splits

    load_data._raw = raw  # type: ignore[attr-defined]
    return load_data


def load_cifar10_folder(*_: Any, **__: Any) -> Any:
    """cs231n's `load_CIFAR10(root)`: Xtr (N, 32, 32, 3) float, ytr, Xte, yte."""
    out = []
    for n, seed in ((TRAIN, 0), (TEST, 1)):
        x, labels = _samples(CIFAR, n, seed)
        out += [(255 * x).transpose(0, 2, 3, 1).astype(np.float64), labels.astype(np.int64)]
    _record("load_CIFAR10", f"Xtr {out[0].shape}, ytr {out[1].shape}")
    return tuple(out)


class Bunch(dict):
    """What scikit-learn's loaders return: a dict whose keys are also attributes."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def sklearn_loader(spec: _Spec, name: str, strings: bool = False) -> Callable[..., Any]:
    def load(*_: Any, return_X_y: bool = False, **__: Any) -> Any:
        x, labels = _samples(spec, TRAIN, 0)
        images = 16 * x[:, 0] if spec is DIGITS else None
        data = (images.reshape(TRAIN, -1) if images is not None else 255 * x.reshape(TRAIN, -1) if spec is MNIST else x.reshape(TRAIN, -1))
        target = labels.astype(str).astype(object) if strings else labels.astype(np.int64)
        _record(f"sklearn.datasets.{name}", f"data {data.shape}, target {target.shape}")
        if return_X_y:
            return data, target
        bunch = Bunch(data=data, target=target, feature_names=[f"x{i}" for i in range(data.shape[1])])
        if images is not None:
            bunch["images"] = images
        return bunch

    return load


def sklearn_generator(kind: str) -> Callable[..., Any]:
    """`sklearn.datasets.make_moons` / `make_circles` / `make_blobs` / `make_classification`:
    X (n_samples, n_features) float64 and integer labels y (n_samples,), seeded by `random_state`."""

    def make(n_samples: Any = 100, *_: Any, noise: float | None = None, random_state: Any = None, **options: Any) -> Any:
        n = int(n_samples if np.ndim(n_samples) == 0 else np.sum(n_samples))
        seed = random_state if isinstance(random_state, int) else 0
        rng = np.random.default_rng([n, seed])
        spread = 0.1 if noise is None else float(noise)
        if kind in ("moons", "circles"):
            y = np.arange(n) % 2
            angle = rng.uniform(0, np.pi if kind == "moons" else 2 * np.pi, n)
            if kind == "moons":
                x = np.c_[np.cos(angle) + y, np.sin(angle) * (1 - 2 * y) + 0.5 * y]
            else:
                radius = np.where(y == 1, float(options.get("factor", 0.5)), 1.0)
                x = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
            x = x + spread * rng.standard_normal(x.shape)
        else:
            features = int(options.get("n_features", 2 if kind == "blobs" else 20))
            centers = options.get("centers", options.get("n_classes", 3 if kind == "blobs" else 2))
            classes = centers if isinstance(centers, int) else len(centers)
            y = np.arange(n) % classes
            means = rng.uniform(-5, 5, (classes, features))
            x = means[y] + rng.standard_normal((n, features))
        order = rng.permutation(n)
        x, y = x[order], y[order].astype(np.int64)
        _record(f"sklearn.datasets.make_{kind}", f"X {x.shape}, y {y.shape}")
        return x, y

    return make


class _Split:
    """One split of TensorFlow 1's `read_data_sets` result: images, labels and next_batch."""

    def __init__(self, n: int, seed: int, one_hot: bool):
        x, labels = _samples(MNIST, n, seed)
        self.images = x.reshape(n, -1).astype(np.float32)
        self.labels = _one_hot(labels, 10, np.float32) if one_hot else labels.astype(np.uint8)
        self.num_examples = n
        self._at = 0

    def next_batch(self, batch_size: int, *_: Any, **__: Any) -> tuple[np.ndarray, np.ndarray]:
        index = (self._at + np.arange(batch_size)) % self.num_examples
        self._at = int(index[-1] + 1)
        return self.images[index], self.labels[index]


class _DataSets:
    def __init__(self, one_hot: bool):
        self.train = _Split(TRAIN, 0, one_hot)
        self.validation = _Split(TEST, 2, one_hot)
        self.test = _Split(TEST, 1, one_hot)


CSV_ROWS = 2000  # more than the 1,000 samples MNIST-from-a-CSV programs often hold out first


class _Frame(np.ndarray):
    """A data frame read from a CSV, as the array programs turn it into (`np.array(data)`, `data.values`)."""

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self)

    def to_numpy(self, *_: Any, **__: Any) -> np.ndarray:
        return np.asarray(self)

    def head(self, n: int = 5) -> np.ndarray:
        return np.asarray(self)[:n]


_DIGITS = re.compile(r"(?i)mnist|digit")


def read_csv(path: Any = None, *args: Any, **kwargs: Any) -> Any:
    """`pd.read_csv` of an MNIST CSV (Kaggle's `digit-recognizer/train.csv`, `mnist_train.csv`) with
    pandas missing: a label column, then 784 pixel columns of 0-255, one sample per row. A missing
    CSV of another name (`../large_files/train.csv`) is one too when the user's function that reads
    it names MNIST or the digits (`print('get the data from kaggle.com/c/digit-recognizer')`). Any
    other CSV's columns cannot be guessed: an inert stand-in."""
    if not (_DIGITS.search(str(path)) or _digits_named_by_reader(path, sys._getframe(1))):
        from backprop_doctor.loading.stubs import Stub

        return Stub("pandas.read_csv")(path, *args, **kwargs)
    _record(f"pandas.read_csv({str(path)!r})", f"{CSV_ROWS:,} rows: a label, then 784 pixels 0-255")
    return _digits_table().view(_Frame)


def _digits_named_by_reader(path: Any, frame: Any) -> bool:
    """`path` is a CSV that is not there, read by a function of the user's whose code names MNIST or
    the digits (a string, a comment: the Kaggle competition it says to download from)."""
    import os

    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).lower().endswith(".csv") or os.path.exists(path):
        return False
    frame = _user_frame(frame)
    return frame is not None and bool(_DIGITS.search(_code_text(frame.f_code)))


def _code_text(code: Any) -> str:
    """The source lines of a code object (a function's, or a whole module's), as `linecache` has them."""
    import linecache

    lines = linecache.getlines(code.co_filename)
    numbers = [n for _, _, n in code.co_lines() if n]
    if code.co_name == "<module>" or not numbers:
        return "".join(lines)
    return "".join(lines[code.co_firstlineno - 1 : max(numbers)])


def _digits_table() -> np.ndarray:
    """MNIST as a CSV holds it: one sample per row, its label, then its 784 pixels (0-255)."""
    x, labels = _samples(MNIST, CSV_ROWS, 3)
    return np.column_stack([labels, np.round(255 * x.reshape(CSV_ROWS, -1))]).astype(np.int64)


def imread(path: Any = None, flags: Any = 1, *_: Any, **__: Any) -> np.ndarray:
    """`cv2.imread` with OpenCV missing: a synthetic photo, 32 x 32 pixels, 3 channels of uint8 (one for
    `flags` 0, grayscale), never the None the real one gives for a file it cannot read: a layer
    demo that convolves `np.array([img])` then runs on a picture, not on an object array."""
    x, _ = _samples(CIFAR, 1, 4)
    picture = np.round(255 * x[0].transpose(1, 2, 0)).astype(np.uint8)
    gray = isinstance(flags, int) and flags == 0
    _record(f"cv2.imread({str(path)!r})", f"a 32 × 32 {'grayscale' if gray else 'colour'} picture of uint8")
    return picture.mean(axis=2).astype(np.uint8) if gray else picture


def read_data_sets(*_: Any, one_hot: bool = False, **__: Any) -> Any:
    sets = _DataSets(one_hot)
    _record("read_data_sets", f"train.images {sets.train.images.shape}, train.labels {sets.train.labels.shape}")
    return sets


def nielsen_loader(wrapped: bool) -> Callable[..., Any]:
    """Nielsen's `mnist_loader.load_data_wrapper()` (lists of column vectors) or `load_data()`."""

    def load(*_: Any, **__: Any) -> Any:
        splits = []
        for n, seed, vectors in ((TRAIN, 0, True), (TEST, 2, False), (TEST, 1, False)):
            x, labels = _samples(MNIST, n, seed)
            x = x.reshape(n, -1)
            if not wrapped:
                splits.append((x.astype(np.float32), labels.astype(np.int64)))
            elif vectors:
                splits.append([(xi.reshape(784, 1), _one_hot(np.array([y]), 10).reshape(10, 1)) for xi, y in zip(x, labels)])
            else:
                splits.append([(xi.reshape(784, 1), int(y)) for xi, y in zip(x, labels)])
        _record("mnist_loader." + ("load_data_wrapper" if wrapped else "load_data"), f"{TRAIN} training samples of 784 pixels")
        return tuple(splits)

    return load


def nnfs_data(kind: str) -> Callable[..., Any]:
    """The NNFS book's `nnfs.datasets.spiral_data(samples, classes)` and friends."""

    def load(samples: int = 100, classes: int = 3, *_: Any, **__: Any) -> Any:
        rng = np.random.default_rng([samples, classes])
        if kind == "sine":
            x = np.arange(samples).reshape(-1, 1) / samples
            y = np.sin(2 * np.pi * x)
            _record("nnfs.datasets.sine_data", f"X {x.shape}, y {y.shape}")
            return x, y
        n = samples * classes
        y = np.repeat(np.arange(classes), samples).astype(np.uint8)
        if kind == "spiral":
            r = np.tile(np.linspace(0.0, 1, samples), classes)
            angle = np.linspace(0, 4, n) + y * 4 + 0.2 * rng.standard_normal(n)
            x = np.c_[r * np.sin(angle * 2.5), r * np.cos(angle * 2.5)]
        else:
            x = np.c_[0.1 * rng.standard_normal(n) + y / 3, 0.1 * rng.standard_normal(n) + 0.5]
        _record(f"nnfs.datasets.{kind}_data", f"X {x.shape}, y {y.shape} uint8")
        return x, y

    return load


_LOADERS: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
    (re.compile(r"(^|\.)load_mnist$"), load_mnist),
    (re.compile(r"(^|\.)load_cifar10?$"), load_cifar10),
    (re.compile(r"(^|\.)load_CIFAR10$"), load_cifar10_folder),
    (re.compile(r"datasets\.(mnist|fashion_mnist)\.load_data$"), keras_load_data(MNIST, "mnist")),
    (re.compile(r"datasets\.cifar10\.load_data$"), keras_load_data(CIFAR, "cifar10")),
    (re.compile(r"(^|\.)fetch_openml$"), sklearn_loader(MNIST, "fetch_openml", strings=True)),
    (re.compile(r"(^|\.)load_digits$"), sklearn_loader(DIGITS, "load_digits")),
    (re.compile(r"(^|\.)load_iris$"), sklearn_loader(IRIS, "load_iris")),
    (re.compile(r"(^|\.)load_breast_cancer$"), sklearn_loader(CANCER, "load_breast_cancer")),
    (re.compile(r"(^|\.)make_moons$"), sklearn_generator("moons")),
    (re.compile(r"(^|\.)make_circles$"), sklearn_generator("circles")),
    (re.compile(r"(^|\.)make_blobs$"), sklearn_generator("blobs")),
    (re.compile(r"(^|\.)make_classification$"), sklearn_generator("classification")),
    (re.compile(r"(^|\.)read_data_sets$"), read_data_sets),
    (re.compile(r"^pandas\.read_csv$"), read_csv),
    (re.compile(r"^cv2\.imread$"), imread),
    (re.compile(r"mnist_loader\.load_data_wrapper$"), nielsen_loader(True)),
    (re.compile(r"mnist_loader\.load_data$"), nielsen_loader(False)),
    (re.compile(r"(^|\.)spiral_data$"), nnfs_data("spiral")),
    (re.compile(r"(^|\.)vertical_data$"), nnfs_data("vertical")),
    (re.compile(r"(^|\.)sine_data$"), nnfs_data("sine")),
]


# --------------------------------------------------------------------------- data files that are not there

_FILES = ("mnist.pkl.gz", "mnist.pkl", "mnist.npz")
_DIGITS_CSV = re.compile(r"(?i)(mnist|digit)\w*\.csv$")  # `mnist_train.csv`, `mnist_test_10.csv`
# MNIST's own files as LeCun distributes them: `train-images-idx3-ubyte`, `t10k-labels.idx1-ubyte`
_IDX = re.compile(r"(?i)(train|t10k)-(images|labels)[-.]idx[13]-ubyte")


# MNIST's own sizes, which a reader that skips the header writes out: `loaded[16:].reshape((60000, 28, 28, 1))`
_IDX_COUNTS = {"train": 60000, "t10k": 10000}


def _idx_bytes(split: str, kind: str, count: int | None = None) -> bytes:
    """MNIST's IDX layout: a big-endian header (magic 2051 and n, 28, 28 for images; 2049 and n for
    labels), then one unsigned byte per pixel or label. With `count`, that many samples: the few
    synthetic ones repeated (`_idx_count`)."""
    import struct

    n, seed = (TRAIN, 0) if split.lower() == "train" else (TEST, 1)
    x, labels = _samples(MNIST, n, seed)
    if kind.lower() == "labels":
        body = labels.astype(np.uint8)
        return struct.pack(">II", 2049, count or n) + np.resize(body, count or n).tobytes()
    pixels = _pixels(x, normalize=False).reshape(n, -1)
    return struct.pack(">IIII", 2051, count or n, 28, 28) + np.resize(pixels, (count or n, pixels.shape[1])).tobytes()


def _idx_count(split: str) -> int | None:
    """MNIST's own count of the `split` when the user's code reading the file writes that number
    (`reshape((60000, 28, 28, 1))` after skipping the header): a reader that never looks at the
    header stops on any other count. Else None: the synthetic split's own size."""
    count = _IDX_COUNTS[split.lower()]
    frame = _user_frame(sys._getframe(1))
    if frame is None:
        return None
    written = rf"(?<![\w.])(?:{count}|{count // 1000}_?000)(?![\w.])"
    return count if re.search(written, _code_text(frame.f_code)) else None


def _file_bytes(name: str) -> bytes:
    """The synthetic content of a well-known data file, by its base name."""
    import io
    import pickle

    if name == "mnist.npz":
        buffer = io.BytesIO()
        (x, y), (xt, yt) = keras_load_data(MNIST, "mnist")._raw()  # type: ignore[attr-defined]
        np.savez(buffer, x_train=x, y_train=y, x_test=xt, y_test=yt)
        return buffer.getvalue()
    splits = []
    for n, seed in ((TRAIN, 0), (TEST, 2), (TEST, 1)):
        x, labels = _samples(MNIST, n, seed)
        splits.append((x.reshape(n, -1).astype(np.float32), labels.astype(np.int64)))
    return pickle.dumps(tuple(splits), protocol=2)


_WORDS = (
    "the of and to in is it that was he for on are as with his they at be this have from or one had by word but not "
    "what all were we when your can said there use an each which she do how their if will up other about out many "
    "then them these so some her would make like him into time has look two more write go see number no way could "
    "people my than first water been call who oil its now find long down day did get come made may part"
).split()
TEXT_CHARACTERS = 10_000


def _text_bytes() -> bytes:
    """About ten thousand characters of English-like text: a char-RNN's `input.txt` with the usual alphabet."""
    rng = np.random.default_rng(7)
    sentences, length = [], 0
    while length < TEXT_CHARACTERS:
        words = [_WORDS[i] for i in rng.integers(0, len(_WORDS), int(rng.integers(4, 12)))]
        sentence = " ".join(words).capitalize() + rng.choice([".", ".", ",", "?", "!"])
        sentences.append(sentence)
        length += len(sentence) + 1
    lines = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n".join(lines).encode("ascii")


# word vectors as GloVe and fastText hand them out, one word and its numbers a line: `glove.6B.50d.txt`,
# `wiki.en.vec` (fastText's start with a line "<words> <size>"), `word2vec_vectors.txt`
_WORD_VECTORS = re.compile(r"(?i)(^glove[\w.-]*\.txt$|\.vec$|(word2vec|fasttext|w2v|wordvec|word_vec|embedding)[\w.-]*\.txt$)")
_VECTOR_SIZE = re.compile(r"(?i)(?<![a-z0-9])(\d{1,4})d(?![a-z])|\.(\d{2,4})\.vec$")  # `6B.50d`, `cc.en.300.vec`
VECTOR_NUMBERS = 1_200_000  # words times numbers a stand-in word-vector file holds at most
_TEXT_FILES = (".csv", ".txt", ".tsv", ".json")
_NEARBY_BYTES = 2_000_000  # read of each text file beside the user's code, for its words
_NEARBY_FILES = 120  # files read for those words at most


def _word_vector_bytes(name: str, folder: str | None) -> tuple[bytes, int, int]:
    """(content, words, numbers a word) of a stand-in for a missing word-vector file: a line per word,
    the word then its numbers (GloVe's layout; fastText's `.vec` starts with a line of the counts).
    The words are those of the text files beside the user's code and the string literals of its modules
    (the sentences a program looks up: emojify's `data/train_emoji.csv`), then common English words."""
    match = _VECTOR_SIZE.search(name)
    size = int(match[1] or match[2]) if match else 50
    size = min(max(size, 1), 1000)
    words = list(dict.fromkeys([*_nearby_words(folder), *_WORDS, "unk", "<unk>"]))[: max(VECTOR_NUMBERS // size, 100)]
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((len(words), size)) * 0.5
    lines = [f"{len(words)} {size}"] if name.lower().endswith(".vec") else []
    lines += [word + " " + " ".join(f"{v:.5f}" for v in row) for word, row in zip(words, vectors)]
    return ("\n".join(lines) + "\n").encode("utf-8"), len(words), size


def _nearby_words(folder: str | None) -> list[str]:
    """The lower-case words, in order of first appearance, of the text files in `folder` and in its
    sub-folders two levels down, and of the string literals of its Python files."""
    import os

    if not folder or not os.path.isdir(folder):
        return []
    found: dict[str, None] = {}
    base = folder.rstrip(os.sep).count(os.sep)
    budget = _NEARBY_FILES
    for here, dirs, files in os.walk(folder):
        if here.count(os.sep) - base >= 2:
            dirs[:] = []
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for entry in sorted(files):
            lower = entry.lower()
            if not lower.endswith((*_TEXT_FILES, ".py")) or (lower.endswith(".py") and here != folder):
                continue
            budget -= 1
            if budget < 0:
                return [w for w in found if w]
            try:
                with open(os.path.join(here, entry), "rb") as handle:
                    text = handle.read(_NEARBY_BYTES).decode("utf-8", errors="ignore").lower()
            except OSError:
                continue
            if lower.endswith(".py"):
                text = " ".join(a or b for a, b in re.findall(r'"([^"\n]{1,300})"|\'([^\'\n]{1,300})\'', text))
            for token in [*text.split(), *re.findall(r"[a-z0-9']+", text)]:
                if len(token) <= 40 and token.isprintable():
                    found.setdefault(token.strip(",;"), None)
            if len(found) > 50_000:
                return list(found)
    return [w for w in found if w]


def missing_file(path: object, mode: object = "r") -> bytes | None:
    """Synthetic bytes for a read of a well-known data file that does not exist, else None.

    Besides the MNIST files, a missing `.txt` file the user's own code opens for reading (the
    `input.txt` of a character-level RNN) reads as synthetic English text, and a missing MNIST CSV
    (`mnist_train.csv`, read line by line) as synthetic digits, one sample per line."""
    import os

    if not isinstance(path, (str, os.PathLike)) or not isinstance(mode, str) or any(c in mode for c in "wax+"):
        return None
    name = os.path.basename(os.fspath(path))
    from backprop_doctor.loading import arguments

    argument = arguments.given(path)
    if argument is not None and not os.path.exists(path):  # `open(sys.argv[1])`, with no command line to give it
        index, file, line = argument
        REPLACED.append((f"sys.argv[{index}]", f"a text file of {TEXT_CHARACTERS:,} characters of synthetic English text", file, line))
        return _text_bytes()
    if _WORD_VECTORS.search(name) and not os.path.exists(path) and _opened_by_user():
        file, line = _caller()
        content, words, size = _word_vector_bytes(name, os.path.dirname(file) if file else None)
        REPLACED.append((f"the word-vector file {name}", f"{words:,} words, each followed by {size} random numbers: the words of the text files beside your code, then common English words", file, line))
        return content
    if name.lower().endswith(".txt") and not os.path.exists(path) and _opened_by_user():
        REPLACED.append((f"the text file {name}", f"{TEXT_CHARACTERS:,} characters of synthetic English text", *_caller()))
        return _text_bytes()
    idx = _IDX.match(name)
    if idx is not None and not name.lower().endswith(".gz") and not os.path.exists(path):
        count = _idx_count(idx[1])
        n = count or (TRAIN if idx[1].lower() == "train" else TEST)
        repeated = f" ({TRAIN if idx[1].lower() == 'train' else TEST} repeated to MNIST's own count, which your code writes)" if count else ""
        REPLACED.append((f"the data file {name}", f"{n} synthetic {'labels' if idx[2].lower() == 'labels' else 'images 28×28'} in MNIST's IDX layout{repeated}", *_caller()))
        return _idx_bytes(idx[1], idx[2], count)
    if _DIGITS_CSV.search(name) and not os.path.exists(path) and _opened_by_user():
        REPLACED.append((f"the data file {name}", f"{CSV_ROWS:,} lines: a label, then 784 pixels 0-255", *_caller()))
        return "\n".join(",".join(map(str, row)) for row in _digits_table()).encode("ascii") + b"\n"
    if name not in _FILES or os.path.exists(path):
        return None
    content = _file_bytes(name)
    shapes = "x (600, 28, 28) uint8, y (600,)" if name.endswith(".npz") else "(x (600, 784) float32, y (600,)) for train, validation and test"
    REPLACED.append((f"the data file {name}", shapes, *_caller()))
    return content


def _opened_by_user() -> bool:
    """The `open` being answered was called from the user's own code (not from a library)."""
    from backprop_doctor.locate import is_user_file

    frame = sys._getframe(3)  # _opened_by_user <- missing_file <- open_ <- the caller
    return frame is not None and is_user_file(frame.f_code.co_filename)


def _caller() -> tuple[str | None, int | None]:
    """(file, line) of the user's code that called the caller of this function (None, None outside it)."""
    frame = _user_frame(sys._getframe(2))
    return (frame.f_code.co_filename, frame.f_lineno) if frame else (None, None)


def install_missing_files() -> None:
    """Let `open`, `gzip.open` and `np.load` of a missing well-known data file read synthetic data,
    and `os.path.exists`/`isfile` answer that it is there when the user's code asks only to exit
    without it (`_exit_guarded`) (child process only: it changes `builtins.open` for the rest of the
    process)."""
    import builtins
    import gzip
    import io
    import os
    import tempfile

    real_open, real_gzip, real_load = builtins.open, gzip.open, np.load

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        content = missing_file(file, mode)
        if content is None:
            return real_open(file, mode, *args, **kwargs)
        # a real file, deleted as it is made: `np.fromfile(f, ...)` needs a descriptor, also of a
        # file opened as text (`np.fromfile(file=open('train-images.idx3-ubyte'), dtype=np.uint8)`)
        held = tempfile.TemporaryFile()
        held.write(content)
        held.seek(0)
        opened = held if "b" in mode else io.TextIOWrapper(held, encoding="latin-1")
        if REPLACED:
            OPENED.append((opened, REPLACED[-1][0]))
        return opened

    def gzip_open(filename: Any, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        content = missing_file(filename, mode)
        return real_gzip(filename, mode, *args, **kwargs) if content is None else io.BytesIO(content)

    def load(file: Any, *args: Any, **kwargs: Any) -> Any:
        content = missing_file(file, "rb")
        return real_load(file if content is None else io.BytesIO(content), *args, **kwargs)

    real_exists, real_isfile = os.path.exists, os.path.isfile

    def exists(path: Any) -> bool:
        return real_exists(path) or _exit_guarded(path, sys._getframe(1))

    def isfile(path: Any) -> bool:
        return real_isfile(path) or _exit_guarded(path, sys._getframe(1))

    builtins.open, gzip.open, np.load = open_, gzip_open, load
    os.path.exists, os.path.isfile = exists, isfile


_EXITS = ("exit", "quit", "sys.exit", "os._exit")


def _exit_guarded(path: Any, frame: Any) -> bool:
    """Whether the user's code asks whether a data file that is not there exists only to exit when it
    does not (`if not os.path.exists('../large_files/train.csv'): print(...); exit()`, or an
    `assert os.path.exists(path)`), and
    backprop-doctor has synthetic content for it: then the file is there, for that question only,
    and the read that follows gets that content. Any other question about a missing file gets the
    truth (a program that downloads what is missing, or trains when no saved model is there)."""
    import ast
    import os

    from backprop_doctor.locate import is_user_file
    from backprop_doctor.static.files import source_tree

    if frame is None or not isinstance(path, (str, os.PathLike)) or not is_user_file(frame.f_code.co_filename):
        return False
    name = os.path.basename(os.fspath(path))
    supplied = (
        _IDX.match(name) or _DIGITS_CSV.search(name) or name in _FILES
        or (name.lower().endswith(".csv") and _DIGITS.search(_code_text(frame.f_code)))
    )  # fmt: skip
    if not supplied:
        return False
    _, tree = source_tree(frame.f_code.co_filename)
    line = frame.f_lineno
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.If) and node.test.lineno <= line <= (node.test.end_lineno or node.test.lineno):
            negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
            return _exits(node.body if negated else node.orelse)
        if isinstance(node, ast.Assert) and node.lineno <= line <= (node.end_lineno or node.lineno):
            return True  # `assert os.path.exists(path), 'download it first'`: it stops there too
    return False


def _exits(body: list[Any]) -> bool:
    """The statements end the program: `exit()`, `sys.exit(1)`, `quit()`, `raise SystemExit`."""
    import ast

    for statement in body:
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(raised, ast.Name) and raised.id == "SystemExit":
                return True
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and ast.unparse(statement.value.func) in _EXITS:
            return True
    return False


class _BookMnistFinder:
    """Finds the user's own `dataset/mnist.py` (the book's, shipped with every copy of its code) and,
    once it has run, stands in for its `load_mnist` when the data file it would read (`save_file`,
    `mnist.pkl`, or any module-level `.pkl` path of a port: `save_path`) is not there: the real
    one would download MNIST, which the sandbox blocks. A user's own copy of TensorFlow's tutorial
    `input_data.py` is found the same way (`_tutorial_loader`)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        import os

        last = fullname.rpartition(".")[2]
        if last not in ("mnist", "input_data"):
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec") or type(finder).__name__ == "StubFinder":
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        origin = getattr(spec, "origin", None)
        loader = getattr(spec, "loader", None)
        if spec is None or not isinstance(origin, str) or not origin.endswith(".py") or "site-packages" in origin or not hasattr(loader, "exec_module"):
            return None
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            if last == "input_data":
                _tutorial_loader(module)
                return
            # the book's `save_file`, or a port's own name for it (`save_path = .../mnist.pkl`)
            saves = [v for k, v in vars(module).items() if not k.startswith("__") and isinstance(v, str) and v.endswith((".pkl", ".pkl.gz"))]
            if callable(getattr(module, "load_mnist", None)) and saves and not any(os.path.exists(s) for s in saves):
                module.load_mnist = load_mnist

        loader.exec_module = exec_module
        return spec


def _tutorial_loader(module: Any) -> None:
    """In the user's own copy of TensorFlow 1's tutorial `input_data.py` (`read_data_sets(train_dir,
    fake_data=False, one_hot=False)`, which downloads MNIST's four `.gz` files into `train_dir`
    through its `maybe_download`), a call whose folder does not hold them gets the synthetic
    `read_data_sets` instead: the real one would create that folder and download into it, both of
    which the sandbox refuses. A folder that holds the files is read as the user's code reads it."""
    import functools
    import inspect
    import os

    real = getattr(module, "read_data_sets", None)
    if not callable(real) or not callable(getattr(module, "maybe_download", None)):
        return
    try:
        signature = inspect.signature(real)
    except (TypeError, ValueError):
        return
    names = [v for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and _IDX.match(v)]
    files = names or ["train-images-idx3-ubyte.gz"]

    @functools.wraps(real)
    def read(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return real(*args, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        folder = next(iter(given.values()), None)
        if given.get("fake_data") or not isinstance(folder, (str, os.PathLike)) or all(os.path.exists(os.path.join(folder, f)) for f in files):
            return real(*args, **kwargs)
        return read_data_sets(one_hot=bool(given.get("one_hot", False)))

    module.read_data_sets = read


def install_book_loaders() -> None:
    """Put `_BookMnistFinder` first on `sys.meta_path` (child process only)."""
    if not any(isinstance(f, _BookMnistFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _BookMnistFinder())


def standin(qualified: str) -> Callable[..., Any] | None:
    """The synthetic loader for `qualified` (a missing module's attribute, dotted), or None."""
    for pattern, loader in _LOADERS:
        if pattern.search(qualified):
            return loader
    from backprop_doctor.loading import torchdata  # it records through this module

    found = torchdata.standin(qualified)
    if found is not None:
        return found
    module, _, name = qualified.rpartition(".")
    if is_numpy_mirror(module):
        return _numpy_namesake(module, name)
    if module == "scipy.signal":
        from backprop_doctor.loading import signal

        if name in signal.FUNCTIONS:
            return getattr(signal, name)
    if module == "scipy.special":
        from backprop_doctor.loading import special

        if name in special.FUNCTIONS:
            return getattr(special, name)
    if module == "scipy.spatial.distance":
        from backprop_doctor.loading import spatial

        if name in spatial.FUNCTIONS:
            return getattr(spatial, name)
    if module == "scipy.linalg" and name in SCIPY_LINALG:
        return getattr(np.linalg, name)
    for helpers in _helper_modules():
        if name in helpers.functions_of(module):
            return getattr(helpers, name)
    from backprop_doctor.loading.coursera import STANDINS  # it records through this module

    return next((helper for pattern, helper in STANDINS if re.search(pattern, qualified)), None)


# `scipy.linalg.<name>` that NumPy's namesake computes with the same arguments and defaults
# (`la.inv(np.eye(n) - A / t)` in a recurrent cell); not `qr` or `cholesky`, whose defaults differ
SCIPY_LINALG = ("inv", "pinv", "det", "norm", "solve", "svd", "eig", "eigh", "eigvals", "eigvalsh")

_CUPY_ONLY = {"scatter_add": np.add.at, "asnumpy": np.asarray}  # `cupyx.scatter_add`, `cupy.asnumpy`


def is_numpy_mirror(module: str) -> bool:
    """CuPy (`cupy`, `cupyx` and their submodules): the GPU twin of NumPy, missing on most machines.
    The book's GPU layers call `cp.zeros_like`, `cp.sum`, `cupyx.scatter_add`; NumPy computes the same
    on the CPU, so a missing CuPy runs on NumPy instead of on inert stand-ins."""
    return module.split(".")[0] in ("cupy", "cupyx")


def _numpy_namesake(module: str, name: str) -> Any:
    """NumPy's object of the same dotted name (`cupy.random.randn` -> `np.random.randn`), else None."""
    if name in _CUPY_ONLY:
        return _CUPY_ONLY[name]
    found: Any = np
    for part in [*module.split(".")[1:], name]:
        found = getattr(found, part, None)
    return found


def _helper_modules() -> tuple[Any, ...]:
    """Modules of stand-ins that work like what they replace, each saying with `functions_of(module)`
    which names of a missing module it provides."""
    from backprop_doctor.loading import im2col, learn, past_builtins, progress

    return im2col, learn, progress, past_builtins


def helpers_of(module: str) -> list[str]:
    """The functions backprop-doctor stands in for in the missing `module` itself (`rnn_utils`:
    softmax, sigmoid; `scipy`: signal.correlate2d, special.expit, ...), not the data loaders any
    missing module may lead to."""
    names = [
        n for n in star_names(module)
        if standin(f"{module}.{n}") is not standin(f"bpd_no_such_module.{n}") and not n.startswith("load") and n not in ("File", "read_csv")
    ]  # fmt: skip  (the loaders' synthetic data has a finding of its own)
    from backprop_doctor.loading import signal, spatial, special

    for part, functions in (("signal", signal.FUNCTIONS), ("special", special.FUNCTIONS), ("linalg", SCIPY_LINALG), ("spatial.distance", spatial.FUNCTIONS)):
        home = f"scipy.{part}"
        if home == module or home.startswith(module + ".") and module.split(".")[0] == "scipy":  # `scipy.spatial`: distance.cdist
            names += [f"{home[len(module) + 1:]}.{n}" if home != module else n for n in functions]
    names += [n for helpers in _helper_modules() for n in helpers.functions_of(module)]
    return list(dict.fromkeys(names))


def star_names(module: str) -> list[str]:
    """The stand-ins that `from MODULE import *` of the missing `module` brings (`from rnn_utils
    import *` then `softmax(z)`; `from nnfs.datasets import *` then `spiral_data(...)`)."""
    from backprop_doctor.loading.coursera import STANDINS

    patterns = [p.pattern for p, _ in _LOADERS] + [p for p, _ in STANDINS]
    names = {m.group(1) for m in (re.search(r"(\w+)\$$", p) for p in patterns) if m}
    return sorted(n for n in names if standin(f"{module}.{n}") is not None)
