"""A parameter a forward method fetches and never uses: the bias left out of `np.dot(x, W1)`.

When the loss does not depend on a parameter at all, its numerical gradient is zero while the
backward computes one (`unused-in-forward`). The usual cause is not a copy of the array but a
term left out of the forward:

    W1, W2 = self.params['W1'], self.params['W2']
    b1, b2 = self.params['b1'], self.params['b2']
    a1 = np.dot(x, W1)          # `+ b1` left out: b1 is bound and never read
    a2 = np.dot(z1, W2) + b2

`left_out` finds the method that binds the parameter (from `self.params['b1']`, or reads
`self.b` itself) and never reads it, and the statement that uses its weight (`W1`, `W`), where
the term belongs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class LeftOut:
    line: int  # the statement that uses the parameter's weight and not the parameter
    name: str  # the parameter as the method names it: `b1`, `self.b`
    method: str


def left_out(tree: ast.Module, class_name: str, param: str) -> LeftOut | None:
    """Where the forward of `class_name` should use `param` (a bias `b1`, `b`) and does not."""
    weight = _weight_of(param)
    if weight is None:
        return None
    cls = next((n for n in walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name), None)
    if cls is None:
        return None
    for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        found = _in_method(method, param, weight)
        if found is not None:
            return LeftOut(found[0], found[1], method.name)
    return None


def _weight_of(param: str) -> str | None:
    """The weight a bias goes with: `b1` -> `W1`, `b` -> `W`, `bias` -> `weight`."""
    if param in ("bias", "biases"):
        return "weight" if param == "bias" else "weights"
    if param[:1] in ("b", "B") and (len(param) == 1 or not param[1].isalpha() or param[1] == "_"):
        return "W" + param[1:]
    return None


def _in_method(method: ast.FunctionDef, param: str, weight: str) -> tuple[int, str] | None:
    """(line using the weight, the parameter's name) when `method` binds or owns `param` and never reads it."""
    own = method.args.args[0].arg if method.args.args else "self"
    names = _bound_names(method, own)
    local, weight_local = names.get(param), names.get(weight)
    if local is not None and weight_local is not None:
        bound_at, name = local
        if _reads(method, name, after=bound_at):
            return None
        line = _first_read(method, weight_local[1], after=weight_local[0])
        return (line, name) if line is not None else None
    # `self.b` never read in a method that reads `self.W` (a layer's forward)
    if method.name not in ("forward", "predict", "__call__", "forward_propagation", "feedforward"):
        return None
    if _reads_attribute(method, own, param) or not _reads_attribute(method, own, weight):
        return None
    line = min(n.lineno for n in walk(method) if _is_attribute(n, own, weight))
    statement = _statement_of(method, line)
    return (statement, f"{own}.{param}") if statement is not None else None


def _bound_names(method: ast.FunctionDef, own: str) -> dict[str, tuple[int, str]]:
    """key -> (line, local name) for `b1 = self.params['b1']` and `W1, b1 = self.params['W1'], self.params['b1']`."""
    out: dict[str, tuple[int, str]] = {}
    for stmt in walk(method):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target, value = stmt.targets[0], stmt.value
        pairs = (
            zip(target.elts, value.elts)
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts)
            else [(target, value)]
        )
        for name, fetched in pairs:
            key = _fetched_key(fetched, own)
            if isinstance(name, ast.Name) and key is not None:
                out.setdefault(key, (stmt.lineno, name.id))
    return out


def _fetched_key(value: ast.expr, own: str) -> str | None:
    """`self.params['b1']` -> 'b1'; `self.b1` -> 'b1'."""
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant) and isinstance(value.slice.value, str):
        container = value.value
        if isinstance(container, ast.Attribute) and isinstance(container.value, ast.Name) and container.value.id == own:
            return value.slice.value
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == own:
        return value.attr
    return None


SHAPE_ONLY = frozenset({"shape", "dtype", "size", "ndim"})


def _reads(method: ast.FunctionDef, name: str, after: int) -> bool:
    """Whether `name` is read after line `after` for its values (`np.zeros(b1.shape)` reads its shape only)."""
    shape_only = {id(n.value) for n in walk(method) if isinstance(n, ast.Attribute) and n.attr in SHAPE_ONLY}
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and n.lineno > after and id(n) not in shape_only
        for n in walk(method)
    )


def _first_read(method: ast.FunctionDef, name: str, after: int) -> int | None:
    lines = [n.lineno for n in walk(method) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and n.lineno > after]
    return _statement_of(method, min(lines)) if lines else None


