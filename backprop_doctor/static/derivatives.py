"""An activation's derivative helper given the wrong side of the activation.

Hand-written networks keep the derivative of an activation in a helper of its own, and the helper
is written one of two ways: from the activation's input (`sigmoid_prime(z)` computes
`sigmoid(z) * (1 - sigmoid(z))`) or from its output (`sigmoid_derivative(s)` computes
`s * (1 - s)`). Calling one with what the other expects is among the commonest bugs of such
programs, and a gradient check only sees a gradient that is "somewhat off". `misapplied` reads a
statement of the backward pass and names the call, what it is given, and what to write instead;
nothing here runs user code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.definitions import _child_blocks
from backprop_doctor.static.steps import _changed, _scope_of
from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef

_SQUASHING = {"exp": "sigmoid", "tanh": "tanh"}  # what an activation's body computes with -> its kind


@dataclass(frozen=True)
class Misapplied:
    """`sigmoid_prime(o)` at `line`: a derivative of the activation's input given its output."""

    call: str  # "sigmoid_prime(o)"
    helper: str  # "sigmoid_prime"
    given: str  # "o"
    given_line: int  # where `o` is assigned
    wants: str  # "input" or "output": what the helper computes from
    activation: str  # "sigmoid", "tanh"
    fix: str  # "o * (1 - o)", or "sigmoid_derivative(a)"
    line: int  # the statement holding the call


def misapplied(tree: ast.Module, line: int) -> Misapplied | None:
    """The derivative helper call in the statement at `line` given the wrong side of its activation."""
    functions = _functions(tree)
    kinds = {name: kind for name, f in functions.items() if (kind := _activation_kind(f, functions)) is not None}
    statement = next((n for n in walk(tree) if isinstance(n, ast.stmt) and n.lineno == line and not isinstance(n, (ast.FunctionDef, ast.ClassDef))), None)
    if statement is None:
        return None
    scope = _scope_of(tree, line)
    # a loop or a branch starting at `line`: only what its own line holds, its body's statements have lines of their own
    compound = isinstance(statement, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.Try))
    for call in (n for n in walk(statement) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and len(n.args) == 1):
        helper = functions.get(call.func.id)
        argument = call.args[0]
        if helper is None or call.func.id in kinds or compound and call.lineno != line:
            continue
        if not isinstance(argument, ast.Name):
            held = _held_wrong_side(tree, line, call, helper, argument, kinds) or _listed_output(scope, line, call, helper, argument, kinds)
            if held is not None:
                return held
            continue
        wants = _computes_from(helper, kinds)
        made = _last_assignment(scope, argument.id, line)
        if wants is None or made is None:
            continue
        activation, side = _side(made.value, kinds)
        kind = wants[1]
        if wants[0] == "input" and side == "output" and activation == kind:
            fix = f"{argument.id} * (1 - {argument.id})" if kind == "sigmoid" else f"1 - {argument.id} ** 2"
            return Misapplied(ast.unparse(call), helper.name, argument.id, made.lineno, "input", kind, fix, line)
        if wants[0] == "output" and side == "input":
            output = _output_of(scope, argument.id, line, kinds, kind)
            if output is not None:
                return Misapplied(ast.unparse(call), helper.name, argument.id, made.lineno, "output", kind, f"{helper.name}({output})", line)
    return None if compound else inline_slope_of_input(tree, statement)


def inline_slope_of_input(tree: ast.Module, statement: ast.stmt) -> Misapplied | None:
    """A derivative written out in the statement from the activation's input where its output belongs:
    `1 - self.z1 ** 2` beside `self.layer1 = tanh(self.z1)`, `z * (1 - z)` beside `a = sigmoid(z)`.
    The helper of the `Misapplied` is empty: no function is called."""
    value = getattr(statement, "value", None)
    if value is None:
        return None
    inputs = {a.given: a for a in activation_outputs(tree).values() if a.kind in ("tanh", "sigmoid") and a.given != a.output}
    if not inputs:
        return None
    for node in walk(value):
        given, kind = None, None
        base = _one_minus(node) if isinstance(node, ast.BinOp) else None
        if base is not None and isinstance(base, ast.BinOp) and isinstance(base.op, ast.Pow) and isinstance(base.right, ast.Constant) and base.right.value == 2:
            given, kind = ast.unparse(base.left), "tanh"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for one, other in ((node.left, node.right), (node.right, node.left)):
                inner = _one_minus(one)
                if inner is not None and ast.dump(inner) == ast.dump(other):
                    given, kind = ast.unparse(other), "sigmoid"
        applied = inputs.get(given) if given is not None else None
        if applied is None or applied.kind != kind:
            continue
        made = [n.lineno for n in walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1 and ast.unparse(n.targets[0]) == given]
        return Misapplied(ast.unparse(node), "", given, min(made) if made else statement.lineno, "output", kind, applied.derivative, statement.lineno)
    return None


def _held_wrong_side(tree: ast.Module, line: int, call: ast.Call, helper: Function, argument: ast.expr, kinds: dict[str, str]) -> Misapplied | None:
    """`sigmoid_derivative(self.zs[-1])`, the helper written from the activation's output given a list the
    class fills with the activation's inputs (`self.zs.append(z)` after `z = a @ W + b`, `a = sigmoid(z)`),
    while another of its lists holds the outputs (`self.activations.append(a)`): the fix reads that one."""
    wants = _computes_from(helper, kinds)
    attribute = _self_attribute(argument)
    if wants is None or wants[0] != "output" or attribute is None:
        return None
    owner = next((c for c in walk(tree) if isinstance(c, ast.ClassDef) and c.lineno <= line <= (c.end_lineno or c.lineno)), None)
    if owner is None:
        return None
    stored = _stored_sides(owner, kinds)
    sides = stored.get(attribute, set())
    if sides != {(None, "input")}:
        return None  # only what the activation is applied to, never its output, is kept there
    outputs = [name for name, held in stored.items() if held == {(wants[1], "output")}]
    if len(outputs) != 1:
        return None
    given_line = min((n.lineno for n in walk(owner) if _stores_into(n, attribute) and not _emptied(n)), default=line)
    text = ast.unparse(argument)
    fixed = ast.unparse(call).replace(f"self.{attribute}", f"self.{outputs[0]}", 1)
    return Misapplied(ast.unparse(call), helper.name, text, given_line, "output", wants[1], fixed, line)


def _listed_output(scope: ast.AST, line: int, call: ast.Call, helper: Function, argument: ast.expr, kinds: dict[str, str]) -> Misapplied | None:
    """`sigmoid_prime(acts[k])`, the helper written from the activation's input given an entry of a local list
    that holds the activation's outputs (`_listed_outputs`: `acts = [x]`, then `acts.append(sigmoid(z))`)."""
    wants = _computes_from(helper, kinds)
    if wants is None or wants[0] != "input" or not (isinstance(argument, ast.Subscript) and isinstance(argument.value, ast.Name)):
        return None
    listed = _listed_outputs(scope, kinds).get(argument.value.id)
    if listed is None or listed[0] != wants[1]:
        return None
    text = ast.unparse(argument)
    fix = f"{text} * (1 - {text})" if wants[1] == "sigmoid" else f"1 - {text} ** 2"
    return Misapplied(ast.unparse(call), helper.name, text, listed[1], "input", wants[1], fix, line)


def _appended(scope: ast.AST, kinds: dict[str, str]) -> list[tuple[str, str | None, str, int]]:
    """(list, kind, side, line) for each `name.append(value)` in `scope`: `_side` of the value appended, a name
    read at its last assignment before the append (`acts.append(a)` after `a = sigmoid(z)`), a conditional
    value at its branch that is an activation's output (`np.tanh(z) if i < last else z`: the output layer's is
    no hidden unit's); a name the scope never assigns (a parameter, the network's input) has no side."""
    found = []
    for node in walk(scope):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name) and len(node.args) == 1):  # fmt: skip
            continue
        item = node.args[0]
        if isinstance(item, ast.Name):
            made = _last_assignment(scope, item.id, node.lineno)
            if made is None:
                found.append((node.func.value.id, None, "", node.lineno))  # a parameter: the network's input
                continue
            item = made.value
        if isinstance(item, ast.IfExp):
            item = next((b for b in (item.body, item.orelse) if _side(b, kinds)[1] == "output"), item)
        kind, side = _side(item, kinds)
        found.append((node.func.value.id, kind, side, node.lineno))
    return found


