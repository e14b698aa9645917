"""The network's parameters are not the arrays its layers compute with.

What it finds:
    A network whose `params` (dict or list) holds arrays that no layer uses:
    the layers were given copies (`Affine(self.params['W1'].copy(), ...)`), so an
    in-place SGD step on `params` changes nothing the network computes. The
    check compares identities (`is`, `np.shares_memory`) and then, on a copy of
    the network, applies an in-place step `params[key] -= 0.1 * u` (u between
    0.5 and 1.5) and compares the output before and after. It also reads your
    training script, without running it, for an update that binds a new array
    instead of updating in place (`params[key] = params[key] - lr * grad[key]`,
    or `p = p - lr * g` in a loop over the parameters), which leaves the layers
    holding the old arrays. A gradient check whose numerical gradient is exactly
    zero while the analytic one is not (`unused-in-forward`) is the same bug.

Why it matters:
    Training updates `params`; the forward pass reads the layers' arrays. When
    they are different arrays the loss never goes down, however the learning
    rate is tuned, while every gradient looks plausible.

Example:
    self.layers['Affine1'] = Affine(self.params['W1'].copy(), self.params['b1'].copy())
    ...
    network.params[key] = network.params[key] - learning_rate * grad[key]

Fix:
    self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
    ...
    network.params[key] -= learning_rate * grad[key]
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import probes, static
from backprop_doctor.conventions._base import is_float_array, isolated
from backprop_doctor.conventions.dlfs2 import dlfs2_names
from backprop_doctor.conventions.networks import Network
from backprop_doctor.discovery import train_flag_name
from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.updates import ParameterCopy, parameter_copies

NAME = "unshared-parameter"
CODE = "BPD401"
SEVERITY = "error"
STAGE = "sharing"

STEP = 0.1  # the in-place SGD step applied to each parameter of a copy of the network
THRESHOLD = 1e-12  # smallest relative change of the output an update must cause


# --------------------------------------------------------------------------- running the network


def _outputs(net: Any, x: np.ndarray, t: Any) -> list[np.ndarray]:
    """What the network computes on (x, t), in inference mode: predict's output and the loss."""
    results = []
    with probes.quietly():
        predict = getattr(net, "predict", None)
        if callable(predict):
            np.random.seed(probes.FORWARD_SEED)
            flag = train_flag_name(predict)
            results.append(np.array(predict(x.copy(), **({flag: False} if flag else {})), dtype=np.float64))
        network = Network(net, train=False)
        np.random.seed(probes.FORWARD_SEED)
        results.append(np.array(network.loss(x.copy(), copy.deepcopy(t)), dtype=np.float64))
    return results


def _change(before: list[np.ndarray], after: list[np.ndarray]) -> float:
    """The largest change of any output, relative to that output's largest value.

    NaN when an output is not finite or changed shape: then nothing can be told.
    """
    worst = 0.0
    for a, b in zip(before, after):
        if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return float("nan")
        scale = max(float(np.max(np.abs(a), initial=0.0)), 1e-300)
        worst = max(worst, float(np.max(np.abs(b - a), initial=0.0)) / scale)
    return worst


def _containers(net: Any) -> list[tuple[Any, Any]]:
    """(container, key) of every parameter: the `params` dict's keys or the list's indices."""
    params = net.params
    if isinstance(params, dict):
        return [(params, k) for k, v in params.items() if is_float_array(v)]
    return [(params, i) for i, v in enumerate(params) if is_float_array(v)]


def step_effects(built: Any, *, rebind: bool = False) -> dict[str, float]:
    """Relative change of the network's output after one update of each parameter alone.

    The update subtracts STEP times a fixed direction with entries between 0.5
    and 1.5: positive like `lr * ones`, but uneven, since an even shift of every
    class's weights leaves a softmax unchanged. In place
    (`params[k] -= step`) by default; with `rebind`, as `params[k] = params[k] - step`.
    Each update runs on a fresh copy. Keys are the names `Network.params()` uses;
    a value is NaN when the output is not finite (nothing can be told).
    """
    _label, x, t = built.cases[0]
    x = np.array(x)  # word ids stay integers: an embedding looks rows up with them
    rng = np.random.default_rng(401)
    with isolated(built.obj) as (work, _):
        names = list(Network(work).params())
        before = _outputs(copy.deepcopy(work), x, t)
        effects = {}
        for name, (_, key) in zip(names, _containers(work)):
            net = copy.deepcopy(work)
            container = net.params
            step = STEP * rng.uniform(0.5, 1.5, size=np.shape(container[key]))
            if rebind:
                container[key] = container[key] - step
            else:
                np.subtract(container[key], step, out=container[key], casting="unsafe")
            effects[name] = _change(before, _outputs(net, x, t))
    return effects


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class Holder:
    """A layer array that stands where a parameter should be: same shape, separate memory."""

    layer: str  # the layer's key in the network
    attr: str  # "W", "params[0]"
    copy: bool  # equal to the parameter (a copy), or different values (drawn separately)


