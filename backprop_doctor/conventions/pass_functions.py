"""A forward-pass function returning what it computed, and a backward-pass function taking that back with the targets and returning the loss and the gradients.

Example:
    def forward_pass(inputs, h, params):
        W_xh, W_hh, W_hy, b_h, b_y = params
        hs, ps = [h], []
        for x in inputs:
            h = np.tanh(W_xh @ x + W_hh @ h + b_h)
            hs.append(h)
            z = W_hy @ h + b_y
            ps.append(np.exp(z) / np.exp(z).sum())
        return hs, ps

    def backward_pass(inputs, hs, ps, targets, params):
        W_xh, W_hh, W_hy, b_h, b_y = params
        loss, dh_next = 0.0, np.zeros_like(hs[0])
        grads = [np.zeros_like(w) for w in params]
        for t in reversed(range(len(inputs))):
            loss -= np.log(ps[t][targets[t]].item())
            ...
        return loss, grads

A recurrent network (an LSTM, an RNN) trained over sequences, its weights one list the program
makes in another file (`params = init_lstm(...)`) and hands to both functions; the program's
loop applies the gradients. Recognised by: a function whose name says forward (`forward_pass`,
`rnn_forward`) and whose partner is named the backward way (`backward_pass`), the partner's last
`return` two names, a loss and the gradients (`return loss, grads`), both functions taking the
weights by the same name. The partner's other arguments are what the forward was given again
(by name), the forward's returned values (in order) and the targets. Built on the program's own
first calls of the two, or, for a file of functions that only a program beside it calls (`main.py`
does `from pass_functions import forward_pass, backward_pass`), on that program's first calls, run
until the backward is called and stopped there. Gradients: the returned ones, in the order of
the weights (`W_f, W_i, ..., b_v = p` names them), against the returned loss as a function of the
weights through the forward.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked, program_call

NAME = "pass-functions"
KIND = "function"
ORDER = 36  # before `loss-and-gradients`, which would take the backward alone (its loss comes from the forward's results)

_LOSS = re.compile(r"(?i)^(loss|cost|j|error|total_loss|l)$")
_TARGETS = re.compile(r"(?i)^(y|t|ys|ts|y_?batch|y_?train|targets?(_\w+)?|labels?|y_?true|truth|outputs?_true)$")
MAX_FILES = 30  # files beside the checked one read for a program that calls the pair
DRIVE_SHARE = 0.25  # of the run budget: how long that program may run before it calls the backward


def _partner(name: str) -> list[str]:
    return [name.replace(a, b, 1) for a, b in (("forward", "backward"), ("Forward", "Backward"), ("fwd", "bwd")) if a in name]


def _returned_pair(func: Any) -> tuple[str, str | list[str]] | None:
    """The names of the last `return loss, grads` (or `return loss, (dW1, db1, ...)`), a loss first."""
    node = function_node(func)
    if node is None:
        return None
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
    value = returns[-1].value if returns else None
    if not (isinstance(value, ast.Tuple) and len(value.elts) == 2 and isinstance(value.elts[0], ast.Name)):
        return None
    loss, grads = value.elts
    if isinstance(grads, (ast.Tuple, ast.List)) and grads.elts and all(isinstance(e, ast.Name) for e in grads.elts):
        listed: str | list[str] = [e.id for e in grads.elts]  # type: ignore[attr-defined]
    elif isinstance(grads, ast.Name):
        listed = grads.id
    else:
        return None
    return (loss.id, listed) if _LOSS.match(loss.id) else None


def _weights_argument(forward: Any, backward: Any) -> str | None:
    """The argument both take by one name and unpack into weights (`W_f, W_i, ... = p`)."""
    shared = [n for n in required_inputs(backward) if n in required_inputs(forward)]
    for name in shared:
        if _unpacked(backward, name) or _unpacked(forward, name):
            return name
    return None


def _unpacked(func: Any, argument: str) -> list[str]:
    """`W_f, W_i, W_g = p` in `func`: the names, in order; [] when it has no such assignment."""
    node = function_node(func)
    for n in ast.walk(node) if node is not None else ():
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id == argument:
            for target in n.targets:
                if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
                    return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return []


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    pairs = []
    for name, f in functions.items():
        if not inspect.isfunction(f):
            continue
        for partner in _partner(name):
            backward = functions.get(partner)
            if inspect.isfunction(backward) and _returned_pair(backward) and _weights_argument(f, backward) is not None:
                pairs.append((f, backward))
                break
    return pairs


def label(pair: tuple[Any, Any]) -> str:
    return f"{pair[0].__name__}/{pair[1].__name__}"


class PassPair(Adapter):
    """The loss the backward returns, as a function of the weights in the list both take; the
    gradients it returns beside it, entry by entry."""

    def __init__(self, forward: Any, backward: Any, weights_arg: str, given: dict[str, Any], taken: dict[str, Any], names: list[str]):
        super().__init__(name=label((forward, backward)), kind="loss-function", target=backward, is_loss=True)
        self._forward, self._backward, self._arg = forward, backward, weights_arg
        self._given, self._taken = given, taken  # the recorded arguments of each, by name
        listed = given[weights_arg]
        self._names = names if len(names) == len(listed) else [f"{weights_arg}[{i}]" for i in range(len(listed))]
        self._weights = {n: np.array(w, dtype=np.float64) for n, w in zip(self._names, listed)}
        self._kind = type(listed)
        self.dout_is_input = False
        self._grads: dict[str, Any] = {}
        self._returned = _returned_pair(backward)

    def params(self) -> dict[str, np.ndarray]:
        return self._weights

    def _listed(self) -> Any:
        listed = [self._weights[n] for n in self._names]
        return tuple(listed) if self._kind is tuple else listed

    def _call(self) -> Any:
        given = {n: copy.deepcopy(v) for n, v in self._given.items()}
        given[self._arg] = self._listed()
        results = self._forward(*(given[n] for n in required_inputs(self._forward)))
        results = list(results) if isinstance(results, tuple) else [results]
        values, k = [], 0
        for name in required_inputs(self._backward):
            if name in given:
                values.append(given[name])
            elif _TARGETS.match(name) or k >= len(results):
                values.append(copy.deepcopy(self._taken[name]))
            else:
                values.append(results[k])
                k += 1
        return self._backward(*values)

    def forward(self, x: Any = None, t: Any = None) -> Any:
        loss, grads = self._call()
        listed = list(grads) if isinstance(grads, (list, tuple)) else []
        self._grads = {n: listed[i] if i < len(listed) else None for i, n in enumerate(self._names)}
        return float(np.asarray(loss, dtype=np.float64))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, {k: self._grads.get(k) for k in self._weights}

    def backward_target(self) -> Any:
        return self._backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        returned = self._returned[1] if self._returned else None
        if isinstance(returned, list) and param in self._names and self._names.index(param) < len(returned):
            return (returned[self._names.index(param)],)  # `return loss, (dWxh, dWhh, ...)`, in the weights' order
        return (f"{param}_d", f"d{param}", f"d_{param}", f"{param}_grad", f"grad_{param}")


def _fits(adapter: PassPair) -> bool:
    from backprop_doctor.build import _trial

    def call() -> bool:
        np.random.seed(FORWARD_SEED)
        with np.errstate(all="ignore"):
            loss = adapter.forward()
        grads = adapter.backward(None)[1]
        return bool(np.isfinite(loss)) and all(
            isinstance(g, np.ndarray) and g.shape == adapter.params()[k].shape for k, g in grads.items()
        )

    return bool(_trial(call, default=False))


def _arguments(func: Any, call: Any) -> dict[str, Any]:
    return dict(zip(required_inputs(func), call.args)) if call is not None else {}


class _Reached(BaseException):
    """Stops the program beside the file at the backward's first call (or at its deadline)."""


