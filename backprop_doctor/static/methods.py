"""Facts of one method or function read from its own source (for `conventions/`).

A convention recognises a layer class by what its methods do as written: whether
`forward` returns a value or stores `self.output`, which attributes `__init__`
assigns (`self.params`, `self.grads`), what a method calls its instance, whether a
base class's `forward` is only `pass`. The conventions hand over the source text
`inspect` gives for one live function (`parse_function`) and ask these questions
of the def it parses to; every walk of that def lives here.

    node = parse_function(inspect.getsource(Layer.forward))
    returns_value(node), assigned_attributes(node)   # False, {"inputs", "output"}
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

from backprop_doctor.static.tree import FunctionNode, walk

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def parse_function(source: str) -> FunctionNode | None:
    """The first def of the (dedented) source of one function or method, None when it does not parse."""
    try:
        tree = ast.parse(_dedented(source))
    except (SyntaxError, ValueError):  # IndentationError is a SyntaxError
        return None
    return next((n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)


def _dedented(source: str) -> str:
    """`textwrap.dedent`, blind to comment lines: a method whose body holds a line commented out at
    column 0 (`#        self.W = ...`, as re-typed book code often does) keeps the indentation of its code."""
    lines = source.splitlines(keepends=True)
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not code:
        return textwrap.dedent(source)
    margin = min(len(line) - len(line.lstrip(" \t")) for line in code)
    prefix = code[0][:margin]
    if any(not line.startswith(prefix) for line in code):
        return textwrap.dedent(source)
    return "".join(line[margin:] if line.startswith(prefix) else line for line in lines)


def self_name(node: FunctionNode | None) -> str:
    """What a method calls its instance (`self`, `this`, `s`)."""
    args = node.args.posonlyargs + node.args.args if node else []
    return args[0].arg if args else "self"


def returns_value(node: FunctionNode) -> bool:
    """Whether some `return` of the function itself (not of a nested def) gives a value other than None."""

    def visit(n: ast.AST) -> bool:
        for child in ast.iter_child_nodes(n):
            if isinstance(child, _SCOPES):
                continue
            if isinstance(child, ast.Return) and child.value is not None:
                if not (isinstance(child.value, ast.Constant) and child.value.value is None):
                    return True
            if visit(child):
                return True
        return False

    return visit(node)


def returned_gradient_dict(node: FunctionNode | None) -> tuple[str, list[ast.expr | None]] | None:
    """(its name as shown, its keys) of the one dict a backward returns and nothing else: made there
    (`return {"W": dW, "b": db}`, `return dict(W=dW)`) or bound to a name only to dicts, its entries set
    by key (`grads = {}` ... `grads["W%d" % i] = ...` ... `return grads`; one made by a comprehension over the
    parameters, its entries added to by key: `grads["Wf"] += ...`); None otherwise, or with no key."""
    if node is None:
        return None
    returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
    made = lambda v: isinstance(v, ast.Dict) or (isinstance(v, ast.Call) and ast.unparse(v.func) == "dict")  # noqa: E731
    if len(returns) != 1 or not (isinstance(returns[0], ast.Name) or made(returns[0])):
        return None
    if made(returns[0]):  # `return dict(Wxh=dWxh, ...)`, `return {"W": dW, ...}`: the dict made there
        literal = returns[0]
        name = ast.unparse(literal) if len(ast.unparse(literal)) <= 40 else "{...}" if isinstance(literal, ast.Dict) else "dict(...)"
        keys: list[ast.expr | None] = (
            list(literal.keys) if isinstance(literal, ast.Dict) else [ast.Constant(k.arg) for k in literal.keywords]
        )
    else:
        name = returns[0].id
        bound = [n.value for n in ast.walk(node) if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
        # `grads = {k: np.zeros_like(v) for k, v in self.params.items()}`, its entries added to by key (`grads["Wf"] += ...`)
        if not bound or not all(made(v) or isinstance(v, ast.DictComp) for v in bound):
            return None
        keys = [k for v in bound if isinstance(v, ast.Dict) for k in v.keys] + [
            target.slice for n in ast.walk(node)
            for target in (n.targets[:1] if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AugAssign) else [])
            if isinstance(target, ast.Subscript) and ast.unparse(target.value) == name
        ]  # fmt: skip
    return (name, keys) if keys else None


def returned_dict_names(node: FunctionNode | None) -> dict[str, str]:
    """{key: name} of the entries of a dict the function returns made there whose values are plain
    names (`return {"W": dW, "b": db}` → {"W": "dW", "b": "db"}): where each is computed."""
    found: dict[str, str] = {}
    for n in ast.walk(node) if node is not None else ():
        if isinstance(n, ast.Return) and isinstance(n.value, ast.Dict):
            for k, v in zip(n.value.keys, n.value.values):
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, ast.Name):
                    found.setdefault(k.value, v.id)
    return found


def assigned_attributes(node: FunctionNode) -> set[str]:
    """Attributes of the instance the method assigns (`self.output = ...` → "output")."""
    me = self_name(node)
    found = set()
    for n in walk(node):
        if isinstance(n, ast.Assign):
            targets = n.targets
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)):
            targets = [n.target]
        else:
            continue
        for target in targets:
            for t in walk(target):
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me:
                    found.add(t.attr)
    return found


def self_calls(node: FunctionNode | None) -> list[str]:
    """Methods a method calls on its own instance: `self.large_weight_initializer()`; none when the
    method's source could not be read (`function_node` gave None)."""
    if node is None:
        return []
    me = self_name(node)
    return [
        n.func.attr for n in walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == me
    ]  # fmt: skip


