"""Parameters in the source: updates (`params[key] -= lr * grads[key]` and its rebinding cousins),
and parameters handed to a layer as copies (`Affine(self.params['W1'].copy(), ...)`)."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from backprop_doctor.static.definitions import _child_blocks, _qualnames
from backprop_doctor.static.text import _columns, _show, _source, char_column
from backprop_doctor.static.tree import walk


# the same words in Chinese, Japanese and Korean, as the books' translations and their readers write them
CJK_PARAMETER = "参数|參數|权重|權重|重み|パラメータ|가중치|파라미터|매개변수"
CJK_RATE = "学习率|學習率|学習率|학습률|步长|步長|学习速率"
CJK_GRADIENT = "梯度|勾配|기울기|그래디언트|그라디언트"
CJK_LOSS = "损失|損失|손실|误差|誤差|오차|代价|代價|コスト|ロス|비용"

_PARAM_CONTAINER = re.compile(rf"param|weight|{CJK_PARAMETER}", re.IGNORECASE)
# `W`, `b2`, `Wxh`, `by`, `wih` and `who` (input-hidden, hidden-output), `w_in`, `w_hidden`, `self.weights`,
# `weights_0_1` (layers counted in the name), `syn0` and `synapse_1` (synapses, as in iamtrask's posts)
_PARAM_NAME = re.compile(
    r"[WwBb]\d*|[WwBb]_?(?:[a-z]{1,3}|hidden|output|input)\d*|weights?(?:_[a-z]\w*)?\d*|weights?(?:_\d+)+|bias(?:es)?(?:_[a-z]\w*)?\d*"
    r"|bias(?:es)?(?:_\d+)+|syn(?:apses?)?_?\d+|gamma\d*|beta\d*|kernel|embed\w*|params?|theta"
    r"|[WwBb]_|coef_|intercept_"  # a fitted model's `self.w_` (its bias in `w_[0]`), scikit-learn's spelling
)
# and spelled in Latin letters: pinyin `xuexilv` (学习率), romaji `gakushuritsu` (学習率), `hakseupryul` (학습률)
ROMANIZED_RATE = r"xue_?xi_?(?:l[vuü]|su_?l[vuü])|gaku_?s[hy]u_?ritsu|hak_?s[eu]{1,2}p_?r[yi]?u?l"
_LEARNING_RATE = re.compile(
    rf"(?:current_|cur_|base_|initial_)?(?:lr|learning_?rate|learn_?rate|l_?rate|rate|eta|alpha|step_?size|{ROMANIZED_RATE})(?:_\w*)?|\w*_lr|\w*(?:{CJK_RATE})\w*",
    re.IGNORECASE,
)
# names the file binds only to positive fractions (`step = 0.1`, `def fit(self, X, y, step=0.1)`, `self.step = step`,
# `train(X, y, 0.1)`), read as learning rates by `parameter_updates` while it walks that file (`numeric_settings`)
_SETTINGS: ContextVar[frozenset[str]] = ContextVar("settings", default=frozenset())


def _is_rate(name: str) -> bool:
    """A learning rate by its name (`lr`, `eta`, `step_size`), or a setting of the file holding a fraction (`step`)."""
    return bool(_LEARNING_RATE.fullmatch(name)) or name in _SETTINGS.get()


_GRADIENT = re.compile(
    r"(?i:\w*grad\w*|\w*deltas?\d*|deltas?_\w+)|d[A-Z]\w*|d(?:w|b|gamma|beta|theta|params?|weights?|bias(?:es)?)\d*|g"
    r"|d[a-z]{1,2}\d*|d_[A-Za-z]\w*"  # `dz`, `dh1`, `d_out`, `d_L_d_ypred`: an adjoint the step multiplies (`0.5 * X.T @ dz`)
    r"|g[A-Z]\w*|g[wb]?\d*|g_[A-Za-z]\w*"  # `gW2`, `gb1`, `g1`, `g_emb`: g for gradient before the parameter's name or number
    r"|(?i:d_?(?:loss|cost|err(?:or)?|e|l|j|e_?total|obj\w*)_d_?[A-Za-z]\w*)"  # `dloss_dp`, `derror_dw2`: the loss's derivative written as a fraction
    r"|G\d*"  # `G["Wh"]`, `G = {k: np.zeros_like(v) ...}`: a capital G for the gradients, as a capital P holds the parameters
    rf"|d_?[^\W\d\x00-\x7f]\w*|\w*(?:{CJK_GRADIENT})\w*"  # `d得分`, `d隐藏`, `梯度`: the same in the user's own script
)
_OPTIMISER_STATE = re.compile(r"(?i)cache|momentum|velocit|moment|_rms|accum|squared")
_VELOCITY = re.compile(r"v(?:_?[A-Za-z]{0,2}\d*)|m|h|vel\w*|velocity|momentum|cache|moment\w*|(?:\w+_)?updates?(?:_\w+)?")


@dataclass(frozen=True)
class Update:
    """A statement that updates parameters, and its in-place form.

    `kind` is "in-place" (`p -= lr * g`, `p[...] = p - lr * g`), "rebind-entry"
    (`params[key] = params[key] - ...`: layers holding the old array keep it),
    "rebind-attribute" (`self.W = self.W - ...`), "rebind-loop-variable"
    (`for p, g in zip(params, grads): p = p - lr * g` changes nothing) or
    "rebind-name" (`W1 = W1 - lr * dW1`) or "rebind-list" (`self.weights = [w - eta * nw for w, nw in
    zip(self.weights, nabla_w)]`: a new list of new arrays) or "rebind-dict" (`P = {k: v - lr * G[k] for k,
    v in P.items()}`: a new dict of new arrays).
    """

    line: int
    col: int
    end_line: int
    end_col: int
    source: str  # the statement as written
    fix: str  # the in-place form, e.g. "network.params[key] -= learning_rate * grad[key]"
    in_place: bool
    kind: str
    target: str  # "network.params[key]"
    function: str | None = None  # qualname of the enclosing function, None at module level
    file: str | None = None  # another file of the user's the update is in (a function the loop imports); None: the checked file


def _chain(node: ast.AST) -> list[str]:
    """Identifiers along `a.b[c].d` (the subscripts themselves left out): a, b, d."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _identifiers(node: ast.AST) -> set[str]:
    """Names and attributes an expression computes with; an index (`h` of `deltas[h]`) is not a value."""
    indices = {id(n) for sub in walk(node) if isinstance(sub, ast.Subscript) for n in walk(sub.slice)}
    found = set()
    for inner in walk(node):
        if id(inner) in indices:
            continue
        if isinstance(inner, ast.Name):
            found.add(inner.id)
        elif isinstance(inner, ast.Attribute):
            found.add(inner.attr)
    return found


def _rows_of(iterable: ast.Tuple | ast.List, width: int) -> bool:
    """A literal of rows of `width` elements each: `((W1, dW1), (b1, db1))`."""
    return bool(iterable.elts) and all(isinstance(r, (ast.Tuple, ast.List)) and len(r.elts) == width for r in iterable.elts)


def _literal_role(expression: ast.AST) -> str | None:
    """The role of a tuple or list of names written out (`zip((W1, b1, W2), (dW1, db1, dW2))`,
    `zip([self.W_in, self.b_in], ...)`): "param" when every name is a parameter's, "grad" when every
    one is a gradient's."""
    if not isinstance(expression, (ast.Tuple, ast.List)) or not expression.elts:
        return None
    names = [e.id if isinstance(e, ast.Name) else e.attr for e in expression.elts if isinstance(e, ast.Name) or (isinstance(e, ast.Attribute) and _chain(e))]
    if len(names) != len(expression.elts):
        return None
    if all(_PARAM_NAME.fullmatch(n) for n in names):
        return "param"
    return "grad" if all(_GRADIENT.fullmatch(n) for n in names) else None


def _loop_roles(loop: ast.For | ast.AsyncFor, passing: frozenset[str] = frozenset()) -> dict[str, str]:
    """Loop variables that stand for parameters or gradients: `for p, g in zip(params, grads)` (`passing`:
    names the pass binds before the loop, `zipped_descent`)."""

    def role(expression: ast.AST) -> str | None:
        identifiers = _identifiers(expression)
        if any(_PARAM_CONTAINER.search(i) for i in identifiers):
            return "param"
        if any("grad" in i.lower() for i in identifiers):
            return "grad"
        return _literal_role(expression)

    target, iterable = loop.target, loop.iter
    pairs: list[tuple[ast.AST, ast.AST]] = []
    if isinstance(iterable, ast.Call) and isinstance(target, (ast.Tuple, ast.List)):
        func = iterable.func
        if isinstance(func, ast.Name) and func.id == "zip" and len(iterable.args) == len(target.elts):
            pairs = list(zip(target.elts, iterable.args))
        elif isinstance(func, ast.Name) and func.id == "enumerate" and iterable.args and len(target.elts) == 2:
            pairs = [(target.elts[1], iterable.args[0])]
        elif isinstance(func, ast.Attribute) and func.attr == "items" and len(target.elts) == 2:
            pairs = [(target.elts[1], func.value)]
        elif len(target.elts) == 2 and role(iterable) == "param" and all(isinstance(e, ast.Name) for e in target.elts):
            # `for p, g in model.params():` (parameter, gradient) pairs, the gradient named as one
            first, second = target.elts
            return {first.id: "param", second.id: "grad"} if _GRADIENT.fullmatch(second.id) and not _GRADIENT.fullmatch(first.id) else {}
    elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(iterable, (ast.Tuple, ast.List)) and _rows_of(iterable, len(target.elts)):
        # `for p, g in ((W1, dW1), (b1, db1)):` the first column names parameters, the second their gradients
        roles: dict[str, str] = {}
        for position, element in enumerate(target.elts):
            column = [row.elts[position] for row in iterable.elts]  # type: ignore[attr-defined]
            if isinstance(element, ast.Name) and (found := _literal_role(ast.Tuple(elts=column))):
                roles[element.id] = found
        return roles
    elif isinstance(target, ast.Name):
        func = iterable.func if isinstance(iterable, ast.Call) else None
        if not (isinstance(func, ast.Attribute) and func.attr == "keys"):
            pairs = [(target, iterable)]
    roles = {}
    for element, source in pairs:
        if isinstance(element, ast.Name) and (r := role(source)):
            roles[element.id] = r
        elif isinstance(element, (ast.Tuple, ast.List)) and _gradient_pair(element, role(source)):
            # `for L, (dW, db) in zip(layers, grads)`: each name unpacked from a gradient's entry is a gradient
            roles.update({e.id: "grad" for e in element.elts if isinstance(e, ast.Name)})
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "zip" and len(pairs) == 2:
        # `zip(layers, grads)`: beside the gradients (a pair of them, or one name: `for layer, g in ...`), what the
        # loop walks in step with them holds the parameters
        (first, first_source), (second, second_source) = pairs
        gradients = (
            _gradient_pair(second, role(second_source)) if isinstance(second, (ast.Tuple, ast.List))
            # one gradient per element beside a container the program named (`zip(layers, grads)`), not a literal
            # tuple of other names (`zip((H, A), (dZ1, dZ2))`: activations, whatever the loop does with them)
            else roles.get(getattr(second, "id", "")) == "grad" and isinstance(first_source, (ast.Name, ast.Attribute, ast.Call))
        )  # fmt: skip
        if gradients and role(first_source) is None and isinstance(first, ast.Name):
            roles[first.id] = "param"
    walked = zipped_descent(loop, passing)
    if walked is not None and walked[0] not in roles and roles.get(walked[1], "grad") == "grad":
        roles.update({walked[0]: "param", walked[1]: "grad"})  # `p -= step * g`, whatever the containers are called
    return roles