def _is_attribute(node: ast.AST, own: str, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) and node.value.id == own


def _reads_attribute(method: ast.FunctionDef, own: str, attr: str) -> bool:
    return any(_is_attribute(n, own, attr) and isinstance(n.ctx, ast.Load) for n in walk(method))


def _statement_of(method: ast.FunctionDef, line: int) -> int | None:
    """The first line of the simple statement holding `line`."""
    for stmt in walk(method):
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)) and stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            return stmt.lineno
    return None


def forward_only(tree: ast.Module, class_name: str) -> list[tuple[str, int]]:
    """(`self.mask`, its line in forward) for each attribute a layer's forward multiplies its input by
    in what it returns (`x * self.mask`) that its backward never reads, leaving out parameters (whose gradients backward stores:
    a bias is rightly never read there). Dropout's `x * self.mask` with a backward that returns `dout`,
    a leaky ReLU's `self.alpha * x` with a backward that gives negative inputs no slope."""
    forward, backward = find_function(tree, f"{class_name}.forward"), find_function(tree, f"{class_name}.backward")
    if forward is None or backward is None or not forward.args.args or not backward.args.args:
        return []
    me, them = forward.args.args[0].arg, backward.args.args[0].arg
    read_back = {n.attr for n in walk(backward) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == them and isinstance(n.ctx, ast.Load)}
    stored_back = {n.attr for n in walk(backward) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == them and isinstance(n.ctx, ast.Store)}
    given = forward.args.args[1].arg if len(forward.args.args) > 1 else None
    found: dict[str, int] = {}
    for ret in (n for n in walk(forward) if isinstance(n, ast.Return) and n.value is not None):
        for product in (n for n in walk(ret.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult)):
            for factor, other in ((product.left, product.right), (product.right, product.left)):
                # a factor of the input itself (`x * self.mask`, `self.alpha * x`): its derivative is that factor
                if not (isinstance(factor, ast.Attribute) and isinstance(factor.value, ast.Name) and factor.value.id == me):
                    continue
                if not (isinstance(other, ast.Name) and other.id == given):
                    continue
                parameter = any(g in stored_back for g in (f"d{factor.attr}", f"d_{factor.attr}", f"grad_{factor.attr}", f"{factor.attr}_grad"))
                if factor.attr not in read_back and not parameter:
                    found.setdefault(factor.attr, ret.lineno)
    return [(f"{me}.{attr}", line) for attr, line in found.items()]


def skip_left_out(tree: ast.Module, class_name: str) -> tuple[int, str, str] | None:
    """(forward's return line, backward's upstream name, backward's return) when a layer's forward adds
    its input to what it returns (`return x + self.fc2.forward(...)`, a skip connection) and backward's
    return never adds the upstream gradient back (`return self.fc1.backward(gh)`)."""
    forward, backward = find_function(tree, f"{class_name}.forward"), find_function(tree, f"{class_name}.backward")
    if forward is None or backward is None or len(forward.args.args) < 2 or len(backward.args.args) < 2:
        return None
    given, upstream = forward.args.args[1].arg, backward.args.args[1].arg
    skip = next(
        (r for r in walk(forward) if isinstance(r, ast.Return) and isinstance(r.value, ast.BinOp) and isinstance(r.value.op, ast.Add)
         and any(isinstance(side, ast.Name) and side.id == given for side in (r.value.left, r.value.right))),
        None,
    )  # fmt: skip
    returned = [r for r in walk(backward) if isinstance(r, ast.Return) and r.value is not None]
    if skip is None or len(returned) != 1:
        return None
    value = returned[0].value
    added = isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and any(isinstance(s, ast.Name) and s.id == upstream for s in (value.left, value.right))
    return None if added or _one_plus(value, upstream) else (skip.lineno, upstream, ast.unparse(value))


def _one_plus(value: ast.expr, upstream: str) -> bool:
    """`dout * (1 + 0.75 * x ** 2)`: the upstream gradient times a sum that holds 1, the skip's share
    written inside the product (the derivative of `x + 0.25 * x ** 3`)."""
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult)):
        return False
    sides = (value.left, value.right)
    if not any(isinstance(s, ast.Name) and s.id == upstream for s in sides):
        return False
    return any(
        isinstance(s, ast.BinOp) and isinstance(s.op, (ast.Add, ast.Sub))
        and any(isinstance(t, ast.Constant) and t.value == 1 for t in (s.left, s.right))
        for s in sides
    )  # fmt: skip


