"""A layer's own update moves its weights up the gradient.

What it finds:
    A layer class with an update method of its own (`update(lr)`, `step()`,
    `apply_diff(lr)`, `update_params(learning_rate)`) that no program of the
    file runs. After its checked backward, the method is called on a copy with
    a small rate: each parameter must move against its gradient (for plain
    gradient descent `W - lr * dW`; momentum, RMSProp and Adam move against it
    too on their first step). A parameter that moves with its gradient climbs
    the loss.

Why it matters:
    The gradients can all be right and training still fails: every step adds
    what it should subtract, and the loss rises from the first step. The
    gradient check cannot see it, and with no training loop in the file there
    is no step to replay.

Example:
    def update(self, lr):
        self.W += lr * self.dW

Fix:
    def update(self, lr):
        self.W -= lr * self.dW
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor import probes
from backprop_doctor.conventions._base import is_float_array
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree

NAME = "update-climbs"
CODE = "BPD206"
SEVERITY = "error"
STAGE = "contract"

UPDATES = ("update", "step", "apply_diff", "update_params", "update_parameters", "update_weights", "apply_gradients", "sgd_step", "optimize")
RATE = 1e-3
CLIMBS = 0.5  # cosine between the parameter's move and its gradient above which it climbs


def run(context: Any) -> Iterator[Finding]:
    yield from _layer_optimizers(context)
    if any(getattr(r, "parameters", None) for r in context.extras.get("replay", []) or []):
        return  # the program's own step was replayed: its updates are judged there
    for optimizer in context.extras.get("optimizers", []):
        climbed = [(name, c) for name, c in optimizer.cosines.items() if c > CLIMBS]
        started = _state_started_as_parameter(_method_node(optimizer.cls, optimizer.method)) if optimizer.form == "dict" and optimizer.method else None
        if climbed or started is not None:
            yield _optimizer_finding(optimizer, climbed or list(optimizer.cosines.items()))
    seen: set[type] = set()
    wrong = {f.layer for f in context.findings if f.severity == "error"}
    for built in context.layers:
        cls = type(built.obj)
        if cls in seen or not built.cases or cls.__name__ in wrong:
            continue  # a layer whose gradient is wrong: its update is judged against a gradient it does not have
        seen.add(cls)
        method = _update_method(cls)
        if method is None:
            continue
        climbed = _climbed(built, method, context.options.train)
        if climbed:
            yield _finding(cls, method, climbed)


def _layer_optimizers(context: Any) -> Iterator[Finding]:
    """The program's own optimizer object, stepping one layer at a time (`optimizer.update_params(dense1)`),
    run on copies with a constant gradient (`replay.layer_optimizer`): a first move that goes with the
    gradient climbs the loss, whatever the gradients the replay found right."""
    from backprop_doctor.replay.layer_optimizer import layer_steps

    source = getattr(context, "source", None)
    for result in context.extras.get("replay") or []:
        if getattr(result, "driver", None) or getattr(result, "standin", None):
            continue
        climbing = [s for s in layer_steps(result) if s.climbs]
        if not climbing:
            continue
        first = climbing[0]
        names = ", ".join(f"`{s.parameter}`" for s in climbing)
        plural = len(climbing) > 1
        at = f"`{first.statement}` (line {first.line})" if first.line else f"`{first.optimizer}`"
        velocity = f"with momentum {first.coefficient:g}, " if first.coefficient is not None else ""
        yield rule(NAME).finding(
            f"`{first.optimizer}` moves {names} up {'their' if plural else 'its'} gradient (`{first.gradient}`): given one constant gradient, "
            f"its first update moves {'them' if plural else 'it'} along it (cosine {first.cosine:+.2f}), so every step climbs the loss "
            f"although the gradients are right; {velocity}{at} makes the step it applies go with the gradient: the step must take the "
            "learning rate times the gradient off (`v = mu * v - lr * g`, then `w += v`)",
            file=source.path if source is not None else None,
            line=first.line,
            highlight=(first.line,) if first.line else (),
            pattern="velocity-sign-flipped" if first.coefficient is not None else "update-climbs",
            evidence=(("first move · gradient (cosine)", ", ".join(f"{s.parameter}: {s.cosine:+.2f}" for s in climbing)),),
        )


def _update_method(cls: type) -> str | None:
    """The first update-like method that takes nothing, or only a rate."""
    for name in UPDATES:
        method = getattr(cls, name, None)
        if not callable(method):
            continue
        try:
            params = [p for p in inspect.signature(method).parameters.values() if p.name != "self"]
        except (TypeError, ValueError):
            continue
        required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(required) <= 1:
            return name
    return None


def _climbed(built: Any, method: str, train: bool) -> list[tuple[str, float]]:
    """(parameter, cosine of its move with its gradient) for each parameter the update moves along
    its gradient, on a copy of the layer after its checked forward and backward."""
    _label, x, t = built.cases[0]
    try:
        layer = copy.deepcopy(built.obj)
    except Exception:  # a layer that cannot be copied is not called
        return []
    adapter = ClassLayer(layer, train=train)
    try:
        with probes.quietly():
            np.random.seed(probes.FORWARD_SEED)
            ids = {k: id(v) for k, v in vars(layer).items()}
            out = adapter.forward(np.array(x, dtype=np.float64), copy.deepcopy(t))
            dout = np.random.default_rng(0).standard_normal(np.shape(out)) if adapter.dout_is_input else 1.0
            adapter.backward(dout)
            adapter.discover_params(ids)  # which arrays are parameters, as the gradient check decided
            np.random.seed(probes.FORWARD_SEED)
            adapter.forward(np.array(x, dtype=np.float64), copy.deepcopy(t))
            _dx, grads = adapter.backward(dout)
            before = {k: np.array(v) for k, v in adapter.params().items()}
            update = getattr(layer, method)
            required = [p for p in inspect.signature(update).parameters.values() if p.default is p.empty]
            update(*([RATE] if required else []))
            # read again by name: an update that binds a new array (`self.W = self.W - lr * self.dW`) leaves the old one as it was
            current = vars(layer)
            after = {name: current.get(name, value) for name, value in adapter.params().items()}
    except Exception:  # an update that needs an optimizer or state the check does not have
        return []
    climbed = []
    for name, start in before.items():
        grad, end = grads.get(name), after.get(name)
        if not (is_float_array(np.asarray(grad)) and is_float_array(np.asarray(end))) or np.shape(grad) != start.shape or np.shape(end) != start.shape:
            continue
        moved, g = (np.asarray(end) - start).ravel(), np.asarray(grad, dtype=np.float64).ravel()
        norm = float(np.linalg.norm(moved) * np.linalg.norm(g))
        if norm > 0 and float(moved @ g) / norm > CLIMBS:
            climbed.append((name, float(moved @ g) / norm))
    return climbed


def _finding(cls: type, method: str, moves: list[tuple[str, float]]) -> Finding:
    climbed = [name for name, _ in moves]
    names = ", ".join(f"`{p}`" for p in climbed)
    return _climbs(
        cls,
        method,
        lambda node: min((n.lineno for n in (ast.walk(node) if node is not None else []) if _adds(n, climbed)), default=None),
        f"`{cls.__name__}.{method}` moves {names} along {'its gradient' if len(climbed) == 1 else 'their gradients'}, up the loss: "
        "every step makes the loss larger; subtract the step (`-=`) where it is added",
        moves,
        f"`{method}({RATE if _takes_rate(getattr(cls, method)) else ''})` after backward",
    )


def _takes_rate(update: Any) -> bool:
    """Whether `_climbed` hands the method `update` (as the class defines it) the rate: it has a
    parameter besides the layer without a default, as `_climbed` reads the bound method."""
    parameters = list(inspect.signature(update).parameters.values())[1:]  # after `self`
    return any(p.default is p.empty for p in parameters)


def _optimizer_finding(optimizer: Any, moves: list[tuple[str, float]]) -> Finding:
    cls, method = optimizer.cls, optimizer.method
    if optimizer.form == "parameters":  # `update_parameters_with_gd(parameters, grads, learning_rate)`
        every = len(moves) == len(optimizer.cosines)
        return _climbs(
            cls,
            method,
            lambda node: _adding_line(node, gradient_at=1),
            f"`{cls.__name__}(parameters, grads, ...)` moves {'every parameter' if every else ', '.join(f'`{n}`' for n, _ in moves)} "
            "along its gradient, up the loss: training with it makes the loss larger from the start; the step must be "
            "subtracted where it is added",
            moves,
            f"one call of `{cls.__name__}` on a fresh dictionary",
        )
    if not method:  # an optimizer function, `sgd(w, dw, config)`
        return _climbs(
            cls,
            method,
            lambda node: _adding_line(node, gradient_at=1),
            f"`{cls.__name__}(w, dw)` moves `w` along its gradient `dw`, up the loss: training with it makes the loss larger "
            "from the start; the step must be subtracted where it is added",
            moves,
            f"one call of `{cls.__name__}` on a fresh array",
        )
    every = len(moves) == len(optimizer.cosines)
    started = _state_started_as_parameter(_method_node(cls, method)) if optimizer.form == "dict" else None
    if started is not None:
        state, line, statement = started
        return _climbs(
            cls,
            method,
            lambda node: line,
            f"`{cls.__name__}.{method}(params, grads)` does not move the parameters against their gradients: `{statement}` "
            f"(line {line}) starts `{state}` as the parameter itself, not at zero, so every update also adds a multiple of the "
            f"parameter to it; start it at zero (`np.zeros_like(...)`)",
            moves,
            f"one `{method}` on fresh arrays",
        )
    twice = _subtracted_twice(_method_node(cls, method)) if optimizer.form != "pairs" else None
    if twice is not None:
        velocity, held_at, line, statement = twice
        return _climbs(
            cls,
            method,
            lambda node: line,
            f"`{cls.__name__}.{method}(params, grads)` moves {'every parameter' if every else ', '.join(f'`{n}`' for n, _ in moves)} "
            f"along its gradient, up the loss: `{velocity}` already holds minus the learning rate times the gradient (line {held_at}), "
            f"so `{statement}` (line {line}) subtracts a step that is already negative; add it (`+=`)",
            moves,
            f"one `{method}` on fresh arrays",
        )
    return _climbs(
        cls,
        method,
        (lambda node: _adding_line(node, gradient_at=1)) if optimizer.form == "pairs" else _adding_line,
        f"`{cls.__name__}.{method}({_ARGUMENTS.get(optimizer.form, 'params, grads')})` moves {'every parameter' if every else ', '.join(f'`{n}`' for n, _ in moves)} "
        "along its gradient on its first step, up the loss: training with it makes the loss larger from the start; "
        "the step must be subtracted where it is added",
        moves,
        f"one `{method}` on fresh arrays",
    )


_ARGUMENTS = {"pairs": "params_and_grads", "array": "w, grad"}  # the update's arguments, by what it was given


def _climbs(cls: type, method: str, adding: Any, message: str, moves: list[tuple[str, float]], how: str) -> Finding:
    """The finding at the statement `adding(def node)` names in the update method (the function
    itself, for an optimizer function: no `method`), else at its `def`; that line is highlighted, as
    the other checks highlight the statement they name."""
    where = definition(getattr(cls, method) if method else cls)
    line = where.line if where is not None else None
    if where is not None:
        tree = source_tree(where.file)[1]
        node = find_function(tree, where.qualname) if tree is not None else None
        line = adding(node) or line
    return rule(NAME).finding(
        message,
        layer=cls.__name__,
        file=where.file if where is not None else None,
        line=line,
        highlight=(line,) if line else (),
        pattern="update-ascends",
        measured=max(c for _, c in moves),
        threshold=0.0,
        evidence=tuple((name, f"{how} moved it with cosine {c:+.3f} to its gradient (descent moves it near −1)") for name, c in moves),
    )


def _method_node(cls: type, method: str) -> Any:
    where = definition(getattr(cls, method, None)) if method else None
    tree = source_tree(where.file)[1] if where is not None else None
    return find_function(tree, where.qualname) if tree is not None and where is not None else None


def _state_started_as_parameter(node: Any) -> tuple[str, int, str] | None:
    """(the state, the line, the statement) of `self.v[key] = val` in `for key, val in params.items()`
    (or `= params[key]`): an optimizer's velocity or cache started as the parameter itself, where it
    must start at zero; None when the method has none."""
    import ast

    if node is None or len(node.args.args) < 2:
        return None
    params = node.args.args[1].arg
    values: set[str] = set()
    for loop in ast.walk(node):
        if isinstance(loop, ast.For) and isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2:
            iterated = loop.iter
            if isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Attribute) and iterated.func.attr == "items":
                if isinstance(iterated.func.value, ast.Name) and iterated.func.value.id == params and isinstance(loop.target.elts[1], ast.Name):
                    values.add(loop.target.elts[1].id)
    for stmt in sorted((n for n in ast.walk(node) if isinstance(n, ast.Assign) and len(n.targets) == 1), key=lambda n: n.lineno):
        target, value = stmt.targets[0], stmt.value
        state = target.value if isinstance(target, ast.Subscript) else None
        if not (isinstance(state, ast.Attribute) and isinstance(state.value, ast.Name) and state.value.id == "self"):
            continue
        own = isinstance(value, ast.Name) and value.id in values
        keyed = isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id == params
        if own or keyed:
            return ast.unparse(state), stmt.lineno, ast.unparse(stmt)
    return None


def _subtracted_twice(node: Any) -> tuple[str, int, int, str] | None:
    """(the velocity, where it is set, the update's line, the update) for `v = mu * v - lr * g` followed
    by `p -= v`: the velocity holds the negative step and subtracting it climbs."""
    import ast

    if node is None:
        return None
    held: dict[str, int] = {}
    for stmt in sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Sub):
            if any(isinstance(n, (ast.Name, ast.Attribute)) and RATE_NAME.match(n.id if isinstance(n, ast.Name) else n.attr) for n in ast.walk(stmt.value.right)):
                held[ast.unparse(stmt.targets[0])] = stmt.lineno
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Sub) and ast.unparse(stmt.value) in held:
            return ast.unparse(stmt.value), held[ast.unparse(stmt.value)], stmt.lineno, ast.unparse(stmt)
    return None


RATE_NAME = re.compile(r"^(lr\w*|learning_rate\w*|eta|alpha|step_size|rate)$", re.IGNORECASE)


def _adding_line(node: Any, gradient_at: int = 2) -> int | None:
    """The statement of an optimizer's update that adds the step: the first that adds a term scaled
    by the learning rate (`v = momentum * v + lr * grads[key]`, `params[key] += lr_t * m / ...`,
    `next_w = w + config['learning_rate'] * dw`), else the first that adds a term holding its
    gradients argument (the `gradient_at`-th argument: 2 after `self` and the parameters)."""
    import ast

    if node is None or len(node.args.args) <= gradient_at:
        return None
    grads = node.args.args[gradient_at].arg

    def mentions(expr: Any, test: Any) -> bool:
        return any(test(n) for n in ast.walk(expr))

    def rate(n: Any) -> bool:
        named = (isinstance(n, ast.Name) and bool(RATE_NAME.match(n.id))) or (isinstance(n, ast.Attribute) and bool(RATE_NAME.match(n.attr)))
        keyed = isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str) and bool(RATE_NAME.match(n.slice.value))
        return named or keyed

    def gradient(n: Any) -> bool:
        return isinstance(n, ast.Name) and n.id == grads

    statements = sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno)
    for test in (rate, gradient):
        for stmt in statements:
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and mentions(stmt.value, test):
                return stmt.lineno
            adds = [b for b in ast.walk(stmt.value) if isinstance(b, ast.BinOp) and isinstance(b.op, ast.Add)]
            if any(mentions(b.left, test) or mentions(b.right, test) for b in adds):
                return stmt.lineno
    return None


def _adds(stmt: Any, climbed: list[str]) -> bool:
    """`self.W += ...` (or `self.W[...] += ...`) for a parameter that climbed."""
    if not (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add)):
        return False
    target = stmt.target
    while isinstance(target, ast.Subscript):  # the array written into, whatever its index (`[...]`, `[:, 0]`)
        target = target.value
    return isinstance(target, ast.Attribute) and target.attr in climbed
