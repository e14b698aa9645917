"""The adjoint walk backwards through time, for a step that runs a recurrent net over a sequence.

A hand-written RNN or LSTM stores its forward values per time step (`hs[t]`,
`cs[t]`, `fs[t]`) and computes its adjoints in a loop running backwards
(`dh`, `dc`, `df` for step t, then `dhnext` carried to step t − 1). Each
adjoint is measured at each time step, in the order the backward loop computes
them: `dh` at step t against the loss with `hs[t]` moved right after the
forward loop stores it. A gate's adjoint is usually taken with respect to the
gate's pre-activation (`df = dc * c_prev * f * (1 - f)`), which is not stored:
when it is not the gradient of `fs[t]`, it is tried as the gradient of the
sigmoid's, tanh's or ReLU's input through `fs[t]`'s own slope.

The first wrong adjoint names the time step and the gate. When every adjoint
of the step after it was right and its statement reads a value the loop
carries over from there (`dh = Why.T @ dy + dhnext`), the carried value's
statement (`dhnext = Whh.T @ dhraw`) is the one to fix.

An adjoint a pass reads before it assigns it again at its end (`dz = dh * (1 -
hs[t] ** 2)` ... `dh = dz @ Wh.T`) leaves the pass as the gradient of the step
the loop visits next, `hs[t - 1]`, and is measured against that
(`TimeAdjoint.lag`). Each walked adjoint keeps the keys of its series the loop
worked on and those it never reached (`AtStep.unvisited`): a range that stops
one step short leaves every adjoint right and the gradients added up in the
loop without that step's terms.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.observe.budget import Deadline
from backprop_doctor.replay.inner import Hooks, code_of
from backprop_doctor.replay.runner import NotReplayable, Runner
from backprop_doctor.static.step_functions import REVERSED, STEP, TimeAdjoint, called_functions, time_adjoints
from backprop_doctor.static.steps import _ADJOINT

GATES = {
    "f": "forget gate",
    "i": "input gate",
    "o": "output gate",
    "g": "candidate cell",
    "cbar": "candidate cell",
    "c_bar": "candidate cell",
    "c_tilde": "candidate cell",
    "ct": "candidate cell",
    "c": "cell state",
    "h": "hidden state",
    "z": "gate input",
    "r": "reset gate",
    "u": "update gate",
    "y": "output scores",
}


@dataclass(frozen=True)
class Rewritten:
    """A statement of the pass that makes the value it carries to the step before (`dh_prev = dh * z`, then
    `dh_next = dh_prev`), and the one change of it (`dh_prev = dh * (1 - z)`) with which the first wrong
    adjoint of that step comes out right."""

    line: int
    end_line: int
    text: str
    fix: str


@dataclass(frozen=True)
class AtStep:
    """One time adjoint at one time step, as the walk found it."""

    adjoint: TimeAdjoint
    step: Any  # the time step (the backward loop variable's value)
    steps: int  # how many time steps the sequence has
    through: str | None = None  # "sigmoid", "tanh", "relu": right as the gradient of that activation's input
    carried: tuple[str, int] | None = None  # the value carried from the step after, blamed instead (`dhnext`, line)
    # the time steps the forward loop stored its series at (`hs[0]` ... `hs[7]`) that the backward loop never
    # visited (`range(T - 1, 0, -1)` stops before 0): no pass of it adds their terms to the parameters' gradients
    unvisited: tuple[int, ...] = ()
    visited: tuple[int, ...] = ()  # the steps it did visit, in its order
    rewritten: Rewritten | None = None  # the statement the carried value is made wrong at, and its one change that puts the adjoint right

    @property
    def name(self) -> str:
        return self.adjoint.name

    @property
    def line(self) -> int:
        if self.rewritten is not None:
            return self.rewritten.line
        return self.carried[1] if self.carried is not None else self.adjoint.line

    @property
    def forward(self) -> str:
        return self.adjoint.series if self.adjoint.local else f"{self.adjoint.series}[{self.step}]"

    @property
    def gate(self) -> str | None:
        stem = self.adjoint.name[1:].lstrip("_") if self.adjoint.name.startswith("d") else self.adjoint.name
        for end in ("_raw", "raw", "_pre", "_in", "_net", "net"):  # `df_in`: the forget gate's input
            if stem.endswith(end) and stem[: -len(end)] in GATES:
                stem = stem[: -len(end)]
        return GATES.get(stem)


def walk_through_time(runner: Runner, adjoints: list[TimeAdjoint], base_loss: float, rng: np.random.Generator, deadline: Deadline, measure: Any) -> list[tuple[AtStep, Any]]:
    """Measure `adjoints` step by step from the last time step backwards, up to the first wrong one.

    `measure` is `gradients.measure_adjoint` (it tries a gate's adjoint through the gate's slope). Returns (AtStep, Measured) pairs in the order measured.
    """
    codes: dict[str, Any] = {}
    usable = []
    for adjoint in adjoints:
        found = {site.function: runner.prefix_code() if site.function == STEP else code_of(runner.namespace, site) for site in (adjoint.forward_at, adjoint.adjoint)}
        if all(code is not None for code in found.values()):
            codes.update(found)
            usable.append(adjoint)
    if not usable:
        return []
    base = Hooks(codes)
    for adjoint in usable:
        base.each(adjoint.adjoint, adjoint.name, adjoint.variable)
        base.each(adjoint.forward_at, adjoint.series, adjoint.index, item=not adjoint.local)
    if any(a.in_update for a in usable):  # `rnn.backprop(d_y)` updates as it goes: run it too, to read its adjoints
        try:
            loss = runner.loss_of(runner.run_through_updates(base))
        except NotReplayable:
            return []
    else:
        loss = runner.loss(hooks=base)
    stepping = {site.function for a in usable if a.per_step for site in (a.adjoint, a.forward_at)}  # called once per time step
    if loss != base_loss or any(base.calls.get(name) != 1 for name in codes if name not in stepping) or any(not base.calls.get(name) for name in stepping):
        return []  # the functions run more than once per step: no one value per time step
    by_name: dict[str, TimeAdjoint] = {}
    for adjoint in usable:  # an adjoint paired with several series: the first whose values have its shape
        if _shaped(base, adjoint):
            by_name.setdefault(adjoint.name, adjoint)
    steps = max((len(base.steps.get(a.series, {})) for a in usable), default=0)
    right_at: dict[Any, bool] = {}
    walked: list[tuple[AtStep, Any]] = []
    for name, step in base.order:
        adjoint = by_name.get(name)
        if adjoint is None or deadline.passed():
            continue
        value, forward = base.steps[name].get(step), base.steps.get(adjoint.series, {}).get(_shifted(step, adjoint.lag))
        if not (isinstance(value, np.ndarray) and isinstance(forward, np.ndarray)) or value.shape != forward.shape or forward.dtype.kind != "f":
            continue

        def moved(delta: Any, adjoint: TimeAdjoint = adjoint, step: Any = _shifted(step, adjoint.lag)) -> float:
            hooks = Hooks(codes)
            hooks.at_step(adjoint.forward_at, adjoint.series, adjoint.index, step, lambda f: f + delta, local=adjoint.local)
            loss = runner.loss(hooks=hooks)
            if adjoint.series not in hooks.read:
                raise NotReplayable(f"`{adjoint.series}[{step}]` could not be moved")
            return loss

        measured = measure(name, adjoint.line, value, forward, moved, base_loss, rng)
        if measured.unused:
            continue
        if not measured.wrong and measured.through is None and _PRE_ACTIVATION.search(name):
            measured = _slope_left_out(measured, name, adjoint.line, value, forward, moved, base_loss, rng, adjoint.forward)
        through = measured.through
        right_at[step] = right_at.get(step, True) and not measured.wrong
        carried = None
        rewritten = None
        if measured.wrong and adjoint.carried:
            after = _step_after(step, right_at)
            if after is not None and right_at[after]:
                carried = adjoint.carried[0]  # its inputs from this step are right: what came from the step after is not
                right = {a.adjoint.line for a, m in walked if a.step == _shifted(after, a.adjoint.lag) and not m.wrong}
                rewritten = _carried_rewrite(runner, codes, adjoint, step, carried, right, value, forward, moved, base_loss, measure, deadline)
        visited, unvisited = _visits(base, adjoint)
        walked.append((AtStep(adjoint, _shifted(step, adjoint.lag), steps, through, carried, unvisited, visited, rewritten), measured))
        if measured.wrong:
            break
    return walked


REWRITES = 60  # changes of the pass's statements tried at most for one carried value
REWRITE_SECONDS = 4.0


def _carried_rewrite(
    runner: Runner, codes: dict[str, Any], adjoint: TimeAdjoint, step: Any, carried: tuple[str, int], right: set[int],
    value: Any, forward: Any, moved: Any, base_loss: float, measure: Any, deadline: Deadline,
) -> Rewritten | None:
    """The statement of the backward loop that the carried value (`dh_next = dh_prev`, line given) is computed
    from in the pass after, and its one change (`static.alternatives`, run by `rewrites`) that puts the adjoint
    measured wrong at `step` right: the statements that reach the carried one, but those of adjoints measured
    right at the step after (`right`, lines), each with the backward function's code swapped for the changed one
    and put back. Every statement's likely changes before any unlikely one, then the earliest statement. The
    numerical side does not change with the backward: each moved loss is computed once. None when no change
    does, within `REWRITES` changes and `REWRITE_SECONDS`, or the loop is not a function's own (a step function's,
    the step's, one that updates as it goes)."""
    from backprop_doctor import rewrites
    from backprop_doctor.static import alternatives

    site = adjoint.adjoint
    if adjoint.in_update or adjoint.per_step or site.function == STEP or adjoint.loop is None:
        return None
    func = _function_of(runner.namespace, site)
    function = rewrites.function_tree(func) if func is not None else None
    if function is None:
        return None
    loop = next((n for n in ast.walk(function) if isinstance(n, ast.For) and n.lineno == adjoint.loop.line), None)
    statements = list(alternatives._simple(loop.body)) if loop is not None else []
    last = next((s for s in statements if s.lineno == carried[1]), None)
    if last is None:
        return None
    searched = [s for s in alternatives.feeding([s for s in statements if s.lineno <= last.lineno]) if s.lineno not in right]
    seen: dict[bytes, float] = {}

    def remembered(delta: Any) -> float:
        key = np.asarray(delta).tobytes()
        if key not in seen:
            seen[key] = moved(delta)
        return seen[key]

    def wrong(candidate: Any) -> bool:
        found = measure(adjoint.name, adjoint.line, candidate, forward, remembered, base_loss, np.random.default_rng(0))
        return found.wrong or found.unused or found.inconclusive

    ends = time.perf_counter() + REWRITE_SECONDS
    try:
        if not wrong(value):
            return None  # not wrong under the probes it is tried with: no change can be told apart
        for tried, (statement, change) in enumerate(rewrites.variants(func, function, searched)):
            if tried >= REWRITES or time.perf_counter() > ends or deadline.passed():
                return None
            code = rewrites.variant_code(func, function, statement, change)
            if code is None:
                continue
            hooks = Hooks({**codes, site.function: code})
            hooks.each(site, adjoint.name, adjoint.variable)
            original = func.__code__
            func.__code__ = code
            try:
                runner.loss(hooks=hooks)
            except Exception:  # noqa: BLE001 - the user's code changed by us: a change that fails is not the fix
                continue
            finally:
                func.__code__ = original
            candidate = hooks.steps.get(adjoint.name, {}).get(step)
            if isinstance(candidate, np.ndarray) and candidate.shape == np.shape(value) and not wrong(candidate):
                return Rewritten(statement.lineno, statement.end_lineno or statement.lineno, ast.unparse(statement), change.text)
    except NotReplayable:
        return None
    return None


