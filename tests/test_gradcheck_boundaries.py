"""The numerics core on each side of its boundaries: the direction pool and its large-array
windows, the comparison of large arrays, the constants that decide whether a probe is straight,
rounding-limited, kinked or wrong, and the element-wise narrowing.

Every function here is built to sit on one boundary (docs/TESTING.md, "seventh round"), and is
called in this process so that mutation testing sees it.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_doctor import gradcheck
from backprop_doctor.gradcheck import BLOCK, POOL_SIZE, Direction

EPS = float(np.finfo(np.float64).eps)


# -- the pool of directions ------------------------------------------------------------


def test_the_pool_is_rebuilt_the_same_uniform_read_only_numbers_with_their_running_squares():
    gradcheck._POOL.clear()  # built again, as a fresh process builds it
    pool = gradcheck._pool()
    expected = np.random.default_rng(0x706F6F6C).random(POOL_SIZE) * 2 - 1
    assert pool.shape == (POOL_SIZE,) and np.array_equal(pool, expected)
    assert not pool.flags.writeable
    squares = gradcheck._POOL[1]
    assert squares[0] == 0.0 and squares[-1] == pytest.approx(float(np.sum(expected**2)), rel=1e-12)
    assert gradcheck._window_squares(100, 7) == pytest.approx(float(np.sum(expected[100:107] ** 2)), rel=1e-9)
    assert gradcheck._pool() is pool  # built once


def _windows(d: Direction) -> np.ndarray:
    return np.concatenate([w for _, _, w in d.windows()])


@pytest.mark.parametrize("size", [POOL_SIZE // 2, POOL_SIZE // 2 + 1, 3 * BLOCK + 5])
def test_a_direction_is_one_window_up_to_half_the_pool_and_one_window_per_block_beyond(size):
    d = Direction((size,), np.random.default_rng(11), 0.5)
    if size <= POOL_SIZE // 2:
        expected = [int(np.random.default_rng(11).integers(0, POOL_SIZE - size + 1))]
    else:
        expected = np.random.default_rng(11).integers(0, POOL_SIZE - BLOCK + 1, size=-(-size // BLOCK)).tolist()
    assert d.offsets == expected
    starts = [(start, stop) for start, stop, _ in d.windows()]
    assert starts[0][0] == 0 and starts[-1][1] == size
    assert all(b[0] == a[1] for a, b in zip(starts, starts[1:]))
    pool = gradcheck._pool()
    flat = _windows(d)
    assert flat.shape == (size,)
    assert np.array_equal(flat[: min(size, BLOCK)], pool[d.offsets[0] : d.offsets[0] + min(size, BLOCK)])
    assert np.array_equal(d.array().reshape(-1), flat * 0.5)


def test_a_direction_has_a_default_scale_of_one_and_keeps_its_shape():
    d = Direction((3, 4), np.random.default_rng(2))
    assert d.scale == 1.0 and d.size == 12 and d.array().shape == (3, 4)
    assert np.array_equal(d.array().reshape(-1), _windows(d))


def _large_direction(shape=(300, 301)) -> Direction:
    return Direction(shape, np.random.default_rng(5), 0.25)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_direction_steps_every_element_of_contiguous_and_fortran_arrays(order, dtype):
    d = _large_direction()
    base = np.asarray(np.random.default_rng(6).standard_normal(d.shape), dtype=dtype, order=order)
    out = np.zeros(d.shape, dtype=dtype, order=order)
    d.step(out, base, 1e-3)
    expected = (base.astype(np.float64) + 1e-3 * d.array()).astype(dtype)
    assert np.allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-15, atol=0)
    assert out.flags.f_contiguous == (order == "F")


def test_a_large_direction_steps_a_fortran_array_from_a_c_ordered_one_and_back():
    d = _large_direction()
    c_base = np.random.default_rng(9).standard_normal(d.shape)
    for out, base in ((np.zeros(d.shape, order="F"), c_base), (np.zeros(d.shape), np.asfortranarray(c_base))):
        d.step(out, base, 1e-3)
        assert np.allclose(out, c_base + 1e-3 * d.array(), rtol=1e-15, atol=0)


def test_a_small_direction_steps_a_fortran_array_too():
    d = Direction((3, 5), np.random.default_rng(7), 2.0)
    base = np.asfortranarray(np.arange(15.0).reshape(3, 5))
    out = np.zeros((3, 5), order="F")
    d.step(out, base, 0.5)
    assert np.allclose(out, base + 0.5 * d.array(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("transposed", [False, True])
def test_a_large_direction_dots_a_gradient_and_itself(transposed):
    d = _large_direction()
    g = np.random.default_rng(8).standard_normal(d.shape[::-1] if transposed else d.shape)
    g = g.T if transposed else g
    v = d.array()
    dot, sq = d.dot(g)
    assert dot == pytest.approx(float(np.vdot(g, v)), rel=1e-9)
    assert sq == pytest.approx(float(np.vdot(v, v)), rel=1e-9)


def test_given_directions_step_and_dot_as_arrays():
    v = np.array([[1.0, -2.0], [0.5, 3.0]])
    given = gradcheck._direction(v)
    out, base = np.zeros((2, 2)), np.ones((2, 2))
    given.step(out, base, 0.5)
    assert np.array_equal(out, base + 0.5 * v)
    assert given.dot(np.ones((2, 2))) == (2.5, 14.25)


# -- comparing arrays ------------------------------------------------------------------


def test_large_arrays_are_identical_block_by_block_and_differ_in_any_block():
    a = np.arange(3 * gradcheck.COMPARE_BLOCK + 7, dtype=np.float64)
    assert gradcheck.identical(a, a.copy())
    for i in (0, gradcheck.COMPARE_BLOCK, a.size - 1):
        b = a.copy()
        b[i] += 1
        assert not gradcheck.identical(a, b), i
    assert not gradcheck.identical(a, a.reshape(-1, 1))  # the same values in another shape


def test_arrays_of_other_shapes_or_a_nan_only_in_one_are_not_identical():
    assert not gradcheck.identical(np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2))
    assert gradcheck.identical(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    assert not gradcheck.identical(np.array([np.nan, 1.0]), np.array([np.nan, 2.0]))
    assert not gradcheck.identical(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))
    big = np.full(gradcheck.COMPARE_BLOCK + 1, np.nan)
    assert gradcheck.identical(big, big.copy())
    assert gradcheck.identical(np.array([1, 2]), np.array([1, 2])) and not gradcheck.identical(np.array([1, 2]), np.array([1, 3]))


# -- random directions -----------------------------------------------------------------


class _Constant:
    """A generator stand-in whose uniform draws are given numbers."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float64)

    def random(self, shape):
        return np.broadcast_to(self.values, shape).copy()


