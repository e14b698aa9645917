"""Check one user file from start to verdict: load → discover → build → check → rank.

`check_file` runs in whatever process calls it; the CLI and the pytest plugin
call it inside a child process (`loading.child.run_isolated`) so that the
user's code can neither hang nor crash the tool.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import re
import sys
import traceback
from typing import Any

import numpy as np

from backprop_doctor import api, build, static
from backprop_doctor.static import files
from backprop_doctor.conventions.networks import Network
from backprop_doctor.context import CheckContext, SourceFile
from backprop_doctor.conventions._run import check_others
from backprop_doctor.conventions.cs231n import is_masked
from backprop_doctor.discovery import discover
from backprop_doctor.errors import BackpropDoctorError, UsageError
from backprop_doctor.findings import Built, Finding, Measurement, Report
from backprop_doctor.observe import budget
from backprop_doctor.options import Options
from backprop_doctor.ranking import rank
from backprop_doctor.rules import all_rules, matches, rule

OBSERVED_SHARE = 0.25  # most of the time left (`--timeout`) the observed run may take
REPLAY_SHARE = 0.2  # ... each of the replay's runs (its capture, its measurements, its curve)


def check_file(path: str | os.PathLike[str], options: Options | None = None, **kwargs: Any) -> Report:
    """Check the layers, function pairs and networks defined in the file at `path`.

    Runs the user's definitions in this process: use the CLI or
    `loading.child.run_isolated` to keep the user's code in a child process.
    """
    opts = (options or Options()).replace(**kwargs) if kwargs else (options or Options())
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"path={path!r}: pass the path of a Python file, e.g. 'mymodel.py'")
    path = os.fspath(path)
    with budget.check_limit(opts.timeout):
        return _check_file(path, opts)


def _check_file(path: str, opts: Options) -> Report:
    from backprop_doctor.loading.namespace import load_namespace
    from backprop_doctor.loading.source import read_source

    report = Report(seed=opts.seed, file=path)
    source, found = read_source(path)
    report.findings.extend(found)
    context = CheckContext(options=opts, source=source)
    if source.tree is not None:
        _register_source(source)
        namespace, found = load_namespace(source, opts.exec_module)
        report.findings.extend(found)
        context.namespace = namespace
        _keep_recursion_limit()
        _check_namespace(context, report)
    context.findings = report.findings
    context.measurements = report.measurements
    _keep_recursion_limit()
    _run_checks(context, report)
    _own_curve(context)
    _keep_recursion_limit()
    _sandbox_findings(report, path)
    report.extras.update({k: v for k, v in context.extras.items() if _jsonable(v)})
    report.findings = [f for f in report.findings if _selected(f, opts)]
    if source.tree is not None:
        report.findings = _callees_first(report.findings, source.tree, path)
    report.findings = _own_method_names(report.findings, context.namespace or {})
    return rank(report)


def _own_method_names(findings: list[Finding], namespace: dict[str, Any]) -> list[Finding]:
    """Messages that say `Conv3x3.backward` for a class whose backward is called `backprop` (or
    whose forward is `feedforward`) say the class's own names: the user looks for the method the
    message names. Only classes of the file's namespace with no method of the generic name."""
    from backprop_doctor.conventions._classlayer import layer_methods

    classes = {v.__name__: v for v in namespace.values() if isinstance(v, type)}

    def own(match: re.Match[str]) -> str:
        cls = classes.get(match[1])
        if cls is None or hasattr(cls, match[2]):
            return match[0]
        methods = layer_methods(cls)
        return f"`{match[1]}.{getattr(methods, match[2], match[2])}`" if methods is not None else match[0]

    out = []
    for f in findings:
        changes = {
            field: _GENERIC_METHOD.sub(own, text)
            for field in ("message", "fix")
            if isinstance(text := getattr(f, field), str) and _GENERIC_METHOD.search(text)
        }
        changes = {k: v for k, v in changes.items() if v != getattr(f, k)}
        out.append(f.replace(**changes) if changes else f)
    return out


_GENERIC_METHOD = re.compile(r"`(\w+)\.(forward|backward)`")