def zipped_descent(loop: ast.stmt, passing: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """`for p, g in zip(model.offsets, gb): p -= step * g`, `for p, g in zip([net.A, net.a], grads): ...`:
    a loop over containers walked in step whose body moves one loop variable in place, down by a factor
    the loop does not bind (a number, or a name: the rate) times another loop variable. Whatever the names,
    the first walks parameters and the second their gradients: (`p`, `g`); None for any other loop (a
    factor computed in the body, `row -= f * pivot`, is elimination, not a step; nor a literal of names
    `passing`, which the pass computes before the loop: `zip((H, A), (dZ1, dZ2))`, activations).
    The move may be written into the whole array (`p[:] = p - lr * g`, `p[...] -= lr * g`), sit under an
    `if` of the body (`if g is not None: p -= lr * g`), or go up by a rate named as one or written as a
    number (`p += lr * g`, `p[...] = p + 0.2 * g`: a step that climbs, which the replay then names; not by
    any other name, `t += tau * s`)."""
    if not (isinstance(loop, (ast.For, ast.AsyncFor)) and isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name)):
        return None
    if loop.iter.func.id != "zip" or not isinstance(loop.target, (ast.Tuple, ast.List)):
        return None
    mine = {e.id for e in loop.target.elts if isinstance(e, ast.Name)}
    if len(mine) != len(loop.target.elts) or len(mine) < 2:
        return None
    bound = {n.id for stmt in loop.body for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for target, op, step in _moves_in(loop.body):
        if not (isinstance(target, ast.Name) and target.id in mine):
            continue
        descends = isinstance(op, ast.Sub)
        if isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub):
            step, descends = step.operand, not descends  # `p += -lr * g`
        product = _leading_product(step)
        if product is None:
            continue
        for factor, other in ((product.left, product.right), (product.right, product.left)):
            if not (isinstance(other, ast.Name) and other.id in mine and other.id != target.id):
                continue
            if isinstance(factor, ast.UnaryOp) and isinstance(factor.op, ast.USub) and not descends:
                factor = factor.operand  # `p += -step * g`, parsed as `(-step) * g`
            elif not descends and not (_rate_named(factor, climbing=True) or _a_number(factor)):
                continue  # `acc += w * x`: a sum; `p += lr * g`, `p[:] = p + 0.2 * g` climb by a rate
            free = isinstance(factor, (ast.Name, ast.Attribute)) and bool(_chain(factor)) and not (_identifiers(factor) & (mine | bound))
            walked = loop.iter.args[[e.id for e in loop.target.elts].index(target.id)] if len(loop.iter.args) == len(loop.target.elts) else None  # type: ignore[attr-defined]
            if isinstance(walked, (ast.Tuple, ast.List)) and any(isinstance(e, ast.Name) and e.id in passing for e in walked.elts):
                return None  # `for P, G in zip((H, A), (dZ1, dZ2))`: values of this pass, not parameters
            if _a_number(factor) or free:
                return target.id, other.id
    return None


def _moves_in(body: list[ast.stmt]) -> Iterator[tuple[ast.expr, ast.operator, ast.expr]]:
    """The moves a loop's body makes, as (target, + or -, step): `p -= s` and `p[...] -= s`, `p[:] = p - s`
    and `p[...] = p + s` (the whole array written from itself), in the body or under its `if`s."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from _moves_in(stmt.body)
            yield from _moves_in(stmt.orelse)
            continue
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Sub, ast.Add)):
            target = stmt.target
            if isinstance(target, ast.Subscript) and _whole_array(target.slice):
                target = target.value  # `p[...] -= lr * g`, `p[:] -= ...`
            yield target, stmt.op, stmt.value
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript) and _whole_array(stmt.targets[0].slice):
            target, value = stmt.targets[0].value, stmt.value
            if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add)) and _same_expression(value.left, target):
                yield target, value.op, value.right  # `p[:] = p - lr * g`


def _gradient_pair(element: ast.Tuple | ast.List, source_role: str | None) -> bool:
    """`(dW, db)`, `(gW, gb)` unpacked from what the loop walks: gradients, by their source's name or their own."""
    names = [e.id for e in element.elts if isinstance(e, ast.Name)]
    return bool(names) and (source_role == "grad" or all(_GRADIENT.fullmatch(n) for n in names))


def _param_like(node: ast.AST, roles: Mapping[str, str]) -> bool:
    names = _chain(node)
    if not names or _GRADIENT.fullmatch(names[-1]) and names[-1] not in roles:
        return False  # `self.dweights += l1 * dL1`: a gradient accumulated, not a parameter moved
    if _OPTIMISER_STATE.search(names[-1]):
        return False  # `layer.weight_cache += layer.dweights ** 2`: the optimiser's state, not a parameter
    if len(names) == 1 and isinstance(node, ast.Name):
        return roles.get(node.id) == "param" or bool(_PARAM_NAME.fullmatch(node.id))
    if names[0] in roles and roles[names[0]] == "param":
        return True
    if _under_parameter_key(node) and not _VELOCITY.fullmatch(names[-1]):
        return True  # `neuron['weights'][j]`: a number of a list a neuron's dict holds under a parameter's name
    return any(_PARAM_CONTAINER.search(n) for n in names) or bool(_PARAM_NAME.fullmatch(names[-1]))


def _under_parameter_key(node: ast.AST) -> bool:
    """`neuron['weights'][j]`, `layer["b"]`: an entry reached through a literal key that names a parameter or
    a container of them, no key along the way naming a gradient or an optimiser's state (`['delta']`), nor
    the dict itself (`g["Wx"]`, `grads["b"]`)."""
    keys = []
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        if isinstance(node, ast.Subscript) and (stem := key_stem(node.slice)) is not None:
            keys.append(stem)
        node = node.value
    if not keys or any(_GRADIENT.fullmatch(k) or _OPTIMISER_STATE.search(k) or _VELOCITY.fullmatch(k) for k in keys):
        return False
    root = node.id if isinstance(node, ast.Name) else ""
    if root and (_GRADIENT.fullmatch(root) or _OPTIMISER_STATE.search(root) or _VELOCITY.fullmatch(root) or re.match(r"(?i)acc|sum|total|running", root)):
        return False  # `g["Wx"] += xs[t].T @ dz`, `acc["W1"] = acc["W1"] + ...`: gradients keyed by the parameters' names, summed
    return any(_PARAM_CONTAINER.search(k) or _PARAM_NAME.fullmatch(k) for k in keys)


def key_stem(key: ast.AST) -> str | None:
    """The name a dict key spells before any layer number: `"W1"` itself, and the `W` of a key computed
    from the layer's index (`"W" + str(l)`, `f"W{l}"`, `"W%d" % l`, `"W{}".format(l)`), as the course's
    L-layer networks key their parameters and gradients (`grads["dW" + str(l)]`); None for another key."""
    if isinstance(key, ast.Constant):
        return key.value if isinstance(key.value, str) else None
    if isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add) and isinstance(key.left, ast.Constant) and isinstance(key.left.value, str):
        return key.left.value or None
    if isinstance(key, ast.BinOp) and isinstance(key.op, ast.Mod) and isinstance(key.left, ast.Constant) and isinstance(key.left.value, str):
        return key.left.value.partition("%")[0] or None
    if isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant) and isinstance(key.values[0].value, str):
        return key.values[0].value or None
    if (
        isinstance(key, ast.Call) and isinstance(key.func, ast.Attribute) and key.func.attr == "format"
        and isinstance(key.func.value, ast.Constant) and isinstance(key.func.value.value, str)
    ):  # fmt: skip
        return key.func.value.value.partition("{")[0] or None
    return None


def _keyed_descent(stmt: ast.AugAssign, roles: Mapping[str, str]) -> bool:
    """`p["W2"] -= lr * h.T @ d_out`: a dict of whatever name, keyed by a parameter's name or visited by its
    keys (`for name in P: ... P[name] -= lr * step`, `_key_roles`), moved down by a learning rate (not
    `acc["W1"] += ...`, a sum of gradients, nor a velocity's, a gradient's or an optimizer state's dict), or
    either way by an adaptive step whose rate is a number (`_adaptive_step`: `P[k] += 0.005 * mh / ...` climbs)."""
    names = _chain(stmt.target)
    literal = _keyed_parameter(stmt.target)
    walked = _walked_key(stmt.target, roles)
    adaptive = _adaptive_step(stmt.value, stmt.target)  # `P[k] -= 0.005 * mh / (np.sqrt(vh) + 1e-8)`: Adam's rate written as a number
    return (
        (isinstance(stmt.op, ast.Sub) or adaptive) and (literal or walked) and bool(names)
        and not _VELOCITY.fullmatch(names[-1]) and not _GRADIENT.fullmatch(names[-1]) and not _OPTIMISER_STATE.search(names[-1])
        and (
            any(_is_rate(i) for i in _identifiers(stmt.value)) or literal and _number_times_own_gradient(stmt)
            or walked and isinstance(stmt.value, ast.Name) and roles.get(stmt.value.id) == "grad"  # `P[k] -= upd`, `upd = lr * m / ...`
            or adaptive
        )
    )  # fmt: skip