def _function_of(namespace: dict[str, Any], site: Any) -> Any:
    """The function object `site.function` names ("backward", "GRU.backward"), as `code_of` finds its code."""
    owner, _, name = site.function.rpartition(".")
    holder: Any = namespace.get(owner) if owner else None
    if owner and name.startswith("__") and not name.endswith("__"):
        name = f"_{owner.lstrip('_')}{name}"
    value = getattr(holder, name, None) if owner else namespace.get(name)
    value = getattr(value, "__func__", value)
    code = getattr(value, "__code__", None)
    return value if code is not None and code.co_firstlineno == site.first_line else None


# `dhraw`, `dh_raw`, `dz_pre`: named as the gradient of an activation's input, not of the output the series stores
_PRE_ACTIVATION = re.compile(r"(raw|_pre)$")


def _slope_left_out(measured: Any, name: str, line: int, value: Any, forward: Any, moved: Any, base_loss: float, rng: np.random.Generator, output: str) -> Any:
    """`dhraw = dh`: an adjoint named after an activation's input that is right as the gradient of its
    output (`hs[t]`) and wrong as the gradient of its input, through every slope the output allows: the
    slope is left out. Returned measured as the input's gradient (wrong), with `output_of` naming the
    activation and the output; `measured` itself when it is right through some slope too (a slope
    near 1 leaves the two readings apart by less than the tolerance)."""
    from backprop_doctor.replay.gradients import _measure, slopes

    left: Any = None
    for activation, slope in slopes(forward):
        retried = _measure(name, line, value, forward, lambda d, s=slope: moved(d * s), base_loss, rng)
        if not retried.wrong or retried.unused:
            return measured
        if left is None:
            retried.output_of = (activation, output)
            left = retried
    return left if left is not None else measured


