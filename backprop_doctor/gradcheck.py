"""The numerics of a gradient check, and nothing else.

Every function here works on a scalar objective `f()` that reads some arrays,
and on those arrays, which it perturbs *in place* and always restores
bit-identically (from a saved copy, never by adding the step back).
It knows nothing of layers, files or findings.

Two tiers keep a check cheap:
  1. `directional_probe`: one central difference along a random direction
     through all arrays at once costs two evaluations of `f` whatever the
     number of parameters; a handful of them decides pass or fail.
  2. `elementwise`: only for an array that failed, the derivative of each
     element (all of them when the array is small, a sample otherwise)
     so the report can show where and how the gradient is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

# Central-difference step, relative: each element of an array moves by up to this fraction
# of the array's scale (see `step_scales`), so a layer whose activations are 1e-6 wide is
# probed as finely as one whose activations are 1. For float64 the rounding error (~eps/h)
# stays near 1e-10 while a step crosses a ReLU kink with a probability of about h per unit;
# float32 and float16 layers need larger steps to rise above their own rounding.
STEP = {"float64": 1e-6, "float32": 1e-4, "float16": 1e-2}

# Elements compared one by one when an array fails: all of them up to this size,
FULL_LIMIT = 512
# a random sample of this many otherwise.
SAMPLE_SIZE = 64
# ... cut to this many at the least when the check's time runs short (`elementwise`'s `enough`).
MIN_ELEMENTS = 8

# A probe whose one-sided slopes differ by more than this fraction of their size
# crossed a kink (ReLU at 0, max ties): its central difference is not a derivative.
KINK_ASYMMETRY = 1e-2
# float64's machine epsilon, as a Python float (np.finfo is a call)
EPS = float(np.finfo(np.float64).eps)


def relative_error(analytic, numerical, floor: float = 1e-10):
    """Symmetric relative error |a - n| / max(|a|, |n|, floor), element-wise or scalar."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def random_direction(shape: tuple[int, ...], rng: np.random.Generator, scale: float | None = None) -> np.ndarray:
    """A random direction: entries uniform in [-scale, scale), or of unit length without `scale`.

    Continuous entries rather than ±1: gradients with structure (rows that sum to zero,
    as softmax-with-loss gradients do) cancel exactly against ±1 patterns far too often,
    leaving nothing to compare. Uniform draws are also several times cheaper than Gaussian ones.
    """
    v = rng.random(shape)
    v -= 0.5
    if scale is None:
        norm = float(np.sqrt(np.vdot(v, v)))
        if norm == 0:
            return np.full(shape, 1 / np.sqrt(max(v.size, 1)))
        v *= 1 / norm
    else:
        v *= 2 * scale
    return v


# Directions are read from one fixed pool of uniform numbers in [-1, 1) rather than drawn
# afresh: a direction is a window of the pool at a random offset (a window per block of
# BLOCK elements for a large array), so it costs no drawing and no memory of its own.
POOL_SIZE = 1 << 17
BLOCK = 1 << 15
_POOL: list[np.ndarray] = []


def _pool() -> np.ndarray:
    if not _POOL:
        pool = np.random.default_rng(0x706F6F6C).random(POOL_SIZE)
        pool *= 2
        pool -= 1
        pool.flags.writeable = False
        squares = np.concatenate(([0.0], np.cumsum(pool * pool)))  # window sums of squares, by difference
        _POOL.extend((pool, squares))
    return _POOL[0]


def _window_squares(offset: int, size: int) -> float:
    """The sum of the squares of the pool window at `offset` (to about 1e-11 of it: the
    probes read it only for the floor of a relative error)."""
    _pool()
    squares = _POOL[1]
    return float(squares[offset + size] - squares[offset])