def _listed_outputs(scope: ast.AST, kinds: dict[str, str]) -> dict[str, tuple[str, int]]:
    """The local lists of `scope` that hold an activation's outputs: list -> (the activation's kind, the line
    of its first append of one).

    A list holds them when what it is appended is that activation's output (`acts.append(sigmoid(z))`, or
    `acts.append(a)` after `a = sigmoid(z)`), and nothing appended to it is an activation's input or the
    output of another kind: a list of both sides (`cache.append(z)`, `cache.append(a)`) is read by indices
    this cannot tell apart. A conditional append is the layer's output either way (`sigmoid(z) if i < n
    else softmax(z)`: the hidden layers' sigmoid, the last layer's own output), and a value of no known
    side (the network's input `x`, appended or the list's first element, `acts = [x]`) is what layer 0
    outputs, which no derivative helper is asked about. Every append of the scope counts, before the line
    that reads the list or after it: a loop appends after, in the text, what its next pass reads."""
    sides: dict[str, set[tuple[str | None, str]]] = {}
    first: dict[str, int] = {}
    for name, kind, side, line in _appended(scope, kinds):
        if side:
            sides.setdefault(name, set()).add((kind, side))
        if side == "output" and kind is not None:
            first[name] = min(first.get(name, line), line)
    return {name: (kind, first[name]) for name, held in sides.items() if len(held) == 1 and (kind := next(iter(held))[0]) is not None and name in first}


def _self_attribute(node: ast.expr) -> str | None:
    """`zs` of `self.zs`, `self.zs[-1]`, `self.zs[i]`."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _stores_into(node: ast.AST, attribute: str) -> bool:
    """`self.zs.append(...)`, `self.zs = ...`, `self.zs[i] = ...`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append":
        return _self_attribute(node.func.value) == attribute
    if isinstance(node, ast.Assign):
        return any(_self_attribute(t) == attribute for t in node.targets)
    return False


def _emptied(node: ast.AST) -> bool:
    """`self.zs = []`: a list started empty, which keeps nothing yet."""
    return isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)) and not node.value.elts


def _stored_sides(owner: ast.ClassDef, kinds: dict[str, str]) -> dict[str, set[tuple[str | None, str]]]:
    """attribute -> the sides of an activation the values a class's methods keep in it are (`_side`), each
    value followed to the assignment of its name in the method (`self.zs.append(z)` after `z = a @ W + b`);
    a value it cannot tell (an argument, `[]`) is left out, and the element of a list literal is its value."""
    found: dict[str, set[tuple[str | None, str]]] = {}
    for method in (m for m in owner.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for node in walk(method):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append" and len(node.args) == 1:
                attribute, values = _self_attribute(node.func.value), [node.args[0]]
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and _self_attribute(node.targets[0]) is not None:
                attribute = _self_attribute(node.targets[0])
                values = list(node.value.elts) if isinstance(node.value, (ast.List, ast.Tuple)) and isinstance(node.targets[0], ast.Attribute) else [node.value]
            else:
                continue
            for value in values:
                if isinstance(value, ast.Name):
                    made = _last_assignment(method, value.id, node.lineno)
                    if made is None:
                        continue
                    value = made.value
                side = _side(value, kinds)
                if side[1]:
                    found.setdefault(attribute, set()).add(side)  # type: ignore[arg-type]
    return found


def _activation_kind(function: Function, functions: dict[str, Function]) -> str | None:
    """"sigmoid" for a one-argument function returning `1 / (1 + np.exp(-x))`, "tanh" for `np.tanh(x)`."""
    returned = [n.value for n in walk(function) if isinstance(n, ast.Return) and n.value is not None]
    if len(function.args.args) != 1 or len(returned) != 1:
        return None
    calls = {ast.unparse(n.func).rpartition(".")[2] for n in walk(returned[0]) if isinstance(n, ast.Call)}
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions for n in walk(returned[0])):
        return None  # built from another helper: a derivative, not an activation
    parameter = function.args.args[0].arg
    of_parameter = any(  # `np.exp(-x)` of its own argument, not `grad / (1 + np.exp(-self.x))` (a softplus's backward)
        isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "exp"
        and any(isinstance(m, ast.Name) and m.id == parameter for a in n.args for m in walk(a))
        for n in walk(returned[0])
    )  # fmt: skip
    if "exp" in calls and of_parameter and isinstance(returned[0], ast.BinOp) and isinstance(returned[0].op, ast.Div):
        return "sigmoid"
    if calls == {"tanh"} and isinstance(returned[0], ast.Call):
        return "tanh"
    if calls == {"expit"} and isinstance(returned[0], ast.Call):
        return "sigmoid"  # `scipy.special.expit(x)`
    return None


def _computes_from(helper: Function, kinds: dict[str, str]) -> tuple[str, str] | None:
    """("input", kind) for a derivative that applies the activation to its argument itself
    (`sigmoid(x) * (1 - sigmoid(x))`, `1 - np.tanh(x) ** 2`); ("output", kind) for one that is a
    polynomial of its argument (`s * (1 - s)` is sigmoid's, `1 - y ** 2` tanh's)."""
    if len(helper.args.args) != 1:
        return None
    parameter = helper.args.args[0].arg
    returned = [n.value for n in walk(helper) if isinstance(n, ast.Return) and n.value is not None]
    if len(returned) != 1:
        return None
    value = returned[0]
    applied = {kinds.get(n.func.id) if isinstance(n.func, ast.Name) else "tanh" if ast.unparse(n.func).endswith("tanh") else None
               for n in walk(value) if isinstance(n, ast.Call) and n.args and ast.unparse(n.args[0]) == parameter}
    applied.discard(None)
    if len(applied) == 1:
        return "input", applied.pop()
    if any(isinstance(n, ast.Call) for n in walk(value)):
        return None
    text = ast.unparse(value).replace(" ", "")
    # `s = sigmoid(z)` first, then `return s * (1 - s)`: the activation applied to its argument, through a local
    local = {
        n.targets[0].id: kind for n in walk(helper)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Call)
        and n.value.args and ast.unparse(n.value.args[0]) == parameter
        and (kind := kinds.get(n.value.func.id) if isinstance(n.value.func, ast.Name) else "tanh" if ast.unparse(n.value.func).endswith("tanh") else None)
    }  # fmt: skip
    for p, side in ((parameter, "output"), *((name, "input") for name in local)):
        if text in (f"{p}*(1-{p})", f"(1-{p})*{p}", f"{p}*(1.0-{p})", f"(1.0-{p})*{p}") and local.get(p, "sigmoid") == "sigmoid":
            return side, "sigmoid"
        if text in (f"1-{p}**2", f"1.0-{p}**2", f"1-{p}*{p}", f"1.0-{p}*{p}", f"1-np.square({p})") and local.get(p, "tanh") == "tanh":
            return side, "tanh"
    return None


def _side(value: ast.expr, kinds: dict[str, str]) -> tuple[str | None, str]:
    """(kind, "output") for `sigmoid(z)` / `np.tanh(z)`; (None, "input") for anything else made by
    arithmetic (`X @ W1 + b1`); (None, "") when it cannot tell."""
    if isinstance(value, ast.Call):
        name = value.func.id if isinstance(value.func, ast.Name) else ast.unparse(value.func).rpartition(".")[2]
        if name in kinds:
            return kinds[name], "output"
        if name == "tanh":
            return "tanh", "output"
        if name in ("dot", "matmul"):
            return None, "input"
        return None, ""
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.MatMult, ast.Add)):
        return None, "input"
    return None, ""


def _output_of(scope: ast.AST, name: str, before: int, kinds: dict[str, str], kind: str) -> str | None:
    """The variable the activation `kind` made from `name` (`a1` of `a1 = sigmoid(z1)`), before `before`."""
    for node in walk(scope):
        if isinstance(node, ast.Assign) and node.lineno < before and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Name) and value.args[0].id == name:
                made, side = _side(value, kinds)
                if side == "output" and made == kind:
                    return node.targets[0].id
    return None