def update_operands(node: FunctionNode, attribute: str, rate: str) -> tuple[str, ...]:
    """The names an SGD step in backward subtracts from `self.<attribute>`, leaving out the rate:
    `self.W -= learning_rate * dW` → ("dW",). Empty when no statement updates it."""
    me = self_name(node)
    wanted = f"{me}.{attribute}"
    for n in walk(node):
        if not isinstance(n, (ast.AugAssign, ast.Assign)):
            continue
        targets = [n.target] if isinstance(n, ast.AugAssign) else n.targets
        if any(ast.unparse(t) == wanted for t in targets):
            names = [x.id for x in walk(n.value) if isinstance(x, ast.Name) and x.id not in (me, rate)]
            if names:
                return tuple(names)
    return ()


def grads_aliases(node: FunctionNode | None, me: str, index: int) -> tuple[str, ...]:
    """Local names bound to `self.grads[index]`: `dW, = self.grads`, `dW, db = self.grads`,
    `dW = self.grads[0]` (the DLFS-2 book writes a gradient through them)."""
    if node is None:
        return ()
    names = []
    for n in walk(node):
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1):
            continue
        target, value = n.targets[0], ast.unparse(n.value)
        if value == f"{me}.grads" and isinstance(target, (ast.Tuple, ast.List)) and index < len(target.elts):
            element = target.elts[index]
            if isinstance(element, ast.Name):
                names.append(element.id)
        elif value == f"{me}.grads[{index}]" and isinstance(target, ast.Name):
            names.append(target.id)
    return tuple(dict.fromkeys(names))


def indexed_writes(node: FunctionNode | None, me: str, attr: str) -> list[str]:
    """The targets `self.<attr>[i]` a method assigns with an index that is no constant (a loop's
    `self.grads[i] = ...`), as written: one statement writes every entry."""
    if node is None:
        return []
    found = []
    for n in walk(node):
        for target in n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AugAssign) else []:
            if isinstance(target, ast.Subscript) and ast.unparse(target.value) == f"{me}.{attr}" and not isinstance(target.slice, ast.Constant):
                found.append(ast.unparse(target))
    return list(dict.fromkeys(found))