def test_random_entries_are_centred_and_stretched_to_the_scale():
    v = gradcheck.random_direction((4,), _Constant([0.0, 0.25, 0.75, 0.5]), scale=3.0)
    assert np.array_equal(v, [-3.0, -1.5, 1.5, 0.0])


@pytest.mark.parametrize("shape", [(1,), (2, 2)])
def test_a_direction_drawn_as_all_zeros_becomes_the_even_unit_direction(shape):
    v = gradcheck.random_direction(shape, _Constant(0.5))
    size = int(np.prod(shape))
    assert v.shape == shape and np.allclose(v, 1 / np.sqrt(size), rtol=1e-15, atol=0)


def test_a_unit_direction_is_the_centred_draw_over_its_length():
    v = gradcheck.random_direction((2,), _Constant([1.0, 0.5 + 0.75]))
    assert np.allclose(v, [0.5, 0.75] / np.hypot(0.5, 0.75), rtol=1e-15, atol=0)


# -- numbers on each side of a threshold ---------------------------------------------------


def _probe(forward=1.0, backward=1.0, numerical=1.0, analytic=1.0, floor=0.0, rounding=0.0):
    return gradcheck.Probe(analytic, numerical, forward, backward, abs(analytic), floor, rounding=rounding)


def test_relative_errors_compare_integers_as_floats_and_floor_at_1e_10():
    assert gradcheck.relative_error(np.array([100], np.int8), np.array([-100], np.int8)) == 2.0
    assert gradcheck.relative_error(0.0, 1e-14) == pytest.approx(1e-4)


def test_the_noise_floor_is_a_million_times_the_rounding_of_the_difference_quotient():
    assert gradcheck.noise_floor(2.0, 0.5) == 1e6 * EPS * 4.0
    assert gradcheck._rounding(-2.0, 0.5) == EPS * 4.0


def test_a_probe_is_rounding_limited_only_above_a_tenth_of_the_tolerance_and_with_a_slope():
    one = _probe(numerical=1.0, analytic=-0.5)
    assert not gradcheck.rounding_limited(one, 1.0, 1.0, 10 * EPS)  # 10·eps against 10·eps: not above
    assert gradcheck.rounding_limited(one, 1.0, 1.0, 9 * EPS)
    assert not gradcheck.rounding_limited(_probe(numerical=0.0, analytic=0.0), 1.0, 1.0, 1e-5)  # no slope


def test_a_probe_is_straight_up_to_a_tenth_of_the_tolerance_of_its_first_difference():
    # no rounding (f0 = 0): straight while |forward - backward| <= 0.2·tol·|numerical|
    h, tol = 1e-3, 1e-2
    assert gradcheck._straight(_probe(forward=1.0019, backward=1.0, numerical=1.0), 0.0, h, tol)
    assert not gradcheck._straight(_probe(forward=1.0021, backward=1.0, numerical=1.0), 0.0, h, tol)
    assert not gradcheck._straight(_probe(forward=1.0021, backward=1.0, numerical=-1.0), 0.0, h, tol)


def test_a_wider_step_is_bent_beyond_a_tenth_of_the_tolerance_of_the_central_slope():
    tol = 1e-3  # no rounding (f0 = 0): off the central slope 1 (or -1) by more than 1e-4 of it, over a step of 2
    assert not gradcheck._bent(1.00009, _probe(numerical=1.0), 0.0, 2.0, tol)
    assert gradcheck._bent(1.00011, _probe(numerical=1.0), 0.0, 2.0, tol)
    assert gradcheck._bent(-1.00011, _probe(numerical=-1.0), 0.0, 2.0, tol)
    assert not gradcheck._bent(-1.00009, _probe(numerical=-1.0), 0.0, 2.0, tol)