class Direction:
    """A random direction through one array (entries uniform in [-scale, scale)), read
    from the shared pool window by window: never stored, identical on every reading."""

    def __init__(self, shape: tuple[int, ...], rng: np.random.Generator | None, scale: float = 1.0):
        """`rng` None: the offsets are left to the caller (`drawn`)."""
        self.shape = tuple(shape)
        self.size = math.prod(self.shape)
        self.scale = float(scale)
        single = self.size <= POOL_SIZE // 2
        count = 1 if single else -(-self.size // BLOCK)
        span = POOL_SIZE - (self.size if single else BLOCK)
        self._span = span
        if rng is None:
            self.offsets = [0] * count
            return
        # one offset drawn as a scalar: the same number as `size=1` draws, at a third of the cost
        self.offsets = [int(rng.integers(0, span + 1))] if count == 1 else rng.integers(0, span + 1, size=count).tolist()

    @classmethod
    def drawn(cls, shapes: Sequence[tuple[tuple[int, ...], float]], rng: np.random.Generator) -> list[Direction]:
        """A direction for each (shape, scale), drawn as `Direction(shape, rng, scale)` one after the
        other draws them (the same offsets, the generator left in the same state), in one call of
        the generator: each offset is one bounded draw, the same for a scalar bound and for each
        element of an array of bounds (`tests/test_directions_drawn_at_once.py`)."""
        directions = [cls(shape, None, scale) for shape, scale in shapes]
        bounds = [d._span + 1 for d in directions for _ in d.offsets]
        offsets = rng.integers(0, np.array(bounds, dtype=np.int64)).tolist() if bounds else []
        k = 0
        for d in directions:
            d.offsets = offsets[k : k + len(d.offsets)]
            k += len(d.offsets)
        return directions

    def windows(self):
        """(start, stop, unscaled entries) over the flattened array, a view of the pool each."""
        pool = _pool()
        if len(self.offsets) == 1 and self.size <= POOL_SIZE // 2:
            o = int(self.offsets[0])
            yield 0, self.size, pool[o : o + self.size]
            return
        for k, o in enumerate(self.offsets):
            start = k * BLOCK
            stop = min(start + BLOCK, self.size)
            yield start, stop, pool[int(o) : int(o) + stop - start]

    def array(self) -> np.ndarray:
        """The direction as an array of its own (for callers that need one): it owns its data,
        not a reshaped view of it, so the engine can hand it to user code read-only as it is."""
        out = np.empty(self.shape)
        flat = out.reshape(-1)  # a view of `out`, which is new and contiguous
        for start, stop, w in self.windows():
            np.multiply(w, self.scale, out=flat[start:stop])
        return out

    def step(self, out: np.ndarray, base: np.ndarray, h: float) -> None:
        """out = base + h·direction, element by element, with no array for h·direction."""
        if len(self.offsets) == 1 and self.size <= POOL_SIZE // 2:
            o = int(self.offsets[0])
            w = (_POOL[0] if _POOL else _pool())[o : o + self.size].reshape(self.shape)  # `windows`' one window
            np.multiply(w, h * self.scale, out=out, casting="unsafe")
            np.add(out, base, out=out, casting="unsafe")
            return
        flat_out, flat_base = _flat(out), _flat(base)
        if flat_out is None or flat_base is None:  # not contiguous: go through an array
            np.multiply(self.array(), h, out=out, casting="unsafe")
            np.add(out, base, out=out, casting="unsafe")
            return
        for start, stop, w in self.windows():
            o = flat_out[start:stop]
            np.multiply(w, h * self.scale, out=o, casting="unsafe")
            np.add(o, flat_base[start:stop], out=o, casting="unsafe")

    def dot(self, g: np.ndarray) -> tuple[float, float]:
        """(<g, direction>, <direction, direction>)."""
        flat = g.reshape(-1) if g.flags.c_contiguous else np.ascontiguousarray(g).reshape(-1)
        if len(self.offsets) == 1 and self.size <= POOL_SIZE // 2:  # `windows`' one window, as the loop below reads it
            o = int(self.offsets[0])
            pool = _POOL[0] if _POOL else _pool()
            squares = _POOL[1]
            dot = 0.0 + float(np.dot(flat[0 : self.size], pool[o : o + self.size]))
            return dot * self.scale, (0.0 + float(squares[o + self.size] - squares[o])) * self.scale**2
        dot = sq = 0.0
        for (start, stop, w), o in zip(self.windows(), self.offsets):
            dot += float(np.dot(flat[start:stop], w))
            sq += _window_squares(int(o), stop - start)
        return dot * self.scale, sq * self.scale**2


class _Given:
    """A direction the caller passed as an array."""

    def __init__(self, v: np.ndarray):
        self.v = v

    def step(self, out: np.ndarray, base: np.ndarray, h: float) -> None:
        np.multiply(self.v, h, out=out, casting="unsafe")  # out = base + h·v, with no array for h·v
        np.add(out, base, out=out, casting="unsafe")

    def dot(self, g: np.ndarray) -> tuple[float, float]:
        return float(np.vdot(g, self.v)), float(np.vdot(self.v, self.v))


def _flat(a: np.ndarray) -> np.ndarray | None:
    """A flat view of a C-contiguous array, None for any other."""
    return a.reshape(-1) if a.flags.c_contiguous else None


def _direction(v) -> Direction | _Given | _Known:
    return v if isinstance(v, (Direction, _Given, _Known)) else _Given(np.asarray(v))


# Arrays larger than this are compared block by block, so a comparison of two large
# gradients allocates no mask of their size.
COMPARE_BLOCK = 1 << 16


# Arrays of at most this many bytes are compared by their bytes first: two small copies and a
# memcmp cost a tenth of np.array_equal's calls (arrays this small are never mapped afresh).
BYTES_COMPARED = 1 << 16


def identical(a: np.ndarray, b: np.ndarray) -> bool:
    """np.array_equal(a, b, equal_nan=True), without its cost (~40x) on arrays that hold no NaN."""
    if a.nbytes <= BYTES_COMPARED and a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes():
        return True  # the same bits: equal, a NaN equal to itself
    if a.size > COMPARE_BLOCK and a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
        fa, fb = a.reshape(-1), b.reshape(-1)
        if all(np.array_equal(fa[i : i + COMPARE_BLOCK], fb[i : i + COMPARE_BLOCK]) for i in range(0, a.size, COMPARE_BLOCK)):
            return True
    elif np.array_equal(a, b):
        return True
    if a.shape != b.shape or a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
        return False
    return bool(np.isnan(a).any()) and np.array_equal(a, b, equal_nan=True)


def array_scale(a: np.ndarray) -> float:
    """The root mean square of an array's elements (0 for an empty or all-zero array)."""
    flat = a.reshape(-1)
    return float(np.sqrt(np.vdot(flat, flat).real / flat.size)) if flat.size else 0.0


def step_scales(arrays: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> list[float]:
    """The scale each array's finite-difference step is a fraction of.

    An array's own size where it has one: a weight matrix of width 0.01 moves by
    0.01·STEP, an activation of width 1e-6 by 1e-6·STEP. An all-zero array (a bias
    at initialisation) has no size of its own: it gets the scale at which it moves
    the output as much as the other arrays do at theirs (the output's sensitivity,
    from the gradients), never more than the largest of their scales. That is the
    width of the pre-activation a bias is added to, which a fixed step would overshoot
    in a deep network at a small initial scale.
    """
    own = [array_scale(a) for a in arrays]
    norms = [_norm(g, squared) for g, squared in zip(grads, squared_norms(grads))]
    effects = [s * n for s, n in zip(own, norms) if s > 0 and n > 0]
    largest = max((s for s in own if np.isfinite(s)), default=0.0) or 1.0
    scales = []
    for s, n in zip(own, norms):
        if s > 0 and np.isfinite(s):
            scales.append(s)
        elif effects and n > 0:
            scales.append(min(_median(effects) / n, largest))
        else:
            scales.append(largest)
    return scales


def _median(data: list[float]) -> float:
    """`statistics.median` of a non-empty list of floats, the same arithmetic without its calls."""
    data = sorted(data)
    n = len(data)
    if n % 2 == 1:
        return data[n // 2]
    i = n // 2
    return (data[i - 1] + data[i]) / 2


def _norm(g: np.ndarray, squared: float) -> float:
    """The Euclidean norm of a gradient from its square, 0 for one holding a NaN or an infinity."""
    if math.isfinite(squared) or np.all(np.isfinite(g)):  # a sum of finite squares may overflow
        return math.sqrt(squared)
    return 0.0


@dataclass(frozen=True)
class Probe:
    """One directional probe: the derivative along `directions`, both ways."""

    analytic: float  # sum_k <grad_k, v_k>
    numerical: float  # (f(θ + h v) - f(θ - h v)) / 2h
    forward_slope: float  # (f(θ + h v) - f(θ)) / h
    backward_slope: float  # (f(θ) - f(θ - h v)) / h
    scale: float  # sum_k |<grad_k, v_k>|: what the error is measured against
    floor: float
    step: float = 0.0  # h
    rounding: float = 0.0  # rounding error of each one-sided slope
    kink: bool = False  # a smaller step showed a kink (`refined_probe`)

    @property
    def error(self) -> float:
        # `relative_error` on two numbers, in plain floats (the same IEEE operations)
        a, n = self.analytic, self.numerical
        return abs(a - n) / max(abs(a), abs(n), self.floor, 1e-300)

    @property
    def kinked(self) -> bool:
        """True when the two one-sided slopes disagree, or a smaller step showed a kink."""
        if self.kink:
            return True
        spread = abs(self.forward_slope - self.backward_slope)
        size = max(abs(self.forward_slope), abs(self.backward_slope), self.floor)
        return (
            spread > KINK_ASYMMETRY * size
            and spread > 8 * self.rounding
            and not np.isclose(self.analytic, self.numerical, rtol=1e-3)
        )


def directional_probe(
    f: Callable[[], float],
    f0: float,
    arrays: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    directions: Sequence[np.ndarray],
    h: float,
    floor: float = 1e-10,
    saved: Sequence[np.ndarray] | None = None,
) -> Probe:
    """Probe `f` along `directions` (one per array), restoring the arrays afterwards.

    `saved` are copies of the arrays as they are now, when the caller already has them
    (several probes of the same arrays need only one copy).
    """
    dots = _dots(grads, directions)
    f_plus, f_minus = _along(f, arrays, directions, (h, -h), saved)
    return probe_from(f0, grads, dots, h, floor, f_plus, f_minus)


def one_sided_probe(
    f: Callable[[], float],
    f0: float,
    arrays: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    directions: Sequence[np.ndarray],
    h: float,
    floor: float = 1e-10,
    saved: Sequence[np.ndarray] | None = None,
    restore: bool = True,
    dots: list[tuple[float, float]] | None = None,
) -> Probe:
    """A forward difference (f(θ + h v) - f(θ)) / h along `directions`: one evaluation of `f`.

    Its error holds the curvature term (h/2)·vᵀHv besides rounding, so it can only say
    "clean" for a smooth function far inside a loose tolerance; it tells nothing about
    kinks (both slopes are the one forward slope). A caller that sees it fail probes
    again with central differences. Without `restore`, the arrays are left moved unless `f`
    raises: for a caller whose next probe steps every element from `saved` again, and which
    restores them itself after its last. `dots`: the directions' dot products with the
    gradients, when the caller took them already (`dots_along`).
    """
    if dots is None:
        dots = _dots(grads, directions)
    (f_plus,) = _along(f, arrays, directions, (h,), saved, restore)
    return probe_from(f0, grads, dots, h, floor, f_plus)


def pooled_forward_differences(
    f: Callable[[], float],
    f0: float,
    arrays: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    scales: Sequence[float],
    h: float,
    floor: float,
    saved: Sequence[np.ndarray],
    rng: np.random.Generator,
    count: int,
    keep: Callable[[float, float, float], bool],
) -> bool | None:
    """`count` forward differences of `f` along directions through `arrays` (one per array, entries
    uniform in [-scale, scale)), each probe's directions drawn as `Direction.drawn` draws them, all of
    them first, their dot products with `grads` taken before the first step, the arrays stepped from
    `saved` and left moved: `one_sided_probe`'s figures, for arrays of at most POOL_SIZE // 2 elements
    (one pool window each), without its objects. After each evaluation `keep(analytic, numerical,
    floor)` (`probe_from`'s) says whether to go on: False then, True after the last; None, drawing
    nothing, where an array is larger (the caller takes `Direction`s). On an exception from `f` the
    arrays are restored, and it is raised."""
    half = POOL_SIZE // 2
    sizes = [a.size for a in arrays]
    if any(n > half for n in sizes):
        return None
    pool = _POOL[0] if _POOL else _pool()
    squares = _POOL[1]
    k = len(arrays)
    bounds = [POOL_SIZE - n + 1 for n in sizes] * count  # `Direction`'s span + 1, for each probe's directions in turn
    offsets = rng.integers(0, np.array(bounds, dtype=np.int64)).tolist()
    scales = [float(s) for s in scales]
    # `Direction.dot` of each probe's direction with each gradient, gradient by gradient (`dots_along`)
    flats = [g.reshape(-1) if g.flags.c_contiguous else np.ascontiguousarray(g).reshape(-1) for g in grads]
    dots: list[list[tuple[float, float]]] = [[] for _ in range(count)]
    for i, (flat, n, scale) in enumerate(zip(flats, sizes, scales)):
        for j in range(count):
            o = offsets[j * k + i]
            dot = 0.0 + float(np.dot(flat[0:n], pool[o : o + n]))
            dots[j].append((dot * scale, (0.0 + float(squares[o + n] - squares[o])) * scale**2))
    del flats
    norms = squared_norms(grads)
    for j in range(count):
        try:
            for i, (a, s, n, scale) in enumerate(zip(arrays, saved, sizes, scales)):  # `Direction.step`
                o = offsets[j * k + i]
                np.multiply(pool[o : o + n].reshape(a.shape), h * scale, out=a, casting="unsafe")
                np.add(a, s, out=a, casting="unsafe")
            f_plus = float(f())
        except BaseException:
            restored(arrays, saved)
            raise
        along = dots[j]  # `probe_from`, at +h only
        size = sum(math.sqrt(gg * vv) for gg, (_, vv) in zip(norms, along))
        forward = (f_plus - f0) / h
        if not keep(float(sum(d for d, _ in along)), forward, max(floor, 1e-6 * size, noise_floor(f0, h))):
            return False
    return True


def _dots(grads: Sequence[np.ndarray], directions: Sequence[Any]) -> list[tuple[float, float]]:
    """(<g, v>, <v, v>) of each gradient and its direction, taken before the probe moves the
    arrays: the steps then read the pool windows these just read, from the cache (user code
    run meanwhile cannot change a gradient the check holds: `LayerCheck._guarded`)."""
    return [_direction(v).dot(g) for g, v in zip(grads, directions)]


def dots_along(grads: Sequence[np.ndarray], probes: Sequence[Sequence[Any]]) -> list[list[tuple[float, float]]]:
    """`_dots` of several probes' directions, taken gradient by gradient for all the probes at
    once: each gradient is read from memory once rather than once a probe (the same values)."""
    by_gradient = [[_direction(directions[k]).dot(g) for directions in probes] for k, g in enumerate(grads)]
    return [[dots[j] for dots in by_gradient] for j in range(len(probes))]


def _along(
    f: Callable[[], float],
    arrays: Sequence[np.ndarray],
    directions: Sequence[Any],
    steps: Sequence[float],
    saved: Sequence[np.ndarray] | None,
    restore: bool = True,
) -> list[float]:
    """`f` with the arrays moved by each step along the directions, the arrays restored
    afterwards (without `restore`, only when `f` raises). `saved` are copies
    of the arrays as they are now, when the caller already has them (several probes of the same
    arrays need only one copy)."""
    if saved is None:
        saved = [a.copy() for a in arrays]
    moves = [_direction(v) for v in directions]
    values = []
    try:
        for h in steps:
            for a, s, v in zip(arrays, saved, moves):
                v.step(a, s, h)
            values.append(float(f()))
    except BaseException:
        restored(arrays, saved)
        raise
    if restore:
        restored(arrays, saved)
    return values


def resolvable_change(f0: float, dtype: str, tol: float) -> float:
    """The smallest change of a loss of about |f0| computed in `dtype` that a central difference
    measures to within `tol`: each of its two values is rounded by about eps·|f0|, so their
    difference is known to 2·eps·|f0|, which must be `tol` of it."""
    return 2 * float(np.finfo(dtype).eps) * abs(f0) / tol


def moves_far(f: Callable[[], float], f0: float, array: np.ndarray, scale: float, rng: np.random.Generator) -> bool:
    """Whether `f` reads `array` at all: whether it changes when the array moves along one random
    direction by its own size (each element by up to `scale`, at least 1), either way, or when every
    element is NaN (a forward that computes with the array carries the NaN to its loss, or raises on
    it, however saturated its outputs: a saturated network's loss can stay the same over moves of a
    million times a bias's size), the array restored afterwards bit-identically. A forward that
    computes with a copy of the array, never with the array itself, stays at exactly f0; an array that cannot
    be written is not moved (False: nothing shown)."""
    if not array.flags.writeable:
        return False
    try:
        values = _along(f, [array], [Direction(array.shape, rng, max(scale, 1.0))], (1.0, -1.0), None)
        if any(not v == f0 for v in values):  # a NaN moved too
            return True
        saved = array.copy()
        try:
            array.fill(np.nan)
            value = float(f())
        finally:
            np.copyto(array, saved)
    except Exception:  # noqa: BLE001 - the user's forward, which read the moved array
        return True
    return not value == f0


def restored(arrays: Sequence[np.ndarray], saved: Sequence[np.ndarray]) -> None:
    """Each array set back to its saved values."""
    for a, s in zip(arrays, saved):
        np.copyto(a, s)


def probe_from(
    f0: float,
    grads: Sequence[np.ndarray],
    dots: list[tuple[float, float]],
    h: float,
    floor: float,
    f_plus: float,
    f_minus: float | None = None,
) -> Probe:
    """The probe from the values `f` took at +h and -h along the directions (at +h only: a
    forward difference), and each direction's (<g, v>, <v, v>) (`_dots`): also for directions
    someone else stepped (a network's first layer read during the network's probes)."""
    # Below a millionth of the gradient's own size, or of the rounding noise of the
    # difference quotient, a directional derivative cannot be told from zero.
    size = sum(math.sqrt(gg * vv) for gg, (_, vv) in zip(squared_norms(grads), dots))
    forward = (f_plus - f0) / h
    numerical, backward = (forward, forward) if f_minus is None else ((f_plus - f_minus) / (2 * h), (f0 - f_minus) / h)
    return Probe(
        analytic=float(sum(d for d, _ in dots)),
        numerical=numerical,
        forward_slope=forward,
        backward_slope=backward,
        scale=float(sum(abs(d) for d, _ in dots)),
        floor=max(floor, 1e-6 * size, noise_floor(f0, h)),
        step=h,
        rounding=_rounding(f0, h),
    )


# A probe limited by rounding is repeated with a step this many times larger, up to
# MAX_GROWTH times the first, while the function stays straight over the larger step.
GROWTH = 10
MAX_GROWTH = 1000


def refined_probe(
    f: Callable[[], float],
    f0: float,
    arrays: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    directions: Sequence[np.ndarray],
    h: float,
    floor: float = 1e-10,
    tol: float = 1e-5,
    saved: Sequence[np.ndarray] | None = None,
    narrow: bool = True,
    bent: set[float] | None = None,
) -> Probe:
    """`directional_probe`, with a larger step where rounding hides the derivative.

    When the output barely moves (a deep network at a small initial scale changes its
    loss by a few units in the last place), the rounding error of the difference quotient
    exceeds what `tol` asks for. The step then grows tenfold at a time, and a larger step
    is kept only while the function is still straight over it: its second difference at
    rounding level, so no ReLU kink was crossed and curvature is negligible. A larger step is
    first evaluated on one side only, and not on the other where that side alone shows it is
    not straight (`_bent`).

    `bent`: the larger steps found not straight along earlier directions of the same check (the
    same function, arrays and step scales), which this probe does not try again, and to which it
    adds its own.

    A probe that fails at the first step is believed only once a larger step confirms it
    (`_confirmed`); with `narrow`, one that stands is repeated with smaller steps
    (`_narrowed`): only for a float64 computation, whose rounding `_rounding` describes.
    """
    if saved is None:
        saved = [a.copy() for a in arrays]
    directions = [_Known(_direction(v), g) for v, g in zip(directions, grads)]
    at = _Steps(f, f0, arrays, grads, directions, floor, saved)
    bent = set() if bent is None else bent
    probe, step = _grown_first(at, f0, h, tol, directions, bent)
    while rounding_limited(probe, f0, step, tol) and step * GROWTH <= h * MAX_GROWTH:
        wide = step * GROWTH
        if wide in bent or _bent(at.plus(wide), probe, f0, wide, tol):
            bent.add(wide)
            break
        wider = at(wide)
        if not _straight(wider, f0, wide, tol):
            bent.add(wide)
            break
        probe, step = wider, wide
    if probe.error > tol and step == h:
        probe = _confirmed(at, probe, tol)
    if narrow and probe.error > tol and step == h:
        probe = _narrowed(at, f0, probe, tol)
    return probe


class _Steps:
    """The probes along one set of directions, by step, and the values of `f` they are made of: a
    point evaluated once is not evaluated again (`_grown_first` may have tried GROWTH·h, or one
    side of it, before the loop of `refined_probe` or `_confirmed` asks for it: `f` is
    deterministic, so the same point gives the same value)."""

    def __init__(self, f, f0, arrays, grads, directions, floor, saved):
        self.f, self.f0, self.arrays, self.grads, self.directions, self.floor, self.saved = f, f0, arrays, grads, directions, floor, saved
        self.values: dict[float, float] = {}  # signed step -> f there
        self.done: dict[float, Probe] = {}

    def _evaluate(self, steps: list[float]) -> None:
        missing = [s for s in steps if s not in self.values]
        if missing:
            self.values.update(zip(missing, _along(self.f, self.arrays, self.directions, missing, self.saved)))

    def plus(self, step: float) -> float:
        """The forward slope (f(θ + step·v) - f0) / step: one evaluation, or none if made already."""
        self._evaluate([step])
        return (self.values[step] - self.f0) / step

    def __call__(self, step: float) -> Probe:
        if step not in self.done:
            self._evaluate([step, -step])
            dots = [d.known for d in self.directions]
            self.done[step] = probe_from(self.f0, self.grads, dots, step, self.floor, self.values[step], self.values[-step])
        return self.done[step]


def _grown_first(at: _Steps, f0: float, h: float, tol: float, directions: Sequence[Any], bent: set[float]) -> tuple[Probe, float]:
    """The probe at step h, or at GROWTH·h where the probe at h would only have handed over to it.

    Where rounding hides the analytic derivative at h (a loss layer's output is computed
    from terms near 1 while a probe moves it by 1e-11), the probe at h is rounding-limited
    and `refined_probe` keeps the probe at GROWTH·h when that one is straight. That one is
    probed first: if it is straight and rounding would hide its derivative at h too, the
    probe at h is not needed (two evaluations fewer); otherwise the probe at h follows, as
    before, and is the one kept.

    GROWTH·h is evaluated on its positive side first. Where its forward slope agrees with the
    analytic derivative (as a straight step's does, for a right gradient) the other side follows
    at once; where it does not, the probe at h comes first, and where the forward slope is also
    off the probe at h's central slope (`_bent`: not straight, whatever the gradient), the other
    side is never evaluated. A step found not straight goes into `bent`; one in it already is
    not tried.
    """
    analytic = sum(v.known[0] for v in directions)
    hidden = 10 * _rounding(f0, h)  # what `rounding_limited` compares with tol times the derivative
    if hidden <= tol * abs(analytic):
        return at(h), h
    wide = h * GROWTH
    if wide in bent:
        return at(h), h
    forward = at.plus(wide)
    if not _agrees(forward, analytic, f0, wide, tol) and _bent(forward, at(h), f0, wide, tol):
        bent.add(wide)
        return at(h), h
    wider = at(wide)
    straight = _straight(wider, f0, wide, tol)
    if not straight:
        bent.add(wide)
    if straight and hidden > tol * max(abs(analytic), abs(wider.numerical)):
        return wider, wide
    return at(h), h


def _agrees(forward: float, analytic: float, f0: float, wide: float, tol: float) -> bool:
    """Whether a forward slope at step `wide` is the analytic derivative as far as a straight step
    lets it be: within the bend `_straight` allows one side (two roundings of f0 and a tenth of
    `tol` of the slope), and the rounding of its own two values, twice over."""
    off = abs(forward - analytic) * wide
    return off <= 6 * _rounding(f0, wide) * wide + 0.1 * tol * abs(analytic) * wide


def _bent(forward: float, probe: Probe, f0: float, wide: float, tol: float) -> bool:
    """Whether the forward slope at step `wide` shows that the function is not straight over it,
    against the central slope of `probe` (at a smaller step): one evaluation where `_straight`
    needs two. A smooth function's forward slope is off its derivative by half its second
    difference over the step; this is true when the forward slope is off the smaller step's
    central slope by more than the bend `_straight` allows one side (two roundings of f0 and a
    tenth of `tol` of the slope) and twice the rounding both slopes carry: so the second difference
    would be outside `_straight`'s bound too. A bend that only one side shows (a kink crossed on
    that side) makes the probe over `wide` off the derivative by about as much, and is not
    taken either. Nothing here reads the analytic gradient: a wrong one looks no more bent."""
    off = abs(forward - probe.numerical) * wide
    carried = 2 * _rounding(f0, wide) * wide + probe.rounding * wide  # f(θ + wide·v) and f0; the central slope's
    return off > 2 * _rounding(f0, wide) * wide + 2 * carried + 0.1 * tol * abs(probe.numerical) * wide


class _Known:
    """A direction whose dot products with its gradient are computed once: they are the same
    at every step a probe along it takes (grown, narrowed or confirmed)."""

    def __init__(self, direction: Any, g: np.ndarray):
        self.direction, self.known = direction, direction.dot(g)

    def step(self, out: np.ndarray, base: np.ndarray, h: float) -> None:
        self.direction.step(out, base, h)

    def dot(self, g: np.ndarray) -> tuple[float, float]:
        return self.known


def _confirmed(at: _Steps, probe: Probe, tol: float) -> Probe:
    """A failing probe, or the same direction probed with a larger step (GROWTH times at a
    time, up to MAX_GROWTH) that passes, when every larger step cut the error threefold.

    The errors of a central difference move apart with the step: a wrong gradient's stays
    the same, curvature's grows with h², rounding's falls with 1/h (tenfold per step).
    `_rounding` guesses the last from |f0| alone, which misses a value computed from much
    larger terms (a cross-entropy of 4e-7 from logits near 8 carries the rounding of those
    logits, eps, not eps·4e-7); larger steps measure it instead. A wrong gradient passes
    here only where curvature or a kink cancels its error to within the tolerance at one
    of the larger steps, along every direction the check probes. A kinked probe is left
    to `_narrowed`: a larger step would cross more kinks.
    """
    if probe.kinked:
        return probe
    last, step = probe, probe.step
    while step * GROWTH <= probe.step * MAX_GROWTH:
        step *= GROWTH
        wider = at(step)
        if 3 * wider.error > last.error:
            break  # an error that does not fall with the step: not rounding
        if wider.error <= tol:
            return wider
        last = wider
    return probe


# A failing probe is repeated with steps this many times smaller (at most SHRINKS times)
# while rounding allows: the error of a wrong gradient does not depend on the step.
SHRINK = 10
SHRINKS = 2
# One-sided slopes this far apart (relative to the slopes) at every step are a tie at the point; closer,
# they are the rounding of a sum of many terms (a linear layer with one wrong element), not a kink.
TIE_ASYMMETRY = 1e-4


def _narrowed(at: _Steps, f0: float, probe: Probe, tol: float) -> Probe:
    """A failing probe, repeated with smaller steps along the same direction.

    A wrong gradient is wrong by the same amount at every step. A step that crossed a
    kink (a ReLU input near 0, two entries of a pooling window close together) is wrong
    by the part of the step beyond the kink, so a step ten times smaller crosses about
    ten times fewer kinks: when the error falls with the step, the smaller step's probe
    stands, and it is marked as kinked if it still fails. A kink *at* the point (a window
    of exact ties, as ReLU zeros feeding a max pooling) keeps its one-sided slopes apart at
    every step, where a smooth function's close in proportion to the step: such a probe
    is marked as kinked too (the caller moves the input off it).
    """
    first = probe
    step = probe.step
    for _ in range(SHRINKS):
        step /= SHRINK
        if 10 * _rounding(f0, step) > tol * max(abs(first.analytic), abs(first.numerical)):
            break  # below this step rounding, not the kink, would decide
        smaller = at(step)
        if smaller.error <= tol:
            return smaller
        spread = abs(smaller.forward_slope - smaller.backward_slope)
        first_spread = abs(first.forward_slope - first.backward_slope)
        tie = _tie(spread, first_spread, (smaller.forward_slope, smaller.backward_slope), smaller.rounding)
        if smaller.error * 3 <= first.error or tie:
            return replace(smaller, kink=True)
    return first


def _squared_norm(g: np.ndarray) -> float:
    flat = _flat(g)
    return float(np.dot(flat, flat)) if flat is not None else float(np.vdot(g, g))


def squared_norms(grads: Sequence[np.ndarray]) -> list[float]:
    """|g|² of each gradient: the ones `grads` keeps (`squared_norms()`, computed once for
    all the probes of a check), else computed here."""
    kept = getattr(grads, "squared_norms", None)
    return kept() if kept is not None else [_squared_norm(g) for g in grads]


def rounding_limited(probe: Probe, f0: float, h: float, tol: float) -> bool:
    """Whether rounding could move the probe's slope by more than a tenth of `tol` of it."""
    return slope_hidden(max(abs(probe.analytic), abs(probe.numerical)), f0, h, tol)


def slope_hidden(slope: float, f0: float, h: float, tol: float) -> bool:
    """Whether rounding of `f` near `f0` could move a difference quotient with step h of this
    slope by more than a tenth of `tol` of it (a zero slope: nothing to hide)."""
    signal = abs(slope)
    return 0 < signal and 10 * _rounding(f0, h) > tol * signal


def _straight(probe: Probe, f0: float, h: float, tol: float) -> bool:
    """True when f(θ+hv) - 2f(θ) + f(θ-hv) is rounding, or small against the first difference."""
    second = abs(probe.forward_slope - probe.backward_slope) * h
    first = abs(probe.numerical) * 2 * h
    return second <= 4 * _rounding(f0, h) * h + 0.1 * tol * first


def _rounding(f0: float, h: float) -> float:
    """Rounding error of a central difference of `f` near `f0` with step `h`."""
    return EPS * abs(f0) / h


def noise_floor(f0: float, h: float) -> float:
    """The smallest derivative a central difference of `f` near `f0` resolves to 1e-6.

    Rounding makes f(θ ± hv) uncertain by about eps·|f|, so the quotient is uncertain
    by eps·|f|/h; a derivative a million times larger is measured to 1e-6.
    """
    return 1e6 * EPS * abs(f0) / h


@dataclass(frozen=True)
class Elementwise:
    """Numerical derivatives of selected elements of one array."""

    indices: np.ndarray  # flat indices that were compared
    numerical: np.ndarray
    analytic: np.ndarray
    kinked: np.ndarray  # bool: element sits within h of a kink
    full: bool  # every element was compared

    def errors(self, floor: float) -> np.ndarray:
        return relative_error(self.analytic, self.numerical, floor)

    def floor(self, f0: float, h: float, atol: float) -> float:
        """Relative errors of elements smaller than this are rounding noise."""
        return max(atol, 1e-8 * float(np.max(np.abs(self.numerical), initial=0.0)), noise_floor(f0, h))


def multiple_off(result: Elementwise, values: np.ndarray, floor: float, tol: float) -> bool:
    """Whether the analytic gradient is the numerical one plus one multiple of `values` (the array it is the gradient
    of): with the multiple that fits the smooth compared elements best taken off, every one of them agrees. False
    when `values` is zero at every such element (no multiple of it changes anything)."""
    p = np.asarray(values, dtype=np.float64).reshape(-1)[result.indices]
    smooth = ~result.kinked
    power = float(np.sum(p[smooth] ** 2))
    if not smooth.any() or power == 0.0 or not math.isfinite(power):
        return False
    multiple = float(np.sum((result.analytic - result.numerical)[smooth] * p[smooth])) / power
    errors = relative_error(result.analytic - multiple * p, result.numerical, floor)
    return bool(np.all(errors[smooth] <= tol))


def penalty_left_out(result: Elementwise, values: np.ndarray, floor: float, tol: float) -> float | None:
    """The strength c when the analytic gradient is the numerical one less c times `values` (c > 0): the
    gradient of a penalty (c / 2)·‖values‖² the loss adds, left out of it; None otherwise (`multiple_off`)."""
    if not multiple_off(result, values, floor, tol):
        return None
    p = np.asarray(values, dtype=np.float64).reshape(-1)[result.indices]
    smooth = ~result.kinked
    multiple = float(np.sum((result.analytic - result.numerical)[smooth] * p[smooth])) / float(np.sum(p[smooth] ** 2))
    return -multiple if multiple < 0 else None


def elementwise(
    f: Callable[[], float],
    f0: float,
    array: np.ndarray,
    grad: np.ndarray,
    h: float,
    rng: np.random.Generator,
    limit: int = FULL_LIMIT,
    sample: int = SAMPLE_SIZE,
    tol: float | None = None,
    atol: float = 0.0,
    enough: Callable[[], bool] | None = None,
) -> Elementwise:
    """Central differences element by element: every element up to `limit`, else a sample.

    With `tol`, an element that fails is stepped again with smaller steps (`_narrow_elements`).
    `enough`, once true, ends the sample after its first `MIN_ELEMENTS` elements (a network
    whose every loss takes a second, checked within its time limit).
    """
    size = array.size
    full = size <= limit
    if full:
        indices = np.arange(size)
    else:
        indices = np.sort(rng.choice(size, size=min(sample, size), replace=False))
    flat = array.reshape(-1)  # a view: `array` is contiguous-or-copied by the caller
    numerical = np.empty(len(indices))
    rounding = _rounding(f0, h)
    kinked = np.zeros(len(indices), dtype=bool)
    slopes = np.empty((len(indices), 2))  # forward and backward slope of each element
    for k, i in enumerate(indices):
        if enough is not None and k >= MIN_ELEMENTS and enough():
            indices, numerical, kinked, slopes, full = indices[:k], numerical[:k], kinked[:k], slopes[:k], False
            break
        numerical[k], up, down = _element_slopes(f, f0, flat, i, h)
        slopes[k] = up, down
        spread = abs(up - down)
        kinked[k] = spread > KINK_ASYMMETRY * max(abs(up), abs(down), 1e-12) and spread > 8 * rounding
    analytic = np.asarray(grad, dtype=np.float64).reshape(-1)[indices]
    if tol is not None:
        _narrow_elements(f, f0, flat, indices, numerical, analytic, kinked, slopes, h, tol, atol)
    return Elementwise(indices=indices, numerical=numerical, analytic=analytic, kinked=kinked, full=full)


# A wrong gradient fails at every step: after this many failing elements in a row whose
# error did not fall with the step, the others are not stepped again.
NARROW_GIVE_UP = 3


def _element_slopes(f, f0: float, flat: np.ndarray, i: int, h: float) -> tuple[float, float, float]:
    """(central difference, forward slope, backward slope) of `f` along element `i` of `flat`
    with step h, the element restored bit-identically."""
    original = flat[i]
    try:
        flat[i] = original + h
        f_plus = float(f())
        flat[i] = original - h
        f_minus = float(f())
    finally:
        flat[i] = original
    return (f_plus - f_minus) / (2 * h), (f_plus - f0) / h, (f0 - f_minus) / h


def _tie(spread: float, first_spread: float, slopes: tuple[float, float], rounding: float) -> bool:
    """Whether one-sided slopes `spread` apart at a step ten times smaller than the one that
    gave `first_spread` show a kink at the point itself (ReLU inputs exactly 0, a max over
    exact ties): a smooth function's slopes close in proportion to the step, a kink's stay
    apart at every step. Closer than TIE_ASYMMETRY of the slopes they are the rounding of a
    sum of many terms, not a kink."""
    size = max(abs(slopes[0]), abs(slopes[1]))
    return spread >= 0.5 * first_spread and spread > 8 * rounding and spread > TIE_ASYMMETRY * size


def _narrow_elements(f, f0, flat, indices, numerical, analytic, kinked, slopes, h, tol, atol) -> None:
    """Elements that fail at step `h`, stepped again 10 and 100 times finer (`_narrowed`):
    one whose error falls with the step crossed a kink, and takes the finer value; one whose
    one-sided slopes stay apart sits on a kink (`_tie`: a unit whose input is exactly 0 for
    some sample, the analytic gradient there one of the conventions' one-sided choices). Both
    are marked as kinked: the evidence that the array's failure came from kinks, not from a
    wrong gradient; an array fails still for its elements off every kink. Changes `numerical`
    and `kinked` in place."""
    floor = max(atol, 1e-8 * float(np.max(np.abs(numerical), initial=0.0)), noise_floor(f0, h))
    errors = relative_error(analytic, numerical, floor)
    misses = 0
    for k in np.flatnonzero((errors > tol) & ~kinked):
        i, first, step, fell = indices[k], float(errors[k]), h, False
        spread = abs(slopes[k, 0] - slopes[k, 1])
        for _ in range(SHRINKS):
            step /= SHRINK
            rounding = _rounding(f0, step)
            measurable = 10 * rounding <= tol * max(abs(analytic[k]), abs(numerical[k]))
            if not measurable and 8 * rounding >= spread:
                break  # below this step rounding, not the kink, would decide
            value, up, down = _element_slopes(f, f0, flat, i, step)
            error = float(relative_error(analytic[k], value, floor))
            if measurable and (error <= tol or 3 * error <= first):
                numerical[k], kinked[k], fell = value, True, True
                break
            # a kink at the point: its slopes stay where they were, where rounding's would scatter
            stayed = max(abs(up - slopes[k, 0]), abs(down - slopes[k, 1])) <= 0.25 * spread
            if stayed and _tie(abs(up - down), spread, (up, down), rounding):
                kinked[k], fell = True, True
                break
            if not measurable:
                break
        misses = 0 if fell else misses + 1
        if misses >= NARROW_GIVE_UP:
            return


@dataclass(frozen=True)
class Pattern:
    """A recognisable shape of a wrong gradient."""

    name: str  # stable id, e.g. "scaled-by-batch-size"
    description: str  # what is wrong, e.g. "analytic = 5 × numerical (5 is the batch size)"
    advice: str  # what to change, e.g. "divide it by the batch size"
    factor: float | None = None


def name_pattern(
    analytic: np.ndarray,
    numerical: np.ndarray,
    *,
    batch_size: int | None = None,
    full_analytic: np.ndarray | None = None,
    full_numerical: np.ndarray | None = None,
    tolerance: float = 1e-5,
) -> Pattern | None:
    """Name the way `analytic` differs from `numerical`, if it has a name.

    `analytic` and `numerical` are the compared elements (flat); the `full_*`
    arrays, given when every element was compared, allow the patterns that need
    the array's shape (transposed, some rows or columns).
    """
    a = np.asarray(analytic, dtype=np.float64).ravel()
    n = np.asarray(numerical, dtype=np.float64).ravel()
    norm_a, norm_n = float(np.linalg.norm(a)), float(np.linalg.norm(n))
    if norm_n > 0 and norm_a <= 1e-12 * norm_n:
        return Pattern(
            "not-computed", "it is all zeros but the loss does depend on it", "compute it in backward instead of leaving zeros"
        )
    if norm_a > 0 and norm_n <= 1e-12 * norm_a:
        return Pattern(
            "unused-in-forward",
            "the numerical gradient is zero, so changing this array does not change the output",
            "make forward compute with this very array (not a copy of it)",
        )
    if norm_n == 0:
        return None
    factor = float(np.dot(a, n) / np.dot(n, n))
    residual = float(np.linalg.norm(a - factor * n)) / max(norm_a, 1e-300)
    if residual < 1e-3 and not np.isclose(factor, 1.0, rtol=10 * tolerance):
        if np.isclose(factor, -1.0, rtol=1e-3):
            return Pattern("sign-flipped", "its sign is flipped (analytic = −numerical)", "negate it", -1.0)
        if batch_size and batch_size > 1:
            if np.isclose(factor, batch_size, rtol=1e-3):
                return Pattern(
                    "scaled-by-batch-size",
                    f"it is {batch_size} × too large ({batch_size} is the batch size)",
                    "divide it by the batch size",
                    factor,
                )
            if np.isclose(factor, 1.0 / batch_size, rtol=1e-3):
                return Pattern(
                    "divided-by-batch-size",
                    f"it is {batch_size} × too small ({batch_size} is the batch size)",
                    "remove the extra division by the batch size",
                    factor,
                )
        return Pattern(
            "scaled", f"it is {factor:.4g} × the numerical gradient", f"remove the constant factor {factor:.4g}", factor
        )
    if full_analytic is not None and full_numerical is not None:
        fa, fn = np.asarray(full_analytic, np.float64), np.asarray(full_numerical, np.float64)
        target = _one_per_row(fa, fn, batch_size)
        if target is not None:
            return target
        if fa.ndim == 2 and fa.shape == fn.shape[::-1] and np.allclose(fa.T, fn, rtol=1e-4, atol=1e-8 * norm_n):
            return Pattern("transposed", "it is the transpose of the numerical gradient", "swap the operands of the matrix product")
        if fa.ndim == 2 and fa.shape == fn.shape and fa.shape[0] == fa.shape[1]:
            if np.allclose(fa.T, fn, rtol=1e-4, atol=1e-8 * norm_n):
                return Pattern("transposed", "it is the transpose of the numerical gradient", "swap the operands of the matrix product")
        if fa.ndim >= 2 and fa.shape == fn.shape:
            bad = relative_error(fa, fn, 1e-8 * max(norm_n, 1e-300)) > max(tolerance, 1e-4)
            for axis, word in ((0, "rows"), (1, "columns")):
                other = tuple(i for i in range(bad.ndim) if i != axis)
                bad_lines = np.flatnonzero(bad.any(axis=other))
                # good lines must carry real gradient (a dead unit's zero row proves nothing),
                # and "some" means at most half of them
                good = np.setdiff1d(np.arange(bad.shape[axis]), bad_lines)
                alive = np.abs(fn).max(axis=other)[good] > 1e-8 * norm_n if len(good) else np.array([], bool)
                if (
                    0 < len(bad_lines) <= bad.shape[axis] // 2
                    and alive.any()
                    and bad.all(axis=other)[bad_lines].all()
                ):
                    shown = ", ".join(str(i) for i in bad_lines[:8]) + (" …" if len(bad_lines) > 8 else "")
                    return Pattern(
                        f"some-{word}",
                        f"only {len(bad_lines)} of {bad.shape[axis]} {word} are wrong ({word[:-1]} {shown})",
                        f"check how those {word} are indexed or sliced",
                    )
    return None


def _one_per_row(fa: np.ndarray, fn: np.ndarray, batch_size: int | None) -> Pattern | None:
    """The analytic gradient of a softmax-with-cross-entropy that is off by exactly 1/N at one entry
    of every row, the same sign throughout: the one-hot target is not subtracted (`dx = y / N` where
    `(y - t) / N` belongs), or subtracted twice."""
    if fa.ndim > 2 and fa.shape == fn.shape:  # a sequence's scores (N, T, V): one row per time step
        fa, fn = fa.reshape(-1, fa.shape[-1]), fn.reshape(-1, fn.shape[-1])
    if not (fa.ndim == 2 and fa.shape == fn.shape and fa.shape[0] >= 2 and fa.shape[1] >= 2 and batch_size):
        return None
    residual = fa - fn
    step = 1.0 / batch_size
    off = np.abs(residual) > 0.5 * step
    if not (off.sum(axis=1) == 1).all() or not np.allclose(np.abs(residual[off]), step, rtol=1e-3):
        return None
    if not np.allclose(residual[~off], 0.0, atol=1e-3 * step):
        return None
    signs = np.sign(residual[off])
    if (signs > 0).all():
        return Pattern(
            "target-not-subtracted",
            f"it is 1/{batch_size} too large at one entry of every row (the correct class's), so the one-hot target is never subtracted",
            "subtract the target from the softmax output before dividing by the batch size "
            "(`dx = (y - t) / N`, or `dx[np.arange(N), t] -= 1` for labels)",
        )
    if (signs < 0).all():
        return Pattern(
            "target-subtracted-twice",
            f"it is 1/{batch_size} too small at one entry of every row (the correct class's), so the one-hot target is subtracted twice",
            "subtract the target once",
        )
    return None


def worst_elements(result: Elementwise, shape: tuple[int, ...], floor: float, count: int = 5) -> list[tuple[tuple[int, ...], float, float, float]]:
    """The `count` worst compared elements as (index, numerical, analytic, relative error)."""
    errors = result.errors(floor)
    errors = np.where(result.kinked, -1.0, errors)
    order = np.argsort(-errors)[:count]
    out = []
    for k in order:
        if errors[k] < 0:
            continue
        index = tuple(int(i) for i in np.unravel_index(result.indices[k], shape)) if shape else ()
        out.append((index, float(result.numerical[k]), float(result.analytic[k]), float(errors[k])))
    return out


# -- an element-wise derivative ------------------------------------------------------------


def elementwise_slope_error(f: Callable[[Any], Any], g: Callable[[Any], Any], x: np.ndarray, quiet: Callable[[], Any]) -> float | None:
    """How far `g` is from the element-wise derivative of `f` at `x`, relative to the derivative's
    largest value: the smaller of `g` given x and `g` given f(x) (a derivative written of the
    output, `a * (1 - a)`). None where `f` is not element-wise at x (moving one element moves
    another), or where either cannot be called on an array of x's shape. `quiet`: the context
    user code runs in."""

    def called(fn: Callable[[Any], Any], a: np.ndarray) -> np.ndarray | None:
        try:
            with quiet():
                out = fn(a.copy())
            if isinstance(out, tuple) and out:
                out = out[0]  # `(A, cache)`
            out = np.asarray(out, dtype=np.float64)
        except Exception:  # noqa: BLE001 - user code that takes other arguments is not an activation here
            return None
        return out if out.shape == a.shape and bool(np.all(np.isfinite(out))) else None

    y = called(f, x)
    moved = x.copy()
    moved.flat[0] += 1e-3
    y_moved = called(f, moved) if y is not None else None
    if y is None or y_moved is None or not np.array_equal(y_moved.flat[1:], y.flat[1:]) or y_moved.flat[0] == y.flat[0]:
        return None
    h = 1e-6
    up, down = called(f, x + h), called(f, x - h)
    if up is None or down is None:
        return None
    slope = (up - down) / (2 * h)
    scale = max(float(np.max(np.abs(slope))), 1e-6)
    errors = [float(np.max(np.abs(d - slope))) / scale for given in (x, y) if (d := called(g, given)) is not None]
    return min(errors) if errors else None
