"""Training steps in the source: the loop that updates parameters, and what one pass of it computes.

A training program, whatever its shape, has a loop whose body (directly or in a
function it calls) moves parameters against what the program believes is their
gradient (`W1 -= lr * dW1`, `params[k] -= lr * grads[k]`,
`parameters = update_parameters(parameters, grads, lr)`). `training_steps`
finds that loop and splits one pass of it: the statements before the update
(the *prefix*: forward, loss, backward), the update itself, and the losses the
program computes. The replay (`backprop_doctor.replay`) runs the prefix again
from the program's own state, with one parameter moved, to measure the
gradient the update should have used.

    for i in range(epochs):                 # the training loop
        z1 = X @ W1 + b1                    # \\
        a1 = np.tanh(z1)                    #  |
        ...                                 #  | the prefix
        loss = np.mean((a2 - y) ** 2)       #  | (a loss)
        dz2 = 2 * (a2 - y) / len(X)         #  | (an adjoint of z2)
        dW1 = X.T @ dz1                     # /
        W1 -= lr * dW1                      # the update: dW1 is W1's gradient
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backprop_doctor.static.definitions import _child_blocks, _qualnames, find_function
from backprop_doctor.static.inline import named_inputs
from backprop_doctor.static.tree import walk
from backprop_doctor.static.updates import CJK_LOSS, _GRADIENT, _LEARNING_RATE, _VELOCITY, Update, _chain, _identifiers, _rooted, decayed_step, dict_update, list_update, parameter_updates, signed_terms, split_assignment, unpacked, zipped_descent

LOSS_NAME = re.compile(
    r"(?i:(?:\w*_)?(?:loss|cost|error|err|mse|sse|mae|rmse|nll|bce|xent|cross_?entropy|huber|hinge|objective|risk)(?:_?[a-z0-9]*)?)|[JEL](?:_?\w+)?"
    r"|(?i:(?:\w*_)?(?:ce|xe)\d?)"  # `ce`, `train_ce`: a cross-entropy in two letters (not `cell`, `center`)
    rf"|\S*(?:{CJK_LOSS})\S*", re.ASCII
)
# `dL` and `dLoss` are gradients, `data_loss` is not: the capital is case-sensitive
_NOT_LOSS = re.compile(r"(?i:grad|delta|^d_|deriv|prime|hist|list|curve|(?:loss|cost|error)es$|_all$|sum_|acc)|^d[A-Z]")
_ADJOINT = re.compile(r"(?:d_?|grad_|g_|delta_?)(\w+)")  # `dZ2`, `grad_scores`, `g_z1`, `delta2`
_TRANSFORMED = re.compile(r"(?i)sqrt|hat|cache|moment|rms|adam|momentum|velocity")


@dataclass(frozen=True)
class UpdateSite:
    """One parameter update and how to read its gradient: `step / rate` evaluated where it runs."""

    update: Update
    step: str  # the expression added or subtracted, e.g. "learning_rate * grads['dW1']"
    rate: str | None  # the learning-rate factor in it ("learning_rate", "0.1"); None: not found
    gradient: str  # what is left of the step without the rate, as written ("grads['dW1']")
    sign: int  # -1 for `p -= step` / `p = p - step`, +1 for `p += step`
    adaptive: bool = False  # Adagrad, RMSProp, Adam: `gradient` is the array the optimizer reads
    container: str | None = None  # `neuron.weights` of `neuron.weights[i] -= ...`: one element of a list per run
    index: str | None = None  # `i`
    listwise: tuple[str, str, str] | None = None  # ("w", "nw", "nabla_w"): `[w - eta * nw for w, nw in zip(self.weights, nabla_w)]`
    keyed: tuple[str, str] | None = None  # ("v", "k"): `P = {k: v - lr * G[k] for k, v in P.items()}` ("" for `{k: P[k] - ... for k in P}`)
    velocity: tuple[int, str] | None = None  # (line, statement) of `v -= lr * g` when the update adds a velocity `v` changed in place
    rate_again: str | None = None  # `lr` of `p += lr * v` where `v = mu * v - lr * g` holds the rate already: applied twice

    @property
    def line(self) -> int:
        return self.update.line

    @property
    def file(self) -> str | None:
        """The other file of the user's the update is in; None: the checked file."""
        return self.update.file


@dataclass(frozen=True)
class LossSite:
    """A scalar the program computes as its loss: `loss = ...`, `cost = compute_cost(A2, Y)`."""

    name: str
    expression: str  # the right-hand side, as written
    line: int
    in_prefix: bool  # computed before the update (its value is read after the prefix runs)
    implied: str | None = None  # the program computes no loss: the one its output error implies ("squared error", ...)
    accumulated: bool = False  # `loss -= np.log(p[y])`: the pass's loss is what it adds to `name`, read where the pass ends
    read: str | None = None  # the name the pass binds it to, when that is not `name` (`_` of `_, grads = surrogate(...)`)
    reported: str | None = None  # the program's own expression, where `expression` computes it on the pass's first minibatch
    summed: bool = False  # `loss += ...` after the pass's updates: `expression` is the pass's term of the sum, read after the prefix
    paired: bool = False  # a call of the file's loss function handed what the update's gradient function is handed (`_paired`): its scale is the gradient's
    totalled: str | None = None  # a running total of terms a loop of the pass adds up (`_totalled_returned_losses`): that loop's iterable, whose length a mean divides by

    @property
    def bound(self) -> str:
        """The name an in-prefix loss is read from after the pass."""
        return self.read or self.name


@dataclass(frozen=True)
class Adjoint:
    """A variable of the backward pass and the forward value it is the gradient of (`dZ2` of `Z2`)."""

    name: str
    forward: str
    line: int  # where the adjoint is assigned
    forward_index: int  # index in the prefix of the statement that last assigns the forward value
    index: int  # index in the prefix of the statement that assigns the adjoint
    others: tuple[tuple[str, int], ...] = ()  # other forward values its name may mean (`delta2` of `z1`), tried by shape


@dataclass(frozen=True)
class TrainingStep:
    """One training loop: where it runs, the statements of one pass, its updates and losses."""

    function: str | None  # qualname of the function holding the loop; None at module level
    function_line: int  # the `def` line (0 at module level)
    loop_line: int
    first_line: int  # the first statement of the loop body: the state is taken when it is reached
    prefix: tuple[ast.stmt, ...]  # statements before the first update, in order
    update_line: int  # the statement of the loop body that starts the update
    update_end_line: int
    updates: tuple[UpdateSite, ...]  # the updates one pass reaches, here or in functions it calls
    losses: tuple[LossSite, ...]  # most likely first
    adjoints: tuple[Adjoint, ...] = ()  # in the order the prefix computes them (from the loss backwards)
    assigned: dict[str, int] = field(default_factory=dict)  # name -> line of its last assignment in the prefix
    loop: ast.stmt | None = None  # the `for` or `while` statement itself (its body is one step)
    inner: tuple = ()  # `static.step_functions.InnerAdjoint`s: adjoints inside the functions the step calls
    time: tuple = ()  # `static.step_functions.TimeAdjoint`s: adjoints of a backward loop over time steps
    inner_assigned: dict[str, int] = field(default_factory=dict)  # name -> line, in the functions the step calls once
    imported_assigned: dict[str, tuple[str, int]] = field(default_factory=dict)  # the same in functions from other files: name -> (file, line)
    relus: tuple[tuple[str, int], ...] = ()  # names the prefix binds to a ReLU's output (`a1 = np.maximum(0, z1)`), with their lines
    returned: dict = field(default_factory=dict)  # `static.step_functions.returned_forwards`: forward values unpacked from a call
    rotated: TrainingStep | None = None  # the same pass read from the forward at its end (`_rotated`), when it has one
    inline: dict[str, str] = field(default_factory=dict)  # `static.inline`: a name the replay gave an inline pre-activation -> its expression
    loopless: bool = False  # no loop around it: the program makes this one step (a worked example), `loop` stands for its statements
    copied_outside: frozenset[str] = frozenset()  # parameters a copy of which the enclosing loop's pass takes for this one (`_copied_outside`)
    other_losses: tuple[LossSite, ...] = ()  # the losses the step's output error implies, beside a loss the program computes
    inner_cuts: frozenset[str] = frozenset()  # `static.step_functions.inner_cuts`: minibatches the functions the step calls cut (`self.X[idx]`)
    called: TrainingStep | None = None  # the method one call of which is the pass's whole step (`net.train(X, y)`), driven when the loop cannot run
    ahead: bool = False  # the pass starts with its update and `prefix` is what its end computes for the next pass (`W -= lr * g` ... `g = grad(W)`); `first_line` is the prefix's

    @property
    def word(self) -> str:
        """`loop` for a training loop; `step` for a program that updates once (a curve repeats its step)."""
        return "step" if self.loopless else "loop"

    @property
    def place(self) -> str:
        """How a report names the step: `loop at line 12`, or `step at line 12` when no loop repeats it."""
        return f"{self.word} at line {self.loop_line}"


def _zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == 0


def _relu_outputs(prefix: tuple[ast.stmt, ...]) -> list[tuple[str, int]]:
    """`h = np.maximum(0, z)`, `h = relu(z)`, `h = z * (z > 0)`, `h = np.where(z > 0, z, 0)`: the name and line."""
    found = []
    for stmt in prefix:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        value = stmt.value
        relu = False
        if isinstance(value, ast.Call):
            func = value.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "maximum" and len(value.args) == 2 and any(_zero(a) for a in value.args):
                relu = True
            elif re.fullmatch(r"(?i)relu(_forward)?", name) and len(value.args) == 1:
                relu = True
            elif name == "where" and len(value.args) == 3 and _zero(value.args[2]) and isinstance(value.args[0], ast.Compare):
                relu = True
        elif isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
            compare = value.right if isinstance(value.right, ast.Compare) else value.left if isinstance(value.left, ast.Compare) else None
            relu = compare is not None and len(compare.comparators) == 1 and _zero(compare.comparators[0]) and isinstance(compare.ops[0], ast.Gt)
        if relu and not _ADJOINT.fullmatch(stmt.targets[0].id):  # `dz1 = da1 * (z1 > 0)` is a gradient
            found.append((stmt.targets[0].id, stmt.lineno))
    # a hidden layer's output feeds the next layer's product (`a1 @ W2`, `np.dot(W2, a1)`); a hinge
    # loss's `margins = np.maximum(0, ...)` does not, and all-zero margins are a fitted SVM
    fed = {n.id for stmt in prefix for n in walk(stmt) if isinstance(n, ast.Name) and _in_product(n, stmt)}
    return [(name, line) for name, line in found if name in fed]


def _in_product(name: ast.Name, stmt: ast.stmt) -> bool:
    for node in walk(stmt):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and name in (node.left, node.right):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "dot" and (name in node.args or func.value is name):
                return True
            if isinstance(func, (ast.Name, ast.Attribute)) and getattr(func, "id", getattr(func, "attr", "")) in ("dot", "matmul") and name in node.args:
                return True
    return False


def _targets(stmt: ast.stmt) -> list[str]:
    names: list[str] = []
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.For, ast.With)):
        targets = []
    for target in targets:
        for node in walk(target):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append(node.id)
    return names


def _bare_updates(tree: ast.Module) -> list[Update]:
    """`syn1 += l1.T.dot(l2_delta)` in a loop: a weight bound before the loop, moved by a matrix
    product with no learning rate in sight (the learning rate is 1). `parameter_updates` wants a
    parameter's name or a rate; these scripts have neither."""
    found: list[Update] = []

    def visit(body: list[ast.stmt]) -> None:
        bound: set[str] = set()  # names bound to random draws before the loop: weights
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(stmt.body)
                continue
            if isinstance(stmt, ast.ClassDef):
                continue
            if isinstance(stmt, (ast.For, ast.While)):
                for inner in stmt.body:
                    if (
                        isinstance(inner, ast.AugAssign)
                        and isinstance(inner.op, (ast.Add, ast.Sub))
                        and isinstance(inner.target, ast.Name)
                        and inner.target.id in bound
                        and any(_is_product(n) for n in walk(inner.value))
                    ):
                        text = ast.unparse(inner)
                        found.append(
                            Update(inner.lineno, inner.col_offset, inner.end_lineno or inner.lineno, inner.end_col_offset or 0, text, text, True, "in-place", inner.target.id)
                        )
                    elif (rebound := _rebound_by_product(inner, bound)) is not None:
                        found.append(rebound)
                visit([s for s in stmt.body if isinstance(s, (ast.For, ast.While, ast.If))])
            elif isinstance(stmt, ast.If):
                visit(stmt.body)
            if isinstance(stmt, ast.Assign) and _RANDOM.search(ast.unparse(stmt.value)):
                bound.update(t for t in _targets(stmt) if not _ADJOINT.fullmatch(t))

    visit(tree.body)
    return found


_RANDOM = re.compile(r"random|randn|normal|uniform|standard_normal")


def _rebound_by_product(stmt: ast.stmt, bound: set[str]) -> Update | None:
    """`syn0 = syn0 + l0.T.dot(l1_delta)` (or `- ...`): the rebinding form of a bare update, a weight bound to a
    random draw before the loop given the sum of itself and a step holding a matrix product; None for any other
    statement (a step that reads no product, a name not drawn before the loop)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in bound):
        return None
    name, value = stmt.targets[0].id, stmt.value
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)) and isinstance(value.left, ast.Name) and value.left.id == name):
        return None
    if any(isinstance(n, ast.Name) and n.id == name for n in walk(value.right)) or not any(_is_product(n) for n in walk(value.right)):
        return None
    symbol = "-" if isinstance(value.op, ast.Sub) else "+"
    return Update(
        stmt.lineno, stmt.col_offset, stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0, ast.unparse(stmt),
        f"{name} {symbol}= {ast.unparse(value.right)}", False, "rebind-name", name,
    )


def _sibling_updates(tree: ast.Module, updates: list[Update]) -> list[Update]:
    """`model.V -= 0.2 * grads["V"]` beside `model.Wx -= 0.2 * grads["Wx"]`: an update written as the
    parameter updates of its own block are (the same rate times the same gradients' dictionary, or a
    gradient's name), whatever its target is called (`V`, `U`, `Why_out`)."""
    lines = {u.line: u for u in updates if u.kind == "in-place"}
    found: list[Update] = []
    for node in walk(tree):
        for body in _child_blocks(node):
            ours = [lines[st.lineno] for st in body if st.lineno in lines and isinstance(st, ast.AugAssign)]
            if not ours:
                continue
            forms = {_rate_and_source(st) for st in body if st.lineno in lines and isinstance(st, ast.AugAssign)} - {None}
            for st in body:
                if st.lineno in lines or not (isinstance(st, ast.AugAssign) and isinstance(st.op, ast.Sub)):
                    continue
                form = _rate_and_source(st)
                if form is None or form not in forms or not isinstance(st.target, (ast.Name, ast.Attribute, ast.Subscript)):
                    continue
                text = ast.unparse(st)
                found.append(dataclasses.replace(
                    ours[0], line=st.lineno, col=st.col_offset, end_line=st.end_lineno or st.lineno, end_col=st.end_col_offset or 0,
                    source=text, fix=text, target=ast.unparse(st.target),
                ))  # fmt: skip
    return found


def _rate_and_source(stmt: ast.AugAssign) -> tuple[str, str] | None:
    """(`0.2`, `grads`) of `p -= 0.2 * grads["V"]`, (`lr`, "name") of `p -= lr * dV`: the rate and where
    the gradient comes from; None for any other form."""
    value = stmt.value
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult)):
        return None
    for rate, gradient in ((value.left, value.right), (value.right, value.left)):
        if not (isinstance(rate, ast.Constant) and isinstance(rate.value, (int, float)) or isinstance(rate, ast.Name) and _LEARNING_RATE.fullmatch(rate.id)):
            continue
        if isinstance(gradient, ast.Subscript) and isinstance(gradient.value, ast.Name) and isinstance(gradient.slice, ast.Constant):
            return ast.unparse(rate), gradient.value.id
        if isinstance(gradient, ast.Name) and _GRADIENT.fullmatch(gradient.id):
            return ast.unparse(rate), "name"
    return None


def _is_product(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return True
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "matmul", "outer"))
        or (isinstance(node.func, ast.Name) and node.func.id in ("dot", "matmul", "outer"))
    )


def _items_values(tree: ast.Module) -> dict[int, set[str]]:
    """Names a loop binds to the values of a dict that holds no optimizer state (`for k, v in g.items()`,
    `for v in grads.values()`), by each line of the loop's body: there `v` is a gradient, not a velocity."""
    found: dict[int, set[str]] = {}
    for loop in walk(tree):
        if not (isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Attribute)):
            continue
        method, owner = loop.iter.func.attr, _chain(loop.iter.func.value)
        if method not in ("items", "values") or not owner or _VELOCITY.fullmatch(owner[-1]) or _TRANSFORMED.search(owner[-1]):
            continue
        value = loop.target.elts[-1] if method == "items" and isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2 else loop.target
        if isinstance(value, ast.Name):
            for line in range(loop.lineno, (loop.end_lineno or loop.lineno) + 1):
                found.setdefault(line, set()).add(value.id)
    return found


def _split_step(update: Update, stmt: ast.stmt, values: frozenset[str] = frozenset()) -> UpdateSite | None:
    """The step, its rate and the gradient left when the rate is taken out, for one update (`values`:
    names the update's loop binds to a dict's values, gradients whatever they are called)."""
    keyed = dict_update(stmt)
    if keyed is not None:
        rate, gradient = _take_rate(_Unsigned().visit(copy.deepcopy(keyed.step)))
        if gradient is None:
            return None
        sign = -_polarity(keyed.step)
        return UpdateSite(update, ast.unparse(keyed.step), rate, gradient, sign, keyed=(keyed.element or "", keyed.key))
    listwise = list_update(stmt)
    if listwise is not None:
        sign = (-1 if isinstance(listwise.op, ast.Sub) else 1) * _polarity(listwise.step)
        rate, gradient = _take_rate(_Unsigned().visit(copy.deepcopy(listwise.step)))
        if gradient is None:
            return None
        pairs = (listwise.element, listwise.gradient_variable, listwise.gradients)
        return UpdateSite(update, ast.unparse(listwise.step), rate, gradient, sign, listwise=pairs)
    found = _step_of(stmt)
    if found is None:
        return None
    step, sign = found
    written = step
    sign *= _polarity(step)
    step = _Unsigned().visit(copy.deepcopy(step))  # `-lr * g` -> `lr * g`, the sign folded in above
    identifiers = _identifiers(step) - _multiplied_into(step) - _divisors(step) - _beside_gradient(step)
    if any(_TRANSFORMED.search(i) for i in identifiers) or any(_VELOCITY.fullmatch(i) and i not in values for i in identifiers):
        # Adagrad, RMSProp, Adam: the step is not a multiple of the gradient, but it names it
        named = [n for n in walk(step) if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and _names_gradient(n)]
        if len({ast.unparse(n) for n in named}) != 1:
            return None  # momentum (`W += v`): the gradient went into the velocity earlier (`_through_velocity`)
        return UpdateSite(update, ast.unparse(step), None, ast.unparse(named[0]), sign * _term_sign(written), adaptive=True)
    rate, gradient = _take_rate(step)
    if gradient is None:
        return None
    target = stmt.target if isinstance(stmt, ast.AugAssign) else stmt.targets[0] if isinstance(stmt, ast.Assign) else None
    container = index = None
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and target.slice.value is Ellipsis:
        pass  # `W[...] -= lr * g`: the whole array, in place
    elif isinstance(target, ast.Subscript) and not isinstance(target.slice, (ast.Slice, ast.Tuple)):
        container, index = ast.unparse(target.value), ast.unparse(target.slice)
    elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice) and _plain_slice(target.slice):
        bounds = (target.slice.lower, target.slice.upper, target.slice.step)
        container, index = ast.unparse(target.value), f"slice({', '.join(ast.unparse(b) if b is not None else 'None' for b in bounds)})"
    return UpdateSite(update, ast.unparse(step), rate, gradient, sign, container=container, index=index)


def _term_sign(step: ast.expr) -> int:
    """The sign the gradient has inside a step that is a sum of terms: -1 for Nesterov's look-ahead
    `mu * v - lr * g` (the term that names the gradient is subtracted, so `p += mu * v - lr * g`
    descends), +1 for `mu * v + lr * g` or a step that is no sum; +1 as well when the terms naming the
    gradient disagree, the sign `_polarity` gave the whole step left as it is."""
    terms = signed_terms(step)
    if len(terms) < 2:
        return 1
    signs = {
        sign * _polarity(term) for sign, term in terms
        if any(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and _names_gradient(n) for n in walk(term))
    }  # fmt: skip
    return signs.pop() if len(signs) == 1 else 1


def added_term(site: UpdateSite) -> str | None:
    """The term naming the gradient that a step written as a sum adds (`self.lr * p.grad` of
    `p.data += self.mu * v + self.lr * p.grad`), as written; None for a step that is no sum or whose
    gradient that term subtracts."""
    try:
        step = ast.parse(site.step, mode="eval").body
    except SyntaxError:
        return None
    terms = signed_terms(step)
    holding = [(sign * _polarity(term), term) for sign, term in terms if any(_names_gradient(n) for n in walk(term) if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)))]
    if len(terms) < 2 or len(holding) != 1 or holding[0][0] < 0:
        return None
    return ast.unparse(_Unsigned().visit(copy.deepcopy(holding[0][1])))


def _plain_slice(index: ast.Slice) -> bool:
    """`1:`, `:-1`, `2:5`: a slice of whole numbers the update moves part of an array by (`self.w_[1:]`)."""
    bounds = [b for b in (index.lower, index.upper, index.step) if b is not None]
    return all(
        (isinstance(b, ast.Constant) and type(b.value) is int)
        or (isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub) and isinstance(b.operand, ast.Constant) and type(b.operand.value) is int)
        for b in bounds
    )


def _multiplied_into(step: ast.AST) -> set[str]:
    """Names that are a matrix product's operand (`h` of `lr * h.T @ delta_o`, `np.dot(h.T, d)`): an
    activation the gradient is made from, not an optimiser's state however it is named."""
    operands: list[ast.AST] = []
    for node in walk(step):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            operands += [node.left, node.right]
        elif isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] in ("dot", "matmul", "outer"):
            operands += node.args
    names = set()
    while operands:
        operand = operands.pop()
        while (isinstance(operand, ast.Attribute) and operand.attr == "T") or isinstance(operand, ast.Subscript):
            operand = operand.value  # `h.T`, `h[t]`
        if isinstance(operand, ast.BinOp) and isinstance(operand.op, (ast.Mult, ast.Div, ast.Sub, ast.Add)):
            operands += [operand.left, operand.right]  # `(lr * h.T) @ d`, `X.T @ (h - y)` (the Coursera hypothesis `h`)
        elif isinstance(operand, ast.Name):
            names.add(operand.id)
        elif isinstance(operand, ast.Attribute):
            names.add(operand.attr)  # `self.lr * self.h.T @ d_out`: the layer's own activation
    return names


def _beside_gradient(step: ast.AST) -> set[str]:
    """Plain factors of a product that has a gradient among its factors (`h` of `lr * dy * h[j]`, of
    `lr * do * self.h`): an activation the gradient is made from, not an optimiser's state however
    it is named."""
    factors: list[ast.AST] = []
    pending = [step]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            pending += [node.left, node.right]
        else:
            factors.append(node)
    roots = []
    for factor in factors:
        while isinstance(factor, ast.Subscript) or (isinstance(factor, ast.Attribute) and factor.attr == "T"):
            factor = factor.value
        roots.append(factor)
    if not any(isinstance(r, (ast.Name, ast.Attribute)) and _names_gradient(r) for r in roots):
        return set()
    # `h` of `lr * dy * h[j]`, and of `lr * do * self.h` (an attribute's name is what the step reads)
    return {r.id if isinstance(r, ast.Name) else r.attr for r in roots if isinstance(r, (ast.Name, ast.Attribute)) and not _names_gradient(r)}


def _divisors(step: ast.AST) -> set[str]:
    """Names that only ever divide (`m` of `alpha / m * X.T @ e`, `(1 / m)`): a batch size, not Adam's
    first moment, which is divided (`m_hat / (np.sqrt(v_hat) + eps)`)."""
    divisors = {id(n.right) for n in walk(step) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)}
    uses: dict[str, list[bool]] = {}
    for node in walk(step):
        if isinstance(node, ast.Name):
            uses.setdefault(node.id, []).append(id(node) in divisors)
    return {name for name, dividing in uses.items() if all(dividing)}