def carried_not_added(tree: ast.Module, line: int) -> tuple[str, int, int, str] | None:
    """(the carried name, the loop's statement that makes it, the statement it belongs in, that
    statement fixed) when a backward loop over time in the function holding `line` binds each step's
    gradient of the previous state (`dprev_h`, `dh_next`) and never reads it in the loop: the next
    (earlier) step's upstream gradient leaves it out. Two shapes: bound from a call
    (`rnn_step_backward(dh[:, t, :], cache[t])` where `dh[:, t, :] + dprev_h` belongs, the same
    line), or carried by a name set before the loop and again at each step's end (`dh_next =
    dh_prev`) while the step's own gradient of the state is formed without it (`dh = dy @ Wy.T`,
    where `dh = dy @ Wy.T + dh_next` belongs)."""
    scope = _scope_of(tree, line)
    for loop in (n for n in walk(scope) if isinstance(n, ast.For) and _backwards(n.iter)):
        read_in_loop = {n.id for s in loop.body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        steps = (s for s in loop.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call) and _programs_own(s.value.func) and s.value.args)
        for stmt in steps:  # a step function or layer of the program's (`rnn_step_backward(...)`), not `np.dot(Whh.T, dhraw)`
            targets = stmt.targets[0].elts if isinstance(stmt.targets[0], ast.Tuple) else [stmt.targets[0]]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            for name in names:
                carried = re.fullmatch(r"(?i)d_?(prev_?)?h(_?prev)?(_?next)?|dh_?prev|dprev_?h|dh", name)
                if carried and name not in read_in_loop:
                    first = ast.unparse(stmt.value.args[0])
                    return name, stmt.lineno, stmt.lineno, f"{first} + {name}"
        before = {t.id for s in walk(scope) if isinstance(s, ast.Assign) and s.lineno < loop.lineno for t in s.targets if isinstance(t, ast.Name)}
        for stmt in (s for s in loop.body if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
            name = stmt.targets[0].id
            step_own = re.fullmatch(r"(?i)(d_?[hc])_?next|d_?next_?([hc])", name)
            if step_own is None or name in read_in_loop or name not in before:
                continue
            own = step_own.group(1) or f"d{step_own.group(2)}"
            bound_in_loop = [s for s in loop.body if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)]
            formed = next((s for s in bound_in_loop if s.targets[0].id.replace("_", "") == own.replace("_", "")), None)
            if formed is None:  # `dht = dh[:, t, :]`, `dh_t = ...`: the step's own gradient of the state under a longer name
                formed = next((
                    s for s in bound_in_loop
                    if s.targets[0].id.replace("_", "").lower() in (f"{own.replace('_', '')}t".lower(), f"{own.replace('_', '')}total".lower(), f"{own.replace('_', '')}cur".lower())
                ), None)  # fmt: skip
            if formed is not None and formed.lineno < stmt.lineno:
                return name, stmt.lineno, formed.lineno, f"{ast.unparse(formed)} + {name}"
    return None


def never_carried(tree: ast.Module, line: int) -> tuple[str, int, int, int, str] | None:
    """(the carried name, the line that sets it to zeros, the loop's line, the line that reads it, the name
    it should be set to at the end of each step) when the statement at `line`, in a loop, reads a name that
    is set to zeros before the loop and that nothing in the loop sets again: each step reads those zeros,
    where the step before should have handed it its own value (`future_layer_1_delta = np.zeros(hidden)`,
    then `layer_1_delta = (future_layer_1_delta @ W_h.T + ...) * slope` in a loop over the time steps with
    no `future_layer_1_delta = layer_1_delta` at its end). The carried name is made of the one the
    statement assigns (`future_layer_1_delta` of `layer_1_delta`, `h_prev` of `h`, `dh_next` of `dh`)."""
    scope = _scope_of(tree, line)
    loops = [n for n in walk(scope) if isinstance(n, (ast.For, ast.While)) and n.lineno < line <= (n.end_lineno or n.lineno)]
    if not loops:
        return None
    loop = max(loops, key=lambda n: n.lineno)
    stmt = next((
        s for s in walk(loop)
        if isinstance(s, ast.Assign) and s.lineno == line and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
    ), None)  # fmt: skip
    if stmt is None:
        return None
    target = stmt.targets[0].id
    bound = {n.id for s in (loop.target, *loop.body) if s is not None for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} if isinstance(loop, ast.For) else {
        n.id for s in loop.body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    bound |= {ast.unparse(n.target) for s in loop.body for n in walk(s) if isinstance(n, ast.AugAssign)}
    for name in dict.fromkeys(n.id for n in walk(stmt.value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)):
        if name in bound or name == target or not re.search(rf"(?:^|_){re.escape(target)}(?:_|$)", name):
            continue  # carried under a name made of the one it carries (`future_layer_1_delta` of `layer_1_delta`, `h_prev` of `h`), not a bias `b1` of zeros
        before = [
            s for s in walk(scope)
            if isinstance(s, ast.Assign) and s.lineno < loop.lineno and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)
        ]  # fmt: skip
        if not before:
            continue
        last = max(before, key=lambda s: s.lineno)
        value = last.value
        called = ast.unparse(value.func).rpartition(".")[2] if isinstance(value, ast.Call) else ""
        if called in ("zeros", "zeros_like") or isinstance(value, ast.Constant) and not isinstance(value.value, bool) and value.value == 0:
            return name, last.lineno, loop.lineno, line, target
    return None