def _key_roles(loop: ast.For | ast.AsyncFor) -> dict[str, str]:
    """`for name in P:` (or `P.keys()`): the loop variable is a key of `P`, role "key:P"."""
    iterable = loop.iter
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) and iterable.func.attr == "keys" and not iterable.args:
        iterable = iterable.func.value
    if isinstance(loop.target, ast.Name) and isinstance(iterable, ast.Name):
        return {loop.target.id: f"key:{iterable.id}"}
    return {}


def _walked_key(target: ast.AST, roles: Mapping[str, str]) -> bool:
    """`P[name]` where `name` walks the keys of `P` itself (role "key:P")."""
    return (
        isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Name)
        and roles.get(target.slice.id) == f"key:{target.value.id}"
    )  # fmt: skip


def _number_times_own_gradient(stmt: ast.AugAssign) -> bool:
    """`layer["W"] -= 0.5 * layer["gW"]`: a number times the same dict's entry keyed by the gradient of
    the parameter's key (`dW`, `gW`, `grad_W`, `W_grad`, `d_W`)."""
    target, step = stmt.target, stmt.value
    if not (
        isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
        and isinstance(step, ast.BinOp) and isinstance(step.op, ast.Mult)
    ):  # fmt: skip
        return False
    me, owner = target.slice.value, ast.unparse(target.value)
    keys = (f"d{me}", f"g{me}", f"grad_{me}", f"{me}_grad", f"d_{me}", f"grad{me}")
    for factor, other in ((step.left, step.right), (step.right, step.left)):
        if (
            _a_number(factor) and isinstance(other, ast.Subscript) and ast.unparse(other.value) == owner
            and isinstance(other.slice, ast.Constant) and other.slice.value in keys
        ):  # fmt: skip
            return True
    return False


def _keyed_parameter(node: ast.AST) -> bool:
    """`p["W2"]`, `model['b1']`: an entry keyed by a literal parameter name."""
    key = node.slice if isinstance(node, ast.Subscript) else None
    return isinstance(key, ast.Constant) and isinstance(key.value, str) and bool(_PARAM_NAME.fullmatch(key.value))


def _gradient_named_after(target: ast.AST, step: ast.AST) -> bool:
    """`self.U -= learning_rate * dLdU`, `V -= lr * dV`, `Why -= lr * grad_Why`, `emb -= lr * demb`: a
    name however it is called, moved by a learning rate times a gradient named after it."""
    names = _chain(target)
    if not names or isinstance(target, ast.Subscript) or _GRADIENT.fullmatch(names[-1]) or _OPTIMISER_STATE.search(names[-1]):
        return False
    me = names[-1]
    identifiers = _identifiers(step)
    # a rate by its name, or written as a number (`c1 -= 0.5 * gc1`)
    literal = isinstance(step, ast.BinOp) and isinstance(step.op, (ast.Mult, ast.Div)) and any(
        isinstance(side, ast.Constant) and isinstance(side.value, (int, float)) and not isinstance(side.value, bool) for side in (step.left, step.right)
    )
    if not (literal or any(_is_rate(i) for i in identifiers)):
        return False
    return any(
        i in (f"d{me}", f"d_{me}", f"g{me}", f"g_{me}")  # `emb -= lr * demb`, `u -= lr * gu`: d or g before the name, whatever the name
        or i.startswith((f"d{me}_", f"g{me}_", f"grad_{me}_"))  # `db1_sum`, `gW_acc`: a sum of them
        or i in (f"{me}_update", f"{me}_updates", f"update_{me}")  # `synapse_h += synapse_h_update * alpha`: the step summed for it
        or _GRADIENT.fullmatch(i) and i != me and (i.endswith(me) or i.startswith(f"{me}_grad") or i == f"grad_{me}")
        for i in identifiers
    )


def _by_its_grad(target: ast.AST, step: ast.AST) -> bool:
    """`t.data -= self.lr * t.grad`, `p.value -= lr * p.grad`: an object's array moved by a rate times the
    same object's `grad`, whatever the object and its array are called."""
    if not (isinstance(target, ast.Attribute) and target.attr != "grad"):
        return False
    owner = ast.unparse(target.value)
    return any(isinstance(n, ast.Attribute) and n.attr == "grad" and ast.unparse(n.value) == owner for n in walk(step)) and (
        any(_is_rate(i) for i in _identifiers(step)) or _number_times(step)
    )


def _entry_name(node: ast.Subscript) -> str:
    """What the container of the entry `node` is called: `vel` of `vel[k]`, and of `opt["vel"][k]`
    (a velocity kept under a string key of the optimiser's settings dict)."""
    inner = node.value
    if isinstance(inner, ast.Subscript) and isinstance(inner.slice, ast.Constant) and isinstance(inner.slice.value, str) and inner.slice.value.isidentifier():
        return inner.slice.value
    chain = _chain(node)
    return chain[-1] if chain else ""


def _keyed_like_gradient(target: ast.AST, step: ast.AST) -> bool:
    """`p[k] -= lr * grads[k]`: a container entry moved by a rate times the gradient container's entry
    under the same key (or a velocity's, `lr * m[k]`) is a parameter, whatever the container is
    called (`p`, `net`, `model`); the rate may be written as a number (`P[k] -= 0.05 * g[k]`)."""
    if not isinstance(target, ast.Subscript):
        return False
    names = _chain(target)
    if names and _CAPITAL_G.fullmatch(names[-1]):
        return _generator_descent(target, step)
    if not names or _GRADIENT.fullmatch(names[-1]) or _OPTIMISER_STATE.search(names[-1]) or _VELOCITY.fullmatch(names[-1]):
        return False
    key = ast.unparse(target.slice)

    def entry(n: ast.AST) -> bool:
        return (
            isinstance(n, ast.Subscript) and ast.unparse(n.slice) == key and bool(name := _entry_name(n))
            and bool(_GRADIENT.fullmatch(name) or _VELOCITY.fullmatch(name))
        )  # fmt: skip

    if entry(step) and _VELOCITY.fullmatch(_entry_name(step)):
        return True  # `net[k] += vel[k]`: a velocity kept per parameter, the rate already in it
    if isinstance(step, ast.BinOp) and any(entry(n) and _VELOCITY.fullmatch(_entry_name(n)) for n in walk(step)):
        return True  # `P[k] += -mu * v_prev + (1 + mu) * velocity[k]`: Nesterov's step, made of the velocity kept per parameter
    if isinstance(step, ast.BinOp) and isinstance(step.op, ast.Mult):
        for factor, other in ((step.left, step.right), (step.right, step.left)):
            if entry(other) and isinstance(factor, (ast.Name, ast.Attribute)) and not _GRADIENT.fullmatch(_chain(factor)[-1] if _chain(factor) else ""):
                return True  # `net[k] -= step * grads[k]`: the one factor beside the entry is the rate, however named
            if entry(other) and isinstance(factor, ast.Subscript) and isinstance(factor.slice, ast.Constant) and _LEARNING_RATE.fullmatch(str(factor.slice.value)):
                return True  # `model.p[k] -= config["lr"] * grads[k]`: a rate kept in a settings dict
    product = _leading_product(step)
    if product is not None and names[0] not in _identifiers(step):
        for factor, other in ((product.left, product.right), (product.right, product.left)):
            if (_a_number(factor) or _rate_named(factor)) and isinstance(other, ast.Subscript) and isinstance(other.value, ast.Name) and ast.unparse(other.slice) == key and isinstance(target.slice, ast.Name):
                return True  # `net[name] -= 0.4 * total[name] / 12`: another container's entry under the loop's key, times a rate
    identifiers = _identifiers(step)
    if not any(_is_rate(i) for i in identifiers) and not _number_times(step):
        return False
    return any(entry(n) for n in walk(step))


def _number_times(step: ast.AST) -> bool:
    """`0.05 * g[k]`, `g[k] * 1e-3`: a step whose factor is a number, a learning rate written in place."""
    return (
        isinstance(step, ast.BinOp) and isinstance(step.op, ast.Mult)
        and any(isinstance(side, ast.Constant) and type(side.value) in (int, float) for side in (step.left, step.right))
    )  # fmt: skip


def _adaptive_step(step: ast.AST, target: ast.AST | None = None) -> bool:
    """`0.01 * m_hat / (np.sqrt(v_hat) + eps)`, `m_hat / (np.sqrt(v_hat) + 1e-8) * 0.01`, `1e-3 * m / (v ** 0.5 + eps)`:
    a product and quotient whose factors hold a positive number (the learning rate written in place) and
    something read by name (a moment), divided by a square root (Adam's, RMSProp's, Adagrad's denominator);
    never one that reads the `target` it moves (`w -= 0.1 * w / np.sqrt(n)` shrinks `w`, no step)."""
    if target is not None and ast.unparse(target) in {ast.unparse(n) for n in walk(step)}:
        return False
    if isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub):
        step = step.operand
    factors: list[ast.AST] = []
    divisors: list[ast.AST] = []
    pending = [step]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            pending += [node.left, node.right]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            pending.append(node.left)
            divisors.append(node.right)
        else:
            factors.append(node)
    return (
        any(_a_number(f) for f in factors)
        and any(isinstance(f, (ast.Name, ast.Attribute, ast.Subscript)) and _chain(f) for f in factors)
        and any(_rooted(d) for d in divisors)
    )  # fmt: skip


def _rooted(node: ast.AST) -> bool:
    """Whether an expression takes a square root: `np.sqrt(v_hat) + eps`, `(v + eps) ** 0.5`."""
    for inner in walk(node):
        if isinstance(inner, ast.Call) and ast.unparse(inner.func).rpartition(".")[2] == "sqrt":
            return True
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow) and isinstance(inner.right, ast.Constant) and inner.right.value == 0.5:
            return True
    return False


