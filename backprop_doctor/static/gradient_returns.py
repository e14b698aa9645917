"""A function that returns its loss beside the gradients of its weights, read from its own source.

    def step(inputs, targets, hprev, Wx, Wh, b):
        ...
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        ...
        return loss, dWx, dWh, db, h

`loss_and_gradients(node, candidates)` reads the last `return` of the def: a tuple holding one
value named like a loss (`loss`, `cost`, `J`) and gradients, each a name or the values of a
dictionary written in the return or bound to the returned name (`{"Wx": dWx, ...}`). A gradient
belongs to the weight it was started from (`dWx = np.zeros_like(Wx)`, `np.zeros(Wx.shape)`), else
to the weight its name spells (`dWx`, `d_Wx`, `delta_Wx`, `grad_Wx`, `Wx_grad`); the weights are the
names in `candidates` (the function's arguments and the globals it reads). Other returned values (a
hidden state carried to the next call) are left alone.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.tree import FunctionNode, walk

LOSS_NAME = re.compile(r"(?i)^(?!.*(losses|costs|history|list|_log)$)(j|l|e|err|error|.*loss.*|.*cost.*)$")  # one number, not a record of them
_PREFIXES = ("delta_", "grad_", "grads_", "d_", "g_", "delta", "grad", "d")
_SUFFIXES = ("_grad", "_gradient", "_delta", "grad", "_d")
_ZEROS = ("zeros_like", "zeros", "empty_like", "full_like", "ones_like")


@dataclass(frozen=True)
class Gradient:
    position: int  # where it is in the returned tuple
    key: object  # its key in a returned dictionary, None for a name returned as it is
    name: str  # the variable that holds it
    param: str  # the weight it is the gradient of


@dataclass(frozen=True)
class Unpacked:
    """A weight the function takes inside a list argument: `[W1, b1, W2, b2] = params`."""

    name: str  # the name it is unpacked to (`W1`)
    argument: str  # the list argument (`params`)
    index: int  # its place in that list


@dataclass(frozen=True)
class LossAndGradients:
    loss: int  # where the loss is in the returned tuple
    gradients: tuple[Gradient, ...]
    size: int  # how many values the tuple holds
    unpacked: tuple[Unpacked, ...] = ()  # the weights taken in list arguments, by the names they are unpacked to


def loss_and_gradients(node: FunctionNode | None, candidates: set[str]) -> LossAndGradients | None:
    """The layout of what the function returns, or None when it does not return a loss with gradients."""
    return _layout(node, candidates, with_loss=True)


def gradients_returned(node: FunctionNode | None, candidates: set[str]) -> LossAndGradients | None:
    """The layout of a backward's return that holds gradients and no loss (`return d_weights, d_x`,
    or one gradient alone); its `loss` is -1."""
    return _layout(node, candidates, with_loss=False)


def _layout(node: FunctionNode | None, candidates: set[str], with_loss: bool) -> LossAndGradients | None:
    if node is None:
        return None
    returns = [n for n in _own(node) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    value = returns[-1].value
    elements = value.elts if isinstance(value, ast.Tuple) else [] if with_loss else [value]
    if len(elements) < (2 if with_loss else 1) or any(isinstance(e, ast.Starred) for e in elements):
        return None
    losses = [i for i, e in enumerate(elements) if isinstance(e, ast.Name) and LOSS_NAME.match(e.id)]
    if with_loss and len(losses) != 1 or not with_loss and losses:
        return None
    losses = losses or [-1]
    unpacked = {u.name: u for u in unpacked_lists(node)}
    candidates = candidates | set(unpacked)
    started = _started_from(node, candidates)
    dicts = _bound_dicts(node)
    lists = _bound_lists(node)
    gradients: list[Gradient] = []
    for i, element in enumerate(elements):
        if i == losses[0]:
            continue
        if isinstance(element, ast.Name) and element.id in dicts and element.id not in candidates:
            element = dicts[element.id]
        elif isinstance(element, ast.Name) and element.id in lists and element.id not in candidates:
            element = lists[element.id]
        if isinstance(element, (ast.List, ast.Tuple)) and unpacked:
            # `grads = [dW1, db1, dW2, db2]` for weights unpacked from a list: a list of gradients, by index
            for key, value in enumerate(element.elts):
                param = _param_of(value.id, started, candidates) if isinstance(value, ast.Name) else None
                if param is not None and param in unpacked:
                    gradients.append(Gradient(i, key, value.id, param))
        elif isinstance(element, ast.Dict):
            for key, value in zip(element.keys, element.values):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Name):
                    param = _param_of(value.id, started, candidates)
                    if param is not None:
                        gradients.append(Gradient(i, key.value, value.id, param))
        elif isinstance(element, ast.Name):
            param = _param_of(element.id, started, candidates)
            if param is not None:
                gradients.append(Gradient(i, None, element.id, param))
    params = [g.param for g in gradients]
    if not gradients or len(set(params)) != len(params):
        return None
    return LossAndGradients(losses[0], tuple(gradients), len(elements), tuple(unpacked[p] for p in params if p in unpacked))


def unpacked_lists(node: FunctionNode) -> list[Unpacked]:
    """The names the def unpacks one of its arguments to (`[f1, f2, w3, b1] = params`, `W1, b1 = weights`),
    from its one such statement per argument."""
    arguments = {a.arg for a in (*node.args.posonlyargs, *node.args.args)}
    found: dict[str, list[list[Unpacked]]] = {}
    for n in _own(node):
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Name) and n.value.id in arguments):
            continue
        target = n.targets[0]
        if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) > 1 and all(isinstance(e, ast.Name) for e in target.elts):
            found.setdefault(n.value.id, []).append([Unpacked(e.id, n.value.id, i) for i, e in enumerate(target.elts) if isinstance(e, ast.Name)])
    return [u for runs in found.values() if len(runs) == 1 for u in runs[0]]


def _bound_lists(node: FunctionNode) -> dict[str, ast.List | ast.Tuple]:
    """Names the def binds to a list or tuple literal of names (`grads = [dW1, db1]`), the last binding."""
    found: dict[str, ast.List | ast.Tuple] = {}
    for n in sorted((n for n in _own(node) if isinstance(n, ast.Assign)), key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(n.value, (ast.List, ast.Tuple)) and n.value.elts and all(isinstance(e, ast.Name) for e in n.value.elts):
            for target in n.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = n.value
    return found


_GRADIENT_NAME = re.compile(r"^(grad|Grad|gradient|delta|d_|g_)|^d[A-Z]|(_grad|_gradient|Grad)$")  # `gradPred`, `grad`, `dW`, `x_grad`


def gradients_by_name(node: FunctionNode | None) -> LossAndGradients | None:
    """The returned values named like gradients (`gradPred`, `grad`, `grad_center`) beside one named
    like a loss, whatever their names spell: the weights they belong to are left empty (`param`
    ""), for the program's own call to tell by their shapes (cs224d's `return cost, gradPred, grad`
    of `predicted` and `outputVectors`). None when the return holds no such loss or gradient."""
    if node is None:
        return None
    returns = [n for n in _own(node) if isinstance(n, ast.Return) and n.value is not None]
    value = returns[-1].value if returns else None
    elements = value.elts if isinstance(value, ast.Tuple) else []
    losses = [i for i, e in enumerate(elements) if isinstance(e, ast.Name) and LOSS_NAME.match(e.id)]
    if len(losses) != 1 or any(isinstance(e, ast.Starred) for e in elements):
        return None
    gradients = tuple(Gradient(i, None, e.id, "") for i, e in enumerate(elements) if i != losses[0] and isinstance(e, ast.Name) and _GRADIENT_NAME.search(e.id))
    return LossAndGradients(losses[0], gradients, len(elements)) if gradients else None


def _own(node: FunctionNode) -> list[ast.AST]:
    """The nodes of the def itself, not of a def or class nested in it."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(node.body)
    while stack:
        n = stack.pop()
        found.append(n)
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(n))
    return found