def _callees_first(findings: list[Finding], tree: ast.Module, path: str) -> list[Finding]:
    """A wrong gradient in a function that calls another wrong one is that one's symptom
    (`rnn_backward` over a wrong `rnn_step_backward`; a Nielsen network's `backprop` method over a wrong
    `sigmoid_prime` it calls by name; a model's `backward` over a wrong `self.squash_grad`): it is marked as
    caused by it, so the helper ranks first. The file's own functions count, each by its outermost def (a
    top-level function, or a method of a class), called by plain name or, from a method, as `self.name(...)`
    for a method of its class, or, from a function, through a parameter the file hands it
    (`corpus_cost(skip_pairs, ...)`, `_handed_functions`); two that call one another are left as they are."""
    from backprop_doctor.static.definitions import enclosing, find_function
    from backprop_doctor.static.tree import walk

    mine = os.path.basename(path)
    wrong = [
        f for f in findings
        if f.name == "gradient-mismatch" and f.severity == "error" and f.line is not None and os.path.basename(f.file or "") == mine
    ]  # fmt: skip
    if len(wrong) < 2:
        return findings
    homes: dict[int, tuple[str, frozenset[str]]] = {}
    for f in wrong:
        inner = enclosing(path, f.line)  # type: ignore[arg-type]
        if inner is None:
            continue
        outer = inner.qualname.split(".<locals>.")[0]  # "backprop_step", "Network.backprop"
        node = find_function(tree, outer)
        if node is None:
            continue
        owner = outer.rpartition(".")[0]  # the class of a method, "" for a function
        called: set[str] = set()
        for n in walk(node):
            if not isinstance(n, ast.Call):
                continue
            if isinstance(n.func, ast.Name):
                called.add(n.func.id)
            elif owner and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "self":
                called.add(f"{owner}.{n.func.attr}")
        if not owner and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            called |= _handed_functions(tree, node, called)
        homes[id(f)] = (outer, frozenset(called))
    causes: dict[int, Finding] = {}
    for f in wrong:
        own = homes.get(id(f))
        if own is None:
            continue
        callee = next(
            (g for g in wrong if (w := homes.get(id(g))) is not None and w[0] != own[0] and w[0] in own[1] and own[0] not in w[1]),
            None,
        )  # fmt: skip
        if callee is not None:
            causes[id(f)] = callee
    return [f.replace(caused_by=causes[id(f)].key()) if id(f) in causes and f.caused_by is None else f for f in findings]


def _handed_functions(tree: ast.Module, node: ast.FunctionDef | ast.AsyncFunctionDef, called: set[str]) -> set[str]:
    """The file's functions a top-level function calls through a parameter it is handed: the names the
    file's calls of it pass there (`wrapper(skipgram, ...)`, `cost=negative_sampling`), and the
    parameter's default (`costAndGradient=softmaxCostAndGradient`)."""
    from backprop_doctor.static.tree import walk

    args = node.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    handed = {a for a in positional + [a.arg for a in args.kwonlyargs] if a in called}
    if not handed:
        return set()
    found: set[str] = set()
    defaults = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults)) + list(zip([a.arg for a in args.kwonlyargs], args.kw_defaults))
    found |= {d.id for name, d in defaults if name in handed and isinstance(d, ast.Name)}
    for n in walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == node.name):
            continue
        found |= {a.id for name, a in zip(positional, n.args) if name in handed and isinstance(a, ast.Name)}
        found |= {k.value.id for k in n.keywords if k.arg in handed and isinstance(k.value, ast.Name)}
    return found


_DEPTH = sys.getrecursionlimit()  # read when the tool is imported, before any user code runs


def _keep_recursion_limit() -> None:
    """Undo a user's `sys.setrecursionlimit(50)`: the tool's own code needs the usual depth."""
    if sys.getrecursionlimit() < _DEPTH:
        sys.setrecursionlimit(_DEPTH)


def _register_source(source: SourceFile) -> None:
    """Let `inspect` read the normalised text (the file on disk may hold pasted characters)."""
    linecache.cache[source.path] = (len(source.text), None, source.text_lines, source.path)
    for name in {source.path, os.path.abspath(source.path)}:  # the name given, and the one code objects carry
        files.register(name, source.tree, source.text)  # checks that start from a live function reuse this tree


def _missing_helpers(context: CheckContext) -> str | None:
    """The words for a file that calls functions it imports from a module missing here (`from
    dnn_app_utils_v2 import *` for `L_model_forward`, `update_parameters`): what it would check is in
    that module, so the file is not to blame for defining nothing. None when it calls none such."""
    from backprop_doctor.loading.datasets import standin
    from backprop_doctor.loading.stubs import is_stub
    from backprop_doctor.static.imports import called_from_imports

    assert context.source is not None
    tree = context.source.tree
    stubbed = [m for m in sys.modules if is_stub(sys.modules.get(m))]
    found = [(m, line, [n for n in names if standin(f"{m}.{n}") is None]) for m, line, names in called_from_imports(tree, stubbed)]
    found = [(m, line, names) for m, line, names in found if names]
    if not found:
        return None
    module, line, names = found[0]
    shown = ", ".join(f"`{n}`" for n in names[:4]) + (", ..." if len(names) > 4 else "")
    return (
        f"the functions it calls ({shown}) come from `{module}` (imported at line {line}), which is missing here: "
        f"put `{module}.py` beside the file and check again"
    )


def _trained_elsewhere(context: CheckContext) -> str | None:
    """The advice for a file whose model trains in a class of another file of the user's
    (`clf = LogisticRegression(); clf.fit(X, y)` with the loop in `supervised_learning/`): which class,
    which method, which file to check instead. None when no class this file uses trains elsewhere."""
    import inspect

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.steps import training_steps

    assert context.source is not None and context.namespace is not None
    used = context.source.facts.names_used
    own = os.path.realpath(context.source.path)
    libraries = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    for name, value in list(context.namespace.items()):
        if name not in used or not isinstance(value, type):
            continue
        try:
            file = inspect.getsourcefile(value)
        except (TypeError, OSError):
            continue
        if file is None or os.path.realpath(file) == own or os.path.realpath(file).startswith(libraries):
            continue
        _lines, tree = source_tree(file)
        for step in training_steps(tree):
            owner, _, method = (step.function or "").rpartition(".")
            if owner == value.__name__ and method:
                shown = os.path.relpath(file, os.path.dirname(os.path.abspath(context.source.path)))
                return (
                    f"`{name}`, which it uses, trains in its `{method}` (the loop at line {step.loop_line} of {shown}), "
                    f"in another file: run backprop-doctor on {shown} to check that training"
                )
    return None


