"""One sample's output or gradient depends on another sample in the batch.

What it finds:
    A layer whose output for sample i changes when only sample j (j ≠ i) of the
    input changes, or whose backward sends an upstream gradient given on sample i
    alone into dx of sample j. Each sample is perturbed in turn and the other
    rows compared; then an upstream gradient that is non-zero on one sample only
    is sent back. For a loss layer, row i of dx must depend on sample i alone.
    Layers, loss layers, cs231n function pairs and loss functions are checked, those
    inside a network on the activations that really reach them. Batch
    normalisation uses batch statistics by design and is checked in inference
    mode (`train_flg=False`, `mode='test'`), forward only: its backward belongs
    to the training-mode forward; without a train flag it is skipped with a note. The finding points at the reduction without an axis (or over
    axis 0) that ran in forward.

Why it matters:
    A layer that mixes samples gives each sample an output that depends on what
    else is in the batch, so predictions change with the batch size (a single
    test example is centred on itself), and the backward pass, which treats
    samples as independent, no longer matches the forward pass.

Example:
    def forward(self, x):
        self.out = x - np.mean(x)             # the mean of the whole batch

Fix:
    def forward(self, x):
        self.out = x - np.mean(x, axis=1, keepdims=True)   # one mean per sample
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import probes
from backprop_doctor.conventions._base import is_float_array, isolated
from backprop_doctor.conventions._classlayer import ClassLayer, layer_methods
from backprop_doctor.discovery import train_flag_name
from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition, executed
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import Function, enclosing
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.reductions import Reduction, reductions, with_axis

NAME = "batch-coupling"
CODE = "BPD302"
SEVERITY = "error"
STAGE = "batch"

THRESHOLD = 1e-9  # largest change of another sample's rows, relative to the largest value
# the pattern of a coupling only the backward makes (its forward keeps the samples apart): the layer's gradient is
# then wrong, and where its own gradient check says so, that finding is the cause and this one what it does
BACKWARD_ONLY = "backward-only"
_BATCH_STATISTICS = ("batchnorm", "batch_norm", "batchnormalization", "batchnormalisation")


@dataclass
class _Probe:
    """What to call for one object, and where its code is."""

    key: Any  # identity used to report each class or function once
    name: str  # "Center", "SoftmaxWithLoss", "batchnorm_forward"
    where: str  # "in TwoLayerNet (layer `Center1`)" or "on a batch of 5"
    x: np.ndarray
    forward: Callable[[np.ndarray], Any] | None = None  # x -> output, for layers
    backward: Callable[[np.ndarray, np.ndarray], Any] | None = None  # (x, dout) -> dx, for layers
    loss_dx: Callable[[np.ndarray], Any] | None = None  # scores -> dx, for losses
    forward_def: Any = None  # the function whose code runs forward
    backward_def: Any = None
    normalising: tuple[str, ...] = ()  # a network's batch-norm layers, probed with its train flag off

    @property
    def is_loss(self) -> bool:
        return self.loss_dx is not None


def uses_batch_statistics(obj: Any, depth: int = 2) -> bool:
    """A batch-norm layer, by its class name or its running statistics; or (with `depth` > 0) a
    network that holds one: its forward couples samples through it."""
    name = type(obj).__name__.lower()
    attrs = vars(obj) if hasattr(obj, "__dict__") else {}
    if any(word in name for word in _BATCH_STATISTICS) or any(k in attrs for k in ("running_mean", "running_var", "moving_mean", "moving_var")):
        return True
    if _BN_NAME.search(type(obj).__name__) or ("gamma" in attrs and "beta" in attrs and _normalises_over_batch(type(obj))):
        return True  # `BN`, `BNLayer`; or a scale and shift after statistics over the batch axis
    if _normalises_over_batch(type(obj), scaled=True):
        return True  # a scale and shift of a batch-standardised input, whatever the parameters are called
    return depth > 0 and any(uses_batch_statistics(v, depth - 1) for v in held_layers(obj))


_BN_NAME = re.compile(r"^(?:BN|Bn|bn)(?:\d*|_?[Ll]ayer\d*)$|_bn\d*$|^bn_")


def _normalises_over_batch(cls: type, scaled: bool = False) -> bool:
    """Whether the class's forward takes a mean and a variance (or standard deviation) over the batch axis
    (`x.mean(axis=0)`, `np.var(x, axis=0)`): batch normalisation, whatever the class is called. With
    `scaled`, its code must also have batch norm's whole shape (`batch_norm_shape`)."""
    methods = layer_methods(cls)
    forward = getattr(cls, methods.forward if methods is not None else "forward", None)
    if scaled:
        return forward is not None and batch_norm_shape(forward)
    try:
        text = inspect.getsource(forward) if forward is not None else ""
    except (OSError, TypeError):
        return False
    over_batch = re.findall(r"\b(mean|var|std)\s*\([^()]*axis\s*=\s*0", text)
    return "mean" in over_batch and ("var" in over_batch or "std" in over_batch or "sqrt" in text)


