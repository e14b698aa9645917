"""The corrected line of a wrong gradient, written with the user's own names.

A gradient finding points at the line that computes the gradient (`dx = dout * (1.0 - self.out)`).
`gradient_fix` reads the class around it from the source, recognises the layer by its
forward (sigmoid, tanh, ReLU, leaky ReLU, affine, softmax with cross-entropy, a kept mask such as
dropout's, an embedding's row lookup) or the error by its pattern (a sign, a transpose, a missing
or extra division by the batch size, a sum over the wrong axis) and writes the line as it should
be, with the names the user chose: the upstream gradient's parameter (`dout`, `grad_output`), the
attribute forward keeps (`self.out`, `self.y`, `self.mask`), the batch size the function already
computes (`batch_size`, `self.t.shape[0]`). It returns None when it cannot say for sure; nothing
here runs user code.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

from backprop_doctor.static.tree import walk  # skips the elements of data literals

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class _Wrong:
    """What the gradient check measured: the pattern of the error and the parameter it is in."""

    pattern: str | None
    param: str | None


@dataclass
class _Site:
    """Where the wrong gradient is computed: the statement, its function and class."""

    statement: ast.Assign | ast.AugAssign | ast.Return
    function: Function
    cls: ast.ClassDef | None
    lines: list[str]

    @property
    def target(self) -> str | None:
        if isinstance(self.statement, ast.Assign) and len(self.statement.targets) == 1:
            return ast.unparse(self.statement.targets[0])
        return None

    @property
    def value(self) -> ast.expr | None:
        return self.statement.value

    @property
    def upstream(self) -> str:
        """The name of backward's upstream-gradient parameter (`dout`)."""
        args = [a.arg for a in self.function.args.args]
        if args and args[0] in ("self", "cls"):
            args = args[1:]
        return args[0] if args else "dout"

    @property
    def takes_upstream(self) -> bool:
        """Whether the function takes anything beyond its instance: a `backward(self)` that takes nothing
        returns a local derivative, which its caller multiplies by the upstream gradient."""
        args = [a.arg for a in self.function.args.posonlyargs + self.function.args.args]
        return bool(args[1:] if self.cls is not None else args) or bool(self.function.args.vararg)

    @property
    def indent(self) -> str:
        line = self.lines[self.statement.lineno - 1]
        return line[: len(line) - len(line.lstrip())]

    def write(self, expression: str) -> str:
        """The statement with `expression` as its value, as the user would write it (no indent)."""
        if isinstance(self.statement, ast.Return):
            return f"return {expression}"
        if isinstance(self.statement, ast.AugAssign):
            return f"{ast.unparse(self.statement.target)} = {expression}"
        return f"{self.target} = {expression}"


def gradient_fix(line: int | None, pattern: str | None, param: str | None, source: str, tree: ast.Module) -> str | None:
    """The corrected statement at `line` of a gradient that is wrong by `pattern` (`sign-flipped`,
    `transposed`, ... as `gradcheck` names it) for the parameter `param` (`x` for the input), or None."""
    if line is None:
        return None
    site = _site(tree, source, line)
    if site is None or site.value is None:
        return None
    wrong = _Wrong(pattern, param)
    for make in (_by_layer, _by_pattern):  # the layer's own derivative first: it is certain
        fixed = make(wrong, site)
        if fixed is not None and fixed.strip() != ast.unparse(site.statement).strip():
            return fixed
    return None


# --------------------------------------------------------------------------- finding the site


def _site(tree: ast.Module, source: str, line: int) -> _Site | None:
    lines = source.split("\n")
    for cls, function in _functions(tree):
        if not function.lineno <= line <= (function.end_lineno or function.lineno):
            continue
        for node in walk(function):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.Return)) and node.lineno == line:
                return _Site(node, function, cls, lines)
    return None


