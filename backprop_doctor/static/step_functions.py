"""Adjoints inside the functions one training step calls.

Many programs keep the loop short and do the work in functions:

    for i in range(iterations):
        A2, cache = forward(X, params)          # Z1, A1, Z2 computed in forward()
        J = cost(A2, Y)
        grads = backward(params, cache, X, Y)   # dZ2, dZ1 computed in backward()
        params = update(params, grads, lr)

The adjoints (`dZ1` in `backward`) and the forward values they differentiate
(`Z1` in `forward`) then live in the functions' frames, not in the loop.
`inner_adjoints` finds them: the functions the step's statements call (by
name, and methods by a name only one class of the file defines), followed
into the functions they call, in the order the step reaches them; in each, the
statements that run once per call (not inside a loop of that function); the
first place each forward value is computed; and the adjoints paired with them
by name. The replay (`replay/inner.py`) perturbs a forward value right after
its statement runs and reads the adjoint after its own, through a tracer on
those functions only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from backprop_doctor.static.definitions import _child_blocks
from backprop_doctor.static.derivatives import _product_operands, _untransposed
from backprop_doctor.static.layout import _own_nodes
from backprop_doctor.static.steps import _ADJOINT, _abbreviated_forwards, _changed, _compound_forwards, _forward_names, _partial, _spelled_apart, _targets, g_adjoint_of, reads
from backprop_doctor.static.tree import walk
from backprop_doctor.static.pair_names import forward_of

DEPTH = 3  # how many calls deep the step is followed


@dataclass(frozen=True)
class Site:
    """A statement inside a function: the replay recognises the function by its code's first line."""

    function: str  # "backward", "Net.backprop"
    first_line: int  # co_firstlineno of the function (its first decorator's line, or the def)
    line: int
    end_line: int


@dataclass(frozen=True)
class InnerAdjoint:
    """`dZ1` (last changed at `adjoint`) is the gradient of `Z1` (computed at `forward_at`)."""

    name: str
    forward: str
    adjoint: Site
    forward_at: Site
    feeds: tuple[str, ...] = ()  # names its function computes from it (`dW1 = dZ1 @ X.T / m`)
    reads: tuple[str, ...] = ()  # names the statement that computes it reads (`dA1`, `A1`)
    fed: tuple[tuple[str, int], ...] = ()  # forward values computed from the forward value, with their lines (`A1`, 13)
    in_update: bool = False  # computed in a function only the step's updating statements call (`nn.backward(X, y, lr)`)
    reshaped: bool = False  # handed back reshaped to its forward value's shape (`return dx.reshape(N, C)`)
    handed: bool = False  # `name` is the expression a call hands a backward beside the forward's cache, read before that call

    @property
    def line(self) -> int:
        return self.adjoint.line


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _definitions(tree: ast.Module) -> tuple[dict[str, FunctionNode], dict[str, list[tuple[str, FunctionNode]]]]:
    """Module-level functions by name; methods by name -> [(class name, node)]."""
    functions: dict[str, FunctionNode] = {}
    methods: dict[str, list[tuple[str, FunctionNode]]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef):
            for item in stmt.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    methods.setdefault(item.name, []).append((stmt.name, item))
    return functions, methods