def does_nothing(node: FunctionNode) -> bool:
    """A body of `pass`, `raise NotImplementedError` (or the course handouts' `raise NotImplemented`) and
    docstrings only (an abstract base method)."""
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return all(isinstance(n, ast.Pass) or (isinstance(n, ast.Raise) and "NotImplemented" in ast.unparse(n)) for n in body)


def returned_names(node: FunctionNode | None) -> list[str]:
    """The names of the first tuple the function returns: `return dW1, db1, dW2, db2` → those names
    ("" for an element that is not a plain name)."""
    for n in walk(node) if node is not None else ():
        if isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple):
            return [e.id if isinstance(e, ast.Name) else "" for e in n.value.elts]
    return []


_LAYER_KEY = re.compile(r"(?P<kind>[Wb])(?P<index>[1-9]\d?)")


def numbered_layers(node: FunctionNode | None, names: tuple[str, ...]) -> int:
    """L when the literal keys the function reads from a dictionary argument (one of `names`,
    `W1 = parameters["W1"]`) are exactly `W1`..`WL` and `b1`..`bL`; 0 otherwise."""
    keys: set[str] = set()
    for n in walk(node) if node is not None else ():
        if (
            isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name)
            and n.value.id in names
            and isinstance(n.slice, ast.Constant)
            and isinstance(n.slice.value, str)
        ):
            if not _LAYER_KEY.fullmatch(n.slice.value):
                return 0  # `parameters["gamma1"]`: not only numbered weights and biases
            keys.add(n.slice.value)
    layers = {int(_LAYER_KEY.fullmatch(k)["index"]) for k in keys}  # type: ignore[index]
    complete = layers == set(range(1, len(layers) + 1)) and len(keys) == 2 * len(layers)
    return len(layers) if complete else 0


# --------------------------------------------------------------------------- how the file calls one function

SAMPLERS = ("choice", "choices", "multinomial")  # np.random.choice(n, p=probs), random.choices(..., weights=probs)


def _called(node: ast.AST, name: str) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id == name) or (isinstance(func, ast.Attribute) and func.attr == name)


def _calls_by_function(tree: ast.AST, name: str) -> dict[ast.AST, list[ast.Call]]:
    """The calls of `name` grouped by the innermost def they are written in (the module for top-level code)."""
    found: dict[ast.AST, list[ast.Call]] = {}

    def visit(node: ast.AST, scope: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if child.name != name:  # the function's own body is not a use of it
                    visit(child, child)
                continue
            if isinstance(child, ast.Call) and _called(child, name):
                found.setdefault(scope, []).append(child)
            visit(child, scope)

    visit(tree, tree)
    return found


def only_sampled_from(tree: ast.AST, name: str) -> bool:
    """Whether every function that calls `name` draws a sample from what it returns:
    `probs = softmax(logits / temperature)` then `np.random.choice(len(probs), p=probs)`.
    Such a function turns one sample's scores into the probabilities to draw from (1-D,
    when generating text one token at a time), never a batch. False when nothing calls it."""
    groups = _calls_by_function(tree, name)
    if not groups:
        return False
    for scope, calls in groups.items():
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False  # called at the top level of the script: its arguments are not known here
        results = set()
        for n in walk(scope):
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and n.value in calls:
                results |= {t.id for t in n.targets if isinstance(t, ast.Name)}
        samplers = [n for n in walk(scope) if isinstance(n, ast.Call) and any(_called(n, s) for s in SAMPLERS)]
        drawn = any(
            (isinstance(x, ast.Name) and x.id in results) or x in calls
            for sampler in samplers
            for argument in [*sampler.args[1:], *(k.value for k in sampler.keywords)]
            for x in walk(argument)
        )
        if not drawn:
            return False
    return True


@dataclass(frozen=True)
class LayerLoop:
    """A loop of a method over a list of layers the instance holds: `for layer in self.layers:
    x = layer.forward(x)`, or backwards, `for layer in reversed(self.layers): grad = layer.backward(grad)`."""

    attribute: str  # the instance's attribute looped over (`layers`, `_layers`)
    backwards: bool  # over `reversed(...)` or `[::-1]`
    methods: tuple[str, ...]  # the methods the body calls on the loop's layer
    passed: tuple[str, ...]  # the names the body binds to what those calls return (`grad`)


def layer_loops(node: FunctionNode | None) -> list[LayerLoop]:
    """The loops of a method over a list of layers held by its instance, each with the methods its
    body calls on the layer: a container of layer objects runs them forward in one method and
    backward in another."""
    if node is None:
        return []
    me = self_name(node)
    found = []
    for loop in walk(node):
        if not isinstance(loop, ast.For):
            continue
        over = _layer_list(loop.iter, me)
        if over is None:
            continue
        layer = _layer_name(loop.target, enumerated=over[2])
        if layer is None:
            continue
        methods, passed = [], []
        for statement in loop.body:
            for n in walk(statement):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == layer:
                    methods.append(n.func.attr)
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute):
                    if isinstance(n.value.func.value, ast.Name) and n.value.func.value.id == layer:
                        passed += [t.id for t in n.targets if isinstance(t, ast.Name)]
        if methods:
            found.append(LayerLoop(over[0], over[1], tuple(dict.fromkeys(methods)), tuple(dict.fromkeys(passed))))
    return found


