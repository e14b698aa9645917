"""The same layer objects sit in the network twice: a list multiplied by a count, or one object listed twice.

What it finds:
    A list of your own layer objects multiplied by a count (`[Dense(16, 16),
    Tanh()] * 2`, `[Layer(8, 8)] * depth`), or a list that names one layer
    object twice (`relu = ReLU()` then `[..., relu, ..., relu]`, or `act2 =
    act1` and both in the list), where the layer class keeps something on the
    object in its forward or backward pass (`self.x = x`, `self.mask = ...`).
    Multiplying a list, or binding a second name, repeats a reference to the
    object: it builds no new layer.

Why it matters:
    Each use of a shared object overwrites what the other use kept: the
    backward pass of the first use reads the input the second use saw, and
    the weights both uses share get the gradient of the last use alone (the
    right one is the sum of both). The network also has fewer weights than it
    seems, and a `params()` list that names them twice steps them twice.

Example:
    layers = [Dense(1, 16)] + [Dense(16, 16), Tanh()] * 2 + [Dense(16, 1)]

    act1 = ReLU()
    act2 = act1
    layers = [Linear(2, 16), act1, Linear(16, 16), act2, Linear(16, 5)]

Fix:
    layers = [Dense(1, 16)] + [m for _ in range(2) for m in (Dense(16, 16), Tanh())] + [Dense(16, 1)]

    act1 = ReLU()
    act2 = ReLU()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.shared import aliased_layers, multiplied_layers, stateful_layers

NAME = "shared-layer"
CODE = "BPD402"
SEVERITY = "error"
STAGE = "sharing"


def _listed(names: tuple[str, ...]) -> str:
    quoted = [f"`{n}`" for n in dict.fromkeys(names)]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for found in multiplied_layers(source.tree):
        fix = f"[layer for _ in range({found.count}) for layer in ({found.elements})]"
        objects = "object" if len(found.classes) == 1 else "objects"
        yield rule(NAME).finding(
            f"`{found.text}` (line {found.line}) puts the same {_listed(found.classes)} {objects} in the list {found.count} times, not new ones: "
            "each use overwrites what the other's forward pass kept and the gradient its backward pass left, so the backward "
            "pass reads the wrong inputs and the shared weights get one use's gradient only: build a new object for each use "
            f"(`{fix}`)",
            file=source.path,
            line=found.line,
            end_line=found.end_line if found.end_line != found.line else None,
            layer=found.classes[0],
            fix=fix,
            pattern="list-multiplied",
        )
    sites = _site_trees(context)
    listed = [(path, found) for path, tree in sites for found in aliased_layers(tree, None)]
    if not listed:  # no list names one object twice: the layer classes' files need not be read
        return
    layers = set().union(*(stateful_layers(tree) for tree in _definition_trees(context, [p for p, _ in sites])))
    for path, found in listed:
        if found.cls in layers:
            names = " and ".join(f"`{n}`" for n in dict.fromkeys(found.names))
            how = f"{names} are one `{found.cls}` object" if len(set(found.names)) > 1 else f"`{found.names[0]}` is one `{found.cls}` object"
            times = "twice" if len(found.names) == 2 else f"{len(found.names)} times"
            fix = f"{found.names[-1]} = {found.cls}()"
            yield rule(NAME).finding(
                f"{how} (made at line {found.made}), put in the list at line {found.listed} {times}, not new ones: "
                "each use overwrites what the other's forward pass kept on it, so the backward pass of the first use reads "
                f"what the second use saw: make a new `{found.cls}()` for each use (`{fix}`)",
                file=path,
                line=found.line,
                highlight=tuple(sorted({found.line, found.listed, found.made})),
                layer=found.cls,
                fix=fix,
                pattern="object-listed-twice",
            )


MAX_FILES = 40  # the user's files read for layer objects listed twice
MAX_BYTES = 1 << 20  # and the largest of the files beside the checked one that is read


def _user_file(value: Any) -> str | None:
    """The user's source file a module, class or function of the namespace comes from, or None."""
    import inspect
    import os

    from backprop_doctor.locate import is_user_file

    try:
        file = inspect.getsourcefile(value) if inspect.ismodule(value) or inspect.isclass(value) or inspect.isfunction(value) else None
    except TypeError:
        return None
    return os.path.abspath(file) if file and is_user_file(file) else None


def _site_trees(context: Any) -> list[tuple[str, Any]]:
    """The user's parsed files a list could name one layer twice in: the checked file, and the files
    of the classes, functions and modules its namespace holds."""
    import os

    here = os.path.abspath(context.source.path)
    namespace = getattr(context, "namespace", None) or {}
    sites = list(dict.fromkeys([here, *filter(None, map(_user_file, namespace.values()))]))[:MAX_FILES]
    parsed = ((path, source_tree(path)[1]) for path in sites)
    return [(path, tree) for path, tree in parsed if tree is not None]


def _definition_trees(context: Any, sites: list[str]) -> list[Any]:
    """The parsed files that may define the layer classes: the sites, the files beside the checked one,
    and the user's files the sites import from (`net.py`'s `from .layers import ReLU`)."""
    import os

    from backprop_doctor.locate import loaded_module

    here = os.path.abspath(context.source.path)
    more = []
    for path in sites[1:]:
        module = loaded_module(path)
        more += filter(None, map(_user_file, vars(module).values())) if module is not None else []
    try:
        folder = os.path.dirname(here)
        beside = (os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".py"))
        more += sorted(p for p in beside if os.path.isfile(p) and os.path.getsize(p) <= MAX_BYTES)  # no FIFO, no dangling link
    except OSError:
        pass
    definitions = list(dict.fromkeys([here, *sites, *more]))[:MAX_FILES]
    return [tree for tree in (source_tree(path)[1] for path in definitions) if tree is not None]