def _calls(nodes: list[ast.stmt]) -> list[tuple[ast.Call, bool]]:
    """Calls in statements, in source order, each with whether it sits inside a loop (or a comprehension)."""
    found: list[tuple[ast.Call, bool]] = []

    def visit(node: ast.AST, looped: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return
        if isinstance(node, ast.Call):
            found.append((node, looped))
        inner = looped or isinstance(node, (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    for stmt in nodes:
        visit(stmt, False)
    return found


def _once(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a function body that run at most once per call (if/with/try blocks followed, loops not)."""
    found: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While, ast.AsyncFor)):
            continue
        blocks = _child_blocks(stmt)
        if blocks:
            for block in blocks:
                found += _once(block)
        else:
            found.append(stmt)
    return found


def _first_line(node: FunctionNode) -> int:
    return min([d.lineno for d in node.decorator_list] + [node.lineno])


def called_functions(tree: ast.Module, prefix: tuple[ast.stmt, ...]) -> list[tuple[str, FunctionNode]]:
    """The file's functions one pass of the step calls exactly once, in the order it reaches them.

    A function called from more than one place, or in a loop, runs more than once per step: its
    locals have no single value, so it is left out (and so is what it calls).
    """
    functions, methods = _definitions(tree)
    order: list[tuple[str, FunctionNode]] = []
    seen: dict[int, int] = {}
    excluded: set[int] = set()
    callable_classes = {owner: node for owner, node in methods.get("__call__", ())}
    instances = instances_of(tree, set(callable_classes)) if callable_classes else {}

    def resolve(call: ast.Call) -> tuple[str, FunctionNode] | None:
        func = call.func
        if isinstance(func, ast.Name) and func.id in functions:
            return func.id, functions[func.id]
        if isinstance(func, ast.Name) and func.id in instances:  # `net(X)`: `TinyNet.__call__`, `net = TinyNet(2, 10)`
            return f"{instances[func.id]}.__call__", callable_classes[instances[func.id]]
        if isinstance(func, ast.Attribute) and len(methods.get(func.attr, ())) == 1:
            owner, node = methods[func.attr][0]
            return f"{owner}.{func.attr}", node
        return None

    def visit(statements: list[ast.stmt], depth: int) -> None:
        for call, looped in _calls(statements):
            target = resolve(call)
            if target is None:
                continue
            name, node = target
            seen[id(node)] = seen.get(id(node), 0) + 1
            if looped or seen[id(node)] > 1:
                excluded.add(id(node))
                continue
            order.append((name, node))
            if depth < DEPTH:
                visit(node.body, depth + 1)

    visit(list(prefix), 1)
    return [(name, node) for name, node in order if id(node) not in excluded]


def instances_of(tree: ast.Module, classes: set[str]) -> dict[str, str]:
    """Names bound, once in the file, to an instance of one of `classes`: `net = TinyNet(2, 10)` -> TinyNet."""
    bound: dict[str, set[str]] = {}
    for node in walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    value = node.value
                    made = value.func.id if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) else None
                    bound.setdefault(target.id, set()).add(made if made in classes else "")
    return {name: next(iter(made)) for name, made in bound.items() if len(made) == 1 and "" not in made}


def _fed(bodies: dict[str, list[ast.stmt]], at: Site, name: str, adjoints: frozenset[str] = frozenset()) -> tuple[tuple[str, int], ...]:
    """Forward values the function holding `at` computes from `name` after it (`A1 = np.tanh(Z1)`,
    `self.a1 = sigmoid(self.z1)`); not a gradient computed from it and an adjoint (`g5 = np.mean(d_o1 * out_h1)`,
    `adjoints`: the names paired as adjoints)."""
    found: list[tuple[str, int]] = []
    for stmt in bodies.get(at.function, []):
        if stmt.lineno > at.end_line and (name in reads(stmt) or name in _attributes_read(stmt)) and not reads(stmt) & adjoints:
            targets = [*_targets(stmt), *_attributes_stored(stmt, "self")]
            found += [(t, stmt.lineno) for t in targets if t != name and not _ADJOINT.fullmatch(t.removeprefix("self."))]
    return tuple(dict.fromkeys(found))


def _changed_in_loops(node: FunctionNode, me: str | None) -> set[str]:
    """Names (and `self.` attributes) a loop of the function changes (`h = np.tanh(...)` per time step)."""
    found: set[str] = set()
    for loop in (n for n in ast.walk(node) if isinstance(n, (ast.For, ast.While))):
        for stmt in (n for n in ast.walk(loop) if isinstance(n, ast.stmt) and n is not loop):
            found |= {*_changed(stmt), *_attributes_stored(stmt, me)}
    return found


def _instance(node: FunctionNode, name: str) -> str | None:
    """`self` of a method ("Net.forward"), None for a plain function."""
    args = node.args.posonlyargs + node.args.args
    return args[0].arg if "." in name and args else None


def _attributes_stored(stmt: ast.stmt, me: str | None) -> list[str]:
    """`self.z1` of `self.z1 = ...` in a method whose instance is `me`, spelled with `self`."""
    if me is None or not isinstance(stmt, ast.Assign):
        return []
    return [
        f"self.{t.attr}" for target in stmt.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me
    ]  # fmt: skip


def _attributes_read(stmt: ast.stmt) -> set[str]:
    """`self.z1` read by a statement (spelled as written)."""
    return {ast.unparse(n) for n in ast.walk(stmt) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name)}


def inner_adjoints(tree: ast.Module | None, prefix: tuple[ast.stmt, ...], updating: tuple[ast.stmt, ...] = ()) -> list[InnerAdjoint]:
    """Adjoints computed inside the functions the step calls, paired with forward values by name.

    A forward value is taken where it is first computed in the order the step runs (`Z1` in
    `forward`, not the `Z1, A1, Z2, A2 = cache` that `backward` unpacks later); an adjoint where
    its function last changes it. A backward that updates as it goes (`nn.backward(X, y, lr)`,
    called by the step's `updating` statements) has its adjoints marked `in_update`.
    """
    if tree is None:
        return []
    first: dict[str, Site] = {}
    found: list[InnerAdjoint] = []
    bodies: dict[str, list[ast.stmt]] = {}
    before = {name for name, _ in called_functions(tree, prefix)}
    looped: set[str] = set()  # names a loop changes: they have no one value per step
    called = called_functions(tree, (*prefix, *updating))
    by_name = {name.rsplit(".", 1)[-1]: (name, node) for name, node in called}
    read: set[str] = set()
    handed = _parameters_handed(prefix, updating)
    # the order the statements run in: a function's statements run while the statement calling it does,
    # before it binds what the call returns (`net.backward(np.vstack([dfa, dfp, dfn]))` after `dfn = ...`)
    when: dict[tuple[str, int], int] = {}
    before_change: dict[str, Site] = {}  # forward values changed in place: where they were first computed
    changed_in_place: set[tuple[str, int]] = set()  # (function, line) of the statements that change a name in place

    def read_function(name: str, node: FunctionNode) -> None:
        nonlocal looped
        read.add(name)
        statements = bodies[name] = _once(node.body)
        start = _first_line(node)
        me = _instance(node, name)
        looped |= _changed_in_loops(node, me)
        last: dict[str, Site] = {}
        paired: list[tuple[str, str]] = []
        # `q` of `def td_loss(q, ...): ... return loss, dq`: its value as the call hands it in, paired with this function's `dq` only
        given = {argument: Site(name, start, start, start) for argument in _loss_arguments(node, me, handed.get(name.rsplit(".", 1)[-1], set()))}
        consumed: set[str] = set()  # names a statement of this function has read
        for stmt in statements:
            for callee, callee_node in _callees(stmt, by_name):  # `self.yHat = self.forward(X)`: its values come first
                if callee not in read:
                    read_function(callee, callee_node)
            site = Site(name, start, stmt.lineno, stmt.end_lineno or stmt.lineno)
            when.setdefault((name, stmt.lineno), len(when))
            changed = _changed_in_place(stmt)
            if changed is not None and changed in first and first[changed].function == name and changed not in consumed:
                # `A = np.exp(S)` then `A /= A.sum(axis=-1, keepdims=True)` before anything reads it: the forward value
                # is the array as the in-place changes leave it, the one every later statement reads
                before_change.setdefault(changed, first[changed])
                first[changed] = site
            consumed |= reads(stmt) - ({changed} if changed is not None else set())
            if changed is not None:
                changed_in_place.add((name, stmt.lineno))
            for target in _targets(stmt):
                partial = _partial(target)  # `dout_o1_dnet_o1`: one factor of the chain rule, not the loss's gradient
                match = None if partial else _ADJOINT.fullmatch(target)
                if match is None and target not in looped and not partial:  # `gact = gy @ W2.T` of `act`: a `g` before the forward's name
                    forward = g_adjoint_of(target, stmt, {k: v for k, v in first.items() if k not in looped}, {a for a, _ in paired})
                    if forward is not None:
                        paired.append((target, forward))
                elif match is not None and target not in {a for a, _ in paired} and target not in looped:
                    names = [f for f in _forward_names(match.group(1), target) if f != target]
                    forward = match.group(1) if match.group(1) in given else None
                    forward = forward or next((k for f in names for k in (f, f"self.{f}") if k in first and k not in looped), None)
                    if forward is None:  # `dhidden` of `hidden_layer`, as the step's own adjoints pair them
                        known = [k for k in first if k != target and k not in looped and "." not in k]
                        # `dE_douth1` of `out_h1`: the loss's derivative written as a fraction, the underscore left out
                        forward = next(iter(_abbreviated_forwards(match.group(1), known) or _compound_forwards(match.group(1), known) or _spelled_apart(target, known)), None)
                    if forward is not None:
                        paired.append((target, forward))
                first.setdefault(target, site)
            for target in _attributes_stored(stmt, me):
                first.setdefault(target, site)  # `self.z1 = X @ self.W1` in `forward`: the forward value `self.z1`
            for changed in _changed(stmt):
                last[changed] = site
        named = {a for a, _ in paired}
        for adjoint, forward in _product_adjoints(statements, [st for body in bodies.values() for st in body]):
            if adjoint not in named and adjoint not in looped and forward not in looped and forward in first and adjoint in last:
                paired.append((adjoint, forward))  # `dW = X.T.dot(coeff)` of `scores = X.dot(W)`: `coeff` is the gradient of `scores`
                named.add(adjoint)
        inputs: dict[str, Site] = {}  # `x` of the class's `forward(self, x)`: the input whose gradient this method returns
        for adjoint in _returned_names(statements):
            match = _ADJOINT.fullmatch(adjoint)
            if match is None or adjoint in named or adjoint in looped or adjoint not in last or adjoint in first and first[adjoint] != last[adjoint]:
                continue
            found_input = _sibling_input(name, [f for f in _forward_names(match.group(1), adjoint) if f != adjoint], called)
            if found_input is not None:
                inputs[found_input[0]] = found_input[1]
                paired.append((adjoint, found_input[0]))
                named.add(adjoint)
        for stmt, expression, forward in _handed_with_cache(statements):
            if forward in first and forward not in looped and first[forward].function == name:
                site = Site(name, start, stmt.lineno, stmt.end_lineno or stmt.lineno)
                found.append(InnerAdjoint(expression, forward, site, first[forward], reads=tuple(sorted(reads(stmt))), in_update=name not in before, handed=True))
        for adjoint, forward in paired:
            if adjoint in last:
                feeds = {t for stmt in statements if adjoint in reads(stmt) for t in _targets(stmt) if t != adjoint}
                feeds |= {  # `return {"dw2": dz2 @ a1.T / m, ...}`: the keys computed from it
                    k.value for stmt in statements if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Dict)
                    for k, v in zip(stmt.value.keys, stmt.value.values)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str) and adjoint in {n.id for n in ast.walk(v) if isinstance(n, ast.Name)}
                }  # fmt: skip
                own = next((st for st in statements if st.lineno == last[adjoint].line), None)
                # `dz = ...; dz -= dz.mean(...)` mirrors `z -= z.mean(...)`: the gradient of the value before the change
                at = given.get(forward) or inputs.get(forward) or (
                    before_change[forward] if forward in before_change and (name, last[adjoint].line) in changed_in_place else first[forward]
                )
                found.append(
                    InnerAdjoint(
                        adjoint, forward, last[adjoint], at, tuple(sorted(feeds)),
                        tuple(sorted(reads(own))) if own is not None else (), _fed(bodies, at, forward, frozenset(a for a, _ in paired)),
                        in_update=name not in before, reshaped=forward in inputs,
                    )
                )

    for name, node in called:
        if name not in read:
            read_function(name, node)
    # from the loss backwards is the order the backward pass computes them in: a caller's adjoints
    # handed to a function (`dfn` before `net.backward(...)` computes `dh`) come before that function's
    found.sort(key=lambda a: when.get((a.adjoint.function, a.adjoint.line), len(when)))
    return [a for a in found if a.forward_at != a.adjoint and not _feeds_a_loss(a)]


def _handed_with_cache(statements: Sequence[ast.stmt]) -> list[tuple[ast.stmt, str, str]]:
    """(statement, `-ddiff`, `f2`) for `g2 = self.encode_backward(-ddiff, cache2)` after `f2, cache2 =
    self.encode(x2)`: the first argument of a call handed the cache a forward call returned beside its
    output is that output's gradient, whatever it is named (two branches of one encoder, each handed
    its own). An argument already named as that output's gradient (`df2`) is paired by name instead."""
    bound: dict[str, str] = {}  # cache -> the output bound beside it
    found: list[tuple[ast.stmt, str, str]] = []
    for stmt in statements:
        for call in (n for n in ast.walk(stmt) if isinstance(n, ast.Call)):
            caches = [a.id for a in call.args[1:] if isinstance(a, ast.Name) and a.id in bound]
            if len(caches) != 1 or not call.args or isinstance(call.args[0], (ast.Constant, ast.Starred)):
                continue
            forward = bound[caches[0]]
            first = call.args[0]
            match = _ADJOINT.fullmatch(first.id) if isinstance(first, ast.Name) else None
            if match is not None and forward in _forward_names(match.group(1), first.id):
                continue
            found.append((stmt, ast.unparse(first), forward))
        if (
            isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple)
            and len(stmt.targets[0].elts) == 2 and all(isinstance(e, ast.Name) for e in stmt.targets[0].elts)
            and isinstance(stmt.value, ast.Call)
        ):  # fmt: skip
            output, cache = (e.id for e in stmt.targets[0].elts)  # type: ignore[attr-defined]
            bound[cache] = output
    return found


def _returned_names(statements: Sequence[ast.stmt]) -> list[str]:
    """Names a function hands back: `dx` of `return dx`, `return dx.reshape(N, C)`, `return dx, dw`."""
    found: list[str] = []
    for stmt in statements:
        if not isinstance(stmt, ast.Return) or stmt.value is None:
            continue
        for element in stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]:
            while isinstance(element, ast.Call) and isinstance(element.func, ast.Attribute) and element.func.attr in ("reshape", "copy"):
                element = element.func.value
            if isinstance(element, ast.Name):
                found.append(element.id)
    return found


def _sibling_input(name: str, candidates: list[str], called: Sequence[tuple[str, FunctionNode]]) -> tuple[str, Site] | None:
    """(`x`, the first line of `GroupNorm.forward`) for `dx` returned by `GroupNorm.backward`: the one other
    method of the same class the step calls whose argument is named as the gradient's value."""
    owner, _, method = name.rpartition(".")
    if not owner:
        return None
    found = [
        (argument.arg, Site(other, _first_line(node), _first_line(node), _first_line(node)))
        for other, node in called if other.rpartition(".")[0] == owner and other != name and not other.endswith(".__init__")
        for argument in node.args.args[1:] if argument.arg in candidates
    ]  # fmt: skip
    return found[0] if len(found) == 1 else None


def _changed_in_place(stmt: ast.stmt) -> str | None:
    """The name a statement changes in place: `A /= A.sum(...)`, or the same written out,
    `a = a / a.sum(axis=-1, keepdims=True)`, `s = s - s.max(axis=1, keepdims=True)` (the name itself the
    left operand of the value it is bound to again)."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    if (
        isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.left, ast.Name) and stmt.value.left.id == stmt.targets[0].id
    ):  # fmt: skip
        return stmt.targets[0].id
    return None


def _feeds_a_loss(adjoint: InnerAdjoint) -> bool:
    """`d_fake = sigmoid(logit)` then `loss = -np.mean(np.log(d_fake))`: a value named like a gradient
    (a GAN's discriminator output `d_fake`, `d_real`) that the function's loss is computed from is a
    forward value; a gradient comes after the loss, never into it."""
    from backprop_doctor.static.steps import _NOT_LOSS, LOSS_NAME

    return any(LOSS_NAME.fullmatch(name) and not _NOT_LOSS.search(name) for name in adjoint.feeds)


def _parameters_handed(prefix: tuple[ast.stmt, ...], updating: tuple[ast.stmt, ...]) -> dict[str, set[int | str]]:
    """{function: the positions (and keywords) at which some call of the step hands it a parameter the
    step's updates move}:
    `loss_and_grads(emb, out, ids, y)` with `emb -= lr * g_emb` hands it `emb` at position 0."""
    moved: set[str] = set()
    for stmt in updating:
        for node in ast.walk(stmt):
            target = node.target if isinstance(node, ast.AugAssign) else None
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
            if isinstance(target, ast.Name):
                moved.add(target.id)
    handed: dict[str, set[int | str]] = {}
    for stmt in (*prefix, *updating):
        for call in (n for n in ast.walk(stmt) if isinstance(n, ast.Call)):
            name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else None
            if name is None:
                continue
            for position, argument in enumerate(call.args):
                if isinstance(argument, ast.Name) and argument.id in moved:
                    handed.setdefault(name, set()).add(position)
            for keyword in call.keywords:
                if keyword.arg and isinstance(keyword.value, ast.Name) and keyword.value.id in moved:
                    handed.setdefault(name, set()).add(keyword.arg)
    return handed


def _loss_arguments(node: FunctionNode, me: str | None, handed: set[int | str] = frozenset()) -> list[str]:
    """Arguments of a function that returns a loss beside the gradient of that argument
    (`def td_loss(q, actions, targets): ... return loss, dq`, cs231n's `softmax_loss(x, y)` returning
    `loss, dx`): the argument is a forward value of the step, handed in by the call, and its gradient is
    computed in the function (a parameter handed in is not: its gradient is the update's own). Their `Site` is the function's first line: the replay changes such a value
    before the function's first statement runs (`replay.inner.Hooks`)."""
    from backprop_doctor.static.steps import _NOT_LOSS, LOSS_NAME
    from backprop_doctor.static.updates import _PARAM_NAME

    returned = {
        name for n in walk(node) if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple)
        for e in n.value.elts if (name := _returned_name(e)) is not None
    }  # fmt: skip
    # `np.sum(losses) / n`: a per-sample loss array reduced as it is handed back is the loss
    reduced = {
        _PLURAL_LOSS.sub(r"\1", name) for n in walk(node) if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple)
        for e in n.value.elts if (name := _returned_name(e, reduced=True)) is not None
    }  # fmt: skip
    if not any(LOSS_NAME.fullmatch(n) and not _NOT_LOSS.search(n) for n in returned | reduced):
        return []
    # a parameter handed in (`svm_loss(W, X, y, reg)` returning `loss, dW`) is what the update moves, not a forward value
    # so is one a call hands a parameter the step's updates move (`loss_and_grads(emb, ...)` with `emb -= lr * g_emb`), by position or keyword
    positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args) if a.arg not in (me, "self")]
    passed = {positional[k] for k in handed if isinstance(k, int) and k < len(positional)} | {k for k in handed if isinstance(k, str)}
    arguments = [
        a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
        if a.arg not in (me, "self") and not _PARAM_NAME.fullmatch(a.arg) and a.arg not in passed
    ]  # fmt: skip
    gradients = {m.group(1) for n in returned if (m := _ADJOINT.fullmatch(n)) is not None}
    return [a for a in arguments if a in gradients]


def _returned_name(element: ast.expr, reduced: bool = False) -> str | None:
    """The name a returned value is made of: `dz` of `dz`, of `dz / len(z)` or `dz * scale` (a gradient
    scaled as it is handed back), `loss` of `loss.mean()` or `np.sum(loss)` (a per-sample loss reduced).
    `reduced`: only a name under a reduction."""
    while isinstance(element, ast.BinOp) and isinstance(element.op, (ast.Div, ast.Mult)):
        element = element.left if not isinstance(element.left, ast.Constant) else element.right
    under = False
    if isinstance(element, ast.Call) and not element.keywords:
        func = element.func
        if isinstance(func, ast.Attribute) and func.attr in _REDUCTIONS and not element.args:
            element, under = func.value, True  # `loss.mean()`
        elif isinstance(func, ast.Attribute) and func.attr in _REDUCTIONS and len(element.args) == 1:
            element, under = element.args[0], True  # `np.mean(loss)`
    if reduced and not under:
        return None
    return element.id if isinstance(element, ast.Name) else None


_REDUCTIONS = frozenset({"mean", "sum"})
_PLURAL_LOSS = re.compile(r"(?i)(loss|cost|error)es$")


def _scaled(node: ast.expr) -> ast.expr:
    """`A` of `A / n`, `A * 0.5`, `2 * A`: a product under a constant or count factor."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)):
        if isinstance(node.op, ast.Mult) and _product_operands(node.right) is not None and _product_operands(node.left) is None:
            node = node.right
        else:
            node = node.left
    return node


def _product_adjoints(statements: Sequence[ast.stmt], forwards: Sequence[ast.stmt]) -> list[tuple[str, str]]:
    """(`coeff`, `scores`) for a gradient `dW = X.T.dot(coeff) / n` (or `np.dot(X.T, coeff)`, `X.T @ coeff`) of a
    weight a forward statement multiplies the same input by, `scores = X.dot(W)` (`+ b` after it): the array the
    gradient is the input's product with is the gradient of that product, whatever its name (`coeff`,
    `binary`, `margin_mask`). Only a plain name not already named as a gradient (`dscores` pairs by name)."""
    made: dict[tuple[str, str], str] = {}  # (input, weight) -> forward value: `scores = X.dot(W)`
    for stmt in [*forwards, *statements]:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            value = stmt.value.left if isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add) else stmt.value
            product = _product_operands(value)
            if product is not None and all(isinstance(part, (ast.Name, ast.Attribute)) for part in product):
                made.setdefault((ast.unparse(product[0]), ast.unparse(product[1])), stmt.targets[0].id)
    found: list[tuple[str, str]] = []
    for stmt in statements:
        if not isinstance(stmt, (ast.Assign, ast.AugAssign)) or not _targets(stmt):
            continue
        product = _product_operands(_scaled(stmt.value))
        if product is None or not isinstance(product[1], ast.Name) or _ADJOINT.fullmatch(product[1].id):
            continue
        given = _untransposed(product[0])
        if given == ast.unparse(product[0]):
            continue  # the input itself, not transposed: no weight's gradient
        target = _targets(stmt)[0]
        match = _ADJOINT.fullmatch(target)
        if match is None:
            continue
        weights = set(_forward_names(match.group(1), target))  # `dW` of `W`
        forward = next((f for (x, w), f in made.items() if x == given and w.rpartition(".")[2] in weights), None)
        if forward is not None and forward != product[1].id and (product[1].id, forward) not in found:
            found.append((product[1].id, forward))
    for stmt in statements:  # `return loss, X.T @ G, G.sum(axis=0)`: a weight's gradient handed back unnamed
        if not (isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Tuple)):
            continue
        for element in stmt.value.elts:
            product = _product_operands(_scaled(element))
            if product is None or not isinstance(product[1], ast.Name) or _ADJOINT.fullmatch(product[1].id):
                continue
            given = _untransposed(product[0])
            if given == ast.unparse(product[0]):
                continue
            forwards = {f for (x, _), f in made.items() if x == given}
            if len(forwards) == 1 and (forward := next(iter(forwards))) != product[1].id and (product[1].id, forward) not in found:
                found.append((product[1].id, forward))  # the one product of that input: its gradient, whatever the weight's name
    return found


def _callees(stmt: ast.stmt, functions: Mapping[str, tuple[str, FunctionNode]]) -> list[tuple[str, FunctionNode]]:
    """The step's functions a statement calls (`self.forward(X)`, `forward(X)`), in source order."""
    found = []
    for call, _ in _calls([stmt]):
        func = call.func
        key = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if key in functions and functions[key] not in found:
            found.append(functions[key])
    return found