def _layer_arrays(layer: Any) -> dict[str, np.ndarray]:
    arrays = {k: v for k, v in vars(layer).items() if is_float_array(v)} if hasattr(layer, "__dict__") else {}
    params = getattr(layer, "params", None)
    if isinstance(params, list) and all(isinstance(p, np.ndarray) for p in params):
        names = dlfs2_names(layer)
        arrays.update({f"params[{i}]" if names[i].startswith("params[") else names[i]: p for i, p in enumerate(params)})
    return arrays


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    return np.may_share_memory(a, b) and np.shares_memory(a, b)


def identities(net: Any) -> dict[str, tuple[bool, list[Holder]]]:
    """For each parameter: whether some layer uses that very array, and which layer arrays stand in for it.

    A stand-in has the parameter's shape but shares memory with no parameter:
    a copy when its values are equal, else an array the layer got from elsewhere.
    Copies come first.
    """
    network = Network(net)
    params = network.params()
    layers = [(key, _layer_arrays(layer)) for key, layer in network.layers()]
    result = {}
    for name, p in params.items():
        shared = any(a is p or _shares(a, p) for _, arrays in layers for a in arrays.values())
        holders = [
            Holder(key, attr, bool(np.array_equal(a, p)))
            for key, arrays in layers
            for attr, a in arrays.items()
            if a.shape == p.shape and not any(_shares(a, q) for q in params.values())
        ]
        result[name] = (shared, sorted(holders, key=lambda h: not h.copy))
    return result


# --------------------------------------------------------------------------- source


def init_copies(init: Any) -> list[ParameterCopy]:
    """Statements of `__init__` that hand a layer a copy of a parameter, with the line fixed."""
    where = definition(init)
    if where is None:
        return []
    lines, tree = source_tree(where.file)
    if tree is None:
        return []
    return parameter_copies(lines, tree, where.line, where.end_line)


# --------------------------------------------------------------------------- the check


def run(context: Any) -> Iterator[Finding]:
    lost: dict[str, bool] = {}  # network -> whether `params[k] = params[k] - step` changes nothing it computes
    for built in context.networks:
        try:
            yield from _check_network(built, context)
        except Exception:  # the user's network raised: the gradient engine reports it
            pass
        try:
            changes = list(step_effects(built, rebind=True).values())
        except Exception:
            continue
        if changes and all(c <= THRESHOLD for c in changes):
            lost[built.name] = True
        elif any(c > THRESHOLD for c in changes):
            lost[built.name] = False
    source = context.source
    if source is None or source.tree is None:
        return
    stuck = [name for name, is_lost in lost.items() if is_lost]
    alone = _held_once(context)
    unused = unused_in_replay(context)
    for update in source.facts.updates:
        if update.kind == "rebind-loop-variable":
            yield _loop_variable_finding(update, source.path)
        elif update.kind == "rebind-entry" and update.line in unused:
            yield _rebinding_finding(update, source.path, stuck, replayed=unused[update.line])
        elif update.kind == "rebind-entry" and (stuck or (not lost and not _plain_dict(update))) and update.line not in alone:
            # when every network reads `params` itself, binding a new array to it is a valid update
            yield _rebinding_finding(update, source.path, stuck)


def _plain_dict(update: Any) -> bool:
    """`parameters["W" + str(l)] = parameters[...] - ...` in a program that built no network: a dict
    of arrays passed between functions (the Coursera style), which no layer object holds."""
    return re.fullmatch(r"[^\W\d]\w*\[.*\]", update.target, re.S) is not None