def _last_assignment(scope: ast.AST, name: str, before: int) -> ast.Assign | None:
    found = [n for n in walk(scope) if isinstance(n, ast.Assign) and n.lineno < before and len(n.targets) == 1
             and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name]
    return max(found, key=lambda n: n.lineno) if found else None



@dataclass(frozen=True)
class Reapplied:
    """`1 - np.tanh(a1) ** 2` at `line` with `a1 = np.tanh(z1)`: the activation applied again to its own output."""

    activation: str  # "tanh", "sigmoid"
    call: str  # "np.tanh(a1)"
    given: str  # "a1"
    given_line: int
    fix: str  # "1 - a1 ** 2"


def reapplied(tree: ast.Module, line: int) -> Reapplied | None:
    """An activation called, in the statement at `line`, on a name last bound to that same activation's
    output: a derivative written from the input (`1 - np.tanh(z) ** 2`) handed the output instead."""
    functions = _functions(tree)
    kinds = {name: kind for name, f in functions.items() if (kind := _activation_kind(f, functions)) is not None}
    statement = next((n for n in walk(tree) if isinstance(n, ast.stmt) and n.lineno == line and not isinstance(n, (ast.FunctionDef, ast.ClassDef))), None)
    if statement is None:
        return None
    scope = _scope_of(tree, line)
    for call in (n for n in walk(statement) if isinstance(n, ast.Call) and len(n.args) == 1 and isinstance(n.args[0], ast.Name)):
        kind, side = _side(call, kinds)
        if side != "output" or kind not in ("tanh", "sigmoid"):
            continue
        given = call.args[0].id  # type: ignore[attr-defined]
        made = _last_assignment(scope, given, line)
        if made is not None and _side(made.value, kinds) == (kind, "output"):
            at = made.lineno
        elif (origin := _value_origin(tree, scope, given, line)) is not None and _side(origin[0], kinds) == (kind, "output"):
            at = origin[1]  # `a1` handed in, or read from a cache, made by the forward function
        else:
            continue
        fix = f"1 - {given} ** 2" if kind == "tanh" else f"{given} * (1 - {given})"
        return Reapplied(kind, ast.unparse(call), given, at, fix)
    return None


def reapplied_behind(tree: ast.Module, line: int, deeper: bool = False) -> tuple[int, Reapplied] | None:
    """(its line, what it finds) of the one statement of the function holding `line`, before it, that the
    statement at `line` is computed from and that `reapplied` finds (`dz1 = da1 * (1 - np.tanh(a1) ** 2)`
    behind `dW1 = X.T @ dz1`, or `return {"W1": X.T @ dZ1, ...}`, or in the function a call there returns from,
    `grads = gradients(...)`): where a parameter's wrong gradient goes wrong."""
    from backprop_doctor.static.writes import made_from

    scope = _scope_of(tree, line)
    statement = next((n for n in walk(scope) if isinstance(n, (ast.Assign, ast.AugAssign, ast.Return)) and n.lineno == line), None)
    if statement is None or statement.value is None:
        return None
    nested = _nested(scope)
    assignments = [n for n in walk(scope) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno <= line and id(n) not in nested]
    needed = made_from([n for n in assignments if n.lineno < line], {n.id for n in walk(statement.value) if isinstance(n, ast.Name)})
    found = []
    for node in assignments:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.lineno < line and any(isinstance(t, ast.Name) and t.id in needed for target in targets for t in walk(target)):
            if (again := reapplied(tree, node.lineno)) is not None:
                found.append((node.lineno, again))
    if not found and isinstance(statement.value, ast.Call) and isinstance(statement.value.func, ast.Name) and not deeper:
        function = _functions(tree).get(statement.value.func.id)  # `grads = gradients(...)`: the function's own return
        returns = [n for n in walk(function) if isinstance(n, ast.Return) and n.value is not None] if function is not None else []
        return reapplied_behind(tree, returns[0].lineno, deeper=True) if len(returns) == 1 else None
    return found[0] if len({at for at, _ in found}) == 1 else None


_ORIGIN_DEPTH = 6


def _nested(scope: ast.AST) -> set[int]:
    """The nodes of the functions and classes defined inside `scope` (the module's functions, for the module):
    statements that run in a scope of their own."""
    return {
        id(n) for d in walk(scope) if d is not scope and isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        for n in walk(d)
    }  # fmt: skip


def _value_origin(tree: ast.Module, scope: ast.AST, name: str, before: int, depth: int = 0) -> tuple[ast.expr, int] | None:
    """(the expression, its line) that made the value `name` holds at line `before` of `scope`, followed
    through the file's own functions: a parameter to the argument its one caller hands (`backward(p, X, y,
    a1, out)`), an unpacked call to the function's returned tuple (`a1, out = forward(p, X)` with `return
    a1, out`), an item of a dict to the dict's literal (`a1 = cache["A1"]` with `cache = {"A1": A1}`)."""
    if depth > _ORIGIN_DEPTH:
        return None
    nested = _nested(scope)
    bound = [
        n for n in walk(scope)
        if isinstance(n, ast.Assign) and n.lineno < before and len(n.targets) == 1
        and any(isinstance(t, ast.Name) and t.id == name for t in walk(n.targets[0])) and id(n) not in nested
    ]  # fmt: skip
    if bound:
        made = max(bound, key=lambda n: n.lineno)
        target, value = made.targets[0], made.value
        if isinstance(target, ast.Name):
            return _expression_origin(tree, scope, value, made.lineno, depth)
        if isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts):
            position = next(i for i, t in enumerate(target.elts) if t.id == name)  # type: ignore[attr-defined]
            if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
                return _expression_origin(tree, scope, value.elts[position], made.lineno, depth)
            return _returned(tree, value, position, depth)
        return None
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _argument_origin(tree, scope, name, depth)
    return None


def _expression_origin(tree: ast.Module, scope: ast.AST, value: ast.expr, line: int, depth: int) -> tuple[ast.expr, int] | None:
    if isinstance(value, ast.Name):
        return _value_origin(tree, scope, value.id, line, depth + 1)
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and isinstance(value.slice, ast.Constant):
        held = _value_origin(tree, scope, value.value.id, line, depth + 1)  # `cache["A1"]`: the dict it reads
        if held is not None and isinstance(held[0], ast.Dict):
            item = next((v for k, v in zip(held[0].keys, held[0].values) if isinstance(k, ast.Constant) and k.value == value.slice.value), None)
            if item is not None:
                holder = _scope_of(tree, held[1])
                return _expression_origin(tree, holder, item, held[1], depth + 1) if isinstance(item, ast.Name) else (item, held[1])
        return None
    return value, line