def _through_velocity(update: Update, stmt: ast.stmt, site: UpdateSite | None, tree: ast.Module) -> UpdateSite | None:
    """The gradient behind a step kept in a variable of its own, read from where that variable is set.

    `delta_w5 = E * GRAD_w5 + A * delta_w5` then `w5 = w5 + delta_w5` (momentum; the velocity starts
    at zero), `v = mu * v - lr * dW` then `W += v`, or `step_w = alpha * grad_w` then `w -= step_w`:
    the one term that does not read the variable itself is the rate times the gradient. With a
    momentum term the step is no multiple of the gradient after the first pass, so the site is
    adaptive: the gradient is compared, the step is not replayed as `rate * gradient`. A step variable
    with no momentum that the update already reads as its gradient is left as it is.
    """
    found = _step_of(stmt)
    written = found
    applied: ast.AST | None = None  # the rate the update multiplies the velocity by (`lr` of `p -= lr * v`)
    if found is not None and not isinstance(found[0], ast.Name):
        # `v *= beta; v += g; p -= self.lr * v`: the rate times a velocity the gradient went into (PyTorch's momentum)
        rate, rest = _take_rate(_Unsigned().visit(copy.deepcopy(found[0])))
        if rate is not None and rest is not None and _VELOCITY.fullmatch(rest):
            found, applied = (ast.Name(rest, ast.Load()), found[1] * _polarity(found[0])), ast.parse(rate, mode="eval").body
    if found is None:
        return site
    value, outer = found
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):  # `lr * velocity[k]`: a factor on the velocity
        kept = [(side, other) for side, other in ((value.right, value.left), (value.left, value.right)) if isinstance(side, (ast.Name, ast.Subscript, ast.Attribute))]
        if not kept or site is not None and not any(_momentum_defined(tree, stmt, ast.unparse(side)) or _decayed_in_place(tree, stmt, ast.unparse(side)) for side, _ in kept):
            return site
        value, applied = next((
            (side, other) for side, other in kept if _momentum_defined(tree, stmt, ast.unparse(side)) or _decayed_in_place(tree, stmt, ast.unparse(side))
        ), kept[0])  # fmt: skip
        outer *= _polarity(applied)
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)) and site is None:
        # Nesterov's `-mu * v_prev + (1 + mu) * v[k]`: the one velocity among the terms that the gradient went into
        held = {ast.unparse(n): n for _, term in signed_terms(value) for n in walk(term) if isinstance(n, (ast.Name, ast.Subscript, ast.Attribute))}
        velocities = [n for text, n in held.items() if _momentum_defined(tree, stmt, text)]
        if len(velocities) != 1:
            return site
        value = velocities[0]
    if not isinstance(value, (ast.Name, ast.Subscript, ast.Attribute)):
        return site
    name = ast.unparse(value)  # `v`, or an entry kept per parameter: `velocity[k]`, `self.v[key]`
    if not isinstance(value, ast.Name) and _names_gradient(value):
        return site  # `W -= grads["W"]`: the gradient itself, no velocity
    if site is None and written is not None and _emptied_every_pass(stmt, name, tree):
        # `w_update += x.T @ delta` over the time steps, `w += w_update * alpha`, then `w_update *= 0`: the
        # sum of the pass's gradients, emptied every pass, no momentum: the rate times that sum
        rate = ast.unparse(_Unsigned().visit(copy.deepcopy(applied))) if applied is not None else None
        return UpdateSite(update, ast.unparse(_Unsigned().visit(copy.deepcopy(written[0]))), rate, name, outer)
    scope = _scope_of(tree, stmt.lineno)
    defining = [
        node for node in _assignments(scope)
        if len(node.targets) == 1 and isinstance(node.targets[0], (ast.Name, ast.Subscript, ast.Attribute))
        and ast.unparse(node.targets[0]) == name and _ends_before(node, stmt) and _scope_of(tree, node.lineno) is scope
    ]  # fmt: skip  (`vW1 = mu * vW1 - lr * dW1; W1 += vW1`: the velocity set on the update's own line, before it)
    if not defining:  # set up elsewhere (`self.vel = {k: np.zeros_like(w) ...}` in `__init__`), changed in place here
        return _velocity_added_to(update, stmt, site, tree, name, outer, scope)
    definition = max(defining, key=lambda n: (n.lineno, n.col_offset))
    if _changed_after(tree, scope, stmt, name, definition.lineno):
        # `self.v[key] = np.zeros_like(val)` once, then `self.v[key] *= mu; self.v[key] -= lr * grads[key]` every
        # pass before `params[key] += mu * mu * self.v[key]`: the velocity holds what the in-place change put in it
        return _velocity_added_to(update, stmt, site, tree, name, outer, scope)
    terms = signed_terms(definition.value)
    sums = _gradient_sums(scope)
    own = [
        t for t in terms
        if name in {ast.unparse(n) for n in walk(t[1]) if isinstance(n, (ast.Name, ast.Subscript, ast.Attribute))}
        or _reads_state(_above_root(t[1]), _divisors(t[1]) | {_root_name(s) for s in sums})
    ]  # fmt: skip
    fresh = [t for t in terms if t not in own]
    if len(fresh) != 1 or len(own) > 1:
        return site
    term_sign, term = fresh[0]
    sign = outer * term_sign * _polarity(term)
    term = _Unsigned().visit(copy.deepcopy(term))
    scaled = isinstance(term, ast.BinOp) and isinstance(term.op, ast.Div) and any(_TRANSFORMED.search(i) for i in _identifiers(term.right))
    if scaled:  # RMSProp's `lr * g / (np.sqrt(cache) + eps)`: the gradient above its running average's root, no multiple of it
        term = term.left
    rate, gradient = _take_rate(term)
    if rate is None and isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
        for factor, rest in ((term.left, term.right), (term.right, term.left)):
            plain = isinstance(factor, (ast.Name, ast.Attribute)) and not _names_gradient(factor)
            # `(1 - beta) * grads['dW1']`: an exponential average's weight, made of settings only
            weight = isinstance(factor, ast.BinOp) and not any(isinstance(n, (ast.Name, ast.Attribute)) and _names_gradient(n) for n in walk(factor))
            if (plain or weight) and any(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and _names_gradient(n) for n in walk(rest)):
                rate, gradient = ast.unparse(factor), ast.unparse(rest)  # `E * GRAD_w5`: the factor beside a gradient
                break
    if gradient is None or not (_gradient_like(gradient, rate) or _same_key(value, gradient, own) or _over_count(gradient) in sums):
        return site
    if own or scaled:
        gradient = _unweighted(gradient)  # `(1 - mu) * gW2`: an exponential average's weight is no part of the gradient  # momentum: the first step is rate * gradient, later ones are not
        unsigned = ast.unparse(_Unsigned().visit(copy.deepcopy(applied))) if applied is not None else None
        again = unsigned if rate is not None and unsigned == rate else None
        return UpdateSite(update, name, None, gradient, sign, adaptive=True, velocity=(definition.lineno, ast.unparse(definition)), rate_again=again)
    if site is not None:
        return site  # `grad_w1 = alpha * x1 * delta`: the variable is read as the gradient, its rate as the program's scale
    return UpdateSite(update, name, rate, gradient, sign)


def _over_count(expression: str) -> str:
    """`acc[k]` of `acc[k] / ACCUM`, `aW1` of `(aW1) / (ACCUM)`: an expression without the divisions by a name,
    an attribute or a number that end it (a sum over a window of passes divided by their count)."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return expression
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, (ast.Name, ast.Attribute, ast.Constant)) and not _names_gradient(node.right):
        node = node.left
    return ast.unparse(node)


def _gradient_sums(scope: ast.AST) -> set[str]:
    """The sums `scope` adds one gradient into, in place and once (`aW1 += dW1`, `acc[k] += g[k]`, `self.acc
    += grads["W"]`): gradient accumulation, whose sum an update reads however it is named (`grad_accum`)."""
    added: dict[str, list[ast.expr]] = {}
    for node in walk(scope):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, (ast.Name, ast.Subscript, ast.Attribute)):
            added.setdefault(ast.unparse(node.target), []).append(node.value)
    return {
        target for target, values in added.items()
        if len(values) == 1 and isinstance(values[0], (ast.Name, ast.Subscript, ast.Attribute)) and _names_gradient(values[0])
    }  # fmt: skip


def _root_name(expression: str) -> str:
    """`acc` of `acc[k]`, `acc` of `self.acc`: the name an expression's value is held under."""
    return re.split(r"[\[(]", expression, maxsplit=1)[0].rpartition(".")[2]


def _same_key(velocity: ast.expr, gradient: str, own: list) -> bool:
    """`V[n] = 0.9 * V[n] + D[n]`: a momentum velocity kept per key whose fresh term is another dict's entry
    under the same key, whatever the dict is called (divided by a count or a setting, `acc[n] / ACCUM`):
    the gradient of that parameter."""
    node = ast.parse(_over_count(gradient), mode="eval").body  # `acc[k] / ACCUM`: a window's sum over its count is still that key's
    return (
        bool(own) and isinstance(velocity, ast.Subscript) and isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
        and ast.unparse(node.slice) == ast.unparse(velocity.slice) and ast.unparse(node.value) != ast.unparse(velocity.value)
    )  # fmt: skip


def _emptied_every_pass(stmt: ast.stmt, name: str, tree: ast.Module) -> bool:
    """Whether the loop around the update `stmt` sets `name` back to zero every pass (`name *= 0`,
    `name = np.zeros_like(W)`, `name[:] = 0`, `name.fill(0)`) and adds to it in place: a sum of the
    pass's gradients the update reads, where a momentum's velocity would carry over."""
    loops = [
        node for node in walk(tree)
        if isinstance(node, (ast.For, ast.While)) and node.lineno < stmt.lineno <= (node.end_lineno or node.lineno)
    ]  # fmt: skip
    if not loops:
        return False
    loop = max(loops, key=lambda n: n.lineno)  # the innermost loop holding the update
    added = any(
        isinstance(node, ast.AugAssign) and _zero_target(node.target, name) and isinstance(node.op, (ast.Add, ast.Sub)) and node.lineno != stmt.lineno
        for node in walk(loop)
    )  # fmt: skip
    emptied = False
    for node in loop.body:  # every pass: not under an `if` (`if k not in self.vel: self.vel[k] = np.zeros_like(w)` makes a velocity once)
        if isinstance(node, ast.AugAssign) and _zero_target(node.target, name):
            emptied |= isinstance(node.op, ast.Mult) and _zero(node.value)
        elif isinstance(node, ast.Assign) and any(_zero_target(t, name) for t in node.targets):
            value = node.value
            called = ast.unparse(value.func).rpartition(".")[2] if isinstance(value, ast.Call) else ""
            emptied |= _zero(value) or called in ("zeros", "zeros_like")
        elif isinstance(node, ast.Expr) and isinstance(call := node.value, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "fill":
            emptied |= ast.unparse(call.func.value) == name and len(call.args) == 1 and _zero(call.args[0])
    return emptied and added


def _zero_target(target: ast.expr, name: str) -> bool:
    """`name`, `name[:]` or `name[...]` as a target."""
    if isinstance(target, ast.Subscript) and (isinstance(target.slice, ast.Slice) or isinstance(target.slice, ast.Constant) and target.slice.value is Ellipsis):
        target = target.value
    return ast.unparse(target) == name


def _unweighted(gradient: str) -> str:
    """`gW2` of `(1 - mu) * (gW2)`: the gradient without a weight made of settings only."""
    node = ast.parse(gradient, mode="eval").body
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for weight, rest in ((node.left, node.right), (node.right, node.left)):
            settings = isinstance(weight, ast.BinOp) and not any(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and _names_gradient(n) for n in walk(weight))
            if settings and any(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and _names_gradient(n) for n in walk(rest)):
                return ast.unparse(rest)
    return gradient


def _above_root(term: ast.expr) -> ast.expr:
    """The numerator of RMSProp's `g / (np.sqrt(cache) + eps)` (its running average sits below it); `term` otherwise."""
    inner = term.operand if isinstance(term, ast.UnaryOp) else term
    if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Div) and any(_TRANSFORMED.search(i) for i in _identifiers(inner.right)):
        return inner.left
    return term


def _ends_before(node: ast.stmt, stmt: ast.stmt) -> bool:
    """Whether `node` is written wholly before `stmt` starts, by line and column: `vW1 = mu * vW1 - lr * dW1; W1 += vW1`
    sets the velocity on the update's own line, before it; a part of one tuple-unpacked statement that also moves the
    parameter (`vW1, W1 = mu * vW1 - lr * dW1, W1 + vW1`, which adds the old velocity) spans the update and is not."""
    end = (getattr(node, "end_lineno", None) or node.lineno, getattr(node, "end_col_offset", None) or getattr(node, "col_offset", 0))
    return end <= (stmt.lineno, getattr(stmt, "col_offset", 0))


def _momentum_defined(tree: ast.Module, stmt: ast.stmt, name: str) -> bool:
    """Whether `name` (`v`, `velocity[k]`) is set before `stmt`, in its function, from itself and one more
    term: `velocity[k] = mu * velocity[k] - lr * grads[k]`."""
    scope = _scope_of(tree, stmt.lineno)
    for node in _assignments(scope):
        if (
            len(node.targets) == 1 and ast.unparse(node.targets[0]) == name
            and node.lineno < stmt.lineno and _scope_of(tree, node.lineno) is scope
        ):  # fmt: skip
            terms = signed_terms(node.value)
            own = [t for t in terms if name in {ast.unparse(n) for n in walk(t[1])}]
            if len(own) == 1 and len(terms) == 2:
                return True
    return False


def _in_place(tree: ast.Module, scope: ast.AST, stmt: ast.stmt, name: str) -> list[ast.AugAssign]:
    """The augmented assignments to `name` (`v`, `self.v[key]`) in `scope` itself, before `stmt`."""
    return [
        node for node in walk(scope)
        if isinstance(node, ast.AugAssign) and ast.unparse(node.target) == name and node.lineno < stmt.lineno and _scope_of(tree, node.lineno) is scope
    ]  # fmt: skip


def _decayed_in_place(tree: ast.Module, stmt: ast.stmt, name: str) -> bool:
    """Whether `name` (`self.buf[k]`) is multiplied in place and then added to or subtracted from in place
    before `stmt`, in its function: a momentum velocity kept in place, whatever it is called."""
    changes = _in_place(tree, _scope_of(tree, stmt.lineno), stmt, name)
    decays = [n.lineno for n in changes if isinstance(n.op, ast.Mult)]
    return bool(decays) and any(isinstance(n.op, (ast.Add, ast.Sub)) and n.lineno > min(decays) for n in changes)


def _changed_after(tree: ast.Module, scope: ast.AST, stmt: ast.stmt, name: str, after: int) -> bool:
    """Whether `name` (`self.v[key]`) is added to or subtracted from in place in `scope` between line
    `after` (where it is last assigned) and `stmt`."""
    return any(isinstance(node.op, (ast.Add, ast.Sub)) and after < node.lineno for node in _in_place(tree, scope, stmt, name))


def _velocity_added_to(update: Update, stmt: ast.stmt, site: UpdateSite | None, tree: ast.Module, name: str, outer: int, scope: ast.AST) -> UpdateSite | None:
    """A velocity changed in place before the update that adds it: `v *= mu; v -= lr * g; p += v`, or an
    entry kept per parameter (`self.v[key] -= lr * grads[key]`, then `params[key] += mu * mu * self.v[key]`).
    The velocity carries over from pass to pass (a momentum), so the site is adaptive, its gradient the
    one term the last `v -= ...` / `v += ...` adds, its sign the one that change gives it."""
    changed = [
        node for node in _in_place(tree, scope, stmt, name)
        if isinstance(node.op, (ast.Add, ast.Sub)) and isinstance(node.target, (ast.Name, ast.Subscript, ast.Attribute))
    ]  # fmt: skip
    if not changed:
        return site
    last = max(changed, key=lambda n: n.lineno)
    term = _Unsigned().visit(copy.deepcopy(last.value))
    sign = outer * (1 if isinstance(last.op, ast.Add) else -1) * _polarity(last.value)
    rate, gradient = _take_rate(term)
    if gradient is None or not _gradient_like(gradient, rate):
        return site
    return UpdateSite(update, name, None, gradient, sign, adaptive=True, velocity=(last.lineno, ast.unparse(last)))


def _gradient_like(gradient: str, rate: str | None) -> bool:
    """Whether the term a velocity adds is a gradient: it names one (`dW`, `grads[k]`, `l1_delta`), or
    computes one inline beside a rate, a matrix product of the pass's values (`X.T @ err`, `np.dot(l0.T,
    l1_error)`), as a flat script writes `v = mu * v + lr * (X.T @ err)` where it would write `w -= lr *
    (X.T @ err)` (not `h = np.tanh(x @ W1 + b1)`, an activation the update multiplies by)."""
    node = ast.parse(gradient, mode="eval")
    return any(_names_gradient(n) for n in walk(node)) or rate is not None and any(_is_product(n) for n in walk(node))


def _adaptive_behind(update: Update, stmt: ast.stmt, tree: ast.Module) -> UpdateSite | None:
    """An Adam step whose names hide the gradient (`_gradient_behind`): adaptive, that gradient compared."""
    found = _step_of(stmt)
    if found is None:
        return None
    step, sign = found
    rooted = _rooted_definition(step, stmt, tree)
    if not any(_TRANSFORMED.search(i) or _reads_state(step) for i in _identifiers(step)) and rooted is None:
        return None
    # `upd = lr * m_hat / (np.sqrt(v_hat) + eps)` then `w -= upd`: the step's own name is one statement more to read through
    gradient = _gradient_behind(step, stmt, tree, depth=4 if rooted is not None else 3)
    if gradient is None:
        return None
    return UpdateSite(update, ast.unparse(step), None, gradient, sign * _polarity(step), adaptive=True)


def _over_running_maximum(update: Update, stmt: ast.stmt, tree: ast.Module) -> UpdateSite | None:
    """An Adamax step, `p -= lr / (1 - b1 ** t) * m / (u + eps)` where `u = np.maximum(b2 * u, np.abs(g))`: a
    step divided by a running maximum (`static.infinity_norm`) is adaptive, each element scaled by its own
    factor, and its gradient the one its moments are made of (`_gradient_behind`); None otherwise."""
    from backprop_doctor.static.infinity_norm import accumulators

    found = _step_of(stmt)
    if found is None:
        return None
    step, sign = found
    kept = {a.target for a in accumulators(_scope_of(tree, stmt.lineno))}
    divisors = {ast.unparse(n) for d in walk(step) if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Div) for n in walk(d.right)}
    if not kept & divisors:
        return None
    gradient = _gradient_behind(step, stmt, tree)
    if gradient is None:
        return None
    return UpdateSite(update, ast.unparse(step), None, gradient, sign * _polarity(step), adaptive=True)


def _rooted_definition(step: ast.AST, stmt: ast.stmt, tree: ast.Module) -> ast.Assign | None:
    """The assignment just before `stmt` of a step that is one name, when it takes a square root (AdaDelta's
    `dx = -np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g`, then `params[key] += dx`): each element scaled by its
    own factor, an adaptive step (`step = mh / (vh ** 0.5 + 1e-8) * 0.005` too); None otherwise."""
    if not isinstance(step, ast.Name):
        return None
    scope = _scope_of(tree, stmt.lineno)
    made = [
        d for d in walk(scope)
        if isinstance(d, ast.Assign) and d.lineno < stmt.lineno and any(isinstance(t, ast.Name) and t.id == step.id for t in d.targets)
    ]  # fmt: skip
    if not made:
        return None
    last = max(made, key=lambda d: d.lineno)
    return last if _rooted(last.value) else None  # `np.sqrt(v_hat)`, or `v_hat ** 0.5`


def _scaled_gradient(stmt: ast.stmt, tree: ast.Module, read: str) -> tuple[str, int] | None:
    """The gradient behind a step that is one name (`read`, often named like a gradient: AdaDelta's `dx`)
    computed just before with square roots (`_rooted_definition`): (`g`, the sign the definition gives it,
    -1 here); None when the step is not such a name."""
    found = _step_of(stmt)
    if found is None or not isinstance(found[0], ast.Name) or found[0].id != read.strip():
        return None
    made = _rooted_definition(found[0], stmt, tree)
    if made is None:
        return None
    gradient = _gradient_behind(made.value, made, tree)
    return (gradient, _polarity(made.value)) if gradient is not None and gradient != read.strip() else None


def _reads_state(node: ast.AST, besides: set[str] = frozenset()) -> bool:
    """A term that reads the optimiser's state: `self.momentum * layer.weight_momentums` (not a name of
    `besides`: `ACCUM` of `lr * acc[k] / ACCUM`, a count of passes that only divides)."""
    from backprop_doctor.static.updates import _OPTIMISER_STATE

    return any(_OPTIMISER_STATE.search(i) for i in _identifiers(node) - besides)


def _gradient_behind(step: ast.AST, stmt: ast.stmt, tree: ast.Module, depth: int = 3) -> str | None:
    """The one gradient an adaptive step is made of, through the statements that define its names:
    `-lr * weight_momentums_corrected / (np.sqrt(weight_cache_corrected) + eps)` ->
    `weight_momentums_corrected = layer.weight_momentums / (1 - beta_1 ** t)` ->
    `layer.weight_momentums = beta_1 * layer.weight_momentums + (1 - beta_1) * layer.dweights` -> `layer.dweights`;
    a name written in place (`m[...] = b1 * m + (1 - b1) * g`) is defined there too."""
    scope = _scope_of(tree, stmt.lineno)
    found: set[str] = set()
    frontier, seen = [step], set()
    def parts(node: ast.AST) -> Iterator[ast.expr]:
        """The names, attributes and subscripts `node` reads, outermost first; none inside a gradient's
        (`grads[key]`, not `grads` again)."""
        todo = [node]
        while todo:
            part = todo.pop(0)
            if isinstance(part, (ast.Name, ast.Attribute, ast.Subscript)) and not isinstance(getattr(part, "ctx", None), ast.Store):
                yield part
                if _names_gradient(part):
                    continue
            todo.extend(ast.iter_child_nodes(part))

    for _ in range(depth):
        following = []
        for node in frontier:
            for part in parts(node):
                text = ast.unparse(part)
                if _names_gradient(part):
                    found.add(text)
                elif text not in seen:
                    seen.add(text)
                    following += [
                        d.value for d in _assignments(scope, augmented=True)
                        if d.lineno < stmt.lineno
                        and any(ast.unparse(t) in (text, f"{text}[...]", f"{text}[:]") for t in (d.targets if isinstance(d, ast.Assign) else [d.target]))
                    ]  # fmt: skip
        frontier = following
    if len(found) > 1:
        # a running average named for the gradient it averages (`self.avg_grad_sq[k] = rho * ... + (1 - rho) * grad * grad`,
        # under AdaDelta's root) is made from the gradient, not one itself: the candidates no other is computed from
        def made_from_another(text: str) -> bool:
            return any(
                d.lineno < stmt.lineno
                and any(ast.unparse(t) == text for t in (d.targets if isinstance(d, ast.Assign) else [d.target]))
                and any(ast.unparse(n) in found - {text} for n in ast.walk(d.value))
                for d in _assignments(scope, augmented=True)
            )  # fmt: skip

        found = {text for text in found if not made_from_another(text)}
    return found.pop() if len(found) == 1 else None


def _assignments(scope: ast.AST, augmented: bool = False) -> Iterator[ast.Assign | ast.AugAssign]:
    """The assignments in `scope` (and its augmented ones when `augmented`), one that binds several names at
    once from as many values (`vW1, vb1 = mu * vW1 - lr * dW1, mu * vb1 - lr * db1`, Adam's `m, v = b1 * m +
    (1 - b1) * g, b2 * v + (1 - b2) * g * g`) as one assignment per name, each keeping the statement's line:
    where a velocity or a moment written that way is set."""
    for node in walk(scope):
        if isinstance(node, ast.AugAssign) and augmented:
            yield node
        elif isinstance(node, ast.Assign):
            yield from split_assignment(node)


def _scope_of(tree: ast.Module, line: int) -> ast.AST:
    """The innermost function holding `line`, or the module."""
    scope: ast.AST = tree
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if scope is tree or node.lineno >= scope.lineno:  # type: ignore[attr-defined]
                scope = node
    return scope


def written_sign(update: Update) -> int:
    """+1 when the update adds its step as written (`p += v`, `p = p + v`), -1 when it subtracts it, 0 when unknown."""
    try:
        (stmt,) = ast.parse(update.source.strip()).body
    except (SyntaxError, ValueError):
        return 0
    found = _step_of(stmt)
    return found[1] if found is not None else 0


def _step_of(stmt: ast.stmt) -> tuple[ast.expr, int] | None:
    """The step an update adds and its sign as written: `p -= s` -> (s, -1), `p = p + s` -> (s, 1)."""
    if isinstance(stmt, ast.AugAssign):
        return stmt.value, (-1 if isinstance(stmt.op, ast.Sub) else 1)
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp):
        if len(stmt.targets) == 1 and (decayed := decayed_step(stmt.targets[0], stmt.value)) is not None:
            return decayed[1], decayed[0]  # `W = W - lr * dW - reg * W`: the step beside the decay
        return stmt.value.right, (-1 if isinstance(stmt.value.op, ast.Sub) else 1)
    return None


def _polarity(node: ast.expr) -> int:
    """-1 when a product or quotient holds an odd number of negations: `-lr * g / np.sqrt(m)`."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_polarity(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        return _polarity(node.left) * _polarity(node.right)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and node.value < 0:
        return -1
    return 1


class _Unsigned(ast.NodeTransformer):
    """Drop the negations `_polarity` counted (only inside products and quotients: the `-limit` of
    `np.clip(g, -limit, limit)` stays)."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        return self.visit(node.operand) if isinstance(node.op, ast.USub) else node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, (ast.Mult, ast.Div)):
            node.left, node.right = self.visit(node.left), self.visit(node.right)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) and node.value < 0:
            return ast.copy_location(ast.Constant(-node.value), node)
        return node


def _names_gradient(node: ast.AST) -> bool:
    """`dWxh`, `dparam`, `grads[k]`, `self.dW`: an expression whose last name is a gradient's."""
    from backprop_doctor.static.updates import _GRADIENT

    while isinstance(node, ast.Subscript):
        node = node.value
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    if isinstance(node, ast.Attribute) and name in _ARRAY_METHODS:
        return False  # `X.T.dot(e)`: NumPy's `dot`, not a gradient `dot`
    return bool(name) and bool(_GRADIENT.fullmatch(name)) and not _TRANSFORMED.search(name)


_ARRAY_METHODS = frozenset({"dot", "diagonal", "dump", "dumps"})


_STEP_FACTOR = re.compile(r"(?i)epsilon|eps|rate|mu|step")  # `W1 += -Config.epsilon * dW1`, `w -= step * g`: as the step's factor, a rate


# a learning rate a function gives for the pass: `lr_at(epoch)`, `get_lr(t)`, `self.schedule(step)`, `decayed_rate(i)`
_RATE_FUNCTION = re.compile(r"(?i)(get_?|current_?|compute_?)?(lr|learning_?rate|rate|step_?size)(_\w+)?|\w*_(lr|rate)|\w*schedul\w*|\w*decay\w*")


def _take_rate(step: ast.expr, settings: frozenset[str] = frozenset()) -> tuple[str | None, str | None]:
    """`lr * g` -> ("lr", "g"); `(lr / m) * g` -> ("lr", "g / m"); `0.1 * g` -> ("0.1", "g");
    `config["lr"] * g` -> ('config["lr"]', "g");
    `lr * X.T @ dz`, that is `(lr * X.T) @ dz` -> ("lr", "X.T @ dz"); `settings`: names the file binds to a
    number and nothing else (`_numeric_settings`), read as rates too (`gain * g / n` -> ("gain", "(g) / (n)"))."""

    def is_rate(node: ast.expr) -> bool:
        if isinstance(node, ast.Call) and not node.keywords and len(node.args) <= 2:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("float", "float16", "float32", "float64", "asarray", "array", "dtype"):  # `np.float32(0.5)`, `float(lr)`
                return len(node.args) == 1 and is_rate(node.args[0])
            return bool(_RATE_FUNCTION.fullmatch(name))  # `lr_at(epoch)`, `self.schedule(t)`
        if isinstance(node, ast.Name):
            return bool(_LEARNING_RATE.fullmatch(node.id) or _STEP_FACTOR.fullmatch(node.id)) or node.id in settings and not _VELOCITY.fullmatch(node.id)
        if isinstance(node, ast.Attribute):
            return bool(_LEARNING_RATE.fullmatch(node.attr) or _STEP_FACTOR.fullmatch(node.attr))
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            return bool(_LEARNING_RATE.fullmatch(node.slice.value))  # `config["lr"]`, `hparams['learning_rate']`
        return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)

    if is_rate(step):
        return None, None
    if isinstance(step, ast.BinOp) and isinstance(step.op, ast.Mult):
        for rate, rest in ((step.left, step.right), (step.right, step.left)):
            if is_rate(rate):
                more, left = _take_rate(rest, settings)  # `lr * decay(epoch) * g`: both factors are the rate
                if more is not None and left is not None:
                    # beside a named rate a plain number is the gradient's: the 2 of `lr * (X.T @ e) * 2 / n`
                    # (the derivative of a square), the 2 of `lr * (2 * g)`
                    if _plain_number(rate) and not _plain_number(more):
                        if _gradient_by_name(left):
                            # `LR * grads[k] * 10`: a gradient read by name, the number written in the
                            # update beside the rate is a factor of the rate, not of the gradient
                            return f"{more} * {ast.unparse(rate)}", left
                        return more, f"({left}) * {ast.unparse(rate)}"
                    if _plain_number(more) and not _plain_number(rate):
                        return ast.unparse(rate), f"{more} * ({left})"
                    return f"{ast.unparse(rate)} * {more}", left
                if more is None and left is None and _plain_number(rate) and not _plain_number(rest):
                    return ast.unparse(rest), ast.unparse(rate)  # `2 * lr` of `2 * lr * g`: `lr` the rate, the 2 the gradient's
                return ast.unparse(rate), ast.unparse(rest)
            if isinstance(rate, ast.BinOp) and isinstance(rate.op, ast.Div) and is_rate(rate.left):
                return ast.unparse(rate.left), f"({ast.unparse(rest)}) / ({ast.unparse(rate.right)})"
        inner_rate, inner = _take_rate(step.left, settings)
        if inner_rate is not None and inner is not None:
            if _plain_number(inner) and _gradient_by_name(step.right):
                return f"{inner} * {inner_rate}", ast.unparse(step.right)  # `10 * lr * grads[k]`: the 10 is the rate's
            return inner_rate, f"({inner}) * ({ast.unparse(step.right)})"
    if isinstance(step, ast.BinOp) and isinstance(step.op, ast.Div):
        inner_rate, inner = _take_rate(step.left, settings)
        if inner_rate is not None and inner is not None:
            return inner_rate, f"({inner}) / ({ast.unparse(step.right)})"
    if isinstance(step, ast.BinOp) and isinstance(step.op, ast.MatMult):
        # `lr * X.T @ dz` parses as `(lr * X.T) @ dz`: the rate sits inside the left operand
        for side in ("left", "right"):
            inner_rate, inner = _take_rate(getattr(step, side), settings)
            if inner_rate is not None and inner is not None:
                rest = copy.copy(step)
                setattr(rest, side, ast.parse(inner, mode="eval").body)
                return inner_rate, ast.unparse(rest)
    return None, ast.unparse(step)


