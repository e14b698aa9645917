"""The contracts a backward pass must keep, for `engine.LayerCheck` (mixed into it).

- forward leaves its input alone (`input-mutated`) and returns one finite array; backward
  leaves its dout alone (`upstream-grad-mutated`) and uses it (`upstream-grad-ignored`);
- backward is re-entrant: called twice with the same dout it gives the same gradients
  (`nonreentrant-backward`). A large gradient the first call bound afresh is let go before
  the second (`Contracts._stand_ins`), so the check never holds two of them beside its copy
  of the weights;
- a network's own second `gradient` call is made only where state could carry over from the
  first (`_carries_state`).
"""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import locate
from backprop_doctor.conventions._base import FORWARD_SEED
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.findings import Finding
from backprop_doctor.gradcheck import identical
from backprop_doctor.rules import rule

# A layer gradient of at least this many elements that the first backward bound afresh
# (`self.dW = ...`) is not kept while the second backward computes its successor
# (`_stand_ins`): the two would otherwise sit beside the check's copy of the weights.
STAND_IN_SIZE = 1 << 16

# The key under which the first backward's dx is held beside the parameters' gradients.
_DX = "\0dx"


class _WroteReadOnly(Exception):
    """User code wrote into an array the check had handed over read-only."""


def _read_only(error: BaseException) -> bool:
    return isinstance(error, ValueError) and "read-only" in str(error)


def _kept(dout: Any, upstream: Any) -> bool:
    """Whether backward got the upstream gradient itself and it is still read-only, as the check
    handed it over (`LayerCheck._first_backward`): nothing wrote into it, and it needs no
    comparison (its entries come from the direction pool, finite, so a comparison of it with
    itself is true too)."""
    return dout is upstream and isinstance(upstream, np.ndarray) and not upstream.flags.writeable


def _allclose(a: Any, b: Any) -> bool:
    """np.allclose(a, b); for two finite float64 arrays of one shape, its comparison without
    the cost of its general path (20 µs, a tenth of a forward pass of the book's network)."""
    if (
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.dtype == b.dtype == np.float64
        and a.shape == b.shape
        and np.isfinite(a).all()
        and np.isfinite(b).all()
    ):
        return bool((np.abs(a - b) <= 1e-8 + 1e-5 * np.abs(b)).all())
    return bool(np.allclose(a, b))


def ignores_dout(dx_at_two: Any, dx: Any) -> bool:
    """Whether a loss layer's backward gave for a dout of 2.0 the (nonzero) dx it gave for 1:
    it ignores its dout (`upstream-grad-ignored`)."""
    if not isinstance(dx_at_two, np.ndarray):
        return False
    if isinstance(dx, np.ndarray) and dx.shape == dx_at_two.shape and dx.size and dx.dtype == dx_at_two.dtype == np.float64:
        a, b = float(dx_at_two.flat[0]), float(dx.flat[0])
        if abs(a - b) > 1e-8 + 1e-5 * abs(b):  # one entry apart is not close (a NaN is looked into below)
            return False
    return _allclose(dx_at_two, dx) and bool(np.any(dx))


def dout_ignored(layer: str, target: Any) -> Finding:
    """The `upstream-grad-ignored` note on `layer`, whose backward is `target`: from the layer's
    own check, or read from a network's `gradient` call (`conventions.networks.LayerCalls`)."""
    return rule("upstream-grad-ignored").finding(
        f"`{layer}.backward` ignores its `dout` argument: multiply by it "
        "(`dx = dout * (self.y - self.t) / batch_size`) so the layer also works inside a larger graph",
        layer=layer,
        **locate.where(target).fields(),
    )


class _LayerRaised(Exception):
    def __init__(self, phase: str, error: BaseException):
        self.phase, self.error = phase, error


