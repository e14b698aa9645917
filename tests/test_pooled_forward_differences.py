"""`gradcheck.pooled_forward_differences`: a network's two forward differences read straight from the
direction pool give the figures `Direction.drawn` and `one_sided_probe` give, bit for bit.

`engine.LayerCheck._clean_with_input` settles a clean network with two forward differences through its
parameters and a block of its input. They used to go through one `Direction` object per array and
probe, a generator of pool windows per step and dot product, and a `Probe` per difference: Python
that cost more than the arithmetic on the book's network. The pooled version does the same steps and
dot products on the same windows. Every clean network's relative error (the rows of its report) is
one of these figures, so they must be the same numbers, drawn from the same generator state, with
the generator left where the `Direction`s leave it, the same evaluations made, and the arrays left
where the old steps left them.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_doctor import gradcheck
from backprop_doctor.gradcheck import POOL_SIZE, Direction

SHAPES = [
    [(784, 50), (50,), (50, 10), (10,), (10, 784)],  # the book's 784-50-10 net and a block of ten rows of its batch
    [(3,), (4, 5)],
    [(POOL_SIZE // 2,), (2, 3, 4)],  # the largest array read as one window
    [(1,)],
]


def _quadratic(arrays: list[np.ndarray], centres: list[np.ndarray], weights: list[np.ndarray]):
    """A smooth loss of the arrays (moved in place), its value at the point, and its gradient there."""
    calls = []

    def f() -> float:
        calls.append(1)
        return float(sum(np.sum(w * (a - c) ** 2) + np.sum(np.sin(a)) for a, c, w in zip(arrays, centres, weights)))

    grads = [2 * w * (a - c) + np.cos(a) for a, c, w in zip(arrays, centres, weights)]
    return f, f(), grads, calls


def _problem(shapes: list[tuple[int, ...]], seed: int):
    picks = np.random.default_rng(seed)
    arrays = [picks.normal(size=s) for s in shapes]
    centres = [picks.normal(size=s) for s in shapes]
    weights = [picks.uniform(0.5, 2, size=s) for s in shapes]
    scales = [float(picks.uniform(0.01, 2)) for _ in shapes]
    return arrays, centres, weights, scales


def _with_directions(f, f0, lives, grads, scales, h, floor, saved, rng, count, keep):
    """What `_clean_with_input` did before: `Direction.drawn`, `dots_along`, `one_sided_probe`."""
    drawn = Direction.drawn([(a.shape, s) for _ in range(count) for a, s in zip(lives, scales)], rng)
    plan = [drawn[j * len(lives) : (j + 1) * len(lives)] for j in range(count)]
    for directions, dots in zip(plan, gradcheck.dots_along(grads, plan)):
        probe = gradcheck.one_sided_probe(f, f0, lives, grads, directions, h, floor, saved, restore=False, dots=dots)
        if not keep(probe.analytic, probe.numerical, probe.floor):
            return False
    return True


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("seed", [0, 3, 11])
def test_the_pooled_figures_are_those_of_the_directions(shapes, seed):
    runs = {}
    for how, probe in (("directions", _with_directions), ("pooled", gradcheck.pooled_forward_differences)):
        arrays, centres, weights, scales = _problem(shapes, seed)
        f, f0, grads, calls = _quadratic(arrays, centres, weights)
        saved = [a.copy() for a in arrays]
        rng = np.random.default_rng(seed + 1000)
        rng.random()  # a draw before, as `_input_rows` draws one
        seen = []
        result = probe(f, f0, arrays, grads, scales, 1e-6, 1e-10, saved, rng, 2, lambda *figures: seen.append(figures) or True)
        runs[how] = (result, seen, len(calls), [a.copy() for a in arrays], rng.bit_generator.state)
    (result, seen, calls, moved, state), (result2, seen2, calls2, moved2, state2) = runs["directions"], runs["pooled"]
    assert result is True and result2 is True
    assert len(seen) == 2 and seen2 == seen  # analytic, numerical and floor of each, the same floats
    assert calls2 == calls == 3  # f0, then one evaluation per forward difference
    assert all(np.array_equal(a, b) for a, b in zip(moved2, moved))  # left at the second step, as before
    assert state2 == state  # the same draws: what the check draws next is the same too


def test_a_forward_difference_refused_ends_them_before_the_next_evaluation():
    arrays, centres, weights, scales = _problem(SHAPES[0], 5)
    f, f0, grads, calls = _quadratic(arrays, centres, weights)
    seen = []
    result = gradcheck.pooled_forward_differences(
        f, f0, arrays, grads, scales, 1e-6, 1e-10, [a.copy() for a in arrays], np.random.default_rng(0), 2, lambda *figures: seen.append(figures) and False
    )
    assert result is False and len(seen) == 1 and len(calls) == 2


def test_an_array_larger_than_one_pool_window_is_left_to_the_directions():
    arrays, centres, weights, scales = _problem([(50,), (POOL_SIZE // 2 + 1,)], 2)
    f, f0, grads, calls = _quadratic(arrays, centres, weights)
    rng = np.random.default_rng(4)
    before = rng.bit_generator.state
    result = gradcheck.pooled_forward_differences(
        f, f0, arrays, grads, scales, 1e-6, 1e-10, [a.copy() for a in arrays], rng, 2, lambda *figures: True
    )
    assert result is None and len(calls) == 1 and rng.bit_generator.state == before  # nothing drawn, nothing evaluated


def test_an_evaluation_that_raises_leaves_the_arrays_as_they_were():
    arrays, _, _, scales = _problem(SHAPES[1], 8)
    saved = [a.copy() for a in arrays]

    def f() -> float:
        raise ZeroDivisionError("the user's forward")

    with pytest.raises(ZeroDivisionError):
        gradcheck.pooled_forward_differences(f, 1.0, arrays, [np.ones_like(a) for a in arrays], scales, 1e-6, 1e-10, saved, np.random.default_rng(1), 2, lambda *figures: True)
    assert all(np.array_equal(a, s) for a, s in zip(arrays, saved))