def _layer_list(iterable: ast.AST, me: str) -> tuple[str, bool, bool] | None:
    """(attribute, backwards, enumerated) of `self.layers`, `reversed(self.layers)`,
    `self.layers[::-1]`, `enumerate(...)` of any of them; None for anything else."""
    backwards = enumerated = False
    while True:
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id in ("reversed", "enumerate") and iterable.args:
            backwards ^= iterable.func.id == "reversed"
            enumerated |= iterable.func.id == "enumerate"
            iterable = iterable.args[0]
        elif isinstance(iterable, ast.Subscript) and isinstance(iterable.slice, ast.Slice) and ast.unparse(iterable.slice) == "::-1":
            backwards = not backwards
            iterable = iterable.value
        else:
            break
    if isinstance(iterable, ast.Attribute) and isinstance(iterable.value, ast.Name) and iterable.value.id == me:
        return iterable.attr, backwards, enumerated
    return None


def _layer_name(target: ast.AST, enumerated: bool) -> str | None:
    """The layer's name in `for layer in ...` or `for i, layer in enumerate(...)`; None for a
    loop over pairs (`for layer, activation in self.layers`), whose items are no layers."""
    if isinstance(target, ast.Name) and not enumerated:
        return target.id
    if enumerated and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name):
        return target.elts[1].id
    return None


def plain_calls(node: FunctionNode | None) -> list[tuple[str, int]]:
    """Functions a method calls by plain name, with how many positional arguments each call
    passes, in the order written (`softmax_cross_entropy(y_hat, y)` → ("softmax_cross_entropy", 2))."""
    if node is None:
        return []
    return [(n.func.id, len(n.args)) for n in walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]


def stepped_operand(node: FunctionNode | None, attribute: str) -> str | None:
    """The gradient a backward hands the optimizer stepping `self.<attribute>`:
    `self.W = self.W_opt.update(self.W, grad_w)` → "grad_w"; None when no statement does."""
    if node is None:
        return None
    me = self_name(node)
    wanted = f"{me}.{attribute}"
    for n in walk(node):
        if not (isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and any(ast.unparse(t) == wanted for t in n.targets)):
            continue
        args = n.value.args
        if len(args) == 2 and ast.unparse(args[0]) == wanted and isinstance(args[1], ast.Name):
            return args[1].id
    return None


def passed_to(node: FunctionNode | None, method: str) -> tuple[str, ...]:
    """The names a method hands its own `method` (`self._backward(loss_grad)`, `self._backward(da=grad)`)."""
    if node is None:
        return ()
    me = self_name(node)
    names = []
    for n in walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == method and ast.unparse(n.func.value) == me:
            names += [a.id for a in [*n.args, *(k.value for k in n.keywords)] if isinstance(a, ast.Name)]
    return tuple(dict.fromkeys(names))