def _gradient_by_name(node: ast.AST | str) -> bool:
    """`dW`, `self.dW`, `grads[k]`, `grads["W1"]`: a gradient read by its name, nothing computed in it (not `X.T`)."""
    if isinstance(node, str):
        try:
            node = ast.parse(node, mode="eval").body
        except SyntaxError:
            return False
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) or not _names_gradient(node):
        return False
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, (ast.Name, ast.Constant)):
            return False
        node = node.value
    return isinstance(node, ast.Name)


def _plain_number(node: ast.AST | str) -> bool:
    """`2`, `0.5`, `2.0 / 3`: a number written out, no name in it."""
    if isinstance(node, str):
        try:
            node = ast.parse(node, mode="eval").body
        except SyntaxError:
            return False
    return all(
        isinstance(n, (ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)) or isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)
        for n in ast.walk(node)
    )  # fmt: skip


def _called_names(node: ast.AST) -> set[str]:
    """Names of what the code calls: `f` of `f(x)`, `update` of `opt.update(...)`, and the call with
    its receiver too (`opt.update`, `self.opt.update`), which is how imported methods are bound."""
    found = set()
    for inner in walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            if isinstance(func, ast.Name):
                found.add(func.id)
            elif isinstance(func, ast.Attribute):
                found.add(func.attr)
                if isinstance(func.value, (ast.Name, ast.Attribute)):
                    found.add(f"{ast.unparse(func.value)}.{func.attr}")
    return found


def _update_sites(tree: ast.Module, file: str | None = None) -> list[UpdateSite]:
    """Every update of the file taken apart (`_split_step`), marked with `file` when it is not the checked one."""
    updates = parameter_updates(tree)
    known = {(u.line, u.col) for u in updates}
    updates += [u for u in _bare_updates(tree) if (u.line, u.col) not in known]
    updates += _sibling_updates(tree, updates)
    by_line: dict[int, list[ast.stmt]] = {}  # two updates may share a line: `W2 -= lr * dW2; b2 -= lr * db2`
    for stmt in walk(tree):
        if isinstance(stmt, (ast.AugAssign, ast.Assign, ast.Return)) or isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            by_line.setdefault(stmt.lineno, []).append(stmt)
    sites: list[UpdateSite] = []
    statements: dict[int, ast.stmt] = {}  # id(site) -> the statement it was read from
    values = _items_values(tree)
    settings: frozenset[str] | None = None
    for update in updates:
        if file is not None:
            update = dataclasses.replace(update, file=file)
        stmt = _statement_at(by_line.get(update.line, []), update.col)
        if stmt is not None and (parts := unpacked(stmt)):  # `W1, b1 = W1 - lr * dW1, ...`, `np.subtract(W, lr * g, out=W)`: this parameter's part
            stmt = next((p for p in parts if ast.unparse(p.target if isinstance(p, ast.AugAssign) else p.targets[0]) == update.target), None)
        site = _split_step(update, stmt, frozenset(values.get(update.line, ()))) if stmt is not None else None
        if site is not None and site.rate is None and not site.adaptive:
            site = _setting_as_rate(site, settings if settings is not None else (settings := _numeric_settings(tree)))
        site = _through_velocity(update, stmt, site, tree) if stmt is not None else site
        if site is None and stmt is not None and (behind := _adaptive_behind(update, stmt, tree)) is not None:
            site = behind
        elif site is not None and not site.adaptive and stmt is not None and (maximal := _over_running_maximum(update, stmt, tree)) is not None:
            site = maximal  # Adamax's `lr / (1 - b1 ** t) * m / (u + eps)`: the first moment over the gradient's running maximum
        elif site is not None and stmt is not None and site.rate is None and (scaled := _scaled_gradient(stmt, tree, site.gradient)) is not None:
            gradient, polarity = scaled  # AdaDelta's `params[key] += dx`, `dx = -np.sqrt(...) / np.sqrt(...) * g`
            site = dataclasses.replace(site, gradient=gradient, adaptive=True, sign=site.sign * polarity)
        if site is not None:
            sites.append(site)
            if stmt is not None:
                statements[id(site)] = stmt
    return _one_momentum_step(tree, sites, statements)


def _numeric_settings(tree: ast.Module) -> frozenset[str]:
    """Names the file binds to a number written out and to nothing else (`pas = 0.1`, `taux = 5e-3`): settings, whatever
    language they are named in; never a function's argument, a loop's variable nor anything changed in place."""
    numbers: set[str] = set()
    other: set[str] = {a.arg for n in walk(tree) if isinstance(n, ast.arguments) for a in (*n.posonlyargs, *n.args, *n.kwonlyargs)}
    for node in walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = (
                    list(zip(target.elts, node.value.elts)) if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                    and len(target.elts) == len(node.value.elts) else [(target, node.value)]
                )  # fmt: skip
                for name, value in pairs:
                    for n in walk(name):
                        if isinstance(n, ast.Name):
                            (numbers if n is name and _plain_number(value) and not isinstance(value, ast.BinOp) else other).add(n.id)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.comprehension, ast.withitem, ast.NamedExpr)):
            bound = getattr(node, "target", None) or getattr(node, "optional_vars", None)
            other |= {n.id for n in walk(bound) if isinstance(n, ast.Name)} if bound is not None else set()
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            other |= set(node.names)
    return frozenset(numbers - other)


def _setting_as_rate(site: UpdateSite, settings: frozenset[str]) -> UpdateSite:
    """`params[k] -= pas * g[k]`: a step whose factor is a number set once under a name no rate pattern knows (`pas`,
    `taux`, `schritt`, `gain`) is that rate times the gradient, as `0.1 * g[k]` is, wherever the factor sits in the step
    (`gain * dW1 / n`, `(gain * g) / len(X)` of a list rebuilt over `zip(w, grads)`); not where the rest reads the
    parameter it updates (`W -= lam * W`, the element `wi` of `[wi - lam * wi for wi in w]`) or is itself a plain number."""
    try:
        step = ast.parse(site.gradient, mode="eval").body
    except SyntaxError:
        return site
    rate, rest = _take_rate(step, settings)
    if rate is None or rest is None or _plain_number(rest):
        return site
    try:
        rate_node, rest_node = ast.parse(rate, mode="eval").body, ast.parse(rest, mode="eval").body
    except SyntaxError:
        return site
    if not any(isinstance(n, ast.Name) and n.id in settings for n in walk(rate_node)):
        return site
    target = site.update.target
    own = {target.split("[", 1)[0].split(".", 1)[0], *((site.listwise[0],) if site.listwise else ())}
    if any(isinstance(n, ast.Name) and n.id in own for n in walk(rest_node)) or any(ast.unparse(n) == target for n in walk(rest_node)):
        return site
    return dataclasses.replace(site, rate=rate, gradient=rest)


def _one_momentum_step(tree: ast.Module, sites: list[UpdateSite], statements: dict[int, ast.stmt]) -> list[UpdateSite]:
    """An update split over statements of one block: Nesterov's `W += mu * mu * vW` then
    `W -= (1 + mu) * lr * dW`. Where one of them adds a velocity the gradient went into (`site.velocity`),
    the parameter's step is their sum, and none of the others is its rate times its gradient on its own
    (`(1 + mu) * dW` is no gradient 1.85 times too large): each is read as adaptive, its gradient the one
    gradient it names, its sign the one it is written with."""
    block_of: dict[int, int] = {}
    for node in (tree, *walk(tree)):
        for block in ([node.body] if isinstance(node, ast.Module) else _child_blocks(node) if isinstance(node, ast.stmt) else []):
            for stmt in block:
                block_of[id(stmt)] = id(block)

    def group(site: UpdateSite) -> tuple[object, ...] | None:
        stmt = statements.get(id(site))
        block = block_of.get(id(stmt)) if stmt is not None else None
        return (site.update.file, site.update.function, site.update.target, block) if block is not None else None

    with_velocity = {group(site) for site in sites if site.velocity is not None} - {None}
    if not with_velocity:
        return sites
    found = []
    for site in sites:
        if site.velocity is None and not site.adaptive and site.listwise is None and group(site) in with_velocity:
            try:
                step = ast.parse(site.step, mode="eval").body
            except SyntaxError:
                step = None
            named = {ast.unparse(n) for n in _outermost_gradients(step)} if step is not None else set()
            if len(named) == 1:
                site = dataclasses.replace(site, rate=None, gradient=named.pop(), adaptive=True)
        found.append(site)
    return found


def _outermost_gradients(node: ast.AST) -> Iterator[ast.expr]:
    """The expressions naming a gradient in `node`, not those inside one (`g[k]`, not `g` again)."""
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) and _names_gradient(node):
        yield node
        return
    for child in ast.iter_child_nodes(node):
        yield from _outermost_gradients(child)


def _statement_at(statements: list[ast.stmt], col: int) -> ast.stmt | None:
    """Of the statements that start on one line, the one whose span holds column `col` (the first one
    when none does: an update read from inside a statement that starts on an earlier column)."""
    inside = [s for s in statements if s.col_offset <= col and (s.end_lineno != s.lineno or col < (s.end_col_offset or 0))]
    return inside[-1] if inside else statements[0] if statements else None


def _updating_functions(tree: ast.Module, sites: list[UpdateSite]) -> dict[str, list[UpdateSite]]:
    """Functions (by short name) that update parameters, directly or through a function they call."""
    defs: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.setdefault(node.name, []).append(node)
    updating: dict[str, list[UpdateSite]] = {}
    for name, nodes in defs.items():
        for node in nodes:
            inside = [s for s in sites if node.lineno <= s.line <= (node.end_lineno or node.lineno)]
            if inside:
                updating.setdefault(name, []).extend(inside)
    for _ in range(3):
        for name, nodes in defs.items():
            for node in nodes:
                reached = [s for called in _called_names(node) if called != name for s in updating.get(called, [])]
                if reached and name not in updating:
                    updating[name] = reached
    return updating


def _within(site: UpdateSite, stmt: ast.stmt) -> bool:
    """Whether the update `site` is written inside `stmt`, by line and column: `vW1 = mu * vW1 - lr * dW1; W1 += vW1`
    holds two statements on one line, and only the second is the update."""
    start = (stmt.lineno, getattr(stmt, "col_offset", 0))  # a statement made here (not parsed) has no columns: its lines
    end = (getattr(stmt, "end_lineno", None) or stmt.lineno, getattr(stmt, "end_col_offset", None) or 1 << 30)
    return start <= (site.update.line, site.update.col) < end


def training_steps(tree: ast.Module | None, imported: Sequence[tuple[str, ast.Module, Mapping[str, str]]] = ()) -> list[TrainingStep]:
    """The training loops of a file, outermost function first; [] when it updates no parameter.

    `imported` lists other files of the user's whose functions the file imports: (file, its tree,
    {name the file calls: function in that file}); their updates count where the loop calls them
    (`params = update(params, grads, lr)` with `update` from `nn_utils.py`)."""
    if tree is None:
        return []
    qualnames = _qualnames(tree)
    sites = _update_sites(tree)
    updating = _updating_functions(tree, sites)
    for file, other, bound in imported:
        theirs = _updating_functions(other, _update_sites(other, file))
        for local, name in bound.items():
            if name in theirs and local not in updating:
                updating[local] = theirs[name]
    if not sites and not updating:
        return []
    def reached_by(stmt: ast.stmt) -> list[UpdateSite]:
        direct = [s for s in sites if _within(s, stmt)]
        called = [s for name in _called_names(stmt) for s in updating.get(name, [])]
        return direct + [s for s in called if s not in direct]

    found: list[TrainingStep] = []
    taken = {n.id for n in walk(tree) if isinstance(n, ast.Name)} | {n.arg for n in walk(tree) if isinstance(n, ast.arg)}
    signatures = _signatures([tree, *(other for _, other, _ in imported)])

    def loop_step(
        loop: ast.For | ast.While, function: ast.AST | None, start: int = 0, stop: int | None = None, among: frozenset[str] | None = None
    ) -> TrainingStep | None:
        body = loop.body[start:stop]  # one of the loop's alternating steps (`_alternating`), or all of it
        for index, stmt in enumerate(body):
            reached = reached_by(stmt)
            if reached:
                break
        else:
            return None
        body, index, stmt = _conditional_step(loop, body, index, stmt, reached_by, tree)
        prefix, inline = named_inputs(tuple(body[:index]), taken)
        updating = [later for later in body[index:] if reached_by(later)]
        reached = [s for later in updating for s in reached_by(later)]
        through_call = not any(s.file is None and _within(s, stmt) for s in reached)  # `nn.train(x, y)`
        computes = any(isinstance(n, (ast.Call, ast.BinOp)) for s in prefix for n in walk(s)) or (not prefix and _inline_gradient(updating, reached, _defined_functions(tree)))
        ahead = () if prefix or through_call or computes else _rotated(tuple(updating), body[body.index(updating[-1]) + 1 :])
        if prefix and not through_call:
            # `history.append(loss)` or the next batch's slice first, then `W -= lr * g`, then `loss, g = grad(W, xb)`:
            # what the pass does before its update computes nothing the update reads, its end does
            later = _rotated(tuple(updating), body[body.index(updating[-1]) + 1 :])
            if (
                any(isinstance(n, ast.Call) for s in later for n in walk(s)) and not set().union(*map(_stored, prefix)) & set().union(*map(reads, updating))
                and not set().union(*map(reads, later)) & _computed_from(prefix, _moved_or_read(updating))
            ):  # fmt: skip  (not a forward made before the update that the end's backward reads: a stale gradient)
                ahead = later
        if any(isinstance(n, ast.Call) for s in ahead for n in walk(s)):
            # `W = W - lr * grad` first, `loss, grad = loss_and_grad(W, xb, yb)` at the pass's end (the first gradient
            # taken before the loop): the statements that compute what the update reads are the pass's forward
            prefix, inline = named_inputs(ahead, taken)
            computes = True
        # a loop whose updates each move the entry its variable picks walks a parameter's elements, unless a pass
        # computes a loss: `for c, o in pairs: ... W_in[c] -= lr * g` trains on one pair (skip-gram) per pass
        # what the pass's own updates write into is a parameter, never the loss (`E -= lr * dE`, an embedding table)
        scope = qualnames.get(id(function)) if function is not None else None
        updated = frozenset(r for s in reached if s.file is None and s.update.function == scope and (r := _root(s.update.target)) is not None)
        applied = frozenset(n for s in reached for n in re.findall(r"[^\W\d]\w*", s.gradient))  # the names the updates' gradients read
        over_elements = _over_elements(loop, reached) and not _losses(loop, prefix, tree, updated, applied)
        if _over_parameters(loop) or over_elements or (not through_call and not computes):
            return None  # a loop over the parameters that updates each one, not a training loop
        if not prefix and _each_updates_itself(loop):
            return None  # `for n in hidden: n.update(eta)`: each layer updated in turn, inside the training loop
        if _over_models(loop) or (isinstance(stmt, (ast.For, ast.While)) and _over_models(stmt)):
            return None  # `for key in networks: networks[key].gradient(...)`: several networks trained in turn
        name = qualnames.get(id(function)) if function is not None else None
        functions = _defined_functions(tree)
        from backprop_doctor.static.step_functions import imported_assigned, inner_adjoints, inner_assigned, inner_cuts, returned_forwards, time_adjoints  # they build on this module

        summed: list[LossSite] = []
        direct = _losses(loop, prefix, tree, updated, applied, among)
        # an error only a loop of the pass computes, one sample at a time (`e = p - yi` in `for i in batch:`
        # that adds each sample's gradient up): the loss it implies is summed over that loop, not its last sample's
        inside = [s for s in prefix if isinstance(s, (ast.For, ast.While))]
        per_sample = bool(direct) and all(
            site.implied and any(s.lineno <= site.line <= (s.end_lineno or s.lineno) for s in inside) for site in direct
        )
        beside: list[LossSite] = []  # the losses the per-sample error implies, summed, beside a total the program adds up itself
        if per_sample or not (direct or _per_sample_losses(tree, updating) or _inner_error_losses(tree, prefix, updating) or _method_losses(tree, (*prefix, *updating))):
            if (inner := _summed_in_inner_loop(prefix, tree, tuple(updating))) is not None:
                prefix, summed = inner
        elif any(site.totalled is not None for site in direct) and (inner := _summed_in_inner_loop(prefix, tree, tuple(updating))) is not None:
            # `total += 0.5 * err ** 2` in the loop over the samples: the program's loss, and the usual losses its error implies beside it
            prefix, beside = inner

        def split(prefix: tuple[ast.stmt, ...]) -> TrainingStep:
            return TrainingStep(
                function=name,
                function_line=getattr(function, "lineno", 0) if function is not None else 0,
                loop_line=loop.lineno,
                first_line=body[0].lineno,
                prefix=prefix,
                update_line=stmt.lineno,
                update_end_line=max(later.end_lineno or later.lineno for later in updating),
                updates=tuple(dict.fromkeys(reached)),
                losses=tuple(
                    _paired(site, (*prefix, *updating), reached, functions) for site in _feeding_first(
                        (summed if per_sample else [])
                        or _on_the_batch(_losses(loop, prefix, tree, updated, applied, among), prefix, updating) or _per_sample_losses(tree, updating)
                        or _inner_error_losses(tree, prefix, updating) or _method_losses(tree, (*prefix, *updating)) or summed
                        or _reported_around(function or tree, loop, reached, prefix, updating, functions),
                        prefix, updating,
                    )
                    if not _over_many_passes(site, reached_by)
                ),
                adjoints=tuple(_adjoints(prefix, tuple(updating)) + _loss_gradient_calls(prefix)),
                other_losses=tuple(
                    s for s in (_per_sample_losses(tree, updating) or _inner_error_losses(tree, prefix, updating) or _error_losses(loop, prefix) or beside) if s.implied
                ),
                assigned={n: line for s in prefix for n, line in _bindings(s)},
                loop=loop,
                inner=tuple(inner_adjoints(tree, prefix, tuple(updating))),
                time=tuple(time_adjoints(tree, prefix, tuple(updating))),
                inner_assigned=inner_assigned(tree, (*prefix, *updating)),  # `net.learn()` computes its gradients where it updates
                inner_cuts=inner_cuts(tree, (*prefix, *updating)),
                imported_assigned=imported_assigned(imported, prefix),
                relus=tuple(_relu_outputs(prefix)),
                returned=returned_forwards(tree, prefix),
                inline=inline,
            )

        tail = body[body.index(updating[-1]) + 1 :]
        forward = _rotated(prefix, tail) if not ahead else ()
        if start or stop is not None:
            # one of alternating steps: the losses the other steps compute (in the loop's other statements) are theirs
            first, last = body[0].lineno, max(s.end_lineno or s.lineno for s in body)
            own = split(prefix)
            if among is not None:  # a network of its own (`_independent`): the losses that read it, wherever the loop computes them
                mine = tuple(s for s in own.losses if _reads_any(s.expression, among) or (s.implied and first <= s.line <= last))
                return dataclasses.replace(own, losses=mine, rotated=None)
            return dataclasses.replace(own, losses=tuple(s for s in own.losses if first <= s.line <= last), rotated=None)
        if ahead:  # the state is taken where that computation starts: the update that reads it is the next pass's
            return dataclasses.replace(split(prefix), first_line=prefix[0].lineno, ahead=True)
        return dataclasses.replace(split(prefix), rotated=split(forward + prefix) if forward else None)

    bodies: list[tuple[list[ast.stmt], ast.AST | None]] = []  # blocks no loop repeats, for a program that steps once

    def visit(body: list[ast.stmt], function: ast.AST | None, looped: bool = False) -> None:
        if not looped:
            bodies.append((body, function))
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(stmt.body, stmt)
                continue
            if isinstance(stmt, ast.ClassDef):
                visit(stmt.body, None)
                continue
            if isinstance(stmt, (ast.For, ast.While)) and reached_by(stmt):
                before = len(found)
                for block in _child_blocks(stmt):
                    visit(block, function, looped=True)  # an inner loop that trains is the step
                found[before:] = [
                    _epoch_losses(dataclasses.replace(step, copied_outside=step.copied_outside | _copied_outside(stmt, step)), stmt, tree) for step in found[before:]
                ]
                if len(found) == before:
                    for start, stop, among in _alternating(stmt, reached_by, tree, signatures):
                        step = loop_step(stmt, function, start, stop, among)
                        if step is not None:
                            found.append(step)
                continue
            for block in _child_blocks(stmt):
                visit(block, function, looped or isinstance(stmt, (ast.For, ast.While)))

    def loopless_step(body: list[ast.stmt], function: ast.AST | None, begin: int = 0) -> TrainingStep | None:
        """`weights = weights - lr * gradients` with no training loop around it: the statements from
        the forward pass (the first to read a parameter after its last assignment) to the updates,
        as one pass of a loop that runs once. `begin`: the first statement of `body` it may take (a
        second section of a script, `_new_section`)."""
        updating = [i for i, stmt in enumerate(body) if i >= begin and not isinstance(stmt, _DEFINITIONS) and reached_by(stmt)]
        if not updating:
            return None
        first = updating[0]
        last = max(i for i in updating if not any(isinstance(s, (ast.For, ast.While)) and not reached_by(s) for s in body[first:i]))
        if (section := _new_section(body, updating, first, last, reached_by)) is not None:
            last = max(i for i in updating if i < section)
        roots = {
            root for i in updating[: updating.index(last) + 1] for site in reached_by(body[i])
            for root in _walked_roots(body[i], site.update.target)
        } - {None}  # fmt: skip
        # a loop before the updates bounds a script's step unless it reads the parameters (a forward or a backward over
        # time); a function that makes one step (`training_step(inputs, targets, lr)`) is the step from its first line
        start = max((
            i + 1 for i in range(begin, first)
            if set(_targets(body[i])) & roots or (isinstance(body[i], (ast.For, ast.While)) and function is None and not _computes_with(body[i], roots))
        ), default=begin)  # fmt: skip
        reading = [i for i in range(start, first) if not isinstance(body[i], ast.Expr) and _computes_with(body[i], roots)]
        if not reading:
            return None  # no forward pass before the update (a test case's gradients handed to `update_parameters`)
        statements = body[reading[0] : last + 1]
        loop = ast.copy_location(ast.While(test=ast.Constant(True), body=statements, orelse=[]), statements[0])
        loop.end_lineno = statements[-1].end_lineno
        step = loop_step(loop, function)
        return dataclasses.replace(step, loopless=True, rotated=None) if step is not None else None

    visit(tree.body, None)
    for position, step in enumerate(found):
        # `total += train_step(context, target, lr)`: a loop whose pass is one call of a function that runs the
        # forward pass and updates the parameters itself; the step is that function's body, as one pass
        if step.loop is None or step.loopless or step.losses:
            continue  # a loss read around the call (`model.calculate_total_loss`) measures the call as it is
        making = [s for s in step.loop.body if step.update_line <= s.lineno <= step.update_end_line]
        if step.prefix and not all(_updates_per_element(s, reached_by) for s in making):
            continue  # `losses = [train_step(params, xb, tb, lr) for ...]`: one pass of the loop makes many steps
        called = _called_names(ast.Module(body=making, type_ignores=[]))
        for node in (n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in called):
            inner = loopless_step(node.body, node)
            if inner is not None and inner.prefix:
                found[position] = inner
                break
    for position, step in enumerate(found):
        # `network.train(X, y)` in a loop that also reports a loss (`train_loss = MSE(network.run(X_all), y_all)`): the
        # loop is the step, and the method it calls, which makes a whole step itself (forward, backward, update), is
        # the step the replay drives in its place when the loop cannot run (data the tool does not have, `.ix` of pandas)
        if step.loop is None or step.loopless or not step.losses or step.called is not None:
            continue
        making = [s for s in step.loop.body if step.update_line <= s.lineno <= step.update_end_line]
        if len(making) != 1 or not (isinstance(making[0], ast.Expr) and isinstance(making[0].value, ast.Call)):
            continue
        called = _called_names(making[0])
        for node in (n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in called):
            inner = loopless_step(node.body, node)
            if inner is not None and inner.prefix and inner.losses and inner.function is not None:
                found[position] = dataclasses.replace(step, called=inner)
                break
    if not found:  # a program that makes one step and stops: the step is the statements that make it
        simple = [(body, function) for body, function in bodies if any(
            not isinstance(b, (*_DEFINITIONS, ast.If, ast.With, ast.Try)) and any(s.file is None and b.lineno <= s.line <= (b.end_lineno or b.lineno) for s in sites)
            for b in body
        )]  # fmt: skip
        # then a method that makes one step through the methods it calls (`train(features, targets)`: a forward and a
        # backward per sample, then `self.update_weights(...)`), its updates written in the method it calls
        simple += [(body, function) for body, function in bodies if function is not None and (body, function) not in simple and any(
            not isinstance(b, (*_DEFINITIONS, ast.If, ast.With, ast.Try)) and reached_by(b) for b in body
        )]  # fmt: skip
        for body, function in simple:
            step = loopless_step(body, function)
            if step is not None:
                found.append(step)
                at = [i for i, stmt in enumerate(body) if not isinstance(stmt, _DEFINITIONS) and reached_by(stmt)]
                section = _new_section(body, at, at[0], max(at), reached_by) if at else None
                if section is not None and (second := loopless_step(body, function, begin=section)) is not None:
                    found.append(second)  # a second section of the script, with parameters of its own: a step of its own
                break
    # `for epoch in range(n): run_epoch(data)` around a function whose own loop is a step: the
    # inner loop is the step; the outer one only repeats it
    holding = {step.function.rpartition(".")[2] for step in found if step.function}
    found = [
        step for step in found
        if not (step.loop is not None and not step.prefix and _called_names(ast.Module(body=list(step.loop.body), type_ignores=[])) & holding)
    ]  # fmt: skip
    # `update_weights(network, row, l_rate)` called by a loop that computes a loss, around its own loop over the
    # layers (`for i in range(len(network)): inputs = ...`), which computes none: that loop is part of the update
    updating_calls = {
        name for step in found if step.losses and step.loop is not None
        for name in _called_names(ast.Module(body=[s for s in step.loop.body if step.update_line <= s.lineno <= step.update_end_line], type_ignores=[]))
    }  # fmt: skip
    return [step for step in found if step.losses or not step.function or step.function.rpartition(".")[2] not in updating_calls]


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def _new_section(body: list[ast.stmt], updating: list[int], first: int, last: int, reached_by: Any) -> int | None:
    """Where a script that steps once starts over: after its first run of updates, a statement binding a
    parameter that run moved to a value of its own (`W1 = np.random.randn(2, 3)`, not `W1 = W1 - lr * dW1`)
    before a later update. The script is two demonstrations one after the other, each with its own weights
    (a single sample, then a mini-batch), not one step that updates a weight twice. None when it is not so.

        W1 -= lr * affine1.dW          # the first section's updates
        ...
        W1 = np.random.randn(2, 3)     # <- here the second section starts
        affine1 = Affine(W1, b1)
        ...
        W1 -= lr * affine1.dW
    """
    run_end = first
    while run_end + 1 in updating:
        run_end += 1
    roots = {root for i in range(first, run_end + 1) for site in reached_by(body[i]) for root in _walked_roots(body[i], site.update.target)} - {None}
    later = [i for i in updating if i > run_end and i <= last]
    if not roots or not later:
        return None
    for i in range(run_end + 1, later[-1]):
        stmt = body[i]
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id in roots for t in stmt.targets) and not (reads(stmt) & roots):
            return i
    return None