def test_a_wider_step_is_bent_beyond_six_roundings_of_f0_and_twice_the_central_slopes():
    # f0 = 1 over a step of 2: f's own rounding allowed twice (once as `_straight` allows a side, once
    # for f(θ + 2v) and f0 twice over): 6·eps; the central slope's rounding 0.25·eps, twice over, times 2
    central = _probe(numerical=0.0, rounding=0.25 * EPS)
    assert not gradcheck._bent(7.0 * EPS / 2 * 0.99, central, 1.0, 2.0, 0.0)
    assert gradcheck._bent(7.0 * EPS / 2 * 1.01, central, 1.0, 2.0, 0.0)
    assert gradcheck._bent(6.0 * EPS / 2 * 1.01, _probe(numerical=0.0), 1.0, 2.0, 0.0)


def test_a_forward_slope_agrees_with_the_analytic_one_within_six_roundings_and_a_tenth_of_the_tolerance():
    assert gradcheck._agrees(6 * EPS / 2 * 0.99, 0.0, 1.0, 2.0, 0.0)
    assert not gradcheck._agrees(6 * EPS / 2 * 1.01, 0.0, 1.0, 2.0, 0.0)
    assert not gradcheck._agrees(-6 * EPS / 2 * 1.01, 0.0, -1.0, 2.0, 0.0)
    assert gradcheck._agrees(-1.00009, -1.0, 0.0, 2.0, 1e-3)
    assert not gradcheck._agrees(-1.00011, -1.0, 0.0, 2.0, 1e-3)


def test_a_probe_is_straight_up_to_four_roundings_of_f0():
    # tol = 0: straight while |forward - backward|·h <= 4·(eps·|f0|/h)·h; h = 2, f0 = 1 (exact in binary)
    at = _probe(forward=2 * EPS, backward=0.0, numerical=0.0)
    assert gradcheck._straight(at, 1.0, 2.0, 0.0)
    assert not gradcheck._straight(_probe(forward=2.25 * EPS, backward=0.0, numerical=0.0), 1.0, 2.0, 0.0)
    assert gradcheck._straight(_probe(forward=1.75 * EPS, backward=0.0, numerical=0.0), 1.0, 2.0, 0.0)


def test_a_tie_stays_half_apart_above_eight_roundings_and_a_ten_thousandth_of_the_slopes():
    assert gradcheck._tie(1.0, 2.0, (1.0, 0.0), 0.0)  # exactly half the first spread
    assert not gradcheck._tie(0.5, 2.0, (1.0, 0.0), 0.0)
    assert not gradcheck._tie(1.0, 1.0, (1.0, 0.0), 0.125)  # exactly eight roundings
    assert gradcheck._tie(1.0, 1.0, (1.0, 0.0), 0.12)  # 0.96 below, 1.08 above with nine
    assert not gradcheck._tie(1.0, 1.0, (1.0, 0.0), 0.13)
    spread = gradcheck.TIE_ASYMMETRY * 3.0
    assert not gradcheck._tie(spread, spread, (3.0, 0.0), 0.0)  # exactly a ten-thousandth
    assert not gradcheck._tie(0.5, 0.5, (1e4, 0.0), 0.0)
    assert gradcheck._tie(0.5, 0.5, (0.0, 4e3), 0.0)


def test_a_probe_floors_its_error_at_the_floor_given_the_gradient_size_and_the_noise():
    a = np.zeros(2)
    g = np.array([3.0, 4.0])
    v = np.array([0.0, 2.0])  # |g|·|v| = 10
    f = lambda: 0.0  # noqa: E731
    assert gradcheck.directional_probe(f, 0.0, [a], [g], [v], 1e-3, floor=0.5).floor == 0.5
    assert gradcheck.directional_probe(f, 0.0, [a], [g], [v], 1e-3, floor=0.0).floor == pytest.approx(1e-5)
    assert gradcheck.directional_probe(f, 2.0**22, [a], [g], [v], 0.5, floor=0.0).floor == gradcheck.noise_floor(2.0**22, 0.5)
    assert gradcheck.one_sided_probe(f, 0.0, [a], [g], [v], 1e-3).floor == pytest.approx(1e-5)
    assert gradcheck.one_sided_probe(f, 0.0, [a], [np.zeros(2)], [v], 1e-3).floor == 1e-10


def test_the_norm_of_a_gradient_overflowing_its_square_is_infinite_and_one_holding_inf_is_zero():
    big = np.array([1e200, 1e200])
    with np.errstate(over="ignore"):
        assert gradcheck._norm(big, gradcheck._squared_norm(big)) == np.inf
    inf = np.array([np.inf, 1.0])
    assert gradcheck._norm(inf, gradcheck._squared_norm(inf)) == 0.0
    assert gradcheck._norm(np.array([3.0, 4.0]), 25.0) == 5.0


def test_norms_a_gradient_list_keeps_are_used_as_kept():
    class Kept(list):
        def squared_norms(self):
            return [4.0]

    assert gradcheck.squared_norms(Kept([np.ones(3)])) == [4.0]
    assert gradcheck.squared_norms([np.ones(3), np.full((2, 2), 2.0).T]) == [3.0, 16.0]


def test_an_empty_array_has_scale_zero():
    assert gradcheck.array_scale(np.zeros((0, 3))) == 0.0
    assert gradcheck.array_scale(np.array([[3.0], [-4.0]])) == pytest.approx(np.sqrt(12.5))