_STATISTICS = {"mean": "mean", "average": "mean", "nanmean": "mean", "var": "var", "nanvar": "var", "std": "std", "nanstd": "std"}


def batch_norm_shape(function: Any) -> bool:
    """Whether a function's code is batch normalisation, whatever it and its parameters are called
    (`bn_forward(h, g, b)`, a `Norm` layer with `scale` and `shift`): a mean over the batch axis, a
    variance or standard deviation (or a square root) to divide by, and a scale and shift of the result,
    `a * xhat + b`. A softmax or a loss normalised over the batch has no such shape and stays checked; so
    does code that transposes its input first (a layer or group norm written as batch norm of `x.T`, whose
    axis 0 is no longer the batch)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    kinds: set[str] = set()
    root = False
    divides = scale_shift = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("T", "transpose", "swapaxes", "moveaxis", "rollaxis"):
            return False
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
            if name in ("transpose", "swapaxes", "moveaxis", "rollaxis"):
                return False
            if name in ("sqrt", "rsqrt"):
                root = True
            elif name in _STATISTICS and _over_batch_axis(node):
                kinds.add(_STATISTICS[name])
        elif isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow) and isinstance(node.right, (ast.Constant, ast.UnaryOp)):
                value = ast.literal_eval(node.right) if _literal(node.right) else None
                root = root or value in (0.5, -0.5)
            elif isinstance(node.op, (ast.Div, ast.Mult)):
                divides = True
            if isinstance(node.op, (ast.Add, ast.Sub)) and any(
                isinstance(side, ast.BinOp) and isinstance(side.op, ast.Mult) for side in (node.left, node.right)
            ):
                scale_shift = True
    return "mean" in kinds and ("var" in kinds or "std" in kinds or root) and divides and scale_shift


def _literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def _over_batch_axis(call: ast.Call) -> bool:
    """`x.mean(axis=0)`, `np.var(x, 0)`, `x.mean(axis=(0, 2, 3))`: a reduction that includes axis 0."""
    axis = next((k.value for k in call.keywords if k.arg == "axis"), None)
    if axis is None:
        on_module = isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id in ("np", "numpy")
        position = 1 if on_module or isinstance(call.func, ast.Name) else 0
        axis = call.args[position] if len(call.args) > position else None
    if axis is None or not _literal(axis):
        return False
    value = ast.literal_eval(axis)
    return value == 0 or (isinstance(value, tuple) and 0 in value)


def _batch_norm_function(function: Any) -> bool:
    """A batch-norm forward function, by its name or by its code's shape."""
    return any(word in function.__name__.lower() for word in _BATCH_STATISTICS) or batch_norm_shape(function)


def held_layers(obj: Any) -> list[Any]:
    """The layers an object holds in an attribute, or in a list, tuple or dict of them."""
    attrs = vars(obj) if hasattr(obj, "__dict__") else {}
    held = [v for value in attrs.values() for v in (value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value])]
    return [v for v in held if hasattr(v, "__dict__") and not isinstance(v, (type, np.ndarray)) and callable(getattr(v, "forward", None))]