def _alternating(
    loop: ast.For | ast.While, reached_by: Any, tree: ast.Module, signatures: Mapping[str, list[str]] | None = None
) -> list[tuple[int, int | None, frozenset[str] | None]]:
    """The parts of the loop's body that are steps of their own: two networks trained in turn, each pass
    computing one loss and updating one network, then computing the other loss and updating the other:

        for step in range(n):
            d_loss, gd = d_grads(D, real, G_out)     # a loss, its gradients
            for k in D: D[k] -= lr_d * gd[k]          # the first network's update
            g_loss, gg = g_grads(G, D, z)             # another loss, computed after that update
            for k in G: G[k] -= lr_g * gg[k]          # the second network's update

    Each update follows the loss computed since the update before it, so each is replayed from where its
    own statements start. (start, stop) slices of the body; the whole body, [(0, None)], unless the
    statements before every run of updates compute a loss of their own; or networks that do not meet,
    each with the names that hold it (`_independent`), its losses those that read them."""
    body = loop.body
    reaching = [i for i, stmt in enumerate(body) if reached_by(stmt)]
    if not reaching:
        return [(0, None, None)]
    runs = [[reaching[0]]]
    for i in reaching[1:]:
        if i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    if len(runs) < 2:
        return [(0, None, None)]
    starts = [0] + [run[-1] + 1 for run in runs[:-1]]
    for start, run in zip(starts, runs):
        if not any(s.in_prefix for s in _losses(loop, tuple(body[start : run[0]]), tree)):
            return _independent(body, runs, reached_by, signatures or {}) or [(0, None, None)]
    return [(start, stops, None) for start, stops in zip(starts, [*starts[1:], None])]


def _signatures(trees: Sequence[ast.Module]) -> dict[str, list[str]]:
    """The positional parameters of the functions and methods of `trees`, by plain name (`update` of
    `Sgd.update(self, params, grads)`: params, grads, without `self`); a name defined twice is left out."""
    found: dict[str, list[str]] = {}
    twice: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names = [a.arg for a in (*item.args.posonlyargs, *item.args.args)]
                        decorated = {d.id for d in item.decorator_list if isinstance(d, ast.Name)}
                        (twice.add(item.name) if item.name in found else found.__setitem__(item.name, names if "staticmethod" in decorated else names[1:]))
            elif isinstance(node, ast.Module):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names = [a.arg for a in (*item.args.posonlyargs, *item.args.args)]
                        (twice.add(item.name) if item.name in found else found.__setitem__(item.name, names))
    return {k: v for k, v in found.items() if k not in twice}


def _moved_roots(stmt: ast.stmt, reached: list[UpdateSite], signatures: Mapping[str, list[str]]) -> set[str] | None:
    """The variables of the pass an updating statement moves: `W1` of `W1 -= lr * dW1`, `params` of
    `for k in params: params[k] -= ...`, `small` of `opt.update(small.params, g)` (the argument the
    called function's updates write into, `params[key] -= ...` of `update(self, params, grads)`), the
    receiver of `net.step(lr)` whose `self.W -= ...` it runs. None when a call's moved argument cannot be told."""
    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
    roots: set[str] = set()
    calls = [n for n in walk(stmt) if isinstance(n, ast.Call)]
    for site in reached:
        target = _root(site.update.target)
        if target is None:
            return None
        if site.file is None and first <= site.line <= last:
            roots.add(target)
            continue
        name = (site.update.function or "").rpartition(".")[2]
        mine = [c for c in calls if (c.func.id if isinstance(c.func, ast.Name) else c.func.attr if isinstance(c.func, ast.Attribute) else None) == name]
        if not mine:
            return None
        for call in mine:
            if target == "self" and isinstance(call.func, ast.Attribute) and (root := _root(ast.unparse(call.func.value))) is not None:
                roots.add(root)
                continue
            parameters = signatures.get(name)
            if parameters is None or target not in parameters:
                return None
            at = parameters.index(target)
            argument = call.args[at] if at < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: at + 1]) else None
            argument = argument or next((k.value for k in call.keywords if k.arg == target), None)
            if argument is None or (root := _root(ast.unparse(argument))) is None:
                return None
            roots.add(root)
    return roots


def _independent(
    body: list[ast.stmt], runs: list[list[int]], reached_by: Any, signatures: Mapping[str, list[str]]
) -> list[tuple[int, int | None, frozenset[str] | None]] | None:
    """The parts of the loop's body that train networks of their own, each from its own gradient:

        for it in range(n):
            xb, tb = batch()
            g = small.gradient(xb, tb)            # one network's gradient,
            opt_a.update(small.params, g)         # its update,
            log_a.append(small.loss(xb, tb))      # its loss, after the update
            g2 = wide.gradient(xb, tb)            # another network's gradient, from the same batch
            opt_b.update(wide.params, g2)         # its update

    Each run of updates after the first moves variables of its own (`_moved_roots`), and the statements
    it needs since the run before (what binds what it reads, back to the batch) compute its gradient and
    read nothing the earlier runs moved or computed from what they moved: the networks do not meet, and
    each is a step of its own, judged against its own loss. A network updated in two runs (`W2 -= ...`,
    then `dW1 = d2 @ W2.T`, `W1 -= ...`) reads what the first computed, and stays one step. The part of
    the body before the first statement a later run needs belongs to the run before it (its loss,
    printed after its update). None when the runs are not so."""
    moved: list[set[str]] = []
    for run in runs:
        roots: set[str] = set()
        for i in run:
            found = _moved_roots(body[i], reached_by(body[i]), signatures)
            if not found:
                return None
            roots |= found
        if any(roots & other for other in moved):
            return None
        moved.append(roots)
    starts = [0]
    tainted: set[str] = set(moved[0])
    for k in range(1, len(runs)):
        previous_end, run = runs[k - 1][-1], runs[k]
        for stmt in body[starts[-1] : previous_end + 1]:  # what the earlier run's part computed from what it moved
            if reads(stmt) & tainted:
                tainted |= set(_changed(stmt)) | {name for name, _ in _bindings(stmt)}
        needed: set[str] = set()
        for i in run:
            needed |= reads(body[i])
        slice_: list[int] = []
        for i in range(run[0] - 1, previous_end, -1):
            bound = set(_changed(body[i])) | {name for name, _ in _bindings(body[i])}
            if bound & needed:
                slice_.append(i)
                needed |= reads(body[i])
        if not slice_ or not any(isinstance(n, ast.Call) for i in slice_ for n in walk(body[i])):
            return None  # no gradient of its own computed since the run before
        if needed & tainted or any(reads(body[i]) & tainted for i in run):
            return None
        tainted |= moved[k]
        starts.append(min(slice_))
    return [(start, stop, frozenset(roots)) for start, stop, roots in zip(starts, [*starts[1:], None], moved)]


def _reads_any(expression: str, names: frozenset[str]) -> bool:
    """Whether `expression` reads one of `names` (`mlp_loss(mlp, X, Y)` reads `mlp`)."""
    try:
        return bool({n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)} & names)
    except SyntaxError:
        return False


def _conditional_step(
    loop: ast.For | ast.While, body: list[ast.stmt], index: int, stmt: ast.stmt, reached_by: Any, tree: ast.Module
) -> tuple[list[ast.stmt], int, ast.stmt]:
    """The block one pass of the training step is, when the whole step sits under a condition of the loop:

        for t in range(steps):
            a = act(s); s2, r = env.step(a); buffer.append(...)      # the loop's own work
            if len(buffer) >= batch_size:                            # a warm-up, every k-th pass, ...
                batch = sample(buffer); loss, g = loss_and_grad(...)  # the pass: forward, loss, backward
                net.update(lr)                                        # the update

    The `if`'s body computes the loss before its update and the loop's statements before the `if` do not:
    the pass is the `if`'s body (its prefix the statements before the update in it), and its state is
    taken where that body starts, on a pass whose condition let it through. (body, index of the updating
    statement in it, that statement); the loop's own when the step is not one such block."""
    while isinstance(stmt, ast.If) and not stmt.orelse:
        inner = next((i for i, s in enumerate(stmt.body) if reached_by(s)), None)
        if not inner:
            break
        before = any(s.in_prefix for s in _losses(loop, tuple(body[:index]), tree))
        within = any(s.in_prefix for s in _losses(loop, tuple(stmt.body[:inner]), tree))
        if before or not within:
            break
        body, index, stmt = stmt.body, inner, stmt.body[inner]
    return body, index, stmt


def _copied_outside(outer: ast.For | ast.While, inner: TrainingStep) -> frozenset[str]:
    """`center = W_in[c].copy()` in the outer loop's pass, read by the inner loop that updates `W_in`:
    the inner pass computes with a copy its own updates never move (the next outer pass takes a new
    one), so its loss cannot tell whether those updates are used. The parameters copied so; a view
    (`center = W_in[c]`) moves with the update and is no copy."""
    if inner.loop is None:
        return frozenset()
    from backprop_doctor.static.stale import row_views  # it builds on this module

    roots = {_root(site.update.target) for site in inner.updates if site.file is None} - {None}
    views = row_views(list(outer.body))
    read = {n.id for n in walk(inner.loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    copied: set[str] = set()
    for stmt in outer.body:
        if stmt.lineno >= inner.loop.lineno or not isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            continue
        if any(name in read and name not in views for name in _targets(stmt)):
            copied |= {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in roots}
    return frozenset(copied)


_ABOUT = frozenset({"len", "print", "str", "repr", "type", "isinstance", "range", "enumerate", "list", "dict", "copy", "deepcopy", "id"})
_ABOUT_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "keys", "items", "values"})


def _computes_with(stmt: ast.stmt, names: set[str]) -> bool:
    """`hidden = inputs @ weights_0_1`, not `L = len(parameters) // 2`: `stmt` computes with the values
    of one of `names`, not only with their length, shape or keys."""
    parents = {id(child): node for node in walk(stmt) for child in ast.iter_child_nodes(node)}
    for node in walk(stmt):
        if not (isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name) and parent.func.id in _ABOUT:
            continue
        if isinstance(parent, ast.Attribute) and parent.attr in _ABOUT_ATTRIBUTES:
            continue
        return True
    return False


def _walked_roots(stmt: ast.stmt, target: str) -> set[str | None]:
    """The variables an update in `stmt` writes into: `_root` of its target, or, where the target is
    the variable of a loop over the parameters (`for param, dparam in zip([self.Wxh, self.bh], ...)`),
    the roots of what that loop hands it (`self`)."""
    root = _root(target)
    if isinstance(stmt, ast.For) and _over_parameters(stmt) and root is not None:
        names = [n.id if isinstance(n, ast.Name) else None for n in (stmt.target.elts if isinstance(stmt.target, ast.Tuple) else [stmt.target])]
        if root in names:
            iterated = stmt.iter
            if isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Name) and iterated.func.id == "zip" and len(iterated.args) == len(names):
                iterated = iterated.args[names.index(root)]
            elif len(names) != 1:
                return {root}
            found = {n.id for n in walk(iterated) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - {"zip", "range", "enumerate", "list"}
            return found or {root}
    return {root}


def _root(target: str) -> str | None:
    """The variable an update writes into: `W1` of `W1`, `params` of `params['W1']`, `self` of `self.w`."""
    found = re.match(r"[^\W\d]\w*", target)
    return found.group(0) if found else None


def _rotated(prefix: tuple[ast.stmt, ...], tail: list[ast.stmt]) -> tuple[ast.stmt, ...]:
    """The statements after a pass's update that compute what the next pass's backward starts from.

    A loop written with its forward pass at the end (the first forward before the loop):

        out = forward(X, W)              # before the loop
        for epoch in range(n):
            dW = X.T @ (out - y)         # the prefix reads `out` before it assigns it
            W -= lr * dW
            out = forward(X, W)          # <- these, in their order

    Run before the prefix, they make the pass a whole step again: the loss moves when `W` does.
    () when the prefix reads nothing the tail assigns."""
    free: set[str] = set()
    bound: set[str] = set()
    for stmt in prefix:
        free |= reads(stmt) - bound
        bound |= _stored(stmt)
    needed = free & {n for stmt in tail for n in _stored(stmt)}
    if not needed:
        return ()
    kept: list[ast.stmt] = []
    for stmt in reversed(tail):
        if _stored(stmt) & needed and not isinstance(stmt, (ast.If, ast.While, ast.Try, ast.With)):  # not what runs on some passes only
            kept.append(stmt)
            needed |= reads(stmt)
    return tuple(reversed(kept))


def _moved_or_read(updating: list[ast.stmt]) -> set[str]:
    """What update statements read and what they move, by the name holding it: `W1`, `rate`, `gW1` of
    `W1 -= rate * gW1`; `net` of `net["W" + str(l)] -= ...` and of `net = update(net, grads, lr)`."""
    found: set[str] = set()
    for stmt in updating:
        found |= reads(stmt) | _stored(stmt)
        for node in walk(stmt):
            if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
                while isinstance(node, (ast.Subscript, ast.Attribute)):
                    node = node.value
                if isinstance(node, ast.Name):
                    found.add(node.id)
    return found


def _computed_from(statements: tuple[ast.stmt, ...] | list[ast.stmt], names: set[str]) -> set[str]:
    """The names `statements` bind from `names` (the parameters an update reads), directly or through one another:
    `hid` and `out` of `hid = relu(xb @ W1 + c1)`, `out = hid @ W2`; not `xb` of `xb = X[start:start + 30]`."""
    tainted = set(names)
    bound: set[str] = set()
    for stmt in statements:
        if reads(stmt) & tainted:
            bound |= _stored(stmt)
            tainted |= _stored(stmt)
    return bound


def _stored(stmt: ast.stmt) -> set[str]:
    """Every name a statement binds, at any depth (`h, out = forward(X)`, `for l in layers: a = l(a)`)."""
    return {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _defined_functions(tree: ast.Module) -> frozenset[str]:
    """The names of the functions a file defines at its top level (`J = lambda w: ...` among them)."""
    lambdas = {t.id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Lambda) for t in n.targets if isinstance(t, ast.Name)}
    return frozenset(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))) | lambdas


def _inline_gradient(updating: list[ast.stmt], sites: list[UpdateSite], functions: frozenset[str] = frozenset()) -> bool:
    """`theta = theta - alpha / m * (X.T @ (X @ theta - y))`: a step whose gradient is computed in the
    update itself, a matrix product that reads the parameter it moves; or a call of one of the file's
    own functions (`functions`) handed that parameter, `w -= lr * gradient(w, X, y)`,
    `W1 -= lr * grads(W1, W2, X, y)[0]`."""
    for site in sites:
        try:
            step = ast.parse(site.step, mode="eval")
        except SyntaxError:
            continue
        names = {n.id for n in walk(step) if isinstance(n, ast.Name)}
        products = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) or (isinstance(n, ast.Call) and ast.unparse(n.func).endswith("dot")) for n in walk(step))
        if products and site.update.target in names:
            return True
        if site.file is None and _gradient_calls(site, functions):
            return True
    return False


def _gradient_calls(site: UpdateSite, functions: frozenset[str]) -> list[ast.Call]:
    """The calls of the file's own functions in an update's step that are handed the parameter it moves
    (`gradient(w, X, y)` of `w -= lr * gradient(w, X, y)`)."""
    try:
        step = ast.parse(site.step, mode="eval")
    except SyntaxError:
        return []
    root = _root(site.update.target)
    return [
        n for n in walk(step)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
        and any(isinstance(a, ast.Name) and a.id == root for a in n.args)
    ]  # fmt: skip


def _paired_call(call: ast.expr, statements: Sequence[ast.stmt], roots: set[str | None], functions: frozenset[str]) -> bool:
    """`loss(w, X, y)` where the pass calls `gradient(w, X, y)` (in its update or before it): a call of one of the
    file's functions handed the very arguments another of its functions is handed in `statements`, the
    parameters the step moves (`roots`) among them: the loss the user wrote beside that gradient function."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in functions and call.args and not call.keywords):
        return False
    arguments = [ast.unparse(a) for a in call.args]
    if not any(isinstance(a, ast.Name) and a.id in roots for a in call.args):
        return False
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions and n.func.id != call.func.id
        and not n.keywords and [ast.unparse(a) for a in n.args] == arguments
        for stmt in statements for n in walk(stmt)
    )  # fmt: skip


def _paired(site: LossSite, statements: Sequence[ast.stmt], reached: Sequence[UpdateSite], functions: frozenset[str]) -> LossSite:
    """`loss(w, X, y)` printed now and then beside `w -= lr * gradient(w, X, y)`: the file's loss function
    handed the very arguments its gradient function is, the pair the user wrote as one. Its gradient is the
    update's at the loss's own scale (a missing `2` or `/ len(y)` is wrong), not at a scale of the program's
    choosing, as a loss only reported would allow."""
    if site.implied or site.accumulated or site.summed:
        return site
    try:
        call = ast.parse(site.expression, mode="eval").body
    except SyntaxError:
        return site
    roots = {_root(s.update.target) for s in reached if s.file is None} - {None}
    return dataclasses.replace(site, paired=True) if _paired_call(call, statements, roots, functions) else site


def _over_models(loop: ast.stmt) -> bool:
    """`for key in weight_init_types: grads = networks[key].gradient(x, t); optimizer.update(networks[key].params, grads)`:
    each pass trains another network, picked by the loop variable; no pass is a step of one."""
    if not isinstance(loop, ast.For):
        return False
    names = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}
    return any(
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Subscript) and node.attr not in _ARRAY_ATTRIBUTES
        and isinstance(node.value.slice, ast.Name) and node.value.slice.id in names
        for stmt in loop.body for node in walk(stmt)
    )  # fmt: skip


# what an array entry of a parameter dict is asked for (`params[k].copy()`), unlike a model's `networks[key].gradient`
_ARRAY_ATTRIBUTES = frozenset({"copy", "T", "shape", "size", "ndim", "dtype", "reshape", "ravel", "flatten", "astype", "sum", "mean", "dot", "fill"})


def _each_updates_itself(loop: ast.For | ast.While) -> bool:
    """`for layer in layers: layer.update(lr)`: a loop whose body only calls a method of (or a
    function on) its own loop variable; `for layer in reversed(net): g = layer.back(g, lr)` too, a
    backward that threads the upstream gradient through the layers (each updating itself)."""
    if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name)):
        return False
    me = loop.target.id
    for stmt in loop.body:
        call = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if not isinstance(call, ast.Call):
            return False
        if isinstance(stmt, ast.Assign) and not _threaded(stmt, call, me):
            return False
        func = call.func
        on_me = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == me
        given_me = bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == me
        if not (on_me or given_me):
            return False
    return True


def _threaded(stmt: ast.Assign, call: ast.Call, me: str) -> bool:
    """`g = layer.back(g, lr)`: a call of a method of the loop variable whose one target it also
    reads as an argument (the gradient handed from layer to layer)."""
    if not (len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return False
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == me):
        return False
    threaded = stmt.targets[0].id
    return any(isinstance(a, ast.Name) and a.id == threaded for a in (*call.args, *(k.value for k in call.keywords)))


_PARAMETER_WORDS = re.compile(r"(?i)param|weight|grad|layer|bias|nabla")  # `zip(data, labels)` is not


def _over_parameters(loop: ast.For | ast.While) -> bool:
    """`for p, g in zip(params, grads)`, `for key in params`, `for layer in self.layers`,
    `for key in ("W1", "b1")`: a loop that visits parameters, not training iterations."""
    if not isinstance(loop, ast.For):
        return False
    if isinstance(loop.iter, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in loop.iter.elts):
        return True
    call = loop.iter
    if zipped_descent(loop) is not None:
        return True  # `for p, g in zip(model.offsets, gb): p -= step * g`, whatever the containers are called
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "zip":
        # `zip([Wxh, Whh], [dWxh, dWhh], [mWxh, mWhh])` walks parameters; `zip(data, labels)` walks samples
        return any(isinstance(a, (ast.List, ast.Tuple)) for a in call.args) or any(_PARAMETER_WORDS.search(i) for i in _identifiers(call))
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("keys", "items", "values"):
        return True  # `for k, v in p.items()`: a dictionary's entries, not samples
    return any(_PARAMETER_WORDS.search(i) for i in _identifiers(loop.iter))


def _over_elements(loop: ast.For | ast.While, sites: list[UpdateSite]) -> bool:
    """`for j in range(n_hidden): w2[j] -= lr * dy * h[j]`: a loop whose every update moves the
    entry its own variable picks walks the parameters' elements, inside one training step."""
    if not isinstance(loop, ast.For) or not sites:
        return False
    mine = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}

    def picked(target: str) -> bool:
        try:
            node = ast.parse(target, mode="eval").body
        except SyntaxError:
            return False
        slices = [n.slice for n in walk(node) if isinstance(n, ast.Subscript)]
        return any(isinstance(n, ast.Name) and n.id in mine for s in slices for n in walk(s))

    return all(site.file is None and picked(site.update.target) for site in sites)


def first_update_line(step: TrainingStep) -> int:
    """The line of the step's first update statement in its own file."""
    return min((site.line for site in step.updates if site.file is None), default=step.update_line)


def update_guard(step: TrainingStep) -> ast.If | None:
    """The innermost `if` of the training loop that holds the step's first update (`if step % k == 0:`,
    `if layer.trainable:`): a pass may run none of the update. None when no condition holds it."""
    loop = step.loop if isinstance(step.loop, (ast.For, ast.While)) else None
    first = first_update_line(step)
    called = loop is not None and not loop.lineno <= first <= (loop.end_lineno or loop.lineno)
    if called:
        first = step.update_line  # the update is made in a function the pass calls (`net.apply(lr)`): the statement that calls it
    found = None
    for node in ast.walk(loop) if loop is not None else ():
        if not isinstance(node, ast.If) or not node.lineno <= first <= (node.end_lineno or node.lineno):
            continue
        if (node.lineno < first or called and node.body and node.body[0].lineno > node.lineno) and (found is None or node.lineno > found.lineno):
            found = node
    return found


def pass_inputs(step: TrainingStep) -> frozenset[str]:
    """Names the step's prefix reads and never binds itself (`start` of `idx = order[start:start + bs]`,
    `order`, `params`, `acc`): what one pass takes from the loop and from the passes before it. A pass
    that runs none of a guarded update (`if step % k == 0:`) hands the next its own bindings; the loop
    rebinds the others between passes (`replay.capture`: a window of passes that accumulate)."""
    bound = {n.id for s in step.prefix for n in walk(s) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return frozenset(set().union(*(reads(s) for s in step.prefix)) - bound)


# `total`, `total_loss`, `loss_total`, `tot`: the sum of the losses a call returns beside it
_TOTAL = re.compile(r"(?i)(?:\w*_)?total(?:_\w*)?|tot")


def _losses(
    loop: ast.For | ast.While,
    prefix: tuple[ast.stmt, ...],
    tree: ast.AST | None = None,
    updated: frozenset[str] = frozenset(),
    applied: frozenset[str] = frozenset(),
    among: frozenset[str] | None = None,
) -> list[LossSite]:
    """Scalars named like a loss that one pass computes: in the prefix first, then anywhere in the body.
    With the file's `tree`, a loss the step's own function returns and the loop discards comes after the
    named ones and before any the loop only prints (`_returned_losses`). `updated`: the variables the
    pass's updates write into, parameters, never its loss however they are named (an embedding table
    `E` and its update `E -= lr * dE`); `applied`: the names the updates read their gradients from,
    never a loss the step's function returns unnamed (`_returned_losses`); `among`: the names holding one of
    several networks the loop trains apart (`_independent`), the printed losses that read them only."""
    conditional = {id(n) for s in prefix for c in walk(s) if isinstance(c, (ast.If, ast.For, ast.While)) for n in walk(c) if n is not c}
    in_prefix = {id(n) for s in prefix for n in walk(s)} - conditional  # `if epoch % 100 == 0: c = cost(...)` runs on some passes only
    sites: list[LossSite] = []
    signals = _error_signals(loop)
    for node in walk(loop):
        if node is loop or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Assign) and _held_out(node.value):
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if _emptied_then_filled(node, loop):
                continue  # `loss_values = np.zeros(n)` then `loss_values[i] = ...`: a tally's start, not the loss
            if ((LOSS_NAME.fullmatch(name) and not _NOT_LOSS.search(name) and not _error_signal(node.value) and not _unreduced_letter(name, node.value)
                 and not _backpropagated(node.value, signals))
                    or _loss_call(node.value)) and not _derivative_call(node.value):
                sites.append(LossSite(name, ast.unparse(node.value), node.lineno, id(node) in in_prefix))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            named = [  # `loss, grads = ...`, `grads, cost = propagate(...)`
                (position, element.id) for position, element in enumerate(node.targets[0].elts)
                if isinstance(element, ast.Name) and LOSS_NAME.fullmatch(element.id) and not _NOT_LOSS.search(element.id)
            ]  # fmt: skip
            # `total, ce, mse, grads = loss_fn(...)`: the parts come with their sum, which the gradients follow
            total = [(p, e.id) for p, e in enumerate(node.targets[0].elts) if isinstance(e, ast.Name) and _TOTAL.fullmatch(e.id)] if named else []
            for position, name in (total or named)[:1]:
                sites.append(LossSite(name, f"({ast.unparse(node.value)})[{position}]", node.lineno, id(node) in in_prefix))
    if any(_absolute_metric(s.name, loop) for s in sites) and _error_implied(loop, prefix, tree):
        sites = [s for s in sites if not _absolute_metric(s.name, loop)]  # `total_error += np.abs(err[0])`: reported, not trained
    sites.sort(key=lambda s: (not s.in_prefix, _loss_rank(s.name), -s.line if s.in_prefix else s.line))
    if not any(s.in_prefix for s in sites):
        sites[:0] = _unnamed_losses(prefix, in_prefix)
    if tree is not None and not any(s.in_prefix for s in sites):
        sites += _returned_losses(tree, prefix, applied)
    if tree is not None and not any(s.in_prefix for s in sites):
        sites += _totalled_returned_losses(tree, prefix)
    if not any(s.in_prefix or s.totalled is not None for s in sites):
        # `total += 0.5 * err ** 2` in a loop of the pass over its samples; not `total_error += np.abs(err)`, only printed
        totalled = [s for s in _totalled_losses(prefix) if not (_absolute_metric(s.name, loop) and _error_implied(loop, prefix, tree))]
        spans = [(s.lineno, s.end_lineno or s.lineno) for s in prefix if isinstance(s, (ast.For, ast.While)) for t in totalled if s.lineno <= t.line <= (s.end_lineno or s.lineno)]
        # `loss = 0.5 * np.sum(err ** 2)` then `total += loss` in that loop: one sample's loss, a term of the total
        sites = [s for s in sites if s.in_prefix or not any(first <= s.line <= last for first, last in spans)] + totalled
    named = {s.expression for s in sites}
    printed = [  # `print("Loss", calculate_loss(model, X, y))`: a loss the loop only reports
        LossSite(ast.unparse(node.func), ast.unparse(node), node.lineno, False)
        for node in walk(loop)
        if isinstance(node, ast.Call) and _loss_call(node) and ast.unparse(node) not in named and not _held_out(node)
        and not _tallied_per_sample(node, loop, updated)
    ]
    printed += [  # `print(it, -np.log(P[np.arange(n), y]).mean())`: a loss the loop prints as it computes it, unnamed
        LossSite(ast.unparse(shown), ast.unparse(shown), node.lineno, False)
        for node in walk(loop)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        for shown in _printed_values(node)
        if _loss_shaped(shown) and _reduced(shown) and not _held_out(shown) and ast.unparse(shown) not in named
    ]
    differences = _differences(prefix)
    accumulated = [  # `err += np.power(t[count] - a2, 2)`, `loss -= np.log(p[y])`: this pass's term of a sum the loop reports
        LossSite(
            stmt.target.id, ast.unparse(stmt.value) if isinstance(stmt.op, ast.Add) else f"-({ast.unparse(stmt.value)})", stmt.lineno, False,
            accumulated=True,
        )
        for stmt in prefix
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub)) and isinstance(stmt.target, ast.Name)
        and ((LOSS_NAME.fullmatch(stmt.target.id) and not _NOT_LOSS.search(stmt.target.id) and _loss_rank(stmt.target.id) < 2)
             or _loss_shaped(stmt.value, differences))
        and stmt.target.id not in {s.name for s in sites}
    ]  # fmt: skip
    printed += [  # `print("step", i, "loss", contrastive(x1, x2, s))`: a value the print labels as the loss
        LossSite(ast.unparse(shown), ast.unparse(shown), node.lineno, False)
        for node in walk(loop)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        for shown in _labelled_losses(node)
        if not _held_out(shown) and ast.unparse(shown) not in named and all(ast.unparse(shown) != p.expression for p in printed)
    ]
    if among is not None:
        printed = [site for site in printed if _reads_any(site.expression, among)]
    sites = [f for site in sites if (f := _read_fresh(site, loop, prefix)) is not None]
    printed = [f for site in printed[:1] if (f := _read_fresh(site, loop, prefix)) is not None]
    unbound = [] if any(s.in_prefix for s in sites) else [s for s in _loss_object_calls(prefix, in_prefix) if s.expression not in named]
    later = [] if sites or accumulated or unbound else _summed_after(loop, prefix, updated)
    found = sites + unbound[:1] + accumulated[:1] + later[:1] + printed + _implied_losses(prefix, tree) + _error_losses(loop, prefix, tree)
    return [s for s in found if s.name not in updated] or _held_out_on_training(loop, prefix)