def _steps(node: ast.AST, roles: Mapping[str, str]) -> bool:
    """Whether an expression looks like an update step (mentions a learning rate, gradient or velocity)."""
    for identifier in _identifiers(node):
        if roles.get(identifier) == "grad":
            return True
        if _is_rate(identifier) or _GRADIENT.fullmatch(identifier) or _VELOCITY.fullmatch(identifier):
            return True
    return False


def decayed_step(target: ast.AST, value: ast.expr) -> tuple[int, ast.expr] | None:
    """`W = W - lr * dW - reg * W`: a rebinding that also takes a multiple of the parameter off (weight
    decay written beside the step, in either order): the sign and the one term that does not read the
    parameter, the step; None for any other shape (a single step, or more than one term besides)."""
    terms = signed_terms(value)
    if len(terms) < 3 or terms[0][0] != 1 or not _same_expression(terms[0][1], target):
        return None
    decays = [
        term for _, term in terms[1:]
        if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult) and any(_same_expression(side, target) for side in (term.left, term.right))
    ]  # fmt: skip
    steps = [(sign, term) for sign, term in terms[1:] if not any(term is decay for decay in decays)]
    if len(steps) != 1 or not decays or any(_same_expression(n, target) for n in ast.walk(steps[0][1])):
        return None
    return steps[0]


def signed_terms(node: ast.expr, sign: int = 1) -> list[tuple[int, ast.expr]]:
    """`a - b + c` -> [(1, a), (-1, b), (1, c)]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        right = -sign if isinstance(node.op, ast.Sub) else sign
        return signed_terms(node.left, sign) + signed_terms(node.right, right)
    return [(sign, node)]


def _same_expression(a: ast.AST, b: ast.AST) -> bool:
    return ast.unparse(a) == ast.unparse(b)


def _whole_array(index: ast.AST) -> bool:
    """`[...]` or `[:]`: a slice assignment that writes into the array itself."""
    if isinstance(index, ast.Constant) and index.value is Ellipsis:
        return True
    return isinstance(index, ast.Slice) and index.lower is None and index.upper is None and index.step is None


@dataclass(frozen=True)
class ListUpdate:
    """`self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]`, taken apart."""

    element: str  # "w": the loop variable bound to the parameters
    gradient_variable: str  # "nw": the one bound to the gradients
    gradients: str  # "nabla_w": the list it comes from
    op: ast.operator
    step: ast.expr  # "(eta / m) * nw"


def list_update(stmt: ast.stmt) -> ListUpdate | None:
    """A list comprehension that rebinds a list of parameters to each one moved by a step (or a tuple of them, built
    from a generator: `params = tuple(p - lr * g for p, g in zip(params, grads))`)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target, comp = stmt.targets[0], stmt.value
    generator = isinstance(comp, ast.Call) and isinstance(comp.func, ast.Name) and comp.func.id in ("tuple", "list") and len(comp.args) == 1
    if generator and not comp.keywords and isinstance(comp.args[0], ast.GeneratorExp):  # type: ignore[union-attr]
        comp = comp.args[0]  # type: ignore[union-attr]
    if not isinstance(comp, (ast.ListComp, ast.GeneratorExp)):
        return None
    if len(comp.generators) != 1 or comp.generators[0].ifs:
        return None
    loop = comp.generators[0]
    call = loop.iter
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "zip" and len(call.args) == 2):
        return None
    if not (isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2 and all(isinstance(e, ast.Name) for e in loop.target.elts)):
        return None
    names = [e.id for e in loop.target.elts]  # type: ignore[attr-defined]
    sources = [ast.unparse(a) for a in call.args]
    mine = ast.unparse(target)
    if mine not in sources:
        return None
    at = sources.index(mine)
    element, other = names[at], names[1 - at]
    elt = comp.elt
    if not (isinstance(elt, ast.BinOp) and isinstance(elt.op, (ast.Sub, ast.Add))):
        return None
    if not (isinstance(elt.left, ast.Name) and elt.left.id == element):
        return None  # `(1 - eta * lmbda / n) * w - ...`: weight decay, a loss term no implied loss holds
    if not any(isinstance(n, ast.Name) and n.id == other for n in walk(elt.right)):
        return None
    if isinstance(comp, ast.GeneratorExp) and (isinstance(elt.right, ast.Name) or _VELOCITY.fullmatch(sources[1 - at].rsplit(".", 1)[-1])):
        return None  # `tuple(p + v for p, v in zip(params, vel))`: a velocity added, the gradient gone into it earlier
    return ListUpdate(element, other, sources[1 - at], elt.op, elt.right)


@dataclass(frozen=True)
class DictUpdate:
    """`P = {k: v - lr * G[k] for k, v in P.items()}`, taken apart."""

    target: ast.expr  # `P`
    element: str | None  # "v": the name bound to each parameter; None for `{k: P[k] - lr * G[k] for k in P}`
    key: str  # "k"
    op: ast.operator
    step: ast.expr  # "lr * G[k]"


def dict_update(stmt: ast.stmt) -> DictUpdate | None:
    """A dict of parameters rebound (or refilled: `P.update({...})`) by a comprehension over its own entries, each moved by a step read
    from the entry of one other dict under the same key (by a rate times it: `_dict_descent`): `P = {k: v - lr *
    G[k] for k, v in P.items()}`, `params = {k: params[k] - 0.1 * grads["d" + k] / n for k in params}`. None
    for any other statement: a step adding an optimiser's state (`v + vel[k]`), one reading several
    entries or a root (Adam's `m[k] / (np.sqrt(s[k]) + eps)`), a dict of gradients or of state rebuilt."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.DictComp):
        target, comp = stmt.targets[0], stmt.value
    elif (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "update" and len(stmt.value.args) == 1 and not stmt.value.keywords
        and isinstance(stmt.value.args[0], ast.DictComp)
    ):  # fmt: skip
        target, comp = stmt.value.func.value, stmt.value.args[0]  # `P.update({k: v - lr * G[k] for k, v in P.items()})`
    else:
        return None
    if not (isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)) and _not_state(target)):
        return None
    if len(comp.generators) != 1 or comp.generators[0].ifs or comp.generators[0].is_async:
        return None
    walked, names = comp.generators[0].iter, comp.generators[0].target
    mine = ast.unparse(target)
    element: str | None = None
    if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Attribute) and not walked.args and not walked.keywords:
        owner, method = ast.unparse(walked.func.value), walked.func.attr
        if owner != mine or method not in ("items", "keys"):
            return None
        if method == "items":
            if not (isinstance(names, ast.Tuple) and len(names.elts) == 2 and all(isinstance(e, ast.Name) for e in names.elts)):
                return None
            key, element = names.elts[0].id, names.elts[1].id  # type: ignore[attr-defined]
        elif isinstance(names, ast.Name):
            key = names.id
        else:
            return None
    elif ast.unparse(walked) == mine and isinstance(names, ast.Name):
        key = names.id
    else:
        return None
    value = comp.value
    if not (isinstance(comp.key, ast.Name) and comp.key.id == key and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub)):
        return None
    left = value.left
    if not (element is not None and isinstance(left, ast.Name) and left.id == element) and not (
        isinstance(left, ast.Subscript) and ast.unparse(left.value) == mine and isinstance(left.slice, ast.Name) and left.slice.id == key
    ):
        return None
    step = value.right
    entries = [n for n in walk(step) if isinstance(n, ast.Subscript) and _reads_key(n.slice, key)]
    inside = {id(n) for n in walk(entries[0].slice)} if len(entries) == 1 else set()
    if len(entries) != 1 or any(isinstance(n, ast.Name) and n.id in (key, element) and id(n) not in inside for n in walk(step)):
        return None
    source = _chain(entries[0].value)
    if not source or ast.unparse(entries[0].value) == mine or _OPTIMISER_STATE.search(source[-1]) or _VELOCITY.fullmatch(source[-1]):
        return None
    if any(isinstance(n, (ast.Name, ast.Attribute)) and _chain(n) and _chain(n)[-1] == "sqrt" for n in walk(step)):
        return None
    return DictUpdate(target, element, key, value.op, step)


def _reads_key(index: ast.AST, key: str) -> bool:
    """`k`, `"d" + k`, `f"d{k}"`: an index made of the comprehension's key (and strings alone besides it)."""
    names = [n for n in walk(index) if isinstance(n, ast.Name)]
    if not names or any(n.id != key for n in names):
        return False
    return all(isinstance(n, (ast.Name, ast.Constant, ast.BinOp, ast.Add, ast.JoinedStr, ast.FormattedValue, ast.Load)) for n in walk(index))


def _dict_descent(update: DictUpdate) -> bool:
    """Whether a dict's comprehension moves each entry by a rate (a number, a name read as one) times the
    other dict's entry: `lr * G[k]`, `0.1 * grads[k] / n`."""
    product = _leading_product(update.step)
    if product is None:
        return False
    for factor, other in ((product.left, product.right), (product.right, product.left)):
        if (_a_number(factor) or _rate_named(factor)) and isinstance(other, ast.Subscript) and _reads_key(other.slice, update.key):
            return True
    return False


def _list_descent(update: ListUpdate, roles: Mapping[str, str]) -> bool:
    """`model = [w - 0.05 * g for w, g in zip(model, grads)]`: a list of any name rebuilt from itself, each
    element moved by a rate times its partner from a list of gradients (one the loop binds to what a
    gradient function returns, or one named as gradients) or by a rate written as one, is a list of parameters.
    Not a sum (`nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]`: gradients gathered over
    a minibatch), nor a list of gradients or of an optimiser's state rebuilt."""
    if not isinstance(update.op, ast.Sub):
        return False
    source = ast.parse(update.gradients, mode="eval").body
    if _steps(source, roles):
        return True
    product = _leading_product(update.step)
    if product is None:
        return False
    for factor, other in ((product.left, product.right), (product.right, product.left)):
        if (_a_number(factor) or _rate_named(factor)) and isinstance(other, ast.Name) and other.id == update.gradient_variable:
            return True
    return False


def _not_state(target: ast.AST) -> bool:
    """Whether a rebound list is neither gradients (`grads`, `nabla_w`) nor an optimiser's state by its name."""
    names = _chain(target)
    return bool(names) and not (_GRADIENT.fullmatch(names[-1]) or _OPTIMISER_STATE.search(names[-1]) or _VELOCITY.fullmatch(names[-1]))


