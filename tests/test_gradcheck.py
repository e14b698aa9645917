"""The numerics core, against functions whose derivatives are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backprop_doctor import gradcheck


def quadratic(a: np.ndarray):
    """f(a) = sum(a**3) / 3, gradient a**2."""
    return lambda: float(np.sum(a**3) / 3)


def test_relative_error_is_symmetric_and_floored():
    assert gradcheck.relative_error(1.0, 2.0) == gradcheck.relative_error(2.0, 1.0) == 0.5
    assert gradcheck.relative_error(0.0, 1e-14, floor=1e-10) == pytest.approx(1e-4)


def test_random_direction_has_unit_length_and_does_not_cancel_zero_sum_rows():
    rng = np.random.default_rng(0)
    v = gradcheck.random_direction((7, 3), rng)
    assert np.linalg.norm(v) == pytest.approx(1.0)
    g = np.tile([1.0, 1.0, -2.0], (7, 1))  # rows sum to zero, like a softmax-with-loss gradient
    assert all(abs(np.vdot(g, gradcheck.random_direction(g.shape, rng))) > 1e-6 for _ in range(50))


def test_directional_probe_agrees_with_the_true_gradient_and_restores_bit_identically():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 5))
    before = a.copy()
    f = quadratic(a)
    v = gradcheck.random_direction(a.shape, rng)
    probe = gradcheck.directional_probe(f, f(), [a], [a**2], [v], 1e-5)
    assert probe.error < 1e-8
    assert not probe.kinked
    assert np.array_equal(a, before) and a.tobytes() == before.tobytes()


def test_directional_probe_exposes_a_wrong_gradient():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(10)
    f = quadratic(a)
    probe = gradcheck.directional_probe(f, f(), [a], [2 * a**2], [gradcheck.random_direction(a.shape, rng)], 1e-5)
    assert probe.error == pytest.approx(0.5, rel=1e-4)


def test_directional_probe_restores_arrays_when_the_function_raises():
    a = np.arange(6.0)
    before = a.copy()
    calls = []

    def f():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("user code failed")
        return float(a.sum())

    with pytest.raises(RuntimeError):
        gradcheck.directional_probe(f, 15.0, [a], [np.ones(6)], [np.ones(6) / np.sqrt(6)], 1e-3)
    assert a.tobytes() == before.tobytes()


def test_kink_is_recognised_from_one_sided_slopes():
    a = np.array([0.0, 1.0, -2.0])
    f = lambda: float(np.maximum(a, 0).sum())  # noqa: E731
    probe = gradcheck.directional_probe(f, f(), [a], [np.array([0.0, 1.0, 0.0])], [np.array([1.0, 0.0, 0.0])], 1e-5)
    assert probe.kinked


def test_elementwise_compares_every_element_of_a_small_array():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4))
    f = quadratic(a)
    result = gradcheck.elementwise(f, f(), a, a**2, 1e-5, rng)
    assert result.full and len(result.indices) == 12
    assert np.allclose(result.numerical, (a**2).ravel(), rtol=1e-7)


def test_elementwise_samples_a_large_array():
    rng = np.random.default_rng(4)
    a = rng.standard_normal(5000)
    f = quadratic(a)
    result = gradcheck.elementwise(f, f(), a, a**2, 1e-5, rng, sample=20)
    assert not result.full and len(result.indices) == 20


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(-1.0, "sign-flipped"), (5.0, "scaled-by-batch-size"), (0.2, "divided-by-batch-size"), (3.0, "scaled")],
)
def test_constant_factors_are_named(factor, expected):
    n = np.random.default_rng(5).standard_normal(30)
    pattern = gradcheck.name_pattern(factor * n, n, batch_size=5)
    assert pattern is not None and pattern.name == expected


def test_zero_gradients_are_named_by_which_side_is_zero():
    n = np.random.default_rng(6).standard_normal(8)
    assert gradcheck.name_pattern(np.zeros(8), n).name == "not-computed"
    assert gradcheck.name_pattern(n, np.zeros(8)).name == "unused-in-forward"


def test_transposed_square_gradient_is_named():
    n = np.random.default_rng(7).standard_normal((4, 4))
    pattern = gradcheck.name_pattern(n.T.ravel(), n.ravel(), full_analytic=n.T, full_numerical=n)
    assert pattern.name == "transposed"


def test_some_rows_wrong_is_named_with_the_rows():
    n = np.random.default_rng(8).standard_normal((5, 3))
    a = n.copy()
    a[2] += 1.0
    pattern = gradcheck.name_pattern(a.ravel(), n.ravel(), full_analytic=a, full_numerical=n)
    assert pattern.name == "some-rows" and "row 2" in pattern.description


def test_a_correct_gradient_has_no_pattern():
    n = np.random.default_rng(9).standard_normal(12)
    assert gradcheck.name_pattern(n, n) is None


@given(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), st.floats(min_value=-1e3, max_value=1e3, allow_nan=False))
def test_relative_error_is_bounded_by_two(a, n):
    assert 0.0 <= float(gradcheck.relative_error(a, n)) <= 2.0


def test_a_probe_hidden_by_rounding_grows_its_step_until_the_derivative_shows():
    a = np.random.default_rng(3).standard_normal(50)
    f = lambda: float(2.3 + 1e-10 * a.sum())  # noqa: E731  a loss near log(10) that barely moves
    v = gradcheck.random_direction(a.shape, np.random.default_rng(4), 1.0)
    wrong, right = np.full(50, 2e-10), np.full(50, 1e-10)
    plain = gradcheck.directional_probe(f, f(), [a], [wrong], [v], gradcheck.STEP["float64"])
    refined = gradcheck.refined_probe(f, f(), [a], [wrong], [v], gradcheck.STEP["float64"])
    assert plain.error < 1e-5 < refined.error  # the fixed step cannot see a factor of two; the grown one can
    assert refined.step > plain.step
    assert gradcheck.refined_probe(f, f(), [a], [right], [v], gradcheck.STEP["float64"]).error < 1e-5


def test_a_probe_that_rounding_would_hide_at_its_first_step_starts_at_the_grown_one():
    a = np.random.default_rng(3).standard_normal(50)
    calls = []

    def f():
        calls.append(1)
        return float(2.3 + 1e-10 * a.sum())  # a loss near log(10) that barely moves

    v = gradcheck.random_direction(a.shape, np.random.default_rng(4), 1.0)
    h, right = gradcheck.STEP["float64"], np.full(50, 1e-10)
    probe = gradcheck.refined_probe(f, f(), [a], [right], [v], h)
    assert probe.step == h * gradcheck.MAX_GROWTH and probe.error < 1e-5
    # grown twice from 10·h, never probed at h: two central differences fewer than from h
    assert len(calls) - 1 == 2 * 3


def test_a_zero_array_steps_at_the_scale_where_it_moves_the_output_as_much_as_the_others():
    w, b = np.full((4, 3), 0.01), np.zeros(3)
    scales = gradcheck.step_scales([w, b], [np.ones((4, 3)), np.full(3, 1e3)])
    assert scales[0] == pytest.approx(0.01)
    assert scales[1] * np.linalg.norm(np.full(3, 1e3)) == pytest.approx(0.01 * np.linalg.norm(np.ones((4, 3))))
    assert gradcheck.step_scales([np.zeros(3)], [np.zeros(3)]) == [1.0]


def test_a_probe_that_misses_by_rounding_passes_at_a_larger_step_and_a_wrong_gradient_still_fails():
    # a cross-entropy of 3.9e-7 computed from logits near 8: its rounding is that of the
    # logits, far above eps·|f0|, which is all `_rounding` can see
    a = np.array([[7.75, -7.0]])

    def f():
        z = a - a.max()
        return float(np.log(np.exp(z).sum()) - z[0, 0])

    z = a - a.max()
    right = np.exp(z) / np.exp(z).sum() - np.array([[1.0, 0.0]])
    h, tol = gradcheck.STEP["float64"], 1e-5
    plain, refined, wrong = [], [], []
    for seed in range(20):
        v = gradcheck.Direction(a.shape, np.random.default_rng(seed), gradcheck.array_scale(a))
        plain.append(gradcheck.directional_probe(f, f(), [a], [right], [v], h))
        refined.append(gradcheck.refined_probe(f, f(), [a], [right], [v], h, tol=tol))
        wrong.append(gradcheck.refined_probe(f, f(), [a], [1.001 * right], [v], h, tol=tol))
    assert sum(p.error > tol for p in plain) >= 10
    assert all(p.error <= tol for p in refined)
    assert all(p.step > h for p, q in zip(refined, plain) if q.error > tol)  # confirmed at a larger step
    assert all(p.error > 10 * tol for p in wrong)  # a gradient 0.1 % off fails at every step


def test_one_entry_per_row_off_by_one_over_the_batch_is_the_target_not_subtracted():
    rng = np.random.default_rng(0)
    y = rng.dirichlet(np.ones(4), size=5)
    labels = np.array([0, 3, 1, 1, 2])
    numerical = y.copy()
    numerical[np.arange(5), labels] -= 1
    numerical /= 5
    named = gradcheck.name_pattern((y / 5).ravel(), numerical.ravel(), batch_size=5, full_analytic=y / 5, full_numerical=numerical)
    assert named is not None and named.name == "target-not-subtracted"
    twice = numerical.copy()
    twice[np.arange(5), labels] -= 1 / 5
    named = gradcheck.name_pattern(twice.ravel(), numerical.ravel(), batch_size=5, full_analytic=twice, full_numerical=numerical)
    assert named is not None and named.name == "target-subtracted-twice"
    # two entries of one row off: not this pattern
    other = y / 5
    other[0, 1] += 1 / 5
    named = gradcheck.name_pattern(other.ravel(), numerical.ravel(), batch_size=5, full_analytic=other, full_numerical=numerical)
    assert named is None or named.name not in ("target-not-subtracted", "target-subtracted-twice")
