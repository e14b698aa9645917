"""Forward or backward returns nothing, or the wrong kind of value.

What it finds:
    A `forward` that returns None (a forgotten `return out`) or a tuple such as
    `(out, cache)` from a class layer, and a `backward` that returns None for
    the input gradient of a layer whose input is a float array (not integer ids,
    as an embedding's forward uses them: as an index, or made integers).

Why it matters:
    The next layer receives None instead of an array: forward passes break in
    the next layer, and a backward that returns None stops the gradient there,
    so every layer before it never learns. The error appears far from its cause.

Example:
    def backward(self, dout):
        dx = dout * self.out * (1.0 - self.out)

Fix:
    def backward(self, dout):
        dx = dout * self.out * (1.0 - self.out)
        return dx
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.methods import does_nothing, steps_own_lists
from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.token_ids import takes_ids
from backprop_doctor.static.tree import walk as tree_walk

NAME = "bad-return"
CODE = "BPD107"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    """Complete the engine's bad-return findings in place in `context.findings`, from the source:

    - a function not written yet (its body is `pass`, or its TODO block holds only `pass` and it
      returns a name still None) is a warning that says so, at the `pass`;
    - a backward that ends in `return None` on purpose (the first layer of a network, whose input
      gradient nobody reads) is a warning that says when that is right, and no finding where every
      call of it in the files throws its result away (`first.backward(d, lr)` as a statement);
    - the backward of a layer whose forward takes integer ids (an embedding looking its rows up with
      them, or one-hot encoding them: `static.token_ids`) has no input gradient to return: no finding;
    - the backward of a whole model, whose result every call in the file throws away
      (`net.backward(dout)` as a statement), returns nothing on purpose: no finding; so does one
      that takes the SGD step itself on the model's lists of weights at a rate it holds
      (`self.weights[i] -= self.lr * dW`), never handed on as a layer, however often the file calls it."""
    kept = []
    for finding in context.findings:
        if finding.name == NAME and finding.severity == "error" and finding.file and finding.line:
            finding = _completed(finding, context.source.tree if context.source else None)
        if finding is not None:
            kept.append(finding)
    context.findings[:] = kept
    yield from ()


def _completed(finding: Finding, user_tree: ast.Module | None) -> Finding | None:
    """The finding as it stands, a warning for a stub or a deliberate `return None`, or None for a whole
    model's backward; `user_tree` is the checked file's, which may make and call a model that another
    module of its package defines."""
    tree = source_tree(os.path.abspath(finding.file))[1]
    node = _scope_of(tree, finding.line) if tree else None
    cls = node if isinstance(node, ast.ClassDef) else next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.lineno == finding.line), None) if tree else None
    if cls is not None:
        node = _stub_method(cls, finding) or node  # the finding is at the class: the method that stands for its forward
    if not isinstance(node, ast.FunctionDef):
        return finding
    stub = _not_written(node)
    if stub is not None:
        line, what = stub
        name = finding.message.split("`")[1] if finding.message.count("`") >= 2 else node.name
        if cls is not None:
            name = f"{cls.name}.{node.name}"
        return finding.replace(
            severity="warning",
            line=line,
            highlight=(line,),
            message=f"`{name}` is not written yet: {what}; write it before anything can learn",
            fix=None,
            pattern="not-written",
        )
    callee = _unwritten_callee(tree, node, os.path.abspath(finding.file)) if "returns None, not an array" in finding.message else None
    if callee is not None:
        name = finding.message.split("`")[1] if finding.message.count("`") >= 2 else node.name
        called, file, line = callee
        where = f"line {line}" if file == os.path.abspath(finding.file) else f"{os.path.basename(file)}, line {line}"
        return finding.replace(
            severity="warning",
            message=f"`{name}` returns None because `{called}` ({where}), which it calls, is not written yet: write `{called}` first",
            fix=None,
            pattern="calls-unwritten",
        )
    last = node.body[-1] if node.body else None
    trees = [t for t in (tree, user_tree) if t is not None]
    if any(f"returns a {kind}, not an array" in finding.message for kind in ("dict", "tuple", "list")) and (
        _read_as_container(trees, node.name) or _hands_its_cache(tree, node)
    ):
        return None
    if "returns None, so the gradient stops here" in finding.message:
        owner_class = _class_of(tree, node) if tree is not None else None
        if owner_class is not None and any(takes_ids(owner_class, m) for m in _FORWARDS):
            return None  # an embedding's input is integer ids: there is no gradient to return
        if isinstance(last, ast.Return) and isinstance(last.value, ast.Constant) and last.value.value is None:
            if _whole_model(trees, finding.layer or "", node.name):
                return None  # `first.backward(d, lr)` as a statement wherever it is called: the first layer, as it says
            return finding.replace(
                severity="warning",
                line=last.lineno,
                highlight=(last.lineno,),
                message=finding.message.replace("returns None, so the gradient stops here", "returns None on purpose (line "
                                                f"{last.lineno}), so the gradient stops here: right for a network's first layer only")
                .replace(": return dx", "; otherwise return dx"),
            )
        owner = finding.layer or ""
        if last is not None and not any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(node)) and (
            _whole_model(trees, owner, node.name) or (steps_own_lists(node) and _whole_model(trees, owner, node.name, called=False))
        ):
            return None
    return finding


_FORWARDS = ("forward", "__call__", "call", "fprop", "forward_pass", "forward_propagation")


def _class_of(tree: ast.AST, node: ast.AST) -> ast.ClassDef | None:
    """The class whose body defines the method `node`."""
    return next((c for c in tree_walk(tree) if isinstance(c, ast.ClassDef) and node in c.body), None)


def _stub_method(cls: ast.ClassDef, finding: Finding) -> ast.FunctionDef | None:
    """The method of a class a bad-return finding at the class line stands for, when it is a stub: the
    one it names (`TwoLayerNet.forward`), else the model's `loss` or `predict` (a cs231n classifier's
    forward is its `loss(X)`)."""
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    named = finding.message.split("`")[1].rpartition(".")[2] if finding.message.count("`") >= 2 else ""
    for name in (named, "loss", "predict"):
        method = methods.get(name)
        if method is not None and _not_written(method) is not None:
            return method
    return None


def _not_written(node: ast.FunctionDef) -> tuple[int, str] | None:
    """(line of the `pass`, what shows it) for a function left as a stub: a body of nothing but a
    docstring and `pass` (or `...`), or an assignment's TODO block that only says `pass` before the
    function returns a name it bound to None (cs231n's `out = None ... pass ... return out, cache`)."""
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))]
    if len(body) == 1 and _only_the_base(body[0], node.name):
        return body[0].lineno, f"it only hands the call to its base class (`super().{node.name}()`, line {body[0].lineno}), which does nothing"
    if body and does_nothing(node):  # `pass` or `...` (a body that raises never returns None)
        return body[0].lineno, f"its body is `pass` (line {body[0].lineno})"
    passes = [n for n in ast.walk(node) if isinstance(n, ast.Pass)]  # also `if mode == 'train': pass`
    if not passes:
        return None
    if len(body) == len(passes):
        return passes[0].lineno, f"its body is `pass` (line {passes[0].lineno})"
    nones = {name for s in body if isinstance(s, ast.Assign) for name in _bound_to_none(s)}
    bound = {  # anywhere in the function, by a statement that does more than set None
        t.id for s in ast.walk(node) if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and not (isinstance(s, ast.Assign) and _bound_to_none(s))
        for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) for t in ast.walk(t) if isinstance(t, ast.Name)
    }  # fmt: skip
    returned = [n.id for s in body if isinstance(s, ast.Return) and s.value is not None for n in ast.walk(s.value) if isinstance(n, ast.Name)]
    still_none = [name for name in returned if name in nones and name not in bound]
    if still_none:
        return passes[0].lineno, f"`{still_none[0]}` is still None where it returns (its code is `pass`, line {passes[0].lineno})"
    return None