def returned_forwards(tree: ast.Module | None, prefix: tuple[ast.stmt, ...]) -> dict[tuple[int, str], tuple[Site, str]]:
    """Forward values the step unpacks from one call of the file's functions, with where that function
    computes each: `z1, a1, out = forward(X, W1, W2)` and `forward` ending `return z1, a1, a1 @ W2`
    give (index of the statement in the prefix, "a1") -> (the site of `a1 = ...` in `forward`, "a1").

    Moved after the unpacking statement, `a1` moves nothing (`out` was computed with it already);
    moved inside `forward` right after it is computed, it moves the loss the way its adjoint says."""
    if tree is None:
        return {}
    called = called_functions(tree, prefix)
    found: dict[tuple[int, str], tuple[Site, str]] = {}
    for index, stmt in enumerate(prefix):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Call)):
            continue
        func = stmt.value.func
        wanted = func.id if isinstance(func, ast.Name) else f".{func.attr}" if isinstance(func, ast.Attribute) else None
        node = next((n for name, n in called if wanted is not None and (name == wanted or (wanted.startswith(".") and name.endswith(wanted)))), None)
        function = next((name for name, n in called if n is node), None)
        if node is None or function is None:
            continue
        returns = [r for r in ast.walk(node) if isinstance(r, ast.Return)]
        targets = stmt.targets[0].elts
        if len(returns) != 1 or not isinstance(returns[0].value, ast.Tuple) or len(returns[0].value.elts) != len(targets):
            continue
        statements = [st for st in _once(node.body) if st.lineno < returns[0].lineno]
        for target, element in zip(targets, returns[0].value.elts):
            if not (isinstance(target, ast.Name) and isinstance(element, ast.Name)):
                continue
            assigning = [st for st in statements if element.id in _targets(st)]
            if assigning:
                last = assigning[-1]
                found[(index, target.id)] = (Site(function, _first_line(node), last.lineno, last.end_lineno or last.lineno), element.id)
    return found


