"""Recurrent cells that take one time step per call, forward and backward.

A cell whose `forward(x_t)` runs one time step and pushes what it keeps onto the
layer (a step counter it increments, lists it appends to), and whose
`backward(dh_t)` steps back one time step per call: it decrements that counter
(or pops those lists), reads the step's values, adds that step's share into the
parameters' gradients and carries the gradient of the hidden state over to the
next call. The program runs forward T times, then backward T times, so two
backward calls are two time steps by design, not a backward that forgets to
assign its gradients.

Example:
    class StepRNN:
        def forward(self, x):
            h = np.tanh(x @ self.Wx + self.hs[-1] @ self.Wh + self.b)
            self.xs.append(x); self.hs.append(h); self.t += 1
            return h

        def backward(self, dh):
            self.t -= 1
            dz = (dh + self.dh_next) * (1 - self.hs[self.t + 1] ** 2)
            self.dWx += self.xs[self.t].T @ dz   # one step's share
            self.dh_next = dz @ self.Wh.T       # handed to the step before
            return dz @ self.Wx.T

Recognised by: a layer class whose forward adds 1 to a counter on the instance
(`self.t += 1`, `self.state["step"] += 1`) that its backward takes 1 from, or
appends to a list its backward pops. Checked as the program calls it: from the
state one forward call leaves (the weights made, the first step's hidden state
kept), forward on each of T inputs, then backward on each of T upstream
gradients in reverse order; the input is the sequence (T, N, D), the output
the T outputs stacked (a forward returning `(h_t, c_t)` gives `h_t`, what
backward takes the gradient of), the parameters' gradients what the T calls
added. Every call of the check starts from that state again.
"""

from __future__ import annotations

import ast
import functools
import copy
import inspect
import textwrap
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, _gradient_names, is_float_array, is_gradient_like
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "stepped-cells"
KIND = "class"
ORDER = 11  # before `multi-input` and the layer conventions, which would call backward twice as one step
STEPS = 3  # time steps of the checked sequence
BATCH = 2
PARAMETER_DICTS = (("parameters", "gradients"), ("params", "grads"), ("params", "gradients"), ("parameters", "grads"), ("weights", "grads"))


def _tree(func: Any) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(getattr(func, "__func__", func))))
    except (TypeError, OSError, SyntaxError, IndentationError):
        return None