def _held_once(context: Any) -> set[int]:
    """Update lines whose every parameter the replayed program holds in one place only (a dict of
    arrays that functions read, no layer keeping its own reference): rebinding them is a valid update."""
    lines: dict[int, bool] = {}
    for result in context.extras.get("replay") or []:
        for moved, measured in result.parameters:
            line = moved.site.line
            lines[line] = lines.get(line, True) and moved.holders == 1 and not measured.unused
    return {line for line, ok in lines.items() if ok}


def _check_network(built: Any, context: Any) -> Iterator[Finding]:
    # identities are read on the network itself: a deep copy turns a layer's view of a parameter
    # (`W[:]`, `W.T`) into an array of its own
    shared = identities(built.obj)
    with isolated(built.obj) as (work, _):
        network = Network(work)
        if not network.layers():
            return
        keyed = network.style == "dict"  # `params` is a dict: every name is one of its keys
    effects = step_effects(built)
    if not effects:
        return
    # Unshared: no layer uses the array, an update of it changes nothing, and some layer holds a stand-in.
    # Without a stand-in the network may read `params` itself (and merely be saturated): not reported.
    unshared = {
        k: shared[k][1] for k, e in effects.items() if e <= THRESHOLD and k in shared and not shared[k][0] and shared[k][1]
    }
    if not unshared:
        return
    names = list(effects)  # in the order of the params dict or list, so a list index finds its name
    init = getattr(type(built.obj), "__init__", None)
    engine = {
        f.param: f for f in context.findings if f.pattern == "unused-in-forward" and f.layer in (built.name, None)
    }
    reported: list[Any] = []
    for entry in init_copies(init) if init is not None else []:
        keys = [names[k] if isinstance(k, int) and 0 <= k < len(names) else k for k in entry.keys]
        keys = [k for k in dict.fromkeys(keys) if k in unshared and k not in reported]
        if keys:
            reported += keys
            yield _unshared_finding(built.name, keys, unshared, effects, engine, entry, init, keyed)
    rest = [k for k in unshared if k not in reported]
    if rest:
        yield _unshared_finding(built.name, rest, unshared, effects, engine, None, init, keyed)


def _entry(key: Any, keyed: bool) -> str:
    """`params['W1']` for a dict key (`params['fc.W']` too); list-style names (`layers[0].W`,
    `affine1.W`, `params[1]`) as they are."""
    listed = not keyed and isinstance(key, str) and ("[" in key or "." in key)
    return key if listed else f"params[{key!r}]"