def _functions(tree: ast.Module) -> list[tuple[ast.ClassDef | None, Function]]:
    found: list[tuple[ast.ClassDef | None, Function]] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            found += [(node, f) for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((None, node))
    return found


def _method(cls: ast.ClassDef | None, name: str) -> Function | None:
    if cls is None:
        return None
    return next((f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == name), None)


def _self_attribute(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _calls(node: ast.AST, *names: str) -> bool:
    """Whether `node` calls one of `names` (`np.exp`, `exp`, `math.exp` all count as "exp")."""
    for sub in walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in names:
                return True
    return False


def _stored(forward: Function) -> dict[str, ast.expr]:
    """`self.<attr>` -> the expression forward assigns to it, following one local name (`self.out = out`)."""
    local: dict[str, ast.expr] = {}
    stored: dict[str, ast.expr] = {}
    for node in walk(forward):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                local[target.id] = node.value
            attr = _self_attribute(target)
            if attr is not None:
                value = node.value
                if isinstance(value, ast.Name) and value.id in local:
                    value = local[value.id]
                stored[attr] = value
    return stored


def _returned(forward: Function) -> ast.expr | None:
    local: dict[str, ast.expr] = {}
    for node in walk(forward):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            local[node.targets[0].id] = node.value
    for node in walk(forward):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            return local.get(value.id, value) if isinstance(value, ast.Name) else value
    return None


# --------------------------------------------------------------------------- fixes by pattern


def _batch_size(site: _Site) -> str:
    """How the user's own code spells the batch size: a local set from `.shape[0]` before the
    line (`batch_size = self.t.shape[0]`), else the shape of what forward kept, else of `dout`."""
    for node in walk(site.function):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.lineno < site.statement.lineno
            and ast.unparse(node.value).endswith(".shape[0]")
        ):
            return node.targets[0].id
    forward = _method(site.cls, "forward")
    stored = _stored(forward) if forward is not None else {}
    for kept in ("t", "x"):
        if kept in stored:
            return f"self.{kept}.shape[0]"
    return f"{site.upstream}.shape[0]"


def _by_pattern(wrong: _Wrong, site: _Site) -> str | None:
    if isinstance(site.statement, ast.AugAssign):
        return None  # `dx[rows, y] -= 1` changes part of what earlier lines built: no one line fixes the whole
    value = site.value
    assert value is not None
    pattern = wrong.pattern
    if pattern == "sign-flipped":
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
            return site.write(ast.unparse(value.operand))
        return site.write(f"-({ast.unparse(value)})")
    if pattern == "scaled-by-batch-size":
        return site.write(f"{_parenthesised(value)} / {_batch_size(site)}")
    if pattern == "divided-by-batch-size":
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div):
            return site.write(ast.unparse(value.left))
        return site.write(f"{_parenthesised(value)} * {_batch_size(site)}")
    if pattern == "transposed":
        call = value if isinstance(value, ast.Call) and _calls(value, "dot", "matmul") else None
        if call is not None and len(call.args) == 2:
            a, b = (_transposed(arg) for arg in call.args)
            return site.write(f"{ast.unparse(call.func)}({b}, {a})")
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.MatMult):
            return site.write(f"{_transposed(value.right)} @ {_transposed(value.left)}")
        return site.write(f"({ast.unparse(value)}).T")
    if pattern == "summed-over-wrong-axis":
        text = ast.unparse(value)
        for wrong in ("axis=1", "axis=-1"):
            if wrong in text:
                return site.write(text.replace(wrong, "axis=0"))
    return None


def _parenthesised(node: ast.expr) -> str:
    text = ast.unparse(node)
    simple = isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div))
    )
    return text if simple else f"({text})"


def _transposed(node: ast.expr) -> str:
    """`node.T`, written without a double transpose."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return ast.unparse(node.value)
    text = ast.unparse(node)
    return f"{text}.T" if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) else f"({text}).T"


# --------------------------------------------------------------------------- fixes by layer


def takes_no_upstream(tree: ast.Module, source: str, line: int | None) -> bool:
    """The statement at `line` is in a method that takes nothing but its instance (`backward(self)`):
    what it returns is a local derivative f'(x), not a gradient of the loss."""
    site = _site(tree, source, line) if line is not None else None
    return site is not None and site.cls is not None and not site.takes_upstream


def _by_layer(wrong: _Wrong, site: _Site) -> str | None:
    fixed = _layer_derivative(wrong, site)
    if fixed is None or site.takes_upstream:
        return fixed
    # `backward(self)` returns the local derivative alone: the upstream gradient is its caller's to multiply by
    prefix = site.write(f"{site.upstream} * ")
    rest = fixed[len(prefix):]
    return site.write(rest) if fixed.startswith(prefix) and site.upstream not in rest else None