def test_arrays_with_a_size_of_their_own_keep_it_even_below_one():
    scales = gradcheck.step_scales([np.full(4, 0.5), np.full(4, 0.01)], [np.full(4, 0.5), np.full(4, 50.0)])
    assert scales == [pytest.approx(0.5), pytest.approx(0.01)]


def test_a_zero_array_takes_the_median_effect_over_its_own_gradient_norm():
    w1, w2, still, b = np.full(4, 0.5), np.full(4, 0.01), np.full(4, 2.0), np.zeros(4)
    g1, g2, g_still, gb = np.full(4, 0.25), np.full(4, 0.5), np.zeros(4), np.full(4, 0.2)  # norms 0.5, 1, 0, 0.4
    scales = gradcheck.step_scales([w1, w2, still, b], [g1, g2, g_still, gb])
    # effects: 0.5·0.5 = 0.25 and 0.01·1 = 0.01 (the still array has none): median 0.13, over 0.4
    assert scales[:3] == [pytest.approx(0.5), pytest.approx(0.01), pytest.approx(2.0)]
    assert scales[3] == pytest.approx(0.13 / 0.4)


def test_a_zero_array_gets_the_largest_scale_when_nothing_tells_it_otherwise():
    w, b = np.full(4, 0.3), np.zeros(4)
    assert gradcheck.step_scales([w, b], [np.ones(4), np.zeros(4)])[1] == pytest.approx(0.3)  # its gradient is zero
    assert gradcheck.step_scales([w, b], [np.zeros(4), np.ones(4)])[1] == pytest.approx(0.3)  # no other effect
    assert gradcheck.step_scales([np.full(2, np.inf), b[:2]], [np.ones(2), np.ones(2)]) == [1.0, 1.0]
    huge = gradcheck.step_scales([np.full(4, 1e-3), b], [np.full(4, 1e3), np.full(4, 1e-9)])
    assert huge[1] == pytest.approx(1e-3)  # never more than the largest scale


# -- element by element ------------------------------------------------------------------

H = 1e-6
SMOOTH, WRONG, SMALL_WRONG, CROSSED, TIE = "smooth", "wrong", "small-wrong", "crossed", "tie"
D_SOFT = 0.0735 * H
# Each kind of element of `_elements`: its share of the objective as a function of its value x
# (0 at the point), and its analytic gradient (twice the slope for the wrong ones).
KINDS = {
    SMOOTH: (lambda x: x + 0.5 * x * x, 1.0),
    WRONG: (lambda x: x + 0.5 * x * x, 2.0),
    SMALL_WRONG: (lambda x: 1e-6 * x, 2e-6),
    CROSSED: (lambda x: min(x - 0.999 * H, 0.0) + 0.999 * H, 1.0),  # slope 1, flat past 0.999·H
    TIE: (lambda x: x if x > 0 else 0.995 * x, 1.0),  # a kink at the point: slopes 1 and 0.995
    "half-crossed": (lambda x: min(x - 0.5 * H, 0.0) + 0.5 * H, 1.0),  # kinked at H already
    "half": (lambda x: 0.5 * x, 0.5),
    "tiny-7": (lambda x: 7e-14 * x, 1.4e-13),
    "tiny-1": (lambda x: 1e-14 * x, 2e-14),
    "wrong-4": (lambda x: 4.0 * x, 8.0),
    "small-flat": (lambda x: 1e-3 * x, 2e-3),
    "small-curved": (lambda x: 1e-3 * x + x * x, 2e-3),
    "soft": (lambda x: x if x < D_SOFT else D_SOFT + 0.995 * (x - D_SOFT), 1.0),  # slope 0.995 past 0.0735·H
    "linear-wrong": (lambda x: x, 2.0),
}


def _elements(kinds: list[str], offset: float = 0.0):
    """An array of zeros, an objective `offset` plus each element's term (the terms are 0 at the
    point), the analytic gradient, and a list counting the objective's evaluations."""
    a = np.zeros(len(kinds))
    calls = []

    def f():
        calls.append(1)
        return offset + sum(KINDS[kind][0](float(a[i])) for i, kind in enumerate(kinds))

    grad = np.array([KINDS[kind][1] for kind in kinds])
    return a, f, grad, calls


def _checked(kinds, offset=0.0, **options):
    a, f, grad, calls = _elements(kinds, offset)
    result = gradcheck.elementwise(f, offset, a, grad, H, np.random.default_rng(0), tol=1e-5, **options)
    return result, len(calls)


def test_elements_are_stepped_again_only_when_they_fail_and_a_crossed_kink_takes_the_finer_value():
    result, calls = _checked([SMOOTH, CROSSED, SMOOTH])
    assert result.numerical[0] == pytest.approx(1.0, rel=1e-8) and result.numerical[2] == pytest.approx(1.0, rel=1e-8)
    assert result.numerical[1] == pytest.approx(1.0, rel=1e-6)  # 0.9995 at H, 1 at H / 10
    assert result.kinked.tolist() == [False, True, False]
    assert calls == 2 * 3 + 2  # one finer central difference, for the crossed element only


def test_a_kink_at_the_point_keeps_its_value_and_is_marked():
    result, calls = _checked([TIE, SMOOTH])
    assert result.numerical[0] == pytest.approx(0.9975, rel=1e-6)
    assert result.kinked.tolist() == [True, False]
    assert calls == 2 * 2 + 2