def _flag_not_passed(finding: Finding, probe: _Probe) -> Finding:
    """A network whose batch-norm layers still mix the samples with its train flag off: it does not
    hand the flag on to them, so inference normalises with the batch's own statistics."""
    layers = ", ".join(f"`{n}`" for n in probe.normalising)
    flag = train_flag_name(probe.forward_def) or "train_flg"
    return finding.replace(
        severity="warning",
        message=(
            f"`{probe.name}.forward({flag}=False)` still mixes the samples of a batch: it does not pass `{flag}` on to "
            f"{layers}, which then {'normalise' if len(probe.normalising) > 1 else 'normalises'} with the batch's own statistics at inference too (predictions depend on "
            f"the other samples of the batch); call each such layer with `{flag}={flag}`"
        ),
        fix=None,
        pattern="train-flag-not-passed",
    )


def run(context: Any) -> Iterator[Finding]:
    rng = np.random.default_rng(context.options.seed + 302)
    reported: set[Any] = set()
    noted: set[Any] = set()
    softmax = [f for f in context.findings if f.name == "softmax-not-per-row"]
    for probe in _probes(context, noted):
        if isinstance(probe, Finding):
            yield probe
            continue
        if probe.key in reported:
            continue
        try:
            finding = _check(probe, rng, softmax)
        except Exception:  # user code raised on a perturbed batch: the gradient engine reports raising layers
            continue
        if finding is not None:
            reported.add(probe.key)
            yield _flag_not_passed(finding, probe) if probe.normalising else _after_its_gradient(finding, probe, context.findings)


def _after_its_gradient(finding: Finding, probe: _Probe, found: list[Finding]) -> Finding:
    """A coupling only the backward makes (`BACKWARD_ONLY`: a Jacobian-vector product summed over the batch axis
    where the forward is per row) is a wrong backward: the gradient check of that layer measured it wrong, and that
    finding, at the statement the backward computes wrongly, is the cause; the coupling is how the mistake shows."""
    if finding.pattern != BACKWARD_ONLY or finding.caused_by is not None:
        return finding
    backward = definition(probe.backward_def) if probe.backward_def is not None else None

    def inside(f: Finding) -> bool:
        return backward is not None and f.file == backward.file and f.line is not None and backward.line <= f.line <= backward.end_line

    own = [
        f for f in found
        if f.name == "gradient-mismatch" and f.severity == "error" and f.line is not None and (f.layer == probe.name or inside(f))
    ]  # fmt: skip
    cause = next((f for f in own if not f.caused_by), own[0] if own else None)
    return finding.replace(caused_by=cause.key()) if cause is not None else finding


# --------------------------------------------------------------------------- what to probe


