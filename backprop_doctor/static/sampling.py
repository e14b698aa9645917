"""Gradients estimated from values a training step draws from a distribution its parameters make.

REINFORCE and its kin (a policy gradient, a score-function estimate) sample actions from the policy the
parameters give (`acts = (rng.random((n, 1)) > np.cumsum(probs, axis=1)).sum(axis=1)`, `a = rng.choice(A,
p=pi)`, `np.searchsorted(np.cumsum(p), rng.random())`, `np.argmax(logits + rng.gumbel(size=...))`) and
step along `(onehot(a) - pi) * advantage`. That is the gradient of no deterministic loss of the
parameters: it is the gradient of a surrogate `-mean(adv * log pi(a|s))` only while the drawn actions
are held as they are. `sampled_estimates` reads, for one `static.steps.TrainingStep`, which updates
apply such a gradient and which of the step's losses is such a surrogate (it reads the drawn values and
the parameters other than through them), so the replay compares those updates against a surrogate only.

A draw is sampled from the parameters when a comparison or a selecting call (`choice`, `searchsorted`,
`argmax`, ...) holds both a random value and a value computed from the parameters: a dropout mask
(`rng.random(h.shape) < keep`) reads only `h`'s shape, a mini-batch's indices (`rng.choice(len(X), B)`)
only a size, and neither is a sample of the policy.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backprop_doctor.static.tree import walk

if TYPE_CHECKING:
    from backprop_doctor.static.steps import LossSite, TrainingStep, UpdateSite

# a draw from a random stream (`rng.random(...)`, `np.random.choice(...)`, `random.choices(...)`)
_DRAWS = frozenset({
    "random", "rand", "random_sample", "uniform", "choice", "choices", "multinomial", "binomial", "gumbel", "sample", "categorical",
})  # fmt: skip
_STREAM = re.compile(r"(?i)(^|\.)(np\.random|numpy\.random|random|\w*rng\w*|\w*random\w*|gen|generator|prng)$")
# a call that picks among values by their size: with a random value and the policy's, a sample of it
_SELECTING = frozenset({"choice", "choices", "multinomial", "binomial", "searchsorted", "argmax", "digitize", "categorical"})
# reads of an array's size, not of its values
_SIZES = frozenset({"shape", "size", "ndim", "dtype"})
_SIZE_CALLS = frozenset({"len", "range", "zeros_like", "ones_like", "empty_like", "zeros", "ones", "empty", "eye", "arange", "full_like"})


@dataclass(frozen=True)
class Sampled:
    """What one training step samples: the updates whose gradient is estimated from its draws, and the names
    (in the loop, or `self.x` texts) holding values computed from the draws or from the parameters."""

    updates: frozenset[tuple[int, int, str | None]] = frozenset()  # (line, col, file) of each sampled update
    drawn: frozenset[str] = frozenset()  # names holding a draw from the policy, or computed from one
    # for each sampled update, the names computed from the parameter it moves other than through a draw
    direct: dict[tuple[int, int, str | None], frozenset[str]] = field(default_factory=dict)
    line: int = 0  # the first statement that draws from the policy
    twins: tuple[LossSite, ...] = field(default=())  # the file's loss functions beside the gradient's function (`_twins`)

    def estimated(self, site: UpdateSite) -> bool:
        return (site.update.line, site.update.col, site.update.file) in self.updates

    def surrogate(self, loss: LossSite | None, site: UpdateSite) -> bool:
        """Whether `loss` reads the draws and the parameter `site` moves besides: `-mean(adv * logp[range(n),
        acts])`, the loss a sampled gradient is the gradient of (not a regret on other data, a sum of rewards,
        nor a critic's value loss beside an actor's update)."""
        if loss is None:
            return False
        try:
            node = ast.parse(loss.expression, mode="eval").body
        except SyntaxError:
            return False
        reads = set(_reads(node))
        if loss.read:
            reads.add(loss.read)
        if loss.in_prefix:
            reads.add(loss.name)
        key = (site.update.line, site.update.col, site.update.file)
        return bool(reads & self.drawn) and bool(reads & self.direct.get(key, frozenset()))

    def judged(self, loss: LossSite | None, site: UpdateSite) -> bool:
        """Whether the update at `site` can be compared against `loss`: its gradient is no estimate from
        draws, or `loss` is the surrogate it is the gradient of."""
        return not self.estimated(site) or self.surrogate(loss, site)


def _last_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_draw(node: ast.AST) -> bool:
    """`rng.random(...)`, `np.random.choice(...)`, `random.choices(...)`, `choice(...)` imported bare."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr in _DRAWS and bool(_STREAM.search(ast.unparse(func.value)))
    return isinstance(func, ast.Name) and func.id in ("choice", "choices", "multinomial")