def renamed_series(tree: ast.Module | None, prefix: tuple[ast.stmt, ...], paired: tuple[TimeAdjoint, ...]) -> list[TimeAdjoint]:
    """Time adjoints whose series no adjoint is named after (`dh` of `states[t]`, not of `hs[t]`).

    The static reading pairs `dh` with `hs` by name. A series the forward loop stores that no adjoint
    pairs with is tried as the series of each adjoint that a statement of a backward loop uses with
    it (`dhraw = (1 - states[t] ** 2) * dh`): the file is read again with the series renamed after
    the adjoint (`states` as `hs`). Only adjoints the loop assigns outright count: not a parameter's
    gradient it accumulates (`dWxh += ...`), nor one carried over from the step before (`dhnext`,
    read before it is assigned). The walk keeps a pairing only where the adjoint's value has the
    series' shape (`walk_through_time`)."""
    if tree is None:
        return []
    names = {a.name for a in paired}
    found: dict[tuple[str, str], TimeAdjoint] = {}
    for series, name in _used_together(tree, prefix, {a.series for a in paired}):
        stem = _ADJOINT.fullmatch(name)
        alias = f"{stem.group(1)}s" if stem is not None else ""
        if not alias or any(isinstance(n, ast.Name) and n.id == alias for n in ast.walk(tree)):
            continue
        renamed = _Rename(series, alias).visit(copy.deepcopy(tree))
        for adjoint in time_adjoints(renamed, prefix):
            if adjoint.series == alias and adjoint.name not in names and _loop_reads(renamed, adjoint, alias):
                found.setdefault((adjoint.name, series), dataclasses.replace(adjoint, series=series))
    return list(found.values())


