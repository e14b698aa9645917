"""An optimizer object that steps one layer at a time (`optimizer.update_params(dense1)`), run by itself.

    class Optimizer_SGD:
        def update_params(self, layer):
            weight_updates = self.momentum * layer.weight_momentums + self.current_learning_rate * layer.dweights
            layer.weight_momentums = weight_updates       # `- lr * dweights`: as written, the velocity climbs
            layer.weights += weight_updates

The replay compares the gradient each update reads; what the optimizer then does with it (a velocity
whose sign is flipped, one stored under another name and so never kept) it does not see, when the
method sets its step in branches (`if self.momentum: ... else: ...`) that are told apart only when it
runs. `layer_steps` runs the program's own optimizer (a copy, with its settings: its momentum, its
rate) on a copy of each layer it updates, with one constant gradient in each of the layer's gradient
attributes, `STEPS` times, and measures each parameter's moves: the first must go against the
gradient, and under a momentum coefficient in (0, 1) each later move must be larger than the first.
Plain numbers out (`LayerStep`); `checks/update_climbs.py` and `checks/momentum_not_kept.py` word them.
"""

from __future__ import annotations

import ast
import copy
import difflib
import inspect
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

STEPS = 4
CLIMBS = 0.5  # the cosine of the first move with the gradient above which it climbs
MOMENTUM_NAMES = ("momentum", "mu", "beta", "beta1", "gamma", "rho")


@dataclass(frozen=True)
class LayerStep:
    optimizer: str  # `Optimizer_SGD.update_params`
    parameter: str  # `dense1.weights`
    gradient: str  # `dweights`: the layer's attribute the step reads
    coefficient: float | None  # the optimizer's momentum, when it has one in (0, 1)
    cosine: float  # of the first move with the gradient: near -1 descends, near +1 climbs
    ratios: tuple[float, ...]  # each move over the first (median over the entries)
    line: int | None  # the statement to name: the velocity that adds the gradient, or the state written under another name
    statement: str | None
    misspelled: tuple[str, str] | None = None  # (written, read): the state written under a name nothing reads
    proportional: bool = True  # the first move is one multiple of the gradient (momentum's `-lr * g`; Adam's `-lr * sign(g)` is not)

    @property
    def climbs(self) -> bool:
        return self.cosine > CLIMBS

    @property
    def not_kept(self) -> bool:
        # Adam under a constant gradient moves lr * sign(g) at every update, as it should: only a first move that is a
        # multiple of the gradient (momentum's) is expected to grow
        return self.coefficient is not None and self.proportional and not self.climbs and all(abs(r - 1) <= 1e-9 for r in self.ratios[1:])


def layer_steps(result: Any) -> list[LayerStep]:
    """Each parameter of the replayed step that an optimizer method taking one layer moves, run as above."""
    cached = getattr(result, "_layer_steps", None)
    if cached is not None:
        return cached
    found: list[LayerStep] = []
    try:
        found = _layer_steps(result)
    except Exception:  # noqa: BLE001 - user code, run on copies: nothing to say of it
        found = []
    result._layer_steps = found
    return found


def _layer_steps(result: Any) -> list[LayerStep]:
    from backprop_doctor.replay.state import resolve

    runner = result.runner
    if runner is None or not result.parameters or result.wrong:
        return []
    values = runner.state.values
    path = os.path.abspath(runner.path)
    groups: dict[tuple[int, int], list[Any]] = {}
    held: dict[tuple[int, int], tuple[Any, str, Any, Any]] = {}
    for moved, _ in result.parameters:
        site = moved.site
        if moved.path is None or len(moved.path) < 2 or moved.path[-1][0] != "attr" or site.file is not None:
            continue
        found = _method_at(values, path, site.line)
        if found is None:
            continue
        optimizer, name, function = found
        layer = resolve(values, moved.path[:-1])
        key = (id(optimizer), id(layer))
        groups.setdefault(key, []).append(moved)
        held[key] = (optimizer, name, function, layer)
    steps = []
    for key, members in groups.items():
        optimizer, name, function, layer = held[key]
        try:
            steps += _run(optimizer, name, function, layer, members)
        except Exception:  # noqa: BLE001 - user code, run on copies: nothing to say of this layer
            continue
    return steps


