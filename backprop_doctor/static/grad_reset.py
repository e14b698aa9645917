"""A scalar autograd training loop that never sets its gradients back to zero.

A micrograd-style `Value` adds into `grad` (`self.grad += out.grad`), so a second
`loss.backward()` adds the new gradient to what the first one left:

    for k in range(20):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        loss.backward()                 # nothing set p.grad = 0 before: it adds to the last pass's
        for p in n.parameters():
            p.data += -0.05 * p.grad

`never_reset` finds such a loop: one that calls `.backward()` and moves a parameter's
`.data` by its `.grad` (or calls a function of the file that does), with no statement in it
that sets a `.grad` to zero, and no call of a function that does (`n.zero_grad()`, or an
engine whose own `backward()` zeroes every node first). Constructors do not count: a new
`Value` starts at zero, the parameters do not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

RESET_NAMES = frozenset({"zero_grad", "zero_grads", "zerograd", "zero_gradients", "reset_grad", "reset_grads", "reset_gradients"})
# a helper named for what it does, whose file the check may not read (an installed package's `clear_grads`)
_RESET_WORDS = re.compile(r"(?i)(zero|clear|reset)_?(the_?|all_?)?grad\w*")


@dataclass(frozen=True)
class NeverReset:
    loop: int  # the training loop's line
    backward: int  # the line of its `.backward()` call
    update: int  # the line of the update that reads `.grad`
    owner: str | None  # `n` in `for p in n.parameters()`, when the update loops over one
    zero_grad: str | None  # the name of the file's method that zeroes the gradients, if it has one
    listed: str | None = None  # `opt.params`, the list an optimizer's `step()` loops over, when no method zeroes them
    before: tuple[int, str] | None = None  # (line, call) of a reset run once, before the loop (`model.zero_grad()`)


def never_reset(trees: list[ast.Module], loops_in: ast.Module) -> list[NeverReset]:
    """The loops of `loops_in` that call `.backward()` and update `.data` from `.grad` without ever
    setting a `.grad` to zero; `trees` are every file of the user's whose functions the loops may
    call (the checked file and the engine's)."""
    resetting = {f.name for tree in trees for f in _functions(tree) if f.name != "__init__" and _zeroes(f)}
    updating = updating_functions(trees)
    method = next((name for name in sorted(resetting) if name in RESET_NAMES), None) or next(iter(sorted(resetting)), None)
    found: list[NeverReset] = []
    for loop in _innermost_training_loops(loops_in, updating):
        if _zeroes(loop) or any(_called(call) in resetting | RESET_NAMES or _RESET_WORDS.fullmatch(_called(call) or "") for call in _calls(loop)):
            continue
        backward = next(c for c in _calls(loop) if _called(c) == "backward")
        update = _updates(loop)
        line = update.lineno if update is not None else next(c.lineno for c in _calls(loop) if _called(c) in updating)
        found.append(NeverReset(loop.lineno, backward.lineno, line, _owner(loop), method, before=_reset_before(loops_in, loop, resetting)))
    return found


def _reset_before(tree: ast.Module, loop: ast.For | ast.While, resetting: set[str]) -> tuple[int, str] | None:
    """(line, call) of the last reset call (`model.zero_grad()`) in the statements before `loop` in its own
    block: it runs once, so only the first pass starts from zero gradients."""
    for block in _blocks(tree):
        if loop in block:
            earlier = block[: block.index(loop)]
            calls = [
                s for s in earlier
                if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                and ((name := _called(s.value)) in resetting | RESET_NAMES or _RESET_WORDS.fullmatch(name or ""))
            ]  # fmt: skip
            return (calls[-1].lineno, ast.unparse(calls[-1].value)) if calls else None
    return None


def _blocks(tree: ast.AST) -> Iterator[list[ast.stmt]]:
    """Every statement list of `tree` (a module's, a function's, a loop's or a branch's body)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _calls(node: ast.AST) -> list[ast.Call]:
    return sorted((n for n in ast.walk(node) if isinstance(n, ast.Call)), key=lambda c: (c.lineno, c.col_offset))


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _is_grad(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "grad"


def _is_zero(node: ast.AST) -> bool:
    """`0`, `0.0`, `np.zeros_like(...)`, `0 * x`: a value that starts a gradient afresh."""
    if isinstance(node, ast.Constant):
        return node.value == 0 and not isinstance(node.value, bool)
    if isinstance(node, ast.Call) and (_called(node) or "").startswith("zeros"):
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and (_is_zero(node.left) or _is_zero(node.right))


def _zeroes(node: ast.AST) -> bool:
    """Whether `node` holds a statement that sets some `.grad` to zero (`p.grad = 0.0`, `v.grad *= 0`,
    `p.grad[...] = 0.0`, `p.grad.fill(0)`)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Assign) and _is_zero(n.value) and any(_is_grad(t) or isinstance(t, ast.Subscript) and _is_grad(t.value) for t in n.targets):
            return True  # `p.grad = 0.0`, or an array engine's `p.grad[...] = 0.0`, `p.grad[:] = 0`
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "fill" and _is_grad(n.func.value) and n.args and _is_zero(n.args[0]):
            return True  # `p.grad.fill(0.0)`
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Mult) and _is_zero(n.value) and _is_grad(n.target):
            return True
    return False