def _quoted(keys: list[Any], keyed: bool) -> str:
    names = [_entry(k, keyed) for k in keys]
    shown = [f"`self.{n}`" if n.startswith("params[") else f"`{n}`" for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _unshared_finding(
    name: str,
    keys: list[Any],
    unshared: dict[Any, list[Holder]],
    effects: dict[Any, float],
    engine: dict[Any, Finding],
    entry: ParameterCopy | None,
    init: Any,
    keyed: bool,
) -> Finding:
    holders = [h for k in keys for h in unshared[k]]
    layer = entry.layer if entry and entry.layer else (holders[0].layer if holders else None)
    to = f" to `{layer}`" if layer else " to the layers"
    # a statement that hands `.copy()`s gives copies, whatever else the other layers hold
    own = "copies" if entry is not None or all(h.copy for h in holders) else "arrays"
    consequence = (
        f"the layer computes with its own {own}, so an in-place SGD step on `params` changes nothing it computes "
        "and the loss never goes down"
    )
    if entry is not None:
        themselves = "itself" if len(keys) == 1 else "themselves"
        message = (
            f"`{name}.__init__` gives a copy of "
            f"{_quoted(keys, keyed)}{to} (line {entry.line}): {consequence}; pass {_quoted(keys, keyed)} {themselves}"
        )
    else:
        message = (
            f"the layers of `{name}` do not use the arrays in `{name}.params` "
            f"({', '.join(f'`{_entry(k, keyed)}`' for k in keys)}): {consequence}; give the layers those very arrays"
        )
    evidence = []
    for k in keys:
        copies = [f"`{h.layer}.{h.attr}`" for h in unshared[k] if h.copy]
        others = [f"`{h.layer}.{h.attr}`" for h in unshared[k] if not h.copy]
        held = [f"a copy is held by {', '.join(copies)}"] if copies else []
        held += [f"{', '.join(others)} {'has' if len(others) == 1 else 'have'} its shape but other values"] if others else []
        evidence.append(("identity", f"{_entry(k, keyed)} is not an array any layer uses; {'; '.join(held)}"))
    evidence.append(
        (
            "in-place step",
            "; ".join(f"{_entry(k, keyed)} -= {STEP:g}·u (u in [0.5, 1.5]): output changed by {effects[k]:.3g}"
                      for k in keys),
        )
    )
    for k in keys:
        if k in engine:
            evidence.append(
                ("gradient check", f"numerical gradient of `{k}` is exactly zero while the analytic one is not")
            )
    where = definition(init) if init is not None else None
    location: dict[str, Any] = {}
    if entry is not None and where is not None:
        location = {"file": where.file, "line": entry.line, "column": entry.column, "highlight": (entry.line,)}
    elif where is not None:
        location = {"file": where.file, "line": where.line, "highlight": (where.line,)}
    return rule(NAME).finding(
        message,
        layer=name,
        param=", ".join(str(k) for k in keys),
        measured=max(effects[k] for k in keys),
        threshold=THRESHOLD,
        fix=entry.fixed if entry and entry.fixed else f"self.layers[...] = Layer(self.{_entry(keys[0], keyed)}, ...)",
        evidence=tuple(evidence),
        **location,
    )


def unused_in_replay(context: Any) -> dict[int, list[str]]:
    """Update lines of the replayed training step whose every parameter moved there leaves the loss as it
    was (`Measured.unused`), with those parameters' names: what the update binds no layer computes with."""
    lines: dict[int, list[str]] = {}
    right: set[int] = set()
    for result in context.extras.get("replay") or []:
        for moved, measured in result.parameters:
            if moved.site.file:
                continue
            if measured.unused:
                lines.setdefault(moved.site.line, []).append(measured.name)
            else:
                right.add(moved.site.line)
    return {line: names for line, names in lines.items() if line not in right}


def _rebinding_finding(update: static.Update, path: str, stuck: list[str], replayed: list[str] | None = None) -> Finding:
    op = "-=" if "-=" in update.fix else "+="
    param = None
    if replayed:
        moved = ", ".join(f"`{n}`" for n in replayed[:4]) + (" and others" if len(replayed) > 4 else "")
        why = (
            f"the forward pass keeps computing with the old arrays: at your replayed training step the loss did not change "
            f"when this update moved {moved}, so the loss never goes down"
        )
        evidence: tuple[tuple[str, str], ...] = (("replayed step", f"loss unchanged when {moved} moved"),)
        param = replayed[0]
    elif stuck:
        why = (
            f"the layers of `{stuck[0]}` keep computing with the old arrays (on a copy, its output did not change "
            "after this update), so the loss never goes down"
        )
        evidence = (("rebinding step", f"params[k] = params[k] - {STEP:g}·u on a copy of `{stuck[0]}`: output unchanged"),)
    else:
        why = "layers that were given the old arrays keep computing with them, so the loss never goes down"
        evidence = ()
    measured = bool(replayed or stuck)  # an error, measured; else a warning read from the source alone
    return rule(NAME).finding(
        f"the update of `{update.target}` binds a new array instead of changing it in place (line {update.line}): "
        f"`{update.source}` replaces the entry, and {why}; update it in place with `{op}`",
        severity=None if measured else "warning",
        file=path,
        line=update.line,
        column=update.col + 1,
        highlight=(update.line,),
        param=param,
        layer=stuck[0] if stuck and not replayed else None,
        measured=0.0 if measured else None,
        threshold=THRESHOLD if measured else None,
        fix=update.fix,
        evidence=evidence,
    )


def _loop_variable_finding(update: static.Update, path: str) -> Finding:
    op = "-=" if "-=" in update.fix else "+="
    return rule(NAME).finding(
        f"the update of `{update.target}` changes only the loop variable (line {update.line}): `{update.source}` "
        f"binds a new array to it, so the parameters never change and the loss never goes down; update it in "
        f"place with `{op}`",
        file=path,
        line=update.line,
        column=update.col + 1,
        highlight=(update.line,),
        fix=update.fix,
    )
