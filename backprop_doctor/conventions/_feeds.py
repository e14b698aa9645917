"""What each layer of a network is really fed, when its layers do not run as one chain.

Most networks run their layers one after the other: each layer's input is the
previous layer's output, and the check recomputes those activations by running
the layers in turn (`Network.layer_inputs`). Some do not. A CBOW model sends two
context words through two `MatMul` layers side by side and averages them; a
skip-gram model feeds its *target* to the first layer and each context word to a
loss layer of its own:

    def forward(self, contexts, target):
        h0 = self.in_layer0.forward(contexts[:, 0])
        h1 = self.in_layer1.forward(contexts[:, 1])
        score = self.out_layer.forward((h0 + h1) * 0.5)
        return self.loss_layer.forward(score, target)

Chaining those layers would feed `in_layer1` the output of `in_layer0` and report
the shape error that follows as the user's bug. So the network's own loss is run
once on a copy, each layer's first `forward` call is recorded, and when the
recorded shapes do not form a chain, every layer is checked on the input (and
target) the network itself gave it.

A network may also keep a layer's weights itself and pass them in (the book's
`Affine.forward(x, W, b)` called as `forward(x, self.params["W1"], self.params["b1"])`).
Such a layer cannot be run on its input alone: its call records the arrays the
network gave it besides its input (`Fed` weights), and it is checked with them,
each like a parameter (`Network.layer_adapter`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import io
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED
from backprop_doctor.conventions._classlayer import layer_methods

# key -> (input, target or None, output, weights: the network's arrays it was given after its input, by argument name)
Fed = dict[str, tuple[np.ndarray, Any, Any, dict[str, np.ndarray]]]


def fed_inputs(network: Any, x: Any, t: Any) -> Fed:
    """key -> (input, target, output, weights) of each layer's first forward call in one run of
    the network's loss on a copy of the network; {} when the run raises or copying fails."""
    from backprop_doctor.conventions.networks import Network

    if _loops_over_layers(type(network.net)):
        return {}  # `for layer in self.layers: x = layer.forward(x)`: a chain by construction
    state = np.random.get_state()
    try:
        work = Network(copy.deepcopy(network.net), train=network.train)
    except Exception:  # noqa: BLE001 - a network that cannot be copied: no record
        return {}
    fed: Fed = {}
    try:
        owned = {id(p) for p in work.params().values()}
        last = work.last_layer()
        for key, layer in work.layers():
            # a loss layer is checked on (x, t) as ever, whatever else the network gives it
            _record(layer, key, fed, set() if last is not None and layer is last[1] else owned)
        np.random.seed(FORWARD_SEED)
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            work.loss(np.array(x, copy=True), copy.deepcopy(t))
    except Exception:  # noqa: BLE001 - user code: the checks report what it raises
        return {}
    finally:
        np.random.set_state(state)
    return fed


LAYER_LOOP = re.compile(r"for\s+[\w\s,()]+?\s+in\s+(\w+\()?\w+\.layers\b")


def _loops_over_layers(cls: type) -> bool:
    """Whether the network predicts by running its `layers` one after the other (read from
    the source once per method, not on every check)."""
    methods = tuple(getattr(cls, name, None) for name in ("predict", "forward"))
    try:
        return _source_loops_over_layers(methods)
    except TypeError:  # an unhashable attribute
        return _source_loops_over_layers.__wrapped__(methods)


@functools.lru_cache(maxsize=256)
def _source_loops_over_layers(methods: tuple[Any, ...]) -> bool:
    for method in methods:
        try:
            if method is not None and LAYER_LOOP.search(inspect.getsource(method)):
                return True
        except (TypeError, OSError):
            continue
    return False


def _record(layer: Any, key: str, fed: Fed, owned: set[int]) -> None:
    """Wrap the layer's forward to record its first call in `fed`; `owned`: ids of the network's parameters."""
    methods = layer_methods(layer)
    name = methods.forward if methods is not None else "forward"
    original = getattr(layer, name, None)
    if not callable(original):
        return

    def forward(*args: Any, **kwargs: Any) -> Any:
        first = key not in fed
        weights = _weights_given(original, args, kwargs, owned) if first else {}
        kept = [np.array(a, copy=True) for a in (args[:1] if weights else args[:2]) if isinstance(a, np.ndarray)]
        out = original(*args, **kwargs)
        if first and kept:
            result = out if out is not None or methods is None or not methods.output else getattr(layer, methods.output, None)
            fed[key] = (kept[0], kept[1] if len(kept) > 1 else None, result, weights)
        return out

    try:
        setattr(layer, name, forward)
    except Exception:  # noqa: BLE001 - __slots__ or a read-only attribute: not recorded
        pass


def _weights_given(forward: Any, args: tuple, kwargs: dict[str, Any], owned: set[int]) -> dict[str, np.ndarray]:
    """Copies of the arrays a call passes after its input, by the names forward gives them and in
    their order (its check passes them so, `MultiInput`), where one of them is a parameter of the
    network (`Affine.forward(x, W, b)` given the network's `W1`, `b1`, by position or by name);
    {} for any other call (a loss layer's target, an RNN cell's hidden state)."""
    if not any(id(a) in owned for a in (*args[1:], *kwargs.values())):
        return {}
    try:
        bound = inspect.signature(forward).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {}
    kinds = {name: p.kind for name, p in bound.signature.parameters.items()}
    given = list(bound.arguments.items())[1:]
    if not given or not all(isinstance(a, np.ndarray) for a in bound.arguments.values()):
        return {}
    if any(kinds[name] not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name, _ in given):
        return {}
    return {name: np.array(a, copy=True) for name, a in given}


def unchained(network: Any, x: Any, fed: Fed) -> bool:
    """Whether the recorded calls show layers that do not run one after the other: the first
    layer not given `x` itself, a layer's output not of the shape the next layer was given, or a
    layer given the network's weights, which running it on the previous output alone would not."""
    layers = [key for key, _ in network.predict_layers()]
    if any(fed[key][3] for key in layers if key in fed):
        return True
    if _loss_fed_otherwise(network, x, layers, fed):
        return True
    if not layers or not all(key in fed for key in layers):
        return False
    if np.shape(fed[layers[0]][0]) != np.shape(x):
        return True
    for key, following in zip(layers, layers[1:]):
        if np.shape(fed[key][2]) != np.shape(fed[following][0]):
            return True
    return any(fed[key][1] is not None for key in layers)  # a target given to a layer before the last


def _loss_fed_otherwise(network: Any, x: Any, layers: list[str], fed: Fed) -> bool:
    """Whether the loss layer was given a prediction of another shape than the chain of the layers
    found before it would hand it: the output of the last of them, or `x` where none was found
    (a network that keeps its other layers in lists of its own, `self.affines = [Affine(...), ...]`,
    beside a `self.loss_layer`: fed `x`, its loss would raise for a fault of the check)."""
    last = network.last_layer()
    if last is None or last[0] not in fed:
        return False
    if layers and not all(key in fed for key in layers):
        return False
    given = fed[last[0]][0]
    handed = fed[layers[-1]][2] if layers else x
    return np.shape(handed) != np.shape(given)
