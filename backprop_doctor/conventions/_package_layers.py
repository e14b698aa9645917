"""A container of layer objects built from the layer classes its package defines, for a file that
defines the container and never builds one (`conventions/containers.py`).

The package's modules beside the container's (its own folder, else the folders beside that one:
`src/model/sequential.py` finds `src/layers/dense.py` and `src/activation/relu.py`) are imported
when they only define things; their layer classes are built at the sizes `build.build_layer`
infers, and put together as the smallest network they make: one layer with parameters, then a
hidden activation, then an output activation (a softmax when the package has one, which its
loss then gets).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, is_float_array, parameters
from backprop_doctor.conventions._classlayer import is_loss_layer, layer_methods
from backprop_doctor.conventions.loss_objects import loss_methods
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.script import has_driver

SKIPPED = ("examples", "example", "tests", "test", "notebooks", "scripts", "docs")
OUTPUTS = re.compile(r"softmax", re.IGNORECASE)
ACTIVATIONS = re.compile(r"relu|tanh|sigmoid|activation", re.IGNORECASE)  # the hidden layer's first choice
SKIPPED_LAYERS = re.compile(r"dropout|batch_?norm|normali[sz]", re.IGNORECASE)  # random or batch-coupled: not what a small network needs
ADDING = ("add", "add_layer", "append")  # `model.add(layer)`: a container that is handed its layers one by one


def package_classes(cls: type) -> list[type]:
    """The classes the modules beside `cls`'s define: its own folder's first, the folders beside
    it only when its own folder defines no layer class."""
    from backprop_doctor.loading.package import package_of

    try:
        file = inspect.getsourcefile(cls)
    except TypeError:
        return []
    if file is None:
        return []
    package = package_of(file, source_tree(file)[1])[0] or ""
    folder = os.path.dirname(os.path.abspath(file))
    own = f"{package}.{os.path.splitext(os.path.basename(file))[0]}" if package else ""
    found = _classes(_modules(folder, package, skip=own))
    if any(layer_methods(c) is not None for c in found) or not package:
        return found
    parent, _, _ = package.rpartition(".")
    above = os.path.dirname(folder)
    for name in sorted(os.listdir(above)):
        inner = os.path.join(above, name)
        if name not in SKIPPED and inner != folder and os.path.isfile(os.path.join(inner, "__init__.py")):
            found += _classes(_modules(inner, f"{parent}.{name}" if parent else name, skip=own))
    return found


def _modules(folder: str, package: str, skip: str) -> Iterator[Any]:
    """The modules of `folder` that only define things, imported (those that fail are left out)."""
    for entry in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(entry)
        name = f"{package}.{stem}" if package else stem
        if ext != ".py" or stem == "__init__" or name == skip:
            continue
        try:
            if has_driver(source_tree(os.path.join(folder, entry))[1]):
                continue  # a script: importing it would run it
            yield importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the user's module: it is simply not used
            continue


def _classes(modules: Iterator[Any]) -> list[type]:
    return [value for module in modules for value in vars(module).values() if inspect.isclass(value) and value.__module__ == module.__name__]


def small_network(classes: list[type], rng: np.random.Generator, batch: int) -> tuple[list[Any], np.ndarray, list[str]] | None:
    """Layers that run one after another (one with parameters, a hidden activation, an output
    activation when the package has one), a batch they take, and how each was built."""
    from backprop_doctor import build

    weighted, activations, outputs = [], [], []
    for cls in classes:
        if layer_methods(cls) is None or inspect.isabstract(cls):
            continue
        try:
            built = build.build_layer(cls, rng, batch=batch)
        except Exception:  # noqa: BLE001 - a layer that cannot be built alone is left out
            continue
        if not built.cases or is_loss_layer(built.obj):
            continue
        _, x, _ = built.cases[0]
        arrays = any(is_float_array(v) for v in vars(built.obj).values()) if hasattr(built.obj, "__dict__") else False
        if OUTPUTS.search(cls.__name__) or OUTPUTS.search(built.how):
            outputs.append((built, x))
        elif arrays and x.ndim == 2:
            weighted.append((built, x))
        elif not arrays and x.ndim == 2:
            activations.append((built, x))
    if not weighted:
        return None
    first, x = weighted[0]
    hidden = sorted((b for b, _ in activations if not SKIPPED_LAYERS.search(b.how)), key=lambda b: not ACTIVATIONS.search(b.how))[:1]
    layers = [first.obj, *(b.obj for b in hidden), *(b.obj for b, _ in outputs[:1])]
    return layers, x, [first.how, *(b.how for b in hidden), *(b.how for b, _ in outputs[:1])]


def losses(classes: list[type]) -> list[type]:
    """The loss classes among `classes` (`loss(y, p)`/`gradient(y, p)`)."""
    return [c for c in classes if loss_methods(c) is not None]


@contextlib.contextmanager
def seeded() -> Iterator[None]:
    """NumPy's global generator seeded for a constructor's draws, and put back afterwards."""
    state = np.random.get_state()
    np.random.seed(FORWARD_SEED)
    try:
        yield
    finally:
        np.random.set_state(state)


def construct(cls: type, layers: list[Any], loss_classes: list[type], optimizer: Any) -> Any:
    """The container, handed the layers (to its constructor, or one by one to `add`), an optimizer
    and a loss where its constructor asks for them."""
    kwargs: dict[str, Any] = {}
    for name, p in parameters(cls.__init__).items():
        low = name.lower()
        if "layer" in low:
            kwargs[name] = list(layers)
        elif "optim" in low:
            kwargs[name] = optimizer
        elif "loss" in low or "cost" in low or "criterion" in low:
            if not loss_classes:
                raise TypeError("no loss class to hand it")
            kwargs[name] = loss_classes[0]
        elif p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise TypeError(f"cannot tell what its argument `{name}` is")
    with seeded():
        try:
            model = cls(**kwargs)
        except TypeError:  # a loss it is handed built already, not its class
            loss = next((k for k, v in kwargs.items() if v is (loss_classes[0] if loss_classes else None)), None)
            if loss is None:
                raise
            model = cls(**{**kwargs, loss: loss_classes[0]()})
        add = next((getattr(model, name) for name in ADDING if callable(getattr(model, name, None))), None)
        if not any("layer" in n.lower() for n in kwargs) and add is not None:
            for layer in layers:
                add(layer)
    return model