def _check_namespace(context: CheckContext, report: Report) -> None:
    opts = context.options
    assert context.source is not None and context.namespace is not None
    found = discover(context.namespace, {os.path.abspath(context.source.path)}, source=context.source)
    context.extras["discovered"] = found
    observed = _observe(context, report, found)
    _keep_recursion_limit()
    replayed = _replay(context, report)
    _keep_recursion_limit()
    engines = _scalar_autograd(context, report)
    stepped = _step_optimizers(context, report, found.optimizers, np.random.default_rng(opts.seed))
    if not found and not observed and not replayed and not engines and not stepped:
        stopped = next((f for f in report.findings if f.name == "program-stopped"), None)
        message = (
            "No layer class (forward/backward), cs231n function pair or network was found in this file: "
            "define them here or import them from a file beside it."
        )
        if stopped is not None and stopped.line:
            elsewhere = stopped.file and os.path.realpath(stopped.file) != os.path.realpath(context.source.path)
            standin = getattr(context.extras.get("observed_record"), "standin", None)
            standin_file = getattr(context.extras.get("observed_record"), "standin_file", None)
            advice = (
                f"it stopped on what the stand-in for `{standin[1]}` (not installed here) returned, so check it where `{standin[1]}` "
                "can be imported (see below)"
                if standin
                else f"it stopped on what backprop-doctor gave it for {standin_file[1]} (missing here), so check it where that file is (see below)"
                if standin_file
                else "make it run that far (see below)"
            )
            message = (
                f"Your program stopped at line {stopped.line}{f' of {os.path.basename(stopped.file)}' if elsewhere else ''} before it built anything backprop-doctor could check, and "
                f"this file defines no layer class, function pair or network of its own: {advice}."
            )
        elsewhere = _trained_elsewhere(context) if stopped is None else None
        helpers = _missing_helpers(context) if stopped is None and elsewhere is None else None
        if helpers is not None:
            message = f"No layer class (forward/backward), cs231n function pair or network was found in this file: {helpers}."
        if elsewhere is not None:
            message = f"No layer class (forward/backward), cs231n function pair or network was found in this file: {elsewhere}."
        report.findings.append(rule("nothing-to-check").finding(message, file=context.source.path))
        return
    calls = context.source.facts.constructor_calls
    forced = static.parse_build_expression(opts.build) if opts.build else None
    if forced is not None and forced.name not in {cls.__name__ for cls in (*found.networks, *found.layers)}:
        names = ", ".join(sorted(cls.__name__ for cls in (*found.networks, *found.layers))) or "none"
        raise UsageError(f"--build names `{forced.name}`, which is not a network or layer class in this file (found: {names})")
    rng = np.random.default_rng(opts.seed)
    checked_classes: set[type] = set()
    for cls in found.networks:
        if cls.__name__ in observed:
            continue
        try:
            built = build.build_network(
                cls,
                calls.get(cls.__name__, []),
                rng,
                train=opts.train,
                batch=opts.batch_size,
                forced=forced if forced is not None and forced.name == cls.__name__ else None,
                seed=opts.seed,
            )
        except Exception as error:  # user code, or nothing to build it from
            _build_failed(report, cls, error)
            continue
        if not _check_network(context, report, cls, built):
            continue
        try:
            checked_classes |= {type(layer) for _, layer in Network(built.obj).layers()}
        except TypeError:
            pass
    for cls in found.numerical:
        _check_numerical(context, report, cls, calls.get(cls.__name__, []), rng)
    for cls in found.layers:
        if cls in checked_classes or cls.__name__ in observed:
            continue
        try:
            built = build.build_layer(
                cls, rng, train=opts.train, batch=opts.batch_size, calls=calls.get(cls.__name__, []),
                forced=forced if forced is not None and forced.name == cls.__name__ else None,
            )  # fmt: skip
        except Exception as error:
            _build_failed(report, cls, error)
            continue
        try:
            results = [api.check_layer(built.obj, x, t, options=opts) for _label, x, t in built.cases]
        except BackpropDoctorError as error:
            _not_checkable(report, cls, error, how=built.how)
            continue
        context.layers.append(built)
        trained = _run_in_training(context, cls.__name__)
        for result in results:
            result.built = []
            if trained is not None:
                from backprop_doctor.checks import layer_raised  # the check words it

                result.findings = [layer_raised.on_made_up_input(f, trained) if f.name == layer_raised.NAME and f.severity == "error" else f for f in result.findings]
            report.extend(result)
        report.built.append(Built(built.name, built.how, "; ".join(label for label, _, _ in built.cases), origin="synthesized"))
    for forward, backward in found.pairs:
        name = f"{forward.__name__}/{backward.__name__}"
        if name in observed:
            continue
        try:
            cases = build.build_pair(forward, backward, rng, batch=opts.batch_size)
        except Exception as error:
            _build_failed(report, forward, error, name=name)
            from backprop_doctor.checks import backward_not_linear  # the backward alone, its forward unrun

            if (alone := backward_not_linear.probe(backward, np.random.default_rng(opts.seed))) is not None:
                report.findings.append(alone)
            continue
        try:
            results = [api.check_functions(forward, backward, x, *args, options=opts) for _label, x, args in cases]
        except BackpropDoctorError as error:
            _not_checkable(report, forward, error, name=name)
            continue
        results = [_as_returned(forward, backward, x, args, result, opts) for (_label, x, args), result in zip(cases, results)]
        observed_line = _passed_when_observed(report, name)
        passed = [label for (label, _x, _args), result in zip(cases, results) if not result.errors]
        for (label, _x, _args), result in zip(cases, results):
            result.built = []
            if observed_line is not None:
                right_with: str | None = f"your program's own call (line {observed_line})"
            else:  # pooling windows that do not overlap are the ones programs use (2 × 2, stride 2)
                right_with = f"windows that do not overlap ({passed[0]})" if passed and "overlapping" in label and "pool" in name else None
            if right_with is not None:
                result.findings = [_not_used(f, label, right_with, report, context) for f in result.findings]
            report.extend(result)
        report.built.append(Built(name, "synthesized parameters", "; ".join(label for label, _, _ in cases), origin="synthesized"))
    for loss in found.loss_functions:
        if loss.__name__ in observed:
            continue
        steps = (3,) if is_masked(loss) else ()  # a temporal loss: scores (N, T, V), labels (N, T), every step counted
        scores = rng.standard_normal((opts.batch_size, *steps, build.CLASSES))
        labels = rng.integers(0, build.CLASSES, (opts.batch_size, *steps))
        try:
            result = api.check_layer(loss, scores, labels, options=opts)
        except Exception as error:
            _build_failed(report, loss, error)
            continue
        result.built = []
        report.extend(result)
        masked = ", a mask of ones" if steps else ""
        report.built.append(Built(loss.__name__, "loss function", f"x {scores.shape}, integer labels{masked}", origin="synthesized"))
    others = [(convention, obj) for convention, obj in found.others if getattr(obj, "__name__", None) not in observed]
    report.extend(check_others(others, context, rng))  # the other conventions (activations, Nielsen, ...)
    _mutation_harmless_here(context, report)