def unpacked(stmt: ast.stmt, arguments: frozenset[str] | None = None) -> list[ast.Assign | ast.AugAssign]:
    """One assignment per parameter of a statement that updates several at once:
    `W1, b1 = W1 - lr * dW1, b1 - lr * db1`, or an update function's `return W - lr * dW, b - lr * db`
    (each `p - step` whose `p` is one of the function's `arguments`; None: any name), or the same written
    over rows walked in step (`W1, W2 = [p - lr * g for p, g in zip((W1, W2), (gW1, gW2))]`, a generator,
    `map(lambda p, g: p - lr * g, (W1, W2), (gW1, gW2))`: `_walked_rows`); and the move NumPy writes into
    its first argument, `np.subtract(W1, lr * gW1, out=W1)`, as `W1 -= lr * gW1` (`_out_move`). Each keeps
    the statement's line, so the update is seen where the statement runs."""
    pairs: list[tuple[ast.expr, ast.expr]] = []
    if (moved_out := _out_move(stmt)) is not None:
        target, op, step = moved_out
        part = ast.AugAssign(target=target, op=op, value=step)
        part.lineno, part.end_lineno = stmt.lineno, stmt.end_lineno
        part.col_offset, part.end_col_offset = stmt.col_offset, stmt.end_col_offset
        return [part]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Tuple):
        if len(stmt.targets[0].elts) == len(stmt.value.elts):
            pairs = list(zip(stmt.targets[0].elts, stmt.value.elts))
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and (rows := _walked_rows(stmt.targets[0], stmt.value)) is not None:
        pairs = rows
    elif isinstance(stmt, ast.Return) and (walked := _returned_comprehension(stmt.value, arguments)) is not None:
        pairs.append(walked)  # `return tuple(p - lr * g for p, g in zip(params, grads))`: `params` moved as a list
    elif isinstance(stmt, ast.Return) and stmt.value is not None:
        for value in stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]:
            if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add)) and isinstance(value.left, ast.Name):
                if arguments is None or value.left.id in arguments:
                    pairs.append((ast.copy_location(ast.Name(value.left.id, ast.Store()), value.left), value))
    elif (moved := _setattr_update(stmt)) is not None:
        pairs.append(moved)
    parts: list[ast.Assign | ast.AugAssign] = []
    for target, value in pairs:
        part = ast.Assign(targets=[target], value=value, type_comment=None)
        written = value.end_lineno is not None  # a row of a comprehension is written nowhere: it ends where the statement does
        part.lineno, part.end_lineno = stmt.lineno, value.end_lineno if written else stmt.end_lineno
        part.col_offset, part.end_col_offset = target.col_offset, value.end_col_offset if written else stmt.end_col_offset
        parts.append(part)
    return parts


_MOVES_OUT = {"subtract": ast.Sub, "add": ast.Add}


def _out_move(stmt: ast.stmt) -> tuple[ast.expr, ast.operator, ast.expr] | None:
    """(`W1`, -, `lr * gW1`) of `np.subtract(W1, lr * gW1, out=W1)` (or `np.add(W, -lr * dW, out=W)`, the
    output given third, `np.subtract(W1, lr * gW1, W1)`): NumPy moving an array in place, as `W1 -= lr * gW1`
    does; None for any other statement (an output that is not the first argument: a new array)."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (isinstance(call, ast.Call) and len(call.args) in (2, 3) and not any(isinstance(a, ast.Starred) for a in call.args)):
        return None
    chain = _chain(call.func)
    if not chain or chain[-1] not in _MOVES_OUT or len(chain) > 2:
        return None
    outs = [k.value for k in call.keywords if k.arg == "out"]
    if len(call.keywords) != len(outs) or len(outs) + len(call.args) != 3:
        return None
    out = outs[0] if outs else call.args[2]
    if isinstance(out, ast.Tuple) and len(out.elts) == 1:
        out = out.elts[0]  # `out=(W1,)`
    if not (isinstance(out, (ast.Name, ast.Attribute, ast.Subscript)) and _same_expression(out, call.args[0])):
        return None
    return out, _MOVES_OUT[chain[-1]](), call.args[1]


def _walked_rows(target: ast.expr, value: ast.expr) -> list[tuple[ast.expr, ast.expr]] | None:
    """The rows of `W1, W2 = [p - lr * g for p, g in zip((W1, W2), (gW1, gW2))]` (a list or tuple of
    names on the left; a list comprehension, a generator, either inside `list(...)` or `tuple(...)`, a
    walk of literal pairs `for p, g in ((W1, gW1), (W2, gW2))`, or `map(lambda p, g: ..., (W1, W2), (gW1,
    gW2))` on the right), each as (`W1`, `W1 - lr * gW1`): the expression with the loop's names replaced by
    that row's own. A walked sequence that is a name (`zip((W1, W2), grads)`) gives its entry (`grads[0]`)
    when another is written out. The rows' expressions carry no end positions: they are written nowhere.
    None for any other statement."""
    if not (isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) >= 2 and all(isinstance(e, (ast.Name, ast.Attribute, ast.Subscript)) for e in target.elts)):
        return None
    width = len(target.elts)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple") and len(value.args) == 1 and not value.keywords:
        value = value.args[0]
    names: list[str]
    sequences: list[ast.expr]
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
        if len(value.generators) != 1 or value.generators[0].ifs or value.generators[0].is_async:
            return None
        walk_of, walked_by = value.generators[0].iter, value.generators[0].target
        if not (isinstance(walked_by, ast.Tuple) and all(isinstance(e, ast.Name) for e in walked_by.elts)):
            return None
        names, body = [e.id for e in walked_by.elts], value.elt  # type: ignore[attr-defined]
        if isinstance(walk_of, ast.Call) and isinstance(walk_of.func, ast.Name) and walk_of.func.id == "zip" and all(k.arg == "strict" for k in walk_of.keywords):
            sequences = list(walk_of.args)
        elif isinstance(walk_of, (ast.Tuple, ast.List)) and len(walk_of.elts) == width and all(
            isinstance(r, (ast.Tuple, ast.List)) and len(r.elts) == len(names) for r in walk_of.elts
        ):  # `for p, g in ((W1, gW1), (W2, gW2))`: the rows written out, turned into columns
            sequences = [ast.Tuple(elts=[r.elts[i] for r in walk_of.elts], ctx=ast.Load()) for i in range(len(names))]  # type: ignore[attr-defined]
        else:
            return None
    elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "map" and len(value.args) >= 2 and not value.keywords:
        function = value.args[0]
        if not isinstance(function, ast.Lambda):
            return None
        arguments = function.args
        if arguments.posonlyargs or arguments.vararg or arguments.kwonlyargs or arguments.kwarg or arguments.defaults:
            return None
        names, body, sequences = [a.arg for a in arguments.args], function.body, list(value.args[1:])
    else:
        return None
    if len(names) != len(sequences) or len(set(names)) != len(names) or len(names) < 2:
        return None
    if any(isinstance(s, (ast.Tuple, ast.List)) and (len(s.elts) != width or any(isinstance(e, ast.Starred) for e in s.elts)) for s in sequences):
        return None
    if not any(isinstance(s, (ast.Tuple, ast.List)) for s in sequences) or not all(isinstance(s, (ast.Tuple, ast.List, ast.Name, ast.Attribute)) for s in sequences):
        return None
    rows = []
    for row in range(width):
        bound = {
            name: s.elts[row] if isinstance(s, (ast.Tuple, ast.List)) else ast.Subscript(value=s, slice=ast.Constant(row), ctx=ast.Load())
            for name, s in zip(names, sequences)
        }  # fmt: skip
        moved = _Rowed(bound).visit(copy.deepcopy(body))
        for node in ast.walk(moved):
            if isinstance(node, ast.expr):
                node.lineno = getattr(node, "lineno", None) or target.lineno
                node.col_offset = getattr(node, "col_offset", None) or target.col_offset
                node.end_lineno = node.end_col_offset = None
        rows.append((target.elts[row], moved))
    return rows


class _Rowed(ast.NodeTransformer):
    """The loop's names read in an expression, each replaced by its row's own (`p` by `W1`)."""

    def __init__(self, bound: Mapping[str, ast.expr]) -> None:
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.bound:
            return copy.deepcopy(self.bound[node.id])
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node  # a lambda of its own binds its own names


def _returned_comprehension(value: ast.expr | None, arguments: frozenset[str] | None) -> tuple[ast.expr, ast.ListComp] | None:
    """`[p - lr * g for p, g in zip(params, grads)]`, or the same as `tuple(...)` of a generator, returned
    by an update function whose argument `params` it walks: (`params`, the comprehension as a list)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("tuple", "list") and len(value.args) == 1:
        value = value.args[0]
    if not isinstance(value, (ast.ListComp, ast.GeneratorExp)) or len(value.generators) != 1:
        return None
    walked = value.generators[0].iter
    if not (isinstance(walked, ast.Call) and isinstance(walked.func, ast.Name) and walked.func.id == "zip"):
        return None
    names = [a.id for a in walked.args if isinstance(a, ast.Name) and (arguments is None or a.id in arguments)]
    if not names:
        return None
    comp = ast.copy_location(ast.ListComp(elt=value.elt, generators=value.generators), value)
    return ast.copy_location(ast.Name(names[0], ast.Store()), walked.args[0]), comp


def _named_at_run_time(target: ast.AST) -> bool:
    """`getattr(self, name)[...]`: the whole of an attribute named at run time, written into."""
    if not (isinstance(target, ast.Subscript) and _whole_array(target.slice)):
        return False
    read = target.value
    return isinstance(read, ast.Call) and isinstance(read.func, ast.Name) and read.func.id == "getattr" and len(read.args) == 2