class Contracts:
    """The contract checks of a `LayerCheck`: they read its adapter, its held gradients
    (`_grads`, `_held`) and add to its findings."""

    def _stand_ins(self, rebound: dict[str, int]) -> dict[str, _StandIn]:
        """Let go of the large first gradients the first backward bound afresh, before the second.

        A layer that assigns its gradient (`self.dW = x.T @ dout`) would otherwise hold the
        first call's array until the second call's is complete: two gradients beside the
        check's copy of the weights, three times their memory. Each such attribute is set
        to a read-only stand-in of NaNs that takes no memory: an assigning backward never
        reads it; one that accumulates (`self.dW = self.dW + g`) turns the NaNs into a
        difference, and one that writes into it raises and gets a writable array of NaNs
        (`_second_backward`). The first values are kept as a fingerprint, to compare, and in
        float32, to check against should the second call differ.
        """
        adapter = self.adapter
        if not isinstance(adapter, ClassLayer) or adapter.dlfs2 or adapter.methods.learning_rate:
            return {}
        layer, found = adapter.layer, {}
        lives = [self.x, *adapter.params().values()]
        for name in adapter.layer_params():
            attribute = adapter.grad_attribute(name)
            g = getattr(layer, attribute, None) if attribute.isidentifier() else None
            if (
                not isinstance(g, np.ndarray)
                or g.size < STAND_IN_SIZE
                or g is not self._grads.get(name)
                or rebound.get(attribute) == id(g)
                or not g.flags.owndata
                or sum(v is g for v in self._grads.values()) != 1
                or any(np.may_share_memory(g, a) for a in lives if isinstance(a, np.ndarray))
            ):
                continue
            found[name] = _StandIn(attribute, g.shape, _fingerprint(g), g.astype(np.float32))
        if not found:
            return {}
        for name, stand_in in found.items():
            g = self._grads[name]
            self._held = [h for h in self._held if h is not g]
            self._grads[name] = None
            setattr(layer, stand_in.attribute, np.broadcast_to(np.float64(np.nan), stand_in.shape))
        return found

    def _second_backward(self, dout: Any, stand_ins: dict[str, _StandIn]) -> tuple[Any, dict[str, Any]]:
        """The second backward with stand-ins; writable ones if it writes into them."""
        try:
            return self._backward(dout, copy_grads=False, copy_dx=False)
        except _LayerRaised as raised:
            if not (isinstance(raised.error, ValueError) and "read-only" in str(raised.error)):
                raise
        for stand_in in stand_ins.values():
            setattr(self.adapter.layer, stand_in.attribute, np.full(stand_in.shape, np.nan))
        np.random.seed(FORWARD_SEED)
        return self._backward(dout, copy_grads=False, copy_dx=False)

    def _input_mutated(self, x: np.ndarray, given: np.ndarray) -> None:
        changed = int(np.sum(~np.isclose(given, x, equal_nan=True))) if given.shape == x.shape else given.size
        where = locate.inplace_write(self.adapter.forward_target())
        layer = self.adapter.layer if isinstance(self.adapter, ClassLayer) else None
        kept = next((name for name, value in vars(layer).items() if value is given), None) if hasattr(layer, "__dict__") else None
        if kept is not None:
            # it keeps the very array it then overwrites: its backward reads the output where it wants the input
            keeps = locate.assignment(self.adapter.forward_target(), f"self.{kept}")
            if keeps.line is not None and where.line is not None and keeps.line < where.line:  # kept, then written
                self._add(
                    "input-mutated",
                    f"`{self.layer}.forward` keeps its input as `self.{kept}` (line {keeps.line}) and then writes into that "
                    f"same array{_statement(where)} ({changed} of {x.size} elements changed): what it keeps for its backward "
                    f"is what it wrote, not its input, and the caller's array changes too: keep a copy (`self.{kept} = "
                    f"{keeps.text.split('=', 1)[1].strip() if keeps.text and '=' in keeps.text else 'x'}.copy()`)",
                    measured=float(changed),
                    threshold=0.0,
                    **{**keeps.fields(), "highlight": tuple(sorted({keeps.line, where.line} - {None}))},
                )
                return
        self._add(
            "input-mutated",
            f"`{self.layer}.forward` writes into its input{_statement(where)} ({changed} of {x.size} elements changed): "
            "work on a copy (`x = x - ...` instead of `x -= ...`) so the caller's array stays intact",
            measured=float(changed),
            threshold=0.0,
            **where.fields(),
        )

    def _output_ok(self, out: Any) -> bool:
        if type(out) is float and self.adapter.is_loss and math.isfinite(out):
            return True  # a loss as a finite Python float: what the checks below find of it, without an array
        if out is None or isinstance(out, (tuple, list, dict)):
            what = "None" if out is None else f"a {type(out).__name__}"
            advice = "add `return out` at its end" if out is None else "return the output array itself"
            self._add(
                "bad-return",
                f"`{self.layer}.forward` returns {what}, not an array: {advice}",
                **locate.where(self.adapter.forward_target()).fields(),
            )
            return False
        array = np.asarray(out)
        if array.dtype.kind not in "fc" and array.dtype != object:
            array = array.astype(np.float64)
        if self.adapter.is_loss and array.size != 1:
            self._add(
                "layer-raised",
                f"loss layer `{self.layer}` returned an array of shape {array.shape} from forward(x, t): return one scalar loss",
                **locate.where(self.adapter.forward_target()).fields(),
            )
            return False
        if array.dtype == object:
            return False
        if not np.isfinite(array).all():
            bad = int(np.sum(~np.isfinite(array)))
            self._add(
                "non-finite-output",
                f"`{self.layer}.forward` returned {bad} NaN/inf value(s) for finite input: guard the operation "
                "that overflows (subtract the max before np.exp, add an epsilon inside np.log)",
                measured=float(bad),
                threshold=0.0,
                **locate.where(self.adapter.forward_target()).fields(),
            )
            return False
        return True

    def _contracts(
        self,
        upstream: Any,
        dout: Any,
        grads: dict[str, Any],
        twice: bool = True,
        rebound: dict[str, int] | None = None,
        handed_back: bool = False,
    ) -> dict[str, Any] | None:
        """Check the contracts of backward; the gradients of a second call when they equal the first.

        `grads` holds the first call's dx under `_DX`. Without `twice`, backward is not called a
        second time (the caller knows that no state carries over between calls: see
        `_carries_state` and `carryover.Watch`). `rebound`: the ids of the layer's attributes
        before the first backward (`_stand_ins`). `handed_back`: the dx it returned is the
        `dout` it was given (or a view of it).
        """
        target = self.adapter.backward_target()
        if isinstance(upstream, np.ndarray) and self.adapter.dout_is_input and not (_kept(dout, upstream) or np.array_equal(dout, upstream)):
            self._dout_written(locate.inplace_write(target), handed_back)
        if twice:
            again = self._second_call(upstream, dout, rebound)
        else:
            again, self.reentrant = None, True
        if self.adapter.is_loss and self.adapter.dout_is_input and isinstance(self._grads.get(_DX), np.ndarray):
            dx3, _ = self._backward(2.0)
            self._backward(upstream)  # leave the layer as after a normal call
            dx = self._grads.get(_DX)  # read after the calls: a copy, if they wrote into it
            if ignores_dout(dx3, dx):
                self.report.findings.append(dout_ignored(self.layer, target))
        return again

    def _dout_written(self, where: locate.Location, handed_back: bool) -> None:
        """Report a backward that wrote into its `dout`. One that hands that same array back as its
        dx (the book's `Relu`: `dout[self.mask] = 0; dx = dout`) only changes what its caller
        receives anyway, unless the caller reads `dout` again (a branch, a skip connection):
        information, since the network's own gradient check shows such a second read as a wrong
        gradient. One that returns another array has changed its caller's gradient behind its back."""
        if handed_back:
            message = (
                f"`{self.layer}.backward` writes into the `dout` it receives{_statement(where)} and hands that array back "
                "as its dx, as the book's Relu does: harmless while the caller does not read `dout` again; copy it "
                "first (`dx = dout.copy()`) before a branch or a skip connection reuses it"
            )
            self._add("upstream-grad-mutated", message, severity="info", **where.fields())
            return
        self._add(
            "upstream-grad-mutated",
            f"`{self.layer}.backward` writes into the `dout` it receives{_statement(where)}: compute `dx = dout * mask` (or "
            "`dout = dout.copy()` first) so the caller's gradient is not changed",
            **where.fields(),
        )

    def _second_call(self, upstream: Any, dout: Any, rebound: dict[str, int] | None) -> dict[str, Any] | None:
        """Call backward a second time with the same dout; report a non-re-entrant one.
        The second call's gradients when they equal the first's, else None."""
        target = self.adapter.backward_target()
        if isinstance(upstream, np.ndarray) and not (_kept(dout, upstream) or (isinstance(dout, np.ndarray) and identical(dout, upstream))):
            dout = upstream.copy()  # the first call wrote into its dout: give the second a fresh one
        stand_ins = self._stand_ins(rebound) if rebound is not None else {}
        reset = None if stand_ins else accumulation_reset(self.adapter)
        if reset is not None and _outcome_of(reset) is not None:
            reset = None  # its zero_grad() raised: the second call sees what the first left
        try:
            if stand_ins:
                dx2, grads2 = self._second_backward(dout, stand_ins)
            else:
                dx2, grads2 = self._backward(dout, copy_grads=False, copy_dx=False)
        except Exception as error:  # noqa: BLE001 - the first call ran: what it consumed is gone (`cache.pop()`)
            self.reentrant = False
            inner = next((a for a in error.args if isinstance(a, BaseException)), error)  # the user's error, not our wrapper
            self._add(
                "nonreentrant-backward",
                f"calling `{self.layer}.backward` a second time with the same dout raised {type(inner).__name__} ({inner}): "
                "it consumes what forward left (`cache.pop()`, a list emptied); right once per forward, as training "
                "calls it, but a gradient check or a retry cannot call it again; read the cache without changing it",
                severity="warning",
                **locate.where(target).fields(),
            )
            return None
        grads2 = {**grads2, _DX: dx2}
        grads = self._grads  # the first call's gradients (copies if the second wrote into them)
        reentrant = all(
            _fingerprint(grads2.get(k)) == stand_ins[k].fingerprint if k in stand_ins else _same(grads.get(k), grads2.get(k))
            for k in grads
        )
        for k, stand_in in stand_ins.items():
            if not reentrant:  # compare with the first call's values, as kept
                grads[k] = stand_in.first.astype(np.float64)
            elif k in grads2:
                grads[k] = grads2[k]
        self.reentrant = reentrant
        if not reentrant:
            where = locate.accumulation(target)
            if not where.text and self.adapter.is_loss:
                # a loss (layer, or network ending in one) with no `self.x += ...` in its backward that
                # edits its own cache (`dx = self.ys; dx[...] -= 1`): right once per forward, as training
                # calls it; only a second backward sees the edited cache. Other state changed in backward
                # (a dropout mask drawn again) stays an error.
                self._add(
                    "nonreentrant-backward",
                    f"calling `{self.layer}.backward` twice with the same dout gives different gradients: it changes "
                    "its cached forward values; copy them first (`dx = self.ys.copy()`) so a second call (a gradient "
                    "check, a retry) sees what forward stored",
                    severity="warning",
                    **where.fields(),
                )
            else:
                self._add(
                    "nonreentrant-backward",
                    f"calling `{self.layer}.backward` twice with the same dout gives different gradients: assign "
                    "gradients (`self.dW = ...`) rather than accumulating (`+=`) across calls, and don't change "
                    "state in backward",
                    **where.fields(),
                )
        return grads2 if reentrant else None