@dataclass(frozen=True)
class TimeAdjoint:
    """`dh` in a loop over time steps, the gradient of `hs[t]` that an earlier loop stores step by step.

    One per adjoint name; the replay measures it at every time step, from the last backwards.
    """

    name: str  # "dh", "df", "dhraw"
    series: str  # "hs", "fs": the forward loop's `series[t] = ...`
    variable: str  # the backward loop's variable ("t"): its value is the time step (`~self.cache`: counted down that list, `REVERSED`)
    adjoint: Site  # the statement of the backward loop body that last changes it
    forward_at: Site  # the `series[t] = ...` statement of the forward loop
    index: str  # the forward statement's index variable ("t")
    reads: tuple[str, ...] = ()  # names the adjoint's statement reads
    carried: tuple[tuple[str, int], ...] = ()  # of those, names the loop body assigns after it: from the step before (`dhnext`, line)
    unpaired: tuple[tuple[str, int], ...] = ()  # of those, gradients computed before it that no stored value pairs with (`dy`, line)
    in_update: bool = False  # computed in a function only the step's updating statements call (`rnn.backprop(d_y)`)
    local: bool = False  # the forward value is a local of the forward loop at that step (`f`), not an item of a series (`fs[t]`)
    per_step: bool = False  # the adjoint and its forward value are locals of step functions the loops call once per time step
    loop: Site | None = None  # the backward loop over time itself (its first and last lines, in the function holding it)
    # the key of the series, from the loop's variable, whose gradient the value the pass leaves is: a pass that
    # reads the adjoint with `hs[t]` before it assigns it again at its end (`dz = dh * (1 - hs[t] ** 2)` ...
    # `dh = dz @ Wh.T`) leaves the gradient of `hs[t - 1]` (-1); read with `last_hs[t + 1]`, of `last_hs[t]` (0)
    lag: int = 0
    offset: int = 0  # the key of the series the pass at the loop's variable t works on, from t: 1 for `last_hs[t + 1]`

    @property
    def line(self) -> int:
        return self.adjoint.line

    @property
    def forward(self) -> str:
        return self.series if self.local else f"{self.series}[{self.index}]"


def _time_variable(loop: ast.For) -> str | None:
    """`t` of `for t in ...:`, and of `for t, x in enumerate(inputs):`: the name that counts the steps."""
    if isinstance(loop.target, ast.Name):
        return loop.target.id
    iterable = loop.iter
    if (
        isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2 and isinstance(loop.target.elts[0], ast.Name)
        and isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "enumerate"
    ):  # fmt: skip
        return loop.target.elts[0].id
    return None


def _time_loops(body: list[ast.stmt]) -> list[ast.For]:
    """`for t in ...:` loops of a function body (not nested in another loop) that count time steps."""
    found: list[ast.For] = []
    for stmt in body:
        if isinstance(stmt, ast.For) and (_time_variable(stmt) is not None or _reversed_list(stmt) is not None):
            found.append(stmt)  # `for x, h, z in reversed(self.cache):` too: a walk back over what a forward loop appended
        elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.While, ast.AsyncFor, ast.For)):
            for block in _child_blocks(stmt):
                found += _time_loops(block)
    return found


# a time step counted down a list the loop walks reversed (`for x, h, z in reversed(self.cache)`): the i-th
# pass is step len(list) - 1 - i, the list being the one a forward loop appended to once per time step
REVERSED = "~"


def _reversed_list(loop: ast.For) -> str | None:
    """`self.cache` of `for x, h, z in reversed(self.cache):` or `for entry in cache[::-1]:`."""
    walked = loop.iter
    if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Name) and walked.func.id == "reversed" and len(walked.args) == 1 and not walked.keywords:
        return _series_container(walked.args[0])
    if isinstance(walked, ast.Subscript) and isinstance(walked.slice, ast.Slice):
        cut = walked.slice
        if cut.lower is None and cut.upper is None and isinstance(cut.step, ast.UnaryOp) and isinstance(cut.step.op, ast.USub):
            if isinstance(cut.step.operand, ast.Constant) and cut.step.operand.value == 1:
                return _series_container(walked.value)
    return None


def _appended_per_step(node: FunctionNode | tuple[ast.stmt, ...], loop: ast.For, statements: list[ast.stmt]) -> set[str]:
    """Lists a forward loop over time appends one entry to per pass (`self.cache.append((x, h, z))`), emptied
    before the loop in the same function (`self.cache = []`): entry t is time step t."""
    body = list(node) if isinstance(node, tuple) else node.body
    emptied = {
        container for stmt in _once(body) if isinstance(stmt, ast.Assign) and stmt.lineno < loop.lineno and len(stmt.targets) == 1
        and isinstance(stmt.value, ast.List) and not stmt.value.elts and (container := _series_container(stmt.targets[0]))
    }  # fmt: skip
    found: list[str] = []
    for stmt in statements:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append" and len(call.args) == 1:
            container = _series_container(call.func.value)
            if container is not None:
                found.append(container)
    return {c for c in found if found.count(c) == 1 and c in emptied}


_SERIES_FORMS = ("{}s", "{}s_", "{}_s", "{}_list", "{}es", "{}")  # the last: a dict named for the value itself, `self.o[t]`
_PRE_ACTIVATION = ("_raw", "raw", "_pre", "_in", "_net", "net")  # `dhraw`: the gradient of the input of `hs[t]`'s activation


