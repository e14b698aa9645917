"""Instantiate a network found by discovery, with a batch and targets of the shapes it takes.

A network is built with the constructor call the user's own script makes when its
arguments are literals, or the `--build` expression, else with small sizes inferred
from argument names (`build.infer_kwargs`). Its input is sized from its arguments
(`input_size`, `input_dim`, defaults included) or its first weight: images for a
network that starts with a convolution (on the smallest side it accepts when its
default would be slow), integer word ids for one that looks rows up with its input.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

from backprop_doctor.build import CLASSES, Built, BuildError, UserCodeRaised, _describe, _raised, _trial, _trial_error_of, _wants_lists, as_lists, infer_kwargs, last_width
from backprop_doctor.conventions import TRAIN_FLAGS
from backprop_doctor.conventions.networks import Network

def network_inputs(net: Any, kwargs: dict[str, Any], rng: np.random.Generator, batch: int, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """A batch x and one-hot t of the shapes `net` takes."""
    shape: tuple[int, ...] | None = None
    for key in ("input_size", "n_in", "input_dim", "in_features"):
        value = kwargs.get(key)
        if isinstance(value, int):
            shape = (value,)
        elif isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
            shape = tuple(value)
        if shape:
            break
    network = Network(net, train=train)
    first = next((p for p in network.params().values() if p.ndim in (2, 4)), None)
    if shape is None:
        if first is None:
            raise BuildError("cannot tell the input size: no `input_size` argument and no 2-D weight")
        shape = (first.shape[0],) if first.ndim == 2 else (first.shape[1], 8, 8)
    elif len(shape) == 1 and first is not None and first.ndim == 4:
        shape = (first.shape[1], shape[0], shape[0])  # a convolution first: `input_size` is the image's side
    # Images get pixel intensities in [0, 1), as a loaded data set gives them: standard normal
    # pixels drive a deep convolution network's softmax to probabilities of 1e-4, where the
    # `log(y + 1e-7)` of a correct loss already differs from its gradient by 1e-3.
    x = rng.random((batch, *shape)) if len(shape) == 3 else rng.standard_normal((batch, *shape))
    if first is not None and first.ndim == 2 and _looks_rows_up(net, x, train):
        ids = _id_inputs(net, first.shape[0], rng, batch, train)
        if ids is not None:
            return ids
    classes = kwargs.get("output_size") or kwargs.get("num_classes") or kwargs.get("n_out")
    if not isinstance(classes, int):
        classes = _output_width(net, x, train) or CLASSES
    labels = rng.integers(0, classes, batch)
    # then as many classes as the last weight has columns: a constructor that keeps its own class
    # count (`C=3`) and has no `predict` to tell it, whose loss those targets made raise
    for count in dict.fromkeys((classes, last_width(network.params()) or classes)):
        below = labels % count
        # One-hot targets unless the user's loss only takes integer labels.
        if _loss_runs(net, x, np.eye(count)[below], train):
            return x, np.eye(count)[below]
        if _loss_runs(net, x, below, train):
            return x, below
    if len(shape) == 1:
        windows = _context_inputs(net, shape[0], rng, batch, train)
        if windows is not None:
            return windows
    return x, np.eye(classes)[labels]


WINDOW = 2  # context words of a synthetic word2vec window (one either side)


def _context_inputs(net: Any, vocab: int, rng: np.random.Generator, batch: int, train: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """One-hot context windows (N, 2, V) and a one-hot target word (N, V): what a word2vec
    model's `forward(contexts, target)` takes (CBOW, skip-gram), not one row per sample."""
    eye = np.eye(vocab)
    x = eye[rng.integers(0, vocab, (batch, WINDOW))]
    for t in (eye[rng.integers(0, vocab, batch)], rng.integers(0, vocab, batch)):
        if _loss_runs(net, x, t, train):
            return x, t
    return None


SEQUENCE = 3  # time steps of synthetic word-id sequences


def _looks_rows_up(net: Any, x: np.ndarray, train: bool) -> bool:
    """The network's loss indexes a table with its input (`W[xs]`): it takes word ids, not floats."""
    t = np.zeros(x.shape[0], dtype=np.int64)
    error = _trial_error_of(lambda: Network(copy.deepcopy(net), train=train).loss(x.copy(), t))
    return isinstance(error, IndexError) and "integer" in str(error)