def _method_at(values: dict[str, Any], path: str, line: int) -> tuple[Any, str, Any] | None:
    """(object, method name, function) of an object among `values` whose class defines, in the checked
    file, the method holding `line`, and whose method takes one argument: the layer."""
    seen: set[int] = set()
    for value in values.values():
        cls = type(value)
        if id(cls) in seen or cls.__module__ in ("builtins", "numpy") or inspect.isclass(value) or inspect.ismodule(value):
            continue
        seen.add(id(cls))
        for name, function in vars(cls).items():
            if not inspect.isfunction(function):
                continue
            code = function.__code__
            if os.path.abspath(code.co_filename) != path:
                continue
            try:
                lines, first = inspect.getsourcelines(function)
            except (OSError, TypeError):
                continue
            if not first <= line < first + len(lines):
                continue
            required = [p for p in list(inspect.signature(function).parameters.values())[1:] if p.default is p.empty]
            if len(required) == 1:
                return value, name, function
    return None


def _coefficient(optimizer: Any) -> float | None:
    for name in MOMENTUM_NAMES:
        value = getattr(optimizer, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
            return float(value)
    return None


def _gradient_attribute(moved: Any, layer: Any) -> str | None:
    """The layer's attribute the update reads as the parameter's gradient (`dweights` of `layer.dweights`)."""
    try:
        node = ast.parse(moved.site.gradient, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Attribute):
        return node.attr  # set by the layer's backward, which may not have run yet where the step's state was taken
    return None


def _run(optimizer: Any, method: str, function: Any, layer: Any, members: list[Any]) -> list[LayerStep]:
    """The members' parameters, and the layer's other arrays named as they are (`W` beside `b` when `gW`
    sits beside `gb`: an update the replay could not read is run all the same)."""
    from backprop_doctor import probes

    held = vars(layer) if hasattr(layer, "__dict__") else {}
    namings: set[tuple[str, str]] = set()
    for moved in members:
        attribute, gradient = moved.path[-1][1], _gradient_attribute(moved, layer)
        if gradient is not None and attribute in gradient:
            before, _, after = gradient.partition(attribute)
            namings.add((before, after))
    base = members[0].path[:-1]
    updated = {moved.path[-1][1] for moved in members} | _updated_attributes(function)
    params = []
    for attribute, value in held.items():
        if attribute not in updated or not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            continue
        gradient = next((f"{b}{attribute}{a}" for b, a in sorted(namings) if f"{b}{attribute}{a}" != attribute), None)
        if gradient is not None:
            params.append(((*base, ("attr", attribute)), attribute, gradient))
    if not params:
        return []
    optimizer, layer = copy.deepcopy(optimizer), copy.deepcopy(layer)
    rng = np.random.default_rng(0)
    constants = {}
    for _, attribute, gradient in params:
        shape = np.shape(getattr(layer, attribute))
        constants[gradient] = rng.choice([-1.0, 1.0], shape) * np.exp(rng.uniform(np.log(0.3), np.log(3.0), shape))
    moves: dict[str, list[np.ndarray]] = {attribute: [] for _, attribute, _ in params}
    with probes.quietly(), np.errstate(all="ignore"):
        for _ in range(STEPS):
            for gradient, g in constants.items():
                setattr(layer, gradient, g.copy())
            before = {attribute: np.array(getattr(layer, attribute), dtype=np.float64) for attribute in moves}
            getattr(optimizer, method)(layer)
            for attribute in moves:
                moves[attribute].append(np.asarray(getattr(layer, attribute), dtype=np.float64) - before[attribute])
    coefficient = _coefficient(optimizer)
    tree = _function_tree(function)
    found = []
    for path, attribute, gradient in params:
        first, g = moves[attribute][0], constants[gradient]
        if first.size < 2:
            continue  # one number: its move says little of a direction
        norm = float(np.linalg.norm(first) * np.linalg.norm(g))
        if not norm or not np.all(np.isfinite(first)) or not np.all(np.abs(first) > 0):
            continue
        cosine = float(np.sum(first * g) / norm)
        ratios = tuple(float(np.median(m / first)) for m in moves[attribute])
        multiple = first / g
        proportional = bool(np.ptp(multiple) <= 1e-6 * abs(float(np.median(multiple))))
        step = LayerStep(f"{type(optimizer).__name__}.{method}", _shown(path), gradient, coefficient, cosine, ratios, None, None, proportional=proportional)
        if step.climbs:
            line, statement = _velocity_line(tree, function, gradient, optimizer)
            step = _with(step, line, statement, None)
        elif step.not_kept:
            misspelled = _misspelled(tree, function)
            if misspelled is not None:
                step = _with(step, *misspelled)
            else:
                line, statement = _velocity_line(tree, function, gradient, optimizer)
                step = _with(step, line, statement, None)
        else:
            continue
        found.append(step)
    return found


def _updated_attributes(function: Any) -> set[str]:
    """The attributes of the method's one argument it moves in place (`layer.W += v`): its parameters."""
    node, _ = _function_tree(function)
    if node is None:
        return set()
    defined = next((n for n in ast.walk(node) if isinstance(n, ast.FunctionDef)), None)
    if defined is None or len(defined.args.args) < 2:
        return set()
    name = defined.args.args[1].arg
    return {
        n.target.attr for n in ast.walk(node)
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Attribute) and isinstance(n.target.value, ast.Name) and n.target.value.id == name
    }  # fmt: skip