def _as_returned(forward: Any, backward: Any, x: np.ndarray, args: list[Any], result: Report, opts: Options) -> Report:
    """A pair's check made again where its backward returns a made-up parameter's gradient with the
    parameter's elements in a shape of other unit axes (`keepdims=True`: a (1, M) row for the (M,)
    bias `build_pair` chose): the parameter in the gradient's shape, the row or column the user's
    code keeps it in, so that the gradient's values are compared. That check's report, the shape
    errors as infos (`kept_as_returned`), where it has no shape error of those parameters; else
    `result` as it is."""
    from backprop_doctor.checks.gradient_shape_mismatch import NAME, kept_as_returned, unit_axes

    names = list(inspect.signature(forward).parameters)[1 : 1 + len(args)]
    shapes = {f.param: shape for f in result.findings if (shape := unit_axes(f)) is not None and f.param in names}
    if not shapes:
        return result
    given = [np.reshape(a, shapes[n]) if n in shapes and isinstance(a, np.ndarray) else a for n, a in zip(names, args)]
    try:
        again = api.check_functions(forward, backward, x, *given, *args[len(names) :], options=opts)
    except BackpropDoctorError:
        return result
    if any(f.name == NAME and f.param in shapes for f in again.findings):
        return result
    pair = f"{forward.__name__}/{backward.__name__}"
    again.findings.extend(kept_as_returned(f, pair) for f in result.findings if f.name == NAME and f.param in shapes)
    return rank(again)


def _mutation_harmless_here(context: CheckContext, report: Report) -> None:
    """A layer's forward that writes into its input (`np.tanh(x, out=x)`) where the program puts it
    between two layers, inside a network whose whole gradient is right: nothing in that network
    reads the array it changes (the layer before keeps its own input, not its output), so the error
    of the layer's own check is a warning here, naming the trap it stays. Not the first layer (it
    would change the caller's data) nor the last (the scores the caller holds, `y = self.predict(x)`
    handed to a loss layer that writes into them)."""
    for i, f in enumerate(report.findings):
        if f.name != "input-mutated" or f.severity != "error" or not f.layer:
            continue
        for built in [*context.networks, *context.layers]:  # a network checked as one layer (`MLP.forward(x)`) too
            layers = _members(built.obj, context.options.train)
            network = type(built.obj).__name__
            rows = [m for m in report.measurements if m.layer == network]
            # between two layers: not the first (the caller's data), nor the last (the scores the caller holds)
            if f.layer not in layers[1:-1] or f.layer in (layers[0], layers[-1]) or not rows or any(not m.verdict.startswith("ok") for m in rows):
                continue
            if any(g.layer == network and g.severity == "error" for g in report.findings):
                continue
            report.findings[i] = f.replace(
                severity="warning",
                message=(
                    f"{f.message}; in `{network}` nothing reads that array afterwards (its whole gradient is right), so it does no "
                    "harm there, but a layer before it that keeps its output for its backward (a sigmoid's `self.out`) would "
                    "compute its gradient from the changed values"
                ),
            )
            break