def _id_inputs(net: Any, vocab: int, rng: np.random.Generator, batch: int, train: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Word ids (N, T) in range of the first table's rows, and targets of the shape the loss takes:
    next-word ids (N, T) for a language model, one class per sequence (N,) for a classifier."""
    x = rng.integers(0, vocab, (batch, SEQUENCE))
    for t in (rng.integers(0, vocab, (batch, SEQUENCE)), rng.integers(0, min(vocab, CLASSES), batch)):
        if _loss_runs(net, x, t, train):
            return x, t
    return None


def _loss_runs(net: Any, x: np.ndarray, t: np.ndarray, train: bool) -> bool:
    loss = _trial(lambda: Network(copy.deepcopy(net), train=train).loss(x.copy(), t))
    return bool(loss is not None and np.size(loss) == 1 and np.isfinite(loss))


def _output_width(net: Any, x: np.ndarray, train: bool) -> int | None:
    predict = getattr(net, "predict", None)
    if not callable(predict):
        return None
    def call() -> int:
        work = copy.deepcopy(net)
        out = work.predict(x.copy(), **{k: train for k in TRAIN_FLAGS[:1] if k in inspect.signature(work.predict).parameters})
        return int(np.shape(out)[-1])

    return _trial(call)


def build_network(
    cls: type,
    calls: list[Any],
    rng: np.random.Generator,
    *,
    train: bool = True,
    batch: int = 5,
    forced: Any = None,
    seed: int = 0,
) -> Built:
    """Construct `cls` the way the user's script does, else with inferred sizes."""
    attempts: list[tuple[str, tuple, dict[str, Any] | None, int | None]] = []  # None: infer
    if forced is not None:  # what the user asked for, and nothing else
        np.random.seed(seed)
        try:
            net = cls(*forced.args, **forced.kwargs)
        except Exception as error:
            raise BuildError(f"--build {forced.expression()} raised {type(error).__name__}: {error}") from error
        x, t = network_inputs(net, _named(cls, tuple(forced.args), dict(forced.kwargs)), rng, batch, train)
        built = Built(cls.__name__, net, f"{_describe(cls.__name__, tuple(forced.args), dict(forced.kwargs))} from --build")
        built.cases.append((f"x {x.shape}, t {t.shape}", x, t))
        return built
    for call in calls:
        if getattr(call, "literal", True):
            attempts.append((f"line {call.line} of your script", tuple(call.args), dict(call.kwargs), call.line))
    attempts.append(("sizes inferred from argument names", (), None, None))
    errors = []
    raised: UserCodeRaised | None = None
    for source, args, kwargs, line in attempts:
        np.random.seed(seed)  # the user's initialisation draws from the global RNG
        try:
            if kwargs is None:
                kwargs = {}  # what `_describe` shows, should inferring them raise
                kwargs = infer_kwargs(cls, rng)
            net = cls(*args, **kwargs)
        except BuildError as error:
            errors.append(str(error))
            continue
        except Exception as error:
            listed = as_lists(kwargs) if line is None and _wants_lists(error) else None  # `hidden_units` an int: a list of widths
            if listed is not None:
                np.random.seed(seed)
                net = _trial(lambda: cls(*args, **listed))
                if net is not None:
                    kwargs = listed
                    x, t = network_inputs(net, _named(cls, args, kwargs), rng, batch, train)
                    built = Built(cls.__name__, net, f"{_describe(cls.__name__, args, kwargs)} from {source}", line=line)
                    built.cases.append((f"x {x.shape}, t {t.shape}", x, t))
                    return built
            errors.append(f"{_describe(cls.__name__, args, kwargs)} raised {type(error).__name__}: {error}")
            found = _raised(errors[-1], error, literal=line is not None, guessed=(*args, *kwargs.values()))
            raised = raised or (found if isinstance(found, UserCodeRaised) else None)
            continue
        if line is None:
            net, kwargs = _smaller_images(cls, net, kwargs, rng, batch, train, seed)
        x, t = network_inputs(net, _named(cls, args, kwargs), rng, batch, train)
        built = Built(cls.__name__, net, f"{_describe(cls.__name__, args, kwargs)} from {source}", line=line)
        built.cases.append((f"x {x.shape}, t {t.shape}", x, t))
        return built
    if raised is not None:
        raise raised
    raise BuildError("; ".join(errors) or f"could not construct {cls.__name__}")


IMAGE_SIDES = (8, 16)  # small images a convolution network is tried on before its default size


def _smaller_images(
    cls: type, net: Any, kwargs: dict[str, Any], rng: np.random.Generator, batch: int, train: bool, seed: int
) -> tuple[Any, dict[str, Any]]:
    """A convolution network whose default `input_size=64` would take minutes per check, rebuilt
    for the smallest image side its layers accept (`flat = 256 * (input_size // 8) ** 2`)."""
    key = next((k for k in ("input_size", "image_size", "img_size") if isinstance(kwargs.get(k), int)), None)
    first = next((p for p in Network(net, train=train).params().values() if p.ndim in (2, 4)), None)
    if key is None or first is None or first.ndim != 4 or kwargs[key] <= max(IMAGE_SIDES):
        return net, kwargs
    for side in IMAGE_SIDES:
        smaller = {**kwargs, key: side}
        np.random.seed(seed)
        candidate = _trial(lambda: cls(**smaller))
        if candidate is None:
            continue
        x = rng.random((batch, first.shape[1], side, side))
        if _output_width(candidate, x, train) is not None or _loss_runs(candidate, x, np.eye(CLASSES)[np.arange(batch) % CLASSES], train):
            np.random.seed(seed)
            return cls(**smaller), smaller
    return net, kwargs


def _named(cls: type, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The constructor's arguments by parameter name, defaults included (`DeepConvNet()` takes
    images of its default `input_dim=(1, 28, 28)`)."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return dict(kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "self"}