def _where(func: Any) -> tuple[str, int, str]:
    code = func.__code__
    return (os.path.realpath(code.co_filename), code.co_firstlineno, code.co_name)


def _first_calls(path: str, forward: Any, backward: Any, seconds: float) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The arguments of the first call of `forward` and of `backward` after it that the program at
    `path` makes run as a script (its folder first on the path), copied, the run stopped there."""
    import contextlib
    import io
    import runpy
    import sys

    from backprop_doctor.observe.budget import Deadline

    wanted = {_where(forward): "forward", _where(backward): "backward"}
    deadline = Deadline(seconds)
    found: dict[str, dict[str, Any]] = {}

    def tracer(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            role = wanted.get((os.path.realpath(code.co_filename), code.co_firstlineno, code.co_name))
            if role is not None and role not in found and (role == "forward" or "forward" in found):
                found[role] = {n: copy.deepcopy(v) for n, v in frame.f_locals.items()}
                if role == "backward":
                    raise _Reached
            if deadline.passed():
                raise _Reached
        return None

    folder = os.path.dirname(os.path.abspath(path))
    state, before, argv = np.random.get_state(), sys.gettrace(), sys.argv
    sys.path.insert(0, folder)
    np.random.seed(FORWARD_SEED)
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            sys.argv = [path]
            sys.settrace(tracer)
            try:
                runpy.run_path(path, run_name="__main__")
            finally:
                sys.settrace(before)
    except _Reached:
        pass
    except BaseException:  # noqa: BLE001 - the program beside the file: stopped before the call
        pass
    finally:
        sys.argv = argv
        np.random.set_state(state)
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return (found["forward"], found["backward"]) if len(found) == 2 else None


def _programs_beside(path: str, name: str) -> list[str]:
    """The files beside `path` that import the function `name` from it and run as a script."""
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.importers import imports_from

    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))[:MAX_FILES]
    except OSError:
        return []
    found = []
    for n in names:
        candidate = os.path.join(folder, n)
        if os.path.realpath(candidate) == os.path.realpath(path):
            continue
        tree = source_tree(candidate)[1]
        if tree is not None and imports_from(tree, stem, name):
            found.append(candidate)
    return found


def build(pair: tuple[Any, Any], context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor.observe import budget

    forward, backward = pair
    arg = _weights_argument(forward, backward)
    if arg is None:
        raise NotChecked(f"`{label(pair)}` no longer reads as a forward and a backward over one list of weights")
    names = _unpacked(backward, arg) or _unpacked(forward, arg)
    tries: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    given, taken = _arguments(forward, program_call(context, forward)), _arguments(backward, program_call(context, backward))
    if given and taken:
        tries.append(("as your program called them", given, taken))
    source = getattr(context, "source", None)
    path = getattr(source, "path", None)
    options = getattr(context, "options", None)
    beside = _programs_beside(path, forward.__name__) if path and not tries else []
    for program in beside[:2]:
        seconds = budget.share(getattr(options, "run_budget", 10.0), DRIVE_SHARE)
        calls = _first_calls(program, forward, backward, seconds)
        if calls is not None:
            tries.append((f"as `{os.path.basename(program)}` first calls them", *calls))
            break
    for how, given, taken in tries:
        if arg not in given or not isinstance(given[arg], (list, tuple)) or not all(is_float_array(np.asarray(w)) for w in given[arg]):
            continue
        given = {n: v for n, v in given.items() if n in required_inputs(forward)}
        adapter = PassPair(forward, backward, arg, given, taken, names)
        if _fits(adapter):
            shown = ", ".join(f"{n} {np.shape(w)}" for n, w in adapter.params().items())
            return [Case(f"{shown} ({how})", adapter, None)]
    if not tries:
        raise NotChecked(
            f"`{label(pair)}` take their weights in a list (`{arg}`) whose shapes only a call says, and no program "
            "in this file or beside it called them"
        )
    raise NotChecked(f"`{label(pair)}` did not run on the calls recorded")