_BLANK = frozenset({"zeros", "zeros_like", "empty", "empty_like"})


def _tallied_per_sample(call: ast.Call, loop: ast.For | ast.While, updated: frozenset[str]) -> bool:
    """`for i in range(len(X)): loss_values[i] = np.sum(loss(forward(X[i], model), Y[i]))` in a loop of
    the pass that updates nothing: one sample's loss, stored entry by entry in a tally the program
    reports; read on its own it is the loss of the last sample, not the loss the update follows."""
    for inner in walk(loop):
        if inner is loop or not isinstance(inner, (ast.For, ast.While)) or not any(n is call for n in walk(inner)):
            continue
        writes = {
            t.id for n in walk(inner) if isinstance(n, (ast.Assign, ast.AugAssign))
            for target in (n.targets if isinstance(n, ast.Assign) else [n.target]) for t in walk(target) if isinstance(t, ast.Name)
        }  # fmt: skip
        if any(isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Subscript) and isinstance(n.op, (ast.Add, ast.Sub)) for n in walk(inner)):
            continue  # `W[i] -= lr * g[i]`: an update written entry by entry
        if writes & updated:
            continue
        for stmt in walk(inner):
            stored = (
                isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Subscript) for t in stmt.targets) and any(n is call for n in walk(stmt.value))
                or isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) and stmt.func.attr == "append" and any(n is call for a in stmt.args for n in walk(a))
            )  # fmt: skip
            if stored:
                return True
    return False


def _emptied_then_filled(assign: ast.Assign, loop: ast.For | ast.While) -> bool:
    """`loss_values = np.zeros(n)` (or `= []`) that the loop then fills entry by entry (`loss_values[i] = ...`,
    `loss_values.append(...)`): a blank array made to hold the per-sample losses, constant as assigned."""
    value = assign.value
    blank = (
        isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] in _BLANK
        or isinstance(value, ast.List) and not value.elts
    )  # fmt: skip
    name = assign.targets[0].id if isinstance(assign.targets[0], ast.Name) else None
    if not blank or name is None:
        return False
    for node in walk(loop):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name for t in targets):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append":
            if isinstance(node.func.value, ast.Name) and node.func.value.id == name:
                return True
    return False


_ABSOLUTE = frozenset({"abs", "absolute", "fabs"})
_REDUCING = frozenset({"mean", "sum", "average", "float", "round", "around"})


def _absolute_metric(name: str, loop: ast.For | ast.While) -> bool:
    """Whether `name` is a running total of absolute errors the loop only prints (`total_error = 0`, then
    `total_error += np.abs(err[0])` at each time step, `print("error", total_error)`), and the loop takes no
    sign anywhere (`np.sign(err)` would be the derivative of that error): a tally the script reports
    while its backward pass starts from the error itself, the gradient of a squared error. A loss the
    pass computes by assigning it (`mae = np.mean(np.abs(out - y))`) is the program's loss, however its
    gradient is written."""
    values = [
        node.value for node in walk(loop)
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name) and node.target.id == name
    ]  # fmt: skip
    assigned = [
        node.value for node in walk(loop)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]  # fmt: skip
    printed = {id(n) for call in walk(loop) if isinstance(call, ast.Call) and ast.unparse(call.func) == "print" for n in walk(call)}
    read = [n for n in walk(loop) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    if not all(_zero(v) for v in assigned) or any(id(n) not in printed for n in read):
        return False

    def absolute(value: ast.expr) -> bool:
        while isinstance(value, ast.Call) and len(value.args) >= 1 and ast.unparse(value.func).rpartition(".")[2] in _REDUCING:
            value = value.args[0]
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _REDUCING and not value.args:
            value = value.func.value  # `np.abs(err).mean()`
        return isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] in _ABSOLUTE and len(value.args) == 1

    signed = any(isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "sign" for n in walk(loop))
    return bool(values) and all(absolute(v) for v in values) and not signed


def _error_implied(loop: ast.For | ast.While, prefix: tuple[ast.stmt, ...], tree: ast.AST | None) -> bool:
    """Whether the pass's output error implies a loss (`_error_losses`), in the pass or in a loop of its own."""
    inner = (s for s in prefix if isinstance(s, (ast.For, ast.While)))
    return bool(_error_losses(loop, prefix, tree)) or any(_error_losses(s, tuple(s.body)) for s in inner)


_TRAINING_PART = re.compile(r"(?i)(?:_?(?:train(?:ing)?|tr))$|^(?:train(?:ing)?|tr)_")  # `X_train`, `Xtr`, `train_X`
_HELD_OUT_PART = re.compile(r"(?i)(?:_?(?:test|val(?:id(?:ation)?)?|va|dev))$|^(?:test|val(?:id(?:ation)?)?|dev)_|(?<=^[xy])v$")  # `X_val`, `yva`, `test_X`, `Xv`


def _stem(name: str, part: re.Pattern[str]) -> str | None:
    """`X` of `X_train` (with `_TRAINING_PART`) or of `X_val` (with `_HELD_OUT_PART`); None when `name` has no such part."""
    stem = part.sub("", name, count=1)
    return stem if stem and stem != name else None


def _held_out_on_training(loop: ast.For | ast.While, prefix: tuple[ast.stmt, ...]) -> list[LossSite]:
    """`val_loss = bce(forward(params, X_val)[2], y_val)` in a loop whose only loss is on held-out data (an early
    stop), while the pass's gradient is computed on whole training arrays (`g = grads(params, X_train, y_train)`):
    the same loss function on the arrays the gradient reads, each held-out name put back by the training name of
    its stem (`X_val` -> `X_train`). Nothing when a held-out name has no such twin among the arrays the pass
    hands its calls whole (a minibatch cut from them: a loss over all the data is not the one its update follows)."""
    handed = {  # whole arrays a call of the pass is handed (`grads(params, X_train, y_train)`), not `len(X_train)`, `X_train[idx]`
        a.id for stmt in prefix for n in walk(stmt) if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and n.func.id in _ABOUT)
        for a in n.args if isinstance(a, ast.Name)
    }  # fmt: skip
    training = {stem: name for name in handed if (stem := _stem(name, _TRAINING_PART)) is not None}
    read = {n.id for n in walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    training.update({name: name for name in read - set(training) if _stem(name, _TRAINING_PART) is None and not _HELD_OUT.fullmatch(name)})  # `X`, `y` read whole beside `Xv`, `yv`
    for node in walk(loop):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        name, value = node.targets[0].id, node.value
        if not (_held_out(value) and (_loss_call(value) or (LOSS_NAME.fullmatch(name) and not _NOT_LOSS.search(name) and _reduced(value)))):
            continue
        held = {n.id for n in walk(value) if isinstance(n, ast.Name) and _HELD_OUT.fullmatch(n.id)}
        twins = {h: training.get(_stem(h, _HELD_OUT_PART) or "") for h in held}
        if not all(twins.values()):
            continue
        moved = ast.parse(ast.unparse(value), mode="eval").body
        for n in walk(moved):
            if isinstance(n, ast.Name) and n.id in twins:
                n.id = twins[n.id]  # type: ignore[assignment]
        function = value.func if isinstance(value, ast.Call) else None
        label = ast.unparse(function) if function is not None and _loss_call(value) else name
        site = _read_fresh(LossSite(label, ast.unparse(moved), node.lineno, False), loop, prefix)
        return [site] if site is not None else []
    return []


def _unreduced_letter(name: str, value: ast.expr) -> bool:
    """`EI = len(ctx) * y_pred`: a name that says loss by its first capital alone (`E`, `J`, `L` and
    more), bound to a value that is no loss: nothing reduced over the samples, no square, log or
    absolute value, no loss function called (the error a word2vec tutorial sums over its context), nor
    other losses added up (`E_total = E_o1 + E_o2`)."""
    if not re.fullmatch(r"[JEL](?:_?\w+)?", name) or re.search(r"(?i)loss|cost|err|mse|nll|obj", name):
        return False
    parts = {n.id for n in walk(value) if isinstance(n, ast.Name) and n.id != name}
    if any(LOSS_NAME.fullmatch(p) and not _NOT_LOSS.search(p) for p in parts):
        return False  # a total of loss terms the pass names (Mazur's `E_total = E_o1 + E_o2`)
    return not (_reduced(value) or _loss_shaped(value) or _loss_call(value))


def _summed_after(loop: ast.For | ast.While, prefix: tuple[ast.stmt, ...], updated: frozenset[str] = frozenset()) -> list[LossSite]:
    """`loss += -np.sum(np.log(y_pred[ctx]))` after the pass's updates: this pass's term of the sum the
    loop reports, computed from what the pass computed before its updates (nothing the updates write
    is read), so it is read right after them: the loss of the parameters the pass started from. Not an
    update itself (`E -= lr * dE`: `updated` holds `E`)."""
    ends = max((s.end_lineno or s.lineno for s in prefix), default=loop.lineno)
    written: set[str] = set()
    # what the update's own call returns (`l, acc = train(im, label)`, the pass's forward, backward and
    # updates in one function): its loss was computed before the updates, and is read by calling it
    returned: dict[str, str] = {}
    found = []
    after = [s for s in loop.body if s.lineno > ends]
    for stmt in after:
        if (
            isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub)) and isinstance(stmt.target, ast.Name)
            and LOSS_NAME.fullmatch(stmt.target.id) and not _NOT_LOSS.search(stmt.target.id) and _loss_rank(stmt.target.id) < 2
            and stmt.target.id not in updated
        ):  # fmt: skip
            term = stmt.value
            if isinstance(term, ast.Name) and term.id in returned:
                term = ast.parse(returned[term.id], mode="eval").body
            elif {n.id for n in walk(term) if isinstance(n, ast.Name)} & written:
                term = None
            if term is not None:
                expression = ast.unparse(term) if isinstance(stmt.op, ast.Add) else f"-({ast.unparse(term)})"
                found.append(LossSite(stmt.target.id, expression, stmt.lineno, False, summed=True))
        elif (appended := _appended_loss(stmt)) is not None and appended[0] not in updated:
            # `losses.append(net.train(x, t, lr))`, `history.append(np.mean((y - out) ** 2))`: the pass's own term
            # of the list the loop reports, never the mean over the list (that spans many passes)
            listed, term = appended
            if isinstance(term, ast.Name) and term.id in returned:
                term = ast.parse(returned[term.id], mode="eval").body
            elif {n.id for n in walk(term) if isinstance(n, ast.Name)} & written:
                term = None
            if term is not None:
                found.append(LossSite(f"{listed}[-1]", ast.unparse(term), stmt.lineno, False, summed=True))
        if stmt is after[0] and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call):
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                returned[target.id] = ast.unparse(stmt.value)
            elif isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
                returned |= {e.id: f"({ast.unparse(stmt.value)})[{k}]" for k, e in enumerate(target.elts)}  # type: ignore[attr-defined]
        for node in walk(stmt):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []:
                for root in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                    while isinstance(root, (ast.Attribute, ast.Subscript, ast.Starred)):
                        root = root.value
                    if isinstance(root, ast.Name):
                        written.add(root.id)
    return found


def _loss_object_calls(prefix: tuple[ast.stmt, ...], in_prefix: set[int]) -> list[LossSite]:
    """A loss object's value the pass uses without naming it a loss: `total += crit.forward(pred, yb)`,
    `losses.append(crit(out, y))`, a bare `crit.forward(out, y)` (the loss read from `crit.loss` later), the
    object's forward (or the object itself) called on two arguments before the pass calls its backward
    with none (`model.backward(crit.backward())`): that call, evaluated again after the prefix, gives the
    pass's loss (the forward pass's output and the batch are still bound there)."""
    calls = sorted(
        (n for stmt in prefix for n in walk(stmt) if isinstance(n, ast.Call) and id(n) in in_prefix),
        key=lambda c: (c.lineno, c.col_offset),
    )
    found: list[LossSite] = []
    for k, call in enumerate(calls):
        func = call.func
        owner = func.value if isinstance(func, ast.Attribute) and func.attr in ("forward", "loss", "__call__") else func
        if len(call.args) != 2 or call.keywords or not isinstance(owner, (ast.Name, ast.Attribute)):
            continue
        spelled = ast.unparse(owner)
        if any(
            isinstance(c.func, ast.Attribute) and c.func.attr == "backward" and not c.args and not c.keywords and ast.unparse(c.func.value) == spelled
            for c in calls[k + 1 :]
        ):  # fmt: skip
            found.append(LossSite(ast.unparse(call), ast.unparse(call), call.lineno, False))
    return found


def _over_many_passes(site: LossSite, reached_by: Callable[[ast.stmt], list[UpdateSite]]) -> bool:
    """`np.mean([train_step(params, xb, tb, lr) for xb, tb in batches])`: a loss made of the values a
    comprehension collects from a call that updates the parameters, one update per element: the mean of
    many passes' losses, each at its own parameters, whose gradient no one update follows."""
    try:
        expression = ast.parse(site.expression, mode="eval")
    except SyntaxError:
        return False
    return any(
        reached_by(ast.Expr(value=node.elt if not isinstance(node, ast.DictComp) else node.value, lineno=0, end_lineno=0))
        for node in walk(expression)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp))
    )


def _updates_per_element(stmt: ast.stmt, reached_by: Callable[[ast.stmt], list[UpdateSite]]) -> bool:
    """`losses = [train_step(params, xb, tb, lr) for xb, tb in batches]`: a statement whose updates are all made
    by calls in a comprehension's element, one step per element."""
    elements = [
        ast.Expr(value=n.value if isinstance(n, ast.DictComp) else n.elt, lineno=0, end_lineno=0)
        for n in walk(stmt) if isinstance(n, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp))
    ]  # fmt: skip
    made = {id(site) for element in elements for site in reached_by(element)}
    return bool(made) and all(id(site) in made for site in reached_by(stmt))


_LOSS_LIST = re.compile(r"(?i)loss|cost|err|mse|nll|objective|hist|^[JEL](?:_|s$|$)")
_NOT_LOSS_LIST = re.compile(r"(?i)acc|grad|delta|val|test|dev|norm|rate|lr|step|time|epoch|weight|param|pred")


def _appended_loss(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """(`losses`, `loss`) of `losses.append(loss)`: a list the loop appends one term a pass to, named for
    losses (`losses`, `history`, `cost_log`) or handed a value shaped like a loss (`np.mean((y - out) ** 2)`)."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute)):
        return None
    call = stmt.value
    if call.func.attr != "append" or len(call.args) != 1 or call.keywords or not isinstance(call.func.value, ast.Name):
        return None
    listed, term = call.func.value.id, call.args[0]
    if isinstance(term, (ast.Constant, ast.Tuple, ast.List, ast.Dict)) or _held_out(term) or _NOT_LOSS_LIST.search(listed):
        return None
    if _LOSS_LIST.search(listed) or _loss_shaped(term) or (_reduced(term) and any(_loss_shaped(n) for n in walk(term) if isinstance(n, ast.expr) and n is not term)):
        return listed, term
    return None


def _unnamed_losses(prefix: tuple[ast.stmt, ...], in_prefix: set[int]) -> list[LossSite]:
    """`sunshi = np.mean((a3 - y) ** 2)`, `perte = -np.mean(np.log(p[np.arange(n), y]))`: a number the pass
    computes before its update as a loss is written, a mean or sum of a squared difference or of a log,
    under a name that is no loss word of ours (pinyin, French, a letter). Only where the pass computes
    no loss named as one; the last such statement, as the last named loss is read first."""
    differences = _differences(prefix)
    found = [
        LossSite(stmt.targets[0].id, ast.unparse(stmt.value), stmt.lineno, True)
        for stmt in prefix
        if id(stmt) in in_prefix and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        and not _NOT_LOSS.search(stmt.targets[0].id) and not _ADJOINT.fullmatch(stmt.targets[0].id) and _loss_rank(stmt.targets[0].id) < 2
        and _loss_shaped(stmt.value, differences) and _reduced(stmt.value) and _scalar(stmt.value)
        and not _held_out(stmt.value) and not _derivative_call(stmt.value)
    ]  # fmt: skip
    return found[-1:]


def _scalar(value: ast.expr) -> bool:
    """Some reduction of the value runs over every axis (`np.mean(...)`, `(...).sum()`, the mean of a
    `np.sum(..., axis=1)`): one number, not a row of them (`np.sum(err ** 2, axis=0)`)."""
    for node in walk(value):
        if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))):
            continue
        function = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        if function not in ("mean", "sum", "average"):
            continue
        method = isinstance(node.func, ast.Attribute) and not (isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy"))
        if not any(k.arg == "axis" for k in node.keywords) and len(node.args) <= (0 if method else 1):
            return True
    return False


def _read_fresh(site: LossSite, loop: ast.For | ast.While, prefix: tuple[ast.stmt, ...]) -> LossSite | None:
    """`site` as a pass computes it: one outside the prefix (`if epoch % 40 == 0: out, _ = forward(params,
    X); print(loss_fn(out, y))`) that reads a name the loop binds only after the prefix is written with
    that binding's value in place of the name (`loss_fn((forward(params, X))[0], y)`), since the replay
    evaluates it right after the prefix, where the name still holds an older pass's value. None when
    such a name cannot be written so (bound twice, or by a statement that is no plain assignment)."""
    if site.in_prefix:
        return site
    # a name the prefix reads is the state a pass starts from (the parameters an update rebinds), not a leftover
    made = {n for stmt in prefix for n in (*_changed(stmt), *reads(stmt))}
    inside = {id(q) for p in prefix for q in walk(p)}
    later: dict[str, list[ast.stmt]] = {}
    for stmt in (n for n in walk(loop) if isinstance(n, ast.stmt) and n is not loop):
        if stmt.lineno < site.line and id(stmt) not in inside:
            for name in dict.fromkeys(_changed(stmt)):
                if name in reads(stmt):
                    made.add(name)  # `theta = theta - alpha * g`, `total += loss`: the state a pass carries, an update's
                later.setdefault(name, []).append(stmt)
    try:
        expression = ast.parse(site.expression, mode="eval").body
    except SyntaxError:
        return site
    for _ in range(3):
        stale = [n for n in walk(expression) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in later and n.id not in made]
        if not stale:
            expression = _PassOwn(prefix).visit(expression)
            return site if ast.unparse(expression) == site.expression else dataclasses.replace(site, expression=ast.unparse(expression))
        for name in {n.id for n in stale}:
            binding = later[name]
            value = _bound_value(binding[0], name) if len(binding) == 1 else None
            if value is None:
                return None
            expression = _Substituted({name: value}).visit(expression)
    return None


class _PassOwn(ast.NodeTransformer):
    """A forward call of the reported loss (`forward(params, X)`) that the prefix makes with the same
    arguments and more (`logits, cache = forward(params, X, drop_rng)`, dropout on), replaced by what the
    prefix bound (`(logits, cache)`): the loss of the pass's own forward, the one its gradients are of,
    not of a forward in another mode."""

    def __init__(self, prefix: tuple[ast.stmt, ...]) -> None:
        self.made = [
            (stmt.value, stmt.targets[0]) for stmt in prefix
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)
            and (isinstance(stmt.targets[0], ast.Name) or (isinstance(stmt.targets[0], ast.Tuple) and all(isinstance(e, ast.Name) for e in stmt.targets[0].elts)))
        ]  # fmt: skip

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        for call, target in self.made:
            mine, theirs = [ast.unparse(a) for a in node.args], [ast.unparse(a) for a in call.args]
            keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
            if (
                ast.unparse(node.func) == ast.unparse(call.func) and mine != theirs and theirs[: len(mine)] == mine
                and all({k.arg: ast.unparse(k.value) for k in call.keywords}.get(k) == v for k, v in keywords.items())
            ):  # fmt: skip
                value = copy.deepcopy(target)
                for n in walk(value):
                    if isinstance(n, ast.Name):
                        n.ctx = ast.Load()
                value.ctx = ast.Load()
                return value
        return node


def _bound_value(stmt: ast.stmt, name: str) -> ast.expr | None:
    """The value `stmt` binds `name` to: `v` of `name = v`, `(v)[i]` of `a, name = v`."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target = stmt.targets[0]
    if isinstance(target, ast.Name) and target.id == name:
        return stmt.value
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        position = next((i for i, e in enumerate(target.elts) if e.id == name), None)  # type: ignore[attr-defined]
        if position is not None:
            return ast.Subscript(value=stmt.value, slice=ast.Constant(position), ctx=ast.Load())
    return None


# a test or validation set's name: `Xtest`, `Ytest_ind`, `pYtest`, `X_val`, `yval`, `x_dev`
_HELD_OUT = re.compile(r"(?i).*test.*|(.*_|[xyt])va(l|lid|lidation)?(_.*)?|(.*_)?dev(_.*)?|[xy]v")  # `Xva`, `yva`, `Xv`, `yv`: validation, in two or three letters


def _held_out(value: ast.expr) -> bool:
    """`l = cost(pY, Ytest_ind)`: a loss on held-out data, which no update of the step follows (the
    step descends its batch's loss; a program that prints only its test cost computes no loss of it)."""
    return any(isinstance(n, ast.Name) and _HELD_OUT.fullmatch(n.id) for n in walk(value))


_LOSS_CALL = re.compile(r"(?i)(?:\w*_)?(?:loss|cost|error|mse|sse|rmse|bce|objective|risk|cross_?entropy|x_?ent|likelihood|nll)\w*")  # `xent`: cross-entropy
_NOT_LOSS_CALL = re.compile(r"(?i)rate|acc|score|predict|grad|deriv|prime|backward")
_CAMEL_LOSS_CALL = re.compile(r"[a-z]+(?:Loss|Cost|Error|Objective|Risk|CrossEntropy|Likelihood)\w*")  # `computeCost`, `costFunction` is the other


def _loss_call(value: ast.expr) -> bool:
    """`c = cost(T, output)`, `J = compute_cost(A2, Y)`: a value returned by a function named as a loss."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return bool(_LOSS_CALL.fullmatch(name) or _CAMEL_LOSS_CALL.fullmatch(name)) and not _NOT_LOSS_CALL.search(name)


def _loss_shaped(value: ast.expr, differences: frozenset[str] = frozenset()) -> bool:
    """`0.5 * (y - t) ** 2`, `np.square(out - target)`, `-np.log(p[y])`: what a sum of losses adds,
    whatever the sum is called (`total += ...`); with `differences`, the names the pass binds to a
    difference, also `err ** 2` after `err = r - P[u] @ Q[i]`."""
    for node in walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
            if isinstance(node.left, ast.BinOp) and isinstance(node.left.op, ast.Sub) or isinstance(node.left, ast.Name) and node.left.id in differences:
                return True
        if isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] in ("square", "log") and node.args:
            inner = node.args[0]
            if ast.unparse(node.func).endswith("log") or (isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Sub)):
                return True
    return False


def _differences(prefix: tuple[ast.stmt, ...]) -> frozenset[str]:
    """Names the statements bind to a difference: `err` of `err = r - P[u] @ Q[i]`."""
    return frozenset(
        stmt.targets[0].id for stmt in prefix
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Sub)
    )  # fmt: skip


def _printed_values(call: ast.Call) -> list[ast.expr]:
    """What a `print(...)` shows: its arguments, and the values an f-string among them formats."""
    values: list[ast.expr] = []
    for argument in call.args:
        if isinstance(argument, ast.JoinedStr):
            values += [part.value for part in argument.values if isinstance(part, ast.FormattedValue)]
        elif not isinstance(argument, ast.Constant):
            values.append(argument)
    return values


_LOSS_LABEL = re.compile(r"(?i)\b(loss|cost|損失|损失|손실|ロス|误差|誤差|오차)\b\W*$|(loss|cost)\s*[:=]?\s*$")


def _returned_losses(tree: ast.AST, prefix: tuple[ast.stmt, ...], applied: frozenset[str] = frozenset()) -> list[LossSite]:
    """`_, grads = surrogate(s, actions, adv)` where `surrogate` ends `return loss, [dW1, db1, ...]`:
    the loss the step's own function computes beside its gradients, which the loop throws away (and
    may print something else, an evaluation on other data). The function may return more beside them,
    in any order (`return loss, P, (dW1, db1)`, `return grads, cost, acc`): the loss is the one value
    named like a loss, else the one it computes as a single number (`_returned_loss`), when the pass
    binds it to no name its updates read as a gradient (`dbias = 2 * residual.mean()` of `dcoef, dbias =
    grads(X, y)`), and only when those names are known (`applied`). Read from the
    name the pass binds it to when nothing else binds that name (`_, _, grads = ...` binds `_` twice,
    the second time to another value), else by calling the function again."""
    functions = {n.name: n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found: list[LossSite] = []
    for stmt in prefix:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Call)):
            continue
        callee = stmt.value.func
        node = functions.get(callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else "")
        elements = stmt.targets[0].elts
        starred = [i for i, e in enumerate(elements) if isinstance(e, ast.Starred)]
        # a return of one value is another mode's (`if y is None: return scores`), never the one the pass unpacks
        returns = [r.value for r in walk(node) if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple)] if node is not None else []
        if len(starred) > 1 or not returns or not all(_unpacks(r, len(elements), bool(starred)) for r in returns):
            continue
        gradients = {i for i, e in enumerate(elements) if any(isinstance(n, ast.Name) and n.id in applied for n in walk(e))}
        place = _returned_loss(node, returns, gradients if applied else None)  # type: ignore[arg-type]
        if place is None or (starred and place[0] >= starred[0]):
            continue  # `loss, *rest = f(...)`: only the values before the starred one sit at their own place
        element: ast.expr = stmt.targets[0]
        for i in place:  # `(loss, acc), grads = f(...)`: the loss inside the pass's own nested target
            element = element.elts[i] if isinstance(element, ast.Tuple) and i < len(element.elts) else None  # type: ignore[assignment]
        bound_names = [n.id for n in walk(stmt.targets[0]) if isinstance(n, ast.Name)]
        last = max((s.lineno for s in prefix if isinstance(element, ast.Name) and element.id in _targets(s)), default=None)
        # read as the pass computed it (`_` is bound by nothing later): no second call, whose random
        # draws (a dropout mask) would not be the ones the gradients belong to
        once = isinstance(element, ast.Name) and bound_names.count(element.id) == 1
        bound = element.id if once and last == stmt.lineno else None  # type: ignore[union-attr]
        index = "".join(f"[{i}]" for i in place)
        found.append(LossSite(f"{ast.unparse(callee)}(...){index}", f"({ast.unparse(stmt.value)}){index}", stmt.lineno, bound is not None, read=bound))
    return found


def _totalled_returned_losses(tree: ast.AST, prefix: tuple[ast.stmt, ...]) -> list[LossSite]:
    """`total = 0.0` then `for n in range(len(X)): l, dW, db = forward_backward(X[n], y[n]); total += l`:
    a loss the file's own function returns beside its gradients (a name like a loss in its returned
    tuple, `return loss, dW, db`), one sample or batch at a time, which a loop of the pass adds into a
    running total the pass zeroes before that loop. The pass's loss is that total, read where the
    prefix ends (the sum of the terms; a mean over them differs by the count, a scale the replay
    weighs as it does a sum's)."""
    functions = {n.name: n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found: list[LossSite] = []
    for position, stmt in enumerate(prefix):
        if not isinstance(stmt, (ast.For, ast.While)):
            continue
        zeroed = {
            t.id for s in prefix[:position] if isinstance(s, ast.Assign) and _zero(s.value) for t in s.targets if isinstance(t, ast.Name)
        }  # fmt: skip
        returned: dict[str, int] = {}  # the names the inner loop binds to a returned loss -> line
        for node in walk(stmt):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Call)):
                continue
            callee = node.value.func
            function = functions.get(callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else "")
            elements = node.targets[0].elts
            returns = [r.value for r in walk(function) if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple)] if function is not None else []
            if not returns or any(isinstance(e, ast.Starred) for e in elements) or not all(_unpacks(r, len(elements), False) for r in returns):
                continue
            place = _returned_loss(function, returns, None)  # type: ignore[arg-type]
            if place is None or len(place) != 1 or not isinstance(elements[place[0]], ast.Name):
                continue
            returned[elements[place[0]].id] = node.lineno  # type: ignore[attr-defined]
        for node in walk(stmt):
            if (
                isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name) and node.target.id in zeroed
                and isinstance(node.value, ast.Name) and node.value.id in returned and returned[node.value.id] <= node.lineno
            ):  # fmt: skip
                terms = ast.unparse(stmt.iter) if isinstance(stmt, ast.For) else None
                found.append(LossSite(node.target.id, node.target.id, node.lineno, False, totalled=terms))
                return found
    return found


