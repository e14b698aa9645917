"""Find what can be checked in a loaded namespace: layers, function pairs, networks.

Discovery looks at classes and functions the user wrote (defined in the file or
in a module next to it, such as `common/layers.py`), never at library code.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass, field
from typing import Any

from backprop_doctor.adapters import TRAIN_FLAGS
from backprop_doctor.locate import is_user_file

FORWARD_SUFFIX = re.compile(r"^(?P<base>.+?)_forward(?P<variant>_\w+)?$")


@dataclass
class Discovered:
    layers: list[type] = field(default_factory=list)  # layer classes, loss layers included
    networks: list[type] = field(default_factory=list)
    pairs: list[tuple[Any, Any]] = field(default_factory=list)  # (forward, backward) functions
    loss_functions: list[Any] = field(default_factory=list)  # softmax_loss(x, y) -> (loss, dx)
    functions: list[Any] = field(default_factory=list)  # other user functions (softmax, sigmoid...)

    def __bool__(self) -> bool:
        return bool(self.layers or self.networks or self.pairs or self.loss_functions)


def is_user_object(obj: Any, user_files: set[str] | None = None) -> bool:
    """Defined by the user: in the checked file or a file beside it, not in a library."""
    try:
        file = inspect.getsourcefile(obj) or inspect.getfile(obj)
    except (TypeError, OSError):
        return False
    if not file:
        return False
    absolute = os.path.abspath(file)
    if user_files and absolute in user_files:
        return True
    return is_user_file(file)


def _methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if callable(value)} | {
        name for base in cls.__mro__[1:-1] for name, value in vars(base).items() if callable(value)
    }


def _init_source(cls: type) -> str:
    try:
        return inspect.getsource(cls.__init__)
    except (TypeError, OSError):
        return ""


def is_network_class(cls: type) -> bool:
    methods = _methods(cls)
    init = _init_source(cls)
    if "gradient" in methods and "params" in init:
        return True
    return "params" in init and "layers" in init and ({"loss", "predict"} & methods or "backward" in methods) != set()


def is_layer_class(cls: type) -> bool:
    methods = _methods(cls)
    return "forward" in methods and "backward" in methods and not is_network_class(cls)


def discover(namespace: dict[str, Any], user_files: set[str] | None = None) -> Discovered:
    found = Discovered()
    functions: dict[str, Any] = {}
    seen: set[int] = set()
    for name, obj in namespace.items():
        if name.startswith("__") or id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.isclass(obj) and is_user_object(obj, user_files):
            if is_network_class(obj):
                found.networks.append(obj)
            elif is_layer_class(obj):
                found.layers.append(obj)
        elif inspect.isfunction(obj) and is_user_object(obj, user_files):
            functions[name] = obj
    used: set[str] = set()
    for name, func in functions.items():
        match = FORWARD_SUFFIX.match(name)
        if not match:
            continue
        base, variant = match["base"], match["variant"] or ""
        backward = (
            functions.get(f"{base}_backward{variant}")
            or functions.get(f"{base}_backward")
            or next((f for n, f in sorted(functions.items()) if n.startswith(f"{base}_backward_")), None)
        )
        if backward is not None:
            found.pairs.append((func, backward))
            used |= {name, backward.__name__}
    for name, func in functions.items():
        if name in used:
            continue
        required = [
            p for p in inspect.signature(func).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if name.endswith("_loss") and len(required) == 2:  # softmax_loss(x, y), not model_loss(X, y, params)
            found.loss_functions.append(func)
        else:
            found.functions.append(func)
    return found


def train_flag_name(func: Any) -> str | None:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return None
    return next((p for p in TRAIN_FLAGS if p in params), None)