def _series_container(node: ast.expr) -> str | None:
    """`hs` of `hs[t] = ...`, `self.last_hs` of `self.last_hs[i + 1] = h`: where a forward loop stores a series."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return f"self.{node.attr}"
    return None


def _step_index(index: ast.expr, variable: str) -> str | None:
    """`t`, or `i + 1`: the loop's variable, or it shifted by a whole number (the series' own key)."""
    if isinstance(index, ast.Name) and index.id == variable:
        return variable
    if (
        isinstance(index, ast.BinOp) and isinstance(index.op, (ast.Add, ast.Sub)) and isinstance(index.left, ast.Name)
        and index.left.id == variable and isinstance(index.right, ast.Constant) and type(index.right.value) is int
    ):  # fmt: skip
        return ast.unparse(index)
    return None


def _stored(name: str, series: dict[str, tuple[Site, str]]) -> str | None:
    """The series a gradient's name pairs with (`dh` -> `hs`, `dhraw` -> `hs`, `d_h` -> `self.last_hs`), if
    the forward loop stores one."""
    match = _ADJOINT.fullmatch(name)
    if match is None:
        return None
    stems = _forward_names(match.group(1), name)
    stems += [stem[: -len(end)] for stem in stems for end in _PRE_ACTIVATION if stem.endswith(end) and len(stem) > len(end)]
    bare = {s.rpartition(".")[2]: s for s in series}
    exact = next((bare[form.format(stem)] for stem in stems for form in _SERIES_FORMS if form.format(stem) in bare), None)
    if exact is not None:
        return exact
    named = [s for stem in stems for b, s in bare.items() if b.startswith(f"{stem}_")]  # `h_states`, `f_gate`
    if len(named) == 1:
        return named[0]
    kept = [s for stem in stems for b, s in bare.items() if any(b.endswith(f"_{form.format(stem)}") for form in _SERIES_FORMS[:1])]  # `last_hs`
    return kept[0] if len(kept) == 1 else None


# the `Site.function` of a statement of the step's own prefix (not of a function it calls): the replay runs
# the prefix as one compiled module (`replay.runner.Runner.prefix_code`)
STEP = "<step>"


def time_adjoints(tree: ast.Module | None, prefix: tuple[ast.stmt, ...], updating: tuple[ast.stmt, ...] = ()) -> list[TimeAdjoint]:
    """Adjoints of a backward loop over time paired with what a forward loop stores per step.

        for t in range(len(inputs)):              # forward: hs[t], fs[t], cs[t] ...
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        for t in reversed(range(len(inputs))):    # backward
            dh = Why.T @ dy + dhnext              # the gradient of hs[t]
            ...
            dhnext = Whh.T @ dhraw                # carried to step t - 1

    Both loops are in functions the step calls once; the forward value must be stored under the
    loop's own variable (`hs[t]`, or it shifted: `self.last_hs[i + 1]`), so that step t of the backward
    loop is paired with the value stored under key t. The backward loop may sit in a function the
    step's `updating` statements call (`rnn.backprop(d_y)` computes its gradients and updates):
    such an adjoint is marked `in_update`.
    """
    if tree is None:
        return []
    series: dict[str, tuple[Site, str]] = {}
    values: dict[str, tuple[Site, str]] = {}  # a forward loop's locals, assigned once per pass (`f = sigmoid(a[:, H:2 * H])`)
    found: list[TimeAdjoint] = []
    before = {name for name, _ in called_functions(tree, prefix)}
    functions, _methods = _definitions(tree)
    stepped: dict[str, tuple[FunctionNode, str]] = {}  # a step function a forward loop calls -> (it, the loop's variable)
    states: dict[str, set[str]] = {}  # a step function a forward loop calls -> its parameters handed the state the call rebinds (`h`)
    backward: list[tuple[str, FunctionNode, str, Site, bool]] = []  # the same for backward loops, with the loop
    own = [(STEP, prefix)] if prefix else []  # min-char-rnn's loops over time written in the step itself
    called = called_functions(tree, (*prefix, *updating))
    back = min((loop.lineno for loop in _time_loops(list(prefix)) if _backwards(loop)), default=None)
    # a forward function the step calls before its own backward loop (`hs, ys, loss = forward(...)`) stores
    # its series first, so that the loop's adjoints pair with them
    early = {n for n, _ in called_functions(tree, tuple(s for s in prefix if s.lineno < back))} if own and back is not None else set()
    appended: set[str] = set()  # lists a forward loop appends to once per time step, emptied before it
    for name, node in [*(c for c in called if c[0] in early), *own, *(c for c in called if c[0] not in early)]:
        body = list(node) if isinstance(node, tuple) else node.body
        start = node[0].lineno if isinstance(node, tuple) else _first_line(node)
        for loop in _time_loops(body):
            variable = _time_variable(loop)
            statements = _once(loop.body)
            onward = not _backwards(loop)
            if onward:
                appended |= _appended_per_step(node, loop, statements)
            elif (walked := _reversed_list(loop)) is not None and walked in appended:
                variable = REVERSED + walked  # `for x, h, z in reversed(self.cache):` over the list a forward loop filled step by step
            if variable is None:
                continue  # `for x, h in reversed(pairs):` over a list no forward loop filled one entry per time step
            for position, stmt in enumerate(statements):
                site = Site(name, start, stmt.lineno, stmt.end_lineno or stmt.lineno)
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                    target = stmt.targets[0]
                    if isinstance(target, ast.Subscript) and (container := _series_container(target.value)) and (at := _step_index(target.slice, variable)):
                        series.setdefault(container, (site, at))
                    elif onward and isinstance(target, ast.Name) and sum(target.id in _changed(st) for st in statements) == 1 and not _ADJOINT.fullmatch(target.id):
                        values.setdefault(target.id, (site, variable))
                for target_name in _targets(stmt):
                    match = _ADJOINT.fullmatch(target_name)
                    if match is None or target_name in {a.name for a in found}:
                        continue
                    stored, local = _stored(target_name, series), False
                    if stored is None and (stored := _local_value(target_name, values)) is not None:
                        local = True
                        if _read_first(target_name, statements) or values[stored][0].function == name and values[stored][0].line >= loop.lineno and values[stored][0].line <= (loop.end_lineno or loop.lineno):
                            continue  # carried from the step after (`dh` read before the pass assigns it), or the loop's own value
                    if stored is None and not onward and (through := _through_slope(stmt, statements, variable, found)) is not None:
                        stored, local = through  # `daz = dz * z * (1 - z)`: the gradient of `z`'s pre-activation
                    if stored is None:
                        continue
                    paired = values if local else series
                    if paired[stored][0].line == stmt.lineno:
                        continue
                    last = max((st for st in statements if target_name in _changed(st)), key=lambda st: st.lineno)
                    later = {n: st.lineno for st in statements[position + 1 :] for n in _changed(st)}
                    read = reads(last)
                    carried = tuple((n, later[n]) for n in sorted(_read_through(read, statements[:position], {a.name for a in found})) if n in later and n != target_name)
                    earlier = {n: st.lineno for st in statements[:position] for n in _changed(st)}
                    unpaired = tuple(
                        (n, earlier[n]) for n in sorted(read)
                        if n in earlier and n not in later and _ADJOINT.fullmatch(n) and not _stored(n, series) and not _local_value(n, values)
                    )  # fmt: skip
                    offset = _carried_at(target_name, stored, variable, [st for st in statements if st.lineno < last.lineno]) if not local and not onward else None
                    lag = offset - 1 if offset is not None else 0
                    if offset is None and not local and not onward and not _read_first(target_name, statements) and (ahead := _stored_ahead(target_name, stored, paired[stored][1], variable, statements[statements.index(last) :])):
                        offset = lag = ahead  # `draw = (1 - hs[t + 1] ** 2) * dh` of `hs[t + 1] = np.tanh(...)`: the gradient of `hs[t + 1]`
                    found.append(
                        TimeAdjoint(
                            target_name, stored, variable, Site(name, start, last.lineno, last.end_lineno or last.lineno),
                            paired[stored][0], paired[stored][1], tuple(sorted(read)), carried, unpaired, name != STEP and name not in before, local,
                            loop=Site(name, start, loop.lineno, loop.end_lineno or loop.lineno),
                            lag=lag, offset=offset or 0,
                        )
                    )
            # a step function called by a loop of a function the step calls, or of the step itself
            for callee, called in _step_calls(functions, statements, _methods):
                if onward:
                    stepped.setdefault(callee, (called, variable))
                    states.setdefault(callee, set()).update(_states_handed(called, callee, statements))
                else:
                    site = Site(name, start, loop.lineno, loop.end_lineno or loop.lineno)
                    backward.append((callee, called, variable, site, name != STEP and name not in before, _returned_back(called, statements)))
    named = {a.name for a in found}
    for callee, called, variable, loop_site, in_update, returned in backward:
        forward_name = callee.replace("backward", "forward") if "backward" in callee else forward_of(callee, stepped.keys())
        paired_with = stepped.get(forward_name) if forward_name is not None else None
        if paired_with is not None:
            found += [
                a for a in _step_function_adjoints(called, callee, paired_with, variable, loop_site, in_update, returned, forward_name, states.get(forward_name, set()))
                if a.name not in named
            ]
    return found


def _through_slope(stmt: ast.stmt, statements: list[ast.stmt], variable: str, found: list[TimeAdjoint]) -> tuple[str, bool] | None:
    """(series, local) of the forward value an adjoint no name pairs is the gradient of the pre-activation of:
    a backward loop's one assignment of a product of an adjoint the loop pairs with a forward value and that
    value itself (`daz = dz * z * (1 - z)` of `dz`, the gradient of `z = sigmoid(...)`; `dah = dhc * (1 - hc ** 2)`),
    that the loop does not read before it (not one carried from the step after). The walk measures it against that
    value through the activation's slope (`replay.gradients.measure_adjoint`); None for any other statement."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return None
    target = stmt.targets[0].id
    if sum(target in _changed(st) for st in statements) != 1 or _read_first(target, statements):
        return None
    factors = _multiplied(stmt.value)
    if factors is None:
        return None
    read = {n.id for f in factors for n in ast.walk(f) if isinstance(n, ast.Name)}
    paired = [a for a in found if a.name in read and a.name in {f.id for f in factors if isinstance(f, ast.Name)} and a.variable == variable]
    for adjoint in paired:
        forward = _forward_reads(factors, adjoint, variable)
        if forward:
            return adjoint.series, adjoint.local
    return None


def _read_through(read: set[str], earlier: list[ast.stmt], paired: set[str]) -> set[str]:
    """`read`, and what the statements of `earlier` (the pass's statements before the adjoint's) that bind a
    name of it read in turn, through every name no measured adjoint is (`paired`): `do = dht * tc` reads the
    `dh_next` carried from the step after through `dht = dh[:, t, :] + dh_next`."""
    found, pending = set(read), list(read)
    while pending:
        name = pending.pop()
        if name in paired:
            continue
        for stmt in earlier:
            if name in _changed(stmt):
                for n in reads(stmt) - found:
                    found.add(n)
                    pending.append(n)
    return found


def _multiplied(node: ast.expr) -> list[ast.expr] | None:
    """The factors of an elementwise product (`dz * z * (1 - z)`: `dz`, `z`, `1 - z`); None for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _multiplied(node.left), _multiplied(node.right)
        return [*(left if left is not None else [node.left]), *(right if right is not None else [node.right])]
    return None


def _forward_reads(factors: list[ast.expr], adjoint: TimeAdjoint, variable: str) -> bool:
    """Whether a factor other than the adjoint reads its forward value: the local `z`, or the series' item
    at the loop's own step (`fs[t]`)."""
    for factor in factors:
        if isinstance(factor, ast.Name) and factor.id == adjoint.name:
            continue
        for node in ast.walk(factor):
            if adjoint.local and isinstance(node, ast.Name) and node.id == adjoint.series:
                return True
            if not adjoint.local and isinstance(node, ast.Subscript) and _series_container(node.value) == adjoint.series and _step_index(node.slice, variable):
                return True
    return False


def carried_out_of(tree: ast.Module | None, loop: Site, at: Site, names: Sequence[str]) -> bool:
    """Whether the statement at `at` is computed from what the backward loop over time at `loop` carries out
    of it: after the loop in its own function, reading a name the loop changes (`dh0 = dprev_h`), or by a
    call of the function holding the loop (`grads["Wx"], dh0 = lstm_backward(dh, caches)`)."""
    if tree is None:
        return False
    if at.function != loop.function:
        statement = next((n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == at.line and not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))), None)
        called = {c.func.id if isinstance(c.func, ast.Name) else c.func.attr for c, _ in _calls([statement]) if isinstance(c.func, (ast.Name, ast.Attribute))} if statement is not None else set()
        return loop.function.rpartition(".")[2] in called
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While)) and n.lineno == loop.line), None)
    if node is None or loop.end_line >= at.line:
        return False
    changed = {c for st in ast.walk(node) if isinstance(st, ast.stmt) and st is not node for c in _changed(st)}
    return bool(changed & set(names))


