"""Reference swaps: put a correct piece (`reference.py`) in place of the one an earlier finding blames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backprop_doctor import reference
from backprop_doctor.conventions.networks import Network
from backprop_doctor.training.layers import _ProbeError, _affine_arrays, _kind, _layer_arrays, _owner


@dataclass(frozen=True)
class Swap:
    """Replace one piece of the network by its reference, because of a finding."""

    kind: str  # "softmax", "relu", "sigmoid", "affine" or "share"
    layer: str | None  # the key of the layer in the network, None for "share"
    label: str  # how the reference curve is called: "per-row softmax"
    because: str  # the finding's name


LABELS = {
    "softmax": "reference SoftmaxWithLoss",
    "relu": "reference Relu",
    "sigmoid": "reference Sigmoid",
    "affine": "reference Affine",
    "share": "layers sharing params",
}
# What to change when the reference curve confirms the cause (a snippet for a finding's `fix`).
SWAP_FIXES = {
    "softmax": "x = x - np.max(x, axis=-1, keepdims=True)\n"
    "return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)   # one distribution per row",
    "share": "self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])   # the arrays themselves, no .copy()",
}
SWAP_FINDINGS = ("softmax-not-per-row", "gradient-mismatch", "gradient-shape-mismatch", "unshared-parameter")


def _layer_named(network: Network, name: str | None) -> tuple[str, Any] | None:
    """The network layer a finding's `layer` names: by key, or by class name when that is unique."""
    if not name:
        return None
    layers = network.layers()
    for key, layer in layers:
        if key == name:
            return key, layer
    same = [(k, v) for k, v in layers if type(v).__name__ == name]
    return same[0] if len(same) == 1 else None


def plan_swaps(network: Network, findings: Sequence[Any]) -> tuple[list[Swap], list[str]]:
    """The reference swaps that earlier findings call for, and notes on those that cannot be made."""
    swaps: list[Swap] = []
    notes: list[str] = []

    def add(swap: Swap) -> None:
        if all((s.kind, s.layer) != (swap.kind, swap.layer) for s in swaps):
            swaps.append(swap)

    last = network.last_layer()
    # the batch-axis finding names the cause precisely: let it label the softmax swap
    ordered = sorted(findings, key=lambda f: getattr(f, "name", None) != "softmax-not-per-row")
    for f in ordered:
        name = getattr(f, "name", None)
        if name not in SWAP_FINDINGS:
            continue
        if name == "unshared-parameter":
            add(Swap("share", None, LABELS["share"], name))
            continue
        if name == "softmax-not-per-row":
            if last is not None and _kind(last[1]) == "softmax":
                add(Swap("softmax", last[0], "per-row softmax", name))
            else:
                notes.append(
                    f"softmax-not-per-row was found, but `{network.name}` has no softmax-with-loss layer "
                    "that a per-row reference could replace"
                )
            continue
        found = _layer_named(network, getattr(f, "layer", None))
        if found is None:
            continue  # about the whole network, or a layer this network does not use
        key, layer = found
        kind = _kind(layer)
        if kind is None or (kind == "affine" and _affine_arrays(layer) is None):
            notes.append(f"{name} in `{key}` ({type(layer).__name__}): no reference implementation of this layer")
            continue
        add(Swap(kind, key, LABELS[kind] if kind != "softmax" else "reference softmax-with-loss", name))
    return swaps, notes


def _replace_layer(net: Any, old: Any, new: Any) -> int:
    """Put `new` wherever the network holds `old`: its layers dict or list, and its attributes."""
    count = 0
    for attr, value in list(vars(net).items()):
        if value is old:
            setattr(net, attr, new)
            count += 1
        elif isinstance(value, dict):
            for k, v in list(value.items()):
                if v is old:
                    value[k] = new
                    count += 1
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if v is old:
                    value[i] = new
                    count += 1
    return count


def share_parameters(network: Network) -> int:
    """Make every layer hold the network's own parameter arrays where it holds equal copies; returns how many."""
    params = network.params()
    net_grads = getattr(network.net, "grads", None)
    names = list(params)
    used: set[str] = set()
    count = 0
    for _, layer in network.layers():
        for attr, array in _layer_arrays(layer):
            if _is_gradient_name(attr, layer):
                continue
            owner = _owner(array, params, used)
            if owner is None:
                continue
            used.add(owner)
            if params[owner] is array:
                continue
            if attr.startswith("params["):
                i = int(attr[7:-1])
                layer.params[i] = params[owner]
                grads = getattr(layer, "grads", None)
                j = names.index(owner)
                if isinstance(grads, list) and isinstance(net_grads, list) and i < len(grads) and j < len(net_grads):
                    grads[i] = net_grads[j]
            else:
                setattr(layer, attr, params[owner])
            count += 1
    return count


def _is_gradient_name(attr: str, layer: Any) -> bool:
    """`dW`, `grad_W`, `W_grad`: a gradient slot, which must never be bound to a parameter."""
    low = attr.lower()
    return "grad" in low or (attr.startswith("d") and attr[1:] in vars(layer))


def apply_swaps(network: Network, swaps: Sequence[Swap]) -> None:
    """Swap the reference pieces into the (working copy of the) network."""
    if any(s.kind == "share" for s in swaps):
        share_parameters(network)
    layers = dict(network.layers())
    params = network.params()
    for swap in swaps:
        if swap.kind == "share" or swap.layer not in layers:
            continue
        old = layers[swap.layer]
        if swap.kind == "softmax":
            new: Any = reference.SoftmaxWithLoss()
        elif swap.kind == "relu":
            new = reference.Relu()
        elif swap.kind == "sigmoid":
            new = reference.Sigmoid()
        else:
            arrays = _affine_arrays(old)
            if arrays is None:
                raise _ProbeError(f"`{swap.layer}` holds no W and b")
            W, b, grads = arrays
            own_w, own_b = _owner(W, params), _owner(b, params)
            new = reference.Affine(params[own_w] if own_w else W, params[own_b] if own_b else b, grads)
        if not _replace_layer(network.net, old, new):
            raise _ProbeError(f"could not put the reference in place of `{swap.layer}`")