def _step_optimizers(context: CheckContext, report: Report, classes: list[type], rng: np.random.Generator) -> int:
    """One update of each optimizer class on fresh arrays, how many ran; `update-climbs` judges which way
    they moved them. A class whose update does not run on arrays is left out silently: it may be
    something else that happens to have an `update(params, grads)`."""
    from backprop_doctor.training.optimizers import (
        DICT_SHAPES, FUNCTION_SHAPE, SHAPES, adagrad_drift, adam_drift, adam_function_drift, dict_update_function, holds_params, momentum_drift, rms_drift, step, step_dict_function, step_function, update_method,
    )  # fmt: skip

    stepped = 0
    for cls in classes:
        function = inspect.isfunction(cls)
        keyed = function and dict_update_function(cls)
        method = None if function else update_method(cls)
        result = step_dict_function(cls, rng) if keyed else step_function(cls, rng) if function else step(cls, method, rng) if method is not None else None
        drift_rng = np.random.default_rng(context.options.seed)
        drift = (adam_drift(cls, method, drift_rng) or rms_drift(cls, method, drift_rng)) if method is not None else adam_function_drift(cls, drift_rng) if function else None
        if drift is not None:  # `adam-step-wrong` words it; a first step that is not finite leaves `result` None
            context.extras.setdefault("adam_drift", []).append(drift)
            stepped += result is None
        kept = momentum_drift(cls, method, np.random.default_rng(context.options.seed)) if method is not None or function else None
        if kept is not None:  # `momentum-not-kept` words it
            context.extras.setdefault("momentum_drift", []).append(kept)
        summed = adagrad_drift(cls, method, np.random.default_rng(context.options.seed))
        if summed is not None:  # `adagrad-sum-not-kept` words it
            context.extras.setdefault("adagrad_drift", []).append(summed)
            stepped += result is None
        if result is None:
            continue
        stepped += 1
        context.extras.setdefault("optimizers", []).append(result)
        if keyed:
            shapes = ", ".join(f"{name} {shape}" for name, shape in DICT_SHAPES.items())
            report.built.append(Built(cls.__name__, f"update function `{cls.__name__}(parameters, grads, ...)`", f"{shapes}, one step", origin="synthesized", kind="optimizer"))
        elif function:
            report.built.append(Built(cls.__name__, f"optimizer function `{cls.__name__}(w, dw)`", f"w {FUNCTION_SHAPE}, one step", origin="synthesized", kind="optimizer"))
        else:
            shapes = ", ".join(f"{name} {shape}" for name, shape in SHAPES.items())
            called = f"{cls.__name__}(params).{method}(grads)" if holds_params(cls) else f"{method}(w, grad)" if result.form == "array" else f"{method}(params, grads)"
            report.built.append(Built(cls.__name__, f"optimizer `{called}`", f"{result.form} of {shapes}, one step", origin="synthesized", kind="optimizer"))
        for name, cosine in result.cosines.items():  # the row says which way the step went; `update-climbs` says why it matters
            report.measurements.append(Measurement(cls.__name__, f"{name} step", None, "ok (update)" if cosine < 0 else "climbs"))
    return stepped


NUMERICAL_WEIGHTS = 2_000  # at most this many weights in a network whose gradient costs two losses a weight


def _members(obj: Any, train: bool) -> list[str]:
    """The class names of the layers `obj` is made of, in order: its `Network` layers, else the
    objects with a `forward` it holds, alone or in a list (`self.layers = [Linear, Tanh, ...]`)."""
    from backprop_doctor.checks.batch_coupling import held_layers

    try:
        return [type(layer).__name__ for _, layer in Network(obj, train=train).layers()]
    except Exception:  # noqa: BLE001 - not a network the conventions read: the layers it holds, then
        return [type(layer).__name__ for layer in held_layers(obj)]


def _check_numerical(context: CheckContext, report: Report, cls: type, calls: list[Any], rng: np.random.Generator) -> None:
    """A network whose only gradient is the book's `numerical_gradient(x, t)`: built the way the
    file builds it when that is small, else at sizes inferred from its argument names, and checked
    as a network whose gradient is that method. Never on the program's own instance: at 784-50-10
    one numerical gradient takes half a minute."""
    opts = context.options
    built = None
    for attempt in (calls, []) if calls else ([],):
        try:
            candidate = build.build_network(cls, attempt, rng, train=opts.train, batch=opts.batch_size, seed=opts.seed)
        except Exception as error:  # user code, or nothing to build it from
            if not attempt:
                _build_failed(report, cls, error)
            continue
        if sum(np.size(p) for p in Network(candidate.obj, train=opts.train).params().values()) <= NUMERICAL_WEIGHTS or not attempt:
            built = candidate
            break
    if built is not None:
        _check_network(context, report, cls, built)