def _setattr_update(stmt: ast.stmt) -> tuple[ast.expr, ast.BinOp] | None:
    """`setattr(self, name, getattr(self, name) - lr * grad)`: an attribute named at run time, moved by a
    step, as (`getattr(self, name)`, `getattr(self, name) - lr * grad`); the target is read where the
    statement runs, as any update's is."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr" and len(call.args) == 3 and not call.keywords):
        return None
    owner, name, value = call.args
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add))):
        return None
    read = value.left
    if not (isinstance(read, ast.Call) and isinstance(read.func, ast.Name) and read.func.id == "getattr" and len(read.args) == 2):
        return None
    if ast.unparse(read.args[0]) != ast.unparse(owner) or ast.unparse(read.args[1]) != ast.unparse(name):
        return None
    return read, value


_GRADIENT_CALL = re.compile(r"(?i)\w*(?:grad|deriv|backward|backprop)\w*")


def _gradient_called(node: ast.Assign) -> str | None:
    """The name an assignment binds to what a function named for a gradient returns: `gres =
    logcosh_grad(res)`, `g = huber_grad(r)`."""
    if (
        len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call) and _GRADIENT_CALL.fullmatch(ast.unparse(node.value.func).rpartition(".")[2])
    ):  # fmt: skip
        return node.targets[0].id
    return None


def _rate_times(target: ast.AST, step: ast.AST, roles: Mapping[str, str], loops: frozenset[str] = frozenset()) -> bool:
    """`coef -= lr * (A.T @ gres)`, `shift -= lr * gres.sum()`: a name moved by a learning rate, written as
    one, times a gradient (a name the loop binds to a gradient function's result or a matrix product, a
    product written in place) is a parameter, however it is called."""
    names = _chain(target)
    if not names or isinstance(target, ast.Subscript) and not _row_of_loop(target, loops) or _GRADIENT.fullmatch(names[-1]) or _OPTIMISER_STATE.search(names[-1]) or _VELOCITY.fullmatch(names[-1]):
        return False
    if names[0] in roles or names[0] in loops:
        return False  # a loop's own variable (`for P, G in zip((H, A), (dZ1, dZ2))`) is read by `_loop_roles`
    product = _leading_product(step)
    if product is None:
        return False
    for factor, other in ((product.left, product.right), (product.right, product.left)):
        written = _a_number(factor)
        if not written and not _rate_named(factor):
            continue
        if not written and isinstance(target, ast.Subscript) and any(isinstance(n, ast.Subscript) for n in walk(other)):
            return True  # `U[u] += lr * (s * (V[i] - V[j]) - lam * U[u])`: a row moved by a rate times what other rows make
        # `A -= step_size * xb.T @ dh` parses as `(step_size * xb.T) @ dh`: the product the rate starts sits inside the step
        for node in walk(step if written or product is not step else other):
            if isinstance(node, ast.Name) and roles.get(node.id) == "grad" and not written:
                return True
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                return True
            if isinstance(node, ast.Name) and _GRADIENT.fullmatch(node.id) and node.id != names[-1]:
                return True  # `c -= 0.5 * dz.sum(axis=0)`, `a -= lr * dh.sum(0)`: a rate times a gradient by its name
        if written and isinstance(target, ast.Name) and _PARAM_NAME.fullmatch(target.id) and _summed_rows(other):
            return True  # `b -= 0.5 * d.sum(0)` beside `W -= 0.5 * X.T @ d`: a bias moved by a number times a sum over rows
    return False


def _summed_rows(node: ast.AST) -> bool:
    """`d.sum(0)`, `d.sum(axis=0)`, `np.sum(d, axis=0)`, `d.mean(0)`: a named array summed (or averaged) over
    its rows, a bias's step."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or node.func.attr not in ("sum", "mean"):
        return False
    if isinstance(node.func.value, ast.Name) and node.func.value.id not in ("np", "numpy"):
        return True
    return isinstance(node.func.value, ast.Name) and bool(node.args) and isinstance(node.args[0], ast.Name)


def _row_of_loop(target: ast.Subscript, loops: frozenset[str]) -> bool:
    """`P[u]`, `emb[w]`: one row of a named array, picked inside a loop by a variable (one the loop walks,
    or one a pass draws: `u = rng.integers(n_users)`)."""
    return isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Name) and bool(loops)


def _a_number(node: ast.AST) -> bool:
    """`0.05`: a positive number, a learning rate written in place."""
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value > 0


_CAPITAL_G = re.compile(r"G\d*")  # the gradients beside a capital P, or a GAN's generator beside its discriminator D


def _generator_descent(target: ast.Subscript, step: ast.AST) -> bool:
    """`G[k] -= lr_g * gg[k]`: a capital G moved by a rate named as one times another container's entry
    under the same key is a parameter (a GAN's generator), not the gradients a capital G holds elsewhere
    (`P[k] -= lr * G[k]`), which no step moves by a rate."""
    key = ast.unparse(target.slice)
    if not (isinstance(step, ast.BinOp) and isinstance(step.op, ast.Mult)):
        return False
    for factor, other in ((step.left, step.right), (step.right, step.left)):
        if _rate_named(factor) and isinstance(other, ast.Subscript) and ast.unparse(other.slice) == key and _chain(other) and _chain(other)[0] != _chain(target)[0]:
            return True
    return False


def _rate_named(node: ast.AST, climbing: bool = False) -> bool:
    """`lr`, `self.learning_rate`: a name or attribute named as a learning rate. A setting the file only binds to a
    fraction (`step = 0.1`: `numeric_settings`) is one where it steps down, not where it adds (`climbing`): `t += tau * s`
    is a soft update or a weight of a sum, where a rate by its name would climb."""
    chain = _chain(node) if isinstance(node, (ast.Name, ast.Attribute)) else []
    return bool(chain) and (bool(_LEARNING_RATE.fullmatch(chain[-1])) if climbing else _is_rate(chain[-1]))


def _leading_product(step: ast.AST) -> ast.BinOp | None:
    """The product a step starts with: `lr * g` itself, or the `0.05 * Xfit.T` that
    `0.05 * Xfit.T @ S / len(yfit)` parses to first (`((0.05 * Xfit.T) @ S) / len(yfit)`)."""
    node = step
    while isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mult):
            return node
        if not isinstance(node.op, (ast.Div, ast.MatMult)):
            return None
        node = node.left
    return None


def split_assignment(node: ast.Assign) -> list[ast.Assign]:
    """`a, b = x, y` as `a = x` and `b = y` at the statement's line (the values are all read before any name is
    bound, so each part reads what the statement reads); any other assignment as it is."""
    target, value = node.targets[0], node.value
    if not (
        len(node.targets) == 1 and isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts) and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
    ):  # fmt: skip
        return [node]
    parts = []
    for name, part_value in zip(target.elts, value.elts):
        part = ast.Assign(targets=[name], value=part_value, type_comment=None)
        part.lineno, part.end_lineno, part.col_offset, part.end_col_offset = node.lineno, node.end_lineno, node.col_offset, node.end_col_offset
        parts.append(part)
    return parts


def _velocity_bound(node: ast.Assign) -> str | None:
    """The name an assignment keeps a velocity in, whatever it is called: `mom[k] = 0.9 * mom[k] - lr *
    grads[k]`, set from itself decayed and a rate times a gradient."""
    if not (len(node.targets) == 1 and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, (ast.Add, ast.Sub))):
        return None
    target = node.targets[0]
    root = target.value if isinstance(target, ast.Subscript) else target
    if not isinstance(root, ast.Name):
        return None
    sides = (node.value.left, node.value.right)
    own = [side for side in sides if ast.unparse(target) in {ast.unparse(n) for n in walk(side)}]
    other = [side for side in sides if side not in own]
    # decayed (`0.9 * mom[k]`): `p = p - lr * g` is a parameter's own update, not a velocity's
    decayed = len(own) == 1 and isinstance(own[0], ast.BinOp) and isinstance(own[0].op, ast.Mult)
    if decayed and len(other) == 1 and any(_is_rate(i) for i in _identifiers(other[0])):
        return root.id
    return None


def _velocities_changed_in_place(tree: ast.AST) -> tuple[set[int], set[int]]:
    """A velocity kept in place, whatever it is called: in one block, `self.buf[k] *= mu`, then
    `self.buf[k] -= eta * g[k]` (a rate times a gradient), then an update that adds it to another array
    (`weights[k] += mu ** 2 * self.buf[k]`). (The statements that change such velocities by the
    gradient, the statements that add one to a parameter), by `id`."""
    changes: set[int] = set()
    reads: set[int] = set()
    for node in walk(tree):
        for block in _child_blocks(node) if isinstance(node, ast.stmt) else [getattr(node, "body", [])] if isinstance(node, ast.Module) else []:
            augmented = [s for s in block if isinstance(s, ast.AugAssign)]
            for position, decay in enumerate(augmented):
                if not isinstance(decay.op, ast.Mult):
                    continue
                name = ast.unparse(decay.target)
                later = augmented[position + 1 :]
                step = next((s for s in later if isinstance(s.op, (ast.Add, ast.Sub)) and ast.unparse(s.target) == name), None)
                if step is None or not any(_GRADIENT.fullmatch(i) for i in _identifiers(step.value)):
                    continue
                added = [
                    s for s in later[later.index(step) + 1 :]
                    if isinstance(s.op, (ast.Add, ast.Sub)) and ast.unparse(s.target) != name
                    and any(ast.unparse(n) == name for n in walk(s.value))
                ]  # fmt: skip
                if added:
                    changes.add(id(step))
                    reads.update(id(s) for s in added)
    return changes, reads


def _rate_step_bound(node: ast.Assign) -> str | None:
    """The name an assignment binds to a learning rate times (or over) something else, whatever it is
    called: `upd = lr * m_hat / (np.sqrt(v_hat) + eps)`, a step the update then adds or takes off (`w -=
    upd`); not a rate made from a rate (`lr_now = lr * 0.99`). An adaptive step whose rate is a number
    (`upd = m_hat / (np.sqrt(v_hat) + 1e-8) * 0.01`) is one too."""
    if not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return None
    name, value = node.targets[0].id, node.value
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        value = value.operand
    if _adaptive_step(value) and not _is_rate(name):
        return name  # `upd = m_hat / (np.sqrt(v_hat) + 1e-8) * 0.01`: Adam's step, its rate written as a number
    product = _leading_product(value)
    if product is None or _is_rate(name):
        return None
    for factor, other in ((product.left, product.right), (product.right, product.left)):
        if _rate_named(factor) and not _a_number(other) and not _rate_named(other):
            return name
    return None