def _on_self(node: ast.AST) -> bool:
    """`self.t`, `self.state["step"]`: an attribute of the instance, or an entry of one."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def _counted(tree: ast.AST, op: type) -> set[str]:
    """The instance counters a method adds 1 to (`op` ast.Add) or takes 1 from (ast.Sub)."""
    return {
        ast.unparse(n.target) for n in ast.walk(tree)
        if isinstance(n, ast.AugAssign) and isinstance(n.op, op) and _on_self(n.target)
        and isinstance(n.value, ast.Constant) and n.value.value == 1
    }  # fmt: skip


def _list_calls(tree: ast.AST, method: str) -> set[str]:
    """The instance lists a method calls `method` on (`self.xs.append(x)`, `self.cache.pop()`)."""
    return {
        ast.unparse(n.func.value) for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == method and _on_self(n.func.value)
    }  # fmt: skip


def stepping(cls: type) -> str | None:
    """The counter (`self.t`) or list (`self.cache`) whose forward pushes its backward takes back one
    step per call, or None."""
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)):
        return None
    ftree, btree = _tree(forward), _tree(backward)
    if ftree is None or btree is None:
        return None
    shared = sorted(_counted(ftree, ast.Add) & _counted(btree, ast.Sub)) or sorted(_list_calls(ftree, "append") & _list_calls(btree, "pop"))
    return shared[0] if shared else None


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    if stepping(cls) is None:
        return False
    try:
        signature = inspect.signature(cls.forward)
    except (TypeError, ValueError):
        return False
    required = [p for p in list(signature.parameters.values())[1:] if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 1


def label(cls: type) -> str:
    return cls.__name__


def _first(out: Any) -> Any:
    """The output backward takes the gradient of: `h_t` of a forward returning `(h_t, c_t)`."""
    return out[0] if isinstance(out, tuple) and out and isinstance(out[0], np.ndarray) else out


def _parameters(layer: Any) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, str]]]:
    """The layer's parameters by name, and where each one's gradient lives: (attribute, key) of a
    dictionary (`self.gradients["Wx"]`), or (attribute, "") of an attribute (`self.dWx`)."""
    params: dict[str, np.ndarray] = {}
    where: dict[str, tuple[str, str]] = {}
    state = vars(layer)
    for held, grads in PARAMETER_DICTS:
        p, g = state.get(held), state.get(grads)
        if isinstance(p, dict) and isinstance(g, dict):
            for k, v in p.items():
                if is_float_array(v) and is_gradient_like(g.get(k)) and np.shape(g.get(k)) == np.shape(v):
                    params[str(k)] = v
                    where[str(k)] = (grads, k)
            if params:
                return params, where
    for attr, value in state.items():
        if not is_float_array(value):
            continue
        for name in _gradient_names(attr, True):
            if is_gradient_like(state.get(name)) and np.shape(state.get(name)) == np.shape(value):
                params[attr] = value
                where[attr] = (name, "")
                break
    return params, where


class SteppedCell(Adapter):
    """A one-step-per-call cell run over a sequence: T forwards, then T backwards in reverse."""

    def __init__(self, start: Any, params: dict[str, np.ndarray], where: dict[str, tuple[str, str]]):
        cls = type(start)
        super().__init__(name=cls.__name__, kind="layer", target=cls)
        self._start = start  # the state every call starts from, sharing the parameter arrays
        self._params = params
        self._where = where
        self._after: Any = None  # the state the last forward left
        self.layer = start

    def _copy(self, layer: Any) -> Any:
        return copy.deepcopy(layer, {id(p): p for p in self._params.values()})

    def params(self) -> dict[str, np.ndarray]:
        return dict(self._params)

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        work = self._copy(self._start)
        outs = [np.asarray(_first(work.forward(np.array(step, copy=True))), dtype=np.float64) for step in x]
        self._after = work
        self.layer = work
        return np.stack(outs)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        work = self._copy(self._after)  # each backward steps back from what forward left
        self.layer = work
        dxs = [work.backward(np.array(dout[t], copy=True)) for t in reversed(range(len(dout)))]
        dxs = [_first(d) for d in reversed(dxs)]
        dx = np.stack(dxs) if all(isinstance(d, np.ndarray) for d in dxs) else None
        grads: dict[str, Any] = {}
        for name, (attr, key) in self._where.items():
            held = getattr(work, attr, None)
            grads[name] = held.get(key) if key != "" and isinstance(held, dict) else held
        return dx, grads

    def backward_target(self) -> Any:
        return type(self._start).backward

    def forward_target(self) -> Any:
        return type(self._start).forward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        attr, key = self._where.get(param, (f"d{param}", ""))
        return (f"self.{attr}[{key!r}]", f"self.{attr}") if key != "" else (f"self.{attr}",)


def _widths(layer: Any) -> list[int]:
    """Input widths to try: the dimensions of the arrays the layer holds, then a few small ones."""
    found: list[int] = []
    for value in vars(layer).values():
        for v in (value.values() if isinstance(value, dict) else [value]):
            if is_float_array(v):
                found.extend(int(d) for d in np.shape(v))
    return list(dict.fromkeys([*found, 4, 3, 5]))


def program_case(obj: Any, x: np.ndarray, rng: np.random.Generator) -> Case:
    """The case of a program's own cell (`obj` as it was before its first call): its first recorded
    step `x` taken, then a sequence of `STEPS` inputs shaped like it."""
    layer = copy.deepcopy(obj)
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        layer.forward(np.array(x, dtype=np.float64, copy=True))
    finally:
        np.random.set_state(state)
    params, where = _parameters(layer)
    if not params:
        raise NotChecked(f"`{type(obj).__name__}` keeps no parameters beside their gradients where they were looked for")
    scale = float(np.std(x)) or 1.0
    xs = scale * rng.standard_normal((STEPS, *np.shape(x)))
    return Case(f"sequence {xs.shape}: {STEPS} forward calls, then {STEPS} backward calls", SteppedCell(layer, params, where), xs)


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    np.random.seed(context.options.seed)
    made = builder.made(cls, rng)
    errors: list[BaseException] = []
    for width in _widths(made):
        layer = copy.deepcopy(made)
        state = np.random.get_state()
        try:
            np.random.seed(FORWARD_SEED)
            # the first step: the weights a lazy layer makes at its first call, a hidden state that is not zero
            layer.forward(rng.standard_normal((BATCH, width)))
            params, where = _parameters(layer)
            if not params:
                raise NotChecked(f"`{cls.__name__}` keeps no parameters beside their gradients where they were looked for")
            adapter = SteppedCell(layer, params, where)
            xs = rng.standard_normal((STEPS, BATCH, width))
            out = adapter.forward(xs)
            dx, _ = adapter.backward(np.ones_like(out))
            if dx is not None and np.shape(dx) != xs.shape:
                raise ValueError(f"backward returned {np.shape(dx)} for inputs {xs.shape}")
        except NotChecked:
            raise
        except Exception as error:  # noqa: BLE001 - user code: try the next width
            errors.append(error)
            continue
        finally:
            np.random.set_state(state)
        adapter = SteppedCell(layer, params, where)
        return [Case(f"sequence {xs.shape}: {STEPS} forward calls, then {STEPS} backward calls", adapter, xs)]
    raise NotChecked(f"no input width tried runs `{cls.__name__}` forward {STEPS} steps and back ({type(errors[0]).__name__}: {errors[0]})" if errors else "nothing tried")


@functools.lru_cache(maxsize=512)
def _stepping_class(cls: type) -> bool:
    try:
        return stepping(cls) is not None
    except Exception:  # noqa: BLE001 - a class whose source cannot be read
        return False


def held_cells(layer: Any) -> tuple[str, ...]:
    """The attributes of `layer` that hold a cell taking one time step per call (`self.cell_fwd`): a
    layer over a whole sequence that runs such cells forward T times, then backward T times."""
    try:
        state = vars(layer)
    except TypeError:
        return ()
    found = []
    for name, value in state.items():
        kind = type(value)
        if kind.__module__ in ("builtins", "numpy") or not hasattr(value, "__dict__"):
            continue
        try:
            if _stepping_class(kind):
                found.append(name)
        except TypeError:  # an unhashable class
            continue
    return tuple(found)


class CellRestarts:
    """Every call of a layer holding stepped cells (`held_cells`) starts from one state of its cells, as
    the program's one forward over a sequence then one backward does: forward from the cells as the
    first call found them (or as that call made them), backward from what the last forward left.
    The layer's own arrays are shared, not copied (the check moves its parameters in place)."""

    def __init__(self) -> None:
        self.start: dict[str, Any] | None = None
        self.after: dict[str, Any] | None = None
        self.none = False  # the first call left no such cells: every later call runs as it is

    @staticmethod
    def _copies(layer: Any, names: tuple[str, ...] | list[str], source: dict[str, Any] | None = None) -> dict[str, Any]:
        memo = {id(v): v for v in vars(layer).values() if isinstance(v, np.ndarray)}
        return {n: copy.deepcopy((source or vars(layer))[n], memo) for n in names}

    def _restore(self, layer: Any, saved: dict[str, Any]) -> None:
        for name, value in self._copies(layer, list(saved), saved).items():
            setattr(layer, name, value)

    def forward(self, layer: Any, run: Any) -> Any:
        if self.none:
            return run()
        if self.start is None:
            names = held_cells(layer)
            if names:
                self.start = self._copies(layer, names)
            else:
                out = run()
                names = held_cells(layer)
                if not names:
                    self.none = True
                    return out
                self.start = self._copies(layer, names)  # made by that first call: start every call from them
        self._restore(layer, self.start)
        out = run()
        self.after = self._copies(layer, list(self.start))
        return out

    def backward(self, layer: Any) -> None:
        if self.after is not None:
            self._restore(layer, self.after)