def _unwritten_callee(tree: ast.Module, node: ast.FunctionDef, path: str) -> tuple[str, str, int] | None:
    """(name, file, line) of a function not written yet (`_not_written`) that `node`, in the module at
    `path`, calls: a course's own `affine_relu_forward`, correct as handed out, returns None while the
    `affine_forward` it calls (defined beside it, or star-imported from `layers.py`) is a stub."""
    from backprop_doctor.locate import loaded_module

    module = loaded_module(path)
    for call in ast.walk(node):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        name, file, defining = call.func.id, path, tree
        code = getattr(getattr(module, name, None), "__code__", None)
        if code is not None and os.path.abspath(code.co_filename) != path:
            file = os.path.abspath(code.co_filename)
            defining = source_tree(file)[1]
        callee = next((n for n in getattr(defining, "body", []) if isinstance(n, ast.FunctionDef) and n.name == name), None)
        if callee is not None and callee is not node and _not_written(callee) is not None:
            return name, file, callee.lineno
    return None


def _only_the_base(statement: ast.stmt, name: str) -> bool:
    """`return super().backward()`: the whole body calls the base class's method of the same name."""
    value = statement.value if isinstance(statement, (ast.Return, ast.Expr)) else None
    return (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == name
        and isinstance(value.func.value, ast.Call) and ast.unparse(value.func.value.func) == "super"
    )  # fmt: skip


def _bound_to_none(statement: ast.Assign) -> list[str]:
    """`out = None`, `next_h, cache = None, None`: the names the statement sets to None."""
    names = []
    for target in statement.targets:
        if isinstance(target, ast.Name) and isinstance(statement.value, ast.Constant) and statement.value.value is None:
            names.append(target.id)
        elif isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple) and len(target.elts) == len(statement.value.elts):
            names += [t.id for t, v in zip(target.elts, statement.value.elts)
                      if isinstance(t, ast.Name) and isinstance(v, ast.Constant) and v.value is None]
    return names