def test_a_wrong_element_is_stepped_twice_finer_and_stays_wrong():
    result, calls = _checked([WRONG, SMOOTH])
    assert result.numerical[0] == pytest.approx(1.0, rel=1e-8)
    assert result.kinked.tolist() == [False, False]
    assert calls == 2 * 2 + 2 * 2


def test_an_element_wrong_far_below_the_largest_is_still_stepped_again():
    result, calls = _checked([SMALL_WRONG, SMOOTH])
    assert result.numerical[0] == pytest.approx(1e-6, rel=1e-3) and not result.kinked.any()
    assert calls == 2 * 2 + 2 * 2
    result, calls = _checked([SMALL_WRONG, SMOOTH], atol=1.0)  # within atol: not stepped again
    assert calls == 2 * 2


def test_three_wrong_elements_in_a_row_stop_the_narrowing_and_a_kink_between_resets_the_count():
    kinds = [WRONG, WRONG, CROSSED, WRONG, WRONG, TIE, WRONG, WRONG, WRONG, CROSSED]
    result, calls = _checked(kinds)
    assert result.kinked.tolist() == [k in (CROSSED, TIE) for k in kinds[:-1]] + [False]
    assert result.numerical[2] == pytest.approx(1.0, rel=1e-6)
    assert result.numerical[9] == pytest.approx(0.9995, rel=1e-6)  # never stepped again
    assert calls == 2 * len(kinds) + 4 + 4 + 2 + 4 + 4 + 2 + 4 + 4 + 4


def test_an_element_whose_slopes_differ_at_the_first_step_is_kinked_and_not_stepped_again():
    result, calls = _checked(["half-crossed", SMOOTH])
    assert result.kinked.tolist() == [True, False]
    assert result.numerical[0] == pytest.approx(0.75, rel=1e-6)  # slopes 0.5 and 1
    assert calls == 2 * 2


def test_elements_far_below_the_largest_are_judged_against_1e_8_of_it():
    # the floor is 1e-8 × 0.5: an element off by 7e-14 is 1.4e-5 of it (stepped again), one off by 1e-14 is 2e-6 (not)
    result, calls = _checked(["half", "tiny-7", "tiny-1"])
    assert calls == 2 * 3 + 4
    assert not result.kinked.any()


@pytest.mark.parametrize(("offset", "calls"), [(3400.0, 2 * 2 + 2), (3900.0, 2 * 2)])
def test_an_element_is_stepped_finer_only_while_ten_roundings_stay_within_the_tolerance(offset, calls):
    # slope 4, analytic 8: at H / 10, 10·eps·|f0| / (H / 10) against 1e-5 × 8 is 0.94 at 3400 (one finer
    # step, then rounding stops it) and 1.08 at 3900 (none)
    result, count = _checked(["wrong-4", "half"], offset=offset)
    assert count == calls and result.numerical[0] == pytest.approx(4.0, rel=1e-4)


@pytest.mark.parametrize("small", ["small-flat", "small-curved"])
def test_an_element_rounding_stops_does_not_stop_the_next_ones(small):
    # f0 = 1: a slope of 1e-3 is not measurable at H / 10; the crossed kink after it still is
    result, _ = _checked([small, CROSSED], offset=1.0)
    assert result.kinked.tolist() == [False, True]
    assert result.numerical[1] == pytest.approx(1.0, rel=1e-6)


def test_an_error_that_falls_threefold_at_the_finer_step_takes_that_step_and_is_kinked():
    # slopes 1 and 0.995 past 0.0735·H: 0.9977 at H, 0.99934 at H / 10 (errors 3.5 times apart)
    result, calls = _checked(["soft", SMOOTH])
    assert result.kinked.tolist() == [True, False]
    assert result.numerical[0] == pytest.approx(0.9975 + 0.0025 * 0.735, rel=1e-7)
    assert calls == 2 * 2 + 2


def test_a_wrong_element_whose_one_sided_slopes_agree_exactly_is_no_tie():
    result, calls = _checked(["linear-wrong", SMOOTH])
    assert result.kinked.tolist() == [False, False] and result.numerical[0] == 1.0
    assert calls == 2 * 2 + 4


def test_elementwise_compares_every_element_up_to_the_limit_and_a_sample_without_repeats_past_it():
    a, f, grad, _ = _elements([SMOOTH] * 6)
    full = gradcheck.elementwise(f, 0.0, a, grad, H, np.random.default_rng(0), limit=6)  # f0 is 0
    assert full.full and full.indices.tolist() == list(range(6))
    sampled = gradcheck.elementwise(f, 0.0, a, grad, H, np.random.default_rng(0), limit=5, sample=5)
    assert not sampled.full and len(set(sampled.indices.tolist())) == 5
    assert sampled.indices.tolist() == sorted(np.random.default_rng(0).choice(6, size=5, replace=False).tolist())
    assert np.array_equal(sampled.analytic, grad[sampled.indices])


# -- probes that grow, confirm or narrow their step ------------------------------------------

TOL = 1e-5


def _refined(f, slope=1.0, **options):
    """`refined_probe` of a one-element array at 0 along +1, its analytic gradient `slope`."""
    a = np.zeros(1)
    objective = lambda: f(float(a[0]))  # noqa: E731
    return gradcheck.refined_probe(objective, objective(), [a], [np.array([slope])], [np.array([1.0])], H, tol=TOL, **options)