def steps_own_lists(node: FunctionNode | None) -> bool:
    """Whether a method moves entries of its own lists of arrays in place at a rate the instance holds
    (`self.weights[i] -= self.lr * dW`, `self.biases[i] = self.biases[i] - self.learning_rate * db`):
    a whole model's backward that takes the SGD step itself, the end of the chain."""
    return held_rate(node) is not None


def held_rate(node: FunctionNode | None) -> str | None:
    """The attribute holding the rate at which a method moves entries of its own lists of arrays in
    place (`self.weights[i] -= self.lr * dW` -> "lr"), or None (`steps_own_lists`)."""
    if node is None:
        return None
    me = self_name(node)

    def own_entry(target: ast.AST) -> bool:
        return isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) and ast.unparse(target.value.value) == me

    def rate(value: ast.AST) -> str | None:  # `self.lr * dW`, also `self.lr * a.T @ d` (the product's left operand)
        for n in walk(value):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                for side in (n.left, n.right):
                    if isinstance(side, ast.Attribute) and ast.unparse(side.value) == me:
                        return side.attr
        return None

    for n in walk(node):
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Sub) and own_entry(n.target) and rate(n.value):
            return rate(n.value)
        if (
            isinstance(n, ast.Assign) and len(n.targets) == 1 and own_entry(n.targets[0])
            and isinstance(n.value, ast.BinOp) and isinstance(n.value.op, ast.Sub)
            and ast.unparse(n.value.left) == ast.unparse(n.targets[0]) and rate(n.value.right)
        ):  # fmt: skip
            return rate(n.value.right)
    return None


def calls_method(tree: ast.AST | None, name: str) -> bool:
    """Whether the tree calls a method of that name on anything (`model.backwards()`, `self.backwards(lr)`)."""
    return tree is not None and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == name for n in walk(tree)
    )


def calls_a_parameter(node: FunctionNode | None) -> bool:
    """Whether a function calls one of its own parameters (`def test_sigmoid(sigmoid): ... sigmoid(x)`):
    it takes a function to try out, a test of the user's layer, never a layer itself."""
    if node is None:
        return False
    names = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names for n in walk(node))


def global_flags(node: FunctionNode | None, flags: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The flags outside the instance a method branches on (`if Config.train:`, `if dezero.Config.train`,
    `x if TRAINING else y`): each a chain of names, `("dezero", "Config", "train")`, whose last name is one
    of `flags` (compared without case), never the instance's own (`self.train`) nor a parameter or local."""
    if node is None:
        return []
    me = self_name(node)
    own = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)} | {
        t.id for n in walk(node) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For))
        for t in walk(n.targets[0] if isinstance(n, ast.Assign) else n.target) if isinstance(t, ast.Name)
    }  # fmt: skip
    found: list[tuple[str, ...]] = []
    for n in walk(node):
        if not isinstance(n, (ast.If, ast.IfExp, ast.While)):
            continue
        for part in walk(n.test):
            chain: list[str] = []
            value = part
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if not isinstance(value, ast.Name) or value.id == me or value.id in own:
                continue
            chain.insert(0, value.id)
            if chain[-1].lower() in flags and tuple(chain) not in found:
                found.append(tuple(chain))
    return found


def returned_attributes(node: FunctionNode | None) -> list[str]:
    """The attributes of a method that returns only its instance's arrays, in order: `return (self.W, self.b)`
    or `return [self.W, self.b]` (a `get_params()` whose order backward's list of gradients follows); []
    otherwise."""
    if node is None:
        return []
    me = self_name(node)
    for n in walk(node):
        if isinstance(n, ast.Return) and isinstance(n.value, (ast.Tuple, ast.List)) and n.value.elts:
            elts = n.value.elts
            if all(isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == me for e in elts):
                return [e.attr for e in elts]  # type: ignore[attr-defined]
            return []
    return []