def accumulation_reset(adapter: Any) -> Any:
    """The layer's own no-argument `zero_grad()` (any of `grad_reset.RESET_NAMES`) that sets again
    an attribute its backward adds to (`self.grad_w += ...` beside `self.grad_w = np.zeros(...)`):
    a layer that sums its gradients over a mini-batch of calls by design, as its training resets
    them, is re-entrant between two resets; None otherwise."""
    import inspect

    from backprop_doctor.static.grad_reset import RESET_NAMES

    layer = getattr(adapter, "layer", None) if isinstance(adapter, ClassLayer) else None
    backward = getattr(type(layer), getattr(adapter.methods, "backward", None) or "backward", None) if layer is not None else None
    added = _self_attributes(backward, augmented=True)
    if not added:
        return None
    for name in sorted(RESET_NAMES):
        method = getattr(layer, name, None)
        if not callable(method):
            continue
        try:
            if any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in inspect.signature(method).parameters.values()):
                continue
        except (TypeError, ValueError):
            continue
        if added & _self_attributes(method, augmented=False):
            return method
    if getattr(adapter, "sums_over_steps", False):
        # a recurrent cell called once per time step, given its states again, adds its gradients over the
        # steps by design (`self.dW_hh += ...`): its caller zeroes them once per sequence, as this does
        def zeroed() -> None:
            for name in added:
                held = getattr(layer, name, None)
                if isinstance(held, np.ndarray) and held.dtype.kind == "f":
                    setattr(layer, name, np.zeros_like(held))  # new arrays: the first call's stay as they were read

        return zeroed
    return None