def _kink_ahead(d, slope=1.0, offset=0.0):
    """Slope `slope` up to a kink `d` to the right of the point, flat past it."""
    return lambda x: offset + slope * min(x - d, 0.0)


def _step_noise(delta):
    """A slope of 1 plus a jump of ±delta within 1e-12 of the point: it moves f(±s) by ±delta
    at every step s, as rounding does, so the central difference is off by delta / s while
    the one-sided slopes agree (not a kink, and straight)."""
    return lambda x: x + delta * max(-1.0, min(1.0, x / 1e-12))


def test_a_kink_just_within_the_step_is_narrowed_to_the_finer_step_that_misses_it():
    probe = _refined(_kink_ahead(0.999 * H))  # slopes 0.999 and 1 at H: not kinked, 5e-4 off
    assert probe.step == H / 10 and probe.error <= TOL and not probe.kinked
    plain = _refined(_kink_ahead(0.999 * H), narrow=False)
    assert plain.step == H and plain.error == pytest.approx(5e-4, rel=1e-3)
    assert _refined(_kink_ahead(0.999 * H)).step == H / 10  # narrowing is the default


def test_a_crossed_kink_whose_error_falls_threefold_is_marked_at_the_finer_step():
    # kink at 0.0735·H: error 0.463 at H, 0.1325 at H/10 (3.5 times less), slopes no tie
    probe = _refined(_kink_ahead(0.0735 * H))
    assert probe.step == H / 10 and probe.kink is True
    assert probe.error == pytest.approx(0.1325, rel=1e-3)


def test_a_kink_whose_slopes_stay_apart_is_a_tie_at_the_finer_step():
    # kink at 0.05·H: slopes 0.05 and 1 at H, 0.5 and 1 at H/10 (the error falls less than threefold)
    probe = _refined(_kink_ahead(0.05 * H))
    assert probe.step == H / 10 and probe.kink is True
    assert probe.error == pytest.approx(0.25, rel=1e-3)


@pytest.mark.parametrize(("offset", "narrowed"), [(1650.0, True), (1850.0, False)])
def test_narrowing_stops_where_ten_roundings_of_the_finer_step_exceed_the_tolerance(offset, narrowed):
    # slope 4: 10·eps·|f0|/(H/10) against 1e-5·4 is 0.92 (narrowed) or 1.03 (not) at these offsets
    probe = _refined(_kink_ahead(0.0735 * H, slope=4.0, offset=offset), slope=4.0)
    assert probe.step == (H / 10 if narrowed else H)


def test_a_failing_probe_is_confirmed_at_up_to_a_thousand_times_its_step():
    passes = _refined(_step_noise(1e-8))  # off by 1e-2 at H ... 1e-5 at 1000·H
    assert passes.step == 1000 * H and passes.error <= TOL
    fails = _refined(_step_noise(1e-7))  # would pass only at 10,000·H
    assert fails.step == H and fails.error > TOL


def test_a_passing_probe_keeps_its_first_step():
    probe = _refined(_step_noise(1e-12))  # off by 1e-6 at H, 1e-5 at H / 10
    assert probe.step == H and probe.error <= TOL


def test_rounding_hides_the_slope_from_an_offset_of_about_4500_at_the_first_step():
    # 10·eps·|f0|/H against 1e-5: 0.95 at 4300 (probed at H), 1.04 at 4700 (probed at 10·H)
    assert _refined(lambda x: 4300.0 + x).step == H
    assert _refined(lambda x: 4700.0 + x).step == 10 * H
    grown = _refined(lambda x: 1e5 + x)  # still limited at 10·H: grown once more
    assert grown.step == 100 * H and grown.error <= TOL


def test_a_wider_step_that_is_not_straight_is_not_taken_even_when_rounding_hides_the_slope():
    # f = 1e4 + x + x²: rounding limits the probe at H (2.2e-5 against 1e-5); at 10·H its
    # one-sided slopes are 2e-5 apart, beyond rounding and a tenth of the tolerance
    probe = _refined(lambda x: 1e4 + x + x * x)
    assert probe.step == H and probe.error <= TOL


# -- naming the pattern of a wrong gradient ---------------------------------------------------


def _named(a, n, **options):
    pattern = gradcheck.name_pattern(np.ravel(a), np.ravel(n), **options)
    return None if pattern is None else pattern.name


def _with_full(a, n, **options):
    return gradcheck.name_pattern(np.ravel(a), np.ravel(n), full_analytic=a, full_numerical=n, **options)


N = np.random.default_rng(21).standard_normal(40) + 0.5


def test_integer_numerical_gradients_are_compared_as_floats():
    n = np.array([100, 100, 100], dtype=np.int8)
    assert gradcheck.name_pattern(n, n) is None  # the same numbers: no factor, whatever the dtype


@pytest.mark.parametrize(
    ("factor", "batch", "name"),
    [
        (1.00005, None, None),  # within 10 × the tolerance of one
        (1.000105, None, "scaled"),
        (-1.0005, None, "sign-flipped"),  # within 1e-3 of -1
        (-0.5, None, "scaled"),
        (3.0, None, "scaled"),
        (2.0, 2, "scaled-by-batch-size"),  # a batch of two counts
        (5.004, 5, "scaled-by-batch-size"),  # within 1e-3 of the batch size
        (0.20008, 5, "divided-by-batch-size"),
        (5.0, 1, "scaled"),
    ],
)
def test_factors_are_named_within_their_tolerances(factor, batch, name):
    assert _named(factor * N, N, batch_size=batch) == name