def _reads(node: ast.AST) -> Iterator[str]:
    """The names and attribute texts (`self.W`) an expression reads by value: not `X.shape`, `len(X)`,
    `np.zeros_like(W)`, nor the random stream a draw is made from."""
    if isinstance(node, ast.Attribute) and node.attr in _SIZES:
        return
    if isinstance(node, ast.Call):
        if _last_name(node.func) in _SIZE_CALLS and not _is_draw(node):
            return
        if _is_draw(node):
            for part in (*node.args, *(k.value for k in node.keywords)):
                yield from _reads(part)
            return
    if isinstance(node, ast.Attribute):
        yield ast.unparse(node)
    if isinstance(node, ast.Name):
        yield node.id
    for child in ast.iter_child_nodes(node):
        yield from _reads(child)


def _base(target: ast.expr) -> str | None:
    """`theta` of `theta[k]`, `self.W` of `self.W[0]`: the name or attribute a target writes into."""
    while isinstance(target, (ast.Subscript, ast.Starred)):
        target = target.value
    return ast.unparse(target) if isinstance(target, (ast.Name, ast.Attribute)) else None


def _binders(body: Iterable[ast.stmt]) -> Iterator[tuple[list[str], ast.expr]]:
    """(names written, value) for each statement of `body` that binds: assignments, `x.append(v)`,
    a `for` target from its iterable; not inside functions defined there."""
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Assign):
                targets = [b for t in node.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t]) if (b := _base(e))]
                yield targets, node.value
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                if (b := _base(node.target)) is not None:
                    yield [b], node.value
            elif isinstance(node, (ast.For, ast.comprehension)):  # also `for row, x in zip(pi, u)` inside a comprehension
                yield from _loop_binders(node.target, node.iter)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend") and node.args:
                if (b := _base(node.func.value)) is not None:
                    yield [b], node.args[0]


def _loop_binders(target: ast.expr, iterable: ast.expr) -> Iterator[tuple[list[str], ast.expr]]:
    """`for row, u in zip(P, U)`: `row` from `P`, `u` from `U` (each its own); `for i, x in enumerate(X)`:
    `x` from `X`; otherwise every target from the whole iterable."""
    elements = target.elts if isinstance(target, ast.Tuple) else [target]
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and not iterable.keywords:
        if iterable.func.id == "zip" and len(iterable.args) == len(elements) and isinstance(target, ast.Tuple):
            for element, argument in zip(elements, iterable.args):
                if (b := _base(element)) is not None:
                    yield [b], argument
            return
        if iterable.func.id == "enumerate" and len(elements) == 2 and iterable.args:
            if (b := _base(elements[1])) is not None:
                yield [b], iterable.args[0]
            return
    yield [b for e in elements if (b := _base(e))], iterable