def _reads_grad(node: ast.AST) -> bool:
    return any(_is_grad(n) and isinstance(n.ctx, ast.Load) for n in ast.walk(node))


# what an engine's node calls the number it wraps (`scalar_autograd.NUMBER_NAMES`: `p.data`, `p.val`, `p.value`)
_NUMBER_NAMES = frozenset({"data", "value", "val", "v", "x", "number", "num"})


def _updates(node: ast.AST) -> ast.stmt | None:
    """The first statement under `node` that moves a `.data` (`.val`, `.value`) by a `.grad`
    (`p.data -= lr * p.grad`, `p.data = p.data - lr * p.grad`)."""
    for n in ast.walk(node):
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Attribute) and n.target.attr in _NUMBER_NAMES and _reads_grad(n.value):
            return n
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr in _NUMBER_NAMES for t in n.targets) and _reads_grad(n.value):
            return n
    return None


def _innermost_training_loops(tree: ast.AST, updating: set[str]) -> list[ast.For | ast.While]:
    """Loops that call `.backward()` and update from `.grad` (themselves or by a call), no inner loop
    of which does both."""
    def trains(loop: ast.AST) -> bool:
        calls = _calls(loop)
        return any(_called(c) == "backward" for c in calls) and (_updates(loop) is not None or any(_called(c) in updating for c in calls))

    loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While)) and trains(n)]
    return [loop for loop in loops if not any(inner is not loop and trains(inner) for inner in ast.walk(loop) if isinstance(inner, (ast.For, ast.While)))]


def _owner(loop: ast.AST) -> str | None:
    """`n` of a `for p in n.parameters():` inside the loop."""
    for n in ast.walk(loop):
        if isinstance(n, ast.For) and isinstance(n.iter, ast.Call) and isinstance(n.iter.func, ast.Attribute):
            if isinstance(n.iter.func.value, ast.Name) and n.iter.func.attr == "parameters":
                return n.iter.func.value.id
    return None


def reset_after_backward(prefix: tuple[ast.stmt, ...] | list[ast.stmt]) -> tuple[int, str, int] | None:
    """`opt.zero_grad()` called in a pass after its backward (`l.backward(d)`, `loss.backward()`) and
    before the update reads the gradients, or a statement there that sets the `.grad` of an autograd
    engine's values to zero (`for p in n.parameters(): p.grad = 0.0`): (its line, the call or the
    statement's first line as written, the backward's line)."""
    backward = None
    for stmt in prefix:
        if backward is not None and backward < stmt.lineno and _zeroes(stmt) and not any(_called(c) == "backward" for c in _calls(stmt)):
            return stmt.lineno, ast.unparse(stmt).split("\n")[0].rstrip(":"), backward
        for call in _calls(stmt):
            name = _called(call) or ""
            if "backward" in name.lower() or "backprop" in name.lower():
                backward = call.lineno
            elif backward is not None and (name in RESET_NAMES or _RESET_WORDS.fullmatch(name)):
                return call.lineno, ast.unparse(call), backward
    return None


