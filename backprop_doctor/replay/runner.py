"""Run the statements of one captured step again, from a fresh copy of its state.

`Runner.loss(changes)` copies the state (`State.fresh`, which also resets the
random generators), applies the changes (a parameter moved by `h * v`, a forward
value replaced after the statement that computes it), runs the step's prefix
with the program's output thrown away, and returns the loss the program
computes. Every run starts from the same state, so two runs with the same
changes give the same loss: `Runner.repeatable` proves it before any gradient is judged.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import io
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backprop_doctor.observe.record import number
from backprop_doctor.replay.capture import Capture
from backprop_doctor.replay.inner import Hooks
from backprop_doctor.replay.log_guard import Guards
from backprop_doctor.replay.state import Path, assign, resolve
from backprop_doctor.scalar_autograd import node_number
from backprop_doctor.static.steps import LossSite

Change = tuple[Path, Any]
_WINDOW = "__backprop_doctor_window__"  # where a run keeps the namespaces of a window's earlier passes (`capture.Capture.window`)


class NotReplayable(Exception):
    """The step cannot be run again on its own (a `break` in it, a name it cannot find...)."""


class Runner:
    def __init__(self, capture: Capture, path: str):
        assert capture.state is not None and capture.namespace is not None
        self.capture = capture
        self.state = capture.state
        self.step = capture.step
        self.path = path
        self.namespace = capture.namespace
        self.runs = 0
        prefix = list(self.step.prefix)
        if any(isinstance(n, (ast.Break, ast.Continue, ast.Return, ast.Yield, ast.YieldFrom)) for s in prefix for n in _own_nodes(s)):
            raise NotReplayable("the step leaves the loop or the function part way (break, continue, return)")
        self._codes: dict[tuple[int, int, int], Any] = {}
        self.loss_site: LossSite | None = None
        self.sign = 1.0  # -1: the program maximises what it computes (gradient ascent): its loss is the negative
        self.guards: Guards | None = None  # set when a guard inside the loss's log moves it: every run takes the guard out
        self.log_guard = 0.0  # how far a guard left in the loss's log takes a right gradient from it at this state (`log_guard`)
        # a window of passes that accumulate for one update (`capture.Capture.window`): each run makes them all,
        # its loss their mean; `last_pass_only` reads the last one's alone (an adjoint moved in that pass only)
        self.window: list[dict[str, Any]] = list(capture.window)
        self.last_pass_only = capture.last_pass_only
        self.scalar_scale: float | None = None  # set while the adjoints of a network of scalar weights are walked (`gradients._scalar_scale`)

    def _code(self, start: int, stop: int, updating: Sequence[ast.stmt] = ()) -> Any:
        """The prefix's statements `start:stop` compiled as one module, followed by `updating` (the
        statements that update, run after the whole prefix), each once per key."""
        key = (start, stop, len(updating))
        if key not in self._codes:
            module = ast.Module(body=[*self.step.prefix[start:stop], *updating], type_ignores=[])
            owner = (self.step.function or "").rpartition(".")[0].rpartition(".")[2]
            if owner:  # a method's `self.__forward(X)` is `self._Net__forward(X)` once compiled in its class
                module = _Mangled(owner.lstrip("_")).visit(copy.deepcopy(module))
            try:
                self._codes[key] = compile(module, self.path, "exec", dont_inherit=True)
            except SyntaxError as error:
                raise NotReplayable(f"the step does not compile on its own: {error}") from error
        return self._codes[key]

    def prefix_code(self) -> Any:
        """The code `run` executes for the whole prefix: hooks recognise its frame by it."""
        return self._code(0, len(self.step.prefix))

    def fresh(self) -> dict[str, Any]:
        """A namespace holding a fresh copy of the step's state (the random generators reset)."""
        return self._fresh()

    def _fresh(self) -> dict[str, Any]:
        variables = self.state.fresh()
        if self.capture.module_level:
            self.namespace.update(variables)
            return self.namespace
        namespace = dict(self.namespace)
        namespace.update(variables)
        return namespace

    def run(
        self, changes: Sequence[Change] = (), after: int | None = None, later: Sequence[tuple[str, Callable[[Any], Any]]] = (), hooks: Hooks | None = None
    ) -> dict[str, Any]:
        """Run the prefix with `changes` applied first; `later` rebinds names after statement `after`;
        `hooks` reach into the frames of the functions the step calls (`replay.inner`)."""
        namespace = self._fresh()
        for path, value in changes:
            assign(namespace, path, value)
        size = len(self.step.prefix)
        self.runs += 1
        self._earlier_passes(namespace)
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            hooks or contextlib.nullcontext(),
            self.guards.active() if self.guards is not None else contextlib.nullcontext(),
        ):
            if after is None:
                exec(self._lifted(self._code(0, size)), namespace)  # noqa: S102 - the user's own statements, in the sandbox
            else:
                exec(self._lifted(self._code(0, after + 1)), namespace)  # noqa: S102
                for name, change in later:
                    namespace[name] = change(namespace[name])
                exec(self._lifted(self._code(after + 1, size)), namespace)  # noqa: S102
        return namespace

    def _earlier_passes(self, namespace: dict[str, Any]) -> None:
        """A window's passes before its last, run plainly from `namespace`, each with the names the loop
        rebound for it; the namespace each left is kept in `namespace` for `loss_of`."""
        namespace.pop(_WINDOW, None)
        if not self.window:
            return
        earlier: list[dict[str, Any]] = []
        code = self._lifted(self._code(0, len(self.step.prefix)))
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            self.guards.active() if self.guards is not None else contextlib.nullcontext(),
        ):
            for rebound in self.window:
                exec(code, namespace)  # noqa: S102 - the user's own statements, in the sandbox
                earlier.append(dict(namespace))
                namespace.update({k: v.copy() if isinstance(v, np.ndarray) else copy.copy(v) for k, v in rebound.items()})
        namespace[_WINDOW] = earlier

    def _lifted(self, code: Any) -> Any:
        """The step's code with a guard inside its loss's log taken out, once the replay takes it out (`guards`)."""
        return self.guards.code(code) if self.guards is not None else code

    def run_through_updates(self, hooks: Hooks) -> dict[str, Any]:
        """Run the prefix and then the statements that update, from a fresh copy, with `hooks`: to read
        the adjoints of a backward that updates as it goes (`rnn.backprop(d_y)`). The loss is the prefix's."""
        step = self.step
        updating = [s for s in getattr(step.loop, "body", []) if step.update_line <= s.lineno <= step.update_end_line]
        if not updating or any(_own_nodes(s) for s in updating):
            raise NotReplayable("the step's updates cannot be run on their own")
        code = self._code(0, len(step.prefix), updating)
        namespace = self._fresh()
        self.runs += 1
        self._earlier_passes(namespace)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), hooks:
            exec(code, namespace)  # noqa: S102 - the user's own statements, in the sandbox
        return namespace

    def loss_of(self, namespace: dict[str, Any]) -> float | None:
        """The loss of the run that left `namespace`: in a window, the mean of its passes' losses."""
        last = self._loss_of(namespace)
        earlier = namespace.get(_WINDOW)
        if last is None or not earlier or self.last_pass_only:
            return last
        values = [self._loss_of(passed) for passed in earlier]
        if any(v is None for v in values):
            return None
        return (sum(values) + last) / (len(values) + 1)  # type: ignore[arg-type]

    def _loss_of(self, namespace: dict[str, Any]) -> float | None:
        sites = [self.loss_site] if self.loss_site is not None else list(self.step.losses)
        if self.loss_site is None:
            # none of them a number (`net.loss(y)` made up from `net.backward(y)` for an object that has no
            # `loss`, a loss printed outside the step's loop): the losses its output error implies
            # (`d2 = (self.P - y) / n`) are the ones to try, after them
            sites += [s for s in self.step.other_losses if s.implied and s not in sites]
        for site in sites:
            try:
                if site.accumulated:  # what this pass added to the sum (the state holds it before the pass)
                    value = namespace.get(site.name) - self.state.values.get(site.name, 0)
                elif site.in_prefix:
                    value = namespace.get(site.bound)
                else:
                    with contextlib.redirect_stdout(io.StringIO()), self.guards.active() if self.guards is not None else contextlib.nullcontext():
                        value = eval(compiled(site.expression), namespace)  # noqa: S307 - the user's own expression
            except Exception:  # noqa: BLE001 - a loss written after the update may need names the prefix does not make
                continue
            found = number(value)
            if found is None:
                found = node_number(value)  # a loss an autograd engine computes (`Value`, a one-element `Tensor`): its number
            if found is None and isinstance(value, tuple) and len(value) >= 2 and number(value[0]) is not None:
                found = number(value[0])  # `(loss, probabilities)`, `(loss, grads)`: a loss function that returns more
            if found is None and _per_element(site, value):
                found = float(np.sum(value))  # a loss per sample or per element (`0.5 * (y - p) ** 2`): its sum
            if found is not None and math.isfinite(found):
                self.loss_site = site
                return self.sign * found
        return None

    def own_loss_lost(self, namespace: dict[str, Any]) -> bool:
        """Whether the program's own loss, a call written after the update (`compute_cost(theta, X, y)`
        appended to a history), is inf or NaN where the pass starts: the update before it threw the
        parameters out (a gradient many times too large), and `loss_of` went on to a loss only implied."""
        for site in self.step.losses:
            if site.implied or site.accumulated or site.in_prefix:
                continue
            try:
                with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
                    value = eval(site.expression, dict(namespace))  # noqa: S307 - the user's own expression
                found = float(np.asarray(value, dtype=np.float64).reshape(()))
            except Exception:  # noqa: BLE001 - not a number: nothing lost
                continue
            return not math.isfinite(found)
        return False

    def loss_read_under(self, hooks: Hooks) -> float | None:
        """The loss read after a plain run of the prefix, with `hooks` reaching into the functions the
        reading calls (a loss that is a call: `cost(theta)`, `net.train(X, y)`), not into the prefix's."""
        namespace = self.run()
        with hooks:
            return self.loss_of(namespace)

    def loss(
        self, changes: Sequence[Change] = (), after: int | None = None, later: Sequence[tuple[str, Callable[[Any], Any]]] = (), hooks: Hooks | None = None
    ) -> float:
        value = self.loss_of(self.run(changes, after, later, hooks))
        if value is None:
            raise NotReplayable("the step's loss could not be computed again")
        return value

    def value(self, path: Path) -> Any:
        return resolve(self._fresh(), path)

    def state_value(self, path: Path) -> Any:
        """The value at `path` in the captured state itself (not a copy: read it, never write it)."""
        return resolve(self.state.values, path)