def _with(step: LayerStep, line: int | None, statement: str | None, misspelled: tuple[str, str] | None) -> LayerStep:
    from dataclasses import replace

    return replace(step, line=line, statement=statement, misspelled=misspelled)


def _shown(path: Any) -> str:
    text = ""
    for kind, key in path:
        text = key if kind == "name" else f"{text}.{key}" if kind == "attr" else f"{text}[{key!r}]"
    return text


def _function_tree(function: Any) -> tuple[ast.AST | None, int]:
    """(the method's tree, the offset of its lines in the file)."""
    import textwrap

    try:
        lines, first = inspect.getsourcelines(function)
        return ast.parse(textwrap.dedent("".join(lines))), first - 1
    except (OSError, TypeError, SyntaxError):
        return None, 0


def _velocity_line(tree: tuple[ast.AST | None, int], function: Any, gradient: str, optimizer: Any) -> tuple[int | None, str | None]:
    """The assignment in the method that reads the gradient attribute and, with a momentum, the optimizer's
    coefficient: the velocity's own line (`weight_updates = self.momentum * ... + lr * layer.dweights`)."""
    node, offset = tree
    if node is None:
        return None, None
    candidates = [
        n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))
        and any(isinstance(a, ast.Attribute) and a.attr == gradient for a in ast.walk(n.value))
    ]  # fmt: skip
    coefficient = next((name for name in MOMENTUM_NAMES if _coefficient_named(optimizer, name)), None)
    with_momentum = [n for n in candidates if coefficient and any(isinstance(a, ast.Attribute) and a.attr == coefficient for a in ast.walk(n.value))]
    chosen = (with_momentum or candidates or [None])[0]
    if chosen is None:
        return None, None
    return chosen.lineno + offset, ast.unparse(chosen)


def _coefficient_named(optimizer: Any, name: str) -> bool:
    value = getattr(optimizer, name, None)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1


def _nearest(written: str, read: set[str]) -> str | None:
    """The read name `written` is a misspelling of: the same but for case first, else the most alike
    (difflib's ratio at least 0.8), ties to the longer shared start."""
    def score(name: str) -> tuple[bool, float, int]:
        shared = next((i for i, (a, b) in enumerate(zip(name, written)) if a != b), min(len(name), len(written)))
        return name.lower() == written.lower(), difflib.SequenceMatcher(None, name.lower(), written.lower()).ratio(), shared

    best = max(sorted(read), key=score, default=None)
    return best if best is not None and (score(best)[0] or score(best)[1] >= 0.8) else None


def _misspelled(tree: tuple[ast.AST | None, int], function: Any) -> tuple[int, str, tuple[str, str]] | None:
    """(line, statement, (written, read)) of an attribute the method writes and nothing in its file reads,
    beside one it reads whose name is nearly the same: `layer.weight_momentum = weight_updates` where it
    reads `layer.weight_momentums`. The state it means to keep is never updated."""
    node, offset = tree
    if node is None:
        return None
    try:
        whole = ast.parse(open(inspect.getsourcefile(function) or "", encoding="utf-8").read())
    except (OSError, SyntaxError, TypeError):
        return None
    loaded = {n.attr for n in ast.walk(whole) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
    loaded |= {n.value for n in ast.walk(whole) if isinstance(n, ast.Constant) and isinstance(n.value, str)}  # `hasattr(layer, "...")`
    read_here = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
    for n in ast.walk(node):
        if not isinstance(n, ast.Assign):
            continue
        for target in n.targets:
            if isinstance(target, ast.Attribute) and target.attr not in loaded:
                near = _nearest(target.attr, read_here - {target.attr})
                if near is not None:
                    return n.lineno + offset, ast.unparse(n), (target.attr, near)
    return None


__all__ = ["LayerStep", "layer_steps"]