def _returned(tree: ast.Module, call: ast.expr, position: int, depth: int) -> tuple[ast.expr, int] | None:
    """The `position`th value the file's function `call` calls returns, when its one return is a tuple."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return None
    function = _functions(tree).get(call.func.id)
    returns = [n for n in walk(function) if isinstance(n, ast.Return) and n.value is not None] if function is not None else []
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Tuple) or len(returns[0].value.elts) <= position:
        return None
    return _expression_origin(tree, function, returns[0].value.elts[position], returns[0].lineno, depth + 1)


def _argument_origin(tree: ast.Module, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, depth: int) -> tuple[ast.expr, int] | None:
    """What the one call of `function` in the file hands its parameter `name`."""
    names = [a.arg for a in function.args.args]
    if name not in names:
        return None
    calls = [n for n in walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == function.name]
    if len(calls) != 1:
        return None  # called from several places, or not at all: no one value
    call = calls[0]
    given = next((k.value for k in call.keywords if k.arg == name), None)
    position = names.index(name)
    if given is None and position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        given = call.args[position]
    if given is None:
        return None
    return _expression_origin(tree, _scope_of(tree, call.lineno), given, call.lineno, depth + 1)


@dataclass(frozen=True)
class UnusedSlope:
    """`sp = sigmoid_prime(z)` (line 59) bound before the statement at `line` and never read."""

    name: str  # "sp"
    value: str  # "sigmoid_prime(z)"
    bound_line: int
    line: int  # the statement that leaves it out (the wrong gradient's)


_SLOPE_CALL = re.compile(r"(?i).*(prime|deriv).*|d_?(sigmoid|tanh|relu|softplus|elu|act\w*)|(sigmoid|tanh|relu)_?(grad|gradient|backward|d)")


def unused_slope(tree: ast.Module, line: int) -> UnusedSlope | None:
    """An activation's derivative bound to a name, in the function of the statement at `line` and
    before it, that nothing ever reads: the factor that statement leaves out (Nielsen's
    `sp = sigmoid_prime(z)` followed by `delta = np.dot(w.T, delta)`)."""
    scope = _scope_of(tree, line)
    read = {n.id for n in walk(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    found = None
    for node in walk(scope):
        if (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.lineno < line and node.targets[0].id not in read and _is_slope(node.value)
        ):  # fmt: skip
            if found is None or node.lineno > found.lineno:
                found = node
    if found is None or sum(ast.dump(n) == ast.dump(found.value) for n in walk(scope) if isinstance(n, ast.expr)) > 1:
        return None  # the derivative is applied elsewhere as written (`* sigmoid_prime(z)` inline): not left out
    return UnusedSlope(found.targets[0].id, ast.unparse(found.value), found.lineno, _next_assignment(scope, found) or line)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class UnusedAdjoint:
    """`dz = dout * (z > 0)` (line 20) bound before the statement at `line`, which reads `dout`, the
    gradient it was computed from, in its place (and nothing else reads it, or other statements do)."""

    name: str  # "dz"
    value: str  # "dout * (z > 0)"
    upstream: str  # "dout"
    bound_line: int
    line: int


def unused_adjoint(tree: ast.Module, line: int) -> UnusedAdjoint | None:
    """A gradient through an activation (`dz = dout * (z > 0)`, `da = dh * (1 - h ** 2)`) bound in the
    function of the statement at `line`, at or before it, and never read, where a statement after it
    (up to `line`; any, for the binding's own line) reads the upstream gradient it was made from
    instead (`dense_backward(dout, cache)`): the first such statement is the one to fix. One that other
    statements read counts where the statement at `line` reads that upstream gradient and not it
    (`self.dW = self.x.T @ dout` beside `self.db = dpre.sum(axis=0)`)."""
    scope = _scope_of(tree, line)
    read = {n.id for n in walk(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    statements = [n for n in walk(scope) if isinstance(n, (ast.Assign, ast.AugAssign, ast.Return, ast.Expr))]
    for node in walk(scope):
        if not (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.lineno <= line and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.Mult)
        ):  # fmt: skip
            continue
        sides = (node.value.left, node.value.right)
        upstream = [s.id for s in sides if isinstance(s, ast.Name)]
        if len(upstream) != 1 or not any(_is_slope(s) for s in sides if not isinstance(s, ast.Name)):
            continue
        name = node.targets[0].id
        if name in read:  # read elsewhere: only the statement at `line` itself, reading the upstream gradient and not it
            here = [s for s in statements if s.lineno == line and node.lineno < line]
            names = {n.id for s in here for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            if here and upstream[0] in names and name not in names:
                return UnusedAdjoint(name, ast.unparse(node.value), upstream[0], node.lineno, line)
            continue
        last = line if node.lineno < line else getattr(scope, "end_lineno", None) or line  # a finding at the binding: any later reader
        readers = sorted(  # the statements after it, up to `line`, that read the upstream gradient in its place
            s.lineno for s in statements if node.lineno < s.lineno <= last
            and any(isinstance(n, ast.Name) and n.id == upstream[0] and isinstance(n.ctx, ast.Load) for n in walk(s))
        )  # fmt: skip
        if readers:
            return UnusedAdjoint(node.targets[0].id, ast.unparse(node.value), upstream[0], node.lineno, readers[0])
    return None


def _next_assignment(scope: ast.AST, statement: ast.stmt) -> int | None:
    """The line of the first assignment after `statement` in its own block: where its value belongs."""
    for node in walk(scope):
        for block in (getattr(node, field, None) for field in ("body", "orelse")):
            if isinstance(block, list) and any(s is statement for s in block):
                after = block[next(i for i, s in enumerate(block) if s is statement) + 1 :]
                return next((s.lineno for s in after if isinstance(s, (ast.Assign, ast.AugAssign))), None)
    return None


def _is_slope(value: ast.expr) -> bool:
    """`sigmoid_prime(z)`, `relu_derivative(h)`, `a * (1 - a)`, `1 - a ** 2`, `(z > 0)`: a local derivative."""
    if isinstance(value, ast.Call):
        func = value.func.id if isinstance(value.func, ast.Name) else value.func.attr if isinstance(value.func, ast.Attribute) else ""
        if func == "astype" and isinstance(value.func, ast.Attribute):
            return _is_slope(value.func.value)
        return bool(_SLOPE_CALL.fullmatch(func))
    if isinstance(value, ast.Compare) and len(value.ops) == 1 and isinstance(value.ops[0], (ast.Gt, ast.GtE)):
        return isinstance(value.comparators[0], ast.Constant) and value.comparators[0].value == 0
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        one_minus = [s for s in (value.left, value.right) if _one_minus(s) is not None]
        other = value.right if one_minus and one_minus[0] is value.left else value.left
        return bool(one_minus) and ast.dump(_one_minus(one_minus[0])) == ast.dump(other)  # type: ignore[arg-type]
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub):
        square = value.right
        return _one_minus(value) is not None and isinstance(square, ast.BinOp) and isinstance(square.op, ast.Pow)
    return False


def _one_minus(node: ast.expr) -> ast.expr | None:
    """`a` of `1 - a`, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Constant) and node.left.value in (1, 1.0):
        return node.right
    return None


@dataclass(frozen=True)
class Applied:
    """`self.a1 = self.sigmoid(self.z1)`: the activation `kind` applied to `given`, bound to `output`."""

    kind: str  # "sigmoid", "tanh", "relu"
    given: str  # "self.z1"
    output: str  # "self.a1"

    @property
    def shown(self) -> str:
        """The activation's name in a sentence."""
        return "ReLU" if self.kind == "relu" else self.kind

    @property
    def derivative(self) -> str:
        """The activation's derivative, written with the names the program has."""
        return {
            "sigmoid": f"{self.output} * (1 - {self.output})",
            "tanh": f"1 - {self.output} ** 2",
            "relu": f"({self.given} > 0)",
        }[self.kind]


def activation_applied(tree: ast.Module, line: int) -> Applied | None:
    """The activation the assignment at `line` applies to one value (`a1 = np.tanh(z1)`,
    `self.a1 = self.sigmoid(self.z1)`, `h = np.maximum(0, z)`), with the names it is written with."""
    statement = next((n for n in walk(tree) if isinstance(n, ast.Assign) and n.lineno == line and len(n.targets) == 1), None)
    return _applied(statement, _activation_helpers(tree)) if statement is not None else None


def activation_outputs(tree: ast.Module) -> dict[str, Applied]:
    """`activation_applied` of every assignment of the file, by the output's name (the first of each)."""
    functions = _activation_helpers(tree)
    found: dict[str, Applied] = {}
    for node in walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (applied := _applied(node, functions)) is not None:
            found.setdefault(applied.output, applied)
    return found


def _functions(tree: ast.Module) -> dict[str, Function]:
    return {n.name: n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _defined_twice(tree: ast.Module) -> set[str]:
    """Names the file defines two different functions or methods under (a notebook's cell run again
    defines the same one twice: that one is kept)."""
    bodies: dict[str, set[str]] = {}
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bodies.setdefault(node.name, set()).add(ast.dump(ast.Module(body=node.body, type_ignores=[])))
    return {name for name, seen in bodies.items() if len(seen) > 1}


def _activation_helpers(tree: ast.Module) -> dict[str, Function]:
    """`_functions`, with a one-argument lambda bound to a name or an attribute as a function of that
    name (`self.activation_function = lambda x: 1.0 / (1.0 + numpy.exp(-x))`, as in Rashid's book): an
    activation called through it (`self.activation_function(hidden_inputs)`) is that activation."""
    found = _functions(tree)
    for name in _defined_twice(tree):
        del found[name]  # `backward` of each layer class: a call of it says nothing of which one runs
    for node in walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Lambda)):
            continue
        target = node.targets[0]
        name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None
        if name is None or name in found or len(node.value.args.args) != 1:
            continue
        body = [ast.copy_location(ast.Return(value=node.value.body), node.value.body)]
        found[name] = ast.copy_location(ast.FunctionDef(name=name, args=node.value.args, body=body, decorator_list=[]), node)
    return found