def _totalled_losses(prefix: tuple[ast.stmt, ...]) -> list[LossSite]:
    """`total = 0.0` then `for x, t in zip(X, Y): ... err = out - t; total += 0.5 * err ** 2`: a loss the pass
    adds up one sample at a time, in a loop of its own, into a running total it zeroes before that loop, under
    whatever name (`total`, `running`, `s`), by `+=` or `total = total + ...`: each term written as a loss is
    (`_loss_shaped`: a squared difference, a log; or a call of a loss function), itself or through a name the
    loop binds to one (`l = 0.5 * np.sum(err ** 2)` then `total += l`), or added to a name that says loss. The
    pass's loss is that total, read where the prefix ends, summed over its entries when a term is one per
    output (`0.5 * err ** 2` of a vector `err`), its count of terms the loop's iterable (`totalled`), as
    `_totalled_returned_losses` reads a total of returned losses. Not over held-out samples (`zip(X_val, Y_val)`)."""
    found: list[LossSite] = []
    for position, stmt in enumerate(prefix):
        if not isinstance(stmt, (ast.For, ast.While)) or isinstance(stmt, ast.For) and _held_out(stmt.iter):
            continue
        zeroed = {  # not the sums `_summed_in_inner_loop` adds to an extended prefix (`__bpd_loss0 = __bpd_loss0 + ...`)
            t.id for s in prefix[:position] if isinstance(s, ast.Assign) and _zero(s.value)
            for t in s.targets if isinstance(t, ast.Name) and not t.id.startswith(_SUMMED)
        }  # fmt: skip
        if not zeroed:
            continue
        inner = [n for n in walk(stmt) if isinstance(n, ast.stmt)]
        differences = _differences(tuple(inner))
        bound: dict[str, list[ast.expr]] = {}
        added: dict[str, list[tuple[ast.stmt, ast.expr]]] = {}  # name -> (statement, term) of `name += term`, `name = name + term`
        for node in inner:
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and isinstance(node.op, (ast.Add, ast.Sub)):
                added.setdefault(node.target.id, []).append((node, node.value))
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                bound.setdefault(node.target.id, []).append(ast.Constant(None))  # `total *= 0.5`: no sum of terms
            elif isinstance(node, ast.Assign):
                value = node.value
                if (
                    len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(value, ast.BinOp)
                    and isinstance(value.op, (ast.Add, ast.Sub)) and isinstance(value.left, ast.Name) and value.left.id == node.targets[0].id
                ):  # fmt: skip
                    added.setdefault(value.left.id, []).append((node, value.right))
                    continue
                for target in node.targets:
                    for name in walk(target):
                        if isinstance(name, ast.Name):
                            bound.setdefault(name.id, []).append(value if target is name else ast.Constant(None))

        def loss_term(value: ast.expr) -> bool:
            if _loss_shaped(value, differences) or _loss_call(value) and not _derivative_call(value):
                return True
            values = bound.get(value.id, []) if isinstance(value, ast.Name) else []
            return len(values) == 1 and (_loss_shaped(values[0], differences) or _loss_call(values[0]) and not _derivative_call(values[0]))

        for name in sorted(zeroed):
            adds = added.get(name, [])
            if not adds or name in bound or _NOT_LOSS.search(name) or _ADJOINT.fullmatch(name) and not LOSS_NAME.fullmatch(name):
                continue  # bound otherwise inside the loop, or a gradient's sum (`dw = 0` then `dw += x * err`)
            named = bool(LOSS_NAME.fullmatch(name)) and _loss_rank(name) < 2
            if not all(not _held_out(term) and (loss_term(term) or named and not _error_signal(term)) for _, term in adds):
                continue
            scalar = all(_reduced(term) and _scalar(term) or isinstance(term, ast.Call) and ast.unparse(term.func) == "float" for _, term in adds)
            expression = name if scalar else f"{_NP}.sum({name})"  # `0.5 * err ** 2` of a vector `err`: one term per output
            terms = ast.unparse(stmt.iter) if isinstance(stmt, ast.For) else None
            found.append(LossSite(name, expression, min(s.lineno for s, _ in adds), False, totalled=terms))
        if found:
            return sorted(found, key=lambda site: site.line)[:1]
    return found


def _unpacks(value: ast.Tuple, size: int, starred: bool) -> bool:
    """A returned tuple the pass's target of `size` names unpacks (with a starred name, at least the others)."""
    return not any(isinstance(e, ast.Starred) for e in value.elts) and (len(value.elts) >= size - 1 if starred else len(value.elts) == size)


def _returned_loss(node: ast.FunctionDef | ast.AsyncFunctionDef, returns: list[ast.Tuple], gradients: set[int] | None) -> tuple[int, ...] | None:
    """Where the function's returned tuples hold its loss (its place, through nested tuples: `(0, 1)` of
    `return (acc, loss), grads`): the one place a name like a loss is returned at, else the one place a
    single number is, a name the function binds to a reduction over every axis or to a loss function's
    value (`J = -np.sum(Y * np.log(P)) / m`, `l = cross_entropy(P, Y)`), or that reduction written in
    the return. An accuracy (`np.mean(pred == y)`) is a number too, but a count of comparisons, and the
    arrays returned beside (the probabilities, a cache) are no numbers. `gradients`: the top-level places
    the pass's updates read (no number there is the loss); None when they are not known (no number is)."""
    leaves = sorted((leaf for r in returns for leaf in _leaves(r)), key=lambda leaf: len(leaf[0]))  # the outer places first

    def one(places: list[tuple[int, ...]]) -> tuple[int, ...] | None | bool:
        """The one place, outermost first (`return total, (ce, reg), grads` is `total`'s); None for
        several at one depth; False for none."""
        for depth in sorted({len(p) for p in places}):
            level = {p for p in places if len(p) == depth}
            return level.pop() if len(level) == 1 else None
        return False

    named = one([place for place, e in leaves if isinstance(e, ast.Name) and LOSS_NAME.fullmatch(e.id) and not _NOT_LOSS.search(e.id)])
    if named is not False:
        return named  # type: ignore[return-value]
    values: dict[str, list[ast.expr]] = {}
    for stmt in walk(node):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(stmt.value)
                else:  # `a, J = ...`: not known to be one number
                    for n in walk(target):
                        if isinstance(n, ast.Name):
                            values.setdefault(n.id, []).append(target)
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            values.setdefault(stmt.target.id, []).append(ast.BinOp(stmt.target, stmt.op, stmt.value) if isinstance(stmt, ast.AugAssign) else stmt.value)

    def number(value: ast.expr) -> bool:
        return (_scalar(value) or _loss_call(value)) and not any(isinstance(n, ast.Compare) for n in walk(value))

    def one_number(element: ast.expr) -> bool:
        if isinstance(element, ast.Name):
            bound = values.get(element.id, [])
            return not _NOT_LOSS.search(element.id) and bool(bound) and number(bound[0]) and all(
                number(v) or not isinstance(v, (ast.Tuple, ast.List, ast.Dict)) and element.id in {n.id for n in walk(v) if isinstance(n, ast.Name)}
                for v in bound[1:]
            )  # `J += lam / 2 * np.sum(W ** 2)`, `J = J / m`: still the number it started as
        return number(element)

    if gradients is None:
        return None
    numbers = one([place for place, e in leaves if place[0] not in gradients and one_number(e)])
    return None if numbers is False else numbers  # type: ignore[return-value]


def _leaves(value: ast.Tuple, place: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], ast.expr]]:
    """The values a returned tuple holds, each with its place, inside the tuples written in it too."""
    for i, element in enumerate(value.elts):
        if isinstance(element, ast.Tuple):
            yield from _leaves(element, (*place, i))
        else:
            yield (*place, i), element


def _labelled_losses(call: ast.Call) -> list[ast.expr]:
    """The calls a `print(...)` shows right after a label that says loss or cost (`"loss", f(x)`,
    `f"loss {f(x):.4f}"`): a loss reported under its name, whatever its function is called."""
    found: list[ast.expr] = []
    parts: list[ast.expr] = []
    for argument in call.args:
        parts += list(argument.values) if isinstance(argument, ast.JoinedStr) else [argument]
    for before, value in zip(parts, parts[1:]):
        if isinstance(value, ast.FormattedValue):
            value = value.value
        value = _unrounded(value)
        label = before.value if isinstance(before, ast.Constant) and isinstance(before.value, str) else None
        if label is not None and _LOSS_LABEL.search(label) and isinstance(value, ast.Call) and not _NOT_LOSS_CALL.search(ast.unparse(value.func)):
            found.append(value)
    return found


_ROUNDING = frozenset({"round", "around", "float", "float64"})


def _unrounded(value: ast.expr) -> ast.expr:
    """`f(x)` of `round(f(x), 5)`, `np.round(f(x), 4)`, `float(f(x))`: the loss a print shows rounded.
    Rounded, it is a staircase whose steps no replay can differentiate."""
    while isinstance(value, ast.Call) and value.args and ast.unparse(value.func).rpartition(".")[2] in _ROUNDING:
        value = value.args[0]
    return value


_REDUCING_METHOD = re.compile(r"(?i)(?:mean|sum|average)_\w+")  # an engine's `(out - y).mean_square()`, `.sum_sq()`: named for its reduction


def _reduced(value: ast.expr) -> bool:
    """`(...).mean()`, `np.sum(...)`: a value reduced to one number over its samples; also a method named for
    the reduction it makes (an autograd engine's `(pred - Tensor(Y)).mean_square()`)."""
    return any(
        isinstance(node, ast.Call) and (
            ast.unparse(node.func).rpartition(".")[2] in ("mean", "sum", "average")
            or isinstance(node.func, ast.Attribute) and _REDUCING_METHOD.fullmatch(node.func.attr) is not None
        )
        for node in walk(value)
    )  # fmt: skip


def _error_signal(value: ast.expr) -> bool:
    """`err = 2 * (out - t) / len(x)`, `error = y - out`: the output's error, what the backward pass
    starts from, not a loss: a difference scaled by numbers or sizes, with no square, log, absolute
    value or reduction over the samples."""
    differences = [n for n in walk(value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub)]
    if not differences or _loss_shaped(value) or _reduced(value):
        return False
    return not any(
        isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] in ("abs", "absolute", "square", "log", "power", "norm")
        or isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)
        for n in walk(value)
    )  # fmt: skip


def _error_signals(loop: ast.For | ast.While) -> frozenset[str]:
    """The names a pass binds to the output's error (`error = y - final_outputs`, `_error_signal`), to an
    adjoint (`output_delta`, `dZ2`), or to one of these carried back through the weights
    (`_backpropagated`), in the order the pass writes them."""
    signals: set[str] = set()
    assigns = sorted(
        (n for n in walk(loop) if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for node in assigns:
        name = node.targets[0].id  # type: ignore[attr-defined]
        if not (LOSS_NAME.fullmatch(name) or _ADJOINT.fullmatch(name) or re.search(r"(?i)delta|grad|err", name)):
            continue  # `bit = BITS - 1 - pos`: a difference, named as no error
        if _error_signal(node.value) or _backpropagated(node.value, frozenset(signals)):
            signals.add(name)
        elif any(isinstance(n, ast.Name) and n.id in signals for n in walk(node.value)) and (_ADJOINT.fullmatch(name) or re.search(r"(?i)delta|grad", name)):
            signals.add(name)
    return frozenset(signals)


_NOT_CARRIED = frozenset({"abs", "absolute", "square", "log", "power", "norm", "sum", "mean", "sqrt", "exp"})  # what makes a loss of an error


def _backpropagated(value: ast.expr, signals: frozenset[str]) -> bool:
    """`hidden_error = np.dot(self.weights_hidden_to_output, error)`, `l1_error = l2_delta.dot(W.T)`: an
    error signal carried back one layer, a product that reads one signal once, with no square, log,
    absolute value or reduction: what the backward pass propagates, not a loss (`np.dot(err, err)` reads
    it twice and is one)."""
    read = [n.id for n in walk(value) if isinstance(n, ast.Name) and n.id in signals]
    if len(read) != 1:
        return False
    if any(isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Pow, ast.Add, ast.Sub)) for n in walk(value)):
        return False
    return not any(isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] in _NOT_CARRIED for n in walk(value))


def _derivative_call(value: ast.expr) -> bool:
    """`error = self.loss_prime(y, output)`: named like a loss, but what a derivative returns (not
    `loss = loss_and_grads(X, y)`, which returns the loss and leaves its gradients elsewhere)."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if re.search(r"(?i)(loss|cost|error|objective)_?and_?(its_?)?(grad|deriv)", name):
        return False
    return bool(re.search(r"(?i)prime|deriv|grad|backward", name))


_NP = "__import__('numpy')"


def _error_losses(loop: ast.For | ast.While, prefix: tuple[ast.stmt, ...], tree: ast.AST | None = None) -> list[LossSite]:
    """`y - layer_3` in the backward pass of a program that computes no loss: the losses whose
    gradient starts from that error (squared error, binary and categorical cross-entropy)."""
    in_loop = {n for stmt in loop.body for n in _changed(stmt)}
    stale = _computed_before(tree, loop, in_loop) if tree is not None else {}
    batches = _batches(loop.body, in_loop)
    assigned: set[str] = set()
    copies: dict[str, str] = {}  # `ds = p.copy()`: ds -> p
    for stmt in loop.body:  # the prefix, then the update itself: `W -= lr * (P - T).dot(X.T)`
        for node in walk(stmt):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)) or (stmt not in prefix and node is getattr(stmt, "value", None)):
                continue  # `W = W - lr * dW` is the update's own step, not an error
            left, right = _data_name(node.left) or _output_written(node.left, assigned), _data_name(node.right) or _output_written(node.right, assigned)
            # `err = X[i] @ w + b - y[i]` in a loop over the samples: the output written out from the weights the loop moves
            for side, other in ((node.left, node.right), (node.right, node.left)):
                written, sample = _output_written(side, in_loop - assigned), _data_name(other)
                if stmt in prefix and written is not None and sample is not None and sample[1] not in in_loop:
                    return _error_sites(written[0], sample[0], stmt.lineno)
            if stmt in prefix and left is not None and right is not None:
                # `err = pred[i] - y[i]` with `pred = X @ w + b` before the loop that moves `w`: the error of the
                # output as the weights are now, which the step's gradient must follow
                for (out, root), (target, other) in ((left, right), (right, left)):
                    if root in stale and other not in in_loop and other not in stale:
                        fresh = out.replace(root, f"({stale[root]})", 1)
                        return _error_sites(fresh, target, stmt.lineno)
            if left is None or right is None:
                continue
            for (out, made), (target, root) in ((left, right), (right, left)):
                data = root not in assigned or root in batches
                if made in assigned and made not in batches and data and (root not in in_loop or root in batches or not _ADJOINT.fullmatch(root)):
                    return _error_sites(out, target, stmt.lineno)
        if stmt in prefix and (pair := _derivative_of(stmt, assigned, batches)) is not None:
            return _error_sites(*pair, stmt.lineno)
        if stmt in prefix and (pairs := _derivative_on_the_data(stmt, assigned, in_loop)):
            return [site for out, target in pairs for site in _error_sites(out, target, stmt.lineno)]
        if stmt in prefix and (labelled := _labels_taken_off(stmt, copies, assigned)) is not None:
            one = isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript) and isinstance(stmt.target.slice, ast.Name)
            return _label_sites(*labelled, stmt.lineno, one=one)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            made = copied_name(stmt.value)
            # `p = softmax(xb @ W + b)` then `p[np.arange(n), yb] -= 1`: the probabilities are gone once the pass
            # has taken the labels off in place; the loss reads them as computed
            copies[stmt.targets[0].id] = made if made is not None else f"({ast.unparse(stmt.value)})"
        assigned.update(_targets(stmt))
    return []


def _computed_before(tree: ast.AST, loop: ast.For | ast.While, moved: set[str]) -> dict[str, str]:
    """Names bound, last before `loop` and never inside it, to an expression of names the loop moves
    (`pred = X @ w + b` before a loop over the samples that updates `w` and `b`): name -> expression."""
    found: dict[str, tuple[int, str]] = {}
    inside = {n for stmt in loop.body for n in _changed(stmt)}
    for node in walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)) or node.lineno >= loop.lineno:
            continue
        name = node.targets[0].id
        reads = {n.id for n in walk(node.value) if isinstance(n, ast.Name)}
        if name in inside or not reads & moved or isinstance(node.value, ast.Call) and not any(isinstance(n, ast.BinOp) for n in walk(node.value)):
            continue
        if name not in found or found[name][0] < node.lineno:
            found[name] = (node.lineno, ast.unparse(node.value))
    return {name: value for name, (_, value) in found.items()}


def copied_name(value: ast.expr) -> str | None:
    """The name a value only copies: `p`, `p.copy()`, `np.copy(p)`, `np.array(p)`."""
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if value.func.attr == "copy" and not value.args and isinstance(value.func.value, ast.Name):
            return value.func.value.id
        if value.func.attr in ("copy", "array") and len(value.args) == 1 and isinstance(value.args[0], ast.Name):
            return value.args[0].id
    return None


def _labels_taken_off(stmt: ast.stmt, copies: dict[str, str], assigned: set[str]) -> tuple[str, str] | None:
    """(probabilities, labels) of `ds[np.arange(len(yb)), yb] -= 1` after `ds = p.copy()`: the gradient of
    a cross-entropy over integer labels with respect to the scores, started from the probabilities; after
    `p = softmax(z)` itself, the probabilities are the expression `(softmax(z))`."""
    if not (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Sub) and isinstance(stmt.value, ast.Constant) and stmt.value.value == 1):
        return None
    target = stmt.target
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Name):
        labels = target.slice  # `g[t] -= 1` after `g = p.copy()`: one sample's probabilities, its label
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Tuple) and len(target.slice.elts) == 2:
        labels = target.slice.elts[1]
    else:
        return None
    probabilities = copies.get(target.value.id)
    if probabilities is None or not (probabilities in assigned or probabilities.startswith("(")) or not isinstance(labels, ast.Name):
        return None
    return probabilities, labels.id


def _label_sites(p: str, y: str, line: int, one: bool = False) -> list[LossSite]:
    """The cross-entropy whose gradient with respect to the scores is `p` with 1 taken off at each label
    (`one`: at the one sample's label, `g[t] -= 1`)."""
    if one:
        return [LossSite(f"−log {p}[{y}]", f"-{_NP}.log({p}[{y}])", line, False, "cross-entropy")]
    return [LossSite(f"−Σ log {p}[n, {y}]", f"-{_NP}.sum({_NP}.log({p}[{_NP}.arange(len({y})), {y}]))", line, False, "cross-entropy")]


_SUMMED = SUMMED = "__bpd_loss"  # the names of the sums `_summed_in_inner_loop` adds (the replay's curve reads them too)


def _summed_in_inner_loop(
    prefix: tuple[ast.stmt, ...], tree: ast.Module | None = None, updating: tuple[ast.stmt, ...] = ()
) -> tuple[tuple[ast.stmt, ...], list[LossSite]] | None:
    """A pass that computes no loss and adds up per-sample gradients in a loop of its own
    (`for n in range(start, start + batch): ... dz2 = p - t; grads["W2"] += dz2 * h`): the losses the
    error implies (`_error_losses` of that loop, or, with the file's `tree`, `_inner_error_losses` of the
    functions that loop calls: `out, h = self.forward_one(x)` then `self.backward_one(out, h, x, y, ...)`
    whose error is `y - out`, the pass's `updating` statements saying what holds the parameters), each
    summed over its samples by a statement added at the end of the loop's body (`__bpd_loss0 += 0.5 *
    np.sum((p - t) ** 2)`), after a zero before the loop. Returns the prefix with the loop so extended,
    and those sums as the losses."""
    for position, stmt in enumerate(prefix):
        if not isinstance(stmt, (ast.For, ast.While)):
            continue
        sites = _error_losses(stmt, tuple(stmt.body))
        if not sites and tree is not None and updating:
            sites = _inner_error_losses(tree, tuple(stmt.body), updating)
        if not sites:
            continue
        loop = copy.deepcopy(stmt)
        line = stmt.body[-1].end_lineno or stmt.body[-1].lineno
        names = [f"{_SUMMED}{i}" for i in range(len(sites))]
        adds = [ast.parse(f"{n} = {n} + {site.expression}").body[0] for n, site in zip(names, sites)]
        zeros = [ast.parse(f"{n} = 0.0").body[0] for n in names]
        for new, at in [*((a, line) for a in adds), *((z, stmt.lineno) for z in zeros)]:
            for node in ast.walk(new):
                node.lineno = node.end_lineno = at  # type: ignore[attr-defined]
                node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]
        loop.body = [*loop.body, *adds]
        sums = [dataclasses.replace(site, name=f"{site.name} summed over its samples", expression=n) for n, site in zip(names, sites)]
        return (*prefix[:position], *zeros, loop, *prefix[position + 1 :]), sums
    return None


def sums_added(step: TrainingStep) -> bool:
    """Whether `_summed_in_inner_loop` extended the pass's prefix: its zeroed sums (`__bpd_loss0 = 0.0`) stand
    before a copy of the loop over the samples, which adds to them; the loop's body as written computes none."""
    return any(
        isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and s.targets[0].id.startswith(_SUMMED)
        for s in step.prefix
    )  # fmt: skip


def _derivative_of(stmt: ast.stmt, assigned: set[str], batches: set[str]) -> tuple[str, str] | None:
    """(output, targets) of `gb2 = derivative_b2(Ybatch, pYbatch)`: a derivative function of another
    file, handed the output the pass computed and the batch's targets and nothing else, computes
    the error between them there (`(Y - T).sum(axis=0)`), where this file does not show it."""
    for node in walk(stmt):
        if isinstance(node, ast.Call) and _derivative_call(node) and all(isinstance(a, ast.Name) for a in node.args) and len(node.args) == 2:
            outs = [a.id for a in node.args if a.id in assigned and a.id not in batches]
            targets = [a.id for a in node.args if a.id in batches]
            if len(outs) == 1 and len(targets) == 1:
                return outs[0], targets[0]
    return None


_TARGET_LIKE = re.compile(r"(?i)[yt](?:_?(?:train|test|val|batch|ind|onehot|one_hot|hot|true|\d))*|(?:targets?|labels?)\w*|\w*_(?:y|t|ind|onehot|one_hot|targets?|labels?)")