# a time step read from the frame of the loop that calls a step function (`lstm_step_forward(x[:, t, :], ...)`)
CALLER = "^"


def _step_calls(
    functions: dict[str, FunctionNode], statements: list[ast.stmt], methods: dict[str, list[tuple[str, FunctionNode]]] | None = None
) -> list[tuple[str, FunctionNode]]:
    """The file's functions a loop body's statements call once per pass (`lstm_step_forward(...)`), by name; with
    `methods`, also a method one class of the file defines, called on an object (`cell.forward(xs[t], h)`), by
    its qualified name (`GRUCell.forward`)."""
    found: dict[str, FunctionNode] = {}
    for call, looped in _calls(statements):
        if looped:
            continue
        if isinstance(call.func, ast.Name) and call.func.id in functions:
            found.setdefault(call.func.id, functions[call.func.id])
        elif (
            methods and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id != "self"
            and len(methods.get(call.func.attr, ())) == 1 and ("forward" in call.func.attr or "backward" in call.func.attr)
        ):  # fmt: skip
            owner, node = methods[call.func.attr][0]
            found.setdefault(f"{owner}.{call.func.attr}", node)
    return list(found.items())


def _states_handed(node: FunctionNode, name: str, statements: list[ast.stmt]) -> set[str]:
    """The parameters of a step function a forward loop calls that are handed the state the same statement rebinds
    (`h` of `h, cache = cell.forward(xs[t], h)`): the previous step's state, whose gradient its backward returns."""
    parameters = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
    found: set[str] = set()
    short = name.rpartition(".")[2]
    for stmt in statements:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
            continue
        func = stmt.value.func
        if (func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None) != short:
            continue
        target = stmt.targets[0]
        bound = {t.id for t in (target.elts if isinstance(target, ast.Tuple) else [target]) if isinstance(t, ast.Name)}
        for position, argument in enumerate(stmt.value.args[: len(parameters)]):
            if isinstance(argument, ast.Name) and argument.id in bound:
                found.add(parameters[position])
    return found


def _returned_back(node: FunctionNode, statements: list[ast.stmt]) -> dict[str, tuple[str, int]]:
    """For a backward step function the loop calls as `dh, dc, ... = step_backward(dh, dc, ...)`: each
    parameter that receives what the previous call returned (`dc`), with the name the function returns
    it under and the line that last binds that name (`dc_prev`, 36): the gradient carried from the
    step after."""
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple)]
    if len(returns) != 1:
        return {}
    returned = returns[0].value.elts
    parameters = [a.arg for a in node.args.args]
    body = _once(node.body)
    found: dict[str, tuple[str, int]] = {}
    for stmt in statements:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple)):
            continue
        call = stmt.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == node.name):
            continue
        targets = [t.id if isinstance(t, ast.Name) else None for t in stmt.targets[0].elts]
        for position, argument in enumerate(call.args[: len(parameters)]):
            if not (isinstance(argument, ast.Name) and argument.id in targets and _ADJOINT.fullmatch(argument.id)):
                continue
            back = returned[targets.index(argument.id)] if targets.index(argument.id) < len(returned) else None
            if isinstance(back, ast.Name):
                lines = [st.lineno for st in body if back.id in _changed(st)]
                if lines:
                    found[parameters[position]] = (back.id, max(lines))
    return found


def _step_function_adjoints(
    node: FunctionNode, name: str, forward: tuple[FunctionNode, str], variable: str, loop: Site, in_update: bool,
    returned: dict[str, tuple[str, int]] | None = None, forward_name: str | None = None, states: set[str] = frozenset(),
) -> list[TimeAdjoint]:
    """Adjoints of a backward step function (`lstm_step_backward`, called once per time step by a backward loop)
    paired by name with the locals of its forward twin (`lstm_step_forward`, called by a forward loop): `do` of `o`
    at step t is measured with `o` moved in the forward call of step t, the step read from each call's caller."""
    forward_node, index = forward
    forward_start = _first_line(forward_node)
    forward_statements = _once(forward_node.body)
    values: dict[str, tuple[Site, str]] = {}
    forward_name = forward_name or forward_node.name
    for state in sorted(states):  # `h` of `forward(self, x, h)`, handed the state: moved as the call starts
        values[state] = (Site(forward_name, forward_start, forward_start, forward_start), CALLER + index)
    for stmt in forward_statements:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target = stmt.targets[0]
        names = [target] if isinstance(target, ast.Name) else [t for t in target.elts if isinstance(t, ast.Name)] if isinstance(target, ast.Tuple) else []
        for t in names:
            if sum(t.id in _changed(st) for st in forward_statements) == 1 and not _ADJOINT.fullmatch(t.id):
                values.setdefault(t.id, (Site(forward_name, forward_start, stmt.lineno, stmt.end_lineno or stmt.lineno), CALLER + index))
    statements = _once(node.body)
    start = _first_line(node)
    found: list[TimeAdjoint] = []
    for position, stmt in enumerate(statements):
        for target in _targets(stmt):
            if _ADJOINT.fullmatch(target) is None or target in {a.name for a in found} or _read_first(target, statements):
                continue
            stored = _local_value(target, values)
            if stored is None and (through := _through_slope(stmt, statements, CALLER + variable, found)) is not None:
                stored = through[0]  # `dz_pre = dz * z * (1 - z)`: the gradient of `z`'s pre-activation
            if stored is None:
                continue
            last = max((st for st in statements if target in _changed(st)), key=lambda st: st.lineno)
            read = reads(last)
            earlier = {n: st.lineno for st in statements[:position] for n in _changed(st)}
            unpaired = tuple((n, earlier[n]) for n in sorted(read) if n in earlier and _ADJOINT.fullmatch(n) and not _local_value(n, values))
            # what it reads of the gradient the step after returned (`dc`, rebound `dc = dc + ...` first): carried from there
            carried = tuple(returned[n] for n in sorted(read) if returned and n in returned and _only_added_to(n, statements[:position]))
            found.append(
                TimeAdjoint(
                    target, stored, CALLER + variable, Site(name, start, last.lineno, last.end_lineno or last.lineno), values[stored][0],
                    values[stored][1], tuple(sorted(read)), carried, unpaired, in_update, True, per_step=True, loop=loop,
                )
            )
    return found


def _only_added_to(name: str, statements: list[ast.stmt]) -> bool:
    """Whether `name` is rebound in `statements` only by adding to it (`dc = dc + dh * o`, `dc += ...`):
    it still holds the value it came in with, plus terms of this step."""
    for stmt in statements:
        if name not in _changed(stmt):
            continue
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            continue
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add) and name in reads(stmt):
            continue
        return False
    return True


def _backwards(loop: ast.For) -> bool:
    """`for t in reversed(range(T))`, `for t in range(T - 1, -1, -1)`: a loop that walks time backwards."""
    walked = loop.iter
    if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Name):
        if walked.func.id == "reversed":
            return True
        if walked.func.id == "range" and len(walked.args) == 3:
            step = walked.args[2]
            return isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub) or isinstance(step, ast.Constant) and isinstance(step.value, (int, float)) and step.value < 0
    return isinstance(walked, ast.Subscript) and isinstance(walked.slice, ast.Slice) and walked.slice.step is not None  # `seq[::-1]`


def _local_value(name: str, values: dict[str, tuple[Site, str]]) -> str | None:
    """The forward loop's local a gradient's name pairs with (`df` -> `f`, `dc` -> `c`, `da` -> `a`)."""
    match = _ADJOINT.fullmatch(name)
    if match is None:
        return None
    stems = _forward_names(match.group(1), name)
    found = next((stem for stem in stems if stem in values), None)
    if found is not None:
        return found
    # `dc` of `next_c = f * prev_c + i * g`: the value the step makes, named as the state it passes on
    made = [form.format(stem) for stem in stems[:1] for form in _MADE_FORMS if form.format(stem) in values]
    return made[0] if len(made) == 1 else None


# a step function's new state, named for the step it goes to (`next_c`, `c_next`, `new_h`, `h_new`)
_MADE_FORMS = ("next_{}", "{}_next", "new_{}", "{}_new")


def _carried_at(name: str, series: str, variable: str, statements: list[ast.stmt]) -> int | None:
    """The shift from the loop's variable of the key of `series` (`hs[t]`: 0, `self.last_hs[t + 1]`: 1) that the
    first statement reading the adjoint `name` reads it beside, when that statement reads it before any assigns
    it (a value carried from the pass before), the statements of the backward loop's pass before its last
    assignment given: the adjoint comes in as the gradient of that key and leaves as that of the key below
    (`TimeAdjoint.lag`). None otherwise (the value is the gradient of the series at the loop's own variable)."""
    if variable.startswith(REVERSED) or not _read_first(name, statements):
        return None
    first = next(st for st in statements if name in reads(st))
    shifts = set()
    for node in ast.walk(first):
        if isinstance(node, ast.Subscript) and _series_container(node.value) == series and _step_index(node.slice, variable) is not None:
            index = node.slice
            shifts.add(0 if isinstance(index, ast.Name) else index.right.value * (1 if isinstance(index.op, ast.Add) else -1))  # type: ignore[attr-defined]
    return shifts.pop() if len(shifts) == 1 else None