# A function's `self.<name>` targets, by its code object: its source is parsed once however many
# checks ask (a layer's backward is asked at every check of a network made of it).
_SELF_TARGETS: dict[tuple[types.CodeType, bool], frozenset[str]] = {}


def _self_attributes(func: Any, augmented: bool) -> frozenset[str]:
    """The attributes of `self` that `func` adds to (`self.x += ...`, `augmented`) or assigns
    (`self.x = ...`); empty where its source cannot be read."""
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    if not isinstance(code, types.CodeType):
        return frozenset()
    key = (code, augmented)
    if key not in _SELF_TARGETS:
        _SELF_TARGETS[key] = _parsed_self_attributes(func, augmented)
    return _SELF_TARGETS[key]


def _parsed_self_attributes(func: Any, augmented: bool) -> frozenset[str]:
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (TypeError, OSError, SyntaxError, IndentationError):
        return frozenset()

    def on_self(target: ast.AST) -> str | None:
        return target.attr if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self" else None

    if augmented:
        found = {on_self(n.target) for n in ast.walk(tree) if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add)}
    else:
        found = {on_self(t) for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets}
    return frozenset(found - {None})


def _outcome_of(call: Any) -> BaseException | None:
    """What `call()` raised (user code), or None."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - user code
        return error
    return None


@dataclass
class _StandIn:
    """A first gradient let go before the second backward: its attribute, shape, fingerprint,
    and its values in float32 (for the comparison, should the second call differ)."""

    attribute: str
    shape: tuple[int, ...]
    fingerprint: tuple
    first: np.ndarray


def _fingerprint(g: Any) -> tuple | None:
    """Shape, dtype and two exact checksums of an array's bits (a wrapping sum and an xor of
    its 64-bit words): equal for bit-identical arrays, and for arrays that differ anywhere
    except in a contrived pair of changes that cancel in both."""
    if not isinstance(g, np.ndarray):
        return None
    flat = np.ascontiguousarray(g).reshape(-1)
    if flat.dtype.itemsize != 8:
        return (g.shape, g.dtype.str, flat.tobytes())
    words = flat.view(np.uint64)
    return (g.shape, g.dtype.str, int(words.sum(dtype=np.uint64)), int(np.bitwise_xor.reduce(words)))


# How deep `_state_of` looks into a network for the arrays it holds (net → layers dict → layer → attribute).
STATE_DEPTH = 4
_SCALARS = (bool, int, float, complex, str, bytes, type(None), np.generic)
_UNWALKED = (*_SCALARS, types.ModuleType)  # what `_state_of` does not look into
_PLAIN_TYPES = frozenset({bool, int, float, complex, str, bytes, type(None)})  # of those, the commonest, by exact type


@dataclass
class _State:
    """What a network holds before its `gradient` runs (`_state_of`)."""

    arrays: dict[int, np.ndarray]  # arrays reachable from it with a parameter's shape, by id (held: no id is reused)
    scalars: dict[str, Any]  # its own plain attributes
    known: bool = True  # False: the network could not be walked


def _state_of(net: Any, shapes: set[tuple[int, ...]]) -> _State:
    """The arrays of a parameter's shape reachable from `net`, and the values of its own plain
    attributes and of its module's plain globals.

    Reachable: through attributes (the object's and its class's), dicts, lists, tuples, the
    closures of functions and the owners of bound methods, `STATE_DEPTH` levels deep, and
    the globals of the module that defines the network's class (a module-level `grads` dict).
    """
    arrays: dict[int, np.ndarray] = {}
    seen: set[int] = set()
    ndarray = np.ndarray

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or isinstance(obj, _UNWALKED):
            return
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            for a in (obj, obj.base):
                if isinstance(a, np.ndarray) and a.shape in shapes:
                    arrays[id(a)] = a
            return
        if depth >= STATE_DEPTH:
            return
        if isinstance(obj, dict):
            values = list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            values = list(obj)
        elif isinstance(obj, types.MethodType):  # what inspect.ismethod and isfunction test, without their calls
            values = [obj.__self__, obj.__func__]
        elif isinstance(obj, types.FunctionType):
            values = [cell.cell_contents for cell in obj.__closure__ or () if _filled(cell)]
        elif isinstance(obj, type):
            values = [v for k, v in vars(obj).items() if not k.startswith("__")]
        elif hasattr(obj, "__dict__"):
            values = [*vars(obj).values(), type(obj)]
        else:
            return
        for value in values:
            kind = type(value)
            # what `walk` would return from at once, nothing found: a plain value, a function without a closure
            if kind in _PLAIN_TYPES or (kind is types.FunctionType and not value.__closure__):
                continue
            if kind is ndarray:  # what `walk` does with an array, without the call
                if id(value) not in seen:
                    seen.add(id(value))
                    if value.shape in shapes:
                        arrays[id(value)] = value
                    base = value.base
                    if isinstance(base, ndarray) and base.shape in shapes:
                        arrays[id(base)] = base
                continue
            walk(value, depth + 1)

    try:
        walk(net, 0)
        module = sys.modules.get(type(net).__module__)
        if module is not None:
            walk({k: v for k, v in vars(module).items() if not k.startswith("__")}, STATE_DEPTH - 2)
        return _State(arrays, _scalars(net))
    except Exception:  # noqa: BLE001 - an odd user object: call twice, as for any other
        return _State({}, {}, known=False)
    finally:
        del walk  # a recursive closure is a reference cycle: it would hold `arrays` until a collection


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell
        return False
    return True


def _scalars(net: Any) -> dict[str, Any]:
    """The plain values of a network's own attributes and of its module's globals."""
    found = {k: v for k, v in vars(net).items() if isinstance(v, _SCALARS)}
    module = sys.modules.get(type(net).__module__)
    if module is not None:
        found.update({f"<module>.{k}": v for k, v in vars(module).items() if isinstance(v, _SCALARS) and not k.startswith("__")})
    return found


def _carries_state(net: Any, before: _State, grads: dict[str, Any]) -> bool:
    """Whether a second `gradient` call could give other values than the first: some gradient
    array existed before the call (accumulated into, `grads['W1'] += ...`), or is no array,
    or the network changed one of its own plain attributes (a call counter). Gradient arrays
    made by the call itself, from what the call's own forward recomputes, cannot carry
    anything over; the layers' own state is covered by their checks (`parts_reentrant`)."""
    if not before.known:
        return True
    for g in grads.values():
        if not isinstance(g, np.ndarray) or id(g) in before.arrays or (g.base is not None and id(g.base) in before.arrays):
            return True
    try:
        now = _scalars(net)
        return now.keys() != before.scalars.keys() or any(not _same(now[k], before.scalars[k]) for k in now)
    except Exception:  # noqa: BLE001
        return True


def _statement(where: locate.Location) -> str:
    """` with `x -= m`` when the writing statement is known, for a message."""
    return f" with `{where.text}`" if where.text and "\n" not in where.text and len(where.text) < 60 else ""


def _same(a: Any, b: Any) -> bool:
    """Equal values, whatever the user's backward returned (arrays, tuples, dicts, None)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    held = getattr(a, "data", None), getattr(b, "data", None)
    if not isinstance(a, np.ndarray) and all(isinstance(h, np.ndarray) for h in held):
        return _same(*held)  # a framework's objects (DeZero `Variable`s): the arrays they hold
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return identical(np.asarray(a), np.asarray(b))
        except Exception:
            return False
    try:
        return bool(a is b or a == b)
    except Exception:
        return False