def _probes(context: Any, noted: set[Any]) -> Iterator[_Probe | Finding]:
    from backprop_doctor import build

    train = context.options.train
    for case in probes.layer_cases(context):
        if case.x.ndim < 1 or case.x.shape[0] < 2:
            continue
        obj = case.obj
        cls = type(obj)
        if case.owner is None and case.x.ndim == 2 and case.x.shape[1] == 1 and build.one_column(cls):
            continue  # one sample as a column vector (its backward builds that sample's Jacobian): no batch
        if case.is_loss and case.x.ndim == 1 and np.shape(case.t) == case.x.shape:
            continue  # one sample's scores and its one-hot target (the book's non-batch demo): no batch
        where = f"in `{case.owner}` (layer `{case.key}`)" if case.owner else f"on a batch of {case.x.shape[0]}"
        forward_def = getattr(cls, "forward", None)
        backward_def = getattr(cls, "backward", None)
        if case.is_loss:
            dx = _loss_layer_dx(obj, case.t, train)
            yield _Probe(cls, cls.__name__, where, case.x, loss_dx=dx, forward_def=forward_def,
                         backward_def=backward_def)
            continue
        mode = train
        normalising: tuple[str, ...] = ()
        if uses_batch_statistics(obj):
            if not uses_batch_statistics(obj, depth=0):
                normalising = tuple(sorted({type(v).__name__ for v in held_layers(obj) if uses_batch_statistics(v, depth=0)}))
            if train_flag_name(forward_def) is None:
                if cls not in noted:
                    noted.add(cls)
                    yield _skipped_note(cls)
                continue
            mode = False
        forward, backward = _layer_calls(obj, mode)
        if mode != train:
            # A batch-norm layer's backward belongs to its training-mode forward (the book's
            # reads the batch statistics it saved): in inference mode only forward is probed.
            backward = None
        yield _Probe(cls, cls.__name__, where, case.x, forward, backward,
                     forward_def=forward_def, backward_def=backward_def, normalising=normalising)
    found = context.extras.get("discovered")
    if found is None:
        return
    rng = np.random.default_rng(context.options.seed + 3020)
    for forward_fn, backward_fn in found.pairs:
        try:
            cases = build.build_pair(forward_fn, backward_fn, rng, batch=context.options.batch_size)
        except Exception:  # build-failed is reported by the pipeline
            continue
        for label, x, args in cases:
            inference = _inference_mode(forward_fn, args)
            if inference == args and _batch_norm_function(forward_fn):
                if forward_fn not in noted:  # no `mode` to switch to: it couples the samples by design
                    noted.add(forward_fn)
                    yield _skipped_function_note(forward_fn)
                continue
            forward, backward = _pair_calls(forward_fn, backward_fn, inference)
            if inference != args:
                # Its backward belongs to the training-mode forward, which couples the samples
                # by design (and a test-mode cache need not suit it): only forward is probed.
                backward = None
            where = f"on a batch of {np.shape(x)[0]} ({label})"
            x = np.array(x, dtype=np.float64)
            yield _Probe(forward_fn, forward_fn.__name__, where, x, forward, backward,
                         forward_def=forward_fn, backward_def=backward_fn)
    for loss in found.loss_functions:
        n = max(int(context.options.batch_size), 2)
        scores = rng.standard_normal((n, build.CLASSES))
        labels = rng.integers(0, build.CLASSES, n)
        dx = _loss_function_dx(loss, labels)
        yield _Probe(loss, loss.__name__, f"on a batch of {n}", scores, loss_dx=dx, forward_def=loss, backward_def=loss)


def _layer_calls(obj: Any, train: bool) -> tuple[Callable, Callable]:
    def forward(x: np.ndarray) -> Any:
        with isolated(obj) as (work, _):
            return probes.reseeded(ClassLayer(work, train=train).forward)(x)

    def backward(x: np.ndarray, dout: np.ndarray) -> Any:
        with isolated(obj) as (work, _):
            layer = ClassLayer(work, train=train)
            probes.reseeded(layer.forward)(x)
            return layer.backward(dout)[0]

    return forward, backward


def _loss_layer_dx(obj: Any, t: Any, train: bool) -> Callable[[np.ndarray], Any]:
    def dx(scores: np.ndarray) -> Any:
        with isolated(obj) as (work, _):
            layer = ClassLayer(work, train=train)
            probes.reseeded(layer.forward)(scores, copy.deepcopy(t))
            return layer.backward(1.0)[0]

    return dx


def _first(result: Any) -> Any:
    return result[0] if isinstance(result, tuple) and result else result


def _pair_calls(forward_fn: Callable, backward_fn: Callable, args: list[Any]) -> tuple[Callable, Callable]:
    def forward(x: np.ndarray) -> Any:
        return _first(probes.reseeded(forward_fn)(x, *copy.deepcopy(args)))

    def backward(x: np.ndarray, dout: np.ndarray) -> Any:
        _, cache = probes.reseeded(forward_fn)(x, *copy.deepcopy(args))
        return _first(backward_fn(dout, cache))

    return forward, backward


def _loss_function_dx(loss: Callable, labels: np.ndarray) -> Callable[[np.ndarray], Any]:
    def dx(scores: np.ndarray) -> Any:
        result = probes.reseeded(loss)(scores, labels.copy())
        return result[1] if isinstance(result, tuple) and len(result) > 1 else None

    return dx


def _inference_mode(forward: Callable[..., Any], args: list[Any]) -> list[Any]:
    """cs231n batch norm in `mode='test'`: its training mode couples samples by design. A forward
    that never reads a `mode` (a batch norm written for training alone, its `bn_param` holding
    `eps`) has none to switch to: `args` as they are."""
    code = getattr(forward, "__code__", None)
    if not _batch_norm_function(forward) or (code is not None and "mode" not in code.co_consts):
        return args
    return [dict(a, mode="test") if isinstance(a, dict) and "mode" in a else a for a in args]