def _loop_reads(tree: ast.Module, adjoint: TimeAdjoint, name: str) -> bool:
    """Whether the backward loop the adjoint is computed in reads `name`: a bidirectional RNN's two
    backward loops both assign `da`, and the first one's (over `hf`) is not the gradient of `hb`, the
    series the second one reads with its own `da`."""
    loop = adjoint.loop
    if loop is None:
        return True
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and loop.line <= n.lineno <= loop.end_line
        for n in ast.walk(tree)
    )  # fmt: skip


def _used_together(tree: ast.Module, prefix: tuple[ast.stmt, ...], claimed: set[str]) -> list[tuple[str, str]]:
    """(series, adjoint): a series stored per step (`states[t] = ...`) that no adjoint pairs with, and an
    adjoint a loop assigns outright and reads in one statement with it, in the order of the file."""
    loops = [n for _, function in called_functions(tree, prefix) for n in ast.walk(function) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)]
    stored = [
        t.value.id for loop in loops for stmt in loop.body if isinstance(stmt, ast.Assign) for t in stmt.targets
        if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and isinstance(t.slice, ast.Name) and t.slice.id == loop.target.id
    ]  # fmt: skip
    pairs: list[tuple[str, str]] = []
    for loop in loops:
        read: set[str] = set()  # names the loop body has read so far
        outright: list[str] = []
        statements = [{n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} for stmt in loop.body]
        for stmt, reads in zip(loop.body, statements):
            read |= reads
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if isinstance(target, ast.Name) and _ADJOINT.fullmatch(target.id) and target.id not in read | set(outright):
                outright.append(target.id)
        pairs += [(s, n) for s in dict.fromkeys(stored) if s not in claimed for n in outright if any({s, n} <= r for r in statements)]
    return list(dict.fromkeys(pairs))


class _Rename(ast.NodeTransformer):
    """Every `old` name of a tree as `new`."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id == self.old:
            node.id = self.new
        return node


def _shaped(hooks: Hooks, adjoint: TimeAdjoint) -> bool:
    """At some step, the adjoint's value has the shape of its series' value."""
    forward = hooks.steps.get(adjoint.series, {})
    return any(
        isinstance(value, np.ndarray) and isinstance(forward.get(step), np.ndarray) and value.shape == forward[step].shape
        for step, value in hooks.steps.get(adjoint.name, {}).items()
    )


def _visits(hooks: Hooks, adjoint: TimeAdjoint) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The keys of the series the backward loop's passes worked on (the values its variable took where the
    adjoint's statement ran, shifted as the pass reads the series: `TimeAdjoint.offset`), and the keys of the
    stored series it never worked on: both empty unless every step is a whole number."""
    if adjoint.local or adjoint.per_step or adjoint.variable.startswith(REVERSED):
        return (), ()
    visited = tuple(dict.fromkeys(step + adjoint.offset for name, step in hooks.order if name == adjoint.name and type(step) is int))
    stored = tuple(hooks.steps.get(adjoint.series, {}))
    if not visited or not stored or any(type(step) is not int for step in (*visited, *stored)):
        return (), ()
    return visited, tuple(sorted(set(stored) - set(visited)))


def _shifted(step: Any, lag: int) -> Any:
    """The time step whose forward value an adjoint read at pass `step` is the gradient of (`TimeAdjoint.lag`)."""
    if not lag:
        return step
    try:
        return step + lag
    except TypeError:
        return None


def _step_after(step: Any, right_at: dict[Any, bool]) -> Any:
    """The time step measured just before `step` in the backward loop (t + 1), if any."""
    try:
        return step + 1 if step + 1 in right_at else None
    except TypeError:
        return None


__all__ = ["AtStep", "GATES", "Rewritten", "renamed_series", "walk_through_time"]