def _check_network(context: CheckContext, report: Report, cls: type, built: build.Built) -> bool:
    """Check a network the tool built; False when it could not be checked (a finding says why)."""
    try:
        results = [api.check_network(built.obj, x, t, options=context.options) for _label, x, t in built.cases]
    except BackpropDoctorError as error:  # e.g. a zero size in the user's constructor call
        _not_checkable(report, cls, error, how=built.how)
        return False
    context.networks.append(built)
    for result in results:
        result.built = [b for b in result.built if b.how != "given object"]
        report.extend(result)
    report.built.append(Built(built.name, built.how, built.cases[0][0], origin="synthesized", line=built.line))
    return True


def _may_run(context: CheckContext) -> bool:
    """User code may run here: in the child process, under the sandbox, without `--no-run` or `--build`."""
    from backprop_doctor.loading import sandbox

    return context.options.run and context.options.build is None and sandbox.active()


def _runs_program(context: CheckContext) -> bool:
    """Whether the user's program may be run (observed run, replay): in the child process only, where
    the sandbox holds it, when the file has driver code, and not with `--no-run` or `--build`."""
    assert context.source is not None
    return _may_run(context) and context.source.facts.has_driver


def _observe(context: CheckContext, report: Report, found: Any) -> set[str]:
    """Run the user's program under the recorder and check what it built, on what it fed them.

    Only in the child process, where the sandbox holds the program (never in the caller's
    process), only when the file has driver code, and not with `--no-run` or `--build`.
    Returns the names of the classes and functions checked this way.
    """
    opts = context.options
    assert context.source is not None
    if not _runs_program(context):
        return set()
    from backprop_doctor.observe import report as observed_report
    from backprop_doctor.observe.check import check_record
    from backprop_doctor.observe.run import run_program

    record, _namespace, _output = run_program(context.source, budget.share(opts.run_budget, OBSERVED_SHARE), seed=opts.seed)
    context.extras["observed_record"] = record  # what the program handed its functions (`checks/softmax_not_per_row.py`)
    context.extras["observed_namespace"] = _namespace  # the globals its run set (`conventions/loss_gradient_functions.py`)
    checked = check_record(record, found, opts, context.source.path)
    report.extend(checked.report)
    context.networks.extend(checked.networks)
    context.layers.extend(checked.layers)
    report.findings.extend(observed_report.findings(record, context.source.path))
    report.extras["observed_run"] = observed_report.summary(record, context.source.path)
    return checked.observed


def _replay(context: CheckContext, report: Report) -> bool:
    """Replay the first step of the program's training loop (see `backprop_doctor.replay`).

    Same conditions as the observed run. Returns whether any update's gradient was compared, or
    the program's loss was traced to the line where it stops being a number.
    """
    opts = context.options
    assert context.source is not None
    if not context.source.facts.training_steps:
        return False
    driven = not context.source.facts.has_driver and _may_run(context)  # a loop the file defines but never runs
    if not _runs_program(context) and not driven:
        return False
    from backprop_doctor.replay import replay_file, summary

    errors = [f for f in report.findings if f.severity == "error" and f.code.startswith(("BPD1", "BPD3"))]
    structural = any(f.code.startswith("BPD3") for f in errors)  # the softmax or the batch: every gradient follows from it
    if structural and not opts.training:
        return False  # the cause is known and no curve is wanted: nothing left to replay for
    # a wrong layer or function gradient is still replayed: the step's adjoints can name the statement
    results = replay_file(
        context.source, budget.share(opts.run_budget, REPLAY_SHARE), seed=opts.seed, curve=opts.training, measure=not structural,
        namespace=context.namespace if driven else None, definitions=context.namespace, observed=context.extras.get("observed_record"),
    )
    context.extras["replay"] = results
    report.extras["replay"] = [summary(r) for r in results]
    compared = False
    for result in results:
        if result.raised is not None:
            report.findings.append(_backward_raised(result, context.source.path))
            compared = True
            continue
        if result.crashed is not None:  # not the program's doing: a bug of the tool, which must not pass for "not replayable"
            error = result.crashed
            _crashed(report, context, "training-step replay", error, "".join(traceback.format_exception(error, limit=-3)))
        compared |= result.non_finite is not None or bool(result.unfitted) or result.lost or result.skipped is not None  # never a number, no usual loss fits, updates lost or skipped: findings
        compared |= result.tight_clip is not None  # every entry at a clip's bound, nothing left to compare: the clip is the finding
        for _moved, measured in result.parameters:
            verdict = "scaled" if result.program_scale else "mismatch" if measured.wrong else "kink" if measured.inconclusive else "ok"
            report.measurements.append(Measurement("training step", measured.name, measured.error, verdict, probes=2 * len(measured.directions)))
            compared = True
        if result.parameters and result.standin:
            from backprop_doctor.checks import synthetic_data

            report.findings.append(synthetic_data.stood_in(result.driver or result.standin, context.source.path, result.stopped_at, result.ended))
        if result.parameters:
            report.built.append(
                Built(
                    f"training step (line {result.step.loop_line})",
                    f"your program run with synthetic data, `{result.driver}` ({_why_driven(result)}), replayed before its first update"
                    if result.standin
                    else f"run as `{result.driver}` on a synthetic batch ({_why_driven(result)}), replayed before its first update"
                    if result.driver
                    else "replayed from your program's own state before its first update",
                    f"{len(result.parameters)} parameter{'' if len(result.parameters) == 1 else 's'}, loss `{result.loss.name if result.loss else '?'}`",
                    origin="observed",
                    line=result.step.loop_line,
                )
            )
    _float32_network_rounding(report, results)
    return compared


