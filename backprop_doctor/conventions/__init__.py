"""Every common way of writing backprop by hand: one module per calling convention.

A convention module carries its own identity and documentation, like a check:

    NAME = "nnfs"          # stable, kebab-case
    ORDER = 40             # asked in this order; specific conventions before catch-alls
    '''How code written this way looks (an example), how it is recognised,
    and where its gradients live'''           # the module docstring

and what it can do, each optional:

    layer_methods(cls) -> Methods | None      # a layer class: which methods to call (see `_classlayer`)
    recognise(obj, namespace) -> bool         # anything else: its signature says it may be ours
    build(obj, context, rng) -> list[Case]    # trial calls; the adapters to check it with (see `_run`)

Adding a convention means adding its module and its test; nothing else lists it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from backprop_doctor.conventions._base import (
    FORWARD_SEED,
    GRAD_NAMES,
    LAST_LAYER_NAMES,
    TRAIN_FLAGS,
    Adapter,
    is_float_array,
    isolated,
    isolated_sharing,
    promote_to_float64,
    source_of,
)
from backprop_doctor.conventions._classlayer import ClassLayer, Methods, is_loss_layer, layer_methods


@cache
def all_conventions() -> tuple[ModuleType, ...]:
    """Every convention module, in the order they are asked."""
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME"):
            modules.append(module)
    modules.sort(key=lambda m: (getattr(m, "ORDER", 50), m.NAME))
    names = [m.NAME for m in modules]
    assert len(set(names)) == len(names), "duplicate convention"
    return tuple(modules)


def convention(name: str) -> ModuleType:
    return next(m for m in all_conventions() if m.NAME == name)


__all__ = [
    "FORWARD_SEED",
    "GRAD_NAMES",
    "LAST_LAYER_NAMES",
    "TRAIN_FLAGS",
    "Adapter",
    "ClassLayer",
    "Methods",
    "all_conventions",
    "convention",
    "is_float_array",
    "is_loss_layer",
    "isolated",
    "isolated_sharing",
    "layer_methods",
    "promote_to_float64",
    "source_of",
]