def _skipped_note(cls: type) -> Finding:
    methods = layer_methods(cls)
    forward = methods.forward if methods is not None else "forward"  # `__call__` of a layer run by calling it
    where = definition(getattr(cls, forward, cls))
    return rule(NAME).finding(
        f"`{cls.__name__}` normalises with the batch's statistics, which couples the samples by design, so the "
        f"batch-coupling check skipped it: add a `train_flg` argument to `{cls.__name__}.{forward}` to check it in "
        "inference mode",
        severity="info",
        layer=cls.__name__,
        file=where.file if where else None,
        line=where.line if where else None,
        fix=f"def {forward}(self, x, train_flg=True):",
    )


def _skipped_function_note(function: Callable[..., Any]) -> Finding:
    where = definition(function)
    return rule(NAME).finding(
        f"`{function.__name__}` normalises with the batch's statistics, which couples the samples by design, so the "
        f"batch-coupling check skipped it: give it a `bn_param` dictionary with a `mode` ('train' or 'test') to check "
        "it in inference mode",
        severity="info",
        layer=function.__name__,
        file=where.file if where else None,
        line=where.line if where else None,
    )


# --------------------------------------------------------------------------- measuring


def _check(probe: _Probe, rng: np.random.Generator, softmax: list[Finding]) -> Finding | None:
    with probes.quietly():
        if probe.is_loss:
            assert probe.loss_dx is not None
            coupled = probes.output_coupling(probe.loss_dx, probe.x, rng, step=1.0)
            if coupled is not None and coupled.measured > THRESHOLD:
                return _loss_finding(probe, coupled, softmax)
            return None
        assert probe.forward is not None
        coupled = probes.output_coupling(probe.forward, probe.x, rng)
        if coupled is not None and coupled.measured > THRESHOLD:
            return _forward_finding(probe, coupled)
        if probe.backward is None:
            return None
        out = probe.forward(probe.x.copy())
        if not is_float_array(np.asarray(out)):
            return None
        leaked = probes.gradient_coupling(probe.backward, probe.x, np.shape(out), rng)
        if leaked is not None and leaked.measured > THRESHOLD:
            return _backward_finding(probe, leaked)
    return None


def _ran(call: Callable[[], Any]) -> dict[str, set[int]]:
    try:
        with probes.quietly():
            return executed(call)[1]
    except Exception:
        return {}


def _batch_reductions(ran: dict[str, set[int]], within: Function | None = None) -> list[Reduction]:
    found = []
    for file, lines in ran.items():
        span = (within.line, within.end_line) if within is not None and within.file == file else None
        if within is not None and span is None:
            continue
        found += [r for r in reductions(file, lines, span) if r.over_batch]
    return found