def _read_as_container(trees: list[ast.Module], method: str) -> bool:
    """Whether every call of `method` in the files takes its result apart: unpacked
    (`out, cache = layer.forward(x)`), indexed (`net.forward_pass(X)["out"]`), or bound to a name
    that the same function then indexes (`outputs = self.forward_pass(X)` ... `outputs["O_o"]`).
    Such a method is a model's forward handing its cache on by design, not a layer's forgotten output."""
    nodes, parents = _nodes_and_parents(trees)
    calls = [n for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == method]
    return bool(calls) and all(_taken_apart(call, parents) for call in calls)


def _hands_its_cache(tree: ast.Module | None, node: ast.FunctionDef) -> bool:
    """`return Z4, cache` from a model's forward whose own class's backward takes that cache
    (`backward(self, logits, labels, cache, reg)`): the tuple is handed on by design."""
    owner = next((c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and node in c.body), None) if tree is not None else None
    returned = {n.id for r in ast.walk(node) if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple) for n in r.value.elts[1:] if isinstance(n, ast.Name)}
    if owner is None or not returned:
        return False
    backward = [f for f in owner.body if isinstance(f, ast.FunctionDef) and f.name != node.name and ("backward" in f.name or "backprop" in f.name)]
    return bool(returned & {a.arg for f in backward for a in f.args.args[1:]})  # not a `cost(Y, P)` that takes the prediction


def _nodes_and_parents(trees: list[ast.Module]) -> tuple[list[ast.AST], dict[int, ast.AST]]:
    """Every node of the trees (each tree once: the checked file may be the class's own module), and
    each node's parent by the child's id."""
    nodes = [node for tree in {id(t): t for t in trees}.values() for node in ast.walk(tree)]
    return nodes, {id(child): parent for parent in nodes for child in ast.iter_child_nodes(parent)}


def _taken_apart(call: ast.Call, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(call))
    if isinstance(parent, ast.Subscript) and parent.value is call:
        return True
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1):
        return False
    target = parent.targets[0]
    if isinstance(target, (ast.Tuple, ast.List)):
        return True
    scope = parents.get(id(parent))
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.Module)):
        scope = parents.get(id(scope))
    return isinstance(target, ast.Name) and scope is not None and any(
        isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == target.id for n in ast.walk(scope)
    )


def _bound_to(call: ast.Call, parent: ast.AST | None, parents: dict[int, ast.AST]) -> ast.expr | None:
    """The target a new instance is bound to: `net = Net()`, or its own place in an unpacking
    (`enc, dec = Encoder(p, g), Decoder(p, g)`); None when it goes anywhere else."""
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        return parent.targets[0]
    above = parents.get(id(parent)) if isinstance(parent, (ast.Tuple, ast.List)) else None
    if isinstance(above, ast.Assign) and len(above.targets) == 1 and above.value is parent:
        target = above.targets[0]
        if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == len(parent.elts) and not any(isinstance(e, ast.Starred) for e in target.elts):
            return target.elts[parent.elts.index(call)]
    return None


def _whole_model(trees: list[ast.Module], owner: str, method: str, called: bool = True) -> bool:
    """Whether class `owner` is a whole model (or a part whose input gradient nobody reads, as an
    encoder before its decoder): every instance the files make is bound to a name
    (`net = Net()`, `self.model = Net()`, `enc, dec = Encoder(p, g), Decoder(p, g)`) or has a method called on it at once (`Net().fit(X, y)`),
    never put in a list of layers or handed on, and every call
    of its `method` on those names is a statement of its own, its result thrown away (with `called`, at
    least one such call). `trees` are the module that defines the class and the checked file (a script may
    train a model it imports)."""
    if not owner.isidentifier():
        return False
    names: set[str] = set()
    nodes, parents = _nodes_and_parents(trees)
    for call in nodes:
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == owner:
            parent = parents.get(id(call))
            if isinstance(parent, ast.Attribute) and isinstance(parents.get(id(parent)), ast.Call):
                continue  # `MLP([3, 24, 1]).fit(X, y)`: a method called on it at once, not a layer handed on
            target = _bound_to(call, parent, parents)
            if target is None:
                return False
            names.add(ast.unparse(target))
    owner_class = next((n for n in nodes if isinstance(n, ast.ClassDef) and n.name == owner), None)
    own = {id(n) for n in ast.walk(owner_class)} if owner_class is not None else set()
    calls = [n for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == method
             and (ast.unparse(n.func.value) in names or (ast.unparse(n.func.value) == "self" and id(n) in own))]  # `self.backward(d)` in its own `fit`
    return (bool(calls) or not called) and all(isinstance(parents.get(id(c)), ast.Expr) for c in calls)