def _applied(statement: ast.Assign, functions: dict[str, Function]) -> Applied | None:
    """`activation_applied` of one assignment, given the file's functions by name."""
    if not isinstance(statement.targets[0], (ast.Name, ast.Attribute)) or not isinstance(statement.value, ast.Call):
        return None
    call = statement.value
    name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else ""
    arguments = [a for a in call.args if not (isinstance(a, ast.Constant) and a.value == 0)]
    if len(arguments) != 1 or len(call.args) > 2:
        return None
    kind = "tanh" if name == "tanh" else "relu" if name == "maximum" and len(call.args) == 2 else None
    helper = functions.get(name)
    if kind is None and helper is not None:
        own = helper
        if len(helper.args.args) == 2 and isinstance(call.func, ast.Attribute):  # a method: its `self` is not an input
            own = ast.FunctionDef(name=helper.name, args=ast.arguments(posonlyargs=[], args=helper.args.args[1:], kwonlyargs=[], kw_defaults=[], defaults=[]), body=helper.body, decorator_list=[])
        kind = _activation_kind(own, {k: v for k, v in functions.items() if k != name}) or _relu_kind(own)
    if kind is None:
        return None
    return Applied(kind, ast.unparse(arguments[0]), ast.unparse(statement.targets[0]))


def _relu_kind(function: Function) -> str | None:
    """"relu" for a one-argument function returning `np.maximum(0, x)` (or `np.maximum(x, 0)`)."""
    returned = [n.value for n in walk(function) if isinstance(n, ast.Return) and n.value is not None]
    if len(function.args.args) != 1 or len(returned) != 1 or not isinstance(returned[0], ast.Call):
        return None
    call = returned[0]
    name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id if isinstance(call.func, ast.Name) else ""
    zero = [a for a in call.args if isinstance(a, ast.Constant) and a.value == 0]
    return "relu" if name == "maximum" and len(call.args) == 2 and len(zero) == 1 else None


def softmax_diagonal(tree: ast.Module, line: int) -> str | None:
    """`y` when the statement at `line` multiplies by `y * (1 - y)`, where `y` is what a softmax forward
    of the same class keeps or returns: the diagonal of the softmax's Jacobian only."""
    statement = next((n for n in walk(tree) if isinstance(n, ast.stmt) and n.lineno == line and not isinstance(n, (ast.FunctionDef, ast.ClassDef))), None)
    cls = next((n for n in walk(tree) if isinstance(n, ast.ClassDef) and n.lineno <= line <= (n.end_lineno or n.lineno)), None)
    if statement is None or cls is None or not _computes_softmax(cls):
        return None
    for node in walk(statement):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for one_minus, other in ((node.left, node.right), (node.right, node.left)):
                inside = _one_minus(one_minus)
                if inside is not None and ast.dump(inside) in {ast.dump(n) for n in walk(other)}:
                    return ast.unparse(inside)
    return None


def _computes_softmax(cls: ast.ClassDef) -> bool:
    """A class named like a softmax, or whose forward divides an `exp` by its sum."""
    if "softmax" in cls.name.lower():
        return True
    forward = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name in ("forward", "__call__")), None)
    calls = {ast.unparse(n.func).rpartition(".")[2] for n in walk(forward) if isinstance(n, ast.Call)} if forward is not None else set()
    return {"exp", "sum"} <= calls


@dataclass(frozen=True)
class SlopeLeftOut:
    """`dh = d @ W2.T` (line 13), the gradient of `h = np.maximum(0, ...)`, used for `g["W1"] = X.T @ dh`."""

    adjoint: str  # "dh"
    line: int  # where it is last assigned
    applied: Applied  # the activation whose output `h` is
    used_at: int  # the first statement that uses it as a parameter's gradient
    in_update: bool = False  # that statement is the update itself (`self.wih += lr * np.dot(hidden_errors, inputs.T)`)


_PARAMETER_GRADIENT = re.compile(r"(?i)(d_?|grad_?)(w|b|weights?|bias(es)?)\w*|\w+\[['\"](d_?)?(w|b)\w*['\"]\]")


def slope_left_out(tree: ast.Module, line: int) -> SlopeLeftOut | None:
    """In the function holding `line`, the gradient of an activation's output (`dh` of `h = relu(...)`,
    paired by name) that a parameter's gradient is computed from (`dW1 = X.T @ dh`) although no
    statement ever multiplies it by the activation's slope: the derivative is left out."""
    scope = _scope_of(tree, line)
    outputs = activation_outputs(tree)
    statements = [n for n in walk(scope) if isinstance(n, ast.stmt) and not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    for output, applied in outputs.items():
        named = (f"d{output}", f"d_{output}", f"delta_{output}", f"grad_{output}")
        for adjoint in dict.fromkeys([*named, *_back_through_weights(tree, statements, output)]):
            made = [s for s in statements if isinstance(s, (ast.Assign, ast.AugAssign)) and adjoint in _names_bound(s)]
            written = [s for s in statements if adjoint in {ast.unparse(t).split("[")[0] for t in _store_targets(s)}]
            if not made or len(written) != len(made) or any(_scaled_by(s, applied) for s in made):
                continue  # `dh[h <= 0] = 0` after it, or the slope in its own statement: applied
            uses = [s for s in statements if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno > made[-1].lineno
                    and adjoint in {n.id for n in walk(s.value) if isinstance(n, ast.Name)} and (_parameter_gradient(s) or _in_place_update(s))]
            if uses and all(not _scaled_by(s, applied) for s in uses):
                return SlopeLeftOut(adjoint, made[-1].lineno, applied, uses[0].lineno, not _parameter_gradient(uses[0]))
    return None


def _parameter_gradient(stmt: ast.stmt) -> bool:
    """`dW1 = X.T @ dh`, `grads["W1"] = ...`: a statement that names a parameter's gradient."""
    return isinstance(stmt, ast.Assign) and any(_PARAMETER_GRADIENT.fullmatch(ast.unparse(t)) for t in stmt.targets)


def _in_place_update(stmt: ast.stmt) -> bool:
    """`self.wih += self.lr * np.dot(hidden_errors, inputs.T)`, `W1 = W1 - lr * ...`: a statement that
    moves an array by a step computed in it (the update is the gradient's only statement)."""
    if isinstance(stmt, ast.AugAssign):
        return isinstance(stmt.op, (ast.Add, ast.Sub)) and isinstance(stmt.target, (ast.Name, ast.Attribute, ast.Subscript))
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, (ast.Add, ast.Sub)):
        return ast.unparse(stmt.targets[0]) == ast.unparse(stmt.value.left)
    return False


def _product_operands(node: ast.AST) -> tuple[ast.expr, ast.expr] | None:
    """The two factors of a matrix product: `a @ b`, `np.dot(a, b)`, `np.matmul(a, b)`, `a.dot(b)`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return node.left, node.right
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)) and not node.keywords:
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        if name in ("dot", "matmul") and len(node.args) == 2:
            return node.args[0], node.args[1]
        if name == "dot" and isinstance(node.func, ast.Attribute) and len(node.args) == 1 and not _module_like(node.func.value):
            return node.func.value, node.args[0]
    return None


def _module_like(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("np", "numpy", "cp", "jnp")


def _untransposed(node: ast.expr) -> str:
    """`W` of `W.T`, `np.transpose(W)`, `W.transpose()`; the text of anything else."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return ast.unparse(node.value)
    if isinstance(node, ast.Call) and not node.keywords:
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if name == "transpose" and len(node.args) == 1 and isinstance(node.func, (ast.Name, ast.Attribute)) and (isinstance(node.func, ast.Name) or _module_like(node.func.value)):
            return ast.unparse(node.args[0])
        if name == "transpose" and not node.args and isinstance(node.func, ast.Attribute):
            return ast.unparse(node.func.value)
    return ast.unparse(node)