def _float32_network_rounding(report: Report, results: list[Any]) -> None:
    """A whole-network mismatch that is float32 rounding: the network's layers compute in float32
    (the book's `np.empty(..., dtype='f')` inside a layer's forward, which no float64 copy of its
    weights changes), each layer is right on its own, and the replayed training step finds every
    gradient right. The network's finding becomes the float32 note, and its rows `float32`."""
    import dataclasses

    if not results or not all(r.parameters and not r.wrong for r in results):
        return
    float32 = {f.layer for f in report.findings if f.name == "float32-precision"}
    networks = {f.layer for f in report.findings if f.name == "gradient-mismatch" and "assembled from the layers' backward passes" in f.message}
    for network in networks:
        layers_ok = all(m.verdict != "mismatch" for m in report.measurements if m.layer not in (network, "training step"))
        if not float32 or not layers_ok:
            continue
        worst = max((f.measured or 0.0 for f in report.findings if f.layer == network and f.name == "gradient-mismatch"), default=0.0)
        report.findings = [f for f in report.findings if not (f.layer == network and f.name == "gradient-mismatch")]
        report.measurements = [dataclasses.replace(m, verdict="float32") if m.layer == network and m.verdict in ("mismatch", "kink") else m for m in report.measurements]
        report.findings.append(rule("float32-precision").finding(
            f"`{network}` computes in float32 inside its layers ({', '.join(sorted(float32))} hold or make float32 arrays): every layer "
            f"is right on float64 copies and the replayed training step finds every gradient right, so the whole network's "
            f"difference (relative error up to {worst:.3g}) is float32 rounding, not a bug",
            layer=network,
            measured=worst,
        ))


def _backward_raised(result: Any, path: str) -> Any:
    """The training function the file never runs, run on a synthetic batch: its forward pass and loss
    ran, and a line after the loss raised (the same line in every layout that got that far)."""
    description, _file, line = result.raised
    return rule("layer-raised").finding(
        f"`{result.driver}`, run on a synthetic batch, computed its loss (line {result.step.losses[0].line}) and then raised "
        f"{description} at line {line}: the backward pass does not fit what the forward pass made; fix line {line} "
        "(compare the shapes of what it combines)",
        file=path,
        line=line,
        pattern="backward-raised",
    )


def _why_driven(result: Any) -> str:
    """Why backprop-doctor called the training itself: the file never does, or stopped before it."""
    if result.ended:
        return f"your program never reached its training on what line {result.stopped_at} gave"
    if result.stopped_at is not None:
        return f"your program stopped at line {result.stopped_at}, before its training ran"
    return "your file never runs it"


def _with_user_modules(namespace: dict[str, Any], most: int = 20) -> dict[str, Any]:
    """The file's namespace and the names of the user's own modules it reaches through what it
    imports (`from nn import MLP`, whose module imports `Value` from `engine`): a training script
    whose engine sits in a file beside it, two imports away."""
    import types

    from backprop_doctor.discovery import is_user_object

    found: dict[str, Any] = {}
    seen: set[int] = set()
    todo = [namespace]
    while todo and len(seen) < most:
        names = todo.pop(0)
        for key, value in list(names.items()):
            found.setdefault(key, value)
            module = value if isinstance(value, types.ModuleType) else sys.modules.get(getattr(value, "__module__", None) or "")
            if isinstance(module, types.ModuleType) and id(module) not in seen and module is not sys.modules.get("__main__"):
                if is_user_object(module):
                    seen.add(id(module))
                    todo.append(vars(module))
    return found


def _scalar_autograd(context: CheckContext, report: Report) -> bool:
    """Check every operation of the user's scalar autograd classes (micrograd style,
    `backprop_doctor.scalar_autograd`); `checks/scalar_backward_wrong.py` words what is wrong."""
    from backprop_doctor.discovery import is_user_object
    from backprop_doctor.scalar_autograd import check_engine, engine_classes

    assert context.namespace is not None and context.source is not None
    here = {os.path.abspath(context.source.path)}
    found = []
    for cls in engine_classes(_with_user_modules(context.namespace), lambda cls: is_user_object(cls, here)):
        checks = check_engine(cls)
        if not checks:
            continue
        found.append((cls, checks))
        for check in checks:
            for name in check.numerical:
                verdict = "ok" if name not in check.wrong else "mismatch"
                report.measurements.append(Measurement(f"{cls.__name__} `{check.expression}`", name, check.error(name), verdict, probes=2))
        operations = sorted({c.expression for c in checks})
        report.built.append(
            Built(
                cls.__name__, "scalar autograd engine: each operation on fresh values, your own backward()", f"{len(operations)} expressions",
                origin="synthesized", kind="autograd engine",
            )
        )
    context.extras["scalar_autograd"] = found
    return bool(found)