def test_a_factor_is_named_by_the_residual_relative_to_the_gradient_size():
    noise = np.random.default_rng(22).standard_normal(40)
    assert _named(100 * (3 * N + 1e-5 * noise), 100 * N) == "scaled"  # 1e-5 off, a norm of 2,000
    assert _named(1e-3 * (3 * N + 1e-2 * noise), 1e-3 * N) is None  # 1 % off, a norm of 0.06


def test_zero_against_zero_has_no_pattern_even_with_square_full_arrays():
    assert gradcheck.name_pattern(np.zeros(9), np.zeros(9), full_analytic=np.zeros((3, 3)), full_numerical=np.zeros((3, 3))) is None


def test_a_near_transpose_is_named_within_1e_4_and_an_absolute_1e_8_of_the_norm():
    n = np.random.default_rng(23).standard_normal((3, 4)) + 2.0
    near = n.T * (1 + 5e-5)
    assert _with_full(near, n).name == "transposed"
    tiny = 1e-6 * n
    off = tiny.T + 1e-9  # a thousandth of the entries: not within the tolerance
    assert _with_full(off, tiny) is None
    square = 1e-6 * (np.random.default_rng(24).standard_normal((4, 4)) + 2.0)
    assert _with_full(square.T + 1e-9, square) is None


def test_a_three_dimensional_gradient_with_its_axes_reversed_is_not_called_transposed():
    n = np.random.default_rng(25).standard_normal((2, 2, 2)) + 3.0
    assert _with_full(n.transpose(), n) is None


def test_some_rows_of_a_square_gradient_are_named():
    n = np.random.default_rng(26).standard_normal((4, 4)) + 3.0
    a = n.copy()
    a[1] *= -1.5
    assert _with_full(a, n).description == "only 1 of 4 rows are wrong (row 1)"


def test_rows_are_judged_against_a_floor_of_1e_8_of_the_norm():
    n = np.random.default_rng(27).standard_normal((4, 3)) + 3.0
    big = 1e5 * n
    big[3] = 1e-8  # far below 1e-8 of the norm: doubling it is not an error
    a = big.copy()
    a[0] *= -1.5
    a[3] *= 2
    assert _with_full(a, big).description == "only 1 of 4 rows are wrong (row 0)"
    small = 1e-3 * n
    small[3] = 1e-13  # 3e-3 of the floor: doubled, it is wrong
    a = small.copy()
    a[0] *= -1.5
    a[3] *= 2
    assert _with_full(a, small).description == "only 2 of 4 rows are wrong (row 0, 3)"


def test_rows_far_below_the_norm_are_dead_and_cannot_show_the_others_are_wrong():
    n = np.full((4, 3), 1e-8)
    n[:2] = [[10.0, 11.0, 12.0], [13.0, 14.0, 15.0]]
    a = n.copy()
    a[0] *= -1.5
    a[1] += 2.0  # no one factor: two wrong rows, and two at 1e-8 (of a norm of 30)
    assert _with_full(a, n) is None
    n[2:] = a[2:] = 1e-6  # above 1e-8 of the norm: alive
    assert _with_full(a, n).description == "only 2 of 4 rows are wrong (row 0, 1)"


def test_arrays_without_a_finite_scale_step_at_one_and_a_gradient_holding_inf_has_no_norm():
    assert gradcheck.step_scales([np.full(2, np.inf)], [np.ones(2)]) == [1.0]
    # the first gradient holds an infinity: no effect of its own, so the zero array takes the largest scale
    assert gradcheck.step_scales([np.ones(2), np.zeros(2)], [np.array([np.inf, 1.0]), np.ones(2)]) == [1.0, 1.0]


def test_element_errors_are_floored_at_the_floor_given():
    result = gradcheck.Elementwise(np.arange(2), np.array([1e-9, 1.0]), np.array([2e-9, 1.5]), np.zeros(2, bool), True)
    assert result.errors(1.0).tolist() == pytest.approx([1e-9, 1 / 3])


def test_one_sided_slopes_apart_by_less_than_eight_roundings_are_no_kink():
    # f0 = 1e6 moves by a few units in the last place over the step: slopes 1.4e-3 and 0.7e-3, against
    # 8·eps·1e6 / 1e-6 = 1.8e-3 of rounding
    a = np.zeros(1)
    f = lambda: 1e6 + 1e-3 * float(a[0]) + 300 * float(a[0]) ** 2  # noqa: E731
    probe = gradcheck.directional_probe(f, f(), [a], [np.full(1, 2e-3)], [np.ones(1)], 1e-6)
    assert abs(probe.forward_slope - probe.backward_slope) > 0.01 * max(abs(probe.forward_slope), abs(probe.backward_slope))
    assert probe.rounding == gradcheck._rounding(1e6, 1e-6) and not probe.kinked


def test_an_integer_numerical_gradient_is_scaled_as_floats():
    pattern = gradcheck.name_pattern(np.full(3, 300.0), np.full(3, 100, np.int8))  # 100² · 3 overflows int8
    assert pattern.name == "scaled" and pattern.factor == 3.0