class _Flow:
    """The names of one body that hold draws from the policy, and those computed from the parameters
    other than through a draw, from `seeds` (the parameters, and what the caller hands over)."""

    def __init__(self, functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]], depth: int = 2) -> None:
        self.functions = functions
        self.depth = depth
        self.direct: set[str] = set()
        self.random: set[str] = set()
        self.drawn: set[str] = set()
        self.first = 0
        self.seeds: set[str] = set()  # the parameters: what the update writes into them is no draw

    def run(self, body: list[ast.stmt], direct: set[str], drawn: set[str] = frozenset()) -> _Flow:
        self.direct, self.drawn, self.seeds = set(direct), set(drawn), set(direct)
        binders = list(_binders(body))
        for _ in range(12):
            before = (len(self.direct), len(self.random), len(self.drawn))
            for targets, value in binders:
                self._bind(targets, value)
            if (len(self.direct), len(self.random), len(self.drawn)) == before:
                break
        # a name bound before the fixpoint knew it held a draw (`chosen` of a comprehension read first) is no
        # value of the parameters alone: the direct names again, through no draw
        self.direct = set(self.seeds)
        for _ in range(12):
            before_direct = len(self.direct)
            for targets, value in binders:
                keys = self._keys(value)
                if keys & self.direct and not keys & self.drawn and not self.samples(value):
                    self.direct.update(t for t in targets if t not in self.drawn)
            if len(self.direct) == before_direct:
                break
        return self

    def _keys(self, node: ast.AST) -> set[str]:
        found = set(_reads(node))
        return found | {text.rpartition(".")[0] for text in found if "." in text}  # `self.W.T` reads `self.W`

    def samples(self, node: ast.AST) -> bool:
        """Whether `node` holds a draw from the policy: a comparison or a selecting call with a random value
        and a value computed from the parameters in it, or a call of the file's own function that makes one."""
        for inner in walk(node):
            selecting = isinstance(inner, ast.Compare) or isinstance(inner, ast.Call) and _last_name(inner.func) in _SELECTING
            # the random value is a draw of its own (`u`, `rng.random(...)`), not a batch cut at random indices
            # that the parameters then act on (`h > 0` of `h = relu(X[idx] @ W1)`)
            if selecting and self._keys(inner) & self.direct and any(self._pure_draw(n) for n in walk(inner)):
                return True
            if isinstance(inner, ast.Call) and self._sampling_callee(inner):
                return True
        return False

    def _pure_draw(self, node: ast.AST) -> bool:
        if _is_draw(node):
            return True
        text = ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        return text is not None and text in self.random and text not in self.direct

    def _sampling_callee(self, call: ast.Call) -> bool:
        if self.depth <= 0:
            return False
        for function in self.functions.get(_last_name(call.func), []):
            params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            method = bool(params) and params[0] in ("self", "cls") and isinstance(call.func, ast.Attribute)
            if method:
                params = params[1:]
            seeds: set[str] = set()
            for param, argument in zip(params, call.args):
                if self._keys(argument) & self.direct:
                    seeds.add(param)
            for keyword in call.keywords:
                if keyword.arg is not None and self._keys(keyword.value) & self.direct:
                    seeds.add(keyword.arg)
            if method:  # `agent.W` moved by the step is `self.W` inside `agent.act(s)`
                receiver = ast.unparse(call.func.value)  # type: ignore[attr-defined]
                seeds |= {"self" + text[len(receiver):] for text in self.direct if text.startswith(receiver + ".")}
            if not seeds:
                continue
            inner = _Flow(self.functions, self.depth - 1).run(function.body, seeds)
            if inner.drawn:
                return True
        return False

    def _bind(self, targets: list[str], value: ast.expr) -> None:
        targets = [t for t in targets if t not in self.seeds]
        if not targets:
            return
        keys = self._keys(value)
        sampling = self.samples(value)
        if sampling and not self.first:
            self.first = getattr(value, "lineno", 0)
        if keys & self.drawn or sampling:
            self.drawn.update(targets)
        elif keys & self.direct:
            self.direct.update(targets)  # computed from the parameters, not through a draw
        if any(_is_draw(n) for n in walk(value)) or keys & self.random:
            self.random.update(targets)