def _stored_ahead(name: str, series: str, index: str, variable: str, after: list[ast.stmt]) -> int:
    """The shift of the key the forward loop stores `series` under (`hs[t + 1] = np.tanh(...)`: 1), when it is not
    0 and the adjoint's own last statement or one of the backward pass after it (`after`, that statement first)
    reads the series at that same shift of the backward loop's variable, beside the adjoint `name` (`draw = (1 -
    hs[t + 1] ** 2) * dh`): the pass at t works on the value the forward pass at t stored, and `dh`, `draw` are
    gradients of `hs[t + 1]`, not of `hs[t]`. 0 otherwise. Only for an adjoint the pass computes, not one it
    carries from the pass before (`dh_prev = Wh.T @ ((1 - hs[t + 1] ** 2) * dh)`, read first by `dh = ... + dh_prev`,
    is the gradient of `hs[t]`)."""
    try:
        stored = ast.parse(index, mode="eval").body
    except SyntaxError:
        return 0
    ahead = _shift_of(stored)
    if not ahead or variable.startswith(REVERSED):
        return 0
    for position, stmt in enumerate(after):
        if position and name not in reads(stmt):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Subscript) and _series_container(node.value) == series and _step_index(node.slice, variable) is not None and _shift_of(node.slice) == ahead:
                return ahead
    return 0


def _shift_of(index: ast.expr) -> int | None:
    """0 for `t`, 1 for `t + 1`, -1 for `t - 1`; None for any other key."""
    if isinstance(index, ast.Name):
        return 0
    if isinstance(index, ast.BinOp) and isinstance(index.op, (ast.Add, ast.Sub)) and isinstance(index.left, ast.Name) and isinstance(index.right, ast.Constant) and type(index.right.value) is int:
        return index.right.value * (1 if isinstance(index.op, ast.Add) else -1)
    return None


def _read_first(name: str, statements: list[ast.stmt]) -> bool:
    """Whether a loop body reads `name` before (or while) it first assigns it: a value carried over
    from the pass before (`dh` of `do = dh * tc` ... `dh = da @ Wh.T`), not this pass's gradient."""
    for stmt in statements:
        if name in reads(stmt):
            return True
        if name in _changed(stmt):
            return False
    return False