def _derivative_on_the_data(stmt: ast.stmt, assigned: set[str], in_loop: set[str]) -> list[tuple[str, str]]:
    """(output, targets) pairs of `gW = gradW(Ytrain_ind, p_y, Xtrain) / N`: a derivative function of
    another file handed the output the pass computed and whole arrays of data the loop never changes
    (full-batch descent cuts no batch), whose error between two of them it computes there. Which data
    array is the targets is not written here: each is a candidate, a target-like name (`Ytrain_ind`,
    `T`) first; a loss whose shapes do not fit the output is left out when it is evaluated."""
    for node in walk(stmt):
        if not (isinstance(node, ast.Call) and _derivative_call(node) and len(node.args) >= 2 and all(isinstance(a, ast.Name) for a in node.args)):
            continue
        names = [a.id for a in node.args]
        outs = [n for n in names if n in assigned]
        data = [n for n in names if n not in in_loop]
        if len(outs) == 1 and len(data) == len(names) - 1:
            data.sort(key=lambda n: not _TARGET_LIKE.fullmatch(n))
            return [(outs[0], target) for target in data]
    return []


def _batches(body: list[ast.stmt], in_loop: set[str]) -> set[str]:
    """Names the loop binds to a slice of data it does not compute (`yb = onehot[i:i + 100]`,
    `xb, yb = X[idx], Y[idx]`): the targets of a minibatch, not values of the network."""
    found: set[str] = set()
    for stmt in body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target, value = stmt.targets[0], stmt.value
        pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
        for name, sliced in pairs:
            if isinstance(name, ast.Name) and isinstance(sliced, ast.Subscript) and isinstance(sliced.value, ast.Name) and sliced.value.id not in in_loop:
                found.add(name.id)
            elif isinstance(name, ast.Name) and _picked_items(sliced, in_loop):
                found.add(name.id)
    return found


def _picked_items(value: ast.expr, in_loop: set[str]) -> bool:
    """`np.array([[c_bits[pos]]]).T`, `np.array([[a[i], b[i]]])`: an array built of items picked from data
    the loop does not compute (one time step's bits of a sequence), and nothing else."""
    while isinstance(value, ast.Attribute) and value.attr == "T":
        value = value.value
    if not (isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] in ("array", "asarray") and len(value.args) == 1):
        return False
    items, todo = [], [value.args[0]]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
            todo += node.elts
        else:
            items.append(node)
    return bool(items) and all(isinstance(i, ast.Subscript) and isinstance(i.value, ast.Name) and i.value.id not in in_loop for i in items)


def _output_written(node: ast.expr, assigned: set[str]) -> tuple[str, str] | None:
    """(`(h @ B + c)`, `h`) for an output the error writes out in place (`err = 2 * (h @ B + c - tb) / n`):
    a product of something the pass computed, in parentheses; None for anything else."""
    if not isinstance(node, ast.BinOp) or not any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in walk(node)):
        return None
    made = [n.id for n in walk(node) if isinstance(n, ast.Name) and n.id in assigned]
    return (f"({ast.unparse(node)})", made[0]) if made else None


def _data_name(node: ast.expr) -> tuple[str, str] | None:
    """(the expression, its root name) for a name or one sample of it (`y`, `goals[i]`, `Y[:, k]`)."""
    if isinstance(node, ast.Name):
        return node.id, node.id
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return ast.unparse(node), node.value.id
    return None


def _error_sites(o: str, y: str, line: int) -> list[LossSite]:
    """The losses whose gradient with respect to the output `o` starts from the error `o - y`."""
    return [
        LossSite(f"0.5·Σ({o} − {y})²", f"0.5 * {_NP}.sum(({o} - {y}) ** 2)", line, False, "squared error"),
        LossSite(f"Σ({o} − {y})²", f"{_NP}.sum(({o} - {y}) ** 2)", line, False, "squared error"),  # `-2 * (y - out)`
        LossSite(
            f"−Σ {y}·log {o} + (1 − {y})·log(1 − {o})",
            f"-{_NP}.sum({y} * {_NP}.log({o}) + (1 - {y}) * {_NP}.log(1 - {o}))",
            line, False, "binary cross-entropy",
        ),
        LossSite(f"−Σ {y}·log {o}", f"-{_NP}.sum({y} * {_NP}.log({o}))", line, False, "cross-entropy"),
    ]  # fmt: skip


_LOSS_METHOD = re.compile(r"(?i)(calc(ulate)?_|compute_|get_)?(total_)?(loss|cost)(_function)?")  # not `error`: often a misclassification rate


def _method_losses(tree: ast.Module, statements: tuple[ast.stmt, ...]) -> list[LossSite]:
    """A loss method of the object the step trains, called on what the step hands it: a step that
    only calls `model.sgd_step(x, y, lr)` is measured against `model.calculate_total_loss`, on
    `(x, y)` or on the one-sample batch `([x], [y])` (the replay keeps the first that gives a
    number). A summed loss comes before a mean, whose scale a per-sample step does not follow."""
    found: list[LossSite] = []
    for stmt in statements:
        for call in (n for n in walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)):
            owner = next((c for c in walk(tree) if isinstance(c, ast.ClassDef) and any(
                isinstance(m, ast.FunctionDef) and m.name == call.func.attr for m in c.body)), None)
            if owner is None or len(call.args) < 2:
                continue
            losses = [m for m in owner.body if isinstance(m, ast.FunctionDef) and _LOSS_METHOD.fullmatch(m.name) and len(m.args.args) == 3]
            losses.sort(key=lambda m: "total" not in m.name)
            me, (x, y) = ast.unparse(call.func.value), (ast.unparse(a) for a in call.args[:2])
            for method in losses:
                for given in (f"{x}, {y}", f"[{x}], [{y}]"):
                    found.append(LossSite(f"{me}.{method.name}", f"{me}.{method.name}({given})", method.lineno, False))
    return found


def _inner_error_losses(tree: ast.Module, prefix: tuple[ast.stmt, ...], updating: Sequence[ast.stmt] = ()) -> list[LossSite]:
    """The error a function or method the step calls starts its backward from, in the loop's own names.

    `backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)` whose `dZ2 = A2 - one_hot_Y` follows
    `one_hot_Y = one_hot(Y)` gives the losses of the error `A2 - one_hot(Y)`; `nn.backprop()`
    whose `self.y - self.output` reads what `nn.feedforward()` computed gives those of
    `nn.y - nn.output`. The output is a value the step computed (a name the loop assigns, or an
    attribute a method it calls stores), the target one it did not, or made from such values."""
    from backprop_doctor.static.step_functions import _once, called_functions  # it builds on this module

    statements = (*prefix, *updating)
    produced = _computed_from_parameters(prefix, updating)
    called = called_functions(tree, statements)
    moved = {t for stmt in updating for t in _targets(stmt)}  # what the updates move (`W1 -= lr * gW1`)
    # `net["layers"] = [p - lr * g for ...]`: a list of parameters held by a dict or an object, rebound whole
    rebound = {ast.unparse(t) for stmt in updating if isinstance(stmt, ast.Assign) for t in stmt.targets if isinstance(t, (ast.Subscript, ast.Attribute))}
    in_loop = {t for stmt in statements for t in _targets(stmt)}
    module = {t for stmt in getattr(tree, "body", []) for t in _targets(stmt)}  # names the module binds (its data)
    stored: set[str] = set()  # attributes the step's methods compute (`self.output`)
    reading = _global_readers(tree, moved & module)  # the module's parameters and the functions that read them
    for name, function in called:
        if "." in name and function.args.args:
            me = function.args.args[0].arg
            stored |= {
                n.attr for n in walk(function)
                if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == me
            }  # fmt: skip
    calls = [node for stmt in statements for node in walk(stmt) if isinstance(node, ast.Call)]
    for name, function in called:
        short = name.rsplit(".", 1)[-1]
        call = next((c for c in calls if (c.func.id if isinstance(c.func, ast.Name) else c.func.attr if isinstance(c.func, ast.Attribute) else None) == short), None)
        parameters = [a.arg for a in function.args.args]
        bound: dict[str, ast.expr] = {}
        me = None
        if "." in name and call is not None and isinstance(call.func, ast.Attribute) and parameters:
            me, parameters = parameters[0], parameters[1:]
            bound[me] = call.func.value  # `self` is the object the loop calls it on
        if call is None or len(call.args) > len(parameters) or any(isinstance(a, ast.Starred) for a in call.args):
            continue
        bound |= dict(zip(parameters, call.args)) | {k.arg: k.value for k in call.keywords if k.arg}
        made: dict[str, ast.expr] = {}  # locals made from given values only (`one_hot_Y = one_hot(Y)`)
        # a method that computes its own forward pass in locals (`final_outputs = ...` in `train`) has
        # its output again from the class's one-input forward method, on the same input (`n.query(inputs)`)
        forward = _forward_method(tree, name) if me is not None and call.args else None
        computed = {t for st in _once(function.body) for t in _targets(st)} - set(bound)
        # a function that computes its forward pass itself from the parameters it is handed and the data
        # the module holds (`grads(W1, c1, W2, c2)` reading `X`, `y`): its locals made from those
        # parameters are the output, spelled out in the loop's names (`sigmoid(np.tanh(X @ W1 + c1) @ W2 + c2)`)
        handed = {p for p, a in bound.items() if p != me and (isinstance(a, ast.Name) and a.id in moved or ast.unparse(a) in rebound)}
        # or from the module's own parameters, which the function reads as globals, itself or through a function
        # it calls (`h1, h2, o = forward(x1, x2)` with `forward` reading `w1`... that the loop's updates move)
        local = set(parameters) | {t for st in walk(function) if isinstance(st, ast.stmt) for t in _targets(st)}
        held = (reading - local) if me is None else set()
        inlined: dict[str, ast.expr] = {}
        from_parameters: set[str] = set()
        assigned_once = [t for st in _once(function.body) for t in _targets(st)]
        for st in _once(function.body) if me is None and (handed or held & reads(function)) else ():
            targets = _targets(st)
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and len(targets) == 1 and assigned_once.count(targets[0]) == 1:
                if reads(st) & (handed | held | from_parameters):
                    from_parameters.add(targets[0])
                inlined[targets[0]] = _Substituted({**bound, **inlined}).visit(copy.deepcopy(st.value))
            elif (parts := _unpacked_call(st)) is not None and all(assigned_once.count(t) == 1 for t in parts):
                # `h1, h2, o = forward(x1, x2)`: each name is the call's item at its place
                value = _Substituted({**bound, **inlined}).visit(copy.deepcopy(st.value))
                for place, target in enumerate(parts):
                    if reads(st) & (handed | held | from_parameters):
                        from_parameters.add(target)
                    inlined[target] = ast.Subscript(value=value, slice=ast.Constant(place), ctx=ast.Load())
        data = module - in_loop - moved - set(bound) - computed

        # a local unpacked from a call of another method on the same object, or of a forward function handed the
        # parameters, with the function's own arguments (`zs, activations = self.forward_train(x, masks)`, `H, Hd, P =
        # forward(params, X, masks, keep)`): the output its backward reads is that call's, made again in the loop's names
        holding = {p for p, a in bound.items() if p != me and isinstance(a, ast.Name) and (a.id in moved or a.id in produced)}
        unpacked_calls = _unpacked_calls(function, me, set(bound) - {me}, holding)

        def role(node: ast.AST) -> str | None:
            if isinstance(node, ast.Subscript) and _constant_index(node.slice):
                return role(node.value)  # `cache["A2"]` is what `cache` is, `activations[-1]` what `activations` is
            if isinstance(node, ast.Name) and node.id in unpacked_calls:
                return "output"
            if isinstance(node, ast.Name) and (node.id in from_parameters or node.id in handed and from_parameters):
                return "output"
            if isinstance(node, ast.Name) and node.id in bound and node.id != me:
                argument = bound[node.id]
                return "output" if isinstance(argument, ast.Name) and argument.id in produced else "given"
            if isinstance(node, ast.Name) and node.id in made:
                return "given"
            if me is not None and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == me:
                return "output" if node.attr in stored else "given"
            if forward is not None and isinstance(node, ast.Name) and node.id in computed:
                return "output"  # made in the method from the parameters
            if isinstance(node, ast.Name) and node.id in data and from_parameters:
                return "given"  # the module's data, read by the function itself
            if isinstance(node, ast.Call) and (node.args or node.keywords):
                # `one_hot(Y)`, `Y.reshape(1, -1)`: made from given values alone, in the error itself
                roles = [role(a) for a in (*node.args, *(k.value for k in node.keywords)) if not isinstance(a, ast.Constant)]
                if isinstance(node.func, ast.Attribute) and not (isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy")):
                    roles.append(role(node.func.value))
                return "given" if roles and all(r == "given" for r in roles) else None
            if isinstance(node, ast.Attribute) and node.attr == "T":
                return role(node.value) if role(node.value) == "given" else None  # `Y.T`
            return None

        def spelled(node: ast.expr) -> str:
            if unpacked_calls and any(isinstance(n, ast.Name) and n.id in unpacked_calls for n in walk(node)):
                inlined_output = _Substituted(unpacked_calls).visit(copy.deepcopy(node))
                return ast.unparse(_Substituted({**bound, **made}).visit(inlined_output))
            if forward is not None and isinstance(node, ast.Name) and node.id in computed and node.id not in made:
                return f"{ast.unparse(bound[me])}.{forward}({ast.unparse(call.args[0])})"
            if isinstance(node, ast.Name) and node.id in from_parameters:
                return f"({ast.unparse(inlined[node.id])})"
            return ast.unparse(_Substituted({**bound, **made}).visit(copy.deepcopy(node)))

        for stmt in _once(function.body):
            for node in walk(stmt):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                    for out, target in ((node.left, node.right), (node.right, node.left)):
                        if role(out) == "output" and role(target) == "given":
                            return _error_sites(spelled(out), spelled(target), node.lineno)
            targets = _targets(stmt)
            if isinstance(stmt, ast.Assign) and len(targets) == 1 and targets[0] not in bound:
                parts = [n for n in walk(stmt.value) if isinstance(n, (ast.Name, ast.Attribute))]
                if any(role(n) == "given" for n in parts) and not any(role(n) == "output" for n in parts):
                    made[targets[0]] = _Substituted({**bound, **made}).visit(copy.deepcopy(stmt.value))
    return []


def _constant_index(index: ast.expr) -> bool:
    """`["A2"]`, `[2]`, `[-1]`: an index that is a number or a string, not a variable."""
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
        index = index.operand
    return isinstance(index, ast.Constant)


def _unpacked_calls(function: ast.AST, me: str | None, parameters: set[str], holding: set[str]) -> dict[str, ast.expr]:
    """Locals of `function` bound once from a call of a method on its instance `me` (`zs, activations =
    self.forward_train(x, masks)`) or of a function handed one of `holding`, the parameters that hold what the
    step moves (`H, Hd, P = forward(params, X, masks, keep)`, not `Y_hot = encode(y)`), whose arguments are all
    parameters of `function`, each as that call with its position (`self.forward_train(x, masks)[1]`), in
    `function`'s names; never a parameter bound again."""
    from backprop_doctor.static.step_functions import _once  # it builds on this module

    statements = list(_once(function.body))  # type: ignore[attr-defined]
    counts: dict[str, int] = {}
    for stmt in statements:
        for target in _targets(stmt):
            counts[target] = counts.get(target, 0) + 1
    found: dict[str, ast.expr] = {}
    for stmt in statements:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
            continue
        call = stmt.value
        method = isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id == me
        arguments = [*call.args, *(k.value for k in call.keywords)]
        if not arguments or not all(isinstance(a, ast.Name) and a.id in parameters for a in arguments):
            continue
        if not (method or (isinstance(call.func, ast.Name) and any(a.id in holding for a in arguments if isinstance(a, ast.Name)))):
            continue
        target = stmt.targets[0]
        names = [(None, target)] if isinstance(target, ast.Name) else list(enumerate(target.elts)) if isinstance(target, ast.Tuple) else []
        for position, name in names:
            if isinstance(name, ast.Name) and counts.get(name.id) == 1 and name.id not in parameters:
                value: ast.expr = copy.deepcopy(call)
                if position is not None:
                    value = ast.Subscript(value, ast.Constant(position), ast.Load())
                found[name.id] = value
    return found


def _global_readers(tree: ast.Module, parameters: set[str]) -> set[str]:
    """`parameters` (names the module binds and the step moves: `w1`, `b3`) with the module's functions
    that read any of them as globals (`def forward(x1, x2): h1 = sigmoid(w1 * x1 + ...)`), themselves or
    through another such function they call: what a function of the step reads that holds the parameters."""
    functions = [f for f in getattr(tree, "body", []) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = set(parameters)
    grew = bool(parameters)
    while grew:
        grew = False
        for function in functions:
            if function.name in found:
                continue
            own = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
            own |= {t for st in walk(function) if isinstance(st, ast.stmt) for t in _targets(st)}
            globals_read = {n.id for n in walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - own
            if globals_read & found:
                found.add(function.name)
                grew = True
    return found


def _unpacked_call(stmt: ast.stmt) -> list[str] | None:
    """[`h1`, `h2`, `o`] of `h1, h2, o = forward(x1, x2)`: names unpacked, in order, from one call."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], (ast.Tuple, ast.List))):
        return None
    elements = stmt.targets[0].elts
    if not isinstance(stmt.value, ast.Call) or not elements or not all(isinstance(e, ast.Name) for e in elements):
        return None
    return [e.id for e in elements]  # type: ignore[attr-defined]


def _computed_from_parameters(prefix: Sequence[ast.stmt], updating: Sequence[ast.stmt]) -> set[str]:
    """Names the prefix computes from the parameters (the network's outputs), not from the data
    alone (`inputs = np.asarray(values[1:])` in a loop over records): what the updates move
    (`W1`, `params`, the `n` of `n.train(...)`) and every name computed from those."""
    tainted: set[str] = set()
    for stmt in updating:
        for node in walk(stmt):
            target = node.target if isinstance(node, ast.AugAssign) else None
            if isinstance(node, ast.Assign):
                tainted |= set(_targets(node))
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name):
                tainted.add(target.id)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                tainted.add(node.func.value.id)  # `n.train(inputs, targets)`: `n` holds the parameters
    produced: set[str] = set()
    for stmt in prefix:
        if reads(stmt) & (tainted | produced):
            produced |= set(_targets(stmt))
    return produced


def _forward_method(tree: ast.Module, method: str) -> str | None:
    """The one-input forward method (`query(self, inputs_list)`) of the class `method` ("Net.train") belongs to."""
    owner = method.rpartition(".")[0]
    named = next((f for f in (*_FORWARD_METHODS, "query") if (node := find_function(tree, f"{owner}.{f}")) and len(node.args.args) == 2), None)
    if named is not None:
        return named
    cls = next((c for c in walk(tree) if isinstance(c, ast.ClassDef) and c.name == owner.rpartition(".")[2]), None)
    return _answering_method(cls, method.rpartition(".")[2]) if cls is not None else None


def _answering_method(cls: ast.ClassDef, training: str) -> str | None:
    """A method of `cls` that answers for one input from the weights the method `training` moves,
    whatever it is called (`ask(self, inputs_list)` beside `learn(self, inputs_list, targets_list)`):
    one argument besides the instance, a value returned, every attribute `training` updates read
    (itself or through a method of the class it calls), none stored. The first such, in the class's
    order; None when there is none or `training` updates no attribute of its instance."""
    methods = {d.name: d for d in cls.body if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))}
    trainer = methods.get(training)
    if trainer is None or not trainer.args.args:
        return None

    def attributes(function: ast.AST, me: str, ctx: type) -> set[str]:
        return {n.attr for n in walk(function) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me and isinstance(n.ctx, ctx)}

    me = trainer.args.args[0].arg
    moved = set()
    for node in walk(trainer):
        target = node.target if isinstance(node, ast.AugAssign) else node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        while isinstance(target, ast.Subscript):
            target = target.value  # `self.W[...] -= ...`
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == me:
            if isinstance(node, ast.AugAssign) or target.attr in attributes(node.value, me, ast.Load):
                moved.add(target.attr)  # `self.who += ...`, `self.w = self.w - ...`: a parameter the training moves
    if not moved:
        return None
    for name, function in methods.items():
        if name == training or (name.startswith("__") and name != "__call__") or len(function.args.args) != 2 or function.args.vararg:
            continue
        own = function.args.args[0].arg
        if not any(isinstance(n, ast.Return) and n.value is not None for n in walk(function)) or attributes(function, own, ast.Store):
            continue
        read = attributes(function, own, ast.Load)
        for called in read & set(methods):  # `self._hidden(x)`: what the method it calls reads
            if methods[called].args.args:
                read |= attributes(methods[called], methods[called].args.args[0].arg, ast.Load)
        if moved <= read:
            return name
    return None


class _Substituted(ast.NodeTransformer):
    """A function's expression with its parameters replaced by the caller's arguments."""

    def __init__(self, bound: Mapping[str, ast.expr]):
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return copy.deepcopy(self.bound[node.id]) if node.id in self.bound else node


_FORWARD_METHODS = ("feedforward", "feed_forward", "feedForward", "forward", "predict", "run", "output", "infer", "fprop", "propagate", "__call__")


def _per_sample_losses(tree: ast.Module, statements: list[ast.stmt]) -> list[LossSite]:
    """`self.update_mini_batch(mini_batch, eta)`, whose method sums `self.backprop(x, y)` over
    `for x, y in mini_batch` and updates with it (Nielsen): the loss that gradient implies, the
    quadratic or the cross-entropy cost of the network's one-input forward method summed over the
    batch the loop passes, written in the loop's own names."""
    classes = [n for n in walk(tree) if isinstance(n, ast.ClassDef)]
    for stmt in statements:
        for call in (n for n in walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
            owner, method = ast.unparse(call.func.value), call.func.attr
            for cls in classes:
                defs = {d.name: d for d in cls.body if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))}
                node = defs.get(method)
                forward = next((f for f in _FORWARD_METHODS if f in defs and len(defs[f].args.args) == 2), None) or _answering_method(cls, method)
                if node is None or forward is None or len(node.args.args) < 2:
                    continue
                me = node.args.args[0].arg
                firsts = _first_items(stmt, call)
                bound = dict(zip((a.arg for a in node.args.args[1:]), (firsts.get(ast.unparse(a), ast.unparse(a)) for a in call.args)))
                batch = _pairs_loop(node, me, bound)
                if batch is None:
                    continue
                a = f"{owner}.{forward}(__x)"
                pairs = f"for __x, __y in {batch}"
                return [
                    LossSite(f"Σ ½‖{forward}(x) − y‖²", f"sum(0.5 * {_NP}.sum(({a} - __y) ** 2) {pairs})", stmt.lineno, False, "quadratic cost"),
                    LossSite(
                        f"Σ cross-entropy of {forward}(x)",
                        f"sum({_NP}.sum({_NP}.nan_to_num(-__y * {_NP}.log(__a) - (1 - __y) * {_NP}.log(1 - __a))) {pairs} for __a in [{a}])",
                        stmt.lineno, False, "cross-entropy cost",
                    ),
                ]  # fmt: skip
    return []


def _batch_sources(prefix: tuple[ast.stmt, ...], updating: Sequence[ast.stmt]) -> dict[str, str]:
    """The data set each minibatch of the pass is cut from, and the expression of that batch:
    `x_train` -> `x_batch` for `x_batch = x_train[batch_mask]` (`xb, yb = X[idx], Y[idx]`), and
    `training_data` -> `next(iter(mini_batches))` for `for mini_batch in mini_batches:` handing each batch
    to a call, `mini_batches` made from `training_data` in the pass."""
    sources: dict[str, str] = {}
    for stmt in prefix:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
            for name, sliced in pairs:
                if isinstance(name, ast.Name) and isinstance(sliced, ast.Subscript) and isinstance(sliced.value, ast.Name) and sliced.value.id != name.id:
                    sources.setdefault(sliced.value.id, name.id)
    for stmt in prefix:  # `for i in idx: g = example_grads(params, X[i], y[i])`: the batch is `X[idx]`
        if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) and isinstance(stmt.iter, (ast.Name, ast.Call)):
            if isinstance(stmt.iter, ast.Name):
                rows = stmt.iter.id
            elif isinstance(stmt.iter.func, ast.Name) and stmt.iter.func.id == "range" and len(stmt.iter.args) == 2 and not stmt.iter.keywords:
                rows = f"{ast.unparse(stmt.iter.args[0])}:{ast.unparse(stmt.iter.args[1])}"  # `for j in range(lo, lo + 12)`: `X[lo:lo + 12]`
            else:
                continue
            assigned = {t for s in stmt.body for t in _targets(s)}
            for node in (n for s in stmt.body for n in walk(s)):
                if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id not in assigned and ast.unparse(node.slice) == stmt.target.id:
                    sources.setdefault(node.value.id, f"{node.value.id}[{rows}]")
    # an index a loop of the step walks (`for j in chosen: one_sample(w, X[j], y[j])`) picks one sample, not the batch
    walked = {n.id for stmt in prefix for loop in walk(stmt) if isinstance(loop, ast.For) for n in walk(loop.target) if isinstance(n, ast.Name)}
    # `grads = net.gradient(x_train[idx], t_train[idx])`: the minibatch handed over as it is cut, also to the call
    # that updates (`net.train_step(data[idx], labels[idx], lr)`)
    for stmt in (*prefix, *updating):
        for call in (n for n in walk(stmt) if isinstance(n, ast.Call)):
            for sliced in call.args:
                if isinstance(sliced, ast.Subscript) and isinstance(sliced.value, ast.Name) and isinstance(sliced.slice, (ast.Name, ast.Slice)):
                    if not (isinstance(sliced.slice, ast.Name) and sliced.slice.id in walked):
                        sources.setdefault(sliced.value.id, ast.unparse(sliced))
    for stmt in updating:
        for loop in walk(stmt):
            if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Name)):
                continue
            if not any(isinstance(n, ast.Name) and n.id == loop.target.id for c in walk(loop) if isinstance(c, ast.Call) for a in c.args for n in walk(a)):
                continue  # the batch is handed to no call
            made = [s for s in prefix if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == loop.iter.id for t in s.targets)]
            if made:
                for read in {n.id for n in walk(made[-1].value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}:
                    sources.setdefault(read, f"next(iter({loop.iter.id}))")
    return sources


def _cut_inside(call: ast.Call, prefix: tuple[ast.stmt, ...]) -> str | None:
    """`MSE(network.run(X).T, y.T)` for the reported `MSE(network.run(features).T, targets.T)` of a pass that binds
    its minibatch by cutting it from those arrays (`X, y = features[batch], targets[batch]`): the data sets read
    inside the loss call's arguments, each put back by the name its batch is bound to. Only names a plain
    assignment of the pass binds to a cut of them count here (no loop's sample, no call's argument); None when
    the call reads none, or a batch name is bound again in the pass."""
    cut: dict[str, str] = {}
    bound: dict[str, int] = {}
    for stmt in prefix:
        for n in walk(stmt):
            for target in (n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, (ast.AugAssign, ast.AnnAssign, ast.For)) else []):
                for name in (t for t in walk(target) if isinstance(t, ast.Name)):
                    bound[name.id] = bound.get(name.id, 0) + 1
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
            for name, sliced in pairs:
                if isinstance(name, ast.Name) and isinstance(sliced, ast.Subscript) and isinstance(sliced.value, ast.Name) and sliced.value.id != name.id:
                    cut.setdefault(sliced.value.id, name.id)
    cut = {whole: batch for whole, batch in cut.items() if bound.get(batch) == 1 and whole not in bound}
    if not cut:
        return None
    changed = ast.parse(ast.unparse(call), mode="eval").body
    found = False
    for n in walk(changed):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in cut and n is not changed.func:  # type: ignore[attr-defined]
            n.id = cut[n.id]
            found = True
    return ast.unparse(changed) if found else None