def _back_through_weights(tree: ast.Module, statements: list[ast.stmt], output: str) -> list[str]:
    """The names bound in `statements` to a product of a weight the forward pass multiplies `output` by
    (`final_inputs = np.dot(self.who, hidden_outputs)`) with something that is not `output`
    (`hidden_errors = np.dot(self.who.T, output_deltas)`): the gradient with respect to `output`, sent
    back through that weight, whatever its name."""
    weights = set()
    for node in walk(tree):
        operands = _product_operands(node)
        if operands is None:
            continue
        texts = [ast.unparse(o) for o in operands]
        if texts.count(output) == 1:
            weight = operands[1 - texts.index(output)]
            if isinstance(weight, (ast.Name, ast.Attribute, ast.Subscript)):
                weights.add(ast.unparse(weight))
    found = []
    for stmt in statements:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        operands = _product_operands(stmt.value)
        if operands is None or output in {ast.unparse(n) for n in walk(stmt.value)}:
            continue
        if any(_untransposed(o) in weights for o in operands):
            found.append(stmt.targets[0].id)
    return found


def _names_bound(stmt: ast.stmt) -> set[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
    return {n.id for t in targets for n in ([t] if isinstance(t, ast.Name) else t.elts if isinstance(t, ast.Tuple) else []) if isinstance(n, ast.Name)}


def _store_targets(stmt: ast.stmt) -> list[ast.expr]:
    return stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) else []


def _scaled_by(stmt: ast.stmt, applied: Applied) -> bool:
    """Whether a statement multiplies by something of the activation: a comparison of its input or
    output (`h > 0`), its output in a product (`h * (1 - h)`, `1 - h ** 2`), a `np.where`, or a call
    named like a derivative (`relu_backward`, `sigmoid_prime`)."""
    value = getattr(stmt, "value", None)
    if value is None:
        return True
    for node in walk(value):
        if isinstance(node, ast.Compare):
            return True
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
            if func == "where" or _SLOPE_CALL.fullmatch(func) or "backward" in func.lower():
                return True
    read = {ast.unparse(n) for n in walk(value) if isinstance(n, (ast.Name, ast.Attribute))}
    return applied.output in read or applied.given in ast.unparse(value)


@dataclass(frozen=True)
class Misderived:
    """`dZ1 = np.dot(W2.T, dZ2) * (1 - A1)` (line 43) with `A1 = np.tanh(Z1)`: a derivative written wrong."""

    line: int
    written: str  # "(1 - A1)"
    applied: Applied


def misderived(tree: ast.Module, line: int) -> Misderived | None:
    """In the function holding `line`, an adjoint's statement that multiplies by `1 - A` where `A` is a
    tanh's output (its derivative is `1 - A ** 2`) or a sigmoid's alone (`A * (1 - A)`), and nothing else
    of the activation: the derivative written wrong."""
    outputs = activation_outputs(tree)
    scope = _scope_of(tree, line)
    for stmt in (n for n in walk(scope) if isinstance(n, ast.Assign) and n.lineno <= line and len(n.targets) == 1):
        target = ast.unparse(stmt.targets[0])
        for node in walk(stmt.value):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
                continue
            for side, other in ((node.left, node.right), (node.right, node.left)):
                inside = _one_minus(side)
                applied = outputs.get(ast.unparse(inside)) if inside is not None else None
                if applied is None or applied.kind not in ("tanh", "sigmoid"):
                    continue
                if target.lower() not in {f"{p}{applied.given}".lower() for p in ("d", "d_", "delta_", "grad_")}:
                    continue  # only the gradient of the activation's input (`dZ1` of `A1 = np.tanh(Z1)`) is its derivative's
                if ast.unparse(inside) in {ast.unparse(n) for n in walk(other)}:
                    continue  # `A * (1 - A)`, `(1 - A) * (1 + A)`: the whole derivative
                return Misderived(stmt.lineno, ast.unparse(side), applied)
    return None


def cross_entropy_delta_with_slope(tree: ast.Module) -> tuple[str, int, str, str] | None:
    """(the class, the line, what it returns, what to return) for a cost class whose `fn` is a
    cross-entropy (it takes a log) and whose `delta` multiplies its output error by the sigmoid's
    slope (`(a - y) * sigmoid_prime(z)`, the quadratic cost's habit): with a cross-entropy the slope
    cancels and the output delta is `a - y` itself (Nielsen's network2.py `CrossEntropyCost`)."""
    for cls in (n for n in walk(tree) if isinstance(n, ast.ClassDef)):
        methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
        cost, delta = methods.get("fn"), methods.get("delta")
        if cost is None or delta is None or not any(isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "log" for n in walk(cost)):
            continue
        for ret in (n for n in walk(delta) if isinstance(n, ast.Return) and isinstance(n.value, ast.BinOp) and isinstance(n.value.op, ast.Mult)):
            for error, slope in ((ret.value.left, ret.value.right), (ret.value.right, ret.value.left)):
                if isinstance(error, ast.BinOp) and isinstance(error.op, ast.Sub) and isinstance(slope, ast.Call) and _SLOPE_CALL.fullmatch(
                    slope.func.id if isinstance(slope.func, ast.Name) else slope.func.attr if isinstance(slope.func, ast.Attribute) else ""
                ):
                    return cls.name, ret.lineno, ast.unparse(ret.value), ast.unparse(error)
    return None


@dataclass(frozen=True)
class CachedSide:
    """`sigmoid_forward` caches `x` (line 26), the sigmoid's input, while `sigmoid_backward` computes the
    sigmoid's derivative from what it unpacks as if it were the output (`s * (1 - s)`, line 32); or the
    other way round (`wants` "input": the derivative applies the activation itself to a cached output)."""

    forward: str  # "sigmoid_forward"
    line: int  # where the forward builds the cache (`cache = x`), or returns it
    cached: str  # "x": what the cache holds
    other: str  # "out": the other side of the activation, which the backward needs
    activation: str  # "sigmoid", "tanh"
    backward: str  # "sigmoid_backward"
    derivative_line: int  # the backward's statement that computes the derivative from the cache
    wants: str  # "output" or "input": the side the backward's derivative is written of
    written: str  # the derivative as written ("s * (1 - s)")


def cached_wrong_side(tree: ast.Module, line: int) -> CachedSide | None:
    """For the backward function holding `line` (`sigmoid_backward(dout, cache)`, cs231n's layer function
    pairs), whose forward twin (`sigmoid_forward`) returns `out, cache`: the cache holding one side of
    the activation the forward applies (its input `x`) while the backward's derivative is written of the
    other (its output: `s * (1 - s)`, `1 - s ** 2`, with `s` unpacked from the cache)."""
    scope = _scope_of(tree, line)
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) or "backward" not in scope.name:
        return None
    functions = _functions(tree)
    forward = functions.get(scope.name.replace("backward", "forward"))
    parameters = [a.arg for a in scope.args.args if a.arg != "self"]
    if forward is None or len(parameters) < 2:
        return None
    cache = next((p for p in parameters if "cache" in p), parameters[-1])
    kinds = {name: kind for name, f in functions.items() if (kind := _activation_kind(f, functions)) is not None}
    unpacked = _unpacked(scope, cache)  # name -> its position in the cache (None: the whole cache)
    derivative = _derivative_of_cached(scope, unpacked, kinds)
    if derivative is None:
        return None
    at, name, wants, kind, written = derivative
    held = _cached_by(forward, unpacked[name])
    if held is None:
        return None
    cached, cache_line = held
    side = _activation_side(forward, cached, kinds)
    if side is None or side[0] != kind or side[1] == wants:
        return None
    return CachedSide(forward.name, cache_line, cached, side[2], kind, scope.name, at, wants, written)


def _unpacked(function: Function, cache: str) -> dict[str, int | None]:
    """Names a function binds from its cache parameter: `s = cache` (the whole cache), `x, s = cache` and
    `s = cache[1]` (that position)."""
    found: dict[str, int | None] = {}
    for node in walk(function):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if isinstance(value, ast.Name) and value.id == cache:
            if isinstance(target, ast.Name):
                found[target.id] = None
            elif isinstance(target, ast.Tuple):
                found.update({t.id: i for i, t in enumerate(target.elts) if isinstance(t, ast.Name)})
        elif (
            isinstance(target, ast.Name) and isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
            and value.value.id == cache and isinstance(value.slice, ast.Constant) and type(value.slice.value) is int
        ):  # fmt: skip
            found[target.id] = value.slice.value
    return found