def test_a_slope_is_hidden_above_a_tenth_of_the_tolerance_of_it_and_never_when_it_is_zero():
    rounding = EPS * 4.0 / 1e-6
    assert gradcheck.slope_hidden(10 * rounding / 1e-5 * 0.99, 4.0, 1e-6, 1e-5)
    assert gradcheck.slope_hidden(-10 * rounding / 1e-5 * 0.99, -4.0, 1e-6, 1e-5)
    assert not gradcheck.slope_hidden(10 * rounding / 1e-5 * 1.01, 4.0, 1e-6, 1e-5)
    assert not gradcheck.slope_hidden(0.0, 4.0, 1e-6, 1e-5)


def _kinked_beyond_the_first_step(points: list[float]):
    """A function whose rounding hides its slope at h = 1e-6 (f near 1000, slope 0.1) and with
    a kink between h and 10·h along +1: its probe at 10·h is not straight. Records each point."""
    a = np.zeros(1)

    def f() -> float:
        points.append(float(a[0]))
        return 1000.0 + 0.1 * a[0] + 0.5 * max(0.0, a[0] - 5e-6)

    return a, f


def test_a_refined_probe_evaluates_no_point_twice_when_the_wider_step_it_tried_first_is_not_straight():
    points: list[float] = []
    a, f = _kinked_beyond_the_first_step(points)
    f0 = f()
    points.clear()
    probe = gradcheck.refined_probe(f, f0, [a], [np.array([0.1])], [np.array([1.0])], 1e-6)
    # the wider step tried first on its positive side (its forward slope, 0.35, is off the analytic
    # 0.1), then the first step, which stands; the wider step's forward slope is off that one's central
    # slope too: not straight, so its negative side is never evaluated
    assert probe.step == 1e-6 and probe.error <= 1e-5
    assert sorted(points) == pytest.approx([-1e-6, 1e-6, 1e-5], rel=1e-9)
    assert a[0] == 0.0


def _recorded(function, points: list[float]):
    """A one-element array at 0 and `function` of it as an objective that records each point."""
    a = np.zeros(1)

    def f() -> float:
        points.append(float(a[0]))
        return function(float(a[0]))

    return a, f


def _refined_points(function, slope: float, bent: set[float] | None = None):
    points: list[float] = []
    a, f = _recorded(function, points)
    f0 = f()
    points.clear()
    probe = gradcheck.refined_probe(f, f0, [a], [np.array([slope])], [np.array([1.0])], 1e-6, bent=bent)
    assert a[0] == 0.0
    return probe, sorted(points)


def test_a_wider_step_bent_on_its_negative_side_only_is_found_by_both_sides_as_before():
    # the kink at -5e-6: the forward slope at 1e-5 is the analytic 0.1, so the other side follows at
    # once, and the second difference finds the bend: the first step is kept (four evaluations, as before)
    probe, points = _refined_points(lambda x: 1000.0 + 0.1 * x + 0.5 * max(0.0, -x - 5e-6), 0.1)
    assert probe.step == 1e-6 and probe.error <= 1e-5
    assert points == pytest.approx([-1e-5, -1e-6, 1e-6, 1e-5], rel=1e-9)


def test_a_wrong_gradient_is_still_measured_at_the_wider_straight_step():
    # f is straight, its slope 0.1, the gradient says 0.2: the wider step's forward slope is off the
    # analytic one, but not off the first step's central slope, so its other side is evaluated and the
    # straight wider step measures the gradient (which fails), as it did when both sides came first
    probe, points = _refined_points(lambda x: 1000.0 + 0.1 * x, 0.2)
    assert probe.step == pytest.approx(1e-5, rel=1e-9) and probe.error > 0.3
    assert points == pytest.approx([-1e-5, -1e-6, 1e-6, 1e-5], rel=1e-9)


def test_a_grown_step_whose_next_step_is_bent_on_its_positive_side_costs_one_evaluation_for_it():
    # rounding hides the slope (f near 1e5) at 1e-6 and at 1e-5; a kink at 5e-5: the probe at 1e-5 is
    # straight and kept, and 1e-4's forward slope alone shows that step is not
    probe, points = _refined_points(lambda x: 1e5 + 0.1 * x + 0.5 * max(0.0, x - 5e-5), 0.1)
    assert probe.step == pytest.approx(1e-5, rel=1e-9) and probe.error <= 1e-5
    assert points == pytest.approx([-1e-5, 1e-5, 1e-4], rel=1e-9)


def test_a_wider_step_found_bent_along_one_direction_is_not_tried_along_the_next():
    bent: set[float] = set()
    kinked = lambda x: 1000.0 + 0.1 * x + 0.5 * max(0.0, x - 5e-6)  # noqa: E731
    _, first = _refined_points(kinked, 0.1, bent)
    assert len(first) == 3 and bent == {1e-6 * gradcheck.GROWTH}
    probe, second = _refined_points(lambda x: 1000.0 + 0.1 * x, 0.1, bent)  # straight at 1e-5, not tried
    assert probe.step == 1e-6 and second == pytest.approx([-1e-6, 1e-6], rel=1e-9)
    _, alone = _refined_points(lambda x: 1000.0 + 0.1 * x, 0.1)
    assert alone == pytest.approx([-1e-5, 1e-5], rel=1e-9)