def _param_of(name: str, started: dict[str, str], candidates: set[str]) -> str | None:
    if name in candidates:
        return None  # the weight itself, returned as it is
    if name in started:
        return started[name]
    for prefix in _PREFIXES:
        if name.startswith(prefix) and name[len(prefix) :] in candidates:
            return name[len(prefix) :]
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in candidates:
            return name[: -len(suffix)]
    return None


def _started_from(node: FunctionNode, candidates: set[str]) -> dict[str, str]:
    """gradient name -> the weight it starts as zeros of: `dW = np.zeros_like(W)`,
    `dW, db = np.zeros_like(W), np.zeros_like(b)`, `dW = np.zeros(W.shape)`."""
    found: dict[str, str] = {}
    for n in _own(node):
        if not isinstance(n, ast.Assign):
            continue
        for target in n.targets:
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(target, ast.Name):
                pairs.append((target, n.value))
            elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(n.value, (ast.Tuple, ast.List)) and len(target.elts) == len(n.value.elts):
                pairs.extend(zip(target.elts, n.value.elts))
            for name, value in pairs:
                param = _zeros_of(value, candidates)
                if isinstance(name, ast.Name) and param is not None:
                    found.setdefault(name.id, param)
    return found


def _zeros_of(value: ast.AST, candidates: set[str]) -> str | None:
    if not isinstance(value, ast.Call) or not value.args:
        return None
    func = value.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in _ZEROS:
        return None
    first = value.args[0]
    if isinstance(first, ast.Attribute) and first.attr == "shape":
        first = first.value
    return first.id if isinstance(first, ast.Name) and first.id in candidates else None


