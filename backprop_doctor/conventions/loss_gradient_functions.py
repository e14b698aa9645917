"""One function that runs the whole forward and backward pass and returns the loss with the gradients.

A recurrent network trained on characters is often written this way: the function takes a
sequence, its targets and the hidden state (and often the weights), runs the cell over the
sequence, back-propagates through time and returns the loss and one gradient per weight, which
a training loop (in this file, in another one, or not written yet) applies.

Example:
    def sequence_step(inputs, targets, h0, U, W, V, b, c):
        hs, ps, loss = {-1: h0}, {}, 0.0
        for t, i in enumerate(inputs):
            hs[t] = np.tanh(U[:, [i]] + W @ hs[t - 1] + b)
            z = V @ hs[t] + c
            ps[t] = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            loss -= np.log(ps[t][targets[t], 0])
        dU, dW, dV, db, dc = (np.zeros_like(p) for p in (U, W, V, b, c))  # or one by one
        ...
        return loss, dU, dW, dV, db, dc, hs[len(inputs) - 1]

The gradients may come first, in a dictionary (`return {"U": dU, ...}, loss`), and the weights
may be globals the function reads rather than arguments. Recognised by: a function whose last
`return` gives one value named like a loss and gradients that belong to weights it takes or
reads (`static.gradient_returns`); not one another convention already checks (a cs231n loss
`(loss, dx)` of its scores, `costFunction(theta, X, y)`, `loss(W, X, y, reg)`). Built from the
program's own call when it made one, else on a synthesised call: the globals as they are, and
weights it takes shaped from the sizes their names say (`Wxh`, `input_hidden`, `W1`), either
orientation, on a sequence of token indices or a batch of rows or columns. Gradients: the
returned ones, each compared with the derivative of the returned loss.

The program's call may hand it functions and helpers (cs224d's word2vec):

    def softmaxCostAndGradient(predicted, target, outputVectors, dataset):
        ...
        return cost, gradPred, grad

    def word2vec_sgd_wrapper(word2vecModel, tokens, wordVectors, dataset, C, costAndGradient=softmaxCostAndGradient):
        ...
        return cost, grad

Those arguments (a function, a dict of helpers, a dataset object) are passed as the program passed
them; gradients whose names spell no argument (`gradPred`, `grad`) belong to the one argument each
is shaped as in that call (`predicted`, `outputVectors`).
"""

from __future__ import annotations

import builtins
import inspect
import itertools
import random
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array
from backprop_doctor.conventions._classlayer import function_node
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.static.gradient_returns import Gradient, LossAndGradients, calls_by_name, globals_read, gradients_by_name, loss_and_gradients
from backprop_doctor.static.methods import plain_calls

NAME = "loss-and-gradients"
KIND = "function"
ORDER = 37  # after the conventions with narrower shapes of `(loss, grad)` (cost functions, cs231n's linear losses)

VOCAB, HIDDEN, STEPS = 7, 5, 4  # a sequence's vocabulary, hidden units and length
FEATURES, CLASSES, SAMPLES = 4, 3, 6  # a batch's


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[Any]:
    from backprop_doctor.conventions import cost_functions, cs231n, cs231n_linear, model_functions

    found = []
    for name, f in functions.items():
        layout = _layout(f, namespace) if inspect.isfunction(f) else None
        if layout is None and inspect.isfunction(f) and gradients_by_name(function_node(f)) is not None:
            pass  # `return cost, gradPred, grad`: the program's call tells whose gradients they are by their shapes (`build`)
        elif layout is None or all(_SCORES.match(g.param) for g in layout.gradients):
            continue  # `softmax_loss_mask(x, y, mask) -> (loss, dx)`: a loss of its scores, not of weights
        one = {name: f}
        if any(c.recognise_functions(one, namespace) for c in (cost_functions, cs231n_linear, model_functions)):
            continue
        scores, labels = np.random.default_rng(0).standard_normal((4, 3)), np.array([0, 2, 1, 2])
        if cs231n.returns_loss_and_gradient(f, scores, labels) or cs231n.returns_masked_loss(f, np.random.default_rng(0)):
            continue  # `softmax_loss(x, y) -> (loss, dx)`, `temporal_softmax_loss(x, y, mask)`: discovery's loss functions
        found.append(f)
    return found