def _functions(tree: ast.Module) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
    found: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, []).append(node)
    return found


def _gradient_node(site: UpdateSite) -> ast.AST | None:
    try:
        return ast.parse(site.gradient, mode="eval").body
    except SyntaxError:
        return None


def sampled_estimates(tree: ast.Module | None, step: TrainingStep) -> Sampled:
    """The updates of `step` whose gradient reads a draw from the policy its parameters make (or is a call
    of the file's own function that draws one), with the names that hold such draws; empty when none."""
    if tree is None or step.loop is None:
        return Sampled()
    functions = _functions(tree)
    seeds = {b for site in step.updates if site.update.file is None and (b := _base_text(site.update.target))}
    flow = _Flow(functions).run(list(step.loop.body), seeds)
    estimated: dict[tuple[int, int, str | None], frozenset[str]] = {}
    drawn = set(flow.drawn)
    for site in step.updates:
        if site.update.file is not None:
            continue
        node = _gradient_node(site)
        if node is None:
            continue
        base = _base_text(site.update.target)
        if site.update.function == step.function or site.update.function is None:
            here, body = flow, list(step.loop.body)
        else:  # an update in a function the pass calls (`agent.learn(...)`): the draws made there
            name = site.update.function.rpartition(".")[2]
            bodies = [f.body for f in functions.get(name, [])]
            if not bodies:
                continue
            body = bodies[0]
            here = _Flow(functions).run(body, {b for s in step.updates if s.update.function == site.update.function and (b := _base_text(s.update.target))})
            drawn |= here.drawn
        if here._keys(node) & here.drawn or here.samples(node):
            # what this parameter alone makes, other than through a draw (a critic's value is not the actor's)
            own = _Flow(functions).run(body, {base} if base else set())
            estimated[(site.update.line, site.update.col, site.update.file)] = frozenset(own.direct)
    if not estimated:
        return Sampled()
    twins = _twins(tree, step, flow)
    return Sampled(frozenset(estimated), frozenset(drawn), estimated, flow.first, twins)


def _base_text(target: str) -> str | None:
    try:
        node = ast.parse(target, mode="eval").body
    except SyntaxError:
        return None
    return _base(node)


_LOSS_FUNCTION = re.compile(r"(?i).*(loss|cost|objective|surrogate).*")
_GRADIENT_FUNCTION = re.compile(r"(?i).*(grad|deriv|backward).*")


def _twins(tree: ast.Module, step: TrainingStep, flow: _Flow) -> tuple[LossSite, ...]:
    """`surrogate_loss(theta, S, acts, adv)` for an update along `policy_gradient(theta, S, acts, adv)`: a
    function of the file named like a loss whose parameters are the gradient function's, called with the
    arguments the update hands that one (the loss its gradient is written for, which the loop may never call)."""
    from backprop_doctor.static.steps import LossSite

    functions = _functions(tree)
    found: list[LossSite] = []
    for site in step.updates:
        node = _gradient_node(site)
        for call in [n for n in walk(node) if isinstance(n, ast.Call)] if node is not None else []:
            name = _last_name(call.func)
            if not _GRADIENT_FUNCTION.fullmatch(name) or name not in functions:
                continue
            params = [a.arg for a in functions[name][0].args.args]
            for other, defs in functions.items():
                if other == name or not _LOSS_FUNCTION.fullmatch(other) or _GRADIENT_FUNCTION.fullmatch(other):
                    continue
                if [a.arg for a in defs[0].args.args] != params:
                    continue
                twin = ast.Call(ast.Name(other, ast.Load()), call.args, call.keywords)
                text = ast.unparse(twin)
                if text not in {s.expression for s in found}:
                    found.append(LossSite(other, text, defs[0].lineno, False))
    return tuple(found)