def commented_reset(text: str, tree: ast.Module, first: int, last: int) -> tuple[int, str] | None:
    """(line, the comment) of a call commented out between lines `first` and `last` of a training
    pass (`# self.zero_grad()`) to a function or method of the file that sets arrays to zero
    (`self.grads[k][...] = 0.0`, `self.dW = np.zeros_like(self.W)`) or whose name says it resets
    gradients: the reset the pass was written with and no longer runs. None when there is none."""
    lines = text.split("\n")
    resetting = {
        f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (f.name in RESET_NAMES or _RESET_WORDS.fullmatch(f.name) or any(isinstance(n, ast.Assign) and _is_zero(n.value) for n in ast.walk(f)))
    }  # fmt: skip
    for number in range(first, min(last, len(lines)) + 1):
        stripped = lines[number - 1].strip()
        if not stripped.startswith("#"):
            continue
        code = stripped.lstrip("#").strip()
        try:
            call = ast.parse(code, mode="eval").body
        except SyntaxError:
            continue
        if isinstance(call, ast.Call) and _called(call) in resetting and not call.args:
            return number, stripped
    return None


@dataclass(frozen=True)
class MovedGradient:
    loop: int  # the training loop's line
    backward: int  # its `.backward()` call's line
    line: int  # the statement that steps `.grad` instead of the value
    target: str  # `p.grad` as written
    statement: str  # the statement as written (`p.grad -= lr * p.grad`)


def updating_functions(trees: list[ast.Module]) -> set[str]:
    """The names of the functions and methods of `trees` that move a `.data` by a `.grad` (`SGD.step`)."""
    return {f.name for tree in trees for f in _functions(tree) if _updates(f) is not None}


def moved_gradients(tree: ast.Module, updating: set[str] | frozenset[str] = frozenset()) -> list[MovedGradient]:
    """The loops of `tree` that call `.backward()` and step a `.grad` by itself (`p.grad -= lr * p.grad`,
    `p.grad = p.grad - lr * p.grad`) where the value was meant (`p.data -= lr * p.grad`): no statement
    of the loop moves a `.data` (`.val`, `.value`) by a `.grad`, and it calls no function (`updating`)
    that does. The parameters never move; each pass shrinks or grows the gradient instead."""
    found: list[MovedGradient] = []
    for loop in (n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))):
        calls = _calls(loop)
        backward = next((c for c in calls if _called(c) == "backward"), None)
        if backward is None or _updates(loop) is not None or any(_called(c) in updating for c in calls):
            continue
        for n in ast.walk(loop):
            stepped = None
            if isinstance(n, ast.AugAssign) and isinstance(n.op, (ast.Add, ast.Sub)) and _is_grad(n.target) and _reads_grad(n.value):
                stepped = n.target
            elif (
                isinstance(n, ast.Assign) and len(n.targets) == 1 and _is_grad(n.targets[0]) and isinstance(n.value, ast.BinOp)
                and isinstance(n.value.op, (ast.Add, ast.Sub)) and _reads_grad(n.value) and not _is_zero(n.value)
            ):  # fmt: skip
                stepped = n.targets[0]
            if stepped is not None and n.lineno > backward.lineno:
                found.append(MovedGradient(loop.lineno, backward.lineno, n.lineno, ast.unparse(stepped), ast.unparse(n)))
                break
    innermost: dict[int, MovedGradient] = {}
    for moved in found:  # an epoch loop around a batch loop finds the statement twice: the batch loop's pass is the step
        if moved.line not in innermost or moved.loop > innermost[moved.line].loop:
            innermost[moved.line] = moved
    return list(innermost.values())


def _adds_into_grad(node: ast.AST) -> bool:
    """Whether `node` holds a statement adding into a `.grad` (`self.W.grad += x.T @ dout`,
    `self.params["b"].grad[...] += ...`, `p.grad = p.grad + g`)."""
    for n in ast.walk(node):
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add):
            target = n.target.value if isinstance(n.target, ast.Subscript) else n.target
            if _is_grad(target):
                return True
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and _is_grad(n.targets[0]) and isinstance(n.value, ast.BinOp) and isinstance(n.value.op, ast.Add):
            if any(isinstance(side, ast.Attribute) and ast.unparse(side) == ast.unparse(n.targets[0]) for side in (n.value.left, n.value.right)):
                return True
    return False