def _feeding_dx(backward: Any, found: list[Reduction]) -> list[Reduction]:
    """The reductions of `found` inside the statements that the input gradient a backward returns is
    computed from (`dx = (D * dxhat - np.sum(dxhat, axis=0, keepdims=True) ...)`), leaving out those of the
    parameters' gradients, which sum over the batch by design (`dgamma = np.sum(dout * xhat, axis=0)`)."""
    import ast

    from backprop_doctor.conventions._classlayer import function_node

    node = function_node(backward) if backward is not None else None
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None] if node is not None else []
    if len(returns) != 1:
        return []
    value = returns[0].value
    dx = value.elts[0] if isinstance(value, ast.Tuple) and value.elts else value
    needed = {n.id for n in ast.walk(dx) if isinstance(n, ast.Name)}
    spans = [(returns[0].lineno, returns[0].end_lineno or returns[0].lineno)]
    assignments = sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno, reverse=True)
    for stmt in assignments:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        if bound & needed:
            needed |= {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
            spans.append((stmt.lineno, stmt.end_lineno or stmt.lineno))
    code = getattr(backward, "__code__", None)
    shift = code.co_firstlineno - node.lineno if code is not None else 0  # the node's lines count from its own source
    return [r for r in found if any(first + shift <= r.line <= last + shift for first, last in spans)]


def _sample_axes(x: np.ndarray) -> str:
    return "1" if x.ndim <= 2 else "(" + ", ".join(str(a) for a in range(1, x.ndim)) + ")"


def _located(target: Any, found: list[Reduction]) -> dict[str, Any]:
    where = definition(target) if target is not None else None
    if found:
        first = found[0]
        return {
            "file": first.file,
            "line": first.line,
            "column": first.col + 1,
            "highlight": tuple(sorted({r.line for r in found if r.file == first.file})),  # lines of its own file
        }
    if where is not None:
        return {"file": where.file, "line": where.line, "highlight": (where.line,)}
    return {}


def _percent(value: float) -> str:
    return f"{100 * value:.3g}%" if value >= 1e-3 else f"{value:.3g}"


def _part(probe: _Probe, method: str) -> str:
    """`Center.forward` for a layer's method; the function's own name for a cs231n pair (`center_backward`)."""
    if isinstance(probe.key, type):
        return f"{probe.name}.{method}"
    func = probe.forward_def if method == "forward" else probe.backward_def
    return getattr(func, "__name__", probe.name)


def _forward_finding(probe: _Probe, c: probes.Coupling) -> Finding:
    ran = _ran(lambda: probe.forward(probe.x.copy()))  # type: ignore[misc]
    forward = definition(probe.forward_def) if probe.forward_def is not None else None
    found = _batch_reductions(ran, forward) or _batch_reductions(ran)
    axes = _sample_axes(probe.x)
    fix = "\n".join(with_axis(found, axes)) if found else f"np.mean(x, axis={axes}, keepdims=True)  # one per sample"
    effect = (
        f"changing sample {c.source} changes the output of sample {c.affected} "
        f"(by {_percent(c.measured)} of the output's largest value)"
    )
    if found:
        message = (
            f"`{_part(probe, 'forward')}` mixes the samples of a batch (line {found[0].line}): {found[0].describe()}, "
            f"so {effect}; reduce over each sample's own features (axis={axes}, keepdims=True)"
        )
    else:
        message = (
            f"`{_part(probe, 'forward')}` mixes the samples of a batch: {effect}; "
            "compute each sample's output from that sample alone"
        )
    return rule(NAME).finding(
        message,
        layer=probe.name,
        measured=c.measured,
        threshold=THRESHOLD,
        fix=fix,
        evidence=_evidence(probe, c, found, "output"),
        **_located(probe.forward_def, found),
    )


def _backward_finding(probe: _Probe, c: probes.Coupling) -> Finding:
    def call() -> Any:
        dout = np.ones_like(np.asarray(probe.forward(probe.x.copy())))  # type: ignore[misc]
        return probe.backward(probe.x.copy(), dout)  # type: ignore[misc]

    ran = _ran(call)
    backward = definition(probe.backward_def) if probe.backward_def is not None else None
    found = _batch_reductions(ran, backward)
    found = _feeding_dx(probe.backward_def, found) or found
    message = (
        f"`{_part(probe, 'backward')}` mixes the samples of a batch"
        + (f" (line {found[0].line})" if found else "")
        + f": an upstream gradient on sample {c.source} alone gives sample {c.affected} a dx of "
        f"{_percent(c.measured)} of dx's largest value, although forward keeps the samples apart"
        + (f" ({found[0].describe()})" if found else "")
        + "; send each sample's gradient back to that sample only"
    )
    fix = (
        "\n".join(with_axis(found, _sample_axes(probe.x)))
        if found
        else "dx = ...  # row i from dout[i] and what forward kept of sample i only"
    )
    return rule(NAME).finding(
        message,
        layer=probe.name,
        measured=c.measured,
        threshold=THRESHOLD,
        fix=fix,
        evidence=_evidence(probe, c, found, "dx"),
        pattern=BACKWARD_ONLY,
        **_located(probe.backward_def, found),
    )


def _loss_finding(probe: _Probe, c: probes.Coupling, softmax: list[Finding]) -> Finding:
    ran = _ran(lambda: probe.loss_dx(probe.x.copy()))  # type: ignore[misc]
    effect = (
        f"changing the scores of sample {c.source} changes row {c.affected} of its gradient dx "
        f"(by {_percent(c.measured)} of dx's largest value); row i of dx must depend on sample i alone"
    )
    cause = next((f for f in softmax if f.file in ran and set(f.highlight) & ran[f.file]), None)
    if cause is not None:
        # the softmax check already located the batch-wide reductions and rewrote them
        return rule(NAME).finding(
            f"`{probe.name}` couples the samples through `{cause.layer}` (line {cause.line}): {effect}; "
            "normalise each row",
            layer=probe.name,
            measured=c.measured,
            threshold=THRESHOLD,
            fix=cause.fix,
            evidence=_evidence(probe, c, [], "dx"),
            file=cause.file,
            line=cause.line,
            column=cause.column,
            highlight=cause.highlight,
        )
    found: list[Reduction] = []
    for file, lines in ran.items():
        for function in {enclosing(file, line) for line in lines} - {None}:
            if "softmax" in function.qualname.rsplit(".", 1)[-1].lower():
                found += [
                    r for r in reductions(file, lines, (function.line, function.end_line))
                    if r.over_batch and not _loss_term(r)
                ]
    found.sort(key=lambda r: (r.kind not in ("sum", "nansum"), r.file, r.line, r.col))  # the sum is the cause
    if not found:
        in_backward = _loss_backward_reductions(probe, ran)
        if in_backward:
            return _loss_backward_finding(probe, c, in_backward, effect)
    where = f" (line {found[0].line}: {found[0].describe()})" if found else ""
    return rule(NAME).finding(
        f"`{probe.name}` couples the samples of a batch{where}: {effect}; compute its probabilities per sample",
        layer=probe.name,
        measured=c.measured,
        threshold=THRESHOLD,
        fix="\n".join(with_axis(found, "-1")) if found else "y = exp_x / np.sum(exp_x, axis=-1, keepdims=True)",
        evidence=_evidence(probe, c, found, "dx"),
        **_located(probe.forward_def, found),
    )


# a log or a log-probability the reduction reads (`np.log(...)`, `log_probs`, `logp`), not the scores
# called logits (`np.sum(np.exp(shifted_logits), axis=0)` is the softmax's own sum)
_LOG_WORD = re.compile(r"(?i)(?<![a-z0-9])log(?!its?(?![a-z]))")


def _loss_term(r: Reduction) -> bool:
    """The loss's own sum over the batch in a `softmax_loss` function (`-np.sum(np.log(p[...])) / N`), not its softmax."""
    text = source_tree(r.file)[0][r.line - 1]
    return _LOG_WORD.search(r.source) is not None or re.match(r"\s*\w*(loss|cost)\w*\s*[-+*/]?=", text, re.I) is not None


def _loss_backward_reductions(probe: _Probe, ran: dict[str, set[int]]) -> list[Reduction]:
    """Batch-wide reductions that ran in a loss layer's own `backward` (a loss function has none of its own)."""
    if probe.backward_def is None or probe.backward_def is probe.forward_def:
        return []
    backward = definition(probe.backward_def)
    return _batch_reductions(ran, backward) if backward is not None else []


def _loss_backward_finding(probe: _Probe, c: probes.Coupling, found: list[Reduction], effect: str) -> Finding:
    """A loss layer whose probabilities are per row but whose `backward` reduces over the batch."""
    return rule(NAME).finding(
        f"`{probe.name}.backward` couples the samples of a batch (line {found[0].line}: {found[0].describe()}): "
        f"{effect}; send each sample's gradient back to that sample only",
        layer=probe.name,
        measured=c.measured,
        threshold=THRESHOLD,
        fix="\n".join(with_axis(found, _sample_axes(probe.x))),
        evidence=_evidence(probe, c, found, "dx"),
        pattern=BACKWARD_ONLY,
        **_located(probe.backward_def, found),
    )


def _evidence(probe: _Probe, c: probes.Coupling, found: list[Reduction], what: str) -> tuple[tuple[str, str], ...]:
    evidence = [
        (
            "coupling",
            f"checked {probe.where}, input {tuple(probe.x.shape)}: sample {c.source} → {what} of sample "
            f"{c.affected}, relative change {c.measured:.3g} (threshold {THRESHOLD:g})",
        )
    ]
    if found:
        evidence.append(("reductions", "\n".join(f"line {r.line}: {r.describe()}" for r in found)))
    return tuple(evidence)