def _batch_inside(call: ast.Call, sources: Mapping[str, str]) -> str | None:
    """`mse(net.forward(data[idx]), labels[idx])` for the reported `mse(net.forward(data), labels)` of a pass that
    hands its update the minibatch as it is cut (`net.train_step(data[idx], labels[idx], lr)`): every data set read
    in the loss call's arguments, at any depth (not a function called), put back by its batch. None when the
    arguments read none, or a data set is read otherwise than whole (`len(data)`, `data[:5]`, `data.shape`)."""
    changed = ast.parse(ast.unparse(call), mode="eval").body
    called = {id(n.func) for n in walk(changed) if isinstance(n, ast.Call)}
    parents = {id(c): p for p in walk(changed) for c in ast.iter_child_nodes(p)}
    found = []
    for n in walk(changed):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in sources and id(n) not in called and n is not changed.func:  # type: ignore[attr-defined]
            parent = parents.get(id(n))
            if isinstance(parent, (ast.Subscript, ast.Attribute)) or (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in _ABOUT):
                return None
            found.append(n)
    if not found:
        return None
    for n in found:
        n.id = sources[n.id]
    return ast.unparse(changed)


def on_other_samples(step: TrainingStep, loss: LossSite) -> bool:
    """Whether the program's loss is computed on other samples than the step's batch: the pass cuts its batch
    from data sets by an index it draws (`net.train_step(data[idx], labels[idx], lr)`, `grads(params, X[idx],
    y[idx])`, the losses its output error implies reading `labels[idx]`; `idx` bound in the pass or by its
    loop), and the program's loss reads none of those cuts and no name the pass binds (`net.loss(X2, y2)`, a
    loss over the whole data set `_on_the_batch` could not put the batch into). Its gradient is not the
    update's, right or wrong: the updates are measured against another function of the parameters."""
    if loss.implied is not None or loss.accumulated or loss.summed or loss.totalled is not None:
        return False
    drawn = set(step.assigned)
    if isinstance(step.loop, ast.For):
        drawn |= {n.id for n in walk(step.loop.target) if isinstance(n, ast.Name)}

    def cut(node: ast.AST) -> bool:  # `data[idx]`, `X[i:i + bs]`: a data set's rows, picked by names the pass binds
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and not node.value.id.startswith("__")):
            return False
        if node.value.id in drawn or not isinstance(node.slice, (ast.Name, ast.Slice)):
            return False
        read = {n.id for n in walk(node.slice) if isinstance(n, ast.Name)}
        return bool(read) and read <= drawn

    cuts: set[str] = set()
    for site in step.other_losses:
        with contextlib.suppress(SyntaxError):
            cuts |= {ast.unparse(n) for n in walk(ast.parse(site.expression, mode="eval")) if cut(n)}
    statements = list(step.loop.body) if step.loop is not None and not step.loopless else list(step.prefix)
    cuts |= {ast.unparse(a) for stmt in statements for n in walk(stmt) if isinstance(n, ast.Call) for a in n.args if cut(a)}
    try:
        tree = ast.parse(loss.expression, mode="eval")
    except SyntaxError:
        return False
    # a batch a function the pass calls cuts by an index it draws (`self.model.loss(self.X[idx], self.y[idx])` in
    # a solver's `_step()`), beside a loss over the whole data set it is cut from (`self.model.loss(self.X, self.y)`)
    whole = {ast.unparse(n) for n in walk(tree) if isinstance(n, (ast.Name, ast.Attribute))}
    cuts |= {c for c in step.inner_cuts if ast.unparse(ast.parse(c, mode="eval").body.value) in whole}  # type: ignore[attr-defined]
    if not cuts:
        return False
    own = {ast.unparse(n) for n in walk(tree) if isinstance(n, ast.Subscript)}
    read = {n.id for n in walk(tree) if isinstance(n, ast.Name)}
    return not (cuts & own) and not (read & drawn)


def _feeding_first(sites: Sequence[LossSite], prefix: tuple[ast.stmt, ...], updating: Sequence[ast.stmt]) -> list[LossSite]:
    """Two losses of the pass computed by one function (`check, _ = bce(model(X_val), y_val)` before
    `value, upstream = bce(model(xb), yb)`): the one whose statement also binds what the updates read
    (`upstream`, handed to `model.backward`) is the training loss, the other a check on other data; it
    comes first, whatever their order."""
    sites = list(sites)
    if len(sites) < 2:
        return sites
    read = {n.id for s in updating for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

    def statement(site: LossSite) -> ast.stmt | None:
        return next((s for s in prefix if s.lineno <= site.line <= (s.end_lineno or s.lineno)), None)

    def callee(site: LossSite) -> str | None:
        try:
            node = ast.parse(site.expression, mode="eval").body
        except SyntaxError:
            return None
        while isinstance(node, ast.Subscript):
            node = node.value
        return ast.unparse(node.func) if isinstance(node, ast.Call) else None

    def feeds(site: LossSite) -> bool:
        stmt = statement(site)
        return stmt is not None and bool(read & {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} - {site.name})

    def written(site: LossSite) -> bool:  # the statement calls the loss's function itself (not a loss read into a method)
        stmt = statement(site)
        return stmt is not None and any(isinstance(n, ast.Call) and ast.unparse(n.func) == callee(site) for n in walk(stmt))

    first = sites[0]
    if feeds(first) or callee(first) is None:
        return sites
    twin = next((
        s for s in sites[1:] if s.in_prefix == first.in_prefix and callee(s) == callee(first) and s.expression != first.expression
        and statement(s) is not statement(first) and written(s) and written(first) and feeds(s)
    ), None)  # fmt: skip
    if twin is None:
        return sites
    return [twin, *(s for s in sites if s is not twin)]


def _on_the_batch(sites: list[LossSite], prefix: tuple[ast.stmt, ...], updating: Sequence[ast.stmt]) -> list[LossSite]:
    """A loss the loop only reports, over the whole data set the pass cuts its minibatches from
    (`self.total_cost(training_data)` beside `for mini_batch in mini_batches: self.update_mini_batch(mini_batch, eta)`,
    `mini_batches` made from `training_data`), computed on the first minibatch instead: the one the
    first update follows. Over all the data its gradient is not the update's, right or wrong. The
    program's own expression is kept (`reported`): the curve of its passes is the loss it reports."""
    sources = _batch_sources(prefix, updating)
    if not sources:
        return sites
    changed = []
    for site in sites:
        if not site.in_prefix and not site.accumulated and site.implied is None:
            try:
                call = ast.parse(site.expression, mode="eval").body
            except SyntaxError:
                call = None
            if isinstance(call, ast.Call) and (inside := _batch_inside(call, sources)) is not None:
                site = dataclasses.replace(site, expression=inside, reported=site.expression)  # also `mse(net.forward(data), labels)`
            elif isinstance(call, ast.Call) and any(isinstance(a, ast.Name) and a.id in sources for a in call.args):
                call.args = [ast.parse(sources[a.id], mode="eval").body if isinstance(a, ast.Name) and a.id in sources else a for a in call.args]
                site = dataclasses.replace(site, expression=ast.unparse(call), reported=site.expression)
            elif isinstance(call, ast.Call) and (cut := _cut_inside(call, prefix)) is not None:
                site = dataclasses.replace(site, expression=cut, reported=site.expression)
        changed.append(site)
    return changed


def _epoch_losses(step: TrainingStep, outer: ast.For | ast.While, tree: ast.Module | None = None) -> TrainingStep:
    """A minibatch loop that computes no loss of its own (only the losses its output error implies),
    inside an epoch loop that computes its cost once a pass over the data (`cost = quadratic_cost(W1, b1,
    W2, b2, X, Y)` after `for start in range(0, n, batch): xb = X[...]; ...`): that cost, computed on the
    minibatch of the step (each data set the step cuts its batch from read as the batch), is the step's
    loss, before any loss the error implies. The implied ones would fit a wrong delta of the cost the
    program reports (`a2 - y` is a cross-entropy's, missing the quadratic cost's slope)."""
    guessed = set(_implied_losses(step.prefix))  # `net.loss(t)` made up for `net.backprop(t)`: no loss the program shows
    if step.loop is None or step.loopless or any(not site.implied and site not in guessed for site in step.losses):
        return step
    inner = step.loop
    around = [s for s in outer.body if not any(n is inner for n in walk(s))]
    if not around:
        return step
    sources = _batch_sources(step.prefix, [s for s in inner.body if step.update_line <= s.lineno <= step.update_end_line])
    if not sources and isinstance(inner, ast.For) and isinstance(inner.iter, ast.Name) and isinstance(inner.target, (ast.Name, ast.Tuple)):
        # `for x, t in data:` one sample a pass: the epoch's `net.error(data)` on that one sample, `[(x, t)]`
        sources = {inner.iter.id: f"[{ast.unparse(inner.target)}]" if isinstance(inner.target, ast.Name) else f"[({ast.unparse(inner.target)})]"}
    if not sources:
        return step
    block = ast.copy_location(ast.While(test=ast.Constant(True), body=around, orelse=[]), around[0])
    block.end_lineno = around[-1].end_lineno
    # data the pass cuts rows from but does not use as cut (`xb = X[sel] + noise`): its batch has no name
    cut = {n.value.id for stmt in step.prefix for n in walk(stmt) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)} - set(sources)
    found: list[LossSite] = []
    for site in _losses(block, ()):
        if site.implied is not None or site.accumulated:
            continue
        try:
            value = ast.parse(site.expression, mode="eval")
        except SyntaxError:
            continue
        renamed = [n for n in walk(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in sources]
        if not renamed and (returned := _returned_by(tree, value.body)) is not None:
            # `total_error()` whose one statement returns the cost of the module's data set (`sum(... for x1, x2, t in data)`):
            # that expression, read here, is the cost, and the data it reads as a global is renamed as any other
            value = ast.Expression(body=returned)
            renamed = [n for n in walk(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in sources]
        if not renamed:
            continue  # a cost of data the step does not cut its batches from
        if any(isinstance(n, ast.Name) and n.id in cut for n in walk(value)):
            continue  # the cost of the clean data, while the step trains on a changed batch of it
        value = _Renamed(sources).visit(value)
        found.append(dataclasses.replace(site, expression=ast.unparse(value), in_prefix=False))
    if not found:
        return step
    with_losses = dataclasses.replace(step, losses=(found[0], *step.losses))
    if step.rotated is not None:
        with_losses = dataclasses.replace(with_losses, rotated=dataclasses.replace(step.rotated, losses=(found[0], *step.rotated.losses)))
    return with_losses


def _returned_by(tree: ast.Module | None, call: ast.expr) -> ast.expr | None:
    """The expression a module-level function of no parameters returns, for its call (`total_error()`),
    when returning it is all the function does (a docstring aside); None otherwise."""
    if tree is None or not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and not call.args and not call.keywords):
        return None
    function = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == call.func.id), None)
    if function is None or function.decorator_list or function.args.args or function.args.posonlyargs or function.args.kwonlyargs:
        return None
    body = function.body[1:] if isinstance(function.body[0], ast.Expr) and isinstance(function.body[0].value, ast.Constant) else function.body
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    return copy.deepcopy(body[0].value)


class _Renamed(ast.NodeTransformer):
    """Each name read that `sources` maps, replaced by its expression (`X` -> `xb`)."""

    def __init__(self, sources: dict[str, str]):
        self.sources = sources

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.sources:
            return ast.copy_location(ast.parse(self.sources[node.id], mode="eval").body, node)
        return node


def _reported_around(
    scope: ast.AST, loop: ast.For | ast.While, reached: Sequence[UpdateSite], prefix: tuple[ast.stmt, ...], updating: Sequence[ast.stmt],
    functions: frozenset[str] = frozenset(),
) -> list[LossSite]:
    """`print(epoch, loss(params, X, y))` after the minibatch loop that updates `params`: a loss function
    the program calls outside the step, handed the parameters the step updates (`params[k] -= ...`),
    for a step that computes and reports no loss of its own, on the step's minibatch (`_on_the_batch`).
    A loss whose data the step only takes part of (`X[i:i + 16]`) in a way no name shows stays unread:
    over all the data its gradient is not the update's."""
    roots = {_root(site.update.target) for site in reached if site.file is None} - {None, "self"}
    inside = {id(n) for n in walk(loop)}
    calls = sorted((
        node for node in walk(scope)
        if isinstance(node, ast.Call) and id(node) not in inside and not _held_out(node)
        and (_loss_call(node) or _paired_call(node, (*prefix, *updating), roots, functions))  # `J(w, b)` beside `grad(w, b)`
        and any(isinstance(a, ast.Name) and a.id in roots for a in node.args)
    ), key=lambda node: node.lineno)  # fmt: skip
    if not calls:
        return []
    site = LossSite(ast.unparse(calls[0].func), ast.unparse(calls[0]), calls[0].lineno, False)
    (batched,) = _on_the_batch([site], prefix, updating)
    data = {a.id for a in calls[0].args if isinstance(a, ast.Name) and a.id not in roots}
    cut = any(isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in data for n in walk(loop))
    return [batched] if batched.expression != site.expression or not cut else []


def _first_items(stmt: ast.stmt, call: ast.Call) -> dict[str, str]:
    """`mini_batch` -> `next(iter(mini_batches))` for `for mini_batch in mini_batches:` around `call`:
    the batch of the first update is the loop's first item, whatever a name the loop binds held
    when the step began (the last batch of the pass before, when the step is a later epoch)."""
    return {
        loop.target.id: f"next(iter({ast.unparse(loop.iter)}))"
        for loop in walk(stmt)
        if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and any(n is call for s in loop.body for n in walk(s))
    }


def _pairs_loop(node: ast.AST, me: str, bound: dict[str, str]) -> str | None:
    """The caller's expression for the batch a method loops over as `for x, y in batch`, calling
    `self.<m>(x, y)` (its backprop) in the loop."""
    for loop in (n for n in walk(node) if isinstance(n, ast.For)):
        target, source = loop.target, loop.iter
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(source, ast.Name) and source.id in bound):
            continue
        names = [ast.unparse(e) for e in target.elts]
        for call in (n for n in walk(loop) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
            if ast.unparse(call.func.value) == me and [ast.unparse(a) for a in call.args] == names:
                return bound[source.id]
    return None


_GRADIENT_CALL = re.compile(r"(?i)gradient|numerical_gradient|backward|backprop|grads?|compute_grad\w*")


def _implied_losses(prefix: tuple[ast.stmt, ...], tree: ast.AST | None = None) -> list[LossSite]:
    """`net.gradient(x, t)` with no loss in sight: `net.loss(x, t)`, the loss the object says it has; not when
    every class of `tree` defining that gradient method is one of its own (no base) without a `loss` method
    (a book network's `backprop(x, y)` beside its `cost(a, y)`: the error its backward starts from says it)."""
    found = []
    for stmt in prefix:
        for node in walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _GRADIENT_CALL.fullmatch(node.func.attr):
                if tree is not None and _without_loss_method(tree, node.func.attr):
                    continue
                owner = ast.unparse(node.func.value)
                arguments = ", ".join(ast.unparse(a) for a in node.args)
                found.append(LossSite(f"{owner}.loss", f"{owner}.loss({arguments})", node.lineno, False))
    return found


def _without_loss_method(tree: ast.AST, method: str) -> bool:
    """Whether the classes of `tree` that define `method` are all without a base of their own and a `loss` method."""
    owners = [c for c in walk(tree) if isinstance(c, ast.ClassDef) and any(isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name == method for d in c.body)]
    plain = all(not c.bases or all(isinstance(b, ast.Name) and b.id == "object" for b in c.bases) for c in owners)
    return bool(owners) and plain and not any(isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name == "loss" for c in owners for d in c.body)


_PLAIN_LOSS = re.compile(r"(?i)loss|cost|error|err|mse|[JEL]|e_total|objective")
_SMOOTHED = re.compile(r"(?i)smooth|running|avg|average|mean_|epoch|moving|ema|hist|batch_|print|log_")


def _loss_rank(name: str) -> int:
    """0: `loss`, `cost`, `J`; 1: `total_loss`, `data_loss`; 2: `smooth_loss`, `running_loss` (a loss made of losses)."""
    if _SMOOTHED.search(name):
        return 2
    return 0 if _PLAIN_LOSS.fullmatch(name) else 1


def _adjoints(prefix: tuple[ast.stmt, ...], updating: tuple[ast.stmt, ...] = ()) -> list[Adjoint]:
    """Backward-pass variables of the prefix paired with the forward values they differentiate.

    An adjoint's line is the last statement that changes it (`dscores[range(N), y] -= 1` after
    `dscores = probs.copy()`): its value is complete there.
    """
    last: dict[str, int] = {}
    found: list[Adjoint] = []
    # `self.w_out`, `params["w_out"]`: the step's parameters by their own names; `grad_w_out` is the
    # gradient of `self.w_out`, not of a forward value whose name shares a word with it (`z_out`)
    # (read in the pass, or written by its updates: `self.b_out -= eta * grad_b_out`)
    held = {n.attr for stmt in (*prefix, *updating) for n in walk(stmt) if isinstance(n, ast.Attribute)} | {
        n.slice.value for stmt in (*prefix, *updating) for n in walk(stmt)
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str)
    }  # fmt: skip
    for index, stmt in enumerate(prefix):
        for name in _targets(stmt):
            match = _ADJOINT.fullmatch(name)
            if _partial(name):
                match = None  # `d_ypred_d_h1`: one factor of the chain rule, not the loss's gradient
            if match is None and (forward := g_adjoint_of(name, stmt, last, {a.name for a in found})) is not None:
                found.append(Adjoint(name, forward, stmt.lineno, last[forward], index))  # `gact = gy @ W2.T` of `act`
            elif match is not None and name not in {a.name for a in found}:
                forwards = [f for f in _forward_names(match.group(1), name) if f in last and f != name]
                if not forwards and match.group(1).strip("_") in held:
                    last[name] = index
                    continue
                forwards = forwards or _abbreviated_forwards(match.group(1), [f for f in last if f != name])
                forwards = forwards or _compound_forwards(match.group(1), [f for f in last if f != name])
                forwards = forwards or _spelled_apart(name, [f for f in last if f != name])
                if forwards:
                    others = tuple((f, last[f]) for f in forwards[1:])
                    found.append(Adjoint(name, forwards[0], stmt.lineno, last[forwards[0]], index, others))
            last[name] = index
    changed = {name: stmt.lineno for stmt in prefix for name in _changed(stmt)}
    for stmt in prefix:  # `grad_h = (1 - neg[k]) * out[k]` in a loop of the pass, for `+=`: its value is the loop's last term
        if isinstance(stmt, (ast.For, ast.While)):
            for node in walk(stmt):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    name = node.targets[0].id
                    if not any(isinstance(n, ast.Name) and n.id == name for n in walk(node.value)):
                        changed[name] = max(changed.get(name, 0), node.lineno)
    return [Adjoint(a.name, a.forward, changed.get(a.name, a.line), a.forward_index, a.index, a.others) for a in found]


_GRADIENT_FUNCTION = re.compile(r"(?i).*(?:grad|deriv|prime|backward).*")
_G_ADJOINT = re.compile(r"g_?(?P<stem>[A-Za-z]\w*)")  # `gy`, `gact`, `g_hidden`: g for the gradient, as DeZero's `gy`


def g_adjoint_of(name: str, stmt: ast.stmt, known: Mapping[str, Any], adjoints: set[str]) -> str | None:
    """`act` of `gact`, `y` of `gy`: the forward value an adjoint written with a `g` before it is the gradient
    of. A `g` starts many names that are no gradient (`gamma`, `gates`, `grads`), so the name after the `g`
    must be bound already (`known`, a forward value of the pass) and the statement must read that value, an
    adjoint found before it (`adjoints`) or another such name (a backward's argument `gy` beside a forward's
    `y`): `gy = (y - t) / n`, then `gact = gy @ W2.T`."""
    match = _G_ADJOINT.fullmatch(name)
    if match is None or _ADJOINT.fullmatch(name) or name in adjoints:
        return None
    stem = match["stem"]
    if stem == name or stem not in known or _ADJOINT.fullmatch(stem) or _G_ADJOINT.fullmatch(stem) and stem in adjoints:
        return None
    read = reads(stmt)
    upstream = any((other := _G_ADJOINT.fullmatch(r)) is not None and other["stem"] in known for r in read - {name})
    return stem if stem in read or read & adjoints or upstream else None


def _loss_gradient_calls(prefix: tuple[ast.stmt, ...]) -> list[Adjoint]:
    """`g = huber_grad(r)` beside `loss = huber_loss(r)`: a function named for a gradient, called on the
    value the loss function is called on first, gives the loss's gradient with respect to that value,
    however the result is named (an adjoint `_adjoints` cannot tell from its name)."""
    bound: dict[str, int] = {}
    losses: set[str] = set()  # the first arguments of the loss calls so far
    found: list[Adjoint] = []
    for index, stmt in enumerate(prefix):
        call = stmt.value if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) else None
        if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Name):
            target, first, function = stmt.targets[0].id, call.args[0].id, ast.unparse(call.func).rpartition(".")[2]
            if _PLAIN_LOSS.fullmatch(target) or _loss_rank(target) < 2 and re.search(r"(?i)loss|cost", target):
                losses.add(first)
            elif first in losses and first in bound and _GRADIENT_FUNCTION.fullmatch(function) and not _ADJOINT.fullmatch(target):
                found.append(Adjoint(target, first, stmt.lineno, bound[first], index))
        for name in _targets(stmt):
            bound[name] = index
    return found


_PARTIAL = re.compile(r"d_?(?P<of>[A-Za-z]\w*?)_d_?(?P<by>[A-Za-z]\w*)")


def _spelled_apart(name: str, known: list[str]) -> list[str]:
    """`dE_douth1` -> ["out_h1"]: the loss's derivative written as a fraction, by a value spelled with an
    underscore the fraction leaves out."""
    partial = _PARTIAL.fullmatch(name)
    if partial is None or not _PLAIN_LOSS.fullmatch(partial["of"]):
        return []
    by = partial["by"].replace("_", "").lower()
    return [f for f in known if f.replace("_", "").lower() == by and not _ADJOINT.fullmatch(f)]


def _partial(name: str) -> bool:
    """`d_ypred_d_h1`, `d_h1_d_w1`: the derivative of one value with respect to another, a factor the
    chain rule multiplies, unless the value differentiated is the loss (`d_L_d_ypred`)."""
    match = _PARTIAL.fullmatch(name)
    return match is not None and not _PLAIN_LOSS.fullmatch(match["of"])


def _bindings(stmt: ast.stmt) -> Iterator[tuple[str, int]]:
    """(name, line) of what `stmt` binds, and of what the blocks nested in it bind, in source order:
    `dw += err * X[i]` inside `for i in range(n)` is where the step computes `dw`, not the
    `dw = np.zeros(3)` before that loop."""
    yield from ((name, stmt.lineno) for name in _targets(stmt))
    if isinstance(stmt, ast.Expr):  # `np.add.at(dE, ids, dh)`: where a zeroed gradient is filled
        yield from ((name, stmt.lineno) for name in _changed(stmt))
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for block in _child_blocks(stmt):
        for inner in block:
            yield from _bindings(inner)


def _changed(stmt: ast.stmt) -> list[str]:
    """Names a statement binds or writes into: `a = ...`, `a += ...`, `a[i] = ...`, `a[i] -= ...`."""
    names = _targets(stmt)
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) else []
    for target in targets:
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            names.append(target.id)
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Name) and _WRITES_FIRST.fullmatch(ast.unparse(call.func)):
        names.append(call.args[0].id)  # `np.add.at(dW, rows, g)`: the gradient filled in place
    return names


_WRITES_FIRST = re.compile(r"(?:\w+\.)?(?:add|subtract)\.at|(?:\w+\.)?copyto|(?:\w+\.)?put|(?:\w+\.)?place")

_BEFORE_ACTIVATION = ("input", "in", "net", "z", "sum", "pre", "inp")


def _compound_forwards(stem: str, known: list[str]) -> list[str]:
    """`delta_O1` -> ["O1_input", "O1_output"]: two-word names of the neuron, its input first."""
    stem = stem.strip("_").split("_")[-1].lower()  # `elta_O1`: the pattern's `d` took delta's first letter
    found = [f for f in known if len(words := f.lower().split("_")) == 2 and stem in words and not _ADJOINT.fullmatch(f) and not {"grad", "delta", "d"} & set(words)]
    return sorted(found, key=lambda f: not any(w in _BEFORE_ACTIVATION for w in f.lower().split("_")))


def _abbreviated_forwards(stem: str, known: list[str]) -> list[str]:
    """`grad_wrt_out_l_input` -> ["output_layer_input"]: a forward name whose words each begin with the
    adjoint's words, in order (`wrt_` dropped); only when one name fits."""
    words = [w for w in re.sub(r"^_*wrt_", "", stem).lower().split("_") if w]
    if len(words) < 2:
        return []
    found = [
        f for f in known
        if not _ADJOINT.fullmatch(f) and len(theirs := f.lower().split("_")) == len(words)
        and all(t.startswith(w) for w, t in zip(words, theirs))
    ]  # fmt: skip
    return found if len(found) == 1 else []


def _forward_names(stem: str, name: str) -> list[str]:
    """`dZ2` -> ["Z2"], `d_out_o1` -> ["out_o1", "o1"], `delta2` -> ["z2", "Z2"], `grad_scores` -> ["scores"],
    `dL_dZ` -> ["Z", ...] (the loss's derivative with respect to `Z`, written as a fraction)."""
    partial = _PARTIAL.fullmatch(name)
    names = [partial["by"]] if partial is not None and _PLAIN_LOSS.fullmatch(partial["of"]) else []
    names += [stem, stem.lstrip("_")]
    if name.startswith("delta") or re.fullmatch(r"d_?\d+", name):  # `delta2`, `d2`: the layers' adjoints by number
        digits = re.sub(r"\D", "", stem)
        names += [f"z{digits}", f"Z{digits}"] if digits else ["z", "Z"]
        if digits and int(digits) > 0:  # layers counted from the input: `delta2` of `z1` (the hidden layer's)
            names += [f"z{int(digits) - 1}", f"Z{int(digits) - 1}"]
    if "_" in stem:
        names.append(stem.split("_")[-1])
    return [n for n in dict.fromkeys(names) if n]


def reads(stmt: ast.stmt) -> set[str]:
    """Names a statement reads (`dz2 @ W2.T` reads dz2 and W2)."""
    return {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def consumers(step: TrainingStep, name: str, before: int) -> list[tuple[str, int]]:
    """The forward values computed from `name` by the prefix's first `before` statements: (name, line).

    Adjoints are left out: `z1` feeds `a1 = np.tanh(z1)`, not `dz1`.
    """
    adjoints = {a.name for a in step.adjoints}
    found: list[tuple[str, int]] = []
    for stmt in step.prefix[:before]:
        if name in reads(stmt):
            found += [(t, stmt.lineno) for t in _targets(stmt) if t != name and t not in adjoints and not _ADJOINT.fullmatch(t)]
    return list(dict.fromkeys(found))