def _layer_derivative(wrong: _Wrong, site: _Site) -> str | None:
    forward = _method(site.cls, "forward")
    if forward is None or site.function.name != "backward":
        return None
    stored = _stored(forward)
    out = _returned(forward)
    dout = site.upstream
    if any(
        isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno < site.statement.lineno
        and any(isinstance(t, ast.Name) and t.id == dout for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
        for n in walk(site.function)
    ):  # fmt: skip
        return None  # `grad = grad * (1 - self.out)` before: the name no longer holds the upstream gradient these fixes are written with
    kept_output = _self_attribute(out) if out is not None else None
    if kept_output is not None:
        out = stored.get(kept_output)
    else:
        kept_output = next((a for a, v in stored.items() if out is not None and ast.dump(v) == ast.dump(out)), None)
    param = wrong.param or "x"

    if out is not None and _is_sigmoid(out) and kept_output and param == "x":
        return site.write(f"{dout} * (1.0 - self.{kept_output}) * self.{kept_output}")
    if out is not None and _calls(out, "tanh") and kept_output and param == "x":
        return site.write(f"{dout} * (1.0 - self.{kept_output} ** 2)")
    axis = _softmax_axis(forward, out) if kept_output and param == "x" else None
    if axis is not None:
        y = f"self.{kept_output}"
        return site.write(f"{y} * ({dout} - np.sum({dout} * {y}, axis={axis}, keepdims=True))")
    mask = next((a for a, v in stored.items() if isinstance(v, ast.Compare)), None)
    if mask is not None and param == "x" and _is_relu_mask(stored[mask]):
        return site.write(f"np.where(self.{mask}, 0, {dout})")
    if out is not None and _calls(out, "dot", "matmul") or (isinstance(out, ast.BinOp) and _has_matmul(out)):
        return _affine(site, stored, out, param, dout, forward)
    factor = _kept_factor(forward, stored)
    if factor is not None and param == "x":
        return site.write(f"{dout} * self.{factor}")
    slope = _leaky_slope(forward, stored)
    if slope is not None and param == "x":
        return site.write(f"{dout} * np.where({slope[0]}, 1.0, {slope[1]})")
    off = _relu_zeroed_where_on(site, forward)
    if off is not None and param == "x":
        return off
    rows = _rows_taken(site, forward, stored)
    if rows is not None and param != "x":
        return f"np.add.at({rows[0]}, {rows[1]}, {ast.unparse(site.value)})"
    return None


def _relu_zeroed_where_on(site: _Site, forward: Function) -> str | None:
    """nnfs's `self.dinputs[self.inputs > 0] = 0` after a forward of `np.maximum(0, inputs)`: the
    gradient is zeroed where the unit is on instead of where it is off; the same line with `<= 0`."""
    target = site.statement.targets[0] if isinstance(site.statement, ast.Assign) and len(site.statement.targets) == 1 else None
    value = site.statement.value
    condition = target.slice if isinstance(target, ast.Subscript) else None
    if not (isinstance(condition, ast.Compare) and len(condition.ops) == 1 and isinstance(condition.ops[0], (ast.Gt, ast.GtE))):
        return None
    if not (isinstance(value, ast.Constant) and value.value == 0 and isinstance(condition.comparators[0], ast.Constant) and condition.comparators[0].value == 0):
        return None
    relu = any(isinstance(n, ast.Call) and _calls(n, "maximum") and any(isinstance(a, ast.Constant) and a.value == 0 for a in n.args) for n in walk(forward))
    if not relu:
        return None
    return f"{ast.unparse(target.value)}[{ast.unparse(condition.left)} <= 0] = 0"


def _rows_taken(site: _Site, forward: Function, stored: dict[str, ast.expr]) -> tuple[str, str] | None:
    """`return W[idx]` with `self.idx = idx` kept, and backward's `dW[self.idx] = dout` (or `+=`): an
    embedding, whose repeated ids must add their gradients, which a fancy-index write does not do;
    (the gradient array, the kept ids)."""
    inputs = [a.arg for a in forward.args.args if a.arg not in ("self", "cls")]
    kept = next((a for a, v in stored.items() if inputs and isinstance(v, ast.Name) and v.id == inputs[0]), None)
    target = site.statement.targets[0] if isinstance(site.statement, ast.Assign) and len(site.statement.targets) == 1 else getattr(site.statement, "target", None)
    if kept is None or not isinstance(target, ast.Subscript) or ast.unparse(target.slice) != f"self.{kept}":
        return None
    taken = any(
        isinstance(node, ast.Return) and isinstance(node.value, ast.Subscript)
        and isinstance(node.value.slice, ast.Name) and node.value.slice.id == inputs[0]
        for node in walk(forward)
    )  # fmt: skip
    return (ast.unparse(target.value), f"self.{kept}") if taken else None


def _leaky_slope(forward: Function, stored: dict[str, ast.expr]) -> tuple[str, str] | None:
    """`np.where(x > 0, x, self.alpha * x)` with `self.x = x` kept: a leaky ReLU, whose slope is 1 where
    the condition holds and `self.alpha` elsewhere; (the condition on the kept input, the other slope)."""
    inputs = [a.arg for a in forward.args.args if a.arg not in ("self", "cls")]
    kept = next((a for a, v in stored.items() if inputs and isinstance(v, ast.Name) and v.id == inputs[0]), None)
    if kept is None:
        return None
    for node in walk(forward):
        call = node.value if isinstance(node, ast.Return) else None
        if not (isinstance(call, ast.Call) and _calls(call, "where") and len(call.args) == 3):
            continue
        condition, on, off = call.args
        if not (isinstance(on, ast.Name) and on.id == inputs[0] and isinstance(off, ast.BinOp) and isinstance(off.op, ast.Mult)):
            continue
        factors = [side for side in (off.left, off.right) if not (isinstance(side, ast.Name) and side.id == inputs[0])]
        if len(factors) != 1 or any(isinstance(n, ast.Name) and n.id == inputs[0] for n in walk(factors[0])):
            continue
        return _renamed(condition, inputs[0], f"self.{kept}"), ast.unparse(factors[0])
    return None


def _renamed(node: ast.expr, name: str, to: str) -> str:
    """`node` as source, with the plain name `name` written as `to` (`x > 0` -> `self.x > 0`)."""
    class Rename(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.expr:
            return ast.copy_location(ast.parse(to, mode="eval").body, n) if n.id == name else n

    return ast.unparse(Rename().visit(copy.deepcopy(node)))


def _kept_factor(forward: Function, stored: dict[str, ast.expr]) -> str | None:
    """`return x * self.mask` (in the branch that trains, when there is one): forward multiplies its
    input by an array it kept (dropout's mask, a fixed gate), so dx is the upstream gradient times
    that same array, whatever made it."""
    inputs = [a.arg for a in forward.args.args if a.arg not in ("self", "cls")]
    for node in walk(forward):
        out = node.value if isinstance(node, ast.Return) else None
        if not inputs or not (isinstance(out, ast.BinOp) and isinstance(out.op, ast.Mult)):
            continue
        sides = (out.left, out.right)
        if any(isinstance(side, ast.Name) and side.id == inputs[0] for side in sides):
            kept = next((a for side in sides if (a := _self_attribute(side)) is not None and a in stored), None)
            if kept is not None:
                return kept
    return None


def _softmax_axis(forward: Function, out: ast.expr | None) -> str | None:
    """The axis of the softmax a one-input forward returns (`e / e.sum(axis=1, keepdims=True)` with
    `e = np.exp(...)`), as written; None for anything else, a loss layer's forward (it takes the
    targets too) among them."""
    positional = forward.args.args[: len(forward.args.args) - len(forward.args.defaults)]
    inputs = [a.arg for a in positional if a.arg not in ("self", "cls")]  # `train=True` is no input
    if len(inputs) != 1 or not (isinstance(out, ast.BinOp) and isinstance(out.op, ast.Div)):
        return None
    local = {n.targets[0].id: n.value for n in walk(forward) if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)}
    numerator = local.get(out.left.id, out.left) if isinstance(out.left, ast.Name) else out.left
    sums = [n for n in walk(out.right) if isinstance(n, ast.Call) and _calls(n, "sum")]
    if not (_calls(numerator, "exp") and sums):
        return None
    axis = next((k.value for k in sums[0].keywords if k.arg == "axis"), None)
    return ast.unparse(axis) if axis is not None else None


def _is_sigmoid(node: ast.expr) -> bool:
    """`1 / (1 + np.exp(-x))`, or a call to a function named sigmoid."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name.lower() in ("sigmoid", "expit")
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _calls(node.right, "exp")


def _is_relu_mask(node: ast.Compare) -> bool:
    """`x <= 0` (the mask of the units that are off)."""
    return (
        len(node.ops) == 1
        and isinstance(node.ops[0], (ast.LtE, ast.Lt))
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value == 0
    )


def _has_matmul(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.MatMult) for sub in walk(node))


def _affine(site: _Site, stored: dict[str, ast.expr], out: ast.expr, param: str, dout: str, forward: Function) -> str | None:
    """`out = x·W + b`: dx = dout·Wᵀ, dW = xᵀ·dout, db = Σ over the batch of dout. Only where every `self.<name>`
    the output reads is set outside forward (a parameter, not `self.v` of `self.q, self.k, self.v = ...`): attention's
    `self.a @ self.v` multiplies two activations, and neither derivative is an affine layer's."""
    set_here = {
        a for node in walk(forward) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        for sub in walk(target) if (a := _self_attribute(sub)) is not None
    }  # fmt: skip
    found = [
        (sub.lineno, sub.col_offset, a)
        for sub in walk(out)
        if isinstance(sub, ast.Attribute) and (a := _self_attribute(sub)) is not None and a not in stored
    ]
    if any(a in set_here for _, _, a in found):
        return None
    weights = [a for _, _, a in sorted(found)]  # in reading order: x·W first, then + b
    kept_input = next((a for a, v in stored.items() if isinstance(v, ast.Name)), None)
    if not weights:
        return None
    weight, bias = weights[0], weights[1] if len(weights) > 1 else None
    if param == "x":
        return site.write(f"np.dot({dout}, self.{weight}.T)")
    if kept_input is None:
        return None
    if param == weight:
        return site.write(f"np.dot(self.{kept_input}.T, {dout})")
    if bias is not None and param == bias:
        return site.write(f"np.sum({dout}, axis=0)")
    return None