def inner_cuts(tree: ast.Module | None, prefix: tuple[ast.stmt, ...]) -> frozenset[str]:
    """The minibatches the functions the step calls once cut from a data set and hand to a call, by
    an index they draw themselves: `self.X[idx]` of `idx = self.rng.choice(...)` then
    `self.model.loss(self.X[idx], self.y[idx])` in a solver's `_step()`. The data set (`self.X`, a
    name or an attribute) is one the function does not bind; the index reads only names it binds."""
    if tree is None:
        return frozenset()
    found: set[str] = set()
    for _name, node in called_functions(tree, prefix):
        bound = {n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        walked = {n.id for loop in walk(node) if isinstance(loop, ast.For) for n in walk(loop.target) if isinstance(n, ast.Name)}
        bound -= walked  # `self.configs[k]` of `for k in ...`: one entry a loop walks, not a batch
        for call in (n for n in walk(node) if isinstance(n, ast.Call)):
            for arg in call.args:
                if not (isinstance(arg, ast.Subscript) and isinstance(arg.slice, (ast.Name, ast.Slice))):
                    continue
                base = arg.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if not isinstance(base, ast.Name) or (base is arg.value and base.id in bound):
                    continue
                read = {n.id for n in walk(arg.slice) if isinstance(n, ast.Name)}
                if read and read <= bound:
                    found.add(ast.unparse(arg))
    return frozenset(found)


def inner_assigned(tree: ast.Module | None, prefix: tuple[ast.stmt, ...]) -> dict[str, int]:
    """Names the functions the step calls once assign, with the line of their last assignment there
    (`dw` at line 16 in `propagate`): where a gradient the loop only unpacks is really computed.
    Entries of dictionaries count too, as `grads['b1']`."""
    if tree is None:
        return {}
    found: dict[str, int] = {}
    definitions = _definitions(tree)
    for _name, node in called_functions(tree, prefix):
        before = dict(found)
        own: dict[str, int] = {}
        accumulated = _accumulated_in_loops(node.body)
        overwritten = _overwritten_in_loops(node.body)
        through = _added_through_calls(node.body, definitions)  # in another function, wherever it is written
        zeroed: set[str] = set()  # names and entries whose last assignment made zeros to be filled in
        aliases = _attribute_aliases(node)
        for stmt in _once(node.body):
            if (into := _element_written(stmt)) in zeroed:
                found[into] = own[into] = stmt.lineno  # `g["emb"][ids] += de` after `g["emb"] = np.zeros_like(E)`: filled here
                continue
            for target in _targets(stmt):
                zero = _zeros(stmt) or _zeros_for(stmt, target)
                # a loop after it binding the name anew from other values (`grad_v = (1 - s[k]) * u[k]` over the
                # negatives, for `+=`): what the function hands on is the loop's last value, formed there
                line = accumulated.get(target, 0) if zero else overwritten.get(target, 0)
                found[target] = own[target] = through[target] if zero and target in through else line if line > stmt.lineno else stmt.lineno
                (zeroed.add if zero else zeroed.discard)(target)
            if isinstance(stmt, ast.Expr):  # `np.add.at(dW, rows, g * C[cols])` fills a zeroed gradient in place
                for filled in _changed(stmt):
                    found[filled] = own[filled] = stmt.lineno
            for entry, value in _entries(stmt):
                found[entry] = own.get(value, stmt.lineno)  # `grads = {"dw": dw}`: where `dw` is computed
                (zeroed.add if _zeros(stmt) else zeroed.discard)(entry)
                holder, bracket, key = entry.partition("[")
                if bracket and holder in aliases:  # `g["V"] = ...` after `g = self.grads`: `self.grads['V']` too
                    found[f"{aliases[holder]}[{key}"] = found[entry]
        for place, returned in enumerate(_returned_tuple(node)):
            if returned in own:  # `return grad_a, grad_b`, unpacked by the loop as `ga, gb = compute_grads(...)`
                found[f"{node.name}()[{place}]"] = own[returned]
        for entry, line in _accumulated_entries(node.body).items():
            found[entry] = max(found.get(entry, 0), line)  # `grads["Wx"] += x.T @ da` in the loop over time steps
        for entry, line in _set_in_loops(node.body).items():
            found.setdefault(entry, line)  # `layer["db"] = np.sum(dZ)` for each layer of the list the loop walks
        for attribute, name in _kept_as_attributes(node).items():
            for entry in [e for e in found if e.startswith(f"{name}[") and found[e] != before.get(e)]:  # this function's entries
                found.setdefault(f"{attribute}{entry[len(name):]}", found[entry])  # `self.grads = grads` after `grads["Uh"] += ...`
    return found


def _kept_as_attributes(node: FunctionNode) -> dict[str, str]:
    """{`self.grads`: `grads`} for each statement of the method's own body binding an attribute of `self` to a
    plain name, once (`self.grads = grads` at the end of a backward): the entries it set under that name are
    the attribute's."""
    bound: dict[str, list[str]] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Name):
            target = stmt.targets[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                bound.setdefault(ast.unparse(target), []).append(stmt.value.id)
    return {attribute: names[0] for attribute, names in bound.items() if len(names) == 1}


def _returned_tuple(node: FunctionNode) -> list[str | None]:
    """The names a function returns as a tuple, in their places (None for a place that is not a
    name), from its last `return` of its own; [] where that returns no tuple."""
    returns = [n for n in _own_nodes(node) if isinstance(n, ast.Return)]
    value = max(returns, key=lambda r: r.lineno).value if returns else None
    if not isinstance(value, ast.Tuple):
        return []
    return [e.id if isinstance(e, ast.Name) else None for e in value.elts]


def _attribute_aliases(node: ast.AST) -> dict[str, str]:
    """Names a method binds once to an attribute of `self` (`g = self.grads`, `p, g = self.params,
    self.grads`), by name: the dict entries it sets through them are the attribute's own entries."""
    bound: dict[str, list[str | None]] = {}
    for stmt in ast.walk(node):
        if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = getattr(stmt, "value", None) if isinstance(stmt, ast.Assign) else None
        pairs: list[tuple[ast.expr, ast.expr | None]] = []
        for target in targets:
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                pairs += list(zip(target.elts, value.elts))
            elif isinstance(target, ast.Tuple):
                pairs += [(e, None) for e in target.elts]
            else:
                pairs.append((target, value))
        for target, given in pairs:
            if isinstance(target, ast.Name):
                attribute = given if isinstance(given, ast.Attribute) and isinstance(given.value, ast.Name) and given.value.id == "self" else None
                bound.setdefault(target.id, []).append(ast.unparse(attribute) if attribute is not None else None)
    return {name: values[0] for name, values in bound.items() if len(values) == 1 and values[0] is not None}


def _element_written(stmt: ast.stmt) -> str | None:
    """`dW` of `dW[:, k] = ...` or `dW[rows] += ...`, `grads['emb']` of `grads["emb"][ids] += ...`: the
    name or dict entry one element (or slice) of which the statement stores into; None for any other."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
    if len(targets) != 1 or not isinstance(targets[0], ast.Subscript):
        return None
    base = targets[0].value
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name) and isinstance(base.slice, ast.Constant):
        return f"{base.value.id}[{base.slice.value!r}]"
    return None


def _set_in_loops(body: list[ast.stmt]) -> dict[str, int]:
    """Entries a loop of the body sets under a constant key of its loop variable's dict (`for layer in
    reversed(layers): ... layer["db"] = np.sum(dZ)`), as `layer['db']`, with the last such line: where a
    gradient that an update reads as the same entry of its own loop's `layer` is computed."""
    found: dict[str, int] = {}
    for loop in _loops(body):
        if not isinstance(loop, ast.For):
            continue
        for node in ast.walk(loop):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
                        entry = f"{target.value.id}[{target.slice.value!r}]"
                        found[entry] = max(found.get(entry, 0), node.lineno)
    return found


def _accumulated_entries(body: list[ast.stmt]) -> dict[str, int]:
    """Entries of a dict a loop of the body adds into under a constant key (`grads["Wx"] += x.T @ da`),
    as `grads['Wx']`, with the last such line."""
    found: dict[str, int] = {}
    for target, line in _added_in_loops(body):
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Constant):
            entry = f"{target.value.id}[{target.slice.value!r}]"
            found[entry] = max(found.get(entry, 0), line)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):  # `grads["W" + k] += ...`: any entry
            entry = f"{target.value.id}[*]"
            found[entry] = max(found.get(entry, 0), line)
    return found


def _zeros(stmt: ast.stmt) -> bool:
    """`dW = np.zeros(W.shape)`, `dW = np.zeros_like(W)`, `dW = 0`: a sum about to be accumulated; `dW = [None] * L`,
    `[None for _ in layers]`: a place per layer about to be filled (`dW[l] = dz @ a[l].T` in the loop over them)."""
    value = stmt.value if isinstance(stmt, ast.Assign) else None
    if isinstance(value, ast.Constant):
        return value.value == 0
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        listed = value.left if isinstance(value.left, ast.List) else value.right if isinstance(value.right, ast.List) else None
        return listed is not None and bool(listed.elts) and all(isinstance(e, ast.Constant) and e.value in (None, 0) for e in listed.elts)
    if isinstance(value, ast.ListComp) and isinstance(value.elt, ast.Constant) and value.elt.value is None:
        return True
    if isinstance(value, ast.ListComp):  # Nielsen's `nabla_w = [np.zeros(w.shape) for w in self.weights]`
        value = value.elt
    return isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] in ("zeros", "zeros_like")


def _zeros_for(stmt: ast.stmt, name: str) -> bool:
    """`_zeros` of the part of a tuple assignment that binds `name` (`dWxh, dWhh = np.zeros_like(Wxh), np.zeros_like(Whh)`)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Tuple)):
        return False
    for target, value in zip(stmt.targets[0].elts, stmt.value.elts):
        if isinstance(target, ast.Name) and target.id == name:
            return _zeros(ast.Assign(targets=[target], value=value))
    return False


def _accumulated_in_loops(body: list[ast.stmt]) -> dict[str, int]:
    """Names a loop of the body adds into (`d_Whh += temp @ hs[t].T`, `dLdU[:, x[t]] += delta_t`), with
    the last such line: where a gradient started at zero is computed."""
    found: dict[str, int] = {}
    for target, line in _added_in_loops(body):
        while isinstance(target, ast.Subscript):
            target = target.value
        if isinstance(target, ast.Name):
            found[target.id] = max(found.get(target.id, 0), line)
    for loop in _loops(body):
        for node in ast.walk(loop):  # `dby = dy` in the loop after `dby = np.zeros_like(by)`: overwritten there, not added
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = max(found.get(node.targets[0].id, 0), node.lineno)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
                base = node.targets[0].value  # `dW[k] = ...` for each k after `dW = np.zeros_like(W)`: filled there
                if isinstance(base, ast.Name):
                    found[base.id] = max(found.get(base.id, 0), node.lineno)
    return found


def _overwritten_in_loops(body: list[ast.stmt]) -> dict[str, int]:
    """Names a loop of the body binds anew (`grad_v = (1.0 - s[k]) * u[k]`) from a value that does not read
    them, with the last such line: whatever the name held before the loop is lost there."""
    found: dict[str, int] = {}
    for loop in _loops(body):
        for node in ast.walk(loop):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            name = node.targets[0].id
            if not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value)):
                found[name] = max(found.get(name, 0), node.lineno)
    return found


def _added_through_calls(
    body: list[ast.stmt], definitions: tuple[dict[str, FunctionNode], dict[str, list[tuple[str, FunctionNode]]]]
) -> dict[str, int]:
    """Names a loop of the body hands to a function of the file and binds again from what it returns, that
    function adding into its parameter (`dw_ih, dw_ho = self.backpropagation(out, h, X, y, dw_ih, dw_ho)` in the
    loop over the records, `delta_weights_i_h += hidden_error_term * X[:, None]` in `backpropagation`): the
    line that adds, where a gradient started at zero is computed."""
    functions, methods = definitions
    found: dict[str, int] = {}
    for loop in _loops(body):
        for node in ast.walk(loop):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
                continue
            call, target = node.value, node.targets[0]
            bound = {e.id for e in (target.elts if isinstance(target, ast.Tuple) else [target]) if isinstance(e, ast.Name)}
            func = call.func
            called = (
                functions.get(func.id) if isinstance(func, ast.Name)
                else methods[func.attr][0][1] if isinstance(func, ast.Attribute) and len(methods.get(func.attr, ())) == 1 else None
            )  # fmt: skip
            if called is None:
                continue
            params = [a.arg for a in (*called.args.posonlyargs, *called.args.args)]
            if isinstance(func, ast.Attribute) and params and params[0] in ("self", "cls"):
                params = params[1:]
            for given, param in zip(call.args, params):
                if not (isinstance(given, ast.Name) and given.id in bound):
                    continue
                adds = [
                    n.lineno for n in ast.walk(called)
                    if isinstance(n, ast.AugAssign) and isinstance(n.op, (ast.Add, ast.Sub)) and _base_name(n.target) == param
                ]  # fmt: skip
                if adds:
                    found[given.id] = max(found.get(given.id, 0), max(adds))
    return found


def _base_name(target: ast.expr) -> str | None:
    while isinstance(target, ast.Subscript):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _loops(body: list[ast.stmt]) -> Iterator[ast.For | ast.While]:
    """Every `for` and `while` loop in the body, nested ones included."""
    return (n for n in ast.walk(ast.Module(body=body, type_ignores=[])) if isinstance(n, (ast.For, ast.While)))


def _added_in_loops(body: list[ast.stmt]) -> Iterator[tuple[ast.expr, int]]:
    """(target, line) of every augmented assignment inside a loop of the body."""
    for loop in _loops(body):
        for node in ast.walk(loop):
            if isinstance(node, ast.AugAssign):
                yield node.target, node.lineno


def imported_assigned(imported: Sequence[tuple[str, ast.Module, Mapping[str, str]]], prefix: tuple[ast.stmt, ...]) -> dict[str, tuple[str, int]]:
    """`inner_assigned` for the functions the step calls from other files of the user's:
    name (or `grads['b1']`) -> (that file, line)."""
    found: dict[str, tuple[str, int]] = {}
    for file, tree, bound in imported:
        functions, _methods = _definitions(tree)
        for call, _looped in _calls(list(prefix)):
            func = call.func
            called = func.id if isinstance(func, ast.Name) else ast.unparse(func) if isinstance(func, ast.Attribute) else None
            node = functions.get(bound.get(called, "")) if called else None
            if node is None:
                continue
            own: dict[str, int] = {}
            for stmt in _once(node.body):
                for target in _targets(stmt):
                    found[target] = (file, stmt.lineno)
                    own[target] = stmt.lineno
                for entry, value in _entries(stmt):
                    found[entry] = (file, own.get(value, stmt.lineno))
    return found


def _entries(stmt: ast.stmt) -> list[tuple[str, str | None]]:
    """(`grads['b1']`, the plain name stored there or None) for `grads["b1"] = ...` and for each key
    of `grads = {"W2": dW2, "b2": ...}`: where one entry of a dictionary of gradients is computed;
    `self.delta` for `self.delta = ...`; `return['b1']` for each key of a dict literal returned, alone or
    as the one dict of a returned tuple."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
    value = getattr(stmt, "value", None)
    stored = value.id if isinstance(stmt, ast.Assign) and isinstance(value, ast.Name) else None
    found: list[tuple[str, str | None]] = []
    for target in targets:
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            found.append((ast.unparse(target), stored))  # `self.delta = error * ...`: where a neuron's delta is set
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Constant):
            found.append((f"{target.value.id}[{target.slice.value!r}]", stored))
        elif (
            isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
            and isinstance(target.value, ast.Attribute) and isinstance(target.value.value, ast.Name) and target.value.value.id == "self"
        ):  # fmt: skip
            found.append((f"{ast.unparse(target.value)}[{target.slice.value!r}]", stored))  # `self.grads["V"] = ...`
        elif isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            found += _keyed(target.id, value)
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for one, given in zip(target.elts, value.elts):  # `grads["W"], grads["E"] = dW, dE`
                if isinstance(one, ast.Subscript) and isinstance(one.value, ast.Name) and isinstance(one.slice, ast.Constant):
                    found.append((f"{one.value.id}[{one.slice.value!r}]", given.id if isinstance(given, ast.Name) else None))
    if isinstance(stmt, ast.Return) and isinstance(value, ast.Dict):
        found += _keyed("return", value)  # `return {"dW": dW, ...}`: the caller names the dict
    dicts = [e for e in value.elts if isinstance(e, ast.Dict)] if isinstance(stmt, ast.Return) and isinstance(value, ast.Tuple) else []
    if len(dicts) == 1:
        found += _keyed("return", dicts[0])  # `return loss, {"W": dW_enc + dW_dec, ...}`: the one dict of what it returns
    return found


def _keyed(name: str, value: ast.Dict) -> list[tuple[str, str | None]]:
    return [
        (f"{name}[{k.value!r}]", v.id if isinstance(v, ast.Name) else None)
        for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant)
    ]  # fmt: skip


__all__ = ["CALLER", "REVERSED", "InnerAdjoint", "Site", "TimeAdjoint", "called_functions", "carried_out_of", "imported_assigned", "inner_adjoints", "inner_assigned", "inner_cuts", "time_adjoints"]