def _layer_adding_into_grad(cls: ast.ClassDef) -> bool:
    """A layer class (a `forward` method, or `__call__`) whose backward adds into a `.grad` (`self.W.grad += ...`),
    or a graph node whose own `backward()` adds into its inputs' `.grad` (DeZero's `Variable`:
    `x.grad = x.grad + gx`, reset by `cleargrad()`); not a scalar engine's `Value`, whose operators'
    closures add into `grad` and which has no forward."""
    methods = [f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if any(f.name == "backward" and _adds_into_grad(f) for f in methods):
        return True  # a DeZero/Chainer-style `Variable` whose own `backward()` walks the graph adding into each input's `.grad`
    if not any("forward" in f.name.lower() or f.name == "__call__" for f in methods):
        return False
    return any(("backward" in f.name.lower() or "backprop" in f.name.lower()) and _adds_into_grad(f) for f in methods)


def never_reset_objects(trees: list[ast.Module], loops_in: ast.Module) -> list[NeverReset]:
    """`never_reset` for a program of parameter objects over arrays (`Param` with `.data` and `.grad`,
    `conventions._param_objects`): a layer's backward adds into each `.grad` (`self.W.grad += ...`),
    the optimizer's `step()` moves `p.data` by `p.grad`, and the training loop that calls
    `model.backward(dpred)` and `opt.step()` never calls the `zero_grad()` that empties them. Nothing
    when no layer's backward adds into a `.grad`: one that assigns it (`self.W.grad = ...`) needs no reset.
    `owner` is the object whose update method the loop calls (`opt` of `opt.step()`) when its class
    defines the reset too, so the finding can say `opt.zero_grad()`."""
    functions = [f for tree in trees for f in _functions(tree)]
    if not any(_layer_adding_into_grad(cls) for tree in trees for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)):
        return []
    found = never_reset(trees, loops_in)
    if not found:
        return []
    updating = updating_functions(trees)
    resetting = {f.name for f in functions if f.name != "__init__" and _zeroes(f)}
    owners: dict[str, tuple[str | None, str | None]] = {}  # update method -> (the reset method of its class, the list it loops over)
    for tree in trees:
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            methods = {f.name: f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
            reset = next((m for m in sorted(methods) if m in RESET_NAMES), None) or next((m for m in sorted(set(methods) & resetting)), None)
            for name in set(methods) & updating:
                owners.setdefault(name, (reset, _looped_attribute(methods[name])))
    loops = {n.lineno: n for n in ast.walk(loops_in) if isinstance(n, (ast.For, ast.While))}
    out = []
    for item in found:
        loop = loops.get(item.loop)
        call = next(
            (c for c in _calls(loop) if isinstance(c.func, ast.Attribute) and c.func.attr in owners) if loop is not None else (),
            None,
        )
        handed = next((c for c in _calls(loop) if _called(c) == "backward" and c.args) if loop is not None else (), None)
        if handed is not None:  # `model.backward(dpred)`, the layers' backward, not the loss object's `crit.backward()`
            item = replace(item, backward=handed.lineno)
        if item.owner is None and call is not None:
            owner = ast.unparse(call.func.value)
            reset, listed = owners[call.func.attr]
            item = replace(item, owner=owner if reset else None, zero_grad=reset, listed=f"{owner}.{listed}" if listed and not reset else None)
        out.append(item)
    return out


def _looped_attribute(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """`params` of an update method's `for p in self.params:` (its first argument's attribute)."""
    me = function.args.args[0].arg if function.args.args else None
    for n in ast.walk(function):
        if isinstance(n, ast.For):
            source = n.iter.args[0] if isinstance(n.iter, ast.Call) and _called(n.iter) in ("zip", "enumerate") and n.iter.args else n.iter
            if isinstance(source, ast.Attribute) and isinstance(source.value, ast.Name) and source.value.id == me:
                return source.attr
    return None