def _derivative_of_cached(function: Function, unpacked: dict[str, int | None], kinds: dict[str, str]) -> tuple[int, str, str, str, str] | None:
    """(line, name, side, activation, as written) of the first statement computing an activation's derivative
    from a name unpacked from the cache: written of the output (`s * (1 - s)`, `1 - s ** 2`), or of the input
    (the activation applied to it: `sigmoid(x) * (1 - sigmoid(x))`, `1 - np.tanh(x) ** 2`)."""
    for stmt in sorted((n for n in walk(function) if isinstance(n, (ast.Assign, ast.Return)) and n.value is not None), key=lambda n: n.lineno):
        for node in walk(stmt.value):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
                for one_minus, other in ((node.left, node.right), (node.right, node.left)):
                    inside = _one_minus(one_minus)
                    if isinstance(inside, ast.Name) and inside.id in unpacked and any(isinstance(f, ast.Name) and f.id == inside.id for f in _factors(other)):
                        return stmt.lineno, inside.id, "output", "sigmoid", f"{inside.id} * ({ast.unparse(one_minus)})"
            square = _one_minus(node) if isinstance(node, ast.BinOp) else None
            if isinstance(square, ast.BinOp) and isinstance(square.op, ast.Pow) and isinstance(square.right, ast.Constant) and square.right.value == 2:
                base = square.left
                if isinstance(base, ast.Name) and base.id in unpacked:
                    return stmt.lineno, base.id, "output", "tanh", ast.unparse(node)
                if isinstance(base, ast.Call) and len(base.args) == 1 and isinstance(base.args[0], ast.Name) and base.args[0].id in unpacked:
                    if ast.unparse(base.func).rpartition(".")[2] == "tanh":
                        return stmt.lineno, base.args[0].id, "input", "tanh", ast.unparse(node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and kinds.get(node.func.id) == "sigmoid":
                argument = node.args[0] if len(node.args) == 1 else None
                if isinstance(argument, ast.Name) and argument.id in unpacked:
                    return stmt.lineno, argument.id, "input", "sigmoid", ast.unparse(stmt.value)
    return None


def _factors(node: ast.expr) -> list[ast.expr]:
    """The factors of a product (`dout * s` gives `dout`, `s`)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return [*_factors(node.left), *_factors(node.right)]
    return [node]


def _cached_by(forward: Function, position: int | None) -> tuple[str, int] | None:
    """(the name the forward's cache holds at `position`, the line that puts it there), for a forward
    returning `out, cache` with `cache = x` or `cache = (x, out)` bound before (or the tuple returned as is)."""
    returns = [n for n in walk(forward) if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple) and len(n.value.elts) == 2]
    if len(returns) != 1:
        return None
    held, line = returns[0].value.elts[1], returns[0].lineno
    if isinstance(held, ast.Name):
        made = _last_assignment(forward, held.id, returns[0].lineno)
        if made is not None:
            held, line = made.value, made.lineno
    if position is not None:
        if not isinstance(held, ast.Tuple) or position >= len(held.elts):
            return None
        held = held.elts[position]
    return (held.id, line) if isinstance(held, ast.Name) else None


def _activation_side(forward: Function, name: str, kinds: dict[str, str]) -> tuple[str, str, str] | None:
    """(activation, "input" or "output", the other side's name) of `name` in the forward: `out = 1 / (1 +
    np.exp(-x))` makes `x` the sigmoid's input and `out` its output (`np.tanh(x)`, `sigmoid(x)` alike)."""
    for node in walk(forward):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        applied = _inline_activation(node.value, kinds)
        if applied is None:
            continue
        kind, given = applied
        output = node.targets[0].id
        if given == name:
            return kind, "input", output
        if output == name:
            return kind, "output", given
    return None


def _inline_activation(value: ast.expr, kinds: dict[str, str]) -> tuple[str, str] | None:
    """(kind, the name it is applied to) for `np.tanh(x)`, `sigmoid(x)` (a helper of the file), and
    `1 / (1 + np.exp(-x))`."""
    if isinstance(value, ast.Call) and len(value.args) == 1 and isinstance(value.args[0], ast.Name):
        name = ast.unparse(value.func).rpartition(".")[2]
        kind = "tanh" if name == "tanh" else kinds.get(name) if isinstance(value.func, ast.Name) else None
        return (kind, value.args[0].id) if kind in ("sigmoid", "tanh") else None
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div) and isinstance(value.right, ast.BinOp) and isinstance(value.right.op, ast.Add):
        exps = [n for n in walk(value.right) if isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "exp" and len(n.args) == 1]
        argument = exps[0].args[0] if len(exps) == 1 else None
        if isinstance(argument, ast.UnaryOp) and isinstance(argument.op, ast.USub) and isinstance(argument.operand, ast.Name):
            return "sigmoid", argument.operand.id
    return None


@dataclass(frozen=True)
class QuadraticDelta:
    """`QuadraticCost.delta(z, a, y)` returning `(a - y)` (line 24) while `fn` is `0.5 * ||a - y||²`: the gradient
    with respect to the sigmoid's output `a`, handed back as the output layer's delta, the gradient with
    respect to its input `z`."""

    cls: str  # "QuadraticCost"
    line: int  # the `return`
    written: str  # "a - y"
    output: str  # "a"
    given: str  # "z"
    fix: str  # "(a - y) * sigmoid_prime(z)"


def quadratic_delta_without_slope(tree: ast.Module) -> QuadraticDelta | None:
    """A cost class whose `fn` is a quadratic cost (it squares the output error, takes no log) and whose
    `delta(z, a, y)` returns the output error `a - y` with no slope: the quadratic cost's delta with
    respect to the output layer's weighted input is `(a - y) * sigmoid_prime(z)` (`a - y` alone is the
    cross-entropy's). Only where the file has a sigmoid helper, which its network's output goes through."""
    functions = _functions(tree)
    kinds = {name: kind for name, f in functions.items() if (kind := _activation_kind(f, functions)) is not None}
    if "sigmoid" not in kinds.values():
        return None
    helpers = {name: side for name, f in functions.items() if (side := _computes_from(f, kinds)) is not None and side[1] == "sigmoid"}
    for cls in (n for n in walk(tree) if isinstance(n, ast.ClassDef)):
        methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
        cost, delta = methods.get("fn"), methods.get("delta")
        if cost is None or delta is None or not _squares_error(cost):
            continue
        parameters = [a.arg for a in delta.args.args if a.arg not in ("self", "cls")]
        returns = [n for n in walk(delta) if isinstance(n, ast.Return) and n.value is not None]
        if len(parameters) != 3 or len(returns) != 1:
            continue
        z, a, y = parameters
        value = returns[0].value
        if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub) and ast.unparse(value.left) == a and ast.unparse(value.right) == y):
            continue  # `(a - y) * sigmoid_prime(z)`, or anything else: not the bare output error
        written = ast.unparse(value)
        on_input = next((name for name, side in helpers.items() if side[0] == "input"), None)
        on_output = next((name for name, side in helpers.items() if side[0] == "output"), None)
        fix = f"({written}) * {on_input}({z})" if on_input else f"({written}) * {on_output}({a})" if on_output else f"({written}) * {a} * (1 - {a})"
        return QuadraticDelta(cls.name, returns[0].lineno, written, a, z, fix)
    return None


def asks_for_delta(tree: ast.Module, line: int) -> bool:
    """Whether the function holding `line` calls a `delta` method (`self.cost.delta(zs[-1], activations[-1], y)`):
    a backward pass that starts from a cost class's output delta."""
    scope = _scope_of(tree, line)
    return scope is not tree and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "delta" for n in walk(scope))


def _squares_error(cost: Function) -> bool:
    """A cost function that squares the output error (`0.5 * np.linalg.norm(a - y) ** 2`, `np.sum((a - y) ** 2)`)
    and takes no log."""
    calls = {ast.unparse(n.func).rpartition(".")[2] for n in walk(cost) if isinstance(n, ast.Call)}
    if "log" in calls:
        return False
    squared = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant) and n.right.value == 2 for n in walk(cost))
    return (squared or "square" in calls) and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) for n in walk(cost))


@dataclass(frozen=True)
class GivenOutput:
    """`sp = sigmoid_prime(activations[-l])` (line 64): a derivative written from the activation's input
    (`sigmoid(z) * (1 - sigmoid(z))`) handed the activation's output, kept in `activations`."""

    line: int
    call: str  # "sigmoid_prime(activations[-l])"
    kind: str  # "sigmoid"
    inputs: str | None  # "zs": the list of the same layers' inputs, when the function keeps one


def derivative_given_output(tree: ast.Module, line: int) -> GivenOutput | None:
    """In the function holding `line`, at or before it, a call of the file's derivative helper that
    applies the activation itself (`sigmoid_prime(z)`) on an element of a list the function fills
    with that activation's outputs (`activations.append(activation)` after `activation = sigmoid(z)`)."""
    functions = _functions(tree)
    kinds = {name: kind for name, f in functions.items() if (kind := _activation_kind(f, functions)) is not None}
    helpers = {name: side for name, f in functions.items() if (side := _computes_from(f, kinds)) is not None and side[0] == "input"}
    scope = _scope_of(tree, line)
    if not helpers or scope is tree:
        return None
    outputs = {name: kind for name, (kind, _) in _listed_outputs(scope, kinds).items()}  # list -> the activation its elements are outputs of
    held: dict[str, set[str]] = {}
    for name, _, side, _ in _appended(scope, kinds):
        held.setdefault(name, set()).add(side)
    inputs = [name for name, sides in held.items() if "input" in sides and "output" not in sides]  # the lists of pre-activations
    found = []
    for node in walk(scope):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers and len(node.args) == 1):
            continue
        argument = node.args[0]
        listed = argument.value if isinstance(argument, ast.Subscript) else None
        if isinstance(listed, ast.Name) and outputs.get(listed.id) == helpers[node.func.id][1]:
            found.append(GivenOutput(node.lineno, ast.unparse(node), outputs[listed.id], next(iter(inputs), None)))
    # at or before `line` first; else later in the same function (the loop over the hidden layers after the output's delta)
    return min(found, key=lambda g: (g.line > line, abs(g.line - line)), default=None)


def rescaled_after(tree: ast.Module, name: str, line: int) -> int | None:
    """The line of the change of `name` before the one at `line`, when the one at `line` only rescales
    it (`dscores /= N`, `delta = delta * 0.5`): a value wrong otherwise than by a constant factor was
    already wrong before it (`dscores[:, y] -= 1` at the line returned). None when the statement at
    `line` does more, or nothing in its block changes `name` before it."""
    found = _block_at(tree, line)
    if found is None or not _rescales(found[0][found[1]], name):
        return None
    block, at = found
    return next((stmt.lineno for stmt in reversed(block[:at]) if name in _changed(stmt)), None)


def masked_after(tree: ast.Module, name: str, line: int, forward: str) -> int | None:
    """The line of the change of `name` before the one at `line`, when the one at `line` only sets to zero
    the entries where `forward`, the value `name` is the gradient of, is not positive
    (`dhidden[hidden_layer <= 0] = 0`, a ReLU's mask): that mask is right whatever the entries it keeps
    hold, so a value wrong there was already wrong before it (`dhidden = np.dot(dscores, W2.T)`, a
    dropout mask left out). A mask of another value, or of the positive entries, may be the mistake
    itself: None, as when nothing in its block changes `name` before it."""
    found = _block_at(tree, line)
    if found is None or not _relu_masks(found[0][found[1]], name, forward):
        return None
    block, at = found
    return next((stmt.lineno for stmt in reversed(block[:at]) if name in _changed(stmt)), None)


def _relu_masks(stmt: ast.stmt, name: str, forward: str) -> bool:
    """`name[forward <= 0] = 0`, `name[forward < 0] = 0.0`, `name[0 >= forward] = 0`."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Constant) and stmt.value.value == 0):
        return False
    target = stmt.targets[0]
    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name):
        return False
    condition = target.slice
    if not (isinstance(condition, ast.Compare) and len(condition.ops) == 1):
        return False
    left, op, right = condition.left, condition.ops[0], condition.comparators[0]
    if isinstance(left, ast.Constant):  # `0 >= h`
        left, right = right, left
        op = {ast.GtE: ast.LtE(), ast.Gt: ast.Lt()}.get(type(op), op)
    return (
        isinstance(left, ast.Name) and left.id == forward and isinstance(op, (ast.LtE, ast.Lt))
        and isinstance(right, ast.Constant) and right.value == 0 and not isinstance(right.value, bool)
    )  # fmt: skip


def _block_at(tree: ast.Module, line: int) -> tuple[list[ast.stmt], int] | None:
    """The statement list holding the statement that starts at `line`, and its index there."""
    for block in (b for node in walk(tree) for b in _child_blocks(node)):
        at = next((i for i, stmt in enumerate(block) if stmt.lineno == line), None)
        if at is not None:
            return block, at
    return None


def _rescales(stmt: ast.stmt, name: str) -> bool:
    """`name /= N`, `name *= 0.5`, `name = name / N`: `name` multiplied or divided by what does not read it."""
    return rescaling(stmt, name) is not None


def rescaling(stmt: ast.stmt, name: str) -> tuple[str, str] | None:
    """("/", "keep") of `name = name / keep` or `name /= keep`, ("*", "scale") of `name *= scale`: the operation and
    the factor of a statement that only rescales `name` (by what does not read it); None for any other."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
        factor, op = stmt.value, stmt.op
    elif (
        isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name
        and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.left, ast.Name) and stmt.value.left.id == name
    ):  # fmt: skip
        factor, op = stmt.value.right, stmt.value.op
    else:
        return None
    if not isinstance(op, (ast.Div, ast.Mult)) or any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(factor)):
        return None
    return ("/" if isinstance(op, ast.Div) else "*", ast.unparse(factor))


@dataclass(frozen=True)
class MutatedArgument:
    """`dz2 = relu_backward(dr, z2)` (line `call`) writes into `dr`, which a later statement reads as it was."""

    name: str  # `dr`
    call: int  # the line of the call handed it
    callee: str  # `relu_backward`
    write: int  # the line in the callee that writes into it (`dx[z <= 0] = 0`)
    alias: int | None  # the line that made the writing name the argument itself (`dx = dout`), if any
    alias_text: str | None  # that statement, as written


def mutated_argument(tree: ast.Module, line: int, names: tuple[str, ...] | list[str], after: bool = False) -> MutatedArgument | None:
    """The first of `names` (read by the statement at `line`) that an earlier call of the file's own
    functions, in the same block, was handed and writes into in place: what the statement reads is no
    longer what was computed. With `after`, a later call (`names` made at `line`, changed after it)."""
    found = _block_at(tree, line)
    if found is None:
        return None
    block, at = found
    functions = {f.name: f for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for stmt in block[at + 1 :] if after else block[:at]:
        for call in (n for n in ast.walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions):
            callee = functions[call.func.id]
            params = [a.arg for a in callee.args.args]
            for position, argument in enumerate(call.args[: len(params)]):
                if isinstance(argument, ast.Name) and argument.id in names and (after or not _rebound_after(block, stmt, at, argument.id)):
                    written = _writes_into(callee, params[position])
                    if written is not None:
                        return MutatedArgument(argument.id, stmt.lineno, callee.name, *written)
    return None


def _rebound_after(block: list[ast.stmt], stmt: ast.stmt, at: int, name: str) -> bool:
    start = block.index(stmt)
    return any(isinstance(s, ast.Assign) and name in {t.id for t in s.targets if isinstance(t, ast.Name)} for s in block[start + 1 : at])


def _writes_into(function: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> tuple[int, int | None, str | None] | None:
    """(line of the write, line of the alias, the alias statement) when `function` writes into its
    argument `param` in place: `param[...] = ...`, `param += ...`, or the same through a name bound to it
    (`dx = dout` then `dx[z <= 0] = 0`), before `param` or that name is bound to anything else."""
    same = {param: None}  # name -> the line that made it the argument itself
    texts: dict[str, str] = {}
    for stmt in sorted((n for n in ast.walk(function) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id
            if isinstance(stmt.value, ast.Name) and stmt.value.id in same:
                same[target], texts[target] = stmt.lineno, ast.unparse(stmt)
            else:
                same.pop(target, None)
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            root = target
            while isinstance(root, ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name) and root.id in same and (isinstance(target, ast.Subscript) or isinstance(stmt, ast.AugAssign)):
                return stmt.lineno, same[root.id], texts.get(root.id)
    return None