def _bound_dicts(node: FunctionNode) -> dict[str, ast.Dict]:
    """Names the def binds to a dictionary literal (`grads = {"W": dW, ...}`), the last binding."""
    found: dict[str, ast.Dict] = {}
    for n in sorted((n for n in _own(node) if isinstance(n, ast.Assign)), key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(n.value, ast.Dict):
            for target in n.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = n.value
    return found


def globals_read(node: FunctionNode | None) -> set[str]:
    """Names the def reads and never binds itself: the globals (and builtins) it uses."""
    if node is None:
        return set()
    bound = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
    bound |= {a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None}
    loaded: set[str] = set()
    for n in walk(node):
        if isinstance(n, ast.Name):
            (loaded if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, (ast.Global,)):
            loaded.update(n.names)
    return loaded - bound


def calls_by_name(tree: ast.AST | None, name: str) -> bool:
    """Whether `tree` (a training loop) calls a function by that name (`f(...)`, `module.f(...)`)."""
    if tree is None:
        return False
    for n in walk(tree):
        if isinstance(n, ast.Call):
            func = n.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if called == name:
                return True
    return False


def returned_at(tree: ast.AST | None, read: str) -> int | None:
    """The line of the file's own function that forms the gradient an update reads as its call:
    `gradient(w, X, y)` of `w -= lr * gradient(w, X, y)` is formed by `return 2 * X.T @ (X @ w - y) / n`,
    `grads(W1, W2, X, y)[0]` by the statement binding the first name of `return dW1, dW2`. None when
    the read is no such call, or the function has more than one return, or the returned name more
    than one binding."""
    if tree is None:
        return None
    try:
        node = ast.parse(read, mode="eval").body
    except SyntaxError:
        return None
    position = None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        node, position = node.value, node.slice.value
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    defined = [n for n in getattr(tree, "body", []) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == node.func.id]
    if len(defined) != 1:
        return None
    returns = [n for n in _own(defined[0]) if isinstance(n, ast.Return) and n.value is not None]
    if len(returns) != 1:
        return None
    value = returns[0].value
    if position is not None and isinstance(value, ast.Name):  # `out = [g3, g4, g1, g2]`, then `return out`
        value = _bound_lists(defined[0]).get(value.id, value)
    if position is not None:
        if not isinstance(value, (ast.Tuple, ast.List)) or not -len(value.elts) <= position < len(value.elts):
            return None
        value = value.elts[position]
    elif isinstance(value, (ast.Tuple, ast.List)):
        return None
    if not isinstance(value, ast.Name):
        return returns[0].lineno
    binding = [
        n for n in _own(defined[0])
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == value.id
        or isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in n.targets)
    ]  # fmt: skip
    return binding[0].lineno if len(binding) == 1 else None


def unpacked_from(tree: ast.AST | None, line: int, name: str) -> str | None:
    """`grad(w, b)[0]` for `gw` of `gw, gb = grad(w, b)` at `line` (`grad(w, b)` for `g = grad(w, b)`): what the
    statement binding `name` there reads, as a call of one of the file's functions; None otherwise."""
    if tree is None:
        return None
    entry = re.fullmatch(r"(\w+)\[(\d+)\]", name)  # `grads[3]` of `grads = backprop(layers, X, T)`: its fourth value
    for node in walk(tree):
        if not (isinstance(node, ast.Assign) and node.lineno == line and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == name:
            return ast.unparse(node.value)
        if entry is not None and isinstance(target, ast.Name) and target.id == entry.group(1):
            return f"{ast.unparse(node.value)}[{entry.group(2)}]"
        if isinstance(target, (ast.Tuple, ast.List)):
            names = [e.id if isinstance(e, ast.Name) else None for e in target.elts]
            if names.count(name) == 1:
                return f"{ast.unparse(node.value)}[{names.index(name)}]"
    return None