def _own_curve(context: CheckContext) -> None:
    """The program's own loss over its first steps, replayed from its state: beside the probe's
    curves when a probe ran, as the report's only curve when none did (a script has no network)."""
    for result in context.extras.get("replay") or []:
        curve = [float(v) for v in result.curve]
        if len(curve) < 2:
            continue
        corrected = [float(v) for v in result.corrected]
        probe = context.extras.get("training")
        if isinstance(probe, dict):  # the probe trained a copy its own way: show the program's own training beside it
            probe["program"] = curve
            probe["program_label"] = f"your {result.step.word} (line {result.step.loop_line})"
            if corrected:
                probe["corrected"] = corrected
            return
        context.extras["training"] = {
            "yours": curve,
            "reference": corrected or None,  # the same loop with every gradient right, when it was affordable
            "reference_label": "with correct gradients" if corrected else None,
            "replayed": True,  # the program's own curves, drawn even when they look alike
            "one_sample": result.one_sample,  # each value one sample's loss (`for x1, x2, t in data:`): no trend to read
            "steps": len(curve),
            "lr": None,
            "network": f"your training {result.step.word} (line {result.step.loop_line}), replayed from its first step",
            "title": f"Your training {result.step.word} (line {result.step.loop_line}), {'repeated' if result.step.loopless else 'replayed'}",
        }
        return


def _run_in_training(context: CheckContext, name: str) -> int | None:
    """The loop line of a replayed training step that compared parameters held by class `name`: the
    program's own training runs that class on its own inputs."""
    for result in context.extras.get("replay", []):
        held = {parameter for parameter, (owner, _) in result.owners.items() if owner == name}
        if any(measured.name in held for _, measured in result.parameters):
            return result.step.loop_line
    return None


def _passed_when_observed(report: Report, name: str) -> int | None:
    """The line of the program's own call of a function pair, when the observed run checked it."""
    return next((b.line for b in report.built if b.what == name and b.origin == "observed" and not b.skipped and b.line), None)


def _not_used(finding: Finding, configuration: str, right_with: str, report: Report, context: CheckContext) -> Finding:
    """A gradient error of a pair under arguments the tool chose, whose own call passed (no error of
    that layer from the observed check): a configuration the program does not use."""
    if finding.severity != "error" or finding.name != "gradient-mismatch" or finding.line is None:
        return finding
    if any(f.severity == "error" and f.layer == finding.layer for f in report.findings):
        return finding
    lines = context.source.text_lines if context.source is not None else []
    here = not finding.file or context.source is None or os.path.abspath(finding.file) == os.path.abspath(context.source.path)
    statement = lines[finding.line - 1] if here and 0 < finding.line <= len(lines) else ""
    from backprop_doctor.checks import gradient_mismatch  # the check words it, as `synthetic_data` words its findings

    return gradient_mismatch.configuration_only(finding, configuration, right_with, statement)


def _build_failed(report: Report, obj: Any, error: BaseException, name: str | None = None) -> None:
    label = name or getattr(obj, "__name__", str(obj))
    report.findings.append(build.failure_finding(label, obj, error))
    report.built.append(Built(label, "not built", skipped=str(error)))


def _not_checkable(report: Report, obj: Any, error: BackpropDoctorError, name: str | None = None, how: str = "") -> None:
    """An object the file builds but the checks cannot take (a zero size, no parameters...):
    a finding on the user's definition, never the tool's own usage error."""
    from backprop_doctor.locate import where

    label = name or getattr(obj, "__name__", str(obj))
    built = f" ({how})" if how else ""
    message = f"`{label}` was built from your file{built} but could not be checked: {error}"
    report.findings.append(rule("build-failed").finding(message, layer=label, **where(obj).fields()))
    report.built.append(Built(label, "not checked", skipped=str(error)))


def _crashed(report: Report, context: CheckContext, what: str, error: BaseException, trace: str) -> None:
    """Report a bug of backprop-doctor's own (`what`: a check's name, the training-step replay) as
    `check-crashed`, its traceback kept in the report's `internal_errors`."""
    from backprop_doctor.checks import check_crashed

    report.extras.setdefault("internal_errors", []).append(f"{what}: {trace}")
    report.findings.append(check_crashed.finding(what, error, context.source.path if context.source else None))


def _run_checks(context: CheckContext, report: Report) -> None:
    for r in all_rules().values():
        if r.run is None:
            continue
        try:
            new = list(r.run(context))
        except Exception as error:  # a bug in a check must not hide the others' findings, nor pass for a clean file
            _crashed(report, context, r.name, error, traceback.format_exc(limit=3))
            continue
        report.findings.extend(new)
        context.findings = report.findings
        context.measurements = report.measurements


def _sandbox_findings(report: Report, path: str) -> None:
    """What the sandbox refused while any stage ran the user's code (in the child process only)."""
    from backprop_doctor.checks import sandbox_blocked
    from backprop_doctor.loading import sandbox

    report.findings.extend(sandbox_blocked.findings(sandbox.blocked(), os.path.abspath(path), path))


def _selected(finding: Finding, opts: Options) -> bool:
    if opts.select and not matches(finding, opts.select):
        return False
    return not (opts.ignore and matches(finding, opts.ignore))


def _jsonable(value: Any) -> bool:
    import json

    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
