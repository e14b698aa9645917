"""`gradcheck.Direction.drawn`: the directions of a probe drawn in one call of the generator are the
directions drawn one after the other, and leave the generator where those leave it.

A network's forward differences draw a direction through each parameter and the input for each of
their probes (one offset into the pool for an array of up to half the pool, one per block for a
larger one). Drawn one at a time that is a call of the generator per offset, each about a seventh
of the check's own work on the book's network; drawn at once, every finding stays as it was only
if the offsets are the same numbers, which this pins for arrays of every size class.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_doctor import gradcheck
from backprop_doctor.gradcheck import BLOCK, POOL_SIZE, Direction

SHAPES = [
    (1,),  # a single element
    (50,),  # a bias
    (784, 50),  # the book's W1: one window of the pool
    (100, 784),  # the book's batch: more than half the pool, a window per block
    (POOL_SIZE // 2,),  # the largest array read as one window
    (POOL_SIZE // 2 + 1,),  # the smallest read by blocks
    (3 * BLOCK + 7,),  # a last block shorter than the others
    (5, 4, 3, 2),
]


def one_by_one(shapes, rng):
    return [Direction(shape, rng, scale) for shape, scale in shapes]


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_directions_drawn_at_once_are_those_drawn_one_after_the_other(seed):
    picks = np.random.default_rng(seed + 100)
    for _ in range(20):
        chosen = [SHAPES[i] for i in picks.integers(0, len(SHAPES), size=picks.integers(1, 8))]
        shapes = [(shape, float(picks.uniform(0.01, 3))) for shape in chosen]
        slow, fast = np.random.default_rng(seed), np.random.default_rng(seed)
        expected, got = one_by_one(shapes, slow), Direction.drawn(shapes, fast)
        assert [d.offsets for d in got] == [d.offsets for d in expected]
        assert all(isinstance(o, int) for d in got for o in d.offsets)
        assert [(d.shape, d.size, d.scale) for d in got] == [(d.shape, d.size, d.scale) for d in expected]
        assert fast.bit_generator.state == slow.bit_generator.state  # the next draws are the same too
        for a, b in zip(got, expected):
            assert np.array_equal(a.array(), b.array())


def test_the_engines_stream_gives_the_same_directions_either_way():
    # the engine draws from a stream of its own (`engine._streams`), not `default_rng`
    from backprop_doctor import engine

    shapes = [((784, 50), 0.01), ((50,), 0.2), ((50, 10), 0.1), ((10,), 0.3), ((100, 784), 0.5)] * 2
    slow, fast = engine._streams.take(0), engine._streams.take(0)
    try:
        assert [d.offsets for d in Direction.drawn(shapes, fast)] == [d.offsets for d in one_by_one(shapes, slow)]
        assert fast.bit_generator.state == slow.bit_generator.state
    finally:
        engine._streams.give(0, fast)
        engine._streams.give(0, slow)


def test_nothing_to_draw_draws_nothing():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    assert Direction.drawn([], rng) == []
    assert rng.bit_generator.state == state
    assert gradcheck.Direction.drawn([((2, 3), 1.0)], rng)[0].shape == (2, 3)