def _programs_own(function: ast.expr) -> bool:
    """`rnn_step_backward`, `layer.backward`: not NumPy's (`np.dot`, `np.linalg.norm`)."""
    root = function
    while isinstance(root, ast.Attribute):
        root = root.value
    return not (isinstance(root, ast.Name) and root.id in ("np", "numpy") and root is not function)


def first_step_skipped(tree: ast.Module, line: int) -> tuple[int, str, str] | None:
    """(the loop's line, its variable, its header fixed) when `line` adds to a gradient (`dWx += x.T @ da`) in
    the body of a loop counting down over time steps that stops before the first one: `range(T - 1, 0, -1)`
    (fixed: `range(T - 1, -1, -1)`) or `reversed(range(1, T))` (`reversed(range(T))`), whose body reads step
    t's own values (`cache[t]`) and none of an earlier step's by `t - 1` (a list holding the initial state
    first, counted from 1 on purpose). Step 0's part of every gradient it adds to is left out."""
    scope = _scope_of(tree, line)
    loops = [
        n for n in walk(scope)
        if isinstance(n, ast.For) and isinstance(n.target, ast.Name) and n.body
        and n.body[0].lineno <= line <= (n.end_lineno or n.lineno)
    ]  # fmt: skip
    for loop in sorted(loops, key=lambda n: -n.lineno):  # the innermost first
        fixed = _from_the_first_step(loop.iter)
        if fixed is None:
            continue
        variable = loop.target.id  # type: ignore[union-attr]
        adds = any(isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and n.lineno <= line <= (n.end_lineno or n.lineno) for s in loop.body for n in walk(s))
        read = any(isinstance(n, ast.Name) and n.id == variable for s in loop.body for n in walk(s))
        earlier = any(
            isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and isinstance(n.left, ast.Name) and n.left.id == variable
            for s in loop.body for n in walk(s)
        )  # fmt: skip
        if adds and read and not earlier:
            return loop.lineno, variable, f"for {variable} in {ast.unparse(fixed)}:"
    return None


def _from_the_first_step(iterable: ast.expr) -> ast.expr | None:
    """`range(T - 1, -1, -1)` for `range(T - 1, 0, -1)`, `reversed(range(T))` for `reversed(range(1, T))`:
    the countdown over time steps that stops before step 0, made to reach it; None for any other."""
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name)):
        return None
    if iterable.func.id == "range" and len(iterable.args) == 3:
        start, stop, step = iterable.args
        down = (isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub) and isinstance(step.operand, ast.Constant) and step.operand.value == 1) or (
            isinstance(step, ast.Constant) and step.value == -1
        )
        last = isinstance(start, ast.BinOp) and isinstance(start.op, ast.Sub) and isinstance(start.right, ast.Constant) and start.right.value == 1
        if down and last and isinstance(stop, ast.Constant) and stop.value == 0:
            return ast.Call(func=iterable.func, args=[start, ast.UnaryOp(op=ast.USub(), operand=ast.Constant(1)), step], keywords=[])
    if iterable.func.id == "reversed" and len(iterable.args) == 1:
        inner = iterable.args[0]
        if (
            isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "range" and len(inner.args) == 2
            and isinstance(inner.args[0], ast.Constant) and inner.args[0].value == 1
        ):  # fmt: skip
            return ast.Call(func=iterable.func, args=[ast.Call(func=inner.func, args=[inner.args[1]], keywords=[])], keywords=[])
    return None


def _backwards(iterable: ast.expr) -> bool:
    """`reversed(range(T))`, `range(T - 1, -1, -1)`: a loop that runs from the last step to the first."""
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
        if iterable.func.id == "reversed":
            return True
        if iterable.func.id == "range" and len(iterable.args) == 3:
            step = iterable.args[2]
            return isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub)
    return False