def _product_bound(node: ast.Assign) -> str | None:
    """The name an assignment binds to a matrix product."""
    if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        if any(
            (isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult))
            or (isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] in ("dot", "matmul"))
            for n in walk(node.value)
        ):
            return node.targets[0].id
    return None


_BOUND_TO_STEPS = (_product_bound, _gradient_called, _velocity_bound, _rate_step_bound)


def _steps_bound(body: list[ast.stmt]) -> set[str]:
    """Names the statements of `body` (and the blocks inside them, up to the first definition met
    breadth first in each statement) bind to a step, whatever they are called: a matrix product, what
    a function named for a gradient returns, a velocity, a learning rate times something else. One walk
    for the four (they were four walks of every block, again for every block inside it)."""
    found: set[str] = set()
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break
            if isinstance(node, ast.Assign):
                for part in split_assignment(node):  # `vW, vb = mu * vW - lr * dW, mu * vb - lr * db`: each velocity
                    for bound in _BOUND_TO_STEPS:
                        name = bound(part)
                        if name is not None:
                            found.add(name)
    return found


def _fraction(node: ast.AST | None) -> bool:
    """`0.1`, `1e-3`, `1 / 100`, `10 ** -3`: a number written with numbers alone that is not a whole number
    (epochs and batch sizes are; a learning rate is not), above zero."""
    from backprop_doctor.static.literals import _evaluate

    if node is None or not all(isinstance(n, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)) for n in walk(node)):
        return False

    def unknown(name: str) -> Any:
        raise ValueError(name)

    try:
        value = _evaluate(node, unknown)  # arithmetic on numbers, refusing anything huge (`9 ** 9 ** 9`)
    except Exception:  # noqa: BLE001 - `1 / 0`, a string, a number too large to work out
        return False
    return type(value) is float and 0 < value < 1e3 and not value.is_integer()


def numeric_settings(tree: ast.AST) -> frozenset[str]:
    """The names (bare, or an attribute's own name) that the file binds only to fractions, however they are
    called: `step = 0.1`, a parameter's default (`def fit(self, X, y, step=0.1)`), an argument every call of
    the file's function hands it (`train(X, y, 0.1)`, `Model(step=0.1)` for `__init__`), and the attributes
    copied from those (`self.step = step`). A name bound to anything else anywhere (`for step in range(n)`,
    `step = optimizer.step`) is none; so is a plain copy of nothing the file sets. For a learning rate
    called what a rate is not usually called (`w -= step * X.T @ err`, `self.W -= self.eta_ * g`)."""
    fractions: set[str] = set()
    other: set[str] = set()
    copies: list[tuple[str, str]] = []
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    classes: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}

    def bound(name: str, value: ast.AST | None) -> None:
        if _fraction(value):
            fractions.add(name)
        elif isinstance(value, (ast.Name, ast.Attribute)) and _chain(value):
            copies.append((name, _chain(value)[-1]))
        else:
            other.add(name)

    def named(target: ast.AST) -> str | None:
        return target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None

    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(node.name, []).append(node)
            arguments = node.args.posonlyargs + node.args.args
            for argument, default in zip(arguments[len(arguments) - len(node.args.defaults):], node.args.defaults):
                if _fraction(default):
                    fractions.add(argument.arg)
            for argument, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
                if _fraction(default):
                    fractions.add(argument.arg)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = [f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == "__init__"]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (name := named(target)) is not None:
                    bound(name, node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and len(target.elts) == len(node.value.elts):
                    for part, value in zip(target.elts, node.value.elts):  # `lr, momentum = 0.1, 0.9`
                        if (name := named(part)) is not None:
                            bound(name, value)
                        else:
                            other.update(n.id for n in walk(part) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
                else:
                    other.update(n.id for n in walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and (name := named(node.target)) is not None:
            if isinstance(node, ast.AnnAssign):
                bound(name, node.value) if node.value is not None else None
            elif not (isinstance(node.op, (ast.Mult, ast.Div)) and _fraction(node.value) or _a_number(node.value)):
                other.add(name)  # `step *= 0.99`: a schedule keeps it a rate
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension, ast.With, ast.NamedExpr, ast.Import, ast.ImportFrom, ast.ExceptHandler)):
            stores = node.target if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension, ast.NamedExpr)) else node
            other.update(n.id for n in walk(stores) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                other.update((a.asname or a.name).partition(".")[0] for a in node.names)
    for node in walk(tree):  # what the file's calls hand its functions
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
        defined = classes.get(callee) or functions.get(callee) or []
        if len(defined) != 1:
            continue
        arguments = [a.arg for a in defined[0].args.posonlyargs + defined[0].args.args]
        if arguments and arguments[0] in ("self", "cls") and (callee in classes or isinstance(node.func, ast.Attribute)):
            arguments = arguments[1:]
        for name, value in [*zip(arguments, node.args), *((k.arg, k.value) for k in node.keywords if k.arg)]:
            if isinstance(value, ast.Starred):
                break
            if _fraction(value):
                fractions.add(name)
            elif isinstance(value, ast.Constant):
                other.add(name)  # `train(X, y, 5)`: a count handed where a rate might have gone
    changed = True
    while changed:  # `self.step = step`: a copy of a setting is one
        changed = False
        for name, source in copies:
            if source in fractions and name not in fractions:
                fractions.add(name)
                changed = True
    copied = {name for name, source in copies if source not in fractions}
    return frozenset(fractions - other - copied)


def _scales_itself(stmt: ast.stmt) -> bool:
    """`W -= reg * W`, `w = w - decay * w`: a statement whose step reads what it moves."""
    if isinstance(stmt, ast.AugAssign):
        target, step = stmt.target, stmt.value
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp):
        target, step = stmt.targets[0], stmt.value.right
    else:
        return False
    written = ast.unparse(target)
    return any(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and ast.unparse(n) == written for n in walk(step))


def _climbs(stmt: ast.stmt) -> bool:
    """`q[a] += gamma * best`, `w = w + s * g`: a statement that adds its step."""
    if isinstance(stmt, ast.AugAssign):
        return isinstance(stmt.op, ast.Add)
    return isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add)