@functools.lru_cache(maxsize=256)
def compiled(text: str) -> Any:
    """A loss expression compiled once: a replay reads it after every run (thousands for a corrected curve)."""
    return compile(text, "<string>", "eval")


class _Mangled(ast.NodeTransformer):
    """Private names (`__forward`) spelled as the compiler spells them inside class `owner`; the names
    the tool adds itself (`__bpd_loss0`, the sums `steps._summed_in_inner_loop` adds) are read by
    name from the namespace and stay as they are."""

    def __init__(self, owner: str):
        self.owner = owner

    def _spelled(self, name: str) -> str:
        private = name.startswith("__") and not name.endswith("__") and not name.startswith("__bpd") and self.owner
        return f"_{self.owner}{name}" if private else name

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = self._spelled(node.attr)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._spelled(node.id)
        return node


def _own_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """Nodes that leave one pass of the loop: `break`/`continue` outside nested loops, any `return`/`yield`."""
    found: list[ast.AST] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, (ast.Break, ast.Continue)) and not nested:
                found.append(child)
            elif isinstance(child, (ast.Return, ast.Yield, ast.YieldFrom)):
                found.append(child)
            visit(child, nested or isinstance(child, (ast.For, ast.While, ast.AsyncFor)))

    visit(ast.Module(body=[stmt], type_ignores=[]), False)
    return found


def _per_element(site: LossSite, value: Any) -> bool:
    """A loss given per sample or per element: an array from a loss function or method the step
    calls (`self.loss.loss(y, y_pred)`), or bound to a name that says loss or cost. An `error`
    array (`y - out`) is the output's gradient, not a loss to sum."""
    import re

    named = re.search(r"(?i)loss|cost", site.name.rsplit(".", 1)[-1]) is not None
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 1 and (named or not site.in_prefix and "(" in site.expression)