_SCORES = re.compile(r"(?i)^(x|scores?|logits?|z|out|outputs?|y_?pred|y_?hat|preds?|predictions?|inputs?|probs?)$")


def label(f: Any) -> str:
    return f.__name__


def _arguments(f: Any) -> list[str]:
    return [p.name for p in inspect.signature(f).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _is_weight(value: Any) -> bool:
    return is_float_array(value) and np.ndim(value) >= 1


def _global_weights(func: Any, layout: LossAndGradients, context: Any) -> dict[str, Any] | None:
    """The weights the function reads as globals: as its module holds them, else as the program's
    observed run set them (`Wxh = np.random.randn(...) * 0.01` at the top level, which loading the
    definitions alone does not run); None when one of them is neither."""
    names = set(_arguments(func)) | {u.name for u in layout.unpacked}
    ran = getattr(context, "extras", {}).get("observed_namespace") or {}
    held = {}
    for g in layout.gradients:
        if g.param in names:
            continue
        value = func.__globals__.get(g.param)
        value = value if _is_weight(value) else ran.get(g.param)
        if not _is_weight(value):
            return None
        held[g.param] = np.array(value, dtype=np.float64)
    return held


def _missing_globals(func: Any, layout: LossAndGradients, context: Any) -> dict[str, Any]:
    """The other globals the function reads that loading its definitions did not set and the
    program's observed run did (`V = len(chars)`)."""
    ran = getattr(context, "extras", {}).get("observed_namespace") or {}
    weights = {g.param for g in layout.gradients}
    return {n: ran[n] for n in globals_read(function_node(func)) if n not in func.__globals__ and n in ran and n not in weights}


def _layout(f: Any, namespace: dict[str, Any]) -> LossAndGradients | None:
    node = function_node(f)
    if node is None:
        return None
    arguments = set(_arguments(f))
    weights = {n for n in globals_read(node) if n not in f.__globals__ and n not in vars(builtins) or _is_weight(f.__globals__.get(n))}
    layout = loss_and_gradients(node, arguments | weights)
    if layout is None:
        return None
    return layout


class LossAndGradientsFunction(Adapter):
    """The returned loss as the loss, the weights (arguments or globals) as the parameters; the
    function's other arguments as they were given. A global weight is set to the adapter's own
    array for the length of each call, and put back."""

    def __init__(
        self, func: Any, layout: LossAndGradients, values: dict[str, Any], weights: dict[str, np.ndarray], data: str | None, targets: str | None,
        missing: dict[str, Any] | None = None,
    ):
        super().__init__(name=func.__name__, kind="loss-function", target=func, is_loss=True)
        self._func, self._layout, self._values, self._weights = func, layout, values, weights
        self._data, self._targets = data, targets
        self._missing = missing or {}  # other globals it reads that only the program's run set (`V = len(chars)`)
        self.dout_is_input = False
        self._grads: dict[str, Any] = {}

    def params(self) -> dict[str, np.ndarray]:
        return self._weights

    def _call(self, x: Any = None, t: Any = None) -> Any:
        values = dict(self._values)
        values.update({k: v for k, v in self._weights.items() if k in values})
        for u in self._layout.unpacked:  # `[W1, b1, W2, b2] = params`: the list handed anew, with this adapter's arrays
            given = values[u.argument]
            listed = list(given)
            listed[u.index] = self._weights[u.name]
            values[u.argument] = tuple(listed) if isinstance(given, tuple) else listed  # a tuple handed on as one
        for name, given in ((self._data, x), (self._targets, t)):
            if name is not None and given is not None:
                values[name] = list(np.asarray(given).tolist()) if isinstance(self._values[name], list) else given
        names = _arguments(self._func)[: len(values)]
        held = self._func.__globals__
        _reseed_python_random()  # a context drawn with `random.randint`, negative samples: the same ones each call
        put = {**self._missing, **{k: v for k, v in self._weights.items() if k not in values}}
        swapped = {k: held[k] for k in put if k in held}
        try:
            held.update(put)
            return self._invoke([values[n] for n in names])
        finally:
            for k in put:
                if k in swapped:
                    held[k] = swapped[k]
                else:
                    held.pop(k, None)

    def _invoke(self, arguments: list[Any]) -> Any:
        return self._func(*arguments)

    def forward(self, x: Any, t: Any = None) -> Any:
        result = self._call(x, t)
        self._grads = _gradients(result, self._layout) or {}
        return float(np.asarray(result[self._layout.loss], dtype=np.float64))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, {k: self._grads.get(k) for k in self._weights}

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return tuple(g.name for g in self._layout.gradients if g.param == param) or (f"d{param}",)


_PYTHON_RANDOM: list[Any] = []  # Python's `random` state that seeding it with FORWARD_SEED gives


def _reseed_python_random() -> None:
    """Python's own `random` module set to one state before each call, as the engine does NumPy's:
    a function that draws its samples there (word2vec's contexts and negative samples,
    `random.randint`) then computes the loss and its gradients on the same ones every time."""
    if not _PYTHON_RANDOM:
        random.seed(FORWARD_SEED)
        _PYTHON_RANDOM.append(random.getstate())
    random.setstate(_PYTHON_RANDOM[0])


def _gradients(result: Any, layout: LossAndGradients) -> dict[str, Any] | None:
    if not isinstance(result, tuple) or len(result) != layout.size:
        return None
    grads: dict[str, Any] = {}
    for g in layout.gradients:
        value = result[g.position]
        if isinstance(g.key, int) and not isinstance(value, dict):  # a list of gradients for weights unpacked from a list
            value = value[g.key] if isinstance(value, (list, tuple)) and g.key < len(value) else None
        elif g.key is not None:
            value = value.get(g.key) if isinstance(value, dict) else None
        grads[g.param] = value
    return grads


def _fits(func: Any, layout: LossAndGradients, adapter: LossAndGradientsFunction) -> bool:
    """Whether a trial call gives a finite scalar loss and gradients shaped like their weights."""
    from backprop_doctor.build import _trial  # a trial run of user code, NumPy's global RNG seeded and restored

    def call() -> bool:
        np.random.seed(FORWARD_SEED)
        with np.errstate(all="ignore"):
            result = adapter._call()
        grads = _gradients(result, layout)
        loss = result[layout.loss] if grads is not None else None
        if grads is None or np.size(loss) != 1 or not np.isfinite(np.asarray(loss, dtype=np.float64)).all():
            return False
        return all(isinstance(grads[k], np.ndarray) and grads[k].shape == v.shape for k, v in adapter.params().items())

    return bool(_trial(call, default=False))


def build(func: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    layout = _by_shapes(func, _layout(func, getattr(context, "namespace", None) or {}), context)
    if layout is None:
        raise NotChecked(f"`{func.__name__}` no longer returns a loss with gradients", quiet=gradients_by_name(function_node(func)) is not None)
    source = getattr(context, "source", None)
    steps = source.facts.training_steps if source is not None and getattr(source, "tree", None) is not None else []
    # a function that clips the gradients it returns is left to the replay, which knows the clip, however
    # many of its weights it measured; checked alone, its clipped gradients would read wrong
    wanted = 1 if _clips(func) else len(layout.gradients)
    if any(calls_by_name(step.loop, func.__name__) and _replayed(step, context, wanted) for step in steps):
        # the replay of that loop's first step compares these gradients with the loss the loop computes,
        # on the program's own state and with whatever the function does to them (a clip)
        raise NotChecked(f"`{func.__name__}` is called by your training loop, whose step is checked")
    held = _global_weights(func, layout, context)
    if held is None:
        raise NotChecked(f"`{func.__name__}` reads weights that are globals, and no run of the program set them")
    missing = _missing_globals(func, layout, context)
    observed = _observed(func, layout, context, held, missing)
    if observed is not None:
        return [observed]
    for shown, adapter, x, t in _synthesised(func, layout, held, missing):
        if _fits(func, layout, adapter):
            return [Case(shown, adapter, x, t)]
    stopped: list[str] = []
    driven = _driven(func, layout, context, held, missing, stopped)
    if driven is not None:
        return [driven]
    if layout.unpacked:
        listed = sorted({u.argument for u in layout.unpacked})
        why = stopped[0] if stopped else "no function of its file that takes no argument (a `train()` that loads its data) called it"
        raise NotChecked(
            f"`{func.__name__}` takes its weights in a list ({', '.join(f'`{a}`' for a in listed)}) whose shapes only a call says, "
            f"and no run of your program called it: {why}"
        )
    raise NotChecked(f"`{func.__name__}` did not run on the inputs and weight shapes tried (sequences of token indices, batches of rows or columns)")


def _clips(func: Any) -> bool:
    """Whether the function clips values (`np.clip(dparam, -5, 5, out=dparam)`): its gradients, as it returns them."""
    from backprop_doctor.static.clipped import _clip_call
    from backprop_doctor.static.tree import walk

    node = function_node(func)
    return node is not None and any(_clip_call(n) is not None for n in walk(node))


def _replayed(step: Any, context: Any, gradients: int = 1) -> bool:
    """Whether the replay measured updates of that training step, as many as the function returns
    gradients, or had no chance to yet (no replay ran: an API call that checks the function alone). A
    loop of a function the program never runs and the replay could not drive (`def main():` holding
    data it makes itself) leaves the function to be checked here, and so does a step whose replay
    measured only some of the weights the function returns gradients for (the dense layer's `w` and
    `c`, not the convolution's `kernels` summed over a loop of samples)."""
    extras = getattr(context, "extras", None)
    if not isinstance(extras, dict) or "replay" not in extras:
        return True
    return any(
        getattr(r, "step", None) is not None and r.step.loop_line == step.loop_line and r.parameters and len(r.parameters) >= gradients
        for r in extras["replay"] or []
    )


def _by_shapes(func: Any, layout: LossAndGradients | None, context: Any) -> LossAndGradients | None:
    """`layout` with the returned values named like gradients whose names spell no weight
    (`gradPred`, `grad`) given the one argument shaped as they are in the program's own call
    (`predicted` (3,), `outputVectors` (5, 3)); `layout` as it is when the program's calls tell
    nothing (no call, or two arguments of one shape)."""
    from backprop_doctor.conventions._run import program_calls

    named = gradients_by_name(function_node(func))
    known = {g.position for g in layout.gradients} if layout is not None else set()
    open_ = [g for g in named.gradients if g.position not in known] if named is not None else []
    if not open_ or layout is not None and layout.size != named.size:
        return layout
    names = _arguments(func)
    taken = {g.param for g in layout.gradients} if layout is not None else set()
    for call in program_calls(context, func)[:3]:
        if not call.returned or not isinstance(call.result, tuple) or len(call.result) != named.size:
            continue
        shapes = {n: np.shape(v) for n, v in zip(names, call.args) if n not in taken and is_float_array(v)}
        found = []
        for g in open_:
            value = call.result[g.position]
            owners = [n for n, shape in shapes.items() if isinstance(value, np.ndarray) and shape == value.shape]
            if len(owners) == 1:
                found.append(Gradient(g.position, None, g.name, owners[0]))
        params = [g.param for g in found]
        if found and len(set(params)) == len(params):
            kept = layout.gradients if layout is not None else ()
            return LossAndGradients(
                named.loss, tuple(sorted(kept + tuple(found), key=lambda g: g.position)), named.size, layout.unpacked if layout is not None else ()
            )
    return layout


def _roles(func: Any, layout: LossAndGradients, passed: Any = ()) -> tuple[list[str], str | None, str | None]:
    """The arguments, the one holding the data and the one holding the targets (the first two that
    are not weights, nor among the arguments `passed` as they were given), by position."""
    names = _arguments(func)
    weights = {g.param for g in layout.gradients} | {u.argument for u in layout.unpacked}
    rest = [n for n in names if n not in weights and n not in passed and not _STATE.search(n)]
    return names, (rest[0] if rest else None), (rest[1] if len(rest) > 1 else None)


def _observed(func: Any, layout: LossAndGradients, context: Any, held: dict[str, np.ndarray], missing: dict[str, Any]) -> Case | None:
    """The program's own call, when it made one whose arguments were kept."""
    from backprop_doctor.observe.record import TooLarge

    from backprop_doctor.conventions._run import program_calls

    for call in program_calls(context, func)[:3]:
        names = _arguments(func)
        if len(call.args) < len([n for n in names if n in _required(func)]) or any(isinstance(a, TooLarge) for a in call.args):
            continue
        case = _called(func, layout, dict(zip(names, call.args)), held, missing, f"as your program called it (line {call.line})")
        if case is not None:
            return case
    return None


def _called(func: Any, layout: LossAndGradients, values: dict[str, Any], held: dict[str, np.ndarray], missing: dict[str, Any], how: str) -> Case | None:
    """The function checked on the arguments of one call of it (`values`, by name), when they hold its
    weights and it runs on them. An argument that was a function, a class or another object of the
    program's (the model a cost function is handed, a dataset of helpers) is passed as it was, never
    fed data in its place."""
    _, data, targets = _roles(func, layout, passed=[n for n, v in values.items() if not _is_data(v)])
    weights = _weights_of(layout, values, held)
    if weights is None:
        return None
    adapter = LossAndGradientsFunction(func, layout, values, weights, data, targets, missing)
    if not _fits(func, layout, adapter):
        return None
    shown = ", ".join(f"{n} {np.shape(v)}" for n, v in values.items() if isinstance(v, np.ndarray))
    return Case(f"{shown} {how}", adapter, _as_input(values.get(data)), _as_input(values.get(targets)))


# -- the first call a training function of the file makes ------------------------------------------

DRIVE_SHARE = 0.25  # of the run budget: how long a training function may run before it calls the function
_DRIVER_NAME = re.compile(r"(?i)train|fit|main|run|learn|optimi[sz]e")


def _callers(func: Any) -> list[Any]:
    """The functions of `func`'s file that take no required argument and reach it through the file's
    functions (`train()` calls `adamGD(batch, ...)`, which calls `conv(x, y, params, 1, 2, 2)`), those
    named like a training function first."""
    namespace = func.__globals__
    own = {
        n: f for n, f in namespace.items()
        if inspect.isfunction(f) and getattr(f, "__code__", None) is not None and f.__code__.co_filename == func.__code__.co_filename
    }  # fmt: skip
    calls = {n: {c for c, _ in plain_calls(function_node(f))} for n, f in own.items()}
    reaching, grown = {func.__name__}, True
    while grown:
        more = {n for n, called in calls.items() if called & reaching} - reaching
        reaching |= more
        grown = bool(more)
    found = [own[n] for n in sorted(reaching) if n != func.__name__ and not _required(own[n])]
    return sorted(found, key=lambda f: not _DRIVER_NAME.search(f.__name__))


def _driven(
    func: Any, layout: LossAndGradients, context: Any, held: dict[str, np.ndarray], missing: dict[str, Any], stopped: list[str]
) -> Case | None:
    """The function checked on the arguments of its first call from a training function of its file that
    takes no argument (`train()`, its data loaded inside) and that the program never runs: weights the
    function takes in a list (`[f1, f2, w3, w4, b1, b2, b3, b4] = params`) have no shapes to synthesise."""
    from backprop_doctor.observe import budget
    from backprop_doctor.observe.first_call import first_call

    options = getattr(context, "options", None)
    for driver in _callers(func)[:2]:
        seconds = budget.share(getattr(options, "run_budget", 10.0), DRIVE_SHARE)
        reached = first_call(driver, func, _arguments(func), seconds, stopped)
        if reached is None:
            continue
        args, line = reached
        case = _called(func, layout, dict(zip(_arguments(func), args)), held, missing, f"as `{driver.__name__}()` first calls it (line {line})")
        if case is not None:
            return case
    return None


def _is_data(value: Any) -> bool:
    """An array, or a list or tuple that is an array of numbers: what the program fed as data (a
    bare number, a size or a target's index, is passed as it was)."""
    if isinstance(value, np.ndarray):
        return True
    if not isinstance(value, (list, tuple)) or not value:
        return False
    try:
        return np.asarray(value).dtype.kind in "biuf"  # not words, nor (centre, [context]) pairs
    except (TypeError, ValueError):
        return False


def _required(func: Any) -> set[str]:
    return {p.name for p in inspect.signature(func).parameters.values() if p.default is p.empty}


def _weights_of(layout: LossAndGradients, values: dict[str, Any], held: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """Float64 copies of the weights: arguments from `values`, globals from `held`."""
    weights = {}
    unpacked = {u.name: u for u in layout.unpacked}
    for g in layout.gradients:
        u = unpacked.get(g.param)
        if u is not None:
            listed = values.get(u.argument)
            value = listed[u.index] if isinstance(listed, (list, tuple)) and u.index < len(listed) else None
        else:
            value = values[g.param] if g.param in values else held.get(g.param)
        if not is_float_array(value):
            return None
        weights[g.param] = np.array(value, dtype=np.float64)
    return weights


def _as_input(value: Any) -> Any:
    return np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None


# -- synthesised calls ---------------------------------------------------------------------------

_STATE = re.compile(r"(?i)^(h|h0|hprev|h_prev|hidden_prev|prev_h|hidden_state|state|s0|s_prev|a0|a_prev|h_init|init_state|hidden|hstate)$")
_SEQUENCE = re.compile(r"(?i)^(x|y|xs|ys|inputs?|targets?|seq\w*|tokens?|ids|words?|chars?|sentence|labels?|x_\w+|y_\w+|indices)$")
_HIDDEN_SIZE = re.compile(r"(?i)(node|hidden|units|neurons|^h$|^n_h$|^nh$)")
_LENGTH = re.compile(r"(?i)(length|len|steps|^t$|look_?back|bptt|truncat|window|horizon)")
_FLAG = re.compile(r"(?i)^(use_|is_|with_|do_|apply_)|flag")
_VOCAB = re.compile(r"(?i)(dict|vocab|to_id|to_ix|to_idx|mapping|index)")
_VOCAB_SIZE = re.compile(r"(?i)(vocab_size|n_vocab|num_words|n_words|v_size|vocab_len|n_chars|num_chars|^v$|^k$|n_classes|num_classes|classes)")
_ROLE_IN = re.compile(r"(?i)^(x|i|in|input|inputs|emb|embedding)$")
_ROLE_HIDDEN = re.compile(r"(?i)^(h|hidden|hid|s|state|a)$")
_ROLE_OUT = re.compile(r"(?i)^(y|o|out|output|outputs|q)$")


class _Vocabulary(dict):
    """A word-to-index dictionary of `VOCAB` entries whose missing string keys give another one
    (`dicts["word_to_id"]`, `vocab["char_to_ix"]`): what a language model's tables are asked for."""

    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str):
            return _Vocabulary({i: i for i in range(VOCAB)})
        raise KeyError(key)


def _roles_of(name: str) -> tuple[str, ...]:
    """The sizes a weight's name says it joins: `Wxh` ("in", "hidden"), `hidden_output` ("hidden",
    "out"), `by` ("out",), `W2` (layer 2); () when it says nothing."""
    body = re.sub(r"^(?i:w|b|bias|weights?)_?", "", name) if re.match(r"(?i)^(w|b|bias|weights?)", name) and not re.match(r"(?i)^(w|b)[a-z]{3,}$", name) else name
    words = [w for w in re.split(r"_|(?<=[a-z])(?=[A-Z])", body) if w] if ("_" in body or len(body) > 2) else list(body)
    roles = []
    for word in words:
        if _ROLE_IN.match(word):
            roles.append("in")
        elif _ROLE_HIDDEN.match(word):
            roles.append("hidden")
        elif _ROLE_OUT.match(word):
            roles.append("out")
        elif word.isdigit():
            roles.append(f"layer{word}")
        else:
            return ()
    return tuple(roles)


def _is_bias(name: str) -> bool:
    return bool(re.match(r"(?i)^(b|bias)", name))


def _shapes(params: list[str], sizes: dict[str, int], transpose: bool, bias: str) -> dict[str, tuple[int, ...]] | None:
    """The shape of each weight argument under one orientation (`transpose`: (to, from), for `W @ x`)
    and one layout of the biases ("row" (1, n), "column" (n, 1), "flat" (n,)); None when a name
    says nothing of its sizes."""
    layers = sorted({int(r[5:]) for p in params for r in _roles_of(p) if r.startswith("layer")})
    widths = [sizes["in"], *([sizes["hidden"]] * max(len(layers) - 1, 0)), sizes["out"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for p in params:
        roles = _roles_of(p)
        if not roles:
            return None
        dims = []
        for r in roles:
            if r.startswith("layer"):
                k = layers.index(int(r[5:])) + 1
                dims.append(widths[k] if _is_bias(p) else None)
                if not _is_bias(p):
                    dims[-1:] = [widths[k - 1], widths[k]]
            else:
                dims.append(sizes[r])
        if _is_bias(p):
            if len(dims) != 1:
                return None
            n = dims[0]
            shapes[p] = {"row": (1, n), "column": (n, 1), "flat": (n,)}[bias]
        elif len(dims) == 2:
            shapes[p] = (dims[1], dims[0]) if transpose else (dims[0], dims[1])
        else:
            return None
    return shapes


def _synthesised(func: Any, layout: LossAndGradients, held: dict[str, np.ndarray], missing: dict[str, Any]) -> Any:
    """(label, adapter, x, t) for each layout of a synthesised call, most likely first."""
    if layout.unpacked:
        return  # weights in a list say nothing of their shapes
    names, data, targets = _roles(func, layout)
    required = _required(func)
    params = [g.param for g in layout.gradients if g.param in names]
    for kind, transpose, bias in itertools.product(("sequence", "rows"), (False, True), ("column", "row", "flat")):
        sizes = {"in": VOCAB, "hidden": HIDDEN, "out": VOCAB} if kind == "sequence" else {"in": FEATURES, "hidden": HIDDEN, "out": CLASSES}
        shapes = _shapes(params, sizes, transpose, bias) if params else {}
        if shapes is None:
            return
        if not params and transpose:
            continue  # global weights keep their own shapes: only the inputs and the state vary
        local = np.random.default_rng(FORWARD_SEED)
        weights = {p: 0.3 * local.standard_normal(s) for p, s in shapes.items()}
        weights.update({k: np.array(v, dtype=np.float64) for k, v in held.items()})
        vocab = min([VOCAB, *(d for v in held.values() for d in np.shape(v))]) if held else sizes["in"]
        hidden = _hidden_of(held, weights) or sizes["hidden"]
        for length in (STEPS, STEPS + 1):
            values: dict[str, Any] = {}
            for n in names:
                if n not in required:
                    break
                if n in weights:
                    values[n] = weights[n]
                elif _STATE.search(n):
                    values[n] = 0.1 * local.standard_normal({"row": (1, hidden), "column": (hidden, 1), "flat": (hidden,)}[bias])
                elif n in (data, targets):
                    values[n] = _data(kind, n == targets, transpose, vocab, sizes, local)
                elif _VOCAB_SIZE.search(n):
                    values[n] = vocab if kind == "sequence" else sizes["out"]
                elif _HIDDEN_SIZE.search(n):
                    values[n] = hidden
                elif _LENGTH.search(n):
                    values[n] = length
                elif _FLAG.search(n):
                    values[n] = False
                elif _VOCAB.search(n):
                    values[n] = _Vocabulary({i: i for i in range(vocab)})
                else:
                    values[n] = None
            adapter = LossAndGradientsFunction(func, layout, values, {p: weights[p] for p in [g.param for g in layout.gradients]}, data, targets, missing)
            shown = ", ".join(f"{n} {_described(v)}" for n, v in values.items() if _described(v))
            yield f"{shown} (synthesized)", adapter, _as_input(values.get(data)), _as_input(values.get(targets))
            if not any(_LENGTH.search(n) for n in values):
                break


def _hidden_of(held: dict[str, Any], weights: dict[str, np.ndarray]) -> int | None:
    """The hidden width of global weights: the side of their one square matrix (`Whh`)."""
    square = [np.shape(v)[0] for v in held.values() if np.ndim(v) == 2 and np.shape(v)[0] == np.shape(v)[1]]
    return square[0] if square else None


def _data(kind: str, is_targets: bool, transpose: bool, vocab: int, sizes: dict[str, int], rng: np.random.Generator) -> Any:
    if kind == "sequence":
        return [int(i) for i in rng.integers(0, vocab, STEPS)]
    if is_targets:
        return rng.integers(0, sizes["out"], SAMPLES)
    x = rng.standard_normal((SAMPLES, sizes["in"]))
    return x.T.copy() if transpose else x


def _described(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return str(tuple(value.shape))
    if isinstance(value, list):
        return f"[{len(value)} token indices]"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"= {value}"
    return ""