def parameter_updates(tree: ast.AST, *, text: str | None = None) -> list[Update]:
    """Statements anywhere in the file that update parameters with a step, in source order.

    A target counts as a parameter when its name path holds "param" or "weight"
    (`params[key]`, `network.params[key]`, `self.weights`), ends in a usual
    parameter name (`W`, `b1`, `self.W`, `gamma`), or is a loop variable over
    parameters; the step must mention a learning rate, a gradient or a velocity.
    """
    src = _source(text)
    names = _qualnames(tree)
    found: list[Update] = []

    def make(stmt: ast.stmt, target: ast.AST, op: ast.operator, step: ast.AST, kind: str, function: str | None):
        symbol = "-" if isinstance(op, ast.Sub) else "+"
        col, end_col = _columns(stmt, src)
        found.append(
            Update(
                line=stmt.lineno,
                col=col,
                end_line=stmt.end_lineno or stmt.lineno,
                end_col=end_col,
                source=_show(stmt, src),
                fix=f"{_show(target, src)} {symbol}= {_show(step, src)}",
                in_place=kind == "in-place",
                kind=kind,
                target=_show(target, src),
                function=function,
            )
        )

    velocity_changes, velocity_reads = _velocities_changed_in_place(tree)

    def check(stmt: ast.stmt, roles: Mapping[str, str], function: str | None, arguments: frozenset[str] = frozenset(), loops: frozenset[str] = frozenset()):
        if _SETTINGS.get() and (_scales_itself(stmt) or _climbs(stmt)):
            # `W -= reg * W`: a setting times the parameter itself is a decay, not a rate's step; `target[a] += gamma * q`:
            # a setting that adds is a discount or a weight of a sum, where a rate by its name would climb
            token = _SETTINGS.set(frozenset())
            try:
                return check(stmt, roles, function, arguments, loops)
            finally:
                _SETTINGS.reset(token)
        for part in unpacked(stmt, arguments):
            check(part, roles, function, loops=loops)
        if id(stmt) in velocity_changes:
            return  # `self.buf[k] -= eta * g[k]`: a velocity the next statements add to the parameter, not a parameter
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Sub, ast.Add)) and _named_at_run_time(stmt.target):
            if _steps(stmt.value, roles) or id(stmt) in velocity_reads:  # `getattr(self, k)[...] -= lr * v`: the attribute the loop names, in place
                make(stmt, stmt.target.value, stmt.op, stmt.value, "in-place", function)
            return
        if id(stmt) in velocity_reads:
            make(stmt, stmt.target, stmt.op, stmt.value, "in-place", function)  # `weights[k] += mu ** 2 * self.buf[k]`
            return
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Sub, ast.Add)):
            keyed = _keyed_like_gradient(stmt.target, stmt.value) or _by_its_grad(stmt.target, stmt.value)
            moved = (
                _param_like(stmt.target, roles) or keyed or _keyed_descent(stmt, roles)
                or _gradient_named_after(stmt.target, stmt.value) or _rate_times(stmt.target, stmt.value, roles, loops)
            )  # fmt: skip
            if moved and (
                _steps(stmt.value, roles) or _rate_times(stmt.target, stmt.value, roles, loops) or keyed
                or _gradient_named_after(stmt.target, stmt.value) or _number_times_own_gradient(stmt)
                or _adaptive_step(stmt.value, stmt.target)  # `w -= 0.001 * m_hat / (np.sqrt(v_hat) + eps)`: Adam's rate written as a number
            ):
                make(stmt, stmt.target, stmt.op, stmt.value, "in-place", function)
            return
        keyed = dict_update(stmt)
        if keyed is not None and _dict_descent(keyed):
            make(stmt, keyed.target, keyed.op, keyed.step, "rebind-dict", function)
            return
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return
        target, value = stmt.targets[0], stmt.value
        if isinstance(target, ast.Call):  # `setattr(self, name, getattr(self, name) - lr * g)`, unpacked: whatever is named
            if isinstance(value, ast.BinOp) and _steps(value.right, roles):
                make(stmt, target, value.op, value.right, "rebind-attribute", function)
            return
        listwise = list_update(stmt)
        if listwise is not None and (_param_like(target, roles) or _list_descent(listwise, roles) and _not_state(target)):
            make(stmt, target, listwise.op, listwise.step, "rebind-list", function)
            return
        if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add))):
            return
        decayed = decayed_step(target, value)
        if decayed is not None and _steps(decayed[1], roles) and (_param_like(target, roles) or _gradient_named_after(target, decayed[1])):
            kind = "rebind-attribute" if isinstance(target, ast.Attribute) else "rebind-entry" if isinstance(target, ast.Subscript) else "rebind-name"
            make(stmt, target, ast.Sub() if decayed[0] < 0 else ast.Add(), decayed[1], kind, function)
            return
        if not (_steps(value.right, roles) or _rate_times(target, value.right, roles, loops) or _gradient_named_after(target, value.right)):
            return
        if isinstance(target, ast.Subscript) and _whole_array(target.slice) and _param_like(target.value, roles):
            if _same_expression(value.left, target.value) or _same_expression(value.left, target):
                make(stmt, target.value, value.op, value.right, "in-place", function)
            return
        if _unpacked_entry(target, value.left):
            # `W1 = parameters["W1"] - learning_rate * grads["dW1"]`, stored in the dict the function returns:
            # the parameter moved is the entry it reads
            make(stmt, value.left, value.op, value.right, "rebind-entry", function)
            return
        moved = (
            _param_like(target, roles) or _keyed_like_gradient(target, value.right)
            or _gradient_named_after(target, value.right) or _rate_times(target, value.right, roles, loops)
        )  # fmt: skip
        if not (moved and _same_expression(value.left, target)):
            return
        if isinstance(target, ast.Subscript):
            kind = "rebind-entry"
        elif isinstance(target, ast.Attribute):
            kind = "rebind-attribute"
        elif isinstance(target, ast.Name) and roles.get(target.id) == "param":
            kind = "rebind-loop-variable"
        else:
            kind = "rebind-name"
        make(stmt, target, value.op, value.right, kind, function)

    def staged(body: list[ast.stmt], roles: Mapping[str, str], function: str | None) -> None:
        """`n_w2 = w2 - alpha * s2 * a1` ... `w2 = n_w2`: the new value computed first, stored later."""
        stored = {
            (ast.unparse(s.targets[0]), s.value.id): s.lineno for s in body
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.value, ast.Name)
        }  # fmt: skip
        for stmt in body:
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
                continue
            value = stmt.value
            if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add)) and _param_like(value.left, roles)):
                continue
            if stored.get((ast.unparse(value.left), stmt.targets[0].id), 0) > stmt.lineno and _steps(value.right, roles):
                make(stmt, value.left, value.op, value.right, "rebind-name", function)

    def visit(
        body: list[ast.stmt], roles: Mapping[str, str], function: str | None, arguments: frozenset[str] = frozenset(),
        loops: frozenset[str] = frozenset(), passing: frozenset[str] = frozenset(),
    ):  # fmt: skip
        """`passing`: names the innermost loop's body binds before `body` (a pass's own values, `H = np.tanh(Z1)`)."""
        staged(body, roles, function)
        # `adjustment = dot(X.T, error * slope)` then `self.synaptic_weights += adjustment`: a name bound to
        # a matrix product of the body is a step, whatever it is called
        roles = {**{name: "grad" for name in _steps_bound(body)}, **roles}
        here = set(passing)
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(stmt.body, {}, names.get(id(stmt), stmt.name), frozenset(a.arg for a in stmt.args.args))
                continue
            if isinstance(stmt, ast.ClassDef):
                visit(stmt.body, {}, function)
                continue
            check(stmt, roles, function, arguments, loops)
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                walked = loops | {n.id for n in walk(stmt.target) if isinstance(n, ast.Name)}
                visit(stmt.body, {**roles, **_key_roles(stmt), **_loop_roles(stmt, frozenset(here))}, function, arguments, walked)
                visit(stmt.orelse, roles, function, arguments, loops, frozenset(here))
                here |= {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                continue
            for block in _child_blocks(stmt):
                visit(block, roles, function, arguments, loops, frozenset(here))
            here |= {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    token = _SETTINGS.set(numeric_settings(tree))
    try:
        visit(getattr(tree, "body", []), {}, None)
    finally:
        _SETTINGS.reset(token)
    return sorted(found, key=lambda u: (u.line, u.col))


def _unpacked_entry(target: ast.AST, left: ast.AST) -> bool:
    """`W1 = parameters["W1"] - ...`: a name bound to the entry of a parameters dict stored under that name."""
    return (
        isinstance(target, ast.Name) and isinstance(left, ast.Subscript) and isinstance(left.slice, ast.Constant)
        and left.slice.value == target.id and "param" in ast.unparse(left.value).lower()
    )  # fmt: skip


# ---------------------------------------------------------- parameters handed over as copies

_COPY_METHODS = frozenset({"copy", "astype"})
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)
_COPY_FUNCTIONS = frozenset({"copy", "array", "deepcopy", "asarray_chkfinite"})


def _param_key(node: ast.AST) -> Any:
    """'W1' for `self.params['W1']` / `params["W1"]`, 0 for `params[0]`; None otherwise."""
    if isinstance(node, ast.Subscript) and "param" in ast.unparse(node.value).lower():
        if isinstance(node.slice, ast.Constant):
            return node.slice.value
    return None


def _copied(node: ast.AST) -> ast.Subscript | None:
    """The parameter subscript that `node` copies, for `p.copy()`, `np.copy(p)`, `np.array(p)`, `copy.deepcopy(p)`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _COPY_METHODS and _param_key(func.value) is not None:
        return func.value  # type: ignore[return-value]
    if isinstance(func, ast.Attribute) and func.attr in _COPY_FUNCTIONS and node.args:
        if _param_key(node.args[0]) is not None:
            return node.args[0]  # type: ignore[return-value]
    return None


def copied_into(tree: ast.AST | None, function: str | None, name: str, before: int) -> str | None:
    """The expression the function `function` (a qualname) copies into `name` by its last binding before
    line `before`: `parameters["W1"]` of `W1 = copy.deepcopy(parameters["W1"])` (also `copy.copy(...)`,
    `np.copy(...)`, `np.array(...)`, `....copy()`), for an update that then moves the copy
    (`W1 = W1 - learning_rate * dW1`) and hands it back in a new dictionary; None when the name's last
    binding there is anything else, or when nothing after the update reads the moved copy."""
    from backprop_doctor.static.definitions import find_function

    scope = find_function(tree, function) if tree is not None and function else None
    if scope is None:
        return None
    bindings = sorted(
        (n for n in walk(scope) if isinstance(n, ast.Assign) and n.lineno < before and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)),
        key=lambda n: n.lineno,
    )
    if not bindings or len(bindings[-1].targets) != 1:
        return None
    if not any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and n.lineno > before for n in walk(scope)):
        return None  # the moved copy is never read again (`W = np.copy(layer.W)`, `W -= rate * g`): the update is lost, not handed back
    value = bindings[-1].value
    if not isinstance(value, ast.Call) or value.keywords:
        return None
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == "copy" and not value.args:
        return ast.unparse(func.value)  # `parameters["W1"].copy()`
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called in ("copy", "deepcopy", "array") and len(value.args) == 1:
        return ast.unparse(value.args[0])
    return None


@dataclass
class ParameterCopy:
    """A statement that hands a layer a copy of a network parameter (`Affine(self.params['W1'].copy(), ...)`)."""

    line: int
    layer: str | None  # the key the statement stores the layer under, e.g. "Affine1"
    keys: list[Any] = field(default_factory=list)  # parameter keys passed as copies
    fixed: str = ""
    column: int | None = None  # 1-based, of the first copy

def parameter_copies(lines: list[str], tree: ast.AST, first: int, last: int) -> list[ParameterCopy]:
    """Statements between lines `first` and `last` (an `__init__`) that hand a layer a copy of a parameter.

    `lines` are the file's lines; each entry carries the statement with the copies removed (`fixed`).
    """
    found: dict[int, ParameterCopy] = {}
    for node in walk(tree):
        if not isinstance(node, ast.stmt) or not first <= node.lineno <= last:
            continue
        if isinstance(node, _COMPOUND):
            continue
        copies = [(n, sub) for n in walk(node) if (sub := _copied(n)) is not None and n.lineno == n.end_lineno]
        if not copies:
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) and node.targets else None
        layer = None
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            layer = str(target.slice.value)
        elif isinstance(target, ast.Attribute):
            layer = target.attr
        text = lines[node.lineno - 1]
        for call, sub in sorted(copies, key=lambda c: c[0].col_offset, reverse=True):
            if call.lineno != node.lineno:
                continue
            start, end = char_column(text, call.col_offset), char_column(text, call.end_col_offset or 0)
            inner = text[char_column(text, sub.col_offset) : char_column(text, sub.end_col_offset or 0)]
            text = text[:start] + inner + text[end:]
        original = lines[node.lineno - 1]
        first = min(c.col_offset for c, _ in copies)
        entry = found.setdefault(node.lineno, ParameterCopy(node.lineno, layer, column=char_column(original, first) + 1))
        entry.keys += [_param_key(sub) for _, sub in copies]
        entry.fixed = text.strip()
    return sorted(found.values(), key=lambda e: e.line)


def random_init_line(tree: ast.AST, first: int, last: int) -> int | None:
    """The first assignment between lines `first` and `last` (an `__init__`) that draws random weights."""
    for node in sorted(walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        if isinstance(node, ast.Assign) and first <= node.lineno <= last:
            text = ast.unparse(node.value)
            if "randn" in text or "normal" in text or "random" in text:
                return node.lineno
    return None


def reinitialised(prefix: tuple[ast.stmt, ...] | list[ast.stmt], name: str) -> tuple[int, str] | None:
    """`W = np.random.randn(3, 1) * 0.1` among the statements of a training pass: the parameter given new
    values at the start of every pass, which throws each update away. (its line, the statement)."""
    for stmt in prefix:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            text = ast.unparse(stmt.value)
            if any(word in text for word in ("randn", "normal", "random", "uniform", "zeros", "ones")):
                return stmt.lineno, ast.unparse(stmt)
    return None
